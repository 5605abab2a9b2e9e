/* kankyo-ui-time.c: times as operators read and type them. */
#include "config.h"

#include "kankyo-ui-time.h"

#include <stdlib.h>

char *
kankyo_ui_format_local (gint64 utc_us, const char *format)
{
  g_autoptr (GDateTime) time = g_date_time_new_from_unix_local (utc_us / G_USEC_PER_SEC);

  return time != NULL ? g_date_time_format (time, format) : g_strdup ("?");
}

gboolean
kankyo_ui_parse_local (const char *text, gint64 *ret_us)
{
  static GRegex *regex;
  g_autoptr (GMatchInfo) match = NULL;
  g_autoptr (GDateTime) time = NULL;
  g_autofree char *trimmed = g_strstrip (g_strdup (text));
  int parts[6] = { 0 };

  if (g_once_init_enter (&regex))
    g_once_init_leave (&regex, g_regex_new ("^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})[ T]([0-9]{1,2}):([0-9]{2})"
                                            "(?::([0-9]{2}))?$",
                                            G_REGEX_OPTIMIZE, 0, NULL));
  if (!g_regex_match (regex, trimmed, 0, &match))
    return FALSE;
  for (int i = 0; i < 6; i++)
    {
      g_autofree char *part = g_match_info_fetch (match, i + 1);

      parts[i] = part != NULL && *part != '\0' ? atoi (part) : 0;
    }
  if (parts[1] < 1 || parts[1] > 12 || parts[2] < 1 || parts[2] > 31 || parts[3] > 23 || parts[4] > 59
      || parts[5] > 59)
    return FALSE;
  /* GLib moves 31 April to 1 May; such a date was not meant. */
  time = g_date_time_new_local (parts[0], parts[1], parts[2], parts[3], parts[4], parts[5]);
  if (time == NULL || g_date_time_get_day_of_month (time) != parts[2])
    return FALSE;
  *ret_us = g_date_time_to_unix (time) * G_USEC_PER_SEC;
  return TRUE;
}
