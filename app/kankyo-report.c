/* kankyo-report.c: history taken home, as CSV for a spreadsheet or as a PDF
 * trend report for a batch record, an audit or a customer.
 *
 * An export may cover a year of one-second data, so no period is ever held
 * in memory whole: raw samples are read in chunks of time whose width
 * follows the density of the data (about CHUNK_SAMPLES samples a chunk),
 * binned exports take at most BIN_CHUNK_MAX bins at a time, and CSV text
 * goes to the stream as it is made. Files are written beside their final
 * name and renamed into place, so a reader never sees half an export.
 *
 * CSV (RFC 4180): UTF-8 without a byte order mark, CRLF line ends, a field
 * quoted when it holds a comma, a quote, CR or LF. Numbers always use "."
 * whatever the locale, with the fewest digits (at most 17 significant)
 * that read back as the same double: 21.5 is "21.5", never "21,5", and
 * nothing is rounded away. Times are ISO 8601 with microseconds, in UTC
 * ("2024-03-01T08:00:00.000000Z") or in the local zone with the offset in
 * force at that instant ("2024-03-01T09:00:00.000000+01:00"), so a
 * daylight-saving change stays unambiguous.
 *   Raw: header "time,tag,value,quality", then one row per stored sample
 *   in time order (samples at the same time in the order the tags were
 *   given); value is empty for Bad samples; quality is the OPC UA name.
 *   Binned: header "bin start", then "TAG min", "TAG max", "TAG mean",
 *   "TAG count" for each tag; one row per bin, the first starting at the
 *   start of the period; the last bin ends with the period and may be
 *   shorter than the others. The statistics are those of the stored Good
 *   samples in the bin, exactly (from the historian's rollups where they
 *   fit the bins, else from the raw samples); min, max and mean are empty
 *   and count is 0 when it has none.
 *
 * PDF: A4 landscape, drawn with cairo and laid out with Pango so that any
 * script the installed fonts cover (Japanese tag names and translation
 * included) prints. Every page has a header (title, plant, period with its
 * zone, when and by whom it was made) and "Page n of m". Chart pages show
 * up to four tags, each in its own strip with its own value axis and unit:
 * a band from min to max and a line through the mean of each of about 600
 * bins. The historian stores a sample only on a change (or a heartbeat),
 * so a bin without samples carries on the value in force before it; where
 * no Good value is in force there is a gap, hatched where quality was Bad.
 * Then a table of min, max, mean and count per tag over the whole period,
 * from the stored raw samples of Good quality. Numbers in the table have
 * six significant digits and always use ".".
 */

#include "config.h"

#include "kankyo-report.h"

#include <cairo-pdf.h>
#include <errno.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <pango/pangocairo.h>
#include <string.h>

/* The first argument becomes the quark's name, so it must stay one word. */
/* clang-format off */
G_DEFINE_QUARK (kankyo-report-error-quark, kankyo_report_error)
/* clang-format on */

#define MAX_TAGS KANKYO_REPORT_MAX_TAGS
/* 9999-12-31T23:59:59Z: GDateTime cannot go further. */
#define MAX_TIME (G_GINT64_CONSTANT (253402300799) * G_USEC_PER_SEC)
#define MIN_BIN_US (G_USEC_PER_SEC / 1000)
#define MAX_CSV_ROWS KANKYO_REPORT_MAX_CSV_ROWS

#define MINUTE_US (G_GINT64_CONSTANT (60) * G_USEC_PER_SEC)
#define HOUR_US (60 * MINUTE_US)
#define DAY_US (24 * HOUR_US)

/* Raw samples a chunk aims at, over all tags of an export. */
#define CHUNK_SAMPLES 32768
#define FIRST_CHUNK_US (10 * MINUTE_US)
#define MIN_CHUNK_US G_USEC_PER_SEC
#define MAX_CHUNK_US (366 * DAY_US)
/* Binned exports: about a day of bins at a time, and never more than this. */
#define BIN_CHUNK_SPAN_US DAY_US
#define BIN_CHUNK_MAX 1024
/* CSV text is handed to the stream in pieces of about this size. */
#define FLUSH_BYTES 65536
#define TEMP_ATTEMPTS 16

/* PDF layout, in points. */
#define PAGE_WIDTH 841.89 /* A4 landscape */
#define PAGE_HEIGHT 595.28
#define MARGIN 36.0
#define HEADER_HEIGHT 58.0
#define FOOTER_HEIGHT 16.0
#define AXIS_WIDTH 64.0 /* value labels left of a chart */
#define STRIP_TITLE 15.0
#define STRIP_GAP 10.0
#define TIME_LABELS 30.0
#define TABLE_ROW 16.0
#define CHART_BINS 600
#define TAGS_PER_PAGE 4
#define MAX_TIME_TICKS 8
#define MAX_VALUE_TICKS 5
#define FONT_FAMILY "Sans"

/* ---- progress ---- */

/* A part of an operation's progress: reports base + scale * fraction to
 * the caller, never going backwards. */
typedef struct
{
  KankyoReportProgress func;
  gpointer data;
  double base, scale;
  double last;
} Progress;

static void
progress_report (Progress *p, double fraction)
{
  double value;

  if (p->func == NULL)
    return;
  value = p->base + p->scale * CLAMP (fraction, 0.0, 1.0);
  if (value < p->last)
    return;
  p->last = value;
  p->func (value, p->data);
}

static Progress
progress_part (const Progress *whole, double from, double to)
{
  Progress part = *whole;

  part.base = whole->base + whole->scale * from;
  part.scale = whole->scale * (to - from);
  return part;
}

/* ---- checks ---- */

static gboolean
check_period (gint64 from, gint64 to, GError **error)
{
  if (from < 0 || to > MAX_TIME)
    {
      g_set_error (error, KANKYO_REPORT_ERROR, KANKYO_REPORT_ERROR_INVALID,
                   _ ("The period must lie between the years 1970 and 9999"));
      return FALSE;
    }
  if (from >= to)
    {
      g_set_error (error, KANKYO_REPORT_ERROR, KANKYO_REPORT_ERROR_INVALID,
                   _ ("The period is empty: its start must be before its end"));
      return FALSE;
    }
  return TRUE;
}

static guint
lookup_tag (KankyoHistorian *historian, const char *tag, GError **error)
{
  guint id = tag != NULL && *tag != '\0' ? kankyo_historian_lookup (historian, tag) : 0;

  if (id == 0)
    g_set_error (error, KANKYO_REPORT_ERROR, KANKYO_REPORT_ERROR_INVALID,
                 _ ("There is no recorded history for the tag '%s'"), tag != NULL ? tag : "");
  return id;
}

/* Checks @range and returns the historian's id of each tag. */
static guint *
check_range (KankyoHistorian *historian, const KankyoExportRange *range, guint *ret_n, GError **error)
{
  g_autofree guint *ids = NULL;
  guint n = 0;

  if (range->tags != NULL)
    while (range->tags[n] != NULL && n <= MAX_TAGS)
      n++;
  if (n == 0)
    {
      g_set_error (error, KANKYO_REPORT_ERROR, KANKYO_REPORT_ERROR_INVALID,
                   _ ("No tags were chosen: choose at least one"));
      return NULL;
    }
  if (n > MAX_TAGS)
    {
      g_set_error (error, KANKYO_REPORT_ERROR, KANKYO_REPORT_ERROR_INVALID,
                   _ ("Too many tags were chosen: at most %d can be exported at once"), MAX_TAGS);
      return NULL;
    }
  if (!check_period (range->from, range->to, error))
    return NULL;
  if (range->bin_us < 0 || (range->bin_us > 0 && range->bin_us < MIN_BIN_US))
    {
      g_set_error (error, KANKYO_REPORT_ERROR, KANKYO_REPORT_ERROR_INVALID,
                   _ ("A bin must be at least one millisecond wide"));
      return NULL;
    }
  ids = g_new (guint, n);
  for (guint i = 0; i < n; i++)
    {
      ids[i] = lookup_tag (historian, range->tags[i], error);
      if (ids[i] == 0)
        return NULL;
    }
  *ret_n = n;
  return g_steal_pointer (&ids);
}

/* ---- raw samples in chunks ---- */

typedef struct
{
  KankyoHistorian *historian;
  const guint *ids;
  const char *const *names;
  guint n;
  gint64 pos, end; /* what is still to be read: [pos, end) */
  gint64 width;    /* of the next chunk */
  GArray **chunk;  /* per tag, the samples of the last chunk read */
} RawReader;

static void
raw_reader_init (RawReader *r,
                 KankyoHistorian *historian,
                 const guint *ids,
                 const char *const *names,
                 guint n,
                 gint64 from,
                 gint64 to)
{
  r->historian = historian;
  r->ids = ids;
  r->names = names;
  r->n = n;
  r->pos = from;
  r->end = to;
  r->width = FIRST_CHUNK_US;
  r->chunk = g_new0 (GArray *, n);
}

static void
raw_reader_clear (RawReader *r)
{
  for (guint i = 0; i < r->n; i++)
    g_clear_pointer (&r->chunk[i], g_array_unref);
  g_clear_pointer (&r->chunk, g_free);
}

/* Reads the next chunk of every tag. The width of the chunk after it
 * follows how many samples this one held. */
static gboolean
raw_reader_next (RawReader *r, GError **error)
{
  gint64 stop = r->end - r->pos > r->width ? r->pos + r->width : r->end;
  guint total = 0;

  for (guint i = 0; i < r->n; i++)
    {
      g_clear_pointer (&r->chunk[i], g_array_unref);
      r->chunk[i] = kankyo_historian_read_raw (r->historian, r->ids[i], r->pos, stop, FALSE, error);
      if (r->chunk[i] == NULL)
        {
          g_prefix_error (error, _ ("Reading the history of %s: "), r->names[i]);
          return FALSE;
        }
      total += r->chunk[i]->len;
    }
  r->pos = stop;
  if (total > CHUNK_SAMPLES)
    r->width = MAX (r->width / 2, MIN_CHUNK_US);
  else if (total < CHUNK_SAMPLES / 4)
    r->width = MIN (r->width * 2, MAX_CHUNK_US);
  return TRUE;
}

/* Narrows [*from, *to) to the stored data of the tags; FALSE when none
 * of them has any there. */
static gboolean
clip_to_data (KankyoHistorian *historian, const guint *ids, guint n, gint64 *from, gint64 *to)
{
  gint64 first = G_MAXINT64, last = G_MININT64;

  for (guint i = 0; i < n; i++)
    {
      gint64 f, l;

      if (kankyo_historian_get_extent (historian, ids[i], &f, &l))
        {
          first = MIN (first, f);
          last = MAX (last, l);
        }
    }
  if (first > last)
    return FALSE;
  *from = MAX (*from, first);
  *to = MIN (*to, last + 1);
  return *from < *to;
}

/* ---- statistics ---- */

/* Statistics of Good samples as they come. The sum is Neumaier's
 * compensated sum: a year of samples must not lose the digits of the mean
 * to rounding. */
typedef struct
{
  double min, max, sum, compensation;
  guint64 count;
} Accumulator;

static void
accumulator_init (Accumulator *a)
{
  *a = (Accumulator){ INFINITY, -INFINITY, 0, 0, 0 };
}

static void
accumulator_add (Accumulator *a, const KankyoHistorianSample *sample)
{
  double v = sample->value, t;

  if (!kankyo_quality_is_good (sample->quality) || isnan (v))
    return;
  a->min = MIN (a->min, v);
  a->max = MAX (a->max, v);
  t = a->sum + v;
  a->compensation += fabs (a->sum) >= fabs (v) ? (a->sum - t) + v : (v - t) + a->sum;
  a->sum = t;
  a->count++;
}

static KankyoReportSummary
accumulator_result (const Accumulator *a)
{
  KankyoReportSummary s = { NAN, NAN, NAN, a->count };

  if (a->count > 0)
    {
      s.min = a->min;
      s.max = a->max;
      s.mean = (a->sum + a->compensation) / (double) a->count;
    }
  return s;
}

static gboolean
summarize_tag (KankyoHistorian *historian,
               guint id,
               const char *name,
               gint64 from,
               gint64 to,
               Progress *progress,
               GCancellable *cancellable,
               KankyoReportSummary *ret_summary,
               GError **error)
{
  Accumulator acc;
  gint64 start = from, stop = to;
  RawReader reader;
  gboolean ok = TRUE;

  accumulator_init (&acc);
  if (clip_to_data (historian, &id, 1, &start, &stop))
    {
      raw_reader_init (&reader, historian, &id, &name, 1, start, stop);
      while (ok && reader.pos < reader.end)
        {
          ok = !g_cancellable_set_error_if_cancelled (cancellable, error) && raw_reader_next (&reader, error);
          for (guint i = 0; ok && i < reader.chunk[0]->len; i++)
            accumulator_add (&acc, &g_array_index (reader.chunk[0], KankyoHistorianSample, i));
          progress_report (progress, (double) (reader.pos - from) / (double) (to - from));
        }
      raw_reader_clear (&reader);
    }
  if (!ok)
    return FALSE;
  progress_report (progress, 1.0);
  *ret_summary = accumulator_result (&acc);
  return TRUE;
}

gboolean
kankyo_report_summarize (KankyoHistorian *historian,
                         const char *tag,
                         gint64 from,
                         gint64 to,
                         KankyoReportSummary *ret_summary,
                         GError **error)
{
  Progress none = { NULL, NULL, 0, 1, 0 };
  guint id;

  g_return_val_if_fail (historian != NULL, FALSE);
  g_return_val_if_fail (ret_summary != NULL, FALSE);

  if (!check_period (from, to, error))
    return FALSE;
  id = lookup_tag (historian, tag, error);
  if (id == 0)
    return FALSE;
  return summarize_tag (historian, id, tag, from, to, &none, NULL, ret_summary, error);
}

/* ---- text ---- */

static GDateTime *
date_time_at (gint64 us, gboolean local)
{
  g_autoptr (GDateTime) utc = g_date_time_new_from_unix_utc (us / G_USEC_PER_SEC);
  g_autoptr (GDateTime) exact = g_date_time_add (utc, us % G_USEC_PER_SEC);

  return local ? g_date_time_to_local (exact) : g_steal_pointer (&exact);
}

/* ISO 8601 with microseconds; @us is within [0, MAX_TIME]. */
static void
append_iso_time (GString *text, gint64 us, gboolean local)
{
  g_autoptr (GDateTime) dt = date_time_at (us, local);
  g_autofree char *base = g_date_time_format (dt, "%Y-%m-%dT%H:%M:%S");

  g_string_append_printf (text, "%s.%06d", base, g_date_time_get_microsecond (dt));
  if (local)
    {
      g_autofree char *offset = g_date_time_format (dt, "%:z");

      g_string_append (text, offset);
    }
  else
    g_string_append_c (text, 'Z');
}

/* A time as people read it in the header: to the second, with the zone. */
static char *
format_readable_time (gint64 us, gboolean local)
{
  g_autoptr (GDateTime) dt = date_time_at (us, local);

  return g_date_time_format (dt, local ? "%Y-%m-%d %H:%M:%S %:z" : "%Y-%m-%d %H:%M:%S UTC");
}

static void
append_csv_field (GString *text, const char *field)
{
  if (strpbrk (field, ",\"\r\n") == NULL)
    {
      g_string_append (text, field);
      return;
    }
  g_string_append_c (text, '"');
  for (const char *p = field; *p != '\0'; p++)
    {
      if (*p == '"')
        g_string_append_c (text, '"');
      g_string_append_c (text, *p);
    }
  g_string_append_c (text, '"');
}

/* The fewest digits that read back as @value. %g drops trailing zeros, so
 * a value that 15 significant digits hold comes out as short as it can be
 * (21.5, not 21.500000000000000); only the others need 16 or 17. Three
 * tries at most: a year of samples is millions of numbers. */
static void
append_csv_number (GString *text, double value)
{
  static const char *const formats[] = { "%.15g", "%.16g", "%.17g" };
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (isnan (value))
    return;
  for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
    {
      g_ascii_formatd (buf, sizeof buf, formats[i], value);
      if (g_ascii_strtod (buf, NULL) == value)
        break;
    }
  g_string_append (text, buf);
}

static gboolean
flush_text (GOutputStream *out, GString *text, GCancellable *cancellable, GError **error)
{
  g_autoptr (GError) local = NULL;

  if (!g_output_stream_write_all (out, text->str, text->len, NULL, cancellable, &local))
    {
      if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_propagate_error (error, g_steal_pointer (&local));
      else
        g_set_error (error, KANKYO_REPORT_ERROR, KANKYO_REPORT_ERROR_WRITE, _ ("Cannot write the export: %s"),
                     local->message);
      return FALSE;
    }
  g_string_truncate (text, 0);
  return TRUE;
}

/* ---- CSV ---- */

static gboolean
write_raw_csv (KankyoHistorian *historian,
               const KankyoExportRange *range,
               const guint *ids,
               guint n,
               GOutputStream *out,
               Progress *progress,
               GCancellable *cancellable,
               GError **error)
{
  g_autoptr (GString) text = g_string_sized_new (FLUSH_BYTES + 1024);
  g_autofree guint *next = g_new0 (guint, n);
  gint64 from = range->from, to = range->to;
  RawReader reader;
  gboolean ok = TRUE;

  g_string_append (text, "time,tag,value,quality\r\n");
  if (!clip_to_data (historian, ids, n, &from, &to))
    return flush_text (out, text, cancellable, error);

  raw_reader_init (&reader, historian, ids, range->tags, n, from, to);
  while (ok && reader.pos < reader.end)
    {
      ok = !g_cancellable_set_error_if_cancelled (cancellable, error) && raw_reader_next (&reader, error);
      memset (next, 0, sizeof (guint) * n);
      /* The chunks of all tags cover the same time: merge them by time. */
      while (ok)
        {
          const KankyoHistorianSample *sample = NULL;
          guint best = 0;

          for (guint i = 0; i < n; i++)
            if (next[i] < reader.chunk[i]->len)
              {
                const KankyoHistorianSample *s
                    = &g_array_index (reader.chunk[i], KankyoHistorianSample, next[i]);

                if (sample == NULL || s->time < sample->time)
                  {
                    sample = s;
                    best = i;
                  }
              }
          if (sample == NULL)
            break;
          next[best]++;
          append_iso_time (text, sample->time, range->local_time);
          g_string_append_c (text, ',');
          append_csv_field (text, range->tags[best]);
          g_string_append_c (text, ',');
          if (!kankyo_quality_is_bad (sample->quality))
            append_csv_number (text, sample->value);
          g_string_append_c (text, ',');
          g_string_append (text, kankyo_quality_to_string (sample->quality));
          g_string_append (text, "\r\n");
          if (text->len >= FLUSH_BYTES)
            ok = flush_text (out, text, cancellable, error);
        }
      if (ok)
        progress_report (progress, (double) (reader.pos - range->from) / (double) (range->to - range->from));
    }
  raw_reader_clear (&reader);
  return ok && flush_text (out, text, cancellable, error);
}

/* Whether the historian's binned read is exact for bins of @width from
 * @start on. It answers from its one-minute or one-hour rollups when a bin
 * is wide enough, and that is exact only when every bin edge falls on a
 * rollup's edge: whole minutes (up to four hours of them, past which it
 * takes the hour rollups) from a whole minute, or whole hours from a whole
 * hour. Other bins are computed here from the raw samples, so that every
 * number in an export is exact. */
static gboolean
rollups_exact (gint64 start, gint64 width)
{
  return (start % HOUR_US == 0 && width % HOUR_US == 0)
         || (start % MINUTE_US == 0 && width % MINUTE_US == 0 && width <= 4 * HOUR_US);
}

/* The statistics of one tag in @k bins of @bin from @t, the last ending at
 * @stop; *width carries the width of raw chunks from one call to the next. */
static gboolean
read_tag_bins (KankyoHistorian *historian,
               guint id,
               const char *name,
               gint64 t,
               gint64 stop,
               guint k,
               gint64 bin,
               gint64 *width,
               GCancellable *cancellable,
               KankyoReportSummary *ret_bins,
               GError **error)
{
  g_autofree Accumulator *acc = NULL;
  RawReader reader;
  gboolean ok = TRUE;

  if (stop - t == k * bin ? rollups_exact (t, bin) : rollups_exact (t, stop - t))
    {
      g_autoptr (GArray) bins = kankyo_historian_read_binned (historian, id, t, stop, k, error);

      if (bins == NULL)
        {
          g_prefix_error (error, _ ("Reading the history of %s: "), name);
          return FALSE;
        }
      for (guint j = 0; j < k; j++)
        {
          const KankyoHistorianBin *b = &g_array_index (bins, KankyoHistorianBin, j);

          ret_bins[j] = (KankyoReportSummary){ b->min, b->max, b->mean, b->count };
        }
      return TRUE;
    }

  acc = g_new (Accumulator, k);
  for (guint j = 0; j < k; j++)
    accumulator_init (&acc[j]);
  raw_reader_init (&reader, historian, &id, &name, 1, t, stop);
  reader.width = *width;
  while (ok && reader.pos < reader.end)
    {
      ok = !g_cancellable_set_error_if_cancelled (cancellable, error) && raw_reader_next (&reader, error);
      for (guint i = 0; ok && i < reader.chunk[0]->len; i++)
        {
          const KankyoHistorianSample *sample = &g_array_index (reader.chunk[0], KankyoHistorianSample, i);

          accumulator_add (&acc[MIN ((sample->time - t) / bin, k - 1)], sample);
        }
    }
  *width = reader.width;
  raw_reader_clear (&reader);
  for (guint j = 0; ok && j < k; j++)
    ret_bins[j] = accumulator_result (&acc[j]);
  return ok;
}

static gboolean
write_binned_csv (KankyoHistorian *historian,
                  const KankyoExportRange *range,
                  const guint *ids,
                  guint n,
                  GOutputStream *out,
                  Progress *progress,
                  GCancellable *cancellable,
                  GError **error)
{
  g_autoptr (GString) text = g_string_sized_new (FLUSH_BYTES + 1024);
  gint64 span = range->to - range->from, bin = range->bin_us;
  guint64 rows = (guint64) (span / bin) + (span % bin != 0);
  guint per_chunk = (guint) CLAMP (BIN_CHUNK_SPAN_US / bin, 1, BIN_CHUNK_MAX);
  g_autofree KankyoReportSummary *bins = NULL;
  g_autofree gint64 *widths = g_new (gint64, n);
  gint64 t = range->from;

  if (rows > MAX_CSV_ROWS)
    {
      g_autofree char *rows_text = g_strdup_printf ("%" G_GUINT64_FORMAT, rows);
      g_autofree char *max_text = g_strdup_printf ("%" G_GUINT64_FORMAT, MAX_CSV_ROWS);

      /* The counts are formatted apart: a 64-bit format macro inside a
       * translatable string cuts the message short for xgettext. */
      g_set_error (error, KANKYO_REPORT_ERROR, KANKYO_REPORT_ERROR_INVALID,
                   _ ("Bins of this width make %s rows over the period, and at most %s can be "
                      "exported: choose wider bins or a shorter period"),
                   rows_text, max_text);
      return FALSE;
    }

  append_csv_field (text, "bin start");
  for (guint i = 0; i < n; i++)
    {
      static const char *const stats[] = { "min", "max", "mean", "count" };

      for (guint k = 0; k < G_N_ELEMENTS (stats); k++)
        {
          g_autofree char *name = g_strdup_printf ("%s %s", range->tags[i], stats[k]);

          g_string_append_c (text, ',');
          append_csv_field (text, name);
        }
      widths[i] = FIRST_CHUNK_US;
    }
  g_string_append (text, "\r\n");

  /* Bins of every tag side by side: per_chunk bins at a time. */
  bins = g_new (KankyoReportSummary, (gsize) n * per_chunk);
  while (t < range->to)
    {
      gint64 whole = (range->to - t) / bin;
      /* Whole bins in chunks; what is left over at the end is one shorter bin. */
      guint k = whole > 0 ? (guint) MIN (whole, per_chunk) : 1;
      gint64 stop = whole > 0 ? t + k * bin : range->to;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      for (guint i = 0; i < n; i++)
        if (!read_tag_bins (historian, ids[i], range->tags[i], t, stop, k, bin, &widths[i], cancellable,
                            &bins[i * per_chunk], error))
          return FALSE;
      for (guint j = 0; j < k; j++)
        {
          append_iso_time (text, t + j * bin, range->local_time);
          for (guint i = 0; i < n; i++)
            {
              const KankyoReportSummary *b = &bins[i * per_chunk + j];

              if (b->count == 0)
                {
                  g_string_append (text, ",,,,0");
                  continue;
                }
              g_string_append_c (text, ',');
              append_csv_number (text, b->min);
              g_string_append_c (text, ',');
              append_csv_number (text, b->max);
              g_string_append_c (text, ',');
              append_csv_number (text, b->mean);
              g_string_append_printf (text, ",%" G_GUINT64_FORMAT, b->count);
            }
          g_string_append (text, "\r\n");
        }
      t = stop;
      if (text->len >= FLUSH_BYTES && !flush_text (out, text, cancellable, error))
        return FALSE;
      progress_report (progress, (double) (t - range->from) / (double) span);
    }
  return flush_text (out, text, cancellable, error);
}

gboolean
kankyo_report_write_csv (KankyoHistorian *historian,
                         const KankyoExportRange *range,
                         GOutputStream *out,
                         KankyoReportProgress progress,
                         gpointer progress_data,
                         GCancellable *cancellable,
                         GError **error)
{
  Progress p = { progress, progress_data, 0, 1, 0 };
  g_autofree guint *ids = NULL;
  guint n = 0;
  gboolean ok;

  g_return_val_if_fail (historian != NULL, FALSE);
  g_return_val_if_fail (range != NULL, FALSE);
  g_return_val_if_fail (G_IS_OUTPUT_STREAM (out), FALSE);

  ids = check_range (historian, range, &n, error);
  if (ids == NULL)
    return FALSE;
  progress_report (&p, 0.0);
  if (range->bin_us > 0)
    ok = write_binned_csv (historian, range, ids, n, out, &p, cancellable, error);
  else
    ok = write_raw_csv (historian, range, ids, n, out, &p, cancellable, error);
  if (ok)
    progress_report (&p, 1.0);
  return ok;
}

/* ---- files written beside their final name ---- */

static GOutputStream *
create_beside (const char *path, char **ret_temp, GCancellable *cancellable, GError **error)
{
  g_autofree char *display = g_filename_display_name (path);

  for (guint attempt = 0; attempt < TEMP_ATTEMPTS; attempt++)
    {
      g_autofree char *temp = g_strdup_printf ("%s.part-%08x", path, g_random_int ());
      g_autoptr (GFile) file = g_file_new_for_path (temp);
      g_autoptr (GError) local = NULL;
      GFileOutputStream *out = g_file_create (file, G_FILE_CREATE_NONE, cancellable, &local);

      if (out != NULL)
        {
          *ret_temp = g_steal_pointer (&temp);
          return G_OUTPUT_STREAM (out);
        }
      if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return NULL;
        }
      if (!g_error_matches (local, G_IO_ERROR, G_IO_ERROR_EXISTS))
        {
          g_set_error (error, KANKYO_REPORT_ERROR, KANKYO_REPORT_ERROR_WRITE, _ ("Cannot create %s: %s"),
                       display, local->message);
          return NULL;
        }
    }
  g_set_error (error, KANKYO_REPORT_ERROR, KANKYO_REPORT_ERROR_WRITE,
               _ ("Cannot create a temporary file beside %s: too many are in the way"), display);
  return NULL;
}

/* Closes @out and renames @temp to @path when @ok, else removes @temp. */
static gboolean
finish_beside (GOutputStream *out,
               const char *temp,
               const char *path,
               gboolean ok,
               GCancellable *cancellable,
               GError **error)
{
  g_autofree char *display = g_filename_display_name (path);
  g_autoptr (GError) local = NULL;

  if (ok && !g_output_stream_close (out, cancellable, &local))
    {
      if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_propagate_error (error, g_steal_pointer (&local));
      else
        g_set_error (error, KANKYO_REPORT_ERROR, KANKYO_REPORT_ERROR_WRITE, _ ("Cannot write %s: %s"),
                     display, local->message);
      ok = FALSE;
    }
  if (!ok)
    {
      g_output_stream_close (out, NULL, NULL);
      g_unlink (temp);
      return FALSE;
    }
  if (g_rename (temp, path) != 0)
    {
      int saved = errno;

      g_unlink (temp);
      g_set_error (error, KANKYO_REPORT_ERROR, KANKYO_REPORT_ERROR_WRITE, _ ("Cannot write %s: %s"), display,
                   g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

gboolean
kankyo_report_write_csv_file (KankyoHistorian *historian,
                              const KankyoExportRange *range,
                              const char *path,
                              KankyoReportProgress progress,
                              gpointer progress_data,
                              GCancellable *cancellable,
                              GError **error)
{
  g_autoptr (GOutputStream) out = NULL;
  g_autofree char *temp = NULL;
  g_autoptr (GError) local = NULL;

  g_return_val_if_fail (path != NULL, FALSE);

  out = create_beside (path, &temp, cancellable, error);
  if (out == NULL)
    return FALSE;
  if (!kankyo_report_write_csv (historian, range, out, progress, progress_data, cancellable, &local))
    {
      if (g_error_matches (local, KANKYO_REPORT_ERROR, KANKYO_REPORT_ERROR_WRITE))
        {
          g_autofree char *display = g_filename_display_name (path);

          g_prefix_error (&local, "%s: ", display);
        }
      finish_beside (out, temp, path, FALSE, NULL, NULL);
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  return finish_beside (out, temp, path, TRUE, cancellable, error);
}

/* ---- PDF ---- */

#define FONT_TITLE FONT_FAMILY " Bold 15"
#define FONT_PLANT FONT_FAMILY " Bold 11"
#define FONT_STRIP FONT_FAMILY " Bold 9.5"
#define FONT_BODY FONT_FAMILY " 9"
#define FONT_BODY_BOLD FONT_FAMILY " Bold 9"
#define FONT_SMALL FONT_FAMILY " 7.5"

/* Table columns: left edges of the text, right edges of the numbers. */
#define COL_TAG (MARGIN + 4)
#define COL_TAG_WIDTH 290.0
#define COL_UNIT (MARGIN + 304)
#define COL_UNIT_WIDTH 90.0
#define COL_MIN (MARGIN + 480)
#define COL_MAX (MARGIN + 570)
#define COL_MEAN (MARGIN + 660)
#define COL_COUNT (PAGE_WIDTH - MARGIN - 4)
#define TABLE_TOP (MARGIN + HEADER_HEIGHT + 34 + TABLE_ROW)
#define TABLE_BOTTOM (PAGE_HEIGHT - MARGIN - FOOTER_HEIGHT)

typedef enum
{
  CHART_GAP,   /* nothing to draw: no value in force, or not a Good one */
  CHART_VALUE, /* min, max and mean of the Good values */
  CHART_BAD,   /* quality Bad: hatched */
} ChartKind;

typedef struct
{
  gint64 start, width;
  double min, max, mean;
  ChartKind kind;
} ChartBin;

typedef struct
{
  const char *name;
  char *unit;
  GArray *bins; /* ChartBin over the whole period */
  KankyoReportSummary summary;
} TagData;

typedef struct
{
  gint64 time;
  char *label; /* one or two lines */
} TimeTick;

typedef struct
{
  cairo_t *cr;
  PangoContext *pango;
  const KankyoExportRange *range;
  TagData *tags;
  guint n_tags;
  GArray *ticks; /* TimeTick */
  char *title, *plant, *period, *made;
  int n_pages;
} Report;

typedef struct
{
  GOutputStream *out;
  GCancellable *cancellable;
  GError *error;
} Sink;

typedef enum
{
  ALIGN_LEFT,
  ALIGN_CENTER,
  ALIGN_RIGHT,
} Align;

static cairo_status_t
sink_write (void *closure, const unsigned char *data, unsigned int length)
{
  Sink *sink = closure;

  if (sink->error != NULL
      || !g_output_stream_write_all (sink->out, data, length, NULL, sink->cancellable, &sink->error))
    return CAIRO_STATUS_WRITE_ERROR;
  return CAIRO_STATUS_SUCCESS;
}

/* Draws @text (one or more lines) with its top at @y; a positive
 * @max_width ends a longer text with an ellipsis. */
static void
draw_text (Report *r, const char *font, double x, double y, Align align, double max_width, const char *text)
{
  g_autoptr (PangoLayout) layout = pango_layout_new (r->pango);
  PangoFontDescription *desc = pango_font_description_from_string (font);
  int width, height;

  pango_layout_set_font_description (layout, desc);
  pango_font_description_free (desc);
  /* Text with a width is a name or a title: one line, whatever it holds. */
  if (max_width > 0)
    {
      pango_layout_set_width (layout, (int) (max_width * PANGO_SCALE));
      pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_END);
      pango_layout_set_single_paragraph_mode (layout, TRUE);
    }
  pango_layout_set_alignment (layout, align == ALIGN_CENTER  ? PANGO_ALIGN_CENTER
                                      : align == ALIGN_RIGHT ? PANGO_ALIGN_RIGHT
                                                             : PANGO_ALIGN_LEFT);
  pango_layout_set_text (layout, text, -1);
  pango_layout_get_size (layout, &width, &height);
  if (align == ALIGN_CENTER)
    x -= width / (2.0 * PANGO_SCALE);
  else if (align == ALIGN_RIGHT)
    x -= (double) width / PANGO_SCALE;
  cairo_move_to (r->cr, x, y);
  pango_cairo_show_layout (r->cr, layout);
}

/* Six significant digits, with "." and without an exponent for the
 * values a plant has (an exponent below 0.001 and from 1e15 on). */
static char *
format_statistic (double value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  char format[16];
  int magnitude;

  if (isnan (value))
    return g_strdup ("–");
  if (value == 0)
    return g_strdup ("0");
  magnitude = (int) floor (log10 (fabs (value)));
  if (magnitude >= 15 || magnitude < -3)
    g_strlcpy (format, "%.5e", sizeof format);
  else
    g_snprintf (format, sizeof format, "%%.%df", MAX (5 - magnitude, 0));
  return g_strdup (g_ascii_formatd (buf, sizeof buf, format, value));
}

/* A label on a value axis whose ticks are @step apart and whose largest
 * value is @magnitude: fixed digits, or an exponent for values below
 * 0.001 or from 1e9 on, with as many digits as the step needs. */
static char *
format_axis_value (double value, double step, double magnitude)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  char format[16];
  int step_digit = (int) floor (log10 (step) + 1e-9);

  /* A tick on zero can be a rounding error's width away from it. */
  if (fabs (value) < step * 1e-6)
    return g_strdup ("0");
  if (magnitude >= 1e9 || magnitude < 1e-3)
    g_snprintf (format, sizeof format, "%%.%de", CLAMP ((int) floor (log10 (magnitude)) - step_digit, 0, 15));
  else
    g_snprintf (format, sizeof format, "%%.%df", CLAMP (-step_digit, 0, 12));
  return g_strdup (g_ascii_formatd (buf, sizeof buf, format, value));
}

/* 1, 2 or 5 times a power of ten, so that @range holds about @target steps. */
static double
nice_step (double range, int target)
{
  double raw = range / target;
  double magnitude = pow (10, floor (log10 (raw)));
  double f = raw / magnitude;

  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * magnitude;
}

/* ---- time axis ---- */

static void
clear_tick (gpointer data)
{
  TimeTick *tick = data;

  g_free (tick->label);
}

static gint64
floor_div (gint64 a, gint64 b)
{
  return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static void
add_tick (GArray *ticks, gint64 time, GDateTime *dt, const char *format, const char *second_line)
{
  g_autofree char *first = g_date_time_format (dt, format);
  TimeTick tick
      = { time, second_line ? g_strconcat (first, "\n", second_line, NULL) : g_steal_pointer (&first) };

  g_array_append_val (ticks, tick);
}

/* Ticks every @step, on round times of the clock the report is shown in;
 * the date is written under the first tick and wherever it changes. */
static void
fixed_ticks (GArray *ticks, gint64 from, gint64 to, gint64 step, gboolean local)
{
  g_autoptr (GDateTime) start = date_time_at (from, local);
  gint64 offset = g_date_time_get_utc_offset (start);
  /* Weeks begin on a Monday: 1970-01-01 was a Thursday. */
  gint64 base = step == 7 * DAY_US ? 4 * DAY_US : 0;
  gint64 first = -floor_div (-(from + offset - base), step) * step + base - offset;
  g_autofree char *last_date = NULL;

  for (gint64 t = first; t <= to; t += step)
    {
      g_autoptr (GDateTime) dt = date_time_at (t, local);
      g_autofree char *date = g_date_time_format (dt, step >= DAY_US ? "%Y" : "%Y-%m-%d");
      gboolean new_date = last_date == NULL || !g_str_equal (date, last_date);

      if (step >= DAY_US)
        add_tick (ticks, t, dt, "%m-%d", new_date ? date : NULL);
      else if (step >= MINUTE_US)
        add_tick (ticks, t, dt, "%H:%M", new_date ? date : NULL);
      else if (step >= G_USEC_PER_SEC)
        add_tick (ticks, t, dt, "%H:%M:%S", new_date ? date : NULL);
      else
        {
          g_autofree char *tenths
              = g_strdup_printf ("%%H:%%M:%%S.%d", g_date_time_get_microsecond (dt) / 100000);

          add_tick (ticks, t, dt, tenths, new_date ? date : NULL);
        }
      g_free (last_date);
      last_date = g_steal_pointer (&date);
    }
}

/* Ticks on the first of every @months months. */
static void
month_ticks (GArray *ticks, gint64 from, gint64 to, guint months, gboolean local)
{
  g_autoptr (GDateTime) start = date_time_at (from, local);
  GTimeZone *zone = g_date_time_get_timezone (start);
  gint64 index = (gint64) g_date_time_get_year (start) * 12 + g_date_time_get_month (start) - 1;

  for (index = -floor_div (-index, months) * months;; index += months)
    {
      g_autoptr (GDateTime) dt
          = g_date_time_new (zone, (int) (index / 12), (int) (index % 12) + 1, 1, 0, 0, 0);
      gint64 t;

      if (dt == NULL)
        break;
      t = g_date_time_to_unix (dt) * G_USEC_PER_SEC;
      if (t > to)
        break;
      if (t >= from)
        add_tick (ticks, t, dt, months >= 12 ? "%Y" : "%Y-%m", NULL);
    }
}

static GArray *
make_time_ticks (gint64 from, gint64 to, gboolean local)
{
  static const gint64 steps[] = { G_USEC_PER_SEC / 10,
                                  G_USEC_PER_SEC / 5,
                                  G_USEC_PER_SEC / 2,
                                  G_USEC_PER_SEC,
                                  2 * G_USEC_PER_SEC,
                                  5 * G_USEC_PER_SEC,
                                  10 * G_USEC_PER_SEC,
                                  15 * G_USEC_PER_SEC,
                                  30 * G_USEC_PER_SEC,
                                  MINUTE_US,
                                  2 * MINUTE_US,
                                  5 * MINUTE_US,
                                  10 * MINUTE_US,
                                  15 * MINUTE_US,
                                  30 * MINUTE_US,
                                  HOUR_US,
                                  2 * HOUR_US,
                                  3 * HOUR_US,
                                  6 * HOUR_US,
                                  12 * HOUR_US,
                                  DAY_US,
                                  2 * DAY_US,
                                  7 * DAY_US };
  static const guint month_steps[] = { 1, 2, 3, 6, 12, 24, 60, 120, 240, 600, 1200, 2400, 6000 };
  GArray *ticks = g_array_new (FALSE, FALSE, sizeof (TimeTick));

  g_array_set_clear_func (ticks, clear_tick);
  for (guint i = 0; i < G_N_ELEMENTS (steps); i++)
    if ((to - from) / steps[i] <= MAX_TIME_TICKS)
      {
        fixed_ticks (ticks, from, to, steps[i], local);
        return ticks;
      }
  for (guint i = 0; i < G_N_ELEMENTS (month_steps); i++)
    if ((to - from) / (31 * DAY_US * month_steps[i]) < MAX_TIME_TICKS)
      {
        month_ticks (ticks, from, to, month_steps[i], local);
        break;
      }
  return ticks;
}

/* ---- pages ---- */

static double
x_of_time (const Report *r, gint64 t, double x0, double x1)
{
  return x0 + (double) (t - r->range->from) / (double) (r->range->to - r->range->from) * (x1 - x0);
}

static void
draw_page_frame (Report *r, int page)
{
  cairo_t *cr = r->cr;
  double right = PAGE_WIDTH - MARGIN;
  g_autofree char *page_text = g_strdup_printf (_ ("Page %d of %d"), page, r->n_pages);

  cairo_set_source_rgb (cr, 0, 0, 0);
  draw_text (r, FONT_TITLE, MARGIN, MARGIN, ALIGN_LEFT, (right - MARGIN) * 0.6, r->title);
  draw_text (r, FONT_PLANT, right, MARGIN + 3, ALIGN_RIGHT, 0, r->plant);
  draw_text (r, FONT_BODY, MARGIN, MARGIN + 24, ALIGN_LEFT, 0, r->period);
  draw_text (r, FONT_BODY, MARGIN, MARGIN + 37, ALIGN_LEFT, 0, r->made);
  cairo_set_line_width (cr, 0.8);
  cairo_move_to (cr, MARGIN, MARGIN + HEADER_HEIGHT - 7);
  cairo_line_to (cr, right, MARGIN + HEADER_HEIGHT - 7);
  cairo_stroke (cr);
  draw_text (r, FONT_SMALL, right, PAGE_HEIGHT - MARGIN - 9, ALIGN_RIGHT, 0, page_text);
}

/* Hatches [x0, x1] x [y0, y1]: where every sample of a bin was Bad. */
static void
hatch (cairo_t *cr, double x0, double y0, double x1, double y1)
{
  cairo_save (cr);
  cairo_rectangle (cr, x0, y0, x1 - x0, y1 - y0);
  cairo_clip (cr);
  cairo_set_source_rgb (cr, 0.85, 0.40, 0.30);
  cairo_set_line_width (cr, 0.7);
  for (double x = x0 - (y1 - y0); x < x1; x += 5)
    {
      cairo_move_to (cr, x, y1);
      cairo_line_to (cr, x + (y1 - y0), y0);
    }
  cairo_stroke (cr);
  cairo_restore (cr);
}

typedef struct
{
  double lo, hi;      /* values at the bottom and the top */
  double top, bottom; /* on the page */
} ValueAxis;

static double
y_of (const ValueAxis *axis, double value)
{
  return axis->bottom - (value - axis->lo) / (axis->hi - axis->lo) * (axis->bottom - axis->top);
}

/* A run of bins of one kind: [first, *ret_end). */
static guint
run_end (const GArray *bins, guint first)
{
  ChartKind kind = g_array_index (bins, ChartBin, first).kind;
  guint end = first + 1;

  while (end < bins->len && g_array_index (bins, ChartBin, end).kind == kind)
    end++;
  return end;
}

/* The band from min to max and the line through the means of a run of
 * bins with values. */
static void
draw_values (
    Report *r, const GArray *bins, guint first, guint end, const ValueAxis *axis, double x0, double x1)
{
  cairo_t *cr = r->cr;

  for (guint k = first; k < end; k++)
    {
      const ChartBin *b = &g_array_index (bins, ChartBin, k);

      cairo_line_to (cr, x_of_time (r, b->start, x0, x1), y_of (axis, b->max));
      cairo_line_to (cr, x_of_time (r, b->start + b->width, x0, x1), y_of (axis, b->max));
    }
  for (guint k = end; k-- > first;)
    {
      const ChartBin *b = &g_array_index (bins, ChartBin, k);

      cairo_line_to (cr, x_of_time (r, b->start + b->width, x0, x1), y_of (axis, b->min));
      cairo_line_to (cr, x_of_time (r, b->start, x0, x1), y_of (axis, b->min));
    }
  cairo_close_path (cr);
  cairo_set_source_rgb (cr, 0.72, 0.80, 0.91);
  cairo_fill (cr);

  if (end - first == 1)
    {
      const ChartBin *b = &g_array_index (bins, ChartBin, first);

      cairo_move_to (cr, x_of_time (r, b->start, x0, x1), y_of (axis, b->mean));
      cairo_line_to (cr, x_of_time (r, b->start + b->width, x0, x1), y_of (axis, b->mean));
    }
  else
    for (guint k = first; k < end; k++)
      {
        const ChartBin *b = &g_array_index (bins, ChartBin, k);

        cairo_line_to (cr, x_of_time (r, b->start + b->width / 2, x0, x1), y_of (axis, b->mean));
      }
  cairo_set_source_rgb (cr, 0.10, 0.23, 0.50);
  cairo_set_line_width (cr, 0.9);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  cairo_stroke (cr);
}

/* Fits the value axis to @lo..@hi on round steps; returns the step. */
static double
fit_axis (ValueAxis *axis)
{
  double step;

  /* A flat line gets a little room; so does a range too narrow for the
   * digits of a double. */
  if (axis->hi - axis->lo <= MAX (fabs (axis->lo), fabs (axis->hi)) * 1e-9)
    {
      double pad = axis->lo != 0 ? fabs (axis->lo) * 0.01 : 1;

      axis->lo -= pad;
      axis->hi += pad;
    }
  step = nice_step (axis->hi - axis->lo, MAX_VALUE_TICKS);
  axis->lo = floor (axis->lo / step) * step;
  axis->hi = ceil (axis->hi / step) * step;
  return step;
}

/* One tag's chart: title, value axis, band from min to max, mean line,
 * hatching where quality was Bad. */
static void
draw_strip (Report *r, const TagData *tag, double x0, double y0, double x1, double y1)
{
  cairo_t *cr = r->cr;
  g_autofree char *title
      = tag->unit && *tag->unit ? g_strdup_printf ("%s (%s)", tag->name, tag->unit) : g_strdup (tag->name);
  ValueAxis axis = { INFINITY, -INFINITY, y0 + STRIP_TITLE, y1 };
  gboolean any_bad = FALSE, any_value;
  double step = 0;
  int n_steps = 0;

  for (guint i = 0; i < tag->bins->len; i++)
    {
      const ChartBin *b = &g_array_index (tag->bins, ChartBin, i);

      any_bad |= b->kind == CHART_BAD;
      if (b->kind == CHART_VALUE)
        {
          axis.lo = MIN (axis.lo, b->min);
          axis.hi = MAX (axis.hi, b->max);
        }
    }
  any_value = axis.lo <= axis.hi;
  if (any_value)
    {
      step = fit_axis (&axis);
      n_steps = (int) lround ((axis.hi - axis.lo) / step);
    }

  cairo_set_source_rgb (cr, 0, 0, 0);
  draw_text (r, FONT_STRIP, MARGIN, y0, ALIGN_LEFT, (x1 - MARGIN) * 0.6, title);
  if (any_bad)
    {
      hatch (cr, x1 - 214, y0 + 2, x1 - 204, y0 + 10);
      cairo_set_source_rgb (cr, 0.2, 0.2, 0.2);
      draw_text (r, FONT_SMALL, x1 - 200, y0 + 1, ALIGN_LEFT, 200, _ ("no Good value: quality Bad"));
    }

  /* The grid first: the time grid is shared by every strip. */
  cairo_set_line_width (cr, 0.4);
  cairo_set_source_rgb (cr, 0.82, 0.82, 0.82);
  for (guint i = 0; i < r->ticks->len; i++)
    {
      double x = x_of_time (r, g_array_index (r->ticks, TimeTick, i).time, x0, x1);

      cairo_move_to (cr, x, axis.top);
      cairo_line_to (cr, x, y1);
    }
  for (int k = 0; k <= n_steps && any_value; k++)
    {
      cairo_move_to (cr, x0, y_of (&axis, axis.lo + k * step));
      cairo_line_to (cr, x1, y_of (&axis, axis.lo + k * step));
    }
  cairo_stroke (cr);

  for (guint i = 0; i < tag->bins->len; i = run_end (tag->bins, i))
    if (g_array_index (tag->bins, ChartBin, i).kind == CHART_BAD)
      {
        const ChartBin *last = &g_array_index (tag->bins, ChartBin, run_end (tag->bins, i) - 1);

        hatch (cr, x_of_time (r, g_array_index (tag->bins, ChartBin, i).start, x0, x1), axis.top,
               x_of_time (r, last->start + last->width, x0, x1), y1);
      }

  if (!any_value)
    {
      cairo_set_source_rgb (cr, 0.3, 0.3, 0.3);
      draw_text (r, FONT_BODY, (x0 + x1) / 2, (axis.top + y1) / 2 - 6, ALIGN_CENTER, 0,
                 _ ("No Good values in this period"));
    }
  else
    {
      cairo_set_source_rgb (cr, 0, 0, 0);
      for (int k = 0; k <= n_steps; k++)
        {
          g_autofree char *label
              = format_axis_value (axis.lo + k * step, step, MAX (fabs (axis.lo), fabs (axis.hi)));
          /* Inside the strip, clear of the title above it. */
          double y = CLAMP (y_of (&axis, axis.lo + k * step) - 5, axis.top - 2, y1 - 9);

          draw_text (r, FONT_SMALL, x0 - 4, y, ALIGN_RIGHT, 0, label);
        }
      cairo_save (cr);
      cairo_rectangle (cr, x0, axis.top, x1 - x0, y1 - axis.top);
      cairo_clip (cr);
      for (guint i = 0; i < tag->bins->len; i = run_end (tag->bins, i))
        if (g_array_index (tag->bins, ChartBin, i).kind == CHART_VALUE)
          draw_values (r, tag->bins, i, run_end (tag->bins, i), &axis, x0, x1);
      cairo_restore (cr);
    }

  cairo_set_source_rgb (cr, 0.45, 0.45, 0.45);
  cairo_set_line_width (cr, 0.6);
  cairo_rectangle (cr, x0, axis.top, x1 - x0, y1 - axis.top);
  cairo_stroke (cr);
}

static void
draw_chart_page (Report *r, guint first, guint count)
{
  double top = MARGIN + HEADER_HEIGHT;
  double bottom = PAGE_HEIGHT - MARGIN - FOOTER_HEIGHT - TIME_LABELS;
  double x0 = MARGIN + AXIS_WIDTH, x1 = PAGE_WIDTH - MARGIN;
  double height = (bottom - top) / count;

  for (guint i = 0; i < count; i++)
    draw_strip (r, &r->tags[first + i], x0, top + i * height, x1, top + (i + 1) * height - STRIP_GAP);

  cairo_set_source_rgb (r->cr, 0, 0, 0);
  for (guint i = 0; i < r->ticks->len; i++)
    {
      const TimeTick *tick = &g_array_index (r->ticks, TimeTick, i);

      draw_text (r, FONT_SMALL, x_of_time (r, tick->time, x0, x1), bottom - STRIP_GAP + 3, ALIGN_CENTER, 0,
                 tick->label);
    }
  draw_text (r, FONT_SMALL, MARGIN, bottom - STRIP_GAP + 3, ALIGN_LEFT, 0,
             r->range->local_time ? _ ("Local time") : "UTC");
}

static guint
rows_per_table_page (void)
{
  return (guint) ((TABLE_BOTTOM - TABLE_TOP) / TABLE_ROW);
}

static void
draw_table_page (Report *r, guint first, guint count)
{
  cairo_t *cr = r->cr;
  double y = MARGIN + HEADER_HEIGHT;

  cairo_set_source_rgb (cr, 0, 0, 0);
  draw_text (r, FONT_PLANT, MARGIN, y, ALIGN_LEFT, 0, _ ("Statistics of the period"));
  draw_text (r, FONT_SMALL, MARGIN, y + 17, ALIGN_LEFT, 0,
             _ ("From the stored samples of Good quality. The mean is their average, not weighted by time."));
  y = TABLE_TOP - TABLE_ROW;
  draw_text (r, FONT_BODY_BOLD, COL_TAG, y + 3, ALIGN_LEFT, 0, _ ("Tag"));
  draw_text (r, FONT_BODY_BOLD, COL_UNIT, y + 3, ALIGN_LEFT, 0, _ ("Unit"));
  draw_text (r, FONT_BODY_BOLD, COL_MIN, y + 3, ALIGN_RIGHT, 0, _ ("Minimum"));
  draw_text (r, FONT_BODY_BOLD, COL_MAX, y + 3, ALIGN_RIGHT, 0, _ ("Maximum"));
  draw_text (r, FONT_BODY_BOLD, COL_MEAN, y + 3, ALIGN_RIGHT, 0, _ ("Mean"));
  draw_text (r, FONT_BODY_BOLD, COL_COUNT, y + 3, ALIGN_RIGHT, 0, _ ("Good samples"));
  cairo_set_line_width (cr, 0.6);
  cairo_move_to (cr, MARGIN, TABLE_TOP);
  cairo_line_to (cr, PAGE_WIDTH - MARGIN, TABLE_TOP);
  cairo_stroke (cr);

  for (guint i = 0; i < count; i++)
    {
      const TagData *tag = &r->tags[first + i];
      g_autofree char *min = format_statistic (tag->summary.min);
      g_autofree char *max = format_statistic (tag->summary.max);
      g_autofree char *mean = format_statistic (tag->summary.mean);
      g_autofree char *n = g_strdup_printf ("%" G_GUINT64_FORMAT, tag->summary.count);

      y = TABLE_TOP + i * TABLE_ROW;
      if (i % 2 == 1)
        {
          cairo_set_source_rgb (cr, 0.94, 0.94, 0.94);
          cairo_rectangle (cr, MARGIN, y, PAGE_WIDTH - 2 * MARGIN, TABLE_ROW);
          cairo_fill (cr);
        }
      cairo_set_source_rgb (cr, 0, 0, 0);
      draw_text (r, FONT_BODY, COL_TAG, y + 3, ALIGN_LEFT, COL_TAG_WIDTH, tag->name);
      draw_text (r, FONT_BODY, COL_UNIT, y + 3, ALIGN_LEFT, COL_UNIT_WIDTH, tag->unit ? tag->unit : "");
      draw_text (r, FONT_BODY, COL_MIN, y + 3, ALIGN_RIGHT, 0, min);
      draw_text (r, FONT_BODY, COL_MAX, y + 3, ALIGN_RIGHT, 0, max);
      draw_text (r, FONT_BODY, COL_MEAN, y + 3, ALIGN_RIGHT, 0, mean);
      draw_text (r, FONT_BODY, COL_COUNT, y + 3, ALIGN_RIGHT, 0, n);
    }
}

/* Draws every page; FALSE when cancelled in between. */
static gboolean
render_pages (Report *r, Progress *progress, GCancellable *cancellable, GError **error)
{
  guint chart_pages = (r->n_tags + TAGS_PER_PAGE - 1) / TAGS_PER_PAGE;
  guint rows = rows_per_table_page ();
  int page = 0;

  for (guint i = 0; i < chart_pages; i++)
    {
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      draw_page_frame (r, ++page);
      draw_chart_page (r, i * TAGS_PER_PAGE, MIN (TAGS_PER_PAGE, r->n_tags - i * TAGS_PER_PAGE));
      cairo_show_page (r->cr);
      progress_report (progress, (double) page / r->n_pages);
    }
  for (guint first = 0; first < r->n_tags; first += rows)
    {
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      draw_page_frame (r, ++page);
      draw_table_page (r, first, MIN (rows, r->n_tags - first));
      cairo_show_page (r->cr);
      progress_report (progress, (double) page / r->n_pages);
    }
  return TRUE;
}

static gboolean
write_pdf_pages (Report *r,
                 const KankyoReportHeader *header,
                 GOutputStream *out,
                 Progress *progress,
                 GCancellable *cancellable,
                 GError **error)
{
  Sink sink = { out, cancellable, NULL };
  cairo_surface_t *surface = cairo_pdf_surface_create_for_stream (sink_write, &sink, PAGE_WIDTH, PAGE_HEIGHT);
  /* A font map of its own: the report may be made on a pool thread, which
   * would otherwise keep a default font map for the rest of its life. */
  PangoFontMap *fonts = pango_cairo_font_map_new ();
  cairo_font_options_t *options = cairo_font_options_create ();
  cairo_status_t status;
  gboolean drawn;

  cairo_pdf_surface_set_metadata (surface, CAIRO_PDF_METADATA_TITLE, r->title);
  if (header != NULL && header->author != NULL)
    cairo_pdf_surface_set_metadata (surface, CAIRO_PDF_METADATA_AUTHOR, header->author);
  cairo_pdf_surface_set_metadata (surface, CAIRO_PDF_METADATA_CREATOR, "Kankyo " PACKAGE_VERSION);
  r->cr = cairo_create (surface);
  r->pango = pango_font_map_create_context (fonts);
  pango_cairo_update_context (r->cr, r->pango);
  pango_cairo_context_set_resolution (r->pango, 72);
  /* Outlines as designed: hinting for a screen's pixel grid would
   * misplace text on paper. */
  cairo_font_options_set_hint_metrics (options, CAIRO_HINT_METRICS_OFF);
  cairo_font_options_set_hint_style (options, CAIRO_HINT_STYLE_NONE);
  pango_cairo_context_set_font_options (r->pango, options);
  cairo_font_options_destroy (options);

  drawn = render_pages (r, progress, cancellable, error);

  g_clear_object (&r->pango);
  g_object_unref (fonts);
  cairo_destroy (r->cr);
  r->cr = NULL;
  cairo_surface_finish (surface);
  status = cairo_surface_status (surface);
  cairo_surface_destroy (surface);
  if (!drawn)
    {
      g_clear_error (&sink.error);
      return FALSE;
    }
  if (sink.error != NULL && g_error_matches (sink.error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_propagate_error (error, sink.error);
      return FALSE;
    }
  if (sink.error != NULL || status != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, KANKYO_REPORT_ERROR, KANKYO_REPORT_ERROR_WRITE, _ ("Cannot write the report: %s"),
                   sink.error != NULL ? sink.error->message : cairo_status_to_string (status));
      g_clear_error (&sink.error);
      return FALSE;
    }
  return TRUE;
}

static void
report_clear (Report *r)
{
  for (guint i = 0; r->tags != NULL && i < r->n_tags; i++)
    {
      g_free (r->tags[i].unit);
      g_clear_pointer (&r->tags[i].bins, g_array_unref);
    }
  g_clear_pointer (&r->tags, g_free);
  g_clear_pointer (&r->ticks, g_array_unref);
  g_clear_pointer (&r->title, g_free);
  g_clear_pointer (&r->plant, g_free);
  g_clear_pointer (&r->period, g_free);
  g_clear_pointer (&r->made, g_free);
}

/* The sample in force at @t: the last one stored before it. */
static gboolean
sample_in_force (KankyoHistorian *historian,
                 guint id,
                 gint64 t,
                 KankyoHistorianSample *ret_sample,
                 gboolean *ret_found,
                 GError **error)
{
  g_autoptr (GArray) samples = kankyo_historian_read_raw (historian, id, t, t + 1, TRUE, error);

  if (samples == NULL)
    return FALSE;
  *ret_found = samples->len > 0 && g_array_index (samples, KankyoHistorianSample, 0).time < t;
  if (*ret_found)
    *ret_sample = g_array_index (samples, KankyoHistorianSample, 0);
  return TRUE;
}

static ChartKind
kind_of_sample (const KankyoHistorianSample *sample)
{
  if (kankyo_quality_is_good (sample->quality) && isfinite (sample->value))
    return CHART_VALUE;
  return kankyo_quality_is_bad (sample->quality) ? CHART_BAD : CHART_GAP;
}

/* What a chart draws in each bin. The historian stores a sample only when
 * the value moves past its deadband, when quality changes or when a
 * heartbeat passes, so a bin in which nothing was stored carries on what
 * was in force before it: the last value, held, or a Bad quality until a
 * Good sample follows. Which sample a bin ended with is looked up in the
 * raw data where an empty bin follows it. */
static GArray *
chart_bins (KankyoHistorian *historian, guint id, gint64 from, gint64 to, guint n_bins, GError **error)
{
  g_autoptr (GArray) bins = kankyo_historian_read_binned (historian, id, from, to, n_bins, error);
  g_autoptr (GArray) chart = NULL;
  KankyoHistorianSample held = { 0, NAN, KANKYO_QUALITY_GOOD };
  gboolean found = FALSE;
  ChartKind state;

  if (bins == NULL || !sample_in_force (historian, id, from, &held, &found, error))
    return NULL;
  state = found ? kind_of_sample (&held) : CHART_GAP;
  chart = g_array_sized_new (FALSE, FALSE, sizeof (ChartBin), bins->len);
  for (guint i = 0; i < bins->len; i++)
    {
      const KankyoHistorianBin *b = &g_array_index (bins, KankyoHistorianBin, i);
      ChartBin c = { b->start, b->width, NAN, NAN, NAN, CHART_GAP };

      if (b->no_data)
        {
          c.kind = state;
          c.min = c.max = c.mean = held.value;
        }
      else
        {
          if (b->count > 0)
            {
              c.kind = CHART_VALUE;
              c.min = b->min;
              c.max = b->max;
              c.mean = b->mean;
            }
          else if (b->bad)
            c.kind = CHART_BAD;
          if (i + 1 < bins->len && g_array_index (bins, KankyoHistorianBin, i + 1).no_data)
            {
              if (!sample_in_force (historian, id, b->start + b->width, &held, &found, error))
                return NULL;
              state = found ? kind_of_sample (&held) : CHART_GAP;
            }
        }
      g_array_append_val (chart, c);
    }
  return g_steal_pointer (&chart);
}

/* Reads what the report shows: the bins of every chart, then the
 * statistics from the raw samples. */
static gboolean
collect (KankyoHistorian *historian,
         Report *r,
         const guint *ids,
         Progress *progress,
         GCancellable *cancellable,
         GError **error)
{
  const KankyoExportRange *range = r->range;
  guint n_bins = (guint) MIN (CHART_BINS, range->to - range->from);
  Progress reading = progress_part (progress, 0.0, 0.2);

  for (guint i = 0; i < r->n_tags; i++)
    {
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      r->tags[i].name = range->tags[i];
      r->tags[i].unit = kankyo_historian_get_unit (historian, ids[i]);
      r->tags[i].bins = chart_bins (historian, ids[i], range->from, range->to, n_bins, error);
      if (r->tags[i].bins == NULL)
        {
          g_prefix_error (error, _ ("Reading the history of %s: "), range->tags[i]);
          return FALSE;
        }
      progress_report (&reading, (double) (i + 1) / r->n_tags);
    }
  for (guint i = 0; i < r->n_tags; i++)
    {
      Progress part = progress_part (progress, 0.2 + 0.7 * i / r->n_tags, 0.2 + 0.7 * (i + 1) / r->n_tags);

      if (!summarize_tag (historian, ids[i], range->tags[i], range->from, range->to, &part, cancellable,
                          &r->tags[i].summary, error))
        return FALSE;
    }
  return TRUE;
}

gboolean
kankyo_report_write_pdf (KankyoHistorian *historian,
                         const KankyoExportRange *range,
                         const KankyoReportHeader *header,
                         const char *path,
                         KankyoReportProgress progress,
                         gpointer progress_data,
                         GCancellable *cancellable,
                         GError **error)
{
  Progress p = { progress, progress_data, 0, 1, 0 };
  Progress drawing = progress_part (&p, 0.9, 1.0);
  Report r = { 0 };
  g_autofree guint *ids = NULL;
  g_autoptr (GOutputStream) out = NULL;
  g_autofree char *temp = NULL;
  g_autofree char *from = NULL, *to = NULL, *made = NULL;
  g_autoptr (GError) local = NULL;
  gboolean ok;

  g_return_val_if_fail (historian != NULL, FALSE);
  g_return_val_if_fail (range != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  ids = check_range (historian, range, &r.n_tags, error);
  if (ids == NULL)
    return FALSE;
  /* Before the long part, so that a folder that cannot be written to is
   * found out at once. */
  out = create_beside (path, &temp, cancellable, error);
  if (out == NULL)
    return FALSE;
  progress_report (&p, 0.0);

  r.range = range;
  r.tags = g_new0 (TagData, r.n_tags);
  r.ticks = make_time_ticks (range->from, range->to, range->local_time);
  r.title = g_strdup (header != NULL && header->title != NULL ? header->title : _ ("Trend report"));
  r.plant = g_strdup (header != NULL && header->plant != NULL ? header->plant : "");
  from = format_readable_time (range->from, range->local_time);
  to = format_readable_time (range->to, range->local_time);
  made = format_readable_time (g_get_real_time (), range->local_time);
  r.period = g_strdup_printf (_ ("Period: %s to %s"), from, to);
  r.made = header != NULL && header->author != NULL
               ? g_strdup_printf (_ ("Made %s by %s"), made, header->author)
               : g_strdup_printf (_ ("Made %s"), made);
  r.n_pages = (int) ((r.n_tags + TAGS_PER_PAGE - 1) / TAGS_PER_PAGE
                     + (r.n_tags + rows_per_table_page () - 1) / rows_per_table_page ());

  ok = collect (historian, &r, ids, &p, cancellable, &local)
       && write_pdf_pages (&r, header, out, &drawing, cancellable, &local);
  report_clear (&r);
  if (!ok)
    {
      if (g_error_matches (local, KANKYO_REPORT_ERROR, KANKYO_REPORT_ERROR_WRITE))
        {
          g_autofree char *display = g_filename_display_name (path);

          g_prefix_error (&local, "%s: ", display);
        }
      finish_beside (out, temp, path, FALSE, NULL, NULL);
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  if (!finish_beside (out, temp, path, TRUE, cancellable, error))
    return FALSE;
  progress_report (&p, 1.0);
  return TRUE;
}
