/* kankyo-device-worker.c: the poll loop of one device connection.
 *
 * The thread sleeps on its write queue with a timeout that ends at the next
 * poll (or reconnect attempt), so a write is picked up at once and a poll is
 * never late because of an idle wait. Missed poll instants are skipped, not
 * caught up, so a slow device is polled as fast as it answers and no faster.
 */
#include "config.h"

#include "kankyo-device-worker.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "kankyo-block-plan.h"
#include "kankyo-engine.h"

#define MAX_QUEUED_WRITES 64
#define BACKOFF_MIN_US (100 * G_TIME_SPAN_MILLISECOND)
#define BACKOFF_MAX_US (30 * G_TIME_SPAN_SECOND)

typedef struct
{
  gboolean stop;
  guint tag_id;
  KankyoValue value;
  KankyoWriteDoneFunc done;
  gpointer user_data;
} WriteRequest;

struct _KankyoDeviceWorker
{
  char *name;
  char *endpoint_text;
  guint8 unit_id;
  gint64 period_us;
  guint online_tag;
  guint error_tag;

  KankyoConnection *connection;
  KankyoTagStore *store;
  guint *tag_ids;
  const KankyoTagSpec **specs; /* owned by the store */
  guint n_tags;
  guint n_reg;               /* tags [0, n_reg) have registers, the rest are computed */
  KankyoDeviceType *type;    /* derives the computed tags; may be NULL */
  GHashTable *index_by_name; /* tag name -> index + 1 */
  gboolean *received;        /* per tag: a Good value has arrived once */

  GArray *blocks;           /* KankyoBlock */
  GArray *placements;       /* KankyoBlockPlacement, per tag */
  guint16 *buffer;          /* one slot per element of every block */
  guint *block_base;        /* offset of each block in buffer */
  KankyoTagSample *samples; /* n_tags + 2 */
  gboolean *block_ok;       /* per block, this cycle */

  GAsyncQueue *queue;
  GThread *thread;
  gint64 backoff_us;
  gint64 reconnect_at;
};

static void
write_request_free (WriteRequest *req)
{
  kankyo_value_clear (&req->value);
  g_free (req);
}

KankyoDeviceWorker *
kankyo_device_worker_new (const KankyoDeviceWorkerConfig *config,
                          KankyoConnection *connection,
                          KankyoTagStore *store,
                          const guint *tag_ids,
                          guint n_tags)
{
  KankyoDeviceWorker *w = g_new0 (KankyoDeviceWorker, 1);
  g_autofree KankyoTagSpec **specs = g_new0 (KankyoTagSpec *, MAX (n_tags, 1));
  guint total = 0;

  w->name = g_strdup (config->name);
  w->endpoint_text = g_strdup (config->endpoint_text);
  w->unit_id = config->unit_id;
  w->period_us = (gint64) MAX (config->poll_period_ms, 1) * G_TIME_SPAN_MILLISECOND;
  w->online_tag = config->online_tag;
  w->error_tag = config->error_tag;
  w->connection = g_object_ref (connection);
  w->store = kankyo_tag_store_ref (store);
  w->n_tags = n_tags;
  w->tag_ids = g_new0 (guint, MAX (n_tags, 1));
  w->specs = g_new0 (const KankyoTagSpec *, MAX (n_tags, 1));
  w->received = g_new0 (gboolean, MAX (n_tags, 1));
  w->type = config->type ? g_object_ref (config->type) : NULL;
  w->index_by_name = g_hash_table_new (g_str_hash, g_str_equal);
  /* Register tags first, computed tags after them. */
  for (int pass = 0, k = 0; pass < 2; pass++)
    for (guint i = 0; i < n_tags; i++)
      {
        const KankyoTagSpec *spec = kankyo_tag_store_get_spec (store, tag_ids[i]);

        if (spec->computed != (pass == 1))
          continue;
        w->tag_ids[k] = tag_ids[i];
        w->specs[k] = spec;
        specs[k] = (KankyoTagSpec *) spec;
        g_hash_table_insert (w->index_by_name, spec->name, GUINT_TO_POINTER (k + 1));
        if (pass == 0)
          w->n_reg = (guint) k + 1;
        k++;
      }

  w->blocks = kankyo_block_plan_build (specs, w->n_reg, config->max_gap, &w->placements);
  w->block_base = g_new0 (guint, MAX (w->blocks->len, 1));
  for (guint b = 0; b < w->blocks->len; b++)
    {
      w->block_base[b] = total;
      total += g_array_index (w->blocks, KankyoBlock, b).count;
    }
  w->buffer = g_new0 (guint16, MAX (total, 1));
  w->block_ok = g_new0 (gboolean, MAX (w->blocks->len, 1));
  w->samples = g_new0 (KankyoTagSample, n_tags + 2);
  w->queue = g_async_queue_new_full ((GDestroyNotify) write_request_free);
  return w;
}

static void
clear_samples (KankyoDeviceWorker *w, guint n)
{
  for (guint i = 0; i < n; i++)
    kankyo_tag_sample_clear (&w->samples[i]);
}

static void
set_status_samples (KankyoDeviceWorker *w, guint at, gboolean online, const char *error_text)
{
  gint64 now = g_get_real_time ();

  w->samples[at].tag_id = w->online_tag;
  kankyo_value_set_bool (&w->samples[at].value, online);
  w->samples[at].quality = KANKYO_QUALITY_GOOD;
  w->samples[at].source_time = now;
  w->samples[at + 1].tag_id = w->error_tag;
  kankyo_value_set_string (&w->samples[at + 1].value, error_text ? error_text : "");
  w->samples[at + 1].quality = KANKYO_QUALITY_GOOD;
  w->samples[at + 1].source_time = now;
}

/* The last value stays, with the time it was true, so its age shows. */
static void
fill_failed_sample (KankyoDeviceWorker *w, guint i, KankyoTagSample *sample)
{
  KankyoTagSample current;

  kankyo_tag_store_get (w->store, w->tag_ids[i], &current);
  kankyo_value_clear (&sample->value);
  sample->value = current.value;
  sample->tag_id = w->tag_ids[i];
  sample->source_time = current.source_time;
  sample->quality
      = w->received[i] ? KANKYO_QUALITY_BAD_COMMUNICATION_ERROR : KANKYO_QUALITY_BAD_NO_COMMUNICATION;
}

static void
publish_failure (KankyoDeviceWorker *w, const GError *error)
{
  for (guint i = 0; i < w->n_tags; i++)
    fill_failed_sample (w, i, &w->samples[i]);
  set_status_samples (w, w->n_tags, FALSE, error ? error->message : NULL);
  kankyo_tag_store_publish (w->store, w->samples, w->n_tags + 2);
  clear_samples (w, w->n_tags + 2);
}

/* Errors after which the link cannot be trusted; an exception is an answer. */
static gboolean
error_breaks_link (const GError *error)
{
  return !g_error_matches (error, KANKYO_DRIVER_ERROR, KANKYO_DRIVER_ERROR_EXCEPTION)
         && !g_error_matches (error, KANKYO_DRIVER_ERROR, KANKYO_DRIVER_ERROR_INVALID);
}

static void
note_link_lost (KankyoDeviceWorker *w, const GError *error)
{
  gint64 cap = CLAMP (w->period_us, BACKOFF_MIN_US, BACKOFF_MAX_US);

  kankyo_connection_disconnect (w->connection);
  w->backoff_us = w->backoff_us == 0 ? MIN (BACKOFF_MIN_US, cap) : MIN (w->backoff_us * 2, cap);
  w->reconnect_at = g_get_monotonic_time () + w->backoff_us;
  publish_failure (w, error);
}

static gboolean
ensure_connected (KankyoDeviceWorker *w, GError **error)
{
  if (kankyo_connection_is_connected (w->connection))
    return TRUE;
  if (!kankyo_connection_connect (w->connection, error))
    return FALSE;
  w->backoff_us = 0;
  return TRUE;
}

typedef struct
{
  KankyoDeviceWorker *worker;
  gint64 now;
} DeriveContext;

static double
derive_get (gpointer data, const char *tag)
{
  DeriveContext *ctx = data;
  guint k = GPOINTER_TO_UINT (g_hash_table_lookup (ctx->worker->index_by_name, tag));
  const KankyoTagSample *s;

  if (k == 0)
    return NAN;
  s = &ctx->worker->samples[k - 1];
  return s->quality == KANKYO_QUALITY_GOOD ? kankyo_value_to_double (&s->value) : NAN;
}

static void
derive_set (gpointer data, const char *tag, double value)
{
  DeriveContext *ctx = data;
  KankyoDeviceWorker *w = ctx->worker;
  guint k = GPOINTER_TO_UINT (g_hash_table_lookup (w->index_by_name, tag));
  KankyoTagSample *s;

  /* Only computed tags may be set: a plugin cannot overwrite a reading. */
  if (k == 0 || k - 1 < w->n_reg)
    return;
  s = &w->samples[k - 1];
  if (w->specs[k - 1]->value_type == KANKYO_VALUE_BOOL)
    kankyo_value_set_bool (&s->value, value != 0.0);
  else
    kankyo_value_set_double (&s->value, value);
  s->quality = isfinite (value) ? KANKYO_QUALITY_GOOD : KANKYO_QUALITY_BAD_SENSOR_FAILURE;
  s->source_time = ctx->now;
  if (isfinite (value))
    w->received[k - 1] = TRUE;
}

/* Computed tags start as "no value" each cycle; what the plugin cannot
 * compute (its inputs are bad) stays that way. */
static void
derive_computed (KankyoDeviceWorker *w, gint64 now)
{
  DeriveContext ctx = { w, now };
  KankyoTagIo io = { &ctx, derive_get, derive_set };

  if (w->n_reg == w->n_tags)
    return;
  for (guint i = w->n_reg; i < w->n_tags; i++)
    {
      w->samples[i].tag_id = w->tag_ids[i];
      kankyo_value_set_double (&w->samples[i].value, NAN);
      w->samples[i].quality = KANKYO_QUALITY_BAD_SENSOR_FAILURE;
      w->samples[i].source_time = now;
    }
  if (w->type != NULL)
    kankyo_device_type_derive (w->type, &io);
}

gboolean
kankyo_device_worker_poll_once (KankyoDeviceWorker *w, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  gboolean *block_ok = w->block_ok;
  g_autofree char *block_error = NULL;
  gint64 now;

  if (!ensure_connected (w, &local_error))
    {
      note_link_lost (w, local_error);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  for (guint b = 0; b < w->blocks->len; b++)
    {
      const KankyoBlock *blk = &g_array_index (w->blocks, KankyoBlock, b);
      g_autoptr (GError) read_error = NULL;

      if (kankyo_connection_read (w->connection, w->unit_id, blk->area, blk->start, blk->count,
                                  w->buffer + w->block_base[b], &read_error))
        {
          block_ok[b] = TRUE;
          continue;
        }
      block_ok[b] = FALSE;
      if (error_breaks_link (read_error))
        {
          note_link_lost (w, read_error);
          g_propagate_error (error, g_steal_pointer (&read_error));
          return FALSE;
        }
      /* The device refused this block only: its tags go bad, the rest stay. */
      if (block_error == NULL)
        block_error = g_strdup (read_error->message);
    }

  now = g_get_real_time ();
  for (guint i = 0; i < w->n_reg; i++)
    {
      const KankyoBlockPlacement *p = &g_array_index (w->placements, KankyoBlockPlacement, i);
      KankyoTagSample *s = &w->samples[i];
      g_autoptr (GError) decode_error = NULL;

      if (!block_ok[p->block])
        {
          fill_failed_sample (w, i, s);
          continue;
        }
      s->tag_id = w->tag_ids[i];
      s->source_time = now;
      if (!kankyo_register_decode (&w->specs[i]->reg, w->buffer + w->block_base[p->block] + p->offset,
                                   &s->value, &decode_error))
        {
          s->quality = KANKYO_QUALITY_BAD_SENSOR_FAILURE;
          continue;
        }
      if (s->value.type == KANKYO_VALUE_DOUBLE && !isfinite (s->value.v.d))
        {
          s->quality = KANKYO_QUALITY_BAD_SENSOR_FAILURE;
          continue;
        }
      s->quality = KANKYO_QUALITY_GOOD;
      w->received[i] = TRUE;
    }
  derive_computed (w, now);
  set_status_samples (w, w->n_tags, TRUE, block_error);
  kankyo_tag_store_publish (w->store, w->samples, w->n_tags + 2);
  clear_samples (w, w->n_tags + 2);

  if (block_error != NULL)
    {
      g_set_error (error, KANKYO_DRIVER_ERROR, KANKYO_DRIVER_ERROR_EXCEPTION, "%s", block_error);
      return FALSE;
    }
  return TRUE;
}

guint
kankyo_device_worker_get_n_blocks (KankyoDeviceWorker *w)
{
  return w->blocks->len;
}

static guint
find_tag_index (KankyoDeviceWorker *w, guint tag_id)
{
  for (guint i = 0; i < w->n_tags; i++)
    if (w->tag_ids[i] == tag_id)
      return i;
  return G_MAXUINT;
}

static gboolean
do_write (KankyoDeviceWorker *w, WriteRequest *req, KankyoValue *ret_readback, GError **error)
{
  guint i = find_tag_index (w, req->tag_id);
  const KankyoRegisterSpec *reg;
  guint width;
  guint16 words[4] = { 0 };
  guint16 back[4] = { 0 };
  KankyoWriteFunction fc;
  g_auto (KankyoValue) expected = KANKYO_VALUE_INIT;
  g_auto (KankyoValue) got = KANKYO_VALUE_INIT;
  KankyoTagSample sample = { 0 };

  if (i == G_MAXUINT)
    {
      g_set_error (error, KANKYO_ENGINE_ERROR, KANKYO_ENGINE_ERROR_NOT_FOUND, _ ("%s has no such tag"),
                   w->name);
      return FALSE;
    }
  if (w->specs[i]->computed)
    {
      g_set_error (error, KANKYO_ENGINE_ERROR, KANKYO_ENGINE_ERROR_READ_ONLY,
                   _ ("%s is computed from other tags and cannot be written"), w->specs[i]->name);
      return FALSE;
    }
  reg = &w->specs[i]->reg;
  width = kankyo_data_type_width (reg->data_type);

  if (!ensure_connected (w, error))
    return FALSE;

  /* Bits inside a register are read-modify-write. */
  if ((reg->data_type == KANKYO_DATA_BIT || reg->data_type == KANKYO_DATA_BITFIELD)
      && !kankyo_connection_read (w->connection, w->unit_id, reg->area, reg->address, 1, words, error))
    return FALSE;
  if (!kankyo_register_encode (reg, &req->value, words, error))
    return FALSE;

  if (reg->area == KANKYO_AREA_COIL)
    fc = KANKYO_WRITE_SINGLE_COIL;
  else if (width == 1)
    fc = KANKYO_WRITE_SINGLE_REGISTER;
  else
    fc = KANKYO_WRITE_MULTIPLE_REGISTERS;

  if (!kankyo_connection_write (w->connection, w->unit_id, fc, reg->address, width, words, error))
    return FALSE;
  if (!kankyo_connection_read (w->connection, w->unit_id, reg->area, reg->address, width, back, error))
    return FALSE;

  if (!kankyo_register_decode (reg, words, &expected, error)
      || !kankyo_register_decode (reg, back, &got, error))
    return FALSE;

  sample.tag_id = req->tag_id;
  sample.quality = KANKYO_QUALITY_GOOD;
  sample.source_time = g_get_real_time ();
  sample.value = got;
  kankyo_tag_store_publish (w->store, &sample, 1);
  w->received[i] = TRUE;

  if (!kankyo_value_equal (&expected, &got))
    {
      g_autofree char *want = kankyo_tag_spec_format_value (w->specs[i], &expected);
      g_autofree char *have = kankyo_tag_spec_format_value (w->specs[i], &got);

      g_set_error (error, KANKYO_ENGINE_ERROR, KANKYO_ENGINE_ERROR_READBACK,
                   _ ("%s: wrote %s but the device reports %s (it may limit or ignore the value)"),
                   w->specs[i]->name, want, have);
      return FALSE;
    }
  kankyo_value_copy (&got, ret_readback);
  return TRUE;
}

static void
handle_write (KankyoDeviceWorker *w, WriteRequest *req)
{
  g_autoptr (GError) error = NULL;
  g_auto (KankyoValue) readback = KANKYO_VALUE_INIT;

  if (!do_write (w, req, &readback, &error))
    {
      if (error->domain == KANKYO_DRIVER_ERROR && error_breaks_link (error))
        note_link_lost (w, error);
      req->done (req->user_data, NULL, error);
      return;
    }
  req->done (req->user_data, &readback, NULL);
}

static gpointer
worker_thread (gpointer data)
{
  KankyoDeviceWorker *w = data;
  gint64 next_poll = g_get_monotonic_time ();

  for (;;)
    {
      gint64 now = g_get_monotonic_time ();
      gint64 due = next_poll;
      WriteRequest *req;

      if (!kankyo_connection_is_connected (w->connection) && w->reconnect_at > due)
        due = w->reconnect_at;
      req = due > now ? g_async_queue_timeout_pop (w->queue, (guint64) (due - now))
                      : g_async_queue_try_pop (w->queue);
      if (req != NULL)
        {
          gboolean stop = req->stop;

          if (!stop)
            handle_write (w, req);
          write_request_free (req);
          if (stop)
            break;
          continue;
        }

      now = g_get_monotonic_time ();
      if (now < due)
        continue;
      kankyo_device_worker_poll_once (w, NULL);
      next_poll += w->period_us;
      now = g_get_monotonic_time ();
      if (next_poll <= now)
        next_poll = now + w->period_us;
    }
  return NULL;
}

void
kankyo_device_worker_start (KankyoDeviceWorker *w)
{
  g_autofree char *name = NULL;

  g_return_if_fail (w->thread == NULL);
  name = g_strdup_printf ("poll %s", w->name);
  w->thread = g_thread_new (name, worker_thread, w);
}

static void
fail_pending (KankyoDeviceWorker *w)
{
  WriteRequest *req;

  while ((req = g_async_queue_try_pop (w->queue)) != NULL)
    {
      if (!req->stop)
        {
          g_autoptr (GError) error
              = g_error_new (KANKYO_ENGINE_ERROR, KANKYO_ENGINE_ERROR_STOPPED,
                             _ ("%s: the engine stopped before the write was sent"), w->name);

          req->done (req->user_data, NULL, error);
        }
      write_request_free (req);
    }
}

void
kankyo_device_worker_stop (KankyoDeviceWorker *w)
{
  WriteRequest *req;

  if (w->thread == NULL)
    return;
  req = g_new0 (WriteRequest, 1);
  req->stop = TRUE;
  g_async_queue_push_front (w->queue, req);
  g_thread_join (w->thread);
  w->thread = NULL;
  fail_pending (w);
  kankyo_connection_disconnect (w->connection);
}

void
kankyo_device_worker_free (KankyoDeviceWorker *w)
{
  if (w == NULL)
    return;
  kankyo_device_worker_stop (w);
  fail_pending (w);
  g_async_queue_unref (w->queue);
  g_object_unref (w->connection);
  kankyo_tag_store_unref (w->store);
  g_array_unref (w->blocks);
  g_array_unref (w->placements);
  g_clear_object (&w->type);
  g_hash_table_unref (w->index_by_name);
  g_free (w->buffer);
  g_free (w->block_ok);
  g_free (w->block_base);
  g_free (w->samples);
  g_free (w->received);
  g_free (w->specs);
  g_free (w->tag_ids);
  g_free (w->name);
  g_free (w->endpoint_text);
  g_free (w);
}

gboolean
kankyo_device_worker_queue_write (KankyoDeviceWorker *w,
                                  guint tag_id,
                                  const KankyoValue *value,
                                  KankyoWriteDoneFunc done,
                                  gpointer user_data,
                                  GError **error)
{
  WriteRequest *req;

  if (g_async_queue_length (w->queue) >= MAX_QUEUED_WRITES)
    {
      g_set_error (error, KANKYO_ENGINE_ERROR, KANKYO_ENGINE_ERROR_BUSY,
                   _ ("%s: %d writes are already waiting; try again when the device catches up"), w->name,
                   MAX_QUEUED_WRITES);
      return FALSE;
    }
  req = g_new0 (WriteRequest, 1);
  req->tag_id = tag_id;
  kankyo_value_copy (value, &req->value);
  req->done = done;
  req->user_data = user_data;
  g_async_queue_push (w->queue, req);
  return TRUE;
}
