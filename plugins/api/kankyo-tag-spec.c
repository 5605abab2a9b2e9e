/* kankyo-tag-spec.c: tag descriptions and the range check every write
 * passes, whoever sends it. */
#include "kankyo-tag-spec.h"

#include <glib/gi18n-lib.h>
#include <math.h>

void
kankyo_alarm_limits_init (KankyoAlarmLimits *limits)
{
  limits->high_high = NAN;
  limits->high = NAN;
  limits->low = NAN;
  limits->low_low = NAN;
  limits->deadband = 0.0;
  limits->on_delay = 0.0;
  limits->off_delay = 0.0;
  limits->deviation_setpoint = NULL;
  limits->deviation = NAN;
  limits->rate = NAN;
  limits->state = -1;
  for (guint i = 0; i < KANKYO_ALARM_LIMIT_N_KINDS; i++)
    limits->priority[i] = -1;
  limits->latching = FALSE;
  limits->message = NULL;
  limits->guidance = NULL;
  limits->display = NULL;
  limits->suppressed_by = NULL;
  limits->suppressed_value = NAN;
}

gboolean
kankyo_alarm_limits_is_set (const KankyoAlarmLimits *limits)
{
  return !isnan (limits->high_high) || !isnan (limits->high) || !isnan (limits->low)
         || !isnan (limits->low_low) || !isnan (limits->deviation) || !isnan (limits->rate)
         || limits->state >= 0;
}

void
kankyo_alarm_limits_copy (const KankyoAlarmLimits *src, KankyoAlarmLimits *dest)
{
  *dest = *src;
  dest->deviation_setpoint = g_strdup (src->deviation_setpoint);
  dest->message = g_strdup (src->message);
  dest->guidance = g_strdup (src->guidance);
  dest->display = g_strdup (src->display);
  dest->suppressed_by = g_strdup (src->suppressed_by);
}

void
kankyo_alarm_limits_clear (KankyoAlarmLimits *limits)
{
  g_free (limits->deviation_setpoint);
  g_free (limits->message);
  g_free (limits->guidance);
  g_free (limits->display);
  g_free (limits->suppressed_by);
  kankyo_alarm_limits_init (limits);
}

KankyoTagSpec *
kankyo_tag_spec_new (void)
{
  KankyoTagSpec *spec = g_new0 (KankyoTagSpec, 1);

  spec->min = NAN;
  spec->max = NAN;
  kankyo_alarm_limits_init (&spec->alarms);
  spec->history.heartbeat_s = KANKYO_HISTORY_DEFAULT_HEARTBEAT_S;
  kankyo_register_spec_init (&spec->reg);
  spec->value_type = kankyo_register_spec_value_type (&spec->reg);
  return spec;
}

KankyoTagSpec *
kankyo_tag_spec_copy (const KankyoTagSpec *spec)
{
  KankyoTagSpec *copy = g_memdup2 (spec, sizeof *spec);

  copy->name = g_strdup (spec->name);
  copy->label = g_strdup (spec->label);
  copy->unit = g_strdup (spec->unit);
  copy->description = g_strdup (spec->description);
  copy->symbol = g_strdup (spec->symbol);
  copy->history.tag_class = g_strdup (spec->history.tag_class);
  kankyo_alarm_limits_copy (&spec->alarms, &copy->alarms);
  return copy;
}

void
kankyo_tag_spec_free (KankyoTagSpec *spec)
{
  if (spec == NULL)
    return;
  g_free (spec->name);
  g_free (spec->label);
  g_free (spec->unit);
  g_free (spec->description);
  g_free (spec->symbol);
  g_free (spec->history.tag_class);
  kankyo_alarm_limits_clear (&spec->alarms);
  g_free (spec);
}

gboolean
kankyo_tag_spec_check_value (const KankyoTagSpec *spec, const KankyoValue *value, GError **error)
{
  double d;

  if (spec->value_type == KANKYO_VALUE_BOOL)
    {
      if (value->type != KANKYO_VALUE_BOOL)
        {
          g_set_error (error, KANKYO_VALUE_ERROR, KANKYO_VALUE_ERROR_TYPE, _ ("%s takes true or false"),
                       spec->name);
          return FALSE;
        }
      return TRUE;
    }
  if (value->type == KANKYO_VALUE_NONE || value->type == KANKYO_VALUE_STRING
      || value->type == KANKYO_VALUE_BOOL)
    {
      g_set_error (error, KANKYO_VALUE_ERROR, KANKYO_VALUE_ERROR_TYPE, _ ("%s takes a number"), spec->name);
      return FALSE;
    }

  d = kankyo_value_to_double (value);
  if (!isfinite (d))
    {
      g_set_error (error, KANKYO_VALUE_ERROR, KANKYO_VALUE_ERROR_TYPE, _ ("%s takes a finite number"),
                   spec->name);
      return FALSE;
    }
  if ((spec->value_type == KANKYO_VALUE_INT || spec->value_type == KANKYO_VALUE_UINT) && d != floor (d))
    {
      g_set_error (error, KANKYO_VALUE_ERROR, KANKYO_VALUE_ERROR_TYPE, _ ("%s takes a whole number, not %g"),
                   spec->name, d);
      return FALSE;
    }
  if ((!isnan (spec->min) && d < spec->min) || (!isnan (spec->max) && d > spec->max))
    {
      g_set_error (error, KANKYO_VALUE_ERROR, KANKYO_VALUE_ERROR_OUT_OF_RANGE,
                   _ ("%g %s is outside the range of %s (%g to %g %s)"), d, spec->unit ? spec->unit : "",
                   spec->name, spec->min, spec->max, spec->unit ? spec->unit : "");
      return FALSE;
    }
  return TRUE;
}

char *
kankyo_tag_spec_format_value (const KankyoTagSpec *spec, const KankyoValue *value)
{
  if (value->type == KANKYO_VALUE_DOUBLE && isfinite (value->v.d)
      && spec->reg.data_type == KANKYO_DATA_FLOAT32 && spec->reg.gain == 1.0 && spec->reg.offset == 0.0)
    return kankyo_format_double (value->v.d, 9);
  return kankyo_value_to_string (value);
}
