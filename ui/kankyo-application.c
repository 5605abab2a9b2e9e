/* kankyo-application.c: command line, project, engine and windows.
 *
 * Startup loads the project and starts the engine before the first window
 * is shown; a project that cannot be loaded is reported in a window rather
 * than on a terminal nobody reads, so an operator sees what is wrong.
 */
#include "config.h"

#include "kankyo-application.h"

#include <glib/gi18n.h>

#include "kankyo-window.h"

struct _KankyoApplication
{
  GtkApplication parent_instance;

  char *project_path;
  double speed;
  KankyoEngine *engine;
  GError *load_error;
};

G_DEFINE_FINAL_TYPE (KankyoApplication, kankyo_application, GTK_TYPE_APPLICATION)

static const GOptionEntry option_entries[]
    = { { "project", 'p', 0, G_OPTION_ARG_FILENAME, NULL,
          N_ ("Project file (default: the embedded demo plant)"), N_ ("FILE") },
        { "speed", 's', 0, G_OPTION_ARG_DOUBLE, NULL, N_ ("Speed factor of simulated devices"),
          N_ ("FACTOR") },
        { NULL } };

static int
kankyo_application_handle_local_options (GApplication *app, GVariantDict *options)
{
  KankyoApplication *self = KANKYO_APPLICATION (app);
  const char *project = NULL;
  double speed = 1.0;

  if (g_variant_dict_lookup (options, "project", "^&ay", &project))
    self->project_path = g_canonicalize_filename (project, NULL);
  if (g_variant_dict_lookup (options, "speed", "d", &speed))
    {
      if (speed <= 0 || speed > 10000)
        {
          g_printerr ("%s\n", _ ("kankyo: --speed must be more than 0 and at most 10000"));
          return 2;
        }
      self->speed = speed;
    }
  return -1;
}

static gboolean
start_engine (KankyoApplication *self, GError **error)
{
  g_autoptr (KankyoProject) project = NULL;
  g_autofree char *data_dir = NULL;
  g_autoptr (KankyoEngine) engine = NULL;

  project = self->project_path ? kankyo_project_load (self->project_path, error)
                               : kankyo_engine_load_demo_project (error);
  if (project == NULL)
    return FALSE;
  data_dir = kankyo_engine_default_data_dir (project);
  engine = kankyo_engine_new (g_steal_pointer (&project), data_dir, error);
  if (engine == NULL)
    return FALSE;
  kankyo_engine_set_sim_speed (engine, self->speed);
  if (!kankyo_engine_start (engine, error))
    return FALSE;
  self->engine = g_steal_pointer (&engine);
  return TRUE;
}

static void
kankyo_application_startup (GApplication *app)
{
  KankyoApplication *self = KANKYO_APPLICATION (app);

  G_APPLICATION_CLASS (kankyo_application_parent_class)->startup (app);
  gtk_window_set_default_icon_name ("org.kankyo.Kankyo");
  if (!start_engine (self, &self->load_error))
    g_warning ("%s", self->load_error->message);
}

static void
kankyo_application_activate (GApplication *app)
{
  KankyoApplication *self = KANKYO_APPLICATION (app);
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (app));

  if (window == NULL)
    window = GTK_WINDOW (kankyo_window_new (self, self->load_error));
  gtk_window_present (window);
}

static void
kankyo_application_shutdown (GApplication *app)
{
  KankyoApplication *self = KANKYO_APPLICATION (app);

  if (self->engine != NULL)
    kankyo_engine_stop (self->engine);
  G_APPLICATION_CLASS (kankyo_application_parent_class)->shutdown (app);
}

static void
kankyo_application_finalize (GObject *object)
{
  KankyoApplication *self = KANKYO_APPLICATION (object);

  g_clear_object (&self->engine);
  g_clear_error (&self->load_error);
  g_free (self->project_path);
  G_OBJECT_CLASS (kankyo_application_parent_class)->finalize (object);
}

static void
kankyo_application_class_init (KankyoApplicationClass *klass)
{
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = kankyo_application_finalize;
  app_class->handle_local_options = kankyo_application_handle_local_options;
  app_class->startup = kankyo_application_startup;
  app_class->activate = kankyo_application_activate;
  app_class->shutdown = kankyo_application_shutdown;
}

static void
kankyo_application_init (KankyoApplication *self)
{
  self->speed = 1.0;
  g_application_add_main_option_entries (G_APPLICATION (self), option_entries);
}

KankyoApplication *
kankyo_application_new (void)
{
  /* NON_UNIQUE: a second kankyo on another project is a second station,
   * not a second window of the first. */
  return g_object_new (KANKYO_TYPE_APPLICATION, "application-id", "org.kankyo.Kankyo", "flags",
                       G_APPLICATION_NON_UNIQUE, NULL);
}

KankyoEngine *
kankyo_application_get_engine (KankyoApplication *self)
{
  g_return_val_if_fail (KANKYO_IS_APPLICATION (self), NULL);
  return self->engine;
}
