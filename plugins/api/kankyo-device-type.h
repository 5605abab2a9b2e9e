/* kankyo-device-type.h: the device-type contract.
 *
 * A device plugin implements KankyoDeviceType once per type of device on the
 * "kankyo-device-types-1" extension point, under the type's id
 * ("hvac.ahu", "test.thermostat"). A type is mostly data: its description
 * (a YAML map: identity, registers, tags) comes from the plugin's GResource.
 * C is needed only for a simulation model, which steps the device's physics
 * and reads and writes its tags through a KankyoSimIo.
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define KANKYO_DEVICE_TYPE_EXTENSION_POINT "kankyo-device-types-1"

typedef struct _KankyoTagIo KankyoTagIo;
typedef struct _KankyoSimIo KankyoSimIo;

/* A device's tags by name, as engineering values. get() answers NAN for a
 * tag without a usable value. */
struct _KankyoTagIo
{
  gpointer user_data;
  double (*get) (gpointer user_data, const char *tag);
  void (*set) (gpointer user_data, const char *tag, double value);
};

/* What a simulation model sees: its own device's tags (the host encodes
 * them into registers), plant signals shared by every simulated device of
 * the host ("room.fill.pressure": the physics of one device publishes what
 * the sensors of another read; NAN until set), the simulated time, and a
 * random source seeded from the device's name so that runs repeat. */
struct _KankyoSimIo
{
  KankyoTagIo tags;
  gpointer signal_data;
  double (*get_signal) (gpointer signal_data, const char *name);
  void (*set_signal) (gpointer signal_data, const char *name, double value);
  double time; /* simulated seconds since the host started */
  GRand *rand;
};

static inline double
kankyo_tag_io_get (KankyoTagIo *io, const char *tag)
{
  return io->get (io->user_data, tag);
}

static inline void
kankyo_tag_io_set (KankyoTagIo *io, const char *tag, double value)
{
  io->set (io->user_data, tag, value);
}

static inline double
kankyo_sim_io_get (KankyoSimIo *io, const char *tag)
{
  return io->tags.get (io->tags.user_data, tag);
}

static inline void
kankyo_sim_io_set (KankyoSimIo *io, const char *tag, double value)
{
  io->tags.set (io->tags.user_data, tag, value);
}

static inline double
kankyo_sim_io_get_signal (KankyoSimIo *io, const char *name)
{
  return io->get_signal (io->signal_data, name);
}

static inline void
kankyo_sim_io_set_signal (KankyoSimIo *io, const char *name, double value)
{
  io->set_signal (io->signal_data, name, value);
}

/* ---- KankyoSimModel ---- */

#define KANKYO_TYPE_SIM_MODEL (kankyo_sim_model_get_type ())
G_DECLARE_INTERFACE (KankyoSimModel, kankyo_sim_model, KANKYO, SIM_MODEL, GObject)

struct _KankyoSimModelInterface
{
  GTypeInterface g_iface;

  /* Sets the initial tag values. */
  void (*init) (KankyoSimModel *self, KankyoSimIo *io);
  /* Advances the physics by @dt seconds of simulated time. Reads what
   * clients wrote (setpoints, commands) and sets what the device reports. */
  void (*step) (KankyoSimModel *self, double dt, KankyoSimIo *io);
};

void kankyo_sim_model_init (KankyoSimModel *self, KankyoSimIo *io);
void kankyo_sim_model_step (KankyoSimModel *self, double dt, KankyoSimIo *io);

/* ---- KankyoDeviceType ---- */

#define KANKYO_TYPE_DEVICE_TYPE (kankyo_device_type_get_type ())
G_DECLARE_INTERFACE (KankyoDeviceType, kankyo_device_type, KANKYO, DEVICE_TYPE, GObject)

struct _KankyoDeviceTypeInterface
{
  GTypeInterface g_iface;

  const char *(*get_id) (KankyoDeviceType *self);
  /* The YAML description; @ret_name receives a name for error messages,
   * e.g. "resource:///org/kankyo/testdev/thermostat.yaml". */
  GBytes *(*get_map) (KankyoDeviceType *self, char **ret_name);
  /* A simulation of one device. @params is the device's "simulation:"
   * section of the project as an a{sv} (maps a{sv}, lists av, scalars s),
   * or NULL; errors say which parameter is wrong. NULL without an error:
   * the type has no simulation. */
  KankyoSimModel *(*create_model) (KankyoDeviceType *self, GVariant *params, GError **error);
  /* Optional: computes the tags the map marks "computed" from the device's
   * other tags; the engine calls it after every poll. */
  void (*derive) (KankyoDeviceType *self, KankyoTagIo *io);
};

const char *kankyo_device_type_get_id (KankyoDeviceType *self);
GBytes *kankyo_device_type_get_map (KankyoDeviceType *self, char **ret_name);
KankyoSimModel *kankyo_device_type_create_model (KankyoDeviceType *self, GVariant *params, GError **error);
gboolean kankyo_device_type_can_derive (KankyoDeviceType *self);
void kankyo_device_type_derive (KankyoDeviceType *self, KankyoTagIo *io);

G_END_DECLS
