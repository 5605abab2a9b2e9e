/* kankyoctl.c: the headless command line.
 *
 * Runs the same engine the GUI runs, for scripts, services and tests:
 * poll a project and print changes, read or write tags through the one
 * audited write path, and check the audit trail. Exit codes are part of
 * the interface (see usage below), so a script can rely on them.
 */
#include "config.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "kankyo-audit.h"
#include "kankyo-engine.h"

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
              "\n"
              "Without --project, commands use the embedded demo plant.\n"
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

  g_printerr (_ ("kankyoctl: unknown command '%s'\n\n"), command);
  print_usage (stderr);
  return EXIT_USAGE;
}
