/* test-report.c: tests of CSV exports and PDF trend reports, on a real
 * historian file in a temporary folder.
 *
 * The history is made here through the historian's API with known data:
 * several tags at different rates, Bad and Uncertain stretches, Japanese
 * and awkward tag names. Every expectation comes from the historian's own
 * raw samples (read_raw) and from statistics computed here by brute force,
 * never from kankyo-report itself: the CSV is parsed by an RFC 4180 reader
 * written here and checked value by value, the PDF is rendered by poppler
 * (pdftoppm, pdftotext) and checked by its pixels and its text. kankyoctl
 * is run as a separate process, as a script would run it.
 */

#include "config.h"

#include <cairo.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <glib/gstdio.h>

#include "kankyo-report.h"

#define SEC G_GINT64_CONSTANT (1000000)
#define MINUTE (60 * SEC)
#define HOUR (60 * MINUTE)
/* 2024-03-30T22:00:00Z: six hours of data from here cross the change to
 * summer time in Europe/Berlin at 2024-03-31T01:00:00Z. */
#define BASE (G_GINT64_CONSTANT (1711836000) * SEC)
#define DATA_HOURS 6

#define T_TEMP "ahu1.supply_temp"
#define T_JP "クリーンルーム1.差圧"
#define U_JP "パスカル"
#define T_ODD "odd,\"name\"\n.x"
#define T_VAC "vac1.pressure"
#define T_COLD "cold1.air_temp"
#define T_SPARE "spare.flow"

/* The test process uses fontconfig through Pango, which keeps its caches
 * for the life of the process by design; LeakSanitizer reads this in
 * sanitizer builds. Nothing of Kankyo's is suppressed. */
const char *__lsan_default_suppressions (void);

const char *
__lsan_default_suppressions (void)
{
  return "leak:libfontconfig.so\n";
}

static char *tmp_dir;
static char *data_dir;
static KankyoHistorian *historian;
static char *comma_locale;    /* a locale whose decimal point is ",", or NULL */
static char *comma_locpath;   /* LOCPATH that holds it, when made here */
static gboolean comma_looked; /* looked for one already */

/* ---- the history ---- */

static void
add_samples (const char *name,
             const char *unit,
             gint64 from,
             gint64 step,
             guint n,
             double (*value) (guint k),
             KankyoQuality (*quality) (guint k))
{
  KankyoHistorianPolicy policy = { 0, 0, NULL };
  g_autoptr (GError) error = NULL;
  guint id = kankyo_historian_add_tag (historian, name, unit, &policy, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (id, !=, 0);
  for (guint k = 0; k < n; k++)
    {
      KankyoQuality q = quality ? quality (k) : KANKYO_QUALITY_GOOD;

      g_assert_true (kankyo_historian_append_double (historian, id, from + k * step,
                                                     kankyo_quality_is_bad (q) ? NAN : value (k), q));
    }
}

static double
temp_value (guint k)
{
  return 20 + 2 * sin (2 * G_PI * k / 360.0) + k * 1e-4;
}

/* Bad from 1 h to 1 h 20 min; Uncertain for a minute at 1 h 40 min. */
static KankyoQuality
temp_quality (guint k)
{
  if (k >= 360 && k < 480)
    return KANKYO_QUALITY_BAD_COMMUNICATION_ERROR;
  if (k >= 600 && k < 606)
    return KANKYO_QUALITY_UNCERTAIN_LAST_USABLE_VALUE;
  return KANKYO_QUALITY_GOOD;
}

static double
jp_value (guint k)
{
  return 12.5 + (k % 97) * 0.013 - (k % 13) * 0.1 + k * 1e-6;
}

/* Bad from 2 h to 2 h 30 min. */
static KankyoQuality
jp_quality (guint k)
{
  return k >= 7200 && k < 9000 ? KANKYO_QUALITY_BAD_NO_COMMUNICATION : KANKYO_QUALITY_GOOD;
}

static double
odd_value (guint k)
{
  return 1234567.891 + k * 0.5;
}

static double
vac_value (guint k)
{
  return 1e-7 * (1 + k % 10) + k * 1e-12;
}

static double
cold_value (guint k)
{
  return -18.5 + (k % 40) * 0.0625 - (k % 7) * 0.3;
}

static double
spare_value (guint k)
{
  return 3.0 + k;
}

/* The device went off line after its last Good sample. */
static KankyoQuality
spare_quality (guint k)
{
  return k == 9 ? KANKYO_QUALITY_BAD_NO_COMMUNICATION : KANKYO_QUALITY_GOOD;
}

static void
make_history (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (data_dir, "history.db", NULL);

  g_assert_cmpint (g_mkdir_with_parents (data_dir, 0700), ==, 0);
  historian = kankyo_historian_open (path, &error);
  g_assert_no_error (error);
  add_samples (T_TEMP, "°C", BASE, 10 * SEC, DATA_HOURS * 360, temp_value, temp_quality);
  add_samples (T_JP, U_JP, BASE, SEC, DATA_HOURS * 3600, jp_value, jp_quality);
  add_samples (T_ODD, "m³/h", BASE + 7 * SEC, MINUTE, DATA_HOURS * 60, odd_value, NULL);
  add_samples (T_VAC, "mbar", BASE + 250 * 1000, 30 * SEC, DATA_HOURS * 120, vac_value, NULL);
  add_samples (T_COLD, "°C", BASE, 15 * SEC, DATA_HOURS * 240, cold_value, NULL);
  /* Only a day before the period, ending Bad: no Good sample in any
   * export here, and Bad all through the reports. */
  add_samples (T_SPARE, "l/min", BASE - 24 * HOUR, MINUTE, 10, spare_value, spare_quality);
  g_assert_true (kankyo_historian_flush (historian, &error));
  g_assert_no_error (error);
}

/* kankyoctl opens the history itself, and a history file takes one
 * historian at a time: the test lets go of it while kankyoctl runs. */
static void
release_history (void)
{
  g_clear_pointer (&historian, kankyo_historian_close);
}

static void
reopen_history (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (data_dir, "history.db", NULL);

  historian = kankyo_historian_open (path, &error);
  g_assert_no_error (error);
}

static guint
tag_id (const char *name)
{
  guint id = kankyo_historian_lookup (historian, name);

  g_assert_cmpuint (id, !=, 0);
  return id;
}

static GArray *
raw (const char *name, gint64 from, gint64 to)
{
  g_autoptr (GError) error = NULL;
  GArray *samples = kankyo_historian_read_raw (historian, tag_id (name), from, to, FALSE, &error);

  g_assert_no_error (error);
  return samples;
}

typedef struct
{
  double min, max, mean;
  guint64 count;
} Stats;

/* Min, max, mean and count of the Good samples in [from, to), by brute force. */
static Stats
brute_stats (const GArray *samples, gint64 from, gint64 to)
{
  Stats s = { INFINITY, -INFINITY, NAN, 0 };
  double sum = 0;

  for (guint i = 0; i < samples->len; i++)
    {
      const KankyoHistorianSample *x = &g_array_index (samples, KankyoHistorianSample, i);

      if (x->time < from || x->time >= to || x->quality != KANKYO_QUALITY_GOOD)
        continue;
      s.min = MIN (s.min, x->value);
      s.max = MAX (s.max, x->value);
      sum += x->value;
      s.count++;
    }
  if (s.count > 0)
    s.mean = sum / s.count;
  return s;
}

static void
assert_close (double actual, double expected, double relative)
{
  if (fabs (actual - expected) > relative * MAX (1.0, fabs (expected)))
    g_error ("%.17g is not close enough to %.17g", actual, expected);
}

/* ---- CSV reading ---- */

static void
free_row (gpointer row)
{
  g_ptr_array_unref (row);
}

/* RFC 4180, strictly: records end with CRLF, and a field that holds a
 * comma, a quote or a line end must be quoted. */
static GPtrArray *
parse_csv (const char *text, gsize len)
{
  GPtrArray *rows = g_ptr_array_new_with_free_func (free_row);
  GPtrArray *row = g_ptr_array_new_with_free_func (g_free);
  GString *field = g_string_new (NULL);
  gsize i = 0;

  while (i < len)
    {
      if (text[i] == '"')
        {
          for (i++;; i++)
            {
              g_assert_cmpuint (i, <, len);
              if (text[i] == '"')
                {
                  if (i + 1 < len && text[i + 1] == '"')
                    i++;
                  else
                    break;
                }
              g_string_append_c (field, text[i]);
            }
          i++;
        }
      else
        {
          while (i < len && text[i] != ',' && text[i] != '\r')
            {
              g_assert_true (text[i] != '"' && text[i] != '\n');
              g_string_append_c (field, text[i++]);
            }
        }
      g_ptr_array_add (row, g_strndup (field->str, field->len));
      g_string_truncate (field, 0);
      g_assert_cmpuint (i, <, len);
      if (text[i] == ',')
        {
          i++;
          continue;
        }
      g_assert_cmpint (text[i], ==, '\r');
      g_assert_cmpuint (i + 1, <, len);
      g_assert_cmpint (text[i + 1], ==, '\n');
      i += 2;
      g_ptr_array_add (rows, row);
      row = g_ptr_array_new_with_free_func (g_free);
    }
  g_assert_cmpuint (row->len, ==, 0);
  g_ptr_array_unref (row);
  g_string_free (field, TRUE);
  return rows;
}

static const char *
cell (GPtrArray *rows, guint r, guint c)
{
  GPtrArray *row = g_ptr_array_index (rows, r);

  g_assert_cmpuint (c, <, row->len);
  return g_ptr_array_index (row, c);
}

/* An ISO 8601 time as written by the export: microseconds and a zone. */
static gint64
parse_csv_time (const char *text, gboolean local)
{
  g_autoptr (GDateTime) dt = NULL;
  gsize len = strlen (text);

  g_assert_true (
      g_regex_match_simple (local ? "^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}[+-]\\d\\d:\\d\\d$"
                                  : "^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}Z$",
                            text, 0, 0));
  g_assert_cmpuint (len, >, 6);
  dt = g_date_time_new_from_iso8601 (text, NULL);
  g_assert_nonnull (dt);
  return g_date_time_to_unix (dt) * SEC + g_date_time_get_microsecond (dt);
}

/* A number as written by the export: "." and nothing a strtod leaves over. */
static double
parse_csv_number (const char *text)
{
  char *end = NULL;
  double v;

  g_assert_cmpstr (text, !=, "");
  g_assert_null (strchr (text, ','));
  v = g_ascii_strtod (text, &end);
  g_assert_cmpint (*end, ==, '\0');
  return v;
}

static GBytes *
export_to_memory (const KankyoExportRange *range)
{
  g_autoptr (GOutputStream) out = g_memory_output_stream_new_resizable ();
  g_autoptr (GError) error = NULL;

  g_assert_true (kankyo_report_write_csv (historian, range, out, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_output_stream_close (out, NULL, NULL));
  return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (out));
}

static GPtrArray *
export_rows (const KankyoExportRange *range)
{
  g_autoptr (GBytes) bytes = export_to_memory (range);
  gsize len;
  const char *text = g_bytes_get_data (bytes, &len);

  g_assert_true (g_utf8_validate (text, (gssize) len, NULL));
  return parse_csv (text, len);
}

/* ---- CSV tests ---- */

/* Every stored sample once, in time order, ties in the order of the tags,
 * value for value as the historian holds it. */
static void
check_raw_rows (GPtrArray *rows, const char *const *tags, gint64 from, gint64 to, gboolean local)
{
  guint n = g_strv_length ((char **) tags);
  g_autoptr (GPtrArray) samples = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  g_autofree guint *next = g_new0 (guint, n);
  guint row = 1, total = 0;

  for (guint i = 0; i < n; i++)
    {
      g_ptr_array_add (samples, raw (tags[i], from, to));
      total += ((GArray *) g_ptr_array_index (samples, i))->len;
    }
  g_assert_cmpuint (rows->len, ==, total + 1);
  g_assert_cmpstr (cell (rows, 0, 0), ==, "time");
  g_assert_cmpstr (cell (rows, 0, 1), ==, "tag");
  g_assert_cmpstr (cell (rows, 0, 2), ==, "value");
  g_assert_cmpstr (cell (rows, 0, 3), ==, "quality");

  for (;;)
    {
      const KankyoHistorianSample *best = NULL;
      guint best_tag = 0;

      for (guint i = 0; i < n; i++)
        {
          GArray *a = g_ptr_array_index (samples, i);

          if (next[i] < a->len
              && (best == NULL || g_array_index (a, KankyoHistorianSample, next[i]).time < best->time))
            {
              best = &g_array_index (a, KankyoHistorianSample, next[i]);
              best_tag = i;
            }
        }
      if (best == NULL)
        break;
      next[best_tag]++;
      g_assert_cmpuint (((GPtrArray *) g_ptr_array_index (rows, row))->len, ==, 4);
      g_assert_cmpint (parse_csv_time (cell (rows, row, 0), local), ==, best->time);
      g_assert_cmpstr (cell (rows, row, 1), ==, tags[best_tag]);
      if (kankyo_quality_is_bad (best->quality))
        g_assert_cmpstr (cell (rows, row, 2), ==, "");
      else
        g_assert_cmpfloat (parse_csv_number (cell (rows, row, 2)), ==, best->value);
      g_assert_cmpstr (cell (rows, row, 3), ==, kankyo_quality_to_string (best->quality));
      row++;
    }
  g_assert_cmpuint (row, ==, rows->len);
}

static void
test_csv_raw (void)
{
  const char *tags[] = { T_TEMP, T_JP, T_ODD, T_VAC, T_COLD, NULL };
  KankyoExportRange range = { tags, BASE + 30 * MINUTE + 250 * 1000, BASE + 5 * HOUR, 0, FALSE };
  g_autoptr (GPtrArray) rows = export_rows (&range);
  guint bad = 0, uncertain = 0;

  check_raw_rows (rows, tags, range.from, range.to, FALSE);
  /* The data holds what the test is about: Bad rows with empty values,
   * Uncertain rows with values, both tags' stretches in the period. */
  for (guint r = 1; r < rows->len; r++)
    {
      if (g_str_equal (cell (rows, r, 3), "Bad_CommunicationError")
          || g_str_equal (cell (rows, r, 3), "Bad_NoCommunication"))
        bad++;
      if (g_str_equal (cell (rows, r, 3), "Uncertain_LastUsableValue"))
        {
          g_assert_cmpstr (cell (rows, r, 2), !=, "");
          uncertain++;
        }
    }
  g_assert_cmpuint (bad, >, 0);
  g_assert_cmpuint (uncertain, >, 0);
  g_assert_cmpuint (rows->len, >, 16000);
}

static void
test_csv_raw_local (void)
{
  const char *tags[] = { T_TEMP, T_COLD, NULL };
  KankyoExportRange range = { tags, BASE, BASE + DATA_HOURS * HOUR, 0, TRUE };
  g_autoptr (GPtrArray) rows = export_rows (&range);
  /* Europe/Berlin went from +01:00 to +02:00 at 01:00 UTC. */
  gint64 change = BASE + 3 * HOUR;
  guint winter = 0, summer = 0;

  check_raw_rows (rows, tags, range.from, range.to, TRUE);
  for (guint r = 1; r < rows->len; r++)
    {
      const char *time = cell (rows, r, 0);
      gint64 t = parse_csv_time (time, TRUE);

      if (t < change)
        {
          g_assert_true (g_str_has_suffix (time, "+01:00"));
          winter++;
        }
      else
        {
          g_assert_true (g_str_has_suffix (time, "+02:00"));
          summer++;
        }
    }
  g_assert_cmpuint (winter, >, 100);
  g_assert_cmpuint (summer, >, 100);
  g_assert_cmpstr (cell (rows, 1, 0), ==, "2024-03-30T23:00:00.000000+01:00");
}

/* Each bin against brute force over the raw samples. */
static void
check_binned_rows (GPtrArray *rows, const char *const *tags, gint64 from, gint64 to, gint64 bin)
{
  guint n = g_strv_length ((char **) tags);
  guint64 n_bins = (guint64) ((to - from + bin - 1) / bin);
  guint empty = 0;

  g_assert_cmpuint (rows->len, ==, n_bins + 1);
  g_assert_cmpuint (((GPtrArray *) g_ptr_array_index (rows, 0))->len, ==, 1 + 4 * n);
  g_assert_cmpstr (cell (rows, 0, 0), ==, "bin start");
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *min = g_strconcat (tags[i], " min", NULL);
      g_autofree char *max = g_strconcat (tags[i], " max", NULL);
      g_autofree char *mean = g_strconcat (tags[i], " mean", NULL);
      g_autofree char *count = g_strconcat (tags[i], " count", NULL);

      g_assert_cmpstr (cell (rows, 0, 1 + 4 * i), ==, min);
      g_assert_cmpstr (cell (rows, 0, 2 + 4 * i), ==, max);
      g_assert_cmpstr (cell (rows, 0, 3 + 4 * i), ==, mean);
      g_assert_cmpstr (cell (rows, 0, 4 + 4 * i), ==, count);
    }
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (GArray) all = raw (tags[i], 0, G_MAXINT64 / 2);

      for (guint b = 0; b < n_bins; b++)
        {
          gint64 start = from + b * bin, end = MIN (start + bin, to);
          Stats s = brute_stats (all, start, end);
          guint r = b + 1;

          g_assert_cmpint (parse_csv_time (cell (rows, r, 0), FALSE), ==, start);
          g_assert_cmpuint (g_ascii_strtoull (cell (rows, r, 4 + 4 * i), NULL, 10), ==, s.count);
          if (s.count == 0)
            {
              g_assert_cmpstr (cell (rows, r, 4 + 4 * i), ==, "0");
              g_assert_cmpstr (cell (rows, r, 1 + 4 * i), ==, "");
              g_assert_cmpstr (cell (rows, r, 2 + 4 * i), ==, "");
              g_assert_cmpstr (cell (rows, r, 3 + 4 * i), ==, "");
              empty++;
              continue;
            }
          g_assert_cmpfloat (parse_csv_number (cell (rows, r, 1 + 4 * i)), ==, s.min);
          g_assert_cmpfloat (parse_csv_number (cell (rows, r, 2 + 4 * i)), ==, s.max);
          assert_close (parse_csv_number (cell (rows, r, 3 + 4 * i)), s.mean, 1e-12);
        }
    }
  /* The Bad stretches make empty bins: the test covers them. */
  g_assert_cmpuint (empty, >, 0);
}

static void
test_csv_binned (void)
{
  const char *tags[] = { T_TEMP, T_JP, T_ODD, NULL };
  /* Not on round minutes, and the period is not a whole number of bins:
   * the last bin is shorter. */
  KankyoExportRange range
      = { tags, BASE + 30 * MINUTE + 15 * SEC, BASE + 5 * HOUR + 7 * SEC, 10 * MINUTE, FALSE };
  g_autoptr (GPtrArray) rows = export_rows (&range);

  g_assert_cmpint ((range.to - range.from) % range.bin_us, !=, 0);
  check_binned_rows (rows, tags, range.from, range.to, range.bin_us);
}

static void
test_csv_binned_hours (void)
{
  const char *tags[] = { T_JP, T_VAC, T_COLD, NULL };
  /* Whole hours, whole bins: the historian may answer from its rollups. */
  KankyoExportRange range = { tags, BASE - HOUR, BASE + (DATA_HOURS + 1) * HOUR, HOUR, FALSE };
  g_autoptr (GPtrArray) rows = export_rows (&range);

  check_binned_rows (rows, tags, range.from, range.to, range.bin_us);
  /* One-minute bins on round minutes too. */
  range.from = BASE + 2 * HOUR - 5 * MINUTE;
  range.to = BASE + 2 * HOUR + 35 * MINUTE;
  range.bin_us = MINUTE;
  g_clear_pointer (&rows, g_ptr_array_unref);
  rows = export_rows (&range);
  check_binned_rows (rows, tags, range.from, range.to, range.bin_us);
}

static void
test_csv_quoting (void)
{
  const char *tags[] = { T_ODD, T_JP, NULL };
  KankyoExportRange range = { tags, BASE, BASE + 2 * MINUTE, 0, FALSE };
  g_autoptr (GBytes) bytes = export_to_memory (&range);
  g_autofree char *text = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  g_autoptr (GPtrArray) rows = NULL;
  gboolean found = FALSE;

  /* The awkward name is quoted with its quotes doubled, line end kept;
   * the Japanese name needs no quotes and stays UTF-8. */
  g_assert_nonnull (
      strstr (text, "\r\n2024-03-30T22:00:07.000000Z,\"odd,\"\"name\"\"\n.x\",1234567.891,Good\r\n"));
  g_assert_nonnull (strstr (text, "\r\n2024-03-30T22:00:00.000000Z," T_JP ","));
  g_assert_true (g_str_has_prefix (text, "time,tag,value,quality\r\n"));
  rows = parse_csv (text, strlen (text));
  for (guint r = 1; r < rows->len; r++)
    if (g_str_equal (cell (rows, r, 0), "2024-03-30T22:00:07.000000Z")
        && !g_str_equal (cell (rows, r, 1), T_JP))
      {
        g_assert_cmpstr (cell (rows, r, 1), ==, T_ODD);
        g_assert_cmpstr (cell (rows, r, 2), ==, "1234567.891");
        found = TRUE;
      }
  g_assert_true (found);

  range.bin_us = MINUTE;
  g_clear_pointer (&bytes, g_bytes_unref);
  g_free (text);
  bytes = export_to_memory (&range);
  text = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  g_assert_true (g_str_has_prefix (text,
                                   "bin start,\"odd,\"\"name\"\"\n.x min\",\"odd,\"\"name\"\"\n.x max\","
                                   "\"odd,\"\"name\"\"\n.x mean\",\"odd,\"\"name\"\"\n.x count\"," T_JP
                                   " min," T_JP " max," T_JP " mean," T_JP " count\r\n"));
}

/* Finds a locale whose decimal point is a comma: installed, or made here
 * with localedef from the locale sources into the test's folder. */
static const char *
find_comma_locale (void)
{
  static const char *const installed[]
      = { "de_DE.UTF-8", "de_DE.utf8",  "fr_FR.UTF-8", "nl_NL.UTF-8", "es_ES.UTF-8", "it_IT.UTF-8",
          "ru_RU.UTF-8", "pt_BR.UTF-8", "da_DK.UTF-8", "sv_SE.UTF-8", NULL };
  g_autofree char *dir = NULL;
  g_autofree char *target = NULL;
  int status = -1;

  if (comma_looked)
    return comma_locale;
  comma_looked = TRUE;
  for (guint i = 0; installed[i] != NULL; i++)
    if (setlocale (LC_NUMERIC, installed[i]) != NULL && g_str_equal (localeconv ()->decimal_point, ","))
      {
        setlocale (LC_NUMERIC, "C");
        comma_locale = g_strdup (installed[i]);
        return comma_locale;
      }
  setlocale (LC_NUMERIC, "C");

  dir = g_build_filename (tmp_dir, "locale", NULL);
  target = g_build_filename (dir, "de_DE.UTF-8", NULL);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  {
    const char *argv[] = { "localedef", "-c", "-i", "de_DE", "-f", "UTF-8", target, NULL };

    /* localedef exits 1 for mere warnings; whether the locale loads is what counts. */
    if (!g_spawn_sync (NULL, (char **) argv, NULL,
                       G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL, NULL,
                       NULL, NULL, NULL, &status, NULL))
      return NULL;
  }
  g_setenv ("LOCPATH", dir, TRUE);
  if (setlocale (LC_NUMERIC, "de_DE.UTF-8") != NULL && g_str_equal (localeconv ()->decimal_point, ","))
    {
      comma_locale = g_strdup ("de_DE.UTF-8");
      comma_locpath = g_strdup (dir);
    }
  else
    g_unsetenv ("LOCPATH");
  setlocale (LC_NUMERIC, "C");
  return comma_locale;
}

static void
test_csv_locale (void)
{
  const char *tags[] = { T_TEMP, T_JP, T_ODD, T_VAC, T_COLD, NULL };
  KankyoExportRange raw_range = { tags, BASE, BASE + 2 * HOUR, 0, TRUE };
  KankyoExportRange binned_range = { tags, BASE, BASE + 2 * HOUR, 5 * MINUTE, FALSE };
  g_autoptr (GBytes) raw_c = export_to_memory (&raw_range);
  g_autoptr (GBytes) binned_c = export_to_memory (&binned_range);
  g_autoptr (GBytes) raw_comma = NULL;
  g_autoptr (GBytes) binned_comma = NULL;
  const char *name = find_comma_locale ();
  char probe[16];

  if (name == NULL)
    {
      g_test_skip ("no locale with a decimal comma is installed and localedef could not make de_DE.UTF-8");
      return;
    }
  g_assert_nonnull (setlocale (LC_NUMERIC, name));
  /* The locale really is in force: the C library now writes a comma. */
  snprintf (probe, sizeof probe, "%.1f", 1.5);
  g_assert_cmpstr (probe, ==, "1,5");
  raw_comma = export_to_memory (&raw_range);
  binned_comma = export_to_memory (&binned_range);
  setlocale (LC_NUMERIC, "C");

  g_assert_true (g_bytes_equal (raw_c, raw_comma));
  g_assert_true (g_bytes_equal (binned_c, binned_comma));
  /* And the numbers in it have points. */
  g_assert_nonnull (g_strstr_len (g_bytes_get_data (raw_c, NULL), (gssize) g_bytes_get_size (raw_c),
                                  ",1234567.891,Good\r\n"));
}

typedef struct
{
  GArray *fractions;
  GCancellable *cancel_at_third; /* NULL: never */
} ProgressLog;

static void
log_progress (double fraction, gpointer data)
{
  ProgressLog *log = data;

  g_array_append_val (log->fractions, fraction);
  if (log->cancel_at_third != NULL && fraction > 1.0 / 3)
    g_cancellable_cancel (log->cancel_at_third);
}

static void
check_fractions (GArray *fractions)
{
  g_assert_cmpuint (fractions->len, >=, 3);
  g_assert_cmpfloat (g_array_index (fractions, double, 0), ==, 0.0);
  g_assert_cmpfloat (g_array_index (fractions, double, fractions->len - 1), ==, 1.0);
  for (guint i = 1; i < fractions->len; i++)
    g_assert_cmpfloat (g_array_index (fractions, double, i), >=, g_array_index (fractions, double, i - 1));
}

static guint
count_files (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  guint n = 0;

  g_assert_nonnull (d);
  while (g_dir_read_name (d) != NULL)
    n++;
  return n;
}

static void
test_csv_file (void)
{
  const char *tags[] = { T_TEMP, T_JP, NULL };
  KankyoExportRange range = { tags, BASE, BASE + DATA_HOURS * HOUR, 0, FALSE };
  g_autofree char *dir = g_build_filename (tmp_dir, "csv-file", NULL);
  g_autofree char *path = g_build_filename (dir, "export.csv", NULL);
  g_autoptr (GBytes) expected = export_to_memory (&range);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize len;
  ProgressLog log = { g_array_new (FALSE, FALSE, sizeof (double)), NULL };

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_assert_true (kankyo_report_write_csv_file (historian, &range, path, log_progress, &log, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  g_assert_cmpmem (contents, len, g_bytes_get_data (expected, NULL), g_bytes_get_size (expected));
  check_fractions (log.fractions);
  /* More than one chunk was read: progress moved in steps. */
  g_assert_cmpuint (log.fractions->len, >, 4);

  /* Cancelled a third of the way: the file that was there stays as it
   * was, and nothing else is left in the folder. */
  g_assert_true (g_file_set_contents (path, "old", -1, NULL));
  g_array_set_size (log.fractions, 0);
  log.cancel_at_third = cancellable;
  g_assert_false (
      kankyo_report_write_csv_file (historian, &range, path, log_progress, &log, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_free (contents);
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, "old");
  g_assert_cmpuint (count_files (dir), ==, 1);
  g_array_unref (log.fractions);
}

static void
test_csv_errors (void)
{
  const char *tags[] = { T_TEMP, NULL };
  const char *unknown[] = { T_TEMP, "ahu1.no_such_tag", NULL };
  const char *none[] = { NULL };
  KankyoExportRange range = { tags, BASE, BASE + HOUR, 0, FALSE };
  g_autoptr (GOutputStream) out = g_memory_output_stream_new_resizable ();
  g_autoptr (GError) error = NULL;
  g_autofree char *missing = g_build_filename (tmp_dir, "no-such-folder", "x.csv", NULL);
  struct
  {
    KankyoExportRange range;
    const char *message_part;
  } cases[] = {
    { { none, BASE, BASE + HOUR, 0, FALSE }, "No tags" },
    { { NULL, BASE, BASE + HOUR, 0, FALSE }, "No tags" },
    { { unknown, BASE, BASE + HOUR, 0, FALSE }, "ahu1.no_such_tag" },
    { { tags, BASE + HOUR, BASE + HOUR, 0, FALSE }, "empty" },
    { { tags, BASE + HOUR, BASE, 0, FALSE }, "empty" },
    { { tags, -SEC, BASE, 0, FALSE }, "1970" },
    { { tags, BASE, BASE + HOUR, 999, FALSE }, "millisecond" },
    { { tags, BASE, BASE + HOUR, -MINUTE, FALSE }, "millisecond" },
    { { tags, 0, BASE, SEC, FALSE }, "wider bins" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_assert_false (kankyo_report_write_csv (historian, &cases[i].range, out, NULL, NULL, NULL, &error));
      g_assert_error (error, KANKYO_REPORT_ERROR, KANKYO_REPORT_ERROR_INVALID);
      g_assert_nonnull (strstr (error->message, cases[i].message_part));
      g_clear_error (&error);
    }
  /* Nothing was written for any of them. */
  g_assert_cmpuint (g_memory_output_stream_get_data_size (G_MEMORY_OUTPUT_STREAM (out)), ==, 0);

  g_assert_false (kankyo_report_write_csv_file (historian, &range, missing, NULL, NULL, NULL, &error));
  g_assert_error (error, KANKYO_REPORT_ERROR, KANKYO_REPORT_ERROR_WRITE);
  g_assert_nonnull (strstr (error->message, "no-such-folder"));
}

static void
test_summary (void)
{
  const char *tags[] = { T_TEMP, T_JP, T_ODD, T_VAC, T_COLD, NULL };
  gint64 from = BASE + 17 * MINUTE + 3 * SEC, to = BASE + 4 * HOUR + 59 * MINUTE;
  KankyoReportSummary s;
  g_autoptr (GError) error = NULL;

  for (guint i = 0; tags[i] != NULL; i++)
    {
      g_autoptr (GArray) all = raw (tags[i], 0, G_MAXINT64 / 2);
      Stats expected = brute_stats (all, from, to);

      g_assert_true (kankyo_report_summarize (historian, tags[i], from, to, &s, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (s.count, ==, expected.count);
      g_assert_cmpuint (s.count, >, 100);
      g_assert_cmpfloat (s.min, ==, expected.min);
      g_assert_cmpfloat (s.max, ==, expected.max);
      assert_close (s.mean, expected.mean, 1e-12);
    }
  /* Uncertain and Bad samples are stored and not counted. */
  {
    g_autoptr (GArray) temp = raw (T_TEMP, from, to);
    guint not_good = 0;

    for (guint i = 0; i < temp->len; i++)
      not_good += g_array_index (temp, KankyoHistorianSample, i).quality != KANKYO_QUALITY_GOOD;
    g_assert_true (kankyo_report_summarize (historian, T_TEMP, from, to, &s, &error));
    g_assert_cmpuint (not_good, >=, 2);
    g_assert_cmpuint (s.count, ==, temp->len - not_good);
  }
  /* A tag without samples in the period. */
  g_assert_true (kankyo_report_summarize (historian, T_SPARE, from, to, &s, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (s.count, ==, 0);
  g_assert_true (isnan (s.min) && isnan (s.max) && isnan (s.mean));

  g_assert_false (kankyo_report_summarize (historian, "ahu1.no_such_tag", from, to, &s, &error));
  g_assert_error (error, KANKYO_REPORT_ERROR, KANKYO_REPORT_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (kankyo_report_summarize (historian, T_TEMP, to, from, &s, &error));
  g_assert_error (error, KANKYO_REPORT_ERROR, KANKYO_REPORT_ERROR_INVALID);
}

/* ---- PDF ---- */

static gboolean
run (const char *const *argv, char **ret_out, char **ret_err)
{
  g_autoptr (GError) error = NULL;
  int status = -1;

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, ret_out, ret_err,
                               &status, &error));
  g_assert_no_error (error);
  return WIFEXITED (status) && WEXITSTATUS (status) == 0;
}

static char *
pdf_text (const char *pdf)
{
  const char *argv[] = { "pdftotext", "-layout", "-enc", "UTF-8", pdf, "-", NULL };
  g_autofree char *err = NULL;
  char *out = NULL;

  if (!run (argv, &out, &err))
    g_error ("pdftotext %s failed: %s", pdf, err);
  return out;
}

/* Renders one page with pdftoppm, as a person would see it. */
static cairo_surface_t *
render_page (const char *pdf, int page)
{
  g_autofree char *page_text = g_strdup_printf ("%d", page);
  g_autofree char *prefix = g_strdup_printf ("%s-page%d", pdf, page);
  g_autofree char *png = g_strconcat (prefix, ".png", NULL);
  const char *argv[] = { "pdftoppm", "-png", "-r",      "100", "-singlefile", "-f",
                         page_text,  "-l",   page_text, pdf,   prefix,        NULL };
  g_autofree char *err = NULL;
  cairo_surface_t *surface;
  GStatBuf st;

  if (!run (argv, NULL, &err))
    g_error ("pdftoppm %s failed: %s", pdf, err);
  g_assert_cmpint (g_stat (png, &st), ==, 0);
  g_assert_cmpint (st.st_size, >, 1000);
  surface = cairo_image_surface_create_from_png (png);
  g_assert_cmpint (cairo_surface_status (surface), ==, CAIRO_STATUS_SUCCESS);
  /* A4 landscape at 100 dpi. */
  g_assert_cmpint (ABS (cairo_image_surface_get_width (surface) - 1169), <=, 1);
  g_assert_cmpint (ABS (cairo_image_surface_get_height (surface) - 827), <=, 1);
  return surface;
}

typedef enum
{
  PIXEL_INK,  /* anything not white */
  PIXEL_BAND, /* the min/max band */
  PIXEL_MEAN, /* the dark blue mean line */
  PIXEL_BAD,  /* the reddish hatching of Bad stretches */
  PIXEL_DATA, /* band or mean line */
} PixelKind;

static gboolean
pixel_is (cairo_surface_t *surface, int x, int y, PixelKind kind)
{
  const guint8 *data = cairo_image_surface_get_data (surface);
  guint32 p = *(const guint32 *) (data + y * cairo_image_surface_get_stride (surface) + x * 4);
  int r = (p >> 16) & 0xff, g = (p >> 8) & 0xff, b = p & 0xff;

  switch (kind)
    {
      case PIXEL_INK:
        return r < 250 || g < 250 || b < 250;
      case PIXEL_BAND:
        return ABS (r - 184) <= 6 && ABS (g - 204) <= 6 && ABS (b - 232) <= 6;
      case PIXEL_MEAN:
        return b > r + 60 && r < 110;
      case PIXEL_BAD:
        return r > g + 50 && r > b + 50;
      case PIXEL_DATA:
      default:
        return pixel_is (surface, x, y, PIXEL_BAND) || pixel_is (surface, x, y, PIXEL_MEAN);
    }
}

static guint
count_pixels (cairo_surface_t *surface, int x0, int y0, int x1, int y1, PixelKind kind)
{
  guint n = 0;

  cairo_surface_flush (surface);
  for (int y = MAX (y0, 0); y < MIN (y1, cairo_image_surface_get_height (surface)); y++)
    for (int x = MAX (x0, 0); x < MIN (x1, cairo_image_surface_get_width (surface)); x++)
      n += pixel_is (surface, x, y, kind);
  return n;
}

/* On the first chart page the first strip is T_TEMP, Bad from 1 h to
 * 1 h 20 min of six hours: the hatching there, no data drawn inside it,
 * data on both sides. */
static void
check_chart_pixels (cairo_surface_t *page)
{
  int w = cairo_image_surface_get_width (page), h = cairo_image_surface_get_height (page);
  int top = -1, bottom = -1, left = w, right = -1;

  g_assert_cmpuint (count_pixels (page, 0, 0, w, h, PIXEL_INK), >, w * h / 50);
  g_assert_cmpuint (count_pixels (page, 0, 0, w, h, PIXEL_INK), <, w * h / 2);
  g_assert_cmpuint (count_pixels (page, 0, 0, w, h, PIXEL_BAND), >, 5000);
  g_assert_cmpuint (count_pixels (page, 0, 0, w, h, PIXEL_MEAN), >, 1000);

  /* The legend's hatch box sits at the right; the stretch is in the left half. */
  for (int y = 0; y < h && (top < 0 || bottom < 0); y++)
    {
      guint n = count_pixels (page, 0, y, w / 2, y + 1, PIXEL_BAD);

      if (n > 0 && top < 0)
        top = y;
      else if (n == 0 && top >= 0)
        bottom = y;
    }
  g_assert_cmpint (top, >, 0);
  g_assert_cmpint (bottom - top, >, 40);
  for (int y = top; y < bottom; y++)
    for (int x = 0; x < w / 2; x++)
      if (pixel_is (page, x, y, PIXEL_BAD))
        {
          left = MIN (left, x);
          right = MAX (right, x);
        }
  /* A sixth of a plot about 1030 px wide: 1/18 of it is some 57 px. */
  g_assert_cmpint (right - left, >, 40);
  g_assert_cmpint (right - left, <, 80);
  g_assert_cmpuint (count_pixels (page, left + 3, top, right - 3, bottom, PIXEL_DATA), ==, 0);
  g_assert_cmpuint (count_pixels (page, left - 15, top, left - 1, bottom, PIXEL_DATA), >, 10);
  g_assert_cmpuint (count_pixels (page, right + 1, top, right + 15, bottom, PIXEL_DATA), >, 10);
}

/* A printed number against the expected value, to the digits printed. */
static void
check_printed (const char *printed, double expected)
{
  const char *point = strchr (printed, '.');
  const char *exponent = strchr (printed, 'e');
  int decimals = point ? (int) ((exponent ? exponent : printed + strlen (printed)) - point - 1) : 0;
  double unit = pow (10, (exponent ? atoi (exponent + 1) : 0) - decimals);

  g_assert_null (strchr (printed, ','));
  if (fabs (parse_csv_number (printed) - expected) > 0.5 * unit * (1 + 1e-9))
    g_error ("the report prints %s where %.17g was expected", printed, expected);
}

/* The table row of @tag: the name, then unit, min, max, mean and count. */
static void
check_table_row (const char *text, const char *tag, gint64 from, gint64 to)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  g_autoptr (GArray) all = raw (tag, 0, G_MAXINT64 / 2);
  Stats expected = brute_stats (all, from, to);
  KankyoReportSummary summary;
  g_autoptr (GError) error = NULL;
  gboolean found = FALSE;

  g_assert_true (kankyo_report_summarize (historian, tag, from, to, &summary, &error));
  g_assert_no_error (error);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto (GStrv) words = NULL;
      guint n;

      /* Chart titles are "tag (unit)"; the table row is the tag alone. */
      if (!g_str_has_prefix (g_strchug (lines[i]), tag) || lines[i][strlen (tag)] != ' '
          || strstr (lines[i], "(") != NULL)
        continue;
      words = g_regex_split_simple ("\\s+", g_strstrip (lines[i]), 0, 0);
      n = g_strv_length (words);
      g_assert_cmpuint (n, >=, 5);
      g_assert_cmpuint (g_ascii_strtoull (words[n - 1], NULL, 10), ==, expected.count);
      g_assert_cmpuint (summary.count, ==, expected.count);
      if (expected.count == 0)
        {
          g_assert_cmpstr (words[n - 2], ==, "–");
          g_assert_cmpstr (words[n - 3], ==, "–");
          g_assert_cmpstr (words[n - 4], ==, "–");
        }
      else
        {
          check_printed (words[n - 4], expected.min);
          check_printed (words[n - 3], expected.max);
          check_printed (words[n - 2], expected.mean);
          check_printed (words[n - 4], summary.min);
          check_printed (words[n - 3], summary.max);
          check_printed (words[n - 2], summary.mean);
        }
      found = TRUE;
    }
  if (!found)
    g_error ("no table row for %s in:\n%s", tag, text);
}

/* fontconfig's own answer, as Pango would find a font. */
static gboolean
have_japanese_font (void)
{
  const char *argv[] = { "fc-list", ":lang=ja", "family", NULL };
  g_autofree char *out = NULL;
  int status = -1;

  return g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL, NULL,
                       NULL, &out, NULL, &status, NULL)
         && WIFEXITED (status) && WEXITSTATUS (status) == 0 && out != NULL && *out != '\0';
}

static void
check_pdf (const char *path, const char *const *tags, gint64 from, gint64 to, const char *title)
{
  g_autofree char *text = pdf_text (path);
  cairo_surface_t *page;

  g_assert_nonnull (strstr (text, title));
  g_assert_nonnull (strstr (text, "Test plant"));
  g_assert_nonnull (strstr (text, "by tester"));
  g_assert_nonnull (strstr (text, "Period: 2024-03-30 23:00:00 +01:00 to 2024-03-31 06:00:00 +02:00"));
  g_assert_nonnull (strstr (text, "Page 1 of 3"));
  g_assert_nonnull (strstr (text, "Page 3 of 3"));
  g_assert_null (strstr (text, "Page 4"));
  g_assert_nonnull (strstr (text, "Statistics of the period"));
  g_assert_nonnull (strstr (text, "No Good values in this period"));
  for (guint i = 0; tags[i] != NULL; i++)
    if (g_str_is_ascii (tags[i]))
      check_table_row (text, tags[i], from, to);
  if (have_japanese_font ())
    {
      check_table_row (text, T_JP, from, to);
      g_assert_nonnull (strstr (text, U_JP));
    }
  else
    g_test_message ("no Japanese font is installed: the Japanese tag name was not looked for in the text");

  page = render_page (path, 1);
  check_chart_pixels (page);
  cairo_surface_destroy (page);
  /* The table page has text and no chart. */
  page = render_page (path, 3);
  g_assert_cmpuint (count_pixels (page, 0, 0, 1170, 828, PIXEL_INK), >, 5000);
  g_assert_cmpuint (count_pixels (page, 0, 0, 1170, 828, PIXEL_BAND), ==, 0);
  cairo_surface_destroy (page);
}

static void
test_pdf (void)
{
  const char *tags[] = { T_TEMP, T_JP, T_VAC, T_COLD, T_SPARE, NULL };
  KankyoExportRange range = { tags, BASE, BASE + DATA_HOURS * HOUR, 0, TRUE };
  KankyoReportHeader header = { "Test plant", "Batch 42 — 清浄度", "tester" };
  g_autofree char *path = g_build_filename (tmp_dir, "report.pdf", NULL);
  g_autoptr (GError) error = NULL;
  ProgressLog log = { g_array_new (FALSE, FALSE, sizeof (double)), NULL };
  g_autofree char *head = NULL;

  g_assert_true (
      kankyo_report_write_pdf (historian, &range, &header, path, log_progress, &log, NULL, &error));
  g_assert_no_error (error);
  check_fractions (log.fractions);
  g_assert_true (g_file_get_contents (path, &head, NULL, NULL));
  g_assert_true (g_str_has_prefix (head, "%PDF-"));
  check_pdf (path, tags, range.from, range.to, "Batch 42");
  g_array_unref (log.fractions);
}

/* The numbers of the report do not follow the locale either. */
static void
test_pdf_locale (void)
{
  const char *tags[] = { T_TEMP, T_JP, T_VAC, T_COLD, T_SPARE, NULL };
  KankyoExportRange range = { tags, BASE, BASE + DATA_HOURS * HOUR, 0, TRUE };
  KankyoReportHeader header = { "Test plant", "Locale", "tester" };
  g_autofree char *path = g_build_filename (tmp_dir, "report-comma.pdf", NULL);
  g_autoptr (GError) error = NULL;
  const char *name = find_comma_locale ();
  gboolean ok;

  if (name == NULL)
    {
      g_test_skip ("no locale with a decimal comma is installed and localedef could not make de_DE.UTF-8");
      return;
    }
  g_assert_nonnull (setlocale (LC_NUMERIC, name));
  ok = kankyo_report_write_pdf (historian, &range, &header, path, NULL, NULL, NULL, &error);
  setlocale (LC_NUMERIC, "C");
  g_assert_no_error (error);
  g_assert_true (ok);
  check_pdf (path, tags, range.from, range.to, "Locale");
}

static void
test_pdf_cancel (void)
{
  const char *tags[] = { T_TEMP, T_JP, NULL };
  KankyoExportRange range = { tags, BASE, BASE + DATA_HOURS * HOUR, 0, FALSE };
  g_autofree char *dir = g_build_filename (tmp_dir, "pdf-cancel", NULL);
  g_autofree char *path = g_build_filename (dir, "report.pdf", NULL);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  ProgressLog log = { g_array_new (FALSE, FALSE, sizeof (double)), cancellable };

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_assert_false (
      kankyo_report_write_pdf (historian, &range, NULL, path, log_progress, &log, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (count_files (dir), ==, 0);
  g_clear_error (&error);

  /* And an unwritable place is a write error that names it. */
  g_free (path);
  path = g_build_filename (dir, "missing", "report.pdf", NULL);
  g_assert_false (kankyo_report_write_pdf (historian, &range, NULL, path, NULL, NULL, NULL, &error));
  g_assert_error (error, KANKYO_REPORT_ERROR, KANKYO_REPORT_ERROR_WRITE);
  g_assert_nonnull (strstr (error->message, "missing"));
  g_array_unref (log.fractions);
}

/* ---- kankyoctl ---- */

static char *
kankyoctl_path (void)
{
  const char *build_dir = g_getenv ("KANKYO_BUILD_DIR");

  return build_dir ? g_build_filename (build_dir, "app", "kankyoctl", NULL) : NULL;
}

/* Runs kankyoctl with @args and returns its exit status. */
static int
run_ctl (const char *const *args, const char *const *extra_env, char **ret_out, char **ret_err)
{
  g_autofree char *ctl = kankyoctl_path ();
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_auto (GStrv) env = g_get_environ ();
  g_autofree char *supp = NULL;
  g_autoptr (GError) error = NULL;
  int status = -1;

  g_ptr_array_add (argv, ctl);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  /* Read only by sanitizer builds: fontconfig's caches live as long as
   * the process, by design. */
  supp = g_strdup_printf ("suppressions=%s/tests/ui/lsan.supp:print_suppressions=0",
                          g_getenv ("KANKYO_SOURCE_DIR"));
  env = g_environ_setenv (env, "LSAN_OPTIONS", supp, TRUE);
  for (guint i = 0; extra_env != NULL && extra_env[i] != NULL; i += 2)
    env = g_environ_setenv (env, extra_env[i], extra_env[i + 1], TRUE);
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, env, G_SPAWN_DEFAULT, NULL, NULL, ret_out,
                               ret_err, &status, &error));
  g_assert_no_error (error);
  g_assert_true (WIFEXITED (status));
  return WEXITSTATUS (status);
}

/* Runs kankyoctl and fails with what it said unless it succeeds. */
static void
run_ctl_ok (const char *const *args, const char *const *extra_env, char **ret_out)
{
  g_autofree char *err = NULL;
  int status = run_ctl (args, extra_env, ret_out, &err);

  if (status != 0)
    g_error ("kankyoctl %s exited with %d: %s", args[0], status, err);
}

static gboolean
need_kankyoctl (void)
{
  g_autofree char *ctl = kankyoctl_path ();

  if (ctl == NULL || g_getenv ("KANKYO_SOURCE_DIR") == NULL)
    {
      g_test_skip ("KANKYO_BUILD_DIR is not set: run this test through meson test");
      return FALSE;
    }
  return TRUE;
}

static void
assert_file_equals_bytes (const char *path, GBytes *expected)
{
  g_autofree char *contents = NULL;
  gsize len = 0;

  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  g_assert_cmpmem (contents, len, g_bytes_get_data (expected, NULL), g_bytes_get_size (expected));
}

static void
test_ctl_export (void)
{
  const char *tags[] = { T_TEMP, T_JP, T_COLD, NULL };
  KankyoExportRange range = { tags, BASE + 10 * MINUTE, BASE + 4 * HOUR, 0, FALSE };
  g_autoptr (GBytes) expected_raw = NULL;
  g_autoptr (GBytes) expected_binned = NULL;
  g_autofree char *out_path = g_build_filename (tmp_dir, "ctl-export.csv", NULL);
  g_autofree char *tag_list = g_strjoin (",", T_TEMP, T_JP, T_COLD, NULL);
  g_autofree char *out = NULL, *err = NULL;

  if (!need_kankyoctl ())
    return;
  expected_raw = export_to_memory (&range);
  range.bin_us = 15 * MINUTE;
  expected_binned = export_to_memory (&range);
  {
    /* While the plant's historian has the file open and writing,
     * kankyoctl reads what it has committed. */
    g_autofree char *busy_path = g_build_filename (tmp_dir, "ctl-export-busy.csv", NULL);
    const char *args[]
        = { "export", "--data-dir",        data_dir, "--tags",  tag_list, "--from", "2024-03-30T23:10",
            "--to",   "2024-03-31T02:00Z", "-o",     busy_path, NULL };

    run_ctl_ok (args, NULL, NULL);
    assert_file_equals_bytes (busy_path, expected_raw);
    g_unlink (busy_path);
  }
  release_history ();

  {
    /* A time without a zone is local (Europe/Berlin, +01:00 then);
     * seconds may be left out. */
    const char *args[]
        = { "export", "--data-dir",        data_dir, "--tags", tag_list, "--from", "2024-03-30T23:10",
            "--to",   "2024-03-31T02:00Z", "-o",     out_path, NULL };

    run_ctl_ok (args, NULL, NULL);
    assert_file_equals_bytes (out_path, expected_raw);
  }
  {
    /* To standard output, with spaces after the commas and a space for T. */
    const char *args[] = { "export",
                           "--data-dir",
                           data_dir,
                           "--tags",
                           T_TEMP ", " T_JP ", " T_COLD,
                           "--from",
                           "2024-03-30T22:10:00+00:00",
                           "--to",
                           "2024-03-31 04:00:00+02:00",
                           "--bin",
                           "15m",
                           NULL };

    g_clear_pointer (&out, g_free);
    run_ctl_ok (args, NULL, &out);
    g_assert_cmpmem (out, strlen (out), g_bytes_get_data (expected_binned, NULL),
                     g_bytes_get_size (expected_binned));
  }
  {
    /* Relative times: the last week has none of this 2024 data, and that
     * is an empty export, not an error. */
    const char *args[]
        = { "export", "--data-dir", data_dir, "--tags", T_TEMP, "--from", "-7d", "--to", "now", NULL };

    g_clear_pointer (&out, g_free);
    run_ctl_ok (args, NULL, &out);
    g_assert_cmpstr (out, ==, "time,tag,value,quality\r\n");
  }
  {
    /* Local times with their offset. */
    const char *args[] = {
      "export", "--data-dir",          data_dir,       "--tags", T_TEMP, "--from", "2024-03-30T23:00:00",
      "--to",   "2024-03-30T23:00:10", "--local-time", NULL
    };

    g_clear_pointer (&out, g_free);
    run_ctl_ok (args, NULL, &out);
    g_assert_cmpstr (out, ==,
                     "time,tag,value,quality\r\n2024-03-30T23:00:00.000000+01:00," T_TEMP ",20,Good\r\n");
  }
  {
    /* Under a locale with a decimal comma, the same bytes. */
    const char *name = find_comma_locale ();
    const char *args[]
        = { "export", "--data-dir",           data_dir, "--tags", tag_list, "--from", "2024-03-30T23:10:00",
            "--to",   "2024-03-31T02:00:00Z", NULL };
    const char *env[] = { "LC_ALL", name, "LOCPATH", comma_locpath ? comma_locpath : "", NULL };

    if (name != NULL)
      {
        g_clear_pointer (&out, g_free);
        run_ctl_ok (args, env, &out);
        g_assert_cmpmem (out, strlen (out), g_bytes_get_data (expected_raw, NULL),
                         g_bytes_get_size (expected_raw));
      }
    else
      g_test_message ("no locale with a decimal comma: kankyoctl was run in C.UTF-8 only");
  }
  reopen_history ();
}

static void
test_ctl_report (void)
{
  const char *tags[] = { T_TEMP, T_JP, T_VAC, T_COLD, T_SPARE, NULL };
  g_autofree char *out_path = g_build_filename (tmp_dir, "ctl-report.pdf", NULL);
  g_autofree char *tag_list = g_strjoinv (",", (char **) tags);
  g_autofree char *head = NULL;
  g_autofree char *err = NULL;
  const char *args[] = { "report",
                         "--data-dir",
                         data_dir,
                         "--tags",
                         tag_list,
                         "--from",
                         "2024-03-30T23:00:00",
                         "--to",
                         "2024-03-31T06:00:00+02:00",
                         "--title",
                         "Batch 42 kankyoctl",
                         "--author",
                         "tester",
                         "--local-time",
                         "-o",
                         out_path,
                         NULL };

  if (!need_kankyoctl ())
    return;
  release_history ();
  run_ctl_ok (args, NULL, NULL);
  reopen_history ();
  g_assert_true (g_file_get_contents (out_path, &head, NULL, NULL));
  g_assert_true (g_str_has_prefix (head, "%PDF-"));
  /* The plant is the demo project's, without --project. */
  {
    g_autofree char *text = pdf_text (out_path);

    g_assert_nonnull (strstr (text, "Batch 42 kankyoctl"));
    g_assert_nonnull (strstr (text, "by tester"));
    g_assert_nonnull (strstr (text, "Period: 2024-03-30 23:00:00 +01:00 to 2024-03-31 06:00:00 +02:00"));
    for (guint i = 0; tags[i] != NULL; i++)
      if (g_str_is_ascii (tags[i]))
        check_table_row (text, tags[i], BASE, BASE + DATA_HOURS * HOUR);
  }
}

static void
test_ctl_bad_options (void)
{
  g_autofree char *pdf = g_build_filename (tmp_dir, "never.pdf", NULL);
  g_autofree char *csv = g_build_filename (tmp_dir, "never.csv", NULL);
  g_autofree char *no_dir = g_build_filename (tmp_dir, "no-data-here", NULL);
  const char *from = "2024-03-30T22:00:00Z", *to = "2024-03-31T04:00:00Z";
  struct
  {
    const char *args[16];
    int status;
    const char *named;
  } cases[] = {
    { { "export", "--data-dir", data_dir, "--from", from, "--to", to, NULL }, 2, "--tags" },
    { { "export", "--data-dir", data_dir, "--tags", "ahu1.nope", "--from", from, "--to", to, NULL },
      2,
      "--tags" },
    { { "export", "--data-dir", data_dir, "--tags", T_TEMP ",,", "--from", from, "--to", to, NULL },
      2,
      "--tags" },
    { { "export", "--data-dir", data_dir, "--tags", T_TEMP, "--to", to, NULL }, 2, "--from" },
    { { "export", "--data-dir", data_dir, "--tags", T_TEMP, "--from", "yesterday", "--to", to, NULL },
      2,
      "--from" },
    { { "export", "--data-dir", data_dir, "--tags", T_TEMP, "--from", "-3q", "--to", to, NULL },
      2,
      "--from" },
    { { "export", "--data-dir", data_dir, "--tags", T_TEMP, "--from", from, "--to", "2024-13-45", NULL },
      2,
      "--to" },
    { { "export", "--data-dir", data_dir, "--tags", T_TEMP, "--from", to, "--to", from, NULL }, 2, "--from" },
    { { "export", "--data-dir", data_dir, "--tags", T_TEMP, "--from", from, "--to", from, NULL },
      2,
      "--from" },
    { { "export", "--data-dir", data_dir, "--tags", T_TEMP, "--from", from, "--to", to, "--bin", "7x", NULL },
      2,
      "--bin" },
    { { "export", "--data-dir", data_dir, "--tags", T_TEMP, "--from", from, "--to", to, "--bin", "0m", NULL },
      2,
      "--bin" },
    { { "export", "--data-dir", data_dir, "--tags", T_TEMP, "--from", "1970-01-02", "--to", to, "--bin", "1s",
        NULL },
      2,
      "--bin" },
    { { "export", "--data-dir", data_dir, "--tags", T_TEMP, "--from", from, "--frobnicate", NULL },
      2,
      "--frobnicate" },
    { { "report", "--data-dir", data_dir, "--tags", T_TEMP, "--from", from, "--to", to, NULL },
      2,
      "--output" },
    { { "report", "--data-dir", data_dir, "--tags", "ahu1.nope", "--from", from, "-o", pdf, NULL },
      2,
      "--tags" },
    { { "report", "--data-dir", data_dir, "--tags", T_TEMP, "--from", "soon", "-o", pdf, NULL },
      2,
      "--from" },
    /* Not usage: there is no history there. */
    { { "export", "--data-dir", no_dir, "--tags", T_TEMP, "--from", from, "-o", csv, NULL },
      1,
      "no history" },
  };

  if (!need_kankyoctl ())
    return;
  release_history ();
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *out = NULL, *err = NULL;
      int status = run_ctl (cases[i].args, NULL, &out, &err);

      if (status != cases[i].status || strstr (err, cases[i].named) == NULL)
        g_error ("case %u: exit %d (expected %d), stderr does not name %s:\n%s", i, status, cases[i].status,
                 cases[i].named, err);
      g_assert_cmpstr (out, ==, "");
    }
  g_assert_false (g_file_test (pdf, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (csv, G_FILE_TEST_EXISTS));
  reopen_history ();
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

        remove_tree (child);
      }
  g_remove (path);
}

int
main (int argc, char **argv)
{
  int status;

  /* Local times in the tests are Europe/Berlin's, daylight saving and all. */
  g_setenv ("TZ", "Europe/Berlin", TRUE);
  setlocale (LC_ALL, "");
  g_test_init (&argc, &argv, NULL);

  tmp_dir = g_dir_make_tmp ("kankyo-report-XXXXXX", NULL);
  g_assert_nonnull (tmp_dir);
  data_dir = g_build_filename (tmp_dir, "data", NULL);
  /* Before any thread starts: it may set LOCPATH. */
  find_comma_locale ();
  make_history ();

  g_test_add_func ("/report/csv/raw", test_csv_raw);
  g_test_add_func ("/report/csv/raw-local", test_csv_raw_local);
  g_test_add_func ("/report/csv/binned", test_csv_binned);
  g_test_add_func ("/report/csv/binned-hours", test_csv_binned_hours);
  g_test_add_func ("/report/csv/quoting", test_csv_quoting);
  g_test_add_func ("/report/csv/locale", test_csv_locale);
  g_test_add_func ("/report/csv/file", test_csv_file);
  g_test_add_func ("/report/csv/errors", test_csv_errors);
  g_test_add_func ("/report/summary", test_summary);
  g_test_add_func ("/report/pdf/content", test_pdf);
  g_test_add_func ("/report/pdf/locale", test_pdf_locale);
  g_test_add_func ("/report/pdf/cancel", test_pdf_cancel);
  g_test_add_func ("/report/ctl/export", test_ctl_export);
  g_test_add_func ("/report/ctl/report", test_ctl_report);
  g_test_add_func ("/report/ctl/bad-options", test_ctl_bad_options);
  status = g_test_run ();

  kankyo_historian_close (historian);
  remove_tree (tmp_dir);
  g_free (data_dir);
  g_free (tmp_dir);
  g_free (comma_locale);
  g_free (comma_locpath);
  return status;
}
