/* kankyo-trend-chart.h: the history of a few tags as lines over time.
 *
 * A trend chart draws up to eight pens (tags) from the historian, each with
 * its own colour, marker, axis and unit, auto-scaled to what is visible.
 * Each pixel column shows the minimum and maximum of the samples it covers,
 * read off the GTK main thread from raw data or rollups as the zoom needs;
 * where quality was Bad the line stops and the stretch is hatched. In live
 * mode the view follows the clock, moving on by a tenth of its span at a
 * time with a line marking now, and new samples appear as they are
 * recorded. The view pans and zooms by mouse, touch and keyboard; a cursor
 * reads every pen's value and time.
 */
#pragma once

#include <gtk/gtk.h>

#include "kankyo-historian.h"

G_BEGIN_DECLS

#define KANKYO_TREND_CHART_MAX_PENS 8
#define KANKYO_TREND_CHART_MIN_SPAN_US (10 * G_USEC_PER_SEC)
#define KANKYO_TREND_CHART_MAX_SPAN_US (G_GINT64_CONSTANT (366) * 24 * 3600 * G_USEC_PER_SEC)

/* The time ranges offered as one click: the last 10 minutes, hour, ... */
typedef enum
{
  KANKYO_TREND_RANGE_10_MIN,
  KANKYO_TREND_RANGE_1_H,
  KANKYO_TREND_RANGE_8_H,
  KANKYO_TREND_RANGE_24_H,
  KANKYO_TREND_RANGE_7_D,
  KANKYO_TREND_RANGE_CUSTOM, /* any other span, or a range that does not end now */
} KankyoTrendRange;

/* What tells pens apart besides colour, drawn along each line, in the
 * legend and in the cursor readout. */
typedef enum
{
  KANKYO_TREND_MARKER_CIRCLE,
  KANKYO_TREND_MARKER_SQUARE,
  KANKYO_TREND_MARKER_TRIANGLE,
  KANKYO_TREND_MARKER_DIAMOND,
  KANKYO_TREND_MARKER_TRIANGLE_DOWN,
  KANKYO_TREND_MARKER_CROSS,
  KANKYO_TREND_MARKER_PLUS,
  KANKYO_TREND_MARKER_RING,
} KankyoTrendMarker;

#define KANKYO_TYPE_TREND_CHART (kankyo_trend_chart_get_type ())
G_DECLARE_FINAL_TYPE (KankyoTrendChart, kankyo_trend_chart, KANKYO, TREND_CHART, GtkWidget)

GtkWidget *kankyo_trend_chart_new (void);

/* Not owned: @historian stays open while the chart has it. Reads in flight
 * are finished before this returns or the chart is disposed. */
void kankyo_trend_chart_set_historian (KankyoTrendChart *self, KankyoHistorian *historian);

/* Adds a pen for @tag ("device.tag"); @label and @unit may be NULL (the
 * tag's name, and the unit the historian knows). Returns its index, or -1
 * when the chart already has KANKYO_TREND_CHART_MAX_PENS pens or the tag. */
int kankyo_trend_chart_add_pen (KankyoTrendChart *self, const char *tag, const char *label, const char *unit);
gboolean kankyo_trend_chart_remove_pen (KankyoTrendChart *self, const char *tag);
void kankyo_trend_chart_clear_pens (KankyoTrendChart *self);
guint kankyo_trend_chart_get_n_pens (KankyoTrendChart *self);
/* -1 when the chart has no pen for @tag. */
int kankyo_trend_chart_find_pen (KankyoTrendChart *self, const char *tag);
const char *kankyo_trend_chart_get_pen_tag (KankyoTrendChart *self, guint index);
const char *kankyo_trend_chart_get_pen_label (KankyoTrendChart *self, guint index);
/* The unit given or read from the historian; NULL while unknown. */
const char *kankyo_trend_chart_get_pen_unit (KankyoTrendChart *self, guint index);
void kankyo_trend_chart_get_pen_color (KankyoTrendChart *self, guint index, GdkRGBA *ret_color);
KankyoTrendMarker kankyo_trend_chart_get_pen_marker (KankyoTrendChart *self, guint index);
/* A small picture of the pen's line and marker, for lists. */
GtkWidget *kankyo_trend_chart_create_pen_key (KankyoTrendChart *self, guint index);

/* The last @preset, ending now, in live mode. */
void kankyo_trend_chart_set_preset (KankyoTrendChart *self, KankyoTrendRange preset);
KankyoTrendRange kankyo_trend_chart_get_preset (KankyoTrendChart *self);
gint64 kankyo_trend_range_get_span (KankyoTrendRange preset);
/* A fixed range; leaves live mode. Spans are clamped to MIN/MAX_SPAN_US. */
void kankyo_trend_chart_set_range (KankyoTrendChart *self, gint64 from, gint64 to);
void kankyo_trend_chart_get_range (KankyoTrendChart *self, gint64 *ret_from, gint64 *ret_to);
/* Live: the view follows the clock, keeping the span; its end is the next
 * tenth of the span after now. */
void kankyo_trend_chart_set_live (KankyoTrendChart *self, gboolean live);
gboolean kankyo_trend_chart_get_live (KankyoTrendChart *self);
/* Pens in lanes one above the other (the default), or over each other
 * with their axes side by side. */
void kankyo_trend_chart_set_stacked (KankyoTrendChart *self, gboolean stacked);
gboolean kankyo_trend_chart_get_stacked (KankyoTrendChart *self);

/* The area the lines are drawn in, in widget coordinates, and the
 * mapping between its x and time in the current view. */
gboolean kankyo_trend_chart_get_plot_area (KankyoTrendChart *self, graphene_rect_t *ret_area);
/* Where pen @index is drawn: its lane when stacked, else the plot. */
gboolean kankyo_trend_chart_get_pen_area (KankyoTrendChart *self, guint index, graphene_rect_t *ret_area);
double kankyo_trend_chart_time_to_x (KankyoTrendChart *self, gint64 time);
gint64 kankyo_trend_chart_x_to_time (KankyoTrendChart *self, double x);

/* The cursor: a vertical line that reads every pen. Setting it pins it;
 * without a pinned cursor it follows the pointer. */
void kankyo_trend_chart_set_cursor (KankyoTrendChart *self, gint64 time);
void kankyo_trend_chart_clear_cursor (KankyoTrendChart *self);
gboolean kankyo_trend_chart_get_cursor (KankyoTrendChart *self, gint64 *ret_time);
/* The sample in force at the cursor's time for pen @index (the last one
 * at or before it). Returns FALSE while it is being read or without a
 * cursor; then @ret_found tells whether there is a sample at all. */
gboolean kankyo_trend_chart_get_cursor_sample (KankyoTrendChart *self,
                                               guint index,
                                               gboolean *ret_found,
                                               KankyoHistorianSample *ret_sample);
/* The readout as shown: the cursor's time, then a line per pen. NULL
 * without a cursor. */
char *kankyo_trend_chart_get_cursor_readout (KankyoTrendChart *self);

/* Where pen @index has no line because quality was Bad, in the data read
 * so far for the current view: pairs of UTC µs (start, end), merged. */
GArray *kankyo_trend_chart_get_bad_ranges (KankyoTrendChart *self, guint index);
/* A read is in flight or about to start. */
gboolean kankyo_trend_chart_is_loading (KankyoTrendChart *self);
/* The last read error, or NULL. */
const char *kankyo_trend_chart_get_error (KankyoTrendChart *self);
/* How many times the chart has been drawn, for benchmarks. */
guint64 kankyo_trend_chart_get_n_paints (KankyoTrendChart *self);

G_END_DECLS
