/* kankyo-engine.c: project -> workers, tag store, simulators, write path.
 *
 * The write path is deliberately one chain of steps on the engine thread:
 * check (actor, reason, tag, type, range), audit the request durably, queue
 * it to the device's worker, and when the worker reports back, audit the
 * result and complete the caller's task. A write that cannot be audited is
 * never sent.
 */
#include "config.h"

#include "kankyo-engine.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "kankyo-audit.h"
#include "kankyo-device-worker.h"
#include "kankyo-modules.h"
#include "kankyo-sim-host.h"

#define MAX_ACTOR_LENGTH 128
#define MAX_REASON_LENGTH 1024

/* The first argument becomes the quark's name, so it must stay one word. */
/* clang-format off */
G_DEFINE_QUARK (kankyo-engine-error-quark, kankyo_engine_error)
/* clang-format on */

typedef struct
{
  KankyoDeviceConfig *config; /* owned by the project */
  KankyoDriver *driver;
  KankyoDeviceType *type; /* NULL for map files and inline tags */
  GPtrArray *specs;       /* KankyoTagSpec* resolved, 0-based */
  GVariant *sim_params;   /* for the type's simulation model */
  guint *tag_ids;
  guint online_tag;
  guint error_tag;
  KankyoDeviceWorker *worker;
  char *endpoint_text;
  gboolean enabled;
} EngineDevice;

struct _KankyoEngine
{
  GObject parent_instance;

  KankyoProject *project;
  char *data_dir;
  char *audit_path;
  KankyoTagStore *store;
  GPtrArray *devices;         /* EngineDevice* */
  GHashTable *device_by_name; /* name -> EngineDevice* */
  KankyoSimHost *sim;
  double sim_speed;

  KankyoAudit *audit; /* the engine thread's and the alarm engine's */
  KankyoAlarmJournal *alarm_journal;
  KankyoAlarmEngine *alarms;
  char *alarms_path;
  KankyoHistorian *historian;
  char *history_path;
  GArray *history_ids; /* guint per tag-store id: the historian's id, 0 when not recorded */
  GMainContext *context;
  GMainLoop *loop;
  GThread *thread;
  gboolean running;
};

G_DEFINE_FINAL_TYPE (KankyoEngine, kankyo_engine, G_TYPE_OBJECT)

static void
engine_device_free (EngineDevice *dev)
{
  g_clear_pointer (&dev->worker, kankyo_device_worker_free);
  g_clear_object (&dev->driver);
  g_clear_object (&dev->type);
  g_clear_pointer (&dev->specs, g_ptr_array_unref);
  g_clear_pointer (&dev->sim_params, g_variant_unref);
  g_free (dev->tag_ids);
  g_free (dev->endpoint_text);
  g_free (dev);
}

static void
kankyo_engine_finalize (GObject *object)
{
  KankyoEngine *self = KANKYO_ENGINE (object);

  kankyo_engine_stop (self);
  g_clear_pointer (&self->devices, g_ptr_array_unref);
  g_clear_pointer (&self->device_by_name, g_hash_table_unref);
  g_clear_pointer (&self->store, kankyo_tag_store_unref);
  g_clear_pointer (&self->project, kankyo_project_free);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_free (self->data_dir);
  g_free (self->audit_path);
  g_free (self->history_path);
  g_free (self->alarms_path);
  G_OBJECT_CLASS (kankyo_engine_parent_class)->finalize (object);
}

static void
kankyo_engine_class_init (KankyoEngineClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = kankyo_engine_finalize;
}

static void
kankyo_engine_init (KankyoEngine *self)
{
  self->store = kankyo_tag_store_new ();
  self->devices = g_ptr_array_new_with_free_func ((GDestroyNotify) engine_device_free);
  self->device_by_name = g_hash_table_new (g_str_hash, g_str_equal);
  self->context = g_main_context_new ();
  self->sim_speed = 1.0;
}

static KankyoTagSpec *
status_spec (const char *name, KankyoValueType type, const char *label)
{
  KankyoTagSpec *spec = kankyo_tag_spec_new ();

  spec->name = g_strdup (name);
  spec->label = g_strdup (label);
  spec->value_type = type;
  return spec;
}

static gboolean
resolve_device (KankyoEngine *self, KankyoDeviceConfig *config, GError **error)
{
  EngineDevice *dev = g_new0 (EngineDevice, 1);
  g_autoptr (KankyoTagSpec) online = NULL;
  g_autoptr (KankyoTagSpec) last_error = NULL;

  dev->config = config;
  dev->enabled = TRUE;
  g_ptr_array_add (self->devices, dev);
  g_hash_table_insert (self->device_by_name, config->name, dev);

  if (!kankyo_modules_resolve_device (config, &dev->driver, &dev->type, &dev->specs, &dev->sim_params, error))
    return FALSE;

  dev->tag_ids = g_new0 (guint, MAX (dev->specs->len, 1));
  for (guint i = 0; i < dev->specs->len; i++)
    dev->tag_ids[i] = kankyo_tag_store_add (self->store, config->name, g_ptr_array_index (dev->specs, i));
  online = status_spec ("_online", KANKYO_VALUE_BOOL, _ ("Device answers"));
  last_error = status_spec ("_last_error", KANKYO_VALUE_STRING, _ ("Last communication error"));
  dev->online_tag = kankyo_tag_store_add (self->store, config->name, online);
  dev->error_tag = kankyo_tag_store_add (self->store, config->name, last_error);
  return TRUE;
}

KankyoEngine *
kankyo_engine_new (KankyoProject *project, const char *data_dir, GError **error)
{
  g_autoptr (KankyoEngine) self = g_object_new (KANKYO_TYPE_ENGINE, NULL);

  g_return_val_if_fail (project != NULL, NULL);
  g_return_val_if_fail (data_dir != NULL, NULL);

  self->project = project;
  self->data_dir = g_strdup (data_dir);
  self->audit_path = g_build_filename (data_dir, "audit.db", NULL);
  self->history_path = g_build_filename (data_dir, "history.db", NULL);
  self->alarms_path = g_build_filename (data_dir, "alarms.db", NULL);

  kankyo_modules_load ();
  for (guint i = 0; i < project->devices->len; i++)
    if (!resolve_device (self, g_ptr_array_index (project->devices, i), error))
      return NULL;
  return g_steal_pointer (&self);
}

void
kankyo_engine_set_devices (KankyoEngine *self, const char *const *devices)
{
  g_return_if_fail (!self->running);
  for (guint i = 0; i < self->devices->len; i++)
    {
      EngineDevice *dev = g_ptr_array_index (self->devices, i);

      dev->enabled = devices == NULL || g_strv_contains (devices, dev->config->name);
    }
}

void
kankyo_engine_set_sim_speed (KankyoEngine *self, double speed)
{
  g_return_if_fail (!self->running);
  self->sim_speed = speed > 0 ? speed : 1.0;
}

static gpointer
engine_thread (gpointer data)
{
  KankyoEngine *self = data;

  g_main_context_push_thread_default (self->context);
  g_main_loop_run (self->loop);
  g_main_context_pop_thread_default (self->context);
  return NULL;
}

static gboolean
start_simulators (KankyoEngine *self, GError **error)
{
  for (guint i = 0; i < self->devices->len; i++)
    {
      EngineDevice *dev = g_ptr_array_index (self->devices, i);
      g_autoptr (KankyoEndpoint) local = NULL;
      g_autoptr (KankyoSimModel) model = NULL;
      guint index;

      if (!dev->enabled || dev->config->endpoint != NULL)
        continue;
      if (self->sim == NULL)
        self->sim = kankyo_sim_host_new (self->sim_speed);
      /* The embedded plant is served on loopback only, on a free port. */
      local = kankyo_endpoint_parse ("tcp://127.0.0.1:0", NULL);
      if (dev->type != NULL)
        {
          model = kankyo_device_type_create_model (dev->type, dev->sim_params, error);
          if (model == NULL && error != NULL && *error != NULL)
            {
              g_prefix_error (error, "%s: %s: ", dev->config->location, dev->config->name);
              return FALSE;
            }
        }
      index = kankyo_sim_host_add (self->sim, dev->config->name, dev->specs, model, dev->driver, local,
                                   dev->config->unit_id, error);
      if (index == G_MAXUINT)
        return FALSE;
    }
  if (self->sim == NULL)
    return TRUE;
  if (!kankyo_sim_host_start (self->sim, error))
    return FALSE;

  for (guint i = 0, s = 0; i < self->devices->len; i++)
    {
      EngineDevice *dev = g_ptr_array_index (self->devices, i);

      if (!dev->enabled || dev->config->endpoint != NULL)
        continue;
      dev->endpoint_text = kankyo_sim_host_get_endpoint (self->sim, s++);
    }
  return TRUE;
}

static gboolean
start_workers (KankyoEngine *self, GError **error)
{
  for (guint i = 0; i < self->devices->len; i++)
    {
      EngineDevice *dev = g_ptr_array_index (self->devices, i);
      KankyoDeviceWorkerConfig wc = { 0 };
      g_autoptr (KankyoEndpoint) endpoint = NULL;
      g_autoptr (KankyoConnection) conn = NULL;

      if (!dev->enabled)
        continue;
      if (dev->config->endpoint != NULL)
        {
          /* The configured endpoint as parsed, timeouts included. */
          endpoint = kankyo_endpoint_copy (dev->config->endpoint);
          g_free (dev->endpoint_text);
          dev->endpoint_text = kankyo_endpoint_to_string (endpoint);
        }
      else
        {
          endpoint = kankyo_endpoint_parse (dev->endpoint_text, error);
          if (endpoint == NULL)
            return FALSE;
        }
      conn = kankyo_driver_create_connection (dev->driver, endpoint, error);
      if (conn == NULL)
        {
          g_prefix_error (error, _ ("device %s: "), dev->config->name);
          return FALSE;
        }
      wc.name = dev->config->name;
      wc.endpoint_text = dev->endpoint_text;
      wc.unit_id = dev->config->unit_id;
      wc.poll_period_ms = dev->config->poll_period_ms;
      wc.max_gap = dev->config->max_gap;
      wc.online_tag = dev->online_tag;
      wc.error_tag = dev->error_tag;
      wc.type = dev->type;
      dev->worker = kankyo_device_worker_new (&wc, conn, self->store, dev->tag_ids, dev->specs->len);
    }
  for (guint i = 0; i < self->devices->len; i++)
    {
      EngineDevice *dev = g_ptr_array_index (self->devices, i);

      if (dev->worker != NULL)
        kankyo_device_worker_start (dev->worker);
    }
  return TRUE;
}

/* Called by the tag store under its lock, on the publishing thread: hands
 * every sample to the historian's queue, which never blocks. A Bad sample
 * keeps the time of its last good value in the store, so it is recorded
 * at the time it arrived instead, where the gap begins. */
static void
record_samples (const KankyoTagSample *samples, guint n_samples, gpointer user_data)
{
  KankyoEngine *self = user_data;
  gint64 now = g_get_real_time ();

  for (guint i = 0; i < n_samples; i++)
    {
      const KankyoTagSample *sample = &samples[i];
      guint id = sample->tag_id < self->history_ids->len
                     ? g_array_index (self->history_ids, guint, sample->tag_id)
                     : 0;
      gint64 time = sample->source_time;

      if (id == 0)
        continue;
      if (!kankyo_quality_is_good (sample->quality) || time <= 0)
        time = now;
      kankyo_historian_append (self->historian, id, time, &sample->value, sample->quality);
    }
}

static gboolean
retention_from_class (const KankyoHistoryClass *klass, KankyoHistorianRetention *ret)
{
  ret->raw_us = (gint64) (klass->raw_s * G_USEC_PER_SEC);
  ret->minute_us = (gint64) (klass->minute_s * G_USEC_PER_SEC);
  ret->hour_us = (gint64) (klass->hour_s * G_USEC_PER_SEC);
  return TRUE;
}

/* Opens <data_dir>/history.db and registers every recorded tag with the
 * policy its map or project gives it. */
static gboolean
start_history (KankyoEngine *self, GError **error)
{
  guint n_tags = kankyo_tag_store_get_n_tags (self->store);

  self->historian = kankyo_historian_open (self->history_path, error);
  if (self->historian == NULL)
    return FALSE;
  for (guint i = 0; i < self->project->history_classes->len; i++)
    {
      KankyoHistoryClass *klass = g_ptr_array_index (self->project->history_classes, i);
      KankyoHistorianRetention retention;

      retention_from_class (klass, &retention);
      if (!kankyo_historian_set_retention (self->historian, klass->name, &retention, error))
        return FALSE;
    }

  self->history_ids = g_array_sized_new (FALSE, TRUE, sizeof (guint), n_tags);
  g_array_set_size (self->history_ids, n_tags);
  for (guint i = 0; i < n_tags; i++)
    {
      const KankyoTagSpec *spec = kankyo_tag_store_get_spec (self->store, i);
      const char *klass = spec->history.tag_class;
      KankyoHistorianPolicy policy = {
        .deadband = spec->history.deadband,
        .heartbeat_us = (gint64) (spec->history.heartbeat_s * G_USEC_PER_SEC),
        .tag_class = klass,
      };
      guint id;

      if (spec->history.off || spec->value_type == KANKYO_VALUE_STRING)
        continue;
      if (klass != NULL && !g_str_equal (klass, "default")
          && kankyo_project_find_history_class (self->project, klass) == NULL)
        {
          g_set_error (error, KANKYO_ENGINE_ERROR, KANKYO_ENGINE_ERROR_CONFIG,
                       _ ("tag %s: history class '%s' is not one of the project's history: classes:"),
                       kankyo_tag_store_get_name (self->store, i), klass);
          return FALSE;
        }
      id = kankyo_historian_add_tag (self->historian, kankyo_tag_store_get_name (self->store, i), spec->unit,
                                     &policy, error);
      if (id == 0)
        return FALSE;
      g_array_index (self->history_ids, guint, i) = id;
    }
  kankyo_tag_store_set_tap (self->store, record_samples, self);
  return TRUE;
}

/* ---- alarms ---- */

/* The conditions of KankyoAlarmLimitKind as the alarm engine knows them,
 * and as they end an alarm's id ("room1.temperature.high"). */
static const KankyoAlarmKind limit_kinds[KANKYO_ALARM_LIMIT_N_KINDS] = {
  [KANKYO_ALARM_LIMIT_LOW_LOW] = KANKYO_ALARM_LOW_LOW,
  [KANKYO_ALARM_LIMIT_LOW] = KANKYO_ALARM_LOW,
  [KANKYO_ALARM_LIMIT_HIGH] = KANKYO_ALARM_HIGH,
  [KANKYO_ALARM_LIMIT_HIGH_HIGH] = KANKYO_ALARM_HIGH_HIGH,
  [KANKYO_ALARM_LIMIT_DEVIATION] = KANKYO_ALARM_DEVIATION,
  [KANKYO_ALARM_LIMIT_RATE] = KANKYO_ALARM_RATE,
  [KANKYO_ALARM_LIMIT_STATE] = KANKYO_ALARM_DIGITAL,
};

static const char *const limit_names[KANKYO_ALARM_LIMIT_N_KINDS] = {
  "low-low", "low", "high", "high-high", "deviation", "rate", "state",
};

/* ISA-18.2 asks for about 5 % high, 15 % medium and 80 % low priority
 * among the alarms operators see. A low or high limit is crossed first and
 * most often, so it is low; the low-low and high-high behind it, and a
 * true/false alarm (a fault the device reports), are medium. High is left
 * to the device types and projects that mean it, and to comm-fail. */
static const KankyoAlarmPriority default_priorities[KANKYO_ALARM_LIMIT_N_KINDS] = {
  [KANKYO_ALARM_LIMIT_LOW_LOW] = KANKYO_ALARM_PRIORITY_MEDIUM,
  [KANKYO_ALARM_LIMIT_LOW] = KANKYO_ALARM_PRIORITY_LOW,
  [KANKYO_ALARM_LIMIT_HIGH] = KANKYO_ALARM_PRIORITY_LOW,
  [KANKYO_ALARM_LIMIT_HIGH_HIGH] = KANKYO_ALARM_PRIORITY_MEDIUM,
  [KANKYO_ALARM_LIMIT_DEVIATION] = KANKYO_ALARM_PRIORITY_LOW,
  [KANKYO_ALARM_LIMIT_RATE] = KANKYO_ALARM_PRIORITY_LOW,
  [KANKYO_ALARM_LIMIT_STATE] = KANKYO_ALARM_PRIORITY_MEDIUM,
};

/* "Fill room: Temperature high": the device, what is measured, the kind. */
static char *
alarm_message (KankyoAlarmLimitKind kind, const char *device, const char *what)
{
  switch (kind)
    {
      case KANKYO_ALARM_LIMIT_LOW_LOW:
        /* Translators: a device, then what it measures. */
        return g_strdup_printf (_ ("%s: %s low-low"), device, what);
      case KANKYO_ALARM_LIMIT_LOW:
        /* Translators: a device, then what it measures. */
        return g_strdup_printf (_ ("%s: %s low"), device, what);
      case KANKYO_ALARM_LIMIT_HIGH:
        /* Translators: a device, then what it measures. */
        return g_strdup_printf (_ ("%s: %s high"), device, what);
      case KANKYO_ALARM_LIMIT_HIGH_HIGH:
        /* Translators: a device, then what it measures. */
        return g_strdup_printf (_ ("%s: %s high-high"), device, what);
      case KANKYO_ALARM_LIMIT_DEVIATION:
        /* Translators: a device, then what it measures. */
        return g_strdup_printf (_ ("%s: %s away from its setpoint"), device, what);
      case KANKYO_ALARM_LIMIT_RATE:
        /* Translators: a device, then what it measures. */
        return g_strdup_printf (_ ("%s: %s changing too fast"), device, what);
      case KANKYO_ALARM_LIMIT_STATE:
      case KANKYO_ALARM_LIMIT_N_KINDS:
      default:
        /* Translators: a device, then the state it reports. */
        return g_strdup_printf (_ ("%s: %s"), device, what);
    }
}

/* "setpoint" of the same device, or "room1.setpoint" as written. */
static char *
qualify_tag (const char *device, const char *tag)
{
  return strchr (tag, '.') != NULL ? g_strdup (tag) : g_strconcat (device, ".", tag, NULL);
}

static gboolean
project_has_area (KankyoProject *project, const char *name)
{
  for (guint i = 0; i < project->areas->len; i++)
    if (g_str_equal (((KankyoAreaConfig *) g_ptr_array_index (project->areas, i))->name, name))
      return TRUE;
  return FALSE;
}

static gboolean
add_tag_alarms (KankyoEngine *self,
                EngineDevice *dev,
                const KankyoTagSpec *spec,
                const KankyoAlarmLimits *l,
                GPtrArray *defs,
                GError **error)
{
  const KankyoDeviceConfig *config = dev->config;
  const double limits[KANKYO_ALARM_LIMIT_N_KINDS] = {
    l->low_low, l->low, l->high, l->high_high, l->deviation, l->rate, l->state >= 0 ? l->state : NAN,
  };
  const char *device_text = config->label != NULL ? config->label : config->name;
  const char *what = l->message != NULL    ? l->message
                     : spec->label != NULL ? g_dgettext (GETTEXT_PACKAGE, spec->label)
                                           : spec->name;

  if (l->display != NULL && !project_has_area (self->project, l->display))
    {
      g_set_error (error, KANKYO_ENGINE_ERROR, KANKYO_ENGINE_ERROR_CONFIG,
                   _ ("tag %s.%s: alarms: display '%s' is not an area of the project"), config->name,
                   spec->name, l->display);
      return FALSE;
    }
  for (guint k = 0; k < KANKYO_ALARM_LIMIT_N_KINDS; k++)
    {
      KankyoAlarmDefinition *def;

      if (isnan (limits[k]))
        continue;
      def = kankyo_alarm_definition_new ();
      def->id = g_strdup_printf ("%s.%s.%s", config->name, spec->name, limit_names[k]);
      def->tag = g_strdup_printf ("%s.%s", config->name, spec->name);
      def->device = g_strdup (config->name);
      def->area = g_strdup (config->area);
      def->priority = l->priority[k] >= 0 ? (KankyoAlarmPriority) l->priority[k] : default_priorities[k];
      def->condition.kind = limit_kinds[k];
      def->condition.limit = limits[k];
      /* The deadband is in the tag's unit; a rate is in units per second. */
      def->condition.deadband = k == KANKYO_ALARM_LIMIT_RATE ? 0.0 : l->deadband;
      def->condition.on_delay = (gint64) (l->on_delay * G_USEC_PER_SEC);
      def->condition.off_delay = (gint64) (l->off_delay * G_USEC_PER_SEC);
      if (k == KANKYO_ALARM_LIMIT_DEVIATION)
        def->setpoint_tag = qualify_tag (config->name, l->deviation_setpoint);
      def->latching = l->latching;
      def->message = alarm_message (k, device_text, what);
      def->guidance = g_strdup (l->guidance);
      def->display = g_strdup (l->display != NULL ? l->display : config->area);
      if (l->suppressed_by != NULL)
        def->suppressed_by = qualify_tag (config->name, l->suppressed_by);
      def->suppressed_value = l->suppressed_value;
      g_ptr_array_add (defs, def);
    }
  return TRUE;
}

static KankyoAlarmDefinition *
comm_fail_definition (EngineDevice *dev)
{
  const KankyoDeviceConfig *config = dev->config;
  KankyoAlarmDefinition *def = kankyo_alarm_definition_new ();

  def->id = g_strdup_printf ("%s.comm-fail", config->name);
  def->tag = g_strdup_printf ("%s._online", config->name);
  def->device = g_strdup (config->name);
  def->area = g_strdup (config->area);
  def->priority = (KankyoAlarmPriority) config->comm_fail_priority;
  def->condition.kind = KANKYO_ALARM_COMM_FAIL;
  def->condition.limit = 0; /* _online false */
  def->condition.on_delay = (gint64) config->comm_fail_delay_ms * G_TIME_SPAN_MILLISECOND;
  def->message
      = g_strdup_printf (_ ("%s: does not answer"), config->label != NULL ? config->label : config->name);
  def->guidance = g_strdup (config->comm_fail_guidance != NULL
                                ? config->comm_fail_guidance
                                : _ ("Check that the device has power and that its cable is connected, then "
                                     "its endpoint and unit id in the project. Its other alarms are "
                                     "suppressed until it answers."));
  def->display = g_strdup (config->area);
  return def;
}

/* A project's alarms for a tag of a device must name one of its tags and
 * fit what the tag holds. */
static gboolean
check_alarm_overrides (EngineDevice *dev, GError **error)
{
  GPtrArray *overrides = dev->config->alarm_overrides;

  for (guint i = 0; overrides != NULL && i < overrides->len; i++)
    {
      const KankyoAlarmOverride *override = g_ptr_array_index (overrides, i);
      const KankyoTagSpec *spec = NULL;
      gboolean is_bool;

      for (guint j = 0; j < dev->specs->len && spec == NULL; j++)
        if (g_str_equal (((const KankyoTagSpec *) g_ptr_array_index (dev->specs, j))->name, override->tag))
          spec = g_ptr_array_index (dev->specs, j);
      if (spec == NULL)
        {
          g_set_error (error, KANKYO_ENGINE_ERROR, KANKYO_ENGINE_ERROR_CONFIG,
                       _ ("%s: alarms: device %s has no tag '%s'"), override->location, dev->config->name,
                       override->tag);
          return FALSE;
        }
      is_bool = spec->value_type == KANKYO_VALUE_BOOL;
      if (override->off || is_bool == (override->limits.state >= 0))
        continue;
      if (is_bool)
        g_set_error (error, KANKYO_ENGINE_ERROR, KANKYO_ENGINE_ERROR_CONFIG,
                     _ ("%s: alarms: tag '%s' of device %s is true or false; it takes state: true or "
                        "state: false, not limits"),
                     override->location, override->tag, dev->config->name);
      else
        g_set_error (error, KANKYO_ENGINE_ERROR, KANKYO_ENGINE_ERROR_CONFIG,
                     _ ("%s: alarms: tag '%s' of device %s holds a number; it takes limits such as high: 80, "
                        "not a state"),
                     override->location, override->tag, dev->config->name);
      return FALSE;
    }
  return TRUE;
}

/* Opens <data_dir>/alarms.db and starts judging the polled devices'
 * alarms, before the workers publish their first values. */
static gboolean
start_alarms (KankyoEngine *self, GError **error)
{
  g_autoptr (GPtrArray) defs = g_ptr_array_new_with_free_func ((GDestroyNotify) kankyo_alarm_definition_free);

  self->alarm_journal = kankyo_alarm_journal_open (self->alarms_path, error);
  if (self->alarm_journal == NULL)
    return FALSE;
  for (guint i = 0; i < self->devices->len; i++)
    {
      EngineDevice *dev = g_ptr_array_index (self->devices, i);

      if (!dev->enabled)
        continue;
      if (!check_alarm_overrides (dev, error))
        return FALSE;
      for (guint j = 0; j < dev->specs->len; j++)
        {
          const KankyoTagSpec *spec = g_ptr_array_index (dev->specs, j);
          const KankyoAlarmOverride *override
              = kankyo_device_config_find_alarm_override (dev->config, spec->name);
          const KankyoAlarmLimits *limits = override != NULL ? &override->limits : &spec->alarms;

          if (override != NULL && override->off)
            continue;
          if (kankyo_alarm_limits_is_set (limits) && !add_tag_alarms (self, dev, spec, limits, defs, error))
            return FALSE;
        }
      if (!dev->config->comm_fail_off)
        g_ptr_array_add (defs, comm_fail_definition (dev));
    }
  self->alarms = kankyo_alarm_engine_new (self->store, g_steal_pointer (&defs), self->audit,
                                          self->alarm_journal, error);
  if (self->alarms == NULL)
    {
      g_prefix_error (error, _ ("the project's alarms cannot be used: "));
      return FALSE;
    }
  return kankyo_alarm_engine_start (self->alarms, error);
}

gboolean
kankyo_engine_start (KankyoEngine *self, GError **error)
{
  g_return_val_if_fail (KANKYO_IS_ENGINE (self), FALSE);
  g_return_val_if_fail (!self->running, FALSE);

  if (g_mkdir_with_parents (self->data_dir, 0700) != 0)
    {
      int saved = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   _ ("cannot create the data folder %s: %s"), self->data_dir, g_strerror (saved));
      return FALSE;
    }
  self->audit = kankyo_audit_open (self->audit_path, error);
  if (self->audit == NULL)
    return FALSE;

  if (!start_alarms (self, error) || !start_history (self, error) || !start_simulators (self, error)
      || !start_workers (self, error))
    {
      kankyo_engine_stop (self);
      return FALSE;
    }

  self->loop = g_main_loop_new (self->context, FALSE);
  self->thread = g_thread_new ("kankyo engine", engine_thread, self);
  self->running = TRUE;
  return TRUE;
}

static gboolean
quit_loop (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

void
kankyo_engine_stop (KankyoEngine *self)
{
  g_return_if_fail (KANKYO_IS_ENGINE (self));

  /* Alarms before anything stops: the devices falling silent as the
   * workers and simulators go must not raise comm-fail alarms. */
  g_clear_pointer (&self->alarms, kankyo_alarm_engine_free);
  /* Workers first: pending writes complete (as failed) through the engine
   * context, which is still running to record them. */
  for (guint i = 0; self->devices != NULL && i < self->devices->len; i++)
    {
      EngineDevice *dev = g_ptr_array_index (self->devices, i);

      if (dev->worker != NULL)
        kankyo_device_worker_stop (dev->worker);
    }
  if (self->thread != NULL)
    {
      g_main_context_invoke (self->context, quit_loop, self->loop);
      g_thread_join (self->thread);
      self->thread = NULL;
      /* Anything that arrived after the loop quit runs here. */
      while (g_main_context_iteration (self->context, FALSE))
        ;
    }
  g_clear_pointer (&self->loop, g_main_loop_unref);
  for (guint i = 0; self->devices != NULL && i < self->devices->len; i++)
    {
      EngineDevice *dev = g_ptr_array_index (self->devices, i);

      g_clear_pointer (&dev->worker, kankyo_device_worker_free);
    }
  g_clear_pointer (&self->sim, kankyo_sim_host_free);
  /* Nothing publishes now; what the historian has queued is committed. */
  kankyo_tag_store_set_tap (self->store, NULL, NULL);
  g_clear_pointer (&self->historian, kankyo_historian_close);
  g_clear_pointer (&self->history_ids, g_array_unref);
  g_clear_pointer (&self->alarm_journal, kankyo_alarm_journal_close);
  g_clear_pointer (&self->audit, kankyo_audit_close);
  self->running = FALSE;
}

KankyoTagStore *
kankyo_engine_get_tag_store (KankyoEngine *self)
{
  return self->store;
}

KankyoSimHost *
kankyo_engine_get_sim_host (KankyoEngine *self)
{
  g_return_val_if_fail (KANKYO_IS_ENGINE (self), NULL);
  return self->sim;
}

KankyoProject *
kankyo_engine_get_project (KankyoEngine *self)
{
  return self->project;
}

KankyoHistorian *
kankyo_engine_get_historian (KankyoEngine *self)
{
  g_return_val_if_fail (KANKYO_IS_ENGINE (self), NULL);
  return self->historian;
}

KankyoAlarmEngine *
kankyo_engine_get_alarms (KankyoEngine *self)
{
  g_return_val_if_fail (KANKYO_IS_ENGINE (self), NULL);
  return self->alarms;
}

KankyoAlarmJournal *
kankyo_engine_get_alarm_journal (KankyoEngine *self)
{
  g_return_val_if_fail (KANKYO_IS_ENGINE (self), NULL);
  return self->alarm_journal;
}

const char *
kankyo_engine_get_audit_path (KankyoEngine *self)
{
  return self->audit_path;
}

const char *
kankyo_engine_get_tag_device (KankyoEngine *self, const char *tag)
{
  gint id = kankyo_tag_store_lookup (self->store, tag);

  return id < 0 ? NULL : kankyo_tag_store_get_device (self->store, (guint) id);
}

/* ---- the write path ---- */

typedef struct
{
  KankyoEngine *engine;
  char *tag;
  char *value_text;
  char *actor;
  char *reason;
  KankyoValue value;
  KankyoValue readback;
  const KankyoTagSpec *spec; /* owned by the tag store */
  GError *error;
  GTask *task;
} WriteOp;

static void
write_op_free (WriteOp *op)
{
  g_free (op->tag);
  g_free (op->value_text);
  g_free (op->actor);
  g_free (op->reason);
  kankyo_value_clear (&op->value);
  kankyo_value_clear (&op->readback);
  g_clear_error (&op->error);
  g_free (op);
}

static gboolean
has_control_characters (const char *s)
{
  for (; *s; s++)
    if ((guchar) *s < 0x20 && *s != '\t')
      return TRUE;
  return FALSE;
}

static gboolean
check_text (const char *what, const char *text, gsize max, GError **error)
{
  g_autofree char *trimmed = text ? g_strstrip (g_strdup (text)) : NULL;

  if (trimmed == NULL || *trimmed == '\0')
    {
      g_set_error (error, KANKYO_ENGINE_ERROR, KANKYO_ENGINE_ERROR_INVALID, _ ("a write needs %s"), what);
      return FALSE;
    }
  if (strlen (text) > max || !g_utf8_validate (text, -1, NULL) || has_control_characters (text))
    {
      g_set_error (error, KANKYO_ENGINE_ERROR, KANKYO_ENGINE_ERROR_INVALID,
                   _ ("%s must be one line of text of at most %zu bytes"), what, max);
      return FALSE;
    }
  return TRUE;
}

static void
audit_result (WriteOp *op, const char *new_value, const char *result)
{
  g_autoptr (GError) error = NULL;

  if (!kankyo_audit_append (op->engine->audit, op->actor, "write.result", op->tag, NULL, new_value,
                            op->reason, result, NULL, &error))
    g_warning (_ ("the result of writing %s could not be recorded in the audit trail: %s"), op->tag,
               error->message);
}

static gboolean
write_complete (gpointer data)
{
  WriteOp *op = data;
  GTask *task = op->task;

  if (op->error != NULL)
    {
      g_autofree char *result = g_strconcat ("failed: ", op->error->message, NULL);

      audit_result (op, NULL, result);
      g_task_return_error (task, g_steal_pointer (&op->error));
    }
  else
    {
      g_autofree char *text = kankyo_tag_spec_format_value (op->spec, &op->readback);

      audit_result (op, text, "ok");
      g_task_return_boolean (task, TRUE);
    }
  g_object_unref (task);
  return G_SOURCE_REMOVE;
}

/* Worker thread. */
static void
write_done (gpointer user_data, const KankyoValue *readback, const GError *error)
{
  WriteOp *op = user_data;

  if (error != NULL)
    op->error = g_error_copy (error);
  else
    kankyo_value_copy (readback, &op->readback);
  g_main_context_invoke (op->engine->context, write_complete, op);
}

static gboolean
write_begin (gpointer data)
{
  GTask *task = data;
  WriteOp *op = g_task_get_task_data (task);
  KankyoEngine *self = op->engine;
  g_autoptr (GError) error = NULL;
  g_autofree char *old_text = NULL;
  g_autofree char *rejected = NULL;
  const KankyoTagSpec *spec = NULL;
  EngineDevice *dev = NULL;
  KankyoTagSample current;
  gint id;

  op->task = task;
  if (!check_text (_ ("a user"), op->actor, MAX_ACTOR_LENGTH, &error)
      || !check_text (_ ("a reason"), op->reason, MAX_REASON_LENGTH, &error))
    goto fail_unaudited;

  id = kankyo_tag_store_lookup (self->store, op->tag);
  if (id >= 0)
    {
      spec = kankyo_tag_store_get_spec (self->store, (guint) id);
      dev = g_hash_table_lookup (self->device_by_name, kankyo_tag_store_get_device (self->store, (guint) id));
      kankyo_tag_store_get (self->store, (guint) id, &current);
      if (current.value.type != KANKYO_VALUE_NONE)
        old_text = kankyo_tag_spec_format_value (spec, &current.value);
      kankyo_tag_sample_clear (&current);
    }

  if (spec == NULL)
    g_set_error (&error, KANKYO_ENGINE_ERROR, KANKYO_ENGINE_ERROR_NOT_FOUND, _ ("there is no tag named %s"),
                 op->tag);
  else if (!spec->writable)
    g_set_error (&error, KANKYO_ENGINE_ERROR, KANKYO_ENGINE_ERROR_READ_ONLY, _ ("%s is read-only"), op->tag);
  else if (dev == NULL || dev->worker == NULL)
    g_set_error (&error, KANKYO_ENGINE_ERROR, KANKYO_ENGINE_ERROR_STOPPED,
                 _ ("%s is not being polled, so it cannot be written"), op->tag);
  else if (!kankyo_value_parse (spec->value_type, op->value_text, &op->value, &error)
           || !kankyo_tag_spec_check_value (spec, &op->value, &error))
    g_prefix_error (&error, "%s: ", op->tag);

  if (error != NULL)
    {
      g_autoptr (GError) audit_error = NULL;

      rejected = g_strconcat ("rejected: ", error->message, NULL);
      if (!kankyo_audit_append (self->audit, op->actor, "write.request", op->tag, old_text, op->value_text,
                                op->reason, rejected, NULL, &audit_error))
        g_warning (_ ("a rejected write of %s could not be recorded: %s"), op->tag, audit_error->message);
      goto fail_unaudited;
    }

  op->spec = spec;

  /* Durable before the device hears of it. */
  {
    g_autoptr (GError) audit_error = NULL;

    if (!kankyo_audit_append (self->audit, op->actor, "write.request", op->tag, old_text, op->value_text,
                              op->reason, "pending", NULL, &audit_error))
      {
        g_set_error (&error, KANKYO_ENGINE_ERROR, KANKYO_ENGINE_ERROR_AUDIT,
                     _ ("the write of %s was not sent because the audit trail could not record it: %s"),
                     op->tag, audit_error->message);
        goto fail_unaudited;
      }
  }

  g_object_ref (task);
  if (!kankyo_device_worker_queue_write (dev->worker, (guint) id, &op->value, write_done, op, &error))
    {
      g_autofree char *result = g_strconcat ("failed: ", error->message, NULL);

      audit_result (op, NULL, result);
      g_object_unref (task);
      goto fail_unaudited;
    }
  return G_SOURCE_REMOVE;

fail_unaudited:
  g_task_return_error (task, g_steal_pointer (&error));
  return G_SOURCE_REMOVE;
}

void
kankyo_engine_write_async (KankyoEngine *self,
                           const char *tag,
                           const char *value_text,
                           const char *actor,
                           const char *reason,
                           GCancellable *cancellable,
                           GAsyncReadyCallback callback,
                           gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  WriteOp *op;

  g_return_if_fail (KANKYO_IS_ENGINE (self));
  g_return_if_fail (tag != NULL && value_text != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kankyo_engine_write_async);
  if (!self->running)
    {
      g_task_return_new_error (task, KANKYO_ENGINE_ERROR, KANKYO_ENGINE_ERROR_STOPPED,
                               _ ("the engine is not running"));
      return;
    }
  op = g_new0 (WriteOp, 1);
  op->engine = self;
  op->tag = g_strdup (tag);
  op->value_text = g_strdup (value_text);
  op->actor = g_strdup (actor);
  op->reason = g_strdup (reason);
  g_task_set_task_data (task, op, (GDestroyNotify) write_op_free);
  g_main_context_invoke_full (self->context, G_PRIORITY_DEFAULT, write_begin, g_steal_pointer (&task),
                              g_object_unref);
}

gboolean
kankyo_engine_write_finish (KankyoEngine *self,
                            GAsyncResult *result,
                            KankyoValue *ret_readback,
                            GError **error)
{
  GTask *task = G_TASK (result);
  WriteOp *op;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  if (!g_task_propagate_boolean (task, error))
    return FALSE;
  op = g_task_get_task_data (task);
  if (ret_readback != NULL)
    kankyo_value_copy (&op->readback, ret_readback);
  return TRUE;
}

char *
kankyo_engine_default_data_dir (const KankyoProject *project)
{
  const char *env = g_getenv ("KANKYO_DATA_DIR");
  g_autofree char *safe = NULL;

  if (env != NULL && *env != '\0')
    return g_strdup (env);
  safe = g_strdup (project->name ? project->name : "project");
  g_strcanon (safe, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_", '_');
  return g_build_filename (g_get_user_data_dir (), "kankyo", safe, NULL);
}

KankyoProject *
kankyo_engine_load_demo_project (GError **error)
{
  g_autoptr (GBytes) bytes
      = g_resources_lookup_data ("/org/kankyo/data/demo/demo.yaml", G_RESOURCE_LOOKUP_FLAGS_NONE, error);

  if (bytes == NULL)
    return NULL;
  return kankyo_project_load_from_bytes (bytes, "resource:///org/kankyo/data/demo/demo.yaml", NULL, error);
}
