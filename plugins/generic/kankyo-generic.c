/* kankyo-generic.c: devices described only by a user's map file.
 *
 * An old machine behind a Modbus gateway, a power meter, anything with a
 * register list: the plant engineer writes a YAML map next to the project
 * and Kankyo polls it, with no C. This module is what such devices have
 * instead of a device plugin: a simulation driven by the map's own
 * "simulate:" hints (a mean, noise, a slow sine, a counter's rate), so a new
 * map can be tried against kankyo-sim before the real machine is connected.
 * Tags without hints hold what clients write, as plain registers do.
 */
#include "config.h"

#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <math.h>

#include "kankyo-plugin.h"

/* ---- simulation model ---- */

typedef struct
{
  char *tag;
  double value;
  double noise;
  double amplitude;
  double period;
  double step;
  double total; /* counters: what has accumulated */
} Hint;

#define GENERIC_TYPE_MODEL (generic_model_get_type ())
G_DECLARE_FINAL_TYPE (GenericModel, generic_model, GENERIC, MODEL, GObject)

struct _GenericModel
{
  GObject parent_instance;
  GArray *hints; /* Hint */
};

static void generic_model_iface_init (KankyoSimModelInterface *iface);

G_DEFINE_DYNAMIC_TYPE_EXTENDED (GenericModel,
                                generic_model,
                                G_TYPE_OBJECT,
                                G_TYPE_FLAG_FINAL,
                                G_IMPLEMENT_INTERFACE_DYNAMIC (KANKYO_TYPE_SIM_MODEL,
                                                               generic_model_iface_init))

static void
hint_clear (gpointer data)
{
  g_free (((Hint *) data)->tag);
}

/* Standard normal deviate (Box-Muller), from the device's own random
 * source so that a run repeats. */
static double
gaussian (GRand *rand)
{
  double u = g_rand_double_range (rand, G_MINDOUBLE, 1.0);
  double v = g_rand_double (rand);

  return sqrt (-2.0 * log (u)) * cos (2.0 * G_PI * v);
}

static double
hint_value (Hint *h, KankyoSimIo *io)
{
  double v = h->value + h->total;

  if (h->amplitude > 0 && h->period > 0)
    v += h->amplitude * sin (2.0 * G_PI * io->time / h->period);
  if (h->noise > 0)
    v += h->noise * gaussian (io->rand);
  return v;
}

static void
generic_init (KankyoSimModel *model, KankyoSimIo *io)
{
  GenericModel *self = GENERIC_MODEL (model);

  for (guint i = 0; i < self->hints->len; i++)
    {
      Hint *h = &g_array_index (self->hints, Hint, i);

      kankyo_sim_io_set (io, h->tag, h->value);
    }
}

static void
generic_step (KankyoSimModel *model, double dt, KankyoSimIo *io)
{
  GenericModel *self = GENERIC_MODEL (model);

  for (guint i = 0; i < self->hints->len; i++)
    {
      Hint *h = &g_array_index (self->hints, Hint, i);

      /* A plain value is only where the register starts: from then on it
       * holds what clients write, as a setpoint register does. */
      if (h->noise == 0 && h->amplitude == 0 && h->step == 0)
        continue;
      h->total += h->step * dt;
      kankyo_sim_io_set (io, h->tag, hint_value (h, io));
    }
}

static void
generic_model_iface_init (KankyoSimModelInterface *iface)
{
  iface->init = generic_init;
  iface->step = generic_step;
}

static void
generic_model_finalize (GObject *object)
{
  g_array_unref (GENERIC_MODEL (object)->hints);
  G_OBJECT_CLASS (generic_model_parent_class)->finalize (object);
}

static void
generic_model_class_init (GenericModelClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = generic_model_finalize;
}

static void
generic_model_class_finalize (GenericModelClass *klass)
{
}

static void
generic_model_init (GenericModel *self)
{
  self->hints = g_array_new (FALSE, TRUE, sizeof (Hint));
  g_array_set_clear_func (self->hints, hint_clear);
}

/* ---- device type ---- */

#define GENERIC_TYPE_DEVICE (generic_device_get_type ())
G_DECLARE_FINAL_TYPE (GenericDevice, generic_device, GENERIC, DEVICE, GObject)

struct _GenericDevice
{
  GObject parent_instance;
};

static void generic_device_iface_init (KankyoDeviceTypeInterface *iface);

G_DEFINE_DYNAMIC_TYPE_EXTENDED (GenericDevice,
                                generic_device,
                                G_TYPE_OBJECT,
                                G_TYPE_FLAG_FINAL,
                                G_IMPLEMENT_INTERFACE_DYNAMIC (KANKYO_TYPE_DEVICE_TYPE,
                                                               generic_device_iface_init))

static const char *
generic_get_id (KankyoDeviceType *type)
{
  return "generic";
}

/* The generic type has no map of its own: every device brings one. */
static GBytes *
generic_get_map (KankyoDeviceType *type, char **ret_name)
{
  return NULL;
}

/* @params: { "tags": { TAG: { "value": d, "noise": d, ... } } }, as the
 * engine builds it from the map's simulate: sections. */
static KankyoSimModel *
generic_create_model (KankyoDeviceType *type, GVariant *params, GError **error)
{
  g_autoptr (GenericModel) model = g_object_new (GENERIC_TYPE_MODEL, NULL);
  g_autoptr (GVariant) tags = params ? g_variant_lookup_value (params, "tags", G_VARIANT_TYPE_VARDICT) : NULL;
  GVariantIter iter;
  const char *tag;
  GVariant *hint;

  if (tags == NULL)
    return KANKYO_SIM_MODEL (g_steal_pointer (&model));
  g_variant_iter_init (&iter, tags);
  while (g_variant_iter_loop (&iter, "{&sv}", &tag, &hint))
    {
      Hint h = { 0 };

      if (!g_variant_is_of_type (hint, G_VARIANT_TYPE_VARDICT))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       _ ("simulate hints of %s: expected a mapping"), tag);
          return NULL;
        }
      h.tag = g_strdup (tag);
      g_variant_lookup (hint, "value", "d", &h.value);
      g_variant_lookup (hint, "noise", "d", &h.noise);
      g_variant_lookup (hint, "amplitude", "d", &h.amplitude);
      g_variant_lookup (hint, "period", "d", &h.period);
      g_variant_lookup (hint, "step", "d", &h.step);
      g_array_append_val (model->hints, h);
    }
  return KANKYO_SIM_MODEL (g_steal_pointer (&model));
}

static void
generic_device_iface_init (KankyoDeviceTypeInterface *iface)
{
  iface->get_id = generic_get_id;
  iface->get_map = generic_get_map;
  iface->create_model = generic_create_model;
}

static void
generic_device_class_init (GenericDeviceClass *klass)
{
}

static void
generic_device_class_finalize (GenericDeviceClass *klass)
{
}

static void
generic_device_init (GenericDevice *self)
{
}

/* ---- module entry points ---- */

G_MODULE_EXPORT void g_io_module_load (GIOModule *module);
G_MODULE_EXPORT void g_io_module_unload (GIOModule *module);
G_MODULE_EXPORT char **g_io_module_query (void);

G_MODULE_EXPORT void
g_io_module_load (GIOModule *module)
{
  /* Objects of these types outlive any scan of the module folder. */
  g_type_module_use (G_TYPE_MODULE (module));
  kankyo_plugin_register_extension_points ();
  generic_model_register_type (G_TYPE_MODULE (module));
  generic_device_register_type (G_TYPE_MODULE (module));
  g_io_extension_point_implement (KANKYO_DEVICE_TYPE_EXTENSION_POINT, GENERIC_TYPE_DEVICE, "generic", 0);
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
