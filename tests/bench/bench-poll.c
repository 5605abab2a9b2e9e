/* bench-poll.c: what the engine's poll cycle costs next to bare libmodbus.
 *
 * The question is whether the engine reads a device nearly as fast as
 * libmodbus alone can, and what each cycle costs in CPU. Both clients read
 * the same 125 holding registers from the same in-process Modbus TCP server
 * over loopback, from the same thread pinned to one CPU, with the server
 * thread pinned to another CPU when the process may use one (so
 * `taskset -c 0` puts all three on one CPU). What differs is the
 * engine's own work: the driver wrapper, decoding every tag, publishing the
 * batch to the tag store and delivering it, coalesced, to a subscriber whose
 * GMainContext is iterated every few polls as a busy main loop would.
 *
 * The register map is a realistic mix that plans to one block: 40 float32
 * in CDAB order and 45 scaled int16. Before every read the client switches
 * the bank between two patterns that differ in every register, so every tag
 * changes on every poll: the tag store's worst case, a full batch to
 * compare, copy and deliver. Both loops pay for the switch. Every register
 * the bare client reads and every value the subscriber receives is checked
 * against the pattern, so the benchmark cannot pass while reading garbage.
 *
 * Rounds of the two loops alternate, bare first and then engine first, and
 * the median of each is reported, so drift and noise on a shared machine
 * weigh on both alike. CPU time is the client thread's own
 * (CLOCK_THREAD_CPUTIME_ID), kernel time included; the difference between
 * the loops is what decoding and the tag store cost per poll.
 *
 * The worker's own thread is not measured: its poll period is at least
 * 1 ms, so it cannot poll flat out, and kankyo_device_worker_poll_once()
 * runs the very cycle that thread runs.
 *
 * KANKYO_BENCH_SECONDS sets the length of one round (default 1 s). With
 * --smoke it runs one short round of each loop and checks correctness, not
 * speed.
 */
#define G_LOG_DOMAIN "bench-poll"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <modbus.h>

#include "kankyo-device-worker.h"
#include "kankyo-modules.h"
#include "kankyo-tag-store.h"

#define N_FLOATS 40
#define N_INT16 45
#define N_TAGS (N_FLOATS + N_INT16)
#define N_REGISTERS (2 * N_FLOATS + N_INT16)
#define INT16_GAIN 0.1
#define UNIT_ID 1

#define N_ROUNDS 5
#define DEFAULT_ROUND_SECONDS 1.0
#define SMOKE_ROUND_SECONDS 0.1
#define MIN_ROUND_SECONDS 0.01
#define MAX_ROUND_SECONDS 60.0
#define WARMUP_SECONDS 0.2

/* The subscriber's context is iterated once per this many polls: a main
 * loop wakes less often than a fast device answers, and the store coalesces
 * what arrives in between. */
#define DELIVER_EVERY 10

#define TARGET_RATIO 0.8
#define TARGET_RATIO_TEXT ">= " G_STRINGIFY (TARGET_RATIO)

/* What the server holds in one phase, and what each tag must decode to. */
typedef struct
{
  guint16 registers[N_REGISTERS];
  double values[N_TAGS];
} Pattern;

typedef struct
{
  guint64 polls;
  double wall_s;
  double cpu_us;
} Round;

typedef struct
{
  KankyoRegisterBank *bank;
  KankyoServer *server;
  modbus_t *bare;
  KankyoTagStore *store;
  KankyoDeviceWorker *worker;
  GMainContext *context;
  guint subscription;

  Pattern patterns[2];
  const Pattern *current; /* what the bank holds now */
  guint64 serial;         /* pattern switches so far */

  guint tag_ids[N_TAGS];
  guint online_tag;
  guint error_tag;
  gint *tag_index; /* store id -> index into tag_ids, or -1 */
  guint n_store_tags;

  /* What the subscriber saw. */
  guint64 delivered_serial; /* the switch the last batch reflected */
  guint64 n_batches;
  guint n_errors;
  char *first_error;
} Bench;

static void
pattern_init (Pattern *p, guint phase)
{
  for (guint i = 0; i < N_FLOATS; i++)
    {
      float f = -50.0f + 1.7f * (float) i + 0.01f * (float) phase;
      guint32 u;

      memcpy (&u, &f, sizeof u);
      /* CDAB: the low word is sent first. */
      p->registers[2 * i] = (guint16) (u & 0xffff);
      p->registers[2 * i + 1] = (guint16) (u >> 16);
      p->values[i] = f;
    }
  for (guint j = 0; j < N_INT16; j++)
    {
      gint16 raw = (gint16) (-2000 + 97 * (gint) j + (gint) phase);

      p->registers[2 * N_FLOATS + j] = (guint16) raw;
      p->values[N_FLOATS + j] = raw * INT16_GAIN;
    }
}

static void
switch_pattern (Bench *b)
{
  guint n;

  b->serial++;
  b->current = &b->patterns[b->serial & 1];
  kankyo_register_bank_lock (b->bank);
  memcpy (kankyo_register_bank_registers (b->bank, KANKYO_AREA_HOLDING_REGISTER, &n), b->current->registers,
          sizeof b->current->registers);
  kankyo_register_bank_unlock (b->bank);
}

static double
thread_cpu_us (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double) ts.tv_sec * G_USEC_PER_SEC + (double) ts.tv_nsec / 1000.0;
}

static void note_error (Bench *b, const char *format, ...) G_GNUC_PRINTF (2, 3);

static void
note_error (Bench *b, const char *format, ...)
{
  va_list args;

  if (b->n_errors++ > 0)
    return;
  va_start (args, format);
  b->first_error = g_strdup_vprintf (format, args);
  va_end (args);
}

static gboolean
same_reading (double got, double expected)
{
  return fabs (got - expected) <= 1e-12 * MAX (1.0, fabs (expected));
}

static void
check_register_sample (Bench *b, const KankyoTagSample *s, guint k)
{
  double expected = b->current->values[k];

  if (s->quality != KANKYO_QUALITY_GOOD)
    note_error (b, "%s has quality %s, expected Good", kankyo_tag_store_get_name (b->store, s->tag_id),
                kankyo_quality_to_string (s->quality));
  else if (s->value.type != KANKYO_VALUE_DOUBLE || !same_reading (s->value.v.d, expected))
    {
      g_autofree char *got = kankyo_value_to_string (&s->value);
      char want[G_ASCII_DTOSTR_BUF_SIZE];

      note_error (b, "%s reads %s (%s), expected the double %s",
                  kankyo_tag_store_get_name (b->store, s->tag_id), got,
                  kankyo_value_type_to_string (s->value.type), g_ascii_dtostr (want, sizeof want, expected));
    }
}

static void
on_batch (KankyoTagStore *store, const KankyoTagSample *samples, guint n_samples, gpointer user_data)
{
  Bench *b = user_data;
  guint n_register_tags = 0;

  for (guint i = 0; i < n_samples; i++)
    {
      const KankyoTagSample *s = &samples[i];

      if (s->tag_id == b->online_tag)
        {
          if (s->value.type != KANKYO_VALUE_BOOL || !s->value.v.b)
            note_error (b, "the online tag does not say the device answers");
        }
      else if (s->tag_id == b->error_tag)
        {
          if (s->value.type != KANKYO_VALUE_STRING || *s->value.v.s != '\0')
            note_error (b, "the last-error tag is not empty: %s",
                        s->value.type == KANKYO_VALUE_STRING ? s->value.v.s : "(not a string)");
        }
      else if (s->tag_id < b->n_store_tags && b->tag_index[s->tag_id] >= 0)
        {
          check_register_sample (b, s, (guint) b->tag_index[s->tag_id]);
          n_register_tags++;
        }
      else
        note_error (b, "a batch carried tag id %u, which the benchmark never added", s->tag_id);
    }

  /* Every tag changes on every poll, and coalescing keeps one sample each. */
  if (n_register_tags != N_TAGS)
    note_error (b, "a batch carried %u register tags; all %u changed since the last one", n_register_tags,
                N_TAGS);
  b->n_batches++;
  b->delivered_serial = b->serial;
}

static gboolean
run_bare (Bench *b, double seconds, Round *ret_round)
{
  guint16 dest[N_REGISTERS];
  gint64 start = g_get_monotonic_time ();
  gint64 deadline = start + (gint64) (seconds * G_USEC_PER_SEC);
  double cpu_start = thread_cpu_us ();
  guint64 polls = 0;

  do
    {
      int rc;

      switch_pattern (b);
      rc = modbus_read_registers (b->bare, 0, N_REGISTERS, dest);
      if (rc != N_REGISTERS)
        {
          g_printerr ("bench-poll: bare libmodbus read of %d holding registers failed: %s\n", N_REGISTERS,
                      rc == -1 ? modbus_strerror (errno) : "short reply");
          return FALSE;
        }
      if (memcmp (dest, b->current->registers, sizeof dest) != 0)
        {
          g_printerr ("bench-poll: bare libmodbus read registers other than the server holds\n");
          return FALSE;
        }
      polls++;
    }
  while (g_get_monotonic_time () < deadline);

  ret_round->cpu_us = thread_cpu_us () - cpu_start;
  ret_round->wall_s = (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;
  ret_round->polls = polls;
  return TRUE;
}

static gboolean
run_engine (Bench *b, double seconds, Round *ret_round)
{
  g_autoptr (GError) error = NULL;
  gint64 start = g_get_monotonic_time ();
  gint64 deadline = start + (gint64) (seconds * G_USEC_PER_SEC);
  double cpu_start = thread_cpu_us ();
  guint64 polls = 0;

  do
    {
      switch_pattern (b);
      if (!kankyo_device_worker_poll_once (b->worker, &error))
        {
          g_printerr ("bench-poll: engine poll failed: %s\n", error->message);
          return FALSE;
        }
      if (++polls % DELIVER_EVERY == 0)
        g_main_context_iteration (b->context, FALSE);
    }
  /* At least two polls, so that the last one changes every value. */
  while (polls < 2 || g_get_monotonic_time () < deadline);

  ret_round->cpu_us = thread_cpu_us () - cpu_start;
  ret_round->wall_s = (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;
  ret_round->polls = polls;

  /* Whatever is still pending reaches the subscriber too, untimed. */
  while (g_main_context_iteration (b->context, FALSE))
    ;
  if (b->n_errors > 0)
    {
      g_printerr ("bench-poll: the subscriber received wrong data (%u problems); first: %s\n", b->n_errors,
                  b->first_error);
      return FALSE;
    }
  if (b->delivered_serial != b->serial)
    {
      g_printerr ("bench-poll: the subscriber never received the values of the last poll\n");
      return FALSE;
    }
  return TRUE;
}

/* The first two CPUs the process may use: clients on the first, the server
 * on the second; with only one, both share it. */
static gboolean
choose_cpus (int *ret_client, int *ret_server)
{
  cpu_set_t set;
  int found[2] = { -1, -1 };
  int n = 0;

  if (sched_getaffinity (0, sizeof set, &set) == -1)
    {
      g_printerr ("bench-poll: cannot read the CPU affinity: %s\n", g_strerror (errno));
      return FALSE;
    }
  for (int cpu = 0; cpu < CPU_SETSIZE && n < 2; cpu++)
    if (CPU_ISSET (cpu, &set))
      found[n++] = cpu;
  if (n == 0)
    {
      g_printerr ("bench-poll: the process may run on no CPU at all\n");
      return FALSE;
    }
  *ret_client = found[0];
  *ret_server = n > 1 ? found[1] : found[0];
  return TRUE;
}

/* Threads created afterwards inherit the pinning. */
static gboolean
pin_self (int cpu)
{
  cpu_set_t set;
  int err;

  CPU_ZERO (&set);
  CPU_SET (cpu, &set);
  err = pthread_setaffinity_np (pthread_self (), sizeof set, &set);
  if (err != 0)
    {
      g_printerr ("bench-poll: cannot pin to CPU %d: %s\n", cpu, g_strerror (err));
      return FALSE;
    }
  return TRUE;
}

static KankyoTagSpec *
register_spec (guint k, guint16 address, KankyoDataType type)
{
  KankyoTagSpec *spec = kankyo_tag_spec_new ();

  spec->name = g_strdup_printf ("tag%02u", k);
  spec->reg.address = address;
  spec->reg.data_type = type;
  if (type == KANKYO_DATA_FLOAT32)
    spec->reg.word_order = KANKYO_WORD_ORDER_CDAB;
  else
    spec->reg.gain = INT16_GAIN;
  spec->value_type = kankyo_register_spec_value_type (&spec->reg);
  return spec;
}

static KankyoTagSpec *
status_spec (const char *name, KankyoValueType type)
{
  KankyoTagSpec *spec = kankyo_tag_spec_new ();

  spec->name = g_strdup (name);
  spec->value_type = type;
  return spec;
}

static void
add_tags (Bench *b)
{
  g_autoptr (KankyoTagSpec) online = status_spec ("_online", KANKYO_VALUE_BOOL);
  g_autoptr (KankyoTagSpec) last_error = status_spec ("_last_error", KANKYO_VALUE_STRING);

  for (guint k = 0; k < N_TAGS; k++)
    {
      g_autoptr (KankyoTagSpec) spec = NULL;

      if (k < N_FLOATS)
        spec = register_spec (k, (guint16) (2 * k), KANKYO_DATA_FLOAT32);
      else
        spec = register_spec (k, (guint16) (N_FLOATS + k), KANKYO_DATA_INT16);
      b->tag_ids[k] = kankyo_tag_store_add (b->store, "bench", spec);
    }
  b->online_tag = kankyo_tag_store_add (b->store, "bench", online);
  b->error_tag = kankyo_tag_store_add (b->store, "bench", last_error);

  b->n_store_tags = kankyo_tag_store_get_n_tags (b->store);
  b->tag_index = g_new (gint, b->n_store_tags);
  for (guint id = 0; id < b->n_store_tags; id++)
    b->tag_index[id] = -1;
  for (guint k = 0; k < N_TAGS; k++)
    b->tag_index[b->tag_ids[k]] = (gint) k;
}

static gboolean
bench_setup (Bench *b, int client_cpu, int server_cpu)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (KankyoDriver) driver = NULL;
  g_autoptr (KankyoEndpoint) server_endpoint = NULL;
  g_autoptr (KankyoEndpoint) client_endpoint = NULL;
  g_autoptr (KankyoConnection) connection = NULL;
  g_autofree char *uri = NULL;
  KankyoDeviceWorkerConfig config = { 0 };
  guint16 port;

  driver = kankyo_modules_get_driver ("modbus", &error);
  if (driver == NULL)
    {
      g_printerr ("bench-poll: %s\n", error->message);
      return FALSE;
    }

  pattern_init (&b->patterns[0], 0);
  pattern_init (&b->patterns[1], 1);
  b->bank = kankyo_register_bank_new (0, 0, N_REGISTERS, 0);
  switch_pattern (b);

  /* The server thread inherits the CPU its creator runs on. */
  if (!pin_self (server_cpu))
    return FALSE;
  server_endpoint = kankyo_endpoint_parse ("tcp://127.0.0.1:0", &error);
  g_assert_no_error (error);
  b->server = kankyo_driver_create_server (driver, server_endpoint, UNIT_ID, b->bank, &error);
  if (b->server == NULL || !kankyo_server_start (b->server, &error))
    {
      g_printerr ("bench-poll: cannot start the loopback server: %s\n", error->message);
      return FALSE;
    }
  if (!pin_self (client_cpu))
    return FALSE;
  port = kankyo_server_get_port (b->server);

  b->bare = modbus_new_tcp ("127.0.0.1", port);
  if (b->bare == NULL || modbus_set_slave (b->bare, UNIT_ID) == -1 || modbus_connect (b->bare) == -1)
    {
      g_printerr ("bench-poll: bare libmodbus cannot connect to 127.0.0.1:%u: %s\n", port,
                  modbus_strerror (errno));
      return FALSE;
    }

  b->store = kankyo_tag_store_new ();
  add_tags (b);
  b->context = g_main_context_new ();
  b->subscription = kankyo_tag_store_subscribe (b->store, b->context, on_batch, b, NULL);

  uri = g_strdup_printf ("tcp://127.0.0.1:%u", port);
  client_endpoint = kankyo_endpoint_parse (uri, &error);
  g_assert_no_error (error);
  connection = kankyo_driver_create_connection (driver, client_endpoint, &error);
  if (connection == NULL)
    {
      g_printerr ("bench-poll: %s\n", error->message);
      return FALSE;
    }
  config.name = "bench";
  config.endpoint_text = uri;
  config.unit_id = UNIT_ID;
  config.online_tag = b->online_tag;
  config.error_tag = b->error_tag;
  b->worker = kankyo_device_worker_new (&config, connection, b->store, b->tag_ids, N_TAGS);
  if (kankyo_device_worker_get_n_blocks (b->worker) != 1)
    {
      g_printerr ("bench-poll: the %u registers planned to %u reads, expected 1\n", N_REGISTERS,
                  kankyo_device_worker_get_n_blocks (b->worker));
      return FALSE;
    }
  return TRUE;
}

static void
bench_clear (Bench *b)
{
  g_clear_pointer (&b->worker, kankyo_device_worker_free);
  if (b->subscription != 0)
    kankyo_tag_store_unsubscribe (b->store, b->subscription);
  g_clear_pointer (&b->store, kankyo_tag_store_unref);
  g_clear_pointer (&b->context, g_main_context_unref);
  if (b->bare != NULL)
    {
      modbus_close (b->bare);
      g_clear_pointer (&b->bare, modbus_free);
    }
  g_clear_object (&b->server);
  g_clear_pointer (&b->bank, kankyo_register_bank_unref);
  g_clear_pointer (&b->tag_index, g_free);
  g_clear_pointer (&b->first_error, g_free);
}

static int
compare_doubles (const void *a, const void *b)
{
  double x = *(const double *) a;
  double y = *(const double *) b;

  return (x > y) - (x < y);
}

static double
median (double *values, guint n)
{
  qsort (values, n, sizeof *values, compare_doubles);
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2.0;
}

static void
print_figure (const char *name, double value, const char *format, const char *target)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  printf ("%s: %s (target %s)\n", name, g_ascii_formatd (buf, sizeof buf, format, value), target);
}

static void
print_round (guint n, const char *loop, const Round *r)
{
  char rate[G_ASCII_DTOSTR_BUF_SIZE];
  char cpu[G_ASCII_DTOSTR_BUF_SIZE];

  printf ("# round %u %s: %" G_GUINT64_FORMAT " polls, %s reads/s, %s us CPU/poll\n", n, loop, r->polls,
          g_ascii_formatd (rate, sizeof rate, "%.0f", r->polls / r->wall_s),
          g_ascii_formatd (cpu, sizeof cpu, "%.2f", r->cpu_us / (double) r->polls));
}

static gboolean
round_seconds_from_env (gboolean smoke, double *ret_seconds)
{
  const char *text = g_getenv ("KANKYO_BENCH_SECONDS");
  char *end = NULL;
  double seconds;

  if (text == NULL || *text == '\0')
    {
      *ret_seconds = smoke ? SMOKE_ROUND_SECONDS : DEFAULT_ROUND_SECONDS;
      return TRUE;
    }
  seconds = g_ascii_strtod (text, &end);
  if (end == text || *end != '\0' || !(seconds >= MIN_ROUND_SECONDS && seconds <= MAX_ROUND_SECONDS))
    {
      g_printerr ("bench-poll: KANKYO_BENCH_SECONDS is '%s'; expected the seconds of one round, "
                  "from " G_STRINGIFY (MIN_ROUND_SECONDS) " to " G_STRINGIFY (MAX_ROUND_SECONDS) "\n",
                  text);
      return FALSE;
    }
  *ret_seconds = seconds;
  return TRUE;
}

/* Alternating rounds, bare first in odd ones; TRUE when the values were
 * right and, outside --smoke, the ratio met its target. */
static gboolean
run_rounds (Bench *b, gboolean smoke, double seconds)
{
  guint n_rounds = smoke ? 1 : N_ROUNDS;
  double bare_rate[N_ROUNDS], engine_rate[N_ROUNDS];
  double bare_cpu[N_ROUNDS], engine_cpu[N_ROUNDS];
  double ratio, bare_cpu_us, engine_cpu_us;
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  Round round;

  if (!run_bare (b, MIN (seconds, WARMUP_SECONDS), &round)
      || !run_engine (b, MIN (seconds, WARMUP_SECONDS), &round))
    return FALSE;

  for (guint r = 0; r < n_rounds; r++)
    {
      for (guint leg = 0; leg < 2; leg++)
        {
          gboolean bare = (leg == r % 2);
          double *rate = bare ? bare_rate : engine_rate;
          double *cpu = bare ? bare_cpu : engine_cpu;

          if (!(bare ? run_bare (b, seconds, &round) : run_engine (b, seconds, &round)))
            return FALSE;
          print_round (r + 1, bare ? "bare" : "engine", &round);
          rate[r] = (double) round.polls / round.wall_s;
          cpu[r] = round.cpu_us / (double) round.polls;
        }
    }
  if (b->n_batches == 0)
    {
      g_printerr ("bench-poll: the subscriber never received a batch\n");
      return FALSE;
    }

  ratio = median (engine_rate, n_rounds) / median (bare_rate, n_rounds);
  engine_cpu_us = median (engine_cpu, n_rounds);
  bare_cpu_us = median (bare_cpu, n_rounds);

  if (smoke)
    printf ("# --smoke: the values were checked, the ratio is not\n");
  print_figure ("poll_ratio", ratio, "%.3f", smoke ? "none" : TARGET_RATIO_TEXT);
  print_figure ("engine_reads_per_s", median (engine_rate, n_rounds), "%.0f", "none");
  print_figure ("bare_reads_per_s", median (bare_rate, n_rounds), "%.0f", "none");
  print_figure ("engine_cpu_us_per_poll", engine_cpu_us, "%.2f", "none");
  print_figure ("bare_cpu_us_per_poll", bare_cpu_us, "%.2f", "none");
  print_figure ("decode_store_cpu_us_per_poll", engine_cpu_us - bare_cpu_us, "%.2f", "none");

  if (!smoke && !(ratio >= TARGET_RATIO))
    {
      g_printerr (
          "bench-poll: the engine reads at %s of bare libmodbus' rate; the target is " TARGET_RATIO_TEXT "\n",
          g_ascii_formatd (buf, sizeof buf, "%.3f", ratio));
      return FALSE;
    }
  return TRUE;
}

int
main (int argc, char **argv)
{
  gboolean smoke = FALSE;
  const GOptionEntry entries[]
      = { { "smoke", 0, 0, G_OPTION_ARG_NONE, &smoke,
            "Run one short round of each loop and check correctness, not speed", NULL },
          G_OPTION_ENTRY_NULL };
  g_autoptr (GOptionContext) options = NULL;
  g_autoptr (GError) error = NULL;
  Bench b = { 0 };
  double seconds;
  int client_cpu, server_cpu;
  gboolean ok;

  options = g_option_context_new ("- engine poll cycle against bare libmodbus");
  g_option_context_add_main_entries (options, entries, NULL);
  if (!g_option_context_parse (options, &argc, &argv, &error))
    {
      g_printerr ("bench-poll: %s\n", error->message);
      return 2;
    }
  if (!round_seconds_from_env (smoke, &seconds) || !choose_cpus (&client_cpu, &server_cpu))
    return 2;

  ok = bench_setup (&b, client_cpu, server_cpu);
  if (ok)
    {
      if (client_cpu == server_cpu)
        printf ("# only CPU %d is available: server and clients share it\n", client_cpu);
      else
        printf ("# server thread on CPU %d, clients on CPU %d\n", server_cpu, client_cpu);
      printf ("# %u holding registers per read: %u float32 CDAB + %u scaled int16 = %u tags in "
              "1 block; every tag changes every poll; subscriber iterated every %u polls\n",
              N_REGISTERS, N_FLOATS, N_INT16, N_TAGS, DELIVER_EVERY);
      ok = run_rounds (&b, smoke, seconds);
    }
  bench_clear (&b);
  return ok ? 0 : 1;
}
