/* kankyo-faceplate.h: one device's tags, live (ISA-101 level 3).
 *
 * Every tag of the device with its value, unit, quality and timestamp, a
 * small sparkline per analog tag, and a control for each writable tag that
 * opens the write dialog. Stale and bad values are marked by shape and
 * text, never by colour alone.
 */
#pragma once

#include <gtk/gtk.h>

#include "kankyo-engine.h"

G_BEGIN_DECLS

#define KANKYO_TYPE_FACEPLATE (kankyo_faceplate_get_type ())
G_DECLARE_FINAL_TYPE (KankyoFaceplate, kankyo_faceplate, KANKYO, FACEPLATE, GtkWidget)

GtkWidget *kankyo_faceplate_new (KankyoEngine *engine, const char *device);
const char *kankyo_faceplate_get_device (KankyoFaceplate *self);

/* A quality in the operator's words ("Bad: communication lost"), for every
 * place the HMI shows one; kankyoctl prints the OPC UA names instead. */
const char *kankyo_quality_describe (KankyoQuality quality);

G_END_DECLS
