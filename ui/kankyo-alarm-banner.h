/* kankyo-alarm-banner.h: the alarm banner, and what the alarm screens share.
 *
 * The banner sits at the top of the main window whatever level is shown:
 * the alarms that most need the operator (waiting for acknowledgement
 * first, then by priority, newest first) with their priority mark, time,
 * message and state; the number of alarms of each priority; the way to the
 * alarm summary; and the alarm sound, which repeats while an alarm waits
 * for acknowledgement unless this station is silenced.
 *
 * The words and marks for priorities, states and events are shared here
 * so the banner, the summary and the history say the same thing the same
 * way, with the shapes the mimic draws.
 */
#pragma once

#include <gtk/gtk.h>

#include "kankyo-alarm-engine.h"
#include "kankyo-engine.h"

G_BEGIN_DECLS

#define KANKYO_ALARM_BANNER_LINES 3

#define KANKYO_TYPE_ALARM_BANNER (kankyo_alarm_banner_get_type ())
G_DECLARE_FINAL_TYPE (KankyoAlarmBanner, kankyo_alarm_banner, KANKYO, ALARM_BANNER, GtkWidget)

/* The banner's lines activate "alarm.show" (s: the alarm id) and its
 * summary button "alarm.summary", which the main window provides. */
GtkWidget *kankyo_alarm_banner_new (KankyoEngine *engine);

/* Property "ringing": the sound repeats now, because an alarm of low
 * priority or above waits for acknowledgement and the station is not
 * silenced. True also where there is no audio device to hear it. */
gboolean kankyo_alarm_banner_get_ringing (KankyoAlarmBanner *self);
/* Property "silenced": this station's choice, kept in GSettings
 * (alarm-sound-silenced) when the schema is installed. */
gboolean kankyo_alarm_banner_get_silenced (KankyoAlarmBanner *self);
void kankyo_alarm_banner_set_silenced (KankyoAlarmBanner *self, gboolean silenced);
/* The alarm shown on line @line (0 on top), or NULL for an empty line. */
const char *kankyo_alarm_banner_get_line_alarm (KankyoAlarmBanner *self, guint line);
/* How many annunciated alarms of @priority there are; with
 * @unacknowledged_only, only those that wait for acknowledgement. */
guint kankyo_alarm_banner_get_count (KankyoAlarmBanner *self,
                                     KankyoAlarmPriority priority,
                                     gboolean unacknowledged_only);

/* A priority's mark (the mimic's shape and number in its colour), sized
 * for a line of text. */
#define KANKYO_TYPE_ALARM_MARK (kankyo_alarm_mark_get_type ())
G_DECLARE_FINAL_TYPE (KankyoAlarmMark, kankyo_alarm_mark, KANKYO, ALARM_MARK, GtkWidget)

GtkWidget *kankyo_alarm_mark_new (KankyoAlarmPriority priority);
void kankyo_alarm_mark_set_priority (KankyoAlarmMark *self, KankyoAlarmPriority priority);

/* A cell of the alarm lists: an optional priority mark and one line of
 * text, ellipsized, its full text in a tooltip. A GtkColumnView of GTK 4.8
 * keeps two hundred rows bound whatever it shows; these cells have a fixed
 * height and no natural width, so a change of text costs a redraw of the
 * rows on screen, never a new measure of the two hundred. */
#define KANKYO_TYPE_ALARM_CELL (kankyo_alarm_cell_get_type ())
G_DECLARE_FINAL_TYPE (KankyoAlarmCell, kankyo_alarm_cell, KANKYO, ALARM_CELL, GtkWidget)

/* @with_mark: room for a priority mark before the text; @numeric: figures
 * of one width, for times and values. */
GtkWidget *kankyo_alarm_cell_new (gboolean with_mark, gboolean numeric);
/* @bold for what waits for the operator, so it stands out by weight. */
void kankyo_alarm_cell_set_text (KankyoAlarmCell *self, const char *text, gboolean bold);
const char *kankyo_alarm_cell_get_text (KankyoAlarmCell *self);
void kankyo_alarm_cell_set_priority (KankyoAlarmCell *self, KankyoAlarmPriority priority);

/* Words for people, translated: "High", "Unacknowledged", "Acknowledged". */
const char *kankyo_alarm_priority_label (KankyoAlarmPriority priority);
const char *kankyo_alarm_state_label (KankyoAlarmState state);
const char *kankyo_alarm_event_label (KankyoAlarmEvent event);
/* Local time of @utc_us: "14:03:27", or with @with_date
 * "2024-05-03 14:03:27"; "" for 0. */
char *kankyo_alarm_format_time (gint64 utc_us, gboolean with_date);
/* The value as the tag shows it, with its unit ("24.3 degC"); "" for NAN. */
char *kankyo_alarm_format_value (KankyoTagStore *store, const char *tag, double value);

G_END_DECLS
