/* kankyo-device-type.c: the device-type and simulation-model interfaces. */
#include "kankyo-device-type.h"

G_DEFINE_INTERFACE (KankyoSimModel, kankyo_sim_model, G_TYPE_OBJECT)
G_DEFINE_INTERFACE (KankyoDeviceType, kankyo_device_type, G_TYPE_OBJECT)

static void
kankyo_sim_model_default_init (KankyoSimModelInterface *iface)
{
}

static void
kankyo_device_type_default_init (KankyoDeviceTypeInterface *iface)
{
}

void
kankyo_sim_model_init (KankyoSimModel *self, KankyoSimIo *io)
{
  KankyoSimModelInterface *iface;

  g_return_if_fail (KANKYO_IS_SIM_MODEL (self));
  iface = KANKYO_SIM_MODEL_GET_IFACE (self);
  if (iface->init != NULL)
    iface->init (self, io);
}

void
kankyo_sim_model_step (KankyoSimModel *self, double dt, KankyoSimIo *io)
{
  g_return_if_fail (KANKYO_IS_SIM_MODEL (self));
  KANKYO_SIM_MODEL_GET_IFACE (self)->step (self, dt, io);
}

const char *
kankyo_device_type_get_id (KankyoDeviceType *self)
{
  g_return_val_if_fail (KANKYO_IS_DEVICE_TYPE (self), NULL);
  return KANKYO_DEVICE_TYPE_GET_IFACE (self)->get_id (self);
}

GBytes *
kankyo_device_type_get_map (KankyoDeviceType *self, char **ret_name)
{
  g_return_val_if_fail (KANKYO_IS_DEVICE_TYPE (self), NULL);
  return KANKYO_DEVICE_TYPE_GET_IFACE (self)->get_map (self, ret_name);
}

KankyoSimModel *
kankyo_device_type_create_model (KankyoDeviceType *self, GVariant *params, GError **error)
{
  KankyoDeviceTypeInterface *iface;

  g_return_val_if_fail (KANKYO_IS_DEVICE_TYPE (self), NULL);
  g_return_val_if_fail (params == NULL || g_variant_is_of_type (params, G_VARIANT_TYPE_VARDICT), NULL);
  iface = KANKYO_DEVICE_TYPE_GET_IFACE (self);
  return iface->create_model ? iface->create_model (self, params, error) : NULL;
}

gboolean
kankyo_device_type_can_derive (KankyoDeviceType *self)
{
  g_return_val_if_fail (KANKYO_IS_DEVICE_TYPE (self), FALSE);
  return KANKYO_DEVICE_TYPE_GET_IFACE (self)->derive != NULL;
}

void
kankyo_device_type_derive (KankyoDeviceType *self, KankyoTagIo *io)
{
  KankyoDeviceTypeInterface *iface;

  g_return_if_fail (KANKYO_IS_DEVICE_TYPE (self));
  iface = KANKYO_DEVICE_TYPE_GET_IFACE (self);
  if (iface->derive != NULL)
    iface->derive (self, io);
}
