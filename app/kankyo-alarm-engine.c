/* kankyo-alarm-engine.c: every alarm of the plant, on its own thread.
 *
 * The engine is built once from its definitions: each tag of the tag store
 * gets the list of alarms that read it (as their value, as the setpoint of
 * a deviation, or as the equipment state that suppresses them), so a batch
 * of samples costs one walk over the tags that changed and nothing is
 * allocated per sample. A 250 ms timer lets delays and shelves run out.
 *
 * Only the engine's thread changes alarms; a mutex guards them against the
 * readers (get_info, list_active, subscriber deliveries) and is never held
 * over disk I/O: transitions are collected while it is held and written to
 * the journal after it is released. Operator actions are checked, written
 * to the journal (the last record of an action durably, which makes the
 * whole action durable) and to the audit trail, and only then applied.
 *
 * Suppression by design has two sources, kept as bits per alarm so that
 * one ending does not lift the other: the device's comm-fail alarm, which
 * suppresses the device's other alarms while it is active, and the alarm's
 * own suppressed-by tag. An alarm that is shelved or out of service when
 * suppression begins stays so, and becomes suppressed when it comes back.
 * Samples of a device are judged before its comm-fail alarm, so when a
 * device answers again its alarms return on fresh values: what is still
 * active comes back unacknowledged, what returned meanwhile comes back
 * normal.
 *
 * The tag store only reports changes, so a rate-of-change alarm whose
 * value stops changing would keep its last rate; the timer reads the
 * store's current sample for such alarms and judges the unchanged value at
 * the time it was last received.
 *
 * Subscribers are handled as in kankyo-tag-store.c: each has a set of
 * changed alarms, bounded by the number of alarms, and at most one pending
 * delivery on its context, which copies the current state of each alarm in
 * the set when it runs.
 */
#include "config.h"

#include "kankyo-alarm-engine.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "kankyo-alarm-journal.h"
#include "kankyo-audit.h"
#include "kankyo-tag-store.h"

/* The first argument becomes the quark's name, so it must stay one word. */
/* clang-format off */
G_DEFINE_QUARK (kankyo-alarm-engine-error-quark, kankyo_alarm_engine_error)
/* clang-format on */

#define MAX_ALARMS 200000
#define MAX_USER_LENGTH 128
#define MAX_REASON_LENGTH 1024
#define MAX_NAMED_IN_ERROR 10
#define TICK_MS 250
#define DEFAULT_MAX_SHELVE_US (8 * G_TIME_SPAN_HOUR)
#define JOURNAL_FLUSH_US G_USEC_PER_SEC
/* A rate-of-change alarm whose tag has not changed for this long is judged
 * on the unchanged value. */
#define RATE_IDLE_US G_USEC_PER_SEC

/* What an alarm reads a tag for; packed in the low bits of a reference. */
enum
{
  ROLE_VALUE,
  ROLE_SETPOINT,
  ROLE_SUPPRESSOR,
  ROLE_BITS = 2
};

/* Suppression by design, by source. */
enum
{
  SUPPRESS_COMM = 1 << 0,
  SUPPRESS_STATE = 1 << 1,
};

typedef struct
{
  KankyoAlarmDefinition *def;
  KankyoAlarm alarm;
  guint tag_id;
  gint setpoint_tag;   /* -1 for none */
  gint suppressor_tag; /* -1 for none */
  guint suppress;      /* SUPPRESS_* */
  gint64 active_time;
  double value; /* at the last transition */
  char *shelved_by;
  char *shelve_reason;
  GArray *dependents; /* comm-fail alarms: guint indices of the device's other alarms */
} Entry;

/* A journal record waiting for the mutex to be released. */
typedef struct
{
  guint index;
  KankyoAlarmEvent event;
  KankyoAlarmState state;
  gint64 time;
  double value;
  char *reason; /* shelve expiry: the shelve's reason */
  char *user;
} Transition;

typedef struct
{
  gatomicrefcount ref_count;
  guint id;
  gboolean active;
  GMainContext *context;
  KankyoAlarmChangedFunc func;
  gpointer user_data;
  GDestroyNotify destroy;
  KankyoAlarmEngine *engine; /* a reference */
  GArray *pending;           /* guint alarm indices */
  guint8 *marked;            /* per alarm: in pending */
  gboolean scheduled;
} Subscriber;

struct _KankyoAlarmEngine
{
  gatomicrefcount ref_count;
  KankyoTagStore *store;
  KankyoAudit *audit;
  KankyoAlarmJournal *journal;

  Entry *entries;
  guint n_entries;
  GHashTable *by_id; /* id -> index + 1 */

  /* Per tag id: the alarms reading it, (index << ROLE_BITS) | role, in
   * refs[first[t]] .. refs[first[t + 1] - 1]. */
  guint n_tags;
  guint *first;
  guint *refs;
  double *tag_value; /* the last judged value, NAN when bad or none */

  GMutex mutex; /* entries' state, subscribers, max_shelve */
  GPtrArray *subscribers;
  guint next_subscription;
  gint64 max_shelve;

  /* Engine thread only. */
  GArray *outbox;   /* Transition */
  GArray *schedule; /* Subscriber*, reused */
  GArray *snapshot; /* KankyoTagSample, start only */
  GArray *expired;  /* guint indices of shelves run out in one tick */
  gint64 journal_dirty_since;
  gboolean journal_failing;

  GMainContext *context;
  GMainLoop *loop;
  GThread *thread;
  GSource *timer;
  guint store_subscription;
  gint running;  /* atomic: actions are accepted */
  gint stopping; /* atomic: actions still queued fail */
};

static void
transition_clear (gpointer data)
{
  Transition *t = data;

  g_free (t->user);
  g_free (t->reason);
}

/* ---- definitions ---- */

KankyoAlarmDefinition *
kankyo_alarm_definition_new (void)
{
  KankyoAlarmDefinition *def = g_new0 (KankyoAlarmDefinition, 1);

  def->priority = KANKYO_ALARM_PRIORITY_LOW;
  def->suppressed_value = NAN;
  return def;
}

KankyoAlarmDefinition *
kankyo_alarm_definition_copy (const KankyoAlarmDefinition *definition)
{
  KankyoAlarmDefinition *copy;

  g_return_val_if_fail (definition != NULL, NULL);

  copy = g_memdup2 (definition, sizeof *definition);
  copy->id = g_strdup (definition->id);
  copy->tag = g_strdup (definition->tag);
  copy->device = g_strdup (definition->device);
  copy->area = g_strdup (definition->area);
  copy->setpoint_tag = g_strdup (definition->setpoint_tag);
  copy->message = g_strdup (definition->message);
  copy->guidance = g_strdup (definition->guidance);
  copy->display = g_strdup (definition->display);
  copy->suppressed_by = g_strdup (definition->suppressed_by);
  return copy;
}

void
kankyo_alarm_definition_free (KankyoAlarmDefinition *definition)
{
  if (definition == NULL)
    return;
  g_free (definition->id);
  g_free (definition->tag);
  g_free (definition->device);
  g_free (definition->area);
  g_free (definition->setpoint_tag);
  g_free (definition->message);
  g_free (definition->guidance);
  g_free (definition->display);
  g_free (definition->suppressed_by);
  g_free (definition);
}

void
kankyo_alarm_info_clear (KankyoAlarmInfo *info)
{
  if (info == NULL)
    return;
  g_clear_pointer (&info->shelved_by, g_free);
  g_clear_pointer (&info->shelve_reason, g_free);
}

const char *
kankyo_alarm_action_to_string (KankyoAlarmAction action)
{
  static const char *const names[] = {
    [KANKYO_ALARM_ACTION_ACK] = "acknowledge",
    [KANKYO_ALARM_ACTION_SHELVE] = "shelve",
    [KANKYO_ALARM_ACTION_UNSHELVE] = "unshelve",
    [KANKYO_ALARM_ACTION_RESET] = "reset",
    [KANKYO_ALARM_ACTION_REMOVE_FROM_SERVICE] = "remove-from-service",
    [KANKYO_ALARM_ACTION_RETURN_TO_SERVICE] = "return-to-service",
  };

  return (guint) action < G_N_ELEMENTS (names) ? names[action] : "unknown";
}

static KankyoAlarmEvent
action_event (KankyoAlarmAction action)
{
  switch (action)
    {
      case KANKYO_ALARM_ACTION_ACK:
        return KANKYO_ALARM_EVENT_ACK;
      case KANKYO_ALARM_ACTION_SHELVE:
        return KANKYO_ALARM_EVENT_SHELVE;
      case KANKYO_ALARM_ACTION_UNSHELVE:
        return KANKYO_ALARM_EVENT_UNSHELVE;
      case KANKYO_ALARM_ACTION_RESET:
        return KANKYO_ALARM_EVENT_RESET;
      case KANKYO_ALARM_ACTION_REMOVE_FROM_SERVICE:
        return KANKYO_ALARM_EVENT_REMOVE_FROM_SERVICE;
      case KANKYO_ALARM_ACTION_RETURN_TO_SERVICE:
        return KANKYO_ALARM_EVENT_RETURN_TO_SERVICE;
      default:
        return KANKYO_ALARM_EVENT_NONE;
    }
}

/* ---- life ---- */

static KankyoAlarmEngine *
engine_ref (KankyoAlarmEngine *self)
{
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

static void
engine_unref (KankyoAlarmEngine *self)
{
  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;
  for (guint i = 0; i < self->n_entries; i++)
    {
      Entry *e = &self->entries[i];

      kankyo_alarm_definition_free (e->def);
      g_free (e->shelved_by);
      g_free (e->shelve_reason);
      g_clear_pointer (&e->dependents, g_array_unref);
    }
  g_free (self->entries);
  g_clear_pointer (&self->by_id, g_hash_table_unref);
  g_free (self->first);
  g_free (self->refs);
  g_free (self->tag_value);
  g_clear_pointer (&self->subscribers, g_ptr_array_unref);
  g_clear_pointer (&self->outbox, g_array_unref);
  g_clear_pointer (&self->schedule, g_array_unref);
  g_clear_pointer (&self->snapshot, g_array_unref);
  g_clear_pointer (&self->expired, g_array_unref);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_clear_pointer (&self->store, kankyo_tag_store_unref);
  g_mutex_clear (&self->mutex);
  g_free (self);
}

static gboolean
resolve_tag (
    KankyoAlarmEngine *self, const KankyoAlarmDefinition *def, const char *tag, gint *ret_id, GError **error)
{
  gint id = kankyo_tag_store_lookup (self->store, tag);

  if (id < 0)
    {
      g_set_error (error, KANKYO_ALARM_ENGINE_ERROR, KANKYO_ALARM_ENGINE_ERROR_NOT_FOUND,
                   _ ("alarm %s: there is no tag %s"), def->id, tag);
      return FALSE;
    }
  *ret_id = id;
  return TRUE;
}

static gboolean
check_definition (const KankyoAlarmDefinition *def, GError **error)
{
  const KankyoAlarmCondition *c = &def->condition;
  const char *problem = NULL;

  if (def->id == NULL || *def->id == '\0' || strlen (def->id) > KANKYO_ALARM_JOURNAL_NAME_MAX)
    problem = _ ("an alarm needs an id of at most 512 bytes");
  else if (def->tag == NULL)
    problem = _ ("it names no tag");
  else if ((guint) c->kind > KANKYO_ALARM_COMM_FAIL)
    problem = _ ("its kind is not one the engine knows");
  else if ((guint) def->priority > KANKYO_ALARM_PRIORITY_HIGH)
    problem = _ ("its priority is not one of diagnostic, low, medium or high");
  else if (!isfinite (c->limit) || !isfinite (c->deadband) || c->deadband < 0)
    problem = _ ("its limit and deadband must be finite numbers, the deadband 0 or more");
  else if (c->on_delay < 0 || c->off_delay < 0)
    problem = _ ("its delays must be 0 or more");
  else if (c->kind == KANKYO_ALARM_DEVIATION && def->setpoint_tag == NULL)
    problem = _ ("a deviation alarm needs a setpoint tag");
  if (problem == NULL)
    return TRUE;
  g_set_error (error, KANKYO_ALARM_ENGINE_ERROR, KANKYO_ALARM_ENGINE_ERROR_INVALID, _ ("alarm %s: %s"),
               def->id != NULL ? def->id : "?", problem);
  return FALSE;
}

/* The per-tag lists of references, in two passes: count, then fill. */
static void
build_index (KankyoAlarmEngine *self)
{
  g_autofree guint *fill = NULL;
  guint n_refs = 0;

  self->first = g_new0 (guint, self->n_tags + 1);
  for (guint pass = 0; pass < 2; pass++)
    {
      for (guint i = 0; i < self->n_entries; i++)
        {
          const Entry *e = &self->entries[i];
          const gint tags[] = { (gint) e->tag_id, e->setpoint_tag, e->suppressor_tag };

          for (guint role = ROLE_VALUE; role <= ROLE_SUPPRESSOR; role++)
            {
              if (tags[role] < 0)
                continue;
              if (pass == 0)
                self->first[tags[role] + 1]++;
              else
                self->refs[fill[tags[role]]++] = (i << ROLE_BITS) | role;
            }
        }
      if (pass == 0)
        {
          for (guint t = 0; t < self->n_tags; t++)
            self->first[t + 1] += self->first[t];
          n_refs = self->first[self->n_tags];
          self->refs = g_new (guint, MAX (n_refs, 1));
          fill = g_memdup2 (self->first, sizeof (guint) * self->n_tags);
        }
    }
}

KankyoAlarmEngine *
kankyo_alarm_engine_new (KankyoTagStore *store,
                         GPtrArray *definitions,
                         KankyoAudit *audit,
                         KankyoAlarmJournal *journal,
                         GError **error)
{
  g_autoptr (GPtrArray) defs = definitions;
  g_autoptr (GHashTable) comm_fail_by_device = NULL;
  KankyoAlarmEngine *self;

  g_return_val_if_fail (store != NULL, NULL);
  g_return_val_if_fail (definitions != NULL, NULL);
  g_return_val_if_fail (audit != NULL, NULL);
  g_return_val_if_fail (journal != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (defs->len > MAX_ALARMS)
    {
      g_set_error (error, KANKYO_ALARM_ENGINE_ERROR, KANKYO_ALARM_ENGINE_ERROR_INVALID,
                   _ ("a plant may have at most %u alarms; this one has %u"), MAX_ALARMS, defs->len);
      return NULL;
    }

  self = g_new0 (KankyoAlarmEngine, 1);
  g_atomic_ref_count_init (&self->ref_count);
  g_mutex_init (&self->mutex);
  self->store = kankyo_tag_store_ref (store);
  self->audit = audit;
  self->journal = journal;
  self->n_tags = kankyo_tag_store_get_n_tags (store);
  self->by_id = g_hash_table_new (g_str_hash, g_str_equal);
  self->subscribers = g_ptr_array_new ();
  self->next_subscription = 1;
  self->max_shelve = DEFAULT_MAX_SHELVE_US;
  self->outbox = g_array_new (FALSE, TRUE, sizeof (Transition));
  g_array_set_clear_func (self->outbox, transition_clear);
  self->schedule = g_array_new (FALSE, FALSE, sizeof (Subscriber *));
  self->expired = g_array_new (FALSE, FALSE, sizeof (guint));
  self->context = g_main_context_new ();

  /* The entries own the definitions from here on. */
  self->entries = g_new0 (Entry, MAX (defs->len, 1));
  g_ptr_array_set_free_func (defs, NULL);
  for (guint i = 0; i < defs->len; i++)
    {
      Entry *e = &self->entries[i];

      e->def = g_ptr_array_index (defs, i);
      e->setpoint_tag = -1;
      e->suppressor_tag = -1;
      e->value = NAN;
      kankyo_alarm_init (&e->alarm, &e->def->condition, e->def->latching);
    }
  self->n_entries = defs->len;

  comm_fail_by_device = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < self->n_entries; i++)
    {
      Entry *e = &self->entries[i];
      KankyoAlarmDefinition *def = e->def;
      gint id;

      if (!check_definition (def, error) || !resolve_tag (self, def, def->tag, &id, error))
        goto fail;
      e->tag_id = (guint) id;
      if (def->condition.kind == KANKYO_ALARM_DEVIATION
          && !resolve_tag (self, def, def->setpoint_tag, &e->setpoint_tag, error))
        goto fail;
      if (def->suppressed_by != NULL
          && !resolve_tag (self, def, def->suppressed_by, &e->suppressor_tag, error))
        goto fail;
      if (!g_hash_table_insert (self->by_id, def->id, GUINT_TO_POINTER (i + 1)))
        {
          g_set_error (error, KANKYO_ALARM_ENGINE_ERROR, KANKYO_ALARM_ENGINE_ERROR_INVALID,
                       _ ("alarm %s: two alarms have this id"), def->id);
          goto fail;
        }
      if (def->condition.kind == KANKYO_ALARM_COMM_FAIL && def->device != NULL)
        {
          gpointer other = g_hash_table_lookup (comm_fail_by_device, def->device);

          if (other != NULL)
            {
              g_set_error (error, KANKYO_ALARM_ENGINE_ERROR, KANKYO_ALARM_ENGINE_ERROR_INVALID,
                           _ ("device %s has two comm-fail alarms: %s and %s"), def->device,
                           self->entries[GPOINTER_TO_UINT (other) - 1].def->id, def->id);
              goto fail;
            }
          g_hash_table_insert (comm_fail_by_device, def->device, GUINT_TO_POINTER (i + 1));
          e->dependents = g_array_new (FALSE, FALSE, sizeof (guint));
        }
    }
  for (guint i = 0; i < self->n_entries; i++)
    {
      const KankyoAlarmDefinition *def = self->entries[i].def;
      gpointer owner;

      if (def->condition.kind == KANKYO_ALARM_COMM_FAIL || def->device == NULL)
        continue;
      owner = g_hash_table_lookup (comm_fail_by_device, def->device);
      if (owner != NULL)
        g_array_append_val (self->entries[GPOINTER_TO_UINT (owner) - 1].dependents, i);
    }

  self->tag_value = g_new (double, MAX (self->n_tags, 1));
  for (guint t = 0; t < self->n_tags; t++)
    self->tag_value[t] = NAN;
  build_index (self);
  return self;

fail:
  engine_unref (self);
  return NULL;
}

/* ---- subscribers ---- */

static Subscriber *
subscriber_ref (Subscriber *sub)
{
  g_atomic_ref_count_inc (&sub->ref_count);
  return sub;
}

static void
subscriber_unref (Subscriber *sub)
{
  if (!g_atomic_ref_count_dec (&sub->ref_count))
    return;
  if (sub->destroy != NULL)
    sub->destroy (sub->user_data);
  g_array_unref (sub->pending);
  g_free (sub->marked);
  g_main_context_unref (sub->context);
  engine_unref (sub->engine);
  g_free (sub);
}

/* Mutex held. */
static void
mark_changed (KankyoAlarmEngine *self, guint index)
{
  for (guint j = 0; j < self->subscribers->len; j++)
    {
      Subscriber *sub = g_ptr_array_index (self->subscribers, j);

      if (!sub->marked[index])
        {
          sub->marked[index] = TRUE;
          g_array_append_val (sub->pending, index);
        }
    }
}

/* Mutex held. */
static void
copy_info (const Entry *e, KankyoAlarmInfo *info)
{
  *info = (KankyoAlarmInfo){
    .definition = e->def,
    .state = e->alarm.state,
    .active = e->alarm.active,
    .state_time = e->alarm.state_time,
    .active_time = e->active_time,
    .value = e->value,
    .shelved_until = e->alarm.shelved_until,
    .shelved_by = g_strdup (e->shelved_by),
    .shelve_reason = g_strdup (e->shelve_reason),
  };
}

static gboolean
deliver (gpointer data)
{
  Subscriber *sub = data;
  KankyoAlarmEngine *self = sub->engine;
  g_autoptr (GArray) infos = NULL;

  g_mutex_lock (&self->mutex);
  sub->scheduled = FALSE;
  if (!sub->active)
    {
      g_mutex_unlock (&self->mutex);
      return G_SOURCE_REMOVE;
    }
  infos = g_array_sized_new (FALSE, TRUE, sizeof (KankyoAlarmInfo), sub->pending->len);
  g_array_set_clear_func (infos, (GDestroyNotify) kankyo_alarm_info_clear);
  g_array_set_size (infos, sub->pending->len);
  for (guint i = 0; i < sub->pending->len; i++)
    {
      guint index = g_array_index (sub->pending, guint, i);

      copy_info (&self->entries[index], &g_array_index (infos, KankyoAlarmInfo, i));
      sub->marked[index] = FALSE;
    }
  g_array_set_size (sub->pending, 0);
  g_mutex_unlock (&self->mutex);

  if (infos->len > 0)
    sub->func (self, (const KankyoAlarmInfo *) (void *) infos->data, infos->len, sub->user_data);
  return G_SOURCE_REMOVE;
}

/* Collects under the mutex, attaches outside it. */
static void
schedule_deliveries (KankyoAlarmEngine *self, GArray *to_schedule)
{
  g_mutex_lock (&self->mutex);
  for (guint j = 0; j < self->subscribers->len; j++)
    {
      Subscriber *sub = g_ptr_array_index (self->subscribers, j);

      if (sub->pending->len > 0 && !sub->scheduled)
        {
          Subscriber *ref = subscriber_ref (sub);

          sub->scheduled = TRUE;
          g_array_append_val (to_schedule, ref);
        }
    }
  g_mutex_unlock (&self->mutex);

  for (guint j = 0; j < to_schedule->len; j++)
    {
      Subscriber *sub = g_array_index (to_schedule, Subscriber *, j);
      GSource *source = g_idle_source_new ();

      g_source_set_priority (source, G_PRIORITY_DEFAULT);
      g_source_set_callback (source, deliver, sub, (GDestroyNotify) subscriber_unref);
      g_source_set_static_name (source, "[kankyo] alarm changes");
      g_source_attach (source, sub->context);
      g_source_unref (source);
    }
  g_array_set_size (to_schedule, 0);
}

guint
kankyo_alarm_engine_subscribe (KankyoAlarmEngine *self,
                               GMainContext *context,
                               KankyoAlarmChangedFunc func,
                               gpointer user_data,
                               GDestroyNotify destroy)
{
  g_autoptr (GArray) to_schedule = g_array_new (FALSE, FALSE, sizeof (Subscriber *));
  Subscriber *sub;
  guint id;

  g_return_val_if_fail (self != NULL, 0);
  g_return_val_if_fail (func != NULL, 0);

  sub = g_new0 (Subscriber, 1);
  g_atomic_ref_count_init (&sub->ref_count);
  sub->active = TRUE;
  sub->context = context ? g_main_context_ref (context) : g_main_context_ref_thread_default ();
  sub->func = func;
  sub->user_data = user_data;
  sub->destroy = destroy;
  sub->engine = engine_ref (self);
  sub->pending = g_array_new (FALSE, FALSE, sizeof (guint));
  sub->marked = g_new0 (guint8, MAX (self->n_entries, 1));

  g_mutex_lock (&self->mutex);
  id = sub->id = self->next_subscription++;
  for (guint i = 0; i < self->n_entries; i++)
    if (self->entries[i].alarm.state != KANKYO_ALARM_STATE_NORMAL)
      {
        sub->marked[i] = TRUE;
        g_array_append_val (sub->pending, i);
      }
  g_ptr_array_add (self->subscribers, sub);
  g_mutex_unlock (&self->mutex);
  schedule_deliveries (self, to_schedule);
  return id;
}

void
kankyo_alarm_engine_unsubscribe (KankyoAlarmEngine *self, guint subscription)
{
  Subscriber *found = NULL;

  g_return_if_fail (self != NULL);

  g_mutex_lock (&self->mutex);
  for (guint i = 0; i < self->subscribers->len; i++)
    {
      Subscriber *sub = g_ptr_array_index (self->subscribers, i);

      if (sub->id == subscription)
        {
          found = sub;
          sub->active = FALSE;
          g_ptr_array_remove_index (self->subscribers, i);
          break;
        }
    }
  g_mutex_unlock (&self->mutex);
  if (found != NULL)
    subscriber_unref (found);
}

/* ---- judging (engine thread) ---- */

static void
queue_transition (KankyoAlarmEngine *self, guint index, KankyoAlarmEvent event, gint64 time)
{
  const Entry *e = &self->entries[index];
  Transition t = {
    .index = index,
    .event = event,
    .state = e->alarm.state,
    .time = time,
    .value = e->value,
  };

  g_array_append_val (self->outbox, t);
}

/* Mutex held. An event for the state machine, recorded when it changed
 * the state. */
static gboolean
apply_event (KankyoAlarmEngine *self, guint index, KankyoAlarmEvent event, gint64 now)
{
  Entry *e = &self->entries[index];

  if (!kankyo_alarm_apply (&e->alarm, event, now, 0))
    return FALSE;
  e->value = e->alarm.last_value;
  queue_transition (self, index, event, now);
  mark_changed (self, index);
  return TRUE;
}

/* Mutex held. After an alarm comes back from shelving or out of service,
 * suppression by design that began meanwhile takes hold. */
static void
reapply_suppression (KankyoAlarmEngine *self, guint index, gint64 now)
{
  if (self->entries[index].suppress != 0)
    apply_event (self, index, KANKYO_ALARM_EVENT_SUPPRESS, now);
}

/* Mutex held. */
static void
set_suppression (KankyoAlarmEngine *self, guint index, guint source, gboolean on, gint64 now)
{
  Entry *e = &self->entries[index];
  guint before = e->suppress;

  e->suppress = on ? before | source : before & ~source;
  if ((before == 0) == (e->suppress == 0))
    return;
  apply_event (self, index, e->suppress != 0 ? KANKYO_ALARM_EVENT_SUPPRESS : KANKYO_ALARM_EVENT_UNSUPPRESS,
               now);
}

/* Mutex held. The condition moved: the state machine follows, and the
 * journal hears of it even when a hidden state does not change, so that
 * the history shows what happened under a shelve or suppression. */
static void
handle_condition (KankyoAlarmEngine *self, guint index, KankyoAlarmEvent event, gint64 now)
{
  Entry *e = &self->entries[index];

  if (event == KANKYO_ALARM_EVENT_NONE)
    return;
  if (event == KANKYO_ALARM_EVENT_ACTIVATE)
    e->active_time = now;
  if (!apply_event (self, index, event, now))
    {
      e->value = e->alarm.last_value;
      queue_transition (self, index, event, now);
      mark_changed (self, index);
    }
  if (e->dependents != NULL)
    for (guint i = 0; i < e->dependents->len; i++)
      set_suppression (self, g_array_index (e->dependents, guint, i), SUPPRESS_COMM,
                       event == KANKYO_ALARM_EVENT_ACTIVATE, now);
}

/* Mutex held. */
static void
feed (KankyoAlarmEngine *self, guint index, double value, gint64 time)
{
  Entry *e = &self->entries[index];
  double setpoint = e->setpoint_tag >= 0 ? self->tag_value[e->setpoint_tag] : NAN;

  handle_condition (self, index, kankyo_alarm_feed (&e->alarm, value, setpoint, time), time);
}

/* Mutex held. */
static void
judge_suppressor (KankyoAlarmEngine *self, guint index, double value, gint64 now)
{
  const KankyoAlarmDefinition *def = self->entries[index].def;
  gboolean on;

  if (isnan (value))
    return;
  on = isnan (def->suppressed_value) ? value != 0 : value == def->suppressed_value;
  set_suppression (self, index, SUPPRESS_STATE, on, now);
}

static double
sample_number (const KankyoTagSample *s)
{
  if (kankyo_quality_is_bad (s->quality) || s->value.type == KANKYO_VALUE_STRING)
    return NAN;
  return kankyo_value_to_double (&s->value);
}

/* Mutex held. Comm-fail alarms go second, so that a device's values are
 * judged before its comm-fail alarm lifts their suppression. */
static void
judge_samples (KankyoAlarmEngine *self, const KankyoTagSample *samples, guint n_samples)
{
  gint64 now = g_get_real_time ();

  for (guint pass = 0; pass < 2; pass++)
    for (guint i = 0; i < n_samples; i++)
      {
        const KankyoTagSample *s = &samples[i];
        guint t = s->tag_id;
        gint64 time = s->receive_time > 0 ? s->receive_time : now;
        double v;

        if (t >= self->n_tags || self->first[t] == self->first[t + 1])
          continue;
        v = sample_number (s);
        if (pass == 0)
          self->tag_value[t] = v;
        for (guint r = self->first[t]; r < self->first[t + 1]; r++)
          {
            guint index = self->refs[r] >> ROLE_BITS;
            gboolean comm_fail = self->entries[index].def->condition.kind == KANKYO_ALARM_COMM_FAIL;

            if (comm_fail != (pass == 1))
              continue;
            switch (self->refs[r] & ((1u << ROLE_BITS) - 1))
              {
                case ROLE_VALUE:
                  feed (self, index, v, time);
                  break;
                case ROLE_SETPOINT:
                  feed (self, index, self->entries[index].alarm.last_value, time);
                  break;
                case ROLE_SUPPRESSOR:
                default:
                  judge_suppressor (self, index, v, time);
                  break;
              }
          }
      }
}

/* Writes what the mutex-held work collected. Condition transitions are
 * batched by the journal; a failure is reported once until it recovers. */
static void
journal_outbox (KankyoAlarmEngine *self)
{
  for (guint i = 0; i < self->outbox->len; i++)
    {
      const Transition *t = &g_array_index (self->outbox, Transition, i);
      const KankyoAlarmDefinition *def = self->entries[t->index].def;
      g_autoptr (GError) error = NULL;
      KankyoAlarmRecord record = {
        .time = t->time,
        .alarm_id = def->id,
        .tag = def->tag,
        .device = def->device,
        .area = def->area,
        .priority = def->priority,
        .event = t->event,
        .state = t->state,
        .value = t->value,
        .message = def->message,
        .user = t->user,
        .reason = t->reason,
      };

      if (!kankyo_alarm_journal_append (self->journal, &record, FALSE, &error))
        {
          if (!self->journal_failing)
            g_warning (_ ("alarm transitions cannot be recorded in the alarm journal: %s"), error->message);
          self->journal_failing = TRUE;
          continue;
        }
      if (self->journal_failing)
        g_message (_ ("the alarm journal records transitions again"));
      self->journal_failing = FALSE;
      if (self->journal_dirty_since == 0)
        self->journal_dirty_since = t->time;
    }
}

static void
flush_outbox (KankyoAlarmEngine *self)
{
  journal_outbox (self);
  g_array_set_size (self->outbox, 0);
}

static void
on_samples (KankyoTagStore *store, const KankyoTagSample *samples, guint n_samples, gpointer user_data)
{
  KankyoAlarmEngine *self = user_data;

  g_mutex_lock (&self->mutex);
  judge_samples (self, samples, n_samples);
  g_mutex_unlock (&self->mutex);
  flush_outbox (self);
  schedule_deliveries (self, self->schedule);
}

/* The values already in the store when the engine starts. */
static gboolean
judge_current (gpointer data)
{
  KankyoAlarmEngine *self = data;

  self->snapshot = g_array_new (FALSE, TRUE, sizeof (KankyoTagSample));
  g_array_set_clear_func (self->snapshot, (GDestroyNotify) kankyo_tag_sample_clear);
  for (guint t = 0; t < self->n_tags; t++)
    {
      KankyoTagSample sample;

      if (self->first[t] == self->first[t + 1])
        continue;
      kankyo_tag_store_get (self->store, t, &sample);
      if (sample.value.type == KANKYO_VALUE_NONE)
        {
          kankyo_tag_sample_clear (&sample);
          continue;
        }
      g_array_append_val (self->snapshot, sample);
    }
  on_samples (self->store, (const KankyoTagSample *) (void *) self->snapshot->data, self->snapshot->len,
              self);
  g_clear_pointer (&self->snapshot, g_array_unref);
  return G_SOURCE_REMOVE;
}

/* Mutex held. A value that stopped changing has a rate of zero. */
static void
judge_idle_rate (KankyoAlarmEngine *self, guint index, gint64 now)
{
  Entry *e = &self->entries[index];
  KankyoTagSample sample;
  double v;

  if (e->alarm.last_time == 0 || now - e->alarm.last_time < RATE_IDLE_US)
    return;
  kankyo_tag_store_get (self->store, e->tag_id, &sample);
  v = sample_number (&sample);
  if (!isnan (v) && sample.receive_time > e->alarm.last_time)
    feed (self, index, v, sample.receive_time);
  kankyo_tag_sample_clear (&sample);
}

static void audit_expiry (KankyoAlarmEngine *self, guint index, const char *reason);

static gboolean
on_tick (gpointer data)
{
  KankyoAlarmEngine *self = data;
  gint64 now = g_get_real_time ();

  g_mutex_lock (&self->mutex);
  for (guint i = 0; i < self->n_entries; i++)
    {
      Entry *e = &self->entries[i];

      if (e->alarm.raw_active != e->alarm.active)
        handle_condition (self, i, kankyo_alarm_tick (&e->alarm, now), now);
      if (e->def->condition.kind == KANKYO_ALARM_RATE)
        judge_idle_rate (self, i, now);
      if (e->alarm.state == KANKYO_ALARM_STATE_SHELVED && now >= e->alarm.shelved_until)
        {
          guint at = self->outbox->len;

          apply_event (self, i, KANKYO_ALARM_EVENT_SHELVE_EXPIRED, now);
          /* The system ends it; the record keeps the shelve's reason. */
          g_array_index (self->outbox, Transition, at).reason = g_steal_pointer (&e->shelve_reason);
          g_clear_pointer (&e->shelved_by, g_free);
          g_array_append_val (self->expired, at);
          reapply_suppression (self, i, now);
        }
    }
  g_mutex_unlock (&self->mutex);

  /* The history first, then the trail. */
  journal_outbox (self);
  for (guint i = 0; i < self->expired->len; i++)
    {
      const Transition *t
          = &g_array_index (self->outbox, Transition, g_array_index (self->expired, guint, i));

      audit_expiry (self, t->index, t->reason);
    }
  g_array_set_size (self->expired, 0);
  g_array_set_size (self->outbox, 0);
  if (self->journal_dirty_since != 0 && now - self->journal_dirty_since >= JOURNAL_FLUSH_US)
    {
      g_autoptr (GError) error = NULL;

      if (!kankyo_alarm_journal_flush (self->journal, &error))
        g_warning (_ ("alarm transitions cannot be recorded in the alarm journal: %s"), error->message);
      self->journal_dirty_since = 0;
    }
  schedule_deliveries (self, self->schedule);
  return G_SOURCE_CONTINUE;
}

/* ---- running ---- */

static gpointer
engine_thread (gpointer data)
{
  KankyoAlarmEngine *self = data;

  g_main_context_push_thread_default (self->context);
  g_main_loop_run (self->loop);
  g_main_context_pop_thread_default (self->context);
  return NULL;
}

gboolean
kankyo_alarm_engine_start (KankyoAlarmEngine *self, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (self->thread == NULL, FALSE);

  self->loop = g_main_loop_new (self->context, FALSE);
  self->timer = g_timeout_source_new (TICK_MS);
  g_source_set_callback (self->timer, on_tick, self, NULL);
  g_source_set_static_name (self->timer, "[kankyo] alarm delays and shelves");
  g_source_attach (self->timer, self->context);
  self->store_subscription = kankyo_tag_store_subscribe (self->store, self->context, on_samples, self, NULL);
  g_main_context_invoke (self->context, judge_current, self);
  g_atomic_int_set (&self->stopping, FALSE);
  g_atomic_int_set (&self->running, TRUE);
  self->thread = g_thread_new ("kankyo alarms", engine_thread, self);
  return TRUE;
}

static gboolean
quit_loop (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

void
kankyo_alarm_engine_stop (KankyoAlarmEngine *self)
{
  g_autoptr (GError) error = NULL;

  g_return_if_fail (self != NULL);

  if (self->thread == NULL)
    return;
  g_atomic_int_set (&self->running, FALSE);
  kankyo_tag_store_unsubscribe (self->store, self->store_subscription);
  self->store_subscription = 0;
  g_main_context_invoke (self->context, quit_loop, self->loop);
  g_thread_join (self->thread);
  self->thread = NULL;
  /* Actions that arrived meanwhile fail as stopped; batches find the
   * subscription gone. */
  g_atomic_int_set (&self->stopping, TRUE);
  while (g_main_context_iteration (self->context, FALSE))
    ;
  g_source_destroy (self->timer);
  g_clear_pointer (&self->timer, g_source_unref);
  g_clear_pointer (&self->loop, g_main_loop_unref);
  flush_outbox (self);
  if (!kankyo_alarm_journal_flush (self->journal, &error))
    g_warning (_ ("alarm transitions cannot be recorded in the alarm journal: %s"), error->message);
  self->journal_dirty_since = 0;
}

void
kankyo_alarm_engine_free (KankyoAlarmEngine *self)
{
  g_autoptr (GPtrArray) subscribers = NULL;

  if (self == NULL)
    return;
  kankyo_alarm_engine_stop (self);
  g_mutex_lock (&self->mutex);
  subscribers = g_steal_pointer (&self->subscribers);
  self->subscribers = g_ptr_array_new ();
  for (guint i = 0; i < subscribers->len; i++)
    ((Subscriber *) g_ptr_array_index (subscribers, i))->active = FALSE;
  g_mutex_unlock (&self->mutex);
  for (guint i = 0; i < subscribers->len; i++)
    subscriber_unref (g_ptr_array_index (subscribers, i));
  engine_unref (self);
}

void
kankyo_alarm_engine_set_max_shelve (KankyoAlarmEngine *self, gint64 max_us)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (max_us > 0);

  g_mutex_lock (&self->mutex);
  self->max_shelve = max_us;
  g_mutex_unlock (&self->mutex);
}

gint64
kankyo_alarm_engine_get_max_shelve (KankyoAlarmEngine *self)
{
  gint64 max_us;

  g_return_val_if_fail (self != NULL, 0);

  g_mutex_lock (&self->mutex);
  max_us = self->max_shelve;
  g_mutex_unlock (&self->mutex);
  return max_us;
}

/* ---- reading ---- */

guint
kankyo_alarm_engine_get_n_alarms (KankyoAlarmEngine *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->n_entries;
}

const KankyoAlarmDefinition *
kankyo_alarm_engine_get_definition (KankyoAlarmEngine *self, guint index)
{
  g_return_val_if_fail (self != NULL, NULL);
  return index < self->n_entries ? self->entries[index].def : NULL;
}

gint
kankyo_alarm_engine_lookup (KankyoAlarmEngine *self, const char *id)
{
  g_return_val_if_fail (self != NULL, -1);
  if (id == NULL)
    return -1;
  return (gint) GPOINTER_TO_UINT (g_hash_table_lookup (self->by_id, id)) - 1;
}

gboolean
kankyo_alarm_engine_get_info (KankyoAlarmEngine *self, guint index, KankyoAlarmInfo *ret_info)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (ret_info != NULL, FALSE);

  if (index >= self->n_entries)
    return FALSE;
  g_mutex_lock (&self->mutex);
  copy_info (&self->entries[index], ret_info);
  g_mutex_unlock (&self->mutex);
  return TRUE;
}

static gint
compare_active (gconstpointer a, gconstpointer b)
{
  const KankyoAlarmInfo *x = a;
  const KankyoAlarmInfo *y = b;

  if (x->definition->priority != y->definition->priority)
    return x->definition->priority > y->definition->priority ? -1 : 1;
  if (x->active_time != y->active_time)
    return x->active_time > y->active_time ? -1 : 1;
  if (x->state_time != y->state_time)
    return x->state_time > y->state_time ? -1 : 1;
  return strcmp (x->definition->id, y->definition->id);
}

GArray *
kankyo_alarm_engine_list_active (KankyoAlarmEngine *self)
{
  GArray *list;

  g_return_val_if_fail (self != NULL, NULL);

  list = g_array_new (FALSE, TRUE, sizeof (KankyoAlarmInfo));
  g_array_set_clear_func (list, (GDestroyNotify) kankyo_alarm_info_clear);
  g_mutex_lock (&self->mutex);
  for (guint i = 0; i < self->n_entries; i++)
    if (self->entries[i].alarm.state != KANKYO_ALARM_STATE_NORMAL)
      {
        KankyoAlarmInfo info;

        copy_info (&self->entries[i], &info);
        g_array_append_val (list, info);
      }
  g_mutex_unlock (&self->mutex);
  g_array_sort (list, compare_active);
  return list;
}

/* ---- operator actions (engine thread) ---- */

typedef struct
{
  KankyoAlarmEngine *engine; /* a reference */
  KankyoAlarmAction action;
  char **ids;
  char *user;
  char *reason;
  gint64 duration;
  guint n_done;
} ActOp;

static void
act_op_free (ActOp *op)
{
  engine_unref (op->engine);
  g_strfreev (op->ids);
  g_free (op->user);
  g_free (op->reason);
  g_free (op);
}

/* What an alarm goes to under an action, staged on a copy. */
typedef struct
{
  guint index;
  KankyoAlarm after;
} Staged;

static gboolean
is_blank (const char *text)
{
  g_autofree char *trimmed = text ? g_strstrip (g_strdup (text)) : NULL;

  return trimmed == NULL || *trimmed == '\0';
}

/* One line of UTF-8 of at most @max bytes, when given. */
static gboolean
check_line (const char *field, const char *text, gsize max, GError **error)
{
  const char *s;

  if (text == NULL)
    return TRUE;
  for (s = text; *s != '\0'; s++)
    if ((guchar) *s < 0x20 && *s != '\t')
      break;
  if (*s != '\0' || strlen (text) > max || !g_utf8_validate (text, -1, NULL))
    {
      g_set_error (error, KANKYO_ALARM_ENGINE_ERROR, KANKYO_ALARM_ENGINE_ERROR_INVALID,
                   _ ("%s must be one line of text of at most %zu bytes"), field, max);
      return FALSE;
    }
  return TRUE;
}

/* "8 h", "90 min", "45 s", "250 ms": for messages. */
static char *
format_span (gint64 us)
{
  char number[32];

  if (us % G_TIME_SPAN_HOUR == 0)
    {
      g_snprintf (number, sizeof number, "%" G_GINT64_FORMAT, us / G_TIME_SPAN_HOUR);
      /* Translators: a number of hours */
      return g_strdup_printf (_ ("%s h"), number);
    }
  if (us % G_TIME_SPAN_MINUTE == 0)
    {
      g_snprintf (number, sizeof number, "%" G_GINT64_FORMAT, us / G_TIME_SPAN_MINUTE);
      /* Translators: a number of minutes */
      return g_strdup_printf (_ ("%s min"), number);
    }
  if (us % G_TIME_SPAN_SECOND == 0)
    {
      g_snprintf (number, sizeof number, "%" G_GINT64_FORMAT, us / G_TIME_SPAN_SECOND);
      /* Translators: a number of seconds */
      return g_strdup_printf (_ ("%s s"), number);
    }
  g_snprintf (number, sizeof number, "%" G_GINT64_FORMAT, us / G_TIME_SPAN_MILLISECOND);
  /* Translators: a number of milliseconds */
  return g_strdup_printf (_ ("%s ms"), number);
}

static char *
format_utc (gint64 us)
{
  g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (us / G_USEC_PER_SEC);

  return dt != NULL ? g_date_time_format (dt, "%Y-%m-%dT%H:%M:%SZ") : g_strdup ("?");
}

/* What the operator asked for, for messages. */
static const char *
action_verb (KankyoAlarmAction action)
{
  switch (action)
    {
      case KANKYO_ALARM_ACTION_ACK:
        return C_ ("alarm action", "acknowledge");
      case KANKYO_ALARM_ACTION_SHELVE:
        return C_ ("alarm action", "shelve");
      case KANKYO_ALARM_ACTION_UNSHELVE:
        return C_ ("alarm action", "unshelve");
      case KANKYO_ALARM_ACTION_RESET:
        return C_ ("alarm action", "reset");
      case KANKYO_ALARM_ACTION_REMOVE_FROM_SERVICE:
        return C_ ("alarm action", "take out of service");
      case KANKYO_ALARM_ACTION_RETURN_TO_SERVICE:
      default:
        return C_ ("alarm action", "return to service");
    }
}

static char *
audit_action_name (KankyoAlarmAction action)
{
  return g_strconcat ("alarm.", kankyo_alarm_action_to_string (action), NULL);
}

/* A refused action on its way into the trail; the user is known good. */
static void
audit_refusal (KankyoAlarmEngine *self, const ActOp *op, const GError *refusal)
{
  g_autofree char *action = audit_action_name (op->action);
  g_autofree char *result = g_strconcat ("rejected: ", refusal->message, NULL);
  g_autofree char *target = NULL;
  g_autoptr (GError) error = NULL;
  guint n = op->ids != NULL ? g_strv_length (op->ids) : 0;

  if (n == 1)
    target = g_strdup (op->ids[0]);
  else if (n > 1)
    target = g_strdup_printf ("%.256s and %u more", op->ids[0], n - 1);
  if (!kankyo_audit_append (self->audit, op->user, action, target, NULL, NULL, op->reason, result, NULL,
                            &error))
    g_warning (_ ("a refused alarm action could not be recorded in the audit trail: %s"), error->message);
}

static void
audit_expiry (KankyoAlarmEngine *self, guint index, const char *reason)
{
  const Entry *e = &self->entries[index];
  g_autoptr (GError) error = NULL;

  if (!kankyo_audit_append (self->audit, "system", "alarm.shelve-expired", e->def->id,
                            kankyo_alarm_state_to_string (KANKYO_ALARM_STATE_SHELVED),
                            kankyo_alarm_state_to_string (e->alarm.state), reason, "ok", NULL, &error))
    g_warning (_ ("the end of the shelve of %s could not be recorded in the audit trail: %s"), e->def->id,
               error->message);
}

/* Checks what the action itself says, before any alarm is looked at. */
static gboolean
check_action (KankyoAlarmEngine *self, ActOp *op, GError **error)
{
  guint n = op->ids != NULL ? g_strv_length (op->ids) : 0;
  gint64 max_shelve = kankyo_alarm_engine_get_max_shelve (self);

  if (is_blank (op->reason)
      && (op->action == KANKYO_ALARM_ACTION_SHELVE || op->action == KANKYO_ALARM_ACTION_REMOVE_FROM_SERVICE))
    {
      g_set_error_literal (error, KANKYO_ALARM_ENGINE_ERROR, KANKYO_ALARM_ENGINE_ERROR_INVALID,
                           op->action == KANKYO_ALARM_ACTION_SHELVE
                               ? _ ("shelving an alarm needs a reason")
                               : _ ("taking an alarm out of service needs a reason"));
      return FALSE;
    }
  if (!check_line (_ ("the reason"), op->reason, MAX_REASON_LENGTH, error))
    return FALSE;
  if (n == 0 || n > self->n_entries)
    {
      g_set_error (error, KANKYO_ALARM_ENGINE_ERROR, KANKYO_ALARM_ENGINE_ERROR_INVALID,
                   _ ("an alarm action names 1 to %u alarms, not %u"), MAX (self->n_entries, 1), n);
      return FALSE;
    }
  if (op->action == KANKYO_ALARM_ACTION_SHELVE && (op->duration <= 0 || op->duration > max_shelve))
    {
      g_autofree char *max_text = format_span (max_shelve);
      g_autofree char *asked = op->duration > 0 ? format_span (op->duration) : g_strdup ("0");

      g_set_error (error, KANKYO_ALARM_ENGINE_ERROR, KANKYO_ALARM_ENGINE_ERROR_INVALID,
                   _ ("a shelve lasts more than 0 and at most the maximum shelve time of %s; %s was asked"),
                   max_text, asked);
      return FALSE;
    }
  return TRUE;
}

/* "a, b, c and 4 more" */
static char *
join_ids (GPtrArray *ids)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < ids->len && i < MAX_NAMED_IN_ERROR; i++)
    g_string_append_printf (s, "%s%s", i > 0 ? ", " : "", (const char *) g_ptr_array_index (ids, i));
  if (ids->len > MAX_NAMED_IN_ERROR)
    g_string_append_printf (s, _ (" and %u more"), ids->len - MAX_NAMED_IN_ERROR);
  return g_string_free (s, FALSE);
}

/* Looks the alarms up and stages the action on copies; alarms named twice
 * count once. Only this thread changes alarms, so no mutex is needed. */
static void
stage_action (KankyoAlarmEngine *self,
              ActOp *op,
              gint64 now,
              gint64 until,
              GArray *staged,
              GPtrArray *missing,
              GPtrArray *unfit)
{
  g_autofree guint8 *seen = g_new0 (guint8, self->n_entries);
  KankyoAlarmEvent event = action_event (op->action);

  for (guint i = 0; op->ids[i] != NULL; i++)
    {
      gint index = kankyo_alarm_engine_lookup (self, op->ids[i]);
      Staged s;

      if (index < 0)
        {
          g_ptr_array_add (missing, op->ids[i]);
          continue;
        }
      if (seen[index])
        continue;
      seen[index] = TRUE;
      s.index = (guint) index;
      s.after = self->entries[index].alarm;
      if (!kankyo_alarm_apply (&s.after, event, now, until))
        g_ptr_array_add (unfit, op->ids[i]);
      else
        g_array_append_val (staged, s);
    }
}

/* The journal first: the last record durably, which makes the whole
 * action durable. */
static gboolean
journal_action (KankyoAlarmEngine *self, ActOp *op, GArray *staged, gint64 now, GError **error)
{
  for (guint i = 0; i < staged->len; i++)
    {
      const Staged *s = &g_array_index (staged, Staged, i);
      const Entry *e = &self->entries[s->index];
      g_autoptr (GError) local_error = NULL;
      KankyoAlarmRecord record = {
        .time = now,
        .alarm_id = e->def->id,
        .tag = e->def->tag,
        .device = e->def->device,
        .area = e->def->area,
        .priority = e->def->priority,
        .event = action_event (op->action),
        .state = s->after.state,
        .value = e->value,
        .message = e->def->message,
        .user = op->user,
        .reason = op->reason,
      };

      if (!kankyo_alarm_journal_append (self->journal, &record, i + 1 == staged->len, &local_error))
        {
          g_set_error (error, KANKYO_ALARM_ENGINE_ERROR, KANKYO_ALARM_ENGINE_ERROR_JOURNAL,
                       _ ("the alarm action was not carried out because the alarm journal could not "
                          "record it: %s"),
                       local_error->message);
          return FALSE;
        }
    }
  return TRUE;
}

/* Then the audit trail, alarm by alarm, each applied once recorded. */
static gboolean
apply_action (KankyoAlarmEngine *self, ActOp *op, GArray *staged, gint64 now, gint64 until, GError **error)
{
  g_autofree char *action = audit_action_name (op->action);
  KankyoAlarmEvent event = action_event (op->action);

  for (guint i = 0; i < staged->len; i++)
    {
      const Staged *s = &g_array_index (staged, Staged, i);
      Entry *e = &self->entries[s->index];
      g_autoptr (GError) local_error = NULL;
      g_autofree char *new_value = NULL;

      if (op->action == KANKYO_ALARM_ACTION_SHELVE)
        {
          g_autofree char *until_text = format_utc (until);

          new_value = g_strdup_printf ("shelved until %s", until_text);
        }
      else
        new_value = g_strdup (kankyo_alarm_state_to_string (s->after.state));
      if (!kankyo_audit_append (self->audit, op->user, action, e->def->id,
                                kankyo_alarm_state_to_string (e->alarm.state), new_value, op->reason, "ok",
                                NULL, &local_error))
        {
          g_set_error (error, KANKYO_ALARM_ENGINE_ERROR, KANKYO_ALARM_ENGINE_ERROR_JOURNAL,
                       _ ("%s and the alarms after it were left as they are because the audit trail could "
                          "not record the action: %s"),
                       e->def->id, local_error->message);
          return FALSE;
        }

      /* Already in the journal with its user: applied without a record. */
      g_mutex_lock (&self->mutex);
      kankyo_alarm_apply (&e->alarm, event, now, until);
      mark_changed (self, s->index);
      if (op->action == KANKYO_ALARM_ACTION_SHELVE)
        {
          g_free (e->shelved_by);
          g_free (e->shelve_reason);
          e->shelved_by = g_strdup (op->user);
          e->shelve_reason = g_strdup (op->reason);
        }
      else if (op->action == KANKYO_ALARM_ACTION_UNSHELVE)
        {
          g_clear_pointer (&e->shelved_by, g_free);
          g_clear_pointer (&e->shelve_reason, g_free);
        }
      if (op->action == KANKYO_ALARM_ACTION_UNSHELVE || op->action == KANKYO_ALARM_ACTION_RETURN_TO_SERVICE)
        reapply_suppression (self, s->index, now);
      g_mutex_unlock (&self->mutex);
      op->n_done++;
    }
  return TRUE;
}

static gboolean
act_run (gpointer data)
{
  GTask *task = data;
  ActOp *op = g_task_get_task_data (task);
  KankyoAlarmEngine *self = op->engine;
  g_autoptr (GArray) staged = g_array_new (FALSE, FALSE, sizeof (Staged));
  g_autoptr (GPtrArray) missing = g_ptr_array_new ();
  g_autoptr (GPtrArray) unfit = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  gint64 now = g_get_real_time ();
  gint64 until = op->action == KANKYO_ALARM_ACTION_SHELVE ? now + op->duration : 0;
  const char *verb = action_verb (op->action);

  if (g_atomic_int_get (&self->stopping))
    {
      g_task_return_new_error (task, KANKYO_ALARM_ENGINE_ERROR, KANKYO_ALARM_ENGINE_ERROR_STOPPED,
                               _ ("the alarm engine stopped before the action was carried out"));
      return G_SOURCE_REMOVE;
    }
  if (g_task_return_error_if_cancelled (task))
    return G_SOURCE_REMOVE;
  if (is_blank (op->user))
    {
      g_task_return_new_error (task, KANKYO_ALARM_ENGINE_ERROR, KANKYO_ALARM_ENGINE_ERROR_INVALID,
                               _ ("an alarm action needs the user who takes it"));
      return G_SOURCE_REMOVE;
    }
  if (!check_line (_ ("the user"), op->user, MAX_USER_LENGTH, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return G_SOURCE_REMOVE;
    }
  if (!check_action (self, op, &error))
    {
      audit_refusal (self, op, error);
      g_task_return_error (task, g_steal_pointer (&error));
      return G_SOURCE_REMOVE;
    }

  stage_action (self, op, now, until, staged, missing, unfit);
  if (!journal_action (self, op, staged, now, &error))
    audit_refusal (self, op, error);
  else
    apply_action (self, op, staged, now, until, &error);
  flush_outbox (self);
  schedule_deliveries (self, self->schedule);

  if (error == NULL && (missing->len > 0 || unfit->len > 0))
    {
      g_autofree char *missing_text = join_ids (missing);
      g_autofree char *unfit_text = join_ids (unfit);
      guint n = g_strv_length (op->ids);

      if (missing->len > 0 && unfit->len > 0)
        error = g_error_new (KANKYO_ALARM_ENGINE_ERROR, KANKYO_ALARM_ENGINE_ERROR_NOT_FOUND,
                             _ ("%u of %u alarms were changed; there is no alarm %s, and these are not in "
                                "a state to %s: %s"),
                             op->n_done, n, missing_text, verb, unfit_text);
      else if (missing->len > 0)
        error = g_error_new (KANKYO_ALARM_ENGINE_ERROR, KANKYO_ALARM_ENGINE_ERROR_NOT_FOUND,
                             _ ("%u of %u alarms were changed; there is no alarm %s"), op->n_done, n,
                             missing_text);
      else
        error = g_error_new (KANKYO_ALARM_ENGINE_ERROR, KANKYO_ALARM_ENGINE_ERROR_INVALID,
                             _ ("%u of %u alarms were changed; these are not in a state to %s: %s"),
                             op->n_done, n, verb, unfit_text);
    }
  if (error != NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_boolean (task, TRUE);
  return G_SOURCE_REMOVE;
}

void
kankyo_alarm_engine_act_async (KankyoAlarmEngine *self,
                               KankyoAlarmAction action,
                               const char *const *ids,
                               const char *user,
                               const char *reason,
                               gint64 duration_us,
                               GCancellable *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  ActOp *op;

  g_return_if_fail (self != NULL);
  g_return_if_fail (action_event (action) != KANKYO_ALARM_EVENT_NONE);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, kankyo_alarm_engine_act_async);
  op = g_new0 (ActOp, 1);
  op->engine = engine_ref (self);
  op->action = action;
  op->ids = g_strdupv ((char **) ids);
  op->user = g_strdup (user);
  op->reason = g_strdup (reason);
  op->duration = duration_us;
  g_task_set_task_data (task, op, (GDestroyNotify) act_op_free);
  if (!g_atomic_int_get (&self->running))
    {
      g_task_return_new_error (task, KANKYO_ALARM_ENGINE_ERROR, KANKYO_ALARM_ENGINE_ERROR_STOPPED,
                               _ ("the alarm engine is not running"));
      return;
    }
  g_main_context_invoke_full (self->context, G_PRIORITY_DEFAULT, act_run, g_steal_pointer (&task),
                              g_object_unref);
}

gboolean
kankyo_alarm_engine_act_finish (KankyoAlarmEngine *self,
                                GAsyncResult *result,
                                guint *ret_n_done,
                                GError **error)
{
  ActOp *op;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == kankyo_alarm_engine_act_async, FALSE);

  /* How many changed is known even when some were left out. */
  op = g_task_get_task_data (G_TASK (result));
  if (ret_n_done != NULL)
    *ret_n_done = op->n_done;
  return g_task_propagate_boolean (G_TASK (result), error);
}
