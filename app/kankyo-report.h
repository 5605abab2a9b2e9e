/* kankyo-report.h: history taken home, as CSV or as a PDF trend report.
 *
 * Both read from a KankyoHistorian on the calling thread (call them off the
 * GTK main thread; the UI runs them in a GTask). Progress is reported
 * through @progress, from 0 to 1, on the calling thread; a cancelled
 * export removes its partial file. Cancelling through @cancellable fails
 * with G_IO_ERROR_CANCELLED. The formats are described at the top of
 * kankyo-report.c.
 */
#pragma once

#include <gio/gio.h>
#include "kankyo-historian.h"

G_BEGIN_DECLS

#define KANKYO_REPORT_ERROR (kankyo_report_error_quark ())
GQuark kankyo_report_error_quark (void);

typedef enum
{
  KANKYO_REPORT_ERROR_INVALID, /* no tags, unknown tag, empty or reversed range, bad bin width */
  KANKYO_REPORT_ERROR_WRITE,   /* the output file could not be written */
} KankyoReportError;

/* Bounds of one export. */
#define KANKYO_REPORT_MAX_TAGS 256
#define KANKYO_REPORT_MAX_CSV_ROWS G_GUINT64_CONSTANT (10000000) /* of a binned CSV */

typedef void (*KankyoReportProgress) (double fraction, gpointer user_data);

typedef struct
{
  const char *const *tags; /* NULL-terminated tag names ("device.tag") */
  gint64 from, to;         /* UTC µs, [from, to) */
  gint64 bin_us;           /* 0: raw samples; else bins of this width */
  gboolean local_time;     /* times in the local zone (ISO 8601 with offset), else UTC */
} KankyoExportRange;

/* CSV (RFC 4180, UTF-8, "." decimal point whatever the locale).
 * Raw: one row per stored sample: time, tag, value, quality.
 * Binned: one row per bin: bin start, then per tag min, max, mean, count;
 * empty fields where a bin has no Good sample.
 *
 * The caller owns @out: it is neither closed nor truncated, so after a
 * failure or a cancellation it holds a partial export that the caller
 * discards (kankyo_report_write_csv_file() does that for files). */
gboolean kankyo_report_write_csv (KankyoHistorian *historian,
                                  const KankyoExportRange *range,
                                  GOutputStream *out,
                                  KankyoReportProgress progress,
                                  gpointer progress_data,
                                  GCancellable *cancellable,
                                  GError **error);

/* The same CSV into @path, written to a temporary file beside it and
 * renamed into place on success: after a failure or a cancellation there
 * is no partial file, and a file that was at @path is untouched. */
gboolean kankyo_report_write_csv_file (KankyoHistorian *historian,
                                       const KankyoExportRange *range,
                                       const char *path,
                                       KankyoReportProgress progress,
                                       gpointer progress_data,
                                       GCancellable *cancellable,
                                       GError **error);

typedef struct
{
  const char *plant;  /* project name, printed in the header */
  const char *title;  /* e.g. a trend view's name; NULL: "Trend report" */
  const char *author; /* who made it; may be NULL */
} KankyoReportHeader;

/* A4 landscape PDF: header with plant, period and time of making; one chart
 * per page of up to four tags (min/max band and mean per bin, gaps where
 * quality was Bad); a table of min, max, mean and sample count per tag for
 * the whole period, computed from the stored data. range->bin_us is not
 * used: charts always have about 600 bins. Written like
 * kankyo_report_write_csv_file(): temporary file, renamed on success. */
gboolean kankyo_report_write_pdf (KankyoHistorian *historian,
                                  const KankyoExportRange *range,
                                  const KankyoReportHeader *header,
                                  const char *path,
                                  KankyoReportProgress progress,
                                  gpointer progress_data,
                                  GCancellable *cancellable,
                                  GError **error);

/* Per-tag statistics over a range, from the stored data: what the PDF
 * table shows. count is the number of Good raw samples; the mean is their
 * average, not weighted by time. With count 0, min, max and mean are NAN. */
typedef struct
{
  double min, max, mean;
  guint64 count;
} KankyoReportSummary;

gboolean kankyo_report_summarize (KankyoHistorian *historian,
                                  const char *tag,
                                  gint64 from,
                                  gint64 to,
                                  KankyoReportSummary *ret_summary,
                                  GError **error);

G_END_DECLS
