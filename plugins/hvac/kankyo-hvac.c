/* kankyo-hvac.c: the cleanroom HVAC device types, as one GIO module.
 *
 * Every type is a line of the table below: its id, its device map in the
 * module's GResource, the simulation model it uses and the function that
 * computes its computed tags. The extension point creates a device type by
 * its GType, so each line gets a GType of its own, registered on the module
 * with the line as its class data; one set of interface methods then serves
 * all of them by reading the line from the class. Likewise one GObject
 * wraps every plain-C simulation model (kankyo-hvac-private.h). Adding a
 * device type is therefore a map, a line in hvac.gresource.xml and a line
 * here (plugins/README.md, "Adding a device type to the HVAC plugin").
 */
#include "config.h"

#include <gio/gio.h>

#include "kankyo-hvac-private.h"

GResource *hvac_get_resource (void);

typedef struct
{
  const char *id;
  const char *map; /* resource path */
  const KankyoHvacModel *model;
  void (*derive) (KankyoTagIo *io);
} HvacType;

#define HVAC_RESOURCE_PREFIX "/org/kankyo/plugins/hvac/"
#define HVAC_TYPE(id, map, model, derive)                                                                    \
  {                                                                                                          \
    id, HVAC_RESOURCE_PREFIX map, model, derive                                                              \
  }

static const HvacType hvac_types[] = {
  HVAC_TYPE ("hvac.ahu", "hvac-ahu.yaml", &_kankyo_hvac_ahu_model, NULL),
  HVAC_TYPE ("hvac.thrh", "hvac-thrh.yaml", &_kankyo_hvac_thrh_model, NULL),
  HVAC_TYPE ("hvac.dp", "hvac-dp.yaml", &_kankyo_hvac_dp_model, NULL),
  HVAC_TYPE (
      "hvac.particle", "hvac-particle.yaml", &_kankyo_hvac_particle_model, _kankyo_hvac_particle_derive),
};

/* ---- one GObject for every simulation model ---- */

#define KANKYO_HVAC_TYPE_SIM_MODEL (kankyo_hvac_sim_model_get_type ())
G_DECLARE_FINAL_TYPE (KankyoHvacSimModel, kankyo_hvac_sim_model, KANKYO_HVAC, SIM_MODEL, GObject)

struct _KankyoHvacSimModel
{
  GObject parent_instance;
  const KankyoHvacModel *model;
  gpointer state;
};

static void kankyo_hvac_sim_model_iface_init (KankyoSimModelInterface *iface);

G_DEFINE_DYNAMIC_TYPE_EXTENDED (KankyoHvacSimModel,
                                kankyo_hvac_sim_model,
                                G_TYPE_OBJECT,
                                G_TYPE_FLAG_FINAL,
                                G_IMPLEMENT_INTERFACE_DYNAMIC (KANKYO_TYPE_SIM_MODEL,
                                                               kankyo_hvac_sim_model_iface_init))

static void
sim_model_init (KankyoSimModel *model, KankyoSimIo *io)
{
  KankyoHvacSimModel *self = KANKYO_HVAC_SIM_MODEL (model);

  self->model->init (self->state, io);
}

static void
sim_model_step (KankyoSimModel *model, double dt, KankyoSimIo *io)
{
  KankyoHvacSimModel *self = KANKYO_HVAC_SIM_MODEL (model);

  self->model->step (self->state, dt, io);
}

static void
kankyo_hvac_sim_model_iface_init (KankyoSimModelInterface *iface)
{
  iface->init = sim_model_init;
  iface->step = sim_model_step;
}

static void
kankyo_hvac_sim_model_finalize (GObject *object)
{
  KankyoHvacSimModel *self = KANKYO_HVAC_SIM_MODEL (object);

  if (self->model != NULL)
    g_clear_pointer (&self->state, self->model->free);
  G_OBJECT_CLASS (kankyo_hvac_sim_model_parent_class)->finalize (object);
}

static void
kankyo_hvac_sim_model_class_init (KankyoHvacSimModelClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = kankyo_hvac_sim_model_finalize;
}

static void
kankyo_hvac_sim_model_class_finalize (KankyoHvacSimModelClass *klass)
{
}

static void
kankyo_hvac_sim_model_init (KankyoHvacSimModel *self)
{
}

/* ---- one GType per line of the table ---- */

typedef struct
{
  GObjectClass parent_class;
  const HvacType *type;
} HvacDeviceTypeClass;

static const HvacType *
type_of (KankyoDeviceType *self)
{
  return G_TYPE_INSTANCE_GET_CLASS (self, G_TYPE_FROM_INSTANCE (self), HvacDeviceTypeClass)->type;
}

static const char *
hvac_get_id (KankyoDeviceType *self)
{
  return type_of (self)->id;
}

static GBytes *
hvac_get_map (KankyoDeviceType *self, char **ret_name)
{
  const HvacType *type = type_of (self);
  GBytes *bytes = g_resources_lookup_data (type->map, G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);

  if (bytes != NULL && ret_name != NULL)
    *ret_name = g_strconcat ("resource://", type->map, NULL);
  return bytes;
}

static KankyoSimModel *
hvac_create_model (KankyoDeviceType *self, GVariant *params, GError **error)
{
  const HvacType *type = type_of (self);
  KankyoHvacSimModel *model;
  gpointer state;

  if (type->model == NULL)
    return NULL;
  state = type->model->create (params, error);
  if (state == NULL)
    return NULL;
  model = g_object_new (KANKYO_HVAC_TYPE_SIM_MODEL, NULL);
  model->model = type->model;
  model->state = state;
  return KANKYO_SIM_MODEL (model);
}

static void
hvac_derive (KankyoDeviceType *self, KankyoTagIo *io)
{
  type_of (self)->derive (io);
}

/* Each GType has its own copy of the interface, so a type without computed
 * tags has no derive () and the engine does not call one. */
static void
hvac_device_type_iface_init (gpointer g_iface, gpointer iface_data)
{
  KankyoDeviceTypeInterface *iface = g_iface;
  const HvacType *type = iface_data;

  iface->get_id = hvac_get_id;
  iface->get_map = hvac_get_map;
  iface->create_model = hvac_create_model;
  iface->derive = type->derive != NULL ? hvac_derive : NULL;
}

static void
hvac_device_type_class_init (gpointer klass, gpointer class_data)
{
  ((HvacDeviceTypeClass *) klass)->type = class_data;
}

/* "hvac.ahu" becomes the GType "KankyoHvac_hvac_ahu". */
static GType
register_device_type (GTypeModule *module, const HvacType *type)
{
  const GTypeInfo info = {
    .class_size = sizeof (HvacDeviceTypeClass),
    .class_init = hvac_device_type_class_init,
    .class_data = (gconstpointer) type,
    .instance_size = sizeof (GObject),
  };
  const GInterfaceInfo iface_info = { hvac_device_type_iface_init, NULL, (gpointer) type };
  g_autofree char *name = g_strconcat ("KankyoHvac_", type->id, NULL);
  GType gtype;

  g_strdelimit (name, ".-", '_');
  gtype = g_type_module_register_type (module, G_TYPE_OBJECT, name, &info, G_TYPE_FLAG_FINAL);
  g_type_module_add_interface (module, gtype, KANKYO_TYPE_DEVICE_TYPE, &iface_info);
  return gtype;
}

/* ---- module entry points ---- */

G_MODULE_EXPORT void g_io_module_load (GIOModule *module);
G_MODULE_EXPORT void g_io_module_unload (GIOModule *module);
G_MODULE_EXPORT char **g_io_module_query (void);

G_MODULE_EXPORT void
g_io_module_load (GIOModule *module)
{
  /* The module registers a GResource and hands out objects whose code lives
   * here, so it stays loaded for the life of the process. */
  g_type_module_use (G_TYPE_MODULE (module));
  g_resources_register (hvac_get_resource ());
  kankyo_plugin_register_extension_points ();
  kankyo_hvac_sim_model_register_type (G_TYPE_MODULE (module));
  for (guint i = 0; i < G_N_ELEMENTS (hvac_types); i++)
    g_io_extension_point_implement (KANKYO_DEVICE_TYPE_EXTENSION_POINT,
                                    register_device_type (G_TYPE_MODULE (module), &hvac_types[i]),
                                    hvac_types[i].id, 0);
}

G_MODULE_EXPORT void
g_io_module_unload (GIOModule *module)
{
}

G_MODULE_EXPORT char **
g_io_module_query (void)
{
  char *eps[] = { (char *) KANKYO_DEVICE_TYPE_EXTENSION_POINT, NULL };

  return g_strdupv (eps);
}
