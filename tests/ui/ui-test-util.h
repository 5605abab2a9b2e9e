/* ui-test-util.h: what every UI test does to a real window under Xvfb:
 * let the main loop run until something holds, find widgets by name or
 * type, render them, and send real input. GTK 4.8 cannot synthesise
 * input, so input goes through xdotool to the X server. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* Iterates the main context until @cond holds or @timeout_ms pass;
 * returns whether it held. */
gboolean ui_test_wait_for (gboolean (*cond) (gpointer), gpointer data, guint timeout_ms);
/* Lets the main loop run for @ms. */
void ui_test_spin (guint ms);
/* TRUE once @widget (a GtkWidget*) is mapped with a size: a condition for
 * ui_test_wait_for(). */
gboolean ui_test_is_allocated (gpointer widget);
/* Depth first from @root; NULL when there is none. */
GtkWidget *ui_test_find_named (GtkWidget *root, const char *name);
GtkWidget *ui_test_find_of_type (GtkWidget *root, GType type);
/* @widget as it is on screen, rendered by its window's renderer. A widget
 * that has not drawn yet gives no node; this waits until it has. */
GdkTexture *ui_test_render (GtkWidget *widget);

/* Real X input: runs `xdotool ARGS` (the X server's queue, as a user's
 * mouse and keyboard would fill it), then lets GTK read the events. */
void ui_test_xdo (const char *format, ...) G_GNUC_PRINTF (1, 2);
/* The X window of @window's surface, for xdotool's --window. */
gulong ui_test_window_xid (GtkWindow *window);
/* Moves the pointer to (@x, @y) of @widget and clicks the first button. */
void ui_test_click (GtkWidget *widget, double x, double y);

G_END_DECLS
