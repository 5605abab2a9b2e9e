/* kankyo-hvac-ahu.c: the air handling unit, and the suite it serves.
 *
 * The AHU device owns the plant: a KankyoHvacSuite (the demo suite unless
 * the project's simulation: section changes its rooms or filter) whose
 * doors open on schedules the project gives. Each step reads what clients
 * wrote to the AHU's holding registers and coil (mode, setpoints, manual
 * commands), advances the suite, reports the unit's own measurements and
 * publishes every room's temperature, humidity, pressure and particle
 * concentration, and every door's state, as plant signals. The transmitters
 * and counters of the suite are separate devices that read those signals,
 * so the AHU must come before them in the project: models step in project
 * order.
 *
 * Parameters (all optional):
 *   doors:   - name: fill                  a name of one's own
 *              between: [corridor, fill]   the two sides of a door of the suite
 *              every: 20min                how often it opens
 *              open-for: 30s               how long it stays open each time
 *              offset: 8min                when it opens first (default 0)
 *   rooms:   fill: {volume: 144, heat-gain: 4000, moisture-gain: 108, particle-gain: 2000}
 *            (m3, W, g/h, particles >= 0.5 um per second)
 *   filter:  {clean-pressure-drop: 120, initial-pressure-drop: 150, service-life: 4320h}
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>

#include "kankyo-hvac-private.h"

#define MAX_DOORS 32

enum
{
  SIGNAL_TEMPERATURE,
  SIGNAL_RH,
  SIGNAL_PRESSURE,
  SIGNAL_PARTICLES,
  N_SIGNALS,
};

static const char *const signal_names[N_SIGNALS] = { "temperature", "rh", "pressure", "particles" };

typedef struct
{
  char *name;
  char *signal; /* "door.NAME.open" */
  guint path;
  double every;    /* s */
  double open_for; /* s */
  double offset;   /* s */
} Door;

typedef struct
{
  KankyoHvacRoom rooms[KANKYO_HVAC_MAX_ROOMS];
  KankyoHvacSuiteParams params;
  KankyoHvacSuite suite;
  KankyoHvacAhuCommands commands;
  Door doors[MAX_DOORS];
  guint n_doors;
  char *signals[KANKYO_HVAC_MAX_ROOMS][N_SIGNALS];
  gboolean failed; /* the pressure solver gave up once; said so once */
} Ahu;

static void
ahu_free (gpointer state)
{
  Ahu *self = state;

  for (guint i = 0; i < self->n_doors; i++)
    {
      g_free (self->doors[i].name);
      g_free (self->doors[i].signal);
    }
  for (guint i = 0; i < KANKYO_HVAC_MAX_ROOMS; i++)
    for (guint k = 0; k < N_SIGNALS; k++)
      g_free (self->signals[i][k]);
  g_free (self);
}

/* ---- parameters ---- */

static const char *
side_name (const KankyoHvacSuiteParams *params, int room)
{
  return room == KANKYO_HVAC_OUTSIDE ? "outside" : params->rooms[room].name;
}

/* The leakage path with a door that joins @a and @b, or G_MAXUINT. */
static guint
find_door_path (const KankyoHvacSuiteParams *params, int a, int b)
{
  for (guint k = 0; k < params->n_paths; k++)
    {
      const KankyoHvacLeakPath *p = &params->paths[k];

      if (p->door_area > 0.0 && ((p->from == a && p->to == b) || (p->from == b && p->to == a)))
        return k;
    }
  return G_MAXUINT;
}

static char *
door_list (const KankyoHvacSuiteParams *params)
{
  GString *s = g_string_new (NULL);

  for (guint k = 0; k < params->n_paths; k++)
    if (params->paths[k].door_area > 0.0)
      g_string_append_printf (s, "%s[%s, %s]", s->len > 0 ? ", " : "",
                              side_name (params, params->paths[k].from),
                              side_name (params, params->paths[k].to));
  return g_string_free (s, FALSE);
}

static gboolean
parse_door (Ahu *self, GVariant *item, guint number, GError **error)
{
  static const char *const known[] = { "name", "between", "every", "open-for", "offset", NULL };
  g_autofree char *item_path = g_strdup_printf ("doors.%u", number);
  g_autofree char *path = NULL;
  const char *name = NULL;
  int between[2] = { KANKYO_HVAC_NO_ROOM, KANKYO_HVAC_NO_ROOM };
  Door door = { 0 };

  if (!g_variant_is_of_type (item, G_VARIANT_TYPE_VARDICT))
    return _kankyo_hvac_params_fail (error, "doors", NULL, _ ("expected a list of mappings, one per door"));
  if (!_kankyo_hvac_params_get_text (item, item_path, "name", &name, error))
    return FALSE;
  if (name == NULL || *name == '\0')
    return _kankyo_hvac_params_fail (error, item_path, "name",
                                     _ ("missing; every door needs a name, between, every and open-for"));
  for (guint i = 0; i < self->n_doors; i++)
    if (g_str_equal (self->doors[i].name, name))
      return _kankyo_hvac_params_fail (error, item_path, "name", _ ("a door named '%s' is already scheduled"),
                                       name);
  /* From here on the door is named by its name, as the project names it. */
  path = g_strdup_printf ("doors.%s", name);
  if (!_kankyo_hvac_params_check_keys (item, path, known, error))
    return FALSE;

  door.every = door.open_for = -1.0;
  if (!_kankyo_hvac_params_get_room_pair (item, path, "between", between, error)
      || !_kankyo_hvac_params_get_duration (item, path, "every", 1.0, 24.0 * 3600.0, &door.every, error)
      || !_kankyo_hvac_params_get_duration (item, path, "open-for", 0.1, 24.0 * 3600.0, &door.open_for, error)
      || !_kankyo_hvac_params_get_duration (item, path, "offset", 0.0, 24.0 * 3600.0, &door.offset, error))
    return FALSE;
  if (between[0] == KANKYO_HVAC_NO_ROOM || door.every < 0.0 || door.open_for < 0.0)
    {
      const char *missing = between[0] == KANKYO_HVAC_NO_ROOM ? "between"
                            : door.every < 0.0                ? "every"
                                                              : "open-for";

      return _kankyo_hvac_params_fail (error, path, missing,
                                       _ ("missing; every door needs a name, between, every and open-for"));
    }
  if (door.open_for >= door.every)
    {
      const char *every = NULL, *open_for = NULL;

      _kankyo_hvac_params_get_text (item, path, "every", &every, NULL);
      _kankyo_hvac_params_get_text (item, path, "open-for", &open_for, NULL);
      return _kankyo_hvac_params_fail (error, path, "open-for",
                                       _ ("a door that opens every %s cannot stay open for %s; "
                                          "expected less than every"),
                                       every, open_for);
    }
  door.path = find_door_path (&self->params, between[0], between[1]);
  if (door.path == G_MAXUINT)
    {
      g_autofree char *doors = door_list (&self->params);

      return _kankyo_hvac_params_fail (
          error, path, "between", _ ("no door joins %s and %s; the suite's doors: %s"),
          side_name (&self->params, between[0]), side_name (&self->params, between[1]), doors);
    }
  door.name = g_strdup (name);
  door.signal = g_strdup_printf ("door.%s.open", name);
  self->doors[self->n_doors++] = door;
  return TRUE;
}

static gboolean
parse_doors (Ahu *self, GVariant *params, GError **error)
{
  g_autoptr (GVariant) list = NULL;
  guint n;

  if (!_kankyo_hvac_params_get_container (params, NULL, "doors", G_VARIANT_TYPE ("av"), &list, error))
    return FALSE;
  if (list == NULL)
    return TRUE;
  n = g_variant_n_children (list);
  if (n > MAX_DOORS)
    return _kankyo_hvac_params_fail (error, NULL, "doors", _ ("expected at most %d doors, found %u"),
                                     MAX_DOORS, n);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (GVariant) boxed = g_variant_get_child_value (list, i);
      g_autoptr (GVariant) item = g_variant_get_variant (boxed);

      if (!parse_door (self, item, i + 1, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
parse_rooms (Ahu *self, GVariant *params, GError **error)
{
  static const char *const known[] = { "volume", "heat-gain", "moisture-gain", "particle-gain", NULL };
  g_autoptr (GVariant) rooms = NULL;
  GVariantIter iter;
  const char *name;
  GVariant *value;

  if (!_kankyo_hvac_params_get_container (params, NULL, "rooms", G_VARIANT_TYPE_VARDICT, &rooms, error))
    return FALSE;
  if (rooms == NULL)
    return TRUE;
  g_variant_iter_init (&iter, rooms);
  while (g_variant_iter_next (&iter, "{&sv}", &name, &value))
    {
      g_autoptr (GVariant) room_params = value;
      g_autofree char *path = g_strdup_printf ("rooms.%s", name);
      int index = _kankyo_hvac_room_index (name, FALSE);
      KankyoHvacRoom *room;
      double moisture;

      if (index == KANKYO_HVAC_NO_ROOM)
        {
          g_autofree char *names = NULL;
          const char *list[KANKYO_HVAC_MAX_ROOMS + 1] = { NULL };

          for (guint i = 0; i < self->params.n_rooms; i++)
            list[i] = self->rooms[i].name;
          names = g_strjoinv (", ", (char **) list);
          return _kankyo_hvac_params_fail (error, "rooms", name, _ ("no such room; the suite's rooms: %s"),
                                           names);
        }
      if (!g_variant_is_of_type (room_params, G_VARIANT_TYPE_VARDICT))
        return _kankyo_hvac_params_fail (error, "rooms", name, _ ("expected a mapping"));
      if (!_kankyo_hvac_params_check_keys (room_params, path, known, error))
        return FALSE;
      room = &self->rooms[index];
      moisture = room->moisture_gain * 3.6e6;
      if (!_kankyo_hvac_params_get_number (room_params, path, "volume", 1.0, 1e5, &room->volume, error)
          || !_kankyo_hvac_params_get_number (room_params, path, "heat-gain", 0.0, 1e6, &room->heat_gain,
                                              error)
          || !_kankyo_hvac_params_get_number (room_params, path, "moisture-gain", 0.0, 1e6, &moisture, error)
          || !_kankyo_hvac_params_get_number (room_params, path, "particle-gain", 0.0, 1e12,
                                              &room->particle_gain, error))
        return FALSE;
      room->moisture_gain = moisture / 3.6e6;
    }
  return TRUE;
}

/* The dust on the filter for a pressure drop at the nominal flow, from
 * dP = dP_clean (1 + m / (c_nom Q_nom t_life)). */
static gboolean
parse_filter (Ahu *self, GVariant *params, double *ret_initial_dust, GError **error)
{
  static const char *const known[] = { "clean-pressure-drop", "initial-pressure-drop", "service-life", NULL };
  KankyoHvacFilter *f = &self->params.ahu.filter;
  g_autoptr (GVariant) filter = NULL;
  double initial = NAN;

  if (!_kankyo_hvac_params_get_container (params, NULL, "filter", G_VARIANT_TYPE_VARDICT, &filter, error))
    return FALSE;
  if (filter == NULL)
    return TRUE;
  if (!_kankyo_hvac_params_check_keys (filter, "filter", known, error)
      || !_kankyo_hvac_params_get_number (filter, "filter", "clean-pressure-drop", 10.0, 1000.0, &f->dp_clean,
                                          error)
      || !_kankyo_hvac_params_get_duration (filter, "filter", "service-life", 3600.0, 10.0 * 365.0 * 86400.0,
                                            &f->service_life, error)
      || !_kankyo_hvac_params_get_number (filter, "filter", "initial-pressure-drop", f->dp_clean, 5000.0,
                                          &initial, error))
    return FALSE;
  if (!isnan (initial))
    *ret_initial_dust = (initial / f->dp_clean - 1.0) * f->nominal_dust * f->nominal_flow * f->service_life;
  return TRUE;
}

static gpointer
ahu_create (GVariant *params, GError **error)
{
  static const char *const known[] = { "doors", "rooms", "filter", NULL };
  const KankyoHvacSuiteParams *demo = kankyo_hvac_demo_suite ();
  g_autoptr (GError) suite_error = NULL;
  Ahu *self = g_new0 (Ahu, 1);
  double initial_dust = 0.0;

  self->params = *demo;
  for (guint i = 0; i < demo->n_rooms; i++)
    self->rooms[i] = demo->rooms[i];
  self->params.rooms = self->rooms;
  kankyo_hvac_ahu_commands_init (&self->commands);

  if (!_kankyo_hvac_params_check_keys (params, NULL, known, error) || !parse_doors (self, params, error)
      || !parse_rooms (self, params, error) || !parse_filter (self, params, &initial_dust, error))
    {
      ahu_free (self);
      return NULL;
    }
  if (!kankyo_hvac_suite_init (&self->suite, &self->params, &self->commands, &suite_error))
    {
      g_set_error (error, KANKYO_HVAC_ERROR, KANKYO_HVAC_ERROR_INVALID,
                   _ ("simulation: the suite cannot run: %s"), suite_error->message);
      ahu_free (self);
      return NULL;
    }
  self->suite.ahu.filter_dust += initial_dust;
  for (guint i = 0; i < self->params.n_rooms; i++)
    for (guint k = 0; k < N_SIGNALS; k++)
      self->signals[i][k] = _kankyo_hvac_room_signal (self->rooms[i].name, signal_names[k]);
  return self;
}

/* ---- doors ---- */

/* The share of [a, b] for which the door is open. */
static double
door_open_fraction (const Door *door, double a, double b)
{
  double open = 0.0;

  if (b <= a)
    return a >= door->offset && fmod (a - door->offset, door->every) < door->open_for ? 1.0 : 0.0;
  for (double k = MAX (floor ((a - door->offset) / door->every), 0.0);; k++)
    {
      double start = door->offset + k * door->every;

      if (start >= b)
        break;
      open += MAX (0.0, MIN (start + door->open_for, b) - MAX (start, a));
    }
  return open / (b - a);
}

/* ---- the model ---- */

static void
read_command (KankyoSimIo *io, const char *tag, double *field)
{
  double v = kankyo_sim_io_get (io, tag);

  if (isfinite (v))
    *field = v;
}

static void
read_commands (Ahu *self, KankyoSimIo *io)
{
  KankyoHvacAhuCommands *c = &self->commands;
  double mode = c->mode, automatic = c->automatic;

  read_command (io, "mode", &mode);
  read_command (io, "automatic", &automatic);
  read_command (io, "fan_speed_setpoint", &c->fan_speed_setpoint);
  read_command (io, "supply_temp_setpoint", &c->supply_temp_setpoint);
  read_command (io, "rh_setpoint", &c->rh_setpoint);
  read_command (io, "chw_valve_command", &c->chw_valve_command);
  read_command (io, "heating_valve_command", &c->heating_valve_command);
  read_command (io, "humidifier_command", &c->humidifier_command);
  /* A mode the controller does not know stops the unit, as the physics'
   * switch does. */
  c->mode = (KankyoHvacAhuMode) CLAMP (mode, 0.0, 3.0);
  c->automatic = automatic != 0.0;
}

static void
publish (Ahu *self, KankyoSimIo *io)
{
  const KankyoHvacSuite *s = &self->suite;
  const KankyoHvacAhuParams *p = &self->params.ahu;
  KankyoHvacAir ret = kankyo_hvac_suite_return_air (s);

  kankyo_sim_io_set (io, "supply_temp", s->ahu.supply.temp);
  kankyo_sim_io_set (io, "supply_rh", kankyo_hvac_relative_humidity (s->ahu.supply.temp, s->ahu.supply.w));
  kankyo_sim_io_set (io, "return_temp", ret.temp);
  kankyo_sim_io_set (io, "return_rh", kankyo_hvac_relative_humidity (ret.temp, ret.w));
  kankyo_sim_io_set (io, "chw_valve", s->ahu.chw_valve);
  kankyo_sim_io_set (io, "heating_valve", s->ahu.heating_valve);
  kankyo_sim_io_set (io, "humidifier", s->ahu.humidifier);
  kankyo_sim_io_set (io, "fan_speed", s->ahu.fan_speed);
  kankyo_sim_io_set (io, "airflow", kankyo_hvac_ahu_airflow (p, &s->ahu) * 3600.0);
  kankyo_sim_io_set (io, "filter_dp", kankyo_hvac_ahu_filter_dp (p, &s->ahu));
  kankyo_sim_io_set (io, "fan_running", kankyo_hvac_ahu_fan_proven (p, &s->ahu));

  for (guint i = 0; i < self->params.n_rooms; i++)
    {
      kankyo_sim_io_set_signal (io, self->signals[i][SIGNAL_TEMPERATURE], s->temp[i]);
      kankyo_sim_io_set_signal (io, self->signals[i][SIGNAL_RH],
                                kankyo_hvac_relative_humidity (s->temp[i], s->w[i]));
      kankyo_sim_io_set_signal (io, self->signals[i][SIGNAL_PRESSURE], s->pressure[i]);
      kankyo_sim_io_set_signal (io, self->signals[i][SIGNAL_PARTICLES], s->particles[i]);
    }
  for (guint d = 0; d < self->n_doors; d++)
    kankyo_sim_io_set_signal (io, self->doors[d].signal,
                              door_open_fraction (&self->doors[d], io->time, io->time));
}

static void
ahu_init (gpointer state, KankyoSimIo *io)
{
  Ahu *self = state;
  const KankyoHvacAhuCommands *c = &self->commands;

  /* What the controller starts with; from here on clients change it. */
  kankyo_sim_io_set (io, "mode", c->mode);
  kankyo_sim_io_set (io, "automatic", c->automatic);
  kankyo_sim_io_set (io, "fan_speed_setpoint", c->fan_speed_setpoint);
  kankyo_sim_io_set (io, "supply_temp_setpoint", c->supply_temp_setpoint);
  kankyo_sim_io_set (io, "rh_setpoint", c->rh_setpoint);
  kankyo_sim_io_set (io, "chw_valve_command", c->chw_valve_command);
  kankyo_sim_io_set (io, "heating_valve_command", c->heating_valve_command);
  kankyo_sim_io_set (io, "humidifier_command", c->humidifier_command);
  publish (self, io);
}

/* Advances in pieces of at most KANKYO_HVAC_MAX_SUBSTEP, each with the
 * doors open for the share of it their schedules say, so that a long step
 * (a test skipping days) sees every door opening. */
static void
ahu_step (gpointer state, double dt, KankyoSimIo *io)
{
  Ahu *self = state;
  double start = io->time - dt;
  guint n = MAX (1u, (guint) ceil (dt / KANKYO_HVAC_MAX_SUBSTEP - 1e-9));

  read_commands (self, io);
  for (guint i = 0; i < n && !self->failed; i++)
    {
      double a = start + dt * i / n, b = start + dt * (i + 1) / n;
      g_autoptr (GError) error = NULL;

      for (guint k = 0; k < self->params.n_paths; k++)
        self->suite.opening[k] = 0.0;
      for (guint d = 0; d < self->n_doors; d++)
        {
          const Door *door = &self->doors[d];

          self->suite.opening[door->path]
              = MAX (self->suite.opening[door->path], door_open_fraction (door, a, b));
        }
      if (!kankyo_hvac_suite_step (&self->suite, &self->commands, b - a, &error))
        {
          /* Nothing can report it but the log; the suite stops where it is
           * rather than publish pressures that do not balance. */
          g_warning ("the simulated suite stopped: %s", error->message);
          self->failed = TRUE;
        }
    }
  publish (self, io);
}

const KankyoHvacModel _kankyo_hvac_ahu_model = {
  .create = ahu_create,
  .init = ahu_init,
  .step = ahu_step,
  .free = ahu_free,
};
