/* kankyo-device-worker.h: one thread per device connection.
 *
 * The worker owns its KankyoConnection and is the only thread that touches
 * it: it polls the device's blocks every poll period, decodes them into one
 * batch for the tag store, carries out queued writes between polls (with
 * read-back), and reconnects with bounded exponential backoff when the link
 * is lost. Values it cannot read keep their last value and age with quality
 * Bad_CommunicationError, or Bad_NoCommunication if none ever arrived.
 */
#pragma once

#include <glib.h>
#include "kankyo-plugin.h"
#include "kankyo-tag-store.h"

G_BEGIN_DECLS

typedef struct _KankyoDeviceWorker KankyoDeviceWorker;

/* Called on the worker thread when a write finished. On success @readback
 * is what the device reports after the write. */
typedef void (*KankyoWriteDoneFunc) (gpointer user_data, const KankyoValue *readback, const GError *error);

typedef struct
{
  const char *name;          /* device name, for messages */
  const char *endpoint_text; /* for messages */
  guint8 unit_id;
  guint poll_period_ms;
  guint max_gap;
  guint online_tag;       /* bool tag: the device answers */
  guint error_tag;        /* string tag: the last communication error */
  KankyoDeviceType *type; /* computes the map's computed tags; may be NULL */
} KankyoDeviceWorkerConfig;

/* Takes a reference on @connection and @store. @tag_ids are the store ids of
 * the device's register tags. */
KankyoDeviceWorker *kankyo_device_worker_new (const KankyoDeviceWorkerConfig *config,
                                              KankyoConnection *connection,
                                              KankyoTagStore *store,
                                              const guint *tag_ids,
                                              guint n_tags);
void kankyo_device_worker_start (KankyoDeviceWorker *worker);
/* Stops and joins the thread; queued writes fail with "stopped". */
void kankyo_device_worker_stop (KankyoDeviceWorker *worker);
void kankyo_device_worker_free (KankyoDeviceWorker *worker);

/* Any thread. FALSE (and @done is not called) when the queue is full. */
gboolean kankyo_device_worker_queue_write (KankyoDeviceWorker *worker,
                                           guint tag_id,
                                           const KankyoValue *value,
                                           KankyoWriteDoneFunc done,
                                           gpointer user_data,
                                           GError **error);

/* One poll cycle on the calling thread: connect if needed, read every
 * block, publish one batch. For benchmarks and tests; not while the
 * worker's own thread runs. */
gboolean kankyo_device_worker_poll_once (KankyoDeviceWorker *worker, GError **error);
guint kankyo_device_worker_get_n_blocks (KankyoDeviceWorker *worker);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KankyoDeviceWorker, kankyo_device_worker_free)

G_END_DECLS
