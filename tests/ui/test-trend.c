/* test-trend.c: the trend window on a real historian, driven by real input.
 *
 * Starts an engine on a one-device project in a temporary folder, records
 * known data into its historian through the historian's own API (a wave
 * sampled every 10 s for two hours, and a square wave with ten minutes of
 * Bad quality in it), and opens the trend window on it under Xvfb. GTK 4.8
 * cannot synthesise input, so the test sends real X events with xdotool:
 * the mouse wheel zooms around the pointer, a drag pans, keys zoom, pan and
 * go live, and a click places the cursor, whose readout is compared with
 * what kankyo_historian_read_raw() says was in force at that time and with
 * the values the test wrote. The Bad stretch must be a gap, in the chart's
 * state and in its pixels; live mode must show a sample appended now; the
 * custom range, saved views (and a broken views file), CSV and PDF exports
 * and the faceplate's Trend button are checked through their own widgets.
 */
#include <gdk/x11/gdkx.h>
#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <math.h>
#include <string.h>

#include "ui-test-util.h"
#include "kankyo-engine.h"
#include "kankyo-faceplate.h"
#include "kankyo-trend-chart.h"
#include "kankyo-trend-views.h"
#include "kankyo-trend-window.h"

#define MINUTE (G_GINT64_CONSTANT (60) * G_USEC_PER_SEC)
#define SAMPLE_US (10 * G_USEC_PER_SEC)
#define N_SAMPLES 720 /* two hours */
#define BAD_FROM (40 * MINUTE)
#define BAD_TO (50 * MINUTE)
#define VIEW_FROM (10 * MINUTE)
#define VIEW_TO (70 * MINUTE)
#define TIMEOUT_MS 15000

static char *data_dir;
static KankyoEngine *engine;
static KankyoHistorian *historian;
static gint64 t0; /* the first sample, on a whole minute three hours ago */
static KankyoTrendWindow *trends;
static KankyoTrendChart *chart;

/* ---- the known data ---- */

static double
wave_value (gint64 t)
{
  double s = (double) (t - t0) / G_USEC_PER_SEC;

  return 20 + 5 * sin (2 * G_PI * s / 3600) + 0.25 * ((gint64) (s / 10) % 3);
}

static double
flaky_value (gint64 t)
{
  return 50 + 10 * (((t - t0) / (5 * MINUTE)) % 2);
}

static gboolean
in_bad_stretch (gint64 t)
{
  return t >= t0 + BAD_FROM && t < t0 + BAD_TO;
}

static void
record_known_data (void)
{
  KankyoHistorianPolicy every_change = { 0, 0, NULL };
  g_autoptr (GError) error = NULL;
  guint wave = kankyo_historian_add_tag (historian, "known.wave", "degC", &every_change, &error);
  guint flaky;

  g_assert_no_error (error);
  flaky = kankyo_historian_add_tag (historian, "known.flaky", "Pa", &every_change, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (kankyo_historian_add_tag (historian, "known.live", "%", &every_change, &error), >, 0);
  g_assert_no_error (error);
  for (guint k = 0; k < N_SAMPLES; k++)
    {
      gint64 t = t0 + k * SAMPLE_US;

      g_assert_true (
          kankyo_historian_append_double (historian, wave, t, wave_value (t), KANKYO_QUALITY_GOOD));
      if (in_bad_stretch (t))
        g_assert_true (kankyo_historian_append_double (historian, flaky, t, NAN,
                                                       KANKYO_QUALITY_BAD_COMMUNICATION_ERROR));
      else
        g_assert_true (
            kankyo_historian_append_double (historian, flaky, t, flaky_value (t), KANKYO_QUALITY_GOOD));
    }
  g_assert_true (kankyo_historian_flush (historian, &error));
  g_assert_no_error (error);
}

/* What the historian says was in force at @t: the last sample at or before it. */
static gboolean
stored_at (const char *tag, gint64 t, KankyoHistorianSample *ret)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) raw = kankyo_historian_read_raw (historian, kankyo_historian_lookup (historian, tag), t,
                                                      t + 1, TRUE, &error);

  g_assert_no_error (error);
  if (raw->len == 0)
    return FALSE;
  *ret = g_array_index (raw, KankyoHistorianSample, raw->len - 1);
  return TRUE;
}

/* ---- main loop helpers ---- */

static gboolean
chart_idle (gpointer data)
{
  return !kankyo_trend_chart_is_loading (data);
}

static void
settle (KankyoTrendChart *c)
{
  ui_test_spin (100);
  g_assert_true (ui_test_wait_for (chart_idle, c, TIMEOUT_MS));
  ui_test_spin (100);
}

/* Widgets in popovers are not children of the window's tree until shown,
 * so menu buttons are searched through their popovers as well. */
static GtkWidget *
window_child (GtkWindow *window, const char *name)
{
  GtkWidget *found = ui_test_find_named (GTK_WIDGET (window), name);

  if (found == NULL)
    g_error ("no widget named %s", name);
  return found;
}

static gboolean
flag_set (gpointer data)
{
  return *(gboolean *) data;
}

static void
on_clicked (GtkButton *button, gpointer data)
{
  *(gboolean *) data = TRUE;
}

static void
press (GtkWidget *button)
{
  gboolean clicked = FALSE;
  gulong handler;

  g_assert_true (GTK_IS_BUTTON (button));
  g_assert_true (gtk_widget_is_sensitive (button));
  handler = g_signal_connect (button, "clicked", G_CALLBACK (on_clicked), &clicked);
  g_assert_true (gtk_widget_activate (button));
  g_assert_true (ui_test_wait_for (flag_set, &clicked, 5000));
  g_signal_handler_disconnect (button, handler);
}

static const char *
label_text (GtkWidget *widget)
{
  g_assert_true (GTK_IS_LABEL (widget));
  return gtk_label_get_text (GTK_LABEL (widget));
}

/* ---- real input through xdotool ---- */

/* A point of the chart in the coordinates of its X window. */
static void
chart_point (double x, double y, int *ret_x, int *ret_y)
{
  GtkNative *native = gtk_widget_get_native (GTK_WIDGET (chart));
  graphene_point_t p;
  double tx = 0, ty = 0;

  g_assert_true (
      gtk_widget_compute_point (GTK_WIDGET (chart), GTK_WIDGET (native), &GRAPHENE_POINT_INIT (x, y), &p));
  gtk_native_get_surface_transform (native, &tx, &ty);
  *ret_x = (int) round (p.x + tx);
  *ret_y = (int) round (p.y + ty);
}

static void
pointer_to (double x, double y)
{
  int sx, sy;

  chart_point (x, y, &sx, &sy);
  ui_test_xdo ("mousemove --window %lu %d %d", ui_test_window_xid (GTK_WINDOW (trends)), sx, sy);
}

static gint64
span (void)
{
  gint64 from, to;

  kankyo_trend_chart_get_range (chart, &from, &to);
  return to - from;
}

static gint64
pixel_time (void)
{
  graphene_rect_t plot;

  g_assert_true (kankyo_trend_chart_get_plot_area (chart, &plot));
  return (gint64) ceil (span () / plot.size.width);
}

typedef struct
{
  gint64 from, to;
} Range;

static gboolean
range_changed (gpointer data)
{
  Range *r = data;
  gint64 from, to;

  kankyo_trend_chart_get_range (chart, &from, &to);
  return from != r->from || to != r->to;
}

static Range
current_range (void)
{
  Range r;

  kankyo_trend_chart_get_range (chart, &r.from, &r.to);
  return r;
}

static void
wait_range_change (Range *before)
{
  g_assert_true (ui_test_wait_for (range_changed, before, 5000));
  settle (chart);
}

static void
assert_near (gint64 actual, gint64 expected, gint64 tolerance, const char *what)
{
  if (llabs (actual - expected) > tolerance)
    g_error ("%s: %" G_GINT64_FORMAT " µs off (tolerance %" G_GINT64_FORMAT ")", what, actual - expected,
             tolerance);
}

/* A live view ends at most a tenth of its span after now. */
static void
assert_live_now_inside (void)
{
  gint64 now = g_get_real_time ();
  Range r = current_range ();

  g_assert_cmpint (r.to, >, now - G_USEC_PER_SEC);
  g_assert_cmpint (r.to - now, <=, (r.to - r.from) / 10 + G_USEC_PER_SEC);
}

/* ---- pixels ---- */

typedef struct
{
  int width, height;
  guchar *pixels; /* B G R A, premultiplied; opaque here */
} Shot;

static GdkTexture *
render (GtkWidget *widget, gboolean on_white)
{
  g_autoptr (GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  g_autoptr (GskRenderNode) node = NULL;
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  GdkRGBA white = { 1, 1, 1, 1 };

  if (on_white)
    gtk_snapshot_append_color (snapshot, &white, &GRAPHENE_RECT_INIT (0, 0, width, height));
  gdk_paintable_snapshot (paintable, snapshot, width, height);
  node = gtk_snapshot_free_to_node (snapshot);
  return gsk_renderer_render_texture (gtk_native_get_renderer (gtk_widget_get_native (widget)), node,
                                      &GRAPHENE_RECT_INIT (0, 0, width, height));
}

/* The whole window as a PNG in $KANKYO_BUILD_DIR/tests/ui/@name for people,
 * and the chart's pixels, in its own coordinates, for the test. */
static Shot
screenshot (const char *name)
{
  const char *build_dir = g_getenv ("KANKYO_BUILD_DIR");
  g_autofree char *path = g_build_filename (build_dir ? build_dir : ".", "tests", "ui", name, NULL);
  g_autoptr (GdkTexture) window_texture = NULL;
  g_autoptr (GdkTexture) chart_texture = NULL;
  Shot shot;

  g_assert_true (ui_test_wait_for (ui_test_is_allocated, trends, 5000));
  window_texture = render (GTK_WIDGET (trends), FALSE);
  g_assert_true (gdk_texture_save_to_png (window_texture, path));
  chart_texture = render (GTK_WIDGET (chart), TRUE);
  shot.width = gdk_texture_get_width (chart_texture);
  shot.height = gdk_texture_get_height (chart_texture);
  shot.pixels = g_malloc ((gsize) shot.width * shot.height * 4);
  gdk_texture_download (chart_texture, shot.pixels, (gsize) shot.width * 4);
  return shot;
}

static gboolean
is_color (const guchar *p, const GdkRGBA *c)
{
  return abs (p[2] - (int) (c->red * 255)) <= 12 && abs (p[1] - (int) (c->green * 255)) <= 12
         && abs (p[0] - (int) (c->blue * 255)) <= 12;
}

/* In column @x, within @area: pixels of @color, and pixels darker than
 * the plot's paper (hatching, lines, text). */
static void
count_column (
    const Shot *shot, int x, const graphene_rect_t *area, const GdkRGBA *color, int *ret_color, int *ret_ink)
{
  *ret_color = 0;
  *ret_ink = 0;
  for (int y = (int) area->origin.y + 1; y < (int) (area->origin.y + area->size.height) - 1; y++)
    {
      const guchar *p = shot->pixels + ((gsize) y * shot->width + x) * 4;

      *ret_color += is_color (p, color);
      *ret_ink += (p[0] + p[1] + p[2]) / 3 < 200;
    }
}

/* ---- tests ---- */

static gboolean
window_ready (gpointer data)
{
  return kankyo_trend_window_is_ready (data) && gtk_widget_get_mapped (GTK_WIDGET (data));
}

static gboolean
revealed (gpointer data)
{
  return gtk_revealer_get_child_revealed (data);
}

static void
test_custom_range (void)
{
  GtkWindow *w = GTK_WINDOW (trends);
  GtkWidget *from_entry = window_child (w, "from-entry");
  GtkWidget *to_entry = window_child (w, "to-entry");
  GtkWidget *apply = window_child (w, "apply-range-button");
  GtkWidget *message = window_child (w, "range-message");
  g_autoptr (GDateTime) a = g_date_time_new_from_unix_local ((t0 + VIEW_FROM) / G_USEC_PER_SEC);
  g_autoptr (GDateTime) b = g_date_time_new_from_unix_local ((t0 + VIEW_TO) / G_USEC_PER_SEC);
  g_autofree char *a_text = g_date_time_format (a, "%Y-%m-%d %H:%M");
  g_autofree char *b_text = g_date_time_format (b, "%Y-%m-%d %H:%M");
  gint64 from, to;

  /* A preset: the last hour, live. */
  press (window_child (w, "preset-1h"));
  g_assert_true (kankyo_trend_chart_get_live (chart));
  g_assert_cmpint (span (), ==, 60 * MINUTE);
  g_assert_cmpint (kankyo_trend_chart_get_preset (chart), ==, KANKYO_TREND_RANGE_1_H);
  g_assert_true (gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (window_child (w, "live-toggle"))));

  press (window_child (w, "preset-custom"));
  g_assert_true (ui_test_wait_for (revealed, gtk_widget_get_ancestor (apply, GTK_TYPE_REVEALER), 5000));
  gtk_editable_set_text (GTK_EDITABLE (from_entry), "2024-13-01 10:00");
  g_test_message ("month 13: %s", label_text (message));
  g_assert_cmpstr (label_text (message), ==, "Enter the start as a date and time such as 2024-05-03 14:30.");
  g_assert_false (gtk_widget_get_sensitive (apply));
  g_assert_true (gtk_widget_has_css_class (from_entry, "error"));

  gtk_editable_set_text (GTK_EDITABLE (from_entry), b_text);
  gtk_editable_set_text (GTK_EDITABLE (to_entry), a_text);
  g_assert_cmpstr (label_text (message), ==, "The end must be after the start.");
  g_assert_false (gtk_widget_get_sensitive (apply));

  gtk_editable_set_text (GTK_EDITABLE (from_entry), a_text);
  gtk_editable_set_text (GTK_EDITABLE (to_entry), "tomorrow");
  g_assert_cmpstr (label_text (message), ==, "Enter the end as a date and time such as 2024-05-03 18:00.");

  gtk_editable_set_text (GTK_EDITABLE (to_entry), b_text);
  g_assert_true (gtk_widget_get_sensitive (apply));
  g_assert_false (gtk_widget_has_css_class (message, "error"));
  press (apply);
  settle (chart);
  kankyo_trend_chart_get_range (chart, &from, &to);
  g_assert_false (kankyo_trend_chart_get_live (chart));
  g_assert_cmpint (from, ==, t0 + VIEW_FROM);
  g_assert_cmpint (to, ==, t0 + VIEW_TO);
  g_assert_cmpint (kankyo_trend_chart_get_preset (chart), ==, KANKYO_TREND_RANGE_CUSTOM);
  g_assert_null (kankyo_trend_chart_get_error (chart));
}

static void
test_zoom_pan (void)
{
  graphene_rect_t plot;
  Range before;
  gint64 anchor, old_span, shift;
  double x, y;
  int sx1, sy1, sx2, sy2;

  kankyo_trend_chart_set_range (chart, t0 + VIEW_FROM, t0 + VIEW_TO);
  settle (chart);
  g_assert_true (kankyo_trend_chart_get_plot_area (chart, &plot));
  y = round (plot.origin.y + plot.size.height / 2);

  /* The wheel zooms in around the pointer: the time under it stays. */
  x = round (plot.origin.x + plot.size.width * 0.25);
  pointer_to (x, y);
  anchor = kankyo_trend_chart_x_to_time (chart, x);
  old_span = span ();
  before = current_range ();
  ui_test_xdo ("click 4");
  wait_range_change (&before);
  g_test_message ("wheel up at x %.0f: span %" G_GINT64_FORMAT " s -> %" G_GINT64_FORMAT " s", x,
                  old_span / G_USEC_PER_SEC, span () / G_USEC_PER_SEC);
  assert_near (span (), old_span * 4 / 5, 1000, "span after zooming in");
  assert_near (kankyo_trend_chart_x_to_time (chart, x), anchor, pixel_time (), "time under the pointer");
  g_assert_false (kankyo_trend_chart_get_live (chart));

  /* Two notches out, elsewhere. */
  x = round (plot.origin.x + plot.size.width * 0.7);
  pointer_to (x, y);
  anchor = kankyo_trend_chart_x_to_time (chart, x);
  old_span = span ();
  before = current_range ();
  ui_test_xdo ("click --repeat 2 --delay 80 5");
  wait_range_change (&before);
  ui_test_spin (200);
  assert_near (span (), (gint64) (old_span * 1.25 * 1.25), 2000, "span after zooming out");
  assert_near (kankyo_trend_chart_x_to_time (chart, x), anchor, pixel_time (), "time under the pointer");

  /* A drag 200 pixels to the left shows 200 pixels' time later. */
  before = current_range ();
  shift = (gint64) (200 * (double) span () / plot.size.width);
  chart_point (plot.origin.x + plot.size.width * 0.6, y, &sx1, &sy1);
  chart_point (plot.origin.x + plot.size.width * 0.6 - 200, y, &sx2, &sy2);
  ui_test_xdo ("mousemove --window %lu %d %d mousedown 1", ui_test_window_xid (GTK_WINDOW (trends)), sx1,
               sy1);
  for (int i = 1; i <= 4; i++)
    ui_test_xdo ("mousemove --window %lu %d %d", ui_test_window_xid (GTK_WINDOW (trends)),
                 sx1 + (sx2 - sx1) * i / 4, sy2);
  ui_test_xdo ("mouseup 1");
  wait_range_change (&before);
  g_test_message ("drag: from moved by %" G_GINT64_FORMAT " s",
                  (current_range ().from - before.from) / G_USEC_PER_SEC);
  assert_near (current_range ().from, before.from + shift, pixel_time (), "start after the drag");
  assert_near (current_range ().to, before.to + shift, pixel_time (), "end after the drag");
  /* A drag is not a click: no cursor was pinned. */
  g_assert_true (gtk_widget_has_focus (GTK_WIDGET (chart)));

  /* Keys, with the pointer off the chart so no cursor is the anchor. */
  ui_test_xdo ("mousemove --window %lu 5 5", ui_test_window_xid (GTK_WINDOW (trends)));
  g_assert_false (kankyo_trend_chart_get_cursor (chart, NULL));
  before = current_range ();
  ui_test_xdo ("key minus");
  wait_range_change (&before);
  assert_near (span (), (before.to - before.from) * 3 / 2, 2000, "span after '-'");
  assert_near (current_range ().from + span () / 2, before.from + (before.to - before.from) / 2, 2,
               "centre after '-'");
  before = current_range ();
  ui_test_xdo ("key Left");
  wait_range_change (&before);
  assert_near (current_range ().from, before.from - (before.to - before.from) / 10, 2, "start after Left");
  before = current_range ();
  ui_test_xdo ("key plus");
  wait_range_change (&before);
  assert_near (span (), (gint64) ((before.to - before.from) / 1.5), 2000, "span after '+'");
  before = current_range ();
  ui_test_xdo ("key End");
  g_assert_true (ui_test_wait_for (range_changed, &before, 5000));
  g_assert_true (kankyo_trend_chart_get_live (chart));
  assert_live_now_inside ();
  kankyo_trend_chart_set_range (chart, t0 + VIEW_FROM, t0 + VIEW_TO);
  settle (chart);
}

static gboolean
cursor_read (gpointer data)
{
  for (guint i = 0; i < kankyo_trend_chart_get_n_pens (chart); i++)
    if (!kankyo_trend_chart_get_cursor_sample (chart, i, NULL, NULL))
      return FALSE;
  return TRUE;
}

/* The chart's reading for every pen against the historian and the data. */
static void
check_readout (void)
{
  g_autofree char *readout = NULL;
  gint64 t;

  g_assert_true (kankyo_trend_chart_get_cursor (chart, &t));
  g_assert_true (ui_test_wait_for (cursor_read, NULL, TIMEOUT_MS));
  readout = kankyo_trend_chart_get_cursor_readout (chart);
  g_test_message ("readout:\n%s", readout);
  for (guint i = 0; i < kankyo_trend_chart_get_n_pens (chart); i++)
    {
      const char *tag = kankyo_trend_chart_get_pen_tag (chart, i);
      KankyoHistorianSample shown = { 0 }, stored = { 0 };
      gboolean found = FALSE;
      gint64 expected_time = t0 + (t - t0) / SAMPLE_US * SAMPLE_US;

      g_assert_true (kankyo_trend_chart_get_cursor_sample (chart, i, &found, &shown));
      g_assert_true (found);
      g_assert_true (stored_at (tag, t, &stored));
      g_assert_cmpint (shown.time, ==, stored.time);
      g_assert_cmpint (shown.quality, ==, stored.quality);
      if (g_str_equal (tag, "known.wave"))
        {
          g_autofree char *number = kankyo_format_double (wave_value (expected_time), 6);
          g_autofree char *text = g_strdup_printf ("known.wave: %s degC at ", number);

          /* Every wave sample was stored: the one in force is the last 10 s step. */
          g_assert_cmpint (shown.time, ==, expected_time);
          g_assert_cmpfloat_with_epsilon (shown.value, wave_value (expected_time), 1e-9);
          g_assert_cmpfloat_with_epsilon (shown.value, stored.value, 1e-12);
          g_assert_nonnull (strstr (readout, text));
        }
      else if (in_bad_stretch (t))
        {
          g_assert_true (kankyo_quality_is_bad (shown.quality));
          g_assert_nonnull (strstr (readout, "known.flaky: Bad: communication lost at "));
        }
      else
        {
          g_autofree char *number = kankyo_format_double (flaky_value (expected_time), 6);
          g_autofree char *text = g_strdup_printf ("known.flaky: %s Pa at ", number);

          /* Stored only when it changed: its value, not its time, is the data's. */
          g_assert_cmpint (shown.quality, ==, KANKYO_QUALITY_GOOD);
          g_assert_cmpfloat_with_epsilon (shown.value, flaky_value (expected_time), 1e-9);
          g_assert_cmpint (shown.time, <=, t);
          g_assert_nonnull (strstr (readout, text));
        }
    }
}

static gboolean
cursor_pinned_at (gpointer data)
{
  gint64 t;

  return kankyo_trend_chart_get_cursor (chart, &t) && llabs (t - *(gint64 *) data) <= pixel_time ();
}

static void
test_cursor (void)
{
  gint64 targets[] = { t0 + 25 * MINUTE + 3 * G_USEC_PER_SEC, t0 + 45 * MINUTE + 7 * G_USEC_PER_SEC };
  gint64 t, before;

  for (guint i = 0; i < G_N_ELEMENTS (targets); i++)
    {
      double x = round (kankyo_trend_chart_time_to_x (chart, targets[i]));
      graphene_rect_t plot;
      gint64 expected = kankyo_trend_chart_x_to_time (chart, x);

      g_assert_true (kankyo_trend_chart_get_plot_area (chart, &plot));
      pointer_to (x, plot.origin.y + plot.size.height * 0.4);
      ui_test_xdo ("click 1");
      g_assert_true (ui_test_wait_for (cursor_pinned_at, &expected, 5000));
      /* The pointer leaving does not take a pinned cursor away. */
      ui_test_xdo ("mousemove --window %lu 5 5", ui_test_window_xid (GTK_WINDOW (trends)));
      g_assert_true (kankyo_trend_chart_get_cursor (chart, &t));
      g_test_message ("clicked at x %.0f: cursor %" G_GINT64_FORMAT " s after the first sample", x,
                      (t - t0) / G_USEC_PER_SEC);
      check_readout ();
    }

  g_free (screenshot ("trend-cursor.png").pixels);

  /* Shift+Right steps the cursor by a pixel; Escape takes it away. */
  g_assert_true (kankyo_trend_chart_get_cursor (chart, &before));
  ui_test_xdo ("key shift+Right");
  g_assert_true (kankyo_trend_chart_get_cursor (chart, &t));
  assert_near (t - before, pixel_time (), 2, "cursor step");
  check_readout ();
  ui_test_xdo ("key Escape");
  g_assert_false (kankyo_trend_chart_get_cursor (chart, NULL));
  g_assert_null (kankyo_trend_chart_get_cursor_readout (chart));
}

static void
test_gap (void)
{
  int flaky = kankyo_trend_chart_find_pen (chart, "known.flaky");
  int wave = kankyo_trend_chart_find_pen (chart, "known.wave");
  g_autoptr (GArray) bad = NULL;
  g_autoptr (GArray) none = NULL;
  graphene_rect_t lane;
  GdkRGBA color;
  Shot shot;
  int x_bad0, x_bad1, x_good0, x_good1, gap_color = 0, gap_ink = 0, gap_columns = 0, good_columns = 0;
  int longest_missing = 0;

  g_assert_cmpint (flaky, >=, 0);
  kankyo_trend_chart_set_range (chart, t0 + VIEW_FROM, t0 + VIEW_TO);
  settle (chart);

  /* In the chart's state: one stretch without a line, where quality was Bad. */
  bad = kankyo_trend_chart_get_bad_ranges (chart, (guint) flaky);
  g_assert_cmpuint (bad->len, ==, 2);
  g_test_message ("gap from %+.1f s to %+.1f s of the Bad stretch",
                  (g_array_index (bad, gint64, 0) - (t0 + BAD_FROM)) / 1e6,
                  (g_array_index (bad, gint64, 1) - (t0 + BAD_TO)) / 1e6);
  assert_near (g_array_index (bad, gint64, 0), t0 + BAD_FROM, pixel_time () * 2, "gap start");
  assert_near (g_array_index (bad, gint64, 1), t0 + BAD_TO, pixel_time () * 2, "gap end");
  none = kankyo_trend_chart_get_bad_ranges (chart, (guint) wave);
  g_assert_cmpuint (none->len, ==, 0);

  /* In its pixels: in the flaky pen's lane, no line but hatching in the
   * stretch; the line everywhere else. */
  g_assert_true (kankyo_trend_chart_get_pen_area (chart, (guint) flaky, &lane));
  kankyo_trend_chart_get_pen_color (chart, (guint) flaky, &color);
  shot = screenshot ("trend-gap.png");
  x_bad0 = (int) kankyo_trend_chart_time_to_x (chart, t0 + BAD_FROM) + 12;
  x_bad1 = (int) kankyo_trend_chart_time_to_x (chart, t0 + BAD_TO) - 12;
  /* Clear of the pen's name at the lane's top left. */
  x_good0 = (int) kankyo_trend_chart_time_to_x (chart, t0 + 22 * MINUTE);
  x_good1 = (int) kankyo_trend_chart_time_to_x (chart, t0 + 38 * MINUTE);
  for (int x = x_bad0; x < x_bad1; x++)
    {
      int c, ink;

      count_column (&shot, x, &lane, &color, &c, &ink);
      gap_color += c;
      gap_ink += ink;
      gap_columns++;
    }
  for (int x = x_good0, missing = 0; x < x_good1; x++)
    {
      int c, ink;

      count_column (&shot, x, &lane, &color, &c, &ink);
      good_columns += c >= 2;
      missing = c >= 2 ? 0 : missing + 1;
      longest_missing = MAX (longest_missing, missing);
    }
  g_test_message ("Bad stretch: %d columns, %d pixels of the pen, %.2f ink a column; good stretch: %d of %d "
                  "columns drawn, at most %d in a row not (a marker's ring)",
                  gap_columns, gap_color, (double) gap_ink / gap_columns, good_columns, x_good1 - x_good0,
                  longest_missing);
  g_assert_cmpint (gap_columns, >, 20);
  g_assert_cmpint (gap_color, ==, 0);
  g_assert_cmpfloat ((double) gap_ink / gap_columns, >, lane.size.height * 0.15);
  g_assert_cmpint (good_columns, >=, (x_good1 - x_good0) * 85 / 100);
  g_assert_cmpint (longest_missing, <=, 16);
  g_free (shot.pixels);

  /* Axes side by side: both pens over the whole plot. */
  press (window_child (GTK_WINDOW (trends), "stacked-toggle"));
  g_assert_false (kankyo_trend_chart_get_stacked (chart));
  ui_test_spin (300);
  for (guint i = 0; i < kankyo_trend_chart_get_n_pens (chart); i++)
    {
      graphene_rect_t plot, area;

      g_assert_true (kankyo_trend_chart_get_plot_area (chart, &plot));
      g_assert_true (kankyo_trend_chart_get_pen_area (chart, i, &area));
      g_assert_true (graphene_rect_equal (&plot, &area));
    }
  g_free (screenshot ("trend-overlaid.png").pixels);
  press (window_child (GTK_WINDOW (trends), "stacked-toggle"));
  g_assert_true (kankyo_trend_chart_get_stacked (chart));
  settle (chart);
}

/* Pixels of the only pen in the 40 columns up to now. */
static gboolean
live_pen_drawn (gpointer data)
{
  graphene_rect_t lane;
  GdkRGBA color;
  Shot shot;
  int now_x = (int) kankyo_trend_chart_time_to_x (chart, g_get_real_time ());
  int n = 0;

  g_assert_true (kankyo_trend_chart_get_pen_area (chart, 0, &lane));
  kankyo_trend_chart_get_pen_color (chart, 0, &color);
  shot = screenshot ("trend-live.png");
  for (int x = MAX (now_x - 40, (int) lane.origin.x); x <= now_x; x++)
    {
      int c, ink;

      count_column (&shot, x, &lane, &color, &c, &ink);
      n += c;
    }
  g_free (shot.pixels);
  *(int *) data = n;
  return n > 0;
}

static gboolean
view_moved_on (gpointer data)
{
  return current_range ().to > *(gint64 *) data;
}

static void
test_live (void)
{
  guint id = kankyo_historian_lookup (historian, "known.live");
  g_autoptr (GError) error = NULL;
  gint64 now, to;
  int drawn = 0;

  kankyo_trend_chart_clear_pens (chart);
  g_assert_true (kankyo_trend_window_add_tag (trends, "known.live"));
  press (window_child (GTK_WINDOW (trends), "preset-10min"));
  g_assert_true (kankyo_trend_chart_get_live (chart));
  assert_live_now_inside ();
  settle (chart);
  ui_test_spin (1500);
  /* Nothing recorded yet: nothing drawn. */
  g_assert_false (live_pen_drawn (&drawn));

  now = g_get_real_time ();
  g_assert_true (
      kankyo_historian_append_double (historian, id, now - 2 * G_USEC_PER_SEC, 40, KANKYO_QUALITY_GOOD));
  g_assert_true (kankyo_historian_append_double (historian, id, now, 42, KANKYO_QUALITY_GOOD));
  g_assert_true (kankyo_historian_flush (historian, &error));
  g_assert_no_error (error);
  /* A screenshot takes longer than the main loop's timers: checking after
   * each iteration would starve the frame clock that moves the chart. */
  for (guint i = 0; i < TIMEOUT_MS / 250 && !live_pen_drawn (&drawn); i++)
    ui_test_spin (250);
  g_test_message ("live: %d pixels of the new samples up to now", drawn);
  g_assert_cmpint (drawn, >, 0);
  assert_live_now_inside ();
  g_assert_cmpint (span (), ==, 10 * MINUTE);

  /* The view follows the clock: over 30 s it moves on in 3 s steps. */
  now = g_get_real_time ();
  kankyo_trend_chart_set_range (chart, now - 30 * G_USEC_PER_SEC, now);
  kankyo_trend_chart_set_live (chart, TRUE);
  assert_live_now_inside ();
  to = current_range ().to;
  g_assert_true (ui_test_wait_for (view_moved_on, &to, 8000));
  g_test_message ("live over 30 s: the end moved on by %.1f s", (current_range ().to - to) / 1e6);
  g_assert_cmpint ((current_range ().to - to) % (3 * G_USEC_PER_SEC), ==, 0);
  assert_live_now_inside ();
  kankyo_trend_chart_clear_pens (chart);
}

static gboolean
file_exists (gpointer data)
{
  return g_file_test (data, G_FILE_TEST_EXISTS);
}

static GtkListBoxRow *
view_row (GtkWindow *window, const char *name)
{
  GtkWidget *list = window_child (window, "views-list");

  for (GtkWidget *row = gtk_widget_get_first_child (list); row != NULL;
       row = gtk_widget_get_next_sibling (row))
    if (g_strcmp0 (gtk_widget_get_name (row), name) == 0)
      return GTK_LIST_BOX_ROW (row);
  return NULL;
}

static void
test_views (void)
{
  GtkWindow *w = GTK_WINDOW (trends);
  g_autofree char *path = g_build_filename (data_dir, "trend.views.yaml", NULL);
  g_autoptr (GPtrArray) saved = NULL;
  g_autoptr (GError) error = NULL;
  KankyoTrendView *view;
  GtkWidget *entry, *save;

  kankyo_trend_chart_clear_pens (chart);
  g_assert_true (kankyo_trend_window_add_tag (trends, "known.wave"));
  g_assert_true (kankyo_trend_window_add_tag (trends, "known.flaky"));
  kankyo_trend_chart_set_range (chart, t0 + VIEW_FROM, t0 + VIEW_TO);

  gtk_menu_button_popup (GTK_MENU_BUTTON (window_child (w, "save-view-button")));
  ui_test_spin (100);
  entry = window_child (w, "save-name-entry");
  save = window_child (w, "save-confirm-button");
  gtk_editable_set_text (GTK_EDITABLE (entry), "   ");
  g_assert_false (gtk_widget_get_sensitive (save));
  gtk_editable_set_text (GTK_EDITABLE (entry), "Known data: wave & flaky");
  g_assert_true (gtk_widget_get_sensitive (save));
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  press (save);
  g_assert_true (ui_test_wait_for (file_exists, path, TIMEOUT_MS));
  ui_test_spin (200);

  saved = kankyo_trend_views_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (saved->len, ==, 1);
  view = g_ptr_array_index (saved, 0);
  g_assert_cmpstr (view->name, ==, "Known data: wave & flaky");
  g_assert_cmpint (view->span_us, ==, VIEW_TO - VIEW_FROM);
  g_assert_cmpstrv (view->pens, ((const char *[]){ "known.wave", "known.flaky", NULL }));
  g_assert_cmpstr (label_text (window_child (w, "trend-subtitle")), ==, "Known data: wave & flaky");

  /* Opened again from the list: the same pens, over the last hour, live. */
  kankyo_trend_chart_clear_pens (chart);
  kankyo_trend_window_show_views (trends);
  ui_test_spin (100);
  g_assert_nonnull (view_row (w, "Known data: wave & flaky"));
  g_signal_emit_by_name (window_child (w, "views-list"), "row-activated",
                         view_row (w, "Known data: wave & flaky"));
  g_assert_cmpuint (kankyo_trend_chart_get_n_pens (chart), ==, 2);
  g_assert_cmpstr (kankyo_trend_chart_get_pen_tag (chart, 0), ==, "known.wave");
  /* Not a tag of the project: its unit comes from the historian. */
  settle (chart);
  g_assert_cmpstr (kankyo_trend_chart_get_pen_unit (chart, 0), ==, "degC");
  g_assert_cmpstr (kankyo_trend_chart_get_pen_tag (chart, 1), ==, "known.flaky");
  g_assert_true (kankyo_trend_chart_get_live (chart));
  g_assert_cmpint (kankyo_trend_chart_get_preset (chart), ==, KANKYO_TREND_RANGE_1_H);
  g_assert_true (gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (window_child (w, "preset-1h"))));
  kankyo_trend_chart_set_range (chart, t0 + VIEW_FROM, t0 + VIEW_TO);
  settle (chart);
}

static void
test_bad_views_file (void)
{
  g_autofree char *path = g_build_filename (data_dir, "trend.views.yaml", NULL);
  g_autofree char *good = NULL;
  KankyoTrendWindow *second;
  GtkWidget *message;

  g_assert_true (g_file_get_contents (path, &good, NULL, NULL));
  g_assert_true (
      g_file_set_contents (path, "views:\n  - name: Broken\n    pens: [a.b]\n    colour: red\n", -1, NULL));
  second = kankyo_trend_window_new (NULL, engine);
  gtk_window_present (GTK_WINDOW (second));
  g_assert_true (ui_test_wait_for (window_ready, second, TIMEOUT_MS));
  message = window_child (GTK_WINDOW (second), "message-label");
  g_test_message ("%s", label_text (message));
  g_assert_true (gtk_widget_get_visible (message));
  g_assert_true (gtk_widget_has_css_class (message, "error"));
  g_assert_nonnull (strstr (label_text (message), "trend.views.yaml:4:5: unknown key 'colour' in a view"));
  /* The broken file is never overwritten by a save. */
  g_assert_true (kankyo_trend_window_add_tag (second, "known.wave"));
  gtk_editable_set_text (GTK_EDITABLE (window_child (GTK_WINDOW (second), "save-name-entry")), "Another");
  g_assert_false (gtk_widget_get_sensitive (window_child (GTK_WINDOW (second), "save-confirm-button")));
  gtk_window_destroy (GTK_WINDOW (second));
  g_assert_true (g_file_set_contents (path, good, -1, NULL));
}

static gboolean
not_exporting (gpointer data)
{
  return !kankyo_trend_window_is_exporting (data);
}

static guint
count_lines_with (const char *text, const char *needle)
{
  guint n = 0;

  for (const char *p = strstr (text, needle); p != NULL; p = strstr (p + 1, needle))
    n++;
  return n;
}

static void
test_export_csv (void)
{
  g_autofree char *path = g_build_filename (data_dir, "export.csv", NULL);
  g_autofree char *part = g_strconcat (path, ".part", NULL);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autofree char *text = NULL;
  g_autoptr (GArray) flaky = NULL;
  g_autoptr (GError) error = NULL;
  GtkWidget *message = window_child (GTK_WINDOW (trends), "message-label");

  kankyo_trend_chart_set_range (chart, t0, t0 + 60 * MINUTE);
  kankyo_trend_window_export_csv (trends, file, 0, FALSE);
  g_assert_true (kankyo_trend_window_is_exporting (trends));
  g_assert_true (gtk_revealer_get_reveal_child (GTK_REVEALER (
      gtk_widget_get_ancestor (window_child (GTK_WINDOW (trends), "progress-bar"), GTK_TYPE_REVEALER))));
  g_assert_true (ui_test_wait_for (not_exporting, trends, TIMEOUT_MS));
  g_test_message ("%s", label_text (message));
  g_assert_true (g_str_has_prefix (label_text (message), "Exported to "));
  g_assert_false (gtk_widget_has_css_class (message, "error"));
  g_assert_false (g_file_test (part, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  flaky = kankyo_historian_read_raw (historian, kankyo_historian_lookup (historian, "known.flaky"), t0,
                                     t0 + 60 * MINUTE, FALSE, &error);
  g_assert_no_error (error);
  /* Every raw sample of the hour, one row each. */
  g_assert_cmpuint (count_lines_with (text, ",known.wave,"), ==, 360);
  g_assert_cmpuint (count_lines_with (text, ",known.flaky,"), ==, flaky->len);
  g_test_message ("CSV: %u wave rows, %u flaky rows", 360, flaky->len);
}

static void
test_export_pdf (void)
{
  g_autofree char *path = g_build_filename (data_dir, "report.pdf", NULL);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autofree char *data = NULL;
  GtkWidget *message = window_child (GTK_WINDOW (trends), "message-label");
  gsize length = 0;

  kankyo_trend_chart_set_range (chart, t0, t0 + 60 * MINUTE);
  kankyo_trend_window_export_pdf (trends, file, "Known data");
  g_assert_true (kankyo_trend_window_is_exporting (trends));
  g_assert_true (ui_test_wait_for (not_exporting, trends, TIMEOUT_MS));
  g_test_message ("%s", label_text (message));
  g_assert_true (g_str_has_prefix (label_text (message), "Exported to "));
  g_assert_true (g_file_get_contents (path, &data, &length, NULL));
  g_assert_cmpuint (length, >, 1000);
  g_assert_true (g_str_has_prefix (data, "%PDF-"));
}

static KankyoTrendWindow *
other_trend_window (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr (GObject) item = g_list_model_get_item (toplevels, i);

      if (KANKYO_IS_TREND_WINDOW (item) && item != G_OBJECT (trends))
        return KANKYO_TREND_WINDOW (item);
    }
  return NULL;
}

static void
test_faceplate_button (void)
{
  GtkWindow *plate = GTK_WINDOW (gtk_window_new ());
  KankyoTrendWindow *opened;
  KankyoTrendChart *c;

  gtk_window_set_default_size (plate, 900, 400);
  gtk_window_set_child (plate, kankyo_faceplate_new (engine, "dev"));
  gtk_window_present (plate);
  ui_test_spin (200);
  g_assert_null (other_trend_window ());
  press (window_child (plate, "trend:dev.temp"));
  opened = other_trend_window ();
  g_assert_nonnull (opened);
  g_assert_true (gtk_window_get_transient_for (GTK_WINDOW (opened)) == plate);
  c = kankyo_trend_window_get_chart (opened);
  g_assert_cmpuint (kankyo_trend_chart_get_n_pens (c), ==, 1);
  g_assert_cmpstr (kankyo_trend_chart_get_pen_tag (c, 0), ==, "dev.temp");
  g_assert_cmpstr (kankyo_trend_chart_get_pen_label (c, 0), ==, "Room temperature");
  g_assert_cmpstr (kankyo_trend_chart_get_pen_unit (c, 0), ==, "degC");
  g_assert_true (ui_test_wait_for (window_ready, opened, TIMEOUT_MS));
  settle (c);
  gtk_window_destroy (plate);
  ui_test_spin (100);
  /* It closes with the window it came from. */
  g_assert_null (other_trend_window ());
}

/* ---- set-up ---- */

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
  g_autofree char *project_path = NULL;
  KankyoProject *project;
  int status;

  data_dir = g_dir_make_tmp ("kankyo-trend-XXXXXX", &error);
  g_assert_no_error (error);
  g_setenv ("KANKYO_DATA_DIR", data_dir, TRUE);
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  gtk_test_init (&argc, &argv, NULL);

  project_path = g_build_filename (data_dir, "trend.yaml", NULL);
  g_assert_true (
      g_file_set_contents (project_path,
                           "project: Trend test\n"
                           "areas:\n"
                           "  - name: lab\n"
                           "    devices:\n"
                           "      - name: dev\n"
                           "        endpoint: simulated\n"
                           "        poll-period: 500ms\n"
                           "        tags:\n"
                           "          - {name: temp, label: Room temperature, area: holding, address: 0,\n"
                           "             type: int16, scale: 0.1, unit: degC,\n"
                           "             simulate: {value: 21, noise: 0.3}}\n",
                           -1, &error));
  project = kankyo_project_load (project_path, &error);
  g_assert_no_error (error);
  engine = kankyo_engine_new (project, data_dir, &error);
  g_assert_no_error (error);
  g_assert_true (kankyo_engine_start (engine, &error));
  g_assert_no_error (error);
  historian = kankyo_engine_get_historian (engine);
  g_assert_nonnull (historian);
  t0 = (g_get_real_time () - 3 * 60 * MINUTE) / MINUTE * MINUTE;
  record_known_data ();

  trends = kankyo_trend_window_new (NULL, engine);
  chart = kankyo_trend_window_get_chart (trends);
  gtk_window_set_default_size (GTK_WINDOW (trends), 1200, 720);
  gtk_window_present (GTK_WINDOW (trends));
  g_assert_true (ui_test_wait_for (window_ready, trends, TIMEOUT_MS));
  g_assert_true (kankyo_trend_window_add_tag (trends, "known.wave"));
  g_assert_true (kankyo_trend_window_add_tag (trends, "known.flaky"));
  g_assert_false (kankyo_trend_window_add_tag (trends, "known.flaky"));
  ui_test_spin (300);

  g_test_add_func ("/ui/trend/custom-range", test_custom_range);
  g_test_add_func ("/ui/trend/zoom-pan", test_zoom_pan);
  g_test_add_func ("/ui/trend/cursor", test_cursor);
  g_test_add_func ("/ui/trend/gap", test_gap);
  g_test_add_func ("/ui/trend/live", test_live);
  g_test_add_func ("/ui/trend/views", test_views);
  g_test_add_func ("/ui/trend/bad-views-file", test_bad_views_file);
  g_test_add_func ("/ui/trend/export-csv", test_export_csv);
  g_test_add_func ("/ui/trend/export-pdf", test_export_pdf);
  g_test_add_func ("/ui/trend/faceplate", test_faceplate_button);
  status = g_test_run ();

  gtk_window_destroy (GTK_WINDOW (trends));
  ui_test_spin (100);
  kankyo_engine_stop (engine);
  g_clear_object (&engine);
  /* GTask's idle worker threads retire on a timer; one retiring while
   * LeakSanitizer stops the world at exit can crash its tracer. */
  g_thread_pool_stop_unused_threads ();
  ui_test_spin (100);
  remove_tree (data_dir);
  g_free (data_dir);
  return status;
}
