/* test-hvac-plant.c: the demo cleanroom suite, as its devices report it.
 *
 * The demo project (data/demo/demo.yaml) is built into a simulator host the
 * way kankyo-sim builds it: each device resolved through the modules, its
 * model created from its simulation: section, served on a free loopback
 * port. Time is advanced with kankyo_sim_host_advance (), and what the plant
 * does is read back from the devices' registers: the pressure cascade on
 * the DP transmitters, its collapse and recovery as the fill room's door
 * opens on its schedule, particle counts that follow the room's
 * concentration and decay at the rate its air changes give, temperatures
 * and humidities at their setpoints, the filter loading over days. The
 * engine polls the counters and computes their ISO class, and writes a new
 * supply temperature over Modbus whose effect on the rooms is checked
 * against the rooms' heat balances integrated here.
 */
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "kankyo-engine.h"
#include "kankyo-hvac-physics.h"
#include "kankyo-modules.h"
#include "kankyo-sim-host.h"

#define CFM (28.316846592e-3 / 60.0) /* m3/s: the counters' sample flow */
#define SAMPLE_TIME 60.0             /* s: the counters' default */

/* The demo's fill door schedule: open from 8 min for 30 s, every 20 min. */
#define FILL_DOOR_OPEN 480.0
#define FILL_DOOR_SHUT 510.0
#define FILL_DOOR_EVERY 1200.0

typedef struct
{
  KankyoProject *project;
  KankyoSimHost *host;
} Plant;

static char *
demo_path (void)
{
  return g_build_filename (g_getenv ("KANKYO_SOURCE_DIR"), "data", "demo", "demo.yaml", NULL);
}

/* As kankyo-sim --project does it. */
static void
plant_init (Plant *plant, double speed)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = demo_path ();

  plant->project = kankyo_project_load (path, &error);
  g_assert_no_error (error);
  plant->host = kankyo_sim_host_new (speed);
  for (guint i = 0; i < plant->project->devices->len; i++)
    {
      const KankyoDeviceConfig *config = g_ptr_array_index (plant->project->devices, i);
      g_autoptr (KankyoDriver) driver = NULL;
      g_autoptr (KankyoDeviceType) type = NULL;
      g_autoptr (GPtrArray) specs = NULL;
      g_autoptr (GVariant) params = NULL;
      g_autoptr (KankyoSimModel) model = NULL;
      g_autoptr (KankyoEndpoint) endpoint = kankyo_endpoint_parse ("tcp://127.0.0.1:0", &error);

      g_assert_no_error (error);
      g_assert_null (config->endpoint); /* every demo device is simulated */
      g_assert_true (kankyo_modules_resolve_device (config, &driver, &type, &specs, &params, &error));
      g_assert_no_error (error);
      g_assert_nonnull (type);
      model = kankyo_device_type_create_model (type, params, &error);
      g_assert_no_error (error);
      g_assert_nonnull (model);
      g_assert_cmpuint (kankyo_sim_host_add (plant->host, config->name, specs, model, driver, endpoint,
                                             config->unit_id, &error),
                        ==, i);
      g_assert_no_error (error);
    }
}

static void
plant_clear (Plant *plant)
{
  g_clear_pointer (&plant->host, kankyo_sim_host_free);
  g_clear_pointer (&plant->project, kankyo_project_free);
}

static guint
device (Plant *plant, const char *name)
{
  for (guint i = 0; i < kankyo_sim_host_get_n_devices (plant->host); i++)
    if (g_str_equal (kankyo_sim_host_get_name (plant->host, i), name))
      return i;
  g_error ("the demo has no device %s", name);
}

/* A tag decoded from the device's registers. */
static double
reg (Plant *plant, const char *name, const char *tag)
{
  double v = kankyo_sim_host_get_value (plant->host, device (plant, name), tag);

  g_assert_false (isnan (v) && !g_str_equal (tag, "dew_point"));
  return v;
}

/* Simulated time the host has reached: the fill door's signal is published
 * by the AHU, the clock is the host's. Tests keep their own count. */
static double
advance (Plant *plant, double now, double until, double step)
{
  if (until > now)
    kankyo_sim_host_advance (plant->host, until - now, step);
  return MAX (now, until);
}

/* ---- the cascade and the fill door ---- */

static void
test_cascade (void)
{
  Plant plant = { 0 };
  double t = 0.0;

  plant_init (&plant, 1.0);
  /* No door opens in the first two minutes. */
  for (int i = 0; i < 60; i++)
    {
      double fill_corridor = reg (&plant, "dp_fill", "pressure_a");
      double fill_outside = reg (&plant, "dp_fill", "pressure_b");
      double corridor_gowning = reg (&plant, "dp_gowning", "pressure_a");
      double gowning_outside = reg (&plant, "dp_gowning", "pressure_b");

      /* Whole pascals with a 0.2 Pa scatter. */
      g_assert_cmpfloat_with_epsilon (gowning_outside, 15.0, 1.0);
      g_assert_cmpfloat_with_epsilon (corridor_gowning + gowning_outside, 30.0, 1.5);
      g_assert_cmpfloat_with_epsilon (fill_outside, 45.0, 1.0);
      g_assert_cmpfloat_with_epsilon (fill_corridor, 15.0, 1.0);
      if (i == 0)
        g_test_message ("cascade against outside: gowning %+.0f, corridor %+.0f, fill %+.0f Pa",
                        gowning_outside, corridor_gowning + gowning_outside, fill_outside);
      t = advance (&plant, t, t + 1.0, 0.1);
    }
  plant_clear (&plant);
}

static void
test_fill_door (void)
{
  Plant plant = { 0 };
  double t = 0.0, lowest = INFINITY, fill_during = INFINITY, recovered = NAN;

  plant_init (&plant, 1.0);
  t = advance (&plant, t, FILL_DOOR_OPEN - 5.0, 0.5);
  g_assert_cmpfloat_with_epsilon (reg (&plant, "dp_fill", "pressure_a"), 15.0, 1.0);
  g_assert_cmpfloat (kankyo_sim_host_get_signal (plant.host, "door.fill.open"), ==, 0.0);

  /* Through the door's 30 s and 10 s beyond, in the physics thread's steps. */
  while (t < FILL_DOOR_SHUT + 10.0)
    {
      double a, b;

      t = advance (&plant, t, t + 0.1, 0.1);
      a = reg (&plant, "dp_fill", "pressure_a");
      b = reg (&plant, "dp_fill", "pressure_b");
      if (t > FILL_DOOR_OPEN + 1.0 && t < FILL_DOOR_SHUT - 0.1)
        {
          g_assert_cmpfloat (kankyo_sim_host_get_signal (plant.host, "door.fill.open"), ==, 1.0);
          /* The cascade between fill and corridor is lost at once. */
          g_assert_cmpfloat (a, <, 5.0);
          lowest = MIN (lowest, a);
          fill_during = MIN (fill_during, b);
        }
      if (t > FILL_DOOR_SHUT + 0.05 && isnan (recovered) && a >= 14.0 && b > 40.0)
        recovered = t - FILL_DOOR_SHUT;
    }
  g_assert_cmpfloat (kankyo_sim_host_get_signal (plant.host, "door.fill.open"), ==, 0.0);
  g_test_message ("fill door open: fill-corridor down to %.0f Pa, fill-outside %.0f Pa; "
                  "back to >= 14 / > 40 Pa %.1f s after it shut",
                  lowest, fill_during, recovered);
  g_assert_cmpfloat (fill_during, <, 40.0);
  /* The room pressures settle in well under a second; the reading follows
   * within the next step. */
  g_assert_false (isnan (recovered));
  g_assert_cmpfloat (recovered, <=, 2.0);
  g_assert_cmpfloat_with_epsilon (reg (&plant, "dp_fill", "pressure_a"), 15.0, 1.0);
  g_assert_cmpfloat_with_epsilon (reg (&plant, "dp_fill", "pressure_b"), 45.0, 1.0);
  plant_clear (&plant);
}

/* ---- particles ---- */

typedef struct
{
  double end;     /* simulated time the record was stored */
  double count05; /* count_0_5um */
  double count03; /* count_0_3um */
  double mean05;  /* what it should be on average, from the room's concentration */
} Record;

/* Every record of a counter over @hours, with the mean count the room's
 * published concentration gives for it. */
static GArray *
collect_records (Plant *plant, const char *counter, const char *room_signal, double hours, double *ret_steady)
{
  GArray *records = g_array_new (FALSE, TRUE, sizeof (Record));
  double t = 0.0, integral = 0.0, last_stamp = reg (plant, counter, "timestamp");
  double steady = kankyo_sim_host_get_signal (plant->host, room_signal);

  *ret_steady = steady;
  while (t < hours * 3600.0)
    {
      double stamp;

      /* The counter integrates the concentration the AHU published in the
       * same step, held over the step: so does this. */
      t = advance (plant, t, t + 1.0, 1.0);
      integral += kankyo_sim_host_get_signal (plant->host, room_signal) * 1.0;
      stamp = reg (plant, counter, "timestamp");
      if (stamp != last_stamp)
        {
          Record r = { t, reg (plant, counter, "count_0_5um"), reg (plant, counter, "count_0_3um"),
                       integral * CFM };

          g_assert_cmpfloat (stamp - last_stamp, ==, SAMPLE_TIME);
          g_assert_true (reg (plant, counter, "new_data"));
          g_array_append_val (records, r);
          last_stamp = stamp;
          integral = 0.0;
        }
    }
  return records;
}

/* The counts are Poisson about the mean the room's concentration gives:
 * every record within 5 standard deviations, and the scatter of all of
 * them that of a Poisson variable (chi-square within 5 of its own standard
 * deviations). */
static void
check_counts (GArray *records, const char *what)
{
  double chi2 = 0.0;

  for (guint i = 0; i < records->len; i++)
    {
      const Record *r = &g_array_index (records, Record, i);

      g_assert_cmpfloat (fabs (r->count05 - r->mean05), <, 5.0 * sqrt (r->mean05) + 2.0);
      g_assert_cmpfloat (r->count03, >=, r->count05);
      chi2 += (r->count05 - r->mean05) * (r->count05 - r->mean05) / r->mean05;
    }
  g_test_message ("%s: %u records, chi-square %.0f for %u", what, records->len, chi2, records->len);
  g_assert_cmpfloat (fabs (chi2 - records->len), <, 5.0 * sqrt (2.0 * records->len));
}

/* After the fill door shuts, the particles it let in are flushed at the
 * fill room's 60 air changes an hour: the concentration's excess falls by
 * e each minute, and so does the excess in the counts of the minute-long
 * samples that follow. One door opening brings in a few counts per sample,
 * so the counts of twelve hours of door openings are summed. */
static void
test_particle_decay (void)
{
  const KankyoHvacRoom *fill = &kankyo_hvac_demo_suite ()->rooms[KANKYO_HVAC_DEMO_FILL];
  double n = fill->supply_flow / fill->volume; /* 1/s */
  Plant plant = { 0 };
  g_autoptr (GArray) records = NULL;
  double t = 0.0, steady, at_close, excess1 = 0.0, excess2 = 0.0, expected1 = 0.0, expected2 = 0.0, sum = 0.0;
  double volume = SAMPLE_TIME * CFM;

  plant_init (&plant, 1.0);
  /* The concentration itself, second by second after the first closing. */
  steady = kankyo_sim_host_get_signal (plant.host, "room.fill.particles");
  t = advance (&plant, t, FILL_DOOR_SHUT, 1.0);
  at_close = kankyo_sim_host_get_signal (plant.host, "room.fill.particles") - steady;
  g_assert_cmpfloat (at_close, >, 0.2 * steady);
  for (int s = 1; s <= 300; s++)
    {
      t = advance (&plant, t, FILL_DOOR_SHUT + s, 1.0);
      if (s % 60 == 0)
        {
          double excess = kankyo_sim_host_get_signal (plant.host, "room.fill.particles") - steady;

          g_assert_cmpfloat (fabs (excess / (at_close * exp (-n * s)) - 1.0), <, 0.01);
        }
    }
  g_test_message ("fill room: %.0f /m3 steady, %.0f /m3 more as the door shut, falling by e every %.0f s",
                  steady, at_close, 1.0 / n);
  plant_clear (&plant);

  /* The counts, from a fresh start. The counter's samples end on whole
   * minutes and the door shuts half a minute into one, so the two samples
   * after it start 30 s and 90 s after the closing. */
  plant_init (&plant, 1.0);
  records = collect_records (&plant, "pc_fill", "room.fill.particles", 12.0, &steady);
  check_counts (records, "pc_fill");
  for (guint i = 0; i < records->len; i++)
    {
      const Record *r = &g_array_index (records, Record, i);
      double since = fmod (r->end - FILL_DOOR_SHUT + 10 * FILL_DOOR_EVERY, FILL_DOOR_EVERY);
      double baseline = steady * volume * pow (0.5 / 0.3, 2.08);

      /* The 0.3 um channel counts every particle of the 0.5 um one and
       * more, which makes the excess stand out further above the scatter. */
      if (fabs (since - 90.0) < 0.5)
        {
          excess1 += r->count03 - baseline;
          expected1 += (r->mean05 - steady * volume) * pow (0.5 / 0.3, 2.08);
          sum += r->count03;
        }
      else if (fabs (since - 150.0) < 0.5)
        {
          excess2 += r->count03 - baseline;
          expected2 += (r->mean05 - steady * volume) * pow (0.5 / 0.3, 2.08);
        }
    }
  g_test_message (
      "pc_fill >= 0.3 um, 36 door openings: %.0f counts over the steady level in the first sample "
      "after the door shut (expected %.1f), %.0f in the second (expected %.1f): ratio %.2f, "
      "exp(-60 s x n) = %.2f",
      excess1, expected1, excess2, expected2, excess2 / excess1, exp (-60.0 * n));
  /* The excursion shows in the counts, five standard deviations clear of
   * their scatter... */
  g_assert_cmpfloat (excess1, >, 5.0 * sqrt (sum));
  /* ...and falls as the air changes say: 30 air changes an hour would give
   * 0.61, 120 would give 0.14. */
  g_assert_cmpfloat_with_epsilon (excess2 / excess1, exp (-60.0 * n), 0.12);
  g_assert_cmpfloat_with_epsilon (expected2 / expected1, exp (-60.0 * n), 0.02);
  plant_clear (&plant);
}

static void
test_corridor_counts (void)
{
  Plant plant = { 0 };
  g_autoptr (GArray) records = NULL;
  double steady;

  plant_init (&plant, 1.0);
  records = collect_records (&plant, "pc_corridor", "room.corridor.particles", 2.0, &steady);
  check_counts (records, "pc_corridor");
  plant_clear (&plant);
}

/* ---- temperature and humidity ---- */

static void
test_climate (void)
{
  static const char *const rooms[] = { "th_fill", "th_corridor", "th_gowning" };
  Plant plant = { 0 };
  double t = 0.0;

  plant_init (&plant, 1.0);
  for (int minute = 0; minute <= 60; minute++)
    {
      g_assert_cmpfloat_with_epsilon (reg (&plant, "ahu1", "supply_temp"), 19.5, 0.1);
      g_assert_cmpfloat_with_epsilon (reg (&plant, "ahu1", "return_rh"), 45.0, 0.5);
      for (guint i = 0; i < G_N_ELEMENTS (rooms); i++)
        {
          double temp = reg (&plant, rooms[i], "temperature");
          double rh = reg (&plant, rooms[i], "humidity");

          if (minute == 0)
            g_test_message ("%s: %.2f degC, %.1f %%RH, dew point %.2f degC", rooms[i], temp, rh,
                            reg (&plant, rooms[i], "dew_point"));
          /* The design band: 21 +-0.5 degC, 45 +-2 %RH (doors included). */
          g_assert_cmpfloat_with_epsilon (temp, 21.0, 0.5);
          g_assert_cmpfloat_with_epsilon (rh, 45.0, 2.0);
          g_assert_cmpfloat_with_epsilon (reg (&plant, rooms[i], "dew_point"),
                                          kankyo_hvac_dew_point (temp, rh), 0.01);
          /* The 16-bit copies hold the same reading in hundredths. */
          g_assert_cmpfloat_with_epsilon (reg (&plant, rooms[i], "temperature_int"), temp, 0.006);
          g_assert_cmpfloat_with_epsilon (reg (&plant, rooms[i], "humidity_int"), rh, 0.006);
          g_assert_cmpfloat_with_epsilon (reg (&plant, rooms[i], "test_float"), -123.45, 1e-4);
          g_assert_cmpfloat_with_epsilon (reg (&plant, rooms[i], "test_int"), -123.45, 1e-9);
        }
      t = advance (&plant, t, t + 60.0, 1.0);
    }
  plant_clear (&plant);
}

/* ---- the filter ---- */

static void
test_filter (void)
{
  const KankyoHvacFilter *f = &kankyo_hvac_demo_suite ()->ahu.filter;
  Plant plant = { 0 };
  double t = 0.0, start = NAN;
  gint64 begin = g_get_monotonic_time ();

  plant_init (&plant, 1.0);
  /* The demo starts half-way through the filter's life. */
  start = reg (&plant, "ahu1", "filter_dp");
  g_assert_cmpfloat (start, ==, 180.0);
  for (int day = 1; day <= 20; day++)
    {
      double expected = f->dp_clean * (1.5 + day * 86400.0 / f->service_life);

      t = advance (&plant, t, day * 86400.0, 3600.0);
      /* Whole pascals. */
      g_assert_cmpfloat_with_epsilon (reg (&plant, "ahu1", "filter_dp"), expected, 0.51);
    }
  g_test_message ("filter: %.0f Pa at the start, %.0f Pa after 20 days (%.1f s to simulate)", start,
                  reg (&plant, "ahu1", "filter_dp"), (g_get_monotonic_time () - begin) / 1e6);
  plant_clear (&plant);
}

/* ---- through the engine ---- */

typedef struct
{
  gboolean done;
  gboolean ok;
  KankyoValue readback;
  GError *error;
} WriteResult;

static void
write_done (GObject *source, GAsyncResult *result, gpointer data)
{
  WriteResult *r = data;

  r->ok = kankyo_engine_write_finish (KANKYO_ENGINE (source), result, &r->readback, &r->error);
  r->done = TRUE;
}

static double
engine_value (KankyoEngine *engine, const char *tag, guint limit_ms)
{
  KankyoTagStore *store = kankyo_engine_get_tag_store (engine);
  gint id = kankyo_tag_store_lookup (store, tag);
  gint64 start = g_get_monotonic_time ();

  g_assert_cmpint (id, >=, 0);
  while (g_get_monotonic_time () - start < (gint64) limit_ms * 1000)
    {
      KankyoTagSample s;
      double v;
      KankyoQuality q;

      kankyo_tag_store_get (store, (guint) id, &s);
      q = s.quality;
      v = kankyo_value_to_double (&s.value);
      kankyo_tag_sample_clear (&s);
      if (q == KANKYO_QUALITY_GOOD)
        return v;
      g_main_context_iteration (NULL, FALSE);
      g_usleep (10000);
    }
  return NAN;
}

static guint16
port_of (Plant *plant, const char *name)
{
  g_autofree char *where = kankyo_sim_host_get_endpoint (plant->host, device (plant, name));

  return (guint16) atoi (strrchr (where, ':') + 1);
}

/* The room's heat balance C dT/dt = Q + UA (T_amb - T) + m cp (T_sup - T),
 * by explicit Euler in 0.1 s steps, with the supply temperature as the AHU
 * reports it in each second. */
static double
room_step (const KankyoHvacRoom *room, double temp, double supply, double ambient)
{
  double m_cp = room->supply_flow * KANKYO_HVAC_AIR_DENSITY * KANKYO_HVAC_AIR_CP;

  for (int i = 0; i < 10; i++)
    temp += 0.1 / room->heat_capacity
            * (room->heat_gain + room->ua * (ambient - temp) + m_cp * (supply - temp));
  return temp;
}

static void
test_engine (void)
{
  static const struct
  {
    const char *device;
    guint room;
  } rooms[] = {
    { "th_fill", KANKYO_HVAC_DEMO_FILL },
    { "th_corridor", KANKYO_HVAC_DEMO_CORRIDOR },
    { "th_gowning", KANKYO_HVAC_DEMO_GOWNING },
  };
  const KankyoHvacSuiteParams *suite = kankyo_hvac_demo_suite ();
  Plant plant = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("kankyo-hvac-XXXXXX", &error);
  g_autofree char *project_path = NULL;
  g_autofree char *text = NULL;
  g_autoptr (KankyoEngine) engine = NULL;
  g_autoptr (GDir) listing = NULL;
  KankyoProject *project;
  WriteResult w = { 0 };
  double iso_fill, iso_corridor, temp[G_N_ELEMENTS (rooms)], tau[G_N_ELEMENTS (rooms)];
  double start[G_N_ELEMENTS (rooms)], at_tau[G_N_ELEMENTS (rooms)], model_at_tau[G_N_ELEMENTS (rooms)];
  double t = 0.0, setpoint = 18.0;
  const char *name;

  g_assert_no_error (error);
  /* Served over Modbus, with time moved only by this test. */
  plant_init (&plant, 1e-9);
  g_assert_true (kankyo_sim_host_start (plant.host, &error));
  g_assert_no_error (error);

  text = g_strdup_printf ("project: HVAC plant test\n"
                          "areas:\n"
                          "  - name: suite\n"
                          "    devices:\n"
                          "      - name: ahu1\n"
                          "        type: hvac.ahu\n"
                          "        endpoint: tcp://127.0.0.1:%u\n"
                          "        poll-period: 100ms\n"
                          "      - name: pc_fill\n"
                          "        type: hvac.particle\n"
                          "        endpoint: tcp://127.0.0.1:%u\n"
                          "        poll-period: 100ms\n"
                          "      - name: pc_corridor\n"
                          "        type: hvac.particle\n"
                          "        endpoint: tcp://127.0.0.1:%u\n"
                          "        poll-period: 100ms\n",
                          port_of (&plant, "ahu1"), port_of (&plant, "pc_fill"),
                          port_of (&plant, "pc_corridor"));
  project_path = g_build_filename (dir, "plant.yaml", NULL);
  g_assert_true (g_file_set_contents (project_path, text, -1, NULL));
  project = kankyo_project_load (project_path, &error);
  g_assert_no_error (error);
  engine = kankyo_engine_new (project, dir, &error);
  g_assert_no_error (error);
  g_assert_true (kankyo_engine_start (engine, &error));
  g_assert_no_error (error);

  /* The counters' class, computed by the plugin after the engine's poll. */
  iso_fill = engine_value (engine, "pc_fill.iso_class", 5000);
  iso_corridor = engine_value (engine, "pc_corridor.iso_class", 5000);
  g_test_message ("ISO class of the last sample: fill %.1f (%.0f counts >= 0.5 um), corridor %.1f (%.0f)",
                  iso_fill, reg (&plant, "pc_fill", "count_0_5um"), iso_corridor,
                  reg (&plant, "pc_corridor", "count_0_5um"));
  g_assert_cmpfloat (iso_fill, <=, 5.0);
  g_assert_cmpfloat (iso_corridor, <=, 7.0);
  /* No better than the 0.5 um channel alone says. */
  g_assert_cmpfloat (iso_fill, >=,
                     kankyo_hvac_iso_class (reg (&plant, "pc_fill", "count_0_5um") / (60 * CFM), 0.5));
  g_assert_cmpfloat (iso_corridor, >=,
                     kankyo_hvac_iso_class (reg (&plant, "pc_corridor", "count_0_5um") / (60 * CFM), 0.5));

  /* A new supply temperature, through the one write path. */
  kankyo_engine_write_async (engine, "ahu1.supply_temp_setpoint", "18", "hvac-test", "setpoint step test",
                             NULL, write_done, &w);
  while (!w.done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_no_error (w.error);
  g_assert_true (w.ok);
  g_assert_cmpfloat (kankyo_value_to_double (&w.readback), ==, setpoint);
  kankyo_value_clear (&w.readback);
  g_assert_cmpfloat (reg (&plant, "ahu1", "supply_temp_setpoint"), ==, setpoint);

  for (guint i = 0; i < G_N_ELEMENTS (rooms); i++)
    {
      const KankyoHvacRoom *room = &suite->rooms[rooms[i].room];

      temp[i] = start[i] = reg (&plant, rooms[i].device, "temperature");
      tau[i] = room->heat_capacity
               / (room->ua + room->supply_flow * KANKYO_HVAC_AIR_DENSITY * KANKYO_HVAC_AIR_CP);
    }
  /* Five time constants of the slowest room. */
  while (t < 5.0 * tau[2])
    {
      double supply;

      t = advance (&plant, t, t + 1.0, 1.0);
      supply = reg (&plant, "ahu1", "supply_temp");
      for (guint i = 0; i < G_N_ELEMENTS (rooms); i++)
        {
          double measured;

          temp[i] = room_step (&suite->rooms[rooms[i].room], temp[i], supply, suite->ambient_temp);
          if (t == round (tau[i]))
            {
              at_tau[i] = reg (&plant, rooms[i].device, "temperature");
              model_at_tau[i] = temp[i];
            }
          if (fmod (t, 60.0) != 0.0)
            continue;
          /* Every minute the room follows its own heat balance, driven by
           * the supply air the AHU reports. */
          measured = reg (&plant, rooms[i].device, "temperature");
          g_assert_cmpfloat_with_epsilon (measured, temp[i], 0.1);
        }
      if (t == 180.0)
        g_assert_cmpfloat_with_epsilon (supply, setpoint, 0.1);
    }
  for (guint i = 0; i < G_N_ELEMENTS (rooms); i++)
    {
      const KankyoHvacRoom *room = &suite->rooms[rooms[i].room];
      double m_cp = room->supply_flow * KANKYO_HVAC_AIR_DENSITY * KANKYO_HVAC_AIR_CP;
      double steady
          = (room->heat_gain + room->ua * suite->ambient_temp + m_cp * setpoint) / (room->ua + m_cp);

      double fraction = (at_tau[i] - start[i]) / (steady - start[i]);

      g_test_message (
          "%s: %.2f degC, time constant %.0f s; after one time constant %.2f degC, %.0f %% of the "
          "way (its heat balance driven by the supply air the AHU reports: %.0f %%; a first-order "
          "lag: %.0f %%); %.2f degC after %.0f s, steady state %.2f degC",
          rooms[i].device, start[i], tau[i], at_tau[i], 100.0 * fraction,
          100.0 * (model_at_tau[i] - start[i]) / (steady - start[i]), 100.0 * (1.0 - exp (-1.0)),
          reg (&plant, rooms[i].device, "temperature"), t, steady);
      /* A first-order lag: 63 % of the way after one time constant. The
       * supply air takes a minute to reach its new setpoint and then
       * undershoots it by a few hundredths of a kelvin for a while, which
       * moves this by a few percent either way. */
      g_assert_cmpfloat_with_epsilon (fraction, 1.0 - exp (-1.0), 0.05);
      g_assert_cmpfloat_with_epsilon (reg (&plant, rooms[i].device, "temperature"), steady,
                                      0.1 + 1.5 * exp (-t / tau[i]));
    }

  kankyo_engine_stop (engine);
  plant_clear (&plant);
  listing = g_dir_open (dir, 0, NULL);
  while (listing != NULL && (name = g_dir_read_name (listing)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      g_unlink (path);
    }
  g_rmdir (dir);
}

/* ---- parameters and computed tags ---- */

/* The first device of a one-device project, its model created from its
 * simulation: section as the project parser delivers it. */
static KankyoSimModel *
model_from_yaml (const char *type_id, const char *simulation, GError **error)
{
  g_autofree char *text = g_strdup_printf ("project: Parameters\n"
                                           "areas:\n"
                                           "  - name: a\n"
                                           "    devices:\n"
                                           "      - name: d\n"
                                           "        type: %s\n"
                                           "        endpoint: simulated\n"
                                           "        simulation:\n%s",
                                           type_id, simulation);
  g_autoptr (GBytes) bytes = g_bytes_new (text, strlen (text));
  g_autoptr (GError) local = NULL;
  g_autoptr (KankyoProject) project = kankyo_project_load_from_bytes (bytes, "params.yaml", NULL, &local);
  g_autoptr (KankyoDriver) driver = NULL;
  g_autoptr (KankyoDeviceType) type = NULL;
  g_autoptr (GPtrArray) specs = NULL;
  g_autoptr (GVariant) params = NULL;

  g_assert_no_error (local);
  g_assert_true (kankyo_modules_resolve_device (g_ptr_array_index (project->devices, 0), &driver, &type,
                                                &specs, &params, &local));
  g_assert_no_error (local);
  return kankyo_device_type_create_model (type, params, error);
}

static void
test_params (void)
{
  static const struct
  {
    const char *type;
    const char *simulation;
    const char *message;
  } bad[] = {
    { "hvac.ahu", "          dors: []\n",
      "simulation: dors: unknown parameter; expected one of: doors, rooms, filter" },
    { "hvac.ahu",
      "          doors:\n            - name: x\n              between: [fill, outside]\n"
      "              every: 10min\n              open-for: 30s\n",
      "simulation: doors.x.between: no door joins fill and outside; the suite's doors: [fill, corridor], "
      "[corridor, gowning], [gowning, outside]" },
    { "hvac.ahu",
      "          doors:\n            - name: x\n              between: [fill, attic]\n"
      "              every: 10min\n              open-for: 30s\n",
      "simulation: doors.x.between: expected one of fill, corridor, gowning, outside, found 'attic'" },
    { "hvac.ahu",
      "          doors:\n            - name: x\n              between: [fill, corridor]\n"
      "              every: 10 minutes\n              open-for: 30s\n",
      "simulation: doors.x.every: expected a duration such as 30s or 12min, from 1s to 24h, found '10 "
      "minutes'" },
    { "hvac.ahu",
      "          doors:\n            - name: x\n              between: [fill, corridor]\n"
      "              every: 30s\n              open-for: 1min\n",
      "simulation: doors.x.open-for: a door that opens every 30s cannot stay open for 1min; expected less "
      "than "
      "every" },
    { "hvac.ahu",
      "          doors:\n            - name: x\n              between: [fill, corridor]\n"
      "              open-for: 30s\n",
      "simulation: doors.x.every: missing; every door needs a name, between, every and open-for" },
    { "hvac.ahu",
      "          doors:\n            - name: x\n              between: [fill, corridor]\n"
      "              every: 2min\n              open-for: 30s\n"
      "            - name: x\n              between: [fill, corridor]\n"
      "              every: 2min\n              open-for: 30s\n",
      "simulation: doors.2.name: a door named 'x' is already scheduled" },
    { "hvac.ahu", "          doors:\n            - fill\n",
      "simulation: doors: expected a list of mappings, one per door" },
    { "hvac.ahu", "          rooms:\n            attic:\n              volume: 10\n",
      "simulation: rooms.attic: no such room; the suite's rooms: fill, corridor, gowning" },
    { "hvac.ahu", "          rooms:\n            fill:\n              volume: 1,5\n",
      "simulation: rooms.fill.volume: expected a number from 1 to 100000, found '1,5'" },
    { "hvac.ahu", "          filter:\n            initial-pressure-drop: 100\n",
      "simulation: filter.initial-pressure-drop: expected a number from 120 to 5000, found '100'" },
    { "hvac.thrh", "          room: attic\n",
      "simulation: room: expected one of fill, corridor, gowning, found 'attic'" },
    { "hvac.particle", "          room: outside\n",
      "simulation: room: expected one of fill, corridor, gowning, found 'outside'" },
    { "hvac.dp", "          a: [fill, fill]\n",
      "simulation: a: expected a list of two different rooms such as [fill, corridor]" },
    { "hvac.dp", "          b: fill\n",
      "simulation: b: expected a list of two different rooms such as [fill, corridor]" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (KankyoSimModel) model = model_from_yaml (bad[i].type, bad[i].simulation, &error);

      g_assert_null (model);
      g_assert_error (error, KANKYO_HVAC_ERROR, KANKYO_HVAC_ERROR_INVALID);
      g_assert_cmpstr (error->message, ==, bad[i].message);
    }

  /* Good ones, including overrides the demo does not use. */
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (KankyoSimModel) model
        = model_from_yaml ("hvac.ahu",
                           "          rooms:\n            fill:\n              heat-gain: 2500.5\n"
                           "              particle-gain: 1000\n"
                           "          filter:\n            clean-pressure-drop: 100\n"
                           "            service-life: 2000h\n",
                           &error);

    g_assert_no_error (error);
    g_assert_nonnull (model);
  }
  /* kankyo-sim --list asks without parameters. */
  {
    static const char *const ids[] = { "hvac.ahu", "hvac.thrh", "hvac.dp", "hvac.particle" };

    for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
      {
        g_autoptr (GError) error = NULL;
        g_autoptr (KankyoDeviceType) type = kankyo_modules_get_device_type (ids[i], &error);
        g_autoptr (KankyoSimModel) model = NULL;

        g_assert_no_error (error);
        model = kankyo_device_type_create_model (type, NULL, &error);
        g_assert_no_error (error);
        g_assert_nonnull (model);
        g_assert_cmpstr (kankyo_device_type_get_id (type), ==, ids[i]);
        /* Only the counter has computed tags. */
        g_assert_true (kankyo_device_type_can_derive (type) == g_str_equal (ids[i], "hvac.particle"));
      }
  }
}

typedef struct
{
  GHashTable *values; /* tag -> double* */
  gboolean set;
  double iso_class;
} FakeTags;

static double
fake_get (gpointer data, const char *tag)
{
  FakeTags *f = data;
  double *v = g_hash_table_lookup (f->values, tag);

  return v ? *v : NAN;
}

static void
fake_set (gpointer data, const char *tag, double value)
{
  FakeTags *f = data;

  g_assert_cmpstr (tag, ==, "iso_class");
  f->set = TRUE;
  f->iso_class = value;
}

static void
fake_put (FakeTags *f, const char *tag, double value)
{
  double *v = g_new (double, 1);

  *v = value;
  g_hash_table_insert (f->values, g_strdup (tag), v);
}

/* The computed class from counts, sample time and timestamp as the engine
 * would hand them over; NAN for a tag without a usable value. */
static gboolean
derive (
    double c03, double c05, double c10, double c50, double sample_time, double timestamp, double *ret_class)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (KankyoDeviceType) type = kankyo_modules_get_device_type ("hvac.particle", &error);
  FakeTags f = { g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free), FALSE, NAN };
  KankyoTagIo io = { &f, fake_get, fake_set };

  g_assert_no_error (error);
  fake_put (&f, "count_0_3um", c03);
  fake_put (&f, "count_0_5um", c05);
  fake_put (&f, "count_1_0um", c10);
  fake_put (&f, "count_5_0um", c50);
  fake_put (&f, "sample_time", sample_time);
  fake_put (&f, "timestamp", timestamp);
  kankyo_device_type_derive (type, &io);
  g_hash_table_unref (f.values);
  *ret_class = f.iso_class;
  return f.set;
}

static void
test_iso_derive (void)
{
  double v = SAMPLE_TIME * CFM, iso;

  /* 99 counts >= 0.5 um in a minute at 1 CFM: 3 496 /m3, ISO 5; the other
   * channels on the class slope. */
  g_assert_true (derive (286, 99, 23, 0, SAMPLE_TIME, 1.7e9, &iso));
  g_assert_cmpfloat (iso, ==, 5.0);
  g_assert_cmpfloat (kankyo_hvac_iso_class (99 / v, 0.5), ==, 5.0);
  /* One more count and the room is worse than ISO 5. */
  g_assert_true (derive (286, 100, 23, 0, SAMPLE_TIME, 1.7e9, &iso));
  g_assert_cmpfloat (iso, ==, 5.1);
  /* Three particles >= 5 um are 106 /m3, ISO 5.6 at that size, but a
   * one-minute sample could not hold 20 at that class's limit: not
   * considered, as ISO 14644-1 does not for ISO 5. */
  g_assert_true (derive (286, 99, 23, 3, SAMPLE_TIME, 1.7e9, &iso));
  g_assert_cmpfloat (iso, ==, 5.0);
  /* A hundred of them are enough to count: the 5 um channel decides. */
  g_assert_true (derive (3000, 2000, 1000, 100, SAMPLE_TIME, 1.7e9, &iso));
  g_assert_cmpfloat_with_epsilon (iso, kankyo_hvac_iso_class (100 / v, 5.0), 1e-9);
  g_assert_cmpfloat (iso, >, kankyo_hvac_iso_class (2000 / v, 0.5));
  /* A longer sample of the same room gives the same class. */
  g_assert_true (derive (286 * 10, 99 * 10, 23 * 10, 0, 10 * SAMPLE_TIME, 1.7e9, &iso));
  g_assert_cmpfloat (iso, ==, 5.0);

  /* Without usable inputs there is no class. */
  g_assert_false (derive (286, NAN, 23, 0, SAMPLE_TIME, 1.7e9, &iso));
  g_assert_false (derive (286, 99, 23, 0, NAN, 1.7e9, &iso));
  g_assert_false (derive (286, 99, 23, 0, 0, 1.7e9, &iso));
  /* A counter that has never stored a record. */
  g_assert_false (derive (0, 0, 0, 0, SAMPLE_TIME, 0, &iso));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  if (g_getenv ("KANKYO_SOURCE_DIR") == NULL)
    {
      g_printerr ("KANKYO_SOURCE_DIR is not set; run through meson test\n");
      return 1;
    }
  kankyo_modules_load ();

  g_test_add_func ("/hvac/plant/cascade", test_cascade);
  g_test_add_func ("/hvac/plant/fill-door", test_fill_door);
  g_test_add_func ("/hvac/plant/particles/decay", test_particle_decay);
  g_test_add_func ("/hvac/plant/particles/corridor", test_corridor_counts);
  g_test_add_func ("/hvac/plant/climate", test_climate);
  g_test_add_func ("/hvac/plant/filter", test_filter);
  g_test_add_func ("/hvac/plant/engine", test_engine);
  g_test_add_func ("/hvac/plant/params", test_params);
  g_test_add_func ("/hvac/plant/iso-derive", test_iso_derive);

  return g_test_run ();
}
