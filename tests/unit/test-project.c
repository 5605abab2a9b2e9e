/* test-project.c: project files and device maps as a plant engineer writes them.
 *
 * A complete project with a user map file must load with every field as
 * written, including the device description's alarm limits, mimic symbols,
 * computed tags and simulation hints, and a plugin's free-form simulation
 * parameters as a GVariant; resolving tags must apply base addresses and the
 * word-order priority and pass computed tags through; each bound must hold
 * at its edge; and each malformed file under tests/fixtures/projects/bad/ must
 * fail with the position and phrase kept next to it in NAME.expected (three
 * lines: "file:line:col:" prefix, key phrase, error code), so a message that
 * points at the wrong line fails the test. Files named devmap-*.yaml there
 * are device maps; the others are projects.
 */
#include "kankyo-project.h"

#include <math.h>
#include <string.h>

#include <glib/gstdio.h>

static const char *source_dir;

static char *
fixture_path (const char *name)
{
  return g_build_filename (source_dir, "tests", "fixtures", "projects", name, NULL);
}

static void
assert_error_contains (const GError *error, gint code, const char *first, const char *second)
{
  g_assert_nonnull (error);
  if (strstr (error->message, first) == NULL || (second != NULL && strstr (error->message, second) == NULL))
    g_error ("error message \"%s\" lacks \"%s\"%s%s", error->message, first, second != NULL ? " or " : "",
             second != NULL ? second : "");
  g_assert_error (error, KANKYO_PROJECT_ERROR, code);
}

static const KankyoMapTag *
find_tag (const KankyoDeviceMap *map, const char *name)
{
  for (guint i = 0; i < map->tags->len; i++)
    {
      const KankyoMapTag *tag = g_ptr_array_index (map->tags, i);

      if (g_str_equal (tag->spec->name, name))
        return tag;
    }
  g_error ("no tag '%s' in %s", name, map->source);
  return NULL;
}

static const KankyoTagSpec *
find_spec (GPtrArray *specs, const char *name)
{
  for (guint i = 0; i < specs->len; i++)
    {
      const KankyoTagSpec *spec = g_ptr_array_index (specs, i);

      if (g_str_equal (spec->name, name))
        return spec;
    }
  g_error ("no resolved tag '%s'", name);
  return NULL;
}

static KankyoProject *
load_plant (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = fixture_path ("plant.yaml");
  KankyoProject *project = kankyo_project_load (path, &error);

  g_assert_no_error (error);
  g_assert_nonnull (project);
  return project;
}

static KankyoDeviceMap *
load_thermostat_map (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = fixture_path ("maps/thermostat.yaml");
  g_autofree char *contents = NULL;
  g_autoptr (GBytes) bytes = NULL;
  gsize length;
  KankyoDeviceMap *map;

  g_assert_true (g_file_get_contents (path, &contents, &length, &error));
  bytes = g_bytes_new (contents, length);
  map = kankyo_device_map_parse (bytes, "resource:///org/kankyo/testdev/thermostat.yaml", &error);
  g_assert_no_error (error);
  g_assert_nonnull (map);
  return map;
}

/* ---- a good project ---- */

static void
check_oven_map (const KankyoDeviceMap *map)
{
  const KankyoMapTag *tag;

  g_assert_cmpstr (map->id, ==, "user.old-oven");
  g_assert_cmpstr (map->vendor, ==, "Ofenbau Müller");
  g_assert_cmpstr (map->model, ==, "TK-3");
  g_assert_cmpstr (map->description, ==,
                   "Tunnel oven, controller from 1998.\n"
                   "Status word bits come from the wiring diagram.\n");
  g_assert_cmpint (map->word_order, ==, KANKYO_WORD_ORDER_BADC);
  g_assert_cmpuint (map->base_address, ==, 1);
  g_assert_true (g_str_has_suffix (map->source, "maps/old-oven.yaml"));
  g_assert_cmpuint (map->tags->len, ==, 7);

  tag = find_tag (map, "zone1_temp");
  g_assert_cmpstr (tag->spec->label, ==, "Zone 1 temperature");
  g_assert_cmpstr (tag->spec->unit, ==, "degC");
  g_assert_cmpstr (tag->spec->description, ==, "Thermocouple in zone 1");
  g_assert_cmpint (tag->spec->reg.area, ==, KANKYO_AREA_INPUT_REGISTER);
  g_assert_cmpuint (tag->address, ==, 1);
  g_assert_cmpuint (tag->spec->reg.address, ==, 1);
  g_assert_cmpint (tag->spec->reg.data_type, ==, KANKYO_DATA_FLOAT32);
  g_assert_false (tag->has_word_order);
  g_assert_cmpint (tag->spec->reg.word_order, ==, KANKYO_WORD_ORDER_BADC);
  g_assert_cmpfloat (tag->spec->reg.gain, ==, 1.0);
  g_assert_cmpfloat (tag->spec->reg.offset, ==, 0.0);
  g_assert_cmpfloat (tag->spec->min, ==, 0.0);
  g_assert_cmpfloat (tag->spec->max, ==, 400.0);
  g_assert_false (tag->spec->writable);
  g_assert_cmpint (tag->spec->value_type, ==, KANKYO_VALUE_DOUBLE);
  g_assert_true (g_str_has_suffix (tag->location, "maps/old-oven.yaml:12:5"));

  tag = find_tag (map, "zone1_setpoint");
  g_assert_cmpint (tag->spec->reg.area, ==, KANKYO_AREA_HOLDING_REGISTER);
  g_assert_cmpuint (tag->address, ==, 3);
  g_assert_cmpint (tag->spec->reg.data_type, ==, KANKYO_DATA_INT32);
  g_assert_true (tag->has_word_order);
  g_assert_cmpint (tag->spec->reg.word_order, ==, KANKYO_WORD_ORDER_CDAB);
  g_assert_cmpfloat (tag->spec->reg.gain, ==, 0.01);
  g_assert_cmpfloat (tag->spec->reg.offset, ==, -50.0);
  g_assert_true (isnan (tag->spec->min));
  g_assert_true (isnan (tag->spec->max));
  g_assert_true (tag->spec->writable);
  g_assert_cmpint (tag->spec->value_type, ==, KANKYO_VALUE_DOUBLE);
  g_assert_null (tag->spec->description);

  tag = find_tag (map, "heater_on");
  g_assert_cmpint (tag->spec->reg.data_type, ==, KANKYO_DATA_BIT);
  g_assert_cmpuint (tag->spec->reg.bit, ==, 3);
  g_assert_true (tag->spec->writable);
  g_assert_cmpint (tag->spec->value_type, ==, KANKYO_VALUE_BOOL);

  tag = find_tag (map, "fault_code");
  g_assert_cmpint (tag->spec->reg.data_type, ==, KANKYO_DATA_BITFIELD);
  g_assert_cmpuint (tag->spec->reg.bit, ==, 8);
  g_assert_cmpuint (tag->spec->reg.bit_count, ==, 4);
  g_assert_false (tag->spec->writable);
  g_assert_cmpint (tag->spec->value_type, ==, KANKYO_VALUE_UINT);

  tag = find_tag (map, "running");
  g_assert_cmpint (tag->spec->reg.area, ==, KANKYO_AREA_COIL);
  g_assert_cmpint (tag->spec->reg.data_type, ==, KANKYO_DATA_BOOL);
  g_assert_true (tag->spec->writable);
  g_assert_cmpint (tag->spec->value_type, ==, KANKYO_VALUE_BOOL);

  tag = find_tag (map, "energy");
  g_assert_cmpstr (tag->spec->unit, ==, "kWh");
  g_assert_cmpint (tag->spec->reg.data_type, ==, KANKYO_DATA_FLOAT64);
  g_assert_cmpuint (tag->address, ==, 65533);
  g_assert_null (tag->spec->label);

  tag = find_tag (map, "last_register");
  g_assert_cmpuint (tag->address, ==, 65536);
  g_assert_cmpint (tag->spec->value_type, ==, KANKYO_VALUE_UINT);
}

static void
assert_limits (const KankyoAlarmLimits *limits,
               double low_low,
               double low,
               double high,
               double high_high,
               double deadband,
               double on_delay,
               double off_delay)
{
  const double expected[] = { low_low, low, high, high_high };
  const double found[] = { limits->low_low, limits->low, limits->high, limits->high_high };

  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    if (isnan (expected[i]))
      g_assert_true (isnan (found[i]));
    else
      g_assert_cmpfloat (found[i], ==, expected[i]);
  g_assert_cmpfloat (limits->deadband, ==, deadband);
  g_assert_cmpfloat (limits->on_delay, ==, on_delay);
  g_assert_cmpfloat (limits->off_delay, ==, off_delay);
}

/* Every alarm key of a tag and of a device, as plant.yaml writes them. */
static void
check_freezer_alarms (const KankyoDeviceConfig *device, const KankyoMapTag *tag)
{
  const KankyoAlarmLimits *a = &tag->spec->alarms;
  const int priorities[KANKYO_ALARM_LIMIT_N_KINDS] = { -1, -1, 2, 3, -1, 0, -1 };

  assert_limits (a, NAN, NAN, -15, -10, 0.5, 1800, 300);
  g_assert_cmpstr (a->deviation_setpoint, ==, "setpoint");
  g_assert_cmpfloat (a->deviation, ==, 3);
  g_assert_cmpfloat (a->rate, ==, 0.05);
  g_assert_cmpint (a->state, ==, -1);
  for (guint k = 0; k < KANKYO_ALARM_LIMIT_N_KINDS; k++)
    g_assert_cmpint (a->priority[k], ==, priorities[k]);
  g_assert_true (a->latching);
  g_assert_cmpstr (a->message, ==, "Freezer air");
  g_assert_cmpstr (a->guidance, ==, "Keep the door shut; move the product\nto freezer 1 if it stays high.\n");
  g_assert_cmpstr (a->display, ==, "cold-store");
  g_assert_cmpstr (a->suppressed_by, ==, "door_open");
  g_assert_cmpfloat (a->suppressed_value, ==, 1);

  g_assert_false (device->comm_fail_off);
  g_assert_cmpint (device->comm_fail_priority, ==, 2);
  g_assert_cmpuint (device->comm_fail_delay_ms, ==, 30000);
  g_assert_cmpstr (device->comm_fail_guidance, ==, "Check the gateway in cabinet 3.");
  g_assert_null (device->alarm_overrides);
}

static double
lookup_double (GVariant *dict, const char *key)
{
  double value;

  if (!g_variant_lookup (dict, key, "d", &value))
    g_error ("no double '%s' in %s", key, g_variant_print (dict, TRUE));
  return value;
}

static void
check_room_map (const KankyoDeviceMap *map)
{
  const KankyoMapTag *tag;

  g_assert_nonnull (map);
  g_assert_cmpstr (map->id, ==, "user.room-th");
  g_assert_cmpstr (map->vendor, ==, "Sensortechnik Aoyama");
  g_assert_cmpstr (map->model, ==, "RTH-20");
  g_assert_cmpstr (map->symbol, ==, "sensor");
  g_assert_cmpint (map->word_order, ==, KANKYO_WORD_ORDER_CDAB);
  g_assert_cmpuint (map->tags->len, ==, 7);

  tag = find_tag (map, "temperature");
  g_assert_false (tag->spec->computed);
  g_assert_cmpstr (tag->spec->symbol, ==, "room");
  g_assert_cmpint (tag->spec->reg.data_type, ==, KANKYO_DATA_FLOAT32);
  assert_limits (&tag->spec->alarms, 15, 18, 24, 26, 0.5, 30, 120);
  g_assert_true (kankyo_alarm_limits_is_set (&tag->spec->alarms));
  g_assert_nonnull (tag->simulate);
  g_assert_cmpstr (g_variant_get_type_string (tag->simulate), ==, "a{sv}");
  g_assert_false (g_variant_is_floating (tag->simulate));
  g_assert_cmpuint (g_variant_n_children (tag->simulate), ==, 4);
  g_assert_cmpfloat (lookup_double (tag->simulate, "value"), ==, 21);
  g_assert_cmpfloat (lookup_double (tag->simulate, "noise"), ==, 0.05);
  g_assert_cmpfloat (lookup_double (tag->simulate, "amplitude"), ==, 1.5);
  g_assert_cmpfloat (lookup_double (tag->simulate, "period"), ==, 3600);
  g_assert_false (g_variant_lookup (tag->simulate, "step", "d", NULL));

  /* One limit given: the others stay open, deadband and delays zero. */
  tag = find_tag (map, "humidity");
  g_assert_null (tag->spec->symbol);
  assert_limits (&tag->spec->alarms, NAN, NAN, 60, NAN, 0, 0, 0);
  g_assert_cmpuint (g_variant_n_children (tag->simulate), ==, 2);
  g_assert_cmpfloat (lookup_double (tag->simulate, "value"), ==, 45);
  g_assert_cmpfloat (lookup_double (tag->simulate, "noise"), ==, 0.5);

  tag = find_tag (map, "operating_hours");
  g_assert_false (kankyo_alarm_limits_is_set (&tag->spec->alarms));
  g_assert_cmpuint (g_variant_n_children (tag->simulate), ==, 1);
  g_assert_cmpfloat (lookup_double (tag->simulate, "step"), ==, 0.00025);

  tag = find_tag (map, "sensor_fault");
  g_assert_cmpstr (tag->spec->symbol, ==, "gauge");
  g_assert_null (tag->simulate);
  g_assert_cmpint (tag->spec->value_type, ==, KANKYO_VALUE_BOOL);

  /* Computed tags: no register, a value type from the type written. */
  tag = find_tag (map, "dew_point");
  g_assert_true (tag->spec->computed);
  g_assert_cmpuint (tag->address, ==, 0);
  g_assert_false (tag->has_word_order);
  g_assert_false (tag->spec->writable);
  g_assert_null (tag->simulate);
  g_assert_cmpint (tag->spec->value_type, ==, KANKYO_VALUE_DOUBLE);
  g_assert_cmpstr (tag->spec->label, ==, "Dew point");
  g_assert_cmpstr (tag->spec->unit, ==, "degC");
  g_assert_cmpstr (tag->spec->description, ==, "Magnus formula over temperature and humidity.");
  g_assert_cmpfloat (tag->spec->min, ==, -40);
  g_assert_cmpfloat (tag->spec->max, ==, 60);
  assert_limits (&tag->spec->alarms, NAN, NAN, 16, NAN, 0, 0.5, 0);
  g_assert_true (g_str_has_suffix (tag->location, "maps/room-transmitter.yaml:60:5"));

  tag = find_tag (map, "absolute_humidity");
  g_assert_true (tag->spec->computed);
  g_assert_cmpint (tag->spec->value_type, ==, KANKYO_VALUE_DOUBLE);

  tag = find_tag (map, "condensation_risk");
  g_assert_true (tag->spec->computed);
  g_assert_false (tag->spec->writable);
  g_assert_cmpint (tag->spec->value_type, ==, KANKYO_VALUE_BOOL);
  g_assert_cmpstr (tag->spec->symbol, ==, "coil");
  g_assert_false (kankyo_alarm_limits_is_set (&tag->spec->alarms));
}

/* Mappings a{sv}, lists av, every scalar a string as written, in order. */
static void
check_simulation (GVariant *simulation)
{
  g_autoptr (GVariant) supply = NULL;
  g_autoptr (GVariant) schedule = NULL;
  g_autoptr (GVariant) first = NULL;
  g_autoptr (GVariant) second = NULL;
  const char *key = NULL;
  const char *text = NULL;

  g_assert_nonnull (simulation);
  g_assert_false (g_variant_is_floating (simulation));
  g_assert_cmpstr (g_variant_get_type_string (simulation), ==, "a{sv}");
  g_assert_cmpuint (g_variant_n_children (simulation), ==, 5);
  g_variant_get_child (simulation, 0, "{&sv}", &key, NULL);
  g_assert_cmpstr (key, ==, "volume");
  g_variant_get_child (simulation, 4, "{&sv}", &key, NULL);
  g_assert_cmpstr (key, ==, "empty");

  g_assert_true (g_variant_lookup (simulation, "volume", "&s", &text));
  g_assert_cmpstr (text, ==, "120.5");
  g_assert_false (g_variant_lookup (simulation, "volume", "d", NULL));

  supply = g_variant_lookup_value (simulation, "supply", G_VARIANT_TYPE_VARDICT);
  g_assert_nonnull (supply);
  g_assert_cmpuint (g_variant_n_children (supply), ==, 2);
  g_assert_true (g_variant_lookup (supply, "flow", "&s", &text));
  g_assert_cmpstr (text, ==, "0.8");
  g_assert_true (g_variant_lookup (supply, "temperature", "&s", &text));
  g_assert_cmpstr (text, ==, "16");

  schedule = g_variant_lookup_value (simulation, "schedule", G_VARIANT_TYPE ("av"));
  g_assert_nonnull (schedule);
  g_assert_cmpuint (g_variant_n_children (schedule), ==, 2);
  g_variant_get_child (schedule, 0, "v", &first);
  g_assert_cmpstr (g_variant_get_string (first, NULL), ==, "06:00");
  g_variant_get_child (schedule, 1, "v", &second);
  g_assert_true (g_variant_is_of_type (second, G_VARIANT_TYPE_VARDICT));
  g_assert_true (g_variant_lookup (second, "at", "&s", &text));
  g_assert_cmpstr (text, ==, "18:00");
  g_assert_true (g_variant_lookup (second, "setpoint", "&s", &text));
  g_assert_cmpstr (text, ==, "20");

  g_assert_true (g_variant_lookup (simulation, "note", "&s", &text));
  g_assert_cmpstr (text, ==, "two\nlines\n");
  g_assert_true (g_variant_lookup (simulation, "empty", "&s", &text));
  g_assert_cmpstr (text, ==, "");
}

static void
test_load_good (void)
{
  g_autoptr (KankyoProject) project = load_plant ();
  g_autofree char *dirname = NULL;
  KankyoAreaConfig *area;
  KankyoDeviceConfig *device;
  const KankyoMapTag *tag;
  const KankyoAlarmOverride *override;

  g_assert_cmpstr (project->name, ==, "Demo plant");
  g_assert_true (g_str_has_suffix (project->path, "projects/plant.yaml"));
  dirname = g_path_get_dirname (project->path);
  g_assert_cmpstr (project->dir, ==, dirname);

  g_assert_cmpuint (project->areas->len, ==, 4);
  area = g_ptr_array_index (project->areas, 0);
  g_assert_cmpstr (area->name, ==, "cleanroom");
  g_assert_cmpstr (area->label, ==, "Cleanroom suite");
  area = g_ptr_array_index (project->areas, 1);
  g_assert_cmpstr (area->name, ==, "cold-store");
  g_assert_null (area->label);
  area = g_ptr_array_index (project->areas, 2);
  g_assert_cmpstr (area->name, ==, "empty-hall");
  g_assert_cmpstr (area->label, ==, "Hall \"B\", no devices yet");

  g_assert_cmpuint (project->devices->len, ==, 5);

  g_assert_cmpuint (project->history_classes->len, ==, 2);
  {
    const KankyoHistoryClass *haccp = kankyo_project_find_history_class (project, "haccp");
    const KankyoHistoryClass *fast = kankyo_project_find_history_class (project, "fast");

    g_assert_nonnull (haccp);
    g_assert_cmpfloat (haccp->raw_s, ==, 2 * 365 * 86400.0);
    g_assert_cmpfloat (haccp->minute_s, ==, 5 * 365 * 86400.0);
    g_assert_cmpfloat (haccp->hour_s, ==, 0);
    g_assert_nonnull (fast);
    g_assert_cmpfloat (fast->raw_s, ==, 36 * 3600.0);
    g_assert_cmpfloat (fast->minute_s, ==, 14 * 86400.0);
    g_assert_cmpfloat (fast->hour_s, ==, 0);
    g_assert_null (kankyo_project_find_history_class (project, "slow"));
  }

  /* A plugin's device type, reached over TCP. */
  device = g_ptr_array_index (project->devices, 0);
  g_assert_cmpstr (device->name, ==, "room1");
  g_assert_cmpstr (device->label, ==, "Fill room");
  g_assert_cmpstr (device->area, ==, "cleanroom");
  g_assert_cmpstr (device->type_id, ==, "test.thermostat");
  g_assert_null (device->map);
  g_assert_cmpstr (device->driver, ==, "modbus");
  g_assert_nonnull (device->endpoint);
  g_assert_cmpint (device->endpoint->transport, ==, KANKYO_TRANSPORT_TCP);
  g_assert_cmpstr (device->endpoint->host, ==, "127.0.0.1");
  g_assert_cmpuint (device->endpoint->port, ==, 1502);
  g_assert_cmpuint (device->unit_id, ==, 7);
  g_assert_cmpuint (device->poll_period_ms, ==, 250);
  g_assert_true (device->word_order_set);
  g_assert_cmpint (device->word_order, ==, KANKYO_WORD_ORDER_CDAB);
  g_assert_false (device->base_address_set);
  g_assert_cmpuint (device->max_gap, ==, 8);
  g_assert_null (device->simulation);
  g_assert_true (g_str_has_suffix (device->location, "projects/plant.yaml:9:9"));
  /* The comm-fail alarm's defaults. */
  g_assert_false (device->comm_fail_off);
  g_assert_cmpint (device->comm_fail_priority, ==, 3);
  g_assert_cmpuint (device->comm_fail_delay_ms, ==, 10000);
  g_assert_null (device->comm_fail_guidance);

  /* A user map file, reached over RTU, defaults elsewhere. */
  device = g_ptr_array_index (project->devices, 1);
  g_assert_cmpstr (device->name, ==, "oven");
  g_assert_cmpstr (device->label, ==, "Old oven");
  g_assert_cmpstr (device->area, ==, "cleanroom");
  g_assert_null (device->type_id);
  g_assert_cmpstr (device->driver, ==, "modbus");
  g_assert_nonnull (device->endpoint);
  g_assert_cmpint (device->endpoint->transport, ==, KANKYO_TRANSPORT_RTU);
  g_assert_cmpstr (device->endpoint->device, ==, "/dev/ttyUSB0");
  g_assert_cmpuint (device->endpoint->baud, ==, 19200);
  g_assert_cmpint (device->endpoint->parity, ==, 'E');
  g_assert_cmpuint (device->unit_id, ==, 247);
  g_assert_cmpuint (device->poll_period_ms, ==, 1500);
  g_assert_false (device->word_order_set);
  g_assert_false (device->base_address_set);
  g_assert_cmpuint (device->max_gap, ==, 0);
  g_assert_nonnull (device->map);
  check_oven_map (device->map);

  /* Inline tags on a simulated device. */
  device = g_ptr_array_index (project->devices, 2);
  g_assert_cmpstr (device->name, ==, "freezer_2");
  g_assert_null (device->label);
  g_assert_cmpstr (device->area, ==, "cold-store");
  g_assert_null (device->type_id);
  g_assert_null (device->endpoint);
  g_assert_cmpuint (device->unit_id, ==, 1);
  g_assert_cmpuint (device->poll_period_ms, ==, 120000);
  g_assert_true (device->word_order_set);
  g_assert_cmpint (device->word_order, ==, KANKYO_WORD_ORDER_DCBA);
  g_assert_true (device->base_address_set);
  g_assert_cmpuint (device->base_address, ==, 1);
  g_assert_nonnull (device->map);
  g_assert_null (device->map->id);
  g_assert_cmpint (device->map->word_order, ==, KANKYO_WORD_ORDER_DCBA);
  g_assert_cmpuint (device->map->base_address, ==, 1);
  g_assert_cmpstr (device->map->source, ==, project->path);
  g_assert_cmpuint (device->map->tags->len, ==, 3);

  tag = find_tag (device->map, "air_temp");
  g_assert_cmpstr (tag->spec->label, ==, "Air temperature");
  g_assert_cmpint (tag->spec->reg.area, ==, KANKYO_AREA_INPUT_REGISTER);
  g_assert_cmpint (tag->spec->reg.data_type, ==, KANKYO_DATA_INT16);
  g_assert_cmpfloat (tag->spec->reg.gain, ==, 0.1);
  g_assert_cmpfloat (tag->spec->min, ==, -40.0);
  g_assert_cmpfloat (tag->spec->max, ==, 20.0);
  g_assert_cmpint (tag->spec->value_type, ==, KANKYO_VALUE_DOUBLE);
  g_assert_true (g_str_has_suffix (tag->location, "projects/plant.yaml:34:13"));
  g_assert_false (tag->spec->history.off);
  g_assert_cmpfloat (tag->spec->history.deadband, ==, 0.2);
  g_assert_cmpfloat (tag->spec->history.heartbeat_s, ==, 300.0);
  g_assert_cmpstr (tag->spec->history.tag_class, ==, "haccp");
  check_freezer_alarms (device, tag);
  tag = find_tag (device->map, "door_open");
  g_assert_true (tag->spec->history.off);
  g_assert_cmpint (tag->spec->alarms.state, ==, 1);
  g_assert_cmpfloat (tag->spec->alarms.on_delay, ==, 300);
  g_assert_cmpint (tag->spec->alarms.priority[KANKYO_ALARM_LIMIT_STATE], ==, 1);
  g_assert_cmpstr (tag->spec->alarms.suppressed_by, ==, "room1.mode");
  g_assert_true (isnan (tag->spec->alarms.suppressed_value));
  g_assert_true (kankyo_alarm_limits_is_set (&tag->spec->alarms));
  g_assert_cmpint (tag->spec->reg.area, ==, KANKYO_AREA_DISCRETE_INPUT);
  g_assert_cmpuint (tag->address, ==, 0x2C);
  g_assert_cmpint (tag->spec->value_type, ==, KANKYO_VALUE_BOOL);
  g_assert_false (tag->spec->writable);
  tag = find_tag (device->map, "setpoint");
  g_assert_cmpint (tag->spec->reg.data_type, ==, KANKYO_DATA_FLOAT32);
  g_assert_true (tag->has_word_order);
  g_assert_cmpint (tag->spec->reg.word_order, ==, KANKYO_WORD_ORDER_ABCD);
  g_assert_true (tag->spec->writable);

  area = g_ptr_array_index (project->areas, 3);
  g_assert_cmpstr (area->name, ==, "plant-room");

  /* A plugin's type with its simulation parameters, no comm-fail alarm
   * and alarms of its own for two of the type's tags. */
  device = g_ptr_array_index (project->devices, 3);
  g_assert_cmpstr (device->name, ==, "ahu1");
  g_assert_cmpstr (device->area, ==, "plant-room");
  g_assert_true (device->comm_fail_off);
  g_assert_cmpuint (device->alarm_overrides->len, ==, 2);
  override = kankyo_device_config_find_alarm_override (device, "temperature");
  g_assert_false (override->off);
  g_assert_cmpfloat (override->limits.high, ==, 30);
  g_assert_true (isnan (override->limits.high_high));
  g_assert_cmpint (override->limits.priority[KANKYO_ALARM_LIMIT_HIGH], ==, 3);
  g_assert_true (g_str_has_suffix (override->location, "projects/plant.yaml:99:11"));
  g_assert_true (kankyo_device_config_find_alarm_override (device, "humidity")->off);
  g_assert_null (kankyo_device_config_find_alarm_override (device, "mode"));
  g_assert_cmpstr (device->type_id, ==, "test.thermostat");
  check_simulation (device->simulation);

  /* A device description with alarms, symbols and computed tags. */
  device = g_ptr_array_index (project->devices, 4);
  g_assert_cmpstr (device->name, ==, "room_th");
  g_assert_null (device->simulation);
  check_room_map (device->map);

  g_assert_true (kankyo_project_find_device (project, "oven") == g_ptr_array_index (project->devices, 1));
  g_assert_null (kankyo_project_find_device (project, "Oven"));
}

static void
test_map_plugin (void)
{
  g_autoptr (KankyoDeviceMap) map = load_thermostat_map ();
  const KankyoMapTag *tag;

  g_assert_cmpstr (map->id, ==, "test.thermostat");
  g_assert_cmpstr (map->vendor, ==, "Kankyo");
  g_assert_cmpstr (map->model, ==, "Test thermostat");
  g_assert_null (map->description);
  g_assert_cmpint (map->word_order, ==, KANKYO_WORD_ORDER_ABCD);
  g_assert_cmpuint (map->base_address, ==, 0);
  g_assert_cmpuint (map->tags->len, ==, 2);

  tag = find_tag (map, "temperature");
  g_assert_cmpstr (tag->location, ==, "resource:///org/kankyo/testdev/thermostat.yaml:6:5");
  g_assert_cmpint (tag->spec->value_type, ==, KANKYO_VALUE_DOUBLE);
  tag = find_tag (map, "setpoint");
  g_assert_cmpfloat (tag->spec->reg.gain, ==, 0.1);
  g_assert_cmpint (tag->spec->value_type, ==, KANKYO_VALUE_DOUBLE);
  g_assert_true (tag->spec->writable);
}

/* A project given as bytes: relative maps need a folder, absolute ones do not. */
static void
test_load_from_bytes (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (KankyoProject) project = NULL;
  g_autofree char *dir = fixture_path (".");
  g_autofree char *map_path = fixture_path ("maps/old-oven.yaml");
  const char *relative = "project: Bytes\nareas:\n  - name: a\n    devices:\n"
                         "      - name: d\n        endpoint: simulated\n"
                         "        map: maps/old-oven.yaml\n";
  g_autofree char *absolute = g_strdup_printf ("project: Bytes\nareas:\n  - name: a\n"
                                               "    devices:\n      - name: d\n"
                                               "        endpoint: simulated\n"
                                               "        map: '%s'\n",
                                               map_path);
  g_autoptr (GBytes) relative_bytes = g_bytes_new_static (relative, strlen (relative));
  g_autoptr (GBytes) absolute_bytes = g_bytes_new_static (absolute, strlen (absolute));

  project = kankyo_project_load_from_bytes (relative_bytes, "embedded.yaml", NULL, &error);
  g_assert_null (project);
  assert_error_contains (error, KANKYO_PROJECT_ERROR_INVALID, "embedded.yaml:7:14:", "relative path");
  g_clear_error (&error);

  project = kankyo_project_load_from_bytes (relative_bytes, "embedded.yaml", dir, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (project->path, ==, "embedded.yaml");
  g_assert_cmpstr (project->dir, ==, dir);
  check_oven_map (kankyo_project_find_device (project, "d")->map);
  g_clear_pointer (&project, kankyo_project_free);

  project = kankyo_project_load_from_bytes (absolute_bytes, "embedded.yaml", NULL, &error);
  g_assert_no_error (error);
  g_assert_null (project->dir);
  check_oven_map (kankyo_project_find_device (project, "d")->map);
}

/* An area's mimic resolves next to the project: file URIs for a project in
 * a folder, resource URIs next to an embedded project's resource. */
static void
test_load_mimic (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (KankyoProject) project = NULL;
  KankyoAreaConfig *area;
  const char *text = "project: Mimic\nareas:\n  - name: suite\n"
                     "    mimic: {svg: drawings/suite.svg, bindings: ../shared/suite bindings.yaml}\n"
                     "  - name: plain\n";
  const char *absolute = "project: Mimic\nareas:\n  - name: suite\n"
                         "    mimic:\n      svg: /srv/mimics/./suite.svg\n";
  g_autoptr (GBytes) bytes = g_bytes_new_static (text, strlen (text));
  g_autoptr (GBytes) absolute_bytes = g_bytes_new_static (absolute, strlen (absolute));

  project = kankyo_project_load_from_bytes (bytes, "plant.yaml", "/srv/plant", &error);
  g_assert_no_error (error);
  area = g_ptr_array_index (project->areas, 0);
  g_assert_cmpstr (area->mimic_svg, ==, "file:///srv/plant/drawings/suite.svg");
  g_assert_cmpstr (area->mimic_bindings, ==, "file:///srv/shared/suite%20bindings.yaml");
  area = g_ptr_array_index (project->areas, 1);
  g_assert_null (area->mimic_svg);
  g_assert_null (area->mimic_bindings);
  g_clear_pointer (&project, kankyo_project_free);

  project
      = kankyo_project_load_from_bytes (bytes, "resource:///org/kankyo/data/demo/demo.yaml", NULL, &error);
  g_assert_no_error (error);
  area = g_ptr_array_index (project->areas, 0);
  g_assert_cmpstr (area->mimic_svg, ==, "resource:///org/kankyo/data/demo/drawings/suite.svg");
  g_assert_cmpstr (area->mimic_bindings, ==, "resource:///org/kankyo/data/shared/suite%20bindings.yaml");
  g_clear_pointer (&project, kankyo_project_free);

  project = kankyo_project_load_from_bytes (absolute_bytes, "embedded.yaml", NULL, &error);
  g_assert_no_error (error);
  area = g_ptr_array_index (project->areas, 0);
  g_assert_cmpstr (area->mimic_svg, ==, "file:///srv/mimics/suite.svg");
  g_assert_null (area->mimic_bindings);
  g_clear_pointer (&project, kankyo_project_free);

  project = kankyo_project_load_from_bytes (bytes, "embedded.yaml", NULL, &error);
  g_assert_null (project);
  assert_error_contains (error, KANKYO_PROJECT_ERROR_INVALID,
                         "embedded.yaml:4:18:", "svg: 'drawings/suite.svg' is a relative path");
  g_clear_error (&error);
}

/* ---- resolving ---- */

static void
test_resolve_base_address (void)
{
  g_autoptr (KankyoProject) project = load_plant ();
  KankyoDeviceConfig *oven = kankyo_project_find_device (project, "oven");
  KankyoDeviceConfig *freezer = kankyo_project_find_device (project, "freezer_2");
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) specs = NULL;

  /* The oven map counts from 1 and the device keeps that. */
  specs = kankyo_device_map_resolve_tags (oven->map, oven, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (specs->len, ==, 7);
  g_assert_cmpuint (find_spec (specs, "zone1_temp")->reg.address, ==, 0);
  g_assert_cmpuint (find_spec (specs, "zone1_setpoint")->reg.address, ==, 2);
  g_assert_cmpuint (find_spec (specs, "heater_on")->reg.address, ==, 9);
  g_assert_cmpuint (find_spec (specs, "fault_code")->reg.address, ==, 9);
  g_assert_cmpuint (find_spec (specs, "running")->reg.address, ==, 0);
  g_assert_cmpuint (find_spec (specs, "energy")->reg.address, ==, 65532);
  g_assert_cmpuint (find_spec (specs, "last_register")->reg.address, ==, 65535);
  g_assert_cmpstr (find_spec (specs, "zone1_temp")->label, ==, "Zone 1 temperature");
  g_clear_pointer (&specs, g_ptr_array_unref);

  /* The map itself is left as written, so resolving twice agrees. */
  g_assert_cmpuint (find_tag (oven->map, "zone1_temp")->spec->reg.address, ==, 1);
  specs = kankyo_device_map_resolve_tags (oven->map, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (find_spec (specs, "zone1_temp")->reg.address, ==, 0);
  g_clear_pointer (&specs, g_ptr_array_unref);

  /* Inline tags take the device's base address of 1. */
  specs = kankyo_device_map_resolve_tags (freezer->map, freezer, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (find_spec (specs, "air_temp")->reg.address, ==, 0);
  g_assert_cmpuint (find_spec (specs, "door_open")->reg.address, ==, 43);
  g_assert_cmpuint (find_spec (specs, "setpoint")->reg.address, ==, 39);
  g_clear_pointer (&specs, g_ptr_array_unref);

  /* A device that says its map is 0-based after all: the 4-register value
   * at 65533 no longer fits. */
  oven->base_address_set = TRUE;
  oven->base_address = 0;
  specs = kankyo_device_map_resolve_tags (oven->map, oven, &error);
  g_assert_null (specs);
  assert_error_contains (error, KANKYO_PROJECT_ERROR_INVALID, "old-oven.yaml:48:5:", "tag 'energy'");
}

static void
test_resolve_base_address_zero (void)
{
  g_autoptr (KankyoProject) project = load_plant ();
  g_autoptr (KankyoDeviceMap) map = load_thermostat_map ();
  KankyoDeviceConfig *room = kankyo_project_find_device (project, "room1");
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) specs = NULL;

  specs = kankyo_device_map_resolve_tags (map, room, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (find_spec (specs, "temperature")->reg.address, ==, 0);
  g_clear_pointer (&specs, g_ptr_array_unref);

  /* Register numbers start at 1: address 0 in a 0-based map cannot be one. */
  room->base_address_set = TRUE;
  room->base_address = 1;
  specs = kankyo_device_map_resolve_tags (map, room, &error);
  g_assert_null (specs);
  assert_error_contains (error, KANKYO_PROJECT_ERROR_INVALID,
                         "thermostat.yaml:6:5:", "tag 'temperature': address 0 is not a register number");
}

static void
test_resolve_word_order (void)
{
  g_autoptr (KankyoProject) project = load_plant ();
  g_autoptr (KankyoDeviceMap) thermostat = load_thermostat_map ();
  KankyoDeviceConfig *room = kankyo_project_find_device (project, "room1");
  KankyoDeviceConfig *oven = kankyo_project_find_device (project, "oven");
  KankyoDeviceConfig *freezer = kankyo_project_find_device (project, "freezer_2");
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) specs = NULL;

  /* The map's own default when no device is given... */
  specs = kankyo_device_map_resolve_tags (thermostat, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (find_spec (specs, "temperature")->reg.word_order, ==, KANKYO_WORD_ORDER_ABCD);
  g_clear_pointer (&specs, g_ptr_array_unref);

  /* ...the device's order over the map's... */
  specs = kankyo_device_map_resolve_tags (thermostat, room, &error);
  g_assert_no_error (error);
  g_assert_cmpint (find_spec (specs, "temperature")->reg.word_order, ==, KANKYO_WORD_ORDER_CDAB);
  g_clear_pointer (&specs, g_ptr_array_unref);

  /* ...the map's when the device says nothing, and the tag's over both. */
  specs = kankyo_device_map_resolve_tags (oven->map, oven, &error);
  g_assert_no_error (error);
  g_assert_cmpint (find_spec (specs, "zone1_temp")->reg.word_order, ==, KANKYO_WORD_ORDER_BADC);
  g_assert_cmpint (find_spec (specs, "zone1_setpoint")->reg.word_order, ==, KANKYO_WORD_ORDER_CDAB);
  g_clear_pointer (&specs, g_ptr_array_unref);

  oven->word_order_set = TRUE;
  oven->word_order = KANKYO_WORD_ORDER_DCBA;
  specs = kankyo_device_map_resolve_tags (oven->map, oven, &error);
  g_assert_no_error (error);
  g_assert_cmpint (find_spec (specs, "zone1_temp")->reg.word_order, ==, KANKYO_WORD_ORDER_DCBA);
  g_assert_cmpint (find_spec (specs, "zone1_setpoint")->reg.word_order, ==, KANKYO_WORD_ORDER_CDAB);
  g_clear_pointer (&specs, g_ptr_array_unref);

  specs = kankyo_device_map_resolve_tags (freezer->map, freezer, &error);
  g_assert_no_error (error);
  g_assert_cmpint (find_spec (specs, "air_temp")->reg.word_order, ==, KANKYO_WORD_ORDER_DCBA);
  g_assert_cmpint (find_spec (specs, "setpoint")->reg.word_order, ==, KANKYO_WORD_ORDER_ABCD);
}

/* ---- values ---- */

static KankyoProject *
load_text (const char *text, GError **error)
{
  g_autoptr (GBytes) bytes = g_bytes_new (text, strlen (text));

  return kankyo_project_load_from_bytes (bytes, "values.yaml", NULL, error);
}

static void
test_values_duration (void)
{
  static const struct
  {
    const char *text;
    guint ms; /* 0: refused */
  } cases[] = {
    { "250ms", 250 }, { "1s", 1000 }, { "1.5s", 1500 },  { "2min", 120000 }, { "1h", 3600000 },
    { "100", 100 },   { "10ms", 10 }, { "500 ms", 500 }, { "0.25s", 250 },   { "fast", 0 },
    { "1.5x", 0 },    { "\"\"", 0 },  { "nan", 0 },      { "inf", 0 },       { "-1s", 0 },
    { "5ms", 0 },     { "2h", 0 },    { "1.5", 0 },      { "0x10", 0 },      { "1e400s", 0 },
    { "s", 0 },       { "1 sec", 0 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *text = g_strdup_printf ("project: P\nareas:\n  - name: a\n    devices:\n"
                                               "      - name: d\n        type: x.y\n"
                                               "        endpoint: simulated\n"
                                               "        poll-period: %s\n",
                                               cases[i].text);
      g_autoptr (KankyoProject) project = load_text (text, &error);

      if (cases[i].ms != 0)
        {
          g_assert_no_error (error);
          g_assert_cmpuint (kankyo_project_find_device (project, "d")->poll_period_ms, ==, cases[i].ms);
        }
      else
        {
          g_assert_null (project);
          assert_error_contains (error, KANKYO_PROJECT_ERROR_INVALID, "values.yaml:8:22:", "poll-period:");
        }
    }
}

static void
test_values_numbers (void)
{
  static const struct
  {
    const char *address;
    const char *scale;
    gint64 expected_address; /* -1: refused */
    double expected_scale;   /* 0: refused */
  } cases[] = {
    { "0", "1", 0, 1 },
    { "0x1F01", "0.01", 0x1F01, 0.01 },
    { "65535", "-2.5e-3", 65535, -2.5e-3 },
    { "7", ".5", 7, 0.5 },
    { "7", "+3", 7, 3 },
    { "1.5", "1", -1, 1 },
    { "12abc", "1", -1, 1 },
    { "-1", "1", -1, 1 },
    { "0x", "1", -1, 1 },
    { "1e3", "1", -1, 1 },
    { "' 5'", "1", -1, 1 },
    { "99999999999999999999", "1", -1, 1 },
    { "1", "nan", 1, 0 },
    { "1", "inf", 1, 0 },
    { "1", "-inf", 1, 0 },
    { "1", "1.5x", 1, 0 },
    { "1", "''", 1, 0 },
    { "1", "1e999", 1, 0 },
    { "1", "0", 1, 0 },
    { "1", "'1,5'", 1, 0 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *text = g_strdup_printf ("project: P\nareas:\n  - name: a\n    devices:\n"
                                               "      - name: d\n        endpoint: simulated\n"
                                               "        tags:\n"
                                               "          - name: t\n"
                                               "            area: holding\n"
                                               "            type: int16\n"
                                               "            address: %s\n"
                                               "            scale: %s\n",
                                               cases[i].address, cases[i].scale);
      g_autoptr (KankyoProject) project = load_text (text, &error);

      if (cases[i].expected_address < 0)
        {
          g_assert_null (project);
          assert_error_contains (error, KANKYO_PROJECT_ERROR_INVALID, "values.yaml:11:22:", "address:");
        }
      else if (cases[i].expected_scale == 0)
        {
          g_assert_null (project);
          assert_error_contains (error, KANKYO_PROJECT_ERROR_INVALID, "values.yaml:12:20:", "scale:");
        }
      else
        {
          const KankyoMapTag *tag;

          g_assert_no_error (error);
          tag = find_tag (kankyo_project_find_device (project, "d")->map, "t");
          g_assert_cmpuint (tag->address, ==, cases[i].expected_address);
          g_assert_cmpfloat (tag->spec->reg.gain, ==, cases[i].expected_scale);
        }
    }
}

/* Each case: the four limits as written ("-" for none) and the key the
 * error must name, or NULL when the order is right. */
static void
test_values_alarm_order (void)
{
  static const struct
  {
    const char *limits[4]; /* low-low, low, high, high-high */
    const char *bad_key;
    const char *phrase;
  } cases[] = {
    { { "15", "18", "24", "26" }, NULL, NULL },
    { { "18", "18", "24", "24" }, NULL, NULL },
    { { "-", "-", "24", "24" }, NULL, NULL },
    { { "-", "10", "-", "11" }, NULL, NULL },
    { { "-5", "-5", "-1e-9", "0" }, NULL, NULL },
    { { "-", "-", "-", "0" }, NULL, NULL },
    { { "-", "24", "24", "-" }, "high", "expected a number above low (24)" },
    { { "20", "18", "-", "-" }, "low", "expected a number not below low-low (20)" },
    { { "-", "-", "30", "25" }, "high-high", "expected a number not below high (30)" },
    { { "30", "-", "20", "-" }, "high", "expected a number above low-low (30)" },
    { { "30", "-", "-", "30" }, "high-high", "expected a number above low-low (30)" },
    { { "-", "10", "-", "10" }, "high-high", "expected a number above low (10)" },
    { { "0", "10", "5", "20" }, "high", "expected a number above low (10)" },
    { { "0", "10", "20", "19.5" }, "high-high", "expected a number not below high (20)" },
  };
  static const char *const keys[] = { "low-low", "low", "high", "high-high" };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GString) text = g_string_new ("project: P\nareas:\n  - name: a\n    devices:\n"
                                               "      - name: d\n        endpoint: simulated\n"
                                               "        tags:\n"
                                               "          - name: t\n"
                                               "            area: input\n"
                                               "            address: 0\n"
                                               "            type: float32\n"
                                               "            alarms:\n");
      g_autoptr (KankyoProject) project = NULL;
      guint line = 12;
      guint bad_line = 0;

      for (guint k = 0; k < G_N_ELEMENTS (keys); k++)
        if (!g_str_equal (cases[i].limits[k], "-"))
          {
            g_string_append_printf (text, "              %s: %s\n", keys[k], cases[i].limits[k]);
            line++;
            if (cases[i].bad_key != NULL && g_str_equal (keys[k], cases[i].bad_key))
              bad_line = line;
          }
      project = load_text (text->str, &error);
      if (cases[i].bad_key == NULL)
        {
          const KankyoAlarmLimits *limits;
          double *found[4];

          g_assert_no_error (error);
          limits = &find_tag (kankyo_project_find_device (project, "d")->map, "t")->spec->alarms;
          found[0] = (double *) &limits->low_low;
          found[1] = (double *) &limits->low;
          found[2] = (double *) &limits->high;
          found[3] = (double *) &limits->high_high;
          for (guint k = 0; k < G_N_ELEMENTS (keys); k++)
            if (g_str_equal (cases[i].limits[k], "-"))
              g_assert_true (isnan (*found[k]));
            else
              g_assert_cmpfloat (*found[k], ==, g_ascii_strtod (cases[i].limits[k], NULL));
        }
      else
        {
          g_autofree char *where
              = g_strdup_printf ("values.yaml:%u:%u:", bad_line, 17 + (guint) strlen (cases[i].bad_key));
          g_autofree char *phrase = g_strdup_printf ("%s: %s", cases[i].bad_key, cases[i].phrase);

          g_assert_null (project);
          assert_error_contains (error, KANKYO_PROJECT_ERROR_INVALID, where, phrase);
        }
    }
}

/* Every symbol the format promises is accepted, on a tag and on a map. */
static void
test_values_symbols (void)
{
  static const char *const symbols[] = {
    "fan",     "pump",       "valve", "damper",     "coil",       "filter", "humidifier", "room",
    "chamber", "turbo-pump", "gauge", "compressor", "evaporator", "door",   "sensor",     "particle-counter",
  };

  for (guint i = 0; i < G_N_ELEMENTS (symbols); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *text = g_strdup_printf ("device-type: user.s\nsymbol: %s\ntags:\n"
                                               "  - { name: t, area: input, address: 0, type: int16, "
                                               "symbol: %s }\n",
                                               symbols[i], symbols[i]);
      g_autoptr (GBytes) bytes = g_bytes_new (text, strlen (text));
      g_autoptr (KankyoDeviceMap) map = kankyo_device_map_parse (bytes, "symbols.yaml", &error);

      g_assert_no_error (error);
      g_assert_cmpstr (map->symbol, ==, symbols[i]);
      g_assert_cmpstr (find_tag (map, "t")->spec->symbol, ==, symbols[i]);
    }
}

/* Hints as written -> the period in seconds, or the key the error names. */
static void
test_values_simulate (void)
{
  static const struct
  {
    const char *hints;
    double period; /* seconds; 0: none */
    const char *bad_key;
  } cases[] = {
    { "{ amplitude: 2, period: 1ms }", 0.001, NULL },
    { "{ amplitude: 0, period: 24h }", 86400, NULL },
    { "{ amplitude: 1, period: 90s }", 90, NULL },
    { "{ value: -3.5, noise: 0, step: -0.5 }", 0, NULL },
    { "{}", 0, NULL },
    { "{ amplitude: 1, period: 25h }", 0, "period" },
    { "{ amplitude: 1, period: 0 }", 0, "period" },
    { "{ amplitude: -1, period: 1s }", 0, "amplitude" },
    { "{ period: 1s }", 0, "period" },
    { "{ noise: nan }", 0, "noise" },
    { "{ step: 1/3600 }", 0, "step" },
    { "{ value: '1,5' }", 0, "value" },
    { "[ 1, 2 ]", 0, "simulate" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *text = g_strdup_printf ("device-type: user.s\ntags:\n"
                                               "  - name: t\n    area: input\n    address: 0\n"
                                               "    type: float32\n    simulate: %s\n",
                                               cases[i].hints);
      g_autoptr (GBytes) bytes = g_bytes_new (text, strlen (text));
      g_autoptr (KankyoDeviceMap) map = kankyo_device_map_parse (bytes, "simulate.yaml", &error);

      if (cases[i].bad_key == NULL)
        {
          GVariant *hints;
          double period = 0;

          g_assert_no_error (error);
          hints = find_tag (map, "t")->simulate;
          g_assert_nonnull (hints);
          g_assert_true (g_variant_is_of_type (hints, G_VARIANT_TYPE_VARDICT));
          if (cases[i].period != 0)
            g_assert_true (g_variant_lookup (hints, "period", "d", &period));
          else
            g_assert_false (g_variant_lookup (hints, "period", "d", NULL));
          g_assert_cmpfloat (period, ==, cases[i].period);
        }
      else
        {
          g_autofree char *phrase = g_strdup_printf ("%s: ", cases[i].bad_key);

          g_assert_null (map);
          assert_error_contains (error, KANKYO_PROJECT_ERROR_INVALID, "simulate.yaml:7:", phrase);
        }
    }
}

/* ---- computed tags ---- */

/* A computed tag has no register, so neither a base address nor a word
 * order applies: a 1-based device must resolve it untouched. */
static void
test_resolve_computed (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (KankyoProject) project
      = load_text ("project: P\nareas:\n  - name: a\n    devices:\n"
                   "      - name: d\n        endpoint: simulated\n"
                   "        base-address: 1\n"
                   "        word-order: DCBA\n"
                   "        tags:\n"
                   "          - { name: t, area: input, address: 1, type: float32 }\n"
                   "          - { name: dew, area: computed, type: float32 }\n"
                   "          - { name: wet, area: computed, type: bool }\n",
                   &error);
  KankyoDeviceConfig *device;
  g_autoptr (GPtrArray) specs = NULL;
  g_autoptr (KankyoProject) plant = load_plant ();
  const KankyoTagSpec *spec;

  g_assert_no_error (error);
  device = kankyo_project_find_device (project, "d");
  g_assert_cmpuint (find_tag (device->map, "dew")->address, ==, 0);
  specs = kankyo_device_map_resolve_tags (device->map, device, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (specs->len, ==, 3);
  spec = find_spec (specs, "t");
  g_assert_false (spec->computed);
  g_assert_cmpuint (spec->reg.address, ==, 0);
  g_assert_cmpint (spec->reg.word_order, ==, KANKYO_WORD_ORDER_DCBA);
  spec = find_spec (specs, "dew");
  g_assert_true (spec->computed);
  g_assert_cmpint (spec->value_type, ==, KANKYO_VALUE_DOUBLE);
  spec = find_spec (specs, "wet");
  g_assert_true (spec->computed);
  g_assert_cmpint (spec->value_type, ==, KANKYO_VALUE_BOOL);
  g_clear_pointer (&specs, g_ptr_array_unref);

  /* The description's copies keep symbols and limits. */
  device = kankyo_project_find_device (plant, "room_th");
  specs = kankyo_device_map_resolve_tags (device->map, device, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (specs->len, ==, 7);
  spec = find_spec (specs, "temperature");
  g_assert_cmpstr (spec->symbol, ==, "room");
  g_assert_cmpfloat (spec->alarms.high_high, ==, 26);
  g_assert_cmpfloat (spec->alarms.off_delay, ==, 120);
  spec = find_spec (specs, "dew_point");
  g_assert_true (spec->computed);
  g_assert_cmpfloat (spec->alarms.high, ==, 16);
}

/* ---- bounds ---- */

static KankyoProject *
load_simulation (const char *section, GError **error)
{
  g_autofree char *text = g_strdup_printf ("project: P\nareas:\n  - name: a\n    devices:\n"
                                           "      - name: d\n        type: x.y\n"
                                           "        endpoint: simulated\n"
                                           "        simulation: %s\n",
                                           section);

  return load_text (text, error);
}

/* The simulation section: 8 levels, 10,000 keys and values, 256 bytes. */
static void
test_bounds_simulation (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (KankyoProject) project = NULL;
  g_autoptr (GString) text = g_string_new (NULL);
  g_autoptr (GVariant) value = NULL;
  GVariant *simulation;

  /* Eight levels of mappings and lists, counting the section, load... */
  project = load_simulation ("{ a: [ { b: [ { c: [ { d: [ x ] } ] } ] } ] }", &error);
  g_assert_no_error (error);
  g_clear_pointer (&project, kankyo_project_free);
  /* ...nine do not. */
  project = load_simulation ("{ a: [ { b: [ { c: [ { d: [ [ x ] ] } ] } ] } ] }", &error);
  g_assert_null (project);
  assert_error_contains (error, KANKYO_PROJECT_ERROR_INVALID,
                         "values.yaml:8:49:", "d: nested deeper than 8 levels");
  g_clear_error (&error);

  /* 1 section + 1 key + 1 list + 9997 items = 10000 values... */
  g_string_append (text, "{ list: [");
  for (guint i = 0; i < 9997; i++)
    g_string_append (text, "0,");
  g_string_append (text, "] }");
  project = load_simulation (text->str, &error);
  g_assert_no_error (error);
  simulation = kankyo_project_find_device (project, "d")->simulation;
  value = g_variant_lookup_value (simulation, "list", G_VARIANT_TYPE ("av"));
  g_assert_cmpuint (g_variant_n_children (value), ==, 9997);
  g_clear_pointer (&project, kankyo_project_free);
  /* ...one more does not. */
  g_string_insert (text, strlen ("{ list: ["), "0,");
  project = load_simulation (text->str, &error);
  g_assert_null (project);
  assert_error_contains (error, KANKYO_PROJECT_ERROR_INVALID,
                         "values.yaml:8:", "more than 10000 keys and values");
  g_clear_error (&error);

  /* 256 bytes, in two-byte characters, load; 258 do not. */
  g_string_assign (text, "{ note: ");
  for (guint i = 0; i < 128; i++)
    g_string_append (text, "é");
  g_string_append (text, " }");
  project = load_simulation (text->str, &error);
  g_assert_no_error (error);
  g_clear_pointer (&project, kankyo_project_free);
  g_string_insert (text, strlen ("{ note: "), "é");
  project = load_simulation (text->str, &error);
  g_assert_null (project);
  assert_error_contains (error, KANKYO_PROJECT_ERROR_INVALID,
                         "values.yaml:8:29:", "note: longer than 256 bytes");
  g_clear_error (&error);

  /* Keys are bounded too. */
  g_string_assign (text, "{ ");
  for (guint i = 0; i < 257; i++)
    g_string_append_c (text, 'k');
  g_string_append (text, ": 1 }");
  project = load_simulation (text->str, &error);
  g_assert_null (project);
  assert_error_contains (error, KANKYO_PROJECT_ERROR_INVALID, "values.yaml:8:23:", "longer than 256 bytes");
}

static void
test_bad_too_large (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("kankyo-project-XXXXXX", &error);
  g_autofree char *big = NULL;
  g_autofree char *limit = NULL;
  g_autoptr (GString) text = g_string_new ("project: Padded\nareas:\n  - name: a\n");
  g_autoptr (KankyoProject) project = NULL;
  g_autoptr (GBytes) bytes = NULL;

  g_assert_no_error (error);
  big = g_build_filename (dir, "big.yaml", NULL);
  limit = g_build_filename (dir, "limit.yaml", NULL);

  /* Exactly 4 MiB of valid YAML loads... */
  while (text->len + 80 <= 4 * 1024 * 1024)
    g_string_append (text, "# padding padding padding padding padding padding padding padding padding pad\n");
  while (text->len < 4 * 1024 * 1024)
    g_string_append_c (text, '\n');
  g_assert_true (g_file_set_contents (limit, text->str, text->len, &error));
  project = kankyo_project_load (limit, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (project->name, ==, "Padded");
  g_clear_pointer (&project, kankyo_project_free);

  /* ...one more mebibyte does not, from a file or from memory. */
  while (text->len < 5 * 1024 * 1024)
    g_string_append (text, "# padding padding padding padding padding padding padding padding padding pad\n");
  g_assert_true (g_file_set_contents (big, text->str, text->len, &error));
  project = kankyo_project_load (big, &error);
  g_assert_null (project);
  assert_error_contains (error, KANKYO_PROJECT_ERROR_INVALID, "big.yaml:", "4 MiB");
  g_clear_error (&error);

  bytes = g_bytes_new (text->str, text->len);
  project = kankyo_project_load_from_bytes (bytes, "big.yaml", NULL, &error);
  g_assert_null (project);
  assert_error_contains (error, KANKYO_PROJECT_ERROR_INVALID, "big.yaml:", "4 MiB");

  g_assert_cmpint (g_unlink (big), ==, 0);
  g_assert_cmpint (g_unlink (limit), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

static void
test_bad_missing_file (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = fixture_path ("no-such-project.yaml");
  g_autoptr (KankyoProject) project = kankyo_project_load (path, &error);
  g_autoptr (KankyoDeviceMap) map = NULL;

  g_assert_null (project);
  assert_error_contains (error, KANKYO_PROJECT_ERROR_IO, "no-such-project.yaml:", "cannot open");
  g_clear_error (&error);

  map = kankyo_device_map_load (path, &error);
  g_assert_null (map);
  assert_error_contains (error, KANKYO_PROJECT_ERROR_IO, "no-such-project.yaml:", "cannot open");
}

static void
test_bad_too_many_values (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) text = g_string_new ("project: Many\nareas:\n  - name: a\n    label: [");
  g_autoptr (KankyoProject) project = NULL;

  for (guint i = 0; i < 500001; i++)
    g_string_append (text, "0,");
  g_string_append (text, "]\n");
  project = load_text (text->str, &error);
  g_assert_null (project);
  assert_error_contains (error, KANKYO_PROJECT_ERROR_INVALID, "values.yaml:4:", "more than 500000 values");
}

static void
test_bad_too_many_tags (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) text = g_string_new ("device-type: user.big\ntags:\n");
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (KankyoDeviceMap) map = NULL;

  for (guint i = 0; i < 10001; i++)
    g_string_append_printf (text, "  - { name: t%u, area: holding, address: %u, type: uint16 }\n", i, i);
  bytes = g_bytes_new (text->str, text->len);
  map = kankyo_device_map_parse (bytes, "big-map.yaml", &error);
  g_assert_null (map);
  assert_error_contains (error, KANKYO_PROJECT_ERROR_INVALID, "big-map.yaml:3:3:", "at most 10000 entries");
}

static void
test_bad_too_many_devices (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) text = g_string_new ("project: Crowded\nareas:\n");
  g_autoptr (KankyoProject) project = NULL;

  /* 600 in each of two areas: each list is short enough, the sum is not. */
  for (guint a = 0; a < 2; a++)
    {
      g_string_append_printf (text, "  - name: area%u\n    devices:\n", a);
      for (guint d = 0; d < 600; d++)
        g_string_append_printf (text, "      - { name: d%u-%u, type: x.y, endpoint: simulated }\n", a, d);
    }
  project = load_text (text->str, &error);
  g_assert_null (project);
  /* Device 1001 is the 401st of the second area, on line 2 + (2 + 600) + 2 + 401. */
  assert_error_contains (error, KANKYO_PROJECT_ERROR_INVALID, "values.yaml:1007:9:", "at most 1000 devices");
}

/* ---- malformed fixtures ---- */

static const char *
code_name (gint code)
{
  switch (code)
    {
      case KANKYO_PROJECT_ERROR_IO:
        return "io";
      case KANKYO_PROJECT_ERROR_SYNTAX:
        return "syntax";
      case KANKYO_PROJECT_ERROR_INVALID:
        return "invalid";
      default:
        return "unknown";
    }
}

static void
test_bad_fixture (gconstpointer data)
{
  const char *path = data;
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *expected_path = NULL;
  g_autofree char *expected = NULL;
  g_auto (GStrv) lines = NULL;
  g_autoptr (GError) error = NULL;

  expected_path = g_strdup_printf ("%.*s.expected", (int) (strlen (path) - strlen (".yaml")), path);
  g_assert_true (g_file_get_contents (expected_path, &expected, NULL, &error));
  g_assert_no_error (error);
  lines = g_strsplit (expected, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), >=, 3);
  g_assert_true (g_str_has_suffix (lines[0], ":"));

  if (g_str_has_prefix (base, "devmap-"))
    {
      g_autoptr (KankyoDeviceMap) map = kankyo_device_map_load (path, &error);

      g_assert_null (map);
    }
  else
    {
      g_autoptr (KankyoProject) project = kankyo_project_load (path, &error);

      g_assert_null (project);
    }
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  if (strstr (error->message, lines[0]) == NULL || strstr (error->message, lines[1]) == NULL)
    g_error ("%s: error \"%s\" lacks \"%s\" or \"%s\"", base, error->message, lines[0], lines[1]);
  g_assert_cmpstr (code_name (error->domain == KANKYO_PROJECT_ERROR ? error->code : -1), ==, lines[2]);
}

/* Every fixture has its sidecar and every sidecar its fixture. */
static void
test_bad_fixture_set (gconstpointer data)
{
  const char *dir_path = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GDir) dir = g_dir_open (dir_path, 0, &error);
  const char *name;
  guint n_fixtures = 0;

  g_assert_no_error (error);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *stem = NULL;
      g_autofree char *partner = NULL;

      if (g_str_has_suffix (name, ".yaml"))
        {
          stem = g_strndup (name, strlen (name) - strlen (".yaml"));
          partner = g_strdup_printf ("%s/%s.expected", dir_path, stem);
          n_fixtures++;
        }
      else if (g_str_has_suffix (name, ".expected"))
        {
          stem = g_strndup (name, strlen (name) - strlen (".expected"));
          partner = g_strdup_printf ("%s/%s.yaml", dir_path, stem);
        }
      else
        continue;
      if (!g_file_test (partner, G_FILE_TEST_EXISTS))
        g_error ("%s has no partner %s", name, partner);
    }
  g_assert_cmpuint (n_fixtures, >=, 30);
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *bad_dir = NULL;
  g_autoptr (GDir) dir = NULL;
  const char *name;

  g_test_init (&argc, &argv, NULL);

  source_dir = g_getenv ("KANKYO_SOURCE_DIR");
  if (source_dir == NULL)
    {
      g_printerr ("KANKYO_SOURCE_DIR is not set; run through meson test\n");
      return 1;
    }

  g_test_add_func ("/project/load/good", test_load_good);
  g_test_add_func ("/project/load/from-bytes", test_load_from_bytes);
  g_test_add_func ("/project/load/mimic", test_load_mimic);
  g_test_add_func ("/project/map/plugin", test_map_plugin);
  g_test_add_func ("/project/resolve/computed", test_resolve_computed);
  g_test_add_func ("/project/resolve/base-address", test_resolve_base_address);
  g_test_add_func ("/project/resolve/base-address-zero", test_resolve_base_address_zero);
  g_test_add_func ("/project/resolve/word-order", test_resolve_word_order);
  g_test_add_func ("/project/values/duration", test_values_duration);
  g_test_add_func ("/project/values/numbers", test_values_numbers);
  g_test_add_func ("/project/values/alarm-order", test_values_alarm_order);
  g_test_add_func ("/project/values/symbols", test_values_symbols);
  g_test_add_func ("/project/values/simulate", test_values_simulate);
  g_test_add_func ("/project/bounds/file-size", test_bad_too_large);
  g_test_add_func ("/project/bounds/values", test_bad_too_many_values);
  g_test_add_func ("/project/bounds/tags", test_bad_too_many_tags);
  g_test_add_func ("/project/bounds/devices", test_bad_too_many_devices);
  g_test_add_func ("/project/bounds/simulation", test_bounds_simulation);
  g_test_add_func ("/project/load/missing-file", test_bad_missing_file);

  bad_dir = fixture_path ("bad");
  g_test_add_data_func ("/project/bad/fixture-set", bad_dir, test_bad_fixture_set);
  dir = g_dir_open (bad_dir, 0, &error);
  if (dir == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  while ((name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_suffix (name, ".yaml"))
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_strings);
  for (guint i = 0; i < names->len; i++)
    {
      const char *file = g_ptr_array_index (names, i);
      g_autofree char *test_path
          = g_strdup_printf ("/project/bad/%.*s", (int) (strlen (file) - strlen (".yaml")), file);
      char *path = g_build_filename (bad_dir, file, NULL);

      g_ptr_array_add (paths, path);
      g_test_add_data_func (test_path, path, test_bad_fixture);
    }

  return g_test_run ();
}
