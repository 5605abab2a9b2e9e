/* test-alarm-journal.c: tests of the alarm and event journal (alarms.db),
 * its CSV export, the alarm performance figures and their PDF, and
 * `kankyoctl alarms`, on real SQLite files in a temporary folder.
 *
 * Every expectation is computed here independently of the journal: search
 * results against a filter over the records kept in memory, the CSV by an
 * RFC 4180 reader written here, the performance figures by brute force
 * (the flood window counted anew at every second of the period), the PDF
 * through poppler (pdftoppm, pdftotext). Durability is tested against a
 * writer process killed with SIGKILL: this binary re-executed in a writer
 * mode, so no other program is needed.
 */

#include "config.h"

#include <locale.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <sqlite3.h>

#include "kankyo-alarm-journal.h"

#define SEC G_GINT64_CONSTANT (1000000)
#define MINUTE (60 * SEC)
#define HOUR (60 * MINUTE)
#define DAY (24 * HOUR)
/* 2024-03-01T00:00:00Z */
#define BASE (G_GINT64_CONSTANT (1709251200) * SEC)

/* Pango keeps fontconfig's caches for the life of the process by design;
 * LeakSanitizer reads this in sanitizer builds. Nothing of Kankyo's is
 * suppressed. */
const char *__lsan_default_suppressions (void);

const char *
__lsan_default_suppressions (void)
{
  return "leak:libfontconfig.so\n";
}

static char *self_exe;
static char *tmp_dir;

/* ---- helpers ---- */

static char *
make_dir (const char *name)
{
  char *dir = g_build_filename (tmp_dir, name, NULL);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  return dir;
}

static char *
journal_path (const char *dir)
{
  return g_build_filename (dir, "alarms.db", NULL);
}

static void
record_set (KankyoAlarmRecord *r,
            gint64 time,
            const char *alarm_id,
            const char *area,
            KankyoAlarmPriority priority,
            KankyoAlarmEvent event,
            KankyoAlarmState state)
{
  g_autofree char *device = g_strndup (alarm_id, strcspn (alarm_id, "."));

  *r = (KankyoAlarmRecord){ 0 };
  r->time = time;
  r->alarm_id = g_strdup (alarm_id);
  /* "room1.temperature.high" is of the tag "room1.temperature". */
  r->tag = strrchr (alarm_id, '.') != NULL ? g_strndup (alarm_id, strrchr (alarm_id, '.') - alarm_id)
                                           : g_strdup (alarm_id);
  r->device = g_steal_pointer (&device);
  r->area = g_strdup (area);
  r->priority = priority;
  r->event = event;
  r->state = state;
  r->value = NAN;
  r->message = g_strdup_printf ("%s message", alarm_id);
}

static GArray *
records_new (void)
{
  GArray *records = g_array_new (FALSE, TRUE, sizeof (KankyoAlarmRecord));

  g_array_set_clear_func (records, (GDestroyNotify) kankyo_alarm_record_clear);
  return records;
}

static KankyoAlarmRecord *
add (GArray *records,
     gint64 time,
     const char *alarm_id,
     const char *area,
     KankyoAlarmPriority priority,
     KankyoAlarmEvent event,
     KankyoAlarmState state)
{
  KankyoAlarmRecord r;

  record_set (&r, time, alarm_id, area, priority, event, state);
  g_array_append_val (records, r);
  return &g_array_index (records, KankyoAlarmRecord, records->len - 1);
}

static void
append_all (KankyoAlarmJournal *journal, GArray *records)
{
  for (guint i = 0; i < records->len; i++)
    {
      g_autoptr (GError) error = NULL;

      g_assert_true (kankyo_alarm_journal_append (journal, &g_array_index (records, KankyoAlarmRecord, i),
                                                  FALSE, &error));
      g_assert_no_error (error);
    }
  {
    g_autoptr (GError) error = NULL;

    g_assert_true (kankyo_alarm_journal_flush (journal, &error));
    g_assert_no_error (error);
  }
}

/* A journal in a new folder holding @records (their seq set). */
static KankyoAlarmJournal *
journal_with (const char *name, GArray *records, char **ret_dir)
{
  g_autofree char *dir = make_dir (name);
  g_autofree char *path = journal_path (dir);
  g_autoptr (GError) error = NULL;
  KankyoAlarmJournal *journal = kankyo_alarm_journal_open (path, &error);

  g_assert_no_error (error);
  g_assert_nonnull (journal);
  append_all (journal, records);
  if (ret_dir != NULL)
    *ret_dir = g_steal_pointer (&dir);
  return journal;
}

static void
assert_same_record (const KankyoAlarmRecord *a, const KankyoAlarmRecord *b)
{
  g_assert_cmpint (a->seq, ==, b->seq);
  g_assert_cmpint (a->time, ==, b->time);
  g_assert_cmpstr (a->alarm_id, ==, b->alarm_id);
  g_assert_cmpstr (a->tag ? a->tag : "", ==, b->tag ? b->tag : "");
  g_assert_cmpstr (a->device ? a->device : "", ==, b->device ? b->device : "");
  g_assert_cmpstr (a->area ? a->area : "", ==, b->area ? b->area : "");
  g_assert_cmpint (a->priority, ==, b->priority);
  g_assert_cmpint (a->event, ==, b->event);
  g_assert_cmpint (a->state, ==, b->state);
  if (isnan (a->value))
    g_assert_true (isnan (b->value));
  else
    g_assert_cmpfloat (a->value, ==, b->value);
  g_assert_cmpstr (a->message ? a->message : "", ==, b->message ? b->message : "");
  g_assert_cmpstr (a->user, ==, b->user);
  g_assert_cmpstr (a->reason, ==, b->reason);
}

static gint
compare_time_seq (const KankyoAlarmRecord *a, const KankyoAlarmRecord *b)
{
  if (a->time != b->time)
    return a->time < b->time ? -1 : 1;
  return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static gint
compare_records (gconstpointer a, gconstpointer b)
{
  return compare_time_seq (*(KankyoAlarmRecord *const *) a, *(KankyoAlarmRecord *const *) b);
}

/* ---- searching ---- */

static const char *const areas[] = { "cleanroom", "vacuum", "coldchain", "充填室" };
static const char *const devices[] = { "room1", "room10", "room2", "pump", "cold1", "クリーンルーム" };
static const char *const users[] = { "alice", "bob", "田中" };

static gboolean
matches (const KankyoAlarmRecord *r, const KankyoAlarmQuery *q)
{
  if (q->from != 0 && r->time < q->from)
    return FALSE;
  if (q->to != 0 && r->time >= q->to)
    return FALSE;
  if (q->tag != NULL && *q->tag != '\0')
    {
      if (g_str_has_suffix (q->tag, ".") ? !g_str_has_prefix (r->tag, q->tag) : !g_str_equal (r->tag, q->tag))
        return FALSE;
    }
  if (q->area != NULL && *q->area != '\0' && !g_str_equal (r->area, q->area))
    return FALSE;
  if (q->user != NULL && *q->user != '\0' && g_strcmp0 (r->user, q->user) != 0)
    return FALSE;
  if (q->min_priority >= 0 && (int) r->priority < q->min_priority)
    return FALSE;
  if (q->event >= 0 && (int) r->event != q->event)
    return FALSE;
  if (q->states != 0 && (q->states & (1u << r->state)) == 0)
    return FALSE;
  return TRUE;
}

/* Random records of every kind, out of time order. */
static GArray *
random_records (GRand *rand, guint n)
{
  GArray *records = records_new ();

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *id = g_strdup_printf ("%s.%s.%s", devices[g_rand_int_range (rand, 0, 6)],
                                             g_rand_boolean (rand) ? "temperature" : "pressure",
                                             g_rand_boolean (rand) ? "high" : "low");
      KankyoAlarmRecord *r
          = add (records, BASE + g_rand_int_range (rand, 0, 3600) * SEC / 2 * 2, id,
                 areas[g_rand_int_range (rand, 0, 4)], g_rand_int_range (rand, 0, 4),
                 g_rand_int_range (rand, KANKYO_ALARM_EVENT_ACTIVATE, KANKYO_ALARM_EVENT_RESET + 1),
                 g_rand_int_range (rand, 0, KANKYO_ALARM_STATE_OUT_OF_SERVICE + 1));

      /* Some at the same microsecond: order is then the journal's. */
      if (i % 10 == 3)
        r->time = BASE + 1800 * SEC;
      if (g_rand_int_range (rand, 0, 3) != 0)
        r->value = g_rand_double_range (rand, -1000, 1000);
      if (g_rand_int_range (rand, 0, 3) == 0)
        {
          r->user = g_strdup (users[g_rand_int_range (rand, 0, 3)]);
          r->reason = g_strdup_printf ("reason %u, \"quoted\"\r\nnext line", i);
        }
    }
  return records;
}

static void
check_query (KankyoAlarmJournal *journal, GArray *records, const KankyoAlarmQuery *q)
{
  g_autoptr (GPtrArray) expected = g_ptr_array_new ();
  g_autoptr (GArray) found = NULL;
  g_autoptr (GError) error = NULL;
  guint limit = q->limit != 0 ? q->limit : KANKYO_ALARM_JOURNAL_DEFAULT_LIMIT;

  for (guint i = 0; i < records->len; i++)
    if (matches (&g_array_index (records, KankyoAlarmRecord, i), q))
      g_ptr_array_add (expected, &g_array_index (records, KankyoAlarmRecord, i));
  g_ptr_array_sort (expected, compare_records);
  if (q->newest_first)
    for (guint i = 0; i < expected->len / 2; i++)
      {
        gpointer t = expected->pdata[i];

        expected->pdata[i] = expected->pdata[expected->len - 1 - i];
        expected->pdata[expected->len - 1 - i] = t;
      }
  if (expected->len > limit)
    g_ptr_array_set_size (expected, limit);

  found = kankyo_alarm_journal_search (journal, q, &error);
  g_assert_no_error (error);
  g_assert_nonnull (found);
  g_assert_cmpuint (found->len, ==, expected->len);
  for (guint i = 0; i < found->len; i++)
    assert_same_record (&g_array_index (found, KankyoAlarmRecord, i), expected->pdata[i]);
}

static void
test_search (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (42);
  g_autoptr (GArray) records = random_records (rand, 600);
  g_autoptr (KankyoAlarmJournal) journal = journal_with ("search", records, NULL);
  KankyoAlarmQuery q;
  guint nonempty = 0;

  /* seq: set by append, increasing. */
  for (guint i = 1; i < records->len; i++)
    g_assert_cmpint (g_array_index (records, KankyoAlarmRecord, i).seq, >,
                     g_array_index (records, KankyoAlarmRecord, i - 1).seq);

  /* Each filter alone, at its edges. */
  kankyo_alarm_query_init (&q);
  check_query (journal, records, &q);
  q.newest_first = TRUE;
  check_query (journal, records, &q);
  kankyo_alarm_query_init (&q);
  q.from = BASE + 1800 * SEC;
  check_query (journal, records, &q);
  q.to = BASE + 1800 * SEC + 1;
  check_query (journal, records, &q);
  kankyo_alarm_query_init (&q);
  q.to = BASE + 1800 * SEC;
  check_query (journal, records, &q);
  kankyo_alarm_query_init (&q);
  q.tag = "room1.temperature";
  check_query (journal, records, &q);
  q.tag = "room1."; /* room1, not room10 */
  check_query (journal, records, &q);
  q.tag = "クリーンルーム.";
  check_query (journal, records, &q);
  q.tag = "room";
  check_query (journal, records, &q);
  kankyo_alarm_query_init (&q);
  q.area = "充填室";
  check_query (journal, records, &q);
  kankyo_alarm_query_init (&q);
  q.user = "田中";
  check_query (journal, records, &q);
  for (int p = KANKYO_ALARM_PRIORITY_DIAGNOSTIC; p <= KANKYO_ALARM_PRIORITY_HIGH; p++)
    {
      kankyo_alarm_query_init (&q);
      q.min_priority = p;
      check_query (journal, records, &q);
    }
  for (int e = KANKYO_ALARM_EVENT_ACTIVATE; e <= KANKYO_ALARM_EVENT_RESET; e++)
    {
      kankyo_alarm_query_init (&q);
      q.event = e;
      check_query (journal, records, &q);
    }
  kankyo_alarm_query_init (&q);
  q.states = (1u << KANKYO_ALARM_STATE_SHELVED) | (1u << KANKYO_ALARM_STATE_UNACK);
  check_query (journal, records, &q);
  kankyo_alarm_query_init (&q);
  q.limit = 7;
  check_query (journal, records, &q);
  q.newest_first = TRUE;
  check_query (journal, records, &q);

  /* Random combinations. */
  for (guint i = 0; i < 300; i++)
    {
      g_autofree char *tag = NULL;
      g_autoptr (GArray) found = NULL;

      kankyo_alarm_query_init (&q);
      if (g_rand_boolean (rand))
        q.from = BASE + g_rand_int_range (rand, 0, 3600) * SEC;
      if (g_rand_boolean (rand))
        q.to = q.from + g_rand_int_range (rand, 1, 3600) * SEC;
      if (g_rand_int_range (rand, 0, 3) == 0)
        tag = g_strdup_printf ("%s.%s", devices[g_rand_int_range (rand, 0, 6)],
                               g_rand_boolean (rand) ? "temperature" : "");
      q.tag = tag;
      if (g_rand_int_range (rand, 0, 3) == 0)
        q.area = areas[g_rand_int_range (rand, 0, 4)];
      if (g_rand_int_range (rand, 0, 4) == 0)
        q.user = users[g_rand_int_range (rand, 0, 3)];
      if (g_rand_int_range (rand, 0, 3) == 0)
        q.min_priority = g_rand_int_range (rand, 0, 4);
      if (g_rand_int_range (rand, 0, 3) == 0)
        q.event = g_rand_int_range (rand, KANKYO_ALARM_EVENT_ACTIVATE, KANKYO_ALARM_EVENT_RESET + 1);
      if (g_rand_int_range (rand, 0, 4) == 0)
        q.states = g_rand_int_range (rand, 1, 256);
      if (g_rand_int_range (rand, 0, 4) == 0)
        q.limit = g_rand_int_range (rand, 1, 50);
      q.newest_first = g_rand_boolean (rand);
      check_query (journal, records, &q);
      found = kankyo_alarm_journal_search (journal, &q, NULL);
      nonempty += found->len > 0;
    }
  /* The combinations did find something, so the comparisons meant it. */
  g_assert_cmpuint (nonempty, >, 100);
}

/* The standing alarms: newest record of each alarm not NORMAL. */
static void
test_list_active (void)
{
  g_autoptr (GArray) records = records_new ();
  g_autoptr (KankyoAlarmJournal) journal = NULL;
  g_autoptr (GArray) active = NULL;
  g_autoptr (GError) error = NULL;
  KankyoAlarmQuery q;

  add (records, BASE + 1 * SEC, "a.x.high", "one", KANKYO_ALARM_PRIORITY_LOW, KANKYO_ALARM_EVENT_ACTIVATE,
       KANKYO_ALARM_STATE_UNACK);
  add (records, BASE + 5 * SEC, "a.x.high", "one", KANKYO_ALARM_PRIORITY_LOW, KANKYO_ALARM_EVENT_CLEAR,
       KANKYO_ALARM_STATE_RTN_UNACK);
  add (records, BASE + 9 * SEC, "a.x.high", "one", KANKYO_ALARM_PRIORITY_LOW, KANKYO_ALARM_EVENT_ACK,
       KANKYO_ALARM_STATE_NORMAL);
  add (records, BASE + 2 * SEC, "b.y.low", "two", KANKYO_ALARM_PRIORITY_HIGH, KANKYO_ALARM_EVENT_ACTIVATE,
       KANKYO_ALARM_STATE_UNACK);
  add (records, BASE + 3 * SEC, "c.z.high", "one", KANKYO_ALARM_PRIORITY_MEDIUM, KANKYO_ALARM_EVENT_ACTIVATE,
       KANKYO_ALARM_STATE_UNACK);
  add (records, BASE + 4 * SEC, "c.z.high", "one", KANKYO_ALARM_PRIORITY_MEDIUM, KANKYO_ALARM_EVENT_SHELVE,
       KANKYO_ALARM_STATE_SHELVED);
  add (records, BASE + 6 * SEC, "d.w.high", "two", KANKYO_ALARM_PRIORITY_MEDIUM, KANKYO_ALARM_EVENT_ACTIVATE,
       KANKYO_ALARM_STATE_UNACK);
  /* Two at the same time: the later in the journal is the newer. */
  add (records, BASE + 7 * SEC, "d.w.high", "two", KANKYO_ALARM_PRIORITY_MEDIUM, KANKYO_ALARM_EVENT_CLEAR,
       KANKYO_ALARM_STATE_RTN_UNACK);
  add (records, BASE + 7 * SEC, "d.w.high", "two", KANKYO_ALARM_PRIORITY_MEDIUM, KANKYO_ALARM_EVENT_ACK,
       KANKYO_ALARM_STATE_NORMAL);
  journal = journal_with ("active", records, NULL);

  active = kankyo_alarm_journal_list_active (journal, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (active->len, ==, 2);
  g_assert_cmpstr (g_array_index (active, KankyoAlarmRecord, 0).alarm_id, ==, "b.y.low");  /* high */
  g_assert_cmpstr (g_array_index (active, KankyoAlarmRecord, 1).alarm_id, ==, "c.z.high"); /* medium */
  g_assert_cmpint (g_array_index (active, KankyoAlarmRecord, 1).state, ==, KANKYO_ALARM_STATE_SHELVED);
  g_clear_pointer (&active, g_array_unref);

  /* As it stood at BASE + 7 s (not included): a and d were active too. */
  kankyo_alarm_query_init (&q);
  q.to = BASE + 7 * SEC;
  active = kankyo_alarm_journal_list_active (journal, &q, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (active->len, ==, 4);
  g_assert_cmpstr (g_array_index (active, KankyoAlarmRecord, 0).alarm_id, ==, "b.y.low");
  g_assert_cmpstr (g_array_index (active, KankyoAlarmRecord, 1).alarm_id, ==, "d.w.high"); /* newer medium */
  g_assert_cmpstr (g_array_index (active, KankyoAlarmRecord, 2).alarm_id, ==, "c.z.high");
  g_assert_cmpstr (g_array_index (active, KankyoAlarmRecord, 3).alarm_id, ==, "a.x.high");
  g_assert_cmpint (g_array_index (active, KankyoAlarmRecord, 3).state, ==, KANKYO_ALARM_STATE_RTN_UNACK);
  g_clear_pointer (&active, g_array_unref);

  /* Filters apply to the standing record. */
  q.area = "one";
  q.min_priority = KANKYO_ALARM_PRIORITY_MEDIUM;
  active = kankyo_alarm_journal_list_active (journal, &q, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (active->len, ==, 1);
  g_assert_cmpstr (g_array_index (active, KankyoAlarmRecord, 0).alarm_id, ==, "c.z.high");
  g_clear_pointer (&active, g_array_unref);
  q.area = NULL;
  q.min_priority = -1;
  q.tag = "d.";
  active = kankyo_alarm_journal_list_active (journal, &q, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (active->len, ==, 1);
  g_assert_cmpstr (g_array_index (active, KankyoAlarmRecord, 0).alarm_id, ==, "d.w.high");
}

static void
assert_invalid_record (KankyoAlarmJournal *journal, KankyoAlarmRecord *r)
{
  g_autoptr (GError) error = NULL;

  g_assert_false (kankyo_alarm_journal_append (journal, r, TRUE, &error));
  g_assert_error (error, KANKYO_ALARM_JOURNAL_ERROR, KANKYO_ALARM_JOURNAL_ERROR_INVALID);
}

static void
assert_invalid_query (KankyoAlarmJournal *journal, const KankyoAlarmQuery *q)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GOutputStream) out = g_memory_output_stream_new_resizable ();

  g_assert_null (kankyo_alarm_journal_search (journal, q, &error));
  g_assert_error (error, KANKYO_ALARM_JOURNAL_ERROR, KANKYO_ALARM_JOURNAL_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (kankyo_alarm_journal_export_csv (journal, q, out, NULL, &error));
  g_assert_error (error, KANKYO_ALARM_JOURNAL_ERROR, KANKYO_ALARM_JOURNAL_ERROR_INVALID);
}

static void
test_invalid (void)
{
  g_autofree char *dir = make_dir ("invalid");
  g_autofree char *path = journal_path (dir);
  g_autofree char *other = g_build_filename (dir, "other.db", NULL);
  g_autofree char *garbage = g_build_filename (dir, "garbage.db", NULL);
  g_autofree char *missing = g_build_filename (dir, "missing.db", NULL);
  g_autofree char *long_text = g_strnfill (KANKYO_ALARM_JOURNAL_TEXT_MAX + 1, 'x');
  g_autoptr (KankyoAlarmJournal) journal = NULL;
  g_autoptr (KankyoAlarmJournal) reader = NULL;
  g_autoptr (GError) error = NULL;
  KankyoAlarmRecord r;
  KankyoAlarmQuery q;
  char *saved;

  journal = kankyo_alarm_journal_open (path, &error);
  g_assert_no_error (error);

  record_set (&r, BASE, "a.b.c", "x", KANKYO_ALARM_PRIORITY_LOW, KANKYO_ALARM_EVENT_ACTIVATE,
              KANKYO_ALARM_STATE_UNACK);
  saved = r.alarm_id;
  r.alarm_id = NULL;
  assert_invalid_record (journal, &r);
  r.alarm_id = (char *) "";
  assert_invalid_record (journal, &r);
  r.alarm_id = saved;
  r.time = -1;
  assert_invalid_record (journal, &r);
  r.time = G_MAXINT64;
  assert_invalid_record (journal, &r);
  r.time = BASE;
  r.event = KANKYO_ALARM_EVENT_NONE;
  assert_invalid_record (journal, &r);
  r.event = KANKYO_ALARM_EVENT_RESET + 1;
  assert_invalid_record (journal, &r);
  r.event = KANKYO_ALARM_EVENT_ACK;
  r.state = KANKYO_ALARM_STATE_OUT_OF_SERVICE + 1;
  assert_invalid_record (journal, &r);
  r.state = KANKYO_ALARM_STATE_NORMAL;
  r.priority = KANKYO_ALARM_PRIORITY_HIGH + 1;
  assert_invalid_record (journal, &r);
  r.priority = KANKYO_ALARM_PRIORITY_HIGH;
  saved = r.message;
  r.message = long_text;
  assert_invalid_record (journal, &r);
  r.message = (char *) "bad \xff UTF-8";
  assert_invalid_record (journal, &r);
  r.message = saved;
  /* Nothing of that reached the file. */
  {
    g_autoptr (GArray) all = NULL;

    kankyo_alarm_query_init (&q);
    all = kankyo_alarm_journal_search (journal, &q, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (all->len, ==, 0);
  }
  g_assert_true (kankyo_alarm_journal_append (journal, &r, TRUE, &error));
  g_assert_no_error (error);

  kankyo_alarm_query_init (&q);
  q.from = -1;
  assert_invalid_query (journal, &q);
  kankyo_alarm_query_init (&q);
  q.from = BASE;
  q.to = BASE;
  assert_invalid_query (journal, &q);
  kankyo_alarm_query_init (&q);
  q.min_priority = 4;
  assert_invalid_query (journal, &q);
  kankyo_alarm_query_init (&q);
  q.event = KANKYO_ALARM_EVENT_NONE;
  assert_invalid_query (journal, &q);
  kankyo_alarm_query_init (&q);
  q.states = 1u << 8;
  assert_invalid_query (journal, &q);
  kankyo_alarm_query_init (&q);
  q.limit = KANKYO_ALARM_JOURNAL_MAX_LIMIT + 1;
  assert_invalid_query (journal, &q);
  kankyo_alarm_query_init (&q);
  q.tag = "\xfe";
  assert_invalid_query (journal, &q);

  g_assert_null (kankyo_alarm_journal_performance (journal, BASE, BASE, &error));
  g_assert_error (error, KANKYO_ALARM_JOURNAL_ERROR, KANKYO_ALARM_JOURNAL_ERROR_INVALID);
  g_clear_error (&error);

  /* A reader cannot write. */
  reader = kankyo_alarm_journal_open_readonly (path, &error);
  g_assert_no_error (error);
  g_assert_false (kankyo_alarm_journal_append (reader, &r, FALSE, &error));
  g_assert_error (error, KANKYO_ALARM_JOURNAL_ERROR, KANKYO_ALARM_JOURNAL_ERROR_WRITE);
  g_clear_error (&error);
  kankyo_alarm_record_clear (&r);

  /* Files that are not journals. */
  g_assert_null (kankyo_alarm_journal_open_readonly (missing, &error));
  g_assert_error (error, KANKYO_ALARM_JOURNAL_ERROR, KANKYO_ALARM_JOURNAL_ERROR_OPEN);
  g_clear_error (&error);
  g_assert_false (g_file_test (missing, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_set_contents (garbage, "this is not a database, not at all, no........", -1, NULL));
  g_assert_null (kankyo_alarm_journal_open (garbage, &error));
  g_assert_error (error, KANKYO_ALARM_JOURNAL_ERROR, KANKYO_ALARM_JOURNAL_ERROR_OPEN);
  g_clear_error (&error);
  {
    sqlite3 *db = NULL;

    g_assert_cmpint (sqlite3_open (other, &db), ==, SQLITE_OK);
    g_assert_cmpint (sqlite3_exec (db, "CREATE TABLE t (x)", NULL, NULL, NULL), ==, SQLITE_OK);
    sqlite3_close (db);
  }
  g_assert_null (kankyo_alarm_journal_open (other, &error));
  g_assert_error (error, KANKYO_ALARM_JOURNAL_ERROR, KANKYO_ALARM_JOURNAL_ERROR_OPEN);
  g_assert_nonnull (strstr (error->message, "not a Kankyo alarm journal"));
  g_clear_error (&error);
  g_assert_null (kankyo_alarm_journal_open_readonly (other, &error));
  g_assert_error (error, KANKYO_ALARM_JOURNAL_ERROR, KANKYO_ALARM_JOURNAL_ERROR_OPEN);
}

/* ---- writer processes ---- */

static KankyoAlarmJournal *
writer_open (const char *dir)
{
  g_autofree char *path = journal_path (dir);
  g_autoptr (GError) error = NULL;
  KankyoAlarmJournal *journal = kankyo_alarm_journal_open (path, &error);

  if (journal == NULL)
    g_error ("writer: %s", error->message);
  return journal;
}

static gint64
writer_append (KankyoAlarmJournal *journal, const char *id, gint64 time, gboolean durable)
{
  g_autoptr (GError) error = NULL;
  KankyoAlarmRecord r;
  gint64 seq;

  record_set (&r, time, id, "writer", KANKYO_ALARM_PRIORITY_HIGH,
              durable ? KANKYO_ALARM_EVENT_ACK : KANKYO_ALARM_EVENT_ACTIVATE,
              durable ? KANKYO_ALARM_STATE_ACKED : KANKYO_ALARM_STATE_UNACK);
  if (durable)
    r.user = g_strdup ("operator");
  if (!kankyo_alarm_journal_append (journal, &r, durable, &error))
    g_error ("writer: %s", error->message);
  seq = r.seq;
  kankyo_alarm_record_clear (&r);
  return seq;
}

/* Appends a batched record, a durable one and another batched one, says
 * so, and waits to be killed. */
static int
writer_kill (const char *dir)
{
  KankyoAlarmJournal *journal = writer_open (dir);
  gint64 a = writer_append (journal, "kill.a", BASE, FALSE);
  gint64 b = writer_append (journal, "kill.b", BASE + SEC, TRUE);
  gint64 c = writer_append (journal, "kill.c", BASE + 2 * SEC, FALSE);

  printf ("ready %" G_GINT64_FORMAT " %" G_GINT64_FORMAT " %" G_GINT64_FORMAT "\n", a, b, c);
  fflush (stdout);
  while (TRUE)
    pause ();
  return 0;
}

/* Keeps the journal open for writing, with a batch open, until told. */
static int
writer_hold (const char *dir)
{
  KankyoAlarmJournal *journal = writer_open (dir);
  g_autoptr (GError) error = NULL;
  char line[64];

  for (int i = 0; i < 10; i++)
    writer_append (journal, i % 2 ? "hold.one.high" : "hold.two.high", BASE + i * SEC, TRUE);
  writer_append (journal, "hold.three.high", BASE + 10 * SEC, FALSE);
  printf ("ready\n");
  fflush (stdout);
  if (fgets (line, sizeof line, stdin) == NULL)
    return 1;
  if (!kankyo_alarm_journal_flush (journal, &error))
    g_error ("writer: %s", error->message);
  printf ("flushed\n");
  fflush (stdout);
  if (fgets (line, sizeof line, stdin) == NULL)
    return 1;
  kankyo_alarm_journal_close (journal);
  return 0;
}

typedef struct
{
  GPid pid;
  FILE *in;
  FILE *out;
} Child;

static void
child_start (Child *child, const char *mode, const char *dir)
{
  const char *argv[] = { self_exe, mode, dir, NULL };
  g_autoptr (GError) error = NULL;
  int in_fd, out_fd;

  g_assert_true (g_spawn_async_with_pipes (NULL, (char **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                                           &child->pid, &in_fd, &out_fd, NULL, &error));
  g_assert_no_error (error);
  child->in = fdopen (in_fd, "w");
  child->out = fdopen (out_fd, "r");
}

static char *
child_read_line (Child *child)
{
  char line[256];

  g_assert_nonnull (fgets (line, sizeof line, child->out));
  return g_strdup (line);
}

static void
child_say (Child *child, const char *line)
{
  fputs (line, child->in);
  fflush (child->in);
}

static int
child_wait (Child *child)
{
  int status = 0;

  g_assert_cmpint (waitpid (child->pid, &status, 0), ==, child->pid);
  g_spawn_close_pid (child->pid);
  fclose (child->in);
  fclose (child->out);
  return status;
}

static GArray *
search_all (KankyoAlarmJournal *journal)
{
  g_autoptr (GError) error = NULL;
  KankyoAlarmQuery q;
  GArray *all;

  kankyo_alarm_query_init (&q);
  all = kankyo_alarm_journal_search (journal, &q, &error);
  g_assert_no_error (error);
  g_assert_nonnull (all);
  return all;
}

static guint
count_all (KankyoAlarmJournal *journal)
{
  g_autoptr (GArray) all = search_all (journal);

  return all->len;
}

/* A durable append survives kill -9 of its writer, and takes the batch
 * waiting before it along; a batched one after it does not survive. */
static void
test_durable_kill (void)
{
  g_autofree char *dir = make_dir ("kill");
  g_autofree char *line = NULL;
  g_autoptr (KankyoAlarmJournal) journal = NULL;
  g_autoptr (GArray) all = NULL;
  gint64 a, b, c;
  Child child;
  int status;

  child_start (&child, "--writer-kill", dir);
  line = child_read_line (&child);
  g_assert_cmpint (
      sscanf (line, "ready %" G_GINT64_FORMAT " %" G_GINT64_FORMAT " %" G_GINT64_FORMAT, &a, &b, &c), ==, 3);
  g_assert_cmpint (kill (child.pid, SIGKILL), ==, 0);
  status = child_wait (&child);
  g_assert_true (WIFSIGNALED (status));
  g_assert_cmpint (WTERMSIG (status), ==, SIGKILL);

  journal = writer_open (dir);
  all = search_all (journal);
  g_assert_cmpuint (all->len, ==, 2);
  g_assert_cmpint (g_array_index (all, KankyoAlarmRecord, 0).seq, ==, a);
  g_assert_cmpstr (g_array_index (all, KankyoAlarmRecord, 0).alarm_id, ==, "kill.a");
  g_assert_cmpint (g_array_index (all, KankyoAlarmRecord, 1).seq, ==, b);
  g_assert_cmpstr (g_array_index (all, KankyoAlarmRecord, 1).alarm_id, ==, "kill.b");
  g_assert_cmpstr (g_array_index (all, KankyoAlarmRecord, 1).user, ==, "operator");
  g_assert_cmpint (c, >, b);
  /* The journal goes on after the crash. */
  writer_append (journal, "after.crash", BASE + 3 * SEC, TRUE);
  g_assert_cmpuint (count_all (journal), ==, 3);
}

/* Batches wait for their commit; readers see only what is committed. */
static void
test_batching (void)
{
  g_autofree char *dir = make_dir ("batching");
  g_autofree char *path = journal_path (dir);
  g_autoptr (KankyoAlarmJournal) writer = writer_open (dir);
  g_autoptr (KankyoAlarmJournal) reader = NULL;
  g_autoptr (GError) error = NULL;
  guint seen;

  reader = kankyo_alarm_journal_open_readonly (path, &error);
  g_assert_no_error (error);

  writer_append (writer, "batch.x", BASE, FALSE);
  g_assert_cmpuint (count_all (reader), ==, 0);
  /* The writer's own searches see what waits. */
  g_assert_cmpuint (count_all (writer), ==, 1);
  g_assert_true (kankyo_alarm_journal_flush (writer, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count_all (reader), ==, 1);

  /* A record a second old is committed with the next append. */
  writer_append (writer, "batch.y", BASE + SEC, FALSE);
  g_assert_cmpuint (count_all (reader), ==, 1);
  g_usleep (G_USEC_PER_SEC + 100000);
  writer_append (writer, "batch.z", BASE + 2 * SEC, FALSE);
  g_assert_cmpuint (count_all (reader), ==, 3);

  /* A burst is committed in batches, never all kept back. */
  for (guint i = 0; i < 5000; i++)
    writer_append (writer, "batch.burst", BASE + 3 * SEC + i, FALSE);
  seen = count_all (reader);
  g_assert_cmpuint (seen, <=, 5003);
  g_assert_cmpuint (5003 - seen, <, 1024);

  /* A durable record commits itself and everything before it. */
  writer_append (writer, "batch.durable", BASE + 10 * SEC, TRUE);
  g_assert_cmpuint (count_all (reader), ==, 5004);

  /* Closing commits what waits. */
  writer_append (writer, "batch.last", BASE + 11 * SEC, FALSE);
  g_assert_cmpuint (count_all (reader), ==, 5004);
  g_clear_pointer (&writer, kankyo_alarm_journal_close);
  g_assert_cmpuint (count_all (reader), ==, 5005);
}

/* ---- kankyoctl ---- */

static char *
kankyoctl_path (void)
{
  const char *build_dir = g_getenv ("KANKYO_BUILD_DIR");

  return build_dir ? g_build_filename (build_dir, "app", "kankyoctl", NULL) : NULL;
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
  env = g_environ_setenv (env, "TZ", "UTC", TRUE);
  for (guint i = 0; extra_env != NULL && extra_env[i] != NULL; i += 2)
    env = g_environ_setenv (env, extra_env[i], extra_env[i + 1], TRUE);
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, env, G_SPAWN_DEFAULT, NULL, NULL, ret_out,
                               ret_err, &status, &error));
  g_assert_no_error (error);
  g_assert_true (WIFEXITED (status));
  return WEXITSTATUS (status);
}

static char *
run_ctl_ok (const char *const *args)
{
  g_autofree char *err = NULL;
  char *out = NULL;
  int status = run_ctl (args, NULL, &out, &err);

  if (status != 0)
    g_error ("kankyoctl %s %s exited with %d: %s", args[0], args[1] ? args[1] : "", status, err);
  return out;
}

static guint
count_lines (const char *text)
{
  guint n = 0;

  for (const char *p = text; *p != '\0'; p++)
    n += *p == '\n';
  return n;
}

/* A journal open for writing in another process, with a batch open, does
 * not keep readers out: this process and kankyoctl read what is
 * committed. */
static void
test_readonly_alongside_writer (void)
{
  g_autofree char *dir = make_dir ("alongside");
  g_autofree char *path = journal_path (dir);
  g_autofree char *line = NULL;
  g_autoptr (KankyoAlarmJournal) reader = NULL;
  g_autoptr (GArray) active = NULL;
  g_autoptr (KankyoAlarmPerformance) p = NULL;
  g_autoptr (GOutputStream) csv = g_memory_output_stream_new_resizable ();
  g_autoptr (GError) error = NULL;
  KankyoAlarmQuery q;
  Child child;
  int status;

  child_start (&child, "--writer-hold", dir);
  line = child_read_line (&child);
  g_assert_cmpstr (line, ==, "ready\n");

  reader = kankyo_alarm_journal_open_readonly (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (count_all (reader), ==, 10);
  active = kankyo_alarm_journal_list_active (reader, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (active->len, ==, 2);
  kankyo_alarm_query_init (&q);
  g_assert_true (kankyo_alarm_journal_export_csv (reader, &q, csv, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_output_stream_close (csv, NULL, NULL));
  g_assert_cmpuint (count_lines (g_memory_output_stream_get_data (G_MEMORY_OUTPUT_STREAM (csv))), ==, 11);
  p = kankyo_alarm_journal_performance (reader, BASE, BASE + HOUR, &error);
  g_assert_no_error (error);
  g_assert_nonnull (p);

  if (need_kankyoctl ())
    {
      const char *args[] = { "alarms", "--data-dir", dir, NULL };
      g_autofree char *out = run_ctl_ok (args);

      g_assert_cmpuint (count_lines (out), ==, 10);
    }

  child_say (&child, "flush\n");
  g_free (line);
  line = child_read_line (&child);
  g_assert_cmpstr (line, ==, "flushed\n");
  g_assert_cmpuint (count_all (reader), ==, 11);
  child_say (&child, "close\n");
  status = child_wait (&child);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);
}

/* ---- CSV ---- */

/* Rows of fields of RFC 4180 text; every line must end with CRLF. */
static GPtrArray *
parse_csv (const char *text, gsize len)
{
  GPtrArray *rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  g_autoptr (GString) field = g_string_new (NULL);
  gsize i = 0;

  while (i < len)
    {
      GPtrArray *fields = g_ptr_array_new ();

      for (;;)
        {
          g_string_truncate (field, 0);
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
            while (i < len && text[i] != ',' && text[i] != '\r' && text[i] != '\n')
              {
                g_assert_cmpint (text[i], !=, '"');
                g_string_append_c (field, text[i++]);
              }
          g_ptr_array_add (fields, g_strdup (field->str));
          if (i < len && text[i] == ',')
            {
              i++;
              continue;
            }
          g_assert_cmpuint (i + 1, <, len);
          g_assert_cmpint (text[i], ==, '\r');
          g_assert_cmpint (text[i + 1], ==, '\n');
          i += 2;
          break;
        }
      g_ptr_array_add (fields, NULL);
      g_ptr_array_add (rows, g_ptr_array_free (fields, FALSE));
    }
  return rows;
}

static gint64
parse_utc (const char *text)
{
  g_autoptr (GDateTime) dt = NULL;

  /* 2024-03-01T08:00:00.000000Z: UTC, always with microseconds. */
  g_assert_cmpuint (strlen (text), ==, 27);
  g_assert_cmpint (text[26], ==, 'Z');
  g_assert_cmpint (text[19], ==, '.');
  dt = g_date_time_new_from_iso8601 (text, NULL);
  g_assert_nonnull (dt);
  return g_date_time_to_unix (dt) * SEC + g_date_time_get_microsecond (dt);
}

static void
assert_csv_matches (const char *text, gsize len, GArray *expected)
{
  g_autoptr (GPtrArray) rows = NULL;
  static const char *const header[] = { "seq",   "time",  "alarm", "tag",     "device", "area",   "priority",
                                        "event", "state", "value", "message", "user",   "reason", NULL };

  g_assert_true (g_utf8_validate (text, len, NULL));
  g_assert_false (len >= 3 && memcmp (text, "\xef\xbb\xbf", 3) == 0);
  rows = parse_csv (text, len);
  g_assert_cmpuint (rows->len, ==, expected->len + 1);
  g_assert_true (g_strv_equal ((const char *const *) rows->pdata[0], header));
  for (guint i = 0; i < expected->len; i++)
    {
      const KankyoAlarmRecord *r = &g_array_index (expected, KankyoAlarmRecord, i);
      char **f = rows->pdata[i + 1];
      gint64 seq;

      g_assert_cmpuint (g_strv_length (f), ==, 13);
      g_assert_true (g_ascii_string_to_signed (f[0], 10, 1, G_MAXINT64, &seq, NULL));
      g_assert_cmpint (seq, ==, r->seq);
      g_assert_cmpint (parse_utc (f[1]), ==, r->time);
      g_assert_cmpstr (f[2], ==, r->alarm_id);
      g_assert_cmpstr (f[3], ==, r->tag);
      g_assert_cmpstr (f[4], ==, r->device);
      g_assert_cmpstr (f[5], ==, r->area);
      g_assert_cmpstr (f[6], ==, kankyo_alarm_priority_to_string (r->priority));
      g_assert_cmpstr (f[7], ==, kankyo_alarm_event_to_string (r->event));
      g_assert_cmpstr (f[8], ==, kankyo_alarm_state_to_string (r->state));
      if (isnan (r->value))
        g_assert_cmpstr (f[9], ==, "");
      else
        {
          char *end = NULL;

          g_assert_null (strchr (f[9], ','));
          g_assert_cmpfloat (g_ascii_strtod (f[9], &end), ==, r->value);
          g_assert_cmpint (*end, ==, '\0');
        }
      g_assert_cmpstr (f[10], ==, r->message);
      g_assert_cmpstr (f[11], ==, r->user ? r->user : "");
      g_assert_cmpstr (f[12], ==, r->reason ? r->reason : "");
    }
}

static char *
export_csv (KankyoAlarmJournal *journal, const KankyoAlarmQuery *q, gsize *ret_len)
{
  g_autoptr (GOutputStream) out = g_memory_output_stream_new_resizable ();
  g_autoptr (GError) error = NULL;

  g_assert_true (kankyo_alarm_journal_export_csv (journal, q, out, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_output_stream_close (out, NULL, NULL));
  *ret_len = g_memory_output_stream_get_data_size (G_MEMORY_OUTPUT_STREAM (out));
  return g_memory_output_stream_steal_data (G_MEMORY_OUTPUT_STREAM (out));
}

static const char *comma_locale; /* a locale whose decimal point is ",", or NULL */

/* A locale with a decimal comma: installed, or made here with localedef. */
static const char *
find_comma_locale (void)
{
  static gboolean looked;
  g_autofree char *dir = NULL;
  g_autofree char *target = NULL;

  if (looked)
    return comma_locale;
  looked = TRUE;
  if (setlocale (LC_NUMERIC, "de_DE.UTF-8") == NULL)
    {
      const char *argv[] = { "localedef", "-c", "-i", "de_DE", "-f", "UTF-8", NULL, NULL };

      dir = g_build_filename (tmp_dir, "locale", NULL);
      target = g_build_filename (dir, "de_DE.UTF-8", NULL);
      argv[6] = target;
      g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
      /* localedef exits 1 for mere warnings; whether it loads is what counts. */
      g_spawn_sync (NULL, (char **) argv, NULL,
                    G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
                    NULL, NULL, NULL, NULL);
      g_setenv ("LOCPATH", dir, TRUE);
    }
  if (setlocale (LC_NUMERIC, "de_DE.UTF-8") != NULL && g_str_equal (localeconv ()->decimal_point, ","))
    comma_locale = "de_DE.UTF-8";
  setlocale (LC_NUMERIC, "C");
  return comma_locale;
}

static void
test_csv (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (7);
  /* More than one page of the export, with a run of equal times. */
  g_autoptr (GArray) records = random_records (rand, 9000);
  g_autoptr (KankyoAlarmJournal) journal = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  KankyoAlarmQuery q;
  KankyoAlarmRecord *r;
  gsize len;

  r = add (records, BASE + 5 * SEC, "odd,\"id\"\n.x", "área \"1\", north", KANKYO_ALARM_PRIORITY_HIGH,
           KANKYO_ALARM_EVENT_SHELVE, KANKYO_ALARM_STATE_SHELVED);
  r->value = 0.1;
  r->user = g_strdup ("田中, \"太郎\"");
  r->reason = g_strdup ("修理中\r\nline two");
  g_free (r->message);
  r->message = g_strdup ("充填室: 温度高");
  r = add (records, BASE + 6 * SEC, "tiny.value", "x", KANKYO_ALARM_PRIORITY_LOW, KANKYO_ALARM_EVENT_ACTIVATE,
           KANKYO_ALARM_STATE_UNACK);
  r->value = -0.000123;
  r = add (records, BASE + 7 * SEC, "big.value", "x", KANKYO_ALARM_PRIORITY_LOW, KANKYO_ALARM_EVENT_ACTIVATE,
           KANKYO_ALARM_STATE_UNACK);
  r->value = 12345678.25;
  journal = journal_with ("csv", records, NULL);

  /* Everything, oldest first; then a filtered search, newest first, in
   * a locale with a decimal comma. */
  for (guint pass = 0; pass < 2; pass++)
    {
      g_autoptr (GArray) expected = NULL;

      kankyo_alarm_query_init (&q);
      q.limit = KANKYO_ALARM_JOURNAL_MAX_LIMIT;
      if (pass == 1)
        {
          q.newest_first = TRUE;
          q.area = "área \"1\", north";
          q.from = BASE;
          if (find_comma_locale () != NULL)
            setlocale (LC_NUMERIC, comma_locale);
          else
            g_test_message ("no locale with a decimal comma: exported in C.UTF-8 only");
        }
      expected = kankyo_alarm_journal_search (journal, &q, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (expected->len, ==, pass == 0 ? records->len : 1);
      q.limit = 0; /* the export takes everything anyway */
      text = export_csv (journal, &q, &len);
      setlocale (LC_NUMERIC, "C");
      assert_csv_matches (text, len, expected);
      g_clear_pointer (&text, g_free);
    }
  /* The numbers, written exactly as they read back. */
  kankyo_alarm_query_init (&q);
  q.tag = "tiny";
  text = export_csv (journal, &q, &len);
  g_assert_nonnull (strstr (text, ",-0.000123,"));
  g_clear_pointer (&text, g_free);
  q.tag = "big";
  text = export_csv (journal, &q, &len);
  g_assert_nonnull (strstr (text, ",12345678.25,"));
}

/* ---- performance, by brute force ---- */

#define W (10 * MINUTE)

static gboolean
is_activation (const KankyoAlarmRecord *r, gint64 from, gint64 to)
{
  return r->event == KANKYO_ALARM_EVENT_ACTIVATE && r->state == KANKYO_ALARM_STATE_UNACK && r->time >= from
         && r->time < to;
}

static gboolean
is_active_state (KankyoAlarmState s)
{
  return s == KANKYO_ALARM_STATE_UNACK || s == KANKYO_ALARM_STATE_ACKED;
}

static guint
count_in (const GArray *times, gint64 lo, gboolean lo_open, gint64 hi, gboolean hi_open)
{
  guint n = 0;

  for (guint i = 0; i < times->len; i++)
    {
      gint64 t = g_array_index (times, gint64, i);

      n += (lo_open ? t > lo : t >= lo) && (hi_open ? t < hi : t <= hi);
    }
  return n;
}

static gint
compare_int64 (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

/* Floods straight from the definition: the trailing window is counted
 * anew at every second of the period, which is exact when every
 * activation falls on a whole second. */
static void
brute_floods (const GArray *times, gint64 from, gint64 to, GArray *floods, gint64 *ret_flood_time)
{
  gboolean in_flood = FALSE;
  gint64 previous_end = from, start = 0, flood_time = 0;

  g_assert_cmpint (from % SEC, ==, 0);
  g_assert_cmpint (to % SEC, ==, 0);
  for (guint i = 0; i < times->len; i++)
    g_assert_cmpint (g_array_index (times, gint64, i) % SEC, ==, 0);

  for (gint64 t = from; t < to; t += SEC)
    {
      guint n = count_in (times, t - W, TRUE, t, FALSE);

      if (!in_flood && n > 10)
        {
          in_flood = TRUE;
          start = G_MAXINT64;
          for (guint i = 0; i < times->len; i++)
            {
              gint64 a = g_array_index (times, gint64, i);

              if (a > t - W && a <= t && a >= previous_end)
                start = MIN (start, a);
            }
        }
      else if (in_flood && n < 5)
        {
          KankyoAlarmFlood f = { start, t, count_in (times, start, FALSE, t, TRUE) };

          g_array_append_val (floods, f);
          flood_time += t - start;
          previous_end = t;
          in_flood = FALSE;
        }
    }
  if (in_flood)
    {
      KankyoAlarmFlood f = { start, to, count_in (times, start, FALSE, to, TRUE) };

      g_array_append_val (floods, f);
      flood_time += to - start;
    }
  *ret_flood_time = flood_time;
}

typedef struct
{
  char *alarm_id;
  char *message;
  guint n, chatter;
  gint64 newest_time, newest_seq;
} BruteActor;

static void
brute_actor_free (BruteActor *a)
{
  g_free (a->alarm_id);
  g_free (a->message);
  g_free (a);
}

static gint
by_activations (gconstpointer pa, gconstpointer pb)
{
  const BruteActor *a = *(BruteActor *const *) pa, *b = *(BruteActor *const *) pb;

  if (a->n != b->n)
    return a->n > b->n ? -1 : 1;
  return strcmp (a->alarm_id, b->alarm_id);
}

static gint
by_chatter (gconstpointer pa, gconstpointer pb)
{
  const BruteActor *a = *(BruteActor *const *) pa, *b = *(BruteActor *const *) pb;

  if (a->chatter != b->chatter)
    return a->chatter > b->chatter ? -1 : 1;
  return by_activations (pa, pb);
}

static gint
by_area (gconstpointer pa, gconstpointer pb)
{
  const KankyoAlarmAreaRate *a = pa, *b = pb;

  if (a->n_alarms != b->n_alarms)
    return a->n_alarms > b->n_alarms ? -1 : 1;
  return strcmp (a->area, b->area);
}

static gint
by_since (gconstpointer pa, gconstpointer pb)
{
  const KankyoAlarmStale *a = pa, *b = pb;

  if (a->active_since != b->active_since)
    return a->active_since < b->active_since ? -1 : 1;
  return strcmp (a->alarm_id, b->alarm_id);
}

static void
clear_area (KankyoAlarmAreaRate *a)
{
  g_free (a->area);
}

static void
clear_actor (KankyoAlarmActor *a)
{
  g_free (a->alarm_id);
  g_free (a->message);
}

static void
clear_stale (KankyoAlarmStale *s)
{
  g_free (s->alarm_id);
  g_free (s->message);
}

static KankyoAlarmActor
actor_copy (const BruteActor *a)
{
  return (KankyoAlarmActor){ g_strdup (a->alarm_id), g_strdup (a->message), a->n, a->chatter };
}

/* Every figure from the records (seq set), by the definitions alone. */
static KankyoAlarmPerformance *
brute_performance (GArray *records, gint64 from, gint64 to)
{
  KankyoAlarmPerformance *p = g_new0 (KankyoAlarmPerformance, 1);
  g_autoptr (GArray) times = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr (GHashTable) actors
      = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) brute_actor_free);
  g_autoptr (GHashTable) area_counts = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GHashTable) ids = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GPtrArray) sorted = NULL;
  double hours = (double) (to - from) / HOUR;
  gint64 flood_time = 0;
  GHashTableIter iter;
  gpointer key, value;

  p->from = from;
  p->to = to;
  p->areas = g_array_new (FALSE, TRUE, sizeof (KankyoAlarmAreaRate));
  g_array_set_clear_func (p->areas, (GDestroyNotify) clear_area);
  p->floods = g_array_new (FALSE, TRUE, sizeof (KankyoAlarmFlood));
  p->chattering = g_array_new (FALSE, TRUE, sizeof (KankyoAlarmActor));
  g_array_set_clear_func (p->chattering, (GDestroyNotify) clear_actor);
  p->top_ten = g_array_new (FALSE, TRUE, sizeof (KankyoAlarmActor));
  g_array_set_clear_func (p->top_ten, (GDestroyNotify) clear_actor);
  p->stale = g_array_new (FALSE, TRUE, sizeof (KankyoAlarmStale));
  g_array_set_clear_func (p->stale, (GDestroyNotify) clear_stale);

  for (guint i = 0; i < records->len; i++)
    {
      const KankyoAlarmRecord *r = &g_array_index (records, KankyoAlarmRecord, i);
      const KankyoAlarmRecord *clear = NULL;
      BruteActor *actor;

      g_hash_table_add (ids, r->alarm_id);
      if (!is_activation (r, from, to))
        continue;
      g_array_append_val (times, r->time);
      g_hash_table_insert (
          area_counts, r->area,
          GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (area_counts, r->area)) + 1));
      actor = g_hash_table_lookup (actors, r->alarm_id);
      if (actor == NULL)
        {
          actor = g_new0 (BruteActor, 1);
          actor->alarm_id = g_strdup (r->alarm_id);
          actor->newest_time = G_MININT64;
          g_hash_table_insert (actors, actor->alarm_id, actor);
        }
      actor->n++;
      if (r->time > actor->newest_time || (r->time == actor->newest_time && r->seq > actor->newest_seq))
        {
          actor->newest_time = r->time;
          actor->newest_seq = r->seq;
          g_free (actor->message);
          actor->message = g_strdup (r->message);
        }
      /* The alarm's previous CLEAR, wherever it is. */
      for (guint k = 0; k < records->len; k++)
        {
          const KankyoAlarmRecord *c = &g_array_index (records, KankyoAlarmRecord, k);

          if (c->event == KANKYO_ALARM_EVENT_CLEAR && g_str_equal (c->alarm_id, r->alarm_id)
              && compare_time_seq (c, r) < 0 && (clear == NULL || compare_time_seq (c, clear) > 0))
            clear = c;
        }
      if (clear != NULL && r->time - clear->time <= 60 * SEC)
        actor->chatter++;
    }
  g_array_sort (times, compare_int64);
  p->n_activations = times->len;
  p->alarms_per_hour = times->len / hours;
  brute_floods (times, from, to, p->floods, &flood_time);
  p->percent_time_in_flood = 100.0 * (double) flood_time / (double) (to - from);

  g_hash_table_iter_init (&iter, area_counts);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      KankyoAlarmAreaRate a = { g_strdup (key), GPOINTER_TO_UINT (value), GPOINTER_TO_UINT (value) / hours };

      g_array_append_val (p->areas, a);
    }
  g_array_sort (p->areas, by_area);

  sorted = g_ptr_array_new ();
  g_hash_table_iter_init (&iter, actors);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (sorted, value);
  g_ptr_array_sort (sorted, by_chatter);
  for (guint i = 0; i < sorted->len && ((BruteActor *) sorted->pdata[i])->chatter >= 3; i++)
    {
      KankyoAlarmActor a = actor_copy (sorted->pdata[i]);

      g_array_append_val (p->chattering, a);
    }
  g_ptr_array_sort (sorted, by_activations);
  for (guint i = 0; i < sorted->len && i < 10; i++)
    {
      KankyoAlarmActor a = actor_copy (sorted->pdata[i]);

      g_array_append_val (p->top_ten, a);
    }

  /* Stale: walk each alarm's records before the end. */
  g_hash_table_iter_init (&iter, ids);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      g_autoptr (GPtrArray) mine = g_ptr_array_new ();
      const KankyoAlarmRecord *last;
      guint first;

      for (guint i = 0; i < records->len; i++)
        {
          const KankyoAlarmRecord *r = &g_array_index (records, KankyoAlarmRecord, i);

          if (g_str_equal (r->alarm_id, key) && r->time < to)
            g_ptr_array_add (mine, (gpointer) r);
        }
      if (mine->len == 0)
        continue;
      g_ptr_array_sort (mine, compare_records);
      last = mine->pdata[mine->len - 1];
      if (!is_active_state (last->state))
        continue;
      first = mine->len - 1;
      while (first > 0 && is_active_state (((KankyoAlarmRecord *) mine->pdata[first - 1])->state))
        first--;
      if (to - ((KankyoAlarmRecord *) mine->pdata[first])->time > DAY)
        {
          KankyoAlarmStale s = { g_strdup (key), g_strdup (last->message),
                                 ((KankyoAlarmRecord *) mine->pdata[first])->time };

          g_array_append_val (p->stale, s);
        }
    }
  g_array_sort (p->stale, by_since);
  return p;
}

static void
assert_same_actors (const GArray *a, const GArray *b)
{
  g_assert_cmpuint (a->len, ==, b->len);
  for (guint i = 0; i < a->len; i++)
    {
      const KankyoAlarmActor *x = &g_array_index (a, KankyoAlarmActor, i);
      const KankyoAlarmActor *y = &g_array_index (b, KankyoAlarmActor, i);

      g_assert_cmpstr (x->alarm_id, ==, y->alarm_id);
      g_assert_cmpstr (x->message, ==, y->message);
      g_assert_cmpuint (x->n_activations, ==, y->n_activations);
      g_assert_cmpuint (x->n_chatter, ==, y->n_chatter);
    }
}

static void
assert_same_performance (const KankyoAlarmPerformance *p, const KankyoAlarmPerformance *e)
{
  g_assert_cmpint (p->from, ==, e->from);
  g_assert_cmpint (p->to, ==, e->to);
  g_assert_cmpuint (p->n_activations, ==, e->n_activations);
  g_assert_cmpfloat_with_epsilon (p->alarms_per_hour, e->alarms_per_hour, 1e-9);
  g_assert_cmpfloat_with_epsilon (p->percent_time_in_flood, e->percent_time_in_flood, 1e-9);
  g_assert_cmpuint (p->areas->len, ==, e->areas->len);
  for (guint i = 0; i < p->areas->len; i++)
    {
      const KankyoAlarmAreaRate *x = &g_array_index (p->areas, KankyoAlarmAreaRate, i);
      const KankyoAlarmAreaRate *y = &g_array_index (e->areas, KankyoAlarmAreaRate, i);

      g_assert_cmpstr (x->area, ==, y->area);
      g_assert_cmpuint (x->n_alarms, ==, y->n_alarms);
      g_assert_cmpfloat_with_epsilon (x->alarms_per_hour, y->alarms_per_hour, 1e-9);
    }
  g_assert_cmpuint (p->floods->len, ==, e->floods->len);
  for (guint i = 0; i < p->floods->len; i++)
    {
      const KankyoAlarmFlood *x = &g_array_index (p->floods, KankyoAlarmFlood, i);
      const KankyoAlarmFlood *y = &g_array_index (e->floods, KankyoAlarmFlood, i);

      g_assert_cmpint (x->start, ==, y->start);
      g_assert_cmpint (x->end, ==, y->end);
      g_assert_cmpuint (x->n_alarms, ==, y->n_alarms);
    }
  assert_same_actors (p->chattering, e->chattering);
  assert_same_actors (p->top_ten, e->top_ten);
  g_assert_cmpuint (p->stale->len, ==, e->stale->len);
  for (guint i = 0; i < p->stale->len; i++)
    {
      const KankyoAlarmStale *x = &g_array_index (p->stale, KankyoAlarmStale, i);
      const KankyoAlarmStale *y = &g_array_index (e->stale, KankyoAlarmStale, i);

      g_assert_cmpstr (x->alarm_id, ==, y->alarm_id);
      g_assert_cmpstr (x->message, ==, y->message);
      g_assert_cmpint (x->active_since, ==, y->active_since);
    }
}

static guint journal_counter;

/* The journal's figures for @records, checked against brute force. */
static KankyoAlarmPerformance *
checked_performance (GArray *records, gint64 from, gint64 to)
{
  g_autofree char *name = g_strdup_printf ("performance-%u", journal_counter++);
  g_autoptr (KankyoAlarmJournal) journal = journal_with (name, records, NULL);
  g_autoptr (KankyoAlarmPerformance) expected = brute_performance (records, from, to);
  g_autoptr (GError) error = NULL;
  KankyoAlarmPerformance *p = kankyo_alarm_journal_performance (journal, from, to, &error);

  g_assert_no_error (error);
  g_assert_nonnull (p);
  assert_same_performance (p, expected);
  return p;
}

/* A plant's journal: alarms that come and go, some chattering, some left
 * standing for days, shelving, out of service, and bursts that flood. */
static GArray *
random_plant (guint32 seed, gint64 from, gint64 to)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
  GArray *records = records_new ();
  guint n_bursts = g_rand_int_range (rand, 2, 5);

  for (guint a = 0; a < 40; a++)
    {
      g_autofree char *id = g_strdup_printf ("dev%u.tag%u.%s", a % 9, a, a % 2 ? "high" : "low");
      KankyoAlarmState state = KANKYO_ALARM_STATE_NORMAL;
      gint64 t = from - 3 * DAY + g_rand_int_range (rand, 0, 86400) * SEC;

      while (t < to + HOUR)
        {
          KankyoAlarmEvent event = KANKYO_ALARM_EVENT_ACTIVATE;
          int x = g_rand_int_range (rand, 0, 100);
          KankyoAlarmRecord *r;

          if (a % 20 == 0)
            t += g_rand_int_range (rand, 1, 121) * SEC; /* chatters */
          else if (a % 8 == 1 || a % 8 == 2)
            t += g_rand_int_range (rand, 1, 2 * 86400) * SEC; /* stands for days */
          else
            t += g_rand_int_range (rand, 1, 3 * 3600) * SEC;
          switch (state)
            {
              case KANKYO_ALARM_STATE_NORMAL:
                event = x < 85   ? KANKYO_ALARM_EVENT_ACTIVATE
                        : x < 95 ? KANKYO_ALARM_EVENT_SHELVE
                                 : KANKYO_ALARM_EVENT_REMOVE_FROM_SERVICE;
                state = x < 85   ? KANKYO_ALARM_STATE_UNACK
                        : x < 95 ? KANKYO_ALARM_STATE_SHELVED
                                 : KANKYO_ALARM_STATE_OUT_OF_SERVICE;
                break;
              case KANKYO_ALARM_STATE_UNACK:
                event = x < 50 ? KANKYO_ALARM_EVENT_ACK : KANKYO_ALARM_EVENT_CLEAR;
                state = x < 50 ? KANKYO_ALARM_STATE_ACKED : KANKYO_ALARM_STATE_RTN_UNACK;
                break;
              case KANKYO_ALARM_STATE_ACKED:
                event = x < 80 ? KANKYO_ALARM_EVENT_CLEAR : KANKYO_ALARM_EVENT_SHELVE;
                state = x < 80 ? KANKYO_ALARM_STATE_NORMAL : KANKYO_ALARM_STATE_SHELVED;
                break;
              case KANKYO_ALARM_STATE_RTN_UNACK:
                event = x < 60 ? KANKYO_ALARM_EVENT_ACK : KANKYO_ALARM_EVENT_ACTIVATE;
                state = x < 60 ? KANKYO_ALARM_STATE_NORMAL : KANKYO_ALARM_STATE_UNACK;
                break;
              case KANKYO_ALARM_STATE_SHELVED:
                /* Under shelving the condition goes on, unannunciated. */
                event = x < 40   ? KANKYO_ALARM_EVENT_ACTIVATE
                        : x < 70 ? KANKYO_ALARM_EVENT_CLEAR
                                 : KANKYO_ALARM_EVENT_UNSHELVE;
                if (event == KANKYO_ALARM_EVENT_UNSHELVE)
                  state = x < 85 ? KANKYO_ALARM_STATE_UNACK : KANKYO_ALARM_STATE_NORMAL;
                break;
              case KANKYO_ALARM_STATE_OUT_OF_SERVICE:
              default:
                event = KANKYO_ALARM_EVENT_RETURN_TO_SERVICE;
                state = x < 50 ? KANKYO_ALARM_STATE_UNACK : KANKYO_ALARM_STATE_NORMAL;
                break;
            }
          r = add (records, t, id, areas[a % 4], a % 4, event, state);
          if (x % 7 == 0)
            {
              g_free (r->message);
              r->message = g_strdup_printf ("%s, wording %d", id, x);
            }
        }
    }
  for (guint b = 0; b < n_bursts; b++)
    {
      gint64 start = from + g_rand_int_range (rand, 0, (to - from) / SEC) * SEC;
      guint n = g_rand_int_range (rand, 8, 41);
      gint64 span = g_rand_int_range (rand, 60, 1201) * SEC;

      if (b == 0 && seed % 2 == 0)
        start = to - 5 * MINUTE; /* still flooding at the end */
      if (b == 1 && seed % 3 == 0)
        start = from - 3 * MINUTE; /* began before the period */
      for (guint k = 0; k < n; k++)
        {
          g_autofree char *id = g_strdup_printf ("burst%u.x.high", k % 15);
          gint64 t = start + g_rand_int_range (rand, 0, span / SEC + 1) * SEC;

          add (records, t, id, areas[k % 4], KANKYO_ALARM_PRIORITY_MEDIUM, KANKYO_ALARM_EVENT_ACTIVATE,
               KANKYO_ALARM_STATE_UNACK);
          if (k % 3 == 0)
            add (records, t + g_rand_int_range (rand, 0, 30) * SEC, id, areas[k % 4],
                 KANKYO_ALARM_PRIORITY_MEDIUM, KANKYO_ALARM_EVENT_CLEAR, KANKYO_ALARM_STATE_NORMAL);
        }
    }
  /* Appended out of time order, so that journal order differs from time
   * order where times are equal. */
  for (guint i = records->len - 1; i > 0; i--)
    {
      guint j = g_rand_int_range (rand, 0, i + 1);
      KankyoAlarmRecord t = g_array_index (records, KankyoAlarmRecord, i);

      g_array_index (records, KankyoAlarmRecord, i) = g_array_index (records, KankyoAlarmRecord, j);
      g_array_index (records, KankyoAlarmRecord, j) = t;
    }
  return records;
}

static void
test_performance_random (void)
{
  guint floods = 0, ongoing = 0, chattering = 0, stale = 0, areas_seen = 0;

  for (guint32 seed = 1; seed <= 8; seed++)
    {
      gint64 from = BASE + seed * HOUR, to = from + 6 * HOUR;
      g_autoptr (GArray) records = random_plant (seed, from, to);
      g_autoptr (KankyoAlarmPerformance) p = checked_performance (records, from, to);

      floods += p->floods->len;
      for (guint i = 0; i < p->floods->len; i++)
        ongoing += g_array_index (p->floods, KankyoAlarmFlood, i).end == to;
      chattering += p->chattering->len;
      stale += p->stale->len;
      areas_seen += p->areas->len;
      g_assert_cmpuint (p->top_ten->len, ==, 10);
    }
  /* The journals held what the figures are about. */
  g_assert_cmpuint (floods, >=, 8);
  g_assert_cmpuint (ongoing, >, 0);
  g_assert_cmpuint (chattering, >, 0);
  g_assert_cmpuint (stale, >, 0);
  g_assert_cmpuint (areas_seen, ==, 8 * 4);
}

/* ---- performance, by hand ---- */

/* The journal's figures alone, for times finer than brute force takes. */
static KankyoAlarmPerformance *
performance_of (GArray *records, gint64 from, gint64 to)
{
  g_autofree char *name = g_strdup_printf ("performance-%u", journal_counter++);
  g_autoptr (KankyoAlarmJournal) journal = journal_with (name, records, NULL);
  g_autoptr (GError) error = NULL;
  KankyoAlarmPerformance *p = kankyo_alarm_journal_performance (journal, from, to, &error);

  g_assert_no_error (error);
  g_assert_nonnull (p);
  return p;
}

static void
activate_at (GArray *records, gint64 time, const char *id)
{
  add (records, time, id, "area", KANKYO_ALARM_PRIORITY_LOW, KANKYO_ALARM_EVENT_ACTIVATE,
       KANKYO_ALARM_STATE_UNACK);
}

static void
assert_flood (const KankyoAlarmPerformance *p, guint i, gint64 start, gint64 end, guint n)
{
  const KankyoAlarmFlood *f;

  g_assert_cmpuint (i, <, p->floods->len);
  f = &g_array_index (p->floods, KankyoAlarmFlood, i);
  g_assert_cmpint (f->start, ==, start);
  g_assert_cmpint (f->end, ==, end);
  g_assert_cmpuint (f->n_alarms, ==, n);
}

static void
test_flood_edges (void)
{
  gint64 from = BASE, to = BASE + 2 * HOUR;

  {
    /* Ten in five minutes: no flood. */
    g_autoptr (GArray) r = records_new ();
    g_autoptr (KankyoAlarmPerformance) p = NULL;

    for (guint k = 0; k < 10; k++)
      activate_at (r, from + HOUR + k * 30 * SEC, "a.b.c");
    p = checked_performance (r, from, to);
    g_assert_cmpuint (p->floods->len, ==, 0);
    g_assert_cmpfloat (p->percent_time_in_flood, ==, 0);
  }
  {
    /* Eleven spread over exactly ten minutes: no flood; the window
     * holds its right end, not its left. */
    g_autoptr (GArray) r = records_new ();
    g_autoptr (KankyoAlarmPerformance) p = NULL;

    for (guint k = 0; k <= 10; k++)
      activate_at (r, from + HOUR + k * MINUTE, "a.b.c");
    p = checked_performance (r, from, to);
    g_assert_cmpuint (p->floods->len, ==, 0);
  }
  {
    /* Eleven within 590 s: a flood from the first, until the seventh
     * leaves the window and four are left. */
    g_autoptr (GArray) r = records_new ();
    g_autoptr (KankyoAlarmPerformance) p = NULL;

    for (guint k = 0; k <= 10; k++)
      activate_at (r, from + HOUR + k * 59 * SEC, "a.b.c");
    p = checked_performance (r, from, to);
    g_assert_cmpuint (p->floods->len, ==, 1);
    assert_flood (p, 0, from + HOUR, from + HOUR + 6 * 59 * SEC + W, 11);
    g_assert_cmpfloat_with_epsilon (p->percent_time_in_flood, 100.0 * (6 * 59 * SEC + W) / (2 * HOUR), 1e-9);
  }
  {
    /* Eleven in eleven seconds end at 606 s with four left (< 5); one
     * more at 605 s keeps five at 606 s, which is not fewer than 5. */
    g_autoptr (GArray) r = records_new ();
    g_autoptr (KankyoAlarmPerformance) p = NULL;
    g_autoptr (KankyoAlarmPerformance) q = NULL;

    for (guint k = 0; k <= 10; k++)
      activate_at (r, from + k * SEC, "a.b.c");
    p = checked_performance (r, from, to);
    g_assert_cmpuint (p->floods->len, ==, 1);
    assert_flood (p, 0, from, from + 606 * SEC, 11);
    activate_at (r, from + 605 * SEC, "a.b.c");
    q = checked_performance (r, from, to);
    g_assert_cmpuint (q->floods->len, ==, 1);
    assert_flood (q, 0, from, from + 607 * SEC, 12);
  }
  {
    /* Eleven at one instant flood; all leave together ten minutes on.
     * Ten leaving as one arrives is no flood. */
    g_autoptr (GArray) r = records_new ();
    g_autoptr (GArray) s = records_new ();
    g_autoptr (KankyoAlarmPerformance) p = NULL;
    g_autoptr (KankyoAlarmPerformance) q = NULL;

    for (guint k = 0; k < 11; k++)
      activate_at (r, from + HOUR, "a.b.c");
    p = checked_performance (r, from, to);
    g_assert_cmpuint (p->floods->len, ==, 1);
    assert_flood (p, 0, from + HOUR, from + HOUR + W, 11);
    for (guint k = 0; k < 10; k++)
      activate_at (s, from + HOUR, "a.b.c");
    activate_at (s, from + HOUR + W, "a.b.c");
    q = checked_performance (s, from, to);
    g_assert_cmpuint (q->floods->len, ==, 0);
  }
  {
    /* A flood that has not ended by the end of the period ends there. */
    g_autoptr (GArray) r = records_new ();
    g_autoptr (KankyoAlarmPerformance) p = NULL;

    for (guint k = 0; k < 12; k++)
      activate_at (r, to - 100 * SEC + k * SEC, "a.b.c");
    activate_at (r, to, "a.b.c"); /* after the period */
    p = checked_performance (r, from, to);
    g_assert_cmpuint (p->floods->len, ==, 1);
    assert_flood (p, 0, to - 100 * SEC, to, 12);
    g_assert_cmpuint (p->n_activations, ==, 12);
  }
  {
    /* A flood that begins within a minute of the last one's end starts
     * at its own first activation: the four still in the window belong
     * to the flood before, and none counts twice. */
    g_autoptr (GArray) r = records_new ();
    g_autoptr (KankyoAlarmPerformance) p = NULL;

    for (guint k = 0; k <= 10; k++)
      activate_at (r, from + k * SEC, "a.b.c");
    for (guint k = 1; k <= 7; k++)
      activate_at (r, from + 606 * SEC + k * 100000, "a.b.c");
    p = performance_of (r, from, to);
    g_assert_cmpuint (p->floods->len, ==, 2);
    assert_flood (p, 0, from, from + 606 * SEC, 11);
    assert_flood (p, 1, from + 606 * SEC + 100000, from + 1206 * SEC + 300000, 7);
    g_assert_cmpfloat_with_epsilon (p->percent_time_in_flood,
                                    100.0 * (606 * SEC + 600 * SEC + 200000) / (2 * HOUR), 1e-9);
  }
}

static void
chatter (GArray *r, const char *id, gint64 clear, gint64 activate)
{
  add (r, clear, id, "area", KANKYO_ALARM_PRIORITY_LOW, KANKYO_ALARM_EVENT_CLEAR, KANKYO_ALARM_STATE_NORMAL);
  activate_at (r, activate, id);
}

/* The activations and chatters of @id among @actors. */
static void
assert_actor (const GArray *actors, const char *id, guint n_activations, guint n_chatter)
{
  for (guint i = 0; i < actors->len; i++)
    {
      const KankyoAlarmActor *a = &g_array_index (actors, KankyoAlarmActor, i);

      if (g_str_equal (a->alarm_id, id))
        {
          g_assert_cmpuint (a->n_activations, ==, n_activations);
          g_assert_cmpuint (a->n_chatter, ==, n_chatter);
          return;
        }
    }
  g_error ("%s is not among the alarms", id);
}

static void
test_chatter_edges (void)
{
  gint64 from = BASE, to = BASE + HOUR;
  g_autoptr (GArray) r = records_new ();
  g_autoptr (KankyoAlarmPerformance) p = NULL;

  /* x: a clear before the period counts; exactly 60 s is within; 60 s and
   * a microsecond is not. Three, so x chatters. */
  chatter (r, "x.t.high", from - 30 * SEC, from + 30 * SEC);
  chatter (r, "x.t.high", from + 100 * SEC, from + 160 * SEC);
  chatter (r, "x.t.high", from + 200 * SEC, from + 260 * SEC + 1);
  chatter (r, "x.t.high", from + 300 * SEC, from + 310 * SEC);
  /* y: two only. An activation under shelving is not counted at all. */
  chatter (r, "y.t.high", from + 100 * SEC, from + 110 * SEC);
  chatter (r, "y.t.high", from + 200 * SEC, from + 210 * SEC);
  add (r, from + 220 * SEC, "y.t.high", "area", KANKYO_ALARM_PRIORITY_LOW, KANKYO_ALARM_EVENT_CLEAR,
       KANKYO_ALARM_STATE_SHELVED);
  add (r, from + 230 * SEC, "y.t.high", "area", KANKYO_ALARM_PRIORITY_LOW, KANKYO_ALARM_EVENT_ACTIVATE,
       KANKYO_ALARM_STATE_SHELVED);
  /* z: a clear at the same instant but later in the journal is not the
   * previous one; the next activation does chatter on it. Another alarm's
   * clear does not count. */
  activate_at (r, from + 400 * SEC, "z.t.high");
  add (r, from + 400 * SEC, "z.t.high", "area", KANKYO_ALARM_PRIORITY_LOW, KANKYO_ALARM_EVENT_CLEAR,
       KANKYO_ALARM_STATE_NORMAL);
  chatter (r, "w.t.high", from + 420 * SEC, from + 2000 * SEC);
  activate_at (r, from + 430 * SEC, "z.t.high");

  p = performance_of (r, from, to);
  g_assert_cmpuint (p->n_activations, ==, 4 + 2 + 2 + 1);
  g_assert_cmpuint (p->chattering->len, ==, 1);
  g_assert_cmpstr (g_array_index (p->chattering, KankyoAlarmActor, 0).alarm_id, ==, "x.t.high");
  g_assert_cmpuint (g_array_index (p->chattering, KankyoAlarmActor, 0).n_chatter, ==, 3);
  g_assert_cmpuint (g_array_index (p->chattering, KankyoAlarmActor, 0).n_activations, ==, 4);
  assert_actor (p->top_ten, "y.t.high", 2, 2);
  assert_actor (p->top_ten, "z.t.high", 2, 1);
  assert_actor (p->top_ten, "w.t.high", 1, 0);
}

static void
stale_add (GArray *r, const char *id, gint64 time, KankyoAlarmEvent event, KankyoAlarmState state)
{
  KankyoAlarmRecord *rec = add (r, time, id, "area", KANKYO_ALARM_PRIORITY_HIGH, event, state);

  g_free (rec->message);
  rec->message = g_strdup_printf ("%s %s", id, kankyo_alarm_event_to_string (event));
}

static void
test_stale_edges (void)
{
  gint64 to = BASE + 3 * DAY, from = to - HOUR;
  g_autoptr (GArray) r = records_new ();
  g_autoptr (KankyoAlarmPerformance) p = NULL;
  static const struct
  {
    const char *id;
    gint64 since_before_end;
    const char *message;
  } expected[] = {
    { "c", 48 * HOUR, "c acknowledge" }, { "g", 48 * HOUR, "g activate" },
    { "h", 30 * HOUR, "h activate" },    { "i", 26 * HOUR, "i activate" },
    { "d", 25 * HOUR, "d unshelve" },    { "b", 24 * HOUR + 1, "b activate" },
  };
  const KankyoAlarmEvent act = KANKYO_ALARM_EVENT_ACTIVATE;
  const KankyoAlarmState unack = KANKYO_ALARM_STATE_UNACK;

  stale_add (r, "a", to - 24 * HOUR, act, unack); /* exactly 24 h: not more */
  stale_add (r, "b", to - 24 * HOUR - 1, act, unack);
  stale_add (r, "c", to - 48 * HOUR, act, unack); /* acknowledged, still active */
  stale_add (r, "c", to - 40 * HOUR, KANKYO_ALARM_EVENT_ACK, KANKYO_ALARM_STATE_ACKED);
  stale_add (r, "d", to - 48 * HOUR, act, unack); /* shelving breaks the run */
  stale_add (r, "d", to - 30 * HOUR, KANKYO_ALARM_EVENT_SHELVE, KANKYO_ALARM_STATE_SHELVED);
  stale_add (r, "d", to - 25 * HOUR, KANKYO_ALARM_EVENT_UNSHELVE, unack);
  stale_add (r, "e", to - 48 * HOUR, act, unack);
  stale_add (r, "e", to - 30 * HOUR, KANKYO_ALARM_EVENT_SHELVE, KANKYO_ALARM_STATE_SHELVED);
  stale_add (r, "e", to - 23 * HOUR, KANKYO_ALARM_EVENT_UNSHELVE, unack);
  stale_add (r, "f", to - 48 * HOUR, act, unack); /* returned: not active */
  stale_add (r, "f", to - 30 * HOUR, KANKYO_ALARM_EVENT_CLEAR, KANKYO_ALARM_STATE_RTN_UNACK);
  stale_add (r, "g", to - 48 * HOUR, act, unack); /* cleared only after the end */
  stale_add (r, "g", to + HOUR, KANKYO_ALARM_EVENT_CLEAR, KANKYO_ALARM_STATE_RTN_UNACK);
  stale_add (r, "h", to - 30 * HOUR, act, unack); /* cleared at the end, which is not included */
  stale_add (r, "h", to, KANKYO_ALARM_EVENT_CLEAR, KANKYO_ALARM_STATE_RTN_UNACK);
  stale_add (r, "i", to - 50 * HOUR, act, unack); /* active again after returning */
  stale_add (r, "i", to - 40 * HOUR, KANKYO_ALARM_EVENT_CLEAR, KANKYO_ALARM_STATE_RTN_UNACK);
  stale_add (r, "i", to - 26 * HOUR, act, unack);
  stale_add (r, "j", to - 48 * HOUR, act, unack); /* out of service */
  stale_add (r, "j", to - 47 * HOUR, KANKYO_ALARM_EVENT_REMOVE_FROM_SERVICE,
             KANKYO_ALARM_STATE_OUT_OF_SERVICE);

  p = checked_performance (r, from, to);
  g_assert_cmpuint (p->stale->len, ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      const KankyoAlarmStale *s = &g_array_index (p->stale, KankyoAlarmStale, i);

      g_assert_cmpstr (s->alarm_id, ==, expected[i].id);
      g_assert_cmpint (s->active_since, ==, to - expected[i].since_before_end);
      g_assert_cmpstr (s->message, ==, expected[i].message);
    }
}

static void
test_rates_and_top_ten (void)
{
  gint64 from = BASE, to = BASE + 2 * HOUR;
  g_autoptr (GArray) r = records_new ();
  g_autoptr (KankyoAlarmPerformance) p = NULL;
  static const struct
  {
    const char *area;
    guint n;
  } area_counts[] = { { "B", 3 }, { "A", 3 }, { "", 2 }, { "C", 1 } };
  /* rate.x.high has 9, like t09, and comes first by its name. */
  static const char *const top[]
      = { "t12", "t11", "t10", "rate.x.high", "t09", "t08", "t07", "t05", "t06", "t04" };
  guint k = 0;

  for (guint i = 0; i < G_N_ELEMENTS (area_counts); i++)
    for (guint n = 0; n < area_counts[i].n; n++)
      add (r, from + (k++) * MINUTE, "rate.x.high", area_counts[i].area, KANKYO_ALARM_PRIORITY_LOW,
           KANKYO_ALARM_EVENT_ACTIVATE, KANKYO_ALARM_STATE_UNACK);
  /* Alarm tN comes N times; t06 only 5 times, tying with t05. */
  for (guint a = 1; a <= 12; a++)
    {
      g_autofree char *id = g_strdup_printf ("t%02u", a);

      for (guint n = 0; n < (a == 6 ? 5 : a); n++)
        activate_at (r, from + HOUR + (k++) * 10 * SEC, id);
    }
  p = checked_performance (r, from, to);
  g_assert_cmpuint (p->n_activations, ==, 9 + 77);
  g_assert_cmpfloat (p->alarms_per_hour, ==, 86 / 2.0);
  g_assert_cmpuint (p->areas->len, ==, 5);
  g_assert_cmpstr (g_array_index (p->areas, KankyoAlarmAreaRate, 0).area, ==, "area");
  g_assert_cmpstr (g_array_index (p->areas, KankyoAlarmAreaRate, 1).area, ==, "A");
  g_assert_cmpfloat (g_array_index (p->areas, KankyoAlarmAreaRate, 1).alarms_per_hour, ==, 1.5);
  g_assert_cmpstr (g_array_index (p->areas, KankyoAlarmAreaRate, 2).area, ==, "B");
  g_assert_cmpstr (g_array_index (p->areas, KankyoAlarmAreaRate, 3).area, ==, "");
  g_assert_cmpfloat (g_array_index (p->areas, KankyoAlarmAreaRate, 3).alarms_per_hour, ==, 1.0);
  g_assert_cmpstr (g_array_index (p->areas, KankyoAlarmAreaRate, 4).area, ==, "C");
  g_assert_cmpuint (p->top_ten->len, ==, 10);
  for (guint i = 0; i < 10; i++)
    g_assert_cmpstr (g_array_index (p->top_ten, KankyoAlarmActor, i).alarm_id, ==, top[i]);
}

/* ---- PDF ---- */

static char *
pdf_text (const char *pdf)
{
  const char *argv[] = { "pdftotext", "-layout", "-enc", "UTF-8", pdf, "-", NULL };
  g_autofree char *err = NULL;
  char *out = NULL;
  int status = -1;

  g_assert_true (
      g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &status, NULL));
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("pdftotext %s failed: %s", pdf, err);
  return out;
}

/* Renders every page in grey with pdftoppm; returns the number of pages
 * and the share of dark pixels on the first. */
static guint
render_pages (const char *pdf, const char *prefix, double *ret_dark)
{
  const char *argv[] = { "pdftoppm", "-gray", "-r", "40", pdf, prefix, NULL };
  g_autofree char *err = NULL;
  g_autofree char *dir = g_path_get_dirname (prefix);
  g_autofree char *base = g_path_get_basename (prefix);
  g_autoptr (GDir) listing = NULL;
  const char *name;
  int status = -1;
  guint n = 0;

  g_assert_true (
      g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, &err, &status, NULL));
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("pdftoppm %s failed: %s", pdf, err);
  listing = g_dir_open (dir, 0, NULL);
  while ((name = g_dir_read_name (listing)) != NULL)
    if (g_str_has_prefix (name, base) && g_str_has_suffix (name, ".pgm"))
      {
        g_autofree char *path = g_build_filename (dir, name, NULL);
        g_autofree char *data = NULL;
        gsize len;
        guint w, h, max, dark = 0, header = 0;

        n++;
        if (!g_str_has_suffix (name, "-1.pgm") && !g_str_has_suffix (name, "-01.pgm"))
          continue;
        g_assert_true (g_file_get_contents (path, &data, &len, NULL));
        g_assert_cmpint (sscanf (data, "P5 %u %u %u%n", &w, &h, &max, &header), ==, 3);
        header++; /* the one blank after the maximum */
        g_assert_cmpuint (len, ==, header + (gsize) w * h);
        g_assert_cmpuint (w, <, h * 2); /* landscape A4 */
        g_assert_cmpuint (w, >, h);
        for (gsize i = header; i < len; i++)
          dark += (guchar) data[i] < 128;
        *ret_dark = (double) dark / ((double) w * h);
      }
  return n;
}

static void
test_pdf (void)
{
  gint64 from = BASE + 2 * HOUR, to = from + 6 * HOUR;
  g_autoptr (GArray) records = random_plant (2, from, to);
  g_autofree char *dir = make_dir ("pdf");
  g_autofree char *pdf = g_build_filename (dir, "performance.pdf", NULL);
  g_autofree char *nowhere = g_build_filename (dir, "missing", "performance.pdf", NULL);
  g_autofree char *prefix = g_build_filename (dir, "page", NULL);
  g_autofree char *text = NULL;
  g_autofree char *n_text = NULL;
  g_autofree char *of_pages = NULL;
  g_autoptr (KankyoAlarmPerformance) p = NULL;
  g_autoptr (GError) error = NULL;
  KankyoAlarmRecord *r;
  double dark = 0;
  guint pages;

  for (guint k = 0; k < 5; k++)
    {
      r = add (records, from + HOUR + k * 30 * SEC, "充填室.温度.high", "充填室", KANKYO_ALARM_PRIORITY_HIGH,
               KANKYO_ALARM_EVENT_ACTIVATE, KANKYO_ALARM_STATE_UNACK);
      g_free (r->message);
      r->message = g_strdup ("充填室 温度高");
    }
  p = checked_performance (records, from, to);
  g_assert_cmpuint (p->floods->len, >, 0);

  g_assert_true (kankyo_alarm_performance_write_pdf (p, "試験プラント", pdf, &error));
  g_assert_no_error (error);
  text = pdf_text (pdf);
  g_assert_nonnull (strstr (text, "Alarm performance report"));
  g_assert_nonnull (strstr (text, "試験プラント"));
  g_assert_nonnull (strstr (text, "充填室 温度高"));
  g_assert_nonnull (strstr (text, "Period:"));
  g_assert_nonnull (strstr (text, "Top ten alarms"));
  n_text = g_strdup_printf ("%u", p->n_activations);
  g_assert_nonnull (strstr (text, n_text));
  for (guint i = 0; i < p->top_ten->len; i++)
    g_assert_nonnull (strstr (text, g_array_index (p->top_ten, KankyoAlarmActor, i).alarm_id));
  for (guint i = 0; i < p->stale->len; i++)
    g_assert_nonnull (strstr (text, g_array_index (p->stale, KankyoAlarmStale, i).alarm_id));
  for (guint i = 0; i < p->areas->len; i++)
    g_assert_nonnull (strstr (text, g_array_index (p->areas, KankyoAlarmAreaRate, i).area));

  pages = render_pages (pdf, prefix, &dark);
  g_assert_cmpuint (pages, >=, 1);
  of_pages = g_strdup_printf ("Page 1 of %u", pages);
  g_assert_nonnull (strstr (text, of_pages));
  g_assert_cmpfloat (dark, >, 0.01);
  g_assert_cmpfloat (dark, <, 0.5);

  /* A folder that does not exist: an error, and no file. */
  g_assert_false (kankyo_alarm_performance_write_pdf (p, "x", nowhere, &error));
  g_assert_error (error, KANKYO_ALARM_JOURNAL_ERROR, KANKYO_ALARM_JOURNAL_ERROR_WRITE);
  g_assert_false (g_file_test (nowhere, G_FILE_TEST_EXISTS));
}

/* ---- kankyoctl alarms ---- */

static void
expect_usage (const char *dir, const char *const *args, const char *named)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status;

  g_ptr_array_add (argv, (gpointer) "alarms");
  g_ptr_array_add (argv, (gpointer) "--data-dir");
  g_ptr_array_add (argv, (gpointer) dir);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  status = run_ctl ((const char *const *) argv->pdata, NULL, &out, &err);
  if (status != 2 || strstr (err, named) == NULL)
    g_error ("kankyoctl alarms %s: expected exit 2 naming %s, got %d: %s", args[0], named, status, err);
  g_assert_cmpstr (out, ==, "");
}

static guint
search_count (KankyoAlarmJournal *journal, const KankyoAlarmQuery *q)
{
  g_autoptr (GArray) found = kankyo_alarm_journal_search (journal, q, NULL);

  return found->len;
}

static void
test_ctl (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (5);
  g_autoptr (GArray) records = random_records (rand, 300);
  g_autofree char *dir = NULL;
  g_autofree char *empty = make_dir ("ctl-empty");
  g_autofree char *csv_file = NULL;
  g_autofree char *pdf_file = NULL;
  g_autoptr (KankyoAlarmJournal) journal = NULL;
  g_autoptr (KankyoAlarmPerformance) p = NULL;
  g_autoptr (GArray) newest = NULL;
  g_autoptr (GArray) active = NULL;
  g_autoptr (GError) error = NULL;
  KankyoAlarmQuery q;

  if (!need_kankyoctl ())
    return;
  journal = journal_with ("ctl", records, &dir);
  csv_file = g_build_filename (dir, "out.csv", NULL);
  pdf_file = g_build_filename (dir, "out.pdf", NULL);

  /* The history, newest first, one line a record. */
  {
    const char *args[] = { "alarms", "--data-dir", dir, NULL };
    g_autofree char *out = run_ctl_ok (args);
    g_auto (GStrv) lines = g_strsplit (out, "\n", -1);

    kankyo_alarm_query_init (&q);
    q.newest_first = TRUE;
    newest = kankyo_alarm_journal_search (journal, &q, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (count_lines (out), ==, records->len);
    for (guint i = 0; i < 5; i++)
      g_assert_nonnull (strstr (lines[i], g_array_index (newest, KankyoAlarmRecord, i).alarm_id));
  }
  /* The standing alarms, highest priority first. */
  {
    const char *args[] = { "alarms", "--data-dir", dir, "--active", NULL };
    g_autofree char *out = run_ctl_ok (args);
    g_auto (GStrv) lines = g_strsplit (out, "\n", -1);

    active = kankyo_alarm_journal_list_active (journal, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (active->len, >, 1);
    g_assert_cmpuint (count_lines (out), ==, active->len);
    for (guint i = 0; i < active->len; i++)
      {
        const KankyoAlarmRecord *r = &g_array_index (active, KankyoAlarmRecord, i);

        g_assert_nonnull (strstr (lines[i], r->alarm_id));
        g_assert_nonnull (strstr (lines[i], kankyo_alarm_priority_to_string (r->priority)));
      }
  }
  /* Every filter. */
  {
    static const struct
    {
      const char *option, *value;
    } filters[] = {
      { "--tag", "room1." },
      { "--tag", "pump.pressure" },
      { "--area", "充填室" },
      { "--priority", "medium" },
      { "--user", "田中" },
      { "--event", "acknowledge" },
      { "--state", "shelved" },
      { "--from", "2024-03-01T00:30:00Z" },
      { "--to", "2024-03-01T00:20:00Z" },
    };

    for (guint i = 0; i < G_N_ELEMENTS (filters); i++)
      {
        const char *args[] = { "alarms", "--data-dir", dir, filters[i].option, filters[i].value, NULL };
        g_autofree char *out = run_ctl_ok (args);
        guint expected;

        kankyo_alarm_query_init (&q);
        if (i <= 1)
          q.tag = filters[i].value;
        else if (i == 2)
          q.area = filters[i].value;
        else if (i == 3)
          q.min_priority = KANKYO_ALARM_PRIORITY_MEDIUM;
        else if (i == 4)
          q.user = filters[i].value;
        else if (i == 5)
          q.event = KANKYO_ALARM_EVENT_ACK;
        else if (i == 6)
          q.states = 1u << KANKYO_ALARM_STATE_SHELVED;
        else if (i == 7)
          q.from = BASE + 30 * MINUTE;
        else
          q.to = BASE + 20 * MINUTE;
        expected = search_count (journal, &q);
        g_assert_cmpuint (expected, >, 0);
        g_assert_cmpuint (expected, <, records->len);
        g_assert_cmpuint (count_lines (out), ==, expected);
      }
  }
  /* CSV, to standard output and to a file: the same bytes, every record,
   * oldest first. */
  {
    const char *args[] = { "alarms", "--data-dir", dir, "--csv", NULL };
    const char *to_file[] = { "alarms", "--data-dir", dir, "--csv", "-o", csv_file, NULL };
    g_autofree char *out = run_ctl_ok (args);
    g_autofree char *none = run_ctl_ok (to_file);
    g_autofree char *file = NULL;
    g_autoptr (GArray) all = NULL;
    gsize len;

    kankyo_alarm_query_init (&q);
    all = kankyo_alarm_journal_search (journal, &q, &error);
    g_assert_no_error (error);
    assert_csv_matches (out, strlen (out), all);
    g_assert_cmpstr (none, ==, "");
    g_assert_true (g_file_get_contents (csv_file, &file, &len, NULL));
    g_assert_cmpmem (file, len, out, strlen (out));
  }
  /* Performance as text and as a PDF. */
  {
    const char *args[]
        = { "alarms", "--data-dir",           dir,     "--performance", "--from", "2024-03-01T00:00:00Z",
            "--to",   "2024-03-01T01:00:00Z", "--pdf", pdf_file,        NULL };
    g_autofree char *out = run_ctl_ok (args);
    g_autofree char *line = NULL;
    g_autofree char *pdf = NULL;

    p = kankyo_alarm_journal_performance (journal, BASE, BASE + HOUR, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (p->n_activations, >, 0);
    line = g_strdup_printf ("\nAlarms: %u\n", p->n_activations);
    g_assert_nonnull (strstr (out, line));
    g_clear_pointer (&line, g_free);
    line = g_strdup_printf ("\nFloods: %u, ", p->floods->len);
    g_assert_nonnull (strstr (out, line));
    for (guint i = 0; i < p->top_ten->len; i++)
      g_assert_nonnull (strstr (out, g_array_index (p->top_ten, KankyoAlarmActor, i).alarm_id));
    pdf = pdf_text (pdf_file);
    g_assert_nonnull (strstr (pdf, "Alarm performance report"));
    g_clear_pointer (&line, g_free);
    line = g_strdup_printf ("%u", p->n_activations);
    g_assert_nonnull (strstr (pdf, line));
  }
  /* Bad usage: exit 2, naming the option. */
  {
    const char *priority[] = { "--priority", "urgent", NULL };
    const char *event[] = { "--event", "boom", NULL };
    const char *state[] = { "--state", "sleepy", NULL };
    const char *from[] = { "--from", "yesterday", NULL };
    const char *to[] = { "--to", "2024-13-01", NULL };
    const char *reversed[] = { "--from", "2024-03-02T00:00Z", "--to", "2024-03-01T00:00Z", NULL };
    const char *pdf_alone[] = { "--pdf", "x.pdf", NULL };
    const char *perf_alone[] = { "--performance", NULL };
    const char *perf_csv[] = { "--performance", "--from", "-1d", "--csv", NULL };
    const char *perf_area[] = { "--performance", "--from", "-1d", "--area", "x", NULL };
    const char *active_from[] = { "--active", "--from", "-1d", NULL };
    const char *active_csv[] = { "--active", "--csv", NULL };
    const char *unknown[] = { "--bogus", NULL };
    const char *argument[] = { "list", NULL };
    const char *output[] = { "--csv", "-o", "", NULL };
    const char *long_tag[] = { "--tag", NULL, NULL };
    g_autofree char *tag = g_strnfill (KANKYO_ALARM_JOURNAL_NAME_MAX + 1, 't');

    long_tag[1] = tag;
    expect_usage (dir, priority, "--priority");
    expect_usage (dir, event, "--event");
    expect_usage (dir, state, "--state");
    expect_usage (dir, from, "--from");
    expect_usage (dir, to, "--to");
    expect_usage (dir, reversed, "--from");
    expect_usage (dir, pdf_alone, "--pdf");
    expect_usage (dir, perf_alone, "--performance");
    expect_usage (dir, perf_csv, "--csv");
    expect_usage (dir, perf_area, "--area");
    expect_usage (dir, active_from, "--from");
    expect_usage (dir, active_csv, "--csv");
    expect_usage (dir, unknown, "--bogus");
    expect_usage (dir, argument, "no arguments");
    expect_usage (dir, output, "--output");
    expect_usage (dir, long_tag, "tag");
  }
  /* No journal, or not a journal: the operation fails (1). */
  {
    const char *args[] = { "alarms", "--data-dir", empty, NULL };
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    g_autofree char *fake = g_build_filename (empty, "alarms.db", NULL);

    g_assert_cmpint (run_ctl (args, NULL, &out, &err), ==, 1);
    g_assert_nonnull (strstr (err, "no alarm journal"));
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
    g_assert_true (
        g_file_set_contents (fake, "not a journal at all, just some text to be read as one.", -1, NULL));
    g_assert_cmpint (run_ctl (args, NULL, &out, &err), ==, 1);
    g_assert_nonnull (strstr (err, fake));
  }
  /* The usage text names the command. */
  {
    const char *args[] = { "--help", NULL };
    g_autofree char *out = run_ctl_ok (args);

    g_assert_nonnull (strstr (out, "alarms --performance"));
  }
}

int
main (int argc, char **argv)
{
  int status;

  if (argc == 3 && g_str_equal (argv[1], "--writer-kill"))
    return writer_kill (argv[2]);
  if (argc == 3 && g_str_equal (argv[1], "--writer-hold"))
    return writer_hold (argv[2]);

  setlocale (LC_ALL, "");
  g_test_init (&argc, &argv, NULL);
  /* Times print in a known zone. */
  g_setenv ("TZ", "UTC", TRUE);
  self_exe = g_file_read_link ("/proc/self/exe", NULL);
  g_assert_nonnull (self_exe);
  tmp_dir = g_dir_make_tmp ("kankyo-alarm-journal-XXXXXX", NULL);
  g_assert_nonnull (tmp_dir);

  g_test_add_func ("/alarm-journal/search", test_search);
  g_test_add_func ("/alarm-journal/list-active", test_list_active);
  g_test_add_func ("/alarm-journal/invalid", test_invalid);
  g_test_add_func ("/alarm-journal/durable-kill", test_durable_kill);
  g_test_add_func ("/alarm-journal/batching", test_batching);
  g_test_add_func ("/alarm-journal/readonly-alongside-writer", test_readonly_alongside_writer);
  g_test_add_func ("/alarm-journal/csv", test_csv);
  g_test_add_func ("/alarm-journal/performance/random", test_performance_random);
  g_test_add_func ("/alarm-journal/performance/floods", test_flood_edges);
  g_test_add_func ("/alarm-journal/performance/chattering", test_chatter_edges);
  g_test_add_func ("/alarm-journal/performance/stale", test_stale_edges);
  g_test_add_func ("/alarm-journal/performance/rates-top-ten", test_rates_and_top_ten);
  g_test_add_func ("/alarm-journal/pdf", test_pdf);
  g_test_add_func ("/alarm-journal/kankyoctl", test_ctl);
  status = g_test_run ();

  {
    g_autoptr (GFile) dir = g_file_new_for_path (tmp_dir);
    const char *argv_rm[] = { "rm", "-rf", tmp_dir, NULL };

    g_spawn_sync (NULL, (char **) argv_rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
  }
  g_free (tmp_dir);
  g_free (self_exe);
  return status;
}
