/* ui-test-util.h: what every UI test does to a real window under Xvfb:
 * let the main loop run until something holds, and find widgets by name
 * or type. */
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

G_END_DECLS
