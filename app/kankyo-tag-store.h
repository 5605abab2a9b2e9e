/* kankyo-tag-store.h: the current value of every tag, and who hears of it.
 *
 * Device workers publish one batch per poll cycle from their own threads.
 * Each subscriber names the GMainContext it lives on and receives, there, one
 * coalesced batch of what changed (value or quality) since its last delivery.
 * A slow subscriber therefore never blocks a publisher and never builds up a
 * queue: its pending batch holds at most one sample per tag.
 */
#pragma once

#include <glib.h>
#include "kankyo-plugin.h"

G_BEGIN_DECLS

typedef struct _KankyoTagStore KankyoTagStore;

typedef struct
{
  guint tag_id;
  KankyoValue value;
  KankyoQuality quality;
  gint64 source_time;  /* UTC µs: when the device reported the value */
  gint64 receive_time; /* UTC µs: when the store accepted it */
} KankyoTagSample;

typedef void (*KankyoTagBatchFunc) (KankyoTagStore *store,
                                    const KankyoTagSample *samples,
                                    guint n_samples,
                                    gpointer user_data);

KankyoTagStore *kankyo_tag_store_new (void);
KankyoTagStore *kankyo_tag_store_ref (KankyoTagStore *store);
void kankyo_tag_store_unref (KankyoTagStore *store);

/* Adds a tag named "device.tag"; call before publishing starts. The store
 * keeps its own copy of @spec. Returns the tag id. */
guint kankyo_tag_store_add (KankyoTagStore *store, const char *device, const KankyoTagSpec *spec);
guint kankyo_tag_store_get_n_tags (KankyoTagStore *store);
/* -1 when there is no such tag. */
gint kankyo_tag_store_lookup (KankyoTagStore *store, const char *name);
const char *kankyo_tag_store_get_name (KankyoTagStore *store, guint tag_id);
const char *kankyo_tag_store_get_device (KankyoTagStore *store, guint tag_id);
const KankyoTagSpec *kankyo_tag_store_get_spec (KankyoTagStore *store, guint tag_id);
/* A copy of the current sample; clear its value with kankyo_value_clear(). */
void kankyo_tag_store_get (KankyoTagStore *store, guint tag_id, KankyoTagSample *ret_sample);

/* Any thread. Samples are copied; receive_time is set by the store. */
void kankyo_tag_store_publish (KankyoTagStore *store, const KankyoTagSample *samples, guint n_samples);

/* Called on the publishing thread with every sample published, changed or
 * not and before it is coalesced, so a recorder sees each poll; it must
 * not block. One tap at a time; set it before publishing starts and clear
 * it (NULL) after publishing stops. */
typedef void (*KankyoTagTapFunc) (const KankyoTagSample *samples, guint n_samples, gpointer user_data);
void kankyo_tag_store_set_tap (KankyoTagStore *store, KankyoTagTapFunc func, gpointer user_data);

/* @context NULL means the thread-default context of the caller. */
guint kankyo_tag_store_subscribe (KankyoTagStore *store,
                                  GMainContext *context,
                                  KankyoTagBatchFunc func,
                                  gpointer user_data,
                                  GDestroyNotify destroy);
/* After it returns, @func is not called again (when called from the
 * subscriber's own context). */
void kankyo_tag_store_unsubscribe (KankyoTagStore *store, guint subscription);

void kankyo_tag_sample_clear (KankyoTagSample *sample);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KankyoTagStore, kankyo_tag_store_unref)

G_END_DECLS
