/* bench-historian.c: the historian's ingest rate, storage cost and trend reads.
 *
 * Each figure is printed on its own line as "name: value (target X)":
 *
 *   ingest_ratio          samples a second through append() + flush(),
 *                         deadband 0, against a bare prepared-statement
 *                         SQLite insert loop (one row per sample: tag, time,
 *                         value, quality) with the same batch per
 *                         transaction, WAL and synchronous=NORMAL, measured
 *                         in the same run;
 *   ingest_samples_per_s  the historian's own rate in that run;
 *   bytes_per_sample      file size (WAL included, after the checkpoint of
 *                         close) over stored samples, for 100 tags over a day
 *                         at 1 s: drifting process values with sensor noise,
 *                         half float32 readings, half int16 x0.1, with Bad
 *                         stretches;
 *   trend_query_ms        an 8-pen read, each pen 2,000 bins over 1.25 M
 *                         samples at 1 s, warm cache, median of 9 runs.
 *
 * Exits non-zero when a target is missed. --smoke runs small sizes for the
 * slow test suite and never fails on the numbers.
 */

#define G_LOG_DOMAIN "bench-historian"

#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "kankyo-historian.h"

#define SEC G_TIME_SPAN_SECOND
/* 2024-01-01 00:00:00 UTC. */
#define T0 (G_GINT64_CONSTANT (1704067200) * SEC)
#define INGEST_TAGS 100
#define BATCH 10000
#define INGEST_REPEATS 3
#define TREND_PENS 8
#define TREND_BINS 2000
#define TREND_RUNS 9

#define TARGET_INGEST_RATIO 0.7
#define TARGET_INGEST_RATE 300000.0
#define TARGET_BYTES_PER_SAMPLE 8.0
#define TARGET_TREND_MS 16.0

static gboolean smoke;
static gboolean missed;
static char *tmp_dir;

static void
report (const char *name, double value, const char *comparison, double target, gboolean met)
{
  g_print ("%s: %.*f (target %s %g)%s\n", name, value < 10 ? 3 : 0, value, comparison, target,
           met || smoke ? "" : "  MISSED");
  if (!met)
    missed = TRUE;
}

static char *
fresh_path (const char *name)
{
  char *path = g_build_filename (tmp_dir, name, NULL);
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  g_autofree char *shm = g_strconcat (path, "-shm", NULL);

  g_unlink (path);
  g_unlink (wal);
  g_unlink (shm);
  return path;
}

static void
check (gboolean ok, GError *error)
{
  if (!ok)
    g_error ("%s", error != NULL ? error->message : "failed");
}

typedef struct
{
  gint64 time;
  double value;
  guint tag;
} Row;

/* Every sample differs from the one before, so that deadband 0 stores
 * each. */
static GArray *
ingest_rows (guint n)
{
  GArray *rows = g_array_sized_new (FALSE, FALSE, sizeof (Row), n);

  for (guint i = 0; i < n; i++)
    {
      Row r = { T0 + (gint64) (i / INGEST_TAGS) * SEC,
                (float) (20 + (i % 1000) * 0.01 + (i / INGEST_TAGS) * 1e-4), i % INGEST_TAGS };

      g_array_append_val (rows, r);
    }
  return rows;
}

static double
ingest_historian (GArray *rows)
{
  g_autofree char *path = fresh_path ("ingest-historian.db");
  g_autoptr (GError) error = NULL;
  KankyoHistorian *h = kankyo_historian_open (path, &error);
  KankyoHistorianStats stats;
  guint tags[INGEST_TAGS];
  gint64 start, end;

  check (h != NULL, error);
  for (guint t = 0; t < INGEST_TAGS; t++)
    {
      g_autofree char *name = g_strdup_printf ("ahu%u.supply.t", t);
      KankyoHistorianPolicy policy = { 0, 0, NULL };

      tags[t] = kankyo_historian_add_tag (h, name, "degC", &policy, &error);
      check (tags[t] != 0, error);
    }

  start = g_get_monotonic_time ();
  for (guint off = 0; off < rows->len; off += BATCH)
    {
      for (guint i = off; i < MIN (off + BATCH, rows->len); i++)
        {
          Row *r = &g_array_index (rows, Row, i);

          if (!kankyo_historian_append_double (h, tags[r->tag], r->time, r->value, KANKYO_QUALITY_GOOD))
            g_error ("the historian refused a sample");
        }
      check (kankyo_historian_flush (h, &error), error);
    }
  end = g_get_monotonic_time ();

  kankyo_historian_get_stats (h, &stats);
  if (stats.samples_stored != rows->len || stats.dropped != 0)
    g_error ("stored %" G_GUINT64_FORMAT " of %u samples", stats.samples_stored, rows->len);
  g_free (stats.last_error);
  kankyo_historian_close (h);
  return rows->len / ((end - start) / 1e6);
}

static void
sqlite_check (sqlite3 *db, int rc)
{
  if (rc != SQLITE_OK && rc != SQLITE_DONE)
    g_error ("sqlite: %s", sqlite3_errmsg (db));
}

static double
ingest_bare (GArray *rows)
{
  g_autofree char *path = fresh_path ("ingest-bare.db");
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  gint64 start, end;

  sqlite_check (db, sqlite3_open (path, &db));
  sqlite_check (
      db, sqlite3_exec (db,
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
                        "CREATE TABLE samples (tag INTEGER, time INTEGER, value REAL, quality INTEGER);",
                        NULL, NULL, NULL));
  sqlite_check (db, sqlite3_prepare_v2 (db, "INSERT INTO samples VALUES (?1, ?2, ?3, ?4)", -1, &stmt, NULL));

  start = g_get_monotonic_time ();
  for (guint off = 0; off < rows->len; off += BATCH)
    {
      sqlite_check (db, sqlite3_exec (db, "BEGIN", NULL, NULL, NULL));
      for (guint i = off; i < MIN (off + BATCH, rows->len); i++)
        {
          Row *r = &g_array_index (rows, Row, i);

          sqlite3_bind_int (stmt, 1, r->tag + 1);
          sqlite3_bind_int64 (stmt, 2, r->time);
          sqlite3_bind_double (stmt, 3, r->value);
          sqlite3_bind_int (stmt, 4, KANKYO_QUALITY_GOOD);
          sqlite_check (db, sqlite3_step (stmt));
          sqlite3_reset (stmt);
        }
      sqlite_check (db, sqlite3_exec (db, "COMMIT", NULL, NULL, NULL));
    }
  end = g_get_monotonic_time ();

  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return rows->len / ((end - start) / 1e6);
}

static int
compare_doubles (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

static double
median (GArray *values)
{
  g_array_sort (values, compare_doubles);
  return g_array_index (values, double, values->len / 2);
}

static void
bench_ingest (void)
{
  g_autoptr (GArray) rows = ingest_rows (smoke ? 200000 : 3000000);
  g_autoptr (GArray) hist = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) bare = g_array_new (FALSE, FALSE, sizeof (double));
  double h, b;

  /* Alternating, so that both see the same state of the machine. */
  for (guint i = 0; i < (smoke ? 1 : INGEST_REPEATS); i++)
    {
      double rate = ingest_bare (rows);

      g_array_append_val (bare, rate);
      rate = ingest_historian (rows);
      g_array_append_val (hist, rate);
    }
  h = median (hist);
  b = median (bare);
  g_print (
      "# ingest: historian %.0f samples/s, bare SQLite insert %.0f rows/s, %u samples in batches of %u\n", h,
      b, rows->len, BATCH);
  report ("ingest_ratio", h / b, ">=", TARGET_INGEST_RATIO, h / b >= TARGET_INGEST_RATIO);
  report ("ingest_samples_per_s", h, ">=", TARGET_INGEST_RATE, h >= TARGET_INGEST_RATE);
}

/* A process value: a slow drift (a daily cycle and a random walk) plus
 * sensor noise, read as float32 or as int16 x0.1, with a few Bad stretches. */
typedef struct
{
  double level;
  double walk;
  double noise;
  double phase;
  gboolean int16;
  guint bad_left;
} Signal;

static void
signal_init (Signal *s, GRand *rand, gboolean int16)
{
  s->level = g_rand_double_range (rand, 15, 60);
  s->walk = 0;
  s->noise = int16 ? g_rand_double_range (rand, 0.05, 0.2) : g_rand_double_range (rand, 0.005, 0.05);
  s->phase = g_rand_double_range (rand, 0, 2 * G_PI);
  s->int16 = int16;
  s->bad_left = 0;
}

static double
gaussian (GRand *rand)
{
  double u = g_rand_double_range (rand, 1e-12, 1), v = g_rand_double (rand);

  return sqrt (-2 * log (u)) * cos (2 * G_PI * v);
}

static void
signal_next (Signal *s, GRand *rand, gint64 second, double *ret_value, KankyoQuality *ret_quality)
{
  double v;

  if (s->bad_left == 0 && g_rand_int_range (rand, 0, 20000) == 0)
    s->bad_left = g_rand_int_range (rand, 30, 900);
  if (s->bad_left > 0)
    {
      s->bad_left--;
      *ret_value = NAN;
      *ret_quality = KANKYO_QUALITY_BAD_COMMUNICATION_ERROR;
      return;
    }
  s->walk += gaussian (rand) * 0.002;
  v = s->level + 1.5 * sin (2 * G_PI * second / 86400.0 + s->phase) + s->walk + gaussian (rand) * s->noise;
  *ret_value = s->int16 ? (double) (gint16) lround (v * 10) / 10 : (double) (float) v;
  *ret_quality = KANKYO_QUALITY_GOOD;
}

static KankyoHistorian *
fill (const char *path, guint n_tags, guint seconds, gboolean mixed, guint *tags)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GRand) rand = g_rand_new_with_seed (42);
  g_autofree Signal *signals = g_new0 (Signal, n_tags);
  KankyoHistorian *h = kankyo_historian_open (path, &error);

  check (h != NULL, error);
  for (guint t = 0; t < n_tags; t++)
    {
      g_autofree char *name = g_strdup_printf ("area%u.room%u.%s", t / 10, t % 10, t % 2 ? "rh" : "t");
      KankyoHistorianPolicy policy = { 0, 0, NULL };

      tags[t] = kankyo_historian_add_tag (h, name, t % 2 ? "%" : "degC", &policy, &error);
      check (tags[t] != 0, error);
      signal_init (&signals[t], rand, mixed && t % 2 == 1);
    }
  for (guint s = 0; s < seconds; s++)
    {
      for (guint t = 0; t < n_tags; t++)
        {
          double v;
          KankyoQuality q;

          signal_next (&signals[t], rand, s, &v, &q);
          while (!kankyo_historian_append_double (h, tags[t], T0 + (gint64) s * SEC, v, q))
            g_usleep (1000);
        }
      if ((s + 1) % 100 == 0)
        check (kankyo_historian_flush (h, &error), error);
    }
  check (kankyo_historian_flush (h, &error), error);
  return h;
}

static void
bench_storage (void)
{
  guint n_tags = smoke ? 20 : 100;
  guint seconds = smoke ? 7200 : 86400;
  g_autofree char *path = fresh_path ("storage.db");
  g_autofree guint *tags = g_new (guint, n_tags);
  g_autoptr (GError) error = NULL;
  KankyoHistorian *h = fill (path, n_tags, seconds, TRUE, tags);
  KankyoHistorianStats stats;
  guint64 bytes, samples;
  double per_sample;

  kankyo_historian_get_stats (h, &stats);
  g_free (stats.last_error);
  /* Closing seals the last blocks and checkpoints the log. */
  kankyo_historian_close (h);
  h = kankyo_historian_open (path, &error);
  check (h != NULL, error);
  check (kankyo_historian_get_storage (h, &bytes, &samples, &error), error);
  kankyo_historian_close (h);

  per_sample = (double) bytes / samples;
  g_print ("# storage: %" G_GUINT64_FORMAT " bytes for %" G_GUINT64_FORMAT
           " stored samples of %" G_GUINT64_FORMAT
           " received (%.3f bytes a received sample), %u tags over %u s\n",
           bytes, samples, stats.samples_received, (double) bytes / stats.samples_received, n_tags, seconds);
  report ("bytes_per_sample", per_sample, "<=", TARGET_BYTES_PER_SAMPLE,
          per_sample <= TARGET_BYTES_PER_SAMPLE);
}

static void
bench_trend (void)
{
  guint seconds = smoke ? 100000 : 1250000;
  g_autofree char *path = fresh_path ("trend.db");
  g_autoptr (GArray) times = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GError) error = NULL;
  guint tags[TREND_PENS];
  KankyoHistorian *h = fill (path, TREND_PENS, seconds, FALSE, tags);
  guint64 filled = 0;

  /* The first round warms the cache and is not counted. */
  for (guint run = 0; run <= TREND_RUNS; run++)
    {
      gint64 start = g_get_monotonic_time ();
      double ms;

      for (guint p = 0; p < TREND_PENS; p++)
        {
          g_autoptr (GArray) bins = kankyo_historian_read_binned (h, tags[p], T0, T0 + (gint64) seconds * SEC,
                                                                  TREND_BINS, &error);

          check (bins != NULL, error);
          if (run == 0)
            for (guint i = 0; i < bins->len; i++)
              filled += g_array_index (bins, KankyoHistorianBin, i).count > 0;
        }
      ms = (g_get_monotonic_time () - start) / 1000.0;
      if (run > 0)
        g_array_append_val (times, ms);
    }
  kankyo_historian_close (h);
  if (filled < TREND_PENS * TREND_BINS * 9 / 10)
    g_error ("only %" G_GUINT64_FORMAT " bins hold data", filled);

  g_print ("# trend: %u pens x %u samples at 1 s, %u bins each, from the file as written\n", TREND_PENS,
           seconds, TREND_BINS);
  report ("trend_query_ms", median (times), "<=", TARGET_TREND_MS, median (times) <= TARGET_TREND_MS);
}

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      g_unlink (child);
    }
  g_rmdir (path);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;

  for (int i = 1; i < argc; i++)
    if (strcmp (argv[i], "--smoke") == 0)
      smoke = TRUE;

  tmp_dir = g_dir_make_tmp ("kankyo-bench-historian-XXXXXX", &error);
  check (tmp_dir != NULL, error);

  bench_ingest ();
  bench_storage ();
  bench_trend ();

  remove_tree (tmp_dir);
  g_free (tmp_dir);
  return missed && !smoke ? 1 : 0;
}
