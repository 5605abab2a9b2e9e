/* kankyo-modules.c: loading driver and device-type modules.
 *
 * The extension points are registered before any module loads, so a module
 * that implements them finds them; instances are created once and kept, as
 * drivers and device types hold no per-use state.
 */
#include "config.h"

#include "kankyo-modules.h"

#include <glib/gi18n-lib.h>

/* The first argument becomes the quark's name, so it must stay one word. */
/* clang-format off */
G_DEFINE_QUARK (kankyo-modules-error-quark, kankyo_modules_error)
/* clang-format on */

static GMutex instances_mutex;
static GHashTable *instances; /* "ep/name" -> GObject */
/* Loaded modules stay for the life of the process; keeping the list makes
 * that ownership visible (and to leak checkers, not a leak). */
static GList *loaded_modules;

/* The installed module folder, or the same folder next to the running
 * program when the install was moved. */
static char *
installed_dir (const char *configured, const char *from_bindir)
{
  g_autofree char *exe = NULL;
  g_autofree char *bindir = NULL;

  if (g_file_test (configured, G_FILE_TEST_IS_DIR))
    return g_strdup (configured);
  exe = g_file_read_link ("/proc/self/exe", NULL);
  if (exe == NULL)
    return g_strdup (configured);
  bindir = g_path_get_dirname (exe);
  return g_canonicalize_filename (from_bindir, bindir);
}

static void
load_path_list (const char *env_name, const char *configured, const char *from_bindir)
{
  const char *value = g_getenv (env_name);
  g_auto (GStrv) dirs = NULL;

  if (value == NULL || *value == '\0')
    {
      g_autofree char *dir = installed_dir (configured, from_bindir);

      loaded_modules = g_list_concat (loaded_modules, g_io_modules_load_all_in_directory (dir));
      return;
    }
  dirs = g_strsplit (value, G_SEARCHPATH_SEPARATOR_S, -1);
  for (guint i = 0; dirs[i] != NULL; i++)
    {
      if (*dirs[i] == '\0')
        continue;
      loaded_modules = g_list_concat (loaded_modules, g_io_modules_load_all_in_directory (dirs[i]));
    }
}

void
kankyo_modules_load (void)
{
  static gsize once = 0;

  if (g_once_init_enter (&once))
    {
      /* Bound here as well as by the plugin API, so the engine's messages
       * are translated in any host program. */
      bindtextdomain (GETTEXT_PACKAGE, KANKYO_LOCALEDIR);
      bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
      kankyo_plugin_register_extension_points ();
      load_path_list ("KANKYO_DRIVER_PATH", KANKYO_DRIVERDIR, KANKYO_DRIVERDIR_FROM_BINDIR);
      load_path_list ("KANKYO_PLUGIN_PATH", KANKYO_PLUGINDIR, KANKYO_PLUGINDIR_FROM_BINDIR);
      g_once_init_leave (&once, 1);
    }
}

static GObject *
get_instance (const char *ep_name, const char *name, const char *what, GError **error)
{
  GIOExtensionPoint *ep;
  GIOExtension *ext;
  g_autofree char *key = NULL;
  GObject *obj;

  kankyo_modules_load ();
  ep = g_io_extension_point_lookup (ep_name);
  ext = (ep != NULL && name != NULL) ? g_io_extension_point_get_extension_by_name (ep, name) : NULL;
  if (ext == NULL)
    {
      g_auto (GStrv) known = g_str_equal (ep_name, KANKYO_DRIVER_EXTENSION_POINT)
                                 ? kankyo_modules_list_drivers ()
                                 : kankyo_modules_list_device_types ();
      g_autofree char *list = g_strjoinv (", ", known);

      g_set_error (error, KANKYO_MODULES_ERROR, KANKYO_MODULES_ERROR_NOT_FOUND,
                   _ ("no %s named '%s' is installed; known: %s"), what, name ? name : "",
                   *list ? list : _ ("none (are the plugins installed or KANKYO_PLUGIN_PATH set?)"));
      return NULL;
    }

  key = g_strconcat (ep_name, "/", name, NULL);
  g_mutex_lock (&instances_mutex);
  if (instances == NULL)
    instances = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  obj = g_hash_table_lookup (instances, key);
  if (obj == NULL)
    {
      obj = g_object_new (g_io_extension_get_type (ext), NULL);
      g_hash_table_insert (instances, g_steal_pointer (&key), obj);
    }
  g_object_ref (obj);
  g_mutex_unlock (&instances_mutex);
  return obj;
}

KankyoDriver *
kankyo_modules_get_driver (const char *name, GError **error)
{
  return (KankyoDriver *) get_instance (KANKYO_DRIVER_EXTENSION_POINT, name, _ ("driver"), error);
}

KankyoDeviceType *
kankyo_modules_get_device_type (const char *id, GError **error)
{
  return (KankyoDeviceType *) get_instance (KANKYO_DEVICE_TYPE_EXTENSION_POINT, id, _ ("device type"), error);
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(char *const *) a, *(char *const *) b);
}

static GStrv
list_names (const char *ep_name)
{
  GIOExtensionPoint *ep;
  g_autoptr (GPtrArray) names = g_ptr_array_new ();

  kankyo_modules_load ();
  ep = g_io_extension_point_lookup (ep_name);
  for (GList *l = ep ? g_io_extension_point_get_extensions (ep) : NULL; l != NULL; l = l->next)
    g_ptr_array_add (names, g_strdup (g_io_extension_get_name (l->data)));
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);
  return (GStrv) g_ptr_array_free (g_steal_pointer (&names), FALSE);
}

GStrv
kankyo_modules_list_device_types (void)
{
  return list_names (KANKYO_DEVICE_TYPE_EXTENSION_POINT);
}

GStrv
kankyo_modules_list_drivers (void)
{
  return list_names (KANKYO_DRIVER_EXTENSION_POINT);
}

/* The device's simulation section, with the map's per-tag simulate hints
 * added under "tags" for the generic type. */
static GVariant *
simulation_params (const KankyoDeviceConfig *config, const KankyoDeviceMap *map, gboolean with_hints)
{
  g_auto (GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  g_auto (GVariantBuilder) tags = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  gboolean any_hint = FALSE;

  if (config->simulation != NULL)
    {
      GVariantIter iter;
      const char *key;
      GVariant *value;

      g_variant_iter_init (&iter, config->simulation);
      while (g_variant_iter_loop (&iter, "{&sv}", &key, &value))
        if (!with_hints || !g_str_equal (key, "tags"))
          g_variant_builder_add (&builder, "{sv}", key, value);
    }
  for (guint i = 0; with_hints && map != NULL && i < map->tags->len; i++)
    {
      const KankyoMapTag *tag = g_ptr_array_index (map->tags, i);

      if (tag->simulate != NULL)
        {
          g_variant_builder_add (&tags, "{sv}", tag->spec->name, tag->simulate);
          any_hint = TRUE;
        }
    }
  if (any_hint)
    g_variant_builder_add (&builder, "{sv}", "tags", g_variant_builder_end (&tags));
  return g_variant_ref_sink (g_variant_builder_end (&builder));
}

gboolean
kankyo_modules_resolve_device (const KankyoDeviceConfig *config,
                               KankyoDriver **ret_driver,
                               KankyoDeviceType **ret_type,
                               GPtrArray **ret_specs,
                               GVariant **ret_sim_params,
                               GError **error)
{
  g_autoptr (KankyoDriver) driver = NULL;
  g_autoptr (KankyoDeviceType) type = NULL;
  g_autoptr (KankyoDeviceMap) type_map = NULL;
  g_autoptr (GPtrArray) specs = NULL;
  const KankyoDeviceMap *map = config->map;
  const char *where = config->location ? config->location : config->name;

  driver = kankyo_modules_get_driver (config->driver ? config->driver : "modbus", error);
  if (driver == NULL)
    {
      g_prefix_error (error, _ ("%s: device %s: "), where, config->name);
      return FALSE;
    }

  if (config->type_id != NULL)
    {
      g_autoptr (GBytes) bytes = NULL;
      g_autofree char *map_name = NULL;

      type = kankyo_modules_get_device_type (config->type_id, error);
      if (type == NULL)
        {
          g_prefix_error (error, _ ("%s: device %s: "), where, config->name);
          return FALSE;
        }
      bytes = kankyo_device_type_get_map (type, &map_name);
      if (bytes == NULL)
        {
          g_set_error (error, KANKYO_MODULES_ERROR, KANKYO_MODULES_ERROR_NOT_FOUND,
                       _ ("%s: device %s: device type %s provides no register map"), where, config->name,
                       config->type_id);
          return FALSE;
        }
      type_map = kankyo_device_map_parse (bytes, map_name ? map_name : config->type_id, error);
      if (type_map == NULL)
        {
          g_prefix_error (error, _ ("%s: device %s: "), where, config->name);
          return FALSE;
        }
      map = type_map;
    }
  if (map == NULL)
    {
      g_set_error (error, KANKYO_MODULES_ERROR, KANKYO_MODULES_ERROR_NOT_FOUND,
                   _ ("%s: device %s has no type, map or tags"), where, config->name);
      return FALSE;
    }

  specs = kankyo_device_map_resolve_tags (map, config, error);
  if (specs == NULL)
    return FALSE;

  /* A device described by its own map is the generic type's to simulate;
   * without that module installed it still polls, it just has no model. */
  if (type == NULL)
    {
      GIOExtensionPoint *ep = g_io_extension_point_lookup (KANKYO_DEVICE_TYPE_EXTENSION_POINT);

      if (ep != NULL && g_io_extension_point_get_extension_by_name (ep, "generic") != NULL)
        type = kankyo_modules_get_device_type ("generic", NULL);
      *ret_sim_params = simulation_params (config, map, TRUE);
    }
  else
    *ret_sim_params = simulation_params (config, NULL, FALSE);

  *ret_driver = g_steal_pointer (&driver);
  *ret_type = g_steal_pointer (&type);
  *ret_specs = g_steal_pointer (&specs);
  return TRUE;
}
