/* kankyo-audit.c: the tamper-evident audit trail.
 *
 * Every operator action that changes the plant is recorded here before it is
 * carried out, so the trail must survive a power cut or kill -9 (21 CFR Part
 * 11, EU GMP Annex 11). It lives in its own SQLite file so that nothing else
 * shares its durability settings or its lock.
 *
 * Records form a SHA-256 chain: each record stores the hash of the record
 * before it (prev_hash) and the hash of its own canonical encoding, which
 * covers prev_hash. A one-row table, audit_head, notes the number and hash of
 * the newest record in the same transaction as each append, so removing
 * records from the end is evident too. Triggers refuse UPDATE and DELETE and
 * any INSERT that does not extend the chain, which stops ordinary code and
 * careless hands; someone who drops the triggers still cannot change a record
 * without breaking the chain where they did it, and kankyo_audit_verify() says
 * what was done to which record.
 *
 * What the chain cannot catch: someone with write access who knows this
 * encoding can rewrite every record from some point to the end, head
 * included. Only a copy of the head hash kept elsewhere (a signed report, a
 * printout) defends against that.
 *
 * The canonical encoding, so that an auditor can recompute a hash with any
 * SHA-256 tool: the bytes "kankyo-audit-1" and a NUL; seq and time_us as
 * 8-byte big-endian two's complement; then actor, action, target, old_value,
 * new_value, reason, result and prev_hash, each as a single 0x00 byte when
 * NULL, or 0x01, its length in bytes as 8-byte big-endian and its bytes.
 * hash is the lower-case hex digest.
 */

#include "config.h"

#include "kankyo-audit.h"

#include <glib/gi18n-lib.h>
#include <sqlite3.h>
#include <string.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)

/* The first argument becomes the quark's name, so it must stay one word. */
/* clang-format off */
G_DEFINE_QUARK (kankyo-audit-error-quark, kankyo_audit_error)
/* clang-format on */

#define SCHEMA_VERSION 1
#define FIELD_MAX 4096
#define BUSY_TIMEOUT_MS 5000
/* Longest actor, action or target quoted in a finding, in characters. */
#define QUOTE_MAX 64
#define HASH_DOMAIN "kankyo-audit-1"
#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"

struct _KankyoAudit
{
  sqlite3 *db;
  char *path;
  /* Several threads may share a trail; each call is one unit of work on
   * the connection, so a transaction never interleaves with another's. */
  GMutex lock;
};

/* The head row is inserted before the triggers exist; after that the
 * triggers allow it only to move forward by one, to a record that exists. */
static const char schema_sql[]
    = "CREATE TABLE audit ("
      "  seq INTEGER PRIMARY KEY,"
      "  time_us INTEGER NOT NULL,"
      "  actor TEXT NOT NULL,"
      "  action TEXT NOT NULL,"
      "  target TEXT,"
      "  old_value TEXT,"
      "  new_value TEXT,"
      "  reason TEXT,"
      "  result TEXT,"
      "  prev_hash TEXT NOT NULL,"
      "  hash TEXT NOT NULL);"
      /* Verification looks records up by hash to tell a reordering from a
   * break; without these it would scan the table once for every finding. */
      "CREATE INDEX audit_by_hash ON audit (hash);"
      "CREATE INDEX audit_by_prev_hash ON audit (prev_hash);"
      "CREATE TABLE audit_head ("
      "  id INTEGER PRIMARY KEY CHECK (id = 1),"
      "  seq INTEGER NOT NULL,"
      "  hash TEXT NOT NULL);"
      "INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '" ZERO_HASH "');"
      "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN"
      "  SELECT RAISE (ABORT, 'audit records cannot be changed');"
      "END;"
      "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN"
      "  SELECT RAISE (ABORT, 'audit records cannot be deleted');"
      "END;"
      "CREATE TRIGGER audit_append_only BEFORE INSERT ON audit"
      "  WHEN NEW.seq IS NOT (SELECT seq + 1 FROM audit_head WHERE id = 1)"
      "    OR NEW.prev_hash IS NOT (SELECT hash FROM audit_head WHERE id = 1)"
      " BEGIN"
      "  SELECT RAISE (ABORT, 'audit records can only be appended to the end of the chain');"
      "END;"
      "CREATE TRIGGER audit_head_forward BEFORE UPDATE ON audit_head"
      "  WHEN NEW.id IS NOT OLD.id"
      "    OR NEW.seq IS NOT OLD.seq + 1"
      "    OR NEW.hash IS NOT (SELECT hash FROM audit WHERE seq = NEW.seq)"
      " BEGIN"
      "  SELECT RAISE (ABORT, 'the audit head can only move forward to the newest record');"
      "END;"
      /* INSERT OR REPLACE would otherwise rewind the head without a DELETE
   * trigger firing. */
      "CREATE TRIGGER audit_head_single BEFORE INSERT ON audit_head BEGIN"
      "  SELECT RAISE (ABORT, 'the audit head already exists');"
      "END;"
      "CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head BEGIN"
      "  SELECT RAISE (ABORT, 'the audit head cannot be deleted');"
      "END;"
      "PRAGMA user_version = 1;";

enum
{
  COL_SEQ,
  COL_TIME_US,
  COL_ACTOR,
  COL_ACTION,
  COL_TARGET,
  COL_OLD_VALUE,
  COL_NEW_VALUE,
  COL_REASON,
  COL_RESULT,
  COL_PREV_HASH,
  COL_HASH,
};

#define RECORD_COLUMNS                                                                                       \
  "seq, time_us, actor, action, target, old_value, new_value, reason, "                                      \
  "result, prev_hash, hash"

/* The hashed text fields, COL_ACTOR to COL_PREV_HASH, in encoding order. */
#define N_HASHED_TEXT (COL_PREV_HASH - COL_ACTOR + 1)

/* Record numbers reach messages as text: a 64-bit format macro inside a
 * translatable string hides the message from xgettext. */
static char *
seq_to_text (gint64 seq)
{
  return g_strdup_printf ("%" G_GINT64_FORMAT, seq);
}

static void
set_db_error (KankyoAudit *audit, GError **error, KankyoAuditError code, const char *what)
{
  /* Translators: the second %s is one of the actions below, such as
   * 'read the schema version'; the last is SQLite's own message. */
  g_set_error (error, KANKYO_AUDIT_ERROR, code, _ ("Audit trail %s: cannot %s: %s"), audit->path, what,
               sqlite3_errmsg (audit->db));
}

static gboolean
exec_sql (KankyoAudit *audit, const char *sql, KankyoAuditError code, const char *what, GError **error)
{
  if (sqlite3_exec (audit->db, sql, NULL, NULL, NULL) != SQLITE_OK)
    {
      set_db_error (audit, error, code, what);
      return FALSE;
    }
  return TRUE;
}

static gboolean
prepare (KankyoAudit *audit,
         const char *sql,
         sqlite3_stmt **ret_stmt,
         KankyoAuditError code,
         const char *what,
         GError **error)
{
  if (sqlite3_prepare_v2 (audit->db, sql, -1, ret_stmt, NULL) != SQLITE_OK)
    {
      set_db_error (audit, error, code, what);
      return FALSE;
    }
  return TRUE;
}

/* Used on paths that already failed: the first error is the one to report,
 * and SQLite rolls back an open transaction by itself if this fails too. */
static void
rollback (KankyoAudit *audit)
{
  if (!sqlite3_get_autocommit (audit->db))
    sqlite3_exec (audit->db, "ROLLBACK", NULL, NULL, NULL);
}

/* Canonical encoding; see the top of this file. */

static void
hash_put_u64 (GChecksum *sum, guint64 value)
{
  guint8 bytes[8];

  for (int i = 7; i >= 0; i--)
    {
      bytes[i] = value & 0xff;
      value >>= 8;
    }
  g_checksum_update (sum, bytes, sizeof bytes);
}

static void
hash_put_text (GChecksum *sum, const char *text, gsize len)
{
  guint8 present = text != NULL;

  g_checksum_update (sum, &present, 1);
  if (text == NULL)
    return;
  hash_put_u64 (sum, len);
  g_checksum_update (sum, (const guchar *) text, len);
}

static char *
hash_fields (gint64 seq,
             gint64 time_us,
             const char *const text[N_HASHED_TEXT],
             const gsize len[N_HASHED_TEXT])
{
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);

  g_checksum_update (sum, (const guchar *) HASH_DOMAIN, sizeof HASH_DOMAIN);
  hash_put_u64 (sum, (guint64) seq);
  hash_put_u64 (sum, (guint64) time_us);
  for (guint i = 0; i < N_HASHED_TEXT; i++)
    hash_put_text (sum, text[i], len[i]);

  return g_strdup (g_checksum_get_string (sum));
}

/* The hash of the row @stmt is on, as if its number were @seq. It reads the
 * stored bytes, not C strings, so a NUL smuggled into a field cannot hide
 * what follows it. */
static char *
hash_row (sqlite3_stmt *stmt, gint64 seq)
{
  const char *text[N_HASHED_TEXT];
  gsize len[N_HASHED_TEXT];

  for (guint i = 0; i < N_HASHED_TEXT; i++)
    {
      int col = COL_ACTOR + i;

      if (sqlite3_column_type (stmt, col) == SQLITE_NULL)
        {
          text[i] = NULL;
          len[i] = 0;
        }
      else
        {
          text[i] = (const char *) sqlite3_column_text (stmt, col);
          len[i] = sqlite3_column_bytes (stmt, col);
        }
    }

  return hash_fields (seq, sqlite3_column_int64 (stmt, COL_TIME_US), text, len);
}

static char *
column_dup (sqlite3_stmt *stmt, int col)
{
  if (sqlite3_column_type (stmt, col) == SQLITE_NULL)
    return NULL;
  return g_strndup ((const char *) sqlite3_column_text (stmt, col), sqlite3_column_bytes (stmt, col));
}

/* NOT NULL columns come back as "" rather than NULL even from a file whose
 * constraints were removed, so callers can compare them without checks. */
static char *
column_dup_required (sqlite3_stmt *stmt, int col)
{
  char *text = column_dup (stmt, col);

  return text != NULL ? text : g_strdup ("");
}

static KankyoAuditRecord *
record_from_row (sqlite3_stmt *stmt)
{
  KankyoAuditRecord *record = g_new0 (KankyoAuditRecord, 1);

  record->seq = sqlite3_column_int64 (stmt, COL_SEQ);
  record->time_us = sqlite3_column_int64 (stmt, COL_TIME_US);
  record->actor = column_dup_required (stmt, COL_ACTOR);
  record->action = column_dup_required (stmt, COL_ACTION);
  record->target = column_dup (stmt, COL_TARGET);
  record->old_value = column_dup (stmt, COL_OLD_VALUE);
  record->new_value = column_dup (stmt, COL_NEW_VALUE);
  record->reason = column_dup (stmt, COL_REASON);
  record->result = column_dup (stmt, COL_RESULT);
  record->prev_hash = column_dup_required (stmt, COL_PREV_HASH);
  record->hash = column_dup_required (stmt, COL_HASH);
  return record;
}

void
kankyo_audit_record_free (KankyoAuditRecord *record)
{
  if (record == NULL)
    return;
  g_free (record->actor);
  g_free (record->action);
  g_free (record->target);
  g_free (record->old_value);
  g_free (record->new_value);
  g_free (record->reason);
  g_free (record->result);
  g_free (record->prev_hash);
  g_free (record->hash);
  g_free (record);
}

void
kankyo_audit_finding_free (KankyoAuditFinding *finding)
{
  if (finding == NULL)
    return;
  g_free (finding->message);
  g_free (finding);
}

const char *
kankyo_audit_finding_kind_to_string (KankyoAuditFindingKind kind)
{
  switch (kind)
    {
      case KANKYO_AUDIT_FINDING_EDITED:
        return "edited";
      case KANKYO_AUDIT_FINDING_DELETED:
        return "deleted";
      case KANKYO_AUDIT_FINDING_REORDERED:
        return "reordered";
      case KANKYO_AUDIT_FINDING_BROKEN:
        return "broken";
    }
  g_return_val_if_reached (NULL);
}

/* Opening */

static gboolean
create_or_check_schema (KankyoAudit *audit, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  gint64 version;
  gint64 n_objects;

  /* IMMEDIATE, so two processes creating the same new file do not both
   * see version 0 and both create the schema. */
  if (!exec_sql (audit, "BEGIN IMMEDIATE", KANKYO_AUDIT_ERROR_OPEN,
                 _ ("start a transaction to check the schema"), error))
    return FALSE;

  if (!prepare (audit,
                "SELECT (SELECT user_version FROM pragma_user_version),"
                "       (SELECT count(*) FROM sqlite_master)",
                &stmt, KANKYO_AUDIT_ERROR_OPEN, _ ("read the schema version"), error))
    {
      rollback (audit);
      return FALSE;
    }
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      set_db_error (audit, error, KANKYO_AUDIT_ERROR_OPEN, _ ("read the schema version"));
      rollback (audit);
      return FALSE;
    }
  version = sqlite3_column_int64 (stmt, 0);
  n_objects = sqlite3_column_int64 (stmt, 1);
  g_clear_pointer (&stmt, sqlite3_finalize);

  if (version == 0 && n_objects == 0)
    {
      if (!exec_sql (audit, schema_sql, KANKYO_AUDIT_ERROR_OPEN, _ ("create the audit tables"), error))
        {
          rollback (audit);
          return FALSE;
        }
    }
  else if (version != SCHEMA_VERSION)
    {
      g_autofree char *version_text = seq_to_text (version);

      rollback (audit);
      g_set_error (
          error, KANKYO_AUDIT_ERROR, KANKYO_AUDIT_ERROR_OPEN,
          version == 0
              ? _ ("Audit trail %s: the file is an SQLite database but not a Kankyo audit trail")
              : _ ("Audit trail %s: schema version %s is not supported (this Kankyo reads version %d)"),
          audit->path, version_text, SCHEMA_VERSION);
      return FALSE;
    }

  return exec_sql (audit, "COMMIT", KANKYO_AUDIT_ERROR_OPEN, _ ("commit the schema"), error);
}

static gboolean
check_schema_readonly (KankyoAudit *audit, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  gint64 version;

  if (!prepare (audit, "PRAGMA user_version", &stmt, KANKYO_AUDIT_ERROR_OPEN, _ ("read the schema version"),
                error))
    return FALSE;
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      set_db_error (audit, error, KANKYO_AUDIT_ERROR_OPEN, _ ("read the schema version"));
      return FALSE;
    }
  version = sqlite3_column_int64 (stmt, 0);
  if (version != SCHEMA_VERSION)
    {
      g_autofree char *version_text = seq_to_text (version);

      g_set_error (
          error, KANKYO_AUDIT_ERROR, KANKYO_AUDIT_ERROR_OPEN,
          version == 0
              ? _ ("Audit trail %s: the file is not a Kankyo audit trail")
              : _ ("Audit trail %s: schema version %s is not supported (this Kankyo reads version %d)"),
          audit->path, version_text, SCHEMA_VERSION);
      return FALSE;
    }
  return TRUE;
}

static KankyoAudit *
audit_open (const char *path, gboolean readonly, GError **error)
{
  g_autoptr (KankyoAudit) audit = NULL;
  int flags;
  int rc;

  /* Our own mutex serialises every use of the connection. */
  flags = SQLITE_OPEN_NOMUTEX;
  flags |= readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;

  audit = g_new0 (KankyoAudit, 1);
  g_mutex_init (&audit->lock);
  audit->path = g_strdup (path);

  rc = sqlite3_open_v2 (path, &audit->db, flags, NULL);
  if (rc != SQLITE_OK)
    {
      g_set_error (error, KANKYO_AUDIT_ERROR, KANKYO_AUDIT_ERROR_OPEN,
                   _ ("Audit trail %s: cannot open the database: %s"), path,
                   audit->db != NULL ? sqlite3_errmsg (audit->db) : sqlite3_errstr (rc));
      return NULL;
    }

  /* The file may come from anywhere, so do not let its schema run SQL
   * functions with side effects, nor allow ordinary statements to rewrite
   * the schema behind the triggers' back. */
  sqlite3_db_config (audit->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
  sqlite3_db_config (audit->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
  sqlite3_busy_timeout (audit->db, BUSY_TIMEOUT_MS);

  if (readonly)
    {
      if (!check_schema_readonly (audit, error))
        return NULL;
      return g_steal_pointer (&audit);
    }

  /* WAL rather than a rollback journal: an auditor verifying or a screen
   * listing the trail must never hold up the append that has to finish
   * before an operator's write is sent, and in WAL readers do not block the
   * writer. With synchronous=FULL every commit is fsynced to the WAL, so a
   * returned append survives a power cut exactly as it would with DELETE.
   * The price: a copy of the main file alone may miss the newest records
   * while the -wal file exists, so archive with SQLite's backup, not cp. On
   * a filesystem that cannot do WAL, SQLite keeps the rollback journal,
   * which is just as durable. */
  if (!exec_sql (audit, "PRAGMA journal_mode = WAL", KANKYO_AUDIT_ERROR_OPEN, _ ("set the journal mode"),
                 error)
      || !exec_sql (audit, "PRAGMA synchronous = FULL", KANKYO_AUDIT_ERROR_OPEN,
                    _ ("make commits durable (synchronous=FULL)"), error)
      || !create_or_check_schema (audit, error))
    return NULL;

  return g_steal_pointer (&audit);
}

KankyoAudit *
kankyo_audit_open (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL && *path != '\0', NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return audit_open (path, FALSE, error);
}

KankyoAudit *
kankyo_audit_open_readonly (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL && *path != '\0', NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return audit_open (path, TRUE, error);
}

void
kankyo_audit_close (KankyoAudit *audit)
{
  if (audit == NULL)
    return;
  /* Every statement is finalized by the time its function returns, so
   * this cannot be refused as busy. */
  sqlite3_close (audit->db);
  g_mutex_clear (&audit->lock);
  g_free (audit->path);
  g_free (audit);
}

/* Appending */

static gboolean
check_field (KankyoAudit *audit, const char *name, const char *value, gboolean required, GError **error)
{
  gsize len;

  if (value == NULL || *value == '\0')
    {
      if (!required)
        return TRUE;
      g_set_error (error, KANKYO_AUDIT_ERROR, KANKYO_AUDIT_ERROR_INVALID,
                   _ ("Audit trail %s: cannot append a record without %s"), audit->path, name);
      return FALSE;
    }

  len = strnlen (value, FIELD_MAX + 1);
  if (len > FIELD_MAX)
    {
      g_set_error (error, KANKYO_AUDIT_ERROR, KANKYO_AUDIT_ERROR_INVALID,
                   _ ("Audit trail %s: %s is longer than %d bytes"), audit->path, name, FIELD_MAX);
      return FALSE;
    }
  if (!g_utf8_validate (value, len, NULL))
    {
      g_set_error (error, KANKYO_AUDIT_ERROR, KANKYO_AUDIT_ERROR_INVALID,
                   _ ("Audit trail %s: %s is not valid UTF-8 text"), audit->path, name);
      return FALSE;
    }
  return TRUE;
}

static void
bind_text (sqlite3_stmt *stmt, int index, const char *text)
{
  if (text != NULL)
    sqlite3_bind_text (stmt, index, text, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null (stmt, index);
}

/* Runs inside the caller's BEGIN IMMEDIATE. */
static gboolean
append_locked (KankyoAudit *audit,
               const char *const fields[N_HASHED_TEXT - 1],
               gint64 *ret_seq,
               GError **error)
{
  g_autoptr (sqlite3_stmt) head = NULL;
  g_autoptr (sqlite3_stmt) insert = NULL;
  g_autoptr (sqlite3_stmt) update = NULL;
  const char *text[N_HASHED_TEXT];
  gsize len[N_HASHED_TEXT];
  g_autofree char *prev_hash = NULL;
  g_autofree char *hash = NULL;
  gint64 seq;
  gint64 time_us;

  if (!prepare (audit, "SELECT seq, hash FROM audit_head WHERE id = 1", &head, KANKYO_AUDIT_ERROR_WRITE,
                _ ("read the head of the chain"), error))
    return FALSE;
  switch (sqlite3_step (head))
    {
      case SQLITE_ROW:
        break;
      case SQLITE_DONE:
        g_set_error (error, KANKYO_AUDIT_ERROR, KANKYO_AUDIT_ERROR_WRITE,
                     _ ("Audit trail %s: cannot append a record: the head of the "
                        "chain is missing (the file has been tampered with)"),
                     audit->path);
        return FALSE;
      default:
        set_db_error (audit, error, KANKYO_AUDIT_ERROR_WRITE, _ ("read the head of the chain"));
        return FALSE;
    }
  seq = sqlite3_column_int64 (head, 0);
  if (seq < 0 || seq == G_MAXINT64)
    {
      g_autofree char *seq_text = seq_to_text (seq);

      g_set_error (error, KANKYO_AUDIT_ERROR, KANKYO_AUDIT_ERROR_WRITE,
                   _ ("Audit trail %s: cannot append a record: the head of the "
                      "chain names record %s, which cannot exist "
                      "(the file has been tampered with)"),
                   audit->path, seq_text);
      return FALSE;
    }
  seq++;
  prev_hash = column_dup_required (head, 1);
  time_us = g_get_real_time ();

  for (guint i = 0; i < N_HASHED_TEXT - 1; i++)
    {
      text[i] = fields[i];
      len[i] = fields[i] != NULL ? strlen (fields[i]) : 0;
    }
  text[N_HASHED_TEXT - 1] = prev_hash;
  len[N_HASHED_TEXT - 1] = strlen (prev_hash);
  hash = hash_fields (seq, time_us, text, len);

  if (!prepare (audit,
                "INSERT INTO audit (" RECORD_COLUMNS ")"
                " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                &insert, KANKYO_AUDIT_ERROR_WRITE, _ ("prepare the record"), error))
    return FALSE;
  sqlite3_bind_int64 (insert, 1 + COL_SEQ, seq);
  sqlite3_bind_int64 (insert, 1 + COL_TIME_US, time_us);
  for (guint i = 0; i < N_HASHED_TEXT; i++)
    bind_text (insert, 1 + COL_ACTOR + i, text[i]);
  bind_text (insert, 1 + COL_HASH, hash);
  if (sqlite3_step (insert) != SQLITE_DONE)
    {
      set_db_error (audit, error, KANKYO_AUDIT_ERROR_WRITE, _ ("write the record"));
      return FALSE;
    }

  if (!prepare (audit, "UPDATE audit_head SET seq = ?1, hash = ?2 WHERE id = 1", &update,
                KANKYO_AUDIT_ERROR_WRITE, _ ("prepare the head update"), error))
    return FALSE;
  sqlite3_bind_int64 (update, 1, seq);
  bind_text (update, 2, hash);
  if (sqlite3_step (update) != SQLITE_DONE)
    {
      set_db_error (audit, error, KANKYO_AUDIT_ERROR_WRITE, _ ("move the head of the chain"));
      return FALSE;
    }

  *ret_seq = seq;
  return TRUE;
}

gboolean
kankyo_audit_append (KankyoAudit *audit,
                     const char *actor,
                     const char *action,
                     const char *target,
                     const char *old_value,
                     const char *new_value,
                     const char *reason,
                     const char *result,
                     gint64 *ret_seq,
                     GError **error)
{
  const char *const fields[N_HASHED_TEXT - 1] = {
    actor, action, target, old_value, new_value, reason, result,
  };
  g_autoptr (GMutexLocker) locker = NULL;
  gint64 seq = 0;

  g_return_val_if_fail (audit != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_field (audit, _ ("an actor"), actor, TRUE, error)
      || !check_field (audit, _ ("an action"), action, TRUE, error)
      || !check_field (audit, _ ("the target"), target, FALSE, error)
      || !check_field (audit, _ ("the old value"), old_value, FALSE, error)
      || !check_field (audit, _ ("the new value"), new_value, FALSE, error)
      || !check_field (audit, _ ("the reason"), reason, FALSE, error)
      || !check_field (audit, _ ("the result"), result, FALSE, error))
    return FALSE;

  locker = g_mutex_locker_new (&audit->lock);

  if (sqlite3_db_readonly (audit->db, "main") != 0)
    {
      g_set_error (error, KANKYO_AUDIT_ERROR, KANKYO_AUDIT_ERROR_WRITE,
                   _ ("Audit trail %s: cannot append a record: the trail was opened read-only"), audit->path);
      return FALSE;
    }

  /* IMMEDIATE takes the write lock before the head is read, so two
   * processes appending at once cannot both chain onto the same record. */
  if (!exec_sql (audit, "BEGIN IMMEDIATE", KANKYO_AUDIT_ERROR_WRITE,
                 _ ("start a transaction to append a record"), error))
    return FALSE;

  if (!append_locked (audit, fields, &seq, error))
    {
      rollback (audit);
      return FALSE;
    }

  if (!exec_sql (audit, "COMMIT", KANKYO_AUDIT_ERROR_WRITE, _ ("commit the record to disk"), error))
    {
      rollback (audit);
      return FALSE;
    }

  if (ret_seq != NULL)
    *ret_seq = seq;
  return TRUE;
}

/* Listing */

GPtrArray *
kankyo_audit_list (KankyoAudit *audit, gint64 after_seq, guint limit, GError **error)
{
  g_autoptr (GPtrArray) records = NULL;
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autoptr (GMutexLocker) locker = NULL;
  int rc;

  g_return_val_if_fail (audit != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (limit == 0)
    {
      g_set_error (error, KANKYO_AUDIT_ERROR, KANKYO_AUDIT_ERROR_INVALID,
                   _ ("Audit trail %s: cannot list records: the limit must be at least 1"), audit->path);
      return NULL;
    }

  locker = g_mutex_locker_new (&audit->lock);

  if (!prepare (audit, "SELECT " RECORD_COLUMNS " FROM audit WHERE seq > ?1 ORDER BY seq LIMIT ?2", &stmt,
                KANKYO_AUDIT_ERROR_READ, _ ("read records"), error))
    return NULL;
  sqlite3_bind_int64 (stmt, 1, after_seq);
  sqlite3_bind_int64 (stmt, 2, limit);

  records = g_ptr_array_new_with_free_func ((GDestroyNotify) kankyo_audit_record_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (records, record_from_row (stmt));
  if (rc != SQLITE_DONE)
    {
      set_db_error (audit, error, KANKYO_AUDIT_ERROR_READ, _ ("read records"));
      return NULL;
    }

  return g_steal_pointer (&records);
}

/* Verification */

typedef struct
{
  KankyoAudit *audit;
  GPtrArray *findings;
  sqlite3_stmt *by_hash;
  sqlite3_stmt *by_prev_hash;
} Verifier;

static void add_finding (Verifier *v, KankyoAuditFindingKind kind, gint64 seq, const char *format, ...)
    G_GNUC_PRINTF (4, 5);

static void
add_finding (Verifier *v, KankyoAuditFindingKind kind, gint64 seq, const char *format, ...)
{
  KankyoAuditFinding *finding = g_new0 (KankyoAuditFinding, 1);
  va_list args;

  finding->kind = kind;
  finding->seq = seq;
  va_start (args, format);
  finding->message = g_strdup_vprintf (format, args);
  va_end (args);
  g_ptr_array_add (v->findings, finding);
}

/* Stored text may be anything once the file has been tampered with: keep
 * quotes short and free of line breaks that could forge lines of a
 * report. */
static char *
quote (const char *text)
{
  g_autofree char *valid = g_utf8_make_valid (text, -1);
  GString *out = g_string_new (NULL);
  guint n = 0;

  for (const char *p = valid; *p != '\0'; p = g_utf8_next_char (p), n++)
    {
      gunichar c = g_utf8_get_char (p);

      if (n == QUOTE_MAX)
        {
          g_string_append (out, "…");
          break;
        }
      if (g_unichar_iscntrl (c))
        g_string_append_c (out, '?');
      else
        g_string_append_unichar (out, c);
    }
  return g_string_free (out, FALSE);
}

/* "record 42 (2026-11-21 10:03:11 UTC, write.request by alice on room1.setpoint)" */
static char *
describe (const KankyoAuditRecord *record)
{
  g_autoptr (GDateTime) when = NULL;
  g_autofree char *time_text = NULL;
  g_autofree char *action = quote (record->action);
  g_autofree char *actor = quote (record->actor);
  g_autofree char *target = record->target != NULL ? quote (record->target) : NULL;
  g_autofree char *seq_text = seq_to_text (record->seq);

  when = g_date_time_new_from_unix_utc (record->time_us / G_USEC_PER_SEC);
  time_text = when != NULL ? g_date_time_format (when, "%Y-%m-%d %H:%M:%S UTC")
                           : g_strdup (_ ("at an impossible time"));

  if (target != NULL)
    {
      /* Translators: record number, time, action, actor and target. */
      return g_strdup_printf (_ ("record %s (%s, %s by %s on %s)"), seq_text, time_text, action, actor,
                              target);
    }
  /* Translators: record number, time, action and actor. */
  return g_strdup_printf (_ ("record %s (%s, %s by %s)"), seq_text, time_text, action, actor);
}

static char *
describe_range (gint64 first, gint64 last)
{
  g_autofree char *first_text = seq_to_text (first);
  g_autofree char *last_text = seq_to_text (last);

  if (first == last)
    {
      /* Translators: the subject of findings such as "%s missing: ..." and
       * "%s not part of the trail: ...". */
      return g_strdup_printf (_ ("record %s is"), first_text);
    }
  /* Translators: as "record %s is", for a range of records. */
  return g_strdup_printf (_ ("records %s to %s are"), first_text, last_text);
}

/* The lowest-numbered record other than @exclude whose column (the one
 * @stmt selects by) is @hash. */
static gboolean
lookup_seq (Verifier *v,
            sqlite3_stmt *stmt,
            const char *hash,
            gint64 exclude,
            gboolean *ret_found,
            gint64 *ret_seq,
            GError **error)
{
  int rc;

  sqlite3_reset (stmt);
  sqlite3_bind_text (stmt, 1, hash, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, exclude);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      *ret_found = TRUE;
      *ret_seq = sqlite3_column_int64 (stmt, 0);
    }
  else if (rc == SQLITE_DONE)
    {
      *ret_found = FALSE;
    }
  else
    {
      set_db_error (v->audit, error, KANKYO_AUDIT_ERROR_READ, _ ("look up a record by its hash"));
      return FALSE;
    }
  sqlite3_reset (stmt);
  return TRUE;
}

/* A record whose content does not match its hash may be intact but carry
 * another record's number: swapping two records' numbers looks like that.
 * Its neighbours in the chain say which number it was written with; if its
 * hash matches under that number, *ret_written_as is set to it. */
static gboolean
find_original_seq (
    Verifier *v, sqlite3_stmt *row, const KankyoAuditRecord *record, gint64 *ret_written_as, GError **error)
{
  gint64 candidates[2];
  guint n_candidates = 0;
  gboolean found;
  gint64 seq;

  if (!lookup_seq (v, v->by_hash, record->prev_hash, record->seq, &found, &seq, error))
    return FALSE;
  if (found && seq < G_MAXINT64)
    candidates[n_candidates++] = seq + 1;
  if (!lookup_seq (v, v->by_prev_hash, record->hash, record->seq, &found, &seq, error))
    return FALSE;
  if (found && seq > G_MININT64)
    candidates[n_candidates++] = seq - 1;

  *ret_written_as = record->seq;
  for (guint i = 0; i < n_candidates; i++)
    {
      g_autofree char *hash = NULL;

      if (candidates[i] == record->seq)
        continue;
      hash = hash_row (row, candidates[i]);
      if (strcmp (hash, record->hash) == 0)
        {
          *ret_written_as = candidates[i];
          break;
        }
    }
  return TRUE;
}

/* Checks one record against its own hash and against the record before it
 * (@prev, NULL for the first); *ret_moved and *ret_content_bad say what was
 * found, for the checks of the next record and of the head. */
static gboolean
verify_record (Verifier *v,
               sqlite3_stmt *row,
               const KankyoAuditRecord *record,
               const KankyoAuditRecord *prev,
               gboolean prev_moved,
               gboolean *ret_moved,
               gboolean *ret_content_bad,
               GError **error)
{
  g_autofree char *computed = hash_row (row, record->seq);
  g_autofree char *what = NULL;
  gint64 expected_seq = prev != NULL ? prev->seq + 1 : 1;
  const char *expected_prev_hash = prev != NULL ? prev->hash : ZERO_HASH;
  gboolean moved = FALSE;
  gboolean content_bad = FALSE;

  *ret_moved = FALSE;
  *ret_content_bad = FALSE;
  if (record->seq == expected_seq && strcmp (computed, record->hash) == 0
      && strcmp (record->prev_hash, expected_prev_hash) == 0)
    return TRUE;

  what = describe (record);
  if (record->seq < expected_seq)
    {
      add_finding (v, KANKYO_AUDIT_FINDING_BROKEN, record->seq,
                   _ ("%s has a number the trail never gives: numbers start at 1"), what);
    }
  else if (record->seq > expected_seq)
    {
      g_autofree char *missing = describe_range (expected_seq, record->seq - 1);

      if (prev != NULL)
        {
          g_autofree char *before = describe (prev);

          add_finding (v, KANKYO_AUDIT_FINDING_DELETED, expected_seq,
                       _ ("%s missing: the trail goes from %s straight to %s"), missing, before, what);
        }
      else
        {
          add_finding (v, KANKYO_AUDIT_FINDING_DELETED, expected_seq,
                       _ ("%s missing from the beginning: the trail starts at %s"), missing, what);
        }
    }

  if (strcmp (computed, record->hash) != 0)
    {
      gint64 written_as;

      content_bad = TRUE;
      if (!find_original_seq (v, row, record, &written_as, error))
        return FALSE;
      moved = written_as != record->seq;
      if (moved)
        {
          g_autofree char *written_text = seq_to_text (written_as);

          add_finding (v, KANKYO_AUDIT_FINDING_REORDERED, record->seq,
                       _ ("%s is out of place: it was written as record %s and has been renumbered since"),
                       what, written_text);
        }
      else
        add_finding (v, KANKYO_AUDIT_FINDING_EDITED, record->seq,
                     _ ("%s was edited after it was written: its content no longer matches its hash"), what);
    }

  /* After a gap the record before this one is gone, and with it the hash
   * this one should link to; the gap is the finding. */
  if (record->seq == expected_seq && strcmp (record->prev_hash, expected_prev_hash) != 0)
    {
      gboolean found;
      gint64 linked_seq;

      if (!lookup_seq (v, v->by_hash, record->prev_hash, record->seq, &found, &linked_seq, error))
        return FALSE;

      /* A renumbered record next to this one already explains the link.
       * An edited record's prev_hash may itself be what was edited, so
       * where it points proves nothing about order, only that the chain
       * breaks here. */
      gboolean renumbered_nearby = moved || prev_moved;
      /* Translators: appended to the two "the chain is broken" findings. */
      const char *how = content_bad ? "" : _ (" and its hash recomputed to hide it");
      g_autofree char *seq_text = seq_to_text (record->seq);
      g_autofree char *prev_text = prev != NULL ? seq_to_text (prev->seq) : NULL;

      if (found && !renumbered_nearby && !content_bad)
        {
          g_autofree char *linked_text = seq_to_text (linked_seq);

          if (prev != NULL)
            add_finding (v, KANKYO_AUDIT_FINDING_REORDERED, record->seq,
                         _ ("%s is out of order: it was written right after record %s, not after record %s"),
                         what, linked_text, prev_text);
          else
            add_finding (v, KANKYO_AUDIT_FINDING_REORDERED, record->seq,
                         _ ("%s is out of order: it should start the trail but was "
                            "written right after record %s"),
                         what, linked_text);
        }
      else if (!found || !renumbered_nearby)
        {
          if (prev != NULL)
            add_finding (v, KANKYO_AUDIT_FINDING_BROKEN, record->seq,
                         _ ("the chain is broken between record %s and %s: record %s was written after "
                            "a different record %s, so one of the two was rewritten%s"),
                         prev_text, what, seq_text, prev_text, how);
          else
            add_finding (v, KANKYO_AUDIT_FINDING_BROKEN, record->seq,
                         _ ("the chain is broken at its start: %s was written after "
                            "a record that is no longer in the trail, or was rewritten%s"),
                         what, how);
        }
    }

  *ret_moved = moved;
  *ret_content_bad = content_bad;
  return TRUE;
}

/* The head notes the newest record as it was appended; anything after or
 * instead of it went around kankyo_audit_append(). */
static gboolean
verify_head (Verifier *v, const KankyoAuditRecord *last, gboolean last_content_bad, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autofree char *head_hash = NULL;
  gint64 last_seq = last != NULL ? last->seq : 0;
  gint64 head_seq;
  int rc;

  if (!prepare (v->audit,
                "SELECT count(*) FROM sqlite_master"
                " WHERE type = 'table' AND name = 'audit_head'",
                &stmt, KANKYO_AUDIT_ERROR_READ, _ ("look for the head of the chain"), error))
    return FALSE;
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      set_db_error (v->audit, error, KANKYO_AUDIT_ERROR_READ, _ ("look for the head of the chain"));
      return FALSE;
    }
  if (sqlite3_column_int64 (stmt, 0) == 0)
    {
      add_finding (v, KANKYO_AUDIT_FINDING_BROKEN, last_seq,
                   _ ("the note of the newest record (table audit_head) has been "
                      "removed, so records deleted from the end cannot be detected"));
      return TRUE;
    }
  g_clear_pointer (&stmt, sqlite3_finalize);

  if (!prepare (v->audit, "SELECT seq, hash FROM audit_head WHERE id = 1", &stmt, KANKYO_AUDIT_ERROR_READ,
                _ ("read the head of the chain"), error))
    return FALSE;
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_DONE)
    {
      add_finding (v, KANKYO_AUDIT_FINDING_BROKEN, last_seq,
                   _ ("the note of the newest record (table audit_head) has been "
                      "emptied, so records deleted from the end cannot be detected"));
      return TRUE;
    }
  if (rc != SQLITE_ROW)
    {
      set_db_error (v->audit, error, KANKYO_AUDIT_ERROR_READ, _ ("read the head of the chain"));
      return FALSE;
    }
  head_seq = sqlite3_column_int64 (stmt, 0);
  head_hash = column_dup_required (stmt, 1);

  if (head_seq > last_seq)
    {
      g_autofree char *missing = describe_range (last_seq + 1, head_seq);
      g_autofree char *head_text = seq_to_text (head_seq);

      if (last != NULL)
        {
          g_autofree char *what = describe (last);

          add_finding (v, KANKYO_AUDIT_FINDING_DELETED, last_seq + 1,
                       _ ("%s missing from the end: the trail was last appended as "
                          "record %s, but it now ends with %s"),
                       missing, head_text, what);
        }
      else
        {
          add_finding (v, KANKYO_AUDIT_FINDING_DELETED, 1,
                       _ ("%s missing: the trail was last appended as record %s, but it is now empty"),
                       missing, head_text);
        }
    }
  else if (head_seq < last_seq)
    {
      g_autofree char *added = describe_range (head_seq + 1, last_seq);
      g_autofree char *head_text = seq_to_text (head_seq);

      add_finding (v, KANKYO_AUDIT_FINDING_BROKEN, head_seq + 1,
                   _ ("%s not part of the trail: Kankyo's last append was record %s, so what follows it was "
                      "added by other means"),
                   added, head_text);
    }
  else if (strcmp (head_hash, last != NULL ? last->hash : ZERO_HASH) != 0 && !last_content_bad)
    {
      if (last != NULL)
        {
          g_autofree char *what = describe (last);

          add_finding (v, KANKYO_AUDIT_FINDING_EDITED, last_seq,
                       _ ("%s was rewritten after it was written: its hash is not "
                          "the one noted when it was appended"),
                       what);
        }
      else
        {
          add_finding (v, KANKYO_AUDIT_FINDING_BROKEN, 0,
                       _ ("the trail is empty but the note of its newest record "
                          "has been altered"));
        }
    }

  return TRUE;
}

static gboolean
verify_locked (Verifier *v, gint64 *ret_count, GError **error)
{
  g_autoptr (sqlite3_stmt) walk = NULL;
  g_autoptr (sqlite3_stmt) by_hash = NULL;
  g_autoptr (sqlite3_stmt) by_prev_hash = NULL;
  g_autoptr (KankyoAuditRecord) prev = NULL;
  gboolean prev_moved = FALSE;
  gboolean prev_content_bad = FALSE;
  gint64 count = 0;
  int rc;

  if (!prepare (v->audit, "SELECT " RECORD_COLUMNS " FROM audit ORDER BY seq", &walk, KANKYO_AUDIT_ERROR_READ,
                _ ("read records"), error)
      || !prepare (v->audit, "SELECT seq FROM audit WHERE hash = ?1 AND seq <> ?2 ORDER BY seq LIMIT 1",
                   &by_hash, KANKYO_AUDIT_ERROR_READ, _ ("prepare a lookup by hash"), error)
      || !prepare (v->audit, "SELECT seq FROM audit WHERE prev_hash = ?1 AND seq <> ?2 ORDER BY seq LIMIT 1",
                   &by_prev_hash, KANKYO_AUDIT_ERROR_READ, _ ("prepare a lookup by hash"), error))
    return FALSE;
  v->by_hash = by_hash;
  v->by_prev_hash = by_prev_hash;

  while ((rc = sqlite3_step (walk)) == SQLITE_ROW)
    {
      g_autoptr (KankyoAuditRecord) record = record_from_row (walk);
      gboolean moved;
      gboolean content_bad;

      if (!verify_record (v, walk, record, prev, prev_moved, &moved, &content_bad, error))
        return FALSE;

      g_clear_pointer (&prev, kankyo_audit_record_free);
      prev = g_steal_pointer (&record);
      prev_moved = moved;
      prev_content_bad = content_bad;
      count++;
    }
  if (rc != SQLITE_DONE)
    {
      set_db_error (v->audit, error, KANKYO_AUDIT_ERROR_READ, _ ("read records"));
      return FALSE;
    }

  if (!verify_head (v, prev, prev_content_bad, error))
    return FALSE;

  *ret_count = count;
  return TRUE;
}

gboolean
kankyo_audit_verify (KankyoAudit *audit, GPtrArray **ret_findings, gint64 *ret_count, GError **error)
{
  g_autoptr (GMutexLocker) locker = NULL;
  g_autoptr (GPtrArray) findings = NULL;
  Verifier v = {
    0,
  };
  gint64 count = 0;

  g_return_val_if_fail (audit != NULL, FALSE);
  g_return_val_if_fail (ret_findings != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  locker = g_mutex_locker_new (&audit->lock);
  findings = g_ptr_array_new_with_free_func ((GDestroyNotify) kankyo_audit_finding_free);
  v.audit = audit;
  v.findings = findings;

  /* One read transaction, so records and head come from the same moment
   * even while another process appends. */
  if (!exec_sql (audit, "BEGIN", KANKYO_AUDIT_ERROR_READ, _ ("start a read transaction"), error))
    return FALSE;
  if (!verify_locked (&v, &count, error))
    {
      rollback (audit);
      return FALSE;
    }
  if (!exec_sql (audit, "COMMIT", KANKYO_AUDIT_ERROR_READ, _ ("end the read transaction"), error))
    {
      rollback (audit);
      return FALSE;
    }

  *ret_findings = g_steal_pointer (&findings);
  if (ret_count != NULL)
    *ret_count = count;
  return TRUE;
}
