/* test-historian.c: the historian against real SQLite files.
 *
 * Stored samples are checked against a model of the deadband, heartbeat and
 * quality rules written here independently; rollups, binned reads and
 * retention against brute-force computations from the raw samples read
 * back; crash safety by killing historian-burst with SIGKILL mid-ingest.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <sys/wait.h>

#include "kankyo-historian.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3, sqlite3_close)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)

#define SEC G_TIME_SPAN_SECOND
#define MINUTE (60 * SEC)
#define HOUR (60 * MINUTE)
/* 2024-01-01 00:00:00 UTC, on a day, hour and minute edge. */
#define T0 (G_GINT64_CONSTANT (1704067200) * SEC)
#define BURST_ROUNDS 4
#define BURST_TAGS 8
#define BURST_BASE T0
#define BURST_STEP 1000
#define BURST_BATCH_MAX 65536

static char *tmp_dir;
static guint db_counter;

static char *
db_path (const char *name)
{
  return g_strdup_printf ("%s/%s-%u.db", tmp_dir, name, db_counter++);
}

static KankyoHistorian *
open_ok (const char *path)
{
  g_autoptr (GError) error = NULL;
  KankyoHistorian *h = kankyo_historian_open (path, &error);

  g_assert_no_error (error);
  g_assert_nonnull (h);
  return h;
}

static guint
add_tag_ok (KankyoHistorian *h, const char *name, double deadband, gint64 heartbeat, const char *tag_class)
{
  g_autoptr (GError) error = NULL;
  KankyoHistorianPolicy policy = { deadband, heartbeat, tag_class };
  guint id = kankyo_historian_add_tag (h, name, "degC", &policy, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (id, >, 0);
  return id;
}

static void
flush_ok (KankyoHistorian *h)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (kankyo_historian_flush (h, &error));
  g_assert_no_error (error);
}

static GArray *
read_all (KankyoHistorian *h, guint tag)
{
  g_autoptr (GError) error = NULL;
  GArray *a = kankyo_historian_read_raw (h, tag, 0, G_GINT64_CONSTANT (1) << 58, FALSE, &error);

  g_assert_no_error (error);
  g_assert_nonnull (a);
  return a;
}

/* ---- an input stream and the model of what gets stored ---- */

typedef struct
{
  gint64 time;
  double value;
  KankyoQuality quality;
} In;

/* A drifting process value with noise, 1 s polls with jitter, Bad and
 * Uncertain stretches, and now and then a flat stretch that only the
 * heartbeat records. */
static GArray *
make_stream (GRand *rand, gint64 start, guint n, gboolean decimal)
{
  GArray *a = g_array_new (FALSE, FALSE, sizeof (In));
  double level = 20.0;
  guint bad_left = 0, flat_left = 0;
  KankyoQuality bad_quality = KANKYO_QUALITY_BAD_COMMUNICATION_ERROR;
  gint64 t = start;

  for (guint i = 0; i < n; i++)
    {
      In in;

      /* Land exactly on minute edges now and then. */
      if (g_rand_int_range (rand, 0, 50) == 0)
        t = (t / MINUTE + 1) * MINUTE;
      else
        t += g_rand_int_range (rand, 0, 20) == 0 ? g_rand_int_range (rand, 1, 5000) : SEC;
      if (bad_left == 0 && g_rand_int_range (rand, 0, 400) == 0)
        {
          bad_left = g_rand_int_range (rand, 1, 150);
          bad_quality = g_rand_boolean (rand) ? KANKYO_QUALITY_BAD_COMMUNICATION_ERROR
                                              : KANKYO_QUALITY_BAD_NO_COMMUNICATION;
        }
      if (flat_left == 0 && g_rand_int_range (rand, 0, 300) == 0)
        flat_left = g_rand_int_range (rand, 10, 400);
      if (flat_left == 0)
        level += g_rand_double_range (rand, -0.05, 0.05);
      else
        flat_left--;

      in.time = t;
      if (decimal)
        in.value = round ((level + (flat_left ? 0 : g_rand_double_range (rand, -0.3, 0.3))) * 10) / 10;
      else
        in.value = (float) (level + (flat_left ? 0 : g_rand_double_range (rand, -0.3, 0.3)));
      in.quality = KANKYO_QUALITY_GOOD;
      if (bad_left > 0)
        {
          bad_left--;
          in.quality = bad_quality;
        }
      else if (g_rand_int_range (rand, 0, 500) == 0)
        in.quality = KANKYO_QUALITY_UNCERTAIN_LAST_USABLE_VALUE;
      g_array_append_val (a, in);
    }
  return a;
}

typedef struct
{
  double deadband;
  gint64 heartbeat;
  gboolean has_last;
  KankyoHistorianSample last;
} Model;

/* The storage rule, restated from the header's words. */
static void
model_feed (Model *m, const In *in, GArray *stored)
{
  gboolean bad = kankyo_quality_is_bad (in->quality);
  KankyoHistorianSample s = { in->time, bad ? NAN : in->value, in->quality };

  if (m->has_last && s.quality == m->last.quality && (bad || fabs (s.value - m->last.value) <= m->deadband)
      && !(m->heartbeat > 0 && s.time - m->last.time >= m->heartbeat))
    return;
  m->last = s;
  m->has_last = TRUE;
  g_array_append_val (stored, s);
}

static void
append_stream (KankyoHistorian *h, guint tag, const GArray *in, guint from, guint to)
{
  for (guint i = from; i < to; i++)
    {
      const In *s = &g_array_index (in, In, i);

      /* Refused only while the queue is full; a few seconds at most. */
      for (guint tries = 0; !kankyo_historian_append_double (h, tag, s->time, s->value, s->quality); tries++)
        {
          g_assert_cmpuint (tries, <, 5000);
          g_usleep (1000);
        }
    }
}

static void
assert_same_samples (GArray *got, GArray *want)
{
  g_assert_cmpuint (got->len, ==, want->len);
  for (guint i = 0; i < want->len; i++)
    {
      KankyoHistorianSample *a = &g_array_index (got, KankyoHistorianSample, i);
      KankyoHistorianSample *b = &g_array_index (want, KankyoHistorianSample, i);

      if (a->time != b->time || a->quality != b->quality
          || !(a->value == b->value || (isnan (a->value) && isnan (b->value))))
        g_error ("sample %u: got %" G_GINT64_FORMAT " %.17g %d, expected %" G_GINT64_FORMAT " %.17g %d", i,
                 a->time, a->value, a->quality, b->time, b->value, b->quality);
    }
}

/* ---- brute force ---- */

typedef struct
{
  gint64 start;
  guint64 count;
  double min, max, sum, first, last;
  gint64 first_time, last_time, any_first;
  gboolean bad;
} Brute;

static void
brute_add (Brute *b, const KankyoHistorianSample *s)
{
  if (s->quality == KANKYO_QUALITY_GOOD)
    {
      if (b->count == 0)
        {
          b->min = b->max = b->first = s->value;
          b->sum = 0;
          b->first_time = s->time;
        }
      b->min = MIN (b->min, s->value);
      b->max = MAX (b->max, s->value);
      b->sum += s->value;
      b->last = s->value;
      b->last_time = s->time;
      b->count++;
    }
  else if (kankyo_quality_is_bad (s->quality))
    b->bad = TRUE;
}

/* Buckets of @width that hold any sample, in order. */
static GArray *
brute_rollups (GArray *raw, gint64 width)
{
  GArray *out = g_array_new (FALSE, TRUE, sizeof (Brute));

  for (guint i = 0; i < raw->len; i++)
    {
      KankyoHistorianSample *s = &g_array_index (raw, KankyoHistorianSample, i);
      gint64 start = s->time / width * width;
      Brute *b;

      if (out->len == 0 || g_array_index (out, Brute, out->len - 1).start != start)
        {
          Brute fresh = { 0 };

          fresh.start = start;
          fresh.any_first = s->time;
          g_array_append_val (out, fresh);
        }
      b = &g_array_index (out, Brute, out->len - 1);
      brute_add (b, s);
    }
  return out;
}

static void
assert_close (double got, double want, const char *what, gint64 where)
{
  double tol = 1e-9 * MAX (1.0, fabs (want));

  if (!(fabs (got - want) <= tol) && !(isnan (got) && isnan (want)))
    g_error ("%s at %" G_GINT64_FORMAT ": got %.17g, expected %.17g", what, where, got, want);
}

static void
assert_bin (const KankyoHistorianBin *bin, const Brute *b, gboolean no_data)
{
  g_assert_cmpint (bin->no_data, ==, no_data);
  g_assert_cmpuint (bin->count, ==, b->count);
  g_assert_cmpint (bin->bad, ==, b->bad);
  if (b->count == 0)
    {
      g_assert_true (isnan (bin->min) && isnan (bin->mean));
      return;
    }
  assert_close (bin->min, b->min, "min", bin->start);
  assert_close (bin->max, b->max, "max", bin->start);
  assert_close (bin->mean, b->sum / b->count, "mean", bin->start);
  assert_close (bin->first, b->first, "first", bin->start);
  assert_close (bin->last, b->last, "last", bin->start);
  g_assert_cmpint (bin->first_time, ==, b->first_time);
  g_assert_cmpint (bin->last_time, ==, b->last_time);
}

static void
check_rollups (KankyoHistorian *h, guint tag, GArray *raw, KankyoHistorianResolution res, gint64 width)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) want = brute_rollups (raw, width);
  g_autoptr (GArray) got
      = kankyo_historian_read_rollups (h, tag, res, 0, G_GINT64_CONSTANT (1) << 58, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (got->len, ==, want->len);
  for (guint i = 0; i < want->len; i++)
    {
      KankyoHistorianBin *bin = &g_array_index (got, KankyoHistorianBin, i);
      Brute *b = &g_array_index (want, Brute, i);

      g_assert_cmpint (bin->start, ==, b->start);
      g_assert_cmpint (bin->width, ==, width);
      assert_bin (bin, b, FALSE);
    }
}

/* ---- tests ---- */

/* A reader beside the running writer (an export while the plant records)
 * sees every committed sample, and cannot write. */
static void
test_open_readonly (void)
{
  g_autofree char *path = db_path ("readonly");
  g_autofree char *missing = db_path ("readonly-missing");
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) raw = NULL;
  KankyoHistorian *h = open_ok (path);
  KankyoHistorian *reader;
  KankyoHistorianPolicy policy = { 0 };
  KankyoHistorianRetention keep = { 0 };
  guint id = add_tag_ok (h, "room.t", 0, 0, NULL);

  for (guint i = 0; i < 100; i++)
    g_assert_true (kankyo_historian_append_double (h, id, 1000000 + i * 1000, i * 0.5, KANKYO_QUALITY_GOOD));
  g_assert_true (kankyo_historian_flush (h, &error));
  g_assert_no_error (error);

  reader = kankyo_historian_open_readonly (path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (reader);
  g_assert_cmpuint (kankyo_historian_lookup (reader, "room.t"), ==, id);
  raw = kankyo_historian_read_raw (reader, id, 0, G_MAXINT64 / 2, FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (raw->len, ==, 100);
  g_assert_cmpfloat (g_array_index (raw, KankyoHistorianSample, 99).value, ==, 49.5);

  /* Committed after the reader opened: seen too. */
  g_assert_true (kankyo_historian_append_double (h, id, 2000000, 7, KANKYO_QUALITY_GOOD));
  g_assert_true (kankyo_historian_flush (h, &error));
  g_clear_pointer (&raw, g_array_unref);
  raw = kankyo_historian_read_raw (reader, id, 0, G_MAXINT64 / 2, FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (raw->len, ==, 101);

  g_assert_false (kankyo_historian_append_double (reader, id, 3000000, 1, KANKYO_QUALITY_GOOD));
  g_assert_cmpuint (kankyo_historian_add_tag (reader, "room.rh", NULL, &policy, &error), ==, 0);
  g_assert_error (error, KANKYO_HISTORIAN_ERROR, KANKYO_HISTORIAN_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (kankyo_historian_set_retention (reader, "default", &keep, &error));
  g_assert_error (error, KANKYO_HISTORIAN_ERROR, KANKYO_HISTORIAN_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (kankyo_historian_flush (reader, &error));
  g_assert_error (error, KANKYO_HISTORIAN_ERROR, KANKYO_HISTORIAN_ERROR_INVALID);
  g_clear_error (&error);
  kankyo_historian_close (reader);
  kankyo_historian_close (h);

  g_assert_null (kankyo_historian_open_readonly (missing, &error));
  g_assert_error (error, KANKYO_HISTORIAN_ERROR, KANKYO_HISTORIAN_ERROR_OPEN);
  g_assert_nonnull (strstr (error->message, missing));
  g_assert_false (g_file_test (missing, G_FILE_TEST_EXISTS));
}

static void
test_open_create (void)
{
  g_autofree char *path = db_path ("create");
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) names = NULL;
  g_autofree char *unit = NULL;
  KankyoHistorian *h = open_ok (path);
  KankyoHistorian *second;
  guint a, b;

  g_assert_cmpstr (kankyo_historian_get_path (h), ==, path);
  b = add_tag_ok (h, "room.t", 0.1, 0, NULL);
  a = add_tag_ok (h, "ahu.rh", 0, 0, "cold");
  g_assert_cmpuint (a, !=, b);
  g_assert_cmpuint (add_tag_ok (h, "room.t", 0.1, 0, NULL), ==, b);
  g_assert_cmpuint (kankyo_historian_lookup (h, "ahu.rh"), ==, a);
  g_assert_cmpuint (kankyo_historian_lookup (h, "nope"), ==, 0);

  /* A second writer on the same file is refused while the first is open. */
  second = kankyo_historian_open (path, &error);
  g_assert_null (second);
  g_assert_error (error, KANKYO_HISTORIAN_ERROR, KANKYO_HISTORIAN_ERROR_OPEN);
  g_assert_nonnull (strstr (error->message, path));
  g_clear_error (&error);
  kankyo_historian_close (h);

  h = open_ok (path);
  g_assert_cmpuint (kankyo_historian_lookup (h, "room.t"), ==, b);
  g_assert_cmpuint (kankyo_historian_lookup (h, "ahu.rh"), ==, a);
  names = kankyo_historian_list_tags (h);
  g_assert_cmpuint (g_strv_length (names), ==, 2);
  g_assert_cmpstr (names[0], ==, "ahu.rh");
  g_assert_cmpstr (names[1], ==, "room.t");
  unit = kankyo_historian_get_unit (h, a);
  g_assert_cmpstr (unit, ==, "degC");
  g_assert_null (kankyo_historian_get_unit (h, 99));
  g_assert_false (kankyo_historian_get_extent (h, a, NULL, NULL));
  kankyo_historian_close (h);
  kankyo_historian_close (NULL);
}

static void
test_open_errors (void)
{
  g_autofree char *path = db_path ("other");
  g_autofree char *text_path = db_path ("text");
  g_autoptr (GError) error = NULL;
  g_autoptr (sqlite3) db = NULL;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, "CREATE TABLE recipes (x)", NULL, NULL, NULL), ==, SQLITE_OK);
  g_clear_pointer (&db, sqlite3_close);
  g_assert_null (kankyo_historian_open (path, &error));
  g_assert_error (error, KANKYO_HISTORIAN_ERROR, KANKYO_HISTORIAN_ERROR_OPEN);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_nonnull (strstr (error->message, "not a Kankyo history"));
  g_clear_error (&error);

  g_assert_true (g_file_set_contents (text_path,
                                      "this is not a database, just some text that is long enough "
                                      "to fill a header of one hundred bytes or so.................",
                                      -1, NULL));
  g_assert_null (kankyo_historian_open (text_path, &error));
  g_assert_error (error, KANKYO_HISTORIAN_ERROR, KANKYO_HISTORIAN_ERROR_OPEN);
  g_assert_nonnull (strstr (error->message, text_path));
}

static void
test_invalid_arguments (void)
{
  g_autofree char *path = db_path ("invalid");
  g_autoptr (GError) error = NULL;
  g_autofree char *long_name = g_strnfill (KANKYO_HISTORIAN_NAME_MAX + 1, 'x');
  KankyoHistorian *h = open_ok (path);
  KankyoHistorianPolicy bad_policy = { -1, 0, NULL };
  KankyoHistorianRetention bad_retention = { -5, 0, 0 };
  KankyoHistorianStats stats;
  guint tag = add_tag_ok (h, "t", 0, 0, NULL);
  GArray *a;

  g_assert_cmpuint (kankyo_historian_add_tag (h, "", NULL, NULL, &error), ==, 0);
  g_assert_error (error, KANKYO_HISTORIAN_ERROR, KANKYO_HISTORIAN_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_cmpuint (kankyo_historian_add_tag (h, long_name, NULL, NULL, &error), ==, 0);
  g_assert_error (error, KANKYO_HISTORIAN_ERROR, KANKYO_HISTORIAN_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_cmpuint (kankyo_historian_add_tag (h, "x", NULL, &bad_policy, &error), ==, 0);
  g_assert_error (error, KANKYO_HISTORIAN_ERROR, KANKYO_HISTORIAN_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "deadband"));
  g_clear_error (&error);
  g_assert_false (kankyo_historian_set_retention (h, "default", &bad_retention, &error));
  g_assert_error (error, KANKYO_HISTORIAN_ERROR, KANKYO_HISTORIAN_ERROR_INVALID);
  g_clear_error (&error);

  a = kankyo_historian_read_raw (h, 42, 0, 10, FALSE, &error);
  g_assert_null (a);
  g_assert_error (error, KANKYO_HISTORIAN_ERROR, KANKYO_HISTORIAN_ERROR_NOT_FOUND);
  g_clear_error (&error);
  a = kankyo_historian_read_raw (h, tag, 10, 10, FALSE, &error);
  g_assert_null (a);
  g_assert_error (error, KANKYO_HISTORIAN_ERROR, KANKYO_HISTORIAN_ERROR_INVALID);
  g_clear_error (&error);
  a = kankyo_historian_read_binned (h, tag, 0, 1000, 0, &error);
  g_assert_null (a);
  g_assert_error (error, KANKYO_HISTORIAN_ERROR, KANKYO_HISTORIAN_ERROR_INVALID);
  g_clear_error (&error);
  a = kankyo_historian_read_binned (h, tag, 0, G_GINT64_CONSTANT (1) << 40, KANKYO_HISTORIAN_BINS_MAX + 1,
                                    &error);
  g_assert_null (a);
  g_assert_error (error, KANKYO_HISTORIAN_ERROR, KANKYO_HISTORIAN_ERROR_INVALID);
  g_clear_error (&error);
  a = kankyo_historian_read_rollups (h, tag, KANKYO_HISTORIAN_RAW, 0, 10, &error);
  g_assert_null (a);
  g_assert_error (error, KANKYO_HISTORIAN_ERROR, KANKYO_HISTORIAN_ERROR_INVALID);
  g_clear_error (&error);

  /* Unknown tags and impossible times are refused at once; a sample not
   * after the tag's previous one by the writer. */
  g_assert_false (kankyo_historian_append_double (h, 0, T0, 1, KANKYO_QUALITY_GOOD));
  g_assert_false (kankyo_historian_append_double (h, tag + 1, T0, 1, KANKYO_QUALITY_GOOD));
  g_assert_false (kankyo_historian_append_double (h, tag, -1, 1, KANKYO_QUALITY_GOOD));
  g_assert_true (kankyo_historian_append_double (h, tag, T0, 1, KANKYO_QUALITY_GOOD));
  g_assert_true (kankyo_historian_append_double (h, tag, T0, 2, KANKYO_QUALITY_GOOD));
  g_assert_true (kankyo_historian_append_double (h, tag, T0 - 1, 3, KANKYO_QUALITY_GOOD));
  flush_ok (h);
  kankyo_historian_get_stats (h, &stats);
  g_assert_cmpuint (stats.samples_received, ==, 6);
  g_assert_cmpuint (stats.rejected, ==, 5);
  g_assert_cmpuint (stats.samples_stored, ==, 1);
  g_assert_cmpuint (stats.samples_committed, ==, 3);
  g_assert_null (stats.last_error);
  kankyo_historian_close (h);
}

static void
test_value_types (void)
{
  g_autofree char *path = db_path ("types");
  g_autoptr (GArray) got = NULL;
  KankyoHistorian *h = open_ok (path);
  guint tag = add_tag_ok (h, "t", 0, 0, NULL);
  g_auto (KankyoValue) v = KANKYO_VALUE_INIT;

  kankyo_value_set_bool (&v, TRUE);
  g_assert_true (kankyo_historian_append (h, tag, T0, &v, KANKYO_QUALITY_GOOD));
  kankyo_value_set_int (&v, -7);
  g_assert_true (kankyo_historian_append (h, tag, T0 + 1, &v, KANKYO_QUALITY_GOOD));
  kankyo_value_set_uint (&v, 40000);
  g_assert_true (kankyo_historian_append (h, tag, T0 + 2, &v, KANKYO_QUALITY_GOOD));
  kankyo_value_set_string (&v, "text is not history");
  g_assert_true (kankyo_historian_append (h, tag, T0 + 3, &v, KANKYO_QUALITY_GOOD));
  kankyo_value_set_double (&v, NAN);
  g_assert_true (kankyo_historian_append (h, tag, T0 + 4, &v, KANKYO_QUALITY_GOOD));
  kankyo_value_set_double (&v, 1e300);
  g_assert_true (kankyo_historian_append (h, tag, T0 + 5, &v, KANKYO_QUALITY_GOOD));
  g_assert_true (kankyo_historian_append (h, tag, T0 + 6, NULL, KANKYO_QUALITY_BAD_NO_COMMUNICATION));
  flush_ok (h);

  got = read_all (h, tag);
  g_assert_cmpuint (got->len, ==, 6);
  g_assert_cmpfloat (g_array_index (got, KankyoHistorianSample, 0).value, ==, 1);
  g_assert_cmpfloat (g_array_index (got, KankyoHistorianSample, 1).value, ==, -7);
  g_assert_cmpfloat (g_array_index (got, KankyoHistorianSample, 2).value, ==, 40000);
  /* A NaN reading becomes a sensor failure, and the string left no trace. */
  g_assert_cmpint (g_array_index (got, KankyoHistorianSample, 3).time, ==, T0 + 4);
  g_assert_cmpint (g_array_index (got, KankyoHistorianSample, 3).quality, ==,
                   KANKYO_QUALITY_BAD_SENSOR_FAILURE);
  g_assert_true (isnan (g_array_index (got, KankyoHistorianSample, 3).value));
  g_assert_cmpfloat (g_array_index (got, KankyoHistorianSample, 4).value, ==, 1e300);
  g_assert_cmpint (g_array_index (got, KankyoHistorianSample, 5).quality, ==,
                   KANKYO_QUALITY_BAD_NO_COMMUNICATION);
  kankyo_historian_close (h);
}

/* What is stored follows the deadband, heartbeat and quality rules, for
 * several policies, through unsealed rows, sealed blocks and a reopen. */
static void
test_raw_storage (void)
{
  static const struct
  {
    double deadband;
    gint64 heartbeat;
    gboolean decimal;
  } policies[] = {
    { 0, 0, TRUE }, { 0, 0, FALSE }, { 0.2, 0, TRUE }, { 0.15, 30 * SEC, FALSE }, { 0.5, 10 * MINUTE, TRUE },
  };
  g_autofree char *path = db_path ("raw");
  g_autoptr (GRand) rand = g_rand_new_with_seed (7);
  GPtrArray *streams = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  guint n = 12000;
  KankyoHistorian *h = open_ok (path);
  guint tags[G_N_ELEMENTS (policies)];

  for (guint p = 0; p < G_N_ELEMENTS (policies); p++)
    {
      g_autofree char *name = g_strdup_printf ("tag%u", p);

      tags[p] = add_tag_ok (h, name, policies[p].deadband, policies[p].heartbeat, NULL);
      g_ptr_array_add (streams, make_stream (rand, T0 + p * 777, n, policies[p].decimal));
    }

  /* In uneven slices, with a close and reopen in the middle. */
  for (guint from = 0; from < n;)
    {
      guint step = g_rand_int_range (rand, 1, 3000);
      guint to = MIN (n, from + step);

      for (guint p = 0; p < G_N_ELEMENTS (policies); p++)
        append_stream (h, tags[p], g_ptr_array_index (streams, p), from, to);
      if (g_rand_int_range (rand, 0, 3) == 0)
        flush_ok (h);
      if (from < n / 2 && to >= n / 2)
        {
          kankyo_historian_close (h);
          h = open_ok (path);
        }
      from = to;
    }
  flush_ok (h);

  for (guint p = 0; p < G_N_ELEMENTS (policies); p++)
    {
      g_autoptr (GArray) want = g_array_new (FALSE, FALSE, sizeof (KankyoHistorianSample));
      g_autoptr (GArray) got = read_all (h, tags[p]);
      GArray *in = g_ptr_array_index (streams, p);
      Model m = { policies[p].deadband, policies[p].heartbeat, FALSE, { 0 } };
      gint64 first, last;

      for (guint i = 0; i < in->len; i++)
        model_feed (&m, &g_array_index (in, In, i), want);
      g_test_message ("policy %u: %u of %u samples stored", p, want->len, in->len);
      g_assert_cmpuint (want->len, <, in->len + 1);
      assert_same_samples (got, want);
      g_assert_true (kankyo_historian_get_extent (h, tags[p], &first, &last));
      g_assert_cmpint (first, ==, g_array_index (want, KankyoHistorianSample, 0).time);
      g_assert_cmpint (last, ==, g_array_index (want, KankyoHistorianSample, want->len - 1).time);

      /* A window with the value in force at its start. */
      {
        g_autoptr (GError) error = NULL;
        guint k = want->len / 3;
        gint64 from = g_array_index (want, KankyoHistorianSample, k).time - 1;
        gint64 to = g_array_index (want, KankyoHistorianSample, k + 50).time;
        g_autoptr (GArray) window = kankyo_historian_read_raw (h, tags[p], from, to, TRUE, &error);

        g_assert_no_error (error);
        g_assert_cmpuint (window->len, ==, 51);
        g_assert_cmpint (g_array_index (window, KankyoHistorianSample, 0).time, ==,
                         g_array_index (want, KankyoHistorianSample, k - 1).time);
        g_assert_cmpint (g_array_index (window, KankyoHistorianSample, 50).time, ==,
                         g_array_index (want, KankyoHistorianSample, k + 49).time);
      }
    }
  kankyo_historian_close (h);
  g_ptr_array_unref (streams);
}

/* Quality changes are stored even inside the deadband, so a Bad stretch is
 * a gap with edges, and Good after Bad is stored. */
static void
test_quality_changes (void)
{
  g_autofree char *path = db_path ("quality");
  g_autoptr (GArray) got = NULL;
  KankyoHistorian *h = open_ok (path);
  guint tag = add_tag_ok (h, "t", 10, 0, NULL);
  KankyoHistorianSample *s;

  kankyo_historian_append_double (h, tag, T0, 5, KANKYO_QUALITY_GOOD);
  kankyo_historian_append_double (h, tag, T0 + SEC, 5, KANKYO_QUALITY_BAD_COMMUNICATION_ERROR);
  kankyo_historian_append_double (h, tag, T0 + 2 * SEC, 5, KANKYO_QUALITY_BAD_COMMUNICATION_ERROR);
  kankyo_historian_append_double (h, tag, T0 + 3 * SEC, 5, KANKYO_QUALITY_BAD_NO_COMMUNICATION);
  kankyo_historian_append_double (h, tag, T0 + 4 * SEC, 5.5, KANKYO_QUALITY_GOOD);
  kankyo_historian_append_double (h, tag, T0 + 5 * SEC, 6, KANKYO_QUALITY_GOOD);
  kankyo_historian_append_double (h, tag, T0 + 6 * SEC, 6, KANKYO_QUALITY_UNCERTAIN_LAST_USABLE_VALUE);
  flush_ok (h);
  got = read_all (h, tag);
  g_assert_cmpuint (got->len, ==, 5);
  s = (KankyoHistorianSample *) got->data;
  g_assert_cmpint (s[0].quality, ==, KANKYO_QUALITY_GOOD);
  g_assert_cmpint (s[1].time, ==, T0 + SEC);
  g_assert_true (isnan (s[1].value));
  g_assert_cmpint (s[2].quality, ==, KANKYO_QUALITY_BAD_NO_COMMUNICATION);
  g_assert_cmpint (s[3].time, ==, T0 + 4 * SEC);
  g_assert_cmpfloat (s[3].value, ==, 5.5);
  g_assert_cmpint (s[4].quality, ==, KANKYO_QUALITY_UNCERTAIN_LAST_USABLE_VALUE);
  g_assert_cmpfloat (s[4].value, ==, 6);
  kankyo_historian_close (h);
}

/* Rollups against brute force from the raw samples read back, with a
 * reopen in the middle of a minute and of an hour. */
static void
test_rollups (gconstpointer data)
{
  KankyoHistorianResolution res = GPOINTER_TO_INT (data);
  gint64 width = res == KANKYO_HISTORIAN_MINUTE ? MINUTE : HOUR;
  g_autofree char *path = db_path ("rollup");
  g_autoptr (GRand) rand = g_rand_new_with_seed (res == KANKYO_HISTORIAN_MINUTE ? 11 : 12);
  guint n = res == KANKYO_HISTORIAN_MINUTE ? 20000 : 60000;
  g_autoptr (GArray) a = make_stream (rand, T0 + 17 * SEC, n, FALSE);
  g_autoptr (GArray) b = make_stream (rand, T0 + 3 * SEC, n, TRUE);
  KankyoHistorian *h = open_ok (path);
  guint ta = add_tag_ok (h, "a", 0.05, 20 * SEC, NULL);
  guint tb = add_tag_ok (h, "b", 0, 0, NULL);
  guint half = n / 2;

  /* Stop mid-bucket: the cut is not on a minute edge. */
  while (g_array_index (a, In, half).time % MINUTE == 0)
    half++;
  append_stream (h, ta, a, 0, half);
  append_stream (h, tb, b, 0, half);
  flush_ok (h);
  {
    /* Before the reopen: recent rows and unsealed blocks. */
    g_autoptr (GArray) raw = read_all (h, ta);

    check_rollups (h, ta, raw, res, width);
  }
  kankyo_historian_close (h);
  h = open_ok (path);
  append_stream (h, ta, a, half, n);
  append_stream (h, tb, b, half, n);
  flush_ok (h);

  for (guint pass = 0; pass < 2; pass++)
    {
      g_autoptr (GArray) raw_a = read_all (h, ta);
      g_autoptr (GArray) raw_b = read_all (h, tb);

      check_rollups (h, ta, raw_a, res, width);
      check_rollups (h, tb, raw_b, res, width);
      if (pass == 0)
        {
          /* And again after everything was sealed and packed. */
          kankyo_historian_close (h);
          h = open_ok (path);
        }
    }
  kankyo_historian_close (h);
}

/* The bins a read should give, by brute force: from raw samples, or from
 * brute-force rollups placed by the rule in the header. */
static GArray *
brute_bins (GArray *raw, gint64 from, gint64 to, guint n, gint64 bucket_width, GArray **ret_no_data)
{
  GArray *bins = g_array_new (FALSE, TRUE, sizeof (Brute));
  GArray *no_data = g_array_new (FALSE, TRUE, sizeof (gboolean));
  gint64 span = to - from;

  g_array_set_size (bins, n);
  g_array_set_size (no_data, n);
  for (guint i = 0; i < n; i++)
    g_array_index (no_data, gboolean, i) = TRUE;

#define BIN_OF(t) ((guint) (((__int128) ((t) -from) * n) / span))
  if (bucket_width == 0)
    for (guint i = 0; i < raw->len; i++)
      {
        KankyoHistorianSample *s = &g_array_index (raw, KankyoHistorianSample, i);
        guint k;

        if (s->time < from || s->time >= to)
          continue;
        /* Bin k covers [from + floor (k span / n), from + floor ((k + 1) span / n)). */
        k = BIN_OF (s->time);
        while (from + (gint64) (((__int128) (k + 1) * span) / n) <= s->time)
          k++;
        while (from + (gint64) (((__int128) k * span) / n) > s->time)
          k--;
        brute_add (&g_array_index (bins, Brute, k), s);
        g_array_index (no_data, gboolean, k) = FALSE;
      }
  else
    {
      g_autoptr (GArray) buckets = brute_rollups (raw, bucket_width);

      for (guint i = 0; i < buckets->len; i++)
        {
          Brute *b = &g_array_index (buckets, Brute, i);
          gint64 t = b->count > 0 ? b->first_time : b->any_first;
          Brute *bin;
          guint k;

          if (t < from || t >= to)
            continue;
          k = BIN_OF (t);
          while (from + (gint64) (((__int128) (k + 1) * span) / n) <= t)
            k++;
          while (from + (gint64) (((__int128) k * span) / n) > t)
            k--;
          bin = &g_array_index (bins, Brute, k);
          g_array_index (no_data, gboolean, k) = FALSE;
          bin->bad |= b->bad;
          if (b->count == 0)
            continue;
          if (bin->count == 0)
            {
              bin->min = b->min;
              bin->max = b->max;
              bin->first = b->first;
              bin->first_time = b->first_time;
              bin->sum = 0;
            }
          bin->min = MIN (bin->min, b->min);
          bin->max = MAX (bin->max, b->max);
          bin->sum += b->sum;
          bin->last = b->last;
          bin->last_time = b->last_time;
          bin->count += b->count;
        }
    }
#undef BIN_OF
  *ret_no_data = no_data;
  return bins;
}

static void
check_binned (
    KankyoHistorian *h, guint tag, GArray *raw, gint64 from, gint64 to, guint n, gint64 bucket_width)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) no_data = NULL;
  g_autoptr (GArray) want = brute_bins (raw, from, to, n, bucket_width, &no_data);
  g_autoptr (GArray) got = kankyo_historian_read_binned (h, tag, from, to, n, &error);
  guint filled = 0;

  g_assert_no_error (error);
  g_assert_cmpuint (got->len, ==, n);
  for (guint i = 0; i < n; i++)
    {
      KankyoHistorianBin *bin = &g_array_index (got, KankyoHistorianBin, i);

      g_assert_cmpint (bin->start, ==, from + (gint64) (((__int128) i * (to - from)) / n));
      g_assert_cmpint (bin->start + bin->width, ==, from + (gint64) (((__int128) (i + 1) * (to - from)) / n));
      assert_bin (bin, &g_array_index (want, Brute, i), g_array_index (no_data, gboolean, i));
      filled += bin->count > 0;
    }
  /* The check means something only if the bins hold data. */
  g_assert_cmpuint (filled, >, n / 10);
}

static void
test_binned (void)
{
  g_autofree char *path = db_path ("binned");
  g_autoptr (GRand) rand = g_rand_new_with_seed (5);
  g_autoptr (GArray) in = make_stream (rand, T0 + 5 * SEC, 100000, FALSE);
  g_autoptr (GArray) raw = NULL;
  KankyoHistorian *h = open_ok (path);
  guint tag = add_tag_ok (h, "t", 0.02, MINUTE, NULL);
  gint64 end = g_array_index (in, In, in->len - 1).time;

  append_stream (h, tag, in, 0, in->len);
  flush_ok (h);
  raw = read_all (h, tag);

  /* Raw: bins under four minutes, exact, including uneven widths. */
  check_binned (h, tag, raw, T0 + 3 * HOUR + 123457, T0 + 4 * HOUR, 97, 0);
  check_binned (h, tag, raw, T0 + HOUR, T0 + HOUR + 30 * MINUTE, 1800, 0);
  /* Whole minutes from a minute edge: minute rollups, exact. */
  check_binned (h, tag, raw, T0, T0 + 1000 * MINUTE, 200, MINUTE);
  check_binned (h, tag, raw, T0 + 7 * MINUTE, T0 + 7 * MINUTE + 600 * MINUTE, 600, MINUTE);
  /* Whole hours from an hour edge: hour rollups, exact. */
  check_binned (h, tag, raw, T0, T0 + 24 * HOUR, 24, HOUR);
  /* Uneven: buckets go to the bin of their first sample. */
  check_binned (h, tag, raw, T0 + 12345678, end + 1, 157, MINUTE);
  check_binned (h, tag, raw, T0 - 5 * HOUR, T0 + 29 * HOUR + 1234567, 5, HOUR);

  /* Also served while blocks are unsealed and rollups recent, and after. */
  kankyo_historian_close (h);
  h = open_ok (path);
  check_binned (h, tag, raw, T0 + 12345678, end + 1, 157, MINUTE);
  check_binned (h, tag, raw, T0 + HOUR, T0 + HOUR + 30 * MINUTE, 1800, 0);
  kankyo_historian_close (h);
}

static void
test_retention (void)
{
  g_autofree char *path = db_path ("retention");
  g_autoptr (GRand) rand = g_rand_new_with_seed (3);
  /* A day ahead of the clock, so that the writer's own background pass,
   * which uses the real time, finds nothing old and this test decides
   * what "now" is. */
  gint64 base = (g_get_real_time () / HOUR + 24) * HOUR;
  g_autoptr (GArray) in = make_stream (rand, base, 40000, TRUE);
  g_autoptr (GArray) kept_in = make_stream (rand, base, 5000, TRUE);
  g_autoptr (GArray) before = NULL;
  g_autoptr (GArray) after = NULL;
  g_autoptr (GArray) kept = NULL;
  g_autoptr (GArray) want = g_array_new (FALSE, FALSE, sizeof (KankyoHistorianSample));
  g_autoptr (GError) error = NULL;
  KankyoHistorianRetention retention = { 3 * HOUR, 5 * HOUR, 0 };
  KankyoHistorian *h = open_ok (path);
  guint tag = add_tag_ok (h, "short", 0, 0, "short");
  guint other = add_tag_ok (h, "long", 0, 0, NULL);
  gint64 end = g_array_index (in, In, in->len - 1).time;
  gint64 now = end + 7 * MINUTE + 13 * SEC;
  gint64 cutoff = now - retention.raw_us;
  gint64 minute_keep = (now - retention.minute_us) / MINUTE * MINUTE;
  guint64 removed = 0;

  append_stream (h, tag, in, 0, in->len);
  append_stream (h, other, kept_in, 0, kept_in->len);
  flush_ok (h);
  before = read_all (h, tag);
  for (guint i = 0; i < before->len; i++)
    if (g_array_index (before, KankyoHistorianSample, i).time >= cutoff)
      g_array_append_val (want, g_array_index (before, KankyoHistorianSample, i));

  g_assert_true (kankyo_historian_set_retention (h, "short", &retention, &error));
  g_assert_no_error (error);
  g_assert_true (kankyo_historian_enforce_retention (h, now, &removed, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (removed, ==, before->len - want->len);
  g_assert_cmpuint (want->len, >, 0);
  after = read_all (h, tag);
  assert_same_samples (after, want);

  /* Minute rollups: those that ended before the cut-off are gone, the rest
   * match brute force on the raw samples from before. Hours are kept. */
  {
    g_autoptr (GArray) all = brute_rollups (before, MINUTE);
    g_autoptr (GArray) got = kankyo_historian_read_rollups (h, tag, KANKYO_HISTORIAN_MINUTE, 0,
                                                            G_GINT64_CONSTANT (1) << 58, &error);
    guint skip = 0;

    g_assert_no_error (error);
    while (skip < all->len && g_array_index (all, Brute, skip).start < minute_keep)
      skip++;
    g_assert_cmpuint (got->len, ==, all->len - skip);
    for (guint i = 0; i < got->len; i++)
      {
        g_assert_cmpint (g_array_index (got, KankyoHistorianBin, i).start, ==,
                         g_array_index (all, Brute, i + skip).start);
        assert_bin (&g_array_index (got, KankyoHistorianBin, i), &g_array_index (all, Brute, i + skip),
                    FALSE);
      }
    check_rollups (h, tag, before, KANKYO_HISTORIAN_HOUR, HOUR);
  }

  /* The default class keeps everything; ingest goes on after retention. */
  kept = read_all (h, other);
  g_assert_cmpuint (kept->len, >, 1000);
  g_assert_true (kankyo_historian_append_double (h, tag, end + SEC, 1234.5, KANKYO_QUALITY_GOOD));
  flush_ok (h);
  g_clear_pointer (&after, g_array_unref);
  after = read_all (h, tag);
  g_assert_cmpuint (after->len, ==, want->len + 1);

  /* A second pass finds nothing more, and everything survives a reopen. */
  g_assert_true (kankyo_historian_enforce_retention (h, now, &removed, &error));
  g_assert_cmpuint (removed, ==, 0);
  kankyo_historian_close (h);
  h = open_ok (path);
  g_clear_pointer (&after, g_array_unref);
  after = read_all (h, tag);
  g_assert_cmpuint (after->len, ==, want->len + 1);
  kankyo_historian_close (h);
}

/* Background retention runs on the writer by itself, in small steps. */
static void
test_retention_background (void)
{
  g_autofree char *path = db_path ("retention-bg");
  g_autoptr (GError) error = NULL;
  KankyoHistorianRetention retention = { HOUR, 0, 0 };
  KankyoHistorian *h = open_ok (path);
  guint tag = add_tag_ok (h, "t", 0, 0, "brief");
  gint64 now = g_get_real_time ();
  gint64 start = now - 3 * HOUR;
  gint64 deadline;
  guint n = 0;

  for (gint64 t = start; t < now; t += SEC, n++)
    kankyo_historian_append_double (h, tag, t, (double) (n % 1000), KANKYO_QUALITY_GOOD);
  flush_ok (h);
  g_assert_true (kankyo_historian_set_retention (h, "brief", &retention, &error));
  g_assert_no_error (error);

  deadline = g_get_monotonic_time () + 20 * SEC;
  for (;;)
    {
      g_autoptr (GArray) all = read_all (h, tag);
      gint64 first = g_array_index (all, KankyoHistorianSample, 0).time;

      if (first >= g_get_real_time () - HOUR - 60 * SEC)
        break;
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (20000);
    }
  kankyo_historian_close (h);
}

/* A damaged blob is reported as CORRUPT, by file and tag, not a crash. */
static void
test_corrupt (void)
{
  g_autofree char *path = db_path ("corrupt");
  g_autoptr (GError) error = NULL;
  g_autoptr (sqlite3) db = NULL;
  g_autoptr (GArray) got = NULL;
  KankyoHistorian *h = open_ok (path);
  guint tag = add_tag_ok (h, "damaged.tag", 0, 0, NULL);
  guint fine = add_tag_ok (h, "fine", 0, 0, NULL);
  KankyoHistorianStats stats;

  for (guint i = 0; i < 3 * 86400; i += 10)
    {
      kankyo_historian_append_double (h, tag, T0 + i * SEC, sin (i / 1000.0), KANKYO_QUALITY_GOOD);
      kankyo_historian_append_double (h, fine, T0 + i * SEC, cos (i / 1000.0), KANKYO_QUALITY_GOOD);
    }
  kankyo_historian_close (h);

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  /* Flip bytes in the middle of a block and of a day of minute rollups,
   * and cut another block short. */
  g_assert_cmpint (
      sqlite3_exec (db,
                    "UPDATE raw SET data = substr (data, 1, 20) || x'deadbeefdeadbeef' ||"
                    " substr (data, 29) WHERE tag = 1 AND id = (SELECT min (id) FROM raw WHERE tag = 1);"
                    "UPDATE raw SET data = substr (data, 1, length (data) / 2) WHERE tag = 1"
                    " AND id = (SELECT max (id) FROM raw WHERE tag = 1);"
                    "UPDATE rollup SET data = substr (data, 1, 100) || x'00000000000000000000ffffffff'"
                    " || substr (data, 115) WHERE tag = 1 AND level = 0;",
                    NULL, NULL, NULL),
      ==, SQLITE_OK);
  g_clear_pointer (&db, sqlite3_close);

  h = open_ok (path);
  got = kankyo_historian_read_raw (h, tag, 0, G_GINT64_CONSTANT (1) << 58, FALSE, &error);
  g_assert_null (got);
  g_assert_error (error, KANKYO_HISTORIAN_ERROR, KANKYO_HISTORIAN_ERROR_CORRUPT);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_nonnull (strstr (error->message, "damaged.tag"));
  g_clear_error (&error);
  got = kankyo_historian_read_binned (h, tag, T0, T0 + 86400 * SEC, 100, &error);
  g_assert_null (got);
  g_assert_error (error, KANKYO_HISTORIAN_ERROR, KANKYO_HISTORIAN_ERROR_CORRUPT);
  g_clear_error (&error);

  /* The other tag reads fine, and the damaged one takes new samples. */
  got = read_all (h, fine);
  g_assert_cmpuint (got->len, ==, 3 * 8640);
  g_clear_pointer (&got, g_array_unref);
  for (guint i = 0; i < 10000; i++)
    g_assert_true (
        kankyo_historian_append_double (h, tag, T0 + (4 * 86400 + i) * SEC, i * 0.5, KANKYO_QUALITY_GOOD));
  flush_ok (h);
  got = kankyo_historian_read_raw (h, tag, T0 + 4 * 86400 * SEC, T0 + 5 * 86400 * SEC, FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (got->len, ==, 10000);
  kankyo_historian_get_stats (h, &stats);
  g_free (stats.last_error);
  kankyo_historian_close (h);
}

static gint64
count_rows (const char *path, const char *sql)
{
  g_autoptr (sqlite3) db = NULL;
  g_autoptr (sqlite3_stmt) stmt = NULL;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  return sqlite3_column_int64 (stmt, 0);
}

/* One commit per sample, as a slow plant gives: the small rows are merged
 * in tiers, so a tag never has many rows, and nothing is lost on the way. */
static void
test_raw_tiers (void)
{
  g_autofree char *path = db_path ("tiers");
  g_autoptr (GArray) want = g_array_new (FALSE, FALSE, sizeof (KankyoHistorianSample));
  g_autoptr (GArray) got = NULL;
  KankyoHistorian *h = open_ok (path);
  guint tag = add_tag_ok (h, "slow", 0, 0, NULL);

  for (guint i = 0; i < 700; i++)
    {
      KankyoHistorianSample s = { T0 + i * SEC, i % 5 == 4 ? NAN : i * 0.25,
                                  i % 5 == 4 ? KANKYO_QUALITY_BAD_COMMUNICATION_ERROR : KANKYO_QUALITY_GOOD };

      g_assert_true (kankyo_historian_append_double (h, tag, s.time, s.value, s.quality));
      flush_ok (h);
      g_array_append_val (want, s);
    }
  /* 700 = 2 x 256 + 11 x 16 + 12: two rows of tier 2, eleven of tier 1,
   * twelve of tier 0. */
  g_assert_cmpint (count_rows (path, "SELECT count(*) FROM raw WHERE tier = 2"), ==, 2);
  g_assert_cmpint (count_rows (path, "SELECT count(*) FROM raw WHERE tier = 1"), ==, 11);
  g_assert_cmpint (count_rows (path, "SELECT count(*) FROM raw WHERE tier = 0"), ==, 12);
  got = read_all (h, tag);
  assert_same_samples (got, want);
  check_rollups (h, tag, got, KANKYO_HISTORIAN_MINUTE, MINUTE);
  g_clear_pointer (&got, g_array_unref);

  /* A large batch fills the block; the rest starts the next one. */
  for (guint i = 700; i < 6000; i++)
    {
      KankyoHistorianSample s = { T0 + i * SEC, i * 0.25, KANKYO_QUALITY_GOOD };

      g_assert_true (kankyo_historian_append_double (h, tag, s.time, s.value, s.quality));
      g_array_append_val (want, s);
    }
  flush_ok (h);
  g_assert_cmpint (count_rows (path, "SELECT count(*) FROM raw WHERE tier = 9"), ==, 1);
  g_assert_cmpint (count_rows (path, "SELECT n FROM raw WHERE tier = 9"), ==, 4096);
  got = read_all (h, tag);
  assert_same_samples (got, want);
  kankyo_historian_close (h);
  g_assert_cmpint (count_rows (path, "SELECT count(*) FROM raw WHERE tier != 9"), ==, 0);
  g_assert_cmpint (count_rows (path, "SELECT count(*) FROM rollup_recent"), ==, 0);
}

/* A damaged unsealed row is set aside when the writer next needs it:
 * ingest goes on, the statistics say what happened, and reads report the
 * damage where it is. */
static void
test_corrupt_unsealed (void)
{
  g_autofree char *path = db_path ("corrupt-unsealed");
  g_autoptr (GError) error = NULL;
  g_autoptr (sqlite3) db = NULL;
  g_autoptr (GArray) got = NULL;
  KankyoHistorian *h = open_ok (path);
  guint tag = add_tag_ok (h, "t", 0, 0, NULL);
  KankyoHistorianStats stats;

  for (guint i = 0; i < 20; i++)
    {
      g_assert_true (kankyo_historian_append_double (h, tag, T0 + i * SEC, i, KANKYO_QUALITY_GOOD));
      flush_ok (h);
    }
  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 5000);
  g_assert_cmpint (
      sqlite3_exec (db, "UPDATE raw SET data = x'4b4801ff' WHERE t0 = 1704067200000000", NULL, NULL, NULL),
      ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_changes (db), ==, 1);

  /* Enough to merge and seal. */
  for (guint i = 20; i < 5000; i++)
    g_assert_true (kankyo_historian_append_double (h, tag, T0 + i * SEC, i, KANKYO_QUALITY_GOOD));
  flush_ok (h);
  kankyo_historian_get_stats (h, &stats);
  g_assert_nonnull (stats.last_error);
  g_assert_nonnull (strstr (stats.last_error, "set aside"));
  g_free (stats.last_error);

  got = kankyo_historian_read_raw (h, tag, T0, T0 + 10000 * SEC, FALSE, &error);
  g_assert_error (error, KANKYO_HISTORIAN_ERROR, KANKYO_HISTORIAN_ERROR_CORRUPT);
  g_assert_null (got);
  g_clear_error (&error);
  got = kankyo_historian_read_raw (h, tag, T0 + 20 * SEC, T0 + 10000 * SEC, FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (got->len, ==, 4980);
  kankyo_historian_close (h);
}

/* Reads from other threads while ingest runs see every committed sample,
 * in order, unsealed rows included. */
typedef struct
{
  KankyoHistorian *h;
  guint tag;
  gint stop;
  guint reads;
} ReaderCtx;

static gpointer
reader_main (gpointer data)
{
  ReaderCtx *ctx = data;
  guint64 last_len = 0;

  while (!g_atomic_int_get (&ctx->stop))
    {
      g_autoptr (GError) error = NULL;
      KankyoHistorianStats stats;
      g_autoptr (GArray) a = NULL;
      g_autoptr (GArray) bins = NULL;

      kankyo_historian_get_stats (ctx->h, &stats);
      g_free (stats.last_error);
      a = kankyo_historian_read_raw (ctx->h, ctx->tag, 0, G_GINT64_CONSTANT (1) << 58, FALSE, &error);
      g_assert_no_error (error);
      /* One tag, every sample stored: what was committed is all there. */
      g_assert_cmpuint (a->len, >=, stats.samples_committed);
      g_assert_cmpuint (a->len, >=, last_len);
      for (guint i = 0; i < a->len; i++)
        g_assert_cmpint (g_array_index (a, KankyoHistorianSample, i).time, ==, T0 + (gint64) i * 100000);
      last_len = a->len;
      bins = kankyo_historian_read_binned (ctx->h, ctx->tag, T0, T0 + 400000 * 100000LL, 500, &error);
      g_assert_no_error (error);
      ctx->reads++;
    }
  return NULL;
}

static void
test_concurrent_reads (void)
{
  g_autofree char *path = db_path ("concurrent");
  KankyoHistorian *h = open_ok (path);
  ReaderCtx ctx = { h, add_tag_ok (h, "t", 0, 0, NULL), 0, 0 };
  GThread *readers[3];

  for (guint i = 0; i < G_N_ELEMENTS (readers); i++)
    readers[i] = g_thread_new ("reader", reader_main, &ctx);
  for (guint i = 0; i < 400000; i++)
    {
      while (!kankyo_historian_append_double (h, ctx.tag, T0 + (gint64) i * 100000, i % 977,
                                              KANKYO_QUALITY_GOOD))
        g_usleep (1000);
      if (i % 20000 == 0)
        g_usleep (10000);
    }
  flush_ok (h);
  g_atomic_int_set (&ctx.stop, 1);
  for (guint i = 0; i < G_N_ELEMENTS (readers); i++)
    g_thread_join (readers[i]);
  g_test_message ("%u reads during ingest", ctx.reads);
  g_assert_cmpuint (ctx.reads, >, 3);
  kankyo_historian_close (h);
}

/* With the writer stuck behind another connection's lock, the queue fills
 * to its bound, the rest is dropped and counted, and nothing is lost that
 * was accepted. */
static void
test_queue_full (void)
{
  g_autofree char *path = db_path ("queue");
  g_autoptr (sqlite3) db = NULL;
  g_autoptr (GArray) got = NULL;
  KankyoHistorian *h = open_ok (path);
  guint tag = add_tag_ok (h, "t", 0, 0, NULL);
  KankyoHistorianStats stats;
  guint accepted = 0, refused = 0;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, "BEGIN IMMEDIATE", NULL, NULL, NULL), ==, SQLITE_OK);
  /* The first batch takes the writer into the lock wait. */
  kankyo_historian_append_double (h, tag, T0, 0, KANKYO_QUALITY_GOOD);
  accepted++;
  g_usleep (400000);
  for (guint i = 1; i <= KANKYO_HISTORIAN_QUEUE_MAX + 1000; i++)
    {
      if (kankyo_historian_append_double (h, tag, T0 + i, i, KANKYO_QUALITY_GOOD))
        accepted++;
      else
        refused++;
    }
  kankyo_historian_get_stats (h, &stats);
  g_assert_cmpuint (stats.queue_length, ==, KANKYO_HISTORIAN_QUEUE_MAX);
  g_assert_cmpuint (stats.dropped, ==, 1000);
  g_assert_cmpuint (refused, ==, 1000);
  g_assert_cmpint (sqlite3_exec (db, "COMMIT", NULL, NULL, NULL), ==, SQLITE_OK);
  flush_ok (h);
  got = read_all (h, tag);
  g_assert_cmpuint (got->len, ==, accepted);
  kankyo_historian_get_stats (h, &stats);
  g_assert_null (stats.last_error);
  g_assert_cmpuint (stats.samples_stored, ==, accepted);
  kankyo_historian_close (h);
}

/* Storage: a compact layout beats one row per sample by far. */
static void
test_compact (void)
{
  g_autofree char *path = db_path ("compact");
  g_autoptr (GError) error = NULL;
  KankyoHistorian *h = open_ok (path);
  guint tag = add_tag_ok (h, "t", 0, 0, NULL);
  guint64 bytes, samples;

  for (guint i = 0; i < 200000; i++)
    kankyo_historian_append_double (h, tag, T0 + (gint64) i * SEC,
                                    round ((21 + sin (i / 3000.0)) * 10) / 10 + i % 3, KANKYO_QUALITY_GOOD);
  kankyo_historian_close (h);
  h = open_ok (path);
  g_assert_true (kankyo_historian_get_storage (h, &bytes, &samples, &error));
  g_assert_no_error (error);
  g_test_message ("%" G_GUINT64_FORMAT " bytes for %" G_GUINT64_FORMAT " samples", bytes, samples);
  g_assert_cmpuint (samples, ==, 200000);
  g_assert_cmpfloat ((double) bytes / samples, <, 4.0);
  kankyo_historian_close (h);
}

/* ---- kill -9 ---- */

/* Checks that each burst tag holds exactly the samples numbered tag,
 * tag + 8, tag + 16, ... with their values and qualities, and that together
 * they are the samples 0 .. total - 1. Returns the total. */
static guint64
read_burst (const char *path)
{
  KankyoHistorian *h = open_ok (path);
  guint64 counts[BURST_TAGS] = { 0 };
  guint64 total = 0;

  for (guint t = 0; t < BURST_TAGS; t++)
    {
      g_autofree char *name = g_strdup_printf ("burst.%u", t);
      guint tag = kankyo_historian_lookup (h, name);
      g_autoptr (GArray) a = NULL;

      if (tag == 0)
        continue;
      a = read_all (h, tag);
      for (guint i = 0; i < a->len; i++)
        {
          KankyoHistorianSample *s = &g_array_index (a, KankyoHistorianSample, i);
          guint64 seq = (guint64) i * BURST_TAGS + t;

          if (s->time != BURST_BASE + (gint64) seq * BURST_STEP)
            g_error ("tag %u: sample %" G_GUINT64_FORMAT " is missing or out of place", t, seq);
          if ((seq / BURST_TAGS) % 97 == 0)
            g_assert_true (kankyo_quality_is_bad (s->quality));
          else
            g_assert_cmpfloat (s->value, ==, (double) seq);
        }
      counts[t] = a->len;
      total += a->len;
    }
  kankyo_historian_close (h);
  for (guint t = 0; t < BURST_TAGS; t++)
    g_assert_cmpuint (counts[t], ==, total > t ? (total - t + BURST_TAGS - 1) / BURST_TAGS : 0);
  return total;
}

static void
test_kill9 (void)
{
  const char *build_dir = g_getenv ("KANKYO_BUILD_DIR");
  g_autofree char *burst = NULL;
  g_autofree char *path = db_path ("kill9");
  g_autoptr (GRand) rand = g_rand_new_with_seed (9);
  guint64 reported = 0;

  if (build_dir == NULL)
    {
      g_test_skip ("KANKYO_BUILD_DIR is not set: run this test through meson test");
      return;
    }
  burst = g_build_filename (build_dir, "tests", "unit", "historian-burst", NULL);
  g_assert_true (g_file_test (burst, G_FILE_TEST_IS_EXECUTABLE));

  for (guint round = 0; round < BURST_ROUNDS; round++)
    {
      const char *argv[] = { burst, path, NULL };
      g_autoptr (GError) error = NULL;
      g_autoptr (sqlite3) db = NULL;
      g_autoptr (sqlite3_stmt) stmt = NULL;
      guint kill_after = g_rand_int_range (rand, 3, 12);
      guint lines = 0;
      gboolean killed = FALSE;
      guint64 total, start = G_MAXUINT64;
      char line[64];
      GPid pid;
      int out_fd;
      FILE *out;
      int status;

      g_assert_true (g_spawn_async_with_pipes (NULL, (char **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL,
                                               NULL, &pid, NULL, &out_fd, NULL, &error));
      g_assert_no_error (error);
      out = fdopen (out_fd, "r");
      g_assert_nonnull (out);

      /* The first line is where this run starts, then one line per commit:
       * the number of samples on disk. Lines read after the kill was sent
       * were committed before it landed. */
      while (fgets (line, sizeof line, out) != NULL)
        {
          guint64 value;

          g_assert_true (g_ascii_string_to_unsigned (g_strchomp (line), 10, 0, G_MAXUINT64, &value, &error));
          g_assert_no_error (error);
          if (start == G_MAXUINT64)
            {
              start = value;
              g_assert_cmpuint (start, >=, reported);
            }
          else
            {
              g_assert_cmpuint (value, >=, MAX (reported, start));
              reported = value;
            }
          lines++;
          if (!killed && lines >= kill_after)
            {
              /* Somewhere in the next batch: gathering, writing, merging,
               * sealing or committing. */
              g_usleep (g_rand_int_range (rand, 0, 250000));
              g_assert_cmpint (kill (pid, SIGKILL), ==, 0);
              killed = TRUE;
            }
        }
      fclose (out);
      g_assert_true (killed);
      g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
      g_assert_true (WIFSIGNALED (status));
      g_assert_cmpint (WTERMSIG (status), ==, SIGKILL);
      g_spawn_close_pid (pid);

      g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
      g_assert_cmpint (sqlite3_prepare_v2 (db, "PRAGMA integrity_check", -1, &stmt, NULL), ==, SQLITE_OK);
      g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
      g_assert_cmpstr ((const char *) sqlite3_column_text (stmt, 0), ==, "ok");
      g_clear_pointer (&stmt, sqlite3_finalize);
      g_clear_pointer (&db, sqlite3_close);

      /* On disk: exactly the samples 0 .. total - 1, which covers all that
       * was reported and at most one more batch. */
      total = read_burst (path);
      g_test_message ("round %u: %u lines, %" G_GUINT64_FORMAT " samples reported, %" G_GUINT64_FORMAT
                      " on disk",
                      round, lines, reported, total);
      g_assert_cmpuint (total, >=, reported);
      g_assert_cmpuint (total - reported, <=, BURST_BATCH_MAX);
      reported = total;
    }
}

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    while ((name = g_dir_read_name (dir)) != NULL)
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
  int status;

  g_test_init (&argc, &argv, NULL);

  tmp_dir = g_dir_make_tmp ("kankyo-historian-XXXXXX", &error);
  g_assert_no_error (error);

  g_test_add_func ("/historian/open/create", test_open_create);
  g_test_add_func ("/historian/open/errors", test_open_errors);
  g_test_add_func ("/historian/open/readonly", test_open_readonly);
  g_test_add_func ("/historian/invalid", test_invalid_arguments);
  g_test_add_func ("/historian/values", test_value_types);
  g_test_add_func ("/historian/raw/storage", test_raw_storage);
  g_test_add_func ("/historian/raw/quality", test_quality_changes);
  g_test_add_func ("/historian/raw/compact", test_compact);
  g_test_add_func ("/historian/raw/tiers", test_raw_tiers);
  g_test_add_func ("/historian/corrupt-unsealed", test_corrupt_unsealed);
  g_test_add_data_func ("/historian/rollup/minute", GINT_TO_POINTER (KANKYO_HISTORIAN_MINUTE), test_rollups);
  g_test_add_data_func ("/historian/rollup/hour", GINT_TO_POINTER (KANKYO_HISTORIAN_HOUR), test_rollups);
  g_test_add_func ("/historian/binned", test_binned);
  g_test_add_func ("/historian/retention/enforce", test_retention);
  g_test_add_func ("/historian/retention/background", test_retention_background);
  g_test_add_func ("/historian/corrupt", test_corrupt);
  g_test_add_func ("/historian/concurrent-reads", test_concurrent_reads);
  g_test_add_func ("/historian/queue-full", test_queue_full);
  g_test_add_func ("/historian/kill9", test_kill9);

  status = g_test_run ();

  remove_tree (tmp_dir);
  g_free (tmp_dir);
  return status;
}
