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

/* Default alarm limits a device type or project gives a tag; the alarm
 * engine turns them into alarm definitions. NAN means "no such limit". */
typedef struct
{
  double high_high;
  double high;
  double low;
  double low_low;
  double deadband;  /* engineering units; 0 for none */
  double on_delay;  /* seconds the condition must hold before it alarms */
  double off_delay; /* seconds it must be clear before it returns */
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
gboolean kankyo_alarm_limits_is_set (const KankyoAlarmLimits *limits);

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

G_END_DECLS
