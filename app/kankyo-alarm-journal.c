/* kankyo-alarm-journal.c: the alarm and event history, in alarms.db.
 *
 * One row per alarm transition or operator action, in its own SQLite file
 * so that its durability settings and its lock are its own. The file is in
 * WAL mode: kankyoctl and the alarm history screen read it while the plant
 * writes, and readers never hold up the writer.
 *
 * Durability comes in two kinds. Condition transitions are many, and after a
 * power cut the engine judges every condition anew, so they gather in
 * one open write transaction that is committed with synchronous=NORMAL when
 * it holds BATCH_MAX records, when an append finds its oldest record
 * BATCH_AGE_US old, and on flush and close. An operator action is evidence
 * of who did what: its append commits whatever waits, then writes the
 * action in a transaction of its own with synchronous=FULL, which in WAL
 * syncs the log, and so everything before it too, before returning. kill -9
 * loses at most the open batch, never a returned durable record, and never
 * consistency.
 *
 * Event and state are stored by their names (kankyo_alarm_event_to_string
 * and kankyo_alarm_state_to_string), so the file reads the same whatever
 * order the enumerations take; priority is stored as its number, because a
 * search asks for a priority and above.
 *
 * The performance figures over a period [from, to), exactly:
 *
 *   An activation is an ACTIVATE record whose state after it is
 *   unacknowledged, with from <= time < to: an alarm that was annunciated.
 *   A condition that activates under shelving, suppression or out of
 *   service is not counted: no operator saw it. Alarms per hour is the
 *   number of activations divided by the length of the period in hours,
 *   for the plant and for each area (the area recorded with the
 *   activation).
 *
 *   Floods: with W = 10 minutes and N(t) the number of activations a with
 *   t - W < a <= t (a trailing window that holds its right end), the plant
 *   enters a flood at the first instant s at which N(s) > 10, and leaves it
 *   at the first instant e > s at which N(e) < 5 (everything that happens
 *   at one instant, arrivals and activations leaving the window, counts
 *   together), or at the end of the period if that comes first. Then a next
 *   flood may begin. A flood is reported from its first activation, the
 *   earliest activation in the window at s that is not before the end of
 *   the previous flood, to e; its count is the activations from its start
 *   up to, not including, e. So floods never overlap, no activation counts
 *   in two, and eleven activations within less than ten minutes make a
 *   flood while eleven spread over exactly ten minutes do not. Percent of
 *   time in flood is the sum of the floods' lengths over the period's.
 *
 *   Chattering: an activation is a chatter when it comes at most 60 s after
 *   the same alarm's previous CLEAR record (the newest one before it in
 *   time, then journal order, even if before the period). Alarms with 3 or
 *   more are chattering, listed most first.
 *
 *   Stale: an alarm whose newest record before `to` leaves it active
 *   (unacknowledged or acknowledged) and that has been active without a
 *   break for more than 24 h at `to`. The run starts at the first record of
 *   the unbroken series of active records that ends with the newest one;
 *   shelving or suppressing an alarm breaks the run.
 *
 *   The top ten are the alarms with the most activations (at least one),
 *   ties by alarm id. Messages are those of each alarm's newest activation
 *   in the period, or for stale alarms of its newest record.
 *
 * The performance PDF is drawn like the trend report (kankyo-report.c):
 * A4 landscape, cairo with Pango, the same header, fonts and tables.
 */

#include "config.h"

#include "kankyo-alarm-journal.h"

#include <cairo-pdf.h>
#include <glib/gi18n-lib.h>
#include <math.h>
#include <pango/pangocairo.h>
#include <sqlite3.h>
#include <string.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)

/* The first argument becomes the quark's name, so it must stay one word. */
/* clang-format off */
G_DEFINE_QUARK (kankyo-alarm-journal-error-quark, kankyo_alarm_journal_error)
/* clang-format on */

#define SCHEMA_VERSION 1
#define APPLICATION_ID 0x4b4e4b41 /* "KNKA" */
#define BUSY_TIMEOUT_MS 5000
#define BATCH_MAX 1024
#define BATCH_AGE_US G_USEC_PER_SEC
#define NAME_BYTES KANKYO_ALARM_JOURNAL_NAME_MAX
#define TEXT_BYTES KANKYO_ALARM_JOURNAL_TEXT_MAX
/* 9999-12-31T23:59:59Z: GDateTime cannot go further. */
#define MAX_TIME (G_GINT64_CONSTANT (253402300799) * G_USEC_PER_SEC)
/* Rows an export reads at a time, so that a long export never keeps the
 * writer waiting for long. */
#define EXPORT_PAGE 4096
#define FLUSH_BYTES 65536

#define MINUTE_US (G_GINT64_CONSTANT (60) * G_USEC_PER_SEC)
#define HOUR_US (60 * MINUTE_US)
#define DAY_US (24 * HOUR_US)
#define FLOOD_WINDOW_US (10 * MINUTE_US)
#define FLOOD_START_ABOVE 10
#define FLOOD_END_BELOW 5
#define CHATTER_US (60 * G_USEC_PER_SEC)
#define CHATTER_MIN 3
#define STALE_US DAY_US
#define TOP_ACTORS 10
/* Activations a performance period may hold; beyond, a shorter period. */
#define MAX_ACTIVATIONS 10000000

struct _KankyoAlarmJournal
{
  sqlite3 *db;
  char *path;
  gboolean readonly;
  /* Appends from the engine and searches from elsewhere may share a
   * journal; each call is one unit of work on the connection. */
  GMutex lock;
  sqlite3_stmt *insert;
  gboolean in_batch;    /* a write transaction is open */
  guint n_pending;      /* records in it */
  gint64 pending_since; /* monotonic time of its first record */
};

/* One index per way the history screen and kankyoctl search; each ends
 * with the time, so that a period of one tag, area or user is a range of
 * its index. alarm_id + time also finds an alarm's newest record, for the
 * standing alarms and the stale ones. */
static const char schema_sql[] = "CREATE TABLE alarm_journal ("
                                 "  seq INTEGER PRIMARY KEY,"
                                 "  time_us INTEGER NOT NULL,"
                                 "  alarm_id TEXT NOT NULL,"
                                 "  tag TEXT NOT NULL,"
                                 "  device TEXT NOT NULL,"
                                 "  area TEXT NOT NULL,"
                                 "  priority INTEGER NOT NULL,"
                                 "  event TEXT NOT NULL,"
                                 "  state TEXT NOT NULL,"
                                 "  value REAL,"
                                 "  message TEXT NOT NULL,"
                                 "  user TEXT,"
                                 "  reason TEXT);"
                                 "CREATE INDEX alarm_journal_by_time ON alarm_journal (time_us);"
                                 "CREATE INDEX alarm_journal_by_tag ON alarm_journal (tag, time_us);"
                                 "CREATE INDEX alarm_journal_by_area ON alarm_journal (area, time_us);"
                                 "CREATE INDEX alarm_journal_by_user ON alarm_journal (user, time_us);"
                                 "CREATE INDEX alarm_journal_by_alarm ON alarm_journal (alarm_id, time_us);"
                                 "PRAGMA application_id = 1263422273;"
                                 "PRAGMA user_version = 1;";

G_STATIC_ASSERT (APPLICATION_ID == 1263422273);

#define RECORD_COLUMNS                                                                                       \
  "seq, time_us, alarm_id, tag, device, area, priority, event, state, value, message, user, reason"

enum
{
  COL_SEQ,
  COL_TIME,
  COL_ALARM_ID,
  COL_TAG,
  COL_DEVICE,
  COL_AREA,
  COL_PRIORITY,
  COL_EVENT,
  COL_STATE,
  COL_VALUE,
  COL_MESSAGE,
  COL_USER,
  COL_REASON,
};

/* ---- errors and statements ---- */

static void
set_db_error (KankyoAlarmJournal *self, GError **error, KankyoAlarmJournalError code, const char *what)
{
  /* Translators: the second %s is one of the actions below, such as
   * 'read the schema version'; the last is SQLite's own message. */
  g_set_error (error, KANKYO_ALARM_JOURNAL_ERROR, code, _ ("Alarm journal %s: cannot %s: %s"), self->path,
               what, sqlite3_errmsg (self->db));
}

static gboolean
exec_sql (
    KankyoAlarmJournal *self, const char *sql, KankyoAlarmJournalError code, const char *what, GError **error)
{
  if (sqlite3_exec (self->db, sql, NULL, NULL, NULL) != SQLITE_OK)
    {
      set_db_error (self, error, code, what);
      return FALSE;
    }
  return TRUE;
}

static sqlite3_stmt *
prepare (
    KankyoAlarmJournal *self, const char *sql, KankyoAlarmJournalError code, const char *what, GError **error)
{
  sqlite3_stmt *stmt = NULL;

  if (sqlite3_prepare_v2 (self->db, sql, -1, &stmt, NULL) != SQLITE_OK)
    {
      set_db_error (self, error, code, what);
      return NULL;
    }
  return stmt;
}

/* On paths that already failed: the first error is the one to report. */
static void
rollback (KankyoAlarmJournal *self)
{
  if (!sqlite3_get_autocommit (self->db))
    sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
  self->in_batch = FALSE;
  self->n_pending = 0;
}

static char *
int64_to_text (gint64 value)
{
  return g_strdup_printf ("%" G_GINT64_FORMAT, value);
}

/* ---- names ---- */

static gboolean
event_from_name (const char *name, KankyoAlarmEvent *ret_event)
{
  for (int e = KANKYO_ALARM_EVENT_ACTIVATE; e <= KANKYO_ALARM_EVENT_RESET; e++)
    if (g_strcmp0 (name, kankyo_alarm_event_to_string (e)) == 0)
      {
        *ret_event = e;
        return TRUE;
      }
  return FALSE;
}

static gboolean
state_from_name (const char *name, KankyoAlarmState *ret_state)
{
  for (int s = KANKYO_ALARM_STATE_NORMAL; s <= KANKYO_ALARM_STATE_OUT_OF_SERVICE; s++)
    if (g_strcmp0 (name, kankyo_alarm_state_to_string (s)) == 0)
      {
        *ret_state = s;
        return TRUE;
      }
  return FALSE;
}

#define ALL_STATES ((1u << (KANKYO_ALARM_STATE_OUT_OF_SERVICE + 1)) - 1)
#define ACTIVE_STATES ((1u << KANKYO_ALARM_STATE_UNACK) | (1u << KANKYO_ALARM_STATE_ACKED))

/* ---- records ---- */

void
kankyo_alarm_record_clear (KankyoAlarmRecord *record)
{
  if (record == NULL)
    return;
  g_clear_pointer (&record->alarm_id, g_free);
  g_clear_pointer (&record->tag, g_free);
  g_clear_pointer (&record->device, g_free);
  g_clear_pointer (&record->area, g_free);
  g_clear_pointer (&record->message, g_free);
  g_clear_pointer (&record->user, g_free);
  g_clear_pointer (&record->reason, g_free);
}

static char *
column_dup (sqlite3_stmt *stmt, int col)
{
  if (sqlite3_column_type (stmt, col) == SQLITE_NULL)
    return NULL;
  return g_strndup ((const char *) sqlite3_column_text (stmt, col), sqlite3_column_bytes (stmt, col));
}

static char *
column_dup_required (sqlite3_stmt *stmt, int col)
{
  char *text = column_dup (stmt, col);

  return text != NULL ? text : g_strdup ("");
}

/* Fills @record from the row @stmt is on (RECORD_COLUMNS). */
static gboolean
record_from_row (KankyoAlarmJournal *self, sqlite3_stmt *stmt, KankyoAlarmRecord *record, GError **error)
{
  const char *event = (const char *) sqlite3_column_text (stmt, COL_EVENT);
  const char *state = (const char *) sqlite3_column_text (stmt, COL_STATE);
  gint64 priority = sqlite3_column_int64 (stmt, COL_PRIORITY);
  KankyoAlarmEvent e;
  KankyoAlarmState s;

  if (!event_from_name (event, &e) || !state_from_name (state, &s)
      || priority < KANKYO_ALARM_PRIORITY_DIAGNOSTIC || priority > KANKYO_ALARM_PRIORITY_HIGH)
    {
      g_autofree char *seq = int64_to_text (sqlite3_column_int64 (stmt, COL_SEQ));

      g_set_error (error, KANKYO_ALARM_JOURNAL_ERROR, KANKYO_ALARM_JOURNAL_ERROR_READ,
                   _ ("Alarm journal %s: record %s has an event, state or priority this Kankyo does not know "
                      "(%s, %s)"),
                   self->path, seq, event != NULL ? event : "", state != NULL ? state : "");
      return FALSE;
    }

  *record = (KankyoAlarmRecord){ 0 };
  record->seq = sqlite3_column_int64 (stmt, COL_SEQ);
  record->time = sqlite3_column_int64 (stmt, COL_TIME);
  record->alarm_id = column_dup_required (stmt, COL_ALARM_ID);
  record->tag = column_dup_required (stmt, COL_TAG);
  record->device = column_dup_required (stmt, COL_DEVICE);
  record->area = column_dup_required (stmt, COL_AREA);
  record->priority = (KankyoAlarmPriority) priority;
  record->event = e;
  record->state = s;
  record->value
      = sqlite3_column_type (stmt, COL_VALUE) == SQLITE_NULL ? NAN : sqlite3_column_double (stmt, COL_VALUE);
  record->message = column_dup_required (stmt, COL_MESSAGE);
  record->user = column_dup (stmt, COL_USER);
  record->reason = column_dup (stmt, COL_REASON);
  return TRUE;
}

static GArray *
record_array_new (void)
{
  GArray *records = g_array_new (FALSE, TRUE, sizeof (KankyoAlarmRecord));

  g_array_set_clear_func (records, (GDestroyNotify) kankyo_alarm_record_clear);
  return records;
}

/* ---- opening ---- */

static gboolean
check_schema (KankyoAlarmJournal *self, gboolean create, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  gint64 version, app_id, n_objects;

  stmt = prepare (self,
                  "SELECT (SELECT user_version FROM pragma_user_version),"
                  "       (SELECT application_id FROM pragma_application_id),"
                  "       (SELECT count(*) FROM sqlite_master)",
                  KANKYO_ALARM_JOURNAL_ERROR_OPEN, _ ("read the schema version"), error);
  if (stmt == NULL)
    return FALSE;
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      set_db_error (self, error, KANKYO_ALARM_JOURNAL_ERROR_OPEN, _ ("read the schema version"));
      return FALSE;
    }
  version = sqlite3_column_int64 (stmt, 0);
  app_id = sqlite3_column_int64 (stmt, 1);
  n_objects = sqlite3_column_int64 (stmt, 2);
  g_clear_pointer (&stmt, sqlite3_finalize);

  if (create && version == 0 && app_id == 0 && n_objects == 0)
    return exec_sql (self, schema_sql, KANKYO_ALARM_JOURNAL_ERROR_OPEN, _ ("create the alarm journal table"),
                     error);
  if (app_id != APPLICATION_ID)
    {
      g_set_error (error, KANKYO_ALARM_JOURNAL_ERROR, KANKYO_ALARM_JOURNAL_ERROR_OPEN,
                   _ ("Alarm journal %s: the file is not a Kankyo alarm journal"), self->path);
      return FALSE;
    }
  if (version != SCHEMA_VERSION)
    {
      g_autofree char *version_text = int64_to_text (version);

      g_set_error (error, KANKYO_ALARM_JOURNAL_ERROR, KANKYO_ALARM_JOURNAL_ERROR_OPEN,
                   _ ("Alarm journal %s: schema version %s is not supported (this Kankyo reads version %d)"),
                   self->path, version_text, SCHEMA_VERSION);
      return FALSE;
    }
  return TRUE;
}

static KankyoAlarmJournal *
journal_open (const char *path, gboolean readonly, GError **error)
{
  g_autoptr (KankyoAlarmJournal) self = g_new0 (KankyoAlarmJournal, 1);
  int flags
      = SQLITE_OPEN_NOMUTEX | (readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  int rc;

  g_mutex_init (&self->lock);
  self->path = g_strdup (path);
  self->readonly = readonly;

  rc = sqlite3_open_v2 (path, &self->db, flags, NULL);
  if (rc != SQLITE_OK)
    {
      g_set_error (error, KANKYO_ALARM_JOURNAL_ERROR, KANKYO_ALARM_JOURNAL_ERROR_OPEN,
                   _ ("Alarm journal %s: cannot open the database: %s"), path,
                   self->db != NULL ? sqlite3_errmsg (self->db) : sqlite3_errstr (rc));
      return NULL;
    }
  /* The file may come from anywhere: its schema must not run SQL with
   * side effects. */
  sqlite3_db_config (self->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
  sqlite3_db_config (self->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
  sqlite3_busy_timeout (self->db, BUSY_TIMEOUT_MS);

  if (readonly)
    return check_schema (self, FALSE, error) ? g_steal_pointer (&self) : NULL;

  /* IMMEDIATE, so that two processes creating the same new file do not
   * both find it empty. */
  if (!exec_sql (self, "PRAGMA journal_mode = WAL", KANKYO_ALARM_JOURNAL_ERROR_OPEN,
                 _ ("set the journal mode"), error)
      || !exec_sql (self, "PRAGMA synchronous = NORMAL", KANKYO_ALARM_JOURNAL_ERROR_OPEN,
                    _ ("set the durability of batches"), error)
      || !exec_sql (self, "BEGIN IMMEDIATE", KANKYO_ALARM_JOURNAL_ERROR_OPEN,
                    _ ("start a transaction to check the schema"), error))
    return NULL;
  if (!check_schema (self, TRUE, error))
    {
      rollback (self);
      return NULL;
    }
  if (!exec_sql (self, "COMMIT", KANKYO_ALARM_JOURNAL_ERROR_OPEN, _ ("commit the schema"), error))
    {
      rollback (self);
      return NULL;
    }
  self->insert = prepare (self,
                          "INSERT INTO alarm_journal (time_us, alarm_id, tag, device, area, priority, event,"
                          " state, value, message, user, reason)"
                          " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                          KANKYO_ALARM_JOURNAL_ERROR_OPEN, _ ("prepare the append"), error);
  if (self->insert == NULL)
    return NULL;
  return g_steal_pointer (&self);
}

KankyoAlarmJournal *
kankyo_alarm_journal_open (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL && *path != '\0', NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return journal_open (path, FALSE, error);
}

KankyoAlarmJournal *
kankyo_alarm_journal_open_readonly (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL && *path != '\0', NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return journal_open (path, TRUE, error);
}

static gboolean commit_batch (KankyoAlarmJournal *self, GError **error);

void
kankyo_alarm_journal_close (KankyoAlarmJournal *self)
{
  g_autoptr (GError) error = NULL;

  if (self == NULL)
    return;
  /* Nobody is left to tell: this is the last chance not to lose them
   * silently. */
  if (self->db != NULL && self->in_batch && !commit_batch (self, &error))
    g_warning ("%s", error->message);
  g_clear_pointer (&self->insert, sqlite3_finalize);
  sqlite3_close (self->db);
  g_mutex_clear (&self->lock);
  g_free (self->path);
  g_free (self);
}

/* ---- appending ---- */

static gboolean
check_text (KankyoAlarmJournal *self, const char *name, const char *value, gsize max, GError **error)
{
  gsize len;

  if (value == NULL)
    return TRUE;
  len = strnlen (value, max + 1);
  if (len > max)
    {
      g_set_error (error, KANKYO_ALARM_JOURNAL_ERROR, KANKYO_ALARM_JOURNAL_ERROR_INVALID,
                   _ ("Alarm journal %s: %s is longer than %d bytes"), self->path, name, (int) max);
      return FALSE;
    }
  if (!g_utf8_validate (value, len, NULL))
    {
      g_set_error (error, KANKYO_ALARM_JOURNAL_ERROR, KANKYO_ALARM_JOURNAL_ERROR_INVALID,
                   _ ("Alarm journal %s: %s is not valid UTF-8 text"), self->path, name);
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_record (KankyoAlarmJournal *self, const KankyoAlarmRecord *r, GError **error)
{
  if (r->alarm_id == NULL || *r->alarm_id == '\0')
    {
      g_set_error (error, KANKYO_ALARM_JOURNAL_ERROR, KANKYO_ALARM_JOURNAL_ERROR_INVALID,
                   _ ("Alarm journal %s: cannot append a record without an alarm id"), self->path);
      return FALSE;
    }
  if (r->time < 0 || r->time > MAX_TIME)
    {
      g_set_error (error, KANKYO_ALARM_JOURNAL_ERROR, KANKYO_ALARM_JOURNAL_ERROR_INVALID,
                   _ ("Alarm journal %s: the time of a record for %s lies outside the years 1970 to 9999"),
                   self->path, r->alarm_id);
      return FALSE;
    }
  if ((guint) r->priority > KANKYO_ALARM_PRIORITY_HIGH || r->event <= KANKYO_ALARM_EVENT_NONE
      || r->event > KANKYO_ALARM_EVENT_RESET || (guint) r->state > KANKYO_ALARM_STATE_OUT_OF_SERVICE)
    {
      g_set_error (error, KANKYO_ALARM_JOURNAL_ERROR, KANKYO_ALARM_JOURNAL_ERROR_INVALID,
                   _ ("Alarm journal %s: a record for %s has no valid priority, event or state"), self->path,
                   r->alarm_id);
      return FALSE;
    }
  return check_text (self, _ ("the alarm id"), r->alarm_id, NAME_BYTES, error)
         && check_text (self, _ ("the tag"), r->tag, NAME_BYTES, error)
         && check_text (self, _ ("the device"), r->device, NAME_BYTES, error)
         && check_text (self, _ ("the area"), r->area, NAME_BYTES, error)
         && check_text (self, _ ("the user"), r->user, NAME_BYTES, error)
         && check_text (self, _ ("the message"), r->message, TEXT_BYTES, error)
         && check_text (self, _ ("the reason"), r->reason, TEXT_BYTES, error);
}

static void
bind_text_or_empty (sqlite3_stmt *stmt, int index, const char *text)
{
  sqlite3_bind_text (stmt, index, text != NULL ? text : "", -1, SQLITE_STATIC);
}

static void
bind_text_or_null (sqlite3_stmt *stmt, int index, const char *text)
{
  if (text != NULL)
    sqlite3_bind_text (stmt, index, text, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null (stmt, index);
}

static gboolean
insert_record (KankyoAlarmJournal *self, KankyoAlarmRecord *r, GError **error)
{
  sqlite3_stmt *stmt = self->insert;
  int rc;

  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
  sqlite3_bind_int64 (stmt, 1, r->time);
  sqlite3_bind_text (stmt, 2, r->alarm_id, -1, SQLITE_STATIC);
  bind_text_or_empty (stmt, 3, r->tag);
  bind_text_or_empty (stmt, 4, r->device);
  bind_text_or_empty (stmt, 5, r->area);
  sqlite3_bind_int (stmt, 6, (int) r->priority);
  sqlite3_bind_text (stmt, 7, kankyo_alarm_event_to_string (r->event), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 8, kankyo_alarm_state_to_string (r->state), -1, SQLITE_STATIC);
  if (isnan (r->value))
    sqlite3_bind_null (stmt, 9);
  else
    sqlite3_bind_double (stmt, 9, r->value);
  bind_text_or_empty (stmt, 10, r->message);
  bind_text_or_null (stmt, 11, r->user);
  bind_text_or_null (stmt, 12, r->reason);
  rc = sqlite3_step (stmt);
  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
  if (rc != SQLITE_DONE)
    {
      set_db_error (self, error, KANKYO_ALARM_JOURNAL_ERROR_WRITE, _ ("write a record"));
      return FALSE;
    }
  r->seq = sqlite3_last_insert_rowid (self->db);
  return TRUE;
}

static gboolean
commit_batch (KankyoAlarmJournal *self, GError **error)
{
  if (!self->in_batch)
    return TRUE;
  if (sqlite3_exec (self->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
    {
      g_autofree char *what
          = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "commit %u alarm record (it is lost)",
                                          "commit %u alarm records (they are lost)", self->n_pending),
                             self->n_pending);

      set_db_error (self, error, KANKYO_ALARM_JOURNAL_ERROR_WRITE, what);
      rollback (self);
      return FALSE;
    }
  self->in_batch = FALSE;
  self->n_pending = 0;
  return TRUE;
}

/* The operator action alone, in a transaction synced to disk. */
static gboolean
append_durable (KankyoAlarmJournal *self, KankyoAlarmRecord *record, GError **error)
{
  gboolean ok;

  if (!commit_batch (self, error))
    return FALSE;
  if (!exec_sql (self, "PRAGMA synchronous = FULL", KANKYO_ALARM_JOURNAL_ERROR_WRITE,
                 _ ("make the commit durable (synchronous=FULL)"), error))
    return FALSE;
  ok = exec_sql (self, "BEGIN IMMEDIATE", KANKYO_ALARM_JOURNAL_ERROR_WRITE, _ ("start a transaction"), error);
  if (ok
      && !(insert_record (self, record, error)
           && exec_sql (self, "COMMIT", KANKYO_ALARM_JOURNAL_ERROR_WRITE, _ ("commit an operator action"),
                        error)))
    {
      rollback (self);
      ok = FALSE;
    }
  /* Back to batches; should this fail, batches are merely safer. */
  sqlite3_exec (self->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL);
  return ok;
}

static gboolean
append_batched (KankyoAlarmJournal *self, KankyoAlarmRecord *record, GError **error)
{
  if (!self->in_batch)
    {
      if (!exec_sql (self, "BEGIN IMMEDIATE", KANKYO_ALARM_JOURNAL_ERROR_WRITE, _ ("start a transaction"),
                     error))
        return FALSE;
      self->in_batch = TRUE;
      self->n_pending = 0;
      self->pending_since = g_get_monotonic_time ();
    }
  if (!insert_record (self, record, error))
    {
      /* SQLite undoes only the statement unless the failure was grave
       * enough to end the transaction, which takes the batch with it. */
      if (sqlite3_get_autocommit (self->db) && self->n_pending > 0)
        g_prefix_error (
            error,
            g_dngettext (GETTEXT_PACKAGE, "%u earlier record waiting for its commit is lost: ",
                         "%u earlier records waiting for their commit are lost: ", self->n_pending),
            self->n_pending);
      if (sqlite3_get_autocommit (self->db))
        rollback (self);
      return FALSE;
    }
  self->n_pending++;
  if (self->n_pending >= BATCH_MAX || g_get_monotonic_time () - self->pending_since >= BATCH_AGE_US)
    return commit_batch (self, error);
  return TRUE;
}

gboolean
kankyo_alarm_journal_append (KankyoAlarmJournal *self,
                             KankyoAlarmRecord *record,
                             gboolean durable,
                             GError **error)
{
  g_autoptr (GMutexLocker) locker = NULL;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (record != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_record (self, record, error))
    return FALSE;
  if (self->readonly)
    {
      g_set_error (error, KANKYO_ALARM_JOURNAL_ERROR, KANKYO_ALARM_JOURNAL_ERROR_WRITE,
                   _ ("Alarm journal %s: cannot append a record: the journal was opened read-only"),
                   self->path);
      return FALSE;
    }
  locker = g_mutex_locker_new (&self->lock);
  return durable ? append_durable (self, record, error) : append_batched (self, record, error);
}

gboolean
kankyo_alarm_journal_flush (KankyoAlarmJournal *self, GError **error)
{
  g_autoptr (GMutexLocker) locker = NULL;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  locker = g_mutex_locker_new (&self->lock);
  return commit_batch (self, error);
}

/* ---- searching ---- */

void
kankyo_alarm_query_init (KankyoAlarmQuery *query)
{
  g_return_if_fail (query != NULL);

  *query = (KankyoAlarmQuery){ 0 };
  query->min_priority = -1;
  query->event = -1;
}

static gboolean
check_query (KankyoAlarmJournal *self, const KankyoAlarmQuery *q, GError **error)
{
  const char *problem = NULL;

  if (q->from < 0 || q->to < 0 || q->from > MAX_TIME || q->to > MAX_TIME)
    problem = _ ("the period must lie between the years 1970 and 9999");
  else if (q->from != 0 && q->to != 0 && q->from >= q->to)
    problem = _ ("the period is empty: its start must be before its end");
  else if (q->min_priority < -1 || q->min_priority > KANKYO_ALARM_PRIORITY_HIGH)
    problem = _ ("the priority is not one of diagnostic, low, medium or high");
  else if (q->event < -1 || q->event == KANKYO_ALARM_EVENT_NONE || q->event > KANKYO_ALARM_EVENT_RESET)
    problem = _ ("the event is not one the journal records");
  else if ((q->states & ~ALL_STATES) != 0)
    problem = _ ("a state asked for does not exist");
  else if (q->limit > KANKYO_ALARM_JOURNAL_MAX_LIMIT)
    problem = _ ("at most 1000000 records can be asked for at once");
  if (problem != NULL)
    {
      g_set_error (error, KANKYO_ALARM_JOURNAL_ERROR, KANKYO_ALARM_JOURNAL_ERROR_INVALID,
                   _ ("Alarm journal %s: cannot search: %s"), self->path, problem);
      return FALSE;
    }
  return check_text (self, _ ("the tag searched for"), q->tag, NAME_BYTES, error)
         && check_text (self, _ ("the area searched for"), q->area, NAME_BYTES, error)
         && check_text (self, _ ("the user searched for"), q->user, NAME_BYTES, error);
}

static gboolean
is_set (const char *text)
{
  return text != NULL && *text != '\0';
}

/* "room1." finds every tag from "room1." up to, not including, "room1/":
 * '/' follows '.' in every encoding SQLite compares bytes with. */
static gboolean
tag_is_prefix (const char *tag)
{
  return g_str_has_suffix (tag, ".");
}

static char *
prefix_end (const char *tag)
{
  char *end = g_strdup (tag);

  end[strlen (end) - 1] = '/';
  return end;
}

/* The WHERE clause of @q; parameters ?1 to ?6. @alias qualifies columns. */
static void
append_filters (GString *sql, const KankyoAlarmQuery *q, gint64 to, const char *alias)
{
  if (q->from != 0)
    g_string_append_printf (sql, " AND %stime_us >= ?1", alias);
  if (to != 0)
    g_string_append_printf (sql, " AND %stime_us < ?2", alias);
  if (is_set (q->tag))
    g_string_append_printf (
        sql, tag_is_prefix (q->tag) ? " AND %stag >= ?3 AND %stag < ?4" : " AND %stag = ?3", alias, alias);
  if (is_set (q->area))
    g_string_append_printf (sql, " AND %sarea = ?5", alias);
  if (is_set (q->user))
    g_string_append_printf (sql, " AND %suser = ?6", alias);
  if (q->min_priority >= 0)
    g_string_append_printf (sql, " AND %spriority >= %d", alias, q->min_priority);
  if (q->event >= 0)
    g_string_append_printf (sql, " AND %sevent = '%s'", alias, kankyo_alarm_event_to_string (q->event));
  if (q->states != 0)
    {
      gboolean first = TRUE;

      g_string_append_printf (sql, " AND %sstate IN (", alias);
      for (int s = 0; s <= KANKYO_ALARM_STATE_OUT_OF_SERVICE; s++)
        if (q->states & (1u << s))
          {
            g_string_append_printf (sql, "%s'%s'", first ? "" : ", ", kankyo_alarm_state_to_string (s));
            first = FALSE;
          }
      g_string_append_c (sql, ')');
    }
}

static void
bind_filters (sqlite3_stmt *stmt, const KankyoAlarmQuery *q, gint64 to, char **ret_prefix_end)
{
  if (q->from != 0)
    sqlite3_bind_int64 (stmt, 1, q->from);
  if (to != 0)
    sqlite3_bind_int64 (stmt, 2, to);
  if (is_set (q->tag))
    {
      sqlite3_bind_text (stmt, 3, q->tag, -1, SQLITE_STATIC);
      if (tag_is_prefix (q->tag))
        {
          *ret_prefix_end = prefix_end (q->tag);
          sqlite3_bind_text (stmt, 4, *ret_prefix_end, -1, SQLITE_STATIC);
        }
    }
  if (is_set (q->area))
    sqlite3_bind_text (stmt, 5, q->area, -1, SQLITE_STATIC);
  if (is_set (q->user))
    sqlite3_bind_text (stmt, 6, q->user, -1, SQLITE_STATIC);
}

/* Appends to @records up to @limit records of @q after the record
 * (@after_time, @after_seq) in the query's order (all when !@after). */
static gboolean
search_page (KankyoAlarmJournal *self,
             const KankyoAlarmQuery *q,
             gboolean after,
             gint64 after_time,
             gint64 after_seq,
             guint limit,
             GArray *records,
             GError **error)
{
  g_autoptr (GString) sql = g_string_new ("SELECT " RECORD_COLUMNS " FROM alarm_journal WHERE 1");
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autofree char *end = NULL;
  int rc;

  append_filters (sql, q, q->to, "");
  if (after)
    g_string_append (sql,
                     q->newest_first ? " AND (time_us, seq) < (?7, ?8)" : " AND (time_us, seq) > (?7, ?8)");
  g_string_append (sql, q->newest_first ? " ORDER BY time_us DESC, seq DESC" : " ORDER BY time_us, seq");
  g_string_append (sql, " LIMIT ?9");

  stmt = prepare (self, sql->str, KANKYO_ALARM_JOURNAL_ERROR_READ, _ ("prepare the search"), error);
  if (stmt == NULL)
    return FALSE;
  bind_filters (stmt, q, q->to, &end);
  if (after)
    {
      sqlite3_bind_int64 (stmt, 7, after_time);
      sqlite3_bind_int64 (stmt, 8, after_seq);
    }
  sqlite3_bind_int64 (stmt, 9, limit);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      KankyoAlarmRecord record;

      if (!record_from_row (self, stmt, &record, error))
        return FALSE;
      g_array_append_val (records, record);
    }
  if (rc != SQLITE_DONE)
    {
      set_db_error (self, error, KANKYO_ALARM_JOURNAL_ERROR_READ, _ ("read the records"));
      return FALSE;
    }
  return TRUE;
}

static guint
query_limit (const KankyoAlarmQuery *q)
{
  return q->limit != 0 ? q->limit : KANKYO_ALARM_JOURNAL_DEFAULT_LIMIT;
}

GArray *
kankyo_alarm_journal_search (KankyoAlarmJournal *self, const KankyoAlarmQuery *query, GError **error)
{
  g_autoptr (GArray) records = NULL;
  g_autoptr (GMutexLocker) locker = NULL;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (query != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_query (self, query, error))
    return NULL;
  records = record_array_new ();
  locker = g_mutex_locker_new (&self->lock);
  if (!search_page (self, query, FALSE, 0, 0, query_limit (query), records, error))
    return NULL;
  return g_steal_pointer (&records);
}

/* The newest record of each alarm before @to (0: all) whose state is not
 * NORMAL, filtered by @q's tag, area, min_priority and states. The alarm
 * ids are walked through their index one after the other, so the cost
 * grows with the number of alarms, not of records. */
static GArray *
list_latest (KankyoAlarmJournal *self, const KankyoAlarmQuery *q, gint64 to, guint limit, GError **error)
{
  g_autoptr (GString) sql = g_string_new (NULL);
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autoptr (GArray) records = record_array_new ();
  g_autofree char *end = NULL;
  KankyoAlarmQuery filters = *q;
  int rc;

  /* Which record is an alarm's newest depends only on the time; the
   * filters apply to that record. */
  filters.from = 0;
  filters.user = NULL;
  filters.event = -1;
  g_string_append_printf (sql,
                          "WITH RECURSIVE ids (id) AS ("
                          "  SELECT min (alarm_id) FROM alarm_journal"
                          "  UNION ALL"
                          "  SELECT (SELECT min (alarm_id) FROM alarm_journal WHERE alarm_id > ids.id)"
                          "  FROM ids WHERE ids.id IS NOT NULL)"
                          " SELECT " RECORD_COLUMNS " FROM alarm_journal j"
                          " WHERE j.seq IN (SELECT (SELECT k.seq FROM alarm_journal k"
                          "                         WHERE k.alarm_id = ids.id%s"
                          "                         ORDER BY k.time_us DESC, k.seq DESC LIMIT 1)"
                          "                 FROM ids WHERE ids.id IS NOT NULL)"
                          " AND j.state <> '%s'",
                          to != 0 ? " AND k.time_us < ?2" : "",
                          kankyo_alarm_state_to_string (KANKYO_ALARM_STATE_NORMAL));
  filters.to = 0;
  append_filters (sql, &filters, 0, "j.");
  g_string_append (sql, " ORDER BY j.priority DESC, j.time_us DESC, j.seq DESC LIMIT ?9");

  stmt = prepare (self, sql->str, KANKYO_ALARM_JOURNAL_ERROR_READ, _ ("prepare the search"), error);
  if (stmt == NULL)
    return NULL;
  bind_filters (stmt, &filters, 0, &end);
  if (to != 0)
    sqlite3_bind_int64 (stmt, 2, to);
  sqlite3_bind_int64 (stmt, 9, limit);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      KankyoAlarmRecord record;

      if (!record_from_row (self, stmt, &record, error))
        return NULL;
      g_array_append_val (records, record);
    }
  if (rc != SQLITE_DONE)
    {
      set_db_error (self, error, KANKYO_ALARM_JOURNAL_ERROR_READ, _ ("read the standing alarms"));
      return NULL;
    }
  return g_steal_pointer (&records);
}

GArray *
kankyo_alarm_journal_list_active (KankyoAlarmJournal *self, const KankyoAlarmQuery *query, GError **error)
{
  KankyoAlarmQuery q;
  g_autoptr (GMutexLocker) locker = NULL;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (query != NULL)
    q = *query;
  else
    kankyo_alarm_query_init (&q);
  q.from = 0;
  if (!check_query (self, &q, error))
    return NULL;
  locker = g_mutex_locker_new (&self->lock);
  return list_latest (self, &q, q.to, query_limit (&q), error);
}

/* ---- CSV ---- */

/* ISO 8601 in UTC with microseconds; @us is within [0, MAX_TIME]. */
static void
append_iso_time (GString *text, gint64 us)
{
  g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (us / G_USEC_PER_SEC);
  g_autofree char *base = g_date_time_format (dt, "%Y-%m-%dT%H:%M:%S");

  g_string_append_printf (text, "%s.%06dZ", base, (int) (us % G_USEC_PER_SEC));
}

static void
append_csv_field (GString *text, const char *field)
{
  if (field == NULL)
    return;
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

/* The fewest digits that read back as @value, with "." whatever the
 * locale; nothing for NAN. */
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

static void
append_csv_record (GString *text, const KankyoAlarmRecord *r)
{
  g_string_append_printf (text, "%" G_GINT64_FORMAT ",", r->seq);
  append_iso_time (text, r->time);
  g_string_append_c (text, ',');
  append_csv_field (text, r->alarm_id);
  g_string_append_c (text, ',');
  append_csv_field (text, r->tag);
  g_string_append_c (text, ',');
  append_csv_field (text, r->device);
  g_string_append_c (text, ',');
  append_csv_field (text, r->area);
  g_string_append_printf (text, ",%s,%s,%s,", kankyo_alarm_priority_to_string (r->priority),
                          kankyo_alarm_event_to_string (r->event), kankyo_alarm_state_to_string (r->state));
  append_csv_number (text, r->value);
  g_string_append_c (text, ',');
  append_csv_field (text, r->message);
  g_string_append_c (text, ',');
  append_csv_field (text, r->user);
  g_string_append_c (text, ',');
  append_csv_field (text, r->reason);
  g_string_append (text, "\r\n");
}

static gboolean
write_text (
    KankyoAlarmJournal *self, GOutputStream *out, GString *text, GCancellable *cancellable, GError **error)
{
  g_autoptr (GError) local = NULL;

  if (!g_output_stream_write_all (out, text->str, text->len, NULL, cancellable, &local))
    {
      if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_propagate_error (error, g_steal_pointer (&local));
      else
        g_set_error (error, KANKYO_ALARM_JOURNAL_ERROR, KANKYO_ALARM_JOURNAL_ERROR_WRITE,
                     _ ("Alarm journal %s: cannot write the export: %s"), self->path, local->message);
      return FALSE;
    }
  g_string_truncate (text, 0);
  return TRUE;
}

gboolean
kankyo_alarm_journal_export_csv (KankyoAlarmJournal *self,
                                 const KankyoAlarmQuery *query,
                                 GOutputStream *out,
                                 GCancellable *cancellable,
                                 GError **error)
{
  g_autoptr (GString) text = g_string_new ("seq,time,alarm,tag,device,area,priority,event,state,value,"
                                           "message,user,reason\r\n");
  g_autoptr (GArray) page = record_array_new ();
  gboolean after = FALSE;
  gint64 after_time = 0, after_seq = 0;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (query != NULL, FALSE);
  g_return_val_if_fail (G_IS_OUTPUT_STREAM (out), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_query (self, query, error))
    return FALSE;
  /* Page by page, each a search of its own that resumes after the last
   * record written: the lock is never held for a whole year of records. */
  do
    {
      g_autoptr (GMutexLocker) locker = NULL;
      gboolean ok;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      g_array_set_size (page, 0);
      locker = g_mutex_locker_new (&self->lock);
      ok = search_page (self, query, after, after_time, after_seq, EXPORT_PAGE, page, error);
      g_clear_pointer (&locker, g_mutex_locker_free);
      if (!ok)
        return FALSE;
      for (guint i = 0; i < page->len; i++)
        {
          append_csv_record (text, &g_array_index (page, KankyoAlarmRecord, i));
          if (text->len >= FLUSH_BYTES && !write_text (self, out, text, cancellable, error))
            return FALSE;
        }
      if (page->len > 0)
        {
          const KankyoAlarmRecord *last = &g_array_index (page, KankyoAlarmRecord, page->len - 1);

          after = TRUE;
          after_time = last->time;
          after_seq = last->seq;
        }
    }
  while (page->len == EXPORT_PAGE);
  return write_text (self, out, text, cancellable, error);
}

/* ---- performance ---- */

#define TALLY_PAGE 65536

typedef struct
{
  char *alarm_id;
  char *message; /* of its newest activation */
  guint n_activations;
  guint n_chatter;
  gboolean cleared;
  gint64 last_clear;
} Tally;

static void
tally_free (Tally *tally)
{
  g_free (tally->alarm_id);
  g_free (tally->message);
  g_free (tally);
}

typedef struct
{
  gint64 from, to;
  GArray *times;      /* gint64: the activations, in time order */
  GHashTable *alarms; /* alarm id -> Tally */
  GHashTable *areas;  /* area -> activations, as a pointer */
} Tallies;

static void
area_rate_clear (KankyoAlarmAreaRate *rate)
{
  g_free (rate->area);
}

static void
actor_clear (KankyoAlarmActor *actor)
{
  g_free (actor->alarm_id);
  g_free (actor->message);
}

static void
stale_clear (KankyoAlarmStale *stale)
{
  g_free (stale->alarm_id);
  g_free (stale->message);
}

void
kankyo_alarm_performance_free (KankyoAlarmPerformance *performance)
{
  if (performance == NULL)
    return;
  g_clear_pointer (&performance->areas, g_array_unref);
  g_clear_pointer (&performance->floods, g_array_unref);
  g_clear_pointer (&performance->chattering, g_array_unref);
  g_clear_pointer (&performance->stale, g_array_unref);
  g_clear_pointer (&performance->top_ten, g_array_unref);
  g_free (performance);
}

/* Counts one page of activations and clears after (@after_time,
 * @after_seq); sets @ret_n to the rows read. */
static gboolean
tally_page (KankyoAlarmJournal *self,
            Tallies *t,
            gboolean after,
            gint64 *after_time,
            gint64 *after_seq,
            guint *ret_n,
            GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  const char *activate = kankyo_alarm_event_to_string (KANKYO_ALARM_EVENT_ACTIVATE);
  const char *unack = kankyo_alarm_state_to_string (KANKYO_ALARM_STATE_UNACK);
  g_autofree char *sql
      = g_strdup_printf ("SELECT time_us, seq, alarm_id, area, event, state, message FROM alarm_journal"
                         " WHERE time_us >= ?1 AND time_us < ?2 AND event IN ('%s', '%s')%s"
                         " ORDER BY time_us, seq LIMIT %d",
                         activate, kankyo_alarm_event_to_string (KANKYO_ALARM_EVENT_CLEAR),
                         after ? " AND (time_us, seq) > (?3, ?4)" : "", TALLY_PAGE);
  guint n = 0;
  int rc;

  stmt = prepare (self, sql, KANKYO_ALARM_JOURNAL_ERROR_READ, _ ("prepare the performance figures"), error);
  if (stmt == NULL)
    return FALSE;
  /* Clears from a minute before the period: an activation at its start
   * may chatter on one. */
  sqlite3_bind_int64 (stmt, 1, MAX (0, t->from - CHATTER_US));
  sqlite3_bind_int64 (stmt, 2, t->to);
  if (after)
    {
      sqlite3_bind_int64 (stmt, 3, *after_time);
      sqlite3_bind_int64 (stmt, 4, *after_seq);
    }
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 time = sqlite3_column_int64 (stmt, 0);
      const char *id = (const char *) sqlite3_column_text (stmt, 2);
      const char *event = (const char *) sqlite3_column_text (stmt, 4);
      const char *state = (const char *) sqlite3_column_text (stmt, 5);
      Tally *tally;
      char *area;

      n++;
      *after_time = time;
      *after_seq = sqlite3_column_int64 (stmt, 1);
      if (id == NULL)
        continue;
      tally = g_hash_table_lookup (t->alarms, id);
      if (tally == NULL)
        {
          tally = g_new0 (Tally, 1);
          tally->alarm_id = g_strdup (id);
          g_hash_table_insert (t->alarms, tally->alarm_id, tally);
        }
      if (g_strcmp0 (event, activate) != 0)
        {
          tally->cleared = TRUE;
          tally->last_clear = time;
          continue;
        }
      if (time < t->from || g_strcmp0 (state, unack) != 0)
        continue;
      if (t->times->len >= MAX_ACTIVATIONS)
        {
          g_set_error (error, KANKYO_ALARM_JOURNAL_ERROR, KANKYO_ALARM_JOURNAL_ERROR_INVALID,
                       _ ("Alarm journal %s: the period holds more than %d alarms; choose a shorter period"),
                       self->path, MAX_ACTIVATIONS);
          return FALSE;
        }
      g_array_append_val (t->times, time);
      tally->n_activations++;
      if (tally->cleared && time - tally->last_clear <= CHATTER_US)
        tally->n_chatter++;
      g_free (tally->message);
      tally->message = column_dup_required (stmt, 6);
      area = column_dup_required (stmt, 3);
      g_hash_table_replace (t->areas, area,
                            GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (t->areas, area)) + 1));
    }
  if (rc != SQLITE_DONE)
    {
      set_db_error (self, error, KANKYO_ALARM_JOURNAL_ERROR_READ, _ ("read the alarms of the period"));
      return FALSE;
    }
  *ret_n = n;
  return TRUE;
}

/* Floods as defined at the top of this file. N(t) changes only where an
 * activation arrives (a) or leaves the window (a + W), so those instants
 * are visited in order, everything at one instant together: @arrived
 * counts the activations with a <= t, @left those with a <= t - W. */
static void
find_floods (const gint64 *a, guint n, gint64 from, gint64 to, GArray *floods, gint64 *ret_flood_time)
{
  guint arrived = 0, left = 0, first = 0;
  gboolean in_flood = FALSE;
  gint64 previous_end = from;
  gint64 flood_time = 0;

  for (;;)
    {
      gint64 next_arrival = arrived < n ? a[arrived] : G_MAXINT64;
      gint64 next_leaving = left < arrived ? a[left] + FLOOD_WINDOW_US : G_MAXINT64;
      gint64 t = MIN (next_arrival, next_leaving);
      guint count;

      if (t >= to)
        break;
      while (arrived < n && a[arrived] <= t)
        arrived++;
      while (left < arrived && a[left] <= t - FLOOD_WINDOW_US)
        left++;
      count = arrived - left;
      if (!in_flood && count > FLOOD_START_ABOVE)
        {
          in_flood = TRUE;
          first = left;
          while (first < arrived && a[first] < previous_end)
            first++;
        }
      else if (in_flood && count < FLOOD_END_BELOW)
        {
          KankyoAlarmFlood flood = { a[first], t, 0 };
          guint end = arrived;

          while (end > first && a[end - 1] >= t)
            end--;
          flood.n_alarms = end - first;
          g_array_append_val (floods, flood);
          flood_time += t - a[first];
          previous_end = t;
          in_flood = FALSE;
        }
    }
  if (in_flood)
    {
      KankyoAlarmFlood flood = { a[first], to, n - first };

      g_array_append_val (floods, flood);
      flood_time += to - a[first];
    }
  *ret_flood_time = flood_time;
}

static gint
compare_actors (gconstpointer pa, gconstpointer pb)
{
  const KankyoAlarmActor *a = pa, *b = pb;

  if (a->n_activations != b->n_activations)
    return a->n_activations > b->n_activations ? -1 : 1;
  return strcmp (a->alarm_id, b->alarm_id);
}

static gint
compare_chatter (gconstpointer pa, gconstpointer pb)
{
  const KankyoAlarmActor *a = pa, *b = pb;

  if (a->n_chatter != b->n_chatter)
    return a->n_chatter > b->n_chatter ? -1 : 1;
  return compare_actors (pa, pb);
}

static gint
compare_areas (gconstpointer pa, gconstpointer pb)
{
  const KankyoAlarmAreaRate *a = pa, *b = pb;

  if (a->n_alarms != b->n_alarms)
    return a->n_alarms > b->n_alarms ? -1 : 1;
  return strcmp (a->area, b->area);
}

static gint
compare_stale (gconstpointer pa, gconstpointer pb)
{
  const KankyoAlarmStale *a = pa, *b = pb;

  if (a->active_since != b->active_since)
    return a->active_since < b->active_since ? -1 : 1;
  return strcmp (a->alarm_id, b->alarm_id);
}

static KankyoAlarmActor
actor_copy (const KankyoAlarmActor *actor)
{
  return (KankyoAlarmActor){ g_strdup (actor->alarm_id), g_strdup (actor->message), actor->n_activations,
                             actor->n_chatter };
}

/* The chattering alarms and the top ten; @alarms keeps the strings of the
 * actors sorted here. */
static void
fill_actors (KankyoAlarmPerformance *p, GHashTable *alarms)
{
  g_autoptr (GArray) all = g_array_new (FALSE, TRUE, sizeof (KankyoAlarmActor));
  GHashTableIter iter;
  Tally *tally;

  g_hash_table_iter_init (&iter, alarms);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &tally))
    if (tally->n_activations > 0)
      {
        KankyoAlarmActor actor = { tally->alarm_id, tally->message, tally->n_activations, tally->n_chatter };

        g_array_append_val (all, actor);
      }

  g_array_sort (all, compare_chatter);
  for (guint i = 0; i < all->len && g_array_index (all, KankyoAlarmActor, i).n_chatter >= CHATTER_MIN; i++)
    {
      KankyoAlarmActor copy = actor_copy (&g_array_index (all, KankyoAlarmActor, i));

      g_array_append_val (p->chattering, copy);
    }
  g_array_sort (all, compare_actors);
  for (guint i = 0; i < all->len && i < TOP_ACTORS; i++)
    {
      KankyoAlarmActor copy = actor_copy (&g_array_index (all, KankyoAlarmActor, i));

      g_array_append_val (p->top_ten, copy);
    }
}

static void
fill_areas (KankyoAlarmPerformance *p, GHashTable *areas, double hours)
{
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, areas);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      KankyoAlarmAreaRate rate = { g_strdup (key), GPOINTER_TO_UINT (value), 0 };

      rate.alarms_per_hour = rate.n_alarms / hours;
      g_array_append_val (p->areas, rate);
    }
  g_array_sort (p->areas, compare_areas);
}

/* Alarms active without a break for more than STALE_US at @to. */
static gboolean
find_stale (KankyoAlarmJournal *self, gint64 to, GArray *stale, GError **error)
{
  g_autofree char *last_break_sql
      = g_strdup_printf ("SELECT time_us, seq FROM alarm_journal WHERE alarm_id = ?1 AND time_us < ?2"
                         " AND state NOT IN ('%s', '%s') ORDER BY time_us DESC, seq DESC LIMIT 1",
                         kankyo_alarm_state_to_string (KANKYO_ALARM_STATE_UNACK),
                         kankyo_alarm_state_to_string (KANKYO_ALARM_STATE_ACKED));
  g_autoptr (sqlite3_stmt) last_break = NULL;
  g_autoptr (sqlite3_stmt) run_start = NULL;
  g_autoptr (GArray) standing = NULL;
  KankyoAlarmQuery active;

  kankyo_alarm_query_init (&active);
  active.states = ACTIVE_STATES;
  standing = list_latest (self, &active, to, G_MAXUINT, error);
  if (standing == NULL)
    return FALSE;
  last_break
      = prepare (self, last_break_sql, KANKYO_ALARM_JOURNAL_ERROR_READ, _ ("find the stale alarms"), error);
  run_start = prepare (self,
                       "SELECT time_us FROM alarm_journal WHERE alarm_id = ?1 AND time_us < ?2"
                       " AND (time_us, seq) > (?3, ?4) ORDER BY time_us, seq LIMIT 1",
                       KANKYO_ALARM_JOURNAL_ERROR_READ, _ ("find the stale alarms"), error);
  if (last_break == NULL || run_start == NULL)
    return FALSE;

  for (guint i = 0; i < standing->len; i++)
    {
      const KankyoAlarmRecord *r = &g_array_index (standing, KankyoAlarmRecord, i);
      gint64 break_time = -1, break_seq = -1;
      int rc;

      sqlite3_reset (last_break);
      sqlite3_bind_text (last_break, 1, r->alarm_id, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (last_break, 2, to);
      rc = sqlite3_step (last_break);
      if (rc == SQLITE_ROW)
        {
          break_time = sqlite3_column_int64 (last_break, 0);
          break_seq = sqlite3_column_int64 (last_break, 1);
        }
      else if (rc != SQLITE_DONE)
        {
          set_db_error (self, error, KANKYO_ALARM_JOURNAL_ERROR_READ, _ ("find the stale alarms"));
          return FALSE;
        }
      sqlite3_reset (run_start);
      sqlite3_bind_text (run_start, 1, r->alarm_id, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (run_start, 2, to);
      sqlite3_bind_int64 (run_start, 3, break_time);
      sqlite3_bind_int64 (run_start, 4, break_seq);
      if (sqlite3_step (run_start) != SQLITE_ROW)
        {
          set_db_error (self, error, KANKYO_ALARM_JOURNAL_ERROR_READ, _ ("find the stale alarms"));
          return FALSE;
        }
      if (to - sqlite3_column_int64 (run_start, 0) > STALE_US)
        {
          KankyoAlarmStale s
              = { g_strdup (r->alarm_id), g_strdup (r->message), sqlite3_column_int64 (run_start, 0) };

          g_array_append_val (stale, s);
        }
    }
  sqlite3_reset (last_break);
  sqlite3_reset (run_start);
  g_array_sort (stale, compare_stale);
  return TRUE;
}

static GArray *
typed_array (gsize size, GDestroyNotify clear)
{
  GArray *array = g_array_new (FALSE, TRUE, size);

  if (clear != NULL)
    g_array_set_clear_func (array, clear);
  return array;
}

KankyoAlarmPerformance *
kankyo_alarm_journal_performance (KankyoAlarmJournal *self, gint64 from, gint64 to, GError **error)
{
  g_autoptr (KankyoAlarmPerformance) p = NULL;
  g_autoptr (GArray) times = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr (GHashTable) alarms
      = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) tally_free);
  g_autoptr (GHashTable) areas = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  Tallies t = { from, to, times, alarms, areas };
  gint64 after_time = 0, after_seq = 0, flood_time = 0;
  gboolean after = FALSE;
  double hours;
  guint n;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (from < 0 || to > MAX_TIME || from >= to)
    {
      g_set_error (
          error, KANKYO_ALARM_JOURNAL_ERROR, KANKYO_ALARM_JOURNAL_ERROR_INVALID,
          _ ("Alarm journal %s: the period must have a start before its end, between the years 1970 and "
             "9999"),
          self->path);
      return NULL;
    }

  do
    {
      g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);

      if (!tally_page (self, &t, after, &after_time, &after_seq, &n, error))
        return NULL;
      after = TRUE;
    }
  while (n == TALLY_PAGE);

  p = g_new0 (KankyoAlarmPerformance, 1);
  p->from = from;
  p->to = to;
  p->areas = typed_array (sizeof (KankyoAlarmAreaRate), (GDestroyNotify) area_rate_clear);
  p->floods = typed_array (sizeof (KankyoAlarmFlood), NULL);
  p->chattering = typed_array (sizeof (KankyoAlarmActor), (GDestroyNotify) actor_clear);
  p->stale = typed_array (sizeof (KankyoAlarmStale), (GDestroyNotify) stale_clear);
  p->top_ten = typed_array (sizeof (KankyoAlarmActor), (GDestroyNotify) actor_clear);

  hours = (double) (to - from) / HOUR_US;
  p->n_activations = times->len;
  p->alarms_per_hour = times->len / hours;
  find_floods ((const gint64 *) (gpointer) times->data, times->len, from, to, p->floods, &flood_time);
  p->percent_time_in_flood = 100.0 * (double) flood_time / (double) (to - from);
  fill_areas (p, areas, hours);
  fill_actors (p, alarms);
  {
    g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);

    if (!find_stale (self, to, p->stale, error))
      return NULL;
  }
  return g_steal_pointer (&p);
}

/* ---- PDF ---- */

/* Layout, in points, and fonts: those of the trend report. */
#define PAGE_WIDTH 841.89 /* A4 landscape */
#define PAGE_HEIGHT 595.28
#define MARGIN 36.0
#define HEADER_HEIGHT 58.0
#define FOOTER_HEIGHT 16.0
#define TABLE_ROW 16.0
#define SECTION_GAP 14.0
#define SECTION_TITLE 20.0
#define BODY_BOTTOM (PAGE_HEIGHT - MARGIN - FOOTER_HEIGHT)
#define FONT_FAMILY "Sans"
#define FONT_TITLE FONT_FAMILY " Bold 15"
#define FONT_PLANT FONT_FAMILY " Bold 11"
#define FONT_BODY FONT_FAMILY " 9"
#define FONT_BODY_BOLD FONT_FAMILY " Bold 9"
#define FONT_SMALL FONT_FAMILY " 7.5"
/* Rows a table prints; a year of floods would otherwise fill a book. */
#define PDF_MAX_ROWS 500
#define PDF_MAX_BYTES (64 * 1024 * 1024)

typedef enum
{
  ALIGN_LEFT,
  ALIGN_RIGHT,
} Align;

typedef struct
{
  const char *title;
  double x;     /* left edge of text, right edge of numbers */
  double width; /* of text, ellipsized beyond; 0 for numbers */
  Align align;
} Column;

/* Pages are laid out twice: once without @cr to count them, for "Page n
 * of m", then drawn. */
typedef struct
{
  cairo_t *cr;
  PangoContext *pango;
  const KankyoAlarmPerformance *p;
  const char *title, *plant;
  char *period, *made;
  int page, n_pages;
  double y;
} Doc;

static void
draw_text (Doc *d, const char *font, double x, double y, Align align, double max_width, const char *text)
{
  g_autoptr (PangoLayout) layout = NULL;
  PangoFontDescription *desc;
  int width, height;

  if (d->cr == NULL)
    return;
  layout = pango_layout_new (d->pango);
  desc = pango_font_description_from_string (font);
  pango_layout_set_font_description (layout, desc);
  pango_font_description_free (desc);
  if (max_width > 0)
    {
      pango_layout_set_width (layout, (int) (max_width * PANGO_SCALE));
      pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_END);
      pango_layout_set_single_paragraph_mode (layout, TRUE);
    }
  pango_layout_set_alignment (layout, align == ALIGN_RIGHT ? PANGO_ALIGN_RIGHT : PANGO_ALIGN_LEFT);
  pango_layout_set_text (layout, text, -1);
  pango_layout_get_size (layout, &width, &height);
  if (align == ALIGN_RIGHT)
    x -= (double) width / PANGO_SCALE;
  cairo_move_to (d->cr, x, y);
  pango_cairo_show_layout (d->cr, layout);
}

static void
draw_rule (Doc *d, double y, double width)
{
  if (d->cr == NULL)
    return;
  cairo_set_line_width (d->cr, width);
  cairo_move_to (d->cr, MARGIN, y);
  cairo_line_to (d->cr, PAGE_WIDTH - MARGIN, y);
  cairo_stroke (d->cr);
}

static void
new_page (Doc *d)
{
  if (d->cr != NULL && d->page > 0)
    cairo_show_page (d->cr);
  d->page++;
  d->y = MARGIN + HEADER_HEIGHT;
  if (d->cr != NULL)
    {
      g_autofree char *page_text = g_strdup_printf (_ ("Page %d of %d"), d->page, d->n_pages);
      double right = PAGE_WIDTH - MARGIN;

      cairo_set_source_rgb (d->cr, 0, 0, 0);
      draw_text (d, FONT_TITLE, MARGIN, MARGIN, ALIGN_LEFT, (right - MARGIN) * 0.6, d->title);
      draw_text (d, FONT_PLANT, right, MARGIN + 3, ALIGN_RIGHT, 0, d->plant);
      draw_text (d, FONT_BODY, MARGIN, MARGIN + 24, ALIGN_LEFT, 0, d->period);
      draw_text (d, FONT_BODY, MARGIN, MARGIN + 37, ALIGN_LEFT, 0, d->made);
      draw_rule (d, MARGIN + HEADER_HEIGHT - 7, 0.8);
      draw_text (d, FONT_SMALL, right, PAGE_HEIGHT - MARGIN - 9, ALIGN_RIGHT, 0, page_text);
    }
}

static void
table_header (Doc *d, const Column *columns, guint n)
{
  for (guint i = 0; i < n; i++)
    draw_text (d, FONT_BODY_BOLD, columns[i].x, d->y + 3, columns[i].align, 0, columns[i].title);
  d->y += TABLE_ROW;
  draw_rule (d, d->y, 0.6);
}

static void
table_row (Doc *d, const Column *columns, guint n, guint index, const char *const *cells)
{
  if (d->y + TABLE_ROW > BODY_BOTTOM)
    {
      new_page (d);
      table_header (d, columns, n);
    }
  if (d->cr != NULL && index % 2 == 1)
    {
      cairo_set_source_rgb (d->cr, 0.94, 0.94, 0.94);
      cairo_rectangle (d->cr, MARGIN, d->y, PAGE_WIDTH - 2 * MARGIN, TABLE_ROW);
      cairo_fill (d->cr);
      cairo_set_source_rgb (d->cr, 0, 0, 0);
    }
  for (guint i = 0; i < n; i++)
    draw_text (d, FONT_BODY, columns[i].x, d->y + 3, columns[i].align, columns[i].width, cells[i]);
  d->y += TABLE_ROW;
}

/* A section's title and note, kept on one page with its table's header and
 * first row. */
static void
section (Doc *d, const char *title, const char *note)
{
  double need = SECTION_TITLE + (note != NULL ? 12 : 0) + 2 * TABLE_ROW;

  if (d->y > MARGIN + HEADER_HEIGHT)
    d->y += SECTION_GAP;
  if (d->y + need > BODY_BOTTOM)
    new_page (d);
  draw_text (d, FONT_PLANT, MARGIN, d->y, ALIGN_LEFT, 0, title);
  d->y += SECTION_TITLE;
  if (note != NULL)
    {
      draw_text (d, FONT_SMALL, MARGIN, d->y - 4, ALIGN_LEFT, 0, note);
      d->y += 12;
    }
}

/* What a table says when it has no rows, or more than it prints. */
static void
table_end (Doc *d, guint shown, guint total)
{
  g_autofree char *more = NULL;

  if (total == 0)
    more = g_strdup (_ ("None in this period."));
  else if (total > shown)
    more = g_strdup_printf (_ ("… and %u more, not shown."), total - shown);
  else
    return;
  if (d->y + TABLE_ROW > BODY_BOTTOM)
    new_page (d);
  draw_text (d, FONT_BODY, MARGIN + 4, d->y + 3, ALIGN_LEFT, 0, more);
  d->y += TABLE_ROW;
}

/* A time as people read it: local, to the second, with the zone. */
static char *
format_local_time (gint64 us)
{
  g_autoptr (GDateTime) utc = g_date_time_new_from_unix_utc (us / G_USEC_PER_SEC);
  g_autoptr (GDateTime) local = g_date_time_to_local (utc);

  return g_date_time_format (local, "%Y-%m-%d %H:%M:%S %:z");
}

static char *
format_duration (gint64 us)
{
  gint64 s = us / G_USEC_PER_SEC;

  return g_strdup_printf ("%d:%02d:%02d", (int) (s / 3600), (int) (s / 60 % 60), (int) (s % 60));
}

static char *
format_fixed (double value, int digits)
{
  char format[8], buf[G_ASCII_DTOSTR_BUF_SIZE];

  g_snprintf (format, sizeof format, "%%.%df", digits);
  return g_strdup (g_ascii_formatd (buf, sizeof buf, format, value));
}

static void
draw_figures (Doc *d)
{
  const KankyoAlarmPerformance *p = d->p;
  const Column columns[] = {
    { _ ("Figure"), MARGIN + 4, 300, ALIGN_LEFT },
    { _ ("Value"), MARGIN + 400, 0, ALIGN_RIGHT },
    { _ ("Note"), MARGIN + 430, 330, ALIGN_LEFT },
  };
  g_autofree char *n = g_strdup_printf ("%u", p->n_activations);
  g_autofree char *rate = format_fixed (p->alarms_per_hour, 2);
  g_autofree char *floods = g_strdup_printf ("%u", p->floods->len);
  g_autofree char *percent = format_fixed (p->percent_time_in_flood, 2);
  g_autofree char *chattering = g_strdup_printf ("%u", p->chattering->len);
  g_autofree char *stale = g_strdup_printf ("%u", p->stale->len);
  const char *rows[][3] = {
    { _ ("Alarms (activations)"), n, "" },
    { _ ("Alarms per hour"), rate, _ ("about 6 acceptable, 12 manageable") },
    { _ ("Floods"), floods, _ ("more than 10 alarms in 10 minutes, until fewer than 5") },
    { _ ("Time in flood (%)"), percent, _ ("below 1 %") },
    { _ ("Chattering alarms"), chattering, _ ("3 or more alarms within 60 s of returning to normal") },
    { _ ("Stale alarms"), stale, _ ("active for more than 24 hours at the end of the period") },
  };

  section (d, _ ("Alarm performance"), NULL);
  table_header (d, columns, G_N_ELEMENTS (columns));
  for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
    table_row (d, columns, G_N_ELEMENTS (columns), i, rows[i]);
}

static void
draw_areas (Doc *d)
{
  const GArray *areas = d->p->areas;
  const Column columns[] = {
    { _ ("Area"), MARGIN + 4, 400, ALIGN_LEFT },
    { C_ ("column: a count", "Alarms"), MARGIN + 560, 0, ALIGN_RIGHT },
    { _ ("Alarms per hour"), PAGE_WIDTH - MARGIN - 4, 0, ALIGN_RIGHT },
  };
  guint shown = MIN (areas->len, PDF_MAX_ROWS);

  section (d, _ ("Alarms per area"), NULL);
  table_header (d, columns, G_N_ELEMENTS (columns));
  for (guint i = 0; i < shown; i++)
    {
      const KankyoAlarmAreaRate *a = &g_array_index (areas, KankyoAlarmAreaRate, i);
      g_autofree char *n = g_strdup_printf ("%u", a->n_alarms);
      g_autofree char *rate = format_fixed (a->alarms_per_hour, 2);
      const char *cells[] = { *a->area != '\0' ? a->area : _ ("(no area)"), n, rate };

      table_row (d, columns, G_N_ELEMENTS (columns), i, cells);
    }
  table_end (d, shown, areas->len);
}

static void
draw_floods (Doc *d)
{
  const GArray *floods = d->p->floods;
  const Column columns[] = {
    { _ ("Start"), MARGIN + 4, 200, ALIGN_LEFT },
    { _ ("End"), MARGIN + 220, 200, ALIGN_LEFT },
    { _ ("Duration"), MARGIN + 560, 0, ALIGN_RIGHT },
    { C_ ("column: a count", "Alarms"), PAGE_WIDTH - MARGIN - 4, 0, ALIGN_RIGHT },
  };
  guint shown = MIN (floods->len, PDF_MAX_ROWS);

  section (d, _ ("Floods"),
           _ ("A flood starts when more than 10 alarms come within 10 minutes and ends when fewer than 5 "
              "came in the last 10 minutes."));
  table_header (d, columns, G_N_ELEMENTS (columns));
  for (guint i = 0; i < shown; i++)
    {
      const KankyoAlarmFlood *f = &g_array_index (floods, KankyoAlarmFlood, i);
      g_autofree char *start = format_local_time (f->start);
      g_autofree char *end = format_local_time (f->end);
      g_autofree char *duration = format_duration (f->end - f->start);
      g_autofree char *n = g_strdup_printf ("%u", f->n_alarms);
      const char *cells[] = { start, end, duration, n };

      table_row (d, columns, G_N_ELEMENTS (columns), i, cells);
    }
  table_end (d, shown, floods->len);
}

static void
draw_actors (Doc *d, const char *title, const char *note, const GArray *actors, gboolean ranked)
{
  const Column columns[] = {
    { _ ("Rank"), MARGIN + 28, 0, ALIGN_RIGHT },
    { _ ("Alarm"), MARGIN + 40, 250, ALIGN_LEFT },
    { _ ("Message"), MARGIN + 300, 290, ALIGN_LEFT },
    { C_ ("column: a count", "Alarms"), MARGIN + 670, 0, ALIGN_RIGHT },
    { _ ("Chattering"), PAGE_WIDTH - MARGIN - 4, 0, ALIGN_RIGHT },
  };
  guint first = ranked ? 0 : 1;
  guint shown = MIN (actors->len, PDF_MAX_ROWS);

  section (d, title, note);
  table_header (d, columns + first, G_N_ELEMENTS (columns) - first);
  for (guint i = 0; i < shown; i++)
    {
      const KankyoAlarmActor *a = &g_array_index (actors, KankyoAlarmActor, i);
      g_autofree char *rank = g_strdup_printf ("%u", i + 1);
      g_autofree char *n = g_strdup_printf ("%u", a->n_activations);
      g_autofree char *chatter = g_strdup_printf ("%u", a->n_chatter);
      const char *cells[] = { rank, a->alarm_id, a->message, n, chatter };

      table_row (d, columns + first, G_N_ELEMENTS (columns) - first, i, cells + first);
    }
  table_end (d, shown, actors->len);
}

static void
draw_stale (Doc *d)
{
  const GArray *stale = d->p->stale;
  const Column columns[] = {
    { _ ("Alarm"), MARGIN + 4, 250, ALIGN_LEFT },
    { _ ("Message"), MARGIN + 264, 250, ALIGN_LEFT },
    { _ ("Active since"), MARGIN + 524, 160, ALIGN_LEFT },
    { _ ("Hours active"), PAGE_WIDTH - MARGIN - 4, 0, ALIGN_RIGHT },
  };
  guint shown = MIN (stale->len, PDF_MAX_ROWS);

  section (d, _ ("Stale alarms"),
           _ ("Active without a break for more than 24 hours at the end of the period."));
  table_header (d, columns, G_N_ELEMENTS (columns));
  for (guint i = 0; i < shown; i++)
    {
      const KankyoAlarmStale *s = &g_array_index (stale, KankyoAlarmStale, i);
      g_autofree char *since = format_local_time (s->active_since);
      g_autofree char *hours = format_fixed ((double) (d->p->to - s->active_since) / HOUR_US, 1);
      const char *cells[] = { s->alarm_id, s->message, since, hours };

      table_row (d, columns, G_N_ELEMENTS (columns), i, cells);
    }
  table_end (d, shown, stale->len);
}

static void
lay_out (Doc *d)
{
  d->page = 0;
  new_page (d);
  draw_figures (d);
  draw_areas (d);
  draw_floods (d);
  draw_actors (d, _ ("Chattering alarms"),
               _ ("Alarms that came back 3 or more times within 60 seconds of returning to normal."),
               d->p->chattering, FALSE);
  draw_stale (d);
  draw_actors (d, _ ("Top ten alarms"), _ ("The alarms that came most often in the period."), d->p->top_ten,
               TRUE);
  if (d->cr != NULL)
    cairo_show_page (d->cr);
}

static cairo_status_t
append_bytes (void *closure, const unsigned char *data, unsigned int length)
{
  GByteArray *bytes = closure;

  if (bytes->len + (gsize) length > PDF_MAX_BYTES)
    return CAIRO_STATUS_WRITE_ERROR;
  g_byte_array_append (bytes, data, length);
  return CAIRO_STATUS_SUCCESS;
}

gboolean
kankyo_alarm_performance_write_pdf (const KankyoAlarmPerformance *performance,
                                    const char *plant,
                                    const char *path,
                                    GError **error)
{
  g_autoptr (GByteArray) bytes = g_byte_array_new ();
  g_autofree char *from = NULL, *to = NULL, *made = NULL, *display = NULL;
  g_autoptr (GError) local = NULL;
  cairo_surface_t *surface;
  PangoFontMap *fonts;
  cairo_font_options_t *options;
  cairo_status_t status;
  Doc d = { 0 };

  g_return_val_if_fail (performance != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  display = g_filename_display_name (path);
  d.p = performance;
  d.title = _ ("Alarm performance report");
  d.plant = plant != NULL ? plant : "";
  from = format_local_time (performance->from);
  to = format_local_time (performance->to);
  made = format_local_time (g_get_real_time ());
  d.period = g_strdup_printf (_ ("Period: %s to %s"), from, to);
  d.made = g_strdup_printf (_ ("Made %s"), made);
  lay_out (&d);
  d.n_pages = d.page;

  surface = cairo_pdf_surface_create_for_stream (append_bytes, bytes, PAGE_WIDTH, PAGE_HEIGHT);
  /* A font map of its own, as in the trend report: the PDF may be made on
   * a pool thread. */
  fonts = pango_cairo_font_map_new ();
  options = cairo_font_options_create ();
  cairo_pdf_surface_set_metadata (surface, CAIRO_PDF_METADATA_TITLE, d.title);
  cairo_pdf_surface_set_metadata (surface, CAIRO_PDF_METADATA_CREATOR, "Kankyo " PACKAGE_VERSION);
  d.cr = cairo_create (surface);
  d.pango = pango_font_map_create_context (fonts);
  pango_cairo_update_context (d.cr, d.pango);
  pango_cairo_context_set_resolution (d.pango, 72);
  cairo_font_options_set_hint_metrics (options, CAIRO_HINT_METRICS_OFF);
  cairo_font_options_set_hint_style (options, CAIRO_HINT_STYLE_NONE);
  pango_cairo_context_set_font_options (d.pango, options);
  cairo_font_options_destroy (options);

  lay_out (&d);

  g_clear_object (&d.pango);
  g_object_unref (fonts);
  cairo_destroy (d.cr);
  cairo_surface_finish (surface);
  status = cairo_surface_status (surface);
  cairo_surface_destroy (surface);
  g_free (d.period);
  g_free (d.made);
  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, KANKYO_ALARM_JOURNAL_ERROR, KANKYO_ALARM_JOURNAL_ERROR_WRITE,
                   _ ("Cannot make the alarm performance report %s: %s"), display,
                   cairo_status_to_string (status));
      return FALSE;
    }
  /* Written beside and renamed into place: never half a report. */
  if (!g_file_set_contents_full (path, (const char *) bytes->data, bytes->len, G_FILE_SET_CONTENTS_CONSISTENT,
                                 0644, &local))
    {
      g_set_error (error, KANKYO_ALARM_JOURNAL_ERROR, KANKYO_ALARM_JOURNAL_ERROR_WRITE,
                   _ ("Cannot write %s: %s"), display, local->message);
      return FALSE;
    }
  return TRUE;
}
