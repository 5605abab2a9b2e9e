/* kankyo-alarm-engine.h: every alarm of the plant, judged as values arrive.
 *
 * The alarm engine runs on its own thread. It subscribes to the tag store,
 * feeds each alarm's condition (kankyo-alarm.h) with the values of its tag,
 * applies the ISA-18.2 state machine, and lets a timer run out delays and
 * shelves. A device that stops answering raises its one comm-fail alarm and
 * suppresses its other alarms by design until it answers again, so a lost
 * device does not flood; an equipment state (a tag that is true, such as a
 * unit switched off) can suppress the alarms that do not apply then.
 *
 * Every transition and every operator action goes into the alarm journal
 * (alarms.db in the data folder, kankyo-alarm-journal.h) and every operator
 * action also into the audit trail, with who, when and why. Operator
 * actions are asynchronous and never block the caller's main loop. A
 * condition that activates or returns under a shelve or suppression is
 * journaled too, with the hidden state after it, so the history shows
 * what happened behind it; the end of a shelve is journaled without a
 * user and audited as "alarm.shelve-expired" by "system".
 *
 * Subscribers on any GMainContext receive one coalesced list of changed
 * alarms per main-loop turn, so a flood of a thousand alarms costs the UI
 * one update, not a thousand.
 */
#pragma once

#include <gio/gio.h>

#include "kankyo-alarm.h"

G_BEGIN_DECLS

#define KANKYO_ALARM_ENGINE_ERROR (kankyo_alarm_engine_error_quark ())
GQuark kankyo_alarm_engine_error_quark (void);

typedef enum
{
  KANKYO_ALARM_ENGINE_ERROR_NOT_FOUND, /* no such alarm */
  KANKYO_ALARM_ENGINE_ERROR_INVALID,   /* missing user or reason, shelve too long, not in a state for it */
  KANKYO_ALARM_ENGINE_ERROR_JOURNAL,   /* the journal or the audit trail could not record it */
  KANKYO_ALARM_ENGINE_ERROR_STOPPED,
} KankyoAlarmEngineError;

/* What an alarm is; fixed while the engine runs. */
typedef struct
{
  char *id;     /* unique: "room1.temperature.high", "room1.comm-fail" */
  char *tag;    /* "room1.temperature"; for comm-fail the device's "_online" tag */
  char *device; /* "room1" */
  char *area;   /* the area of the device */
  KankyoAlarmPriority priority;
  KankyoAlarmCondition condition;
  char *setpoint_tag; /* DEVIATION only: the tag holding the setpoint */
  gboolean latching;
  char *message;       /* for people: "Fill room: temperature high" */
  char *guidance;      /* what the operator should do; may be NULL */
  char *display;       /* the area whose mimic handles it; may be NULL */
  char *suppressed_by; /* a tag whose true value suppresses it by design; may be NULL */
  /* The value of suppressed_by that suppresses; NAN (the default): any true
   * or non-zero value. */
  double suppressed_value;
} KankyoAlarmDefinition;

/* A copy of one alarm's state for a reader. */
typedef struct
{
  const KankyoAlarmDefinition *definition; /* owned by the engine, valid while it lives */
  KankyoAlarmState state;
  gboolean active;    /* the condition, also under shelve or suppression */
  gint64 state_time;  /* UTC µs of the last transition */
  gint64 active_time; /* UTC µs when it last activated; 0 if never */
  double value;       /* the value at the last transition; NAN for none */
  gint64 shelved_until;
  char *shelved_by; /* SHELVED only */
  char *shelve_reason;
} KankyoAlarmInfo;

void kankyo_alarm_info_clear (KankyoAlarmInfo *info);

typedef struct _KankyoAlarmEngine KankyoAlarmEngine;
typedef struct _KankyoTagStore KankyoTagStore;
typedef struct _KankyoAudit KankyoAudit;
typedef struct _KankyoAlarmJournal KankyoAlarmJournal;

typedef void (*KankyoAlarmChangedFunc) (KankyoAlarmEngine *engine,
                                        const KankyoAlarmInfo *changed,
                                        guint n_changed,
                                        gpointer user_data);

/* Takes ownership of @definitions (KankyoAlarmDefinition*, freed with
 * kankyo_alarm_definition_free). @audit and @journal are shared and must
 * outlive the engine. */
KankyoAlarmEngine *kankyo_alarm_engine_new (KankyoTagStore *store,
                                            GPtrArray *definitions,
                                            KankyoAudit *audit,
                                            KankyoAlarmJournal *journal,
                                            GError **error);
void kankyo_alarm_engine_free (KankyoAlarmEngine *self);
gboolean kankyo_alarm_engine_start (KankyoAlarmEngine *self, GError **error);
void kankyo_alarm_engine_stop (KankyoAlarmEngine *self);

/* Longest time an alarm may be shelved; default 8 h. */
void kankyo_alarm_engine_set_max_shelve (KankyoAlarmEngine *self, gint64 max_us);
gint64 kankyo_alarm_engine_get_max_shelve (KankyoAlarmEngine *self);

guint kankyo_alarm_engine_get_n_alarms (KankyoAlarmEngine *self);
const KankyoAlarmDefinition *kankyo_alarm_engine_get_definition (KankyoAlarmEngine *self, guint index);
/* -1 when there is no such alarm. */
gint kankyo_alarm_engine_lookup (KankyoAlarmEngine *self, const char *id);
/* A copy of the current state; clear it with kankyo_alarm_info_clear(). */
gboolean kankyo_alarm_engine_get_info (KankyoAlarmEngine *self, guint index, KankyoAlarmInfo *ret_info);
/* Every alarm not NORMAL, highest priority first, then newest first:
 * an array of KankyoAlarmInfo with its clear func set. */
GArray *kankyo_alarm_engine_list_active (KankyoAlarmEngine *self);

/* @context NULL is the caller's thread-default context. The first delivery
 * holds every alarm that is not NORMAL. The definitions the infos point to
 * stay valid until the engine is freed; unsubscribe before that. */
guint kankyo_alarm_engine_subscribe (KankyoAlarmEngine *self,
                                     GMainContext *context,
                                     KankyoAlarmChangedFunc func,
                                     gpointer user_data,
                                     GDestroyNotify destroy);
void kankyo_alarm_engine_unsubscribe (KankyoAlarmEngine *self, guint subscription);

typedef enum
{
  KANKYO_ALARM_ACTION_ACK,
  KANKYO_ALARM_ACTION_SHELVE, /* needs reason and duration */
  KANKYO_ALARM_ACTION_UNSHELVE,
  KANKYO_ALARM_ACTION_RESET,               /* a latched alarm */
  KANKYO_ALARM_ACTION_REMOVE_FROM_SERVICE, /* needs reason */
  KANKYO_ALARM_ACTION_RETURN_TO_SERVICE,
} KankyoAlarmAction;

/* An operator action on one or more alarms (ids), recorded with @user and
 * @reason (required for shelving and out of service) in the journal and
 * the audit trail before it takes effect. @duration_us only for SHELVE, at
 * most the maximum shelve time. Alarms that are not in a state for the
 * action are left as they are and named in the result's error. A refused
 * action (no reason, too long a shelve) is audited as "rejected: ...".
 * User: one line of at most 128 bytes; reason: at most 1024 bytes. */
void kankyo_alarm_engine_act_async (KankyoAlarmEngine *self,
                                    KankyoAlarmAction action,
                                    const char *const *ids,
                                    const char *user,
                                    const char *reason,
                                    gint64 duration_us,
                                    GCancellable *cancellable,
                                    GAsyncReadyCallback callback,
                                    gpointer user_data);
/* @ret_n_done: how many alarms the action changed, set also when it
 * returns FALSE because some were left as they are. */
gboolean kankyo_alarm_engine_act_finish (KankyoAlarmEngine *self,
                                         GAsyncResult *result,
                                         guint *ret_n_done,
                                         GError **error);

KankyoAlarmDefinition *kankyo_alarm_definition_new (void);
KankyoAlarmDefinition *kankyo_alarm_definition_copy (const KankyoAlarmDefinition *definition);
void kankyo_alarm_definition_free (KankyoAlarmDefinition *definition);

const char *kankyo_alarm_action_to_string (KankyoAlarmAction action);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KankyoAlarmDefinition, kankyo_alarm_definition_free)

G_END_DECLS
