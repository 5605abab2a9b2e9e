/* kankyo-mimic-view.h: a live process graphic.
 *
 * An area's mimic is an SVG drawing (made in Inkscape or any editor) and a
 * binding file that ties SVG element ids to tags and behaviours. The static
 * drawing is rendered once with librsvg; only the live parts (values,
 * states, levels, rotation, blinking, quality marks) are drawn per frame in
 * snapshot, so a change of one value never re-renders the SVG.
 */
#pragma once

#include <gtk/gtk.h>

#include "kankyo-engine.h"

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

/* Signal "device-activated" (const char *device): an element bound to a
 * device's tag was clicked or activated by keyboard. */

G_END_DECLS
