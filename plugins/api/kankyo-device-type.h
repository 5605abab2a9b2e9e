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

typedef struct _KankyoSimIo KankyoSimIo;

/* Engineering values by tag name; the host encodes them into registers. */
struct _KankyoSimIo
{
  gpointer user_data;
  double (*get) (gpointer user_data, const char *tag);
  void (*set) (gpointer user_data, const char *tag, double value);
};

static inline double
kankyo_sim_io_get (KankyoSimIo *io, const char *tag)
{
  return io->get (io->user_data, tag);
}

static inline void
kankyo_sim_io_set (KankyoSimIo *io, const char *tag, double value)
{
  io->set (io->user_data, tag, value);
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
  /* NULL when the type has no simulation. */
  KankyoSimModel *(*create_model) (KankyoDeviceType *self);
};

const char *kankyo_device_type_get_id (KankyoDeviceType *self);
GBytes *kankyo_device_type_get_map (KankyoDeviceType *self, char **ret_name);
KankyoSimModel *kankyo_device_type_create_model (KankyoDeviceType *self);

G_END_DECLS
