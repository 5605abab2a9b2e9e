/* kankyo-hvac-physics.c: room heat, moisture, pressure and particle balances,
 * filter loading, ISO 14644-1 classes and an air handling unit.
 *
 * The simulated plant must behave as a real cleanroom suite does on a trend,
 * so that alarms, predictive maintenance and operator training are exercised
 * by the right shapes: first-order temperature and humidity responses with
 * time constants of minutes, a pressure cascade that collapses through an
 * open door and comes back when it shuts, particle counts with Poisson scatter
 * that recover 100:1 in ln(100)/n, and a filter whose pressure drop creeps up
 * over months. Each balance is a linear ODE over one step with its inputs
 * held, so it is advanced with its exact exponential solution: a step of an
 * hour is as stable as a step of a tenth of a second. Room pressures settle
 * in seconds, far faster than anything else here, so they are solved to
 * steady state at every step instead of being integrated.
 */
#include "kankyo-hvac-physics.h"

#include <math.h>
#include <string.h>

GQuark
kankyo_hvac_error_quark (void)
{
  return g_quark_from_static_string ("kankyo-hvac-error-quark");
}

/* ---- first-order lags ---- */

/* Exact solution of tau dx/dt = target - x over dt with the target held:
 * x -> target + (x - target) e^(-dt/tau). */
double
kankyo_hvac_first_order_step (double value, double target, double tau, double dt)
{
  if (tau <= 0.0)
    return target;
  return target + (value - target) * exp (-dt / tau);
}

/* ---- psychrometrics ---- */

/* Ratio of the molar masses of water and dry air (ASHRAE Handbook
 * Fundamentals 2017, ch. 1). */
#define WATER_AIR_RATIO 0.621945

/* Magnus formula over water with the coefficients of Sonntag (1990), as
 * recommended by the WMO Guide to Instruments and Methods of Observation
 * (WMO-No. 8, 2008, annex 4.B): e_s = 611.2 exp(17.62 t / (243.12 + t)) Pa,
 * within 0.4 % of the IAPWS values from -40 to +60 degC. Humidity sensors
 * such as Vaisala's report RH over water below 0 degC too, so no ice branch
 * is used. */
#define MAGNUS_A 17.62
#define MAGNUS_B 243.12 /* degC */

double
kankyo_hvac_saturation_pressure (double temp)
{
  return 611.2 * exp (MAGNUS_A * temp / (MAGNUS_B + temp));
}

/* W = 0.621945 e / (p - e) with e = RH e_s(T) (ASHRAE Fundamentals 2017,
 * ch. 1), at standard atmospheric pressure. The enhancement factor of moist
 * air (about 1.004) is left out: its 0.4 % is well inside the accuracy of
 * any HVAC humidity sensor. */
double
kankyo_hvac_humidity_ratio (double temp, double rh)
{
  double e = CLAMP (rh, 0.0, 100.0) / 100.0 * kankyo_hvac_saturation_pressure (temp);

  return WATER_AIR_RATIO * e / (KANKYO_HVAC_ATMOSPHERE - e);
}

/* The inverse: e = W p / (0.621945 + W), RH = 100 e / e_s(T). Above 100 %
 * the air would fog; the value is clamped as a sensor saturates. */
double
kankyo_hvac_relative_humidity (double temp, double w)
{
  double e = MAX (w, 0.0) * KANKYO_HVAC_ATMOSPHERE / (WATER_AIR_RATIO + MAX (w, 0.0));

  return CLAMP (100.0 * e / kankyo_hvac_saturation_pressure (temp), 0.0, 100.0);
}

/* The Magnus formula solved for the temperature at which e is saturating:
 * g = ln(RH/100) + a t / (b + t), Td = b g / (a - g). Below 0.01 %RH a dew
 * point means nothing, so RH is held there rather than taking ln(0). */
double
kankyo_hvac_dew_point (double temp, double rh)
{
  double g = log (CLAMP (rh, 0.01, 100.0) / 100.0) + MAGNUS_A * temp / (MAGNUS_B + temp);

  return MAGNUS_B * g / (MAGNUS_A - g);
}

/* ---- rooms ---- */

/* Room air and everything it exchanges heat with quickly is one lumped mass:
 *   C dT/dt = Q_int + UA (T_amb - T) + m_dot cp (T_sup - T)
 * (the single-zone heat balance of ASHRAE Fundamentals 2017, ch. 18). With
 * the inputs held it is first order with
 *   tau = C / (UA + m_dot cp),
 *   T_eq = (Q_int + UA T_amb + m_dot cp T_sup) / (UA + m_dot cp). */
double
kankyo_hvac_room_time_constant (const KankyoHvacRoom *room, double mass_flow)
{
  double k = room->ua + MAX (mass_flow, 0.0) * KANKYO_HVAC_AIR_CP;

  return k > 0.0 ? room->heat_capacity / k : INFINITY;
}

double
kankyo_hvac_room_temperature_step (const KankyoHvacRoom *room,
                                   double temp,
                                   double mass_flow,
                                   double supply_temp,
                                   double ambient_temp,
                                   double dt)
{
  double mcp = MAX (mass_flow, 0.0) * KANKYO_HVAC_AIR_CP;
  double k = room->ua + mcp;
  double equilibrium;

  /* Without ventilation or walls the gains simply accumulate. */
  if (k <= 0.0)
    return temp + room->heat_gain * dt / room->heat_capacity;
  equilibrium = (room->heat_gain + room->ua * ambient_temp + mcp * supply_temp) / k;
  return kankyo_hvac_first_order_step (temp, equilibrium, room->heat_capacity / k, dt);
}

/* Moisture balance of the room air (ASHRAE Fundamentals 2017, ch. 1 and 18):
 *   V rho dW/dt = G_moist + m_dot (W_sup - W)
 * first order with tau = V rho / m_dot and W_eq = W_sup + G_moist / m_dot. */
double
kankyo_hvac_room_moisture_step (
    const KankyoHvacRoom *room, double w, double mass_flow, double supply_w, double dt)
{
  double air_mass = room->volume * KANKYO_HVAC_AIR_DENSITY;

  if (mass_flow <= 0.0)
    return w + room->moisture_gain * dt / air_mass;
  return kankyo_hvac_first_order_step (w, supply_w + room->moisture_gain / mass_flow, air_mass / mass_flow,
                                       dt);
}

/* ---- room pressures ---- */

/* Leakage paths are orifices (ASHRAE Handbook Fundamentals 2017, ch. 16):
 *   Q = Cd A sqrt(2 |dP| / rho) sign(dP) = c sqrt|dP| sign(dP).
 * Its slope is infinite at dP = 0, which leaves Newton's method without a
 * Jacobian exactly where an open door puts the solution. Below 0.1 mPa the
 * law is therefore replaced by the odd cubic that joins it with the same
 * value and slope, as CONTAM linearises its flow elements at small pressure
 * differences (Walton and Dols, NIST TN 1887, 2013). Through a 2 m2 door
 * this touches only flows below 0.016 m3/s. */
static double
orifice_coefficient (double cd, double area)
{
  return cd * area * sqrt (2.0 / KANKYO_HVAC_AIR_DENSITY);
}

static double
orifice_flow (double c, double dp)
{
  double u = dp / KANKYO_HVAC_LINEAR_DP;

  if (fabs (u) >= 1.0)
    return copysign (c * sqrt (fabs (dp)), dp);
  /* With u = dP / d: q = c sqrt(d) u (5 - u^2) / 4, which meets the
   * square root at u = 1 with the value c sqrt(d) and the slope
   * c / (2 sqrt(d)), and rises monotonically through 0. */
  return c * sqrt (KANKYO_HVAC_LINEAR_DP) * u * (5.0 - u * u) / 4.0;
}

static double
orifice_slope (double c, double dp)
{
  double u = dp / KANKYO_HVAC_LINEAR_DP;

  if (fabs (u) >= 1.0)
    return c / (2.0 * sqrt (fabs (dp)));
  return c / sqrt (KANKYO_HVAC_LINEAR_DP) * (5.0 - 3.0 * u * u) / 4.0;
}

/* The integral of the flow over dP, continuous at the join. */
static double
orifice_content (double c, double dp)
{
  double d = KANKYO_HVAC_LINEAR_DP, a = fabs (dp), u = a / d;

  if (u >= 1.0)
    return c * (2.0 / 3.0 * a * sqrt (a) - 5.0 / 48.0 * d * sqrt (d));
  return c * d * sqrt (d) * (2.5 * u * u - u * u * u * u / 4.0) / 4.0;
}

double
kankyo_hvac_leak_flow (double cd, double area, double dp)
{
  return orifice_flow (orifice_coefficient (cd, area), dp);
}

static double
pressure_at (const double *pressures, int room)
{
  return room == KANKYO_HVAC_OUTSIDE ? 0.0 : pressures[room];
}

static double
path_coefficient (const KankyoHvacLeakPath *path, double opening)
{
  return orifice_coefficient (path->cd, path->gap_area + CLAMP (opening, 0.0, 1.0) * path->door_area);
}

/* The flow from path->from to path->to, m3/s. */
double
kankyo_hvac_path_flow (const KankyoHvacLeakPath *path, double opening, const double *pressures)
{
  return orifice_flow (path_coefficient (path, opening),
                       pressure_at (pressures, path->from) - pressure_at (pressures, path->to));
}

#define MAX_NEWTON_ITERATIONS 100
#define MAX_HALVINGS 60
/* Sufficient decrease of E. A full Newton step through the square-root law
 * can land as far beyond the balance as it started before it, with E hardly
 * lower; a demanding constant rejects that and halves the step instead. */
#define ARMIJO 0.1

typedef struct
{
  const KankyoHvacLeakPath *paths;
  double c[KANKYO_HVAC_MAX_PATHS];
  guint n_paths;
  const double *net_flows;
  guint n_rooms;
} Network;

/* F_i = net_i - (outflow_i - inflow_i): what room i must still lose. */
static double
network_residual (const Network *net, const double *p, double *ret_f)
{
  double worst = 0.0;

  for (guint i = 0; i < net->n_rooms; i++)
    ret_f[i] = net->net_flows[i];
  for (guint k = 0; k < net->n_paths; k++)
    {
      const KankyoHvacLeakPath *path = &net->paths[k];
      double q = orifice_flow (net->c[k], pressure_at (p, path->from) - pressure_at (p, path->to));

      if (path->from != KANKYO_HVAC_OUTSIDE)
        ret_f[path->from] -= q;
      if (path->to != KANKYO_HVAC_OUTSIDE)
        ret_f[path->to] += q;
    }
  for (guint i = 0; i < net->n_rooms; i++)
    worst = MAX (worst, fabs (ret_f[i]));
  return worst;
}

/* E(P) = sum over paths of the orifice content - sum_i net_i P_i. Its
 * gradient is -F and each orifice term is convex in its dP, so E is strictly
 * convex once every room reaches the outside, and the balanced pressures are
 * its unique minimum: the "content" formulation of flow networks (Collins,
 * Cooper, Helgason, Kennington and LeBlanc, Management Science 24, 1978).
 * Newton steps are descent directions for it, so a backtracking line search
 * on E makes the method converge from any start. */
static double
network_content (const Network *net, const double *p)
{
  double e = 0.0;

  for (guint k = 0; k < net->n_paths; k++)
    e += orifice_content (net->c[k], pressure_at (p, net->paths[k].from) - pressure_at (p, net->paths[k].to));
  for (guint i = 0; i < net->n_rooms; i++)
    e -= net->net_flows[i] * p[i];
  return e;
}

/* Solves H x = b in place for a symmetric positive definite H (Cholesky). */
static gboolean
cholesky_solve (double h[KANKYO_HVAC_MAX_ROOMS][KANKYO_HVAC_MAX_ROOMS], guint n, double *b)
{
  for (guint j = 0; j < n; j++)
    {
      double d = h[j][j];

      for (guint k = 0; k < j; k++)
        d -= h[j][k] * h[j][k];
      if (!(d > 0.0))
        return FALSE;
      h[j][j] = sqrt (d);
      for (guint i = j + 1; i < n; i++)
        {
          double s = h[i][j];

          for (guint k = 0; k < j; k++)
            s -= h[i][k] * h[j][k];
          h[i][j] = s / h[j][j];
        }
    }
  for (guint i = 0; i < n; i++)
    {
      for (guint k = 0; k < i; k++)
        b[i] -= h[i][k] * b[k];
      b[i] /= h[i][i];
    }
  for (guint i = n; i-- > 0;)
    {
      for (guint k = i + 1; k < n; k++)
        b[i] -= h[k][i] * b[k];
      b[i] /= h[i][i];
    }
  return TRUE;
}

static gboolean
network_check (const Network *net, GError **error)
{
  gboolean reached[KANKYO_HVAC_MAX_ROOMS] = { FALSE };
  gboolean changed = TRUE;

  for (guint k = 0; k < net->n_paths; k++)
    {
      const KankyoHvacLeakPath *path = &net->paths[k];

      if (path->from < KANKYO_HVAC_OUTSIDE || path->from >= (int) net->n_rooms
          || path->to < KANKYO_HVAC_OUTSIDE || path->to >= (int) net->n_rooms || path->from == path->to)
        {
          g_set_error (
              error, KANKYO_HVAC_ERROR, KANKYO_HVAC_ERROR_INVALID,
              "leakage path %u joins room %d to room %d; expected two rooms of 0 to %u or -1 (outside)", k,
              path->from, path->to, net->n_rooms - 1);
          return FALSE;
        }
      if (!(path->cd > 0.0 && path->cd <= 1.0) || !(path->gap_area >= 0.0 && isfinite (path->gap_area))
          || !(path->door_area >= 0.0 && isfinite (path->door_area)))
        {
          g_set_error (error, KANKYO_HVAC_ERROR, KANKYO_HVAC_ERROR_INVALID,
                       "leakage path %u: expected a discharge coefficient in (0, 1] and finite areas >= 0",
                       k);
          return FALSE;
        }
    }
  for (guint i = 0; i < net->n_rooms; i++)
    if (!isfinite (net->net_flows[i]))
      {
        g_set_error (error, KANKYO_HVAC_ERROR, KANKYO_HVAC_ERROR_INVALID,
                     "room %u: the net supply is not finite", i);
        return FALSE;
      }

  /* Every room must reach the outside through open area, or its pressure
   * would be undefined (and its Jacobian row zero). */
  while (changed)
    {
      changed = FALSE;
      for (guint k = 0; k < net->n_paths; k++)
        {
          int a = net->paths[k].from, b = net->paths[k].to;
          gboolean ra = a == KANKYO_HVAC_OUTSIDE || reached[a];
          gboolean rb = b == KANKYO_HVAC_OUTSIDE || reached[b];

          if (net->c[k] <= 0.0 || ra == rb)
            continue;
          reached[ra ? b : a] = TRUE;
          changed = TRUE;
        }
    }
  for (guint i = 0; i < net->n_rooms; i++)
    if (!reached[i])
      {
        g_set_error (error, KANKYO_HVAC_ERROR, KANKYO_HVAC_ERROR_INVALID,
                     "room %u has no open leakage path to the outside, so its pressure is undefined", i);
        return FALSE;
      }
  return TRUE;
}

/* Solves for the steady room pressures at which every room's net supply
 * (supply minus return and exhaust) leaves through its leakage paths:
 * damped Newton on the convex content E, from the pressures passed in (the
 * previous step's, normally, so one or two iterations suffice). @openings
 * may be NULL for all doors shut. On failure @pressures is left untouched. */
gboolean
kankyo_hvac_solve_pressures (const KankyoHvacLeakPath *paths,
                             const double *openings,
                             guint n_paths,
                             const double *net_flows,
                             guint n_rooms,
                             double *pressures,
                             GError **error)
{
  Network net = { paths, { 0 }, n_paths, net_flows, n_rooms };
  double p[KANKYO_HVAC_MAX_ROOMS], f[KANKYO_HVAC_MAX_ROOMS];

  g_return_val_if_fail (n_rooms >= 1 && n_rooms <= KANKYO_HVAC_MAX_ROOMS, FALSE);
  g_return_val_if_fail (n_paths <= KANKYO_HVAC_MAX_PATHS, FALSE);
  g_return_val_if_fail (paths != NULL || n_paths == 0, FALSE);
  g_return_val_if_fail (net_flows != NULL && pressures != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  for (guint k = 0; k < n_paths; k++)
    net.c[k] = path_coefficient (&paths[k], openings != NULL ? openings[k] : 0.0);
  if (!network_check (&net, error))
    return FALSE;
  for (guint i = 0; i < n_rooms; i++)
    p[i] = isfinite (pressures[i]) ? pressures[i] : 0.0;

  for (guint iteration = 0; iteration < MAX_NEWTON_ITERATIONS; iteration++)
    {
      double h[KANKYO_HVAC_MAX_ROOMS][KANKYO_HVAC_MAX_ROOMS] = { { 0 } };
      double step[KANKYO_HVAC_MAX_ROOMS], trial[KANKYO_HVAC_MAX_ROOMS], ftrial[KANKYO_HVAC_MAX_ROOMS];
      double worst = network_residual (&net, p, f);
      double content, slope, alpha = 1.0;
      gboolean accepted = FALSE;

      if (worst < KANKYO_HVAC_FLOW_TOLERANCE)
        {
          memcpy (pressures, p, n_rooms * sizeof (double));
          return TRUE;
        }

      for (guint k = 0; k < n_paths; k++)
        {
          int a = paths[k].from, b = paths[k].to;
          double g = orifice_slope (net.c[k], pressure_at (p, a) - pressure_at (p, b));

          if (a != KANKYO_HVAC_OUTSIDE)
            h[a][a] += g;
          if (b != KANKYO_HVAC_OUTSIDE)
            h[b][b] += g;
          if (a != KANKYO_HVAC_OUTSIDE && b != KANKYO_HVAC_OUTSIDE)
            {
              h[a][b] -= g;
              h[b][a] -= g;
            }
        }
      memcpy (step, f, n_rooms * sizeof (double));
      if (!cholesky_solve (h, n_rooms, step))
        break;

      content = network_content (&net, p);
      slope = 0.0;
      for (guint i = 0; i < n_rooms; i++)
        slope -= f[i] * step[i];
      for (guint halving = 0; halving < MAX_HALVINGS && !accepted; halving++, alpha *= 0.5)
        {
          for (guint i = 0; i < n_rooms; i++)
            trial[i] = p[i] + alpha * step[i];
          /* Near the solution E changes by less than its rounding error, so
           * a step that halves the worst imbalance is accepted as well. */
          accepted = network_content (&net, trial) <= content + ARMIJO * alpha * slope
                     || network_residual (&net, trial, ftrial) <= 0.5 * worst;
        }
      if (!accepted)
        break;
      memcpy (p, trial, n_rooms * sizeof (double));
    }

  g_set_error (error, KANKYO_HVAC_ERROR, KANKYO_HVAC_ERROR_NO_CONVERGENCE,
               "room pressures did not balance to %g m3/s in %d Newton iterations",
               KANKYO_HVAC_FLOW_TOLERANCE, MAX_NEWTON_ITERATIONS);
  return FALSE;
}

/* ---- particles ---- */

/* Well-mixed room with clean (HEPA-filtered) supply air (Whyte, Cleanroom
 * Technology, 2nd ed., 2010; the recovery test of ISO 14644-3):
 *   dC/dt = G/V - n C,  n = ACH / 3600
 * first order with tau = 1/n and C_eq = G / (V n). */
double
kankyo_hvac_particle_step (double concentration, double generation, double volume, double ach, double dt)
{
  double n = ach / 3600.0;

  if (n <= 0.0)
    return concentration + generation / volume * dt;
  return kankyo_hvac_first_order_step (concentration, generation / (volume * n), 1.0 / n, dt);
}

/* Time for the concentration to fall by @ratio once generation stops:
 * ln(ratio) / n; 100:1 is the recovery test of ISO 14644-3. */
double
kankyo_hvac_recovery_time (double ach, double ratio)
{
  return log (ratio) * 3600.0 / ach;
}

/* Cumulative concentration at sizes other than 0.5 um, assuming the
 * distribution follows the slope of the ISO 14644-1 class limits,
 * C(>= D) ~ D^-2.08: the standard's model of a typical cleanroom aerosol. */
double
kankyo_hvac_particles_at_size (double concentration_05, double size)
{
  return concentration_05 * pow (0.5 / size, 2.08);
}

/* ln k! : summed for small k, otherwise Stirling's series to k^-5, which is
 * accurate to 1e-10 from k = 10 on. */
static double
log_factorial (double k)
{
  double r = 0.0;

  if (k < 10.0)
    {
      for (double i = 2.0; i <= k; i++)
        r += log (i);
      return r;
    }
  r = 1.0 / k;
  return (k + 0.5) * log (k) - k + 0.5 * log (2.0 * G_PI)
         + r * (1.0 / 12.0 - r * r * (1.0 / 360.0 - r * r / 1260.0));
}

/* Poisson variates. Below a mean of 10, Knuth's multiplication of uniforms
 * (The Art of Computer Programming, vol. 2, 3rd ed., 3.4.1 F), whose cost
 * grows with the mean. From 10 on, PTRS, the transformed rejection method
 * with squeeze of Hoermann ("The transformed rejection method for generating
 * Poisson random variables", Insurance: Mathematics and Economics 12, 1993),
 * exact and of constant cost; the constants are the paper's. */
guint64
kankyo_hvac_poisson (GRand *rand, double mean)
{
  g_return_val_if_fail (rand != NULL, 0);
  g_return_val_if_fail (mean >= 0.0 && mean <= KANKYO_HVAC_POISSON_MAX_MEAN, 0);

  if (mean < 10.0)
    {
      double limit = exp (-mean), product = g_rand_double (rand);
      guint64 k = 0;

      while (product > limit)
        {
          product *= g_rand_double (rand);
          k++;
        }
      return k;
    }
  else
    {
      double slam = sqrt (mean), loglam = log (mean);
      double b = 0.931 + 2.53 * slam;
      double a = -0.059 + 0.02483 * b;
      double inv_alpha = 1.1239 + 1.1328 / (b - 3.4);
      double vr = 0.9277 - 3.6224 / (b - 2.0);

      for (;;)
        {
          double u = g_rand_double (rand) - 0.5;
          double v = g_rand_double (rand);
          double us = 0.5 - fabs (u);
          double k = floor ((2.0 * a / us + b) * u + mean + 0.43);

          if (us >= 0.07 && v <= vr)
            return (guint64) k;
          if (k < 0.0 || (us < 0.013 && v > us))
            continue;
          if (log (v) + log (inv_alpha) - log (a / (us * us) + b) <= -mean + k * loglam - log_factorial (k))
            return (guint64) k;
        }
    }
}

/* ---- ISO 14644-1 ---- */

/* ISO 14644-1:2015, eq. (1): the maximum concentration of particles >= D um
 * per m3 for class N is Cn = 10^N (0.1 / D)^2.08. The standard's Table 1
 * gives it rounded to the nearest whole number with no more than three
 * significant figures (3 516.8 becomes 3 520 for ISO 5 at 0.5 um), and a
 * count at the tabulated figure complies. So the limit is returned rounded
 * the same way; below 0.5 particles/m3, where rounding would give a limit of
 * 0 and the table gives none, the formula's value is kept. */
double
kankyo_hvac_iso_limit (double iso_class, double size)
{
  double raw, scale;

  g_return_val_if_fail (size >= 0.1 && size <= 5.0, NAN);

  raw = pow (10.0, iso_class) * pow (0.1 / size, 2.08);
  if (raw < 0.5)
    return raw;
  scale = raw >= 1000.0 ? pow (10.0, floor (log10 (raw)) - 2.0) : 1.0;
  return round (raw / scale) * scale;
}

#define MIN_CLASS_TENTHS 10 /* ISO 1 */

static double
limit_tenths (int tenths, double size)
{
  return kankyo_hvac_iso_limit (tenths / 10.0, size);
}

/* ISO 14644-1:2015 allows intermediate classes, 0.1 being the smallest
 * increment. The class of a measured concentration is the smallest such
 * N, rounded up to one decimal, whose (rounded) limit the concentration does
 * not exceed; anything cleaner than the limit of ISO 1 is ISO 1. Beyond
 * ISO 9 the same arithmetic continues, so 9.4 reads as "worse than ISO 9". */
double
kankyo_hvac_iso_class (double concentration, double size)
{
  int tenths;

  g_return_val_if_fail (size >= 0.1 && size <= 5.0, NAN);
  g_return_val_if_fail (concentration >= 0.0 && isfinite (concentration), NAN);

  if (concentration <= limit_tenths (MIN_CLASS_TENTHS, size))
    return MIN_CLASS_TENTHS / 10.0;
  /* First guess from the unrounded formula, then corrected for the
   * rounding, which moves a limit by less than a tenth of a class (26 %)
   * except where it is a few particles; the rounded limits still rise with
   * N, so stepping down while the tenth below holds and up while this one
   * fails ends on the smallest class that holds. */
  tenths = (int) ceil (10.0 * log10 (concentration / pow (0.1 / size, 2.08)) - 1e-9);
  tenths = MAX (tenths, MIN_CLASS_TENTHS + 1);
  while (tenths > MIN_CLASS_TENTHS + 1 && limit_tenths (tenths - 1, size) >= concentration)
    tenths--;
  while (limit_tenths (tenths, size) < concentration)
    tenths++;
  return tenths / 10.0;
}

/* A location meets a class only if every considered size does, so the
 * class of a multi-channel sample is the worst of its channels. */
double
kankyo_hvac_iso_class_overall (const double *sizes, const double *concentrations, guint n)
{
  double worst = MIN_CLASS_TENTHS / 10.0;

  g_return_val_if_fail (n == 0 || (sizes != NULL && concentrations != NULL), NAN);

  for (guint i = 0; i < n; i++)
    worst = MAX (worst, kankyo_hvac_iso_class (concentrations[i], sizes[i]));
  return worst;
}

/* ---- filters ---- */

/* The filter drag model (Dennis and Klemm, 1980; US EPA Air Pollution
 * Control Cost Manual, 6th ed., 2002, section 6, ch. 1):
 *   dP = (K1 + K2 W) V
 * with V the face velocity (Darcy flow through the media, so linear in the
 * airflow) and W the dust held per unit area. Written for a whole filter:
 *   dP = dP_clean (Q / Q_nom) (1 + k m),  dm/dt = Q c_dust,
 * where k is chosen so that at the nominal flow and dust concentration the
 * pressure drop doubles, the usual change point, after the service life:
 *   k = 1 / (Q_nom c_nom t_life). */
static double
filter_k (const KankyoHvacFilter *filter)
{
  return 1.0 / (filter->nominal_dust * filter->nominal_flow * filter->service_life);
}

double
kankyo_hvac_filter_loading_step (double dust_mass, double flow, double dust, double dt)
{
  return dust_mass + MAX (flow, 0.0) * MAX (dust, 0.0) * dt;
}

double
kankyo_hvac_filter_dp (const KankyoHvacFilter *filter, double dust_mass, double flow)
{
  return filter->dp_clean * (MAX (flow, 0.0) / filter->nominal_flow) * (1.0 + filter_k (filter) * dust_mass);
}

/* ---- air handling unit ---- */

/* The airflow switch proves the fan at a fifth of the nominal speed;
 * reheat and humidifier are interlocked to it. */
#define FAN_PROVEN_FRACTION 0.2

/* What a fresh controller starts with: occupied, automatic, the fan at
 * 50 Hz, 19.5 degC supply air and 45 %RH in the return. */
void
kankyo_hvac_ahu_commands_init (KankyoHvacAhuCommands *commands)
{
  *commands = (KankyoHvacAhuCommands){
    .mode = KANKYO_HVAC_AHU_OCCUPIED,
    .automatic = TRUE,
    .fan_speed_setpoint = 50.0,
    .supply_temp_setpoint = 19.5,
    .rh_setpoint = 45.0,
  };
}

double
kankyo_hvac_ahu_airflow (const KankyoHvacAhuParams *params, const KankyoHvacAhu *ahu)
{
  /* First fan law: volume flow proportional to speed in a fixed system. */
  return params->nominal_flow * MAX (ahu->fan_speed, 0.0) / params->nominal_speed;
}

gboolean
kankyo_hvac_ahu_fan_proven (const KankyoHvacAhuParams *params, const KankyoHvacAhu *ahu)
{
  return ahu->fan_speed >= FAN_PROVEN_FRACTION * params->nominal_speed;
}

double
kankyo_hvac_ahu_filter_dp (const KankyoHvacAhuParams *params, const KankyoHvacAhu *ahu)
{
  return kankyo_hvac_filter_dp (&params->filter, ahu->filter_dust, kankyo_hvac_ahu_airflow (params, ahu));
}

/* Velocity-form PI (Astrom and Hagglund, Advanced PID Control, 2006): the
 * output moves by du = Kp ((e - e_prev) + dt / Ti e) and is clamped to the
 * actuator's range. Clamping the output stops integration at the limit, so
 * there is no wind-up to unwind. */
static double
pi_increment (double *error_prev, double error, double kp, double ti, double dt)
{
  double du = kp * ((error - *error_prev) + dt / ti * error);

  *error_prev = error;
  return du;
}

static void
ahu_substep (const KankyoHvacAhuParams *params,
             KankyoHvacAhu *ahu,
             const KankyoHvacAhuCommands *commands,
             const KankyoHvacAir *return_air,
             const KankyoHvacAir *outdoor,
             double dust,
             double dt)
{
  double speed_ref, mass_flow, return_rh;
  KankyoHvacAir mixed, coil;
  gboolean proven;

  switch (commands->mode)
    {
      case KANKYO_HVAC_AHU_OCCUPIED:
        speed_ref = commands->fan_speed_setpoint;
        break;
      case KANKYO_HVAC_AHU_NIGHT_SETBACK:
        speed_ref = commands->fan_speed_setpoint * params->night_fraction;
        break;
      case KANKYO_HVAC_AHU_OFF:
      default:
        speed_ref = 0.0;
        break;
    }
  /* The VFD follows its reference with its acceleration ramp, modelled as
   * a first-order lag. */
  speed_ref = CLAMP (speed_ref, 0.0, params->nominal_speed);
  ahu->fan_speed = kankyo_hvac_first_order_step (ahu->fan_speed, speed_ref, params->fan_tau, dt);
  proven = kankyo_hvac_ahu_fan_proven (params, ahu);

  mixed.temp = (1.0 - params->outdoor_fraction) * return_air->temp + params->outdoor_fraction * outdoor->temp;
  mixed.w = (1.0 - params->outdoor_fraction) * return_air->w + params->outdoor_fraction * outdoor->w;
  return_rh = kankyo_hvac_relative_humidity (return_air->temp, return_air->w);

  if (commands->mode == KANKYO_HVAC_AHU_OFF || !proven)
    {
      /* Valves shut and humidifier off until the fan is proven. */
      ahu->chw_valve = ahu->heating_valve = ahu->humidifier = 0.0;
      ahu->loops_active = FALSE;
    }
  else if (commands->automatic)
    {
      double temp_error = commands->supply_temp_setpoint - ahu->supply.temp;
      double rh_error = commands->rh_setpoint - return_rh;

      /* Bumpless start: the loops take over from where the valves are. */
      if (!ahu->loops_active)
        {
          ahu->temp_output = ahu->heating_valve - ahu->chw_valve;
          ahu->temp_error = temp_error;
          ahu->rh_output = ahu->humidifier;
          ahu->rh_error = rh_error;
          ahu->loops_active = TRUE;
        }
      /* One loop in split range: positive output heats, negative cools, so
       * the two valves are never open together. */
      ahu->temp_output += pi_increment (&ahu->temp_error, temp_error, params->temp_kp, params->temp_ti, dt);
      ahu->temp_output = CLAMP (ahu->temp_output, -100.0, 100.0);
      ahu->heating_valve = MAX (ahu->temp_output, 0.0);
      ahu->chw_valve = MAX (-ahu->temp_output, 0.0);
      ahu->rh_output += pi_increment (&ahu->rh_error, rh_error, params->rh_kp, params->rh_ti, dt);
      ahu->rh_output = CLAMP (ahu->rh_output, 0.0, 100.0);
      ahu->humidifier = ahu->rh_output;
    }
  else
    {
      ahu->chw_valve = CLAMP (commands->chw_valve_command, 0.0, 100.0);
      ahu->heating_valve = CLAMP (commands->heating_valve_command, 0.0, 100.0);
      ahu->humidifier = CLAMP (commands->humidifier_command, 0.0, 100.0);
      ahu->loops_active = FALSE;
    }

  /* Coil capacity lags the valve by the water side and the coil's own mass;
   * steam output lags the humidifier's command while the water boils. */
  ahu->cooling = kankyo_hvac_first_order_step (ahu->cooling, ahu->chw_valve / 100.0, params->coil_tau, dt);
  ahu->heating
      = kankyo_hvac_first_order_step (ahu->heating, ahu->heating_valve / 100.0, params->coil_tau, dt);
  ahu->humidifying
      = kankyo_hvac_first_order_step (ahu->humidifying, ahu->humidifier / 100.0, params->humidifier_tau, dt);

  /* Coils by their temperature effectiveness (the epsilon-NTU method,
   * ASHRAE Fundamentals 2017, ch. 4), scaled by the capacity reached; the
   * valves are equal-percentage, which makes capacity about linear in
   * position. Air leaving the cooling coil carries at most saturation
   * moisture: the rest condenses. */
  coil.temp
      = mixed.temp - ahu->cooling * params->coil_effectiveness * (mixed.temp - params->chilled_water_temp);
  coil.w = MIN (mixed.w, kankyo_hvac_humidity_ratio (coil.temp, 100.0));
  ahu->supply.temp
      = coil.temp + ahu->heating * params->coil_effectiveness * (params->heating_water_temp - coil.temp);

  /* Steam adds moisture at nearly constant temperature; the duct cannot
   * hold more than saturation. */
  mass_flow = kankyo_hvac_ahu_airflow (params, ahu) * KANKYO_HVAC_AIR_DENSITY;
  ahu->supply.w = coil.w;
  if (ahu->humidifying > 0.0)
    {
      double saturated = kankyo_hvac_humidity_ratio (ahu->supply.temp, 100.0);

      ahu->supply.w
          = mass_flow > 0.0
                ? MIN (coil.w + ahu->humidifying * params->humidifier_capacity / mass_flow, saturated)
                : saturated;
    }

  ahu->filter_dust
      = kankyo_hvac_filter_loading_step (ahu->filter_dust, kankyo_hvac_ahu_airflow (params, ahu), dust, dt);
}

static guint
substeps (double dt)
{
  return MAX (1u, (guint) ceil (dt / KANKYO_HVAC_MAX_SUBSTEP - 1e-9));
}

/* Advances the AHU by @dt with the return and outdoor air held. */
void
kankyo_hvac_ahu_step (const KankyoHvacAhuParams *params,
                      KankyoHvacAhu *ahu,
                      const KankyoHvacAhuCommands *commands,
                      const KankyoHvacAir *return_air,
                      const KankyoHvacAir *outdoor,
                      double dust,
                      double dt)
{
  guint n;

  g_return_if_fail (params != NULL && ahu != NULL && commands != NULL);
  g_return_if_fail (return_air != NULL && outdoor != NULL);
  g_return_if_fail (dt >= 0.0 && dt <= KANKYO_HVAC_MAX_STEP);

  n = substeps (dt);
  for (guint i = 0; i < n; i++)
    ahu_substep (params, ahu, commands, return_air, outdoor, dust, dt / n);
}

/* ---- a suite of rooms on one AHU ---- */

/* The return duct mixes the rooms' return air in the design proportions. */
KankyoHvacAir
kankyo_hvac_suite_return_air (const KankyoHvacSuite *suite)
{
  const KankyoHvacSuiteParams *p = suite->params;
  KankyoHvacAir air = { 0.0, 0.0 };
  double total = 0.0;

  for (guint i = 0; i < p->n_rooms; i++)
    {
      double weight = p->rooms[i].supply_flow - p->rooms[i].offset_flow;

      air.temp += weight * suite->temp[i];
      air.w += weight * suite->w[i];
      total += weight;
    }
  air.temp /= total;
  air.w /= total;
  return air;
}

double
kankyo_hvac_suite_path_flow (const KankyoHvacSuite *suite, guint path)
{
  g_return_val_if_fail (path < suite->params->n_paths, 0.0);

  return kankyo_hvac_path_flow (&suite->params->paths[path], suite->opening[path], suite->pressure);
}

static double
particles_at (const KankyoHvacSuite *suite, int room)
{
  return room == KANKYO_HVAC_OUTSIDE ? suite->params->ambient_particles : suite->particles[room];
}

/* Particles ride on every flow that enters a room: leakage driven by a
 * reversed pressure difference, and through an open door a two-way exchange
 * that no net flow of a few hundredths of a m/s can stop. That exchange is
 * taken as door_exchange_velocity times the open area; 0.035 m/s is the
 * buoyancy-driven two-way flow of a 1 m x 2 m doorway between rooms 0.5 K
 * apart, Q = (Cd / 3) W H sqrt(g H dT / T) (ASHRAE Fundamentals 2017,
 * ch. 16). What enters adds to generation; the extra air leaving dilutes.
 * Heat and moisture carried by these flows are small against the supply air
 * and are left out. */
static void
suite_particles (KankyoHvacSuite *suite, double dt)
{
  const KankyoHvacSuiteParams *p = suite->params;
  double generation[KANKYO_HVAC_MAX_ROOMS], inflow[KANKYO_HVAC_MAX_ROOMS];

  for (guint i = 0; i < p->n_rooms; i++)
    {
      generation[i] = p->rooms[i].particle_gain;
      inflow[i] = 0.0;
    }
  for (guint k = 0; k < p->n_paths; k++)
    {
      const KankyoHvacLeakPath *path = &p->paths[k];
      double q = kankyo_hvac_suite_path_flow (suite, k);
      double exchange = CLAMP (suite->opening[k], 0.0, 1.0) * path->door_area * p->door_exchange_velocity;
      double into_to = MAX (q, 0.0) + exchange, into_from = MAX (-q, 0.0) + exchange;

      if (path->to != KANKYO_HVAC_OUTSIDE)
        {
          generation[path->to] += into_to * particles_at (suite, path->from);
          inflow[path->to] += into_to;
        }
      if (path->from != KANKYO_HVAC_OUTSIDE)
        {
          generation[path->from] += into_from * particles_at (suite, path->to);
          inflow[path->from] += into_from;
        }
    }
  for (guint i = 0; i < p->n_rooms; i++)
    {
      double ach = (suite->supply[i] + inflow[i]) / p->rooms[i].volume * 3600.0;

      suite->particles[i]
          = kankyo_hvac_particle_step (suite->particles[i], generation[i], p->rooms[i].volume, ach, dt);
    }
}

static gboolean
suite_substep (KankyoHvacSuite *suite, const KankyoHvacAhuCommands *commands, double dt, GError **error)
{
  const KankyoHvacSuiteParams *p = suite->params;
  KankyoHvacAir return_air = kankyo_hvac_suite_return_air (suite);
  KankyoHvacAir outdoor = { p->outdoor_temp, kankyo_hvac_humidity_ratio (p->outdoor_temp, p->outdoor_rh) };
  double fraction;

  kankyo_hvac_ahu_step (&p->ahu, &suite->ahu, commands, &return_air, &outdoor, p->dust, dt);
  fraction = kankyo_hvac_ahu_airflow (&p->ahu, &suite->ahu) / p->ahu.nominal_flow;

  /* Each room's supply box gets its design share of the AHU's airflow; the
   * return damper holds the design offset as long as there is supply to
   * offset (volumetric offset tracking), which keeps the cascade in night
   * setback. */
  for (guint i = 0; i < p->n_rooms; i++)
    {
      suite->supply[i] = p->rooms[i].supply_flow * fraction;
      suite->net_flow[i] = MIN (p->rooms[i].offset_flow, suite->supply[i]);
    }
  if (!kankyo_hvac_solve_pressures (p->paths, suite->opening, p->n_paths, suite->net_flow, p->n_rooms,
                                    suite->pressure, error))
    return FALSE;

  suite_particles (suite, dt);
  for (guint i = 0; i < p->n_rooms; i++)
    {
      double mass_flow = suite->supply[i] * KANKYO_HVAC_AIR_DENSITY;

      suite->temp[i] = kankyo_hvac_room_temperature_step (&p->rooms[i], suite->temp[i], mass_flow,
                                                          suite->ahu.supply.temp, p->ambient_temp, dt);
      suite->w[i]
          = kankyo_hvac_room_moisture_step (&p->rooms[i], suite->w[i], mass_flow, suite->ahu.supply.w, dt);
    }
  return TRUE;
}

/* Advances the suite by @dt (at most KANKYO_HVAC_MAX_STEP) in substeps of at
 * most KANKYO_HVAC_MAX_SUBSTEP, each with the AHU's output, the pressures and
 * the neighbours' concentrations of the substep before held. */
gboolean
kankyo_hvac_suite_step (KankyoHvacSuite *suite,
                        const KankyoHvacAhuCommands *commands,
                        double dt,
                        GError **error)
{
  guint n;

  g_return_val_if_fail (suite != NULL && suite->params != NULL && commands != NULL, FALSE);
  g_return_val_if_fail (dt >= 0.0 && dt <= KANKYO_HVAC_MAX_STEP, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  n = substeps (dt);
  for (guint i = 0; i < n; i++)
    if (!suite_substep (suite, commands, dt / n, error))
      return FALSE;
  return TRUE;
}

/* How long the suite runs before it is handed out, so that a simulation
 * starts from the plant's steady operation instead of a start-up transient. */
#define SETTLE_TIME (2.0 * 3600.0)

/* Starts the suite at 21 degC, 45 %RH and particle-free, all doors shut,
 * the AHU running at its nominal speed, and lets it settle for two hours
 * under @commands. */
gboolean
kankyo_hvac_suite_init (KankyoHvacSuite *suite,
                        const KankyoHvacSuiteParams *params,
                        const KankyoHvacAhuCommands *commands,
                        GError **error)
{
  double design_flow = 0.0;

  g_return_val_if_fail (suite != NULL && params != NULL && commands != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (params->n_rooms < 1 || params->n_rooms > KANKYO_HVAC_MAX_ROOMS
      || params->n_paths > KANKYO_HVAC_MAX_PATHS)
    {
      g_set_error (error, KANKYO_HVAC_ERROR, KANKYO_HVAC_ERROR_INVALID,
                   "a suite has 1 to %d rooms and at most %d leakage paths; found %u rooms and %u paths",
                   KANKYO_HVAC_MAX_ROOMS, KANKYO_HVAC_MAX_PATHS, params->n_rooms, params->n_paths);
      return FALSE;
    }
  for (guint i = 0; i < params->n_rooms; i++)
    {
      const KankyoHvacRoom *room = &params->rooms[i];

      if (!(room->volume > 0.0 && room->heat_capacity > 0.0 && room->supply_flow > 0.0
            && room->offset_flow >= 0.0 && room->offset_flow < room->supply_flow))
        {
          g_set_error (error, KANKYO_HVAC_ERROR, KANKYO_HVAC_ERROR_INVALID,
                       "room '%s': expected positive volume, heat capacity and supply, offset below supply",
                       room->name);
          return FALSE;
        }
      design_flow += room->supply_flow;
    }
  if (fabs (design_flow - params->ahu.nominal_flow) > 0.01 * params->ahu.nominal_flow)
    {
      g_set_error (error, KANKYO_HVAC_ERROR, KANKYO_HVAC_ERROR_INVALID,
                   "the rooms' supply flows add up to %.3f m3/s, but the AHU's nominal flow is %.3f m3/s",
                   design_flow, params->ahu.nominal_flow);
      return FALSE;
    }

  *suite = (KankyoHvacSuite){ .params = params };
  suite->ahu.fan_speed = params->ahu.nominal_speed;
  for (guint i = 0; i < params->n_rooms; i++)
    {
      suite->temp[i] = 21.0;
      suite->w[i] = kankyo_hvac_humidity_ratio (21.0, 45.0);
    }
  for (double t = 0.0; t < SETTLE_TIME; t += KANKYO_HVAC_MAX_STEP)
    if (!kankyo_hvac_suite_step (suite, commands, KANKYO_HVAC_MAX_STEP, error))
      return FALSE;
  return TRUE;
}

/* ---- the demo suite ---- */

#define M3H(x) ((x) / 3600.0)

/* A filling suite: a fill room (grade A/B, ISO 5) off a corridor (grade C,
 * ISO 7), which staff reach through a gowning room (grade D, ISO 8) from the
 * unclassified surroundings. Each room is held 15 Pa above the next lower
 * grade: +45, +30 and +15 Pa against the surroundings.
 *
 * Supply: 60, 40 and 20 air changes an hour. Leakage: a shut door leaks
 * through 0.015 m2 of gaps (0.02 m2 for the gowning room's outer door), an
 * open door adds its 2 m2; the envelopes leak through 0.005, 0.002 and
 * 0.01 m2. With Cd = 0.6, 15 Pa drives air through a gap at exactly
 * 0.6 sqrt(2 x 15 / 1.2) = 3 m/s, so the offsets that give the cascade are
 *   fill      0.015 x 3 + 0.005 x 0.6 sqrt(75)           = 0.0710 m3/s = 255.5 m3/h
 *   corridor  0.015 x 3 + 0.002 x 0.6 sqrt(50) - 0.045   = 0.0085 m3/s =  30.5 m3/h
 *   gowning   0.020 x 3 + 0.010 x 3            - 0.045   = 0.0450 m3/s = 162.0 m3/h
 * Heat capacities give thermal time constants C / (UA + m_dot cp) of about
 * 10, 5 and 15 minutes; the rooms settle near 21 degC with a 19.5 degC
 * supply. Particle generation (>= 0.5 um per second: an operator in
 * cleanroom garments, traffic, people gowning) gives about 830, 58 000 and
 * 66 000 per m3: ISO 4.4, 6.3 and 6.3 in operation, each inside its class,
 * the fill room well below the alert level of 70 % of its limit so that the
 * counters alarm on a real excursion, not on the scatter of their counts. */
static const KankyoHvacRoom demo_rooms[KANKYO_HVAC_DEMO_N_ROOMS] = {
  [KANKYO_HVAC_DEMO_FILL] = {
      .name = "fill",
      .volume = 144.0,
      .heat_capacity = 1.8e6,
      .ua = 150.0,
      .heat_gain = 4000.0,
      .moisture_gain = 3e-5,
      .particle_gain = 2000.0,
      .supply_flow = M3H (8640.0),
      .offset_flow = M3H (255.5),
  },
  [KANKYO_HVAC_DEMO_CORRIDOR] = {
      .name = "corridor",
      .volume = 27.0,
      .heat_capacity = 1.2e5,
      .ua = 40.0,
      .heat_gain = 500.0,
      .moisture_gain = 1.5e-5,
      .particle_gain = 20000.0,
      .supply_flow = M3H (1080.0),
      .offset_flow = M3H (30.5),
  },
  [KANKYO_HVAC_DEMO_GOWNING] = {
      .name = "gowning",
      .volume = 135.0,
      .heat_capacity = 9e5,
      .ua = 100.0,
      .heat_gain = 1200.0,
      .moisture_gain = 3e-5,
      .particle_gain = 50000.0,
      .supply_flow = M3H (2700.0),
      .offset_flow = M3H (162.0),
  },
};

static const KankyoHvacLeakPath demo_paths[KANKYO_HVAC_DEMO_N_PATHS] = {
  [KANKYO_HVAC_DEMO_FILL_DOOR] = { KANKYO_HVAC_DEMO_FILL, KANKYO_HVAC_DEMO_CORRIDOR, 0.6, 0.015, 2.0 },
  [KANKYO_HVAC_DEMO_CORRIDOR_DOOR] = { KANKYO_HVAC_DEMO_CORRIDOR, KANKYO_HVAC_DEMO_GOWNING, 0.6, 0.015, 2.0 },
  [KANKYO_HVAC_DEMO_GOWNING_DOOR] = { KANKYO_HVAC_DEMO_GOWNING, KANKYO_HVAC_OUTSIDE, 0.6, 0.02, 2.0 },
  [KANKYO_HVAC_DEMO_FILL_ENVELOPE] = { KANKYO_HVAC_DEMO_FILL, KANKYO_HVAC_OUTSIDE, 0.6, 0.005, 0.0 },
  [KANKYO_HVAC_DEMO_CORRIDOR_ENVELOPE] = { KANKYO_HVAC_DEMO_CORRIDOR, KANKYO_HVAC_OUTSIDE, 0.6, 0.002, 0.0 },
  [KANKYO_HVAC_DEMO_GOWNING_ENVELOPE] = { KANKYO_HVAC_DEMO_GOWNING, KANKYO_HVAC_OUTSIDE, 0.6, 0.01, 0.0 },
};

/* The AHU: 12 420 m3/h at 50 Hz with 10 % outdoor air, a 6 degC chilled
 * water and a 45 degC heating water coil, a 15 kg/h steam humidifier and an
 * F9 bag filter that starts at 120 Pa and reaches 240 Pa after 180 days.
 * The coils move the supply air by 0.1-0.3 K per % through a 30 s lag, so
 * the temperature loop has Ti = 30 s (lambda tuning: Ti = tau) and a gain
 * that settles a 2.5 K setpoint step in about 3 minutes with under 0.1 K
 * overshoot. The humidifier moves the rooms by about 0.06 %RH per % through
 * its own minute and the rooms' one to two; its loop settles a 5 %RH step
 * in about 40 minutes. */
static const KankyoHvacSuiteParams demo_suite = {
  .rooms = demo_rooms,
  .n_rooms = KANKYO_HVAC_DEMO_N_ROOMS,
  .paths = demo_paths,
  .n_paths = KANKYO_HVAC_DEMO_N_PATHS,
  .ahu = {
      .nominal_speed = 50.0,
      .nominal_flow = M3H (12420.0),
      .fan_tau = 10.0,
      .night_fraction = 0.5,
      .coil_tau = 30.0,
      .coil_effectiveness = 0.8,
      .chilled_water_temp = 6.0,
      .heating_water_temp = 45.0,
      .humidifier_tau = 60.0,
      .humidifier_capacity = 15.0 / 3600.0,
      .outdoor_fraction = 0.1,
      .temp_kp = 8.0,
      .temp_ti = 30.0,
      .rh_kp = 4.0,
      .rh_ti = 400.0,
      .filter = {
          .dp_clean = 120.0,
          .nominal_flow = M3H (12420.0),
          .nominal_dust = 2e-8,
          .service_life = 180.0 * 86400.0,
      },
  },
  .ambient_temp = 22.0,
  .ambient_particles = 5e6,
  .outdoor_temp = 12.0,
  .outdoor_rh = 60.0,
  .dust = 2e-8,
  .door_exchange_velocity = 0.035,
};

const KankyoHvacSuiteParams *
kankyo_hvac_demo_suite (void)
{
  return &demo_suite;
}
