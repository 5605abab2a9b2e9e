/* kankyo-alarm-history.h: the alarm and event journal, and alarm performance.
 *
 * A window with two pages. The journal: search alarms.db by time range,
 * tag, area, priority, event, state and user; the records found in a list,
 * newest first; everything the search finds exported as CSV, with its
 * progress shown and a way to cancel it. The performance: the ISA-18.2
 * figures of a period (alarms per hour, floods, chattering and stale
 * alarms, the top ten) shown in the window and exported as a PDF. Every
 * read and write of a file runs off the GTK main thread.
 */
#pragma once

#include <gtk/gtk.h>

#include "kankyo-alarm-journal.h"
#include "kankyo-engine.h"

G_BEGIN_DECLS

#define KANKYO_TYPE_ALARM_HISTORY (kankyo_alarm_history_get_type ())
G_DECLARE_FINAL_TYPE (KankyoAlarmHistory, kankyo_alarm_history, KANKYO, ALARM_HISTORY, GtkWindow)

/* @parent may be NULL. The window searches the last 24 hours at once. */
KankyoAlarmHistory *kankyo_alarm_history_new (GtkWindow *parent, KankyoEngine *engine);

/* Runs the search the journal page's fields describe; a search already
 * running is cancelled. Problems with the fields show on the page. */
void kankyo_alarm_history_search (KankyoAlarmHistory *self);
gboolean kankyo_alarm_history_is_searching (KankyoAlarmHistory *self);
/* What the last search found, newest first. */
guint kankyo_alarm_history_get_n_results (KankyoAlarmHistory *self);
const KankyoAlarmRecord *kankyo_alarm_history_get_result (KankyoAlarmHistory *self, guint index);

/* What the export button runs once a file is chosen: every record the
 * last search's fields find, as CSV. */
void kankyo_alarm_history_export_csv (KankyoAlarmHistory *self, GFile *file);
gboolean kankyo_alarm_history_is_exporting (KankyoAlarmHistory *self);

/* Shows the performance page and computes the period it names. */
void kankyo_alarm_history_show_performance (KankyoAlarmHistory *self);
gboolean kankyo_alarm_history_is_computing (KankyoAlarmHistory *self);
/* The figures shown, or NULL before the first computation ends. */
const KankyoAlarmPerformance *kankyo_alarm_history_get_performance (KankyoAlarmHistory *self);
/* The PDF button's work once a file is chosen. */
void kankyo_alarm_history_export_pdf (KankyoAlarmHistory *self, GFile *file);

G_END_DECLS
