/* bench-trend.c: paint time of a live 8-pen trend 2,000 pixels wide, under Xvfb.
 *
 * Opens a historian in a temporary folder with eight tags holding the last
 * ten minutes at 10 samples a second, puts a trend chart with all eight
 * pens on the last 10 minutes, live, in a window whose plot is 2,000 pixels
 * wide, and keeps samples arriving from a feeder thread at the same rate
 * while it measures. Each frame in which the chart was drawn is timed from
 * the frame clock's before-paint to its after-paint (layout, snapshot and
 * render); a 2 ms timer measures the longest time the main loop was kept
 * from running. Prints the 95th percentile of the chart's frames as
 * "trend_paint_p95_ms: X (target 8)" and the longest gap, each on its own
 * line, and fails when the p95 reaches 8 ms. A live view moves on by a
 * tenth of its span at a time (a full repaint); the run starts five seconds
 * before such a step, so its cost is in the maximum and the longest gap.
 *
 * --smoke runs a few seconds and fails only when the chart did not scroll.
 */
#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <math.h>
#include <stdlib.h>
#include <time.h>

#include "bench-util.h"
#include "kankyo-historian.h"
#include "kankyo-trend-chart.h"

#define N_PENS 8
#define PLOT_WIDTH 2000
#define RATE_HZ 10
#define SPAN_US (G_GINT64_CONSTANT (600) * G_USEC_PER_SEC)
#define TIMER_MS 2
#define PAINT_P95_TARGET_MS 8.0

static GArray *paint_ms;     /* double, frames in which the chart was drawn */
static GArray *paint_cpu_ms; /* double, the same frames, main thread CPU time */
static GArray *gap_ms;       /* double */
static gint64 frame_start;
static gint64 frame_cpu_start;
static guint64 paints_at_start;
static gint64 last_timer;
static gboolean measuring;
static KankyoTrendChart *chart;

typedef struct
{
  KankyoHistorian *historian;
  guint ids[N_PENS];
  gint stop;     /* atomic */
  gint appended; /* atomic */
} Feeder;

static double
pen_value (guint pen, gint64 t)
{
  double s = t / 1e6;

  /* Each pen its own slow wave with a fast ripple, so columns have a span. */
  return 20 + pen * 5 + 3 * sin (s / (30 + pen * 7)) + 0.4 * sin (s * (3 + pen));
}

static gpointer
feed (gpointer data)
{
  Feeder *f = data;

  while (!g_atomic_int_get (&f->stop))
    {
      gint64 now = g_get_real_time ();

      for (guint i = 0; i < N_PENS; i++)
        if (kankyo_historian_append_double (f->historian, f->ids[i], now, pen_value (i, now),
                                            KANKYO_QUALITY_GOOD))
          g_atomic_int_inc (&f->appended);
      g_usleep (G_USEC_PER_SEC / RATE_HZ);
    }
  return NULL;
}

static void
on_before_paint (GdkFrameClock *clock, gpointer data)
{
  frame_start = g_get_monotonic_time ();
  frame_cpu_start = bench_thread_cpu_us ();
  paints_at_start = kankyo_trend_chart_get_n_paints (chart);
}

/* Only frames that drew the chart count: the live tick also runs frames in
 * which nothing moved by a whole pixel, and those cost nothing. */
static void
on_after_paint (GdkFrameClock *clock, gpointer data)
{
  if (measuring && frame_start != 0 && kankyo_trend_chart_get_n_paints (chart) != paints_at_start)
    {
      double ms = (g_get_monotonic_time () - frame_start) / 1000.0;
      double cpu_ms = (bench_thread_cpu_us () - frame_cpu_start) / 1000.0;

      g_array_append_val (paint_ms, ms);
      g_array_append_val (paint_cpu_ms, cpu_ms);
    }
  frame_start = 0;
}

static gboolean
on_timer (gpointer data)
{
  gint64 now = g_get_monotonic_time ();

  if (measuring && last_timer != 0)
    {
      double ms = (now - last_timer) / 1000.0;

      g_array_append_val (gap_ms, ms);
    }
  last_timer = now;
  return G_SOURCE_CONTINUE;
}

static gboolean
cursor_read (gpointer data)
{
  for (guint i = 0; i < N_PENS; i++)
    if (!kankyo_trend_chart_get_cursor_sample (chart, i, NULL, NULL))
      return FALSE;
  return TRUE;
}

/* The chart reads what arrived while it was measured: a cursor two seconds
 * ago (the feeder stopped just now) finds, for every pen, a sample at most
 * a second older than that. */
static gboolean
newest_sample_shown (void)
{
  gint64 t = g_get_real_time () - 2 * G_USEC_PER_SEC;
  gint64 end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  kankyo_trend_chart_set_cursor (chart, t);
  while (!cursor_read (NULL) && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  for (guint i = 0; i < N_PENS; i++)
    {
      KankyoHistorianSample sample;
      gboolean found = FALSE;

      if (!kankyo_trend_chart_get_cursor_sample (chart, i, &found, &sample) || !found
          || t - sample.time > G_USEC_PER_SEC)
        return FALSE;
    }
  return TRUE;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  KankyoHistorianPolicy every_change = { 0, 0, NULL };
  Feeder feeder = { 0 };
  GThread *thread;
  GtkWindow *window;
  GdkFrameClock *clock;
  graphene_rect_t plot;
  gboolean smoke = argc > 1 && g_str_equal (argv[1], "--smoke");
  guint seconds = smoke ? 3 : 20;
  gint64 now, first_to, last_to;
  int appended_before;
  guint n_frames;
  double p50, p95, p_max, gap_max, gap_p99;
  int status = 0;

  gtk_init ();
  if (g_getenv ("KANKYO_BENCH_SECONDS") != NULL)
    seconds = (guint) CLAMP (g_ascii_strtoull (g_getenv ("KANKYO_BENCH_SECONDS"), NULL, 10), 1, 3600);

  dir = g_dir_make_tmp ("kankyo-bench-trend-XXXXXX", &error);
  g_assert_no_error (error);
  path = g_build_filename (dir, "history.db", NULL);
  feeder.historian = kankyo_historian_open (path, &error);
  g_assert_no_error (error);

  /* The ten minutes the chart opens on. */
  now = g_get_real_time ();
  for (guint i = 0; i < N_PENS; i++)
    {
      g_autofree char *name = g_strdup_printf ("bench.pen%u", i);

      feeder.ids[i] = kankyo_historian_add_tag (feeder.historian, name, "degC", &every_change, &error);
      g_assert_no_error (error);
    }
  for (gint64 t = now - SPAN_US; t < now; t += G_USEC_PER_SEC / RATE_HZ)
    for (guint i = 0; i < N_PENS; i++)
      while (!kankyo_historian_append_double (feeder.historian, feeder.ids[i], t, pen_value (i, t),
                                              KANKYO_QUALITY_GOOD))
        g_usleep (1000); /* the queue is full: let the writer catch up */
  if (!kankyo_historian_flush (feeder.historian, &error))
    g_error ("%s", error->message);

  chart = KANKYO_TREND_CHART (kankyo_trend_chart_new ());
  kankyo_trend_chart_set_historian (chart, feeder.historian);
  for (guint i = 0; i < N_PENS; i++)
    {
      g_autofree char *name = g_strdup_printf ("bench.pen%u", i);
      g_autofree char *label = g_strdup_printf ("Pen %u", i + 1);

      g_assert_cmpint (kankyo_trend_chart_add_pen (chart, name, label, "degC"), ==, (int) i);
    }
  kankyo_trend_chart_set_preset (chart, KANKYO_TREND_RANGE_10_MIN);
  window = GTK_WINDOW (gtk_window_new ());
  gtk_window_set_child (window, GTK_WIDGET (chart));
  gtk_window_present (window);
  bench_run_for (300);
  /* Make the plot itself 2,000 pixels wide, whatever the axes take. */
  g_assert_true (kankyo_trend_chart_get_plot_area (chart, &plot));
  gtk_widget_set_size_request (GTK_WIDGET (chart),
                               gtk_widget_get_width (GTK_WIDGET (chart)) - (int) plot.size.width + PLOT_WIDTH,
                               720);
  bench_run_for (1500); /* allocated at the new size, first read in */
  g_assert_true (kankyo_trend_chart_get_plot_area (chart, &plot));

  thread = g_thread_new ("bench-trend-feeder", feed, &feeder);
  paint_ms = g_array_new (FALSE, FALSE, sizeof (double));
  paint_cpu_ms = g_array_new (FALSE, FALSE, sizeof (double));
  gap_ms = g_array_new (FALSE, FALSE, sizeof (double));
  g_timeout_add_full (G_PRIORITY_HIGH, TIMER_MS, on_timer, NULL, NULL);
  clock = gtk_widget_get_frame_clock (GTK_WIDGET (chart));
  g_assert_nonnull (clock);
  g_signal_connect (clock, "before-paint", G_CALLBACK (on_before_paint), NULL);
  g_signal_connect_after (clock, "after-paint", G_CALLBACK (on_after_paint), NULL);

  /* The view moves on by a minute every minute, repainting all of it:
   * start a few seconds before that so every full run measures one such
   * step among the ordinary frames. */
  kankyo_trend_chart_get_range (chart, NULL, &first_to);
  if (!smoke)
    bench_run_for ((guint) CLAMP ((first_to - g_get_real_time ()) / 1000 - 5000, 0, 60000));
  kankyo_trend_chart_get_range (chart, NULL, &first_to);
  appended_before = g_atomic_int_get (&feeder.appended);
  measuring = TRUE;
  bench_run_for (seconds * 1000);
  measuring = FALSE;
  kankyo_trend_chart_get_range (chart, NULL, &last_to);
  g_atomic_int_set (&feeder.stop, 1);
  g_thread_join (thread);

  n_frames = paint_ms->len;
  p50 = bench_percentile (paint_ms, 50);
  p95 = bench_percentile (paint_ms, 95);
  p_max = bench_percentile (paint_ms, 100);
  gap_p99 = bench_percentile (gap_ms, 99);
  gap_max = bench_percentile (gap_ms, 100);
  g_print (
      "trend of %d pens, plot %.0f px wide, live over the last 10 min, %d samples/s a pen arriving, %u s, "
      "renderer %s\n",
      N_PENS, plot.size.width, RATE_HZ, seconds,
      G_OBJECT_TYPE_NAME (gtk_native_get_renderer (GTK_NATIVE (window))));
  g_print ("samples appended while measuring: %d; chart frames: %u (%.1f/s); "
           "the view moved on by %.0f s (in steps of a tenth of its span)\n",
           g_atomic_int_get (&feeder.appended) - appended_before, n_frames, n_frames / (double) seconds,
           (last_to - first_to) / 1e6);
  g_print ("trend_paint_p95_ms: %.2f (target %.0f)\n", p95, PAINT_P95_TARGET_MS);
  g_print ("trend_paint_p50_ms: %.2f, max %.2f; main thread CPU p50 %.2f, p95 %.2f\n", p50, p_max,
           bench_percentile (paint_cpu_ms, 50), bench_percentile (paint_cpu_ms, 95));
  g_print ("main_loop_longest_gap_ms: %.2f (p99 %.2f, timer every %d ms)\n", gap_max, gap_p99, TIMER_MS);

  if (n_frames < seconds || !newest_sample_shown ())
    {
      g_printerr ("the chart did not follow the data arriving\n");
      status = 1;
    }
  else if (!smoke && !(p95 < PAINT_P95_TARGET_MS))
    {
      g_printerr ("paint p95 %.2f ms is not below %.0f ms\n", p95, PAINT_P95_TARGET_MS);
      status = 1;
    }

  gtk_window_destroy (window);
  bench_run_for (100);
  kankyo_historian_close (feeder.historian);
  bench_remove_dir (dir);
  g_array_unref (paint_ms);
  g_array_unref (paint_cpu_ms);
  g_array_unref (gap_ms);
  return status;
}
