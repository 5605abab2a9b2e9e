/* kankyo-alarm.h: one alarm's condition and its ISA-18.2 state.
 *
 * An alarm has two halves. The condition says whether the process is
 * abnormal: a limit crossed (with a deadband so a value hovering at the
 * limit does not chatter), held for the on-delay before it counts and clear
 * for the off-delay before it returns. The state is what the operator sees
 * and does: the ISA-18.2 / IEC 62682 states, moved by the condition and by
 * acknowledge, shelve, unshelve, suppression by design, out of service and
 * reset (for latching alarms).
 *
 * Both are plain data advanced with explicit times, so the state machine is
 * tested transition by transition without clocks or threads; the alarm
 * engine owns the instances and calls them on its own thread.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  KANKYO_ALARM_HIGH_HIGH,
  KANKYO_ALARM_HIGH,
  KANKYO_ALARM_LOW,
  KANKYO_ALARM_LOW_LOW,
  KANKYO_ALARM_DEVIATION, /* |value - setpoint| > limit */
  KANKYO_ALARM_RATE,      /* |change per second| > limit */
  KANKYO_ALARM_DIGITAL,   /* value equals the alarm state (limit 0 or 1) */
  KANKYO_ALARM_COMM_FAIL, /* the device does not answer */
} KankyoAlarmKind;

typedef enum
{
  KANKYO_ALARM_PRIORITY_DIAGNOSTIC,
  KANKYO_ALARM_PRIORITY_LOW,
  KANKYO_ALARM_PRIORITY_MEDIUM,
  KANKYO_ALARM_PRIORITY_HIGH,
} KankyoAlarmPriority;

/* The states of ISA-18.2's state model. */
typedef enum
{
  KANKYO_ALARM_STATE_NORMAL,         /* A */
  KANKYO_ALARM_STATE_UNACK,          /* B: active, unacknowledged */
  KANKYO_ALARM_STATE_ACKED,          /* C: active, acknowledged */
  KANKYO_ALARM_STATE_RTN_UNACK,      /* D: returned to normal, unacknowledged */
  KANKYO_ALARM_STATE_LATCHED,        /* C': returned, acknowledged, waits for reset */
  KANKYO_ALARM_STATE_SHELVED,        /* E */
  KANKYO_ALARM_STATE_SUPPRESSED,     /* F: suppressed by design */
  KANKYO_ALARM_STATE_OUT_OF_SERVICE, /* G */
} KankyoAlarmState;

typedef enum
{
  KANKYO_ALARM_EVENT_NONE,
  KANKYO_ALARM_EVENT_ACTIVATE, /* condition became active */
  KANKYO_ALARM_EVENT_CLEAR,    /* condition returned to normal */
  KANKYO_ALARM_EVENT_ACK,
  KANKYO_ALARM_EVENT_SHELVE,
  KANKYO_ALARM_EVENT_UNSHELVE, /* by the operator */
  KANKYO_ALARM_EVENT_SHELVE_EXPIRED,
  KANKYO_ALARM_EVENT_SUPPRESS, /* by design: comm-fail, equipment state */
  KANKYO_ALARM_EVENT_UNSUPPRESS,
  KANKYO_ALARM_EVENT_REMOVE_FROM_SERVICE,
  KANKYO_ALARM_EVENT_RETURN_TO_SERVICE,
  KANKYO_ALARM_EVENT_RESET, /* a latched alarm, by the operator */
} KankyoAlarmEvent;

/* How the condition is judged; times in microseconds. */
typedef struct
{
  KankyoAlarmKind kind;
  double limit;
  double deadband; /* engineering units, >= 0 */
  gint64 on_delay;
  gint64 off_delay;
} KankyoAlarmCondition;

typedef struct
{
  KankyoAlarmCondition condition;
  gboolean latching;

  /* condition */
  gboolean active;     /* after delays */
  gboolean raw_active; /* before delays, with deadband */
  gint64 raw_since;    /* when raw_active last changed */
  double last_value;   /* for rate of change; NAN before the first */
  gint64 last_time;

  /* state */
  KankyoAlarmState state;
  KankyoAlarmState state_before; /* under shelve, suppression, out of service: what it would show */
  gint64 state_time;             /* when the state last changed */
  gint64 shelved_until;          /* SHELVED only */
} KankyoAlarm;

void kankyo_alarm_init (KankyoAlarm *alarm, const KankyoAlarmCondition *condition, gboolean latching);

/* Feeds one value (@setpoint only for DEVIATION) at @now; returns
 * ACTIVATE or CLEAR when the delayed condition changed, else NONE.
 * A NAN value leaves the condition as it is (a Bad value is not judged). */
KankyoAlarmEvent kankyo_alarm_feed (KankyoAlarm *alarm, double value, double setpoint, gint64 now);
/* Lets delays run out with no new value; same return as feed. */
KankyoAlarmEvent kankyo_alarm_tick (KankyoAlarm *alarm, gint64 now);

/* Applies an event to the state machine. Returns TRUE when the state
 * changed, FALSE when the event does not apply in this state (for example
 * acknowledging a normal alarm); @until is the shelve's end (SHELVE only). */
gboolean kankyo_alarm_apply (KankyoAlarm *alarm, KankyoAlarmEvent event, gint64 now, gint64 until);

/* Whether the alarm is shown to operators (B, C, D, latched). */
gboolean kankyo_alarm_state_is_annunciated (KankyoAlarmState state);
gboolean kankyo_alarm_state_needs_ack (KankyoAlarmState state);

const char *kankyo_alarm_state_to_string (KankyoAlarmState state);
const char *kankyo_alarm_event_to_string (KankyoAlarmEvent event);
const char *kankyo_alarm_kind_to_string (KankyoAlarmKind kind);
const char *kankyo_alarm_priority_to_string (KankyoAlarmPriority priority);
gboolean kankyo_alarm_priority_from_string (const char *text, KankyoAlarmPriority *ret_priority);

G_END_DECLS
