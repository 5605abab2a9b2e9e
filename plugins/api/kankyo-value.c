/* kankyo-value.c: typed values and OPC UA style quality.
 *
 * Text conversion is locale-independent on purpose: a station set to a German
 * or Japanese locale must read "21.5" as twenty-one and a half.
 */
#include "kankyo-value.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

/* The first argument becomes the quark's name, so it must stay one word. */
/* clang-format off */
G_DEFINE_QUARK (kankyo-value-error-quark, kankyo_value_error)
/* clang-format on */

void
kankyo_value_clear (KankyoValue *value)
{
  if (value == NULL)
    return;
  if (value->type == KANKYO_VALUE_STRING)
    g_free (value->v.s);
  value->type = KANKYO_VALUE_NONE;
  memset (&value->v, 0, sizeof value->v);
}

void
kankyo_value_set_bool (KankyoValue *value, gboolean b)
{
  kankyo_value_clear (value);
  value->type = KANKYO_VALUE_BOOL;
  value->v.b = !!b;
}

void
kankyo_value_set_int (KankyoValue *value, gint64 i)
{
  kankyo_value_clear (value);
  value->type = KANKYO_VALUE_INT;
  value->v.i = i;
}

void
kankyo_value_set_uint (KankyoValue *value, guint64 u)
{
  kankyo_value_clear (value);
  value->type = KANKYO_VALUE_UINT;
  value->v.u = u;
}

void
kankyo_value_set_double (KankyoValue *value, double d)
{
  kankyo_value_clear (value);
  value->type = KANKYO_VALUE_DOUBLE;
  value->v.d = d;
}

void
kankyo_value_set_string (KankyoValue *value, const char *s)
{
  char *copy = g_strdup (s ? s : "");

  kankyo_value_clear (value);
  value->type = KANKYO_VALUE_STRING;
  value->v.s = copy;
}

void
kankyo_value_copy (const KankyoValue *src, KankyoValue *dest)
{
  if (src == dest)
    return;
  if (src->type == KANKYO_VALUE_STRING)
    {
      kankyo_value_set_string (dest, src->v.s);
      return;
    }
  kankyo_value_clear (dest);
  *dest = *src;
}

gboolean
kankyo_value_equal (const KankyoValue *a, const KankyoValue *b)
{
  if (a->type != b->type)
    return FALSE;
  switch (a->type)
    {
      case KANKYO_VALUE_NONE:
        return TRUE;
      case KANKYO_VALUE_BOOL:
        return a->v.b == b->v.b;
      case KANKYO_VALUE_INT:
        return a->v.i == b->v.i;
      case KANKYO_VALUE_UINT:
        return a->v.u == b->v.u;
      case KANKYO_VALUE_DOUBLE:
        /* Two NaNs are the same reading for change detection. */
        return a->v.d == b->v.d || (isnan (a->v.d) && isnan (b->v.d));
      case KANKYO_VALUE_STRING:
        return g_strcmp0 (a->v.s, b->v.s) == 0;
      default:
        return FALSE;
    }
}

double
kankyo_value_to_double (const KankyoValue *value)
{
  switch (value->type)
    {
      case KANKYO_VALUE_BOOL:
        return value->v.b ? 1.0 : 0.0;
      case KANKYO_VALUE_INT:
        return (double) value->v.i;
      case KANKYO_VALUE_UINT:
        return (double) value->v.u;
      case KANKYO_VALUE_DOUBLE:
        return value->v.d;
      case KANKYO_VALUE_STRING:
        {
          char *end = NULL;
          double d;

          if (value->v.s == NULL || *value->v.s == '\0')
            return NAN;
          d = g_ascii_strtod (value->v.s, &end);
          return (end != NULL && *end == '\0') ? d : NAN;
        }
      case KANKYO_VALUE_NONE:
      default:
        return NAN;
    }
}

char *
kankyo_format_double (double d, int max_digits)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  char fmt[8];

  /* The shortest text that reads back as the same number (as a float when
   * max_digits is 9), so 23.4 prints as 23.4 and not 23.399999999999999. */
  int first = 1;

  /* %g switches to an exponent when there are fewer digits than the integer
   * part has, so "20" would print as "2e+01": start with enough of them. */
  if (isfinite (d) && fabs (d) >= 1.0 && fabs (d) < 1e15)
    first = MIN ((int) floor (log10 (fabs (d))) + 1, max_digits);
  for (int p = first; p <= max_digits; p++)
    {
      g_snprintf (fmt, sizeof fmt, "%%.%dg", p);
      g_ascii_formatd (buf, sizeof buf, fmt, d);
      if (max_digits <= 9 ? (float) g_ascii_strtod (buf, NULL) == (float) d : g_ascii_strtod (buf, NULL) == d)
        break;
    }
  return g_strdup (buf);
}

char *
kankyo_value_to_string (const KankyoValue *value)
{
  switch (value->type)
    {
      case KANKYO_VALUE_BOOL:
        return g_strdup (value->v.b ? "true" : "false");
      case KANKYO_VALUE_INT:
        return g_strdup_printf ("%" G_GINT64_FORMAT, value->v.i);
      case KANKYO_VALUE_UINT:
        return g_strdup_printf ("%" G_GUINT64_FORMAT, value->v.u);
      case KANKYO_VALUE_DOUBLE:
        if (isnan (value->v.d))
          return g_strdup ("NaN");
        if (isinf (value->v.d))
          return g_strdup (value->v.d > 0 ? "Infinity" : "-Infinity");
        return kankyo_format_double (value->v.d, 17);
      case KANKYO_VALUE_STRING:
        return g_strdup (value->v.s);
      case KANKYO_VALUE_NONE:
      default:
        return g_strdup ("");
    }
}

static gboolean
parse_bool (const char *text, gboolean *ret)
{
  static const char *const yes[] = { "true", "on", "yes", "1", NULL };
  static const char *const no[] = { "false", "off", "no", "0", NULL };

  for (guint i = 0; yes[i] != NULL; i++)
    if (g_ascii_strcasecmp (text, yes[i]) == 0)
      {
        *ret = TRUE;
        return TRUE;
      }
  for (guint i = 0; no[i] != NULL; i++)
    if (g_ascii_strcasecmp (text, no[i]) == 0)
      {
        *ret = FALSE;
        return TRUE;
      }
  return FALSE;
}

gboolean
kankyo_value_parse (KankyoValueType type, const char *text, KankyoValue *ret_value, GError **error)
{
  g_autofree char *trimmed = NULL;
  char *end = NULL;

  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (ret_value != NULL, FALSE);

  if (strlen (text) > 4096)
    {
      g_set_error (error, KANKYO_VALUE_ERROR, KANKYO_VALUE_ERROR_PARSE,
                   _ ("value is %zu characters long; at most 4096 are accepted"), strlen (text));
      return FALSE;
    }
  trimmed = g_strstrip (g_strdup (text));

  if (type != KANKYO_VALUE_STRING && *trimmed == '\0')
    {
      g_set_error (error, KANKYO_VALUE_ERROR, KANKYO_VALUE_ERROR_PARSE,
                   _ ("expected a %s value, found nothing"), kankyo_value_type_to_string (type));
      return FALSE;
    }

  switch (type)
    {
      case KANKYO_VALUE_BOOL:
        {
          gboolean b;

          if (!parse_bool (trimmed, &b))
            {
              g_set_error (error, KANKYO_VALUE_ERROR, KANKYO_VALUE_ERROR_PARSE,
                           _ ("expected true/false, on/off or 1/0, found '%s'"), trimmed);
              return FALSE;
            }
          kankyo_value_set_bool (ret_value, b);
          return TRUE;
        }
      case KANKYO_VALUE_INT:
        {
          gint64 i;

          errno = 0;
          i = g_ascii_strtoll (trimmed, &end, 10);
          if (errno != 0 || end == trimmed || *end != '\0')
            {
              g_set_error (error, KANKYO_VALUE_ERROR,
                           errno == ERANGE ? KANKYO_VALUE_ERROR_OUT_OF_RANGE : KANKYO_VALUE_ERROR_PARSE,
                           _ ("expected a whole number, found '%s'"), trimmed);
              return FALSE;
            }
          kankyo_value_set_int (ret_value, i);
          return TRUE;
        }
      case KANKYO_VALUE_UINT:
        {
          guint64 u;

          errno = 0;
          if (trimmed[0] == '-')
            {
              g_set_error (error, KANKYO_VALUE_ERROR, KANKYO_VALUE_ERROR_OUT_OF_RANGE,
                           _ ("expected a whole number of zero or more, found '%s'"), trimmed);
              return FALSE;
            }
          u = g_ascii_strtoull (trimmed, &end, 10);
          if (errno != 0 || end == trimmed || *end != '\0')
            {
              g_set_error (error, KANKYO_VALUE_ERROR,
                           errno == ERANGE ? KANKYO_VALUE_ERROR_OUT_OF_RANGE : KANKYO_VALUE_ERROR_PARSE,
                           _ ("expected a whole number of zero or more, found '%s'"), trimmed);
              return FALSE;
            }
          kankyo_value_set_uint (ret_value, u);
          return TRUE;
        }
      case KANKYO_VALUE_DOUBLE:
        {
          double d;

          errno = 0;
          d = g_ascii_strtod (trimmed, &end);
          if (errno != 0 || end == trimmed || *end != '\0' || !isfinite (d))
            {
              g_set_error (error, KANKYO_VALUE_ERROR, KANKYO_VALUE_ERROR_PARSE,
                           _ ("expected a number such as 21.5 (with a point, not a comma), found '%s'"),
                           trimmed);
              return FALSE;
            }
          kankyo_value_set_double (ret_value, d);
          return TRUE;
        }
      case KANKYO_VALUE_STRING:
        kankyo_value_set_string (ret_value, text);
        return TRUE;
      case KANKYO_VALUE_NONE:
      default:
        g_set_error (error, KANKYO_VALUE_ERROR, KANKYO_VALUE_ERROR_TYPE, _ ("the tag has no value type"));
        return FALSE;
    }
}

static const char *const value_type_names[] = {
  [KANKYO_VALUE_NONE] = "none", [KANKYO_VALUE_BOOL] = "bool",     [KANKYO_VALUE_INT] = "int",
  [KANKYO_VALUE_UINT] = "uint", [KANKYO_VALUE_DOUBLE] = "double", [KANKYO_VALUE_STRING] = "string",
};

const char *
kankyo_value_type_to_string (KankyoValueType type)
{
  if ((guint) type < G_N_ELEMENTS (value_type_names))
    return value_type_names[type];
  return "unknown";
}

gboolean
kankyo_value_type_from_string (const char *name, KankyoValueType *ret_type)
{
  for (guint i = 0; i < G_N_ELEMENTS (value_type_names); i++)
    if (g_strcmp0 (name, value_type_names[i]) == 0)
      {
        *ret_type = (KankyoValueType) i;
        return TRUE;
      }
  return FALSE;
}

static const char *const quality_names[] = {
  [KANKYO_QUALITY_GOOD] = "Good",
  [KANKYO_QUALITY_UNCERTAIN_LAST_USABLE_VALUE] = "Uncertain_LastUsableValue",
  [KANKYO_QUALITY_BAD_COMMUNICATION_ERROR] = "Bad_CommunicationError",
  [KANKYO_QUALITY_BAD_NO_COMMUNICATION] = "Bad_NoCommunication",
  [KANKYO_QUALITY_BAD_OUT_OF_SERVICE] = "Bad_OutOfService",
  [KANKYO_QUALITY_BAD_WAITING_FOR_INITIAL_DATA] = "Bad_WaitingForInitialData",
  [KANKYO_QUALITY_BAD_SENSOR_FAILURE] = "Bad_SensorFailure",
};

const char *
kankyo_quality_to_string (KankyoQuality quality)
{
  if ((guint) quality < G_N_ELEMENTS (quality_names))
    return quality_names[quality];
  return "Bad";
}

gboolean
kankyo_quality_is_good (KankyoQuality quality)
{
  return quality == KANKYO_QUALITY_GOOD;
}

gboolean
kankyo_quality_is_bad (KankyoQuality quality)
{
  return quality != KANKYO_QUALITY_GOOD && quality != KANKYO_QUALITY_UNCERTAIN_LAST_USABLE_VALUE;
}
