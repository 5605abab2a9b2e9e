/* test-alarm-engine.c: the alarm engine of a running plant, over Modbus.
 *
 * A kankyo-sim host serves a panel described by a map file in a temporary
 * folder, with no physics: the test sets each value as the device would and
 * the engine polls it over Modbus TCP on loopback, exactly as a plant is
 * polled. The alarms come from the map's alarms: keys, so the path from the
 * file to the engine is the one a plant takes. What is checked is what an
 * operator and an auditor would see: the states of the alarms, the records
 * of the alarm journal, the subscriber's deliveries and the audit trail.
 *
 * One more test starts the demo's HVAC device types, simulated, and checks
 * their default alarms and that a steady suite raises none.
 */
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "kankyo-alarm-engine.h"
#include "kankyo-alarm-journal.h"
#include "kankyo-audit.h"
#include "kankyo-engine.h"
#include "kankyo-modules.h"
#include "kankyo-sim-host.h"

#define POLL_MS 100

/* The panel: a level with a deadband, a temperature with delays, a
 * deviation, a latching fault, a flow that a unit switched off suppresses
 * and a pressure with a rate limit. */
static const char panel_map[]
    = "device-type: test.panel\n"
      "tags:\n"
      "  - {name: level, area: holding, address: 0, type: float32,\n"
      "     alarms: {high: 80, deadband: 2, guidance: Open the drain valve.}}\n"
      "  - {name: temp, area: holding, address: 2, type: float32,\n"
      "     alarms: {high: 50, on-delay: 1s, off-delay: 1s, priority: high}}\n"
      "  - {name: sp, area: holding, address: 4, type: float32}\n"
      "  - {name: pv, area: holding, address: 6, type: float32,\n"
      "     alarms: {deviation: {setpoint: sp, limit: 5}}}\n"
      "  - {name: flow, area: holding, address: 8, type: float32,\n"
      "     alarms: {low: 10, suppressed-by: unit_off}}\n"
      "  - {name: pressure, area: holding, address: 10, type: float32, alarms: {rate: 5}}\n"
      "  - {name: fault, area: coil, address: 0, type: bool, alarms: {state: true, latching: true}}\n"
      "  - {name: unit_off, area: coil, address: 1, type: bool}\n";

typedef struct
{
  char *dir;
  KankyoSimHost *sim;
  KankyoEngine *engine;
  KankyoAlarmEngine *alarms;
  KankyoAlarmJournal *journal;
  guint subscription;
  guint n_deliveries;
  guint n_changes;
} Fixture;

static void
on_alarms (KankyoAlarmEngine *engine, const KankyoAlarmInfo *changed, guint n_changed, gpointer user_data)
{
  Fixture *f = user_data;

  f->n_deliveries++;
  f->n_changes += n_changed;
}

static void
remove_dir (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      g_unlink (path);
    }
  g_rmdir (dir);
}

static void
set_value (Fixture *f, const char *tag, double value)
{
  kankyo_sim_host_set_value (f->sim, 0, tag, value);
}

static KankyoAlarmState
state_of (Fixture *f, const char *id, gboolean *ret_active)
{
  gint index = kankyo_alarm_engine_lookup (f->alarms, id);
  KankyoAlarmInfo info;
  KankyoAlarmState state;

  g_assert_cmpint (index, >=, 0);
  g_assert_true (kankyo_alarm_engine_get_info (f->alarms, (guint) index, &info));
  state = info.state;
  if (ret_active != NULL)
    *ret_active = info.active;
  kankyo_alarm_info_clear (&info);
  return state;
}

/* Iterates this thread's context (deliveries) while waiting; returns the
 * microseconds it took, or -1 after @limit_ms. */
static gint64
wait_state (Fixture *f, const char *id, KankyoAlarmState state, guint limit_ms)
{
  gint64 start = g_get_monotonic_time ();

  while (g_get_monotonic_time () - start < (gint64) limit_ms * 1000)
    {
      if (state_of (f, id, NULL) == state)
        return g_get_monotonic_time () - start;
      g_main_context_iteration (NULL, FALSE);
      g_usleep (10000);
    }
  return -1;
}

static void
assert_state (Fixture *f, const char *id, KankyoAlarmState state, guint limit_ms)
{
  if (wait_state (f, id, state, limit_ms) < 0)
    g_error ("%s is %s, not %s after %u ms", id, kankyo_alarm_state_to_string (state_of (f, id, NULL)),
             kankyo_alarm_state_to_string (state), limit_ms);
}

/* Lets the engine see several polls without waiting for anything. */
static void
settle (guint ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;

  while (g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (10000);
    }
}

static void
on_act_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

/* An operator action, waited for; returns what finish returns. */
static gboolean
act (Fixture *f,
     KankyoAlarmAction action,
     const char *const *ids,
     const char *user,
     const char *reason,
     gint64 duration_us,
     guint *ret_n_done,
     GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  kankyo_alarm_engine_act_async (f->alarms, action, ids, user, reason, duration_us, NULL, on_act_done,
                                 &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  return kankyo_alarm_engine_act_finish (f->alarms, result, ret_n_done, error);
}

/* Journal records of @id with @event since @since, after what waits for
 * the next batch is committed. The engine shows a transition before its
 * thread has handed the record to the journal, so the count waits a tick
 * of the engine's timer first. */
static guint
count_records (Fixture *f, const char *id, KankyoAlarmEvent event, gint64 since, KankyoAlarmRecord *ret_last)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) records = NULL;
  KankyoAlarmQuery query;
  guint n = 0;

  settle (300);
  g_assert_true (kankyo_alarm_journal_flush (f->journal, &error));
  kankyo_alarm_query_init (&query);
  query.from = since;
  query.event = (int) event;
  records = kankyo_alarm_journal_search (f->journal, &query, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < records->len; i++)
    {
      KankyoAlarmRecord *r = &g_array_index (records, KankyoAlarmRecord, i);

      if (id != NULL && g_strcmp0 (r->alarm_id, id) != 0)
        continue;
      n++;
      if (ret_last != NULL)
        {
          kankyo_alarm_record_clear (ret_last);
          *ret_last = *r;
          *r = (KankyoAlarmRecord){ 0 };
        }
    }
  return n;
}

/* Audit records of @action on @target (NULL: any), newest last. */
static GPtrArray *
audit_records (Fixture *f, const char *action, const char *target)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (f->dir, "audit.db", NULL);
  g_autoptr (KankyoAudit) audit = kankyo_audit_open_readonly (path, &error);
  g_autoptr (GPtrArray) all = NULL;
  GPtrArray *found = g_ptr_array_new_with_free_func ((GDestroyNotify) kankyo_audit_record_free);

  g_assert_no_error (error);
  all = kankyo_audit_list (audit, 0, 100000, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < all->len; i++)
    {
      KankyoAuditRecord *r = g_ptr_array_index (all, i);

      if (g_str_equal (r->action, action) && (target == NULL || g_strcmp0 (r->target, target) == 0))
        g_ptr_array_add (found, g_ptr_array_steal_index (all, i--));
    }
  return found;
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (KankyoDriver) driver = NULL;
  g_autoptr (KankyoDeviceMap) map = NULL;
  g_autoptr (GPtrArray) specs = NULL;
  g_autoptr (KankyoEndpoint) endpoint = NULL;
  g_autofree char *map_path = NULL;
  g_autofree char *project_path = NULL;
  g_autofree char *text = NULL;
  g_autofree char *where = NULL;
  KankyoProject *project;

  f->dir = g_dir_make_tmp ("kankyo-alarm-engine-XXXXXX", &error);
  g_assert_no_error (error);
  map_path = g_build_filename (f->dir, "panel.yaml", NULL);
  g_assert_true (g_file_set_contents (map_path, panel_map, -1, NULL));

  kankyo_modules_load ();
  driver = kankyo_modules_get_driver ("modbus", &error);
  g_assert_no_error (error);
  map = kankyo_device_map_load (map_path, &error);
  g_assert_no_error (error);
  specs = kankyo_device_map_resolve_tags (map, NULL, &error);
  g_assert_no_error (error);
  endpoint = kankyo_endpoint_parse ("tcp://127.0.0.1:0", &error);
  g_assert_no_error (error);
  f->sim = kankyo_sim_host_new (1.0);
  g_assert_cmpuint (kankyo_sim_host_add (f->sim, "panel", specs, NULL, driver, endpoint, 1, &error), ==, 0);
  g_assert_no_error (error);
  g_assert_true (kankyo_sim_host_start (f->sim, &error));
  g_assert_no_error (error);
  set_value (f, "level", 50);
  set_value (f, "temp", 20);
  set_value (f, "sp", 50);
  set_value (f, "pv", 50);
  set_value (f, "flow", 50);
  set_value (f, "pressure", 0);

  where = kankyo_sim_host_get_endpoint (f->sim, 0);
  text = g_strdup_printf ("project: Alarm engine test\n"
                          "areas:\n"
                          "  - name: lab\n"
                          "    devices:\n"
                          "      - name: panel\n"
                          "        label: Test panel\n"
                          "        map: panel.yaml\n"
                          "        endpoint: %s?timeout=150\n"
                          "        poll-period: %dms\n"
                          "        comm-fail: {delay: 1s}\n",
                          where, POLL_MS);
  project_path = g_build_filename (f->dir, "plant.yaml", NULL);
  g_assert_true (g_file_set_contents (project_path, text, -1, NULL));
  project = kankyo_project_load (project_path, &error);
  g_assert_no_error (error);
  f->engine = kankyo_engine_new (project, f->dir, &error);
  g_assert_no_error (error);
  g_assert_null (kankyo_engine_get_alarms (f->engine));
  g_assert_true (kankyo_engine_start (f->engine, &error));
  g_assert_no_error (error);
  f->alarms = kankyo_engine_get_alarms (f->engine);
  f->journal = kankyo_engine_get_alarm_journal (f->engine);
  g_assert_nonnull (f->alarms);
  g_assert_nonnull (f->journal);
  f->subscription = kankyo_alarm_engine_subscribe (f->alarms, NULL, on_alarms, f, NULL);
  /* The panel answers and every alarm is judged normal. */
  assert_state (f, "panel.comm-fail", KANKYO_ALARM_STATE_NORMAL, 100);
  settle (5 * POLL_MS);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  kankyo_alarm_engine_unsubscribe (f->alarms, f->subscription);
  kankyo_engine_stop (f->engine);
  g_assert_null (kankyo_engine_get_alarms (f->engine));
  g_clear_object (&f->engine);
  g_clear_pointer (&f->sim, kankyo_sim_host_free);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  remove_dir (f->dir);
  g_free (f->dir);
}

/* The map's alarms as the engine defined them. */
static void
test_definitions (Fixture *f, gconstpointer data)
{
  static const struct
  {
    const char *id;
    KankyoAlarmKind kind;
    KankyoAlarmPriority priority;
  } expected[] = {
    { "panel.level.high", KANKYO_ALARM_HIGH, KANKYO_ALARM_PRIORITY_LOW },
    { "panel.temp.high", KANKYO_ALARM_HIGH, KANKYO_ALARM_PRIORITY_HIGH },
    { "panel.pv.deviation", KANKYO_ALARM_DEVIATION, KANKYO_ALARM_PRIORITY_LOW },
    { "panel.flow.low", KANKYO_ALARM_LOW, KANKYO_ALARM_PRIORITY_LOW },
    { "panel.pressure.rate", KANKYO_ALARM_RATE, KANKYO_ALARM_PRIORITY_LOW },
    { "panel.fault.state", KANKYO_ALARM_DIGITAL, KANKYO_ALARM_PRIORITY_MEDIUM },
    { "panel.comm-fail", KANKYO_ALARM_COMM_FAIL, KANKYO_ALARM_PRIORITY_HIGH },
  };
  const KankyoAlarmDefinition *def;
  g_autoptr (GArray) active = NULL;

  g_assert_cmpuint (kankyo_alarm_engine_get_n_alarms (f->alarms), ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      gint index = kankyo_alarm_engine_lookup (f->alarms, expected[i].id);

      g_assert_cmpint (index, >=, 0);
      def = kankyo_alarm_engine_get_definition (f->alarms, (guint) index);
      g_assert_cmpstr (def->id, ==, expected[i].id);
      g_assert_cmpint (def->condition.kind, ==, expected[i].kind);
      g_assert_cmpint (def->priority, ==, expected[i].priority);
      g_assert_cmpstr (def->device, ==, "panel");
      g_assert_cmpstr (def->area, ==, "lab");
      g_assert_cmpstr (def->display, ==, "lab");
    }
  g_assert_cmpint (kankyo_alarm_engine_lookup (f->alarms, "panel.sp.high"), ==, -1);

  def = kankyo_alarm_engine_get_definition (f->alarms,
                                            kankyo_alarm_engine_lookup (f->alarms, "panel.level.high"));
  g_assert_cmpstr (def->tag, ==, "panel.level");
  g_assert_cmpstr (def->message, ==, "Test panel: level high");
  g_assert_cmpstr (def->guidance, ==, "Open the drain valve.");
  g_assert_cmpfloat (def->condition.limit, ==, 80);
  g_assert_cmpfloat (def->condition.deadband, ==, 2);
  def = kankyo_alarm_engine_get_definition (f->alarms,
                                            kankyo_alarm_engine_lookup (f->alarms, "panel.temp.high"));
  g_assert_cmpint (def->condition.on_delay, ==, G_USEC_PER_SEC);
  g_assert_cmpint (def->condition.off_delay, ==, G_USEC_PER_SEC);
  def = kankyo_alarm_engine_get_definition (f->alarms,
                                            kankyo_alarm_engine_lookup (f->alarms, "panel.pv.deviation"));
  g_assert_cmpstr (def->setpoint_tag, ==, "panel.sp");
  def = kankyo_alarm_engine_get_definition (f->alarms,
                                            kankyo_alarm_engine_lookup (f->alarms, "panel.flow.low"));
  g_assert_cmpstr (def->suppressed_by, ==, "panel.unit_off");
  g_assert_true (isnan (def->suppressed_value));
  def = kankyo_alarm_engine_get_definition (f->alarms,
                                            kankyo_alarm_engine_lookup (f->alarms, "panel.fault.state"));
  g_assert_true (def->latching);
  g_assert_cmpfloat (def->condition.limit, ==, 1);
  def = kankyo_alarm_engine_get_definition (f->alarms,
                                            kankyo_alarm_engine_lookup (f->alarms, "panel.comm-fail"));
  g_assert_cmpstr (def->tag, ==, "panel._online");
  g_assert_cmpint (def->condition.on_delay, ==, G_USEC_PER_SEC);
  g_assert_cmpstr (def->message, ==, "Test panel: does not answer");
  g_assert_nonnull (def->guidance);

  /* A steady panel raises nothing. */
  active = kankyo_alarm_engine_list_active (f->alarms);
  g_assert_cmpuint (active->len, ==, 0);
  g_assert_cmpuint (f->n_deliveries, ==, 0);
}

/* A level chattering around its limit inside the deadband raises one
 * alarm, and returns only below limit - deadband. */
static void
test_chatter (Fixture *f, gconstpointer data)
{
  static const double chatter[] = { 81, 79.5, 80.5, 78.5, 81.5, 79, 80.2, 78.2, 81, 79.9 };
  gint64 start = g_get_real_time ();
  KankyoAlarmRecord last = { 0 };

  for (guint i = 0; i < G_N_ELEMENTS (chatter); i++)
    {
      set_value (f, "level", chatter[i]);
      settle (3 * POLL_MS);
      if (i == 0)
        assert_state (f, "panel.level.high", KANKYO_ALARM_STATE_UNACK, 1000);
      g_assert_cmpint (state_of (f, "panel.level.high", NULL), ==, KANKYO_ALARM_STATE_UNACK);
    }
  g_assert_cmpuint (count_records (f, "panel.level.high", KANKYO_ALARM_EVENT_ACTIVATE, start, &last), ==, 1);
  g_assert_cmpint (last.state, ==, KANKYO_ALARM_STATE_UNACK);
  g_assert_cmpfloat (last.value, ==, 81);
  g_assert_cmpstr (last.message, ==, "Test panel: level high");
  g_assert_null (last.user);
  g_assert_cmpuint (count_records (f, "panel.level.high", KANKYO_ALARM_EVENT_CLEAR, start, NULL), ==, 0);

  /* Below limit - deadband it returns, unacknowledged. */
  set_value (f, "level", 77.5);
  assert_state (f, "panel.level.high", KANKYO_ALARM_STATE_RTN_UNACK, 1000);
  g_assert_cmpuint (count_records (f, "panel.level.high", KANKYO_ALARM_EVENT_CLEAR, start, NULL), ==, 1);
  kankyo_alarm_record_clear (&last);
}

/* The temperature must stay over its limit for the on-delay and under it
 * for the off-delay; a spike shorter than the on-delay raises nothing. */
static void
test_delays (Fixture *f, gconstpointer data)
{
  gint64 start = g_get_real_time ();
  gboolean active = TRUE;
  gint64 took;

  set_value (f, "temp", 55);
  settle (4 * POLL_MS);
  set_value (f, "temp", 45);
  settle (15 * POLL_MS);
  g_assert_cmpint (state_of (f, "panel.temp.high", &active), ==, KANKYO_ALARM_STATE_NORMAL);
  g_assert_false (active);
  g_assert_cmpuint (count_records (f, "panel.temp.high", KANKYO_ALARM_EVENT_ACTIVATE, start, NULL), ==, 0);

  set_value (f, "temp", 55);
  took = wait_state (f, "panel.temp.high", KANKYO_ALARM_STATE_UNACK, 3000);
  g_test_message ("on-delay 1 s: active after %.0f ms", took / 1000.0);
  g_assert_cmpint (took, >=, 900 * 1000);
  g_assert_cmpint (took, <=, 2500 * 1000);

  set_value (f, "temp", 45);
  settle (5 * POLL_MS);
  g_assert_cmpint (state_of (f, "panel.temp.high", &active), ==, KANKYO_ALARM_STATE_UNACK);
  g_assert_true (active);
  took = wait_state (f, "panel.temp.high", KANKYO_ALARM_STATE_RTN_UNACK, 3000);
  g_test_message ("off-delay 1 s: returned %.0f ms later", took / 1000.0);
  g_assert_cmpint (took, >=, 300 * 1000);
  g_assert_cmpint (took, <=, 2000 * 1000);
  g_assert_cmpuint (count_records (f, "panel.temp.high", KANKYO_ALARM_EVENT_ACTIVATE, start, NULL), ==, 1);
}

/* A panel pulled away raises its one comm-fail alarm and suppresses its
 * other alarms, active or not, without a flood; when it answers again they
 * come back judged on fresh values. */
static void
test_comm_fail (Fixture *f, gconstpointer data)
{
  static const char *const others[] = { "panel.level.high", "panel.temp.high",     "panel.pv.deviation",
                                        "panel.flow.low",   "panel.pressure.rate", "panel.fault.state" };
  KankyoServerFaults drop = { .drop = TRUE };
  KankyoServerFaults none = { 0 };
  gint64 start;
  guint deliveries, changes;

  set_value (f, "level", 90);
  assert_state (f, "panel.level.high", KANKYO_ALARM_STATE_UNACK, 1000);
  settle (3 * POLL_MS);
  start = g_get_real_time ();
  deliveries = f->n_deliveries;
  changes = f->n_changes;

  kankyo_sim_host_set_server_faults (f->sim, 0, &drop);
  /* While the device is silent the process goes on: the level returns,
   * the temperature and the fault come in; nobody can know. */
  set_value (f, "temp", 60);
  set_value (f, "fault", 1);
  assert_state (f, "panel.comm-fail", KANKYO_ALARM_STATE_UNACK, 4000);
  settle (2000);
  for (guint i = 0; i < G_N_ELEMENTS (others); i++)
    g_assert_cmpint (state_of (f, others[i], NULL), ==, KANKYO_ALARM_STATE_SUPPRESSED);
  g_assert_cmpuint (count_records (f, NULL, KANKYO_ALARM_EVENT_ACTIVATE, start, NULL), ==, 1);
  g_assert_cmpuint (count_records (f, "panel.comm-fail", KANKYO_ALARM_EVENT_ACTIVATE, start, NULL), ==, 1);
  g_assert_cmpuint (count_records (f, NULL, KANKYO_ALARM_EVENT_SUPPRESS, start, NULL), ==,
                    G_N_ELEMENTS (others));
  /* Coalesced: one or two deliveries, each alarm in them once. */
  g_test_message ("%u deliveries with %u changes while the panel was silent", f->n_deliveries - deliveries,
                  f->n_changes - changes);
  g_assert_cmpuint (f->n_deliveries - deliveries, <=, 3);
  g_assert_cmpuint (f->n_changes - changes, <=, 1 + G_N_ELEMENTS (others) + 1);

  set_value (f, "level", 50);
  set_value (f, "level", 90);
  kankyo_sim_host_set_server_faults (f->sim, 0, &none);
  assert_state (f, "panel.comm-fail", KANKYO_ALARM_STATE_RTN_UNACK, 3000);
  /* Right after: what is active comes back unacknowledged, what is not
   * comes back normal; the temperature waits for its on-delay. */
  g_assert_cmpint (state_of (f, "panel.level.high", NULL), ==, KANKYO_ALARM_STATE_UNACK);
  g_assert_cmpint (state_of (f, "panel.fault.state", NULL), ==, KANKYO_ALARM_STATE_UNACK);
  g_assert_cmpint (state_of (f, "panel.flow.low", NULL), ==, KANKYO_ALARM_STATE_NORMAL);
  g_assert_cmpint (state_of (f, "panel.pv.deviation", NULL), ==, KANKYO_ALARM_STATE_NORMAL);
  g_assert_cmpint (state_of (f, "panel.temp.high", NULL), ==, KANKYO_ALARM_STATE_NORMAL);
  assert_state (f, "panel.temp.high", KANKYO_ALARM_STATE_UNACK, 2000);
  g_assert_cmpuint (count_records (f, NULL, KANKYO_ALARM_EVENT_UNSUPPRESS, start, NULL), ==,
                    G_N_ELEMENTS (others));
}

/* A shelve needs a user, a reason and a time within the maximum; it ends
 * on its own or by hand, and every step is in the journal and the trail. */
static void
test_shelve (Fixture *f, gconstpointer data)
{
  const char *const level[] = { "panel.level.high", NULL };
  const char *const temp[] = { "panel.temp.high", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) audit = NULL;
  KankyoAlarmRecord last = { 0 };
  KankyoAuditRecord *r;
  KankyoAlarmInfo info;
  gint64 start = g_get_real_time ();
  gint64 took;
  guint n = 99;

  g_assert_cmpint (kankyo_alarm_engine_get_max_shelve (f->alarms), ==, 8 * G_TIME_SPAN_HOUR);
  kankyo_alarm_engine_set_max_shelve (f->alarms, 2 * G_USEC_PER_SEC);
  set_value (f, "level", 90);
  assert_state (f, "panel.level.high", KANKYO_ALARM_STATE_UNACK, 1000);

  /* Refused: no reason, too long, no user. Nothing changes. */
  g_assert_false (act (f, KANKYO_ALARM_ACTION_SHELVE, level, "alice", "  ", G_USEC_PER_SEC, &n, &error));
  g_assert_error (error, KANKYO_ALARM_ENGINE_ERROR, KANKYO_ALARM_ENGINE_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "shelving an alarm needs a reason"));
  g_assert_cmpuint (n, ==, 0);
  g_clear_error (&error);
  g_assert_false (
      act (f, KANKYO_ALARM_ACTION_SHELVE, level, "alice", "sensor swap", 3 * G_USEC_PER_SEC, NULL, &error));
  g_assert_error (error, KANKYO_ALARM_ENGINE_ERROR, KANKYO_ALARM_ENGINE_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "at most the maximum shelve time of 2 s; 3 s was asked"));
  g_clear_error (&error);
  g_assert_false (
      act (f, KANKYO_ALARM_ACTION_SHELVE, level, NULL, "sensor swap", G_USEC_PER_SEC, NULL, &error));
  g_assert_error (error, KANKYO_ALARM_ENGINE_ERROR, KANKYO_ALARM_ENGINE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_cmpint (state_of (f, "panel.level.high", NULL), ==, KANKYO_ALARM_STATE_UNACK);
  audit = audit_records (f, "alarm.shelve", "panel.level.high");
  g_assert_cmpuint (audit->len, ==, 2);
  for (guint i = 0; i < audit->len; i++)
    {
      r = g_ptr_array_index (audit, i);
      g_assert_cmpstr (r->actor, ==, "alice");
      g_assert_true (g_str_has_prefix (r->result, "rejected: "));
    }
  g_clear_pointer (&audit, g_ptr_array_unref);

  /* Shelved for a second, it comes back by itself, still active. */
  g_assert_true (
      act (f, KANKYO_ALARM_ACTION_SHELVE, level, "alice", "sensor swap", G_USEC_PER_SEC, &n, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, 1);
  g_assert_true (
      kankyo_alarm_engine_get_info (f->alarms, kankyo_alarm_engine_lookup (f->alarms, level[0]), &info));
  g_assert_cmpint (info.state, ==, KANKYO_ALARM_STATE_SHELVED);
  g_assert_cmpstr (info.shelved_by, ==, "alice");
  g_assert_cmpstr (info.shelve_reason, ==, "sensor swap");
  g_assert_cmpint (info.shelved_until, >, g_get_real_time ());
  kankyo_alarm_info_clear (&info);
  took = wait_state (f, "panel.level.high", KANKYO_ALARM_STATE_UNACK, 3000);
  g_test_message ("a 1 s shelve ended after %.0f ms", took / 1000.0);
  g_assert_cmpint (took, >=, 0);
  g_assert_cmpint (took, <=, 2000 * 1000);

  g_assert_cmpuint (count_records (f, "panel.level.high", KANKYO_ALARM_EVENT_SHELVE, start, &last), ==, 1);
  g_assert_cmpstr (last.user, ==, "alice");
  g_assert_cmpstr (last.reason, ==, "sensor swap");
  g_assert_cmpint (last.state, ==, KANKYO_ALARM_STATE_SHELVED);
  g_assert_cmpuint (count_records (f, "panel.level.high", KANKYO_ALARM_EVENT_SHELVE_EXPIRED, start, &last),
                    ==, 1);
  g_assert_null (last.user);
  g_assert_cmpstr (last.reason, ==, "sensor swap");
  g_assert_cmpint (last.state, ==, KANKYO_ALARM_STATE_UNACK);
  audit = audit_records (f, "alarm.shelve", "panel.level.high");
  g_assert_cmpuint (audit->len, ==, 3);
  r = g_ptr_array_index (audit, 2);
  g_assert_cmpstr (r->actor, ==, "alice");
  g_assert_cmpstr (r->reason, ==, "sensor swap");
  g_assert_cmpstr (r->result, ==, "ok");
  g_assert_cmpstr (r->old_value, ==, "unacknowledged");
  g_assert_true (g_str_has_prefix (r->new_value, "shelved until "));
  g_clear_pointer (&audit, g_ptr_array_unref);
  audit = audit_records (f, "alarm.shelve-expired", "panel.level.high");
  g_assert_cmpuint (audit->len, ==, 1);
  g_clear_pointer (&audit, g_ptr_array_unref);

  /* Returned while shelved, then unshelved by hand: back to normal. */
  g_assert_true (
      act (f, KANKYO_ALARM_ACTION_SHELVE, level, "bob", "drain test", 2 * G_USEC_PER_SEC, NULL, &error));
  g_assert_no_error (error);
  set_value (f, "level", 50);
  settle (4 * POLL_MS);
  {
    gboolean active = TRUE;

    g_assert_cmpint (state_of (f, "panel.level.high", &active), ==, KANKYO_ALARM_STATE_SHELVED);
    g_assert_false (active);
  }
  g_assert_true (act (f, KANKYO_ALARM_ACTION_UNSHELVE, level, "bob", NULL, 0, &n, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, 1);
  g_assert_cmpint (state_of (f, "panel.level.high", NULL), ==, KANKYO_ALARM_STATE_NORMAL);
  audit = audit_records (f, "alarm.unshelve", "panel.level.high");
  g_assert_cmpuint (audit->len, ==, 1);
  r = g_ptr_array_index (audit, 0);
  g_assert_cmpstr (r->actor, ==, "bob");
  g_assert_cmpstr (r->new_value, ==, "normal");
  g_clear_pointer (&audit, g_ptr_array_unref);

  /* A normal alarm can be shelved; a shelved one cannot be again. */
  g_assert_true (
      act (f, KANKYO_ALARM_ACTION_SHELVE, temp, "bob", "heater test", G_USEC_PER_SEC, NULL, &error));
  g_assert_false (act (f, KANKYO_ALARM_ACTION_SHELVE, temp, "bob", "again", G_USEC_PER_SEC, &n, &error));
  g_assert_error (error, KANKYO_ALARM_ENGINE_ERROR, KANKYO_ALARM_ENGINE_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "not in a state to shelve: panel.temp.high"));
  g_assert_cmpuint (n, ==, 0);
  kankyo_alarm_record_clear (&last);
}

/* One acknowledgement for many alarms: the ones that can be acknowledged
 * are, the others are named; each is in the journal and the trail. */
static void
test_ack_many (Fixture *f, gconstpointer data)
{
  const char *const ids[] = { "panel.level.high", "panel.pv.deviation", "panel.fault.state", "panel.flow.low",
                              "panel.temp.high",  "panel.no-such",      "panel.level.high",  NULL };
  const char *const fault[] = { "panel.fault.state", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) audit = NULL;
  g_autoptr (GArray) active = NULL;
  gint64 start = g_get_real_time ();
  KankyoAlarmRecord last = { 0 };
  guint n = 0;

  set_value (f, "level", 90);
  set_value (f, "pv", 70);
  set_value (f, "fault", 1);
  set_value (f, "flow", 5);
  assert_state (f, "panel.level.high", KANKYO_ALARM_STATE_UNACK, 1000);
  assert_state (f, "panel.pv.deviation", KANKYO_ALARM_STATE_UNACK, 1000);
  assert_state (f, "panel.fault.state", KANKYO_ALARM_STATE_UNACK, 1000);
  assert_state (f, "panel.flow.low", KANKYO_ALARM_STATE_UNACK, 1000);
  active = kankyo_alarm_engine_list_active (f->alarms);
  g_assert_cmpuint (active->len, ==, 4);
  /* Medium (the fault) before the low ones. */
  g_assert_cmpstr (g_array_index (active, KankyoAlarmInfo, 0).definition->id, ==, "panel.fault.state");

  g_assert_false (act (f, KANKYO_ALARM_ACTION_ACK, ids, "carol", "seen", 0, &n, &error));
  g_assert_error (error, KANKYO_ALARM_ENGINE_ERROR, KANKYO_ALARM_ENGINE_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "4 of 7 alarms were changed"));
  g_assert_nonnull (strstr (error->message, "panel.no-such"));
  g_assert_nonnull (strstr (error->message, "not in a state to acknowledge: panel.temp.high"));
  g_assert_cmpuint (n, ==, 4);
  g_clear_error (&error);
  for (guint i = 0; i < 4; i++)
    g_assert_cmpint (state_of (f, ids[i], NULL), ==, KANKYO_ALARM_STATE_ACKED);
  g_assert_cmpint (state_of (f, "panel.temp.high", NULL), ==, KANKYO_ALARM_STATE_NORMAL);
  audit = audit_records (f, "alarm.acknowledge", NULL);
  g_assert_cmpuint (audit->len, ==, 4);
  for (guint i = 0; i < audit->len; i++)
    {
      KankyoAuditRecord *r = g_ptr_array_index (audit, i);

      g_assert_cmpstr (r->actor, ==, "carol");
      g_assert_cmpstr (r->reason, ==, "seen");
      g_assert_cmpstr (r->target, ==, ids[i]);
      g_assert_cmpstr (r->old_value, ==, "unacknowledged");
      g_assert_cmpstr (r->new_value, ==, "acknowledged");
    }
  g_assert_cmpuint (count_records (f, NULL, KANKYO_ALARM_EVENT_ACK, start, &last), ==, 4);
  g_assert_cmpstr (last.user, ==, "carol");

  /* The latching fault stays after it clears, until it is reset. */
  set_value (f, "fault", 0);
  assert_state (f, "panel.fault.state", KANKYO_ALARM_STATE_LATCHED, 1000);
  g_assert_true (act (f, KANKYO_ALARM_ACTION_RESET, fault, "carol", NULL, 0, &n, &error));
  g_assert_no_error (error);
  g_assert_cmpint (state_of (f, "panel.fault.state", NULL), ==, KANKYO_ALARM_STATE_NORMAL);
  g_clear_pointer (&audit, g_ptr_array_unref);
  audit = audit_records (f, "alarm.reset", "panel.fault.state");
  g_assert_cmpuint (audit->len, ==, 1);
  kankyo_alarm_record_clear (&last);
}

/* A unit switched off suppresses the flow alarm by design; the setpoint
 * moves the deviation alarm; a pressure that stops rising clears its rate
 * alarm although no new value arrives. */
static void
test_suppressed_by_deviation_rate (Fixture *f, gconstpointer data)
{
  gint64 start = g_get_real_time ();

  set_value (f, "unit_off", 1);
  settle (3 * POLL_MS);
  set_value (f, "flow", 2);
  assert_state (f, "panel.flow.low", KANKYO_ALARM_STATE_SUPPRESSED, 1000);
  settle (3 * POLL_MS);
  g_assert_cmpint (state_of (f, "panel.flow.low", NULL), ==, KANKYO_ALARM_STATE_SUPPRESSED);
  set_value (f, "unit_off", 0);
  assert_state (f, "panel.flow.low", KANKYO_ALARM_STATE_UNACK, 1000);
  /* Activated while suppressed: recorded, but not as an annunciation. */
  g_assert_cmpuint (count_records (f, "panel.flow.low", KANKYO_ALARM_EVENT_ACTIVATE, start, NULL), ==, 1);

  set_value (f, "pv", 58);
  assert_state (f, "panel.pv.deviation", KANKYO_ALARM_STATE_UNACK, 1000);
  set_value (f, "sp", 57);
  assert_state (f, "panel.pv.deviation", KANKYO_ALARM_STATE_RTN_UNACK, 1000);

  for (guint i = 1; i <= 10; i++)
    {
      set_value (f, "pressure", 3.0 * i);
      settle (POLL_MS + 20);
    }
  assert_state (f, "panel.pressure.rate", KANKYO_ALARM_STATE_UNACK, 500);
  assert_state (f, "panel.pressure.rate", KANKYO_ALARM_STATE_RTN_UNACK, 3000);
}

/* The HVAC device types' default alarms, on the demo suite's devices. */
static void
test_hvac_defaults (void)
{
  static const struct
  {
    const char *id;
    KankyoAlarmPriority priority;
    double limit;
    gint64 on_delay_s;
  } expected[] = {
    { "dp1.pressure_a.low", KANKYO_ALARM_PRIORITY_HIGH, 5, 60 },
    { "dp1.pressure_b.low", KANKYO_ALARM_PRIORITY_HIGH, 5, 60 },
    { "th1.temperature.high", KANKYO_ALARM_PRIORITY_LOW, 22, 60 },
    { "th1.temperature.low-low", KANKYO_ALARM_PRIORITY_MEDIUM, 19, 60 },
    { "th1.humidity.high-high", KANKYO_ALARM_PRIORITY_MEDIUM, 55, 60 },
    { "pc1.count_0_5um.high", KANKYO_ALARM_PRIORITY_LOW, 69.5, 0 },
    { "pc1.count_0_5um.high-high", KANKYO_ALARM_PRIORITY_HIGH, 99.5, 0 },
    { "pc1.device_error.state", KANKYO_ALARM_PRIORITY_MEDIUM, 1, 10 },
    { "pc2.count_0_5um.high", KANKYO_ALARM_PRIORITY_LOW, 6973, 0 },
    { "ahu1.airflow.low", KANKYO_ALARM_PRIORITY_MEDIUM, 5000, 60 },
    { "ahu1.filter_dp.high", KANKYO_ALARM_PRIORITY_LOW, 240, 300 },
    { "ahu1.filter_dp.high-high", KANKYO_ALARM_PRIORITY_MEDIUM, 300, 300 },
    { "ahu1.supply_temp.deviation", KANKYO_ALARM_PRIORITY_LOW, 2, 600 },
    { "ahu1.comm-fail", KANKYO_ALARM_PRIORITY_HIGH, 0, 10 },
  };
  const char *text
      = "project: Suite\n"
        "areas:\n"
        "  - name: suite\n"
        "    devices:\n"
        "      - {name: ahu1, type: hvac.ahu, endpoint: simulated}\n"
        "      - {name: th1, type: hvac.thrh, endpoint: simulated, simulation: {room: fill}}\n"
        "      - name: dp1\n"
        "        type: hvac.dp\n"
        "        endpoint: simulated\n"
        "        simulation: {a: [fill, corridor], b: [fill, outside]}\n"
        "      - {name: pc1, type: hvac.particle, endpoint: simulated, simulation: {room: fill}}\n"
        "      - name: pc2\n"
        "        type: hvac.particle\n"
        "        endpoint: simulated\n"
        "        simulation: {room: corridor}\n"
        "        alarms:\n"
        "          count_0_5um: {high: 6973, high-high: 9961.5, deadband: 700}\n"
        "          device_error: off\n";
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = g_bytes_new_static (text, strlen (text));
  g_autoptr (KankyoEngine) engine = NULL;
  g_autoptr (GArray) active = NULL;
  g_autofree char *dir = g_dir_make_tmp ("kankyo-alarm-hvac-XXXXXX", &error);
  KankyoProject *project;
  KankyoAlarmEngine *alarms;
  const KankyoAlarmDefinition *def;

  g_assert_no_error (error);
  project = kankyo_project_load_from_bytes (bytes, "suite.yaml", NULL, &error);
  g_assert_no_error (error);
  engine = kankyo_engine_new (project, dir, &error);
  g_assert_no_error (error);
  g_assert_true (kankyo_engine_start (engine, &error));
  g_assert_no_error (error);
  alarms = kankyo_engine_get_alarms (engine);

  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      gint index = kankyo_alarm_engine_lookup (alarms, expected[i].id);

      if (index < 0)
        g_error ("no alarm %s", expected[i].id);
      def = kankyo_alarm_engine_get_definition (alarms, (guint) index);
      g_assert_cmpint (def->priority, ==, expected[i].priority);
      g_assert_cmpfloat (def->condition.limit, ==, expected[i].limit);
      g_assert_cmpint (def->condition.on_delay, ==, expected[i].on_delay_s * G_USEC_PER_SEC);
      g_assert_cmpstr (def->area, ==, "suite");
      /* The project's alarms replace the type's whole, guidance too. */
      if (g_str_has_prefix (def->id, "pc2."))
        g_assert_null (def->guidance);
      else
        g_assert_nonnull (def->guidance);
    }
  g_assert_cmpint (kankyo_alarm_engine_lookup (alarms, "pc2.device_error.state"), ==, -1);
  def = kankyo_alarm_engine_get_definition (alarms, kankyo_alarm_engine_lookup (alarms, "ahu1.airflow.low"));
  g_assert_cmpstr (def->suppressed_by, ==, "ahu1.mode");
  g_assert_cmpfloat (def->suppressed_value, ==, 0);
  def = kankyo_alarm_engine_get_definition (
      alarms, kankyo_alarm_engine_lookup (alarms, "ahu1.supply_temp.deviation"));
  g_assert_cmpstr (def->setpoint_tag, ==, "ahu1.supply_temp_setpoint");

  /* The suite in steady operation alarms nowhere. */
  for (guint i = 0; i < 30; i++)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (100000);
    }
  active = kankyo_alarm_engine_list_active (alarms);
  for (guint i = 0; i < active->len; i++)
    g_test_message ("active: %s (%s)", g_array_index (active, KankyoAlarmInfo, i).definition->id,
                    kankyo_alarm_state_to_string (g_array_index (active, KankyoAlarmInfo, i).state));
  g_assert_cmpuint (active->len, ==, 0);
  kankyo_engine_stop (engine);
  g_clear_object (&engine);
  remove_dir (dir);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/alarm-engine/definitions", Fixture, NULL, fixture_setup, test_definitions, fixture_teardown);
  g_test_add ("/alarm-engine/chatter", Fixture, NULL, fixture_setup, test_chatter, fixture_teardown);
  g_test_add ("/alarm-engine/delays", Fixture, NULL, fixture_setup, test_delays, fixture_teardown);
  g_test_add ("/alarm-engine/comm-fail", Fixture, NULL, fixture_setup, test_comm_fail, fixture_teardown);
  g_test_add ("/alarm-engine/shelve", Fixture, NULL, fixture_setup, test_shelve, fixture_teardown);
  g_test_add ("/alarm-engine/ack-many", Fixture, NULL, fixture_setup, test_ack_many, fixture_teardown);
  g_test_add ("/alarm-engine/suppressed-by-deviation-rate", Fixture, NULL, fixture_setup,
              test_suppressed_by_deviation_rate, fixture_teardown);
  g_test_add_func ("/alarm-engine/hvac-defaults", test_hvac_defaults);
  return g_test_run ();
}
