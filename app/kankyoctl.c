/* kankyoctl.c: the headless command line.
 *
 * Runs the same engine the GUI runs, for scripts, services and tests:
 * poll a project and print changes, read or write tags through the one
 * audited write path, check the audit trail, and take history home as CSV
 * or as a PDF trend report. Exit codes are part of the interface (see
 * usage below), so a script can rely on them.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gunixoutputstream.h>
#include <glib-unix.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kankyo-alarm-journal.h"
#include "kankyo-audit.h"
#include "kankyo-engine.h"
#include "kankyo-report.h"

enum
{
  EXIT_OK = 0,
  EXIT_FAILED = 1,      /* the operation failed: device, write, I/O */
  EXIT_USAGE = 2,       /* bad arguments or a project that cannot be used */
  EXIT_BAD_QUALITY = 3, /* read: a tag has no Good value */
  EXIT_TAMPERED = 4,    /* audit verify: the trail was changed */
};

static char *opt_project;
static char *opt_data_dir;

static const GOptionEntry common_entries[]
    = { { "project", 'p', 0, G_OPTION_ARG_FILENAME, &opt_project,
          N_ ("Project file (default: the embedded demo plant)"), N_ ("FILE") },
        { "data-dir", 'd', 0, G_OPTION_ARG_FILENAME, &opt_data_dir,
          N_ ("Folder for the audit trail and other records"), N_ ("DIR") },
        { NULL } };

static KankyoProject *
load_project (GError **error)
{
  if (opt_project != NULL)
    return kankyo_project_load (opt_project, error);
  return kankyo_engine_load_demo_project (error);
}

static KankyoEngine *
make_engine (GError **error)
{
  g_autoptr (KankyoProject) project = load_project (error);
  g_autofree char *data_dir = NULL;

  if (project == NULL)
    return NULL;
  data_dir = opt_data_dir ? g_strdup (opt_data_dir) : kankyo_engine_default_data_dir (project);
  return kankyo_engine_new (g_steal_pointer (&project), data_dir, error);
}

static char *
format_time (gint64 us)
{
  g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (us / G_USEC_PER_SEC);
  g_autoptr (GDateTime) local = NULL;
  g_autofree char *base = NULL;

  if (dt == NULL)
    return g_strdup ("-");
  local = g_date_time_to_local (dt);
  base = g_date_time_format (local, "%Y-%m-%d %H:%M:%S");
  return g_strdup_printf ("%s.%03d", base, (int) ((us % G_USEC_PER_SEC) / 1000));
}

static void
print_sample (KankyoTagStore *store, const KankyoTagSample *s, gboolean with_time)
{
  const KankyoTagSpec *spec = kankyo_tag_store_get_spec (store, s->tag_id);
  g_autofree char *value = kankyo_tag_spec_format_value (spec, &s->value);
  g_autofree char *when = format_time (s->source_time);

  if (s->value.type == KANKYO_VALUE_NONE)
    {
      g_free (value);
      value = g_strdup ("-");
    }
  if (with_time)
    g_print ("%s  ", when);
  g_print ("%s = %s%s%s [%s]", kankyo_tag_store_get_name (store, s->tag_id), value, spec->unit ? " " : "",
           spec->unit ? spec->unit : "", kankyo_quality_to_string (s->quality));
  if (!with_time && s->quality == KANKYO_QUALITY_BAD_COMMUNICATION_ERROR && s->source_time != 0)
    g_print (_ (" last good %s, %.1f s ago"), when,
             (g_get_real_time () - s->source_time) / (double) G_USEC_PER_SEC);
  g_print ("\n");
}

static int
usage_error (GOptionContext *context, const char *message)
{
  g_printerr ("kankyoctl: %s\n", message);
  g_printerr ("%s", _ ("Try 'kankyoctl COMMAND --help'.\n"));
  return EXIT_USAGE;
}

static GOptionContext *
command_context (const char *params, const char *summary, const GOptionEntry *entries)
{
  GOptionContext *context = g_option_context_new (params);

  g_option_context_set_summary (context, summary);
  g_option_context_add_main_entries (context, common_entries, GETTEXT_PACKAGE);
  if (entries != NULL)
    g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  return context;
}

/* ---- run ---- */

static double opt_duration;
static double opt_speed = 1.0;

static gboolean
quit_on_signal (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_CONTINUE;
}

static void
run_print_batch (KankyoTagStore *store, const KankyoTagSample *samples, guint n, gpointer data)
{
  for (guint i = 0; i < n; i++)
    print_sample (store, &samples[i], TRUE);
}

static int
cmd_run (int argc, char **argv)
{
  static const GOptionEntry entries[]
      = { { "duration", 0, 0, G_OPTION_ARG_DOUBLE, &opt_duration,
            N_ ("Stop after this many seconds (default: run until interrupted)"), N_ ("SECONDS") },
          { "speed", 0, 0, G_OPTION_ARG_DOUBLE, &opt_speed, N_ ("Speed factor of simulated devices"),
            N_ ("FACTOR") },
          { NULL } };
  g_autoptr (GOptionContext) context = command_context (
      "", _ ("Poll every device of the project and print each change of value or quality."), entries);
  g_autoptr (GError) error = NULL;
  g_autoptr (KankyoEngine) engine = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  guint sub, sig_int, sig_term, timeout = 0;

  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage_error (context, error->message);
  if (argc > 1)
    return usage_error (context, _ ("run takes no arguments"));
  if (opt_duration < 0 || opt_speed <= 0 || opt_speed > 10000)
    return usage_error (context, _ ("--duration must be 0 or more and --speed between 0 and 10000"));

  engine = make_engine (&error);
  if (engine == NULL)
    {
      g_printerr ("kankyoctl: %s\n", error->message);
      return EXIT_USAGE;
    }
  kankyo_engine_set_sim_speed (engine, opt_speed);
  loop = g_main_loop_new (NULL, FALSE);
  sub = kankyo_tag_store_subscribe (kankyo_engine_get_tag_store (engine), NULL, run_print_batch, NULL, NULL);
  if (!kankyo_engine_start (engine, &error))
    {
      g_printerr ("kankyoctl: %s\n", error->message);
      return EXIT_FAILED;
    }
  sig_int = g_unix_signal_add (SIGINT, quit_on_signal, loop);
  sig_term = g_unix_signal_add (SIGTERM, quit_on_signal, loop);
  if (opt_duration > 0)
    timeout = g_timeout_add ((guint) (opt_duration * 1000), quit_on_signal, loop);
  g_main_loop_run (loop);

  g_source_remove (sig_int);
  g_source_remove (sig_term);
  if (timeout != 0)
    g_source_remove (timeout);
  kankyo_tag_store_unsubscribe (kankyo_engine_get_tag_store (engine), sub);
  kankyo_engine_stop (engine);
  return EXIT_OK;
}

/* ---- read ---- */

static double opt_timeout = 5.0;
static gboolean opt_value_only;

typedef struct
{
  GMainLoop *loop;
  guint *ids;
  guint n;
} ReadWait;

static gboolean
all_arrived (KankyoTagStore *store, const guint *ids, guint n)
{
  for (guint i = 0; i < n; i++)
    {
      KankyoTagSample s;
      gboolean waiting;

      kankyo_tag_store_get (store, ids[i], &s);
      waiting = s.quality == KANKYO_QUALITY_BAD_WAITING_FOR_INITIAL_DATA;
      kankyo_tag_sample_clear (&s);
      if (waiting)
        return FALSE;
    }
  return TRUE;
}

static void
read_batch (KankyoTagStore *store, const KankyoTagSample *samples, guint n, gpointer data)
{
  ReadWait *wait = data;

  if (all_arrived (store, wait->ids, wait->n))
    g_main_loop_quit (wait->loop);
}

static gboolean
quit_loop_once (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

/* Starts the engine on just the devices of @tags and waits until each tag
 * has its first answer (Good or not) or the timeout passes. */
static KankyoEngine *
engine_for_tags (char **tags, guint n, guint **ret_ids, GError **error)
{
  g_autoptr (KankyoEngine) engine = make_engine (error);
  g_autoptr (GPtrArray) devices = g_ptr_array_new ();
  g_autoptr (GMainLoop) loop = NULL;
  g_autofree guint *ids = g_new0 (guint, MAX (n, 1));
  KankyoTagStore *store;
  ReadWait wait;
  guint sub;

  if (engine == NULL)
    return NULL;
  store = kankyo_engine_get_tag_store (engine);
  for (guint i = 0; i < n; i++)
    {
      gint id = kankyo_tag_store_lookup (store, tags[i]);

      if (id < 0)
        {
          g_set_error (error, KANKYO_ENGINE_ERROR, KANKYO_ENGINE_ERROR_NOT_FOUND,
                       _ ("there is no tag named %s (tags are named DEVICE.TAG)"), tags[i]);
          return NULL;
        }
      ids[i] = (guint) id;
      g_ptr_array_add (devices, (gpointer) kankyo_tag_store_get_device (store, (guint) id));
    }
  g_ptr_array_add (devices, NULL);
  kankyo_engine_set_devices (engine, (const char *const *) devices->pdata);

  loop = g_main_loop_new (NULL, FALSE);
  wait.loop = loop;
  wait.ids = ids;
  wait.n = n;
  sub = kankyo_tag_store_subscribe (store, NULL, read_batch, &wait, NULL);
  if (!kankyo_engine_start (engine, error))
    {
      kankyo_tag_store_unsubscribe (store, sub);
      return NULL;
    }
  if (!all_arrived (store, ids, n))
    {
      g_autoptr (GSource) timeout = g_timeout_source_new ((guint) (opt_timeout * 1000));

      g_source_set_callback (timeout, quit_loop_once, loop, NULL);
      g_source_attach (timeout, NULL);
      g_main_loop_run (loop);
      g_source_destroy (timeout);
    }
  kankyo_tag_store_unsubscribe (store, sub);
  *ret_ids = g_steal_pointer (&ids);
  return g_steal_pointer (&engine);
}

static int
cmd_read (int argc, char **argv)
{
  static const GOptionEntry entries[]
      = { { "timeout", 't', 0, G_OPTION_ARG_DOUBLE, &opt_timeout,
            N_ ("Seconds to wait for the first answer (default 5)"), N_ ("SECONDS") },
          { "value-only", 0, 0, G_OPTION_ARG_NONE, &opt_value_only, N_ ("Print only the values, one a line"),
            NULL },
          { NULL } };
  g_autoptr (GOptionContext) context
      = command_context (_ ("TAG..."), _ ("Read tags once and print value, unit and quality."), entries);
  g_autoptr (GError) error = NULL;
  g_autoptr (KankyoEngine) engine = NULL;
  g_autofree guint *ids = NULL;
  KankyoTagStore *store;
  int status = EXIT_OK;

  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage_error (context, error->message);
  if (argc < 2)
    return usage_error (context, _ ("read needs at least one TAG"));
  if (opt_timeout <= 0 || opt_timeout > 3600)
    return usage_error (context, _ ("--timeout must be between 0 and 3600 seconds"));

  engine = engine_for_tags (argv + 1, (guint) argc - 1, &ids, &error);
  if (engine == NULL)
    {
      g_printerr ("kankyoctl: %s\n", error->message);
      return g_error_matches (error, KANKYO_ENGINE_ERROR, KANKYO_ENGINE_ERROR_NOT_FOUND)
                     || error->domain == KANKYO_PROJECT_ERROR
                 ? EXIT_USAGE
                 : EXIT_FAILED;
    }
  store = kankyo_engine_get_tag_store (engine);
  for (int i = 0; i < argc - 1; i++)
    {
      KankyoTagSample s;

      kankyo_tag_store_get (store, ids[i], &s);
      if (opt_value_only)
        {
          g_autofree char *text
              = kankyo_tag_spec_format_value (kankyo_tag_store_get_spec (store, ids[i]), &s.value);

          g_print ("%s\n", kankyo_quality_is_good (s.quality) ? text : "");
        }
      else
        print_sample (store, &s, FALSE);
      if (!kankyo_quality_is_good (s.quality))
        status = EXIT_BAD_QUALITY;
      kankyo_tag_sample_clear (&s);
    }
  kankyo_engine_stop (engine);
  return status;
}

/* ---- write ---- */

static char *opt_reason;
static char *opt_user;

typedef struct
{
  GMainLoop *loop;
  gboolean ok;
  KankyoValue readback;
  GError *error;
} WriteWait;

static void
write_done (GObject *source, GAsyncResult *result, gpointer data)
{
  WriteWait *wait = data;

  wait->ok = kankyo_engine_write_finish (KANKYO_ENGINE (source), result, &wait->readback, &wait->error);
  g_main_loop_quit (wait->loop);
}

static int
cmd_write (int argc, char **argv)
{
  static const GOptionEntry entries[]
      = { { "reason", 'r', 0, G_OPTION_ARG_STRING, &opt_reason,
            N_ ("Why the value is changed (required; kept in the audit trail)"), N_ ("TEXT") },
          { "user", 'u', 0, G_OPTION_ARG_STRING, &opt_user, N_ ("Who changes it (default: the login name)"),
            N_ ("NAME") },
          { "timeout", 't', 0, G_OPTION_ARG_DOUBLE, &opt_timeout,
            N_ ("Seconds to wait for the device's first answer (default 5)"), N_ ("SECONDS") },
          { NULL } };
  g_autoptr (GOptionContext) context = command_context (
      _ ("TAG VALUE"), _ ("Write a value through the audited write path and confirm it by read-back."),
      entries);
  g_autoptr (GError) error = NULL;
  g_autoptr (KankyoEngine) engine = NULL;
  g_autofree guint *ids = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  WriteWait wait = { 0 };
  const KankyoTagSpec *spec;
  g_autofree char *text = NULL;
  char *negative = NULL;
  int status;

  /* "-5.5" is a value, not an option: set negative numbers aside before
   * GOption sees them, and accept an explicit "--" as well. */
  for (int i = 1; i < argc; i++)
    if (argv[i][0] == '-' && (g_ascii_isdigit (argv[i][1]) || argv[i][1] == '.') && negative == NULL)
      {
        negative = argv[i];
        memmove (argv + i, argv + i + 1, sizeof (char *) * (size_t) (argc - i));
        argc--;
        break;
      }
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage_error (context, error->message);
  for (int i = 1; i < argc; i++)
    if (g_str_equal (argv[i], "--"))
      {
        memmove (argv + i, argv + i + 1, sizeof (char *) * (size_t) (argc - i));
        argc--;
        break;
      }
  if (negative != NULL && argc == 2)
    argv[argc++] = negative;
  if (argc != 3)
    return usage_error (context, _ ("write needs a TAG and a VALUE"));
  if (opt_reason == NULL || *opt_reason == '\0')
    return usage_error (context, _ ("write needs --reason: every change is recorded with why it was made"));
  if (opt_timeout <= 0 || opt_timeout > 3600)
    return usage_error (context, _ ("--timeout must be between 0 and 3600 seconds"));

  engine = engine_for_tags (argv + 1, 1, &ids, &error);
  if (engine == NULL)
    {
      g_printerr ("kankyoctl: %s\n", error->message);
      return g_error_matches (error, KANKYO_ENGINE_ERROR, KANKYO_ENGINE_ERROR_NOT_FOUND)
                     || error->domain == KANKYO_PROJECT_ERROR
                 ? EXIT_USAGE
                 : EXIT_FAILED;
    }

  loop = g_main_loop_new (NULL, FALSE);
  wait.loop = loop;
  kankyo_engine_write_async (engine, argv[1], argv[2], opt_user ? opt_user : g_get_user_name (), opt_reason,
                             NULL, write_done, &wait);
  g_main_loop_run (loop);

  spec = kankyo_tag_store_get_spec (kankyo_engine_get_tag_store (engine), ids[0]);
  if (wait.ok)
    {
      text = kankyo_tag_spec_format_value (spec, &wait.readback);
      g_print (_ ("%s = %s%s%s (confirmed by read-back)\n"), argv[1], text, spec->unit ? " " : "",
               spec->unit ? spec->unit : "");
      status = EXIT_OK;
    }
  else
    {
      g_printerr ("kankyoctl: %s\n", wait.error->message);
      status = wait.error->domain == KANKYO_ENGINE_ERROR
                       && (wait.error->code == KANKYO_ENGINE_ERROR_INVALID
                           || wait.error->code == KANKYO_ENGINE_ERROR_READ_ONLY
                           || wait.error->code == KANKYO_ENGINE_ERROR_NOT_FOUND)
                   ? EXIT_USAGE
               : (wait.error->domain == KANKYO_VALUE_ERROR) ? EXIT_USAGE
                                                            : EXIT_FAILED;
    }
  kankyo_value_clear (&wait.readback);
  g_clear_error (&wait.error);
  kankyo_engine_stop (engine);
  return status;
}

/* ---- audit ---- */

static char *opt_db;
static int opt_limit = 100;

static char *
audit_path (GError **error)
{
  g_autoptr (KankyoProject) project = NULL;
  g_autofree char *dir = NULL;

  if (opt_db != NULL)
    return g_strdup (opt_db);
  if (opt_data_dir != NULL)
    return g_build_filename (opt_data_dir, "audit.db", NULL);
  project = load_project (error);
  if (project == NULL)
    return NULL;
  dir = kankyo_engine_default_data_dir (project);
  return g_build_filename (dir, "audit.db", NULL);
}

static int
cmd_audit (int argc, char **argv)
{
  static const GOptionEntry entries[]
      = { { "db", 0, 0, G_OPTION_ARG_FILENAME, &opt_db, N_ ("Audit database (default: the project's)"),
            N_ ("FILE") },
          { "limit", 'n', 0, G_OPTION_ARG_INT, &opt_limit,
            N_ ("list: show at most this many of the newest records (default 100)"), N_ ("N") },
          { NULL } };
  g_autoptr (GOptionContext) context
      = command_context (_ ("verify|list"),
                         _ ("verify: check that no audit record was edited, deleted or reordered.\n"
                            "list: print the newest audit records."),
                         entries);
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;
  g_autoptr (KankyoAudit) audit = NULL;

  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage_error (context, error->message);
  if (argc != 2 || (!g_str_equal (argv[1], "verify") && !g_str_equal (argv[1], "list")))
    return usage_error (context, _ ("audit needs 'verify' or 'list'"));
  if (opt_limit < 1 || opt_limit > 1000000)
    return usage_error (context, _ ("--limit must be between 1 and 1000000"));

  path = audit_path (&error);
  if (path == NULL)
    {
      g_printerr ("kankyoctl: %s\n", error->message);
      return EXIT_USAGE;
    }
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_printerr (_ ("kankyoctl: there is no audit trail at %s\n"), path);
      return EXIT_FAILED;
    }
  audit = kankyo_audit_open_readonly (path, &error);
  if (audit == NULL)
    {
      g_printerr ("kankyoctl: %s\n", error->message);
      return EXIT_FAILED;
    }

  if (g_str_equal (argv[1], "verify"))
    {
      g_autoptr (GPtrArray) findings = NULL;
      g_autofree char *count_text = NULL;
      gint64 count = 0;

      if (!kankyo_audit_verify (audit, &findings, &count, &error))
        {
          g_printerr ("kankyoctl: %s\n", error->message);
          return EXIT_FAILED;
        }
      /* The count is formatted apart: a 64-bit format macro inside a
       * translatable string cuts the message short for xgettext. */
      count_text = g_strdup_printf ("%" G_GINT64_FORMAT, count);
      if (findings->len == 0)
        {
          g_print (_ ("%s: audit trail intact, %s records\n"), path, count_text);
          return EXIT_OK;
        }
      for (guint i = 0; i < findings->len; i++)
        {
          KankyoAuditFinding *f = g_ptr_array_index (findings, i);

          g_print ("%s: %s\n", kankyo_audit_finding_kind_to_string (f->kind), f->message);
        }
      g_print (_ ("%s: audit trail TAMPERED: %u findings in %s records\n"), path, findings->len, count_text);
      return EXIT_TAMPERED;
    }
  else
    {
      g_autoptr (GPtrArray) all = kankyo_audit_list (audit, 0, G_MAXUINT, &error);

      if (all == NULL)
        {
          g_printerr ("kankyoctl: %s\n", error->message);
          return EXIT_FAILED;
        }
      for (guint i = all->len > (guint) opt_limit ? all->len - (guint) opt_limit : 0; i < all->len; i++)
        {
          KankyoAuditRecord *r = g_ptr_array_index (all, i);
          g_autofree char *when = format_time (r->time_us);

          g_print ("%" G_GINT64_FORMAT "  %s  %s  %s  %s", r->seq, when, r->actor, r->action,
                   r->target ? r->target : "-");
          if (r->old_value != NULL || r->new_value != NULL)
            g_print ("  %s -> %s", r->old_value ? r->old_value : "-", r->new_value ? r->new_value : "-");
          if (r->result != NULL)
            g_print ("  [%s]", r->result);
          if (r->reason != NULL)
            g_print ("  \"%s\"", r->reason);
          g_print ("\n");
        }
      return EXIT_OK;
    }
}

/* ---- export and report ---- */

/* Bounds of what the command line accepts; the library checks again. */
#define MAX_EXPORT_TAGS KANKYO_REPORT_MAX_TAGS
#define MAX_AMOUNT_DIGITS 9
#define MIN_BIN_SECONDS 1
#define MAX_BIN_US (G_GINT64_CONSTANT (3660) * 24 * 3600 * G_USEC_PER_SEC)
/* 9999-12-31T23:59:59Z */
#define MAX_TIME_US (G_GINT64_CONSTANT (253402300799) * G_USEC_PER_SEC)

static char *opt_tags;
static char *opt_from;
static char *opt_to;
static char *opt_bin;
static gboolean opt_local_time;
static char *opt_output;
static char *opt_title;
static char *opt_author;

/* An amount of time: digits and one of s, m, h, d, w ("90s", "15m", "7d"). */
static gboolean
parse_amount (const char *text, gint64 *ret_us)
{
  static const struct
  {
    char unit;
    gint64 us;
  } units[] = { { 's', G_USEC_PER_SEC },
                { 'm', 60 * G_USEC_PER_SEC },
                { 'h', G_GINT64_CONSTANT (3600) * G_USEC_PER_SEC },
                { 'd', G_GINT64_CONSTANT (86400) * G_USEC_PER_SEC },
                { 'w', G_GINT64_CONSTANT (604800) * G_USEC_PER_SEC } };
  size_t digits = strspn (text, "0123456789");
  g_autofree char *number = NULL;
  guint64 amount;

  if (digits == 0 || digits > MAX_AMOUNT_DIGITS || text[digits] == '\0' || text[digits + 1] != '\0')
    return FALSE;
  number = g_strndup (text, digits);
  if (!g_ascii_string_to_unsigned (number, 10, 0, G_MAXUINT32, &amount, NULL))
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (units); i++)
    if (text[digits] == units[i].unit)
      {
        if (amount > (guint64) (G_MAXINT64 / units[i].us))
          return FALSE;
        *ret_us = (gint64) amount * units[i].us;
        return TRUE;
      }
  return FALSE;
}

/* "now", now minus an amount ("-12h"), or ISO 8601. An ISO time without a
 * zone is the local time of this computer; a date alone is its midnight. */
static gboolean
parse_time (const char *text, gint64 now, gint64 *ret_us)
{
  gint64 t;

  if (g_str_equal (text, "now"))
    t = now;
  else if (text[0] == '-')
    {
      gint64 amount;

      if (!parse_amount (text + 1, &amount))
        return FALSE;
      t = now - amount;
    }
  else
    {
      g_autofree char *iso = NULL;
      g_autoptr (GTimeZone) local = g_time_zone_new_local ();
      g_autoptr (GDateTime) dt = NULL;

      if (strlen (text) > 64)
        return FALSE;
      iso = strlen (text) == 10 ? g_strconcat (text, "T00:00:00", NULL) : g_strdup (text);
      if (strlen (iso) > 10 && iso[10] == ' ')
        iso[10] = 'T';
      /* GLib wants the seconds: 08:00 is 08:00:00. */
      if (strlen (iso) >= 16 && iso[10] == 'T' && iso[13] == ':' && iso[16] != ':' && iso[16] != '.')
        {
          char *with_seconds = g_strdup_printf ("%.16s:00%s", iso, iso + 16);

          g_free (iso);
          iso = with_seconds;
        }
      dt = g_date_time_new_from_iso8601 (iso, local);
      if (dt == NULL)
        return FALSE;
      t = g_date_time_to_unix (dt) * G_USEC_PER_SEC + g_date_time_get_microsecond (dt);
    }
  if (t < 0 || t > MAX_TIME_US)
    return FALSE;
  *ret_us = t;
  return TRUE;
}

static int
bad_time (GOptionContext *context, const char *option, const char *text)
{
  g_autofree char *message
      = g_strdup_printf (_ ("%s: cannot read '%s' as a time; expected ISO 8601 such as 2024-03-01T08:00 "
                            "(local time), 2024-03-01T08:00:00Z or 2024-03-01T08:00+09:00, or now, -30m, "
                            "-12h, -7d (minutes, hours, days before now)"),
                         option, text);

  return usage_error (context, message);
}

/* The parts of export and report that are the same: the period, the tags
 * and the historian. On failure prints why and returns the exit code. */
typedef struct
{
  KankyoHistorian *historian;
  char **tags;
  char *plant;
  KankyoExportRange range;
} ExportSetup;

static void
export_setup_clear (ExportSetup *setup)
{
  kankyo_historian_close (setup->historian);
  g_strfreev (setup->tags);
  g_free (setup->plant);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ExportSetup, export_setup_clear)

static int
export_setup (GOptionContext *context, ExportSetup *setup)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (KankyoProject) project = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  gint64 now = g_get_real_time ();
  guint n;

  if (opt_tags == NULL || *opt_tags == '\0')
    return usage_error (context, _ ("--tags is required: the tags to take, as DEVICE.TAG,DEVICE.TAG,..."));
  setup->tags = g_strsplit (opt_tags, ",", -1);
  n = g_strv_length (setup->tags);
  if (n > MAX_EXPORT_TAGS)
    {
      g_autofree char *message
          = g_strdup_printf (_ ("--tags: at most %d tags can be taken at once"), MAX_EXPORT_TAGS);

      return usage_error (context, message);
    }
  for (guint i = 0; i < n; i++)
    {
      g_strstrip (setup->tags[i]);
      if (*setup->tags[i] == '\0')
        return usage_error (context, _ ("--tags: a tag name is empty; expected DEVICE.TAG,DEVICE.TAG,..."));
    }
  if (opt_from == NULL)
    return usage_error (context, _ ("--from is required: the start of the period"));
  if (!parse_time (opt_from, now, &setup->range.from))
    return bad_time (context, "--from", opt_from);
  if (!parse_time (opt_to ? opt_to : "now", now, &setup->range.to))
    return bad_time (context, "--to", opt_to ? opt_to : "now");
  if (setup->range.from >= setup->range.to)
    {
      g_autofree char *message = g_strdup_printf (_ ("--from must be before --to (%s is not before %s)"),
                                                  opt_from, opt_to ? opt_to : "now");

      return usage_error (context, message);
    }
  setup->range.local_time = opt_local_time;

  project = load_project (&error);
  if (project == NULL)
    {
      g_printerr ("kankyoctl: %s\n", error->message);
      return EXIT_USAGE;
    }
  setup->plant = g_strdup (project->name);
  dir = opt_data_dir ? g_strdup (opt_data_dir) : kankyo_engine_default_data_dir (project);
  path = g_build_filename (dir, "history.db", NULL);
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_printerr (_ ("kankyoctl: there is no history at %s\n"), path);
      return EXIT_FAILED;
    }
  /* Read-only, so an export works while the plant runs and records. */
  setup->historian = kankyo_historian_open_readonly (path, &error);
  if (setup->historian == NULL)
    {
      g_printerr ("kankyoctl: %s\n", error->message);
      return EXIT_FAILED;
    }
  for (guint i = 0; i < n; i++)
    if (kankyo_historian_lookup (setup->historian, setup->tags[i]) == 0)
      {
        g_auto (GStrv) known = kankyo_historian_list_tags (setup->historian);
        g_autofree char *message = NULL;
        g_autoptr (GString) some = g_string_new (NULL);

        for (guint k = 0; known[k] != NULL && k < 20; k++)
          g_string_append_printf (some, "%s%s", k > 0 ? ", " : "", known[k]);
        if (g_strv_length (known) > 20)
          g_string_append (some, ", …");
        message = g_strdup_printf (_ ("--tags: no history is recorded for %s; recorded tags: %s"),
                                   setup->tags[i], some->len > 0 ? some->str : _ ("none"));
        return usage_error (context, message);
      }
  setup->range.tags = (const char *const *) setup->tags;
  return EXIT_OK;
}

/* The export runs on a thread of its own, so that Ctrl+C cancels it and a
 * file being written is removed instead of left half done. */
typedef struct
{
  ExportSetup *setup;
  KankyoReportHeader header;
  gboolean pdf;
  GOutputStream *stdout_stream; /* CSV without -o */
  GMainLoop *loop;
  GCancellable *cancellable;
  gboolean show_progress;
  int last_percent;
  gboolean ok;
  GError *error;
} ExportJob;

static void
export_progress (double fraction, gpointer data)
{
  ExportJob *job = data;
  int percent = (int) (fraction * 100);

  if (job->show_progress && percent != job->last_percent)
    {
      job->last_percent = percent;
      g_printerr ("\r%3d %%", percent);
    }
}

static gboolean
cancel_on_signal (gpointer cancellable)
{
  g_cancellable_cancel (cancellable);
  return G_SOURCE_CONTINUE;
}

static gboolean
export_done (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

static gpointer
export_thread (gpointer data)
{
  ExportJob *job = data;
  KankyoHistorian *historian = job->setup->historian;
  const KankyoExportRange *range = &job->setup->range;

  if (job->pdf)
    job->ok = kankyo_report_write_pdf (historian, range, &job->header, opt_output, export_progress, job,
                                       job->cancellable, &job->error);
  else if (job->stdout_stream != NULL)
    job->ok = kankyo_report_write_csv (historian, range, job->stdout_stream, export_progress, job,
                                       job->cancellable, &job->error);
  else
    job->ok = kankyo_report_write_csv_file (historian, range, opt_output, export_progress, job,
                                            job->cancellable, &job->error);
  g_idle_add (export_done, job->loop);
  return NULL;
}

static int
run_export (ExportJob *job)
{
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  GThread *thread;
  guint sig_int, sig_term;
  int status = EXIT_OK;

  job->loop = loop;
  job->cancellable = cancellable;
  job->last_percent = -1;
  job->show_progress = isatty (STDERR_FILENO) && (job->pdf || opt_output != NULL);
  sig_int = g_unix_signal_add (SIGINT, cancel_on_signal, cancellable);
  sig_term = g_unix_signal_add (SIGTERM, cancel_on_signal, cancellable);
  thread = g_thread_new ("export", export_thread, job);
  g_main_loop_run (loop);
  g_thread_join (thread);
  g_source_remove (sig_int);
  g_source_remove (sig_term);
  if (job->show_progress)
    g_printerr ("\n");

  if (!job->ok)
    {
      if (g_error_matches (job->error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_printerr ("%s", opt_output != NULL ? _ ("kankyoctl: cancelled; nothing was written\n")
                                             : _ ("kankyoctl: cancelled\n"));
      else
        g_printerr ("kankyoctl: %s\n", job->error->message);
      status = g_error_matches (job->error, KANKYO_REPORT_ERROR, KANKYO_REPORT_ERROR_INVALID) ? EXIT_USAGE
                                                                                              : EXIT_FAILED;
      g_clear_error (&job->error);
    }
  return status;
}

/* A width of bins: "30s", "1m", "15m", "1h", "1d". */
static gboolean
parse_bin (const char *text, gint64 *ret_us)
{
  gint64 us;

  if (!parse_amount (text, &us) || us < MIN_BIN_SECONDS * G_USEC_PER_SEC || us > MAX_BIN_US)
    return FALSE;
  *ret_us = us;
  return TRUE;
}

static const GOptionEntry period_entries[]
    = { { "tags", 0, 0, G_OPTION_ARG_STRING, &opt_tags, N_ ("Tags to take, separated by commas"),
          N_ ("DEVICE.TAG,...") },
        { "from", 0, 0, G_OPTION_ARG_STRING, &opt_from,
          N_ ("Start of the period: ISO 8601 (local time unless a zone is given), now, or -30m, -12h, -7d"),
          N_ ("TIME") },
        { "to", 0, 0, G_OPTION_ARG_STRING, &opt_to, N_ ("End of the period, not included (default: now)"),
          N_ ("TIME") },
        { "local-time", 0, 0, G_OPTION_ARG_NONE, &opt_local_time,
          N_ ("Write times in this computer's time zone, with their offset (default: UTC)"), NULL },
        { "output", 'o', 0, G_OPTION_ARG_FILENAME, &opt_output,
          N_ ("File to write (export: standard output if left out or -)"), N_ ("FILE") },
        { NULL } };

static int
cmd_export (int argc, char **argv)
{
  static const GOptionEntry entries[] = {
    { "bin", 0, 0, G_OPTION_ARG_STRING, &opt_bin,
      N_ ("Min, max, mean and count per bin of this width (30s, 1m, 15m, 1h, 1d) instead of raw samples"),
      N_ ("WIDTH") },
    { NULL }
  };
  g_autoptr (GOptionContext) context = command_context (
      "",
      _ ("Write the history of tags as CSV (RFC 4180, UTF-8, \".\" as decimal point) to a file or to "
         "standard output."),
      entries);
  g_autoptr (GError) error = NULL;
  g_auto (ExportSetup) setup = { 0 };
  g_autoptr (GOutputStream) stdout_stream = NULL;
  ExportJob job = { 0 };
  int status;

  g_option_context_add_main_entries (context, period_entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage_error (context, error->message);
  if (argc > 1)
    return usage_error (context, _ ("export takes no arguments; name the tags with --tags"));
  if (opt_bin != NULL && !parse_bin (opt_bin, &setup.range.bin_us))
    {
      g_autofree char *message = g_strdup_printf (
          _ ("--bin: cannot read '%s' as a bin width; expected a whole number of seconds, minutes, hours or "
             "days from 1s to 3660d, such as 30s, 1m, 15m, 1h, 1d"),
          opt_bin);

      return usage_error (context, message);
    }
  if (opt_output != NULL && *opt_output == '\0')
    return usage_error (context, _ ("--output: the file name is empty"));

  status = export_setup (context, &setup);
  if (status != EXIT_OK)
    return status;
  if (setup.range.bin_us > 0
      && (guint64) ((setup.range.to - setup.range.from - 1) / setup.range.bin_us + 1)
             > KANKYO_REPORT_MAX_CSV_ROWS)
    {
      g_autofree char *max_text = g_strdup_printf ("%" G_GUINT64_FORMAT, KANKYO_REPORT_MAX_CSV_ROWS);
      g_autofree char *message = g_strdup_printf (
          _ ("--bin: bins of %s over this period would make more than %s rows; choose wider bins or a "
             "shorter period"),
          opt_bin, max_text);

      return usage_error (context, message);
    }
  job.setup = &setup;
  if (opt_output == NULL || g_str_equal (opt_output, "-"))
    {
      g_clear_pointer (&opt_output, g_free);
      stdout_stream = g_unix_output_stream_new (STDOUT_FILENO, FALSE);
      job.stdout_stream = stdout_stream;
    }
  return run_export (&job);
}

static int
cmd_report (int argc, char **argv)
{
  static const GOptionEntry entries[]
      = { { "title", 0, 0, G_OPTION_ARG_STRING, &opt_title,
            N_ ("Title of the report (default: Trend report)"), N_ ("TEXT") },
          { "author", 0, 0, G_OPTION_ARG_STRING, &opt_author,
            N_ ("Who makes the report (default: the login name)"), N_ ("NAME") },
          { NULL } };
  g_autoptr (GOptionContext) context = command_context (
      "",
      _ ("Make a PDF trend report: charts of up to four tags a page, then a table of min, max, mean and "
         "count per tag."),
      entries);
  g_autoptr (GError) error = NULL;
  g_auto (ExportSetup) setup = { 0 };
  ExportJob job = { 0 };
  int status;

  g_option_context_add_main_entries (context, period_entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage_error (context, error->message);
  if (argc > 1)
    return usage_error (context, _ ("report takes no arguments; name the tags with --tags"));
  if (opt_output == NULL || *opt_output == '\0' || g_str_equal (opt_output, "-"))
    return usage_error (context, _ ("--output is required: the PDF file to write"));
  if (opt_title != NULL && (strlen (opt_title) > 200 || !g_utf8_validate (opt_title, -1, NULL)))
    return usage_error (context, _ ("--title must be UTF-8 text of at most 200 bytes"));
  if (opt_author != NULL && (strlen (opt_author) > 200 || !g_utf8_validate (opt_author, -1, NULL)))
    return usage_error (context, _ ("--author must be UTF-8 text of at most 200 bytes"));

  status = export_setup (context, &setup);
  if (status != EXIT_OK)
    return status;
  job.setup = &setup;
  job.pdf = TRUE;
  job.header.plant = setup.plant;
  job.header.title = opt_title;
  job.header.author = opt_author ? opt_author : g_get_user_name ();
  return run_export (&job);
}

/* ---- alarms ---- */

static gboolean opt_active;
static char *opt_alarm_tag;
static char *opt_area;
static char *opt_priority;
static char *opt_event;
static char *opt_state;
static gboolean opt_csv;
static gboolean opt_performance;
static char *opt_pdf;

static gboolean
alarm_event_from_string (const char *text, KankyoAlarmEvent *ret_event)
{
  for (int e = KANKYO_ALARM_EVENT_ACTIVATE; e <= KANKYO_ALARM_EVENT_RESET; e++)
    if (g_str_equal (text, kankyo_alarm_event_to_string (e)))
      {
        *ret_event = e;
        return TRUE;
      }
  return FALSE;
}

static gboolean
alarm_state_from_string (const char *text, KankyoAlarmState *ret_state)
{
  for (int s = KANKYO_ALARM_STATE_NORMAL; s <= KANKYO_ALARM_STATE_OUT_OF_SERVICE; s++)
    if (g_str_equal (text, kankyo_alarm_state_to_string (s)))
      {
        *ret_state = s;
        return TRUE;
      }
  return FALSE;
}

/* "a, b or c" of every name @name_of gives from @first to @last. */
static char *
alarm_names (const char *(*name_of) (int), int first, int last)
{
  GString *names = g_string_new (NULL);

  for (int i = first; i <= last; i++)
    g_string_append_printf (names, "%s%s", i == first ? "" : i == last ? _ (" or ") : ", ", name_of (i));
  return g_string_free (names, FALSE);
}

static const char *
event_name (int e)
{
  return kankyo_alarm_event_to_string (e);
}

static const char *
state_name (int s)
{
  return kankyo_alarm_state_to_string (s);
}

static int
bad_alarm_name (GOptionContext *context, const char *option, const char *text, const char *expected)
{
  /* Translators: the option, what was given, then the names it takes. */
  g_autofree char *message
      = g_strdup_printf (_ ("%s: '%s' is not known; expected %s"), option, text, expected);

  return usage_error (context, message);
}

static int
incompatible (GOptionContext *context, const char *option, const char *other)
{
  g_autofree char *message = g_strdup_printf (_ ("%s cannot be combined with %s"), option, other);

  return usage_error (context, message);
}

static char *
format_alarm_value (double value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (isnan (value))
    return g_strdup ("-");
  return g_strdup (g_ascii_formatd (buf, sizeof buf, "%.6g", value));
}

static char *
format_rate (double value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  return g_strdup (g_ascii_formatd (buf, sizeof buf, "%.2f", value));
}

/* @text on one line: a record is one line of the listing, whatever its
 * reason holds. */
static char *
one_line (const char *text)
{
  char *line = g_strdup (text);

  for (char *p = line; *p != '\0'; p++)
    if ((guchar) *p < 0x20 || *p == 0x7f)
      *p = ' ';
  return line;
}

static void
append_record_line (GString *text, const KankyoAlarmRecord *r)
{
  g_autofree char *when = format_time (r->time);
  g_autofree char *value = format_alarm_value (r->value);
  g_autofree char *id = one_line (r->alarm_id);
  g_autofree char *user = one_line (r->user ? r->user : "-");
  g_autofree char *message = one_line (r->message);

  g_string_append_printf (text, "%s  %-10s  %-19s  %-23s  %s  %s  %s  \"%s\"", when,
                          kankyo_alarm_priority_to_string (r->priority),
                          kankyo_alarm_event_to_string (r->event), kankyo_alarm_state_to_string (r->state),
                          id, value, user, message);
  if (r->reason != NULL)
    {
      g_autofree char *reason = one_line (r->reason);

      g_string_append_printf (text, _ ("  reason: \"%s\""), reason);
    }
  g_string_append_c (text, '\n');
}

static void
append_active_line (GString *text, const KankyoAlarmRecord *r)
{
  g_autofree char *when = format_time (r->time);
  g_autofree char *id = one_line (r->alarm_id);
  g_autofree char *area = one_line (*r->area != '\0' ? r->area : "-");
  g_autofree char *message = one_line (r->message);

  g_string_append_printf (text, "%s  %-10s  %-23s  %s  %s  \"%s\"\n", when,
                          kankyo_alarm_priority_to_string (r->priority),
                          kankyo_alarm_state_to_string (r->state), id, area, message);
}

/* The heading of a list, and "none" under it when it is empty. */
static void
append_heading (GString *text, const char *heading, guint n)
{
  g_string_append_printf (text, "\n%s\n", heading);
  if (n == 0)
    g_string_append_printf (text, "  %s\n", _ ("none"));
}

static void
append_performance (GString *text, const KankyoAlarmPerformance *p)
{
  g_autofree char *from = format_time (p->from);
  g_autofree char *to = format_time (p->to);
  g_autofree char *rate = format_rate (p->alarms_per_hour);
  g_autofree char *percent = format_rate (p->percent_time_in_flood);

  g_string_append_printf (text, _ ("Alarm performance from %s to %s\n"), from, to);
  g_string_append_printf (text, _ ("Alarms: %u\n"), p->n_activations);
  g_string_append_printf (text, _ ("Alarms per hour: %s\n"), rate);
  g_string_append_printf (text, _ ("Floods: %u, %s %% of the time\n"), p->floods->len, percent);
  g_string_append_printf (text, _ ("Chattering alarms: %u\n"), p->chattering->len);
  g_string_append_printf (text, _ ("Stale alarms: %u\n"), p->stale->len);

  append_heading (text, _ ("Alarms per area (area, alarms, per hour):"), p->areas->len);
  for (guint i = 0; i < p->areas->len; i++)
    {
      const KankyoAlarmAreaRate *a = &g_array_index (p->areas, KankyoAlarmAreaRate, i);
      g_autofree char *area = one_line (*a->area != '\0' ? a->area : "-");
      g_autofree char *area_rate = format_rate (a->alarms_per_hour);

      g_string_append_printf (text, "  %s  %u  %s\n", area, a->n_alarms, area_rate);
    }
  append_heading (text, _ ("Floods (start, end, alarms):"), p->floods->len);
  for (guint i = 0; i < p->floods->len; i++)
    {
      const KankyoAlarmFlood *f = &g_array_index (p->floods, KankyoAlarmFlood, i);
      g_autofree char *start = format_time (f->start);
      g_autofree char *end = format_time (f->end);

      g_string_append_printf (text, "  %s  %s  %u\n", start, end, f->n_alarms);
    }
  append_heading (text, _ ("Chattering alarms (alarm, alarms, chattering, message):"), p->chattering->len);
  for (guint i = 0; i < p->chattering->len; i++)
    {
      const KankyoAlarmActor *a = &g_array_index (p->chattering, KankyoAlarmActor, i);
      g_autofree char *id = one_line (a->alarm_id);
      g_autofree char *message = one_line (a->message);

      g_string_append_printf (text, "  %s  %u  %u  \"%s\"\n", id, a->n_activations, a->n_chatter, message);
    }
  append_heading (text, _ ("Stale alarms (alarm, active since, message):"), p->stale->len);
  for (guint i = 0; i < p->stale->len; i++)
    {
      const KankyoAlarmStale *s = &g_array_index (p->stale, KankyoAlarmStale, i);
      g_autofree char *id = one_line (s->alarm_id);
      g_autofree char *since = format_time (s->active_since);
      g_autofree char *message = one_line (s->message);

      g_string_append_printf (text, "  %s  %s  \"%s\"\n", id, since, message);
    }
  append_heading (text, _ ("Top ten (rank, alarm, alarms, chattering, message):"), p->top_ten->len);
  for (guint i = 0; i < p->top_ten->len; i++)
    {
      const KankyoAlarmActor *a = &g_array_index (p->top_ten, KankyoAlarmActor, i);
      g_autofree char *id = one_line (a->alarm_id);
      g_autofree char *message = one_line (a->message);

      g_string_append_printf (text, "  %u  %s  %u  %u  \"%s\"\n", i + 1, id, a->n_activations, a->n_chatter,
                              message);
    }
}

/* Output to standard output, or to a file written beside @path and
 * renamed into place once complete. */
typedef struct
{
  GOutputStream *stream;
  char *path;
  char *temp;
} AlarmOutput;

static gboolean
alarm_output_open (AlarmOutput *out, const char *path, GError **error)
{
  int fd;

  if (path == NULL || g_str_equal (path, "-"))
    {
      out->stream = g_unix_output_stream_new (STDOUT_FILENO, FALSE);
      return TRUE;
    }
  out->path = g_strdup (path);
  out->temp = g_strdup_printf ("%s.part-XXXXXX", path);
  fd = g_mkstemp_full (out->temp, O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0)
    {
      int saved = errno;
      g_autofree char *display = g_filename_display_name (path);

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), _ ("Cannot create %s: %s"), display,
                   g_strerror (saved));
      g_clear_pointer (&out->temp, g_free);
      return FALSE;
    }
  out->stream = g_unix_output_stream_new (fd, TRUE);
  return TRUE;
}

/* Finishes the file when @ok, else removes what was written. */
static gboolean
alarm_output_close (AlarmOutput *out, gboolean ok, GError **error)
{
  g_autofree char *display = out->path != NULL ? g_filename_display_name (out->path) : NULL;

  if (out->temp == NULL)
    {
      g_clear_object (&out->stream);
      return ok;
    }
  if (ok && !g_output_stream_close (out->stream, NULL, error))
    ok = FALSE;
  g_clear_object (&out->stream);
  if (ok && g_rename (out->temp, out->path) != 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), _ ("Cannot write %s: %s"), display,
                   g_strerror (saved));
      ok = FALSE;
    }
  if (!ok)
    g_unlink (out->temp);
  g_clear_pointer (&out->temp, g_free);
  g_clear_pointer (&out->path, g_free);
  return ok;
}

static int
cmd_alarms (int argc, char **argv)
{
  static const GOptionEntry entries[] = {
    { "active", 0, 0, G_OPTION_ARG_NONE, &opt_active,
      N_ ("List the standing alarms (state not normal, as the journal knows it), highest priority first"),
      NULL },
    { "from", 0, 0, G_OPTION_ARG_STRING, &opt_from,
      N_ ("Start of the period: ISO 8601 (local time unless a zone is given), now, or -30m, -12h, -7d"),
      N_ ("TIME") },
    { "to", 0, 0, G_OPTION_ARG_STRING, &opt_to,
      N_ ("End of the period, not included (default: now); with --active, the moment to look at"),
      N_ ("TIME") },
    { "tag", 0, 0, G_OPTION_ARG_STRING, &opt_alarm_tag,
      N_ ("Only alarms of this tag, or of every tag of a device when it ends with '.'"), N_ ("TAG") },
    { "area", 0, 0, G_OPTION_ARG_STRING, &opt_area, N_ ("Only alarms of this area"), N_ ("AREA") },
    { "priority", 0, 0, G_OPTION_ARG_STRING, &opt_priority,
      N_ ("Only alarms of this priority or higher: diagnostic, low, medium, high"), N_ ("PRIORITY") },
    { "user", 'u', 0, G_OPTION_ARG_STRING, &opt_user, N_ ("Only the actions of this user"), N_ ("NAME") },
    { "event", 0, 0, G_OPTION_ARG_STRING, &opt_event,
      N_ ("Only this event: activate, clear, acknowledge, shelve, unshelve, …"), N_ ("EVENT") },
    { "state", 0, 0, G_OPTION_ARG_STRING, &opt_state,
      N_ ("Only records that left the alarm in this state: normal, unacknowledged, acknowledged, …"),
      N_ ("STATE") },
    { "csv", 0, 0, G_OPTION_ARG_NONE, &opt_csv,
      N_ ("Write every record found as CSV, oldest first (RFC 4180, UTF-8, UTC times)"), NULL },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &opt_output, N_ ("File to write (default: standard output)"),
      N_ ("FILE") },
    { "performance", 0, 0, G_OPTION_ARG_NONE, &opt_performance,
      N_ ("Print the alarm performance of the period: rates, floods, chattering, stale alarms, top ten"),
      NULL },
    { "pdf", 0, 0, G_OPTION_ARG_FILENAME, &opt_pdf, N_ ("With --performance, also write it as a PDF report"),
      N_ ("FILE") },
    { NULL }
  };
  g_autoptr (GOptionContext) context = command_context (
      "",
      _ ("List standing alarms or search the alarm and event journal; export it as CSV; report alarm "
         "performance."),
      entries);
  g_autoptr (GError) error = NULL;
  g_autoptr (KankyoProject) project = NULL;
  g_autoptr (KankyoAlarmJournal) journal = NULL;
  g_autoptr (KankyoAlarmPerformance) performance = NULL;
  g_autoptr (GArray) records = NULL;
  g_autoptr (GString) text = g_string_new (NULL);
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  AlarmOutput output = { 0 };
  KankyoAlarmQuery query;
  gint64 now = g_get_real_time ();
  const char *other;
  gboolean ok;

  kankyo_alarm_query_init (&query);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage_error (context, error->message);
  if (argc > 1)
    return usage_error (context, _ ("alarms takes no arguments"));

  if (opt_priority != NULL)
    {
      KankyoAlarmPriority priority;

      if (!kankyo_alarm_priority_from_string (opt_priority, &priority))
        return bad_alarm_name (context, "--priority", opt_priority, _ ("diagnostic, low, medium or high"));
      query.min_priority = (int) priority;
    }
  if (opt_event != NULL)
    {
      KankyoAlarmEvent event;

      if (!alarm_event_from_string (opt_event, &event))
        {
          g_autofree char *names
              = alarm_names (event_name, KANKYO_ALARM_EVENT_ACTIVATE, KANKYO_ALARM_EVENT_RESET);

          return bad_alarm_name (context, "--event", opt_event, names);
        }
      query.event = (int) event;
    }
  if (opt_state != NULL)
    {
      KankyoAlarmState state;

      if (!alarm_state_from_string (opt_state, &state))
        {
          g_autofree char *names
              = alarm_names (state_name, KANKYO_ALARM_STATE_NORMAL, KANKYO_ALARM_STATE_OUT_OF_SERVICE);

          return bad_alarm_name (context, "--state", opt_state, names);
        }
      query.states = 1u << state;
    }
  if (opt_from != NULL && !parse_time (opt_from, now, &query.from))
    return bad_time (context, "--from", opt_from);
  if (opt_to != NULL && !parse_time (opt_to, now, &query.to))
    return bad_time (context, "--to", opt_to);
  if (opt_from != NULL && query.from >= (opt_to != NULL ? query.to : now))
    {
      g_autofree char *message = g_strdup_printf (_ ("--from must be before --to (%s is not before %s)"),
                                                  opt_from, opt_to ? opt_to : "now");

      return usage_error (context, message);
    }
  if (opt_output != NULL && *opt_output == '\0')
    return usage_error (context, _ ("--output: the file name is empty"));
  if (opt_pdf != NULL && *opt_pdf == '\0')
    return usage_error (context, _ ("--pdf: the file name is empty"));
  if (opt_pdf != NULL && !opt_performance)
    return usage_error (context, _ ("--pdf needs --performance"));
  if (opt_performance)
    {
      if (opt_from == NULL)
        return usage_error (context, _ ("--performance needs --from: the start of the period"));
      other = opt_active      ? "--active"
              : opt_csv       ? "--csv"
              : opt_alarm_tag ? "--tag"
              : opt_area      ? "--area"
              : opt_priority  ? "--priority"
              : opt_user      ? "--user"
              : opt_event     ? "--event"
              : opt_state     ? "--state"
                              : NULL;
      if (other != NULL)
        return incompatible (context, "--performance", other);
      if (opt_to == NULL)
        query.to = now;
    }
  other = opt_from ? "--from" : opt_user ? "--user" : opt_event ? "--event" : opt_csv ? "--csv" : NULL;
  if (opt_active && other != NULL)
    return incompatible (context, "--active", other);

  query.tag = opt_alarm_tag;
  query.area = opt_area;
  query.user = opt_user;
  /* A listing shows the latest on top; a CSV reads in time order. */
  query.newest_first = !opt_csv;

  if (opt_data_dir == NULL || opt_pdf != NULL)
    {
      project = load_project (&error);
      if (project == NULL)
        {
          g_printerr ("kankyoctl: %s\n", error->message);
          return EXIT_USAGE;
        }
    }
  dir = opt_data_dir ? g_strdup (opt_data_dir) : kankyo_engine_default_data_dir (project);
  path = g_build_filename (dir, "alarms.db", NULL);
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_printerr (_ ("kankyoctl: there is no alarm journal at %s\n"), path);
      return EXIT_FAILED;
    }
  journal = kankyo_alarm_journal_open_readonly (path, &error);
  if (journal == NULL)
    {
      g_printerr ("kankyoctl: %s\n", error->message);
      return EXIT_FAILED;
    }
  if (!alarm_output_open (&output, opt_output, &error))
    {
      g_printerr ("kankyoctl: %s\n", error->message);
      return EXIT_FAILED;
    }

  if (opt_csv)
    ok = kankyo_alarm_journal_export_csv (journal, &query, output.stream, NULL, &error);
  else
    {
      if (opt_performance)
        {
          performance = kankyo_alarm_journal_performance (journal, query.from, query.to, &error);
          if (performance != NULL)
            append_performance (text, performance);
        }
      else
        {
          records = opt_active ? kankyo_alarm_journal_list_active (journal, &query, &error)
                               : kankyo_alarm_journal_search (journal, &query, &error);
          for (guint i = 0; records != NULL && i < records->len; i++)
            if (opt_active)
              append_active_line (text, &g_array_index (records, KankyoAlarmRecord, i));
            else
              append_record_line (text, &g_array_index (records, KankyoAlarmRecord, i));
        }
      ok = (performance != NULL || records != NULL)
           && g_output_stream_write_all (output.stream, text->str, text->len, NULL, NULL, &error);
    }
  ok = ok
       && (opt_pdf == NULL
           || kankyo_alarm_performance_write_pdf (performance, project->name, opt_pdf, &error));
  if (!alarm_output_close (&output, ok, ok ? &error : NULL))
    ok = FALSE;
  if (!ok)
    {
      g_printerr ("kankyoctl: %s\n", error->message);
      return g_error_matches (error, KANKYO_ALARM_JOURNAL_ERROR, KANKYO_ALARM_JOURNAL_ERROR_INVALID)
                 ? EXIT_USAGE
                 : EXIT_FAILED;
    }
  if (!opt_active && records != NULL && records->len == KANKYO_ALARM_JOURNAL_DEFAULT_LIMIT)
    g_printerr (
        _ ("kankyoctl: showing the newest %d records only; narrow the search, or use --csv for all\n"),
        KANKYO_ALARM_JOURNAL_DEFAULT_LIMIT);
  return EXIT_OK;
}

static void
print_usage (FILE *out)
{
  fprintf (out, "%s",
           _ ("Usage: kankyoctl COMMAND [OPTION...]\n"
              "\n"
              "Commands:\n"
              "  run          poll the project's devices and print every change\n"
              "  read TAG...  read tags once\n"
              "  write TAG VALUE --reason TEXT\n"
              "               write through the audited write path\n"
              "  audit verify check the audit trail for edited, deleted or reordered records\n"
              "  audit list   print the newest audit records\n"
              "  export --tags TAG,... --from TIME [--to TIME] [--bin WIDTH] [-o FILE]\n"
              "               history as CSV: every stored sample, or min, max, mean\n"
              "               and count per bin\n"
              "  report --tags TAG,... --from TIME [--to TIME] [--title TEXT] -o FILE\n"
              "               a PDF trend report: charts and a table of statistics\n"
              "  alarms [--active] [--from TIME] [--to TIME] [--tag TAG] [--area AREA]\n"
              "         [--priority P] [--user NAME] [--event E] [--state S] [--csv] [-o FILE]\n"
              "               standing alarms, or the alarm and event journal, newest first\n"
              "  alarms --performance --from TIME [--to TIME] [--pdf FILE]\n"
              "               alarm performance: rates, floods, chattering, stale, top ten\n"
              "\n"
              "Without --project, commands use the embedded demo plant.\n"
              "TIME is ISO 8601 (2024-03-01T08:00, local time unless it names a zone:\n"
              "Z, +09:00), or now, or before now: -30m, -12h, -7d.\n"
              "'kankyoctl COMMAND --help' describes each command's options.\n"
              "\n"
              "Exit status: 0 success; 1 the operation failed; 2 bad usage or project;\n"
              "3 read found a value that is not Good; 4 the audit trail was tampered with.\n"));
}

int
main (int argc, char **argv)
{
  const char *command;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, KANKYO_LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  if (argc < 2)
    {
      print_usage (stderr);
      return EXIT_USAGE;
    }
  command = argv[1];
  if (g_str_equal (command, "--help") || g_str_equal (command, "-h") || g_str_equal (command, "help"))
    {
      print_usage (stdout);
      return EXIT_OK;
    }
  if (g_str_equal (command, "--version"))
    {
      g_print ("kankyoctl %s\n", PACKAGE_VERSION);
      return EXIT_OK;
    }

  argv[1] = g_strdup_printf ("kankyoctl %s", command);
  if (g_str_equal (command, "run"))
    return cmd_run (argc - 1, argv + 1);
  if (g_str_equal (command, "read"))
    return cmd_read (argc - 1, argv + 1);
  if (g_str_equal (command, "write"))
    return cmd_write (argc - 1, argv + 1);
  if (g_str_equal (command, "audit"))
    return cmd_audit (argc - 1, argv + 1);
  if (g_str_equal (command, "export"))
    return cmd_export (argc - 1, argv + 1);
  if (g_str_equal (command, "report"))
    return cmd_report (argc - 1, argv + 1);
  if (g_str_equal (command, "alarms"))
    return cmd_alarms (argc - 1, argv + 1);

  g_printerr (_ ("kankyoctl: unknown command '%s'\n\n"), command);
  print_usage (stderr);
  return EXIT_USAGE;
}
