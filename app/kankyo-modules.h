/* kankyo-modules.h: finding drivers and device types in loadable modules.
 *
 * Modules are GIO modules scanned from the install directories, or from the
 * colon-separated KANKYO_DRIVER_PATH and KANKYO_PLUGIN_PATH when set (a build
 * tree, a test). Loading happens once per process.
 */
#pragma once

#include <glib.h>
#include "kankyo-plugin.h"
#include "kankyo-project.h"

G_BEGIN_DECLS

#define KANKYO_MODULES_ERROR (kankyo_modules_error_quark ())
GQuark kankyo_modules_error_quark (void);

typedef enum
{
  KANKYO_MODULES_ERROR_NOT_FOUND,
} KankyoModulesError;

void kankyo_modules_load (void);
/* A new reference to the driver registered under @name. */
KankyoDriver *kankyo_modules_get_driver (const char *name, GError **error);
KankyoDeviceType *kankyo_modules_get_device_type (const char *id, GError **error);
/* Sorted ids of every device type found. */
GStrv kankyo_modules_list_device_types (void);
GStrv kankyo_modules_list_drivers (void);

/* Everything needed to poll or simulate a configured device: its driver,
 * its device type (for a map file or inline tags: the generic type, when
 * installed), its tags resolved to 0-based addresses and final word orders,
 * and the parameters for the type's simulation model (the device's
 * "simulation:" section; for a map, plus {"tags": {TAG: simulate hints}}).
 * Errors start with the device's file:line:column. */
gboolean kankyo_modules_resolve_device (const KankyoDeviceConfig *config,
                                        KankyoDriver **ret_driver,
                                        KankyoDeviceType **ret_type,
                                        GPtrArray **ret_specs,
                                        GVariant **ret_sim_params,
                                        GError **error);

G_END_DECLS
