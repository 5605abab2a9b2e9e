/* kankyo-tag-spec.h: what a tag is, independent of its current value.
 *
 * Device maps and project files describe tags; the engine builds one
 * KankyoTagSpec per tag and never changes it afterwards, so specs are shared
 * between threads by reference without locks.
 */
#pragma once

#include <glib.h>
#include "kankyo-codec.h"
#include "kankyo-value.h"

G_BEGIN_DECLS

/* The alarm conditions a tag can have, each with its own priority. */
typedef enum
{
  KANKYO_ALARM_LIMIT_LOW_LOW,
  KANKYO_ALARM_LIMIT_LOW,
  KANKYO_ALARM_LIMIT_HIGH,
  KANKYO_ALARM_LIMIT_HIGH_HIGH,
  KANKYO_ALARM_LIMIT_DEVIATION,
  KANKYO_ALARM_LIMIT_RATE,
  KANKYO_ALARM_LIMIT_STATE,
  KANKYO_ALARM_LIMIT_N_KINDS
} KankyoAlarmLimitKind;

/* Default alarms a device type or project gives a tag; the alarm engine
 * turns them into alarm definitions. NAN means "no such limit". */
typedef struct
{
  double high_high;
  double high;
  double low;
  double low_low;
  double deadband;  /* engineering units; 0 for none */
  double on_delay;  /* seconds the condition must hold before it alarms */
  double off_delay; /* seconds it must be clear before it returns */

  /* |value - setpoint| above deviation alarms; the setpoint is the tag
   * deviation_setpoint: a tag of the same device ("setpoint") or of another
   * ("room1.setpoint"). NULL and NAN for none. */
  char *deviation_setpoint;
  double deviation;
  double rate; /* engineering units per second, either way; NAN for none */
  int state;   /* true/false tags: -1 none, else the value (0 or 1) that alarms */

  /* The alarm engine's KankyoAlarmPriority per condition (0 diagnostic,
   * 1 low, 2 medium, 3 high), or -1 for the engine's default. */
  int priority[KANKYO_ALARM_LIMIT_N_KINDS];
  gboolean latching; /* stays in alarm after it returns until reset */
  char *message;     /* for people, instead of the tag's label; may be NULL */
  char *guidance;    /* what the operator should do; may be NULL */
  char *display;     /* the area whose display handles it; NULL: the device's */
  /* A tag ("unit_off" of the same device, or "device.tag") whose value
   * suppresses these alarms by design: any true or non-zero value when
   * suppressed_value is NAN, else exactly suppressed_value. */
  char *suppressed_by;
  double suppressed_value;
} KankyoAlarmLimits;

/* How the historian records a tag. */
#define KANKYO_HISTORY_DEFAULT_HEARTBEAT_S 60.0

typedef struct
{
  gboolean off;       /* not recorded at all */
  double deadband;    /* engineering units a value must move to be stored; 0 stores every change */
  double heartbeat_s; /* stored at least this often even when steady; 0 only on change */
  char *tag_class;    /* retention class; NULL is "default" */
} KankyoHistorySpec;

typedef struct
{
  char *name;        /* unique within its device: "supply_temp" */
  char *label;       /* for people, translatable by the plugin's domain */
  char *unit;        /* "degC", "%RH", "Pa"; may be NULL */
  char *description; /* may be NULL */
  KankyoValueType value_type;
  double min; /* engineering range; NAN when open */
  double max;
  gboolean writable;
  /* TRUE: no register; the device type's derive() computes the value from
   * the device's other tags after every poll (reg is unused). */
  gboolean computed;
  KankyoRegisterSpec reg;
  KankyoAlarmLimits alarms;
  char *symbol; /* mimic symbol the tag drives ("fan", "valve"); may be NULL */
  KankyoHistorySpec history;
} KankyoTagSpec;

void kankyo_alarm_limits_init (KankyoAlarmLimits *limits);
/* Whether any condition is given: a limit, a deviation, a rate or a state. */
gboolean kankyo_alarm_limits_is_set (const KankyoAlarmLimits *limits);
/* A deep copy into @dest, which holds nothing that needs freeing. */
void kankyo_alarm_limits_copy (const KankyoAlarmLimits *src, KankyoAlarmLimits *dest);
/* Frees the strings and leaves @limits as kankyo_alarm_limits_init () does. */
void kankyo_alarm_limits_clear (KankyoAlarmLimits *limits);

KankyoTagSpec *kankyo_tag_spec_new (void);
KankyoTagSpec *kankyo_tag_spec_copy (const KankyoTagSpec *spec);
void kankyo_tag_spec_free (KankyoTagSpec *spec);
/* Checks @value against the spec's type and range; the error names the tag,
 * the value and the limits. */
gboolean kankyo_tag_spec_check_value (const KankyoTagSpec *spec, const KankyoValue *value, GError **error);

/* Text for people and records: a float32 register's value with the digits
 * a float32 has, anything else as kankyo_value_to_string(). */
char *kankyo_tag_spec_format_value (const KankyoTagSpec *spec, const KankyoValue *value);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KankyoTagSpec, kankyo_tag_spec_free)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (KankyoAlarmLimits, kankyo_alarm_limits_clear)

G_END_DECLS
