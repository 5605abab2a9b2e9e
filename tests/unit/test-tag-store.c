/* test-tag-store.c: batches, coalescing and delivery on the right thread. */
#include "kankyo-tag-store.h"

static KankyoTagStore *
make_store (guint n)
{
  KankyoTagStore *store = kankyo_tag_store_new ();

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (KankyoTagSpec) spec = kankyo_tag_spec_new ();

      spec->name = g_strdup_printf ("t%u", i);
      kankyo_tag_store_add (store, "dev", spec);
    }
  return store;
}

static void
publish_double (KankyoTagStore *store, guint id, double v, KankyoQuality q)
{
  KankyoTagSample s = { 0 };

  s.tag_id = id;
  s.quality = q;
  kankyo_value_set_double (&s.value, v);
  kankyo_tag_store_publish (store, &s, 1);
  kankyo_tag_sample_clear (&s);
}

typedef struct
{
  guint batches;
  guint samples;
  double last[8];
  KankyoQuality quality[8];
  GThread *thread;
} Seen;

static void
on_batch (KankyoTagStore *store, const KankyoTagSample *samples, guint n, gpointer data)
{
  Seen *seen = data;

  seen->batches++;
  seen->samples += n;
  seen->thread = g_thread_self ();
  for (guint i = 0; i < n; i++)
    {
      seen->last[samples[i].tag_id] = kankyo_value_to_double (&samples[i].value);
      seen->quality[samples[i].tag_id] = samples[i].quality;
    }
}

static void
drain (GMainContext *ctx)
{
  while (g_main_context_iteration (ctx, FALSE))
    ;
}

static void
test_lookup_and_initial (void)
{
  g_autoptr (KankyoTagStore) store = make_store (3);
  KankyoTagSample s;

  g_assert_cmpint (kankyo_tag_store_lookup (store, "dev.t2"), ==, 2);
  g_assert_cmpint (kankyo_tag_store_lookup (store, "dev.t9"), ==, -1);
  g_assert_cmpstr (kankyo_tag_store_get_name (store, 1), ==, "dev.t1");
  g_assert_cmpstr (kankyo_tag_store_get_device (store, 1), ==, "dev");
  kankyo_tag_store_get (store, 0, &s);
  g_assert_cmpint (s.quality, ==, KANKYO_QUALITY_BAD_WAITING_FOR_INITIAL_DATA);
  kankyo_tag_sample_clear (&s);
}

static void
test_coalesce (void)
{
  g_autoptr (KankyoTagStore) store = make_store (4);
  g_autoptr (GMainContext) ctx = g_main_context_new ();
  Seen seen = { 0 };
  guint sub = kankyo_tag_store_subscribe (store, ctx, on_batch, &seen, NULL);
  KankyoTagSample s;

  /* 100 updates of the same two tags before the subscriber runs: one
   * batch, one sample per tag, the latest values. */
  for (guint i = 0; i < 100; i++)
    {
      publish_double (store, 1, i, KANKYO_QUALITY_GOOD);
      publish_double (store, 2, 1000 + i, KANKYO_QUALITY_GOOD);
    }
  drain (ctx);
  g_assert_cmpuint (seen.batches, ==, 1);
  g_assert_cmpuint (seen.samples, ==, 2);
  g_assert_cmpfloat (seen.last[1], ==, 99);
  g_assert_cmpfloat (seen.last[2], ==, 1099);

  /* An unchanged value is not news; a quality change is. */
  publish_double (store, 1, 99, KANKYO_QUALITY_GOOD);
  drain (ctx);
  g_assert_cmpuint (seen.batches, ==, 1);
  publish_double (store, 1, 99, KANKYO_QUALITY_BAD_COMMUNICATION_ERROR);
  drain (ctx);
  g_assert_cmpuint (seen.batches, ==, 2);
  g_assert_cmpint (seen.quality[1], ==, KANKYO_QUALITY_BAD_COMMUNICATION_ERROR);

  kankyo_tag_store_get (store, 2, &s);
  g_assert_cmpfloat (s.value.v.d, ==, 1099);
  g_assert_cmpint (s.receive_time, >, 0);
  kankyo_tag_sample_clear (&s);

  kankyo_tag_store_unsubscribe (store, sub);
  publish_double (store, 3, 5, KANKYO_QUALITY_GOOD);
  drain (ctx);
  g_assert_cmpuint (seen.batches, ==, 2);
}

typedef struct
{
  KankyoTagStore *store;
  guint rounds;
} Publisher;

static gpointer
publisher_thread (gpointer data)
{
  Publisher *p = data;

  for (guint i = 1; i <= p->rounds; i++)
    {
      KankyoTagSample batch[4] = { { 0 } };

      for (guint t = 0; t < 4; t++)
        {
          batch[t].tag_id = t;
          batch[t].quality = KANKYO_QUALITY_GOOD;
          kankyo_value_set_double (&batch[t].value, i);
        }
      kankyo_tag_store_publish (p->store, batch, 4);
      for (guint t = 0; t < 4; t++)
        kankyo_tag_sample_clear (&batch[t]);
    }
  return NULL;
}

/* Publishers on other threads never wait for the subscriber: they finish
 * while the subscriber's context is not iterated at all, and what it then
 * receives is bounded by the number of tags. */
static void
test_threads_never_block (void)
{
  g_autoptr (KankyoTagStore) store = make_store (4);
  g_autoptr (GMainContext) ctx = g_main_context_new ();
  Seen seen = { 0 };
  Publisher p = { store, 20000 };
  GThread *threads[2];

  kankyo_tag_store_subscribe (store, ctx, on_batch, &seen, NULL);
  threads[0] = g_thread_new ("pub1", publisher_thread, &p);
  threads[1] = g_thread_new ("pub2", publisher_thread, &p);
  g_thread_join (threads[0]);
  g_thread_join (threads[1]);
  drain (ctx);
  g_assert_cmpuint (seen.batches, ==, 1);
  g_assert_cmpuint (seen.samples, ==, 4);
  g_assert_true (seen.thread == g_thread_self ());
  for (guint t = 0; t < 4; t++)
    g_assert_cmpfloat (seen.last[t], ==, 20000);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/tag-store/lookup", test_lookup_and_initial);
  g_test_add_func ("/tag-store/coalesce", test_coalesce);
  g_test_add_func ("/tag-store/threads", test_threads_never_block);
  return g_test_run ();
}
