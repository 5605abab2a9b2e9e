/* kankyo-tag-store.c: current values and coalesced change notification.
 *
 * One mutex guards the values and every subscriber's pending batch. Work done
 * under it is bounded by the size of one batch; delivery happens outside it,
 * on the subscriber's context, after the pending batch has been swapped out.
 */
#include "kankyo-tag-store.h"

#define MAX_TAGS (1u << 20)

typedef struct
{
  char *name;
  char *device;
  KankyoTagSpec *spec;
  KankyoTagSample current;
} TagEntry;

typedef struct
{
  gatomicrefcount ref_count;
  guint id;
  gboolean active;
  GMainContext *context;
  KankyoTagBatchFunc func;
  gpointer user_data;
  GDestroyNotify destroy;
  KankyoTagStore *store; /* not owned; valid while active */
  GArray *pending;       /* KankyoTagSample */
  GArray *slot;          /* tag id -> index in pending + 1, 0 = none */
  gboolean scheduled;
} Subscriber;

struct _KankyoTagStore
{
  gatomicrefcount ref_count;
  GMutex mutex;
  GPtrArray *tags;        /* TagEntry* */
  GHashTable *by_name;    /* name -> GUINT_TO_POINTER (id + 1) */
  GPtrArray *subscribers; /* Subscriber* */
  guint next_subscription;
  KankyoTagTapFunc tap;
  gpointer tap_data;
};

void
kankyo_tag_sample_clear (KankyoTagSample *sample)
{
  kankyo_value_clear (&sample->value);
}

static void
tag_entry_free (TagEntry *entry)
{
  g_free (entry->name);
  g_free (entry->device);
  kankyo_tag_spec_free (entry->spec);
  kankyo_tag_sample_clear (&entry->current);
  g_free (entry);
}

static void
pending_clear_func (gpointer data)
{
  kankyo_tag_sample_clear (data);
}

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
  g_array_unref (sub->slot);
  g_main_context_unref (sub->context);
  g_free (sub);
}

KankyoTagStore *
kankyo_tag_store_new (void)
{
  KankyoTagStore *store = g_new0 (KankyoTagStore, 1);

  g_atomic_ref_count_init (&store->ref_count);
  g_mutex_init (&store->mutex);
  store->tags = g_ptr_array_new_with_free_func ((GDestroyNotify) tag_entry_free);
  store->by_name = g_hash_table_new (g_str_hash, g_str_equal);
  store->subscribers = g_ptr_array_new ();
  store->next_subscription = 1;
  return store;
}

KankyoTagStore *
kankyo_tag_store_ref (KankyoTagStore *store)
{
  g_atomic_ref_count_inc (&store->ref_count);
  return store;
}

void
kankyo_tag_store_unref (KankyoTagStore *store)
{
  if (store == NULL || !g_atomic_ref_count_dec (&store->ref_count))
    return;
  for (guint i = 0; i < store->subscribers->len; i++)
    {
      Subscriber *sub = g_ptr_array_index (store->subscribers, i);

      sub->active = FALSE;
      sub->store = NULL;
      subscriber_unref (sub);
    }
  g_ptr_array_unref (store->subscribers);
  g_hash_table_unref (store->by_name);
  g_ptr_array_unref (store->tags);
  g_mutex_clear (&store->mutex);
  g_free (store);
}

guint
kankyo_tag_store_add (KankyoTagStore *store, const char *device, const KankyoTagSpec *spec)
{
  TagEntry *entry;
  guint id;

  g_return_val_if_fail (device != NULL && spec != NULL && spec->name != NULL, 0);

  entry = g_new0 (TagEntry, 1);
  entry->name = g_strconcat (device, ".", spec->name, NULL);
  entry->device = g_strdup (device);
  entry->spec = kankyo_tag_spec_copy (spec);
  entry->current.quality = KANKYO_QUALITY_BAD_WAITING_FOR_INITIAL_DATA;

  g_mutex_lock (&store->mutex);
  id = store->tags->len;
  if (id >= MAX_TAGS)
    {
      g_mutex_unlock (&store->mutex);
      tag_entry_free (entry);
      g_critical ("a tag store holds at most %u tags", MAX_TAGS);
      return G_MAXUINT;
    }
  entry->current.tag_id = id;
  g_ptr_array_add (store->tags, entry);
  g_hash_table_insert (store->by_name, entry->name, GUINT_TO_POINTER (id + 1));
  for (guint i = 0; i < store->subscribers->len; i++)
    {
      Subscriber *sub = g_ptr_array_index (store->subscribers, i);
      guint zero = 0;

      g_array_append_val (sub->slot, zero);
    }
  g_mutex_unlock (&store->mutex);
  return id;
}

guint
kankyo_tag_store_get_n_tags (KankyoTagStore *store)
{
  guint n;

  g_mutex_lock (&store->mutex);
  n = store->tags->len;
  g_mutex_unlock (&store->mutex);
  return n;
}

gint
kankyo_tag_store_lookup (KankyoTagStore *store, const char *name)
{
  gpointer v;

  g_mutex_lock (&store->mutex);
  v = g_hash_table_lookup (store->by_name, name);
  g_mutex_unlock (&store->mutex);
  return v ? (gint) GPOINTER_TO_UINT (v) - 1 : -1;
}

/* Entries are only ever appended and never move, so these return pointers
 * that stay valid for the store's life. */
static TagEntry *
entry_at (KankyoTagStore *store, guint tag_id)
{
  TagEntry *entry = NULL;

  g_mutex_lock (&store->mutex);
  if (tag_id < store->tags->len)
    entry = g_ptr_array_index (store->tags, tag_id);
  g_mutex_unlock (&store->mutex);
  return entry;
}

const char *
kankyo_tag_store_get_name (KankyoTagStore *store, guint tag_id)
{
  TagEntry *entry = entry_at (store, tag_id);

  return entry ? entry->name : NULL;
}

const char *
kankyo_tag_store_get_device (KankyoTagStore *store, guint tag_id)
{
  TagEntry *entry = entry_at (store, tag_id);

  return entry ? entry->device : NULL;
}

const KankyoTagSpec *
kankyo_tag_store_get_spec (KankyoTagStore *store, guint tag_id)
{
  TagEntry *entry = entry_at (store, tag_id);

  return entry ? entry->spec : NULL;
}

static void
sample_copy (const KankyoTagSample *src, KankyoTagSample *dest)
{
  KankyoValue value = src->value;

  /* Only strings own memory; everything else copies by assignment. */
  if (value.type == KANKYO_VALUE_STRING)
    value.v.s = g_strdup (value.v.s);
  if (dest->value.type == KANKYO_VALUE_STRING)
    g_free (dest->value.v.s);
  *dest = *src;
  dest->value = value;
}

void
kankyo_tag_store_get (KankyoTagStore *store, guint tag_id, KankyoTagSample *ret_sample)
{
  KankyoTagSample empty = { 0 };

  *ret_sample = empty;
  g_mutex_lock (&store->mutex);
  if (tag_id < store->tags->len)
    {
      TagEntry *entry = g_ptr_array_index (store->tags, tag_id);

      sample_copy (&entry->current, ret_sample);
    }
  else
    {
      ret_sample->tag_id = tag_id;
      ret_sample->quality = KANKYO_QUALITY_BAD_OUT_OF_SERVICE;
    }
  g_mutex_unlock (&store->mutex);
}

static gboolean
deliver (gpointer data)
{
  Subscriber *sub = data;
  g_autoptr (GArray) batch = NULL;
  KankyoTagStore *store;

  /* Unsubscribing happens on this same context, so a delivery that was
   * already scheduled finds the subscriber inactive and the store unset. */
  store = sub->store;
  if (!sub->active || store == NULL)
    return G_SOURCE_REMOVE;

  g_mutex_lock (&store->mutex);
  sub->scheduled = FALSE;
  if (!sub->active)
    {
      g_mutex_unlock (&store->mutex);
      return G_SOURCE_REMOVE;
    }
  batch = sub->pending;
  sub->pending = g_array_sized_new (FALSE, TRUE, sizeof (KankyoTagSample), batch->len);
  g_array_set_clear_func (sub->pending, pending_clear_func);
  for (guint i = 0; i < batch->len; i++)
    g_array_index (sub->slot, guint, g_array_index (batch, KankyoTagSample, i).tag_id) = 0;
  kankyo_tag_store_ref (store);
  g_mutex_unlock (&store->mutex);

  if (batch->len > 0)
    sub->func (store, (const KankyoTagSample *) (void *) batch->data, batch->len, sub->user_data);
  kankyo_tag_store_unref (store);
  return G_SOURCE_REMOVE;
}

void
kankyo_tag_store_set_tap (KankyoTagStore *store, KankyoTagTapFunc func, gpointer user_data)
{
  g_mutex_lock (&store->mutex);
  store->tap = func;
  store->tap_data = user_data;
  g_mutex_unlock (&store->mutex);
}

void
kankyo_tag_store_publish (KankyoTagStore *store, const KankyoTagSample *samples, guint n_samples)
{
  gint64 now = g_get_real_time ();
  Subscriber *stack_schedule[8];
  Subscriber **to_schedule = stack_schedule;
  g_autofree Subscriber **heap_schedule = NULL;
  guint n_schedule = 0;

  g_mutex_lock (&store->mutex);
  if (store->tap != NULL)
    store->tap (samples, n_samples, store->tap_data);
  for (guint i = 0; i < n_samples; i++)
    {
      const KankyoTagSample *s = &samples[i];
      TagEntry *entry;
      gboolean changed;

      if (s->tag_id >= store->tags->len)
        continue;
      entry = g_ptr_array_index (store->tags, s->tag_id);
      changed
          = entry->current.quality != s->quality || !kankyo_value_equal (&entry->current.value, &s->value);
      sample_copy (s, &entry->current);
      entry->current.receive_time = now;
      if (!changed)
        continue;

      for (guint j = 0; j < store->subscribers->len; j++)
        {
          Subscriber *sub = g_ptr_array_index (store->subscribers, j);
          guint *slot = &g_array_index (sub->slot, guint, s->tag_id);

          if (*slot == 0)
            {
              KankyoTagSample blank = { 0 };

              g_array_append_val (sub->pending, blank);
              *slot = sub->pending->len;
            }
          sample_copy (&entry->current, &g_array_index (sub->pending, KankyoTagSample, *slot - 1));
        }
    }

  if (store->subscribers->len > G_N_ELEMENTS (stack_schedule))
    to_schedule = heap_schedule = g_new (Subscriber *, store->subscribers->len);
  for (guint j = 0; j < store->subscribers->len; j++)
    {
      Subscriber *sub = g_ptr_array_index (store->subscribers, j);

      if (sub->pending->len > 0 && !sub->scheduled)
        {
          sub->scheduled = TRUE;
          to_schedule[n_schedule++] = subscriber_ref (sub);
        }
    }
  g_mutex_unlock (&store->mutex);

  for (guint j = 0; j < n_schedule; j++)
    {
      Subscriber *sub = to_schedule[j];
      GSource *source = g_idle_source_new ();

      g_source_set_priority (source, G_PRIORITY_DEFAULT);
      g_source_set_callback (source, deliver, sub, (GDestroyNotify) subscriber_unref);
      g_source_set_static_name (source, "[kankyo] tag batch");
      g_source_attach (source, sub->context);
      g_source_unref (source);
    }
}

guint
kankyo_tag_store_subscribe (KankyoTagStore *store,
                            GMainContext *context,
                            KankyoTagBatchFunc func,
                            gpointer user_data,
                            GDestroyNotify destroy)
{
  Subscriber *sub = g_new0 (Subscriber, 1);
  guint id;

  g_atomic_ref_count_init (&sub->ref_count);
  sub->active = TRUE;
  sub->context = context ? g_main_context_ref (context) : g_main_context_ref_thread_default ();
  sub->func = func;
  sub->user_data = user_data;
  sub->destroy = destroy;
  sub->store = store;
  sub->pending = g_array_new (FALSE, TRUE, sizeof (KankyoTagSample));
  g_array_set_clear_func (sub->pending, pending_clear_func);

  g_mutex_lock (&store->mutex);
  sub->slot = g_array_new (FALSE, TRUE, sizeof (guint));
  g_array_set_size (sub->slot, store->tags->len);
  id = sub->id = store->next_subscription++;
  g_ptr_array_add (store->subscribers, sub);
  g_mutex_unlock (&store->mutex);
  return id;
}

void
kankyo_tag_store_unsubscribe (KankyoTagStore *store, guint subscription)
{
  Subscriber *found = NULL;

  g_mutex_lock (&store->mutex);
  for (guint i = 0; i < store->subscribers->len; i++)
    {
      Subscriber *sub = g_ptr_array_index (store->subscribers, i);

      if (sub->id == subscription)
        {
          found = sub;
          sub->active = FALSE;
          sub->store = NULL;
          g_ptr_array_remove_index (store->subscribers, i);
          break;
        }
    }
  g_mutex_unlock (&store->mutex);
  if (found != NULL)
    subscriber_unref (found);
}
