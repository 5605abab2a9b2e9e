/* kankyo-application.h: the kankyo GtkApplication.
 *
 * Owns the engine for the project being shown: the embedded demo plant
 * when started without arguments, or the project named by --project. The
 * engine runs on its own threads; the application only starts and stops it
 * and hands it to the windows.
 */
#pragma once

#include <gtk/gtk.h>

#include "kankyo-engine.h"

G_BEGIN_DECLS

#define KANKYO_TYPE_APPLICATION (kankyo_application_get_type ())
G_DECLARE_FINAL_TYPE (KankyoApplication, kankyo_application, KANKYO, APPLICATION, GtkApplication)

KankyoApplication *kankyo_application_new (void);
/* NULL until the project is loaded and the engine started. */
KankyoEngine *kankyo_application_get_engine (KankyoApplication *self);

G_END_DECLS
