/* kankyo-sim-host.c: register banks, servers and the physics clock.
 *
 * The physics thread wakes every 100 ms of wall time and advances each model
 * by 0.1 s times the speed factor. Models see tags, not registers: get and
 * set go through the same codec the engine decodes with, so a model cannot
 * get a word order or a scale wrong.
 */
#include "config.h"

#include "kankyo-sim-host.h"

#include <glib/gi18n-lib.h>
#include <math.h>

#define TICK_US (100 * G_TIME_SPAN_MILLISECOND)
#define MAX_SIM_DEVICES 256

typedef struct
{
  char *name;
  GPtrArray *specs;    /* KankyoTagSpec* */
  GHashTable *by_name; /* tag name -> KankyoTagSpec* */
  KankyoSimModel *model;
  KankyoDriver *driver;
  KankyoEndpoint *endpoint;
  guint8 unit_id;
  KankyoRegisterBank *bank;
  KankyoServer *server;
  KankyoSimValueFault value_fault; /* read and written under the bank lock */
  KankyoSimIo io;
} SimDevice;

struct _KankyoSimHost
{
  double speed;
  GPtrArray *devices; /* SimDevice* */
  /* Stepping happens under step_mutex, so the physics thread and
   * kankyo_sim_host_advance() never run a model at the same time; the
   * shared signals and the clock belong to whoever holds it. */
  GMutex step_mutex;
  GHashTable *signals; /* name -> double* */
  double time;
  GThread *thread;
  GMutex mutex;
  GCond cond;
  gboolean stopping;
  gboolean started;
};

static void
sim_device_free (SimDevice *dev)
{
  if (dev->server != NULL)
    kankyo_server_stop (dev->server);
  g_clear_object (&dev->server);
  g_clear_object (&dev->model);
  g_clear_object (&dev->driver);
  g_clear_pointer (&dev->bank, kankyo_register_bank_unref);
  g_clear_pointer (&dev->endpoint, kankyo_endpoint_free);
  g_clear_pointer (&dev->io.rand, g_rand_free);
  g_hash_table_unref (dev->by_name);
  g_ptr_array_unref (dev->specs);
  g_free (dev->name);
  g_free (dev);
}

/* Pointer into the bank for a tag's first element; lock held. */
static gboolean
locate (SimDevice *dev, const KankyoTagSpec *spec, guint16 *words, gboolean load)
{
  const KankyoRegisterSpec *reg = &spec->reg;
  guint width = kankyo_data_type_width (reg->data_type);
  guint n;

  if (kankyo_area_is_bits (reg->area))
    {
      guint8 *bits = kankyo_register_bank_bits (dev->bank, reg->area, &n);

      if (reg->address >= n)
        return FALSE;
      if (load)
        words[0] = bits[reg->address];
      else
        bits[reg->address] = words[0] ? 1 : 0;
      return TRUE;
    }
  else
    {
      guint16 *regs = kankyo_register_bank_registers (dev->bank, reg->area, &n);

      if ((guint) reg->address + width > n)
        return FALSE;
      for (guint i = 0; i < width; i++)
        {
          if (load)
            words[i] = regs[reg->address + i];
          else
            regs[reg->address + i] = words[i];
        }
      return TRUE;
    }
}

static double
io_get (gpointer user_data, const char *tag)
{
  SimDevice *dev = user_data;
  const KankyoTagSpec *spec = g_hash_table_lookup (dev->by_name, tag);
  guint16 words[4] = { 0 };
  g_auto (KankyoValue) value = KANKYO_VALUE_INIT;
  gboolean ok;

  if (spec == NULL)
    {
      g_critical ("simulated %s has no tag '%s'", dev->name, tag);
      return NAN;
    }
  kankyo_register_bank_lock (dev->bank);
  ok = locate (dev, spec, words, TRUE);
  kankyo_register_bank_unlock (dev->bank);
  if (!ok || !kankyo_register_decode (&spec->reg, words, &value, NULL))
    return NAN;
  return kankyo_value_to_double (&value);
}

static void
fault_words (const KankyoTagSpec *spec, KankyoSimValueFault fault, guint16 *words)
{
  switch (spec->reg.data_type)
    {
      case KANKYO_DATA_FLOAT32:
      case KANKYO_DATA_FLOAT64:
        {
          g_auto (KankyoValue) v = KANKYO_VALUE_INIT;

          kankyo_value_set_double (&v, fault == KANKYO_SIM_VALUE_FAULT_NAN ? NAN : 1e9);
          if (!kankyo_register_encode (&spec->reg, &v, words, NULL))
            words[0] = words[1] = words[2] = words[3] = 0x7fff;
          break;
        }
      case KANKYO_DATA_INT16:
        /* 0x8000 is how Vaisala and others say "no value" in int16. */
        words[0] = fault == KANKYO_SIM_VALUE_FAULT_NAN ? 0x8000 : 0x7fff;
        break;
      default:
        for (guint i = 0; i < 4; i++)
          words[i] = 0x7fff;
        break;
    }
}

static double
saturate (const KankyoRegisterSpec *reg, double value)
{
  double lo, hi, a, b;

  switch (reg->data_type)
    {
      case KANKYO_DATA_INT16:
        lo = G_MININT16, hi = G_MAXINT16;
        break;
      case KANKYO_DATA_UINT16:
        lo = 0, hi = G_MAXUINT16;
        break;
      case KANKYO_DATA_INT32:
        lo = G_MININT32, hi = G_MAXINT32;
        break;
      case KANKYO_DATA_UINT32:
        lo = 0, hi = G_MAXUINT32;
        break;
      case KANKYO_DATA_BITFIELD:
        lo = 0, hi = (1u << reg->bit_count) - 1;
        break;
      default:
        return isnan (value) ? 0.0 : CLAMP (value, -3e38, 3e38);
    }
  a = lo * reg->gain + reg->offset;
  b = hi * reg->gain + reg->offset;
  if (isnan (value))
    return MIN (a, b);
  return CLAMP (value, MIN (a, b), MAX (a, b));
}

static void
set_tag (SimDevice *dev, const KankyoTagSpec *spec, double value, gboolean honour_faults)
{
  guint16 words[4] = { 0 };
  g_auto (KankyoValue) v = KANKYO_VALUE_INIT;

  kankyo_register_bank_lock (dev->bank);
  if (!locate (dev, spec, words, TRUE))
    {
      kankyo_register_bank_unlock (dev->bank);
      return;
    }
  if (honour_faults && dev->value_fault != KANKYO_SIM_VALUE_FAULT_NONE
      && !kankyo_area_is_bits (spec->reg.area) && spec->reg.data_type != KANKYO_DATA_BIT
      && spec->reg.data_type != KANKYO_DATA_BITFIELD)
    fault_words (spec, dev->value_fault, words);
  else
    {
      if (spec->value_type == KANKYO_VALUE_BOOL)
        kankyo_value_set_bool (&v, value != 0.0);
      else
        kankyo_value_set_double (&v, value);
      if (!kankyo_register_encode (&spec->reg, &v, words, NULL))
        {
          /* A model asked for more than the register holds: saturate, as a
           * transmitter at the end of its range does. */
          kankyo_value_set_double (&v, saturate (&spec->reg, value));
          if (!kankyo_register_encode (&spec->reg, &v, words, NULL))
            {
              kankyo_register_bank_unlock (dev->bank);
              return;
            }
        }
    }
  locate (dev, spec, words, FALSE);
  kankyo_register_bank_unlock (dev->bank);
}

static void
io_set (gpointer user_data, const char *tag, double value)
{
  SimDevice *dev = user_data;
  const KankyoTagSpec *spec = g_hash_table_lookup (dev->by_name, tag);

  if (spec == NULL)
    {
      g_critical ("simulated %s has no tag '%s'", dev->name, tag);
      return;
    }
  set_tag (dev, spec, value, TRUE);
}

static double
signal_get (gpointer data, const char *name)
{
  KankyoSimHost *host = data;
  double *v = g_hash_table_lookup (host->signals, name);

  return v ? *v : NAN;
}

static void
signal_set (gpointer data, const char *name, double value)
{
  KankyoSimHost *host = data;
  double *v = g_hash_table_lookup (host->signals, name);

  if (v == NULL)
    {
      v = g_new (double, 1);
      g_hash_table_insert (host->signals, g_strdup (name), v);
    }
  *v = value;
}

KankyoSimHost *
kankyo_sim_host_new (double speed)
{
  KankyoSimHost *host = g_new0 (KankyoSimHost, 1);

  host->speed = speed > 0 ? speed : 1.0;
  host->devices = g_ptr_array_new_with_free_func ((GDestroyNotify) sim_device_free);
  g_mutex_init (&host->mutex);
  g_mutex_init (&host->step_mutex);
  g_cond_init (&host->cond);
  host->signals = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return host;
}

void
kankyo_sim_host_free (KankyoSimHost *host)
{
  if (host == NULL)
    return;
  kankyo_sim_host_stop (host);
  g_ptr_array_unref (host->devices);
  g_hash_table_unref (host->signals);
  g_mutex_clear (&host->step_mutex);
  g_mutex_clear (&host->mutex);
  g_cond_clear (&host->cond);
  g_free (host);
}

guint
kankyo_sim_host_add (KankyoSimHost *host,
                     const char *name,
                     GPtrArray *specs,
                     KankyoSimModel *model,
                     KankyoDriver *driver,
                     const KankyoEndpoint *endpoint,
                     guint8 unit_id,
                     GError **error)
{
  SimDevice *dev;
  guint sizes[5] = { 0 };

  g_return_val_if_fail (!host->started, G_MAXUINT);
  if (host->devices->len >= MAX_SIM_DEVICES)
    {
      g_set_error (error, KANKYO_DRIVER_ERROR, KANKYO_DRIVER_ERROR_INVALID,
                   _ ("a simulator serves at most %d devices"), MAX_SIM_DEVICES);
      return G_MAXUINT;
    }

  dev = g_new0 (SimDevice, 1);
  dev->name = g_strdup (name);
  dev->specs = g_ptr_array_new_with_free_func ((GDestroyNotify) kankyo_tag_spec_free);
  dev->by_name = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < specs->len; i++)
    {
      const KankyoTagSpec *source = g_ptr_array_index (specs, i);
      KankyoTagSpec *spec;
      guint end;

      /* Computed tags are the engine's work, not the device's. */
      if (source->computed)
        continue;
      spec = kankyo_tag_spec_copy (source);
      end = spec->reg.address + kankyo_data_type_width (spec->reg.data_type);
      g_ptr_array_add (dev->specs, spec);
      g_hash_table_insert (dev->by_name, spec->name, spec);
      sizes[spec->reg.area] = MAX (sizes[spec->reg.area], end);
    }
  dev->bank
      = kankyo_register_bank_new (sizes[KANKYO_AREA_COIL], sizes[KANKYO_AREA_DISCRETE_INPUT],
                                  sizes[KANKYO_AREA_HOLDING_REGISTER], sizes[KANKYO_AREA_INPUT_REGISTER]);
  dev->model = model ? g_object_ref (model) : NULL;
  dev->driver = g_object_ref (driver);
  dev->endpoint = kankyo_endpoint_copy (endpoint);
  dev->unit_id = unit_id;
  dev->io.tags.user_data = dev;
  dev->io.tags.get = io_get;
  dev->io.tags.set = io_set;
  dev->io.signal_data = host;
  dev->io.get_signal = signal_get;
  dev->io.set_signal = signal_set;
  dev->io.rand = g_rand_new_with_seed (g_str_hash (name));

  dev->server = kankyo_driver_create_server (driver, endpoint, unit_id, dev->bank, error);
  if (dev->server == NULL)
    {
      g_prefix_error (error, _ ("simulated %s: "), name);
      sim_device_free (dev);
      return G_MAXUINT;
    }
  g_mutex_lock (&host->step_mutex);
  dev->io.time = host->time;
  if (dev->model != NULL)
    kankyo_sim_model_init (dev->model, &dev->io);
  g_mutex_unlock (&host->step_mutex);
  g_ptr_array_add (host->devices, dev);
  return host->devices->len - 1;
}

guint
kankyo_sim_host_get_n_devices (KankyoSimHost *host)
{
  return host->devices->len;
}

/* Models run in the order devices were added, so a device whose physics
 * publishes plant signals (an AHU serving rooms) goes before the sensors
 * that read them. step_mutex held. */
static void
step_all (KankyoSimHost *host, double dt)
{
  host->time += dt;
  for (guint i = 0; i < host->devices->len; i++)
    {
      SimDevice *dev = g_ptr_array_index (host->devices, i);

      dev->io.time = host->time;
      if (dev->model != NULL)
        kankyo_sim_model_step (dev->model, dt, &dev->io);
    }
}

void
kankyo_sim_host_advance (KankyoSimHost *host, double seconds, double step)
{
  g_return_if_fail (seconds >= 0 && step > 0);
  g_mutex_lock (&host->step_mutex);
  for (double done = 0; done < seconds; done += step)
    step_all (host, MIN (step, seconds - done));
  g_mutex_unlock (&host->step_mutex);
}

double
kankyo_sim_host_get_signal (KankyoSimHost *host, const char *name)
{
  double v;

  g_mutex_lock (&host->step_mutex);
  v = signal_get (host, name);
  g_mutex_unlock (&host->step_mutex);
  return v;
}

static gpointer
physics_thread (gpointer data)
{
  KankyoSimHost *host = data;
  gint64 next = g_get_monotonic_time () + TICK_US;

  g_mutex_lock (&host->mutex);
  while (!host->stopping)
    {
      if (!g_cond_wait_until (&host->cond, &host->mutex, next))
        {
          g_mutex_unlock (&host->mutex);
          g_mutex_lock (&host->step_mutex);
          step_all (host, host->speed * TICK_US / 1e6);
          g_mutex_unlock (&host->step_mutex);
          g_mutex_lock (&host->mutex);
          next += TICK_US;
          if (next < g_get_monotonic_time ())
            next = g_get_monotonic_time () + TICK_US;
        }
    }
  g_mutex_unlock (&host->mutex);
  return NULL;
}

gboolean
kankyo_sim_host_start (KankyoSimHost *host, GError **error)
{
  g_return_val_if_fail (!host->started, FALSE);

  for (guint i = 0; i < host->devices->len; i++)
    {
      SimDevice *dev = g_ptr_array_index (host->devices, i);

      if (!kankyo_server_start (dev->server, error))
        {
          g_autofree char *where = kankyo_endpoint_to_string (dev->endpoint);

          g_prefix_error (error, _ ("simulated %s on %s: "), dev->name, where);
          for (guint j = 0; j < i; j++)
            kankyo_server_stop (((SimDevice *) g_ptr_array_index (host->devices, j))->server);
          return FALSE;
        }
    }
  host->started = TRUE;
  host->stopping = FALSE;
  host->thread = g_thread_new ("sim physics", physics_thread, host);
  return TRUE;
}

void
kankyo_sim_host_stop (KankyoSimHost *host)
{
  if (!host->started)
    return;
  g_mutex_lock (&host->mutex);
  host->stopping = TRUE;
  g_cond_signal (&host->cond);
  g_mutex_unlock (&host->mutex);
  g_thread_join (host->thread);
  host->thread = NULL;
  for (guint i = 0; i < host->devices->len; i++)
    kankyo_server_stop (((SimDevice *) g_ptr_array_index (host->devices, i))->server);
  host->started = FALSE;
}

static SimDevice *
device_at (KankyoSimHost *host, guint index)
{
  g_return_val_if_fail (index < host->devices->len, NULL);
  return g_ptr_array_index (host->devices, index);
}

guint
kankyo_sim_host_find (KankyoSimHost *host, const char *name)
{
  for (guint i = 0; i < host->devices->len; i++)
    if (g_strcmp0 (((SimDevice *) g_ptr_array_index (host->devices, i))->name, name) == 0)
      return i;
  return G_MAXUINT;
}

const char *
kankyo_sim_host_get_name (KankyoSimHost *host, guint index)
{
  SimDevice *dev = device_at (host, index);

  return dev ? dev->name : NULL;
}

char *
kankyo_sim_host_get_endpoint (KankyoSimHost *host, guint index)
{
  SimDevice *dev = device_at (host, index);
  g_autoptr (KankyoEndpoint) ep = NULL;

  if (dev == NULL)
    return NULL;
  ep = kankyo_endpoint_copy (dev->endpoint);
  if (ep->transport == KANKYO_TRANSPORT_TCP)
    ep->port = kankyo_server_get_port (dev->server);
  return kankyo_endpoint_to_string (ep);
}

void
kankyo_sim_host_set_server_faults (KankyoSimHost *host, guint index, const KankyoServerFaults *faults)
{
  SimDevice *dev = device_at (host, index);

  if (dev != NULL)
    kankyo_register_bank_set_faults (dev->bank, faults);
}

void
kankyo_sim_host_set_value_fault (KankyoSimHost *host, guint index, KankyoSimValueFault fault)
{
  SimDevice *dev = device_at (host, index);

  if (dev == NULL)
    return;
  kankyo_register_bank_lock (dev->bank);
  dev->value_fault = fault;
  kankyo_register_bank_unlock (dev->bank);
}

double
kankyo_sim_host_get_value (KankyoSimHost *host, guint index, const char *tag)
{
  SimDevice *dev = device_at (host, index);

  if (dev == NULL || !g_hash_table_contains (dev->by_name, tag))
    return NAN;
  return io_get (dev, tag);
}

void
kankyo_sim_host_set_value (KankyoSimHost *host, guint index, const char *tag, double value)
{
  SimDevice *dev = device_at (host, index);
  const KankyoTagSpec *spec;

  if (dev == NULL || (spec = g_hash_table_lookup (dev->by_name, tag)) == NULL)
    return;
  set_tag (dev, spec, value, FALSE);
}
