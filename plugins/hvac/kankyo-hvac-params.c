/* kankyo-hvac-params.c: reading a device's simulation: section.
 *
 * The project parser hands the section over as it was written: mappings,
 * lists and text, no numbers. Each model states which keys it knows and
 * reads values through these helpers, so that a typo in a key, a number
 * with a comma or a room that the suite does not have is refused when the
 * simulation starts, with the parameter's full name ("doors.fill.every"),
 * instead of being ignored. Numbers are read with g_ascii_strtod () so that
 * the plant engineer's locale cannot change them.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <stdarg.h>

#include "kankyo-hvac-private.h"

char *
_kankyo_hvac_room_signal (const char *room, const char *quantity)
{
  return g_strdup_printf ("room.%s.%s", room, quantity);
}

int
_kankyo_hvac_room_index (const char *name, gboolean outside_ok)
{
  const KankyoHvacSuiteParams *demo = kankyo_hvac_demo_suite ();

  if (outside_ok && g_str_equal (name, "outside"))
    return KANKYO_HVAC_OUTSIDE;
  for (guint i = 0; i < demo->n_rooms; i++)
    if (g_str_equal (name, demo->rooms[i].name))
      return (int) i;
  return KANKYO_HVAC_NO_ROOM;
}

static char *
room_names (gboolean outside_ok)
{
  const KankyoHvacSuiteParams *demo = kankyo_hvac_demo_suite ();
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < demo->n_rooms; i++)
    g_string_append_printf (s, "%s%s", i > 0 ? ", " : "", demo->rooms[i].name);
  if (outside_ok)
    g_string_append (s, ", outside");
  return g_string_free (s, FALSE);
}

char *
_kankyo_hvac_params_join (const char *path, const char *key)
{
  if (path == NULL || *path == '\0')
    return g_strdup (key);
  if (key == NULL)
    return g_strdup (path);
  return g_strconcat (path, ".", key, NULL);
}

gboolean
_kankyo_hvac_params_fail (GError **error, const char *path, const char *key, const char *format, ...)
{
  g_autofree char *where = _kankyo_hvac_params_join (path, key);
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, KANKYO_HVAC_ERROR, KANKYO_HVAC_ERROR_INVALID, "simulation: %s: %s", where, message);
  return FALSE;
}

gboolean
_kankyo_hvac_params_check_keys (GVariant *dict, const char *path, const char *const *known, GError **error)
{
  GVariantIter iter;
  const char *key;

  if (dict == NULL)
    return TRUE;
  g_variant_iter_init (&iter, dict);
  while (g_variant_iter_next (&iter, "{&s*}", &key, NULL))
    if (!g_strv_contains (known, key))
      {
        g_autofree char *list = g_strjoinv (", ", (char **) known);

        return _kankyo_hvac_params_fail (error, path, key, _ ("unknown parameter; expected one of: %s"),
                                         list);
      }
  return TRUE;
}

gboolean
_kankyo_hvac_params_get_text (
    GVariant *dict, const char *path, const char *key, const char **ret, GError **error)
{
  g_autoptr (GVariant) value = dict ? g_variant_lookup_value (dict, key, NULL) : NULL;

  if (value == NULL)
    return TRUE;
  if (!g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
    return _kankyo_hvac_params_fail (error, path, key, _ ("expected text, found a mapping or a list"));
  /* The string lives as long as @dict, which holds it. */
  *ret = g_variant_get_string (value, NULL);
  return TRUE;
}

/* A number as text, whole or with a decimal point, nothing after it. */
static gboolean
parse_number (const char *text, double *ret, const char **ret_end)
{
  char *end = NULL;
  double v;

  if (text == NULL || !(g_ascii_isdigit (*text) || *text == '-' || *text == '+' || *text == '.')
      || g_ascii_strncasecmp (text + (*text == '-' || *text == '+'), "0x", 2) == 0)
    return FALSE;
  v = g_ascii_strtod (text, &end);
  if (end == text || !isfinite (v))
    return FALSE;
  *ret = v;
  *ret_end = end;
  return TRUE;
}

static char *
number_text (double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  return g_strdup (g_ascii_dtostr (buf, sizeof buf, v));
}

gboolean
_kankyo_hvac_params_get_number (
    GVariant *dict, const char *path, const char *key, double min, double max, double *ret, GError **error)
{
  const char *text = NULL;
  const char *end = NULL;
  double v;

  if (!_kankyo_hvac_params_get_text (dict, path, key, &text, error))
    return FALSE;
  if (text == NULL)
    return TRUE;
  if (!parse_number (text, &v, &end) || *end != '\0' || v < min || v > max)
    {
      g_autofree char *lo = number_text (min);
      g_autofree char *hi = number_text (max);

      return _kankyo_hvac_params_fail (error, path, key, _ ("expected a number from %s to %s, found '%s'"),
                                       lo, hi, text);
    }
  *ret = v;
  return TRUE;
}

static char *
duration_text (double seconds)
{
  if (seconds >= 3600.0 && fmod (seconds, 3600.0) == 0.0)
    return g_strdup_printf ("%.0fh", seconds / 3600.0);
  if (seconds >= 60.0 && fmod (seconds, 60.0) == 0.0)
    return g_strdup_printf ("%.0fmin", seconds / 60.0);
  if (fmod (seconds, 1.0) == 0.0)
    return g_strdup_printf ("%.0fs", seconds);
  return g_strdup_printf ("%.0fms", seconds * 1000.0);
}

gboolean
_kankyo_hvac_params_get_duration (
    GVariant *dict, const char *path, const char *key, double min, double max, double *ret, GError **error)
{
  static const struct
  {
    const char *unit;
    double seconds;
  } units[] = {
    { "", 0.001 }, { "ms", 0.001 }, { "s", 1.0 }, { "min", 60.0 }, { "h", 3600.0 },
  };
  const char *text = NULL;
  const char *end = NULL;
  double number, seconds = -1.0;

  if (!_kankyo_hvac_params_get_text (dict, path, key, &text, error))
    return FALSE;
  if (text == NULL)
    return TRUE;
  if (g_ascii_isdigit (*text) && parse_number (text, &number, &end))
    {
      while (*end == ' ')
        end++;
      for (guint i = 0; i < G_N_ELEMENTS (units); i++)
        if (g_str_equal (end, units[i].unit))
          {
            /* A bare number is whole milliseconds, as in the project file. */
            if (*units[i].unit == '\0' && number != floor (number))
              break;
            seconds = number * units[i].seconds;
            break;
          }
    }
  if (!(seconds >= min && seconds <= max))
    {
      g_autofree char *lo = duration_text (min);
      g_autofree char *hi = duration_text (max);

      return _kankyo_hvac_params_fail (
          error, path, key, _ ("expected a duration such as 30s or 12min, from %s to %s, found '%s'"), lo, hi,
          text);
    }
  *ret = seconds;
  return TRUE;
}

static gboolean
room_from_text (
    const char *text, const char *path, const char *key, gboolean outside_ok, int *ret, GError **error)
{
  int room = _kankyo_hvac_room_index (text, outside_ok);

  if (room == KANKYO_HVAC_NO_ROOM)
    {
      g_autofree char *names = room_names (outside_ok);

      return _kankyo_hvac_params_fail (error, path, key, _ ("expected one of %s, found '%s'"), names, text);
    }
  *ret = room;
  return TRUE;
}

gboolean
_kankyo_hvac_params_get_room (
    GVariant *dict, const char *path, const char *key, gboolean outside_ok, int *ret, GError **error)
{
  const char *text = NULL;

  if (!_kankyo_hvac_params_get_text (dict, path, key, &text, error))
    return FALSE;
  if (text == NULL)
    return TRUE;
  return room_from_text (text, path, key, outside_ok, ret, error);
}

gboolean
_kankyo_hvac_params_get_room_pair (
    GVariant *dict, const char *path, const char *key, int ret[2], GError **error)
{
  g_autoptr (GVariant) list = dict ? g_variant_lookup_value (dict, key, NULL) : NULL;
  int pair[2];

  if (list == NULL)
    return TRUE;
  if (!g_variant_is_of_type (list, G_VARIANT_TYPE ("av")) || g_variant_n_children (list) != 2)
    return _kankyo_hvac_params_fail (error, path, key,
                                     _ ("expected a list of two different rooms such as [fill, corridor]"));
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr (GVariant) item = g_variant_get_child_value (list, i);
      g_autoptr (GVariant) inner = g_variant_get_variant (item);

      if (!g_variant_is_of_type (inner, G_VARIANT_TYPE_STRING))
        return _kankyo_hvac_params_fail (
            error, path, key, _ ("expected a list of two different rooms such as [fill, corridor]"));
      if (!room_from_text (g_variant_get_string (inner, NULL), path, key, TRUE, &pair[i], error))
        return FALSE;
    }
  if (pair[0] == pair[1])
    return _kankyo_hvac_params_fail (error, path, key,
                                     _ ("expected a list of two different rooms such as [fill, corridor]"));
  ret[0] = pair[0];
  ret[1] = pair[1];
  return TRUE;
}

gboolean
_kankyo_hvac_params_get_container (GVariant *dict,
                                   const char *path,
                                   const char *key,
                                   const GVariantType *type,
                                   GVariant **ret,
                                   GError **error)
{
  g_autoptr (GVariant) value = dict ? g_variant_lookup_value (dict, key, NULL) : NULL;

  if (value == NULL)
    return TRUE;
  if (!g_variant_is_of_type (value, type))
    return _kankyo_hvac_params_fail (error, path, key,
                                     g_variant_type_equal (type, G_VARIANT_TYPE_VARDICT)
                                         ? _ ("expected a mapping")
                                         : _ ("expected a list"));
  *ret = g_steal_pointer (&value);
  return TRUE;
}

/* Box-Muller, from the device's own random source so that a run repeats. */
double
_kankyo_hvac_gaussian (GRand *rand)
{
  double u = g_rand_double_range (rand, G_MINDOUBLE, 1.0);
  double v = g_rand_double (rand);

  return sqrt (-2.0 * log (u)) * cos (2.0 * G_PI * v);
}
