/* bench-util.h: measuring pieces every benchmark here uses. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* CPU time of the calling thread, user and kernel, in microseconds. */
gint64 bench_thread_cpu_us (void);
/* Iterates the thread-default main context for @ms. */
void bench_run_for (guint ms);
/* The @p-th percentile (nearest rank) of an array of doubles, which it
 * sorts; NAN when empty. */
double bench_percentile (GArray *values, double p);
/* Removes the files in @dir, then @dir (the benchmarks make flat ones). */
void bench_remove_dir (const char *dir);

G_END_DECLS
