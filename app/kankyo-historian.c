/* kankyo-historian.c: every tag's past, in one SQLite file.
 *
 * append() puts samples on a bounded queue; the writer thread takes what
 * has gathered (at most every COMMIT_INTERVAL_US, at once on flush) and
 * commits it as one WAL transaction with synchronous=NORMAL, so kill -9
 * loses at most the batch being written and never consistency.
 *
 * Raw samples are stored per tag as encoded blocks (kankyo-history-codec.c),
 * rows of the table raw keyed by (tag, t1), t1 being the block's last time.
 * A batch cannot wait for a block to fill, so every commit writes each
 * tag's new samples as a small row of tier 0. Sixteen rows of one tier are
 * merged into one of the next (up to tier 2), so a slow tag does not leave
 * thousands of rows; once a tag's unsealed rows hold BLOCK_SAMPLES samples
 * they become one sealed block. The unsealed rows are always the newest of
 * their tag, and every row, sealed or not, is plain committed data that
 * reads decode alike. Closing seals what is left.
 *
 * Rollups (minute and hour) are kept the same way: the writer accumulates
 * the newest bucket of each tag in memory, writes each bucket it changed to
 * rollup_recent (one small row per bucket), and when a tag has
 * recent_max recent rows, or moves on to the next pack, folds them into
 * the pack row in rollup (a day of minutes, thirty days of hours). A read
 * takes the packs and lays the recent rows over them. All of it is written
 * in the batch's transaction, so rollups never disagree with raw data.
 *
 * After a failed batch the writer forgets what it knew about every tag and
 * reloads it from the file, which holds the truth.
 *
 * Retention: every RETENTION_PERIOD_US the writer visits one tag per wake-up
 * and removes at most RETENTION_STEP_ROWS rows of it per transaction; a
 * block or pack that straddles the cut-off is rewritten without the old
 * part. kankyo_historian_enforce_retention() runs a whole pass at once.
 *
 * Reads use connections from a small pool, one per thread at a time, each
 * read in its own read transaction so that it sees one consistent state
 * while the writer moves rows between tiers.
 *
 * Locks, always taken in this order: db_lock (the writer connection and
 * everything the writer keeps per tag), tags_lock (the tag registry, which
 * changes only with both held), q_lock (queue and statistics).
 */

#include "config.h"

#include "kankyo-historian.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "kankyo-history-codec.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)

/* clang-format off */
G_DEFINE_QUARK (kankyo-historian-error-quark, kankyo_historian_error)
/* clang-format on */

#define SCHEMA_VERSION 1
#define APPLICATION_ID 0x4b4e4b48 /* "KNKH" */
#define BUSY_TIMEOUT_MS 5000
#define BATCH_MAX 65536
#define COMMIT_INTERVAL_US (200 * G_TIME_SPAN_MILLISECOND)
#define BLOCK_SAMPLES 4096
#define MERGE_FANIN 16
#define TIER_MAX 2
#define TIER_SEALED 9
#define RETENTION_PERIOD_US (60 * G_TIME_SPAN_SECOND)
#define RETENTION_STEP_ROWS 256
#define POOL_MAX 8
#define MINUTE_US (60 * G_TIME_SPAN_SECOND)
#define HOUR_US (60 * MINUTE_US)
/* Rollups serve a binned read once a bin spans this many buckets; an
 * inexact read through minute buckets is allowed up to this many per bin. */
#define BUCKETS_PER_BIN_MIN 4
#define EXACT_MINUTES_PER_BIN_MAX 240

enum
{
  LEVEL_MINUTE,
  LEVEL_HOUR,
  N_LEVELS
};

typedef struct
{
  gint64 width;     /* µs */
  gint64 pack;      /* buckets per pack row */
  guint recent_max; /* recent rows folded into the pack at this count */
} Level;

static const Level levels[N_LEVELS] = {
  { MINUTE_US, 1440, 120 },
  { HOUR_US, 720, 24 },
};

typedef struct
{
  gint64 time;
  double value;
  guint32 tag;
  guint32 quality;
} Item;

/* The registry: changes only with db_lock and tags_lock held. */
typedef struct
{
  guint id;
  char *name;
  char *unit;
  double deadband;
  gint64 heartbeat;
  char *tag_class;
} TagInfo;

typedef struct
{
  KankyoHistoryRollup cur; /* the newest bucket, the only one that can still change */
  gboolean cur_valid;
  gboolean cur_dirty;
  guint n_recent;     /* rows in rollup_recent */
  gint64 recent_max;  /* their newest bucket, -1 when none */
  gint64 recent_pack; /* first bucket of the pack they belong to, -1 when none */
} LevelState;

/* What the writer knows of a tag; guarded by db_lock. */
typedef struct
{
  gboolean loaded;
  gint64 last_time; /* newest time handed in, stored or not; -1 when none */
  gboolean has_last;
  KankyoHistorianSample last; /* newest stored sample */
  gint64 sealed_end;          /* t1 of the newest sealed block, -1 when none */
  guint n_pending;            /* samples in unsealed rows */
  guint tier_rows[TIER_MAX + 1];
  LevelState lv[N_LEVELS];
  GArray *staged; /* KankyoHistorianSample to store in this batch */
  gboolean touched;
} TagState;

enum
{
  W_INSERT_RAW,
  W_SELECT_PENDING,
  W_DELETE_PENDING,
  W_SEAL_PENDING,
  W_SELECT_NEWEST,
  W_UPSERT_RECENT,
  W_SELECT_RECENT_RANGE,
  W_DELETE_RECENT_RANGE,
  W_SELECT_PACK,
  W_UPSERT_PACK,
  W_DELETE_PACK,
  W_RECENT_SUMMARY,
  W_SELECT_RECENT_ONE,
  W_LAST_PACK,
  W_RET_DELETE_RAW,
  W_RET_STRADDLE_RAW,
  W_UPDATE_RAW,
  W_RET_DELETE_PACKS,
  W_RET_DELETE_RECENT,
  N_WRITER_STMTS
};

static const char *const writer_sql[N_WRITER_STMTS] = {
  [W_INSERT_RAW] = "INSERT INTO raw (tag, t0, t1, n, tier, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
  /* ?3 < 0 selects every tier. */
  [W_SELECT_PENDING]
  = "SELECT t0, t1, n, data FROM raw WHERE tag = ?1 AND t1 > ?2 AND (?3 < 0 OR tier = ?3) ORDER BY t1",
  [W_DELETE_PENDING] = "DELETE FROM raw WHERE tag = ?1 AND t1 > ?2 AND (?3 < 0 OR tier = ?3)",
  [W_SEAL_PENDING] = "UPDATE raw SET tier = 9 WHERE tag = ?1 AND t1 > ?2 RETURNING t1",
  [W_SELECT_NEWEST] = "SELECT t1, n, tier, data FROM raw WHERE tag = ?1 ORDER BY t1 DESC",
  [W_UPSERT_RECENT]
  = "INSERT OR REPLACE INTO rollup_recent (tag, level, bucket, data) VALUES (?1, ?2, ?3, ?4)",
  [W_SELECT_RECENT_RANGE] = "SELECT data FROM rollup_recent WHERE tag = ?1 AND level = ?2 AND bucket >= ?3"
                            " AND bucket < ?4 ORDER BY bucket",
  [W_DELETE_RECENT_RANGE]
  = "DELETE FROM rollup_recent WHERE tag = ?1 AND level = ?2 AND bucket >= ?3 AND bucket < ?4",
  [W_SELECT_PACK] = "SELECT data FROM rollup WHERE tag = ?1 AND level = ?2 AND start = ?3",
  [W_UPSERT_PACK] = "INSERT OR REPLACE INTO rollup (tag, level, start, data) VALUES (?1, ?2, ?3, ?4)",
  [W_DELETE_PACK] = "DELETE FROM rollup WHERE tag = ?1 AND level = ?2 AND start = ?3",
  [W_RECENT_SUMMARY] = "SELECT count(*), max(bucket) FROM rollup_recent WHERE tag = ?1 AND level = ?2",
  [W_SELECT_RECENT_ONE] = "SELECT data FROM rollup_recent WHERE tag = ?1 AND level = ?2 AND bucket = ?3",
  [W_LAST_PACK] = "SELECT data FROM rollup WHERE tag = ?1 AND level = ?2 ORDER BY start DESC LIMIT 1",
  [W_RET_DELETE_RAW]
  = "DELETE FROM raw WHERE id IN (SELECT id FROM raw WHERE tag = ?1 AND t1 < ?2 ORDER BY t1"
    " LIMIT ?3) RETURNING n",
  [W_RET_STRADDLE_RAW] = "SELECT id, t0, n, data FROM raw WHERE tag = ?1 AND t1 >= ?2 ORDER BY t1 LIMIT 1",
  [W_UPDATE_RAW] = "UPDATE raw SET t0 = ?2, n = ?3, data = ?4 WHERE id = ?1",
  [W_RET_DELETE_PACKS]
  = "DELETE FROM rollup WHERE rowid IN (SELECT rowid FROM rollup WHERE tag = ?1 AND level = ?2"
    " AND start <= ?3 LIMIT ?4)",
  [W_RET_DELETE_RECENT] = "DELETE FROM rollup_recent WHERE tag = ?1 AND level = ?2 AND bucket < ?3",
};

enum
{
  R_RAW_RANGE,
  R_RAW_PRIOR,
  R_PACKS,
  R_RECENT,
  R_RAW_FIRST,
  R_RAW_LAST,
  R_FIRST_PACK,
  R_LAST_PACK,
  R_RECENT_FIRST,
  R_RECENT_LAST,
  R_SAMPLE_COUNT,
  N_READ_STMTS
};

static const char *const read_sql[N_READ_STMTS] = {
  [R_RAW_RANGE] = "SELECT t0, t1, n, data FROM raw WHERE tag = ?1 AND t1 >= ?2 ORDER BY t1",
  [R_RAW_PRIOR] = "SELECT t0, t1, n, data FROM raw WHERE tag = ?1 AND t1 < ?2 ORDER BY t1 DESC LIMIT 1",
  [R_PACKS] = "SELECT start, data FROM rollup WHERE tag = ?1 AND level = ?2 AND start >= ?3 AND start < ?4"
              " ORDER BY start",
  [R_RECENT] = "SELECT data FROM rollup_recent WHERE tag = ?1 AND level = ?2 AND bucket >= ?3 AND bucket < ?4"
               " ORDER BY bucket",
  [R_RAW_FIRST] = "SELECT t0 FROM raw WHERE tag = ?1 ORDER BY t1 LIMIT 1",
  [R_RAW_LAST] = "SELECT t1 FROM raw WHERE tag = ?1 ORDER BY t1 DESC LIMIT 1",
  [R_FIRST_PACK] = "SELECT data FROM rollup WHERE tag = ?1 AND level = ?2 ORDER BY start LIMIT 1",
  [R_LAST_PACK] = "SELECT data FROM rollup WHERE tag = ?1 AND level = ?2 ORDER BY start DESC LIMIT 1",
  [R_RECENT_FIRST] = "SELECT data FROM rollup_recent WHERE tag = ?1 AND level = ?2 ORDER BY bucket LIMIT 1",
  [R_RECENT_LAST]
  = "SELECT data FROM rollup_recent WHERE tag = ?1 AND level = ?2 ORDER BY bucket DESC LIMIT 1",
  [R_SAMPLE_COUNT] = "SELECT coalesce (sum (n), 0) FROM raw",
};

typedef struct
{
  sqlite3 *db;
  sqlite3_stmt *stmts[N_READ_STMTS];
} ReadConn;

struct _KankyoHistorian
{
  char *path;
  int lock_fd;
  gboolean readonly; /* opened for reading beside a running plant: no writer */

  GMutex db_lock;
  sqlite3 *db;
  sqlite3_stmt *wstmts[N_WRITER_STMTS];
  GPtrArray *states;  /* TagState, by id */
  GArray *touched;    /* guint ids with staged samples */
  GArray *w_samples;  /* scratch KankyoHistorianSample */
  GArray *w_rollups;  /* scratch KankyoHistoryRollup */
  GArray *w_rollups2; /* scratch KankyoHistoryRollup */
  guint retention_cursor;
  gboolean retention_active;
  gint64 next_retention; /* monotonic */

  GMutex tags_lock;
  GPtrArray *tags;        /* TagInfo by id; [0] is NULL */
  GHashTable *by_name;    /* name -> TagInfo */
  GHashTable *retentions; /* class name -> KankyoHistorianRetention */
  gint n_tags;            /* atomic: the highest valid id */

  GMutex q_lock;
  GCond q_cond;    /* the writer waits for samples */
  GCond done_cond; /* flushers wait for commits */
  GArray *queue;   /* Item */
  gint64 queue_since;
  guint64 accepted;
  guint64 done;
  guint64 flush_to;
  guint64 failures;
  gboolean stopping;
  gboolean retention_now;
  KankyoHistorianStats stats;
  KankyoHistorianCommitFunc commit_func;
  gpointer commit_data;

  GThread *writer;

  GMutex pool_lock;
  GPtrArray *pool; /* idle ReadConn */
};

static void
set_db_error (GError **error, KankyoHistorianError code, const char *path, sqlite3 *db, const char *what)
{
  /* Translators: the first %s is a file name, the second one of the actions
   * below such as 'commit a batch of samples', the last SQLite's own
   * message. */
  g_set_error (error, KANKYO_HISTORIAN_ERROR, code, _ ("History file %s: cannot %s: %s"), path, what,
               sqlite3_errmsg (db));
}

static char *
time_to_text (gint64 us)
{
  g_autoptr (GDateTime) seconds = g_date_time_new_from_unix_utc (us / G_USEC_PER_SEC);
  g_autoptr (GDateTime) exact = NULL;

  if (seconds == NULL)
    return g_strdup_printf ("%" G_GINT64_FORMAT, us);
  exact = g_date_time_add (seconds, us % G_USEC_PER_SEC);
  return g_date_time_format (exact, "%Y-%m-%d %H:%M:%S.%f UTC");
}

static gint64
floor_div (gint64 a, gint64 b)
{
  gint64 q = a / b;

  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static gboolean
valid_text (const char *text, gsize max)
{
  return text != NULL && text[0] != '\0' && strlen (text) <= max && g_utf8_validate (text, -1, NULL);
}

static void
tag_info_free (TagInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->name);
  g_free (info->unit);
  g_free (info->tag_class);
  g_free (info);
}

static void
tag_state_free (TagState *st)
{
  if (st == NULL)
    return;
  g_array_unref (st->staged);
  g_free (st);
}

/* The tag's name for a message; the registry never shrinks. */
static char *
tag_name (KankyoHistorian *self, guint id)
{
  char *name;

  g_mutex_lock (&self->tags_lock);
  name = id < self->tags->len && g_ptr_array_index (self->tags, id) != NULL
             ? g_strdup (((TagInfo *) g_ptr_array_index (self->tags, id))->name)
             : g_strdup_printf ("#%u", id);
  g_mutex_unlock (&self->tags_lock);
  return name;
}

/* Records a problem that did not stop ingest, e.g. a damaged block set
 * aside; it shows in the statistics. */
static void
note_problem (KankyoHistorian *self, const char *message)
{
  g_mutex_lock (&self->q_lock);
  g_free (self->stats.last_error);
  self->stats.last_error = g_strdup (message);
  g_mutex_unlock (&self->q_lock);
}

/* ---- the writer connection ---- */

static gboolean
exec_sql (KankyoHistorian *self, const char *sql, KankyoHistorianError code, const char *what, GError **error)
{
  if (sqlite3_exec (self->db, sql, NULL, NULL, NULL) != SQLITE_OK)
    {
      set_db_error (error, code, self->path, self->db, what);
      return FALSE;
    }
  return TRUE;
}

static void
rollback (KankyoHistorian *self)
{
  if (!sqlite3_get_autocommit (self->db))
    sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
}

static sqlite3_stmt *
wstmt (KankyoHistorian *self, guint which, GError **error)
{
  if (self->wstmts[which] == NULL
      && sqlite3_prepare_v3 (self->db, writer_sql[which], -1, SQLITE_PREPARE_PERSISTENT, &self->wstmts[which],
                             NULL)
             != SQLITE_OK)
    {
      set_db_error (error, KANKYO_HISTORIAN_ERROR_WRITE, self->path, self->db, _ ("prepare a statement"));
      return NULL;
    }
  return self->wstmts[which];
}

/* Steps a statement that returns no rows and resets it. */
static gboolean
step_done (KankyoHistorian *self, sqlite3_stmt *stmt, const char *what, GError **error)
{
  int rc = sqlite3_step (stmt);

  if (rc != SQLITE_DONE)
    {
      set_db_error (error, KANKYO_HISTORIAN_ERROR_WRITE, self->path, self->db, what);
      sqlite3_reset (stmt);
      return FALSE;
    }
  sqlite3_reset (stmt);
  return TRUE;
}

static gboolean
insert_raw (
    KankyoHistorian *self, guint tag, const KankyoHistorianSample *samples, guint n, int tier, GError **error)
{
  sqlite3_stmt *stmt = wstmt (self, W_INSERT_RAW, error);
  gsize len;
  guint8 *data;

  if (stmt == NULL)
    return FALSE;
  data = kankyo_history_block_encode (samples, n, &len);
  sqlite3_bind_int64 (stmt, 1, tag);
  sqlite3_bind_int64 (stmt, 2, samples[0].time);
  sqlite3_bind_int64 (stmt, 3, samples[n - 1].time);
  sqlite3_bind_int64 (stmt, 4, n);
  sqlite3_bind_int (stmt, 5, tier);
  sqlite3_bind_blob64 (stmt, 6, data, len, g_free);
  return step_done (self, stmt, _ ("store samples"), error);
}

/* Decodes a stored row onto @samples and checks it against its index
 * columns and against the samples before it. Errors are always CORRUPT. */
static gboolean
decode_row (const void *data, int len, gint64 t0, gint64 t1, gint64 n, GArray *samples, GError **error)
{
  guint first = samples->len;
  KankyoHistorianSample *s;

  if (!kankyo_history_block_decode (data, len, samples, error))
    return FALSE;
  s = &g_array_index (samples, KankyoHistorianSample, first);
  if ((gint64) (samples->len - first) != n || s[0].time != t0 || s[samples->len - first - 1].time != t1
      || (first > 0 && s[-1].time >= t0))
    {
      g_array_set_size (samples, first);
      g_set_error (error, KANKYO_HISTORIAN_ERROR, KANKYO_HISTORIAN_ERROR_CORRUPT,
                   _ ("the stored data is damaged: the block does not match its index entry"));
      return FALSE;
    }
  return TRUE;
}

/* Reads the tag's unsealed rows of @tier (every tier when -1), oldest
 * first, into w_samples. *ret_damaged tells that one did not decode. */
static gboolean
read_pending (KankyoHistorian *self, guint tag, TagState *st, int tier, gboolean *ret_damaged, GError **error)
{
  sqlite3_stmt *stmt = wstmt (self, W_SELECT_PENDING, error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  *ret_damaged = FALSE;
  g_array_set_size (self->w_samples, 0);
  sqlite3_bind_int64 (stmt, 1, tag);
  sqlite3_bind_int64 (stmt, 2, st->sealed_end);
  sqlite3_bind_int (stmt, 3, tier);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 n = sqlite3_column_int64 (stmt, 2);

      if (n < 1 || self->w_samples->len + n > KANKYO_HISTORY_BLOCK_MAX
          || !decode_row (sqlite3_column_blob (stmt, 3), sqlite3_column_bytes (stmt, 3),
                          sqlite3_column_int64 (stmt, 0), sqlite3_column_int64 (stmt, 1), n, self->w_samples,
                          NULL))
        {
          *ret_damaged = TRUE;
          rc = SQLITE_DONE;
          break;
        }
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      set_db_error (error, KANKYO_HISTORIAN_ERROR_WRITE, self->path, self->db, _ ("read unsealed samples"));
      return FALSE;
    }
  return TRUE;
}

/* A damaged unsealed row cannot be merged: seal every unsealed row as it
 * is, so that reads report the damage where it is and ingest goes on. */
static gboolean
give_up_pending (KankyoHistorian *self, guint tag, TagState *st, GError **error)
{
  sqlite3_stmt *stmt = wstmt (self, W_SEAL_PENDING, error);
  g_autofree char *name = tag_name (self, tag);
  g_autofree char *message = NULL;
  int rc;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, tag);
  sqlite3_bind_int64 (stmt, 2, st->sealed_end);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    st->sealed_end = MAX (st->sealed_end, sqlite3_column_int64 (stmt, 0));
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      set_db_error (error, KANKYO_HISTORIAN_ERROR_WRITE, self->path, self->db,
                    _ ("set aside damaged samples"));
      return FALSE;
    }
  st->n_pending = 0;
  memset (st->tier_rows, 0, sizeof st->tier_rows);
  message = g_strdup_printf (_ ("History file %s: tag %s: recent samples are damaged and were set aside"),
                             self->path, name);
  note_problem (self, message);
  return TRUE;
}

static gboolean
delete_pending (KankyoHistorian *self, guint tag, TagState *st, int tier, GError **error)
{
  sqlite3_stmt *stmt = wstmt (self, W_DELETE_PENDING, error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, tag);
  sqlite3_bind_int64 (stmt, 2, st->sealed_end);
  sqlite3_bind_int (stmt, 3, tier);
  return step_done (self, stmt, _ ("merge stored samples"), error);
}

/* Turns the unsealed rows plus @n_extra new samples into one sealed block. */
static gboolean
seal (KankyoHistorian *self,
      guint tag,
      TagState *st,
      const KankyoHistorianSample *extra,
      guint n_extra,
      GError **error)
{
  gboolean damaged = FALSE;

  g_array_set_size (self->w_samples, 0);
  if (st->n_pending > 0)
    {
      if (!read_pending (self, tag, st, -1, &damaged, error))
        return FALSE;
      if (!damaged && self->w_samples->len + n_extra > KANKYO_HISTORY_BLOCK_MAX)
        damaged = TRUE;
      if (damaged)
        {
          if (!give_up_pending (self, tag, st, error))
            return FALSE;
          g_array_set_size (self->w_samples, 0);
        }
      else if (!delete_pending (self, tag, st, -1, error))
        return FALSE;
    }
  g_array_append_vals (self->w_samples, extra, n_extra);
  if (self->w_samples->len == 0)
    return TRUE;
  if (!insert_raw (self, tag, (KankyoHistorianSample *) self->w_samples->data, self->w_samples->len,
                   TIER_SEALED, error))
    return FALSE;
  st->sealed_end = g_array_index (self->w_samples, KankyoHistorianSample, self->w_samples->len - 1).time;
  st->n_pending = 0;
  memset (st->tier_rows, 0, sizeof st->tier_rows);
  return TRUE;
}

/* Merges the rows of @tier, the newest unsealed rows, into one of the
 * next tier. */
static gboolean
merge_tier (KankyoHistorian *self, guint tag, TagState *st, int tier, GError **error)
{
  gboolean damaged;
  int next = MIN (tier + 1, TIER_MAX);

  if (!read_pending (self, tag, st, tier, &damaged, error))
    return FALSE;
  if (damaged || self->w_samples->len == 0)
    return give_up_pending (self, tag, st, error);
  if (!delete_pending (self, tag, st, tier, error)
      || !insert_raw (self, tag, (KankyoHistorianSample *) self->w_samples->data, self->w_samples->len, next,
                      error))
    return FALSE;
  st->tier_rows[tier] = 0;
  st->tier_rows[next]++;
  return TRUE;
}

static gboolean
write_raw (KankyoHistorian *self, guint tag, TagState *st, GError **error)
{
  const KankyoHistorianSample *samples = (const KankyoHistorianSample *) st->staged->data;
  guint n = st->staged->len;
  guint off = 0;

  while (off < n)
    {
      guint room = st->n_pending >= BLOCK_SAMPLES ? 0 : BLOCK_SAMPLES - st->n_pending;

      if (n - off >= room)
        {
          if (!seal (self, tag, st, samples + off, room, error))
            return FALSE;
          off += room;
          continue;
        }
      if (!insert_raw (self, tag, samples + off, n - off, 0, error))
        return FALSE;
      st->n_pending += n - off;
      st->tier_rows[0]++;
      off = n;
      for (int tier = 0; tier <= TIER_MAX; tier++)
        if (st->tier_rows[tier] >= MERGE_FANIN && !merge_tier (self, tag, st, tier, error))
          return FALSE;
    }
  return TRUE;
}

/* ---- rollups ---- */

static void
rollup_start (KankyoHistoryRollup *r, gint64 bucket, guint32 off)
{
  memset (r, 0, sizeof *r);
  r->bucket = bucket;
  r->first_off = r->last_off = off;
  r->min = r->max = r->sum = r->first = r->last = NAN;
}

static void
rollup_add (KankyoHistoryRollup *r, const KankyoHistorianSample *s, guint32 off)
{
  if (s->quality == KANKYO_QUALITY_GOOD)
    {
      if (r->count == 0)
        {
          r->min = r->max = r->first = r->sum = s->value;
          r->first_off = off;
        }
      else
        {
          r->min = MIN (r->min, s->value);
          r->max = MAX (r->max, s->value);
          r->sum += s->value;
        }
      r->last = s->value;
      r->last_off = off;
      r->count++;
      return;
    }
  if (kankyo_quality_is_bad (s->quality))
    r->bad = TRUE;
  if (r->count == 0)
    r->last_off = off;
}

/* Lays @over (sorted) onto @base (sorted) in place; @over wins where both
 * have a bucket. */
static void
overlay_rollups (GArray *base, GArray *over, GArray *scratch)
{
  KankyoHistoryRollup *b = (KankyoHistoryRollup *) base->data;
  KankyoHistoryRollup *o = (KankyoHistoryRollup *) over->data;
  guint lo = 0, hi = base->len, i, j;

  if (over->len == 0)
    return;
  while (lo < hi)
    {
      guint mid = (lo + hi) / 2;

      if (b[mid].bucket < o[0].bucket)
        lo = mid + 1;
      else
        hi = mid;
    }
  g_array_set_size (scratch, 0);
  for (i = lo, j = 0; i < base->len || j < over->len;)
    {
      if (j == over->len || (i < base->len && b[i].bucket < o[j].bucket))
        g_array_append_val (scratch, b[i++]);
      else
        {
          if (i < base->len && b[i].bucket == o[j].bucket)
            i++;
          g_array_append_val (scratch, o[j++]);
        }
    }
  g_array_set_size (base, lo);
  g_array_append_vals (base, scratch->data, scratch->len);
}

static char *
pack_problem (KankyoHistorian *self, guint tag, guint level, gint64 bucket, const char *detail)
{
  g_autofree char *name = tag_name (self, tag);
  g_autofree char *when = time_to_text (bucket * levels[level].width);

  /* Translators: the last %s is what is wrong with the stored data. */
  return g_strdup_printf (level == LEVEL_MINUTE
                              ? _ ("History file %s: tag %s: the minute rollups from %s cannot be read: %s")
                              : _ ("History file %s: tag %s: the hour rollups from %s cannot be read: %s"),
                          self->path, name, when, detail);
}

/* Writes self->w_rollups as the pack row of @tag and @level at @start, or
 * removes the row when nothing is left in it; @what names the work in an
 * error. */
static gboolean
put_pack (KankyoHistorian *self, guint tag, guint level, gint64 start, const char *what, GError **error)
{
  sqlite3_stmt *stmt;
  gsize len;
  guint8 *data;

  if (self->w_rollups->len == 0)
    {
      if ((stmt = wstmt (self, W_DELETE_PACK, error)) == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, tag);
      sqlite3_bind_int (stmt, 2, level);
      sqlite3_bind_int64 (stmt, 3, start);
      return step_done (self, stmt, what, error);
    }
  data = kankyo_history_rollups_encode ((KankyoHistoryRollup *) self->w_rollups->data, self->w_rollups->len,
                                        start, &len);
  if ((stmt = wstmt (self, W_UPSERT_PACK, error)) == NULL)
    {
      g_free (data);
      return FALSE;
    }
  sqlite3_bind_int64 (stmt, 1, tag);
  sqlite3_bind_int (stmt, 2, level);
  sqlite3_bind_int64 (stmt, 3, start);
  sqlite3_bind_blob64 (stmt, 4, data, len, g_free);
  return step_done (self, stmt, what, error);
}

/* Folds the tag's recent rows of one pack into the pack row. */
static gboolean
flush_pack (KankyoHistorian *self, guint tag, guint level, gint64 start, GError **error)
{
  const Level *lv = &levels[level];
  sqlite3_stmt *stmt;
  int rc;

  g_array_set_size (self->w_rollups, 0);
  g_array_set_size (self->w_rollups2, 0);
  if ((stmt = wstmt (self, W_SELECT_PACK, error)) == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, tag);
  sqlite3_bind_int (stmt, 2, level);
  sqlite3_bind_int64 (stmt, 3, start);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      g_autoptr (GError) local = NULL;

      if (!kankyo_history_rollups_decode (sqlite3_column_blob (stmt, 0), sqlite3_column_bytes (stmt, 0),
                                          lv->width, self->w_rollups, &local))
        {
          g_autofree char *message = pack_problem (self, tag, level, start, local->message);

          /* The damaged part is lost either way; keep what is new. */
          note_problem (self, message);
        }
      rc = SQLITE_DONE;
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      set_db_error (error, KANKYO_HISTORIAN_ERROR_WRITE, self->path, self->db, _ ("read rollups"));
      return FALSE;
    }

  if ((stmt = wstmt (self, W_SELECT_RECENT_RANGE, error)) == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, tag);
  sqlite3_bind_int (stmt, 2, level);
  sqlite3_bind_int64 (stmt, 3, start);
  sqlite3_bind_int64 (stmt, 4, start + lv->pack);
  {
    g_autoptr (GArray) recent = g_array_new (FALSE, FALSE, sizeof (KankyoHistoryRollup));

    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
      if (!kankyo_history_rollups_decode (sqlite3_column_blob (stmt, 0), sqlite3_column_bytes (stmt, 0),
                                          lv->width, recent, NULL))
        {
          g_autofree char *name = tag_name (self, tag);
          g_autofree char *message = g_strdup_printf (
              _ ("History file %s: tag %s: a recent rollup row is damaged and was dropped"), self->path,
              name);

          note_problem (self, message);
        }
    sqlite3_reset (stmt);
    if (rc != SQLITE_DONE)
      {
        set_db_error (error, KANKYO_HISTORIAN_ERROR_WRITE, self->path, self->db, _ ("read rollups"));
        return FALSE;
      }
    overlay_rollups (self->w_rollups, recent, self->w_rollups2);
  }

  if ((stmt = wstmt (self, W_DELETE_RECENT_RANGE, error)) == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, tag);
  sqlite3_bind_int (stmt, 2, level);
  sqlite3_bind_int64 (stmt, 3, start);
  sqlite3_bind_int64 (stmt, 4, start + lv->pack);
  if (!step_done (self, stmt, _ ("store rollups"), error))
    return FALSE;

  return put_pack (self, tag, level, start, _ ("store rollups"), error);
}

static gboolean
write_recent (
    KankyoHistorian *self, guint tag, TagState *st, guint level, const KankyoHistoryRollup *r, GError **error)
{
  const Level *lv = &levels[level];
  LevelState *ls = &st->lv[level];
  gint64 start = floor_div (r->bucket, lv->pack) * lv->pack;
  sqlite3_stmt *stmt;
  gsize len;
  guint8 *data;

  if (ls->n_recent > 0 && ls->recent_pack != start)
    {
      if (!flush_pack (self, tag, level, ls->recent_pack, error))
        return FALSE;
      ls->n_recent = 0;
      ls->recent_max = -1;
    }
  if ((stmt = wstmt (self, W_UPSERT_RECENT, error)) == NULL)
    return FALSE;
  data = kankyo_history_rollups_encode (r, 1, r->bucket, &len);
  sqlite3_bind_int64 (stmt, 1, tag);
  sqlite3_bind_int (stmt, 2, level);
  sqlite3_bind_int64 (stmt, 3, r->bucket);
  sqlite3_bind_blob64 (stmt, 4, data, len, g_free);
  if (!step_done (self, stmt, _ ("store rollups"), error))
    return FALSE;
  if (r->bucket > ls->recent_max)
    {
      ls->n_recent++;
      ls->recent_max = r->bucket;
    }
  ls->recent_pack = start;
  if (ls->n_recent >= lv->recent_max)
    {
      if (!flush_pack (self, tag, level, start, error))
        return FALSE;
      ls->n_recent = 0;
      ls->recent_max = -1;
    }
  return TRUE;
}

static gboolean
update_rollups (KankyoHistorian *self, guint tag, TagState *st, GError **error)
{
  const KankyoHistorianSample *samples = (const KankyoHistorianSample *) st->staged->data;

  for (guint level = 0; level < N_LEVELS; level++)
    {
      LevelState *ls = &st->lv[level];
      gint64 width = levels[level].width;

      for (guint i = 0; i < st->staged->len; i++)
        {
          gint64 bucket = samples[i].time / width;
          guint32 off = (guint32) (samples[i].time - bucket * width);

          if (ls->cur_valid && ls->cur.bucket != bucket)
            {
              if (ls->cur_dirty && !write_recent (self, tag, st, level, &ls->cur, error))
                return FALSE;
              ls->cur_valid = FALSE;
            }
          if (!ls->cur_valid)
            {
              rollup_start (&ls->cur, bucket, off);
              ls->cur_valid = TRUE;
            }
          rollup_add (&ls->cur, &samples[i], off);
          ls->cur_dirty = TRUE;
        }
      if (ls->cur_dirty && !write_recent (self, tag, st, level, &ls->cur, error))
        return FALSE;
      ls->cur_dirty = FALSE;
    }
  return TRUE;
}

/* ---- the writer's view of a tag ---- */

/* Decodes the single record or the last record of a rollup blob. */
static gboolean
last_rollup (const void *data, int len, gint64 width, KankyoHistoryRollup *ret)
{
  g_autoptr (GArray) records = g_array_new (FALSE, FALSE, sizeof (KankyoHistoryRollup));

  if (!kankyo_history_rollups_decode (data, len, width, records, NULL))
    return FALSE;
  *ret = g_array_index (records, KankyoHistoryRollup, records->len - 1);
  return TRUE;
}

static gboolean
load_level (KankyoHistorian *self, guint tag, TagState *st, guint level, GError **error)
{
  LevelState *ls = &st->lv[level];
  gint64 width = levels[level].width;
  KankyoHistoryRollup candidate;
  sqlite3_stmt *stmt;
  int rc;

  memset (ls, 0, sizeof *ls);
  ls->recent_max = -1;
  ls->recent_pack = -1;

  if ((stmt = wstmt (self, W_RECENT_SUMMARY, error)) == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, tag);
  sqlite3_bind_int (stmt, 2, level);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW && sqlite3_column_int64 (stmt, 0) > 0)
    {
      ls->n_recent = (guint) sqlite3_column_int64 (stmt, 0);
      ls->recent_max = sqlite3_column_int64 (stmt, 1);
      ls->recent_pack = floor_div (ls->recent_max, levels[level].pack) * levels[level].pack;
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_ROW)
    {
      set_db_error (error, KANKYO_HISTORIAN_ERROR_WRITE, self->path, self->db, _ ("read rollups"));
      return FALSE;
    }

  if ((stmt = wstmt (self, W_LAST_PACK, error)) == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, tag);
  sqlite3_bind_int (stmt, 2, level);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      if (last_rollup (sqlite3_column_blob (stmt, 0), sqlite3_column_bytes (stmt, 0), width, &candidate))
        {
          ls->cur = candidate;
          ls->cur_valid = TRUE;
        }
      rc = SQLITE_DONE;
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      set_db_error (error, KANKYO_HISTORIAN_ERROR_WRITE, self->path, self->db, _ ("read rollups"));
      return FALSE;
    }

  if (ls->n_recent == 0)
    return TRUE;
  if ((stmt = wstmt (self, W_SELECT_RECENT_ONE, error)) == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, tag);
  sqlite3_bind_int (stmt, 2, level);
  sqlite3_bind_int64 (stmt, 3, ls->recent_max);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      if (last_rollup (sqlite3_column_blob (stmt, 0), sqlite3_column_bytes (stmt, 0), width, &candidate)
          && (!ls->cur_valid || candidate.bucket >= ls->cur.bucket))
        {
          ls->cur = candidate;
          ls->cur_valid = TRUE;
        }
      rc = SQLITE_DONE;
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      set_db_error (error, KANKYO_HISTORIAN_ERROR_WRITE, self->path, self->db, _ ("read rollups"));
      return FALSE;
    }
  return TRUE;
}

static gboolean
load_state (KankyoHistorian *self, guint tag, TagState *st, GError **error)
{
  sqlite3_stmt *stmt = wstmt (self, W_SELECT_NEWEST, error);
  gboolean first = TRUE;
  int rc;

  if (stmt == NULL)
    return FALSE;
  st->last_time = -1;
  st->has_last = FALSE;
  st->sealed_end = -1;
  st->n_pending = 0;
  memset (st->tier_rows, 0, sizeof st->tier_rows);

  sqlite3_bind_int64 (stmt, 1, tag);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 t1 = sqlite3_column_int64 (stmt, 0);
      gint64 n = sqlite3_column_int64 (stmt, 1);
      int tier = sqlite3_column_int (stmt, 2);

      if (first)
        {
          g_array_set_size (self->w_samples, 0);
          st->last_time = t1;
          if (kankyo_history_block_decode (sqlite3_column_blob (stmt, 3), sqlite3_column_bytes (stmt, 3),
                                           self->w_samples, NULL))
            {
              st->last = g_array_index (self->w_samples, KankyoHistorianSample, self->w_samples->len - 1);
              st->has_last = TRUE;
            }
          first = FALSE;
        }
      if (tier == TIER_SEALED)
        {
          st->sealed_end = t1;
          rc = SQLITE_DONE;
          break;
        }
      st->n_pending += (guint) CLAMP (n, 0, BLOCK_SAMPLES);
      st->tier_rows[CLAMP (tier, 0, TIER_MAX)]++;
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      set_db_error (error, KANKYO_HISTORIAN_ERROR_WRITE, self->path, self->db,
                    _ ("read a tag's newest samples"));
      return FALSE;
    }
  for (guint level = 0; level < N_LEVELS; level++)
    if (!load_level (self, tag, st, level, error))
      return FALSE;
  st->loaded = TRUE;
  return TRUE;
}

static TagState *
get_state (KankyoHistorian *self, guint tag, GError **error)
{
  TagState *st;

  if (tag >= self->states->len)
    g_ptr_array_set_size (self->states, tag + 1);
  st = g_ptr_array_index (self->states, tag);
  if (st == NULL)
    {
      st = g_new0 (TagState, 1);
      st->staged = g_array_new (FALSE, FALSE, sizeof (KankyoHistorianSample));
      g_ptr_array_index (self->states, tag) = st;
    }
  if (!st->loaded && !load_state (self, tag, st, error))
    return NULL;
  return st;
}

static void
forget_states (KankyoHistorian *self)
{
  for (guint i = 0; i < self->states->len; i++)
    {
      TagState *st = g_ptr_array_index (self->states, i);

      if (st == NULL)
        continue;
      st->loaded = FALSE;
      st->touched = FALSE;
      g_array_set_size (st->staged, 0);
    }
  g_array_set_size (self->touched, 0);
}

/* ---- batches ---- */

static gboolean
run_batch (KankyoHistorian *self,
           const Item *items,
           guint n,
           guint64 *ret_stored,
           guint64 *ret_rejected,
           GError **error)
{
  guint64 stored = 0, rejected = 0;

  g_mutex_lock (&self->db_lock);
  if (!exec_sql (self, "BEGIN IMMEDIATE", KANKYO_HISTORIAN_ERROR_WRITE, _ ("start a transaction"), error))
    goto fail;

  for (guint i = 0; i < n; i++)
    {
      const Item *item = &items[i];
      TagInfo *info = g_ptr_array_index (self->tags, item->tag);
      TagState *st = get_state (self, item->tag, error);
      KankyoHistorianSample s;
      gboolean bad, store;

      if (st == NULL)
        goto fail;
      if (item->time <= st->last_time)
        {
          rejected++;
          continue;
        }
      st->last_time = item->time;
      s.time = item->time;
      s.quality = (KankyoQuality) item->quality;
      bad = kankyo_quality_is_bad (s.quality);
      s.value = bad ? NAN : item->value;
      store = !st->has_last || s.quality != st->last.quality
              || (!bad && fabs (s.value - st->last.value) > info->deadband)
              || (info->heartbeat > 0 && s.time - st->last.time >= info->heartbeat);
      if (!store)
        continue;
      g_array_append_val (st->staged, s);
      st->last = s;
      st->has_last = TRUE;
      if (!st->touched)
        {
          guint tag = item->tag;

          st->touched = TRUE;
          g_array_append_val (self->touched, tag);
        }
    }

  for (guint i = 0; i < self->touched->len; i++)
    {
      guint tag = g_array_index (self->touched, guint, i);
      TagState *st = g_ptr_array_index (self->states, tag);

      if (!write_raw (self, tag, st, error) || !update_rollups (self, tag, st, error))
        goto fail;
      stored += st->staged->len;
      g_array_set_size (st->staged, 0);
      st->touched = FALSE;
    }
  g_array_set_size (self->touched, 0);

  if (!exec_sql (self, "COMMIT", KANKYO_HISTORIAN_ERROR_WRITE, _ ("commit a batch of samples"), error))
    goto fail;
  g_mutex_unlock (&self->db_lock);
  *ret_stored = stored;
  *ret_rejected = rejected;
  return TRUE;

fail:
  rollback (self);
  forget_states (self);
  g_mutex_unlock (&self->db_lock);
  return FALSE;
}

/* ---- retention ---- */

static gboolean
any_retention (KankyoHistorian *self)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->retentions);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      KankyoHistorianRetention *r = value;

      if (r->raw_us > 0 || r->minute_us > 0 || r->hour_us > 0)
        return TRUE;
    }
  return FALSE;
}

static gboolean
trim_raw (KankyoHistorian *self, guint tag, gint64 cutoff, guint64 *removed, GError **error)
{
  sqlite3_stmt *stmt = wstmt (self, W_RET_STRADDLE_RAW, error);
  gint64 id, t0, n;
  gsize len;
  guint8 *data;
  guint keep;
  int rc;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, tag);
  sqlite3_bind_int64 (stmt, 2, cutoff);
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    {
      sqlite3_reset (stmt);
      if (rc == SQLITE_DONE)
        return TRUE;
      set_db_error (error, KANKYO_HISTORIAN_ERROR_WRITE, self->path, self->db, _ ("remove old samples"));
      return FALSE;
    }
  id = sqlite3_column_int64 (stmt, 0);
  t0 = sqlite3_column_int64 (stmt, 1);
  n = sqlite3_column_int64 (stmt, 2);
  g_array_set_size (self->w_samples, 0);
  if (t0 >= cutoff
      || !kankyo_history_block_decode (sqlite3_column_blob (stmt, 3), sqlite3_column_bytes (stmt, 3),
                                       self->w_samples, NULL))
    {
      /* Nothing old in it, or damaged: reads report it, retention leaves it
       * until it is wholly older than the cut-off. */
      sqlite3_reset (stmt);
      return TRUE;
    }
  sqlite3_reset (stmt);

  for (keep = 0; keep < self->w_samples->len; keep++)
    if (g_array_index (self->w_samples, KankyoHistorianSample, keep).time >= cutoff)
      break;
  g_array_remove_range (self->w_samples, 0, keep);
  if (self->w_samples->len == 0)
    return TRUE;
  data = kankyo_history_block_encode ((KankyoHistorianSample *) self->w_samples->data, self->w_samples->len,
                                      &len);
  if ((stmt = wstmt (self, W_UPDATE_RAW, error)) == NULL)
    {
      g_free (data);
      return FALSE;
    }
  sqlite3_bind_int64 (stmt, 1, id);
  sqlite3_bind_int64 (stmt, 2, g_array_index (self->w_samples, KankyoHistorianSample, 0).time);
  sqlite3_bind_int64 (stmt, 3, self->w_samples->len);
  sqlite3_bind_blob64 (stmt, 4, data, len, g_free);
  if (!step_done (self, stmt, _ ("remove old samples"), error))
    return FALSE;
  *removed += MAX (n - (gint64) self->w_samples->len, 0);
  return TRUE;
}

static gboolean
trim_pack (KankyoHistorian *self, guint tag, guint level, gint64 keep_from, GError **error)
{
  const Level *lv = &levels[level];
  gint64 start = floor_div (keep_from, lv->pack) * lv->pack;
  sqlite3_stmt *stmt;
  guint keep;
  int rc;

  if (start == keep_from)
    return TRUE;
  if ((stmt = wstmt (self, W_SELECT_PACK, error)) == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, tag);
  sqlite3_bind_int (stmt, 2, level);
  sqlite3_bind_int64 (stmt, 3, start);
  g_array_set_size (self->w_rollups, 0);
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW
      || !kankyo_history_rollups_decode (sqlite3_column_blob (stmt, 0), sqlite3_column_bytes (stmt, 0),
                                         lv->width, self->w_rollups, NULL))
    {
      sqlite3_reset (stmt);
      if (rc == SQLITE_ROW || rc == SQLITE_DONE)
        return TRUE;
      set_db_error (error, KANKYO_HISTORIAN_ERROR_WRITE, self->path, self->db, _ ("remove old rollups"));
      return FALSE;
    }
  sqlite3_reset (stmt);

  for (keep = 0; keep < self->w_rollups->len; keep++)
    if (g_array_index (self->w_rollups, KankyoHistoryRollup, keep).bucket >= keep_from)
      break;
  if (keep == 0)
    return TRUE;
  g_array_remove_range (self->w_rollups, 0, keep);
  return put_pack (self, tag, level, start, _ ("remove old rollups"), error);
}

/* Removes at most RETENTION_STEP_ROWS rows of each kind of one tag that
 * its class no longer keeps; *ret_done when nothing old is left. Runs in
 * the caller's transaction. */
static gboolean
retention_step (
    KankyoHistorian *self, guint tag, gint64 now, guint64 *removed, gboolean *ret_done, GError **error)
{
  TagInfo *info = g_ptr_array_index (self->tags, tag);
  KankyoHistorianRetention *r = g_hash_table_lookup (self->retentions, info->tag_class);
  int changes_before = sqlite3_total_changes (self->db);
  gboolean done = TRUE;

  if (r != NULL && r->raw_us > 0 && now - r->raw_us > 0)
    {
      gint64 cutoff = now - r->raw_us;
      sqlite3_stmt *stmt = wstmt (self, W_RET_DELETE_RAW, error);
      guint rows = 0;
      int rc;

      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, tag);
      sqlite3_bind_int64 (stmt, 2, cutoff);
      sqlite3_bind_int (stmt, 3, RETENTION_STEP_ROWS);
      while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
        {
          *removed += MAX (sqlite3_column_int64 (stmt, 0), 0);
          rows++;
        }
      sqlite3_reset (stmt);
      if (rc != SQLITE_DONE)
        {
          set_db_error (error, KANKYO_HISTORIAN_ERROR_WRITE, self->path, self->db, _ ("remove old samples"));
          return FALSE;
        }
      if (rows == RETENTION_STEP_ROWS)
        done = FALSE;
      else if (!trim_raw (self, tag, cutoff, removed, error))
        return FALSE;
    }

  for (guint level = 0; r != NULL && level < N_LEVELS; level++)
    {
      gint64 keep_us = level == LEVEL_MINUTE ? r->minute_us : r->hour_us;
      const Level *lv = &levels[level];
      gint64 keep_from;
      sqlite3_stmt *stmt;

      if (keep_us <= 0 || now - keep_us <= 0)
        continue;
      /* Buckets that end at or before the cut-off go. */
      keep_from = (now - keep_us) / lv->width;
      if ((stmt = wstmt (self, W_RET_DELETE_PACKS, error)) == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, tag);
      sqlite3_bind_int (stmt, 2, level);
      sqlite3_bind_int64 (stmt, 3, keep_from - lv->pack);
      sqlite3_bind_int (stmt, 4, RETENTION_STEP_ROWS);
      if (!step_done (self, stmt, _ ("remove old rollups"), error))
        return FALSE;
      if (sqlite3_changes (self->db) == RETENTION_STEP_ROWS)
        {
          done = FALSE;
          continue;
        }
      if (!trim_pack (self, tag, level, keep_from, error))
        return FALSE;
      if ((stmt = wstmt (self, W_RET_DELETE_RECENT, error)) == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, tag);
      sqlite3_bind_int (stmt, 2, level);
      sqlite3_bind_int64 (stmt, 3, keep_from);
      if (!step_done (self, stmt, _ ("remove old rollups"), error))
        return FALSE;
    }

  if (sqlite3_total_changes (self->db) != changes_before && tag < self->states->len
      && g_ptr_array_index (self->states, tag) != NULL)
    ((TagState *) g_ptr_array_index (self->states, tag))->loaded = FALSE;
  *ret_done = done;
  return TRUE;
}

/* One transaction of retention for one tag; db_lock held. */
static gboolean
retention_transaction (
    KankyoHistorian *self, guint tag, gint64 now, guint64 *removed, gboolean *ret_done, GError **error)
{
  if (!exec_sql (self, "BEGIN IMMEDIATE", KANKYO_HISTORIAN_ERROR_WRITE, _ ("start a transaction"), error))
    return FALSE;
  if (!retention_step (self, tag, now, removed, ret_done, error)
      || !exec_sql (self, "COMMIT", KANKYO_HISTORIAN_ERROR_WRITE, _ ("commit the removal of old data"),
                    error))
    {
      rollback (self);
      forget_states (self);
      return FALSE;
    }
  return TRUE;
}

/* A small step of the background pass, on the writer thread. */
static void
background_retention (KankyoHistorian *self)
{
  g_autoptr (GError) error = NULL;
  guint64 removed = 0;
  gboolean done = TRUE;

  g_mutex_lock (&self->db_lock);
  if (!self->retention_active)
    {
      self->next_retention = g_get_monotonic_time () + RETENTION_PERIOD_US;
      self->retention_active = any_retention (self);
      self->retention_cursor = 1;
    }
  if (self->retention_active && self->retention_cursor >= self->tags->len)
    self->retention_active = FALSE;
  if (!self->retention_active)
    {
      g_mutex_unlock (&self->db_lock);
      return;
    }
  if (!retention_transaction (self, self->retention_cursor, g_get_real_time (), &removed, &done, &error))
    {
      note_problem (self, error->message);
      done = TRUE;
    }
  if (done)
    self->retention_cursor++;
  g_mutex_unlock (&self->db_lock);
}

/* ---- the writer thread ---- */

static void
finish_batch (
    KankyoHistorian *self, guint n, gboolean ok, guint64 stored, guint64 rejected, const GError *error)
{
  KankyoHistorianCommitFunc func = NULL;
  gpointer func_data = NULL;
  guint64 committed;

  g_mutex_lock (&self->q_lock);
  self->done += n;
  if (ok)
    {
      self->stats.samples_stored += stored;
      self->stats.rejected += rejected;
      self->stats.batches++;
      self->stats.last_commit_us = g_get_monotonic_time ();
      self->stats.samples_committed = self->done;
      func = self->commit_func;
      func_data = self->commit_data;
    }
  else
    {
      self->failures++;
      g_free (self->stats.last_error);
      self->stats.last_error = g_strdup (error->message);
    }
  committed = self->stats.samples_committed;
  g_cond_broadcast (&self->done_cond);
  g_mutex_unlock (&self->q_lock);

  if (func != NULL)
    func (self, committed, func_data);
}

static gpointer
writer_main (gpointer data)
{
  KankyoHistorian *self = data;
  GArray *work = g_array_new (FALSE, FALSE, sizeof (Item));

  g_mutex_lock (&self->q_lock);
  for (;;)
    {
      gint64 now = g_get_monotonic_time ();
      GArray *taken;

      if (self->retention_now)
        {
          self->retention_now = FALSE;
          self->next_retention = now;
        }
      if (self->queue->len == 0)
        {
          if (self->stopping)
            break;
          if (self->retention_active || now >= self->next_retention)
            {
              g_mutex_unlock (&self->q_lock);
              background_retention (self);
              g_mutex_lock (&self->q_lock);
            }
          else
            g_cond_wait_until (&self->q_cond, &self->q_lock, self->next_retention);
          continue;
        }
      if (!self->stopping && self->flush_to <= self->done && self->queue->len < BATCH_MAX
          && now < self->queue_since + COMMIT_INTERVAL_US)
        {
          g_cond_wait_until (&self->q_cond, &self->q_lock, self->queue_since + COMMIT_INTERVAL_US);
          continue;
        }

      taken = self->queue;
      self->queue = work;
      work = taken;
      g_mutex_unlock (&self->q_lock);

      for (guint off = 0; off < work->len;)
        {
          g_autoptr (GError) error = NULL;
          guint n = MIN (work->len - off, BATCH_MAX);
          guint64 stored = 0, rejected = 0;
          gboolean ok = run_batch (self, &g_array_index (work, Item, off), n, &stored, &rejected, &error);

          finish_batch (self, n, ok, stored, rejected, error);
          off += n;
        }
      g_array_set_size (work, 0);
      if (self->retention_active || g_get_monotonic_time () >= self->next_retention)
        background_retention (self);
      g_mutex_lock (&self->q_lock);
    }
  g_mutex_unlock (&self->q_lock);
  g_array_unref (work);
  return NULL;
}

/* ---- opening and closing ---- */

static const char schema_sql[] = "CREATE TABLE tags ("
                                 "  id INTEGER PRIMARY KEY,"
                                 "  name TEXT NOT NULL UNIQUE,"
                                 "  unit TEXT,"
                                 "  deadband REAL NOT NULL,"
                                 "  heartbeat_us INTEGER NOT NULL,"
                                 "  class TEXT NOT NULL);"
                                 "CREATE TABLE classes ("
                                 "  name TEXT PRIMARY KEY,"
                                 "  raw_us INTEGER NOT NULL,"
                                 "  minute_us INTEGER NOT NULL,"
                                 "  hour_us INTEGER NOT NULL);"
                                 "INSERT INTO classes VALUES ('default', 0, 0, 0);"
                                 /* tier: 0 to 2 unsealed, 9 sealed; t0 and t1 are the first and last
       * sample's time, n the number of samples in data. */
                                 "CREATE TABLE raw ("
                                 "  id INTEGER PRIMARY KEY,"
                                 "  tag INTEGER NOT NULL,"
                                 "  t0 INTEGER NOT NULL,"
                                 "  t1 INTEGER NOT NULL,"
                                 "  n INTEGER NOT NULL,"
                                 "  tier INTEGER NOT NULL,"
                                 "  data BLOB NOT NULL);"
                                 "CREATE UNIQUE INDEX raw_by_tag ON raw (tag, t1, t0);"
                                 /* level: 0 minute, 1 hour; start is the pack's first bucket. */
                                 "CREATE TABLE rollup ("
                                 "  tag INTEGER NOT NULL,"
                                 "  level INTEGER NOT NULL,"
                                 "  start INTEGER NOT NULL,"
                                 "  data BLOB NOT NULL,"
                                 "  PRIMARY KEY (tag, level, start));"
                                 "CREATE TABLE rollup_recent ("
                                 "  tag INTEGER NOT NULL,"
                                 "  level INTEGER NOT NULL,"
                                 "  bucket INTEGER NOT NULL,"
                                 "  data BLOB NOT NULL,"
                                 "  PRIMARY KEY (tag, level, bucket)) WITHOUT ROWID;"
                                 "PRAGMA application_id = 1263422280;"
                                 "PRAGMA user_version = 1;";

G_STATIC_ASSERT (APPLICATION_ID == 1263422280);

static gboolean
create_or_check_schema (KankyoHistorian *self, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  gint64 version, app_id, n_objects;

  if (!exec_sql (self, "BEGIN IMMEDIATE", KANKYO_HISTORIAN_ERROR_OPEN,
                 _ ("start a transaction to check the schema"), error))
    return FALSE;
  if (sqlite3_prepare_v2 (self->db,
                          "SELECT (SELECT user_version FROM pragma_user_version),"
                          " (SELECT application_id FROM pragma_application_id),"
                          " (SELECT count(*) FROM sqlite_master)",
                          -1, &stmt, NULL)
          != SQLITE_OK
      || sqlite3_step (stmt) != SQLITE_ROW)
    {
      set_db_error (error, KANKYO_HISTORIAN_ERROR_OPEN, self->path, self->db, _ ("read the schema version"));
      rollback (self);
      return FALSE;
    }
  version = sqlite3_column_int64 (stmt, 0);
  app_id = sqlite3_column_int64 (stmt, 1);
  n_objects = sqlite3_column_int64 (stmt, 2);
  g_clear_pointer (&stmt, sqlite3_finalize);

  if (version == 0 && app_id == 0 && n_objects == 0)
    {
      if (!exec_sql (self, schema_sql, KANKYO_HISTORIAN_ERROR_OPEN, _ ("create the history tables"), error))
        {
          rollback (self);
          return FALSE;
        }
    }
  else if (app_id != APPLICATION_ID)
    {
      rollback (self);
      g_set_error (error, KANKYO_HISTORIAN_ERROR, KANKYO_HISTORIAN_ERROR_OPEN,
                   _ ("History file %s: the file is an SQLite database but not a Kankyo history"),
                   self->path);
      return FALSE;
    }
  else if (version != SCHEMA_VERSION)
    {
      g_autofree char *version_text = g_strdup_printf ("%" G_GINT64_FORMAT, version);

      rollback (self);
      g_set_error (error, KANKYO_HISTORIAN_ERROR, KANKYO_HISTORIAN_ERROR_OPEN,
                   _ ("History file %s: schema version %s is not supported (this Kankyo reads version %d)"),
                   self->path, version_text, SCHEMA_VERSION);
      return FALSE;
    }
  return exec_sql (self, "COMMIT", KANKYO_HISTORIAN_ERROR_OPEN, _ ("commit the schema"), error);
}

static gboolean
load_registry (KankyoHistorian *self, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  int rc;

  if (sqlite3_prepare_v2 (self->db,
                          "SELECT id, name, unit, deadband, heartbeat_us, class FROM tags ORDER BY id", -1,
                          &stmt, NULL)
      != SQLITE_OK)
    {
      set_db_error (error, KANKYO_HISTORIAN_ERROR_OPEN, self->path, self->db, _ ("read the tag list"));
      return FALSE;
    }
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 id = sqlite3_column_int64 (stmt, 0);
      const char *name = (const char *) sqlite3_column_text (stmt, 1);
      const char *unit = (const char *) sqlite3_column_text (stmt, 2);
      const char *tag_class = (const char *) sqlite3_column_text (stmt, 5);
      double deadband = sqlite3_column_double (stmt, 3);
      gint64 heartbeat = sqlite3_column_int64 (stmt, 4);
      TagInfo *info;

      /* Ids are dense from 1 since tags are never removed. */
      if (id != (gint64) self->tags->len || id > KANKYO_HISTORIAN_TAGS_MAX
          || !valid_text (name, KANKYO_HISTORIAN_NAME_MAX)
          || !valid_text (tag_class, KANKYO_HISTORIAN_UNIT_MAX) || !(deadband >= 0 && isfinite (deadband))
          || heartbeat < 0)
        {
          g_set_error (
              error, KANKYO_HISTORIAN_ERROR, KANKYO_HISTORIAN_ERROR_OPEN,
              _ ("History file %s: the tag list is damaged (expected tags numbered from 1 with valid "
                 "names and policies)"),
              self->path);
          return FALSE;
        }
      info = g_new0 (TagInfo, 1);
      info->id = (guint) id;
      info->name = g_strdup (name);
      info->unit = unit != NULL ? g_strdup (unit) : NULL;
      info->deadband = deadband;
      info->heartbeat = heartbeat;
      info->tag_class = g_strdup (tag_class);
      g_ptr_array_add (self->tags, info);
      g_hash_table_insert (self->by_name, info->name, info);
    }
  if (rc != SQLITE_DONE)
    {
      set_db_error (error, KANKYO_HISTORIAN_ERROR_OPEN, self->path, self->db, _ ("read the tag list"));
      return FALSE;
    }
  g_clear_pointer (&stmt, sqlite3_finalize);

  if (sqlite3_prepare_v2 (self->db, "SELECT name, raw_us, minute_us, hour_us FROM classes", -1, &stmt, NULL)
      != SQLITE_OK)
    {
      set_db_error (error, KANKYO_HISTORIAN_ERROR_OPEN, self->path, self->db,
                    _ ("read the retention classes"));
      return FALSE;
    }
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      KankyoHistorianRetention *r = g_new0 (KankyoHistorianRetention, 1);

      r->raw_us = MAX (sqlite3_column_int64 (stmt, 1), 0);
      r->minute_us = MAX (sqlite3_column_int64 (stmt, 2), 0);
      r->hour_us = MAX (sqlite3_column_int64 (stmt, 3), 0);
      g_hash_table_insert (self->retentions, g_strdup ((const char *) sqlite3_column_text (stmt, 0)), r);
    }
  if (rc != SQLITE_DONE)
    {
      set_db_error (error, KANKYO_HISTORIAN_ERROR_OPEN, self->path, self->db,
                    _ ("read the retention classes"));
      return FALSE;
    }
  g_atomic_int_set (&self->n_tags, (gint) self->tags->len - 1);
  return TRUE;
}

static void read_conn_free (ReadConn *conn);

static void
historian_free (KankyoHistorian *self)
{
  if (self->pool != NULL)
    g_ptr_array_unref (self->pool);
  for (guint i = 0; i < N_WRITER_STMTS; i++)
    g_clear_pointer (&self->wstmts[i], sqlite3_finalize);
  if (self->db != NULL)
    sqlite3_close (self->db);
  if (self->lock_fd >= 0)
    close (self->lock_fd);
  g_clear_pointer (&self->states, g_ptr_array_unref);
  g_clear_pointer (&self->touched, g_array_unref);
  g_clear_pointer (&self->w_samples, g_array_unref);
  g_clear_pointer (&self->w_rollups, g_array_unref);
  g_clear_pointer (&self->w_rollups2, g_array_unref);
  g_clear_pointer (&self->by_name, g_hash_table_unref);
  g_clear_pointer (&self->tags, g_ptr_array_unref);
  g_clear_pointer (&self->retentions, g_hash_table_unref);
  g_clear_pointer (&self->queue, g_array_unref);
  g_free (self->stats.last_error);
  g_mutex_clear (&self->db_lock);
  g_mutex_clear (&self->tags_lock);
  g_mutex_clear (&self->q_lock);
  g_mutex_clear (&self->pool_lock);
  g_cond_clear (&self->q_cond);
  g_cond_clear (&self->done_cond);
  g_free (self->path);
  g_free (self);
}

static KankyoHistorian *
historian_new (const char *path)
{
  KankyoHistorian *self = g_new0 (KankyoHistorian, 1);

  self->path = g_strdup (path);
  self->lock_fd = -1;
  g_mutex_init (&self->db_lock);
  g_mutex_init (&self->tags_lock);
  g_mutex_init (&self->q_lock);
  g_mutex_init (&self->pool_lock);
  g_cond_init (&self->q_cond);
  g_cond_init (&self->done_cond);
  self->states = g_ptr_array_new_with_free_func ((GDestroyNotify) tag_state_free);
  self->touched = g_array_new (FALSE, FALSE, sizeof (guint));
  self->w_samples = g_array_new (FALSE, FALSE, sizeof (KankyoHistorianSample));
  self->w_rollups = g_array_new (FALSE, FALSE, sizeof (KankyoHistoryRollup));
  self->w_rollups2 = g_array_new (FALSE, FALSE, sizeof (KankyoHistoryRollup));
  self->tags = g_ptr_array_new_with_free_func ((GDestroyNotify) tag_info_free);
  g_ptr_array_add (self->tags, NULL);
  self->by_name = g_hash_table_new (g_str_hash, g_str_equal);
  self->retentions = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->queue = g_array_new (FALSE, FALSE, sizeof (Item));
  self->pool = g_ptr_array_new_with_free_func ((GDestroyNotify) read_conn_free);
  return self;
}

/* For exports and reports while the plant runs and its historian writes:
 * the same reads, from a connection that never writes (WAL lets it read
 * every committed batch), and no writer thread. Whatever writes fails. */
KankyoHistorian *
kankyo_historian_open_readonly (const char *path, GError **error)
{
  KankyoHistorian *self;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, KANKYO_HISTORIAN_ERROR, KANKYO_HISTORIAN_ERROR_OPEN,
                   _ ("History file %s: there is no such file"), path);
      return NULL;
    }
  self = historian_new (path);
  self->readonly = TRUE;
  if (sqlite3_open_v2 (path, &self->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
    {
      if (self->db == NULL)
        g_set_error (error, KANKYO_HISTORIAN_ERROR, KANKYO_HISTORIAN_ERROR_OPEN,
                     _ ("History file %s: cannot open it: out of memory"), path);
      else
        set_db_error (error, KANKYO_HISTORIAN_ERROR_OPEN, path, self->db, _ ("open it for reading"));
      historian_free (self);
      return NULL;
    }
  sqlite3_busy_timeout (self->db, BUSY_TIMEOUT_MS);
  sqlite3_extended_result_codes (self->db, 1);
  if (!load_registry (self, error))
    {
      historian_free (self);
      return NULL;
    }
  return self;
}

KankyoHistorian *
kankyo_historian_open (const char *path, GError **error)
{
  KankyoHistorian *self;
  g_autoptr (sqlite3_stmt) stmt = NULL;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = historian_new (path);
  if (sqlite3_open_v2 (path, &self->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                       NULL)
      != SQLITE_OK)
    {
      if (self->db == NULL)
        g_set_error (error, KANKYO_HISTORIAN_ERROR, KANKYO_HISTORIAN_ERROR_OPEN,
                     _ ("History file %s: cannot open it: out of memory"), path);
      else
        set_db_error (error, KANKYO_HISTORIAN_ERROR_OPEN, path, self->db, _ ("open or create it"));
      historian_free (self);
      return NULL;
    }
  sqlite3_busy_timeout (self->db, BUSY_TIMEOUT_MS);
  sqlite3_extended_result_codes (self->db, 1);

  /* journal_mode answers with the mode in force: anything but "wal" means
   * the file could not be switched (e.g. a read-only directory). */
  if (sqlite3_prepare_v2 (self->db, "PRAGMA journal_mode = WAL", -1, &stmt, NULL) != SQLITE_OK
      || sqlite3_step (stmt) != SQLITE_ROW)
    {
      set_db_error (error, KANKYO_HISTORIAN_ERROR_OPEN, path, self->db,
                    _ ("switch it to write-ahead logging"));
      g_clear_pointer (&stmt, sqlite3_finalize);
      historian_free (self);
      return NULL;
    }
  if (g_strcmp0 ((const char *) sqlite3_column_text (stmt, 0), "wal") != 0)
    {
      g_set_error (error, KANKYO_HISTORIAN_ERROR, KANKYO_HISTORIAN_ERROR_OPEN,
                   _ ("History file %s: cannot switch it to write-ahead logging (journal mode stays %s)"),
                   path, (const char *) sqlite3_column_text (stmt, 0));
      g_clear_pointer (&stmt, sqlite3_finalize);
      historian_free (self);
      return NULL;
    }
  g_clear_pointer (&stmt, sqlite3_finalize);

  if (!exec_sql (self,
                 "PRAGMA synchronous = NORMAL;"
                 "PRAGMA cache_size = -16384;"
                 "PRAGMA temp_store = MEMORY;"
                 "PRAGMA journal_size_limit = 67108864;",
                 KANKYO_HISTORIAN_ERROR_OPEN, _ ("set its durability"), error)
      || !create_or_check_schema (self, error))
    {
      historian_free (self);
      return NULL;
    }

  /* SQLite's own locks are fcntl() locks and cannot say "someone else is
   * writing here"; a flock() on a descriptor kept open until close() can,
   * and the kernel drops it when the process dies. */
  self->lock_fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
  if (self->lock_fd < 0 || flock (self->lock_fd, LOCK_EX | LOCK_NB) != 0)
    {
      int saved_errno = errno;

      if (saved_errno == EWOULDBLOCK)
        g_set_error (error, KANKYO_HISTORIAN_ERROR, KANKYO_HISTORIAN_ERROR_OPEN,
                     _ ("History file %s: another historian is writing to it"), path);
      else
        g_set_error (error, KANKYO_HISTORIAN_ERROR, KANKYO_HISTORIAN_ERROR_OPEN,
                     _ ("History file %s: cannot lock it: %s"), path, g_strerror (saved_errno));
      historian_free (self);
      return NULL;
    }

  if (!load_registry (self, error))
    {
      historian_free (self);
      return NULL;
    }

  self->next_retention = g_get_monotonic_time ();
  self->writer = g_thread_new ("kankyo-historian", writer_main, self);
  return self;
}

/* Seals every tag's unsealed rows and folds its recent rollups into packs,
 * so a closed file holds only full-size rows. */
static gboolean
compact_all (KankyoHistorian *self, GError **error)
{
  if (!exec_sql (self, "BEGIN IMMEDIATE", KANKYO_HISTORIAN_ERROR_WRITE, _ ("start a transaction"), error))
    return FALSE;
  for (guint tag = 1; tag < self->tags->len; tag++)
    {
      TagState *st = get_state (self, tag, error);

      if (st == NULL || (st->n_pending > 0 && !seal (self, tag, st, NULL, 0, error)))
        goto fail;
      for (guint level = 0; level < N_LEVELS; level++)
        {
          LevelState *ls = &st->lv[level];

          if (ls->n_recent == 0)
            continue;
          if (!flush_pack (self, tag, level, ls->recent_pack, error))
            goto fail;
          ls->n_recent = 0;
          ls->recent_max = -1;
        }
    }
  if (!exec_sql (self, "COMMIT", KANKYO_HISTORIAN_ERROR_WRITE, _ ("commit the compaction"), error))
    goto fail;
  return TRUE;

fail:
  rollback (self);
  forget_states (self);
  return FALSE;
}

void
kankyo_historian_close (KankyoHistorian *self)
{
  g_autoptr (GError) error = NULL;

  if (self == NULL)
    return;
  if (self->readonly)
    {
      historian_free (self);
      return;
    }

  g_mutex_lock (&self->q_lock);
  self->stopping = TRUE;
  g_cond_signal (&self->q_cond);
  g_mutex_unlock (&self->q_lock);
  g_thread_join (self->writer);

  g_mutex_lock (&self->db_lock);
  /* The rows stay readable unsealed, so a failure here loses nothing. */
  if (!compact_all (self, &error))
    g_warning ("%s", error->message);
  g_mutex_unlock (&self->db_lock);

  /* Readers first, so that the writer connection is the last and
   * checkpoints the log into the file. */
  g_ptr_array_set_size (self->pool, 0);
  historian_free (self);
}

const char *
kankyo_historian_get_path (KankyoHistorian *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->path;
}

/* ---- tags and classes ---- */

guint
kankyo_historian_add_tag (KankyoHistorian *self,
                          const char *name,
                          const char *unit,
                          const KankyoHistorianPolicy *policy,
                          GError **error)
{
  static const KankyoHistorianPolicy default_policy = { 0, 0, NULL };
  g_autoptr (sqlite3_stmt) stmt = NULL;
  const char *tag_class;
  TagInfo *info;
  guint id = 0;

  g_return_val_if_fail (self != NULL, 0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0);

  if (self->readonly)
    {
      g_set_error (error, KANKYO_HISTORIAN_ERROR, KANKYO_HISTORIAN_ERROR_INVALID,
                   _ ("History file %s: it is open for reading only"), self->path);
      return 0;
    }

  if (policy == NULL)
    policy = &default_policy;
  tag_class = policy->tag_class != NULL ? policy->tag_class : "default";
  if (!valid_text (name, KANKYO_HISTORIAN_NAME_MAX))
    {
      g_set_error (error, KANKYO_HISTORIAN_ERROR, KANKYO_HISTORIAN_ERROR_INVALID,
                   _ ("History file %s: a tag name must be UTF-8 text of 1 to %d bytes"), self->path,
                   KANKYO_HISTORIAN_NAME_MAX);
      return 0;
    }
  if ((unit != NULL && (!g_utf8_validate (unit, -1, NULL) || strlen (unit) > KANKYO_HISTORIAN_UNIT_MAX))
      || !valid_text (tag_class, KANKYO_HISTORIAN_UNIT_MAX))
    {
      g_set_error (
          error, KANKYO_HISTORIAN_ERROR, KANKYO_HISTORIAN_ERROR_INVALID,
          _ ("History file %s: tag %s: the unit and the retention class must be UTF-8 text of at most "
             "%d bytes"),
          self->path, name, KANKYO_HISTORIAN_UNIT_MAX);
      return 0;
    }
  if (!(policy->deadband >= 0 && isfinite (policy->deadband)) || policy->heartbeat_us < 0)
    {
      g_set_error (error, KANKYO_HISTORIAN_ERROR, KANKYO_HISTORIAN_ERROR_INVALID,
                   _ ("History file %s: tag %s: the deadband must be a finite number of at least 0 and the "
                      "heartbeat at least 0"),
                   self->path, name);
      return 0;
    }

  g_mutex_lock (&self->db_lock);
  info = g_hash_table_lookup (self->by_name, name);
  if (info == NULL && self->tags->len > KANKYO_HISTORIAN_TAGS_MAX)
    {
      g_set_error (error, KANKYO_HISTORIAN_ERROR, KANKYO_HISTORIAN_ERROR_INVALID,
                   _ ("History file %s: tag %s: the history already records the most tags it can (%d)"),
                   self->path, name, KANKYO_HISTORIAN_TAGS_MAX);
      goto out;
    }
  if (info != NULL && g_strcmp0 (info->unit, unit) == 0 && info->deadband == policy->deadband
      && info->heartbeat == policy->heartbeat_us && strcmp (info->tag_class, tag_class) == 0)
    {
      id = info->id;
      goto out;
    }

  if (sqlite3_prepare_v2 (self->db,
                          info == NULL
                              ? "INSERT INTO tags (id, name, unit, deadband, heartbeat_us, class)"
                                " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
                              : "UPDATE tags SET name = ?2, unit = ?3, deadband = ?4, heartbeat_us = ?5,"
                                " class = ?6 WHERE id = ?1",
                          -1, &stmt, NULL)
      != SQLITE_OK)
    {
      set_db_error (error, KANKYO_HISTORIAN_ERROR_WRITE, self->path, self->db, _ ("record a tag"));
      goto out;
    }
  sqlite3_bind_int64 (stmt, 1, info != NULL ? info->id : self->tags->len);
  sqlite3_bind_text (stmt, 2, name, -1, SQLITE_STATIC);
  if (unit != NULL)
    sqlite3_bind_text (stmt, 3, unit, -1, SQLITE_STATIC);
  sqlite3_bind_double (stmt, 4, policy->deadband);
  sqlite3_bind_int64 (stmt, 5, policy->heartbeat_us);
  sqlite3_bind_text (stmt, 6, tag_class, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    {
      set_db_error (error, KANKYO_HISTORIAN_ERROR_WRITE, self->path, self->db, _ ("record a tag"));
      goto out;
    }

  g_mutex_lock (&self->tags_lock);
  if (info == NULL)
    {
      info = g_new0 (TagInfo, 1);
      info->id = self->tags->len;
      info->name = g_strdup (name);
      g_ptr_array_add (self->tags, info);
      g_hash_table_insert (self->by_name, info->name, info);
    }
  g_free (info->unit);
  info->unit = g_strdup (unit);
  info->deadband = policy->deadband;
  info->heartbeat = policy->heartbeat_us;
  g_free (info->tag_class);
  info->tag_class = g_strdup (tag_class);
  g_atomic_int_set (&self->n_tags, (gint) self->tags->len - 1);
  g_mutex_unlock (&self->tags_lock);
  id = info->id;

out:
  g_mutex_unlock (&self->db_lock);
  return id;
}

gboolean
kankyo_historian_set_retention (KankyoHistorian *self,
                                const char *tag_class,
                                const KankyoHistorianRetention *retention,
                                GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  KankyoHistorianRetention *copy;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (retention != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->readonly)
    {
      g_set_error (error, KANKYO_HISTORIAN_ERROR, KANKYO_HISTORIAN_ERROR_INVALID,
                   _ ("History file %s: it is open for reading only"), self->path);
      return FALSE;
    }

  if (!valid_text (tag_class, KANKYO_HISTORIAN_UNIT_MAX))
    {
      g_set_error (error, KANKYO_HISTORIAN_ERROR, KANKYO_HISTORIAN_ERROR_INVALID,
                   _ ("History file %s: a retention class name must be UTF-8 text of 1 to %d bytes"),
                   self->path, KANKYO_HISTORIAN_UNIT_MAX);
      return FALSE;
    }
  if (retention->raw_us < 0 || retention->minute_us < 0 || retention->hour_us < 0)
    {
      g_set_error (error, KANKYO_HISTORIAN_ERROR, KANKYO_HISTORIAN_ERROR_INVALID,
                   _ ("History file %s: retention class %s: a retention time must be 0 (for ever) or more"),
                   self->path, tag_class);
      return FALSE;
    }

  g_mutex_lock (&self->db_lock);
  if (sqlite3_prepare_v2 (self->db, "INSERT OR REPLACE INTO classes VALUES (?1, ?2, ?3, ?4)", -1, &stmt, NULL)
          != SQLITE_OK
      || sqlite3_bind_text (stmt, 1, tag_class, -1, SQLITE_STATIC) != SQLITE_OK
      || sqlite3_bind_int64 (stmt, 2, retention->raw_us) != SQLITE_OK
      || sqlite3_bind_int64 (stmt, 3, retention->minute_us) != SQLITE_OK
      || sqlite3_bind_int64 (stmt, 4, retention->hour_us) != SQLITE_OK || sqlite3_step (stmt) != SQLITE_DONE)
    {
      set_db_error (error, KANKYO_HISTORIAN_ERROR_WRITE, self->path, self->db,
                    _ ("record a retention class"));
      g_mutex_unlock (&self->db_lock);
      return FALSE;
    }
  copy = g_memdup2 (retention, sizeof *retention);
  g_mutex_lock (&self->tags_lock);
  g_hash_table_insert (self->retentions, g_strdup (tag_class), copy);
  g_mutex_unlock (&self->tags_lock);
  g_mutex_unlock (&self->db_lock);

  g_mutex_lock (&self->q_lock);
  self->retention_now = TRUE;
  g_cond_signal (&self->q_cond);
  g_mutex_unlock (&self->q_lock);
  return TRUE;
}

guint
kankyo_historian_lookup (KankyoHistorian *self, const char *name)
{
  TagInfo *info;
  guint id;

  g_return_val_if_fail (self != NULL, 0);
  if (name == NULL)
    return 0;
  g_mutex_lock (&self->tags_lock);
  info = g_hash_table_lookup (self->by_name, name);
  id = info != NULL ? info->id : 0;
  g_mutex_unlock (&self->tags_lock);
  return id;
}

static int
compare_names (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

char **
kankyo_historian_list_tags (KankyoHistorian *self)
{
  GStrvBuilder *builder = g_strv_builder_new ();
  char **names;

  g_return_val_if_fail (self != NULL, NULL);
  g_mutex_lock (&self->tags_lock);
  for (guint i = 1; i < self->tags->len; i++)
    g_strv_builder_add (builder, ((TagInfo *) g_ptr_array_index (self->tags, i))->name);
  g_mutex_unlock (&self->tags_lock);
  names = g_strv_builder_end (builder);
  g_strv_builder_unref (builder);
  qsort (names, g_strv_length (names), sizeof (char *), compare_names);
  return names;
}

char *
kankyo_historian_get_unit (KankyoHistorian *self, guint tag_id)
{
  char *unit = NULL;

  g_return_val_if_fail (self != NULL, NULL);
  g_mutex_lock (&self->tags_lock);
  if (tag_id > 0 && tag_id < self->tags->len)
    unit = g_strdup (((TagInfo *) g_ptr_array_index (self->tags, tag_id))->unit);
  g_mutex_unlock (&self->tags_lock);
  return unit;
}

/* ---- ingest ---- */

gboolean
kankyo_historian_append_double (
    KankyoHistorian *self, guint tag_id, gint64 time, double value, KankyoQuality quality)
{
  Item item;
  gboolean ok = TRUE;

  g_return_val_if_fail (self != NULL, FALSE);
  if (self->readonly)
    return FALSE;

  if ((guint) quality > KANKYO_QUALITY_BAD_SENSOR_FAILURE)
    quality = KANKYO_QUALITY_BAD_SENSOR_FAILURE;
  if (!kankyo_quality_is_bad (quality) && !isfinite (value))
    quality = KANKYO_QUALITY_BAD_SENSOR_FAILURE;
  item.time = time;
  item.value = value;
  item.tag = tag_id;
  item.quality = quality;

  g_mutex_lock (&self->q_lock);
  self->stats.samples_received++;
  if (tag_id == 0 || tag_id > (guint) g_atomic_int_get (&self->n_tags) || time < 0
      || time > KANKYO_HISTORY_TIME_MAX)
    {
      self->stats.rejected++;
      ok = FALSE;
    }
  else if (self->queue->len >= KANKYO_HISTORIAN_QUEUE_MAX)
    {
      self->stats.dropped++;
      ok = FALSE;
    }
  else
    {
      g_array_append_val (self->queue, item);
      self->accepted++;
      /* Waking the writer costs a system call, so only when it matters:
       * the first sample starts the batch's clock, a full batch ends it. */
      if (self->queue->len == 1)
        {
          self->queue_since = g_get_monotonic_time ();
          g_cond_signal (&self->q_cond);
        }
      else if (self->queue->len == BATCH_MAX)
        g_cond_signal (&self->q_cond);
    }
  g_mutex_unlock (&self->q_lock);
  return ok;
}

gboolean
kankyo_historian_append (
    KankyoHistorian *self, guint tag_id, gint64 time, const KankyoValue *value, KankyoQuality quality)
{
  g_return_val_if_fail (self != NULL, FALSE);

  if (value != NULL && value->type == KANKYO_VALUE_STRING)
    return TRUE;
  return kankyo_historian_append_double (self, tag_id, time,
                                         value != NULL ? kankyo_value_to_double (value) : NAN, quality);
}

gboolean
kankyo_historian_flush (KankyoHistorian *self, GError **error)
{
  guint64 target, failures;
  gboolean ok;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->readonly)
    {
      g_set_error (error, KANKYO_HISTORIAN_ERROR, KANKYO_HISTORIAN_ERROR_INVALID,
                   _ ("History file %s: it is open for reading only"), self->path);
      return FALSE;
    }

  g_mutex_lock (&self->q_lock);
  target = self->accepted;
  failures = self->failures;
  if (self->flush_to < target)
    {
      self->flush_to = target;
      g_cond_signal (&self->q_cond);
    }
  while (self->done < target)
    g_cond_wait (&self->done_cond, &self->q_lock);
  ok = self->failures == failures;
  if (!ok)
    g_set_error (error, KANKYO_HISTORIAN_ERROR, KANKYO_HISTORIAN_ERROR_WRITE, "%s", self->stats.last_error);
  g_mutex_unlock (&self->q_lock);
  return ok;
}

gboolean
kankyo_historian_enforce_retention (KankyoHistorian *self,
                                    gint64 now,
                                    guint64 *ret_raw_removed,
                                    GError **error)
{
  guint64 removed = 0;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->readonly)
    {
      g_set_error (error, KANKYO_HISTORIAN_ERROR, KANKYO_HISTORIAN_ERROR_INVALID,
                   _ ("History file %s: it is open for reading only"), self->path);
      return FALSE;
    }

  g_mutex_lock (&self->db_lock);
  for (guint tag = 1; tag < self->tags->len; tag++)
    {
      gboolean done = FALSE;

      while (!done)
        if (!retention_transaction (self, tag, now, &removed, &done, error))
          {
            g_mutex_unlock (&self->db_lock);
            return FALSE;
          }
    }
  g_mutex_unlock (&self->db_lock);
  if (ret_raw_removed != NULL)
    *ret_raw_removed = removed;
  return TRUE;
}

void
kankyo_historian_get_stats (KankyoHistorian *self, KankyoHistorianStats *ret_stats)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (ret_stats != NULL);

  g_mutex_lock (&self->q_lock);
  *ret_stats = self->stats;
  ret_stats->queue_length = self->queue->len;
  ret_stats->last_error = g_strdup (self->stats.last_error);
  g_mutex_unlock (&self->q_lock);
}

void
kankyo_historian_set_commit_func (KankyoHistorian *self, KankyoHistorianCommitFunc func, gpointer user_data)
{
  g_return_if_fail (self != NULL);

  g_mutex_lock (&self->q_lock);
  self->commit_func = func;
  self->commit_data = user_data;
  g_mutex_unlock (&self->q_lock);
}

/* ---- reading ---- */

static void
read_conn_free (ReadConn *conn)
{
  for (guint i = 0; i < N_READ_STMTS; i++)
    g_clear_pointer (&conn->stmts[i], sqlite3_finalize);
  sqlite3_close (conn->db);
  g_free (conn);
}

/* A connection for this thread's read, in a read transaction so that the
 * whole read sees one state of the file. */
static ReadConn *
begin_read (KankyoHistorian *self, GError **error)
{
  ReadConn *conn = NULL;

  g_mutex_lock (&self->pool_lock);
  if (self->pool->len > 0)
    conn = g_ptr_array_steal_index_fast (self->pool, self->pool->len - 1);
  g_mutex_unlock (&self->pool_lock);

  if (conn == NULL)
    {
      conn = g_new0 (ReadConn, 1);
      if (sqlite3_open_v2 (self->path, &conn->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL)
          != SQLITE_OK)
        {
          if (conn->db == NULL)
            g_set_error (error, KANKYO_HISTORIAN_ERROR, KANKYO_HISTORIAN_ERROR_READ,
                         _ ("History file %s: cannot open it: out of memory"), self->path);
          else
            set_db_error (error, KANKYO_HISTORIAN_ERROR_READ, self->path, conn->db,
                          _ ("open it for reading"));
          read_conn_free (conn);
          return NULL;
        }
      sqlite3_busy_timeout (conn->db, BUSY_TIMEOUT_MS);
      /* A trend re-reads the same packs as it scrolls: keep them mapped. */
      if (sqlite3_exec (conn->db,
                        "PRAGMA query_only = 1;"
                        "PRAGMA cache_size = -32768;"
                        "PRAGMA mmap_size = 268435456;",
                        NULL, NULL, NULL)
          != SQLITE_OK)
        {
          set_db_error (error, KANKYO_HISTORIAN_ERROR_READ, self->path, conn->db, _ ("open it for reading"));
          read_conn_free (conn);
          return NULL;
        }
    }
  if (sqlite3_exec (conn->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
    {
      set_db_error (error, KANKYO_HISTORIAN_ERROR_READ, self->path, conn->db, _ ("start a read"));
      read_conn_free (conn);
      return NULL;
    }
  return conn;
}

static void
end_read (KankyoHistorian *self, ReadConn *conn)
{
  if (!sqlite3_get_autocommit (conn->db) && sqlite3_exec (conn->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
    {
      read_conn_free (conn);
      return;
    }
  g_mutex_lock (&self->pool_lock);
  if (self->pool->len < POOL_MAX)
    {
      g_ptr_array_add (self->pool, conn);
      conn = NULL;
    }
  g_mutex_unlock (&self->pool_lock);
  if (conn != NULL)
    read_conn_free (conn);
}

static sqlite3_stmt *
rstmt (KankyoHistorian *self, ReadConn *conn, guint which, GError **error)
{
  if (conn->stmts[which] == NULL
      && sqlite3_prepare_v3 (conn->db, read_sql[which], -1, SQLITE_PREPARE_PERSISTENT, &conn->stmts[which],
                             NULL)
             != SQLITE_OK)
    {
      set_db_error (error, KANKYO_HISTORIAN_ERROR_READ, self->path, conn->db, _ ("prepare a query"));
      return NULL;
    }
  sqlite3_reset (conn->stmts[which]);
  return conn->stmts[which];
}

static gboolean
check_tag (KankyoHistorian *self, guint tag_id, GError **error)
{
  if (tag_id > 0 && tag_id <= (guint) g_atomic_int_get (&self->n_tags))
    return TRUE;
  g_set_error (error, KANKYO_HISTORIAN_ERROR, KANKYO_HISTORIAN_ERROR_NOT_FOUND,
               _ ("History file %s: there is no tag with id %u"), self->path, tag_id);
  return FALSE;
}

static gboolean
check_range (KankyoHistorian *self, gint64 from, gint64 to, GError **error)
{
  g_autofree char *from_text = NULL;
  g_autofree char *to_text = NULL;

  if (from < to)
    return TRUE;
  from_text = time_to_text (from);
  to_text = time_to_text (to);
  g_set_error (error, KANKYO_HISTORIAN_ERROR, KANKYO_HISTORIAN_ERROR_INVALID,
               _ ("History file %s: the time range %s to %s is empty (expected a start before the end)"),
               self->path, from_text, to_text);
  return FALSE;
}

static void
block_error (KankyoHistorian *self, guint tag, gint64 t0, gint64 t1, const GError *cause, GError **error)
{
  g_autofree char *name = tag_name (self, tag);
  g_autofree char *from_text = time_to_text (t0);
  g_autofree char *to_text = time_to_text (t1);

  g_set_error (error, KANKYO_HISTORIAN_ERROR, KANKYO_HISTORIAN_ERROR_CORRUPT,
               _ ("History file %s: tag %s: the samples from %s to %s cannot be read: %s"), self->path, name,
               from_text, to_text, cause->message);
}

static gboolean
query_failed (KankyoHistorian *self, ReadConn *conn, sqlite3_stmt *stmt, GError **error)
{
  set_db_error (error, KANKYO_HISTORIAN_ERROR_READ, self->path, conn->db, _ ("read stored samples"));
  sqlite3_reset (stmt);
  return FALSE;
}

typedef gboolean (*BlockFunc) (const KankyoHistorianSample *samples, guint n, gpointer data, GError **error);

/* Calls @func with every decoded block that holds samples in [from, to),
 * in time order; the blocks may reach outside the range. */
static gboolean
walk_raw (KankyoHistorian *self,
          ReadConn *conn,
          guint tag,
          gint64 from,
          gint64 to,
          BlockFunc func,
          gpointer data,
          GError **error)
{
  sqlite3_stmt *stmt = rstmt (self, conn, R_RAW_RANGE, error);
  g_autoptr (GArray) block = g_array_new (FALSE, FALSE, sizeof (KankyoHistorianSample));
  gint64 prev = G_MININT64;
  int rc;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, tag);
  sqlite3_bind_int64 (stmt, 2, from);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      g_autoptr (GError) local = NULL;
      gint64 t0 = sqlite3_column_int64 (stmt, 0);
      gint64 t1 = sqlite3_column_int64 (stmt, 1);

      if (t0 >= to)
        break;
      g_array_set_size (block, 0);
      if (t0 <= prev)
        g_set_error (&local, KANKYO_HISTORIAN_ERROR, KANKYO_HISTORIAN_ERROR_CORRUPT,
                     _ ("the stored data is damaged: blocks overlap"));
      else
        decode_row (sqlite3_column_blob (stmt, 3), sqlite3_column_bytes (stmt, 3), t0, t1,
                    sqlite3_column_int64 (stmt, 2), block, &local);
      if (local != NULL)
        {
          block_error (self, tag, t0, t1, local, error);
          sqlite3_reset (stmt);
          return FALSE;
        }
      prev = t1;
      if (!func ((KankyoHistorianSample *) block->data, block->len, data, error))
        {
          sqlite3_reset (stmt);
          return FALSE;
        }
    }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return query_failed (self, conn, stmt, error);
  sqlite3_reset (stmt);
  return TRUE;
}

typedef struct
{
  KankyoHistorian *self;
  gint64 from, to;
  GArray *out;
  gboolean with_prior;
  gboolean has_prior;
  KankyoHistorianSample prior;
} RawRead;

static gboolean
raw_block (const KankyoHistorianSample *samples, guint n, gpointer data, GError **error)
{
  RawRead *rr = data;

  for (guint i = 0; i < n; i++)
    {
      if (samples[i].time < rr->from)
        {
          rr->prior = samples[i];
          rr->has_prior = rr->with_prior;
          continue;
        }
      if (samples[i].time >= rr->to)
        break;
      if (rr->out->len >= KANKYO_HISTORIAN_READ_MAX)
        {
          g_set_error (error, KANKYO_HISTORIAN_ERROR, KANKYO_HISTORIAN_ERROR_INVALID,
                       _ ("History file %s: the range holds more than %d samples; read it in parts"),
                       rr->self->path, KANKYO_HISTORIAN_READ_MAX);
          return FALSE;
        }
      g_array_append_val (rr->out, samples[i]);
    }
  return TRUE;
}

static gboolean
read_prior (KankyoHistorian *self, ReadConn *conn, guint tag, gint64 from, RawRead *rr, GError **error)
{
  sqlite3_stmt *stmt = rstmt (self, conn, R_RAW_PRIOR, error);
  g_autoptr (GArray) block = g_array_new (FALSE, FALSE, sizeof (KankyoHistorianSample));
  int rc;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, tag);
  sqlite3_bind_int64 (stmt, 2, from);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      g_autoptr (GError) local = NULL;
      gint64 t0 = sqlite3_column_int64 (stmt, 0);
      gint64 t1 = sqlite3_column_int64 (stmt, 1);

      if (!decode_row (sqlite3_column_blob (stmt, 3), sqlite3_column_bytes (stmt, 3), t0, t1,
                       sqlite3_column_int64 (stmt, 2), block, &local))
        {
          block_error (self, tag, t0, t1, local, error);
          sqlite3_reset (stmt);
          return FALSE;
        }
      rr->prior = g_array_index (block, KankyoHistorianSample, block->len - 1);
      rr->has_prior = TRUE;
      rc = SQLITE_DONE;
    }
  if (rc != SQLITE_DONE)
    return query_failed (self, conn, stmt, error);
  sqlite3_reset (stmt);
  return TRUE;
}

GArray *
kankyo_historian_read_raw (
    KankyoHistorian *self, guint tag_id, gint64 from, gint64 to, gboolean with_prior, GError **error)
{
  g_autoptr (GArray) out = NULL;
  RawRead rr = { 0 };
  ReadConn *conn;
  gboolean ok;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_tag (self, tag_id, error) || !check_range (self, from, to, error))
    return NULL;
  if ((conn = begin_read (self, error)) == NULL)
    return NULL;
  out = g_array_new (FALSE, FALSE, sizeof (KankyoHistorianSample));
  rr.self = self;
  rr.from = from;
  rr.to = to;
  rr.out = out;
  rr.with_prior = with_prior;
  ok = (!with_prior || read_prior (self, conn, tag_id, from, &rr, error))
       && walk_raw (self, conn, tag_id, from, to, raw_block, &rr, error);
  end_read (self, conn);
  if (!ok)
    return NULL;
  if (rr.has_prior)
    g_array_prepend_val (out, rr.prior);
  return g_steal_pointer (&out);
}

typedef gboolean (*RollupFunc) (const KankyoHistoryRollup *records, guint n, gpointer data, GError **error);

static gboolean
rollup_damage (
    KankyoHistorian *self, guint tag, guint level, gint64 bucket, const GError *cause, GError **error)
{
  g_autofree char *message = pack_problem (self, tag, level, bucket, cause->message);

  g_set_error_literal (error, KANKYO_HISTORIAN_ERROR, KANKYO_HISTORIAN_ERROR_CORRUPT, message);
  return FALSE;
}

/* Calls @func with the stored rollups of @level whose buckets lie in
 * [b0, b1), in bucket order, a pack at a time, with the recent rows laid
 * over the packs; so memory stays bounded however long the range. */
static gboolean
walk_rollups (KankyoHistorian *self,
              ReadConn *conn,
              guint tag,
              guint level,
              gint64 b0,
              gint64 b1,
              RollupFunc func,
              gpointer data,
              GError **error)
{
  const Level *lv = &levels[level];
  g_autoptr (GArray) recent = g_array_new (FALSE, FALSE, sizeof (KankyoHistoryRollup));
  g_autoptr (GArray) chunk = g_array_new (FALSE, FALSE, sizeof (KankyoHistoryRollup));
  g_autoptr (GArray) over = g_array_new (FALSE, FALSE, sizeof (KankyoHistoryRollup));
  g_autoptr (GArray) scratch = g_array_new (FALSE, FALSE, sizeof (KankyoHistoryRollup));
  const KankyoHistoryRollup *rec;
  guint next = 0;
  sqlite3_stmt *stmt;
  int rc;

  /* Recent rows are few: at most recent_max a tag, plus a pack's worth
   * left by an interrupted fold. */
  if ((stmt = rstmt (self, conn, R_RECENT, error)) == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, tag);
  sqlite3_bind_int (stmt, 2, level);
  sqlite3_bind_int64 (stmt, 3, b0);
  sqlite3_bind_int64 (stmt, 4, b1);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      g_autoptr (GError) local = NULL;

      if (!kankyo_history_rollups_decode (sqlite3_column_blob (stmt, 0), sqlite3_column_bytes (stmt, 0),
                                          lv->width, recent, &local))
        {
          sqlite3_reset (stmt);
          return rollup_damage (self, tag, level, b0, local, error);
        }
    }
  if (rc != SQLITE_DONE)
    return query_failed (self, conn, stmt, error);
  sqlite3_reset (stmt);
  rec = (const KankyoHistoryRollup *) recent->data;

  if ((stmt = rstmt (self, conn, R_PACKS, error)) == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, tag);
  sqlite3_bind_int (stmt, 2, level);
  sqlite3_bind_int64 (stmt, 3, floor_div (b0, lv->pack) * lv->pack);
  sqlite3_bind_int64 (stmt, 4, b1);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      g_autoptr (GError) local = NULL;
      gint64 start = sqlite3_column_int64 (stmt, 0);
      guint lo, hi, first = next;

      g_array_set_size (chunk, 0);
      if (!kankyo_history_rollups_decode (sqlite3_column_blob (stmt, 1), sqlite3_column_bytes (stmt, 1),
                                          lv->width, chunk, &local)
          || g_array_index (chunk, KankyoHistoryRollup, 0).bucket < start
          || g_array_index (chunk, KankyoHistoryRollup, chunk->len - 1).bucket >= start + lv->pack)
        {
          if (local == NULL)
            g_set_error (&local, KANKYO_HISTORIAN_ERROR, KANKYO_HISTORIAN_ERROR_CORRUPT,
                         _ ("the stored data is damaged: a pack holds rollups outside its period"));
          sqlite3_reset (stmt);
          return rollup_damage (self, tag, level, start, local, error);
        }

      /* Recent rows of packs that have no row yet come first. */
      while (next < recent->len && rec[next].bucket < start)
        next++;
      if (next > first && !func (rec + first, next - first, data, error))
        {
          sqlite3_reset (stmt);
          return FALSE;
        }
      first = next;
      while (next < recent->len && rec[next].bucket < start + lv->pack)
        next++;
      g_array_set_size (over, 0);
      g_array_append_vals (over, rec + first, next - first);

      for (lo = 0; lo < chunk->len && g_array_index (chunk, KankyoHistoryRollup, lo).bucket < b0; lo++)
        ;
      for (hi = chunk->len; hi > lo && g_array_index (chunk, KankyoHistoryRollup, hi - 1).bucket >= b1; hi--)
        ;
      g_array_set_size (chunk, hi);
      g_array_remove_range (chunk, 0, lo);
      overlay_rollups (chunk, over, scratch);
      if (chunk->len > 0 && !func ((KankyoHistoryRollup *) chunk->data, chunk->len, data, error))
        {
          sqlite3_reset (stmt);
          return FALSE;
        }
    }
  if (rc != SQLITE_DONE)
    return query_failed (self, conn, stmt, error);
  sqlite3_reset (stmt);
  if (next < recent->len)
    return func (rec + next, recent->len - next, data, error);
  return TRUE;
}

static void
bin_finish (KankyoHistorianBin *bin)
{
  if (bin->count > 0)
    bin->mean = bin->mean / bin->count; /* the sum until now */
  else
    {
      bin->min = bin->max = bin->mean = bin->first = bin->last = NAN;
      bin->first_time = bin->last_time = 0;
    }
}

static void
bin_add_good (KankyoHistorianBin *bin,
              double min,
              double max,
              double sum,
              guint64 count,
              double first,
              gint64 first_time,
              double last,
              gint64 last_time)
{
  if (bin->count == 0)
    {
      bin->min = min;
      bin->max = max;
      bin->mean = sum;
      bin->first = first;
      bin->first_time = first_time;
    }
  else
    {
      bin->min = MIN (bin->min, min);
      bin->max = MAX (bin->max, max);
      bin->mean += sum;
    }
  bin->last = last;
  bin->last_time = last_time;
  bin->count += count;
}

typedef struct
{
  KankyoHistorian *self;
  gint64 width;
  GArray *out;
} RollupRead;

static gboolean
rollups_to_bins (const KankyoHistoryRollup *records, guint n, gpointer data, GError **error)
{
  RollupRead *rr = data;

  if (rr->out->len + n > KANKYO_HISTORIAN_READ_MAX)
    {
      g_set_error (error, KANKYO_HISTORIAN_ERROR, KANKYO_HISTORIAN_ERROR_INVALID,
                   _ ("History file %s: the range holds more than %d rollups; read it in parts"),
                   rr->self->path, KANKYO_HISTORIAN_READ_MAX);
      return FALSE;
    }
  for (guint i = 0; i < n; i++)
    {
      const KankyoHistoryRollup *r = &records[i];
      KankyoHistorianBin bin = { 0 };

      bin.start = r->bucket * rr->width;
      bin.width = rr->width;
      bin.bad = r->bad;
      if (r->count > 0)
        bin_add_good (&bin, r->min, r->max, r->sum, r->count, r->first, bin.start + r->first_off, r->last,
                      bin.start + r->last_off);
      bin_finish (&bin);
      g_array_append_val (rr->out, bin);
    }
  return TRUE;
}

GArray *
kankyo_historian_read_rollups (KankyoHistorian *self,
                               guint tag_id,
                               KankyoHistorianResolution resolution,
                               gint64 from,
                               gint64 to,
                               GError **error)
{
  g_autoptr (GArray) out = NULL;
  RollupRead rr;
  guint level;
  ReadConn *conn;
  gboolean ok;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (resolution != KANKYO_HISTORIAN_MINUTE && resolution != KANKYO_HISTORIAN_HOUR)
    {
      g_set_error (error, KANKYO_HISTORIAN_ERROR, KANKYO_HISTORIAN_ERROR_INVALID,
                   _ ("History file %s: rollups are kept per minute and per hour only"), self->path);
      return NULL;
    }
  if (!check_tag (self, tag_id, error) || !check_range (self, from, to, error))
    return NULL;
  level = resolution == KANKYO_HISTORIAN_MINUTE ? LEVEL_MINUTE : LEVEL_HOUR;
  if ((conn = begin_read (self, error)) == NULL)
    return NULL;
  out = g_array_new (FALSE, FALSE, sizeof (KankyoHistorianBin));
  rr.self = self;
  rr.width = levels[level].width;
  rr.out = out;
  /* Buckets that start in [from, to). */
  ok = walk_rollups (self, conn, tag_id, level, MAX (floor_div (from - 1, rr.width) + 1, 0),
                     MAX (floor_div (to - 1, rr.width) + 1, 0), rollups_to_bins, &rr, error);
  end_read (self, conn);
  if (!ok)
    return NULL;
  return g_steal_pointer (&out);
}

typedef struct
{
  gint64 from, span;
  guint n;
  gint64 *edges; /* n + 1 */
  KankyoHistorianBin *bins;
  gint64 width; /* of the rollup buckets read */
} BinSet;

static guint
bin_index (const BinSet *bs, gint64 t)
{
  double guess = (double) (t - bs->from) / (double) bs->span * bs->n;
  guint i = (guint) CLAMP (guess, 0, bs->n - 1);

  while (i > 0 && bs->edges[i] > t)
    i--;
  while (i + 1 < bs->n && bs->edges[i + 1] <= t)
    i++;
  return i;
}

/* A whole bucket goes to the bin of its first sample; see the header. */
static gboolean
bin_rollups (const KankyoHistoryRollup *records, guint n, gpointer data, GError **error)
{
  BinSet *bs = data;
  gint64 to = bs->from + bs->span;

  for (guint i = 0; i < n; i++)
    {
      const KankyoHistoryRollup *r = &records[i];
      gint64 start = r->bucket * bs->width;
      gint64 t = start + r->first_off;
      KankyoHistorianBin *bin;

      if (t < bs->from || t >= to)
        continue;
      bin = &bs->bins[bin_index (bs, t)];
      bin->no_data = FALSE;
      bin->bad |= r->bad;
      if (r->count > 0)
        bin_add_good (bin, r->min, r->max, r->sum, r->count, r->first, t, r->last, start + r->last_off);
    }
  return TRUE;
}

static gboolean
bin_block (const KankyoHistorianSample *samples, guint n, gpointer data, GError **error)
{
  BinSet *bs = data;
  gint64 to = bs->from + bs->span;

  for (guint i = 0; i < n; i++)
    {
      const KankyoHistorianSample *s = &samples[i];
      KankyoHistorianBin *bin;

      if (s->time < bs->from || s->time >= to)
        continue;
      bin = &bs->bins[bin_index (bs, s->time)];
      bin->no_data = FALSE;
      if (s->quality == KANKYO_QUALITY_GOOD)
        bin_add_good (bin, s->value, s->value, s->value, 1, s->value, s->time, s->value, s->time);
      else if (kankyo_quality_is_bad (s->quality))
        bin->bad = TRUE;
    }
  return TRUE;
}

GArray *
kankyo_historian_read_binned (
    KankyoHistorian *self, guint tag_id, gint64 from, gint64 to, guint n_bins, GError **error)
{
  g_autoptr (GArray) out = NULL;
  g_autofree gint64 *edges = NULL;
  gint64 span, bw, rem;
  gboolean even;
  int level = -1;
  ReadConn *conn;
  BinSet bs;
  gboolean ok;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_tag (self, tag_id, error) || !check_range (self, from, to, error))
    return NULL;
  /* The span is at most the range of valid times plus any from before 0,
   * so it cannot overflow as long as from and to stay near valid times. */
  if (n_bins < 1 || n_bins > KANKYO_HISTORIAN_BINS_MAX || from < -KANKYO_HISTORY_TIME_MAX
      || to > 2 * KANKYO_HISTORY_TIME_MAX || to - from < n_bins)
    {
      g_set_error (
          error, KANKYO_HISTORIAN_ERROR, KANKYO_HISTORIAN_ERROR_INVALID,
          _ ("History file %s: cannot divide the range into %u bins (expected 1 to %d bins of at least "
             "1 µs within the years 1970 to 9999)"),
          self->path, n_bins, KANKYO_HISTORIAN_BINS_MAX);
      return NULL;
    }

  span = to - from;
  bw = span / n_bins;
  rem = span % n_bins;
  even = rem == 0;
  edges = g_new (gint64, n_bins + 1);
  out = g_array_sized_new (FALSE, FALSE, sizeof (KankyoHistorianBin), n_bins);
  g_array_set_size (out, n_bins);
  for (guint i = 0; i <= n_bins; i++)
    edges[i] = from + (gint64) i * bw + ((gint64) i * rem) / n_bins;
  for (guint i = 0; i < n_bins; i++)
    {
      KankyoHistorianBin *bin = &g_array_index (out, KankyoHistorianBin, i);

      memset (bin, 0, sizeof *bin);
      bin->start = edges[i];
      bin->width = edges[i + 1] - edges[i];
      bin->no_data = TRUE;
    }
  bs.from = from;
  bs.span = span;
  bs.n = n_bins;
  bs.edges = edges;
  bs.bins = (KankyoHistorianBin *) out->data;

  if (even && bw % HOUR_US == 0 && from % HOUR_US == 0)
    level = LEVEL_HOUR;
  else if (even && bw % MINUTE_US == 0 && bw / MINUTE_US <= EXACT_MINUTES_PER_BIN_MAX
           && from % MINUTE_US == 0)
    level = LEVEL_MINUTE;
  else if (bw >= BUCKETS_PER_BIN_MIN * HOUR_US)
    level = LEVEL_HOUR;
  else if (bw >= BUCKETS_PER_BIN_MIN * MINUTE_US)
    level = LEVEL_MINUTE;

  if ((conn = begin_read (self, error)) == NULL)
    return NULL;
  if (level < 0)
    ok = walk_raw (self, conn, tag_id, from, to, bin_block, &bs, error);
  else
    {
      bs.width = levels[level].width;
      ok = walk_rollups (self, conn, tag_id, level, MAX (floor_div (from, bs.width), 0),
                         MAX (floor_div (to - 1, bs.width) + 1, 0), bin_rollups, &bs, error);
    }
  end_read (self, conn);
  if (!ok)
    return NULL;
  for (guint i = 0; i < n_bins; i++)
    bin_finish (&g_array_index (out, KankyoHistorianBin, i));
  return g_steal_pointer (&out);
}

static void
extent_from_rollup (sqlite3_stmt *stmt, gint64 width, gboolean newest, gint64 *first, gint64 *last)
{
  g_autoptr (GArray) records = g_array_new (FALSE, FALSE, sizeof (KankyoHistoryRollup));
  const KankyoHistoryRollup *r;

  if (sqlite3_step (stmt) != SQLITE_ROW
      || !kankyo_history_rollups_decode (sqlite3_column_blob (stmt, 0), sqlite3_column_bytes (stmt, 0), width,
                                         records, NULL))
    return;
  r = &g_array_index (records, KankyoHistoryRollup, newest ? records->len - 1 : 0);
  if (newest)
    *last = MAX (*last, r->bucket * width + r->last_off);
  else
    *first = MIN (*first, r->bucket * width + r->first_off);
}

gboolean
kankyo_historian_get_extent (KankyoHistorian *self, guint tag_id, gint64 *ret_first, gint64 *ret_last)
{
  static const guint rollup_queries[] = { R_FIRST_PACK, R_RECENT_FIRST, R_LAST_PACK, R_RECENT_LAST };
  gint64 first = G_MAXINT64, last = G_MININT64;
  sqlite3_stmt *stmt;
  ReadConn *conn;

  g_return_val_if_fail (self != NULL, FALSE);

  if (!check_tag (self, tag_id, NULL) || (conn = begin_read (self, NULL)) == NULL)
    return FALSE;
  if ((stmt = rstmt (self, conn, R_RAW_FIRST, NULL)) != NULL)
    {
      sqlite3_bind_int64 (stmt, 1, tag_id);
      if (sqlite3_step (stmt) == SQLITE_ROW)
        first = sqlite3_column_int64 (stmt, 0);
      sqlite3_reset (stmt);
    }
  if ((stmt = rstmt (self, conn, R_RAW_LAST, NULL)) != NULL)
    {
      sqlite3_bind_int64 (stmt, 1, tag_id);
      if (sqlite3_step (stmt) == SQLITE_ROW)
        last = sqlite3_column_int64 (stmt, 0);
      sqlite3_reset (stmt);
    }
  /* Raw data may have gone by retention while rollups remain. */
  for (guint level = 0; level < N_LEVELS; level++)
    for (guint q = 0; q < G_N_ELEMENTS (rollup_queries); q++)
      if ((stmt = rstmt (self, conn, rollup_queries[q], NULL)) != NULL)
        {
          sqlite3_bind_int64 (stmt, 1, tag_id);
          sqlite3_bind_int (stmt, 2, level);
          extent_from_rollup (stmt, levels[level].width, q >= 2, &first, &last);
          sqlite3_reset (stmt);
        }
  end_read (self, conn);
  if (first > last)
    return FALSE;
  if (ret_first != NULL)
    *ret_first = first;
  if (ret_last != NULL)
    *ret_last = last;
  return TRUE;
}

gboolean
kankyo_historian_get_storage (KankyoHistorian *self, guint64 *ret_bytes, guint64 *ret_samples, GError **error)
{
  g_autofree char *wal = NULL;
  GStatBuf st;
  guint64 bytes = 0, samples = 0;
  sqlite3_stmt *stmt;
  ReadConn *conn;
  gboolean ok = FALSE;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (g_stat (self->path, &st) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, KANKYO_HISTORIAN_ERROR, KANKYO_HISTORIAN_ERROR_READ,
                   _ ("History file %s: cannot %s: %s"), self->path, _ ("read its size"),
                   g_strerror (saved_errno));
      return FALSE;
    }
  bytes = st.st_size;
  wal = g_strconcat (self->path, "-wal", NULL);
  if (g_stat (wal, &st) == 0)
    bytes += st.st_size;

  if ((conn = begin_read (self, error)) == NULL)
    return FALSE;
  if ((stmt = rstmt (self, conn, R_SAMPLE_COUNT, error)) != NULL)
    {
      if (sqlite3_step (stmt) == SQLITE_ROW)
        {
          samples = (guint64) MAX (sqlite3_column_int64 (stmt, 0), 0);
          ok = TRUE;
        }
      else
        set_db_error (error, KANKYO_HISTORIAN_ERROR_READ, self->path, conn->db,
                      _ ("count the stored samples"));
      sqlite3_reset (stmt);
    }
  end_read (self, conn);
  if (!ok)
    return FALSE;
  if (ret_bytes != NULL)
    *ret_bytes = bytes;
  if (ret_samples != NULL)
    *ret_samples = samples;
  return TRUE;
}
