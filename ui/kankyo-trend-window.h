/* kankyo-trend-window.h: trends of a few tags, their saved views and exports.
 *
 * A window with a trend chart on the engine's historian, the list of its
 * pens, the time range (presets, a custom range, live), named views saved
 * beside the project, and exports of what is shown as CSV or a PDF report.
 * Everything that touches a disk runs off the GTK main thread, with its
 * progress shown and a way to cancel it.
 */
#pragma once

#include <gtk/gtk.h>

#include "kankyo-engine.h"
#include "kankyo-trend-chart.h"

G_BEGIN_DECLS

#define KANKYO_TYPE_TREND_WINDOW (kankyo_trend_window_get_type ())
G_DECLARE_FINAL_TYPE (KankyoTrendWindow, kankyo_trend_window, KANKYO, TREND_WINDOW, GtkWindow)

/* @parent may be NULL; the window joins its application. */
KankyoTrendWindow *kankyo_trend_window_new (GtkWindow *parent, KankyoEngine *engine);
KankyoTrendChart *kankyo_trend_window_get_chart (KankyoTrendWindow *self);

/* Adds a pen with the tag's label and unit from the project. FALSE when
 * the chart is full or shows the tag already. */
gboolean kankyo_trend_window_add_tag (KankyoTrendWindow *self, const char *tag);
/* Replaces the pens and span by those of a saved view; FALSE when there
 * is no view of that name (the saved views may still be loading). */
gboolean kankyo_trend_window_open_view (KankyoTrendWindow *self, const char *name);
/* Opens the list of saved views, for the main window's menu. */
void kankyo_trend_window_show_views (KankyoTrendWindow *self);
/* Saved views and tags are read in the background; FALSE until both are. */
gboolean kankyo_trend_window_is_ready (KankyoTrendWindow *self);

/* What the export buttons run once a file is chosen: the pens that are
 * ticked in the list, over the chart's range; @bin_us 0 exports raw
 * samples. Progress and errors show in the window. */
void
kankyo_trend_window_export_csv (KankyoTrendWindow *self, GFile *file, gint64 bin_us, gboolean local_time);
void kankyo_trend_window_export_pdf (KankyoTrendWindow *self, GFile *file, const char *title);
/* An export is running. */
gboolean kankyo_trend_window_is_exporting (KankyoTrendWindow *self);

G_END_DECLS
