/* kankyo-testdev.c: the test thermostat device type and its physics.
 *
 * The chamber is one thermal mass: C dT/dt = P u - UA (T - T_amb), with the
 * heater output u decided by the mode (off, manual command, or automatic
 * on/off control with hysteresis around the setpoint). Humidity follows
 * from a constant absolute humidity through the Magnus formula, so heating
 * dries the air as it does in a real chamber. The time constant C/UA is
 * 1000 s, long enough to watch and short enough to test at --speed.
 */
#include "config.h"

#include <gio/gio.h>
#include <math.h>

#include "kankyo-plugin.h"

#define HEAT_CAPACITY 50000.0 /* J/K */
#define UA 50.0               /* W/K */
#define HEATER_POWER 1500.0   /* W */
#define AMBIENT 18.0          /* degC */
#define HYSTERESIS 0.3        /* K */

GResource *testdev_get_resource (void);

/* ---- simulation model ---- */

#define TESTDEV_TYPE_THERMOSTAT_MODEL (testdev_thermostat_model_get_type ())
G_DECLARE_FINAL_TYPE (TestdevThermostatModel, testdev_thermostat_model, TESTDEV, THERMOSTAT_MODEL, GObject)

struct _TestdevThermostatModel
{
  GObject parent_instance;
  double temperature;
  double vapour_pressure; /* hPa, constant */
  double run_time;        /* s */
  double energy;          /* kWh */
  gboolean output;
};

static void testdev_thermostat_model_iface_init (KankyoSimModelInterface *iface);

G_DEFINE_DYNAMIC_TYPE_EXTENDED (TestdevThermostatModel,
                                testdev_thermostat_model,
                                G_TYPE_OBJECT,
                                G_TYPE_FLAG_FINAL,
                                G_IMPLEMENT_INTERFACE_DYNAMIC (KANKYO_TYPE_SIM_MODEL,
                                                               testdev_thermostat_model_iface_init))

/* Saturation vapour pressure over water, hPa (Magnus). */
static double
magnus (double t)
{
  return 6.112 * exp (17.62 * t / (243.12 + t));
}

static void
publish (TestdevThermostatModel *self, KankyoSimIo *io)
{
  double rh = CLAMP (100.0 * self->vapour_pressure / magnus (self->temperature), 0.0, 100.0);
  double limit = kankyo_sim_io_get (io, "high_limit");

  kankyo_sim_io_set (io, "temperature", self->temperature);
  kankyo_sim_io_set (io, "humidity", rh);
  kankyo_sim_io_set (io, "overtemp", self->temperature > limit);
  kankyo_sim_io_set (io, "output_state", self->output ? 1 : 0);
  kankyo_sim_io_set (io, "heater_running", self->output);
  kankyo_sim_io_set (io, "run_time", floor (self->run_time));
  kankyo_sim_io_set (io, "energy", self->energy);
}

static void
thermostat_init (KankyoSimModel *model, KankyoSimIo *io)
{
  TestdevThermostatModel *self = TESTDEV_THERMOSTAT_MODEL (model);

  self->temperature = 20.0;
  self->vapour_pressure = 0.5 * magnus (20.0);
  kankyo_sim_io_set (io, "setpoint", 22.0);
  kankyo_sim_io_set (io, "mode", 2);
  kankyo_sim_io_set (io, "high_limit", 40.0);
  publish (self, io);
}

static void
thermostat_step (KankyoSimModel *model, double dt, KankyoSimIo *io)
{
  TestdevThermostatModel *self = TESTDEV_THERMOSTAT_MODEL (model);
  double setpoint = kankyo_sim_io_get (io, "setpoint");
  int mode = (int) kankyo_sim_io_get (io, "mode");
  double limit = kankyo_sim_io_get (io, "high_limit");
  double power, k;

  switch (mode)
    {
      case 1:
        self->output = kankyo_sim_io_get (io, "heater_command") != 0.0;
        break;
      case 2:
        if (self->temperature < setpoint - HYSTERESIS)
          self->output = TRUE;
        else if (self->temperature > setpoint + HYSTERESIS)
          self->output = FALSE;
        break;
      default:
        self->output = FALSE;
        break;
    }
  /* The over-temperature cut-out is hard-wired: no mode overrides it. */
  if (self->temperature > limit)
    self->output = FALSE;

  /* Exact solution of the linear ODE over dt, so large --speed steps stay
   * stable: T -> T_eq + (T - T_eq) e^(-dt/tau). */
  power = self->output ? HEATER_POWER : 0.0;
  k = exp (-dt * UA / HEAT_CAPACITY);
  self->temperature = (AMBIENT + power / UA) + (self->temperature - (AMBIENT + power / UA)) * k;
  if (self->output)
    {
      self->run_time += dt;
      self->energy += power * dt / 3.6e6;
    }
  publish (self, io);
}

static void
testdev_thermostat_model_iface_init (KankyoSimModelInterface *iface)
{
  iface->init = thermostat_init;
  iface->step = thermostat_step;
}

static void
testdev_thermostat_model_class_init (TestdevThermostatModelClass *klass)
{
}

static void
testdev_thermostat_model_class_finalize (TestdevThermostatModelClass *klass)
{
}

static void
testdev_thermostat_model_init (TestdevThermostatModel *self)
{
}

/* ---- device type ---- */

#define TESTDEV_TYPE_THERMOSTAT (testdev_thermostat_get_type ())
G_DECLARE_FINAL_TYPE (TestdevThermostat, testdev_thermostat, TESTDEV, THERMOSTAT, GObject)

struct _TestdevThermostat
{
  GObject parent_instance;
};

static void testdev_thermostat_iface_init (KankyoDeviceTypeInterface *iface);

G_DEFINE_DYNAMIC_TYPE_EXTENDED (TestdevThermostat,
                                testdev_thermostat,
                                G_TYPE_OBJECT,
                                G_TYPE_FLAG_FINAL,
                                G_IMPLEMENT_INTERFACE_DYNAMIC (KANKYO_TYPE_DEVICE_TYPE,
                                                               testdev_thermostat_iface_init))

#define THERMOSTAT_MAP "/org/kankyo/plugins/testdev/thermostat.yaml"

static const char *
thermostat_get_id (KankyoDeviceType *type)
{
  return "test.thermostat";
}

static GBytes *
thermostat_get_map (KankyoDeviceType *type, char **ret_name)
{
  GBytes *bytes = g_resources_lookup_data (THERMOSTAT_MAP, G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);

  if (bytes != NULL && ret_name != NULL)
    *ret_name = g_strdup ("resource://" THERMOSTAT_MAP);
  return bytes;
}

static KankyoSimModel *
thermostat_create_model (KankyoDeviceType *type, GVariant *params, GError **error)
{
  return g_object_new (TESTDEV_TYPE_THERMOSTAT_MODEL, NULL);
}

static void
testdev_thermostat_iface_init (KankyoDeviceTypeInterface *iface)
{
  iface->get_id = thermostat_get_id;
  iface->get_map = thermostat_get_map;
  iface->create_model = thermostat_create_model;
}

static void
testdev_thermostat_class_init (TestdevThermostatClass *klass)
{
}

static void
testdev_thermostat_class_finalize (TestdevThermostatClass *klass)
{
}

static void
testdev_thermostat_init (TestdevThermostat *self)
{
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
  g_resources_register (testdev_get_resource ());
  kankyo_plugin_register_extension_points ();
  testdev_thermostat_model_register_type (G_TYPE_MODULE (module));
  testdev_thermostat_register_type (G_TYPE_MODULE (module));
  g_io_extension_point_implement (KANKYO_DEVICE_TYPE_EXTENSION_POINT, TESTDEV_TYPE_THERMOSTAT,
                                  "test.thermostat", 0);
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
