/* bench-alarms.c: what judging 10,000 alarms at 1 Hz costs the alarm engine.
 *
 * The question is whether a plant's worth of alarms fits in a small share
 * of one core: 10,000 definitions on 2,500 tags of 25 devices, every tag
 * updated once a second, published the way device workers publish (one
 * batch per device per poll cycle, with the device's _online tag). Every
 * value changes on every cycle, so each cycle the tag store delivers every
 * tag and the engine judges every alarm: the worst case of a steady plant.
 *
 * The mix per tag: high, high-high and low limits, and one more of
 * low-low, a deviation from the device's setpoint tag or a rate of change,
 * in turn; each device also has its comm-fail alarm. Values wander inside
 * their limits, except one tag in a hundred, which swings through all of
 * them with a period of 10 s, so transitions, journal records and
 * subscriber deliveries happen too, as in a plant. The benchmark checks that
 * they did, so it cannot pass by judging nothing.
 *
 * What is measured is the CPU time of the alarm engine's thread alone
 * ("kankyo alarms", read from /proc/self/task/TID/schedstat, kernel time
 * included): the tag store's deliveries to it, the judging, the timer and
 * the journal appends made from it. The publisher and the journal's SQLite
 * commits on other threads are not the engine's cost.
 *
 * KANKYO_BENCH_SECONDS sets the measured time (default 20 s). --smoke runs
 * 3 s and checks that the benchmark works, not the target.
 */
#define G_LOG_DOMAIN "bench-alarms"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>

#include "bench-util.h"
#include "kankyo-alarm-engine.h"
#include "kankyo-alarm-journal.h"
#include "kankyo-audit.h"
#include "kankyo-tag-store.h"

#define N_DEVICES 25
#define TAGS_PER_DEVICE 100
#define N_TAGS (N_DEVICES * TAGS_PER_DEVICE)
#define N_ALARMS 10000
#define SWING_EVERY 100 /* one tag in a hundred swings through its limits */
#define SWING_PERIOD_S 10.0
#define CYCLE_US G_USEC_PER_SEC
#define WARMUP_CYCLES 2
#define DEFAULT_SECONDS 20.0
#define SMOKE_SECONDS 3.0
#define MAX_SECONDS 3600.0
#define TARGET_PERCENT 5.0

typedef struct
{
  KankyoTagStore *store;
  guint tag_ids[N_TAGS];
  guint online_ids[N_DEVICES];
  guint n_cycles; /* the publisher's */
  gint stop;
  guint changes; /* subscriber's */
} Bench;

/* The value of tag @i at cycle @n: a slow wander inside 20..80, or a swing
 * from 0 to 100 for one tag in a hundred. */
static double
value_at (guint i, guint n)
{
  double t = n;

  if (i % SWING_EVERY == 1)
    return 50.0 + 50.0 * sin (2 * G_PI * t / SWING_PERIOD_S + i);
  return 50.0 + 10.0 * sin (2 * G_PI * t / 120.0 + i) + 0.01 * (n % 7);
}

static gpointer
publish_thread (gpointer data)
{
  Bench *b = data;
  KankyoTagSample samples[TAGS_PER_DEVICE + 1];
  gint64 next = g_get_monotonic_time ();

  memset (samples, 0, sizeof samples);
  while (!g_atomic_int_get (&b->stop))
    {
      gint64 now = g_get_real_time ();

      for (guint d = 0; d < N_DEVICES; d++)
        {
          for (guint k = 0; k < TAGS_PER_DEVICE; k++)
            {
              guint i = d * TAGS_PER_DEVICE + k;

              samples[k].tag_id = b->tag_ids[i];
              kankyo_value_set_double (&samples[k].value, value_at (i, b->n_cycles));
              samples[k].quality = KANKYO_QUALITY_GOOD;
              samples[k].source_time = now;
            }
          samples[TAGS_PER_DEVICE].tag_id = b->online_ids[d];
          kankyo_value_set_bool (&samples[TAGS_PER_DEVICE].value, TRUE);
          samples[TAGS_PER_DEVICE].quality = KANKYO_QUALITY_GOOD;
          samples[TAGS_PER_DEVICE].source_time = now;
          kankyo_tag_store_publish (b->store, samples, TAGS_PER_DEVICE + 1);
        }
      g_atomic_int_inc (&b->n_cycles);
      next += CYCLE_US;
      if (next > g_get_monotonic_time ())
        g_usleep (next - g_get_monotonic_time ());
    }
  return NULL;
}

static void
on_alarms (KankyoAlarmEngine *engine, const KankyoAlarmInfo *changed, guint n_changed, gpointer user_data)
{
  Bench *b = user_data;

  b->changes += n_changed;
}

static KankyoAlarmDefinition *
definition (const char *device, const char *tag, KankyoAlarmKind kind, double limit)
{
  KankyoAlarmDefinition *def = kankyo_alarm_definition_new ();

  def->id = g_strdup_printf ("%s.%s.%s", device, tag, kankyo_alarm_kind_to_string (kind));
  def->tag = g_strdup_printf ("%s.%s", device, tag);
  def->device = g_strdup (device);
  def->area = g_strdup ("plant");
  def->message = g_strdup_printf ("%s: %s %s", device, tag, kankyo_alarm_kind_to_string (kind));
  def->condition.kind = kind;
  def->condition.limit = limit;
  def->condition.deadband = kind == KANKYO_ALARM_RATE ? 0.0 : 1.0;
  def->condition.on_delay = kind == KANKYO_ALARM_HIGH ? 2 * G_USEC_PER_SEC : 0;
  return def;
}

/* 2,500 tags with four alarms each, but for the devices' setpoint tags,
 * and one comm-fail alarm per device: 10,000 in all. */
static GPtrArray *
build (Bench *b)
{
  GPtrArray *defs = g_ptr_array_new_with_free_func ((GDestroyNotify) kankyo_alarm_definition_free);

  for (guint d = 0; d < N_DEVICES; d++)
    {
      g_autofree char *device = g_strdup_printf ("dev%02u", d);
      g_autoptr (KankyoTagSpec) online = kankyo_tag_spec_new ();
      KankyoAlarmDefinition *def;

      for (guint k = 0; k < TAGS_PER_DEVICE; k++)
        {
          g_autoptr (KankyoTagSpec) spec = kankyo_tag_spec_new ();
          guint i = d * TAGS_PER_DEVICE + k;

          spec->name = g_strdup_printf ("t%03u", k);
          spec->value_type = KANKYO_VALUE_DOUBLE;
          b->tag_ids[i] = kankyo_tag_store_add (b->store, device, spec);
          /* t000 is the device's setpoint: three alarms. */
          g_ptr_array_add (defs, definition (device, spec->name, KANKYO_ALARM_HIGH, 80));
          g_ptr_array_add (defs, definition (device, spec->name, KANKYO_ALARM_HIGH_HIGH, 90));
          g_ptr_array_add (defs, definition (device, spec->name, KANKYO_ALARM_LOW, 20));
          if (k == 0)
            continue;
          switch (k % 3)
            {
              case 0:
                g_ptr_array_add (defs, definition (device, spec->name, KANKYO_ALARM_LOW_LOW, 10));
                break;
              case 1:
                def = definition (device, spec->name, KANKYO_ALARM_DEVIATION, 60);
                def->setpoint_tag = g_strdup_printf ("%s.t000", device);
                g_ptr_array_add (defs, def);
                break;
              default:
                g_ptr_array_add (defs, definition (device, spec->name, KANKYO_ALARM_RATE, 50));
                break;
            }
        }
      online->name = g_strdup ("_online");
      online->value_type = KANKYO_VALUE_BOOL;
      b->online_ids[d] = kankyo_tag_store_add (b->store, device, online);
      def = definition (device, "_online", KANKYO_ALARM_COMM_FAIL, 0);
      g_free (def->id);
      def->id = g_strdup_printf ("%s.comm-fail", device);
      def->priority = KANKYO_ALARM_PRIORITY_HIGH;
      def->condition.on_delay = 10 * G_USEC_PER_SEC;
      g_ptr_array_add (defs, def);
    }
  return defs;
}

/* The alarm engine's thread, by the name it gives it. */
static char *
find_alarm_thread (void)
{
  g_autoptr (GDir) dir = g_dir_open ("/proc/self/task", 0, NULL);
  const char *tid;

  while (dir != NULL && (tid = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_strdup_printf ("/proc/self/task/%s/comm", tid);
      g_autofree char *comm = NULL;

      if (g_file_get_contents (path, &comm, NULL, NULL) && g_str_equal (g_strstrip (comm), "kankyo alarms"))
        return g_strdup (tid);
    }
  return NULL;
}

/* Nanoseconds the thread has run, user and kernel. */
static guint64
thread_cpu_ns (const char *tid)
{
  g_autofree char *path = g_strdup_printf ("/proc/self/task/%s/schedstat", tid);
  g_autofree char *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    g_error ("cannot read %s", path);
  return g_ascii_strtoull (text, NULL, 10);
}

static guint
count_activations (KankyoAlarmJournal *journal)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) records = NULL;
  KankyoAlarmQuery query;

  kankyo_alarm_query_init (&query);
  query.event = KANKYO_ALARM_EVENT_ACTIVATE;
  query.limit = KANKYO_ALARM_JOURNAL_MAX_LIMIT;
  records = kankyo_alarm_journal_search (journal, &query, &error);
  if (records == NULL)
    g_error ("%s", error->message);
  return records->len;
}

int
main (int argc, char *argv[])
{
  gboolean smoke = argc > 1 && g_str_equal (argv[1], "--smoke");
  const char *env = g_getenv ("KANKYO_BENCH_SECONDS");
  double seconds = smoke ? SMOKE_SECONDS : DEFAULT_SECONDS;
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *journal_path = NULL;
  g_autofree char *audit_path = NULL;
  g_autofree char *tid = NULL;
  KankyoAlarmJournal *journal;
  KankyoAudit *audit;
  KankyoAlarmEngine *engine;
  GThread *publisher;
  Bench b = { 0 };
  guint64 cpu0, cpu1;
  gint64 wall0, wall1, end;
  guint cycles0, cycles1, n_alarms, activations, subscription;
  double percent, per_cycle_ms;

  if (!smoke && env != NULL)
    seconds = CLAMP (g_ascii_strtod (env, NULL), 1.0, MAX_SECONDS);

  dir = g_dir_make_tmp ("kankyo-bench-alarms-XXXXXX", &error);
  g_assert_no_error (error);
  journal_path = g_build_filename (dir, "alarms.db", NULL);
  audit_path = g_build_filename (dir, "audit.db", NULL);
  journal = kankyo_alarm_journal_open (journal_path, &error);
  g_assert_no_error (error);
  audit = kankyo_audit_open (audit_path, &error);
  g_assert_no_error (error);

  b.store = kankyo_tag_store_new ();
  engine = kankyo_alarm_engine_new (b.store, build (&b), audit, journal, &error);
  g_assert_no_error (error);
  n_alarms = kankyo_alarm_engine_get_n_alarms (engine);
  g_assert_cmpuint (n_alarms, ==, N_ALARMS);
  subscription = kankyo_alarm_engine_subscribe (engine, NULL, on_alarms, &b, NULL);
  g_assert_true (kankyo_alarm_engine_start (engine, &error));
  /* The thread names itself once it runs. */
  for (guint i = 0; i < 100 && tid == NULL; i++, g_usleep (10000))
    tid = find_alarm_thread ();
  g_assert_nonnull (tid);

  publisher = g_thread_new ("bench publisher", publish_thread, &b);
  while (g_atomic_int_get (&b.n_cycles) < WARMUP_CYCLES)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (10000);
    }

  cpu0 = thread_cpu_ns (tid);
  wall0 = g_get_monotonic_time ();
  cycles0 = g_atomic_int_get (&b.n_cycles);
  end = wall0 + (gint64) (seconds * G_USEC_PER_SEC);
  while (g_get_monotonic_time () < end)
    {
      /* A main loop that wakes 20 times a second, as a UI would. */
      g_main_context_iteration (NULL, FALSE);
      g_usleep (50000);
    }
  cpu1 = thread_cpu_ns (tid);
  wall1 = g_get_monotonic_time ();
  cycles1 = g_atomic_int_get (&b.n_cycles);

  g_atomic_int_set (&b.stop, TRUE);
  g_thread_join (publisher);
  kankyo_alarm_engine_unsubscribe (engine, subscription);
  kankyo_alarm_engine_stop (engine);
  activations = count_activations (journal);
  kankyo_alarm_engine_free (engine);
  kankyo_audit_close (audit);
  kankyo_alarm_journal_close (journal);
  kankyo_tag_store_unref (b.store);
  bench_remove_dir (dir);

  percent = 100.0 * (double) (cpu1 - cpu0) / 1000.0 / (double) (wall1 - wall0);
  per_cycle_ms = cycles1 > cycles0 ? (double) (cpu1 - cpu0) / 1e6 / (cycles1 - cycles0) : NAN;
  printf ("alarm_definitions: %u on %u tags of %u devices, every tag updated at 1 Hz\n", n_alarms, N_TAGS,
          N_DEVICES);
  printf ("measured: %.1f s, %u publish cycles, %u activations journaled, %u changes delivered\n",
          (wall1 - wall0) / 1e6, cycles1 - cycles0, activations, b.changes);
  printf ("alarm_cpu_per_cycle_ms: %.3f (10,000 definitions judged)\n", per_cycle_ms);
  printf ("alarm_cpu_percent_of_one_core: %.2f (target < %g)\n", percent, TARGET_PERCENT);

  /* The swinging tags must have alarmed: 25 of them, several limits each,
   * at least once per swing. */
  if (activations < N_TAGS / SWING_EVERY || b.changes == 0)
    {
      fprintf (stderr,
               "bench-alarms: the swinging tags raised %u alarms and %u changes; the engine judged "
               "nothing\n",
               activations, b.changes);
      return 1;
    }
  if (!smoke && percent >= TARGET_PERCENT)
    {
      fprintf (stderr, "bench-alarms: %.2f %% of one core is over the target of %g %%\n", percent,
               TARGET_PERCENT);
      return 1;
    }
  return 0;
}
