/* kankyo-historian.h: every tag's past, in one SQLite file.
 *
 * Samples are handed to the historian from any thread and never block the
 * caller: they go onto a queue, and a writer thread commits them in batched
 * WAL transactions (synchronous=NORMAL: a power cut or kill -9 may lose the
 * last uncommitted batch, never consistency).
 *
 * A sample is stored when its value moved by more than the tag's deadband
 * since the last stored value, when its quality changed, or when the tag's
 * heartbeat has passed since the last stored sample; so a flat line costs
 * one sample per heartbeat and a gap where quality was Bad is a real gap.
 *
 * One-minute and one-hour rollups (min, max, mean, first, last, count of
 * Good samples) are kept up to date in the same transactions as the raw
 * data. Retention is per tag class; old raw data and rollups are deleted by
 * the writer thread in small steps, so ingest never waits long on them.
 *
 * Reads may come from any thread at the same time as ingest; each reading
 * thread uses its own connection. Times are UTC microseconds since the Unix
 * epoch. Out-parameters are set only on success.
 *
 * One historian at a time may have a file open for writing; a second
 * kankyo_historian_open() of the same file, from any process, fails.
 */
#pragma once

#include <glib.h>
#include "kankyo-plugin.h"

G_BEGIN_DECLS

#define KANKYO_HISTORIAN_ERROR (kankyo_historian_error_quark ())
GQuark kankyo_historian_error_quark (void);

typedef enum
{
  KANKYO_HISTORIAN_ERROR_OPEN,      /* cannot open, create or migrate the file */
  KANKYO_HISTORIAN_ERROR_WRITE,     /* a batch could not be committed */
  KANKYO_HISTORIAN_ERROR_READ,      /* a query failed */
  KANKYO_HISTORIAN_ERROR_NOT_FOUND, /* no such tag */
  KANKYO_HISTORIAN_ERROR_INVALID,   /* bad argument: range, policy, class */
  KANKYO_HISTORIAN_ERROR_CORRUPT,   /* a stored block does not decode */
} KankyoHistorianError;

typedef struct _KankyoHistorian KankyoHistorian;

/* How a tag is recorded. */
typedef struct
{
  double deadband;       /* absolute, in the tag's unit; 0 stores every change */
  gint64 heartbeat_us;   /* store at least this often; 0: only on change */
  const char *tag_class; /* retention class; NULL is "default" */
} KankyoHistorianPolicy;

/* How long each kind of data is kept for a class; 0 keeps it for ever.
 * The class "default" exists from the start and keeps everything. */
typedef struct
{
  gint64 raw_us;
  gint64 minute_us;
  gint64 hour_us;
} KankyoHistorianRetention;

/* One stored sample. Bad quality samples carry NAN. */
typedef struct
{
  gint64 time;
  double value;
  KankyoQuality quality;
} KankyoHistorianSample;

typedef enum
{
  KANKYO_HISTORIAN_RAW,
  KANKYO_HISTORIAN_MINUTE,
  KANKYO_HISTORIAN_HOUR,
} KankyoHistorianResolution;

/* One bin of a binned or rollup read: the Good samples in
 * [start, start + width). count 0 with no_data FALSE means every sample
 * in the bin was Bad or Uncertain (a gap); no_data TRUE means nothing was
 * recorded. The values and first_time/last_time describe Good samples
 * only: NAN and 0 when count is 0. */
typedef struct
{
  gint64 start;
  gint64 width;
  double min, max, mean, first, last;
  gint64 first_time, last_time;
  guint64 count;
  gboolean bad;     /* some sample in the bin had Bad quality */
  gboolean no_data; /* nothing at all was recorded in the bin */
} KankyoHistorianBin;

typedef struct
{
  guint64 samples_received; /* handed to append */
  guint64 samples_stored;   /* passed deadband/heartbeat and committed */
  guint64 batches;          /* transactions committed */
  guint64 queue_length;     /* waiting for the writer now */
  guint64 dropped;          /* refused because the queue was full */
  gint64 last_commit_us;    /* monotonic time of the last commit, 0 before */
  char *last_error;         /* NULL while all is well */
  /* Accepted samples, counted in the order append() accepted them, up to
   * the end of the last committed batch: every sample before this number
   * is on disk unless its batch failed (last_error says so). */
  guint64 samples_committed;
  /* Refused by append() (unknown tag, time before 1970 or after 9999) or
   * by the writer (not later than the tag's previous sample). */
  guint64 rejected;
} KankyoHistorianStats;

/* Limits on what callers control. */
#define KANKYO_HISTORIAN_QUEUE_MAX 524288 /* samples waiting for the writer */
#define KANKYO_HISTORIAN_TAGS_MAX 100000
#define KANKYO_HISTORIAN_NAME_MAX 256                /* bytes of a tag name */
#define KANKYO_HISTORIAN_UNIT_MAX 64                 /* bytes of a unit or a class name */
#define KANKYO_HISTORIAN_READ_MAX (16 * 1024 * 1024) /* samples one read_raw() returns */
#define KANKYO_HISTORIAN_BINS_MAX 100000

/* Called on the writer thread after each committed batch, with
 * KankyoHistorianStats.samples_committed as it now stands. It must not call
 * flush() or close(). */
typedef void (*KankyoHistorianCommitFunc) (KankyoHistorian *self,
                                           guint64 samples_committed,
                                           gpointer user_data);

/* Opens or creates @path and starts the writer thread. */
KankyoHistorian *kankyo_historian_open (const char *path, GError **error);
/* Opens an existing file for reading only, beside the historian that
 * writes it (an export while the plant runs); it has no writer thread, and
 * add_tag, set_retention, append, flush and enforce_retention fail. */
KankyoHistorian *kankyo_historian_open_readonly (const char *path, GError **error);
/* Commits what is queued, stops the writer and closes. NULL is allowed. */
void kankyo_historian_close (KankyoHistorian *self);
const char *kankyo_historian_get_path (KankyoHistorian *self);

/* Before or during ingest. A tag keeps its id across runs; a changed
 * policy applies from now on. Returns the tag's id, or 0 on error. */
guint kankyo_historian_add_tag (KankyoHistorian *self,
                                const char *name,
                                const char *unit,
                                const KankyoHistorianPolicy *policy,
                                GError **error);
gboolean kankyo_historian_set_retention (KankyoHistorian *self,
                                         const char *tag_class,
                                         const KankyoHistorianRetention *retention,
                                         GError **error);
/* Ids are stable; 0 when there is no such tag. */
guint kankyo_historian_lookup (KankyoHistorian *self, const char *name);
/* Every recorded tag's name, sorted; free with g_strfreev(). */
char **kankyo_historian_list_tags (KankyoHistorian *self);
/* The unit given at add_tag(), or NULL. */
char *kankyo_historian_get_unit (KankyoHistorian *self, guint tag_id);

/* Any thread, never blocks. Values of any numeric or bool type are kept
 * as doubles; strings are ignored. A Good or Uncertain sample whose value is
 * not finite (a NaN the device reported) is kept as Bad_SensorFailure.
 * Times must lie in [0, the year 10000) and increase for each tag; a sample
 * that is not later than the tag's previous one is rejected by the writer.
 * Returns FALSE when the queue is full (the samples are counted as
 * dropped) or when the tag id or the time is invalid (counted as
 * rejected). */
gboolean kankyo_historian_append (
    KankyoHistorian *self, guint tag_id, gint64 time, const KankyoValue *value, KankyoQuality quality);
gboolean kankyo_historian_append_double (
    KankyoHistorian *self, guint tag_id, gint64 time, double value, KankyoQuality quality);

/* Blocks until everything appended before the call is committed (or
 * fails). For tests, shutdown and exports that must see the latest data. */
gboolean kankyo_historian_flush (KankyoHistorian *self, GError **error);
/* Runs the retention step now, to completion, and returns what it removed. */
gboolean kankyo_historian_enforce_retention (KankyoHistorian *self,
                                             gint64 now,
                                             guint64 *ret_raw_removed,
                                             GError **error);
/* A copy; free last_error. */
void kankyo_historian_get_stats (KankyoHistorian *self, KankyoHistorianStats *ret_stats);
/* Replaces the commit callback; NULL removes it. */
void
kankyo_historian_set_commit_func (KankyoHistorian *self, KankyoHistorianCommitFunc func, gpointer user_data);

/* Raw samples with from <= time < to, in time order: an array of
 * KankyoHistorianSample. The sample in force at @from (the last one
 * before it) is included first when @with_prior is TRUE, so a chart can
 * draw the line from the left edge. INVALID when the range holds more than
 * KANKYO_HISTORIAN_READ_MAX samples; CORRUPT when a stored block does not
 * decode. */
GArray *kankyo_historian_read_raw (
    KankyoHistorian *self, guint tag_id, gint64 from, gint64 to, gboolean with_prior, GError **error);
/* Stored rollups of one resolution (MINUTE or HOUR) that start in
 * [from, to): an array of KankyoHistorianBin, one per stored bucket,
 * no_data buckets left out; INVALID beyond KANKYO_HISTORIAN_READ_MAX. */
GArray *kankyo_historian_read_rollups (KankyoHistorian *self,
                                       guint tag_id,
                                       KankyoHistorianResolution resolution,
                                       gint64 from,
                                       gint64 to,
                                       GError **error);
/* Exactly @n_bins (1 to KANKYO_HISTORIAN_BINS_MAX) bins of equal width
 * over [from, to), from raw data or from rollups. Bin i starts at
 * from + floor (i * (to - from) / n_bins), so widths differ by at most 1 µs
 * when the range does not divide evenly.
 *
 * The source is chosen per call:
 *  - hour rollups when every bin is a whole number of hours and @from is
 *    on an hour; minute rollups when every bin is a whole number of
 *    minutes, at most 240, and @from is on a minute: exact;
 *  - otherwise hour rollups when a bin spans at least 4 hours, minute
 *    rollups when it spans at least 4 minutes, raw samples below that.
 * Raw reads are always exact. When rollups are read and a bucket straddles
 * a bin edge, the whole bucket is counted in the bin that holds its first
 * Good sample (its first sample when all were Bad or Uncertain), and not
 * at all when that sample lies outside [from, to): a bin's min, max and mean
 * may then include up to one bucket (at most a quarter of the bin) of data
 * beyond its edge, and first_time/last_time are the real sample times.
 * Where retention has removed the rollups but kept raw samples, wide bins
 * read as no data. */
GArray *kankyo_historian_read_binned (
    KankyoHistorian *self, guint tag_id, gint64 from, gint64 to, guint n_bins, GError **error);
/* Earliest and latest stored time of a tag; FALSE when it has no data. */
gboolean
kankyo_historian_get_extent (KankyoHistorian *self, guint tag_id, gint64 *ret_first, gint64 *ret_last);

/* Bytes of the database file(s) and the number of samples stored, for the
 * storage benchmark. */
gboolean kankyo_historian_get_storage (KankyoHistorian *self,
                                       guint64 *ret_bytes,
                                       guint64 *ret_samples,
                                       GError **error);

G_END_DECLS
