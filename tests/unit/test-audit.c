/* test-audit.c: tests of the tamper-evident audit trail on real SQLite files.
 *
 * Tampering is done the way an intruder would do it: through a second,
 * plain SQLite connection that drops the triggers and rewrites rows, never
 * through kankyo-audit itself. The hash encoding is re-implemented here from
 * its description, so a change to the format that would orphan every
 * existing trail fails a test instead of passing silently. The kill -9 test
 * runs audit-burst in a separate process and kills it mid-append.
 */

#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include <glib/gstdio.h>
#include <sqlite3.h>

#include "kankyo-audit.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3, sqlite3_close)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)

#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"
#define BURST_MIN_SEQS 200
#define BURST_ROUNDS 3

static char *tmp_dir;

static char *
db_path (const char *name)
{
  return g_build_filename (tmp_dir, name, NULL);
}

/* Record i of a test trail; varied so that NULL, "" and text all occur. */
static gboolean
append_test_record (KankyoAudit *audit, guint i, gint64 *ret_seq, GError **error)
{
  g_autofree char *old_value = g_strdup_printf ("%u.0", 20 + i);
  g_autofree char *new_value = g_strdup_printf ("%u.5", 20 + i);

  return kankyo_audit_append (audit, i % 2 == 0 ? "alice" : "bob", "write.request", "room1.setpoint",
                              old_value, new_value, i % 3 == 0 ? NULL : (i % 3 == 1 ? "" : "batch 42 start"),
                              "pending", ret_seq, error);
}

static char *
make_trail (const char *name, guint n_records)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (KankyoAudit) audit = NULL;
  char *path = db_path (name);

  audit = kankyo_audit_open (path, &error);
  g_assert_no_error (error);
  for (guint i = 1; i <= n_records; i++)
    {
      gint64 seq = 0;

      g_assert_true (append_test_record (audit, i, &seq, &error));
      g_assert_no_error (error);
      g_assert_cmpint (seq, ==, i);
    }
  return path;
}

static sqlite3 *
raw_open (const char *path)
{
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE, NULL), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 5000);
  return db;
}

static void
raw_exec (sqlite3 *db, const char *sql)
{
  char *message = NULL;

  if (sqlite3_exec (db, sql, NULL, NULL, &message) != SQLITE_OK)
    g_error ("%s: %s", sql, message);
}

/* Returns the error code; *ret_message is the error text, if any. */
static int
raw_exec_rc (sqlite3 *db, const char *sql, char **ret_message)
{
  char *message = NULL;
  int rc = sqlite3_exec (db, sql, NULL, NULL, &message);

  *ret_message = g_strdup (message);
  sqlite3_free (message);
  return rc;
}

static char *
raw_query_text (sqlite3 *db, const char *sql)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  return g_strdup ((const char *) sqlite3_column_text (stmt, 0));
}

static void
drop_triggers (sqlite3 *db)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);

  g_assert_cmpint (
      sqlite3_prepare_v2 (db, "SELECT name FROM sqlite_master WHERE type = 'trigger'", -1, &stmt, NULL), ==,
      SQLITE_OK);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    g_ptr_array_add (names, g_strdup ((const char *) sqlite3_column_text (stmt, 0)));

  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *sql = g_strdup_printf ("DROP TRIGGER \"%s\"", (char *) names->pdata[i]);
      raw_exec (db, sql);
    }
}

/* The encoding as kankyo-audit.c describes it, written independently. */
static void
put_be64 (GByteArray *buf, guint64 value)
{
  for (int shift = 56; shift >= 0; shift -= 8)
    {
      guint8 byte = (value >> shift) & 0xff;
      g_byte_array_append (buf, &byte, 1);
    }
}

static void
put_field (GByteArray *buf, const char *text)
{
  guint8 flag = text != NULL ? 1 : 0;

  g_byte_array_append (buf, &flag, 1);
  if (text == NULL)
    return;
  put_be64 (buf, strlen (text));
  g_byte_array_append (buf, (const guint8 *) text, strlen (text));
}

static char *
independent_hash (const KankyoAuditRecord *r)
{
  g_autoptr (GByteArray) buf = g_byte_array_new ();

  g_byte_array_append (buf, (const guint8 *) "kankyo-audit-1", strlen ("kankyo-audit-1") + 1);
  put_be64 (buf, r->seq);
  put_be64 (buf, r->time_us);
  put_field (buf, r->actor);
  put_field (buf, r->action);
  put_field (buf, r->target);
  put_field (buf, r->old_value);
  put_field (buf, r->new_value);
  put_field (buf, r->reason);
  put_field (buf, r->result);
  put_field (buf, r->prev_hash);
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, buf->data, buf->len);
}

static GPtrArray *
list_all (const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (KankyoAudit) audit = kankyo_audit_open_readonly (path, &error);
  GPtrArray *records;

  g_assert_no_error (error);
  records = kankyo_audit_list (audit, 0, G_MAXUINT, &error);
  g_assert_no_error (error);
  return records;
}

static KankyoAuditRecord *
get_record (const char *path, gint64 seq)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (KankyoAudit) audit = kankyo_audit_open_readonly (path, &error);
  g_autoptr (GPtrArray) records = NULL;

  g_assert_no_error (error);
  records = kankyo_audit_list (audit, seq - 1, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (records->len, ==, 1);
  g_assert_cmpint (((KankyoAuditRecord *) records->pdata[0])->seq, ==, seq);
  return g_ptr_array_steal_index (records, 0);
}

/* Verifies through a read-only handle, as an auditor would, and logs what
 * was found so a failing test shows the report. */
static GPtrArray *
verify_path (const char *path, gint64 *ret_count)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (KankyoAudit) audit = kankyo_audit_open_readonly (path, &error);
  GPtrArray *findings = NULL;

  g_assert_no_error (error);
  g_assert_true (kankyo_audit_verify (audit, &findings, ret_count, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < findings->len; i++)
    {
      KankyoAuditFinding *f = findings->pdata[i];
      g_test_message ("finding: %s at %" G_GINT64_FORMAT ": %s",
                      kankyo_audit_finding_kind_to_string (f->kind), f->seq, f->message);
    }
  return findings;
}

static KankyoAuditFinding *
find_finding (GPtrArray *findings, KankyoAuditFindingKind kind, gint64 seq)
{
  for (guint i = 0; i < findings->len; i++)
    {
      KankyoAuditFinding *f = findings->pdata[i];

      if (f->kind == kind && f->seq == seq)
        return f;
    }
  return NULL;
}

/* g_error() rather than g_assert(), so the compiler knows the result is
 * never NULL. */
static KankyoAuditFinding *
require_finding (GPtrArray *findings, KankyoAuditFindingKind kind, gint64 seq)
{
  KankyoAuditFinding *f = find_finding (findings, kind, seq);

  if (f == NULL)
    g_error ("expected a finding \"%s\" at record %" G_GINT64_FORMAT,
             kankyo_audit_finding_kind_to_string (kind), seq);
  return f;
}

static guint
count_kind (GPtrArray *findings, KankyoAuditFindingKind kind)
{
  guint n = 0;

  for (guint i = 0; i < findings->len; i++)
    n += ((KankyoAuditFinding *) findings->pdata[i])->kind == kind;
  return n;
}

static void
assert_intact (const char *path, gint64 expected_count)
{
  g_autoptr (GPtrArray) findings = NULL;
  gint64 count = -1;

  findings = verify_path (path, &count);
  g_assert_cmpuint (findings->len, ==, 0);
  g_assert_cmpint (count, ==, expected_count);
}

/* The tampering steps, each through a connection of its own. */

static void
tamper (const char *path, const char *sql)
{
  g_autoptr (sqlite3) db = raw_open (path);

  drop_triggers (db);
  raw_exec (db, sql);
}

static void
tamper_swap_3_and_4 (const char *path)
{
  tamper (path, "UPDATE audit SET seq = -1 WHERE seq = 4;"
                "UPDATE audit SET seq = 4 WHERE seq = 3;"
                "UPDATE audit SET seq = 3 WHERE seq = -1;");
}

/* An intruder who knows the encoding changes a value and recomputes the
 * record's own hash. */
static void
tamper_rehash (const char *path, gint64 seq)
{
  g_autoptr (KankyoAuditRecord) record = get_record (path, seq);
  g_autoptr (sqlite3) db = NULL;
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autofree char *hash = NULL;

  g_free (record->new_value);
  record->new_value = g_strdup ("35.0");
  hash = independent_hash (record);

  db = raw_open (path);
  drop_triggers (db);
  g_assert_cmpint (
      sqlite3_prepare_v2 (db, "UPDATE audit SET new_value = ?1, hash = ?2 WHERE seq = ?3", -1, &stmt, NULL),
      ==, SQLITE_OK);
  sqlite3_bind_text (stmt, 1, record->new_value, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, hash, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, seq);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_DONE);
  g_assert_cmpint (sqlite3_changes (db), ==, 1);
}

/* Tests */

static void
test_open_create (void)
{
  g_autofree char *path = db_path ("create.db");
  g_autoptr (GError) error = NULL;
  g_autoptr (sqlite3) db = NULL;
  g_autofree char *version = NULL;
  g_autofree char *journal = NULL;

  {
    g_autoptr (KankyoAudit) audit = kankyo_audit_open (path, &error);
    g_assert_no_error (error);
    g_assert_nonnull (audit);
  }
  g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));

  db = raw_open (path);
  version = raw_query_text (db, "PRAGMA user_version");
  g_assert_cmpstr (version, ==, "1");
  journal = raw_query_text (db, "PRAGMA journal_mode");
  g_assert_cmpstr (journal, ==, "wal");
  g_clear_pointer (&db, sqlite3_close);

  /* Reopening an existing trail keeps it as it is. */
  {
    g_autoptr (KankyoAudit) audit = kankyo_audit_open (path, &error);
    gint64 seq = 0;

    g_assert_no_error (error);
    g_assert_true (append_test_record (audit, 1, &seq, &error));
    g_assert_no_error (error);
    g_assert_cmpint (seq, ==, 1);
  }
  {
    g_autoptr (KankyoAudit) audit = kankyo_audit_open (path, &error);
    gint64 seq = 0;

    g_assert_no_error (error);
    g_assert_true (append_test_record (audit, 2, &seq, &error));
    g_assert_cmpint (seq, ==, 2);
  }
  assert_intact (path, 2);
}

static void
test_open_errors (void)
{
  g_autofree char *missing = db_path ("no-such-dir/audit.db");
  g_autofree char *absent = db_path ("absent.db");
  g_autofree char *foreign = db_path ("foreign.db");
  g_autoptr (GError) error = NULL;
  KankyoAudit *audit;

  audit = kankyo_audit_open (missing, &error);
  g_assert_null (audit);
  g_assert_error (error, KANKYO_AUDIT_ERROR, KANKYO_AUDIT_ERROR_OPEN);
  g_assert_nonnull (strstr (error->message, missing));
  g_clear_error (&error);

  /* Verifying must not create a file that was not there. */
  audit = kankyo_audit_open_readonly (absent, &error);
  g_assert_null (audit);
  g_assert_error (error, KANKYO_AUDIT_ERROR, KANKYO_AUDIT_ERROR_OPEN);
  g_assert_nonnull (strstr (error->message, absent));
  g_assert_false (g_file_test (absent, G_FILE_TEST_EXISTS));
  g_clear_error (&error);

  /* Another program's database is refused, read-write or not, and left
   * alone. */
  {
    g_autoptr (sqlite3) db = NULL;
    g_autofree char *tables = NULL;

    g_assert_cmpint (sqlite3_open (foreign, &db), ==, SQLITE_OK);
    raw_exec (db, "CREATE TABLE recipes (name TEXT)");
    g_clear_pointer (&db, sqlite3_close);

    audit = kankyo_audit_open (foreign, &error);
    g_assert_null (audit);
    g_assert_error (error, KANKYO_AUDIT_ERROR, KANKYO_AUDIT_ERROR_OPEN);
    g_assert_nonnull (strstr (error->message, foreign));
    g_assert_nonnull (strstr (error->message, "not a Kankyo audit trail"));
    g_clear_error (&error);

    audit = kankyo_audit_open_readonly (foreign, &error);
    g_assert_null (audit);
    g_assert_error (error, KANKYO_AUDIT_ERROR, KANKYO_AUDIT_ERROR_OPEN);
    g_clear_error (&error);

    db = raw_open (foreign);
    tables = raw_query_text (db, "SELECT group_concat(name) FROM sqlite_master");
    g_assert_cmpstr (tables, ==, "recipes");
  }

  /* A newer schema is refused rather than misread. */
  {
    g_autofree char *path = make_trail ("newer.db", 1);
    g_autoptr (sqlite3) db = raw_open (path);

    raw_exec (db, "PRAGMA user_version = 2");
    audit = kankyo_audit_open (path, &error);
    g_assert_null (audit);
    g_assert_error (error, KANKYO_AUDIT_ERROR, KANKYO_AUDIT_ERROR_OPEN);
    g_assert_nonnull (strstr (error->message, "version 2"));
  }
}

static void
test_append_chain (void)
{
  g_autofree char *path = db_path ("chain.db");
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) records = NULL;
  gint64 before = g_get_real_time ();
  gint64 after;

  {
    g_autoptr (KankyoAudit) audit = kankyo_audit_open (path, &error);

    g_assert_no_error (error);
    for (guint i = 1; i <= 10; i++)
      {
        gint64 seq = 0;

        g_assert_true (append_test_record (audit, i, &seq, &error));
        g_assert_no_error (error);
        g_assert_cmpint (seq, ==, i);
      }
  }
  after = g_get_real_time ();

  assert_intact (path, 10);

  records = list_all (path);
  g_assert_cmpuint (records->len, ==, 10);
  for (guint i = 0; i < records->len; i++)
    {
      KankyoAuditRecord *r = records->pdata[i];
      const char *expected_prev = i == 0 ? ZERO_HASH : ((KankyoAuditRecord *) records->pdata[i - 1])->hash;

      g_assert_cmpint (r->seq, ==, i + 1);
      g_assert_cmpint (r->time_us, >=, before);
      g_assert_cmpint (r->time_us, <=, after);
      g_assert_cmpstr (r->prev_hash, ==, expected_prev);
      g_assert_cmpuint (strlen (r->hash), ==, 64);
      g_assert_cmpuint (strspn (r->hash, "0123456789abcdef"), ==, 64);
      g_assert_cmpstr (r->hash, !=, r->prev_hash);
    }
}

/* Pins the documented encoding, including NULL versus "". */
static void
test_append_encoding (void)
{
  g_autofree char *path = make_trail ("encoding.db", 6);
  g_autoptr (GPtrArray) records = list_all (path);
  gboolean saw_null = FALSE;
  gboolean saw_empty = FALSE;

  g_assert_cmpuint (records->len, ==, 6);
  for (guint i = 0; i < records->len; i++)
    {
      KankyoAuditRecord *r = records->pdata[i];
      g_autofree char *expected = independent_hash (r);
      g_autofree char *other = NULL;
      char *reason = r->reason;

      g_assert_cmpstr (r->hash, ==, expected);

      /* The same record with the reason's NULL and "" exchanged must not
       * hash the same. */
      r->reason = reason == NULL ? (char *) "" : (reason[0] == '\0' ? NULL : reason);
      if (r->reason != reason)
        {
          other = independent_hash (r);
          g_assert_cmpstr (other, !=, r->hash);
        }
      saw_null |= reason == NULL;
      saw_empty |= reason != NULL && reason[0] == '\0';
      r->reason = reason;
    }
  g_assert_true (saw_null);
  g_assert_true (saw_empty);
}

static void
test_append_invalid (void)
{
  g_autofree char *path = db_path ("invalid.db");
  g_autoptr (GError) error = NULL;
  g_autoptr (KankyoAudit) audit = kankyo_audit_open (path, &error);
  g_autofree char *at_limit = g_strnfill (4096, 'x');
  g_autofree char *too_long = g_strnfill (4097, 'x');
  const char *bad_utf8 = "21\xff\xfe";
  gint64 seq = -42;

  struct
  {
    const char *actor, *action, *target, *old_value, *new_value, *reason, *result;
  } cases[] = {
    { NULL, "write.request", "t", NULL, NULL, NULL, NULL },
    { "", "write.request", "t", NULL, NULL, NULL, NULL },
    { "alice", NULL, "t", NULL, NULL, NULL, NULL },
    { "alice", "", "t", NULL, NULL, NULL, NULL },
    { too_long, "write.request", "t", NULL, NULL, NULL, NULL },
    { "alice", "write.request", too_long, NULL, NULL, NULL, NULL },
    { "alice", "write.request", "t", too_long, NULL, NULL, NULL },
    { "alice", "write.request", "t", NULL, too_long, NULL, NULL },
    { "alice", "write.request", "t", NULL, NULL, too_long, NULL },
    { "alice", "write.request", "t", NULL, NULL, NULL, too_long },
    { "alice", "write.request", "t", bad_utf8, NULL, NULL, NULL },
  };

  g_assert_no_error (error);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_test_message ("case %u", i);
      g_assert_false (kankyo_audit_append (audit, cases[i].actor, cases[i].action, cases[i].target,
                                           cases[i].old_value, cases[i].new_value, cases[i].reason,
                                           cases[i].result, &seq, &error));
      g_assert_error (error, KANKYO_AUDIT_ERROR, KANKYO_AUDIT_ERROR_INVALID);
      g_assert_nonnull (strstr (error->message, path));
      g_clear_error (&error);
      g_assert_cmpint (seq, ==, -42);
    }

  /* Exactly at the limit is fine, in every field. */
  g_assert_true (kankyo_audit_append (audit, at_limit, at_limit, at_limit, at_limit, at_limit, at_limit,
                                      at_limit, &seq, &error));
  g_assert_no_error (error);
  g_assert_cmpint (seq, ==, 1);

  g_clear_pointer (&audit, kankyo_audit_close);
  assert_intact (path, 1);
}

static void
test_append_readonly (void)
{
  g_autofree char *path = make_trail ("readonly.db", 2);
  g_autoptr (GError) error = NULL;
  g_autoptr (KankyoAudit) audit = kankyo_audit_open_readonly (path, &error);
  gint64 seq = -42;

  g_assert_no_error (error);
  g_assert_false (append_test_record (audit, 3, &seq, &error));
  g_assert_error (error, KANKYO_AUDIT_ERROR, KANKYO_AUDIT_ERROR_WRITE);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_cmpint (seq, ==, -42);
  g_clear_pointer (&audit, kankyo_audit_close);
  assert_intact (path, 2);
}

/* A screen or an auditor holding a read transaction must not hold up the
 * append an operator's write waits for. */
static void
test_append_reader_does_not_block (void)
{
  g_autofree char *path = make_trail ("reader.db", 3);
  g_autoptr (GError) error = NULL;
  g_autoptr (KankyoAudit) audit = kankyo_audit_open (path, &error);
  g_autoptr (sqlite3) reader = raw_open (path);
  g_autoptr (sqlite3_stmt) stmt = NULL;
  gint64 start;
  gint64 seq = 0;

  g_assert_no_error (error);
  raw_exec (reader, "BEGIN");
  g_assert_cmpint (sqlite3_prepare_v2 (reader, "SELECT seq FROM audit ORDER BY seq", -1, &stmt, NULL), ==,
                   SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);

  start = g_get_monotonic_time ();
  g_assert_true (append_test_record (audit, 4, &seq, &error));
  g_assert_no_error (error);
  g_assert_cmpint (seq, ==, 4);
  /* Well under the 5 s busy timeout: the append did not wait for the
   * reader at all. */
  g_assert_cmpint (g_get_monotonic_time () - start, <, G_USEC_PER_SEC);

  g_clear_pointer (&stmt, sqlite3_finalize);
  raw_exec (reader, "COMMIT");
  g_clear_pointer (&audit, kankyo_audit_close);
  assert_intact (path, 4);
}

typedef struct
{
  KankyoAudit *audit;
  guint n;
  GArray *seqs;
} ThreadData;

static gpointer
append_thread (gpointer user_data)
{
  ThreadData *data = user_data;

  for (guint i = 0; i < data->n; i++)
    {
      g_autoptr (GError) error = NULL;
      gint64 seq = 0;

      g_assert_true (append_test_record (data->audit, i, &seq, &error));
      g_assert_no_error (error);
      g_array_append_val (data->seqs, seq);
    }
  return NULL;
}

static void
test_append_threads (void)
{
  g_autofree char *path = db_path ("threads.db");
  g_autoptr (GError) error = NULL;
  g_autoptr (KankyoAudit) audit = kankyo_audit_open (path, &error);
  g_autoptr (GHashTable) seen = g_hash_table_new (g_int64_hash, g_int64_equal);
  ThreadData data[4];
  GThread *threads[4];

  g_assert_no_error (error);
  for (guint t = 0; t < G_N_ELEMENTS (threads); t++)
    {
      data[t] = (ThreadData){ audit, 25, g_array_new (FALSE, FALSE, sizeof (gint64)) };
      threads[t] = g_thread_new ("append", append_thread, &data[t]);
    }
  for (guint t = 0; t < G_N_ELEMENTS (threads); t++)
    {
      g_thread_join (threads[t]);
      for (guint i = 0; i < data[t].seqs->len; i++)
        {
          gint64 *seq = &g_array_index (data[t].seqs, gint64, i);

          g_assert_false (g_hash_table_contains (seen, seq));
          g_hash_table_add (seen, seq);
        }
    }
  g_assert_cmpuint (g_hash_table_size (seen), ==, 100);
  g_hash_table_remove_all (seen);
  for (guint t = 0; t < G_N_ELEMENTS (threads); t++)
    g_array_unref (data[t].seqs);

  g_clear_pointer (&audit, kankyo_audit_close);
  assert_intact (path, 100);
}

static void
test_list_order (void)
{
  g_autofree char *path = make_trail ("list.db", 5);
  g_autoptr (GError) error = NULL;
  g_autoptr (KankyoAudit) audit = kankyo_audit_open_readonly (path, &error);
  g_autoptr (GPtrArray) all = NULL;
  g_autoptr (GPtrArray) page = NULL;
  g_autoptr (GPtrArray) none = NULL;
  GPtrArray *bad;

  g_assert_no_error (error);

  all = kankyo_audit_list (audit, 0, 100, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (all->len, ==, 5);
  for (guint i = 0; i < all->len; i++)
    {
      KankyoAuditRecord *r = all->pdata[i];
      guint n = i + 1;
      g_autofree char *old_value = g_strdup_printf ("%u.0", 20 + n);
      g_autofree char *new_value = g_strdup_printf ("%u.5", 20 + n);

      g_assert_cmpint (r->seq, ==, n);
      g_assert_cmpstr (r->actor, ==, n % 2 == 0 ? "alice" : "bob");
      g_assert_cmpstr (r->action, ==, "write.request");
      g_assert_cmpstr (r->target, ==, "room1.setpoint");
      g_assert_cmpstr (r->old_value, ==, old_value);
      g_assert_cmpstr (r->new_value, ==, new_value);
      g_assert_cmpstr (r->reason, ==, n % 3 == 0 ? NULL : (n % 3 == 1 ? "" : "batch 42 start"));
      if (n % 3 == 0)
        g_assert_null (r->reason);
      else
        g_assert_nonnull (r->reason);
      g_assert_cmpstr (r->result, ==, "pending");
      if (i > 0)
        g_assert_cmpint (r->time_us, >=, ((KankyoAuditRecord *) all->pdata[i - 1])->time_us);
    }

  page = kankyo_audit_list (audit, 2, 2, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (page->len, ==, 2);
  g_assert_cmpint (((KankyoAuditRecord *) page->pdata[0])->seq, ==, 3);
  g_assert_cmpint (((KankyoAuditRecord *) page->pdata[1])->seq, ==, 4);

  none = kankyo_audit_list (audit, 5, 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (none->len, ==, 0);

  bad = kankyo_audit_list (audit, 0, 0, &error);
  g_assert_null (bad);
  g_assert_error (error, KANKYO_AUDIT_ERROR, KANKYO_AUDIT_ERROR_INVALID);
}

/* Ordinary SQL cannot change history, nor move the head around. */
static void
test_protect_triggers (void)
{
  g_autofree char *path = make_trail ("triggers.db", 5);
  g_autoptr (sqlite3) db = raw_open (path);
  const char *refused[] = {
    "UPDATE audit SET actor = 'mallory' WHERE seq = 3",
    "UPDATE audit SET seq = 9 WHERE seq = 5",
    "DELETE FROM audit WHERE seq = 5",
    "DELETE FROM audit",
    "INSERT INTO audit (seq, time_us, actor, action, prev_hash, hash)"
    " VALUES (3, 0, 'mallory', 'x', '" ZERO_HASH "', '" ZERO_HASH "')",
    "INSERT OR REPLACE INTO audit (seq, time_us, actor, action, prev_hash, hash)"
    " VALUES (3, 0, 'mallory', 'x', '" ZERO_HASH "', '" ZERO_HASH "')",
    "INSERT INTO audit (seq, time_us, actor, action, prev_hash, hash)"
    " VALUES (6, 0, 'mallory', 'x', '" ZERO_HASH "', '" ZERO_HASH "')",
    "UPDATE audit_head SET seq = 3",
    "UPDATE audit_head SET hash = '" ZERO_HASH "'",
    "DELETE FROM audit_head",
    "INSERT OR REPLACE INTO audit_head (id, seq, hash) VALUES (1, 0, '" ZERO_HASH "')",
  };

  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autofree char *message = NULL;

      g_test_message ("%s", refused[i]);
      g_assert_cmpint (raw_exec_rc (db, refused[i], &message), ==, SQLITE_CONSTRAINT);
      g_assert_nonnull (strstr (message, "audit"));
    }
  g_clear_pointer (&db, sqlite3_close);

  assert_intact (path, 5);
}

static void
test_verify_empty (void)
{
  g_autofree char *path = make_trail ("empty.db", 0);

  assert_intact (path, 0);
}

/* (a) One field of record 5 changed, its hash left alone. */
static void
test_verify_edited (void)
{
  g_autofree char *path = make_trail ("edited.db", 10);
  g_autoptr (KankyoAuditRecord) r = get_record (path, 5);
  g_autoptr (GPtrArray) findings = NULL;
  g_autoptr (GDateTime) when = g_date_time_new_from_unix_utc (r->time_us / G_USEC_PER_SEC);
  g_autofree char *when_text = g_date_time_format (when, "%Y-%m-%d %H:%M:%S");
  g_autofree char *expected = NULL;
  KankyoAuditFinding *f;
  gint64 count = 0;

  tamper (path, "UPDATE audit SET new_value = '30.0' WHERE seq = 5");

  findings = verify_path (path, &count);
  g_assert_cmpint (count, ==, 10);
  g_assert_cmpuint (findings->len, ==, 1);
  f = findings->pdata[0];
  g_assert_cmpint (f->kind, ==, KANKYO_AUDIT_FINDING_EDITED);
  g_assert_cmpint (f->seq, ==, 5);

  expected = g_strdup_printf ("record 5 (%s UTC, write.request by %s on room1.setpoint) was "
                              "edited after it was written: its content no longer matches "
                              "its hash",
                              when_text, r->actor);
  g_assert_cmpstr (f->message, ==, expected);
  g_assert_cmpstr (kankyo_audit_finding_kind_to_string (f->kind), ==, "edited");
}

/* (b) Record 7 deleted from the middle. */
static void
test_verify_deleted (void)
{
  g_autofree char *path = make_trail ("deleted.db", 10);
  g_autoptr (GPtrArray) findings = NULL;
  KankyoAuditFinding *f;
  gint64 count = 0;

  tamper (path, "DELETE FROM audit WHERE seq = 7");

  findings = verify_path (path, &count);
  g_assert_cmpint (count, ==, 9);
  g_assert_cmpuint (findings->len, ==, 1);
  f = findings->pdata[0];
  g_assert_cmpint (f->kind, ==, KANKYO_AUDIT_FINDING_DELETED);
  g_assert_cmpint (f->seq, ==, 7);
  g_assert_true (g_str_has_prefix (f->message, "record 7 is missing"));
}

/* Records 1 and 2 deleted from the start. */
static void
test_verify_deleted_start (void)
{
  g_autofree char *path = make_trail ("deleted-start.db", 6);
  g_autoptr (GPtrArray) findings = NULL;
  KankyoAuditFinding *f;

  tamper (path, "DELETE FROM audit WHERE seq <= 2");

  findings = verify_path (path, NULL);
  g_assert_cmpuint (findings->len, ==, 1);
  f = findings->pdata[0];
  g_assert_cmpint (f->kind, ==, KANKYO_AUDIT_FINDING_DELETED);
  g_assert_cmpint (f->seq, ==, 1);
  g_assert_true (g_str_has_prefix (f->message, "records 1 to 2 are missing from the beginning"));
}

/* (c) Records 3 and 4 exchange their numbers. */
static void
test_verify_reordered (void)
{
  g_autofree char *path = make_trail ("reordered.db", 10);
  g_autoptr (GPtrArray) findings = NULL;
  KankyoAuditFinding *f;

  tamper_swap_3_and_4 (path);

  findings = verify_path (path, NULL);
  g_assert_cmpuint (findings->len, >, 0);
  g_assert_cmpuint (count_kind (findings, KANKYO_AUDIT_FINDING_REORDERED), ==, findings->len);

  f = require_finding (findings, KANKYO_AUDIT_FINDING_REORDERED, 3);
  g_assert_nonnull (strstr (f->message, "written as record 4"));
  f = require_finding (findings, KANKYO_AUDIT_FINDING_REORDERED, 4);
  g_assert_nonnull (strstr (f->message, "written as record 3"));
}

/* Records 3 and 4 swapped and the one now numbered 4 edited as well, so it
 * can no longer be recognised as moved: record 5, intact, still names the
 * record it was written after. */
static void
test_verify_reordered_link (void)
{
  g_autofree char *path = make_trail ("reordered-link.db", 8);
  g_autoptr (GPtrArray) findings = NULL;
  KankyoAuditFinding *f;

  tamper_swap_3_and_4 (path);
  tamper (path, "UPDATE audit SET result = 'ok' WHERE seq = 4");

  findings = verify_path (path, NULL);
  require_finding (findings, KANKYO_AUDIT_FINDING_REORDERED, 3);
  require_finding (findings, KANKYO_AUDIT_FINDING_EDITED, 4);
  f = require_finding (findings, KANKYO_AUDIT_FINDING_REORDERED, 5);
  g_assert_nonnull (strstr (f->message, "written right after record 3, not after record 4"));
  g_assert_cmpuint (findings->len, ==, 3);
}

/* (d) The last two records deleted, the head left as it was. */
static void
test_verify_tail (void)
{
  g_autofree char *path = make_trail ("tail.db", 10);
  g_autoptr (GPtrArray) findings = NULL;
  KankyoAuditFinding *f;
  gint64 count = 0;

  tamper (path, "DELETE FROM audit WHERE seq > 8");

  findings = verify_path (path, &count);
  g_assert_cmpint (count, ==, 8);
  g_assert_cmpuint (findings->len, ==, 1);
  f = findings->pdata[0];
  g_assert_cmpint (f->kind, ==, KANKYO_AUDIT_FINDING_DELETED);
  g_assert_cmpint (f->seq, ==, 9);
  g_assert_true (g_str_has_prefix (f->message, "records 9 to 10 are missing from the end"));
}

/* (e) Record 5 edited and its hash recomputed: record 6 still links to the
 * old hash. */
static void
test_verify_rehashed (void)
{
  g_autofree char *path = make_trail ("rehashed.db", 10);
  g_autoptr (GPtrArray) findings = NULL;
  KankyoAuditFinding *f;

  tamper_rehash (path, 5);

  findings = verify_path (path, NULL);
  g_assert_cmpuint (findings->len, ==, 1);
  f = findings->pdata[0];
  g_assert_cmpint (f->kind, ==, KANKYO_AUDIT_FINDING_BROKEN);
  g_assert_cmpint (f->seq, ==, 6);
  g_assert_true (g_str_has_prefix (f->message, "the chain is broken between record 5 and record 6 ("));
}

/* The same on the newest record, which no record links to: the head
 * remembers its hash. */
static void
test_verify_rehashed_last (void)
{
  g_autofree char *path = make_trail ("rehashed-last.db", 10);
  g_autoptr (GPtrArray) findings = NULL;
  KankyoAuditFinding *f;

  tamper_rehash (path, 10);

  findings = verify_path (path, NULL);
  g_assert_cmpuint (findings->len, ==, 1);
  f = findings->pdata[0];
  g_assert_cmpint (f->kind, ==, KANKYO_AUDIT_FINDING_EDITED);
  g_assert_cmpint (f->seq, ==, 10);
  g_assert_nonnull (strstr (f->message, "was rewritten after it was written"));
}

/* A well-formed record added with plain SQL, past Kankyo: the triggers let
 * it in (it extends the chain), but the head was not moved. */
static void
test_verify_bypass (void)
{
  g_autofree char *path = make_trail ("bypass.db", 4);
  g_autoptr (KankyoAuditRecord) last = get_record (path, 4);
  g_autoptr (KankyoAuditRecord) forged = g_new0 (KankyoAuditRecord, 1);
  g_autoptr (sqlite3) db = NULL;
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autoptr (GPtrArray) findings = NULL;
  g_autofree char *hash = NULL;
  KankyoAuditFinding *f;

  forged->seq = 5;
  forged->time_us = last->time_us + 1;
  forged->actor = g_strdup ("mallory");
  forged->action = g_strdup ("write.request");
  forged->prev_hash = g_strdup (last->hash);
  hash = independent_hash (forged);

  db = raw_open (path);
  g_assert_cmpint (sqlite3_prepare_v2 (db,
                                       "INSERT INTO audit (seq, time_us, actor, action, prev_hash, hash)"
                                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                                       -1, &stmt, NULL),
                   ==, SQLITE_OK);
  sqlite3_bind_int64 (stmt, 1, forged->seq);
  sqlite3_bind_int64 (stmt, 2, forged->time_us);
  sqlite3_bind_text (stmt, 3, forged->actor, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, forged->action, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 5, forged->prev_hash, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 6, hash, -1, SQLITE_STATIC);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_DONE);
  g_clear_pointer (&stmt, sqlite3_finalize);
  g_clear_pointer (&db, sqlite3_close);

  findings = verify_path (path, NULL);
  g_assert_cmpuint (findings->len, ==, 1);
  f = findings->pdata[0];
  g_assert_cmpint (f->kind, ==, KANKYO_AUDIT_FINDING_BROKEN);
  g_assert_cmpint (f->seq, ==, 5);
  g_assert_true (g_str_has_prefix (f->message, "record 5 is not part of the trail"));
}

/* (f) Everything above in one file, each reported where it happened. */
static void
test_verify_combined (void)
{
  g_autofree char *path = make_trail ("combined.db", 15);
  g_autoptr (GPtrArray) findings = NULL;
  gint64 count = 0;

  tamper_swap_3_and_4 (path);
  tamper (path, "UPDATE audit SET reason = 'nothing to see' WHERE seq = 5");
  tamper (path, "DELETE FROM audit WHERE seq = 7");
  tamper_rehash (path, 10);
  tamper (path, "DELETE FROM audit WHERE seq > 13");

  findings = verify_path (path, &count);
  g_assert_cmpint (count, ==, 12);
  require_finding (findings, KANKYO_AUDIT_FINDING_REORDERED, 3);
  require_finding (findings, KANKYO_AUDIT_FINDING_REORDERED, 4);
  require_finding (findings, KANKYO_AUDIT_FINDING_EDITED, 5);
  require_finding (findings, KANKYO_AUDIT_FINDING_DELETED, 7);
  require_finding (findings, KANKYO_AUDIT_FINDING_BROKEN, 11);
  require_finding (findings, KANKYO_AUDIT_FINDING_DELETED, 14);
  g_assert_cmpuint (findings->len, ==, 6);
}

/* kill -9 in the middle of appending loses nothing that was reported
 * durable and leaves a consistent chain, three times over on one file. */
static void
test_crash_kill9 (void)
{
  const char *build_dir = g_getenv ("KANKYO_BUILD_DIR");
  g_autofree char *burst = NULL;
  g_autofree char *path = db_path ("crash.db");
  g_autoptr (GArray) printed = g_array_new (FALSE, FALSE, sizeof (gint64));

  if (build_dir == NULL)
    {
      g_test_skip ("KANKYO_BUILD_DIR is not set: run this test through meson test");
      return;
    }
  burst = g_build_filename (build_dir, "tests", "unit", "audit-burst", NULL);
  g_assert_true (g_file_test (burst, G_FILE_TEST_IS_EXECUTABLE));

  for (guint round = 0; round < BURST_ROUNDS; round++)
    {
      const char *argv[] = { burst, path, NULL };
      g_autoptr (GError) error = NULL;
      g_autoptr (sqlite3) db = NULL;
      g_autoptr (GPtrArray) findings = NULL;
      g_autofree char *integrity = NULL;
      char line[64];
      guint first_of_round = printed->len;
      gboolean killed = FALSE;
      GPid pid;
      int out_fd;
      FILE *out;
      int status;

      g_assert_true (g_spawn_async_with_pipes (NULL, (char **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL,
                                               NULL, &pid, NULL, &out_fd, NULL, &error));
      g_assert_no_error (error);
      out = fdopen (out_fd, "r");
      g_assert_nonnull (out);

      /* Numbers printed after the kill was sent were committed before
       * it landed, so keep reading to the end of the pipe. */
      while (fgets (line, sizeof line, out) != NULL)
        {
          gint64 seq;

          g_assert_true (g_ascii_string_to_signed (g_strchomp (line), 10, 1, G_MAXINT64, &seq, &error));
          g_assert_no_error (error);
          if (printed->len > first_of_round)
            g_assert_cmpint (seq, ==, g_array_index (printed, gint64, printed->len - 1) + 1);
          else if (printed->len > 0)
            g_assert_cmpint (seq, >, g_array_index (printed, gint64, printed->len - 1));
          g_array_append_val (printed, seq);

          if (!killed && printed->len - first_of_round >= BURST_MIN_SEQS)
            {
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

      g_test_message ("round %u: %u records reported durable, up to %" G_GINT64_FORMAT, round,
                      printed->len - first_of_round, g_array_index (printed, gint64, printed->len - 1));

      findings = verify_path (path, NULL);
      g_assert_cmpuint (findings->len, ==, 0);

      db = raw_open (path);
      integrity = raw_query_text (db, "PRAGMA integrity_check");
      g_assert_cmpstr (integrity, ==, "ok");
      for (guint i = 0; i < printed->len; i++)
        {
          g_autoptr (sqlite3_stmt) stmt = NULL;
          gint64 seq = g_array_index (printed, gint64, i);

          g_assert_cmpint (
              sqlite3_prepare_v2 (db, "SELECT count(*) FROM audit WHERE seq = ?1", -1, &stmt, NULL), ==,
              SQLITE_OK);
          sqlite3_bind_int64 (stmt, 1, seq);
          g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
          if (sqlite3_column_int64 (stmt, 0) != 1)
            g_error ("record %" G_GINT64_FORMAT " was reported durable but is gone", seq);
        }
    }
}

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    {
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          if (g_file_test (child, G_FILE_TEST_IS_DIR))
            remove_tree (child);
          else
            g_unlink (child);
        }
    }
  g_rmdir (path);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);

  tmp_dir = g_dir_make_tmp ("kankyo-audit-XXXXXX", &error);
  g_assert_no_error (error);

  g_test_add_func ("/audit/open/create", test_open_create);
  g_test_add_func ("/audit/open/errors", test_open_errors);
  g_test_add_func ("/audit/append/chain", test_append_chain);
  g_test_add_func ("/audit/append/encoding", test_append_encoding);
  g_test_add_func ("/audit/append/invalid", test_append_invalid);
  g_test_add_func ("/audit/append/readonly", test_append_readonly);
  g_test_add_func ("/audit/append/reader-does-not-block", test_append_reader_does_not_block);
  g_test_add_func ("/audit/append/threads", test_append_threads);
  g_test_add_func ("/audit/list/order", test_list_order);
  g_test_add_func ("/audit/protect/triggers", test_protect_triggers);
  g_test_add_func ("/audit/verify/empty", test_verify_empty);
  g_test_add_func ("/audit/verify/edited", test_verify_edited);
  g_test_add_func ("/audit/verify/deleted", test_verify_deleted);
  g_test_add_func ("/audit/verify/deleted-start", test_verify_deleted_start);
  g_test_add_func ("/audit/verify/reordered", test_verify_reordered);
  g_test_add_func ("/audit/verify/reordered-link", test_verify_reordered_link);
  g_test_add_func ("/audit/verify/tail", test_verify_tail);
  g_test_add_func ("/audit/verify/rehashed", test_verify_rehashed);
  g_test_add_func ("/audit/verify/rehashed-last", test_verify_rehashed_last);
  g_test_add_func ("/audit/verify/bypass", test_verify_bypass);
  g_test_add_func ("/audit/verify/combined", test_verify_combined);
  g_test_add_func ("/audit/crash/kill9", test_crash_kill9);

  status = g_test_run ();

  remove_tree (tmp_dir);
  g_free (tmp_dir);
  return status;
}
