/* kankyo-window.h: the operator's main window.
 *
 * Navigation follows the ISA-101 levels: plant overview (every area and the
 * state of its devices), area (the live mimic), device (its faceplate). A
 * status bar shows the connection state of every device at all times.
 */
#pragma once

#include <gtk/gtk.h>

#include "kankyo-application.h"

G_BEGIN_DECLS

#define KANKYO_TYPE_WINDOW (kankyo_window_get_type ())
G_DECLARE_FINAL_TYPE (KankyoWindow, kankyo_window, KANKYO, WINDOW, GtkApplicationWindow)

/* @load_error: the project could not be loaded; the window says why. */
KankyoWindow *kankyo_window_new (KankyoApplication *app, const GError *load_error);

G_END_DECLS
