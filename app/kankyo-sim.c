/* kankyo-sim.c: simulated devices served as real Modbus TCP or RTU.
 *
 * For development, tests and demonstrations without a plant: one device of
 * a type (--type) or every device of a project (--project) is served with
 * its physics running at --speed times real time. Faults are injected at
 * start (--fault) or while running, by commands on standard input, so a
 * test can pull a device away and bring it back.
 */
#include "config.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "kankyo-engine.h"
#include "kankyo-modules.h"
#include "kankyo-sim-host.h"

static gboolean opt_list;
static char *opt_type;
static char *opt_listen;
static int opt_unit = 1;
static double opt_speed = 1.0;
static char *opt_project;
static char **opt_faults;

static const GOptionEntry entries[]
    = { { "list", 'l', 0, G_OPTION_ARG_NONE, &opt_list, N_ ("List the device types that can be served"),
          NULL },
        { "type", 't', 0, G_OPTION_ARG_STRING, &opt_type, N_ ("Serve one device of this type"), N_ ("TYPE") },
        { "listen", 0, 0, G_OPTION_ARG_STRING, &opt_listen,
          N_ ("Where to serve --type (default tcp://127.0.0.1:0, a free port)"), N_ ("ENDPOINT") },
        { "unit", 'u', 0, G_OPTION_ARG_INT, &opt_unit, N_ ("Unit id of --type (default 1)"), N_ ("ID") },
        { "project", 'p', 0, G_OPTION_ARG_FILENAME, &opt_project,
          N_ ("Serve every device of a project at its endpoint"), N_ ("FILE") },
        { "speed", 's', 0, G_OPTION_ARG_DOUBLE, &opt_speed,
          N_ ("Simulated seconds per real second (default 1)"), N_ ("FACTOR") },
        { "fault", 'f', 0, G_OPTION_ARG_STRING_ARRAY, &opt_faults,
          N_ ("Start with a fault: drop, delay=MS, exception=CODE, nan, out-of-range"), N_ ("FAULT") },
        { NULL } };

typedef struct
{
  KankyoSimHost *host;
  GMainLoop *loop;
  KankyoServerFaults *faults; /* per device */
} Sim;

static gboolean
parse_uint_arg (const char *text, guint64 max, guint64 *ret)
{
  char *end = NULL;
  guint64 v;

  if (text == NULL || !g_ascii_isdigit (*text))
    return FALSE;
  v = g_ascii_strtoull (text, &end, 10);
  if (*end != '\0' || v > max)
    return FALSE;
  *ret = v;
  return TRUE;
}

/* Applies "drop", "delay MS", "exception CODE", "nan", "out-of-range" or
 * "none" to one device (@index) or all (G_MAXUINT). */
static gboolean
apply_fault (Sim *sim, guint index, char **words, GError **error)
{
  guint first = index == G_MAXUINT ? 0 : index;
  guint last = index == G_MAXUINT ? kankyo_sim_host_get_n_devices (sim->host) : index + 1;
  guint64 v = 0;

  if (words[0] == NULL)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "expected a fault: drop, delay MS, exception CODE, nan, out-of-range or none");
      return FALSE;
    }
  for (guint i = first; i < last; i++)
    {
      KankyoServerFaults *f = &sim->faults[i];

      if (g_str_equal (words[0], "none"))
        {
          memset (f, 0, sizeof *f);
          kankyo_sim_host_set_value_fault (sim->host, i, KANKYO_SIM_VALUE_FAULT_NONE);
        }
      else if (g_str_equal (words[0], "drop"))
        f->drop = TRUE;
      else if (g_str_equal (words[0], "delay") && parse_uint_arg (words[1], 60000, &v))
        f->delay_ms = (guint) v;
      else if (g_str_equal (words[0], "exception") && parse_uint_arg (words[1], 255, &v) && v > 0)
        f->exception_code = (guint8) v;
      else if (g_str_equal (words[0], "nan"))
        kankyo_sim_host_set_value_fault (sim->host, i, KANKYO_SIM_VALUE_FAULT_NAN);
      else if (g_str_equal (words[0], "out-of-range"))
        kankyo_sim_host_set_value_fault (sim->host, i, KANKYO_SIM_VALUE_FAULT_OUT_OF_RANGE);
      else
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       "unknown fault '%s'; expected drop, delay MS (0..60000), exception CODE "
                       "(1..255), nan, out-of-range or none",
                       words[0]);
          return FALSE;
        }
      kankyo_sim_host_set_server_faults (sim->host, i, f);
    }
  return TRUE;
}

static guint
find_device (Sim *sim, const char *name)
{
  for (guint i = 0; i < kankyo_sim_host_get_n_devices (sim->host); i++)
    if (g_str_equal (kankyo_sim_host_get_name (sim->host, i), name))
      return i;
  return G_MAXUINT;
}

/* "fault [DEVICE] ...", "set DEVICE TAG VALUE", "get DEVICE TAG", "quit". */
static void
handle_command (Sim *sim, const char *line)
{
  g_auto (GStrv) words = g_strsplit_set (line, " \t", 8);
  g_autoptr (GError) error = NULL;
  guint n = g_strv_length (words);

  if (n == 0 || *words[0] == '\0')
    return;
  if (g_str_equal (words[0], "quit"))
    {
      g_main_loop_quit (sim->loop);
      return;
    }
  if (g_str_equal (words[0], "fault"))
    {
      guint index = n > 1 ? find_device (sim, words[1]) : G_MAXUINT;
      char **rest = index == G_MAXUINT ? words + 1 : words + 2;

      if (apply_fault (sim, index, rest, &error))
        g_print ("ok\n");
      else
        g_print ("error: %s\n", error->message);
      return;
    }
  if ((g_str_equal (words[0], "get") && n == 3) || (g_str_equal (words[0], "set") && n == 4))
    {
      guint index = find_device (sim, words[1]);
      char *end = NULL;
      double v;

      if (index == G_MAXUINT)
        {
          g_print ("error: no simulated device named %s\n", words[1]);
          return;
        }
      if (g_str_equal (words[0], "get"))
        {
          char buf[G_ASCII_DTOSTR_BUF_SIZE];

          g_print ("%s\n",
                   g_ascii_dtostr (buf, sizeof buf, kankyo_sim_host_get_value (sim->host, index, words[2])));
          return;
        }
      v = g_ascii_strtod (words[3], &end);
      if (end == words[3] || *end != '\0')
        {
          g_print ("error: expected a number, found '%s'\n", words[3]);
          return;
        }
      kankyo_sim_host_set_value (sim->host, index, words[2], v);
      g_print ("ok\n");
      return;
    }
  g_print ("error: unknown command; expected fault [DEVICE] drop|delay MS|exception CODE|nan|"
           "out-of-range|none, get DEVICE TAG, set DEVICE TAG VALUE, or quit\n");
}

static gboolean
on_stdin (GIOChannel *channel, GIOCondition condition, gpointer data)
{
  Sim *sim = data;
  g_autofree char *line = NULL;
  gsize term = 0;
  GIOStatus status;

  status = g_io_channel_read_line (channel, &line, NULL, &term, NULL);
  if (status == G_IO_STATUS_NORMAL && line != NULL)
    {
      line[term] = '\0';
      if (strlen (line) <= 1024)
        handle_command (sim, line);
      return G_SOURCE_CONTINUE;
    }
  if (status == G_IO_STATUS_AGAIN)
    return G_SOURCE_CONTINUE;
  /* End of input: keep serving until a signal, as a service would. */
  return G_SOURCE_REMOVE;
}

static gboolean
on_signal (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_CONTINUE;
}

static int
list_types (void)
{
  g_auto (GStrv) types = kankyo_modules_list_device_types ();
  g_auto (GStrv) drivers = kankyo_modules_list_drivers ();

  g_print ("%s", _ ("Device types:\n"));
  for (guint i = 0; types[i] != NULL; i++)
    {
      g_autoptr (KankyoDeviceType) type = kankyo_modules_get_device_type (types[i], NULL);
      g_autoptr (GBytes) map = type ? kankyo_device_type_get_map (type, NULL) : NULL;
      g_autoptr (KankyoSimModel) model = type ? kankyo_device_type_create_model (type, NULL, NULL) : NULL;
      const char *what = map == NULL     ? _ ("devices described by a user's map file")
                         : model != NULL ? _ ("simulated physics")
                                         : _ ("registers only");

      g_print ("  %-24s %s\n", types[i], what);
    }
  g_print ("%s", _ ("Drivers:\n"));
  for (guint i = 0; drivers[i] != NULL; i++)
    g_print ("  %s\n", drivers[i]);
  return 0;
}

static gboolean
add_device (KankyoSimHost *host, const KankyoDeviceConfig *config, GError **error)
{
  g_autoptr (KankyoDriver) driver = NULL;
  g_autoptr (KankyoDeviceType) type = NULL;
  g_autoptr (GPtrArray) specs = NULL;
  g_autoptr (KankyoEndpoint) endpoint = NULL;
  g_autoptr (KankyoSimModel) model = NULL;
  g_autoptr (GVariant) params = NULL;

  if (!kankyo_modules_resolve_device (config, &driver, &type, &specs, &params, error))
    return FALSE;
  /* A device the project calls "simulated" gets a free loopback port. */
  endpoint = config->endpoint ? kankyo_endpoint_copy (config->endpoint)
                              : kankyo_endpoint_parse ("tcp://127.0.0.1:0", error);
  if (endpoint == NULL)
    return FALSE;
  if (type != NULL)
    {
      g_autoptr (GError) model_error = NULL;

      model = kankyo_device_type_create_model (type, params, &model_error);
      if (model_error != NULL)
        {
          g_propagate_prefixed_error (error, g_steal_pointer (&model_error), "%s: %s: ", config->location,
                                      config->name);
          return FALSE;
        }
    }
  return kankyo_sim_host_add (host, config->name, specs, model, driver, endpoint, config->unit_id, error)
         != G_MAXUINT;
}

static gboolean
add_type_device (KankyoSimHost *host, GError **error)
{
  g_autoptr (KankyoEndpoint) endpoint = NULL;
  KankyoDeviceConfig config = { 0 };

  endpoint = kankyo_endpoint_parse (opt_listen ? opt_listen : "tcp://127.0.0.1:0", error);
  if (endpoint == NULL)
    return FALSE;
  config.name = opt_type;
  config.type_id = opt_type;
  config.driver = (char *) "modbus";
  config.location = (char *) "--type";
  config.endpoint = endpoint;
  config.unit_id = (guint8) opt_unit;
  return add_device (host, &config, error);
}

static gboolean
add_project_devices (KankyoSimHost *host, GError **error)
{
  g_autoptr (KankyoProject) project = kankyo_project_load (opt_project, error);

  if (project == NULL)
    return FALSE;
  for (guint i = 0; i < project->devices->len; i++)
    if (!add_device (host, g_ptr_array_index (project->devices, i), error))
      return FALSE;
  return TRUE;
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (KankyoSimHost) host = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  g_autoptr (GIOChannel) in = NULL;
  g_autofree KankyoServerFaults *faults = NULL;
  Sim sim;

  /* Tests and scripts read replies line by line through a pipe. */
  setvbuf (stdout, NULL, _IOLBF, 0);
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, KANKYO_LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  context = g_option_context_new ("");
  g_option_context_set_summary (context, _ ("Serve simulated devices over Modbus TCP or RTU."));
  g_option_context_set_description (
      context, _ ("While running, standard input takes commands:\n"
                  "  fault [DEVICE] drop | delay MS | exception CODE | nan | out-of-range | none\n"
                  "  get DEVICE TAG      set DEVICE TAG VALUE      quit\n"));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("kankyo-sim: %s\n", error->message);
      return 2;
    }
  if (opt_list)
    return list_types ();
  if ((opt_type == NULL) == (opt_project == NULL))
    {
      g_printerr ("%s", _ ("kankyo-sim: give either --type TYPE or --project FILE (or --list)\n"));
      return 2;
    }
  if (opt_speed <= 0 || opt_speed > 10000 || opt_unit < 0 || opt_unit > 247)
    {
      g_printerr ("%s", _ ("kankyo-sim: --speed must be between 0 and 10000 and --unit between 0 and 247\n"));
      return 2;
    }

  host = kankyo_sim_host_new (opt_speed);
  if (!(opt_type ? add_type_device (host, &error) : add_project_devices (host, &error)))
    {
      g_printerr ("kankyo-sim: %s\n", error->message);
      return 2;
    }

  loop = g_main_loop_new (NULL, FALSE);
  faults = g_new0 (KankyoServerFaults, kankyo_sim_host_get_n_devices (host));
  sim.host = host;
  sim.loop = loop;
  sim.faults = faults;
  for (guint i = 0; opt_faults != NULL && opt_faults[i] != NULL; i++)
    {
      g_auto (GStrv) words = g_strsplit (opt_faults[i], "=", 2);

      if (!apply_fault (&sim, G_MAXUINT, words, &error))
        {
          g_printerr ("kankyo-sim: --fault %s: %s\n", opt_faults[i], error->message);
          return 2;
        }
    }

  if (!kankyo_sim_host_start (host, &error))
    {
      g_printerr ("kankyo-sim: %s\n", error->message);
      return 1;
    }
  for (guint i = 0; i < kankyo_sim_host_get_n_devices (host); i++)
    {
      g_autofree char *where = kankyo_sim_host_get_endpoint (host, i);

      g_print ("serving %s on %s\n", kankyo_sim_host_get_name (host, i), where);
    }
  g_print ("ready\n");
  fflush (stdout);

  in = g_io_channel_unix_new (0);
  g_io_add_watch (in, G_IO_IN | G_IO_HUP | G_IO_ERR, on_stdin, &sim);
  g_unix_signal_add (SIGINT, on_signal, loop);
  g_unix_signal_add (SIGTERM, on_signal, loop);
  g_main_loop_run (loop);

  kankyo_sim_host_stop (host);
  return 0;
}
