/* test-mimic-binding.c: mimic bindings as an engineer writes them, no display.
 *
 * The demo's bindings must load against the demo's drawing and tags, with
 * every id in the drawing and every device reachable by a click; each broken
 * drawing or binding file under tests/fixtures/mimic/bad/ must fail with the
 * position and phrases kept next to it in NAME.expected (the first line is
 * the "file:line:col:" prefix, the others phrases the message must hold), so
 * a message that points at the wrong line or element fails the test. NAME.svg
 * replaces the good drawing and NAME.yaml the good bindings where present.
 * The evaluation of conditions, states, levels and formats is checked on
 * values, in a locale with a decimal comma as well.
 */
#include "kankyo-engine.h"
#include "kankyo-mimic-binding.h"
#include "kankyo-project.h"

#include <locale.h>
#include <math.h>
#include <string.h>

#include <glib/gstdio.h>

static const char *source_dir;

static char *
fixture_path (const char *name)
{
  return g_build_filename (source_dir, "tests", "fixtures", "mimic", name, NULL);
}

static void
add_tag (KankyoTagStore *store,
         const char *device,
         const char *name,
         KankyoValueType type,
         double min,
         double max,
         const char *unit)
{
  g_autoptr (KankyoTagSpec) spec = kankyo_tag_spec_new ();

  spec->name = g_strdup (name);
  spec->value_type = type;
  spec->min = min;
  spec->max = max;
  spec->unit = g_strdup (unit);
  kankyo_tag_store_add (store, device, spec);
}

/* The tags the fixtures are written against. */
static KankyoTagStore *
test_store (void)
{
  KankyoTagStore *store = kankyo_tag_store_new ();

  add_tag (store, "room1", "temperature", KANKYO_VALUE_DOUBLE, NAN, NAN, "degC");
  add_tag (store, "room1", "valve", KANKYO_VALUE_DOUBLE, 0, 100, "%");
  add_tag (store, "room1", "name", KANKYO_VALUE_STRING, NAN, NAN, NULL);
  add_tag (store, "room1", "_online", KANKYO_VALUE_BOOL, NAN, NAN, NULL);
  add_tag (store, "ahu1", "fan_running", KANKYO_VALUE_BOOL, NAN, NAN, NULL);
  add_tag (store, "ahu1", "fan_fault", KANKYO_VALUE_BOOL, NAN, NAN, NULL);
  add_tag (store, "ahu1", "_online", KANKYO_VALUE_BOOL, NAN, NAN, NULL);
  return store;
}

static KankyoMimicBindings *
load_files (const char *svg, const char *bindings, KankyoTagStore *store, GError **error)
{
  g_autoptr (GFile) svg_file = g_file_new_for_path (svg);
  g_autoptr (GFile) bindings_file = g_file_new_for_path (bindings);

  return kankyo_mimic_load (svg_file, bindings_file, store, NULL, NULL, error);
}

static void
test_good (void)
{
  g_autoptr (KankyoTagStore) store = test_store ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GFile) svg_file = NULL;
  g_autoptr (GFile) bindings_file = NULL;
  g_autoptr (GBytes) svg_bytes = NULL;
  g_autoptr (KankyoMimicSvg) svg = NULL;
  g_autoptr (KankyoMimicBindings) bindings = NULL;
  g_autofree char *svg_path = fixture_path ("drawing.svg");
  g_autofree char *yaml_path = fixture_path ("good.yaml");
  KankyoMimicBinding *b;
  gint ids[KANKYO_MIMIC_MAX_BINDING_TAGS];

  svg_file = g_file_new_for_path (svg_path);
  bindings_file = g_file_new_for_path (yaml_path);
  bindings = kankyo_mimic_load (svg_file, bindings_file, store, &svg_bytes, &svg, &error);
  g_assert_no_error (error);
  g_assert_nonnull (svg_bytes);
  g_assert_cmpuint (bindings->bindings->len, ==, 6);

  b = g_hash_table_lookup (bindings->by_id, "room1");
  g_assert_cmpstr (b->device, ==, "room1");
  g_assert_null (b->text);

  b = g_hash_table_lookup (bindings->by_id, "room1-temp");
  g_assert_cmpstr (b->device, ==, "room1");
  g_assert_cmpstr (b->text->format, ==, "%.1f");
  g_assert_cmpstr (b->text->unit, ==, "°C");
  g_assert_cmpint (b->text->align, ==, KANKYO_MIMIC_ALIGN_END);
  g_assert_cmpfloat (b->text->font_size, ==, 12);
  g_assert_cmpint (b->text->tag.id, ==, kankyo_tag_store_lookup (store, "room1.temperature"));
  g_assert_cmpuint (b->stroke->n_rules, ==, 3);
  g_assert_cmpint (b->stroke->rules[1].when.op, ==, KANKYO_MIMIC_CONDITION_RANGE);
  g_assert_cmpint (b->stroke->rules[2].state, ==, KANKYO_MIMIC_STATE_ABNORMAL);
  g_assert_cmpuint (kankyo_mimic_binding_get_tags (b, ids), ==, 1);

  b = g_hash_table_lookup (bindings->by_id, "room1-level");
  g_assert_cmpfloat (b->level->min, ==, 0);
  g_assert_cmpfloat (b->level->max, ==, 100);
  g_assert_cmpint (b->level->direction, ==, KANKYO_MIMIC_DIRECTION_RIGHT);

  b = g_hash_table_lookup (bindings->by_id, "fan1-rotor");
  g_assert_cmpstr (b->device, ==, "ahu1");
  g_assert_cmpfloat (b->rotate->rpm, ==, 60);
  g_assert_cmpint (b->blink->state, ==, KANKYO_MIMIC_STATE_ALARM_MEDIUM);
  g_assert_cmpuint (kankyo_mimic_binding_get_tags (b, ids), ==, 2);

  /* What the scan learnt about the drawing. */
  g_assert_cmpstr (kankyo_mimic_svg_get_element (svg, "room1-label"), ==, "text");
  g_assert_cmpstr (kankyo_mimic_svg_get_element (svg, "fan1-rotor"), ==, "g");
  g_assert_cmpstr (kankyo_mimic_svg_get_parent_id (svg, "fan1-rotor"), ==, "fan1");
  g_assert_null (kankyo_mimic_svg_get_parent_id (svg, "room1"));
  g_assert_cmpuint (kankyo_mimic_svg_get_order (svg, "room1"), <,
                    kankyo_mimic_svg_get_order (svg, "room1-temp"));
  g_assert_cmpuint (kankyo_mimic_svg_get_order (svg, "nothing"), ==, G_MAXUINT);
}

static void
test_demo (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *data_dir = g_dir_make_tmp ("kankyo-mimic-XXXXXX", &error);
  KankyoProject *project;
  g_autoptr (KankyoEngine) engine = NULL;
  g_autoptr (GFile) svg_file = NULL;
  g_autoptr (GFile) bindings_file = NULL;
  g_autoptr (KankyoMimicSvg) svg = NULL;
  g_autoptr (KankyoMimicBindings) bindings = NULL;
  g_autoptr (GHashTable) devices = g_hash_table_new (g_str_hash, g_str_equal);
  KankyoAreaConfig *area;
  guint n_text = 0, n_level = 0, n_rotate = 0, n_visible = 0, n_blink = 0, n_states = 0;

  g_assert_no_error (error);
  project = kankyo_engine_load_demo_project (&error);
  g_assert_no_error (error);
  engine = kankyo_engine_new (project, data_dir, &error);
  g_assert_no_error (error);
  project = kankyo_engine_get_project (engine);

  area = g_ptr_array_index (project->areas, 0);
  g_assert_cmpstr (area->name, ==, "suite");
  g_assert_cmpstr (area->mimic_svg, ==, "resource:///org/kankyo/data/demo/suite.svg");
  g_assert_cmpstr (area->mimic_bindings, ==, "resource:///org/kankyo/data/demo/suite-bindings.yaml");

  svg_file = g_file_new_for_uri (area->mimic_svg);
  bindings_file = g_file_new_for_uri (area->mimic_bindings);
  bindings
      = kankyo_mimic_load (svg_file, bindings_file, kankyo_engine_get_tag_store (engine), NULL, &svg, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (bindings->bindings->len, >=, 40);

  for (guint i = 0; i < bindings->bindings->len; i++)
    {
      KankyoMimicBinding *b = g_ptr_array_index (bindings->bindings, i);

      if (kankyo_mimic_svg_get_element (svg, b->id) == NULL)
        g_error ("demo binding '%s' (%s) has no element in suite.svg", b->id, b->location);
      g_assert_nonnull (b->device);
      g_assert_nonnull (kankyo_project_find_device (project, b->device));
      g_hash_table_add (devices, b->device);
      n_text += b->text != NULL;
      n_level += b->level != NULL;
      n_rotate += b->rotate != NULL;
      n_visible += b->visible != NULL;
      n_blink += b->blink != NULL;
      n_states += (b->fill != NULL) + (b->stroke != NULL);
    }
  /* Every device can be reached by a click, and the demo shows each
   * behaviour at least once. */
  for (guint i = 0; i < project->devices->len; i++)
    {
      KankyoDeviceConfig *device = g_ptr_array_index (project->devices, i);

      if (!g_hash_table_contains (devices, device->name))
        g_error ("no element of the demo mimic opens device '%s'", device->name);
    }
  g_assert_cmpuint (n_text, >=, 20);
  g_assert_cmpuint (n_level, >=, 3);
  g_assert_cmpuint (n_rotate, >=, 1);
  g_assert_cmpuint (n_visible, >=, 1);
  g_assert_cmpuint (n_blink, >=, 1);
  g_assert_cmpuint (n_states, >=, 10);

  kankyo_engine_stop (engine);
  g_clear_object (&engine);
  {
    g_autofree char *audit = g_build_filename (data_dir, "audit.db", NULL);
    g_autofree char *wal = g_strconcat (audit, "-wal", NULL);
    g_autofree char *shm = g_strconcat (audit, "-shm", NULL);

    g_unlink (wal);
    g_unlink (shm);
    g_unlink (audit);
    g_rmdir (data_dir);
  }
}

static void
test_bad_fixture (gconstpointer data)
{
  const char *name = data;
  g_autoptr (KankyoTagStore) store = test_store ();
  g_autoptr (GError) error = NULL;
  g_autoptr (KankyoMimicBindings) bindings = NULL;
  g_autofree char *expected_name = g_strconcat ("bad/", name, ".expected", NULL);
  g_autofree char *expected_path = fixture_path (expected_name);
  g_autofree char *svg_name = g_strconcat ("bad/", name, ".svg", NULL);
  g_autofree char *svg_path = fixture_path (svg_name);
  g_autofree char *yaml_name = g_strconcat ("bad/", name, ".yaml", NULL);
  g_autofree char *yaml_path = fixture_path (yaml_name);
  g_autofree char *contents = NULL;
  g_auto (GStrv) lines = NULL;

  g_assert_true (g_file_get_contents (expected_path, &contents, NULL, NULL));
  lines = g_strsplit (g_strchomp (contents), "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), >=, 2);

  if (!g_file_test (svg_path, G_FILE_TEST_EXISTS))
    {
      g_free (svg_path);
      svg_path = fixture_path ("drawing.svg");
    }
  if (!g_file_test (yaml_path, G_FILE_TEST_EXISTS))
    {
      g_free (yaml_path);
      yaml_path = fixture_path ("good.yaml");
    }

  bindings = load_files (svg_path, yaml_path, store, &error);
  g_assert_null (bindings);
  g_assert_nonnull (error);
  g_assert_true (error->domain == KANKYO_PROJECT_ERROR);
  /* The position is the start of the message, after the folder. */
  {
    g_autofree char *prefix = g_strconcat ("/", lines[0], NULL);
    const char *at = strstr (error->message, prefix);

    if (at == NULL || strchr (error->message, ' ') < at)
      g_error ("%s: error \"%s\" does not start at \"%s\"", name, error->message, lines[0]);
  }
  for (guint i = 1; lines[i] != NULL; i++)
    if (strstr (error->message, lines[i]) == NULL)
      g_error ("%s: error \"%s\" lacks \"%s\"", name, error->message, lines[i]);
}

static void
test_too_many_bindings (void)
{
  g_autoptr (GString) yaml = g_string_new ("bindings:\n");
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (KankyoMimicBindings) bindings = NULL;

  for (guint i = 0; i <= KANKYO_MIMIC_MAX_BINDINGS; i++)
    g_string_append_printf (yaml, "  - {id: e%u, device: room1}\n", i);
  bytes = g_bytes_new (yaml->str, yaml->len);
  bindings = kankyo_mimic_bindings_parse (bytes, "many.yaml", &error);
  g_assert_null (bindings);
  g_assert_error (error, KANKYO_PROJECT_ERROR, KANKYO_PROJECT_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "many.yaml:2:3: bindings: at most 10000 entries"));

  /* The bound itself is allowed. */
  g_clear_error (&error);
  g_clear_pointer (&bytes, g_bytes_unref);
  g_string_truncate (yaml, yaml->len - strlen ("  - {id: e10000, device: room1}\n"));
  bytes = g_bytes_new (yaml->str, yaml->len);
  bindings = kankyo_mimic_bindings_parse (bytes, "many.yaml", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (bindings->bindings->len, ==, KANKYO_MIMIC_MAX_BINDINGS);
}

static void
test_svg_too_large (void)
{
  gsize size = KANKYO_MIMIC_MAX_SVG_SIZE + 1;
  g_autofree char *data = g_malloc (size);
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (KankyoMimicSvg) svg = NULL;

  memset (data, ' ', size);
  bytes = g_bytes_new_take (g_steal_pointer (&data), size);
  svg = kankyo_mimic_svg_scan (bytes, "huge.svg", &error);
  g_assert_null (svg);
  g_assert_nonnull (strstr (error->message, "huge.svg: the file is larger than 16 MiB"));
}

static void
test_missing_file (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *svg = fixture_path ("drawing.svg");
  g_autofree char *yaml = fixture_path ("no-such-file.yaml");
  g_autoptr (KankyoMimicBindings) bindings = load_files (svg, yaml, NULL, &error);

  g_assert_null (bindings);
  g_assert_error (error, KANKYO_PROJECT_ERROR, KANKYO_PROJECT_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "no-such-file.yaml: cannot open the file"));
}

static void
test_conditions (void)
{
  static const struct
  {
    const char *text;
    double value;
    gboolean expected;
  } cases[] = {
    { "else", 5, TRUE },  { "true", 1, TRUE },    { "true", 0, FALSE },       { "false", 0, TRUE },
    { "3", 3, TRUE },     { "3", 3.5, FALSE },    { "< 3", 2.9, TRUE },       { "< 3", 3, FALSE },
    { "<= 3", 3, TRUE },  { "> 3", 3, FALSE },    { ">=3", 3, TRUE },         { "== -1.5", -1.5, TRUE },
    { "!= 2", 2, FALSE }, { "18..22", 18, TRUE }, { "18..22", 22.01, FALSE }, { "-5..5", 0, TRUE },
  };
  static const char *const bad[] = { "", "=> 3", "< ", "3..1", "nan", "> inf", "0x10", "on", "< 3 Pa", NULL };
  KankyoMimicCondition c;
  g_auto (KankyoValue) value = KANKYO_VALUE_INIT;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_assert_true (kankyo_mimic_condition_parse (cases[i].text, &c));
      kankyo_value_set_double (&value, cases[i].value);
      if (kankyo_mimic_condition_eval (&c, &value) != cases[i].expected)
        g_error ("'%s' on %g should be %d", cases[i].text, cases[i].value, cases[i].expected);
    }
  for (guint i = 0; bad[i] != NULL; i++)
    if (kankyo_mimic_condition_parse (bad[i], &c))
      g_error ("'%s' should not be a condition", bad[i]);

  /* Bools read as 1 and 0; no value matches nothing but else. */
  g_assert_true (kankyo_mimic_condition_parse ("true", &c));
  kankyo_value_set_bool (&value, TRUE);
  g_assert_true (kankyo_mimic_condition_eval (&c, &value));
  kankyo_value_clear (&value);
  g_assert_false (kankyo_mimic_condition_eval (&c, &value));
  g_assert_true (kankyo_mimic_condition_parse ("else", &c));
  g_assert_true (kankyo_mimic_condition_eval (&c, &value));
}

static void
test_states_and_level (void)
{
  KankyoMimicStates states = { { NULL, NULL, -1 }, { { { 0 } } }, 0 };
  KankyoMimicLevel level = { { NULL, NULL, -1 }, 10, 30, KANKYO_MIMIC_DIRECTION_UP };
  g_auto (KankyoValue) value = KANKYO_VALUE_INIT;

  g_assert_true (kankyo_mimic_condition_parse ("> 23", &states.rules[0].when));
  states.rules[0].state = KANKYO_MIMIC_STATE_ALARM_HIGH;
  g_assert_true (kankyo_mimic_condition_parse ("> 22", &states.rules[1].when));
  states.rules[1].state = KANKYO_MIMIC_STATE_ALARM_MEDIUM;
  states.n_rules = 2;

  kankyo_value_set_double (&value, 24);
  g_assert_cmpint (kankyo_mimic_states_eval (&states, &value), ==, KANKYO_MIMIC_STATE_ALARM_HIGH);
  kankyo_value_set_double (&value, 22.5);
  g_assert_cmpint (kankyo_mimic_states_eval (&states, &value), ==, KANKYO_MIMIC_STATE_ALARM_MEDIUM);
  kankyo_value_set_double (&value, 21);
  g_assert_cmpint (kankyo_mimic_states_eval (&states, &value), ==, KANKYO_MIMIC_STATE_NORMAL);

  kankyo_value_set_double (&value, 15);
  g_assert_cmpfloat_with_epsilon (kankyo_mimic_level_fraction (&level, &value), 0.25, 1e-12);
  kankyo_value_set_double (&value, -100);
  g_assert_cmpfloat (kankyo_mimic_level_fraction (&level, &value), ==, 0);
  kankyo_value_set_double (&value, 1000);
  g_assert_cmpfloat (kankyo_mimic_level_fraction (&level, &value), ==, 1);
  kankyo_value_clear (&value);
  g_assert_true (isnan (kankyo_mimic_level_fraction (&level, &value)));

  g_assert_cmpstr (kankyo_mimic_state_to_string (KANKYO_MIMIC_STATE_ALARM_HIGH), ==, "alarm-high");
  g_assert_false (kankyo_mimic_state_is_colour (KANKYO_MIMIC_STATE_ACTIVE));
  g_assert_true (kankyo_mimic_state_is_colour (KANKYO_MIMIC_STATE_ABNORMAL));
}

static char *
format_double (const char *format, const char *unit, double d)
{
  KankyoMimicText text = { { NULL, NULL, -1 }, (char *) format, (char *) unit, 0, 0 };
  g_auto (KankyoValue) value = KANKYO_VALUE_INIT;

  kankyo_value_set_double (&value, d);
  return kankyo_mimic_text_format (&text, NULL, &value);
}

static void
check_format (const char *format, const char *unit, double d, const char *expected)
{
  g_autofree char *text = format_double (format, unit, d);

  if (g_strcmp0 (text, expected) != 0)
    g_error ("'%s' of %g gave '%s', expected '%s'", format, d, text, expected);
}

static void
test_formats (void)
{
  static const char *const good[]
      = { "%.1f", "%d", "%+05.2f", "%-8s|", "ISO %.1f", "%g", "%.0f %%", "%12.3e", NULL };
  static const struct
  {
    const char *format;
    const char *phrase;
  } bad[] = {
    { "%.1q", "'%q' is not a conversion" }, { "%d %d", "more than one conversion" },
    { "plain", "no conversion" },           { "%123d", "at most two digits" },
    { "%*d", "'%*' is not a conversion" },  { "%ld", "'%l' is not a conversion" },
    { "%n", "'%n' is not a conversion" },   { "%.1", "incomplete" },
    { "%.20f", "above 17 digits" },         { "%.1f and a very long tail of text", "longer than 32" },
  };
  KankyoMimicText text = { { NULL, NULL, -1 }, NULL, NULL, 0, 0 };
  g_autoptr (KankyoTagSpec) spec = kankyo_tag_spec_new ();
  g_auto (KankyoValue) value = KANKYO_VALUE_INIT;
  g_autofree char *shown = NULL;
  const char *saved_locale;

  for (guint i = 0; good[i] != NULL; i++)
    g_assert_true (kankyo_mimic_format_check (good[i], NULL));
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *problem = NULL;

      g_assert_false (kankyo_mimic_format_check (bad[i].format, &problem));
      if (strstr (problem, bad[i].phrase) == NULL)
        g_error ("'%s': problem '%s' lacks '%s'", bad[i].format, problem, bad[i].phrase);
    }

  check_format ("%.1f", "degC", 21.26, "21.3 degC");
  check_format ("%.1f", "", 21.26, "21.3");
  check_format ("%d", NULL, 2.5, "3");
  check_format ("%d", NULL, -2.5, "-3");
  check_format ("%+05d", NULL, 42, "+0042");
  check_format ("%5d|", NULL, -42, "  -42|");
  check_format ("%-5d|", NULL, 42, "42   |");
  check_format ("ISO %.1f", NULL, 4.44, "ISO 4.4");
  check_format ("%.0f %%", NULL, 99.6, "100 %");
  check_format ("%.3e", NULL, 12345, "1.234e+04");
  check_format ("%.3g", NULL, 0.000123456, "0.000123");

  /* The text is the same whatever the operator's locale. */
  saved_locale = setlocale (LC_NUMERIC, NULL);
  {
    g_autofree char *saved = g_strdup (saved_locale);

    if (setlocale (LC_NUMERIC, "de_DE.UTF-8") != NULL || setlocale (LC_NUMERIC, "fr_FR.UTF-8") != NULL)
      check_format ("%.2f", NULL, 1.5, "1.50");
    else
      g_test_message ("no locale with a decimal comma installed; checked in C only");
    setlocale (LC_NUMERIC, saved);
  }

  /* No format: as the tag formats itself, with the tag's unit; strings and bools too. */
  spec->unit = g_strdup ("Pa");
  spec->value_type = KANKYO_VALUE_INT;
  kankyo_value_set_int (&value, 15);
  shown = kankyo_mimic_text_format (&text, spec, &value);
  g_assert_cmpstr (shown, ==, "15 Pa");
  g_clear_pointer (&shown, g_free);
  text.format = (char *) "%s";
  text.unit = (char *) "";
  kankyo_value_set_bool (&value, TRUE);
  shown = kankyo_mimic_text_format (&text, spec, &value);
  g_assert_cmpstr (shown, ==, "true");
  g_clear_pointer (&shown, g_free);
  text.format = (char *) "%.3s";
  kankyo_value_set_string (&value, "running");
  shown = kankyo_mimic_text_format (&text, spec, &value);
  g_assert_cmpstr (shown, ==, "run");
  g_clear_pointer (&shown, g_free);
  /* No value: nothing to show. */
  kankyo_value_clear (&value);
  g_assert_null (kankyo_mimic_text_format (&text, spec, &value));
  /* A number format on text that is not a number shows nothing rather than 0. */
  text.format = (char *) "%.1f";
  kankyo_value_set_string (&value, "n/a");
  g_assert_null (kankyo_mimic_text_format (&text, spec, &value));
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

int
main (int argc, char **argv)
{
  g_autoptr (GDir) dir = NULL;
  g_autofree char *bad_dir = NULL;
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *entry;

  setlocale (LC_ALL, "");
  g_test_init (&argc, &argv, NULL);

  source_dir = g_getenv ("KANKYO_SOURCE_DIR");
  if (source_dir == NULL)
    source_dir = ".";

  g_test_add_func ("/mimic/binding/good", test_good);
  g_test_add_func ("/mimic/binding/demo", test_demo);
  g_test_add_func ("/mimic/binding/too-many", test_too_many_bindings);
  g_test_add_func ("/mimic/binding/missing-file", test_missing_file);
  g_test_add_func ("/mimic/svg/too-large", test_svg_too_large);
  g_test_add_func ("/mimic/eval/conditions", test_conditions);
  g_test_add_func ("/mimic/eval/states-and-level", test_states_and_level);
  g_test_add_func ("/mimic/eval/formats", test_formats);

  bad_dir = fixture_path ("bad");
  dir = g_dir_open (bad_dir, 0, NULL);
  g_assert_nonnull (dir);
  while ((entry = g_dir_read_name (dir)) != NULL)
    if (g_str_has_suffix (entry, ".expected"))
      g_ptr_array_add (names, g_strndup (entry, strlen (entry) - strlen (".expected")));
  g_ptr_array_sort (names, compare_names);
  g_assert_cmpuint (names->len, >=, 10);
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *path = g_strconcat ("/mimic/bad/", (char *) g_ptr_array_index (names, i), NULL);

      g_test_add_data_func (path, g_ptr_array_index (names, i), test_bad_fixture);
    }

  return g_test_run ();
}
