/* kankyo-alarm.c: the condition and the ISA-18.2 state machine of one alarm.
 *
 * The deadband works on the way back: a high alarm comes in above its limit
 * and goes out only below limit - deadband, so a value hovering at the
 * limit raises one alarm, not many. The delays work on time: the condition
 * must hold for on_delay before the alarm activates and be clear for
 * off_delay before it returns.
 *
 * Shelving, suppression by design and out of service hide the alarm but
 * not its condition, which keeps being judged underneath; when the alarm
 * comes back it shows what the process is doing then: still active comes
 * back unacknowledged, as a new alarm, and returned while hidden comes back
 * normal.
 */
#include "config.h"

#include "kankyo-alarm.h"

#include <math.h>

void
kankyo_alarm_init (KankyoAlarm *alarm, const KankyoAlarmCondition *condition, gboolean latching)
{
  g_return_if_fail (alarm != NULL);
  g_return_if_fail (condition != NULL);

  *alarm = (KankyoAlarm){ 0 };
  alarm->condition = *condition;
  alarm->latching = latching;
  alarm->last_value = NAN;
  alarm->state = KANKYO_ALARM_STATE_NORMAL;
}

/* The condition before delays, with the deadband on the way back. */
static gboolean
judge (KankyoAlarm *alarm, double value, double setpoint, gint64 now, gboolean *ret_judged)
{
  const KankyoAlarmCondition *c = &alarm->condition;
  gboolean was = alarm->raw_active;
  double x;

  *ret_judged = TRUE;
  switch (c->kind)
    {
      case KANKYO_ALARM_HIGH_HIGH:
      case KANKYO_ALARM_HIGH:
        return was ? value >= c->limit - c->deadband : value > c->limit;
      case KANKYO_ALARM_LOW:
      case KANKYO_ALARM_LOW_LOW:
        return was ? value <= c->limit + c->deadband : value < c->limit;
      case KANKYO_ALARM_DEVIATION:
        if (isnan (setpoint))
          {
            *ret_judged = FALSE;
            return was;
          }
        x = fabs (value - setpoint);
        return was ? x >= c->limit - c->deadband : x > c->limit;
      case KANKYO_ALARM_RATE:
        if (isnan (alarm->last_value) || now <= alarm->last_time)
          {
            *ret_judged = FALSE;
            return was;
          }
        x = fabs (value - alarm->last_value) / ((now - alarm->last_time) / (double) G_USEC_PER_SEC);
        return was ? x >= c->limit - c->deadband : x > c->limit;
      case KANKYO_ALARM_DIGITAL:
      case KANKYO_ALARM_COMM_FAIL:
      default:
        return (value != 0) == (c->limit != 0);
    }
}

KankyoAlarmEvent
kankyo_alarm_tick (KankyoAlarm *alarm, gint64 now)
{
  g_return_val_if_fail (alarm != NULL, KANKYO_ALARM_EVENT_NONE);

  if (alarm->raw_active && !alarm->active && now - alarm->raw_since >= alarm->condition.on_delay)
    {
      alarm->active = TRUE;
      return KANKYO_ALARM_EVENT_ACTIVATE;
    }
  if (!alarm->raw_active && alarm->active && now - alarm->raw_since >= alarm->condition.off_delay)
    {
      alarm->active = FALSE;
      return KANKYO_ALARM_EVENT_CLEAR;
    }
  return KANKYO_ALARM_EVENT_NONE;
}

KankyoAlarmEvent
kankyo_alarm_feed (KankyoAlarm *alarm, double value, double setpoint, gint64 now)
{
  gboolean judged, raw;

  g_return_val_if_fail (alarm != NULL, KANKYO_ALARM_EVENT_NONE);

  if (isnan (value))
    return kankyo_alarm_tick (alarm, now);
  raw = judge (alarm, value, setpoint, now, &judged);
  alarm->last_value = value;
  alarm->last_time = now;
  if (judged && raw != alarm->raw_active)
    {
      alarm->raw_active = raw;
      alarm->raw_since = now;
    }
  return kankyo_alarm_tick (alarm, now);
}

gboolean
kankyo_alarm_state_is_annunciated (KankyoAlarmState state)
{
  return state == KANKYO_ALARM_STATE_UNACK || state == KANKYO_ALARM_STATE_ACKED
         || state == KANKYO_ALARM_STATE_RTN_UNACK || state == KANKYO_ALARM_STATE_LATCHED;
}

gboolean
kankyo_alarm_state_needs_ack (KankyoAlarmState state)
{
  return state == KANKYO_ALARM_STATE_UNACK || state == KANKYO_ALARM_STATE_RTN_UNACK;
}

static gboolean
is_hidden (KankyoAlarmState state)
{
  return state == KANKYO_ALARM_STATE_SHELVED || state == KANKYO_ALARM_STATE_SUPPRESSED
         || state == KANKYO_ALARM_STATE_OUT_OF_SERVICE;
}

/* The next state, or the same state when @event does not apply. */
static KankyoAlarmState
next_state (const KankyoAlarm *alarm, KankyoAlarmEvent event)
{
  KankyoAlarmState s = alarm->state;
  KankyoAlarmState back = alarm->active ? KANKYO_ALARM_STATE_UNACK : KANKYO_ALARM_STATE_NORMAL;

  switch (event)
    {
      case KANKYO_ALARM_EVENT_ACTIVATE:
        if (s == KANKYO_ALARM_STATE_NORMAL || s == KANKYO_ALARM_STATE_RTN_UNACK
            || s == KANKYO_ALARM_STATE_LATCHED)
          return KANKYO_ALARM_STATE_UNACK;
        return s;
      case KANKYO_ALARM_EVENT_CLEAR:
        if (s == KANKYO_ALARM_STATE_UNACK)
          return KANKYO_ALARM_STATE_RTN_UNACK;
        if (s == KANKYO_ALARM_STATE_ACKED)
          return alarm->latching ? KANKYO_ALARM_STATE_LATCHED : KANKYO_ALARM_STATE_NORMAL;
        return s;
      case KANKYO_ALARM_EVENT_ACK:
        if (s == KANKYO_ALARM_STATE_UNACK)
          return KANKYO_ALARM_STATE_ACKED;
        if (s == KANKYO_ALARM_STATE_RTN_UNACK)
          return alarm->latching ? KANKYO_ALARM_STATE_LATCHED : KANKYO_ALARM_STATE_NORMAL;
        return s;
      case KANKYO_ALARM_EVENT_RESET:
        return s == KANKYO_ALARM_STATE_LATCHED ? KANKYO_ALARM_STATE_NORMAL : s;
      case KANKYO_ALARM_EVENT_SHELVE:
      case KANKYO_ALARM_EVENT_SUPPRESS:
        if (is_hidden (s))
          return s;
        return event == KANKYO_ALARM_EVENT_SHELVE ? KANKYO_ALARM_STATE_SHELVED
                                                  : KANKYO_ALARM_STATE_SUPPRESSED;
      case KANKYO_ALARM_EVENT_UNSHELVE:
      case KANKYO_ALARM_EVENT_SHELVE_EXPIRED:
        return s == KANKYO_ALARM_STATE_SHELVED ? back : s;
      case KANKYO_ALARM_EVENT_UNSUPPRESS:
        return s == KANKYO_ALARM_STATE_SUPPRESSED ? back : s;
      case KANKYO_ALARM_EVENT_REMOVE_FROM_SERVICE:
        return KANKYO_ALARM_STATE_OUT_OF_SERVICE;
      case KANKYO_ALARM_EVENT_RETURN_TO_SERVICE:
        return s == KANKYO_ALARM_STATE_OUT_OF_SERVICE ? back : s;
      case KANKYO_ALARM_EVENT_NONE:
      default:
        return s;
    }
}

gboolean
kankyo_alarm_apply (KankyoAlarm *alarm, KankyoAlarmEvent event, gint64 now, gint64 until)
{
  KankyoAlarmState next;

  g_return_val_if_fail (alarm != NULL, FALSE);

  next = next_state (alarm, event);
  if (next == alarm->state)
    return FALSE;
  alarm->state = next;
  alarm->state_time = now;
  alarm->shelved_until = next == KANKYO_ALARM_STATE_SHELVED ? until : 0;
  return TRUE;
}

const char *
kankyo_alarm_state_to_string (KankyoAlarmState state)
{
  static const char *const names[] = {
    [KANKYO_ALARM_STATE_NORMAL] = "normal",
    [KANKYO_ALARM_STATE_UNACK] = "unacknowledged",
    [KANKYO_ALARM_STATE_ACKED] = "acknowledged",
    [KANKYO_ALARM_STATE_RTN_UNACK] = "returned-unacknowledged",
    [KANKYO_ALARM_STATE_LATCHED] = "latched",
    [KANKYO_ALARM_STATE_SHELVED] = "shelved",
    [KANKYO_ALARM_STATE_SUPPRESSED] = "suppressed",
    [KANKYO_ALARM_STATE_OUT_OF_SERVICE] = "out-of-service",
  };

  return (guint) state < G_N_ELEMENTS (names) ? names[state] : "unknown";
}

const char *
kankyo_alarm_event_to_string (KankyoAlarmEvent event)
{
  static const char *const names[] = {
    [KANKYO_ALARM_EVENT_NONE] = "none",
    [KANKYO_ALARM_EVENT_ACTIVATE] = "activate",
    [KANKYO_ALARM_EVENT_CLEAR] = "clear",
    [KANKYO_ALARM_EVENT_ACK] = "acknowledge",
    [KANKYO_ALARM_EVENT_SHELVE] = "shelve",
    [KANKYO_ALARM_EVENT_UNSHELVE] = "unshelve",
    [KANKYO_ALARM_EVENT_SHELVE_EXPIRED] = "shelve-expired",
    [KANKYO_ALARM_EVENT_SUPPRESS] = "suppress",
    [KANKYO_ALARM_EVENT_UNSUPPRESS] = "unsuppress",
    [KANKYO_ALARM_EVENT_REMOVE_FROM_SERVICE] = "remove-from-service",
    [KANKYO_ALARM_EVENT_RETURN_TO_SERVICE] = "return-to-service",
    [KANKYO_ALARM_EVENT_RESET] = "reset",
  };

  return (guint) event < G_N_ELEMENTS (names) ? names[event] : "unknown";
}

const char *
kankyo_alarm_kind_to_string (KankyoAlarmKind kind)
{
  static const char *const names[] = {
    [KANKYO_ALARM_HIGH_HIGH] = "high-high",
    [KANKYO_ALARM_HIGH] = "high",
    [KANKYO_ALARM_LOW] = "low",
    [KANKYO_ALARM_LOW_LOW] = "low-low",
    [KANKYO_ALARM_DEVIATION] = "deviation",
    [KANKYO_ALARM_RATE] = "rate",
    [KANKYO_ALARM_DIGITAL] = "digital",
    [KANKYO_ALARM_COMM_FAIL] = "comm-fail",
  };

  return (guint) kind < G_N_ELEMENTS (names) ? names[kind] : "unknown";
}

static const char *const priority_names[] = {
  [KANKYO_ALARM_PRIORITY_DIAGNOSTIC] = "diagnostic",
  [KANKYO_ALARM_PRIORITY_LOW] = "low",
  [KANKYO_ALARM_PRIORITY_MEDIUM] = "medium",
  [KANKYO_ALARM_PRIORITY_HIGH] = "high",
};

const char *
kankyo_alarm_priority_to_string (KankyoAlarmPriority priority)
{
  return (guint) priority < G_N_ELEMENTS (priority_names) ? priority_names[priority] : "unknown";
}

gboolean
kankyo_alarm_priority_from_string (const char *text, KankyoAlarmPriority *ret_priority)
{
  for (guint i = 0; i < G_N_ELEMENTS (priority_names); i++)
    if (g_strcmp0 (text, priority_names[i]) == 0)
      {
        *ret_priority = (KankyoAlarmPriority) i;
        return TRUE;
      }
  return FALSE;
}
