/* test-mimic-view.c: the mimic view as an operator sees it, under Xvfb.
 *
 * The demo's mimic is loaded into a real window on the demo project's tag
 * store (the engine is not started, so the test publishes the values itself
 * and knows what must be on screen); the view's own rendering is then read
 * back by pixels: a drawing that is not blank, a value box that turns red
 * with its shape when its tag goes into a high-priority alarm, a hatch over
 * a value that goes bad. Broken drawings and binding files must show their
 * error in the view, naming the file, line and element id, never a blank.
 */
#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <math.h>
#include <string.h>

#include "kankyo-engine.h"
#include "kankyo-mimic-view.h"

#define DRAWING_WIDTH 1000.0
#define DRAWING_HEIGHT 600.0

static KankyoEngine *engine;
static GtkWindow *window;
static GtkWidget *view;
static char *data_dir;

static gboolean
tick (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

static void
spin (guint ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;
  guint source = g_timeout_add (10, tick, NULL);

  while (g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (source);
}

static void
publish (const char *name, double value, KankyoQuality quality)
{
  KankyoTagStore *store = kankyo_engine_get_tag_store (engine);
  KankyoTagSample sample = { 0 };
  gint id = kankyo_tag_store_lookup (store, name);

  g_assert_cmpint (id, >=, 0);
  sample.tag_id = (guint) id;
  sample.quality = quality;
  sample.source_time = g_get_real_time () - 90 * G_USEC_PER_SEC;
  if (kankyo_tag_store_get_spec (store, id)->value_type == KANKYO_VALUE_BOOL)
    kankyo_value_set_bool (&sample.value, value != 0);
  else
    kankyo_value_set_double (&sample.value, value);
  kankyo_tag_store_publish (store, &sample, 1);
  kankyo_value_clear (&sample.value);
}

/* What the view draws, as the renderer of its window makes it. */
static GdkTexture *
render_view (void)
{
  g_autoptr (GdkPaintable) paintable = gtk_widget_paintable_new (view);
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  int width = gtk_widget_get_width (view);
  int height = gtk_widget_get_height (view);
  g_autoptr (GskRenderNode) node = NULL;
  GskRenderer *renderer = gtk_native_get_renderer (gtk_widget_get_native (view));

  gdk_paintable_snapshot (paintable, snapshot, width, height);
  node = gtk_snapshot_free_to_node (snapshot);
  g_assert_nonnull (node);
  return gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, width, height));
}

typedef struct
{
  guint n;
  guint red;  /* clearly red pixels */
  guint dark; /* dark grey pixels (text) */
  guint grey; /* mid grey pixels (hatching) */
  guint non_background;
} Counts;

/* Counts pixels of a rectangle given in the drawing's coordinates. */
static Counts
count_pixels (GdkTexture *texture, double x, double y, double w, double h)
{
  int width = gdk_texture_get_width (texture);
  int height = gdk_texture_get_height (texture);
  double scale
      = MIN (gtk_widget_get_width (view) / DRAWING_WIDTH, gtk_widget_get_height (view) / DRAWING_HEIGHT);
  double ox = floor ((gtk_widget_get_width (view) - DRAWING_WIDTH * scale) / 2);
  double oy = floor ((gtk_widget_get_height (view) - DRAWING_HEIGHT * scale) / 2);
  double factor = width / (double) gtk_widget_get_width (view);
  g_autofree guchar *data = g_malloc ((gsize) width * height * 4);
  Counts c = { 0 };

  gdk_texture_download (texture, data, (gsize) width * 4);
  for (int py = (int) ((oy + y * scale) * factor); py < (int) ((oy + (y + h) * scale) * factor); py++)
    for (int px = (int) ((ox + x * scale) * factor); px < (int) ((ox + (x + w) * scale) * factor); px++)
      {
        const guchar *p = data + ((gsize) py * width + px) * 4; /* B G R A, premultiplied */
        int b = p[0], g = p[1], r = p[2];

        if (px < 0 || py < 0 || px >= width || py >= height)
          continue;
        c.n++;
        if (r > 150 && g < 90 && b < 90)
          c.red++;
        if (r < 110 && g < 110 && b < 110)
          c.dark++;
        if (r >= 150 && r <= 215 && abs (r - g) < 12 && abs (g - b) < 12)
          c.grey++;
        if (abs (r - 0xe6) > 8 || abs (g - 0xe6) > 8 || abs (b - 0xe6) > 8)
          c.non_background++;
      }
  return c;
}

static gboolean
error_shown (const char **ret_text)
{
  for (GtkWidget *child = gtk_widget_get_first_child (view); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (g_strcmp0 (gtk_widget_get_name (child), "mimic-error") == 0 && gtk_widget_get_visible (child))
      {
        *ret_text = gtk_label_get_text (GTK_LABEL (child));
        return TRUE;
      }
  return FALSE;
}

static void
load_demo (void)
{
  KankyoAreaConfig *area = g_ptr_array_index (kankyo_engine_get_project (engine)->areas, 0);
  g_autoptr (GFile) svg = g_file_new_for_uri (area->mimic_svg);
  g_autoptr (GFile) bindings = g_file_new_for_uri (area->mimic_bindings);
  g_autoptr (GError) error = NULL;
  const char *text;

  g_assert_true (kankyo_mimic_view_load (KANKYO_MIMIC_VIEW (view), svg, bindings, &error));
  g_assert_no_error (error);
  g_assert_false (error_shown (&text));
}

static void
test_demo_values (void)
{
  g_autoptr (GdkTexture) normal = NULL;
  g_autoptr (GdkTexture) alarm = NULL;
  Counts whole, before, after;

  publish ("th_fill._online", 1, KANKYO_QUALITY_GOOD);
  publish ("th_fill.temperature", 20.9, KANKYO_QUALITY_GOOD);
  load_demo ();
  spin (300);
  normal = render_view ();
  whole = count_pixels (normal, 0, 0, DRAWING_WIDTH, DRAWING_HEIGHT);
  g_test_message ("drawing: %u of %u pixels drawn", whole.non_background, whole.n);
  g_assert_cmpuint (whole.non_background, >, whole.n / 5);

  /* The fill room's temperature box (suite.svg: x 792, y 424, 80 x 18) and
   * its mark at the top right corner. */
  before = count_pixels (normal, 786, 416, 96, 30);
  g_assert_cmpuint (before.dark, >, 20); /* "20.9 °C" */
  g_assert_cmpuint (before.red, <, 5);

  publish ("th_fill.temperature", 24.2, KANKYO_QUALITY_GOOD);
  spin (300);
  alarm = render_view ();
  after = count_pixels (alarm, 786, 416, 96, 30);
  g_test_message ("temperature box: %u red pixels in alarm, %u before", after.red, before.red);
  g_assert_cmpuint (after.red, >, 40);
}

static void
test_stale_hatched (void)
{
  g_autoptr (GdkTexture) good = NULL;
  g_autoptr (GdkTexture) bad = NULL;
  Counts before, after;

  publish ("th_corridor._online", 1, KANKYO_QUALITY_GOOD);
  publish ("th_corridor.humidity", 45, KANKYO_QUALITY_GOOD);
  load_demo ();
  spin (300);
  good = render_view ();
  /* Inside the corridor's RH box (x 582, y 446, 80 x 18). */
  before = count_pixels (good, 584, 448, 76, 14);

  publish ("th_corridor.humidity", 45, KANKYO_QUALITY_BAD_COMMUNICATION_ERROR);
  spin (300);
  bad = render_view ();
  after = count_pixels (bad, 584, 448, 76, 14);
  g_test_message ("RH box: %u grey pixels bad, %u good", after.grey, before.grey);
  g_assert_cmpuint (after.grey, >, before.grey + 100);
}

static void
check_error (const char *svg_name, const char *bindings_name, const char *const *phrases)
{
  g_autofree char *svg_path
      = g_build_filename (g_getenv ("KANKYO_SOURCE_DIR"), "tests", "fixtures", "mimic", svg_name, NULL);
  g_autofree char *bindings_path
      = g_build_filename (g_getenv ("KANKYO_SOURCE_DIR"), "tests", "fixtures", "mimic", bindings_name, NULL);
  g_autoptr (GFile) svg = g_file_new_for_path (svg_path);
  g_autoptr (GFile) bindings = g_file_new_for_path (bindings_path);
  g_autoptr (GError) error = NULL;
  g_autoptr (GdkTexture) shot = NULL;
  const char *text = NULL;

  g_assert_false (kankyo_mimic_view_load (KANKYO_MIMIC_VIEW (view), svg, bindings, &error));
  g_assert_nonnull (error);
  spin (200);
  g_assert_true (error_shown (&text));
  for (guint i = 0; phrases[i] != NULL; i++)
    if (strstr (text, phrases[i]) == NULL)
      g_error ("the view shows \"%s\", without \"%s\"", text, phrases[i]);
  /* Drawn, not blank. */
  shot = render_view ();
  g_assert_cmpuint (count_pixels (shot, 0, 0, DRAWING_WIDTH, DRAWING_HEIGHT).non_background, >, 100);
}

static void
test_errors_shown (void)
{
  const char *const malformed[] = { "svg-unclosed.svg:4:7:", "not a well-formed SVG file", NULL };
  const char *const unknown_id[] = { "unknown-id.yaml:4:9:", "'room1-tmp'", "drawing.svg", NULL };
  const char *const unknown_tag[] = { "unknown-tag.yaml:4:12:", "room1.temprature", NULL };

  check_error ("bad/svg-unclosed.svg", "good.yaml", malformed);
  check_error ("drawing.svg", "bad/unknown-id.yaml", unknown_id);
  /* The demo's store has no room1: every tag of the fixture is unknown. */
  check_error ("drawing.svg", "bad/unknown-tag.yaml", unknown_tag);
  /* A good load afterwards clears the error. */
  load_demo ();
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  KankyoProject *project;
  int status;

  gtk_test_init (&argc, &argv, NULL);

  data_dir = g_dir_make_tmp ("kankyo-mimic-view-XXXXXX", &error);
  g_assert_no_error (error);
  project = kankyo_engine_load_demo_project (&error);
  g_assert_no_error (error);
  engine = kankyo_engine_new (project, data_dir, &error);
  g_assert_no_error (error);

  window = GTK_WINDOW (gtk_window_new ());
  gtk_window_set_default_size (window, 1000, 600);
  view = kankyo_mimic_view_new (engine);
  gtk_window_set_child (window, view);
  gtk_window_present (window);
  spin (500);

  g_test_add_func ("/mimic-view/demo-values", test_demo_values);
  g_test_add_func ("/mimic-view/stale-hatched", test_stale_hatched);
  g_test_add_func ("/mimic-view/errors-shown", test_errors_shown);
  status = g_test_run ();

  gtk_window_destroy (window);
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
  g_free (data_dir);
  return status;
}
