/* test-hvac-physics.c: the HVAC plugin's physics against its equations and
 * against published figures.
 *
 * Expected values are computed here from the equations as the standards and
 * handbooks write them (orifice law, heat and moisture balances, ISO 14644-1
 * Table 1, reference saturation pressures), or integrated independently with
 * small explicit Euler steps, so that the exact-step code cannot agree with
 * itself about a mistake. Random inputs come from fixed seeds.
 */
#include <math.h>

#include "kankyo-hvac-physics.h"

#define RHO KANKYO_HVAC_AIR_DENSITY
#define CP KANKYO_HVAC_AIR_CP

/* Cd A sqrt(2 |dP| / rho) sign(dP), written out independently, and below
 * d the documented cubic a dP + b dP^3 with a = 5 c / (4 sqrt(d)) and
 * b = -c / (4 d^2.5), c = Cd A sqrt(2 / rho). */
static double
orifice (double cd, double area, double dp)
{
  double c = cd * area * sqrt (2.0 / RHO), d = KANKYO_HVAC_LINEAR_DP;

  if (fabs (dp) < d)
    return 5.0 * c / (4.0 * sqrt (d)) * dp - c / (4.0 * pow (d, 2.5)) * dp * dp * dp;
  return copysign (cd * area * sqrt (2.0 * fabs (dp) / RHO), dp);
}

/* What room @room loses through its leaks minus what it is supplied net,
 * from the orifice law; 0 when the room is balanced. */
static double
imbalance (const KankyoHvacLeakPath *paths,
           const double *openings,
           guint n_paths,
           const double *net,
           const double *p,
           int room)
{
  double out = 0.0;

  for (guint k = 0; k < n_paths; k++)
    {
      double pa = paths[k].from == KANKYO_HVAC_OUTSIDE ? 0.0 : p[paths[k].from];
      double pb = paths[k].to == KANKYO_HVAC_OUTSIDE ? 0.0 : p[paths[k].to];
      double area = paths[k].gap_area + (openings != NULL ? openings[k] : 0.0) * paths[k].door_area;

      if (paths[k].from == room)
        out += orifice (paths[k].cd, area, pa - pb);
      else if (paths[k].to == room)
        out -= orifice (paths[k].cd, area, pa - pb);
    }
  return out - net[room];
}

static void
demo_net_flows (double *net)
{
  const KankyoHvacSuiteParams *s = kankyo_hvac_demo_suite ();

  for (guint i = 0; i < s->n_rooms; i++)
    net[i] = s->rooms[i].offset_flow;
}

/* ---- psychrometrics ---- */

static void
test_psychrometrics (void)
{
  /* Saturation pressure over water (IAPWS-95 / Wagner and Pruss 2002, as
   * tabulated in ASHRAE Fundamentals 2017, ch. 1, Table 3), Pa. */
  static const struct
  {
    double t, es;
  } reference[] = { { 0.0, 611.2 }, { 10.0, 1228.2 }, { 20.0, 2339.2 }, { 30.0, 4246.9 }, { 40.0, 7384.9 } };

  for (guint i = 0; i < G_N_ELEMENTS (reference); i++)
    g_assert_cmpfloat (fabs (kankyo_hvac_saturation_pressure (reference[i].t) / reference[i].es - 1.0), <,
                       0.004);

  /* Humidity ratio at saturation, 20 degC: 0.014758 (ASHRAE Table 2, which
   * includes the 0.4 % enhancement factor the plugin leaves out). */
  g_assert_cmpfloat (fabs (kankyo_hvac_humidity_ratio (20.0, 100.0) / 0.014758 - 1.0), <, 0.008);
  /* 21 degC, 45 %RH, the cleanroom design point: W = 0.622 e / (p - e). */
  {
    double e = 0.45 * 611.2 * exp (17.62 * 21.0 / (243.12 + 21.0));

    g_assert_cmpfloat_with_epsilon (kankyo_hvac_humidity_ratio (21.0, 45.0), 0.621945 * e / (101325.0 - e),
                                    1e-12);
  }
  for (double t = -20.0; t <= 50.0; t += 7.0)
    for (double rh = 5.0; rh <= 100.0; rh += 19.0)
      {
        g_assert_cmpfloat_with_epsilon (kankyo_hvac_relative_humidity (t, kankyo_hvac_humidity_ratio (t, rh)),
                                        rh, 1e-9);
        /* The dew point is where the same vapour saturates. */
        g_assert_cmpfloat_with_epsilon (kankyo_hvac_saturation_pressure (kankyo_hvac_dew_point (t, rh)),
                                        rh / 100.0 * kankyo_hvac_saturation_pressure (t), 1e-6);
      }
  /* 20 degC at 50 %RH has its dew point at 9.3 degC. */
  g_assert_cmpfloat_with_epsilon (kankyo_hvac_dew_point (20.0, 50.0), 9.3, 0.05);
}

/* ---- room heat and moisture ---- */

static void
test_room_time_constant (void)
{
  const KankyoHvacRoom *room = &kankyo_hvac_demo_suite ()->rooms[KANKYO_HVAC_DEMO_FILL];
  double m = room->supply_flow * RHO;
  double tau = room->heat_capacity / (room->ua + m * CP);
  double t_sup = 15.5, t_amb = 22.0, t0 = 21.0;
  double t_eq = (room->heat_gain + room->ua * t_amb + m * CP * t_sup) / (room->ua + m * CP);
  double temp = t0, euler = t0, elapsed = 0.0, fraction;

  g_assert_cmpfloat_with_epsilon (kankyo_hvac_room_time_constant (room, m), tau, 1e-9);
  /* The demo's fill room is in the 5-20 minute range. */
  g_assert_cmpfloat (tau, >, 300.0);
  g_assert_cmpfloat (tau, <, 1200.0);

  /* Step the supply temperature down and watch 1 s steps. */
  while (elapsed < tau)
    {
      double dt = MIN (1.0, tau - elapsed);

      temp = kankyo_hvac_room_temperature_step (room, temp, m, t_sup, t_amb, dt);
      elapsed += dt;
    }
  fraction = (temp - t0) / (t_eq - t0);
  g_assert_cmpfloat (fabs (fraction / (1.0 - exp (-1.0)) - 1.0), <, 0.01);

  /* The ODE itself, C dT/dt = Q + UA (T_amb - T) + m cp (T_sup - T), by
   * explicit Euler in 10 ms steps agrees with the exact steps. */
  for (double t = 0.0; t < tau - 1e-9; t += 0.01)
    {
      double h = MIN (0.01, tau - t);

      euler += h / room->heat_capacity
               * (room->heat_gain + room->ua * (t_amb - euler) + m * CP * (t_sup - euler));
    }
  g_assert_cmpfloat_with_epsilon (temp, euler, 1e-3);

  /* One step of the whole interval lands on the same value, and a step of
   * ten time constants on the steady state without overshoot. */
  g_assert_cmpfloat_with_epsilon (kankyo_hvac_room_temperature_step (room, t0, m, t_sup, t_amb, tau), temp,
                                  1e-9);
  temp = kankyo_hvac_room_temperature_step (room, t0, m, t_sup, t_amb, 10.0 * tau);
  g_assert_cmpfloat (temp, >=, t_eq);
  g_assert_cmpfloat_with_epsilon (temp, t_eq, 1e-3);
}

static void
test_room_moisture (void)
{
  const KankyoHvacRoom *room = &kankyo_hvac_demo_suite ()->rooms[KANKYO_HVAC_DEMO_CORRIDOR];
  double m = room->supply_flow * RHO;
  double w_sup = kankyo_hvac_humidity_ratio (19.5, 50.0);
  double tau = room->volume * RHO / m;
  double w = kankyo_hvac_humidity_ratio (21.0, 30.0), w0 = w, euler = w0;

  /* Steady state: all that the people add leaves with the supply air. */
  for (int i = 0; i < 40 * (int) tau; i++)
    w = kankyo_hvac_room_moisture_step (room, w, m, w_sup, 1.0);
  g_assert_cmpfloat_with_epsilon (w, w_sup + room->moisture_gain / m, 1e-12);

  /* V rho dW/dt = G + m (W_sup - W) by Euler over one time constant. */
  for (double t = 0.0; t < tau - 1e-9; t += 0.001)
    euler += MIN (0.001, tau - t) / (room->volume * RHO) * (room->moisture_gain + m * (w_sup - euler));
  g_assert_cmpfloat_with_epsilon (kankyo_hvac_room_moisture_step (room, w0, m, w_sup, tau), euler, 1e-8);

  /* Without supply the room only gains. */
  g_assert_cmpfloat_with_epsilon (kankyo_hvac_room_moisture_step (room, w0, 0.0, w_sup, 600.0),
                                  w0 + room->moisture_gain * 600.0 / (room->volume * RHO), 1e-15);
}

/* ---- room pressures ---- */

static void
check_balanced (const KankyoHvacLeakPath *paths,
                const double *openings,
                guint n_paths,
                const double *net,
                const double *p,
                guint n_rooms)
{
  for (guint i = 0; i < n_rooms; i++)
    g_assert_cmpfloat (fabs (imbalance (paths, openings, n_paths, net, p, i)), <, 1e-6);
}

static void
test_pressure_cascade (void)
{
  const KankyoHvacSuiteParams *s = kankyo_hvac_demo_suite ();
  double net[KANKYO_HVAC_DEMO_N_ROOMS], p[KANKYO_HVAC_DEMO_N_ROOMS] = { 0 };
  g_autoptr (GError) error = NULL;

  /* 15 Pa through a Cd 0.6 gap is 3 m/s: the design figure of the demo. */
  g_assert_cmpfloat_with_epsilon (kankyo_hvac_leak_flow (0.6, 0.015, 15.0), 0.045, 1e-12);
  g_assert_cmpfloat_with_epsilon (kankyo_hvac_leak_flow (0.6, 0.015, -15.0), -0.045, 1e-12);
  /* The square-root law down to the join, and no step at it. */
  for (double dp = KANKYO_HVAC_LINEAR_DP; dp < 1000.0; dp *= 1.7)
    g_assert_cmpfloat (
        fabs (kankyo_hvac_leak_flow (0.6, 2.0, dp) / (0.6 * 2.0 * sqrt (2.0 * dp / RHO)) - 1.0), <, 1e-12);
  g_assert_cmpfloat_with_epsilon (kankyo_hvac_leak_flow (0.6, 2.0, KANKYO_HVAC_LINEAR_DP * (1.0 - 1e-9)),
                                  kankyo_hvac_leak_flow (0.6, 2.0, KANKYO_HVAC_LINEAR_DP), 1e-9);
  g_assert_cmpfloat (kankyo_hvac_leak_flow (0.6, 2.0, 0.0), ==, 0.0);
  for (double dp = -KANKYO_HVAC_LINEAR_DP; dp <= KANKYO_HVAC_LINEAR_DP; dp += KANKYO_HVAC_LINEAR_DP / 64.0)
    g_assert_cmpfloat_with_epsilon (kankyo_hvac_leak_flow (0.6, 2.0, dp), orifice (0.6, 2.0, dp), 1e-15);

  demo_net_flows (net);
  g_assert_true (kankyo_hvac_solve_pressures (s->paths, NULL, s->n_paths, net, s->n_rooms, p, &error));
  g_assert_no_error (error);
  g_test_message ("cascade %.3f / %.3f / %.3f Pa", p[0], p[1], p[2]);
  g_assert_cmpfloat_with_epsilon (p[KANKYO_HVAC_DEMO_FILL], 45.0, 0.5);
  g_assert_cmpfloat_with_epsilon (p[KANKYO_HVAC_DEMO_CORRIDOR], 30.0, 0.5);
  g_assert_cmpfloat_with_epsilon (p[KANKYO_HVAC_DEMO_GOWNING], 15.0, 0.5);
  check_balanced (s->paths, NULL, s->n_paths, net, p, s->n_rooms);
}

static void
test_pressure_door (void)
{
  const KankyoHvacSuiteParams *s = kankyo_hvac_demo_suite ();
  double net[KANKYO_HVAC_DEMO_N_ROOMS], p[KANKYO_HVAC_DEMO_N_ROOMS] = { 45.0, 30.0, 15.0 };
  double open[KANKYO_HVAC_DEMO_N_PATHS] = { [KANKYO_HVAC_DEMO_FILL_DOOR] = 1.0 };
  KankyoHvacAhuCommands commands;
  KankyoHvacSuite suite;
  g_autoptr (GError) error = NULL;

  demo_net_flows (net);
  g_assert_true (kankyo_hvac_solve_pressures (s->paths, open, s->n_paths, net, s->n_rooms, p, &error));
  g_assert_no_error (error);
  g_test_message ("door open %.4f / %.4f / %.4f Pa", p[0], p[1], p[2]);
  check_balanced (s->paths, open, s->n_paths, net, p, s->n_rooms);
  /* The cascade collapses: the two rooms equalise to well below 1 Pa. */
  g_assert_cmpfloat (fabs (p[KANKYO_HVAC_DEMO_FILL] - p[KANKYO_HVAC_DEMO_CORRIDOR]), <, 1.0);
  g_assert_cmpfloat (p[KANKYO_HVAC_DEMO_FILL], <, 40.0);

  /* Shut again, from the collapsed pressures. */
  open[KANKYO_HVAC_DEMO_FILL_DOOR] = 0.0;
  g_assert_true (kankyo_hvac_solve_pressures (s->paths, open, s->n_paths, net, s->n_rooms, p, &error));
  g_assert_cmpfloat_with_epsilon (p[KANKYO_HVAC_DEMO_FILL] - p[KANKYO_HVAC_DEMO_CORRIDOR], 15.0, 0.5);

  /* The same through the running suite, one second at a time. */
  kankyo_hvac_ahu_commands_init (&commands);
  g_assert_true (kankyo_hvac_suite_init (&suite, s, &commands, &error));
  g_assert_no_error (error);
  suite.opening[KANKYO_HVAC_DEMO_FILL_DOOR] = 1.0;
  g_assert_true (kankyo_hvac_suite_step (&suite, &commands, 1.0, &error));
  g_assert_cmpfloat (suite.pressure[KANKYO_HVAC_DEMO_FILL] - suite.pressure[KANKYO_HVAC_DEMO_CORRIDOR], <,
                     5.0);
  suite.opening[KANKYO_HVAC_DEMO_FILL_DOOR] = 0.0;
  for (int i = 0; i < 3; i++)
    g_assert_true (kankyo_hvac_suite_step (&suite, &commands, 1.0, &error));
  g_assert_cmpfloat_with_epsilon (suite.pressure[KANKYO_HVAC_DEMO_FILL], 45.0, 0.5);
  g_assert_cmpfloat_with_epsilon (suite.pressure[KANKYO_HVAC_DEMO_CORRIDOR], 30.0, 0.5);
  g_assert_cmpfloat_with_epsilon (suite.pressure[KANKYO_HVAC_DEMO_GOWNING], 15.0, 0.5);
}

/* Random networks, doors and starting points: the solver must balance all
 * of them, and refuse a room that cannot reach the outside. */
static void
test_pressure_robust (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (14644);

  for (int trial = 0; trial < 300; trial++)
    {
      KankyoHvacLeakPath paths[KANKYO_HVAC_MAX_PATHS];
      double openings[KANKYO_HVAC_MAX_PATHS], net[KANKYO_HVAC_MAX_ROOMS], p[KANKYO_HVAC_MAX_ROOMS];
      guint n_rooms = g_rand_int_range (rand, 1, KANKYO_HVAC_MAX_ROOMS + 1), n_paths = 0;
      g_autoptr (GError) error = NULL;

      /* A chain to the outside keeps every room connected; extra paths
       * join random pairs. */
      for (guint i = 0; i < n_rooms; i++)
        paths[n_paths++]
            = (KankyoHvacLeakPath){ i, (int) i - 1, 0.6, g_rand_double_range (rand, 1e-3, 0.05), 2.0 };
      while (n_paths < MIN (KANKYO_HVAC_MAX_PATHS, 3 * n_rooms))
        {
          int a = g_rand_int_range (rand, -1, n_rooms), b = g_rand_int_range (rand, -1, n_rooms);

          if (a != b)
            paths[n_paths++] = (KankyoHvacLeakPath){ a, b, g_rand_double_range (rand, 0.5, 1.0),
                                                     g_rand_double_range (rand, 1e-4, 0.05),
                                                     g_rand_boolean (rand) ? 2.0 : 0.0 };
        }
      for (guint k = 0; k < n_paths; k++)
        openings[k] = g_rand_int_range (rand, 0, 4) == 0 ? g_rand_double (rand) : 0.0;
      for (guint i = 0; i < n_rooms; i++)
        {
          net[i] = g_rand_double_range (rand, -0.2, 1.0);
          p[i] = g_rand_double_range (rand, -1e4, 1e4);
        }
      g_assert_true (kankyo_hvac_solve_pressures (paths, openings, n_paths, net, n_rooms, p, &error));
      g_assert_no_error (error);
      check_balanced (paths, openings, n_paths, net, p, n_rooms);
    }

  {
    /* Room 1 leaks only into room 2 and room 2 nowhere. */
    const KankyoHvacLeakPath paths[]
        = { { 0, KANKYO_HVAC_OUTSIDE, 0.6, 0.01, 0.0 }, { 1, 2, 0.6, 0.01, 0.0 } };
    double net[] = { 0.1, 0.1, 0.0 }, p[] = { 1.0, 2.0, 3.0 };
    g_autoptr (GError) error = NULL;

    g_assert_false (kankyo_hvac_solve_pressures (paths, NULL, G_N_ELEMENTS (paths), net, 3, p, &error));
    g_assert_error (error, KANKYO_HVAC_ERROR, KANKYO_HVAC_ERROR_INVALID);
    /* Untouched on failure. */
    g_assert_cmpfloat (p[0], ==, 1.0);
    g_assert_cmpfloat (p[2], ==, 3.0);
  }
  {
    /* Room 1's only way out is a door without gaps: shut, the room is
     * sealed; open, it is not. */
    const KankyoHvacLeakPath paths[]
        = { { 0, KANKYO_HVAC_OUTSIDE, 0.6, 0.01, 0.0 }, { 1, 0, 0.6, 0.0, 2.0 } };
    double net[] = { 0.1, 0.1 }, p[] = { 0.0, 0.0 }, open[] = { 0.0, 1.0 };
    g_autoptr (GError) error = NULL;

    g_assert_false (kankyo_hvac_solve_pressures (paths, NULL, G_N_ELEMENTS (paths), net, 2, p, &error));
    g_assert_error (error, KANKYO_HVAC_ERROR, KANKYO_HVAC_ERROR_INVALID);
    g_assert_true (kankyo_hvac_solve_pressures (paths, open, G_N_ELEMENTS (paths), net, 2, p, NULL));
    check_balanced (paths, open, G_N_ELEMENTS (paths), net, p, 2);
  }
}

/* ---- particles ---- */

static void
test_particle_decay (void)
{
  double ach = 60.0, n = ach / 3600.0, c0 = 1e6, c = c0, volume = 144.0;
  double expected_recovery = log (100.0) / n, recovery = 0.0;
  int t;

  /* After a burst, with the source gone, C = C0 e^(-n t) and the 100:1
   * recovery comes at ln(100) / n (276 s at 60 air changes an hour). */
  for (t = 1; t <= 1200; t++)
    {
      c = kankyo_hvac_particle_step (c, 0.0, volume, ach, 1.0);
      if (t % 100 == 0)
        g_assert_cmpfloat (fabs (c / (c0 * exp (-n * t)) - 1.0), <, 1e-9);
      if (recovery == 0.0 && c <= c0 / 100.0)
        recovery = t;
    }
  g_test_message ("100:1 recovery after %.0f s, expected %.1f s", recovery, expected_recovery);
  g_assert_cmpfloat (fabs (recovery / expected_recovery - 1.0), <, 0.02);
  g_assert_cmpfloat_with_epsilon (kankyo_hvac_recovery_time (ach, 100.0), expected_recovery, 1e-9);

  /* With a steady source the room settles at G / (V n). */
  c = 0.0;
  for (t = 0; t < 3600; t++)
    c = kankyo_hvac_particle_step (c, 5000.0, volume, ach, 1.0);
  g_assert_cmpfloat (fabs (c / (5000.0 / (volume * n)) - 1.0), <, 1e-9);

  /* Other sizes follow the slope of the class limits. */
  g_assert_cmpfloat_with_epsilon (kankyo_hvac_particles_at_size (3520.0, 0.5), 3520.0, 1e-9);
  g_assert_cmpfloat (fabs (kankyo_hvac_particles_at_size (3520.0, 0.3) / 10200.0 - 1.0), <, 0.01);
  g_assert_cmpfloat (fabs (kankyo_hvac_particles_at_size (3520.0, 1.0) / 832.0 - 1.0), <, 0.01);
}

/* An open door into the fill room brings in the corridor's particles and the
 * room falls back to its own level once the door shuts. */
static void
test_particle_door (void)
{
  const KankyoHvacSuiteParams *s = kankyo_hvac_demo_suite ();
  KankyoHvacAhuCommands commands;
  KankyoHvacSuite suite;
  g_autoptr (GError) error = NULL;
  double before, during;

  kankyo_hvac_ahu_commands_init (&commands);
  g_assert_true (kankyo_hvac_suite_init (&suite, s, &commands, &error));
  before = suite.particles[KANKYO_HVAC_DEMO_FILL];
  /* In operation the fill room is better than ISO 5 at 0.5 um. */
  g_assert_cmpfloat (kankyo_hvac_iso_class (before, 0.5), <, 5.0);
  g_assert_cmpfloat_with_epsilon (
      before, s->rooms[KANKYO_HVAC_DEMO_FILL].particle_gain / s->rooms[KANKYO_HVAC_DEMO_FILL].supply_flow,
      1.0);

  suite.opening[KANKYO_HVAC_DEMO_FILL_DOOR] = 1.0;
  g_assert_true (kankyo_hvac_suite_step (&suite, &commands, 600.0, &error));
  during = suite.particles[KANKYO_HVAC_DEMO_FILL];
  g_test_message ("fill room %.0f /m3 shut, %.0f /m3 with the door open 10 min", before, during);
  g_assert_cmpfloat (during, >, 1.4 * before);
  /* Steady with the door open, the fill room's particle balance: its own
   * generation plus what the two-way exchange x brings from the corridor,
   * diluted by the supply plus x (the net door flow leaves the fill room). */
  g_assert_true (kankyo_hvac_suite_step (&suite, &commands, 1800.0, &error));
  g_assert_cmpfloat (kankyo_hvac_suite_path_flow (&suite, KANKYO_HVAC_DEMO_FILL_DOOR), >, 0.0);
  {
    const KankyoHvacRoom *fill = &s->rooms[KANKYO_HVAC_DEMO_FILL];
    double x = s->paths[KANKYO_HVAC_DEMO_FILL_DOOR].door_area * s->door_exchange_velocity;

    g_assert_cmpfloat (fabs (suite.particles[KANKYO_HVAC_DEMO_FILL]
                                 / ((fill->particle_gain + x * suite.particles[KANKYO_HVAC_DEMO_CORRIDOR])
                                    / (fill->supply_flow + x))
                             - 1.0),
                       <, 0.005);
  }

  suite.opening[KANKYO_HVAC_DEMO_FILL_DOOR] = 0.0;
  g_assert_true (kankyo_hvac_suite_step (&suite, &commands, 1800.0, &error));
  g_assert_cmpfloat (fabs (suite.particles[KANKYO_HVAC_DEMO_FILL] / before - 1.0), <, 0.01);
}

/* Each room of the demo suite settles inside its ISO 14644-1 class at
 * 0.5 um (fill ISO 5, corridor ISO 7, gowning ISO 8), below the 70 % alert
 * level of its limit. */
static void
test_particle_classes (void)
{
  static const struct
  {
    guint room;
    double iso_class;
  } rooms[] = {
    { KANKYO_HVAC_DEMO_FILL, 5.0 },
    { KANKYO_HVAC_DEMO_CORRIDOR, 7.0 },
    { KANKYO_HVAC_DEMO_GOWNING, 8.0 },
  };
  const KankyoHvacSuiteParams *s = kankyo_hvac_demo_suite ();
  KankyoHvacAhuCommands commands;
  KankyoHvacSuite suite;
  g_autoptr (GError) error = NULL;

  kankyo_hvac_ahu_commands_init (&commands);
  g_assert_true (kankyo_hvac_suite_init (&suite, s, &commands, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (s->rooms[KANKYO_HVAC_DEMO_FILL].name, ==, "fill");
  g_assert_cmpstr (s->rooms[KANKYO_HVAC_DEMO_CORRIDOR].name, ==, "corridor");
  g_assert_cmpstr (s->rooms[KANKYO_HVAC_DEMO_GOWNING].name, ==, "gowning");
  for (guint i = 0; i < G_N_ELEMENTS (rooms); i++)
    {
      const KankyoHvacRoom *room = &s->rooms[rooms[i].room];
      double c = suite.particles[rooms[i].room];
      double limit = kankyo_hvac_iso_limit (rooms[i].iso_class, 0.5);

      g_test_message ("%-8s %6.0f /m3 at 0.5 um: ISO %.1f (limit of ISO %.0f: %.0f /m3, %.0f %%)", room->name,
                      c, kankyo_hvac_iso_class (c, 0.5), rooms[i].iso_class, limit, 100.0 * c / limit);
      /* Nothing leaks into the highest room, so it is at its own G / Q;
       * the others also take in the cleaner air of the room above. */
      if (rooms[i].room == KANKYO_HVAC_DEMO_FILL)
        g_assert_cmpfloat (fabs (c / (room->particle_gain / room->supply_flow) - 1.0), <, 1e-3);
      g_assert_cmpfloat (kankyo_hvac_iso_class (c, 0.5), <=, rooms[i].iso_class);
      g_assert_cmpfloat (c, <, 0.7 * limit);
    }
}

static double
poisson_pmf (double mean, double k)
{
  return exp (-mean + k * log (mean) - lgamma (k + 1.0));
}

static void
check_poisson (double mean)
{
  const int n = 1000000;
  g_autoptr (GRand) rand = g_rand_new_with_seed (2024 + (guint32) mean);
  g_autofree guint *counts = NULL;
  double sum = 0.0, sum2 = 0.0, m, var, chi2 = 0.0, expected = 0.0, observed = 0.0, cdf = 0.0;
  guint64 top = (guint64) ceil (mean + 10.0 * sqrt (mean) + 10.0);
  guint dof = 0;

  counts = g_new0 (guint, top + 1);
  for (int i = 0; i < n; i++)
    {
      guint64 k = kankyo_hvac_poisson (rand, mean);

      sum += (double) k;
      sum2 += (double) k * (double) k;
      counts[MIN (k, top)]++;
    }
  m = sum / n;
  var = (sum2 - n * m * m) / (n - 1);
  /* Five standard errors: the mean's is sqrt(lambda / n); the sample
   * variance's is sqrt((mu4 - sigma^4) / n) with mu4 = lambda (1 + 3 lambda). */
  g_assert_cmpfloat (fabs (m - mean), <, 5.0 * sqrt (mean / n));
  g_assert_cmpfloat (fabs (var - mean), <, 5.0 * sqrt ((mean + 2.0 * mean * mean) / n));

  /* And the shape: Pearson's chi-square over bins of at least 100 expected
   * samples, the upper tail folded into the last, against the chi-square
   * distribution's mean plus five of its standard deviations. */
  for (guint64 k = 0; k <= top; k++)
    {
      double pk = poisson_pmf (mean, (double) k);

      cdf += pk;
      expected += n * pk;
      observed += counts[k];
      if (k == top)
        expected += n * MAX (1.0 - cdf, 0.0);
      if ((expected >= 100.0 && n * (1.0 - cdf) >= 100.0) || k == top)
        {
          chi2 += (observed - expected) * (observed - expected) / expected;
          dof++;
          expected = observed = 0.0;
        }
    }
  dof--;
  g_test_message ("lambda %g: mean %.4f, variance %.4f, chi-square %.1f for %u degrees of freedom", mean, m,
                  var, chi2, dof);
  g_assert_cmpuint (dof, >=, 3);
  g_assert_cmpfloat (chi2, <, dof + 5.0 * sqrt (2.0 * dof));
}

static void
test_poisson_small (void)
{
  check_poisson (0.5);
}

static void
test_poisson_medium (void)
{
  check_poisson (20.0);
}

static void
test_poisson_large (void)
{
  check_poisson (5000.0);
}

/* ---- ISO 14644-1 ---- */

static void
test_iso_limits (void)
{
  /* ISO 14644-1:2015, Table 1, for the sizes where it gives a figure. */
  static const struct
  {
    double n, size, limit;
  } table[] = {
    { 2, 0.1, 100 },    { 2, 0.2, 24 },       { 2, 0.3, 10 },      { 2, 0.5, 4 },       { 3, 0.1, 1000 },
    { 3, 0.2, 237 },    { 3, 0.3, 102 },      { 3, 0.5, 35 },      { 3, 1.0, 8 },       { 4, 0.1, 10000 },
    { 4, 0.2, 2370 },   { 4, 0.3, 1020 },     { 4, 0.5, 352 },     { 4, 1.0, 83 },      { 5, 0.1, 100000 },
    { 5, 0.2, 23700 },  { 5, 0.3, 10200 },    { 5, 0.5, 3520 },    { 5, 1.0, 832 },     { 6, 0.1, 1000000 },
    { 6, 0.2, 237000 }, { 6, 0.3, 102000 },   { 6, 0.5, 35200 },   { 6, 1.0, 8320 },    { 6, 5.0, 293 },
    { 7, 0.5, 352000 }, { 7, 1.0, 83200 },    { 7, 5.0, 2930 },    { 8, 0.5, 3520000 }, { 8, 1.0, 832000 },
    { 8, 5.0, 29300 },  { 9, 0.5, 35200000 }, { 9, 1.0, 8320000 }, { 9, 5.0, 293000 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (table); i++)
    g_assert_cmpfloat (kankyo_hvac_iso_limit (table[i].n, table[i].size), ==, table[i].limit);
  /* The formula itself gives 3 516.8 for ISO 5 at 0.5 um: a count of
   * 3 520, at the tabulated limit, complies only with the rounding. */
  g_assert_cmpfloat (1e5 * pow (0.1 / 0.5, 2.08), <, 3520.0);
  /* Intermediate classes: ISO 5.5 at 0.5 um is 11 100 (3 significant figures). */
  g_assert_cmpfloat (kankyo_hvac_iso_limit (5.5, 0.5), ==, 11100.0);
}

static void
test_iso_class (void)
{
  static const double limits_05[] = { 3520.0, 35200.0, 352000.0, 3520000.0 };
  static const double sizes[] = { 0.3, 0.5, 1.0, 5.0 };

  for (guint i = 0; i < G_N_ELEMENTS (limits_05); i++)
    {
      double n = 5.0 + i;

      /* At the tabulated limit the room is still in the class; one more
       * particle per m3 and it is the next tenth. */
      g_assert_cmpfloat_with_epsilon (kankyo_hvac_iso_class (limits_05[i], 0.5), n, 1e-9);
      g_assert_cmpfloat_with_epsilon (kankyo_hvac_iso_class (limits_05[i] + 1.0, 0.5), n + 0.1, 1e-9);
      /* Just below the limit of the tenth beneath: still that tenth. */
      g_assert_cmpfloat_with_epsilon (kankyo_hvac_iso_class (kankyo_hvac_iso_limit (n - 0.1, 0.5), 0.5),
                                      n - 0.1, 1e-9);
    }
  /* Where the table rounds down (ISO 4 at 1 um: 83.2 becomes 83), a count
   * between the table and the formula is already the next tenth. */
  for (double n = 2.0; n <= 9.0; n++)
    for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
      {
        double raw = pow (10.0, n) * pow (0.1 / sizes[i], 2.08);
        double table = kankyo_hvac_iso_limit (n, sizes[i]);

        if (table < raw)
          g_assert_cmpfloat_with_epsilon (kankyo_hvac_iso_class ((table + raw) / 2.0, sizes[i]), n + 0.1,
                                          1e-9);
      }
  g_assert_cmpfloat_with_epsilon (kankyo_hvac_iso_class (83.0, 1.0), 4.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (kankyo_hvac_iso_class (83.1, 1.0), 4.1, 1e-9);
  g_assert_cmpfloat_with_epsilon (kankyo_hvac_iso_class (10200.0, 0.3), 5.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (kankyo_hvac_iso_class (10201.0, 0.3), 5.1, 1e-9);
  g_assert_cmpfloat_with_epsilon (kankyo_hvac_iso_class (29300.0, 5.0), 8.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (kankyo_hvac_iso_class (0.0, 0.5), 1.0, 1e-9);
  /* Beyond ISO 9 the arithmetic goes on. */
  g_assert_cmpfloat_with_epsilon (kankyo_hvac_iso_class (35200001.0, 0.5), 9.1, 1e-9);

  /* Overall: the worst channel. 1.0 um at its ISO 7 limit decides over
   * the other channels at ISO 5. */
  {
    double conc[] = { 10200.0, 3520.0, 83200.0, 29.0 };

    g_assert_cmpfloat_with_epsilon (kankyo_hvac_iso_class_overall (sizes, conc, 4), 7.0, 1e-9);
    conc[2] = 832.0;
    g_assert_cmpfloat_with_epsilon (kankyo_hvac_iso_class_overall (sizes, conc, 4), 5.0, 1e-9);
  }
}

/* ---- filter ---- */

static void
test_filter_service_life (void)
{
  const KankyoHvacFilter *f = &kankyo_hvac_demo_suite ()->ahu.filter;
  double mass = 0.0, half_mass = 0.0;
  double life_days = f->service_life / 86400.0;

  g_assert_cmpfloat (kankyo_hvac_filter_dp (f, 0.0, f->nominal_flow), ==, f->dp_clean);
  for (int hour = 1; hour <= 2 * 24 * (int) life_days; hour++)
    {
      mass = kankyo_hvac_filter_loading_step (mass, f->nominal_flow, f->nominal_dust, 3600.0);
      half_mass = kankyo_hvac_filter_loading_step (half_mass, f->nominal_flow / 2.0, f->nominal_dust, 3600.0);
      if (hour == 24 * (int) life_days / 2)
        g_assert_cmpfloat (
            fabs (kankyo_hvac_filter_dp (f, mass, f->nominal_flow) / (1.5 * f->dp_clean) - 1.0), <, 0.01);
      if (hour == 24 * (int) life_days)
        {
          g_test_message ("filter after %.0f days: %.1f Pa (clean %.0f Pa), %.2f kg of dust", life_days,
                          kankyo_hvac_filter_dp (f, mass, f->nominal_flow), f->dp_clean, mass);
          g_assert_cmpfloat (
              fabs (kankyo_hvac_filter_dp (f, mass, f->nominal_flow) / (2.0 * f->dp_clean) - 1.0), <, 0.01);
          /* At half the airflow the filter loads half as fast and shows half
           * the pressure drop. */
          g_assert_cmpfloat (
              fabs (kankyo_hvac_filter_dp (f, half_mass, f->nominal_flow / 2.0) / (0.75 * f->dp_clean) - 1.0),
              <, 0.01);
        }
    }
  /* ... and doubles its own clean pressure drop after twice the life. */
  g_assert_cmpfloat (fabs (kankyo_hvac_filter_dp (f, half_mass, f->nominal_flow / 2.0) / f->dp_clean - 1.0),
                     <, 0.01);
}

/* ---- AHU ---- */

static KankyoHvacAir
air_at (double temp, double rh)
{
  return (KankyoHvacAir){ temp, kankyo_hvac_humidity_ratio (temp, rh) };
}

static void
test_ahu_fan (void)
{
  const KankyoHvacAhuParams *p = &kankyo_hvac_demo_suite ()->ahu;
  KankyoHvacAir ret = air_at (21.0, 45.0), out = air_at (12.0, 60.0);
  KankyoHvacAhuCommands commands;
  KankyoHvacAhu ahu = { 0 };
  double t;

  kankyo_hvac_ahu_commands_init (&commands);
  commands.fan_speed_setpoint = p->nominal_speed;
  for (t = 0.0; t < p->fan_tau - 1e-9; t += 0.1)
    {
      kankyo_hvac_ahu_step (p, &ahu, &commands, &ret, &out, 0.0, 0.1);
      /* Proven only from a fifth of the nominal speed, and nothing heats or
       * humidifies before. */
      if (ahu.fan_speed < 0.2 * p->nominal_speed)
        {
          g_assert_false (kankyo_hvac_ahu_fan_proven (p, &ahu));
          g_assert_cmpfloat (ahu.humidifier, ==, 0.0);
          g_assert_cmpfloat (ahu.heating_valve, ==, 0.0);
        }
    }
  g_assert_true (kankyo_hvac_ahu_fan_proven (p, &ahu));
  g_assert_cmpfloat (fabs (ahu.fan_speed / (p->nominal_speed * (1.0 - exp (-1.0))) - 1.0), <, 0.01);
  /* Fan law: airflow in proportion to speed. */
  g_assert_cmpfloat_with_epsilon (kankyo_hvac_ahu_airflow (p, &ahu),
                                  p->nominal_flow * ahu.fan_speed / p->nominal_speed, 1e-12);

  /* The VFD stops at its maximum frequency. */
  commands.fan_speed_setpoint = 1.2 * p->nominal_speed;
  kankyo_hvac_ahu_step (p, &ahu, &commands, &ret, &out, 0.0, 20.0 * p->fan_tau);
  g_assert_cmpfloat_with_epsilon (ahu.fan_speed, p->nominal_speed, 1e-6);
  commands.fan_speed_setpoint = p->nominal_speed;

  /* Night setback runs the fan at its reduced share; off stops it. */
  commands.mode = KANKYO_HVAC_AHU_NIGHT_SETBACK;
  kankyo_hvac_ahu_step (p, &ahu, &commands, &ret, &out, 0.0, 20.0 * p->fan_tau);
  g_assert_cmpfloat_with_epsilon (ahu.fan_speed, p->night_fraction * p->nominal_speed, 1e-6);
  commands.mode = KANKYO_HVAC_AHU_OFF;
  kankyo_hvac_ahu_step (p, &ahu, &commands, &ret, &out, 0.0, 20.0 * p->fan_tau);
  g_assert_cmpfloat (ahu.fan_speed, <, 1e-6);
  g_assert_cmpfloat (ahu.chw_valve + ahu.heating_valve + ahu.humidifier, ==, 0.0);
}

/* Manual valve steps with the fan running: supply air follows the coil
 * capacity with the coil's time constant. */
static void
test_ahu_coils (void)
{
  const KankyoHvacAhuParams *p = &kankyo_hvac_demo_suite ()->ahu;
  KankyoHvacAir ret = air_at (21.0, 45.0), out = air_at (12.0, 60.0);
  double mix_t = (1.0 - p->outdoor_fraction) * ret.temp + p->outdoor_fraction * out.temp;
  double mix_w = (1.0 - p->outdoor_fraction) * ret.w + p->outdoor_fraction * out.w;
  double cooled = mix_t - p->coil_effectiveness * (mix_t - p->chilled_water_temp);
  double heated = mix_t + p->coil_effectiveness * (p->heating_water_temp - mix_t);
  double humidified = mix_w + p->humidifier_capacity / (p->nominal_flow * RHO);
  KankyoHvacAhuCommands commands;
  KankyoHvacAhu ahu = { .fan_speed = p->nominal_speed };

  kankyo_hvac_ahu_commands_init (&commands);
  commands.automatic = FALSE;
  commands.fan_speed_setpoint = p->nominal_speed;
  kankyo_hvac_ahu_step (p, &ahu, &commands, &ret, &out, 0.0, 1.0);
  g_assert_cmpfloat_with_epsilon (ahu.supply.temp, mix_t, 1e-9);

  commands.chw_valve_command = 100.0;
  kankyo_hvac_ahu_step (p, &ahu, &commands, &ret, &out, 0.0, p->coil_tau);
  g_assert_cmpfloat (ahu.chw_valve, ==, 100.0);
  g_assert_cmpfloat (fabs ((ahu.supply.temp - mix_t) / ((cooled - mix_t) * (1.0 - exp (-1.0))) - 1.0), <,
                     0.01);
  kankyo_hvac_ahu_step (p, &ahu, &commands, &ret, &out, 0.0, 20.0 * p->coil_tau);
  g_assert_cmpfloat_with_epsilon (ahu.supply.temp, cooled, 1e-6);

  commands.chw_valve_command = 0.0;
  kankyo_hvac_ahu_step (p, &ahu, &commands, &ret, &out, 0.0, 20.0 * p->coil_tau);
  commands.heating_valve_command = 100.0;
  kankyo_hvac_ahu_step (p, &ahu, &commands, &ret, &out, 0.0, p->coil_tau);
  g_assert_cmpfloat (fabs ((ahu.supply.temp - mix_t) / ((heated - mix_t) * (1.0 - exp (-1.0))) - 1.0), <,
                     0.01);

  /* Steam: the supply gains humidifier capacity / air mass flow. */
  commands.heating_valve_command = 0.0;
  kankyo_hvac_ahu_step (p, &ahu, &commands, &ret, &out, 0.0, 20.0 * p->coil_tau);
  commands.humidifier_command = 100.0;
  kankyo_hvac_ahu_step (p, &ahu, &commands, &ret, &out, 0.0, p->humidifier_tau);
  g_assert_cmpfloat (fabs ((ahu.supply.w - mix_w) / ((humidified - mix_w) * (1.0 - exp (-1.0))) - 1.0), <,
                     0.01);

  /* Humid summer air, cooled and reheated: the cooling coil condenses what
   * its colder leaving air cannot hold, and the reheat lowers the RH. */
  commands.humidifier_command = 0.0;
  commands.chw_valve_command = 100.0;
  commands.heating_valve_command = 30.0;
  ret = air_at (26.0, 70.0);
  out = air_at (30.0, 70.0);
  kankyo_hvac_ahu_step (p, &ahu, &commands, &ret, &out, 0.0, 40.0 * p->humidifier_tau);
  mix_t = (1.0 - p->outdoor_fraction) * ret.temp + p->outdoor_fraction * out.temp;
  cooled = mix_t - p->coil_effectiveness * (mix_t - p->chilled_water_temp);
  g_assert_cmpfloat_with_epsilon (
      ahu.supply.temp, cooled + 0.3 * p->coil_effectiveness * (p->heating_water_temp - cooled), 1e-6);
  g_assert_cmpfloat_with_epsilon (ahu.supply.w, kankyo_hvac_humidity_ratio (cooled, 100.0), 1e-9);
  g_assert_cmpfloat (kankyo_hvac_relative_humidity (ahu.supply.temp, ahu.supply.w), <, 80.0);

  /* Dust collects at airflow x concentration. */
  ahu.filter_dust = 0.0;
  kankyo_hvac_ahu_step (p, &ahu, &commands, &ret, &out, 2e-8, 1000.0);
  g_assert_cmpfloat_with_epsilon (ahu.filter_dust, p->nominal_flow * 2e-8 * 1000.0, 1e-12);
  g_assert_cmpfloat (kankyo_hvac_ahu_filter_dp (p, &ahu), >, p->filter.dp_clean);
}

/* The built-in loops hold a new supply temperature and a new humidity, in
 * split range, with the whole suite responding. */
static void
test_ahu_loops (void)
{
  const KankyoHvacSuiteParams *s = kankyo_hvac_demo_suite ();
  KankyoHvacAhuCommands commands;
  KankyoHvacSuite suite;
  g_autoptr (GError) error = NULL;
  KankyoHvacAir ret;

  kankyo_hvac_ahu_commands_init (&commands);
  g_assert_true (kankyo_hvac_suite_init (&suite, s, &commands, &error));
  g_assert_no_error (error);
  g_assert_cmpfloat_with_epsilon (suite.ahu.supply.temp, commands.supply_temp_setpoint, 0.01);
  ret = kankyo_hvac_suite_return_air (&suite);
  g_assert_cmpfloat_with_epsilon (kankyo_hvac_relative_humidity (ret.temp, ret.w), commands.rh_setpoint, 0.1);
  /* The rooms sit in their design band. */
  for (guint i = 0; i < s->n_rooms; i++)
    g_assert_cmpfloat_with_epsilon (suite.temp[i], 21.0, 1.0);

  commands.supply_temp_setpoint = 17.0;
  commands.rh_setpoint = 50.0;
  for (int t = 0; t < 2 * 3600; t++)
    {
      g_assert_true (kankyo_hvac_suite_step (&suite, &commands, 1.0, &error));
      g_assert_true (suite.ahu.chw_valve == 0.0 || suite.ahu.heating_valve == 0.0);
      if (t == 300)
        g_assert_cmpfloat_with_epsilon (suite.ahu.supply.temp, 17.0, 0.1);
    }
  ret = kankyo_hvac_suite_return_air (&suite);
  g_test_message (
      "after 2 h: supply %.2f degC, return %.2f %%RH, valves cool %.1f heat %.1f humidifier %.1f %%",
      suite.ahu.supply.temp, kankyo_hvac_relative_humidity (ret.temp, ret.w), suite.ahu.chw_valve,
      suite.ahu.heating_valve, suite.ahu.humidifier);
  g_assert_cmpfloat_with_epsilon (suite.ahu.supply.temp, 17.0, 0.01);
  g_assert_cmpfloat_with_epsilon (kankyo_hvac_relative_humidity (ret.temp, ret.w), 50.0, 0.5);
  g_assert_cmpfloat (suite.ahu.chw_valve, >, 0.0);

  /* A slow ramp up to a heating demand moves the split range through the
   * point where both valves are shut, never one where both are open. */
  for (int t = 0; t < 1400; t++)
    {
      commands.supply_temp_setpoint = MIN (24.0, 17.0 + t * 0.01);
      g_assert_true (kankyo_hvac_suite_step (&suite, &commands, 1.0, &error));
      g_assert_true (suite.ahu.chw_valve == 0.0 || suite.ahu.heating_valve == 0.0);
    }
  g_assert_cmpfloat (suite.ahu.heating_valve, >, 0.0);
  g_assert_cmpfloat (suite.ahu.chw_valve, ==, 0.0);
  g_assert_cmpfloat_with_epsilon (suite.ahu.supply.temp, 24.0, 0.1);
}

/* Night setback halves the airflow but keeps the cascade. */
static void
test_suite_night_setback (void)
{
  const KankyoHvacSuiteParams *s = kankyo_hvac_demo_suite ();
  KankyoHvacAhuCommands commands;
  KankyoHvacSuite suite;
  g_autoptr (GError) error = NULL;

  kankyo_hvac_ahu_commands_init (&commands);
  g_assert_true (kankyo_hvac_suite_init (&suite, s, &commands, &error));
  commands.mode = KANKYO_HVAC_AHU_NIGHT_SETBACK;
  g_assert_true (kankyo_hvac_suite_step (&suite, &commands, 1800.0, &error));
  g_assert_cmpfloat_with_epsilon (kankyo_hvac_ahu_airflow (&s->ahu, &suite.ahu), s->ahu.nominal_flow / 2.0,
                                  1e-6);
  g_assert_cmpfloat_with_epsilon (suite.pressure[KANKYO_HVAC_DEMO_FILL], 45.0, 0.5);
  g_assert_cmpfloat_with_epsilon (suite.pressure[KANKYO_HVAC_DEMO_CORRIDOR], 30.0, 0.5);
  g_assert_cmpfloat_with_epsilon (suite.pressure[KANKYO_HVAC_DEMO_GOWNING], 15.0, 0.5);

  /* The return duct mixes the rooms by their design return flows. */
  {
    double sum = 0.0, weights = 0.0;
    KankyoHvacAir mixed;

    for (guint i = 0; i < s->n_rooms; i++)
      {
        suite.temp[i] = 18.0 + 3.0 * i;
        sum += (s->rooms[i].supply_flow - s->rooms[i].offset_flow) * suite.temp[i];
        weights += s->rooms[i].supply_flow - s->rooms[i].offset_flow;
      }
    mixed = kankyo_hvac_suite_return_air (&suite);
    g_assert_cmpfloat_with_epsilon (mixed.temp, sum / weights, 1e-12);
  }

  /* Off: no supply, no offset, no cascade. */
  commands.mode = KANKYO_HVAC_AHU_OFF;
  g_assert_true (kankyo_hvac_suite_step (&suite, &commands, 600.0, &error));
  for (guint i = 0; i < s->n_rooms; i++)
    g_assert_cmpfloat (fabs (suite.pressure[i]), <, 0.01);
}

static void
test_suite_invalid (void)
{
  KankyoHvacSuiteParams params = *kankyo_hvac_demo_suite ();
  KankyoHvacAhuCommands commands;
  KankyoHvacSuite suite;
  g_autoptr (GError) error = NULL;

  kankyo_hvac_ahu_commands_init (&commands);
  params.ahu.nominal_flow *= 1.5;
  g_assert_false (kankyo_hvac_suite_init (&suite, &params, &commands, &error));
  g_assert_error (error, KANKYO_HVAC_ERROR, KANKYO_HVAC_ERROR_INVALID);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/hvac/physics/psychrometrics", test_psychrometrics);
  g_test_add_func ("/hvac/physics/room/time-constant", test_room_time_constant);
  g_test_add_func ("/hvac/physics/room/moisture", test_room_moisture);
  g_test_add_func ("/hvac/physics/pressure/cascade", test_pressure_cascade);
  g_test_add_func ("/hvac/physics/pressure/door", test_pressure_door);
  g_test_add_func ("/hvac/physics/pressure/robust", test_pressure_robust);
  g_test_add_func ("/hvac/physics/particles/decay", test_particle_decay);
  g_test_add_func ("/hvac/physics/particles/door", test_particle_door);
  g_test_add_func ("/hvac/physics/particles/classes", test_particle_classes);
  g_test_add_func ("/hvac/physics/poisson/small", test_poisson_small);
  g_test_add_func ("/hvac/physics/poisson/medium", test_poisson_medium);
  g_test_add_func ("/hvac/physics/poisson/large", test_poisson_large);
  g_test_add_func ("/hvac/physics/iso/limits", test_iso_limits);
  g_test_add_func ("/hvac/physics/iso/class", test_iso_class);
  g_test_add_func ("/hvac/physics/filter/service-life", test_filter_service_life);
  g_test_add_func ("/hvac/physics/ahu/fan", test_ahu_fan);
  g_test_add_func ("/hvac/physics/ahu/coils", test_ahu_coils);
  g_test_add_func ("/hvac/physics/ahu/loops", test_ahu_loops);
  g_test_add_func ("/hvac/physics/suite/night-setback", test_suite_night_setback);
  g_test_add_func ("/hvac/physics/suite/invalid", test_suite_invalid);

  return g_test_run ();
}
