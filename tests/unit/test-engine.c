/* test-engine.c: the engine against a simulated device over real Modbus TCP.
 *
 * A kankyo-sim host serves test.thermostat on a free loopback port; the
 * engine polls it from a project file in a temporary folder, exactly as a
 * plant would be polled. The tests pull the server away and bring it back,
 * and drive the one write path through its checks, the device and the audit
 * trail.
 */
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "kankyo-audit.h"
#include "kankyo-engine.h"
#include "kankyo-modules.h"
#include "kankyo-sim-host.h"

#define POLL_MS 200

typedef struct
{
  char *dir;
  KankyoSimHost *sim;
  KankyoEngine *engine;
  KankyoTagStore *store;
  guint sub;
  guint batches;
} Fixture;

static void
on_batch (KankyoTagStore *store, const KankyoTagSample *samples, guint n, gpointer data)
{
  Fixture *f = data;

  f->batches++;
}

static KankyoSimHost *
start_sim (guint16 port, guint16 *ret_port)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (KankyoDeviceType) type = kankyo_modules_get_device_type ("test.thermostat", &error);
  g_autoptr (KankyoDriver) driver = kankyo_modules_get_driver ("modbus", &error);
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (KankyoDeviceMap) map = NULL;
  g_autoptr (GPtrArray) specs = NULL;
  g_autoptr (KankyoSimModel) model = NULL;
  g_autofree char *uri = g_strdup_printf ("tcp://127.0.0.1:%u", port);
  g_autoptr (KankyoEndpoint) ep = kankyo_endpoint_parse (uri, &error);
  g_autofree char *where = NULL;
  KankyoDeviceConfig config = { 0 };
  KankyoSimHost *sim;

  g_assert_no_error (error);
  bytes = kankyo_device_type_get_map (type, NULL);
  map = kankyo_device_map_parse (bytes, "thermostat", &error);
  g_assert_no_error (error);
  config.name = (char *) "sim";
  specs = kankyo_device_map_resolve_tags (map, &config, &error);
  g_assert_no_error (error);
  model = kankyo_device_type_create_model (type, NULL, &error);
  g_assert_no_error (error);
  sim = kankyo_sim_host_new (1.0);
  g_assert_cmpuint (kankyo_sim_host_add (sim, "sim", specs, model, driver, ep, 1, &error), ==, 0);
  g_assert_no_error (error);
  if (!kankyo_sim_host_start (sim, &error))
    {
      kankyo_sim_host_free (sim);
      return NULL;
    }
  where = kankyo_sim_host_get_endpoint (sim, 0);
  *ret_port = (guint16) atoi (strrchr (where, ':') + 1);
  return sim;
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *project_path = NULL;
  g_autofree char *text = NULL;
  KankyoProject *project;
  guint16 port = 0;

  f->dir = g_dir_make_tmp ("kankyo-engine-XXXXXX", &error);
  g_assert_no_error (error);
  f->sim = start_sim (0, &port);
  g_assert_nonnull (f->sim);

  text = g_strdup_printf ("project: Engine test\n"
                          "areas:\n"
                          "  - name: lab\n"
                          "    devices:\n"
                          "      - name: room1\n"
                          "        type: test.thermostat\n"
                          "        endpoint: tcp://127.0.0.1:%u?timeout=150\n"
                          "        poll-period: %dms\n",
                          port, POLL_MS);
  project_path = g_build_filename (f->dir, "plant.yaml", NULL);
  g_assert_true (g_file_set_contents (project_path, text, -1, NULL));
  project = kankyo_project_load (project_path, &error);
  g_assert_no_error (error);
  f->engine = kankyo_engine_new (project, f->dir, &error);
  g_assert_no_error (error);
  f->store = kankyo_engine_get_tag_store (f->engine);
  f->sub = kankyo_tag_store_subscribe (f->store, NULL, on_batch, f, NULL);
  g_assert_true (kankyo_engine_start (f->engine, &error));
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_autoptr (GDir) dir = NULL;
  const char *name;

  kankyo_tag_store_unsubscribe (f->store, f->sub);
  kankyo_engine_stop (f->engine);
  g_clear_object (&f->engine);
  g_clear_pointer (&f->sim, kankyo_sim_host_free);
  dir = g_dir_open (f->dir, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (f->dir, name, NULL);

      g_unlink (path);
    }
  g_rmdir (f->dir);
  g_free (f->dir);
}

static KankyoQuality
quality_of (Fixture *f, const char *tag, double *ret_value, gint64 *ret_source_time)
{
  KankyoTagSample s;
  gint id = kankyo_tag_store_lookup (f->store, tag);
  KankyoQuality q;

  g_assert_cmpint (id, >=, 0);
  kankyo_tag_store_get (f->store, (guint) id, &s);
  q = s.quality;
  if (ret_value != NULL)
    *ret_value = kankyo_value_to_double (&s.value);
  if (ret_source_time != NULL)
    *ret_source_time = s.source_time;
  kankyo_tag_sample_clear (&s);
  return q;
}

/* Iterates the test's own context until @tag has quality @q; returns the
 * microseconds it took, or -1 after @limit_ms. */
static gint64
wait_for_quality (Fixture *f, const char *tag, KankyoQuality q, guint limit_ms)
{
  gint64 start = g_get_monotonic_time ();

  while (g_get_monotonic_time () - start < (gint64) limit_ms * 1000)
    {
      if (quality_of (f, tag, NULL, NULL) == q)
        return g_get_monotonic_time () - start;
      g_main_context_iteration (NULL, FALSE);
      g_usleep (5000);
    }
  return -1;
}

static void
test_poll_good (Fixture *f, gconstpointer data)
{
  double t, sp, rt;

  g_assert_cmpint (wait_for_quality (f, "room1.temperature", KANKYO_QUALITY_GOOD, 3000), >=, 0);
  g_assert_cmpint (quality_of (f, "room1.temperature", &t, NULL), ==, KANKYO_QUALITY_GOOD);
  g_assert_cmpint (quality_of (f, "room1.setpoint", &sp, NULL), ==, KANKYO_QUALITY_GOOD);
  g_assert_cmpint (quality_of (f, "room1.run_time", &rt, NULL), ==, KANKYO_QUALITY_GOOD);
  /* Values match what the simulator holds, through CDAB floats and x0.1. */
  g_assert_cmpfloat_with_epsilon (t, kankyo_sim_host_get_value (f->sim, 0, "temperature"), 0.5);
  g_assert_cmpfloat (sp, ==, 22.0);
  g_assert_cmpint (wait_for_quality (f, "room1._online", KANKYO_QUALITY_GOOD, 1000), >=, 0);
  /* The subscriber hears of it on this thread's context. */
  for (guint i = 0; i < 200 && f->batches == 0; i++)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (5000);
    }
  g_assert_cmpuint (f->batches, >, 0);
}

static void
test_comm_loss (Fixture *f, gconstpointer data)
{
  KankyoServerFaults drop = { .drop = TRUE };
  KankyoServerFaults none = { 0 };
  double before, during;
  gint64 t_good, t_lost, t_back, src_before, src_during;

  g_assert_cmpint (wait_for_quality (f, "room1.setpoint", KANKYO_QUALITY_GOOD, 3000), >=, 0);
  quality_of (f, "room1.setpoint", &before, &src_before);

  kankyo_sim_host_set_server_faults (f->sim, 0, &drop);
  t_lost = wait_for_quality (f, "room1.setpoint", KANKYO_QUALITY_BAD_COMMUNICATION_ERROR, 5000);
  g_test_message ("Bad_CommunicationError after %.0f ms (poll period %d ms)", t_lost / 1000.0, POLL_MS);
  g_assert_cmpint (t_lost, >=, 0);
  g_assert_cmpint (t_lost, <=, 2 * POLL_MS * 1000);
  /* The last value stays, with the time it was last true. */
  quality_of (f, "room1.setpoint", &during, &src_during);
  g_assert_cmpfloat (during, ==, before);
  g_assert_cmpint (src_during, <=, g_get_real_time () - t_lost / 2);
  g_usleep (3 * POLL_MS * 1000);
  g_assert_cmpint (quality_of (f, "room1._online", &during, NULL), ==, KANKYO_QUALITY_GOOD);
  g_assert_cmpfloat (during, ==, 0.0);

  kankyo_sim_host_set_server_faults (f->sim, 0, &none);
  t_back = wait_for_quality (f, "room1.setpoint", KANKYO_QUALITY_GOOD, 5000);
  g_test_message ("Good again after %.0f ms", t_back / 1000.0);
  g_assert_cmpint (t_back, >=, 0);
  g_assert_cmpint (t_back, <=, 2 * POLL_MS * 1000);
  t_good = wait_for_quality (f, "room1._online", KANKYO_QUALITY_GOOD, 100);
  g_assert_cmpint (t_good, >=, 0);
}

/* Every poll of a changing value is recorded, with the same values the
 * tag store showed; a device pulled away leaves a Bad sample where the gap
 * begins and Good samples after it comes back; nothing is lost at stop. */
static void
test_history (Fixture *f, gconstpointer data)
{
  KankyoServerFaults drop = { .drop = TRUE };
  KankyoServerFaults none = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) raw = NULL;
  KankyoHistorian *historian = kankyo_engine_get_historian (f->engine);
  gint64 start = g_get_real_time ();
  guint id, n_good_before = 0, n_bad = 0, n_good_after = 0;
  double sp;

  g_assert_nonnull (historian);
  g_assert_true (g_str_has_prefix (kankyo_historian_get_path (historian), f->dir));
  id = kankyo_historian_lookup (historian, "room1.setpoint");
  g_assert_cmpuint (id, !=, 0);
  /* Strings are not recorded. */
  g_assert_cmpuint (kankyo_historian_lookup (historian, "room1._last_error"), ==, 0);

  g_assert_cmpint (wait_for_quality (f, "room1.setpoint", KANKYO_QUALITY_GOOD, 3000), >=, 0);
  quality_of (f, "room1.setpoint", &sp, NULL);
  kankyo_sim_host_set_server_faults (f->sim, 0, &drop);
  g_assert_cmpint (wait_for_quality (f, "room1.setpoint", KANKYO_QUALITY_BAD_COMMUNICATION_ERROR, 5000), >=,
                   0);
  g_usleep (2 * POLL_MS * 1000);
  kankyo_sim_host_set_server_faults (f->sim, 0, &none);
  g_assert_cmpint (wait_for_quality (f, "room1.setpoint", KANKYO_QUALITY_GOOD, 5000), >=, 0);

  g_assert_true (kankyo_historian_flush (historian, &error));
  g_assert_no_error (error);
  raw = kankyo_historian_read_raw (historian, id, start - G_USEC_PER_SEC, g_get_real_time () + 1, FALSE,
                                   &error);
  g_assert_no_error (error);
  for (guint i = 0; i < raw->len; i++)
    {
      const KankyoHistorianSample *s = &g_array_index (raw, KankyoHistorianSample, i);

      if (i > 0)
        g_assert_cmpint (s->time, >=, g_array_index (raw, KankyoHistorianSample, i - 1).time);
      if (kankyo_quality_is_good (s->quality))
        {
          g_assert_cmpfloat (s->value, ==, sp);
          if (n_bad == 0)
            n_good_before++;
          else
            n_good_after++;
        }
      else
        {
          g_assert_cmpint (s->quality, ==, KANKYO_QUALITY_BAD_COMMUNICATION_ERROR);
          g_assert_true (isnan (s->value));
          g_assert_cmpuint (n_good_after, ==, 0);
          n_bad++;
        }
    }
  /* A steady setpoint is stored once, then on its heartbeat; the gap once. */
  g_assert_cmpuint (n_good_before, >=, 1);
  g_assert_cmpuint (n_bad, ==, 1);
  g_assert_cmpuint (n_good_after, ==, 1);
}

typedef struct
{
  gboolean done;
  gboolean ok;
  KankyoValue readback;
  GError *error;
  GThread *thread;
} WriteResult;

static void
write_cb (GObject *source, GAsyncResult *res, gpointer data)
{
  WriteResult *r = data;

  r->ok = kankyo_engine_write_finish (KANKYO_ENGINE (source), res, &r->readback, &r->error);
  r->thread = g_thread_self ();
  r->done = TRUE;
}

static void
do_write (
    Fixture *f, const char *tag, const char *value, const char *actor, const char *reason, WriteResult *r)
{
  gint64 start = g_get_monotonic_time ();

  memset (r, 0, sizeof *r);
  kankyo_engine_write_async (f->engine, tag, value, actor, reason, NULL, write_cb, r);
  while (!r->done && g_get_monotonic_time () - start < 10 * G_USEC_PER_SEC)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (r->done);
  g_assert_true (r->thread == g_thread_self ());
}

static void
write_result_clear (WriteResult *r)
{
  kankyo_value_clear (&r->readback);
  g_clear_error (&r->error);
}

static GPtrArray *
audit_records (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (KankyoAudit) audit
      = kankyo_audit_open_readonly (kankyo_engine_get_audit_path (f->engine), &error);
  GPtrArray *records;

  g_assert_no_error (error);
  records = kankyo_audit_list (audit, 0, 1000, &error);
  g_assert_no_error (error);
  return records;
}

static void
test_write_path (Fixture *f, gconstpointer data)
{
  WriteResult r;
  g_autoptr (GPtrArray) records = NULL;
  KankyoAuditRecord *req, *res;

  g_assert_cmpint (wait_for_quality (f, "room1.setpoint", KANKYO_QUALITY_GOOD, 3000), >=, 0);

  do_write (f, "room1.setpoint", "27.5", "alice", "raise for drying", &r);
  g_assert_no_error (r.error);
  g_assert_true (r.ok);
  g_assert_cmpfloat (kankyo_value_to_double (&r.readback), ==, 27.5);
  write_result_clear (&r);
  /* The device itself has the new setpoint. */
  g_assert_cmpfloat (kankyo_sim_host_get_value (f->sim, 0, "setpoint"), ==, 27.5);

  do_write (f, "room1.heater_command", "on", "alice", "manual test", &r);
  g_assert_true (r.ok);
  g_assert_cmpfloat (kankyo_sim_host_get_value (f->sim, 0, "heater_command"), ==, 1.0);
  write_result_clear (&r);

  do_write (f, "room1.high_limit", "45.25", "alice", "limit", &r);
  g_assert_true (r.ok);
  g_assert_cmpfloat (kankyo_sim_host_get_value (f->sim, 0, "high_limit"), ==, 45.25);
  write_result_clear (&r);

  records = audit_records (f);
  g_assert_cmpuint (records->len, ==, 6);
  req = g_ptr_array_index (records, 0);
  res = g_ptr_array_index (records, 1);
  g_assert_cmpstr (req->actor, ==, "alice");
  g_assert_cmpstr (req->action, ==, "write.request");
  g_assert_cmpstr (req->target, ==, "room1.setpoint");
  g_assert_cmpstr (req->old_value, ==, "22");
  g_assert_cmpstr (req->new_value, ==, "27.5");
  g_assert_cmpstr (req->reason, ==, "raise for drying");
  g_assert_cmpstr (req->result, ==, "pending");
  g_assert_cmpstr (res->action, ==, "write.result");
  g_assert_cmpstr (res->result, ==, "ok");
  g_assert_cmpstr (res->new_value, ==, "27.5");
  g_assert_cmpint (req->time_us, <=, res->time_us);
}

static void
test_write_refused (Fixture *f, gconstpointer data)
{
  static const struct
  {
    const char *tag;
    const char *value;
    const char *actor;
    const char *reason;
    gboolean engine_domain;
    int code;
    gboolean audited;
  } cases[] = {
    { "room1.setpoint", "99", "bob", "too hot", FALSE, KANKYO_VALUE_ERROR_OUT_OF_RANGE, TRUE },
    { "room1.setpoint", "warm", "bob", "typo", FALSE, KANKYO_VALUE_ERROR_PARSE, TRUE },
    { "room1.temperature", "20", "bob", "read-only", TRUE, KANKYO_ENGINE_ERROR_READ_ONLY, TRUE },
    { "room1.nothing", "1", "bob", "no such tag", TRUE, KANKYO_ENGINE_ERROR_NOT_FOUND, TRUE },
    { "room1.mode", "1.5", "bob", "not whole", FALSE, KANKYO_VALUE_ERROR_PARSE, TRUE },
    { "room1.setpoint", "25", "bob", "", TRUE, KANKYO_ENGINE_ERROR_INVALID, FALSE },
    { "room1.setpoint", "25", "", "who?", TRUE, KANKYO_ENGINE_ERROR_INVALID, FALSE },
    { "room1.setpoint", "25", "bob", "two\nlines", TRUE, KANKYO_ENGINE_ERROR_INVALID, FALSE },
  };
  guint audited = 0;
  g_autoptr (GPtrArray) records = NULL;

  g_assert_cmpint (wait_for_quality (f, "room1.setpoint", KANKYO_QUALITY_GOOD, 3000), >=, 0);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      WriteResult r;

      do_write (f, cases[i].tag, cases[i].value, cases[i].actor, cases[i].reason, &r);
      g_assert_false (r.ok);
      g_assert_nonnull (r.error);
      if (r.error->code != cases[i].code
          || r.error->domain != (cases[i].engine_domain ? KANKYO_ENGINE_ERROR : KANKYO_VALUE_ERROR))
        g_error ("case %u: expected code %d, got %s", i, cases[i].code, r.error->message);
      audited += cases[i].audited;
      write_result_clear (&r);
    }
  /* Nothing reached the device. */
  g_assert_cmpfloat (kankyo_sim_host_get_value (f->sim, 0, "setpoint"), ==, 22.0);
  records = audit_records (f);
  g_assert_cmpuint (records->len, ==, audited);
  for (guint i = 0; i < records->len; i++)
    g_assert_true (
        g_str_has_prefix (((KankyoAuditRecord *) g_ptr_array_index (records, i))->result, "rejected: "));
}

static void
test_write_device_down (Fixture *f, gconstpointer data)
{
  KankyoServerFaults drop = { .drop = TRUE };
  WriteResult r;
  g_autoptr (GPtrArray) records = NULL;
  KankyoAuditRecord *res;

  g_assert_cmpint (wait_for_quality (f, "room1.setpoint", KANKYO_QUALITY_GOOD, 3000), >=, 0);
  kankyo_sim_host_set_server_faults (f->sim, 0, &drop);
  g_assert_cmpint (wait_for_quality (f, "room1.setpoint", KANKYO_QUALITY_BAD_COMMUNICATION_ERROR, 3000), >=,
                   0);
  do_write (f, "room1.setpoint", "24", "carol", "while down", &r);
  g_assert_false (r.ok);
  g_assert_error (r.error, KANKYO_DRIVER_ERROR, KANKYO_DRIVER_ERROR_CONNECT);
  write_result_clear (&r);
  records = audit_records (f);
  g_assert_cmpuint (records->len, ==, 2);
  res = g_ptr_array_index (records, 1);
  g_assert_cmpstr (res->action, ==, "write.result");
  g_assert_true (g_str_has_prefix (res->result, "failed: "));
}

static void
test_audit_intact (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (KankyoAudit) audit = NULL;
  g_autoptr (GPtrArray) findings = NULL;
  gint64 count = 0;

  g_assert_cmpint (wait_for_quality (f, "room1.mode", KANKYO_QUALITY_GOOD, 3000), >=, 0);
  for (guint i = 0; i < 20; i++)
    {
      WriteResult r;
      g_autofree char *v = g_strdup_printf ("%u", i % 3);

      do_write (f, "room1.mode", v, "dave", "cycle modes", &r);
      g_assert_true (r.ok);
      write_result_clear (&r);
    }
  audit = kankyo_audit_open_readonly (kankyo_engine_get_audit_path (f->engine), &error);
  g_assert_no_error (error);
  g_assert_true (kankyo_audit_verify (audit, &findings, &count, &error));
  g_assert_cmpuint (findings->len, ==, 0);
  g_assert_cmpint (count, ==, 40);
}

static void
test_error_domains (void)
{
  g_assert_cmpstr (g_quark_to_string (KANKYO_ENGINE_ERROR), ==, "kankyo-engine-error-quark");
  g_assert_cmpstr (g_quark_to_string (KANKYO_MODULES_ERROR), ==, "kankyo-modules-error-quark");
  g_assert_cmpstr (g_quark_to_string (KANKYO_PROJECT_ERROR), ==, "kankyo-project-error-quark");
  g_assert_cmpstr (g_quark_to_string (KANKYO_AUDIT_ERROR), ==, "kankyo-audit-error-quark");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  kankyo_modules_load ();

  g_test_add_func ("/engine/error-domains", test_error_domains);
#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("/engine/poll/good", test_poll_good);
  ADD ("/engine/poll/comm-loss", test_comm_loss);
  ADD ("/engine/history", test_history);
  ADD ("/engine/write/confirmed", test_write_path);
  ADD ("/engine/write/refused", test_write_refused);
  ADD ("/engine/write/device-down", test_write_device_down);
  ADD ("/engine/write/audit-intact", test_audit_intact);
#undef ADD
  return g_test_run ();
}
