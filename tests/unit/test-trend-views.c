/* test-trend-views.c: saved trend views, as a project keeps them.
 *
 * Views written and read back must come out field for field, whatever their
 * names hold (colons, quotes, words YAML reads as booleans, Japanese); the
 * file sits beside the project or, for the embedded demo, in the data
 * folder; each malformed file fails with the exact line and column of the
 * mistake and the phrase that says what was expected there; and every
 * bound (views per file, pens per view, name and tag length, span, file
 * size) holds at its edge and fails one past it.
 */
#include "kankyo-trend-views.h"

#include <string.h>

#include <glib/gstdio.h>

static char *tmp_dir;

static GPtrArray *
parse (const char *text, GError **error)
{
  return kankyo_trend_views_parse (text, strlen (text), "views.yaml", error);
}

static void
assert_views_equal (GPtrArray *a, GPtrArray *b)
{
  g_assert_cmpuint (a->len, ==, b->len);
  for (guint i = 0; i < a->len; i++)
    {
      KankyoTrendView *x = g_ptr_array_index (a, i);
      KankyoTrendView *y = g_ptr_array_index (b, i);

      g_assert_cmpstr (x->name, ==, y->name);
      g_assert_cmpint (x->span_us, ==, y->span_us);
      g_assert_cmpstrv (x->pens, y->pens);
    }
}

static void
add_view (GPtrArray *views, const char *name, gint64 span_us, const char *const *pens)
{
  g_autoptr (GError) error = NULL;
  KankyoTrendView *view = kankyo_trend_view_new (name, span_us, pens, &error);

  g_assert_no_error (error);
  g_assert_true (kankyo_trend_views_put (views, view, &error));
  g_assert_no_error (error);
}

static void
test_round_trip (void)
{
  static const char *const air[] = { "ahu1.supply_temp", "ahu1.supply_rh", "ahu1.fan_hz", NULL };
  static const char *const one[] = { "th_fill.temperature", NULL };
  static const char *const eight[] = { "a.t1", "a.t2", "a.t3", "a.t4", "a.t5", "a.t6", "a.t7", "a.t8", NULL };
  g_autoptr (GPtrArray) views = g_ptr_array_new_with_free_func ((GDestroyNotify) kankyo_trend_view_free);
  g_autoptr (GPtrArray) back = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (tmp_dir, "sub", "plant.views.yaml", NULL);
  g_autofree char *text = NULL;
  g_autofree char *again = NULL;

  add_view (views, "Supply air: AHU 1 & 2", G_GINT64_CONSTANT (3600) * G_USEC_PER_SEC, air);
  add_view (views, "日本語のビュー", 0, one);
  add_view (views, "true", 90 * G_USEC_PER_SEC, one);
  add_view (views, "123", G_GINT64_CONSTANT (7) * 24 * 3600 * G_USEC_PER_SEC, one);
  add_view (views, "# not a comment 'quoted' \"too\"", 10 * 60 * G_USEC_PER_SEC, eight);
  add_view (views, "null", 10 * G_USEC_PER_SEC, one);

  /* The folder is made when missing. */
  g_assert_true (kankyo_trend_views_save (path, views, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_test_message ("%s", text);
  g_assert_true (g_str_has_prefix (text, "# Trend views"));
  g_assert_nonnull (strstr (text, "\n  span: 1h\n"));
  g_assert_nonnull (strstr (text, "\n  span: 90s\n"));
  g_assert_nonnull (strstr (text, "\n  span: 10s\n"));
  g_assert_nonnull (strstr (text, "\n  span: 7d\n"));
  g_assert_nonnull (strstr (text, "\n  span: 10min\n"));
  g_assert_nonnull (strstr (text, "name: \"true\""));
  g_assert_nonnull (strstr (text, "name: 日本語のビュー\n"));

  back = kankyo_trend_views_load (path, &error);
  g_assert_no_error (error);
  assert_views_equal (views, back);
  g_assert_cmpint (((KankyoTrendView *) g_ptr_array_index (back, 1))->span_us, ==, 0);

  /* Saving what was read writes the same text. */
  again = kankyo_trend_views_to_yaml (back, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (again, ==, text);
}

static void
test_edit (void)
{
  static const char *const a[] = { "x.a", NULL };
  static const char *const b[] = { "x.b", "x.c", NULL };
  g_autoptr (GPtrArray) views = g_ptr_array_new_with_free_func ((GDestroyNotify) kankyo_trend_view_free);
  KankyoTrendView *found;

  add_view (views, "One", 0, a);
  add_view (views, "Two", 0, a);
  /* Same name: replaced in place, not added. */
  add_view (views, "One", 60 * G_USEC_PER_SEC, b);
  g_assert_cmpuint (views->len, ==, 2);
  found = kankyo_trend_views_find (views, "One");
  g_assert_true (found == g_ptr_array_index (views, 0));
  g_assert_cmpint (found->span_us, ==, 60 * G_USEC_PER_SEC);
  g_assert_cmpstrv (found->pens, b);
  g_assert_null (kankyo_trend_views_find (views, "one"));
  g_assert_true (kankyo_trend_views_remove (views, "One"));
  g_assert_false (kankyo_trend_views_remove (views, "One"));
  g_assert_cmpuint (views->len, ==, 1);
  g_assert_cmpstr (((KankyoTrendView *) g_ptr_array_index (views, 0))->name, ==, "Two");
}

static void
test_path (void)
{
  KankyoProject project = { 0 };
  g_autofree char *p1 = NULL, *p2 = NULL, *p3 = NULL, *p4 = NULL;

  project.path = (char *) "/srv/plant/plant.yaml";
  project.dir = (char *) "/srv/plant";
  p1 = kankyo_trend_views_path (&project, "/var/lib/kankyo/plant");
  g_assert_cmpstr (p1, ==, "/srv/plant/plant.views.yaml");

  project.path = (char *) "/srv/plant/line2.yml";
  p2 = kankyo_trend_views_path (&project, "/var/lib/kankyo/plant");
  g_assert_cmpstr (p2, ==, "/srv/plant/line2.views.yaml");

  project.path = (char *) "/srv/plant/project";
  p3 = kankyo_trend_views_path (&project, "/var/lib/kankyo/plant");
  g_assert_cmpstr (p3, ==, "/srv/plant/project.views.yaml");

  /* The embedded demo has no folder of its own. */
  project.path = (char *) "resource:///org/kankyo/data/demo/demo.yaml";
  project.dir = NULL;
  p4 = kankyo_trend_views_path (&project, "/home/op/.local/share/kankyo/demo");
  g_assert_cmpstr (p4, ==, "/home/op/.local/share/kankyo/demo/views.yaml");
}

typedef struct
{
  const char *text;
  const char *where; /* "views.yaml:LINE:COLUMN: " */
  const char *phrase;
  KankyoTrendViewsError code;
} BadFile;

static const BadFile bad_files[] = {
  { "views:\n  - name: A\n    pens: [a.b]\n    colour: red\n", "views.yaml:4:5: ",
    "unknown key 'colour' in a view; expected name, span or pens", KANKYO_TREND_VIEWS_ERROR_INVALID },
  { "views:\n  - name: A\n    span: 3 weeks\n    pens: [a.b]\n",
    "views.yaml:3:11: ", "span: expected a time from 10s to 366d such as 10min, 8h or 7d, found '3 weeks'",
    KANKYO_TREND_VIEWS_ERROR_INVALID },
  { "views:\n  - name: A\n    span: 0s\n    pens: [a.b]\n", "views.yaml:3:11: ", "span: expected a time",
    KANKYO_TREND_VIEWS_ERROR_INVALID },
  { "views:\n  - name: A\n", "views.yaml:2:5: ", "a view: the key 'pens' is missing",
    KANKYO_TREND_VIEWS_ERROR_INVALID },
  { "views:\n  - pens: [a.b]\n", "views.yaml:2:5: ", "a view: the key 'name' is missing",
    KANKYO_TREND_VIEWS_ERROR_INVALID },
  { "views:\n  - name: A\n    pens: [a.b]\n  - name: A\n    pens: [c.d]\n", "views.yaml:4:11: ",
    "name: a view named 'A' is already defined at line 2", KANKYO_TREND_VIEWS_ERROR_INVALID },
  { "views:\n  - name: A\n    name: B\n    pens: [a.b]\n", "views.yaml:3:5: ",
    "duplicate key 'name'; it is already set at line 2, column 5", KANKYO_TREND_VIEWS_ERROR_INVALID },
  { "views:\n  - name: A\n    pens: a.b\n", "views.yaml:3:11: ",
    "pens: expected a list of 1 to 8 tag names, found 'a.b'", KANKYO_TREND_VIEWS_ERROR_INVALID },
  { "views:\n  - name: A\n    pens: [a.b, 'x y']\n", "views.yaml:3:17: ",
    "pens: expected a tag name such as ahu1.supply_temp", KANKYO_TREND_VIEWS_ERROR_INVALID },
  { "views:\n  - name: A\n    pens: [a.b, {tag: c.d}]\n", "views.yaml:3:17: ", "found a mapping",
    KANKYO_TREND_VIEWS_ERROR_INVALID },
  { "views:\n  - name: A\n    pens: []\n", "views.yaml:3:11: ", "pens: expected at least one tag name",
    KANKYO_TREND_VIEWS_ERROR_INVALID },
  { "views:\n  - name: A\n    pens: [a.b, c.d, a.b]\n", "views.yaml:3:22: ", "pens: 'a.b' is listed twice",
    KANKYO_TREND_VIEWS_ERROR_INVALID },
  { "views:\n  - name: \"A\\tB\"\n    pens: [a.b]\n", "views.yaml:2:11: ",
    "name: expected one line of text of 1 to 64 characters", KANKYO_TREND_VIEWS_ERROR_INVALID },
  { "views:\n  - name: ' A'\n    pens: [a.b]\n", "views.yaml:2:11: ", "without spaces at either end",
    KANKYO_TREND_VIEWS_ERROR_INVALID },
  { "views:\n  - name:\n    pens: [a.b]\n", "views.yaml:2:10: ", "name: expected one line of text",
    KANKYO_TREND_VIEWS_ERROR_INVALID },
  { "views:\n  - name: A\n    pens: [a.b\n", "views.yaml:4:1: ", "YAML syntax error",
    KANKYO_TREND_VIEWS_ERROR_SYNTAX },
  { "views:\n  - &first\n    name: A\n    pens: [a.b]\n", "views.yaml:2:5: ", "anchors such as '&first'",
    KANKYO_TREND_VIEWS_ERROR_INVALID },
  { "views:\n  - !view\n    name: A\n", "views.yaml:2:5: ", "tags such as '!view'",
    KANKYO_TREND_VIEWS_ERROR_INVALID },
  { "- a\n", "views.yaml:1:1: ", "the file: expected a mapping with the key 'views', found a list",
    KANKYO_TREND_VIEWS_ERROR_INVALID },
  { "views: 3\n", "views.yaml:1:8: ", "views: expected a list of views, found '3'",
    KANKYO_TREND_VIEWS_ERROR_INVALID },
  { "views:\n  - A\n", "views.yaml:2:5: ", "views: expected a view (a mapping with name and pens), found 'A'",
    KANKYO_TREND_VIEWS_ERROR_INVALID },
  { "views: []\n---\nviews: []\n", "views.yaml:2:1: ", "a file holds one YAML document",
    KANKYO_TREND_VIEWS_ERROR_INVALID },
  { "other: 1\n", "views.yaml:1:1: ", "unknown key 'other' in the file; expected views",
    KANKYO_TREND_VIEWS_ERROR_INVALID },
  { "{}\n", "views.yaml:1:1: ", "the key 'views' is missing", KANKYO_TREND_VIEWS_ERROR_INVALID },
  { "views:\n  - name: ok\n    pens: [a.b]\n  - name: caf\xff\n", "views.yaml:4:14: ", "not UTF-8 text",
    KANKYO_TREND_VIEWS_ERROR_SYNTAX },
};

static void
test_bad_files (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (bad_files); i++)
    {
      const BadFile *bad = &bad_files[i];
      g_autoptr (GError) error = NULL;
      g_autoptr (GPtrArray) views = parse (bad->text, &error);

      g_assert_null (views);
      g_assert_nonnull (error);
      g_test_message ("%s", error->message);
      if (!g_str_has_prefix (error->message, bad->where) || strstr (error->message, bad->phrase) == NULL)
        g_error ("file %u: \"%s\" is not at %s or lacks \"%s\"", i, error->message, bad->where, bad->phrase);
      g_assert_error (error, KANKYO_TREND_VIEWS_ERROR, (gint) bad->code);
    }
}

static void
test_empty (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *missing = g_build_filename (tmp_dir, "no-such.views.yaml", NULL);
  g_autoptr (GPtrArray) none = kankyo_trend_views_load (missing, &error);
  g_autoptr (GPtrArray) empty = parse ("# nothing yet\n", &error);
  g_autoptr (GPtrArray) null_list = parse ("views:\n", &error);
  g_autoptr (GPtrArray) folder = NULL;

  g_assert_no_error (error);
  g_assert_cmpuint (none->len, ==, 0);
  g_assert_cmpuint (empty->len, ==, 0);
  g_assert_cmpuint (null_list->len, ==, 0);

  /* A folder where the file should be is an error, not "no views". */
  folder = kankyo_trend_views_load (tmp_dir, &error);
  g_assert_null (folder);
  g_assert_error (error, KANKYO_TREND_VIEWS_ERROR, KANKYO_TREND_VIEWS_ERROR_IO);
  g_assert_true (g_str_has_prefix (error->message, tmp_dir));
}

/* "views:\n" then @n views of one pen each */
static GString *
views_text (guint n)
{
  GString *s = g_string_new ("views:\n");

  for (guint i = 0; i < n; i++)
    g_string_append_printf (s, "  - name: view %u\n    pens: [a.b]\n", i);
  return s;
}

static void
test_bounds (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) most = views_text (KANKYO_TREND_VIEWS_MAX_VIEWS);
  g_autoptr (GString) too_many = views_text (KANKYO_TREND_VIEWS_MAX_VIEWS + 1);
  g_autoptr (GPtrArray) views = NULL;
  g_autoptr (GString) name = g_string_new (NULL);
  g_autoptr (GString) tag = g_string_new ("d.");
  g_autoptr (GString) big = g_string_new (NULL);
  g_autofree char *text = NULL;
  g_autofree char *where = NULL;
  g_autofree char *big_path = g_build_filename (tmp_dir, "big.views.yaml", NULL);
  static const char *const nine[]
      = { "a.t1", "a.t2", "a.t3", "a.t4", "a.t5", "a.t6", "a.t7", "a.t8", "a.t9", NULL };
  static const char *const one[] = { "a.b", NULL };
  KankyoTrendView *extra;

  /* Views per file: the 65th fails where it starts (line 2 + 2 * 64). */
  views = parse (most->str, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (views->len, ==, KANKYO_TREND_VIEWS_MAX_VIEWS);
  g_assert_null (parse (too_many->str, &error));
  where
      = g_strdup_printf ("views.yaml:%d:5: views: more than 64 views", 2 + 2 * KANKYO_TREND_VIEWS_MAX_VIEWS);
  g_test_message ("%s", error->message);
  g_assert_true (g_str_has_prefix (error->message, where));
  g_clear_error (&error);
  /* ... and one more cannot be added to a full set. */
  extra = kankyo_trend_view_new ("one more", 0, one, &error);
  g_assert_no_error (error);
  g_assert_false (kankyo_trend_views_put (views, extra, &error));
  g_assert_error (error, KANKYO_TREND_VIEWS_ERROR, KANKYO_TREND_VIEWS_ERROR_INVALID);
  g_assert_cmpuint (views->len, ==, KANKYO_TREND_VIEWS_MAX_VIEWS);
  g_clear_error (&error);
  g_clear_pointer (&views, g_ptr_array_unref);

  /* Pens per view: eight, and the ninth fails at its own column. */
  views = parse ("views:\n  - name: A\n    pens: [a.t1, a.t2, a.t3, a.t4, a.t5, a.t6, a.t7, a.t8]\n", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (((KankyoTrendView *) g_ptr_array_index (views, 0))->pens), ==, 8);
  g_clear_pointer (&views, g_ptr_array_unref);
  g_assert_null (parse (
      "views:\n  - name: A\n    pens: [a.t1, a.t2, a.t3, a.t4, a.t5, a.t6, a.t7, a.t8, a.t9]\n", &error));
  g_test_message ("%s", error->message);
  g_assert_true (g_str_has_prefix (error->message, "views.yaml:3:60: pens: more than 8 pens"));
  g_clear_error (&error);
  g_assert_null (kankyo_trend_view_new ("A", 0, nine, &error));
  g_assert_error (error, KANKYO_TREND_VIEWS_ERROR, KANKYO_TREND_VIEWS_ERROR_INVALID);
  g_clear_error (&error);

  /* Name length counts characters, not bytes: 64 three-byte ones fit. */
  for (guint i = 0; i < KANKYO_TREND_VIEWS_MAX_NAME; i++)
    g_string_append (name, "温");
  text = g_strdup_printf ("views:\n  - name: %s\n    pens: [a.b]\n", name->str);
  views = parse (text, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (((KankyoTrendView *) g_ptr_array_index (views, 0))->name, ==, name->str);
  g_clear_pointer (&views, g_ptr_array_unref);
  g_string_append (name, "温");
  g_free (text);
  text = g_strdup_printf ("views:\n  - name: %s\n    pens: [a.b]\n", name->str);
  g_assert_null (parse (text, &error));
  g_assert_true (
      g_str_has_prefix (error->message, "views.yaml:2:11: name: expected one line of text of 1 to 64"));
  g_clear_error (&error);
  g_assert_false (kankyo_trend_views_check_name (name->str, &error));
  g_assert_error (error, KANKYO_TREND_VIEWS_ERROR, KANKYO_TREND_VIEWS_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (kankyo_trend_views_check_name ("", &error));
  g_clear_error (&error);

  /* Tag length in bytes. */
  while (tag->len < KANKYO_TREND_VIEWS_MAX_TAG)
    g_string_append_c (tag, 't');
  g_assert_true (kankyo_trend_views_check_tag (tag->str, &error));
  g_assert_no_error (error);
  g_string_append_c (tag, 't');
  g_assert_false (kankyo_trend_views_check_tag (tag->str, &error));
  g_assert_error (error, KANKYO_TREND_VIEWS_ERROR, KANKYO_TREND_VIEWS_ERROR_INVALID);
  g_clear_error (&error);

  /* Span from ten seconds to 366 days. */
  views = parse ("views:\n  - {name: A, span: 10s, pens: [a.b]}\n  - {name: B, span: 366d, pens: [a.b]}\n",
                 &error);
  g_assert_no_error (error);
  g_assert_cmpint (((KankyoTrendView *) g_ptr_array_index (views, 0))->span_us, ==, 10 * G_USEC_PER_SEC);
  g_assert_cmpint (((KankyoTrendView *) g_ptr_array_index (views, 1))->span_us, ==,
                   KANKYO_TREND_VIEWS_MAX_SPAN_US);
  g_clear_pointer (&views, g_ptr_array_unref);
  g_assert_null (parse ("views:\n  - {name: A, span: 367d, pens: [a.b]}\n", &error));
  g_assert_true (g_str_has_prefix (error->message, "views.yaml:2:21: span: expected"));
  g_clear_error (&error);
  g_assert_null (parse ("views:\n  - {name: A, span: 9s, pens: [a.b]}\n", &error));
  g_assert_true (g_str_has_prefix (error->message, "views.yaml:2:21: span: expected"));
  g_clear_error (&error);
  g_assert_null (kankyo_trend_view_new ("A", KANKYO_TREND_VIEWS_MAX_SPAN_US + 1, one, &error));
  g_assert_error (error, KANKYO_TREND_VIEWS_ERROR, KANKYO_TREND_VIEWS_ERROR_INVALID);
  g_clear_error (&error);

  /* File size: one byte past the limit is refused before parsing. */
  while (big->len <= KANKYO_TREND_VIEWS_MAX_FILE_SIZE)
    g_string_append (big, "# padding padding padding padding padding padding padding padding padding\n");
  g_assert_true (g_file_set_contents (big_path, big->str, (gssize) big->len, NULL));
  g_assert_null (kankyo_trend_views_load (big_path, &error));
  g_test_message ("%s", error->message);
  g_assert_error (error, KANKYO_TREND_VIEWS_ERROR, KANKYO_TREND_VIEWS_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "at most 262144 are allowed"));
  g_clear_error (&error);
  g_string_truncate (big, KANKYO_TREND_VIEWS_MAX_FILE_SIZE - 1);
  g_string_append_c (big, '\n');
  g_assert_true (g_file_set_contents (big_path, big->str, (gssize) big->len, NULL));
  views = kankyo_trend_views_load (big_path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (views->len, ==, 0);
}

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        remove_tree (child);
      else
        g_remove (child);
    }
  g_rmdir (path);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  tmp_dir = g_dir_make_tmp ("kankyo-trend-views-XXXXXX", &error);
  g_assert_no_error (error);

  g_test_add_func ("/trend-views/round-trip", test_round_trip);
  g_test_add_func ("/trend-views/edit", test_edit);
  g_test_add_func ("/trend-views/path", test_path);
  g_test_add_func ("/trend-views/bad-files", test_bad_files);
  g_test_add_func ("/trend-views/empty", test_empty);
  g_test_add_func ("/trend-views/bounds", test_bounds);
  status = g_test_run ();

  remove_tree (tmp_dir);
  g_free (tmp_dir);
  return status;
}
