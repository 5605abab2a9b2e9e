/* bench-util.c: measuring pieces every benchmark here uses. */
#include "bench-util.h"

#include <glib/gstdio.h>
#include <math.h>
#include <time.h>

gint64
bench_thread_cpu_us (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * G_GINT64_CONSTANT (1000000) + ts.tv_nsec / 1000;
}

static gboolean
stop_loop (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

void
bench_run_for (guint ms)
{
  gboolean done = FALSE;

  g_timeout_add (ms, stop_loop, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

static int
compare_doubles (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

double
bench_percentile (GArray *values, double p)
{
  guint index;

  if (values->len == 0)
    return NAN;
  g_array_sort (values, compare_doubles);
  index = (guint) MIN (values->len - 1, MAX (ceil (p / 100 * values->len), 1) - 1);
  return g_array_index (values, double, index);
}

void
bench_remove_dir (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      g_unlink (path);
    }
  g_rmdir (dir);
}
