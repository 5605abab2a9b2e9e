/* kankyo-mimic-view.h: a live process graphic.
 *
 * An area's mimic is an SVG drawing (made in Inkscape or any editor) and a
 * binding file that ties SVG element ids to tags and behaviours. The static
 * drawing is rendered once with librsvg; only the live parts (values,
 * states, levels, rotation, blinking, quality marks) are drawn per frame in
 * snapshot, so a change of one value never re-renders the SVG. Elements
 * whose tags have alarms also show the alarm engine's state: the mark of
 * the alarm's priority, blinking until the alarm is acknowledged.
 */
#pragma once

#include <gtk/gtk.h>

#include "kankyo-alarm.h"
#include "kankyo-engine.h"
#include "kankyo-mimic-binding.h"

G_BEGIN_DECLS

#define KANKYO_TYPE_MIMIC_VIEW (kankyo_mimic_view_get_type ())
G_DECLARE_FINAL_TYPE (KankyoMimicView, kankyo_mimic_view, KANKYO, MIMIC_VIEW, GtkWidget)

GtkWidget *kankyo_mimic_view_new (KankyoEngine *engine);
/* @svg and @bindings are GFiles (local or resource://). On failure the view
 * shows the error (which file, which line, which element id) instead of a
 * drawing, and the error is returned too. */
gboolean kankyo_mimic_view_load (KankyoMimicView *self, GFile *svg, GFile *bindings, GError **error);

/* Where a bound element is drawn, in the view's coordinates: for tests that
 * look at the pixels of one element, and for placing popovers next to it.
 * FALSE when there is no such element or nothing is drawn yet. */
gboolean
kankyo_mimic_view_get_element_bounds (KankyoMimicView *self, const char *id, graphene_rect_t *ret_bounds);

/* The alarm an element shows: the ISA-101 state of the highest priority
 * annunciated alarm on the tags it reads (NORMAL for none; shelved,
 * suppressed and out-of-service alarms show nothing) in @ret_state, and in
 * @ret_blinking whether one of them waits for acknowledgement, which the
 * view shows by blinking its mark. FALSE when there is no such element. */
gboolean kankyo_mimic_view_get_element_alarm (KankyoMimicView *self,
                                              const char *id,
                                              KankyoMimicState *ret_state,
                                              gboolean *ret_blinking);

/* The mark of a state as the mimic draws it beside an element, so the
 * alarm banner and lists show the same shapes: a square with 1 for high
 * priority, a triangle with 2 for medium, a diamond with 3 for low, a
 * circle with ! for abnormal. Drawn in a @size square at the origin of @cr
 * with an outline @line_width wide; nothing for the grey states. */
void kankyo_mimic_paint_state_mark (cairo_t *cr, KankyoMimicState state, double size, double line_width);
/* The state class an alarm of @priority is drawn in (diagnostic alarms as
 * abnormal). */
KankyoMimicState kankyo_mimic_state_for_alarm_priority (KankyoAlarmPriority priority);

/* Signal "device-activated" (const char *device): an element bound to a
 * device's tag was clicked or activated by keyboard. */

G_END_DECLS
