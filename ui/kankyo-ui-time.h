/* kankyo-ui-time.h: times as operators read and type them.
 *
 * Every screen shows times in the station's time zone and takes them typed
 * the same way, so the faceplate, the trend window and the alarm history
 * agree on what "14:30" means.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* @utc_us in the local zone with a g_date_time_format() @format; "?" when
 * the time cannot be shown. */
char *kankyo_ui_format_local (gint64 utc_us, const char *format);

/* "2024-05-03 14:30" or "2024-05-03 14:30:15" (a 'T' may stand for the
 * space), local time, surrounding spaces ignored. FALSE for anything else,
 * including dates that do not exist; @ret_us is then untouched. */
gboolean kankyo_ui_parse_local (const char *text, gint64 *ret_us);

G_END_DECLS
