/* kankyo-write-dialog.h: changing a setpoint or giving a command.
 *
 * Shows the current value and the tag's limits, takes the new value and a
 * required reason, asks for confirmation, and sends it through the engine's
 * one write path; the read-back result (or the error) appears in the dialog
 * when it arrives. The dialog never waits on the device.
 */
#pragma once

#include <gtk/gtk.h>

#include "kankyo-engine.h"

G_BEGIN_DECLS

#define KANKYO_TYPE_WRITE_DIALOG (kankyo_write_dialog_get_type ())
G_DECLARE_FINAL_TYPE (KankyoWriteDialog, kankyo_write_dialog, KANKYO, WRITE_DIALOG, GtkWindow)

KankyoWriteDialog *kankyo_write_dialog_new (GtkWindow *parent, KankyoEngine *engine, const char *tag);

G_END_DECLS
