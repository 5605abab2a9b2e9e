/* kankyo-hvac-physics.h: the physics of a cleanroom suite and its air
 * handling unit, as plain functions over plain structs.
 *
 * Everything here is SI inside (K differences in kelvin, temperatures in
 * degC, pressures in Pa, flows in m3/s, humidity as the humidity ratio W in
 * kg water per kg dry air) and depends on GLib and libm only, so the physics
 * is tested without GObject, a plugin loader or a Modbus wire. The device
 * plugin (kankyo-hvac.c) is a thin wrapper that moves tag values in and out.
 *
 * Every function is deterministic given its arguments; the only randomness
 * is the Poisson sampler, which draws from a GRand the caller seeds.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define KANKYO_HVAC_AIR_DENSITY 1.2     /* kg/m3, air at about 20 degC and sea level */
#define KANKYO_HVAC_AIR_CP 1006.0       /* J/(kg K), dry air */
#define KANKYO_HVAC_ATMOSPHERE 101325.0 /* Pa */

#define KANKYO_HVAC_MAX_ROOMS 16
#define KANKYO_HVAC_MAX_PATHS 64
/* The room index that stands for the surroundings of the suite (0 Pa). */
#define KANKYO_HVAC_OUTSIDE (-1)
/* Below this pressure difference a leakage path follows a cubic instead of
 * the square-root law (see kankyo_hvac_leak_flow()). */
#define KANKYO_HVAC_LINEAR_DP 1e-4 /* Pa */
/* The pressure solver stops when no room's flow imbalance exceeds this. */
#define KANKYO_HVAC_FLOW_TOLERANCE 1e-9 /* m3/s */
/* The suite and the AHU advance in steps no longer than this, so the
 * built-in PI loops see a sampling time well below their time constants. */
#define KANKYO_HVAC_MAX_SUBSTEP 1.0 /* s */
/* The longest step kankyo_hvac_suite_step() accepts. */
#define KANKYO_HVAC_MAX_STEP 3600.0 /* s */
/* The largest Poisson mean the sampler accepts. */
#define KANKYO_HVAC_POISSON_MAX_MEAN 1e12

#define KANKYO_HVAC_ERROR (kankyo_hvac_error_quark ())

typedef enum
{
  KANKYO_HVAC_ERROR_INVALID,
  KANKYO_HVAC_ERROR_NO_CONVERGENCE,
} KankyoHvacError;

GQuark kankyo_hvac_error_quark (void);

/* ---- first-order lags ---- */

double kankyo_hvac_first_order_step (double value, double target, double tau, double dt);

/* ---- psychrometrics ---- */

typedef struct
{
  double temp; /* degC */
  double w;    /* kg/kg, humidity ratio */
} KankyoHvacAir;

double kankyo_hvac_saturation_pressure (double temp);
double kankyo_hvac_humidity_ratio (double temp, double rh);
double kankyo_hvac_relative_humidity (double temp, double w);
double kankyo_hvac_dew_point (double temp, double rh);

/* ---- rooms ---- */

typedef struct
{
  const char *name;
  double volume;        /* m3 */
  double heat_capacity; /* J/K: the air, furnishings and the inner layer of the walls */
  double ua;            /* W/K: conduction to the surroundings */
  double heat_gain;     /* W: lights, machines, people */
  double moisture_gain; /* kg/s: people and processes */
  double particle_gain; /* particles >= 0.5 um per second */
  double supply_flow;   /* m3/s at the AHU's nominal airflow */
  double offset_flow;   /* m3/s: supply minus return and exhaust, held by the return damper */
} KankyoHvacRoom;

double kankyo_hvac_room_time_constant (const KankyoHvacRoom *room, double mass_flow);
double kankyo_hvac_room_temperature_step (const KankyoHvacRoom *room,
                                          double temp,
                                          double mass_flow,
                                          double supply_temp,
                                          double ambient_temp,
                                          double dt);
double kankyo_hvac_room_moisture_step (
    const KankyoHvacRoom *room, double w, double mass_flow, double supply_w, double dt);

/* ---- room pressures ---- */

typedef struct
{
  int from;         /* room index or KANKYO_HVAC_OUTSIDE */
  int to;           /* room index or KANKYO_HVAC_OUTSIDE */
  double cd;        /* discharge coefficient */
  double gap_area;  /* m2 open when the door is shut (cracks, undercut, hatches) */
  double door_area; /* m2 added by a fully open door; 0 for a wall */
} KankyoHvacLeakPath;

double kankyo_hvac_leak_flow (double cd, double area, double dp);
double kankyo_hvac_path_flow (const KankyoHvacLeakPath *path, double opening, const double *pressures);
gboolean kankyo_hvac_solve_pressures (const KankyoHvacLeakPath *paths,
                                      const double *openings,
                                      guint n_paths,
                                      const double *net_flows,
                                      guint n_rooms,
                                      double *pressures,
                                      GError **error);

/* ---- particles and ISO 14644-1 ---- */

double
kankyo_hvac_particle_step (double concentration, double generation, double volume, double ach, double dt);
double kankyo_hvac_recovery_time (double ach, double ratio);
double kankyo_hvac_particles_at_size (double concentration_05, double size);
guint64 kankyo_hvac_poisson (GRand *rand, double mean);
double kankyo_hvac_iso_limit (double iso_class, double size);
double kankyo_hvac_iso_class (double concentration, double size);
double kankyo_hvac_iso_class_overall (const double *sizes, const double *concentrations, guint n);

/* ---- filters ---- */

typedef struct
{
  double dp_clean;     /* Pa at the nominal flow */
  double nominal_flow; /* m3/s */
  double nominal_dust; /* kg/m3 of dust the filter catches at design conditions */
  double service_life; /* s until the pressure drop doubles at design conditions */
} KankyoHvacFilter;

double kankyo_hvac_filter_loading_step (double dust_mass, double flow, double dust, double dt);
double kankyo_hvac_filter_dp (const KankyoHvacFilter *filter, double dust_mass, double flow);

/* ---- air handling unit ---- */

typedef enum
{
  KANKYO_HVAC_AHU_OFF = 0,
  KANKYO_HVAC_AHU_OCCUPIED = 1,
  KANKYO_HVAC_AHU_NIGHT_SETBACK = 2,
} KankyoHvacAhuMode;

typedef struct
{
  double nominal_speed;       /* Hz, also the VFD's maximum */
  double nominal_flow;        /* m3/s at the nominal speed */
  double fan_tau;             /* s, run-up time constant */
  double night_fraction;      /* fan speed in night setback, share of the setpoint */
  double coil_tau;            /* s, coil capacity lag behind the valve */
  double coil_effectiveness;  /* temperature effectiveness with the valve fully open */
  double chilled_water_temp;  /* degC */
  double heating_water_temp;  /* degC */
  double humidifier_tau;      /* s */
  double humidifier_capacity; /* kg/s of steam at 100 % */
  double outdoor_fraction;    /* share of outdoor air in the supply */
  double temp_kp;             /* % valve per K */
  double temp_ti;             /* s */
  double rh_kp;               /* % humidifier per %RH */
  double rh_ti;               /* s */
  KankyoHvacFilter filter;
} KankyoHvacAhuParams;

/* What clients write. */
typedef struct
{
  KankyoHvacAhuMode mode;
  gboolean automatic;           /* built-in PI loops drive the valves and the humidifier */
  double fan_speed_setpoint;    /* Hz */
  double supply_temp_setpoint;  /* degC */
  double rh_setpoint;           /* %RH of the return air */
  double chw_valve_command;     /* %, manual */
  double heating_valve_command; /* %, manual */
  double humidifier_command;    /* %, manual */
} KankyoHvacAhuCommands;

/* What the AHU is; zero-initialised it is stopped, cold and clean. */
typedef struct
{
  double fan_speed;     /* Hz */
  double cooling;       /* cooling coil capacity, share of full */
  double heating;       /* heating coil capacity, share of full */
  double humidifying;   /* humidifier output, share of full */
  double chw_valve;     /* % */
  double heating_valve; /* % */
  double humidifier;    /* % */
  double temp_output;   /* PI output, -100 full cooling .. +100 full heating */
  double temp_error;    /* K, the previous error of the velocity-form PI */
  double rh_output;     /* PI output, % humidifier */
  double rh_error;      /* %RH */
  gboolean loops_active;
  double filter_dust; /* kg */
  KankyoHvacAir supply;
} KankyoHvacAhu;

void kankyo_hvac_ahu_commands_init (KankyoHvacAhuCommands *commands);
void kankyo_hvac_ahu_step (const KankyoHvacAhuParams *params,
                           KankyoHvacAhu *ahu,
                           const KankyoHvacAhuCommands *commands,
                           const KankyoHvacAir *return_air,
                           const KankyoHvacAir *outdoor,
                           double dust,
                           double dt);
double kankyo_hvac_ahu_airflow (const KankyoHvacAhuParams *params, const KankyoHvacAhu *ahu);
gboolean kankyo_hvac_ahu_fan_proven (const KankyoHvacAhuParams *params, const KankyoHvacAhu *ahu);
double kankyo_hvac_ahu_filter_dp (const KankyoHvacAhuParams *params, const KankyoHvacAhu *ahu);

/* ---- a suite of rooms on one AHU ---- */

typedef struct
{
  const KankyoHvacRoom *rooms;
  guint n_rooms;
  const KankyoHvacLeakPath *paths;
  guint n_paths;
  KankyoHvacAhuParams ahu;
  double ambient_temp;           /* degC of the surroundings the rooms leak to */
  double ambient_particles;      /* particles >= 0.5 um per m3 in the surroundings */
  double outdoor_temp;           /* degC */
  double outdoor_rh;             /* %RH */
  double dust;                   /* kg/m3 of dust reaching the AHU filter */
  double door_exchange_velocity; /* m/s of two-way exchange through an open door */
} KankyoHvacSuiteParams;

typedef struct
{
  const KankyoHvacSuiteParams *params;
  KankyoHvacAhu ahu;
  double temp[KANKYO_HVAC_MAX_ROOMS];      /* degC */
  double w[KANKYO_HVAC_MAX_ROOMS];         /* kg/kg */
  double particles[KANKYO_HVAC_MAX_ROOMS]; /* >= 0.5 um per m3 */
  double pressure[KANKYO_HVAC_MAX_ROOMS];  /* Pa against the surroundings */
  double supply[KANKYO_HVAC_MAX_ROOMS];    /* m3/s */
  double net_flow[KANKYO_HVAC_MAX_ROOMS];  /* m3/s leaving through the leaks */
  double opening[KANKYO_HVAC_MAX_PATHS];   /* 0 shut .. 1 fully open; the caller sets it */
} KankyoHvacSuite;

gboolean kankyo_hvac_suite_init (KankyoHvacSuite *suite,
                                 const KankyoHvacSuiteParams *params,
                                 const KankyoHvacAhuCommands *commands,
                                 GError **error);
gboolean kankyo_hvac_suite_step (KankyoHvacSuite *suite,
                                 const KankyoHvacAhuCommands *commands,
                                 double dt,
                                 GError **error);
KankyoHvacAir kankyo_hvac_suite_return_air (const KankyoHvacSuite *suite);
double kankyo_hvac_suite_path_flow (const KankyoHvacSuite *suite, guint path);

/* ---- the demo suite ---- */

enum
{
  KANKYO_HVAC_DEMO_FILL,
  KANKYO_HVAC_DEMO_CORRIDOR,
  KANKYO_HVAC_DEMO_GOWNING,
  KANKYO_HVAC_DEMO_N_ROOMS,
};

enum
{
  KANKYO_HVAC_DEMO_FILL_DOOR,     /* fill - corridor */
  KANKYO_HVAC_DEMO_CORRIDOR_DOOR, /* corridor - gowning */
  KANKYO_HVAC_DEMO_GOWNING_DOOR,  /* gowning - surroundings */
  KANKYO_HVAC_DEMO_FILL_ENVELOPE,
  KANKYO_HVAC_DEMO_CORRIDOR_ENVELOPE,
  KANKYO_HVAC_DEMO_GOWNING_ENVELOPE,
  KANKYO_HVAC_DEMO_N_PATHS,
};

const KankyoHvacSuiteParams *kankyo_hvac_demo_suite (void);

G_END_DECLS
