/* kankyo-alarm-summary.h: the alarm summary window.
 *
 * Every alarm that is not normal, filtered by text, area, priority and
 * state and sorted by any column, with many rows selectable: acknowledge
 * them (or every one shown), shelve them with a reason for a time no longer
 * than the alarm engine allows, unshelve them, reset latched ones; read the
 * selected alarm's guidance and go to the display that handles it. Every
 * action goes through the alarm engine without waiting for it, and its
 * result or error shows in the window.
 */
#pragma once

#include <gtk/gtk.h>

#include "kankyo-engine.h"

G_BEGIN_DECLS

#define KANKYO_TYPE_ALARM_SUMMARY (kankyo_alarm_summary_get_type ())
G_DECLARE_FINAL_TYPE (KankyoAlarmSummary, kankyo_alarm_summary, KANKYO, ALARM_SUMMARY, GtkWindow)

/* @parent (may be NULL) is the main window: "Go to display" activates its
 * "nav.area" action. */
KankyoAlarmSummary *kankyo_alarm_summary_new (GtkWindow *parent, KankyoEngine *engine);
/* Selects the alarm @id alone and scrolls to it, clearing the filters that
 * hide it; FALSE when it is not listed (it is normal, or not delivered
 * yet). */
gboolean kankyo_alarm_summary_select (KankyoAlarmSummary *self, const char *id);
/* Alarms listed in all, and those the filters show. */
guint kankyo_alarm_summary_get_n_alarms (KankyoAlarmSummary *self);
guint kankyo_alarm_summary_get_n_shown (KankyoAlarmSummary *self);
/* An action was sent and its result has not come back yet. */
gboolean kankyo_alarm_summary_is_busy (KankyoAlarmSummary *self);

G_END_DECLS
