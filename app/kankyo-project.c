/* kankyo-project.c: project files and device maps, from YAML to structs.
 *
 * The format is documented in docs/project-format.md. Everything a person
 * can get wrong is checked here, where the file and the line are still
 * known: unknown and duplicate keys, names, numbers and their ranges, the
 * combination of register table, data type and bits, the order of alarm
 * limits, that computed tags describe no register, and the references
 * between files. What the engine receives is therefore consistent; it only
 * has to apply a device's base address and word order, which
 * kankyo_device_map_resolve_tags () does. A device's "simulation:" section
 * means something only to its plugin, so it is bounded here and handed over
 * as a GVariant.
 */
#include "config.h"

#include "kankyo-project.h"
#include "kankyo-alarm.h"
#include "kankyo-yaml.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

/* The first argument becomes the quark's name, so it must stay one word. */
/* clang-format off */
G_DEFINE_QUARK (kankyo-project-error-quark, kankyo_project_error)
/* clang-format on */

#define MAX_AREAS 1000
#define MAX_DEVICES 1000
#define MAX_MAP_TAGS 10000
#define MAX_PROJECT_TAGS 100000
#define MAX_UNIT_ID 247
#define MAX_GAP 100
#define MIN_POLL_MS 10
#define MAX_POLL_MS 3600000
#define DEFAULT_POLL_MS 1000
#define DEFAULT_DRIVER "modbus"
#define SIMULATED_ENDPOINT "simulated"
#define COMPUTED_AREA "computed"
#define MAX_ALARM_DELAY_MS (24 * 3600 * 1000)
#define DEFAULT_COMM_FAIL_DELAY_MS 10000
#define MAX_SIMULATE_PERIOD_MS (24 * 3600 * 1000)
#define MAX_HEARTBEAT_MS (24 * 3600 * 1000)
#define MAX_HISTORY_CLASSES 32
#define MAX_RETENTION_DAYS (100 * 366)
#define MAX_SIMULATION_DEPTH 8
#define MAX_SIMULATION_NODES 10000
#define MAX_SIMULATION_SCALAR 256

enum
{
  PROJECT_NAME,
  PROJECT_AREAS,
  PROJECT_HISTORY,
  N_PROJECT_KEYS
};

static const char *const project_keys[] = {
  [PROJECT_NAME] = "project",
  [PROJECT_AREAS] = "areas",
  [PROJECT_HISTORY] = "history",
  [N_PROJECT_KEYS] = NULL,
};

enum
{
  HISTORY_DEADBAND,
  HISTORY_HEARTBEAT,
  HISTORY_CLASS,
  N_HISTORY_KEYS
};

static const char *const history_keys[] = {
  [HISTORY_DEADBAND] = "deadband",
  [HISTORY_HEARTBEAT] = "heartbeat",
  [HISTORY_CLASS] = "class",
  [N_HISTORY_KEYS] = NULL,
};

enum
{
  RETENTION_RAW,
  RETENTION_MINUTE,
  RETENTION_HOUR,
  N_RETENTION_KEYS
};

static const char *const retention_keys[] = {
  [RETENTION_RAW] = "raw",
  [RETENTION_MINUTE] = "minute",
  [RETENTION_HOUR] = "hour",
  [N_RETENTION_KEYS] = NULL,
};

enum
{
  AREA_NAME,
  AREA_LABEL,
  AREA_DEVICES,
  AREA_MIMIC,
  N_AREA_KEYS
};

static const char *const area_keys[] = {
  [AREA_NAME] = "name",   [AREA_LABEL] = "label", [AREA_DEVICES] = "devices",
  [AREA_MIMIC] = "mimic", [N_AREA_KEYS] = NULL,
};

enum
{
  MIMIC_SVG,
  MIMIC_BINDINGS,
  N_MIMIC_KEYS
};

static const char *const mimic_keys[] = {
  [MIMIC_SVG] = "svg",
  [MIMIC_BINDINGS] = "bindings",
  [N_MIMIC_KEYS] = NULL,
};

enum
{
  DEVICE_NAME,
  DEVICE_LABEL,
  DEVICE_TYPE,
  DEVICE_MAP,
  DEVICE_TAGS,
  DEVICE_DRIVER,
  DEVICE_ENDPOINT,
  DEVICE_UNIT_ID,
  DEVICE_POLL_PERIOD,
  DEVICE_WORD_ORDER,
  DEVICE_BASE_ADDRESS,
  DEVICE_MAX_GAP,
  DEVICE_SIMULATION,
  DEVICE_COMM_FAIL,
  DEVICE_ALARMS,
  N_DEVICE_KEYS
};

static const char *const device_keys[] = {
  [DEVICE_NAME] = "name",
  [DEVICE_LABEL] = "label",
  [DEVICE_TYPE] = "type",
  [DEVICE_MAP] = "map",
  [DEVICE_TAGS] = "tags",
  [DEVICE_DRIVER] = "driver",
  [DEVICE_ENDPOINT] = "endpoint",
  [DEVICE_UNIT_ID] = "unit-id",
  [DEVICE_POLL_PERIOD] = "poll-period",
  [DEVICE_WORD_ORDER] = "word-order",
  [DEVICE_BASE_ADDRESS] = "base-address",
  [DEVICE_MAX_GAP] = "max-gap",
  [DEVICE_SIMULATION] = "simulation",
  [DEVICE_COMM_FAIL] = "comm-fail",
  [DEVICE_ALARMS] = "alarms",
  [N_DEVICE_KEYS] = NULL,
};

enum
{
  MAP_DEVICE_TYPE,
  MAP_VENDOR,
  MAP_MODEL,
  MAP_DESCRIPTION,
  MAP_SYMBOL,
  MAP_WORD_ORDER,
  MAP_BASE_ADDRESS,
  MAP_TAGS,
  N_MAP_KEYS
};

static const char *const map_keys[] = {
  [MAP_DEVICE_TYPE] = "device-type",   [MAP_VENDOR] = "vendor", [MAP_MODEL] = "model",
  [MAP_DESCRIPTION] = "description",   [MAP_SYMBOL] = "symbol", [MAP_WORD_ORDER] = "word-order",
  [MAP_BASE_ADDRESS] = "base-address", [MAP_TAGS] = "tags",     [N_MAP_KEYS] = NULL,
};

enum
{
  TAG_NAME,
  TAG_LABEL,
  TAG_UNIT,
  TAG_DESCRIPTION,
  TAG_AREA,
  TAG_ADDRESS,
  TAG_TYPE,
  TAG_BIT,
  TAG_BITS,
  TAG_WORD_ORDER,
  TAG_SCALE,
  TAG_OFFSET,
  TAG_MIN,
  TAG_MAX,
  TAG_ACCESS,
  TAG_ALARMS,
  TAG_SYMBOL,
  TAG_SIMULATE,
  TAG_HISTORY,
  N_TAG_KEYS
};

static const char *const tag_keys[] = {
  [TAG_NAME] = "name",       [TAG_LABEL] = "label",
  [TAG_UNIT] = "unit",       [TAG_DESCRIPTION] = "description",
  [TAG_AREA] = "area",       [TAG_ADDRESS] = "address",
  [TAG_TYPE] = "type",       [TAG_BIT] = "bit",
  [TAG_BITS] = "bits",       [TAG_WORD_ORDER] = "word-order",
  [TAG_SCALE] = "scale",     [TAG_OFFSET] = "offset",
  [TAG_MIN] = "min",         [TAG_MAX] = "max",
  [TAG_ACCESS] = "access",   [TAG_ALARMS] = "alarms",
  [TAG_SYMBOL] = "symbol",   [TAG_SIMULATE] = "simulate",
  [TAG_HISTORY] = "history", [N_TAG_KEYS] = NULL,
};

/* The limits in the order they must keep, then the other conditions in the
 * order of KankyoAlarmLimitKind, then the rest. */
enum
{
  ALARM_LOW_LOW,
  ALARM_LOW,
  ALARM_HIGH,
  ALARM_HIGH_HIGH,
  ALARM_DEVIATION,
  ALARM_RATE,
  ALARM_STATE,
  ALARM_DEADBAND,
  ALARM_ON_DELAY,
  ALARM_OFF_DELAY,
  ALARM_PRIORITY,
  ALARM_LATCHING,
  ALARM_MESSAGE,
  ALARM_GUIDANCE,
  ALARM_DISPLAY,
  ALARM_SUPPRESSED_BY,
  N_ALARM_KEYS
};

static const char *const alarm_keys[] = {
  [ALARM_LOW_LOW] = "low-low",     [ALARM_LOW] = "low",
  [ALARM_HIGH] = "high",           [ALARM_HIGH_HIGH] = "high-high",
  [ALARM_DEVIATION] = "deviation", [ALARM_RATE] = "rate",
  [ALARM_STATE] = "state",         [ALARM_DEADBAND] = "deadband",
  [ALARM_ON_DELAY] = "on-delay",   [ALARM_OFF_DELAY] = "off-delay",
  [ALARM_PRIORITY] = "priority",   [ALARM_LATCHING] = "latching",
  [ALARM_MESSAGE] = "message",     [ALARM_GUIDANCE] = "guidance",
  [ALARM_DISPLAY] = "display",     [ALARM_SUPPRESSED_BY] = "suppressed-by",
  [N_ALARM_KEYS] = NULL,
};

G_STATIC_ASSERT (ALARM_LOW_LOW == (int) KANKYO_ALARM_LIMIT_LOW_LOW);
G_STATIC_ASSERT (ALARM_HIGH_HIGH == (int) KANKYO_ALARM_LIMIT_HIGH_HIGH);
G_STATIC_ASSERT (ALARM_STATE == (int) KANKYO_ALARM_LIMIT_STATE);

/* The keys of "priority:" are the conditions, in the same order. */
static const char *const priority_keys[] = {
  "low-low", "low", "high", "high-high", "deviation", "rate", "state", NULL,
};

/* In the order of KankyoAlarmPriority. */
static const char *const priority_choices[] = { "diagnostic", "low", "medium", "high", NULL };
static const char *const bool_choices[] = { "false", "true", NULL };

enum
{
  DEVIATION_SETPOINT,
  DEVIATION_LIMIT,
  N_DEVIATION_KEYS
};

static const char *const deviation_keys[] = {
  [DEVIATION_SETPOINT] = "setpoint",
  [DEVIATION_LIMIT] = "limit",
  [N_DEVIATION_KEYS] = NULL,
};

enum
{
  SUPPRESSED_TAG,
  SUPPRESSED_STATE,
  N_SUPPRESSED_KEYS
};

static const char *const suppressed_keys[] = {
  [SUPPRESSED_TAG] = "tag",
  [SUPPRESSED_STATE] = "state",
  [N_SUPPRESSED_KEYS] = NULL,
};

enum
{
  COMM_FAIL_PRIORITY,
  COMM_FAIL_DELAY,
  COMM_FAIL_GUIDANCE,
  N_COMM_FAIL_KEYS
};

static const char *const comm_fail_keys[] = {
  [COMM_FAIL_PRIORITY] = "priority",
  [COMM_FAIL_DELAY] = "delay",
  [COMM_FAIL_GUIDANCE] = "guidance",
  [N_COMM_FAIL_KEYS] = NULL,
};

#define TAG_REFERENCE_EXPECTED                                                                               \
  N_ ("a tag of the same device such as setpoint, or of another device such as room1.setpoint")

/* A tag an alarm refers to by name within its device map, checked once the
 * whole map is read. */
typedef struct
{
  yaml_node_t *node;
  const char *key;
  char *name;
  gboolean numeric; /* it must hold a number */
} TagReference;

static void
tag_reference_free (TagReference *ref)
{
  g_free (ref->name);
  g_free (ref);
}

enum
{
  SIMULATE_VALUE,
  SIMULATE_NOISE,
  SIMULATE_AMPLITUDE,
  SIMULATE_PERIOD,
  SIMULATE_STEP,
  N_SIMULATE_KEYS
};

static const char *const simulate_keys[] = {
  [SIMULATE_VALUE] = "value",   [SIMULATE_NOISE] = "noise", [SIMULATE_AMPLITUDE] = "amplitude",
  [SIMULATE_PERIOD] = "period", [SIMULATE_STEP] = "step",   [N_SIMULATE_KEYS] = NULL,
};

/* The symbols the mimic library draws. A map names the one each tag drives
 * and the one that draws the whole device. */
static const char *const symbol_names[] = {
  "fan",        "pump",  "valve",      "damper",     "coil", "filter", "humidifier",       "room", "chamber",
  "turbo-pump", "gauge", "compressor", "evaporator", "door", "sensor", "particle-counter", NULL,
};

static const char *const access_choices[] = { "read", "read-write", NULL };

#define AREA_CHOICES N_ ("coil, discrete-input, holding, input or computed")
#define DATA_TYPE_CHOICES N_ ("bool, bit, bitfield, int16, uint16, int32, uint32, float32 or float64")
#define COMPUTED_TYPE_CHOICES                                                                                \
  N_ ("bool, int16, uint16, int32, uint32, float32 or float64 (a computed tag has no register bits)")
#define WORD_ORDER_CHOICES N_ ("ABCD, CDAB, BADC or DCBA")

/* State of one project load: the names seen so far, for uniqueness, and the
 * running tag count, so map files cannot multiply beyond the bound. */
typedef struct
{
  KankyoYaml *yaml;
  const char *dir;
  GHashTable *area_names;   /* name -> location, owned */
  GHashTable *device_names; /* name -> location, owned */
  guint n_tags;
} LoadContext;

/* ---- freeing ---- */

static void
map_tag_free (KankyoMapTag *tag)
{
  if (tag == NULL)
    return;
  kankyo_tag_spec_free (tag->spec);
  g_free (tag->location);
  g_clear_pointer (&tag->simulate, g_variant_unref);
  g_free (tag);
}

void
kankyo_device_map_free (KankyoDeviceMap *map)
{
  if (map == NULL)
    return;
  g_free (map->id);
  g_free (map->vendor);
  g_free (map->model);
  g_free (map->description);
  g_free (map->symbol);
  g_clear_pointer (&map->tags, g_ptr_array_unref);
  g_free (map->source);
  g_free (map);
}

static void
area_config_free (KankyoAreaConfig *area)
{
  if (area == NULL)
    return;
  g_free (area->name);
  g_free (area->label);
  g_free (area->mimic_svg);
  g_free (area->mimic_bindings);
  g_free (area);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KankyoAreaConfig, area_config_free)

static void
alarm_override_free (KankyoAlarmOverride *override)
{
  g_free (override->tag);
  kankyo_alarm_limits_clear (&override->limits);
  g_free (override->location);
  g_free (override);
}

static void
device_config_free (KankyoDeviceConfig *device)
{
  if (device == NULL)
    return;
  g_free (device->name);
  g_free (device->label);
  g_free (device->area);
  g_free (device->type_id);
  kankyo_device_map_free (device->map);
  g_free (device->driver);
  kankyo_endpoint_free (device->endpoint);
  g_clear_pointer (&device->simulation, g_variant_unref);
  g_free (device->location);
  g_free (device->comm_fail_guidance);
  g_clear_pointer (&device->alarm_overrides, g_ptr_array_unref);
  g_free (device);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KankyoDeviceConfig, device_config_free)

void
kankyo_project_free (KankyoProject *project)
{
  if (project == NULL)
    return;
  g_free (project->name);
  g_free (project->path);
  g_free (project->dir);
  g_clear_pointer (&project->areas, g_ptr_array_unref);
  g_clear_pointer (&project->devices, g_ptr_array_unref);
  g_clear_pointer (&project->history_classes, g_ptr_array_unref);
  g_free (project);
}

/* ---- shared pieces ---- */

static gboolean
get_optional_string (KankyoYaml *yaml,
                     yaml_node_t *node,
                     const char *key,
                     KankyoYamlStringKind kind,
                     char **ret_string,
                     GError **error)
{
  if (node == NULL)
    return TRUE;
  return kankyo_yaml_get_string (yaml, node, key, kind, ret_string, error);
}

/* Checks a name against those seen before and records it. */
static gboolean
claim_name (
    KankyoYaml *yaml, yaml_node_t *node, GHashTable *seen, const char *what, const char *name, GError **error)
{
  const char *first = g_hash_table_lookup (seen, name);

  if (first != NULL)
    {
      kankyo_yaml_set_error (yaml, node, error, _ ("name: duplicate %s name '%s'; it is first used at %s"),
                             what, name, first);
      return FALSE;
    }
  g_hash_table_insert (seen, g_strdup (name), kankyo_yaml_location (yaml, node));
  return TRUE;
}

static gboolean
get_word_order (KankyoYaml *yaml, yaml_node_t *node, KankyoWordOrder *ret_order, GError **error)
{
  const char *text = NULL;

  if (!kankyo_yaml_get_scalar (yaml, node, "word-order", _ (WORD_ORDER_CHOICES), &text, error))
    return FALSE;
  if (!kankyo_word_order_from_string (text, ret_order))
    {
      kankyo_yaml_set_expected_error (yaml, node, "word-order", _ (WORD_ORDER_CHOICES), error);
      return FALSE;
    }
  return TRUE;
}

static gboolean
get_base_address (KankyoYaml *yaml, yaml_node_t *node, guint *ret_base, GError **error)
{
  gint64 value;

  if (!kankyo_yaml_get_int (yaml, node, "base-address", 0, 1, &value, error))
    return FALSE;
  *ret_base = (guint) value;
  return TRUE;
}

/* ---- tags ---- */

static gboolean
is_bit_of_register (KankyoDataType type)
{
  return type == KANKYO_DATA_BIT || type == KANKYO_DATA_BITFIELD;
}

/* The register half of a tag: bits, address and word order. */
static gboolean
parse_register (KankyoYaml *yaml,
                yaml_node_t *node,
                const char *what,
                yaml_node_t **v,
                const KankyoDeviceMap *map,
                KankyoRegisterSpec *reg,
                gint64 *ret_address,
                GError **error)
{
  gint64 address;
  gint64 n;
  guint width;

  if (kankyo_area_is_bits (reg->area) && reg->data_type != KANKYO_DATA_BOOL)
    {
      kankyo_yaml_set_error (yaml, v[TAG_TYPE], error,
                             _ ("type: area %s holds single bits, so the type must be bool, found '%s'"),
                             kankyo_area_to_string (reg->area), kankyo_data_type_to_string (reg->data_type));
      return FALSE;
    }
  if (!kankyo_area_is_bits (reg->area) && reg->data_type == KANKYO_DATA_BOOL)
    {
      kankyo_yaml_set_error (yaml, v[TAG_TYPE], error,
                             _ ("type: bool fits only area coil or discrete-input; "
                                "for one bit of a %s register use type bit"),
                             kankyo_area_to_string (reg->area));
      return FALSE;
    }

  if (is_bit_of_register (reg->data_type))
    {
      if (!kankyo_yaml_require (yaml, node, what, "bit", v[TAG_BIT], error)
          || !kankyo_yaml_get_int (yaml, v[TAG_BIT], "bit", 0, 15, &n, error))
        return FALSE;
      reg->bit = (guint8) n;
    }
  else if (v[TAG_BIT] != NULL)
    {
      kankyo_yaml_set_error (yaml, v[TAG_BIT], error,
                             _ ("bit: only tags of type bit or bitfield have a bit, this one is %s"),
                             kankyo_data_type_to_string (reg->data_type));
      return FALSE;
    }
  if (reg->data_type == KANKYO_DATA_BITFIELD)
    {
      if (!kankyo_yaml_require (yaml, node, what, "bits", v[TAG_BITS], error)
          || !kankyo_yaml_get_int (yaml, v[TAG_BITS], "bits", 1, 16, &n, error))
        return FALSE;
      if (reg->bit + n > 16)
        {
          kankyo_yaml_set_error (yaml, v[TAG_BITS], error,
                                 _ ("bits: bits %u to %u do not fit in a 16-bit register"), reg->bit,
                                 (guint) (reg->bit + n - 1));
          return FALSE;
        }
      reg->bit_count = (guint8) n;
    }
  else if (v[TAG_BITS] != NULL)
    {
      kankyo_yaml_set_error (yaml, v[TAG_BITS], error,
                             _ ("bits: only tags of type bitfield have a width in bits, this one is %s"),
                             kankyo_data_type_to_string (reg->data_type));
      return FALSE;
    }

  if (!kankyo_yaml_require (yaml, node, what, "address", v[TAG_ADDRESS], error)
      || !kankyo_yaml_get_int (yaml, v[TAG_ADDRESS], "address", map->base_address,
                               G_MAXUINT16 + (gint64) map->base_address, &address, error))
    return FALSE;
  width = kankyo_data_type_width (reg->data_type);
  if (address - map->base_address + width > G_MAXUINT16 + 1)
    {
      g_autofree char *address_text = g_strdup_printf ("%" G_GINT64_FORMAT, address);

      kankyo_yaml_set_error (yaml, v[TAG_ADDRESS], error,
                             _ ("address: a %s takes %u registers, so at %s it runs past the last one"),
                             kankyo_data_type_to_string (reg->data_type), width, address_text);
      return FALSE;
    }

  reg->word_order = map->word_order;
  if (v[TAG_WORD_ORDER] != NULL && !get_word_order (yaml, v[TAG_WORD_ORDER], &reg->word_order, error))
    return FALSE;

  *ret_address = address;
  return TRUE;
}

/* A computed tag has a type for its value but no register to describe. */
static gboolean
check_computed (KankyoYaml *yaml, yaml_node_t **v, KankyoDataType type, GError **error)
{
  static const guint register_keys[] = {
    TAG_ADDRESS, TAG_BIT, TAG_BITS, TAG_WORD_ORDER, TAG_SCALE, TAG_OFFSET,
  };

  for (guint i = 0; i < G_N_ELEMENTS (register_keys); i++)
    {
      guint k = register_keys[i];

      if (v[k] != NULL)
        {
          kankyo_yaml_set_error (yaml, v[k], error,
                                 _ ("%s: a computed tag has no register, so it takes no %s"), tag_keys[k],
                                 tag_keys[k]);
          return FALSE;
        }
    }
  if (is_bit_of_register (type))
    {
      kankyo_yaml_set_expected_error (yaml, v[TAG_TYPE], "type", _ (COMPUTED_TYPE_CHOICES), error);
      return FALSE;
    }
  return TRUE;
}

static gboolean
get_symbol (KankyoYaml *yaml, yaml_node_t *node, char **ret_symbol, GError **error)
{
  g_autofree char *known = g_strjoinv (", ", (char **) symbol_names);
  g_autofree char *expected = g_strdup_printf (_ ("one of the mimic symbols %s"), known);
  const char *text = NULL;

  if (!kankyo_yaml_get_scalar (yaml, node, "symbol", expected, &text, error))
    return FALSE;
  if (!g_strv_contains (symbol_names, text))
    {
      kankyo_yaml_set_expected_error (yaml, node, "symbol", expected, error);
      return FALSE;
    }
  *ret_symbol = g_strdup (text);
  return TRUE;
}

static gboolean
get_non_negative (KankyoYaml *yaml, yaml_node_t *node, const char *key, double *ret_value, GError **error)
{
  double value;

  if (!kankyo_yaml_get_double (yaml, node, key, &value, error))
    return FALSE;
  if (value < 0.0)
    {
      kankyo_yaml_set_expected_error (yaml, node, key, _ ("a number of 0 or more"), error);
      return FALSE;
    }
  *ret_value = value;
  return TRUE;
}

static gboolean
get_seconds (KankyoYaml *yaml,
             yaml_node_t *node,
             const char *key,
             guint min_ms,
             guint max_ms,
             double *ret_s,
             GError **error)
{
  guint ms;

  if (!kankyo_yaml_get_duration_ms (yaml, node, key, min_ms, max_ms, &ms, error))
    return FALSE;
  *ret_s = ms / 1000.0;
  return TRUE;
}

/* "setpoint" (same device) or "room1.setpoint": one or two names. */
static gboolean
get_tag_reference (KankyoYaml *yaml, yaml_node_t *node, const char *key, char **ret_name, GError **error)
{
  g_autofree char *name = NULL;
  const char *dot;

  if (!kankyo_yaml_get_identifier (yaml, node, key, TRUE, &name, NULL))
    {
      kankyo_yaml_set_expected_error (yaml, node, key, _ (TAG_REFERENCE_EXPECTED), error);
      return FALSE;
    }
  dot = strchr (name, '.');
  if (dot != NULL && (dot == name || dot[1] == '\0' || strchr (dot + 1, '.') != NULL))
    {
      kankyo_yaml_set_expected_error (yaml, node, key, _ (TAG_REFERENCE_EXPECTED), error);
      return FALSE;
    }
  *ret_name = g_steal_pointer (&name);
  return TRUE;
}

/* Notes a same-device reference for parse_tags () to check. */
static void
note_reference (GPtrArray *refs, yaml_node_t *node, const char *key, const char *name, gboolean numeric)
{
  TagReference *ref;

  if (strchr (name, '.') != NULL)
    return;
  ref = g_new0 (TagReference, 1);
  ref->node = node;
  ref->key = key;
  ref->name = g_strdup (name);
  ref->numeric = numeric;
  g_ptr_array_add (refs, ref);
}

static gboolean
get_positive (KankyoYaml *yaml, yaml_node_t *node, const char *key, double *ret_value, GError **error)
{
  double value;

  if (!kankyo_yaml_get_double (yaml, node, key, &value, error))
    return FALSE;
  if (!(value > 0.0))
    {
      kankyo_yaml_set_expected_error (yaml, node, key, _ ("a number above 0"), error);
      return FALSE;
    }
  *ret_value = value;
  return TRUE;
}

/* deviation: {setpoint: TAG, limit: NUMBER} */
static gboolean
parse_deviation (
    KankyoYaml *yaml, yaml_node_t *node, GPtrArray *refs, KankyoAlarmLimits *limits, GError **error)
{
  yaml_node_t *v[N_DEVIATION_KEYS];

  if (node->type != YAML_MAPPING_NODE)
    {
      kankyo_yaml_set_expected_error (yaml, node, "deviation",
                                      _ ("a mapping such as {setpoint: setpoint, limit: 2}"), error);
      return FALSE;
    }
  if (!kankyo_yaml_get_fields (yaml, node, "deviation", deviation_keys, v, error)
      || !kankyo_yaml_require (yaml, node, "deviation", "setpoint", v[DEVIATION_SETPOINT], error)
      || !kankyo_yaml_require (yaml, node, "deviation", "limit", v[DEVIATION_LIMIT], error)
      || !get_tag_reference (yaml, v[DEVIATION_SETPOINT], "setpoint", &limits->deviation_setpoint, error)
      || !get_positive (yaml, v[DEVIATION_LIMIT], "limit", &limits->deviation, error))
    return FALSE;
  note_reference (refs, v[DEVIATION_SETPOINT], "setpoint", limits->deviation_setpoint, TRUE);
  return TRUE;
}

/* suppressed-by: TAG, or {tag: TAG, state: true | false | NUMBER} */
static gboolean
parse_suppressed_by (
    KankyoYaml *yaml, yaml_node_t *node, GPtrArray *refs, KankyoAlarmLimits *limits, GError **error)
{
  yaml_node_t *v[N_SUPPRESSED_KEYS];
  yaml_node_t *tag_node = node;

  if (node->type == YAML_MAPPING_NODE)
    {
      if (!kankyo_yaml_get_fields (yaml, node, "suppressed-by", suppressed_keys, v, error)
          || !kankyo_yaml_require (yaml, node, "suppressed-by", "tag", v[SUPPRESSED_TAG], error))
        return FALSE;
      tag_node = v[SUPPRESSED_TAG];
      if (v[SUPPRESSED_STATE] != NULL)
        {
          const char *text = NULL;

          if (!kankyo_yaml_get_scalar (yaml, v[SUPPRESSED_STATE], "state", _ ("true, false or a number"),
                                       &text, error))
            return FALSE;
          if (g_str_equal (text, "true") || g_str_equal (text, "false"))
            limits->suppressed_value = g_str_equal (text, "true") ? 1.0 : 0.0;
          else if (!kankyo_yaml_get_double (yaml, v[SUPPRESSED_STATE], "state", &limits->suppressed_value,
                                            NULL))
            {
              kankyo_yaml_set_expected_error (yaml, v[SUPPRESSED_STATE], "state",
                                              _ ("true, false or a number"), error);
              return FALSE;
            }
        }
    }
  else if (node->type != YAML_SCALAR_NODE)
    {
      kankyo_yaml_set_expected_error (
          yaml, node, "suppressed-by",
          _ ("a tag such as unit_off, or a mapping such as {tag: mode, state: 0}"), error);
      return FALSE;
    }
  if (!get_tag_reference (yaml, tag_node, node == tag_node ? "suppressed-by" : "tag", &limits->suppressed_by,
                          error))
    return FALSE;
  note_reference (refs, tag_node, node == tag_node ? "suppressed-by" : "tag", limits->suppressed_by, FALSE);
  return TRUE;
}

/* priority: a word for every condition, or a mapping per condition. */
static gboolean
parse_priority (KankyoYaml *yaml,
                yaml_node_t *node,
                const char *tag_name,
                const gboolean *given,
                KankyoAlarmLimits *limits,
                GError **error)
{
  yaml_node_t *v[KANKYO_ALARM_LIMIT_N_KINDS];
  guint choice;

  if (node->type == YAML_SCALAR_NODE)
    {
      if (!kankyo_yaml_get_choice (yaml, node, "priority", priority_choices, &choice, error))
        return FALSE;
      for (guint k = 0; k < KANKYO_ALARM_LIMIT_N_KINDS; k++)
        limits->priority[k] = (int) choice;
      return TRUE;
    }
  if (node->type != YAML_MAPPING_NODE)
    {
      kankyo_yaml_set_expected_error (yaml, node, "priority",
                                      _ ("high, medium, low or diagnostic, or a mapping such as "
                                         "{high: low, high-high: high}"),
                                      error);
      return FALSE;
    }
  if (!kankyo_yaml_get_fields (yaml, node, "priority", priority_keys, v, error))
    return FALSE;
  for (guint k = 0; k < KANKYO_ALARM_LIMIT_N_KINDS; k++)
    {
      if (v[k] == NULL)
        continue;
      if (!given[k])
        {
          kankyo_yaml_set_error (yaml, kankyo_yaml_get_key_node (yaml, node, v[k]), error,
                                 _ ("%s: tag '%s' has no %s alarm to give a priority to"), priority_keys[k],
                                 tag_name, priority_keys[k]);
          return FALSE;
        }
      if (!kankyo_yaml_get_choice (yaml, v[k], priority_keys[k], priority_choices, &choice, error))
        return FALSE;
      limits->priority[k] = (int) choice;
    }
  return TRUE;
}

/* Limits must nest: low-low <= low < high <= high-high. Comparing each with
 * the nearest limit given below it checks the whole chain. Numbers take
 * limits, a deviation and a rate; true/false tags take a state. */
static gboolean
parse_alarms (KankyoYaml *yaml,
              yaml_node_t *tag,
              yaml_node_t *node,
              const KankyoTagSpec *spec,
              GPtrArray *refs,
              KankyoAlarmLimits *ret_limits,
              GError **error)
{
  g_auto (KankyoAlarmLimits) limits;
  double *slots[] = {
    [ALARM_LOW_LOW] = &limits.low_low,
    [ALARM_LOW] = &limits.low,
    [ALARM_HIGH] = &limits.high,
    [ALARM_HIGH_HIGH] = &limits.high_high,
  };
  gboolean given[KANKYO_ALARM_LIMIT_N_KINDS];
  gboolean is_bool = spec->value_type == KANKYO_VALUE_BOOL;
  yaml_node_t *v[N_ALARM_KEYS];
  guint choice;

  kankyo_alarm_limits_init (&limits);
  if (node->type != YAML_MAPPING_NODE)
    {
      kankyo_yaml_set_expected_error (yaml, node, "alarms", _ ("a mapping of alarm limits such as high: 80"),
                                      error);
      return FALSE;
    }
  if (!kankyo_yaml_get_fields (yaml, node, "alarms", alarm_keys, v, error))
    return FALSE;

  if (is_bool)
    for (guint k = ALARM_LOW_LOW; k <= ALARM_DEADBAND; k++)
      if (k != ALARM_STATE && v[k] != NULL)
        {
          kankyo_yaml_set_error (yaml, kankyo_yaml_get_key_node (yaml, tag, node), error,
                                 _ ("alarms: tag '%s' is true or false; it takes state: true or state: "
                                    "false, not %s"),
                                 spec->name, alarm_keys[k]);
          return FALSE;
        }
  if (!is_bool && v[ALARM_STATE] != NULL)
    {
      kankyo_yaml_set_error (yaml, kankyo_yaml_get_key_node (yaml, node, v[ALARM_STATE]), error,
                             _ ("state: only a true-or-false tag alarms on a state; tag '%s' holds a "
                                "number, so give it limits such as high: 80"),
                             spec->name);
      return FALSE;
    }

  for (guint i = ALARM_LOW_LOW; i <= ALARM_HIGH_HIGH; i++)
    {
      if (v[i] == NULL)
        continue;
      if (!kankyo_yaml_get_double (yaml, v[i], alarm_keys[i], slots[i], error))
        return FALSE;
      for (guint j = i; j-- > ALARM_LOW_LOW;)
        {
          gboolean strict = j <= ALARM_LOW && i >= ALARM_HIGH;
          char other[G_ASCII_DTOSTR_BUF_SIZE];
          g_autofree char *expected = NULL;

          if (v[j] == NULL)
            continue;
          if (strict ? *slots[j] < *slots[i] : *slots[j] <= *slots[i])
            break;
          g_ascii_dtostr (other, sizeof other, *slots[j]);
          expected = g_strdup_printf (
              strict ? _ ("a number above %s (%s)") : _ ("a number not below %s (%s)"), alarm_keys[j], other);
          kankyo_yaml_set_expected_error (yaml, v[i], alarm_keys[i], expected, error);
          return FALSE;
        }
    }
  if (v[ALARM_DEVIATION] != NULL && !parse_deviation (yaml, v[ALARM_DEVIATION], refs, &limits, error))
    return FALSE;
  if (v[ALARM_RATE] != NULL && !get_positive (yaml, v[ALARM_RATE], "rate", &limits.rate, error))
    return FALSE;
  if (v[ALARM_STATE] != NULL)
    {
      if (!kankyo_yaml_get_choice (yaml, v[ALARM_STATE], "state", bool_choices, &choice, error))
        return FALSE;
      limits.state = (int) choice;
    }
  if (!kankyo_alarm_limits_is_set (&limits))
    {
      if (is_bool)
        kankyo_yaml_set_error (yaml, kankyo_yaml_get_key_node (yaml, tag, node), error,
                               _ ("alarms: tag '%s' is true or false; give state: true or state: false"),
                               spec->name);
      else
        kankyo_yaml_set_error (yaml, kankyo_yaml_get_key_node (yaml, tag, node), error,
                               _ ("alarms: give at least one limit: low-low, low, high or high-high, "
                                  "or a deviation or a rate"));
      return FALSE;
    }
  for (guint k = 0; k < KANKYO_ALARM_LIMIT_N_KINDS; k++)
    given[k] = v[k] != NULL;

  if (v[ALARM_DEADBAND] != NULL
      && !get_non_negative (yaml, v[ALARM_DEADBAND], "deadband", &limits.deadband, error))
    return FALSE;
  if (v[ALARM_ON_DELAY] != NULL
      && !get_seconds (yaml, v[ALARM_ON_DELAY], "on-delay", 0, MAX_ALARM_DELAY_MS, &limits.on_delay, error))
    return FALSE;
  if (v[ALARM_OFF_DELAY] != NULL
      && !get_seconds (yaml, v[ALARM_OFF_DELAY], "off-delay", 0, MAX_ALARM_DELAY_MS, &limits.off_delay,
                       error))
    return FALSE;
  if (v[ALARM_PRIORITY] != NULL
      && !parse_priority (yaml, v[ALARM_PRIORITY], spec->name, given, &limits, error))
    return FALSE;
  if (v[ALARM_LATCHING] != NULL)
    {
      if (!kankyo_yaml_get_choice (yaml, v[ALARM_LATCHING], "latching", bool_choices, &choice, error))
        return FALSE;
      limits.latching = choice == 1;
    }
  if (!get_optional_string (yaml, v[ALARM_MESSAGE], "message", KANKYO_YAML_STRING_LINE, &limits.message,
                            error)
      || !get_optional_string (yaml, v[ALARM_GUIDANCE], "guidance", KANKYO_YAML_STRING_TEXT, &limits.guidance,
                               error))
    return FALSE;
  if (v[ALARM_DISPLAY] != NULL
      && !kankyo_yaml_get_identifier (yaml, v[ALARM_DISPLAY], "display", FALSE, &limits.display, error))
    return FALSE;
  if (v[ALARM_SUPPRESSED_BY] != NULL
      && !parse_suppressed_by (yaml, v[ALARM_SUPPRESSED_BY], refs, &limits, error))
    return FALSE;

  *ret_limits = limits;
  kankyo_alarm_limits_init (&limits);
  return TRUE;
}

/* Hints for a generic simulation, as a{sv} of doubles. */
static GVariant *
parse_simulate (KankyoYaml *yaml, yaml_node_t *node, GError **error)
{
  g_auto (GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  yaml_node_t *v[N_SIMULATE_KEYS];

  if (node->type != YAML_MAPPING_NODE)
    {
      kankyo_yaml_set_expected_error (yaml, node, "simulate",
                                      _ ("a mapping of simulation hints such as noise: 0.2"), error);
      return NULL;
    }
  if (!kankyo_yaml_get_fields (yaml, node, "simulate", simulate_keys, v, error))
    return NULL;
  if ((v[SIMULATE_AMPLITUDE] == NULL) != (v[SIMULATE_PERIOD] == NULL))
    {
      gboolean has_amplitude = v[SIMULATE_AMPLITUDE] != NULL;

      kankyo_yaml_set_error (yaml, has_amplitude ? v[SIMULATE_AMPLITUDE] : v[SIMULATE_PERIOD], error,
                             _ ("%s: a sine needs both amplitude and period; %s is missing"),
                             has_amplitude ? "amplitude" : "period", has_amplitude ? "period" : "amplitude");
      return NULL;
    }

  for (guint k = 0; k < N_SIMULATE_KEYS; k++)
    {
      double value;

      if (v[k] == NULL)
        continue;
      switch (k)
        {
          case SIMULATE_NOISE:
          case SIMULATE_AMPLITUDE:
            if (!get_non_negative (yaml, v[k], simulate_keys[k], &value, error))
              return NULL;
            break;
          case SIMULATE_PERIOD:
            if (!get_seconds (yaml, v[k], simulate_keys[k], 1, MAX_SIMULATE_PERIOD_MS, &value, error))
              return NULL;
            break;
          default:
            if (!kankyo_yaml_get_double (yaml, v[k], simulate_keys[k], &value, error))
              return NULL;
            break;
        }
      g_variant_builder_add (&builder, "{sv}", simulate_keys[k], g_variant_new_double (value));
    }
  return g_variant_ref_sink (g_variant_builder_end (&builder));
}

/* "history: off", or how the historian stores the tag. */
static gboolean
parse_history (KankyoYaml *yaml, yaml_node_t *node, KankyoHistorySpec *history, GError **error)
{
  yaml_node_t *v[N_HISTORY_KEYS];

  if (node->type == YAML_SCALAR_NODE && g_str_equal ((const char *) node->data.scalar.value, "off"))
    {
      history->off = TRUE;
      return TRUE;
    }
  if (node->type != YAML_MAPPING_NODE)
    {
      kankyo_yaml_set_expected_error (
          yaml, node, "history", _ ("off, or a mapping such as {deadband: 0.1, heartbeat: 10min}"), error);
      return FALSE;
    }
  if (!kankyo_yaml_get_fields (yaml, node, "history", history_keys, v, error))
    return FALSE;
  if (v[HISTORY_DEADBAND] != NULL
      && !get_non_negative (yaml, v[HISTORY_DEADBAND], "deadband", &history->deadband, error))
    return FALSE;
  if (v[HISTORY_HEARTBEAT] != NULL
      && !get_seconds (yaml, v[HISTORY_HEARTBEAT], "heartbeat", 0, MAX_HEARTBEAT_MS, &history->heartbeat_s,
                       error))
    return FALSE;
  if (v[HISTORY_CLASS] != NULL
      && !kankyo_yaml_get_identifier (yaml, v[HISTORY_CLASS], "class", FALSE, &history->tag_class, error))
    return FALSE;
  return TRUE;
}

static KankyoMapTag *
parse_tag (KankyoYaml *yaml,
           yaml_node_t *node,
           const KankyoDeviceMap *map,
           GHashTable *names,
           GPtrArray *refs,
           GError **error)
{
  g_autoptr (KankyoTagSpec) spec = kankyo_tag_spec_new ();
  g_autoptr (GVariant) simulate = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree char *what = NULL;
  KankyoRegisterSpec *reg = &spec->reg;
  KankyoDataType type;
  KankyoMapTag *tag;
  yaml_node_t *v[N_TAG_KEYS];
  const char *text = NULL;
  gboolean plain;
  gint64 address = 0;

  if (!kankyo_yaml_get_fields (yaml, node, _ ("tag"), tag_keys, v, error)
      || !kankyo_yaml_require (yaml, node, _ ("tag"), "name", v[TAG_NAME], error)
      || !kankyo_yaml_get_identifier (yaml, v[TAG_NAME], "name", FALSE, &spec->name, error))
    return NULL;
  what = g_strdup_printf (_ ("tag '%s'"), spec->name);
  if (!kankyo_yaml_require (yaml, node, what, "area", v[TAG_AREA], error)
      || !kankyo_yaml_require (yaml, node, what, "type", v[TAG_TYPE], error))
    return NULL;
  if (g_hash_table_contains (names, spec->name))
    {
      kankyo_yaml_set_error (yaml, v[TAG_NAME], error,
                             _ ("name: duplicate tag name '%s'; it is first used at %s"), spec->name,
                             (const char *) g_hash_table_lookup (names, spec->name));
      return NULL;
    }

  if (!get_optional_string (yaml, v[TAG_LABEL], "label", KANKYO_YAML_STRING_LINE, &spec->label, error)
      || !get_optional_string (yaml, v[TAG_UNIT], "unit", KANKYO_YAML_STRING_LINE, &spec->unit, error)
      || !get_optional_string (yaml, v[TAG_DESCRIPTION], "description", KANKYO_YAML_STRING_TEXT,
                               &spec->description, error))
    return NULL;

  /* Table and type first: they decide which other keys make sense. */
  if (!kankyo_yaml_get_scalar (yaml, v[TAG_AREA], "area", _ (AREA_CHOICES), &text, error))
    return NULL;
  if (g_str_equal (text, COMPUTED_AREA))
    spec->computed = TRUE;
  else if (!kankyo_area_from_string (text, &reg->area))
    {
      kankyo_yaml_set_expected_error (yaml, v[TAG_AREA], "area", _ (AREA_CHOICES), error);
      return NULL;
    }
  if (!kankyo_yaml_get_scalar (yaml, v[TAG_TYPE], "type", _ (DATA_TYPE_CHOICES), &text, error))
    return NULL;
  if (!kankyo_data_type_from_string (text, &type))
    {
      kankyo_yaml_set_expected_error (yaml, v[TAG_TYPE], "type",
                                      spec->computed ? _ (COMPUTED_TYPE_CHOICES) : _ (DATA_TYPE_CHOICES),
                                      error);
      return NULL;
    }
  if (spec->computed)
    {
      if (!check_computed (yaml, v, type, error))
        return NULL;
    }
  else
    {
      reg->data_type = type;
      if (!parse_register (yaml, node, what, v, map, reg, &address, error))
        return NULL;
    }

  /* Bits are true or false: scaling and ranges would mean nothing. */
  plain = type == KANKYO_DATA_BOOL || type == KANKYO_DATA_BIT;
  for (guint k = TAG_SCALE; k <= TAG_MAX; k++)
    if (plain && v[k] != NULL)
      {
        kankyo_yaml_set_error (yaml, v[k], error, _ ("%s: a %s tag is true or false and has no %s"),
                               tag_keys[k], kankyo_data_type_to_string (type), tag_keys[k]);
        return NULL;
      }
  if (v[TAG_SCALE] != NULL)
    {
      if (!kankyo_yaml_get_double (yaml, v[TAG_SCALE], "scale", &reg->gain, error))
        return NULL;
      if (reg->gain == 0.0)
        {
          kankyo_yaml_set_expected_error (yaml, v[TAG_SCALE], "scale", _ ("a number other than zero"), error);
          return NULL;
        }
    }
  if (v[TAG_OFFSET] != NULL && !kankyo_yaml_get_double (yaml, v[TAG_OFFSET], "offset", &reg->offset, error))
    return NULL;
  if (v[TAG_MIN] != NULL && !kankyo_yaml_get_double (yaml, v[TAG_MIN], "min", &spec->min, error))
    return NULL;
  if (v[TAG_MAX] != NULL && !kankyo_yaml_get_double (yaml, v[TAG_MAX], "max", &spec->max, error))
    return NULL;
  if (!isnan (spec->min) && !isnan (spec->max) && !(spec->min < spec->max))
    {
      char min_text[G_ASCII_DTOSTR_BUF_SIZE];
      g_autofree char *expected = NULL;

      g_ascii_dtostr (min_text, sizeof min_text, spec->min);
      expected = g_strdup_printf (_ ("a number greater than min (%s)"), min_text);
      kankyo_yaml_set_expected_error (yaml, v[TAG_MAX], "max", expected, error);
      return NULL;
    }

  if (v[TAG_ACCESS] != NULL)
    {
      guint access;

      if (!kankyo_yaml_get_choice (yaml, v[TAG_ACCESS], "access", access_choices, &access, error))
        return NULL;
      spec->writable = access == 1;
      if (spec->writable && spec->computed)
        {
          kankyo_yaml_set_error (yaml, v[TAG_ACCESS], error,
                                 _ ("access: computed tags are read-only; their value is derived "
                                    "from the device's other tags"));
          return NULL;
        }
      if (spec->writable && !kankyo_area_is_writable (reg->area))
        {
          kankyo_yaml_set_error (yaml, v[TAG_ACCESS], error,
                                 _ ("access: area %s is read-only; only coils and holding "
                                    "registers can be read-write"),
                                 kankyo_area_to_string (reg->area));
          return NULL;
        }
    }

  if (spec->computed)
    spec->value_type = type == KANKYO_DATA_BOOL ? KANKYO_VALUE_BOOL : KANKYO_VALUE_DOUBLE;
  else
    spec->value_type = kankyo_register_spec_value_type (reg);

  if (v[TAG_ALARMS] != NULL && !parse_alarms (yaml, node, v[TAG_ALARMS], spec, refs, &spec->alarms, error))
    return NULL;
  if (v[TAG_SYMBOL] != NULL && !get_symbol (yaml, v[TAG_SYMBOL], &spec->symbol, error))
    return NULL;
  if (v[TAG_HISTORY] != NULL && !parse_history (yaml, v[TAG_HISTORY], &spec->history, error))
    return NULL;
  if (v[TAG_SIMULATE] != NULL)
    {
      if (spec->computed)
        {
          kankyo_yaml_set_error (yaml, kankyo_yaml_get_key_node (yaml, node, v[TAG_SIMULATE]), error,
                                 _ ("simulate: a computed tag is derived from the device's other tags, "
                                    "not simulated"));
          return NULL;
        }
      simulate = parse_simulate (yaml, v[TAG_SIMULATE], error);
      if (simulate == NULL)
        return NULL;
    }

  if (!spec->computed)
    {
      KankyoRegisterSpec check = *reg;

      /* The codec has the last word on the combination, at the 0-based address. */
      check.address = (guint16) (address - map->base_address);
      if (!kankyo_register_spec_validate (&check, &local_error))
        {
          kankyo_yaml_set_error (yaml, node, error, _ ("tag '%s': %s"), spec->name, local_error->message);
          return NULL;
        }

      /* Register number 65536 (base-address 1) does not fit reg.address;
       * tag->address is the authoritative address as written. */
      reg->address = (guint16) MIN (address, G_MAXUINT16);
    }

  tag = g_new0 (KankyoMapTag, 1);
  tag->address = (guint32) address;
  tag->has_word_order = v[TAG_WORD_ORDER] != NULL;
  tag->location = kankyo_yaml_location (yaml, node);
  tag->simulate = g_steal_pointer (&simulate);
  tag->spec = g_steal_pointer (&spec);
  g_hash_table_insert (names, g_strdup (tag->spec->name), kankyo_yaml_location (yaml, v[TAG_NAME]));
  return tag;
}

/* Fills map->tags; the map's word order and base address must be set. */
static gboolean
parse_tags (KankyoYaml *yaml, yaml_node_t *node, KankyoDeviceMap *map, GError **error)
{
  g_autoptr (GHashTable) names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr (GPtrArray) refs = g_ptr_array_new_with_free_func ((GDestroyNotify) tag_reference_free);
  guint n;

  if (!kankyo_yaml_get_sequence (yaml, node, "tags", _ ("a list of tags"), 1, MAX_MAP_TAGS, &n, error))
    return FALSE;
  for (guint i = 0; i < n; i++)
    {
      KankyoMapTag *tag = parse_tag (yaml, kankyo_yaml_sequence_nth (yaml, node, i), map, names, refs, error);

      if (tag == NULL)
        return FALSE;
      g_ptr_array_add (map->tags, tag);
    }

  /* Alarms may name tags written after them. */
  for (guint i = 0; i < refs->len; i++)
    {
      const TagReference *ref = g_ptr_array_index (refs, i);
      const KankyoTagSpec *target = NULL;

      for (guint j = 0; j < map->tags->len && target == NULL; j++)
        {
          const KankyoMapTag *tag = g_ptr_array_index (map->tags, j);

          if (g_str_equal (tag->spec->name, ref->name))
            target = tag->spec;
        }
      if (target == NULL)
        {
          kankyo_yaml_set_error (yaml, ref->node, error,
                                 _ ("%s: there is no tag '%s' in this device; name a tag of the same "
                                    "device, or device.tag for another device"),
                                 ref->key, ref->name);
          return FALSE;
        }
      if (ref->numeric
          && (target->value_type == KANKYO_VALUE_BOOL || target->value_type == KANKYO_VALUE_STRING))
        {
          kankyo_yaml_set_error (yaml, ref->node, error, _ ("%s: tag '%s' is true or false, not a number"),
                                 ref->key, ref->name);
          return FALSE;
        }
    }
  return TRUE;
}

static KankyoDeviceMap *
device_map_new (const char *source)
{
  KankyoDeviceMap *map = g_new0 (KankyoDeviceMap, 1);

  map->word_order = KANKYO_WORD_ORDER_ABCD;
  map->tags = g_ptr_array_new_with_free_func ((GDestroyNotify) map_tag_free);
  map->source = g_strdup (source);
  return map;
}

/* ---- device maps ---- */

static KankyoDeviceMap *
parse_map (KankyoYaml *yaml, GError **error)
{
  g_autoptr (KankyoDeviceMap) map = device_map_new (kankyo_yaml_get_name (yaml));
  yaml_node_t *root = kankyo_yaml_get_root (yaml);
  yaml_node_t *v[N_MAP_KEYS];

  if (!kankyo_yaml_get_fields (yaml, root, _ ("device map"), map_keys, v, error)
      || !kankyo_yaml_require (yaml, root, _ ("device map"), "device-type", v[MAP_DEVICE_TYPE], error)
      || !kankyo_yaml_require (yaml, root, _ ("device map"), "tags", v[MAP_TAGS], error)
      || !kankyo_yaml_get_identifier (yaml, v[MAP_DEVICE_TYPE], "device-type", TRUE, &map->id, error)
      || !get_optional_string (yaml, v[MAP_VENDOR], "vendor", KANKYO_YAML_STRING_LINE, &map->vendor, error)
      || !get_optional_string (yaml, v[MAP_MODEL], "model", KANKYO_YAML_STRING_LINE, &map->model, error)
      || !get_optional_string (yaml, v[MAP_DESCRIPTION], "description", KANKYO_YAML_STRING_TEXT,
                               &map->description, error))
    return NULL;
  if (v[MAP_SYMBOL] != NULL && !get_symbol (yaml, v[MAP_SYMBOL], &map->symbol, error))
    return NULL;
  if (v[MAP_WORD_ORDER] != NULL && !get_word_order (yaml, v[MAP_WORD_ORDER], &map->word_order, error))
    return NULL;
  if (v[MAP_BASE_ADDRESS] != NULL && !get_base_address (yaml, v[MAP_BASE_ADDRESS], &map->base_address, error))
    return NULL;
  if (!parse_tags (yaml, v[MAP_TAGS], map, error))
    return NULL;
  return g_steal_pointer (&map);
}

KankyoDeviceMap *
kankyo_device_map_parse (GBytes *bytes, const char *name, GError **error)
{
  g_autoptr (KankyoYaml) yaml = NULL;

  g_return_val_if_fail (bytes != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  yaml = kankyo_yaml_load (bytes, name, error);
  if (yaml == NULL)
    return NULL;
  return parse_map (yaml, error);
}

KankyoDeviceMap *
kankyo_device_map_load (const char *path, GError **error)
{
  g_autoptr (GBytes) bytes = NULL;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  bytes = kankyo_yaml_read_file (path, error);
  if (bytes == NULL)
    return NULL;
  return kankyo_device_map_parse (bytes, path, error);
}

GPtrArray *
kankyo_device_map_resolve_tags (const KankyoDeviceMap *map, const KankyoDeviceConfig *device, GError **error)
{
  g_autoptr (GPtrArray) specs = NULL;
  KankyoWordOrder order;
  guint base;

  g_return_val_if_fail (map != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  base = device != NULL && device->base_address_set ? device->base_address : map->base_address;
  order = device != NULL && device->word_order_set ? device->word_order : map->word_order;

  specs = g_ptr_array_new_full (map->tags->len, (GDestroyNotify) kankyo_tag_spec_free);
  for (guint i = 0; i < map->tags->len; i++)
    {
      const KankyoMapTag *tag = g_ptr_array_index (map->tags, i);
      g_autoptr (KankyoTagSpec) spec = NULL;
      g_autoptr (GError) local_error = NULL;

      /* No register: nothing to move or to check. */
      if (tag->spec->computed)
        {
          g_ptr_array_add (specs, kankyo_tag_spec_copy (tag->spec));
          continue;
        }
      if (tag->address < base)
        {
          if (device != NULL)
            g_set_error (error, KANKYO_PROJECT_ERROR, KANKYO_PROJECT_ERROR_INVALID,
                         _ ("%s: tag '%s': address %u is not a register number; with "
                            "base-address %u of device %s addresses start at %u"),
                         tag->location, tag->spec->name, tag->address, base, device->name, base);
          else
            g_set_error (error, KANKYO_PROJECT_ERROR, KANKYO_PROJECT_ERROR_INVALID,
                         _ ("%s: tag '%s': address %u is not a register number; with "
                            "base-address %u addresses start at %u"),
                         tag->location, tag->spec->name, tag->address, base, base);
          return NULL;
        }
      if (tag->address - base > G_MAXUINT16)
        {
          g_set_error (error, KANKYO_PROJECT_ERROR, KANKYO_PROJECT_ERROR_INVALID,
                       _ ("%s: tag '%s': address %u is past the last register with base-address %u"),
                       tag->location, tag->spec->name, tag->address, base);
          return NULL;
        }

      spec = kankyo_tag_spec_copy (tag->spec);
      spec->reg.address = (guint16) (tag->address - base);
      if (!tag->has_word_order)
        spec->reg.word_order = order;
      if (!kankyo_register_spec_validate (&spec->reg, &local_error))
        {
          g_set_error (error, KANKYO_PROJECT_ERROR, KANKYO_PROJECT_ERROR_INVALID, _ ("%s: tag '%s': %s"),
                       tag->location, tag->spec->name, local_error->message);
          return NULL;
        }
      g_ptr_array_add (specs, g_steal_pointer (&spec));
    }
  return g_steal_pointer (&specs);
}

/* ---- projects ---- */

/* The yaml_node_t with the latest position among @nodes (NULL ones skipped). */
static yaml_node_t *
last_in_document (yaml_node_t **nodes, guint n_nodes)
{
  yaml_node_t *last = NULL;

  for (guint i = 0; i < n_nodes; i++)
    if (nodes[i] != NULL && (last == NULL || nodes[i]->start_mark.index > last->start_mark.index))
      last = nodes[i];
  return last;
}

static gboolean
load_map_file (LoadContext *ctx, yaml_node_t *node, KankyoDeviceConfig *device, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autofree char *written = NULL;
  g_autofree char *path = NULL;

  if (!kankyo_yaml_get_string (ctx->yaml, node, "map", KANKYO_YAML_STRING_LINE, &written, error))
    return FALSE;
  if (g_path_is_absolute (written))
    path = g_strdup (written);
  else if (ctx->dir != NULL)
    path = g_build_filename (ctx->dir, written, NULL);
  else
    {
      kankyo_yaml_set_error (ctx->yaml, node, error,
                             _ ("map: '%s' is a relative path, but this project is not in a "
                                "folder; write an absolute path"),
                             written);
      return FALSE;
    }

  bytes = kankyo_yaml_read_file (path, &local_error);
  if (bytes == NULL)
    {
      g_autofree char *location = kankyo_yaml_location (ctx->yaml, node);

      g_set_error (error, KANKYO_PROJECT_ERROR, local_error->code, "%s: map: %s", location,
                   local_error->message);
      return FALSE;
    }
  device->map = kankyo_device_map_parse (bytes, path, &local_error);
  if (device->map == NULL)
    {
      /* The message starts at the map file's own line; say who used it. */
      g_set_error (error, KANKYO_PROJECT_ERROR, local_error->code, _ ("%s (in the map of device '%s' at %s)"),
                   local_error->message, device->name, device->location);
      return FALSE;
    }
  return TRUE;
}

/* "comm-fail: off", or {priority: high, delay: 10s, guidance: "..."}. */
static gboolean
parse_comm_fail (KankyoYaml *yaml, yaml_node_t *node, KankyoDeviceConfig *device, GError **error)
{
  yaml_node_t *v[N_COMM_FAIL_KEYS];
  guint choice;

  if (node->type == YAML_SCALAR_NODE && g_str_equal ((const char *) node->data.scalar.value, "off"))
    {
      device->comm_fail_off = TRUE;
      return TRUE;
    }
  if (node->type != YAML_MAPPING_NODE)
    {
      kankyo_yaml_set_expected_error (yaml, node, "comm-fail",
                                      _ ("off, or a mapping such as {priority: high, delay: 10s}"), error);
      return FALSE;
    }
  if (!kankyo_yaml_get_fields (yaml, node, "comm-fail", comm_fail_keys, v, error))
    return FALSE;
  if (v[COMM_FAIL_PRIORITY] != NULL)
    {
      if (!kankyo_yaml_get_choice (yaml, v[COMM_FAIL_PRIORITY], "priority", priority_choices, &choice, error))
        return FALSE;
      device->comm_fail_priority = (int) choice;
    }
  if (v[COMM_FAIL_DELAY] != NULL
      && !kankyo_yaml_get_duration_ms (yaml, v[COMM_FAIL_DELAY], "delay", 0, MAX_ALARM_DELAY_MS,
                                       &device->comm_fail_delay_ms, error))
    return FALSE;
  return get_optional_string (yaml, v[COMM_FAIL_GUIDANCE], "guidance", KANKYO_YAML_STRING_TEXT,
                              &device->comm_fail_guidance, error);
}

/* The device's "alarms:": per tag, "off" or alarms written as in a map.
 * Whether the tag holds a number or true/false is known only when the
 * device's type is, so a mapping with a state is read as a true/false
 * tag's and the engine checks the pairing when it starts. */
static gboolean
parse_alarm_overrides (KankyoYaml *yaml, yaml_node_t *node, KankyoDeviceConfig *device, GError **error)
{
  g_autoptr (GPtrArray) refs = g_ptr_array_new_with_free_func ((GDestroyNotify) tag_reference_free);
  guint n;

  if (!kankyo_yaml_get_mapping (yaml, node, "alarms",
                                _ ("a mapping from tag names to their alarms, such as "
                                   "count_0_5um: {high: 6973}"),
                                1, MAX_MAP_TAGS, &n, error))
    return FALSE;
  device->alarm_overrides = g_ptr_array_new_with_free_func ((GDestroyNotify) alarm_override_free);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (KankyoTagSpec) spec = kankyo_tag_spec_new ();
      KankyoAlarmOverride *override;
      yaml_node_t *fields[N_ALARM_KEYS];
      yaml_node_t *key, *value;

      kankyo_yaml_mapping_nth (yaml, node, i, &key, &value);
      if (!kankyo_yaml_get_identifier (yaml, key, "alarms", FALSE, &spec->name, error))
        return FALSE;
      if (kankyo_device_config_find_alarm_override (device, spec->name) != NULL)
        {
          kankyo_yaml_set_error (yaml, key, error, _ ("alarms: tag '%s' is named twice"), spec->name);
          return FALSE;
        }
      override = g_new0 (KankyoAlarmOverride, 1);
      override->tag = g_strdup (spec->name);
      override->location = kankyo_yaml_location (yaml, key);
      kankyo_alarm_limits_init (&override->limits);
      g_ptr_array_add (device->alarm_overrides, override);
      if (value->type == YAML_SCALAR_NODE && g_str_equal ((const char *) value->data.scalar.value, "off"))
        {
          override->off = TRUE;
          continue;
        }
      spec->value_type = value->type == YAML_MAPPING_NODE
                                 && kankyo_yaml_get_fields (yaml, value, "alarms", alarm_keys, fields, NULL)
                                 && fields[ALARM_STATE] != NULL
                             ? KANKYO_VALUE_BOOL
                             : KANKYO_VALUE_DOUBLE;
      if (!parse_alarms (yaml, node, value, spec, refs, &override->limits, error))
        return FALSE;
    }
  return TRUE;
}

static KankyoDeviceConfig *
parse_device (LoadContext *ctx, yaml_node_t *node, const char *area, GError **error)
{
  g_autoptr (KankyoDeviceConfig) device = g_new0 (KankyoDeviceConfig, 1);
  g_autoptr (GError) local_error = NULL;
  g_autofree char *what = NULL;
  KankyoYaml *yaml = ctx->yaml;
  yaml_node_t *v[N_DEVICE_KEYS];
  yaml_node_t *sources[3];
  const char *text = NULL;
  guint n_sources = 0;
  gint64 n;

  if (!kankyo_yaml_get_fields (yaml, node, _ ("device"), device_keys, v, error)
      || !kankyo_yaml_require (yaml, node, _ ("device"), "name", v[DEVICE_NAME], error)
      || !kankyo_yaml_get_identifier (yaml, v[DEVICE_NAME], "name", FALSE, &device->name, error)
      || !claim_name (yaml, v[DEVICE_NAME], ctx->device_names, _ ("device"), device->name, error)
      || !get_optional_string (yaml, v[DEVICE_LABEL], "label", KANKYO_YAML_STRING_LINE, &device->label,
                               error))
    return NULL;
  device->area = g_strdup (area);
  device->location = kankyo_yaml_location (yaml, node);

  sources[0] = v[DEVICE_TYPE];
  sources[1] = v[DEVICE_MAP];
  sources[2] = v[DEVICE_TAGS];
  for (guint i = 0; i < G_N_ELEMENTS (sources); i++)
    n_sources += sources[i] != NULL;
  if (n_sources == 0)
    {
      kankyo_yaml_set_error (yaml, node, error,
                             _ ("device '%s': missing its tags; give one of the keys type, map or tags"),
                             device->name);
      return NULL;
    }
  if (n_sources > 1)
    {
      yaml_node_t *extra = last_in_document (sources, G_N_ELEMENTS (sources));
      const char *key = extra == v[DEVICE_TYPE] ? "type" : extra == v[DEVICE_MAP] ? "map" : "tags";

      kankyo_yaml_set_error (yaml, extra, error,
                             _ ("%s: a device takes its tags from exactly one of type, map or "
                                "tags; device '%s' has more than one"),
                             key, device->name);
      return NULL;
    }

  device->driver = g_strdup (DEFAULT_DRIVER);
  if (v[DEVICE_DRIVER] != NULL)
    {
      g_clear_pointer (&device->driver, g_free);
      if (!kankyo_yaml_get_identifier (yaml, v[DEVICE_DRIVER], "driver", FALSE, &device->driver, error))
        return NULL;
    }

  what = g_strdup_printf (_ ("device '%s'"), device->name);
  if (!kankyo_yaml_require (yaml, node, what, "endpoint", v[DEVICE_ENDPOINT], error)
      || !kankyo_yaml_get_scalar (yaml, v[DEVICE_ENDPOINT], "endpoint",
                                  _ ("an endpoint such as tcp://192.168.0.10:502, "
                                     "rtu:///dev/ttyUSB0?baud=9600 or simulated"),
                                  &text, error))
    return NULL;
  if (!g_str_equal (text, SIMULATED_ENDPOINT))
    {
      device->endpoint = kankyo_endpoint_parse (text, &local_error);
      if (device->endpoint == NULL)
        {
          kankyo_yaml_set_error (yaml, v[DEVICE_ENDPOINT], error, "endpoint: %s", local_error->message);
          return NULL;
        }
    }

  device->unit_id = 1;
  if (v[DEVICE_UNIT_ID] != NULL)
    {
      if (!kankyo_yaml_get_int (yaml, v[DEVICE_UNIT_ID], "unit-id", 0, MAX_UNIT_ID, &n, error))
        return NULL;
      device->unit_id = (guint8) n;
    }
  device->poll_period_ms = DEFAULT_POLL_MS;
  if (v[DEVICE_POLL_PERIOD] != NULL
      && !kankyo_yaml_get_duration_ms (yaml, v[DEVICE_POLL_PERIOD], "poll-period", MIN_POLL_MS, MAX_POLL_MS,
                                       &device->poll_period_ms, error))
    return NULL;
  if (v[DEVICE_WORD_ORDER] != NULL)
    {
      if (!get_word_order (yaml, v[DEVICE_WORD_ORDER], &device->word_order, error))
        return NULL;
      device->word_order_set = TRUE;
    }
  if (v[DEVICE_BASE_ADDRESS] != NULL)
    {
      if (!get_base_address (yaml, v[DEVICE_BASE_ADDRESS], &device->base_address, error))
        return NULL;
      device->base_address_set = TRUE;
    }
  if (v[DEVICE_MAX_GAP] != NULL)
    {
      if (!kankyo_yaml_get_int (yaml, v[DEVICE_MAX_GAP], "max-gap", 0, MAX_GAP, &n, error))
        return NULL;
      device->max_gap = (guint) n;
    }
  device->comm_fail_priority = KANKYO_ALARM_PRIORITY_HIGH;
  device->comm_fail_delay_ms = DEFAULT_COMM_FAIL_DELAY_MS;
  if (v[DEVICE_COMM_FAIL] != NULL && !parse_comm_fail (yaml, v[DEVICE_COMM_FAIL], device, error))
    return NULL;
  if (v[DEVICE_ALARMS] != NULL && !parse_alarm_overrides (yaml, v[DEVICE_ALARMS], device, error))
    return NULL;
  if (v[DEVICE_SIMULATION] != NULL)
    {
      device->simulation
          = kankyo_yaml_to_variant (yaml, v[DEVICE_SIMULATION], "simulation", MAX_SIMULATION_DEPTH,
                                    MAX_SIMULATION_NODES, MAX_SIMULATION_SCALAR, error);
      if (device->simulation == NULL)
        return NULL;
    }

  if (v[DEVICE_TYPE] != NULL)
    {
      if (!kankyo_yaml_get_identifier (yaml, v[DEVICE_TYPE], "type", TRUE, &device->type_id, error))
        return NULL;
    }
  else if (v[DEVICE_MAP] != NULL)
    {
      if (!load_map_file (ctx, v[DEVICE_MAP], device, error))
        return NULL;
    }
  else
    {
      /* Inline tags: the device is its own map. */
      device->map = device_map_new (kankyo_yaml_get_name (yaml));
      device->map->word_order = device->word_order_set ? device->word_order : KANKYO_WORD_ORDER_ABCD;
      device->map->base_address = device->base_address_set ? device->base_address : 0;
      if (!parse_tags (yaml, v[DEVICE_TAGS], device->map, error))
        return NULL;
    }

  if (device->map != NULL)
    {
      yaml_node_t *at = v[DEVICE_MAP] != NULL ? v[DEVICE_MAP] : v[DEVICE_TAGS];

      if (ctx->n_tags + device->map->tags->len > MAX_PROJECT_TAGS)
        {
          kankyo_yaml_set_error (yaml, at, error,
                                 _ ("device '%s': a project may have at most %d tags; "
                                    "this device brings the count to %u"),
                                 device->name, MAX_PROJECT_TAGS, ctx->n_tags + device->map->tags->len);
          return NULL;
        }
      ctx->n_tags += device->map->tags->len;
    }
  return g_steal_pointer (&device);
}

/* A file the UI reads later, as a URI: next to the project for a project in
 * a folder, next to the project's resource for the embedded demo. */
static gboolean
get_file_uri (LoadContext *ctx, yaml_node_t *node, const char *key, char **ret_uri, GError **error)
{
  g_autofree char *written = NULL;
  g_autofree char *path = NULL;
  g_autoptr (GError) local_error = NULL;
  const char *project_name = kankyo_yaml_get_name (ctx->yaml);
  char *uri;

  if (!kankyo_yaml_get_string (ctx->yaml, node, key, KANKYO_YAML_STRING_LINE, &written, error))
    return FALSE;
  if (g_path_is_absolute (written))
    path = g_canonicalize_filename (written, NULL);
  else if (ctx->dir != NULL)
    path = g_canonicalize_filename (written, ctx->dir);
  else if (g_str_has_prefix (project_name, "resource:///"))
    {
      g_autofree char *escaped = g_uri_escape_string (written, "/", TRUE);

      uri = g_uri_resolve_relative (project_name, escaped, G_URI_FLAGS_NONE, &local_error);
      if (uri == NULL)
        {
          kankyo_yaml_set_error (ctx->yaml, node, error, "%s: %s", key, local_error->message);
          return FALSE;
        }
      *ret_uri = uri;
      return TRUE;
    }
  else
    {
      kankyo_yaml_set_error (ctx->yaml, node, error,
                             _ ("%s: '%s' is a relative path, but this project is not in a "
                                "folder; write an absolute path"),
                             key, written);
      return FALSE;
    }

  uri = g_filename_to_uri (path, NULL, &local_error);
  if (uri == NULL)
    {
      kankyo_yaml_set_error (ctx->yaml, node, error, "%s: %s", key, local_error->message);
      return FALSE;
    }
  *ret_uri = uri;
  return TRUE;
}

static gboolean
parse_mimic (LoadContext *ctx, yaml_node_t *node, KankyoAreaConfig *area, GError **error)
{
  yaml_node_t *v[N_MIMIC_KEYS];

  return kankyo_yaml_get_fields (ctx->yaml, node, "mimic", mimic_keys, v, error)
         && kankyo_yaml_require (ctx->yaml, node, "mimic", "svg", v[MIMIC_SVG], error)
         && get_file_uri (ctx, v[MIMIC_SVG], "svg", &area->mimic_svg, error)
         && (v[MIMIC_BINDINGS] == NULL
             || get_file_uri (ctx, v[MIMIC_BINDINGS], "bindings", &area->mimic_bindings, error));
}

static gboolean
parse_area (LoadContext *ctx, yaml_node_t *node, KankyoProject *project, GError **error)
{
  g_autoptr (KankyoAreaConfig) area = g_new0 (KankyoAreaConfig, 1);
  KankyoYaml *yaml = ctx->yaml;
  yaml_node_t *v[N_AREA_KEYS];
  guint n_devices = 0;

  if (!kankyo_yaml_get_fields (yaml, node, _ ("area"), area_keys, v, error)
      || !kankyo_yaml_require (yaml, node, _ ("area"), "name", v[AREA_NAME], error)
      || !kankyo_yaml_get_identifier (yaml, v[AREA_NAME], "name", FALSE, &area->name, error)
      || !claim_name (yaml, v[AREA_NAME], ctx->area_names, _ ("area"), area->name, error)
      || !get_optional_string (yaml, v[AREA_LABEL], "label", KANKYO_YAML_STRING_LINE, &area->label, error)
      || (v[AREA_MIMIC] != NULL && !parse_mimic (ctx, v[AREA_MIMIC], area, error)))
    return FALSE;
  if (v[AREA_DEVICES] != NULL
      && !kankyo_yaml_get_sequence (yaml, v[AREA_DEVICES], "devices", _ ("a list of devices"), 0, MAX_DEVICES,
                                    &n_devices, error))
    return FALSE;

  for (guint i = 0; i < n_devices; i++)
    {
      yaml_node_t *item = kankyo_yaml_sequence_nth (yaml, v[AREA_DEVICES], i);
      KankyoDeviceConfig *device;

      if (project->devices->len == MAX_DEVICES)
        {
          kankyo_yaml_set_error (yaml, item, error, _ ("a project may have at most %d devices"), MAX_DEVICES);
          return FALSE;
        }
      device = parse_device (ctx, item, area->name, error);
      if (device == NULL)
        return FALSE;
      g_ptr_array_add (project->devices, device);
    }
  g_ptr_array_add (project->areas, g_steal_pointer (&area));
  return TRUE;
}

void
kankyo_history_class_free (KankyoHistoryClass *klass)
{
  if (klass == NULL)
    return;
  g_free (klass->name);
  g_free (klass);
}

/* "90d", "2y", "12h", "6w" or "forever" (0). Longer than a millisecond
 * duration can say, so parsed here in hours. */
static gboolean
get_retention (KankyoYaml *yaml, yaml_node_t *node, const char *key, double *ret_s, GError **error)
{
  static const struct
  {
    const char *unit;
    double hours;
  } units[] = { { "h", 1 }, { "d", 24 }, { "w", 24 * 7 }, { "y", 24 * 365 } };
  const char *expected = _ ("a time to keep such as 90d, 2y, 12h or forever");
  const char *text = NULL;
  double hours = -1;

  if (!kankyo_yaml_get_scalar (yaml, node, key, expected, &text, error))
    return FALSE;
  if (g_str_equal (text, "forever"))
    {
      *ret_s = 0;
      return TRUE;
    }
  if (g_ascii_isdigit (text[0]))
    {
      char *end = NULL;
      double number = g_ascii_strtod (text, &end);

      for (guint i = 0; i < G_N_ELEMENTS (units); i++)
        if (g_str_equal (end, units[i].unit))
          hours = number * units[i].hours;
    }
  if (!isfinite (hours) || hours < 1 || hours > MAX_RETENTION_DAYS * 24.0)
    {
      kankyo_yaml_set_expected_error (yaml, node, key, expected, error);
      return FALSE;
    }
  *ret_s = hours * 3600;
  return TRUE;
}

/* history: {classes: {fast: {raw: 30d, minute: 1y, hour: forever}}} */
static gboolean
parse_history_classes (KankyoYaml *yaml, yaml_node_t *node, KankyoProject *project, GError **error)
{
  static const char *const keys[] = { "classes", NULL };
  yaml_node_t *v[G_N_ELEMENTS (keys)];
  guint n_classes;

  if (node->type != YAML_MAPPING_NODE)
    {
      kankyo_yaml_set_expected_error (yaml, node, "history", _ ("a mapping with classes:"), error);
      return FALSE;
    }
  if (!kankyo_yaml_get_fields (yaml, node, "history", keys, v, error)
      || !kankyo_yaml_require (yaml, node, "history", "classes", v[0], error)
      || !kankyo_yaml_get_mapping (yaml, v[0], "classes", _ ("a mapping of retention classes"), 1,
                                   MAX_HISTORY_CLASSES, &n_classes, error))
    return FALSE;
  for (guint i = 0; i < n_classes; i++)
    {
      yaml_node_t *key, *value;
      yaml_node_t *r[N_RETENTION_KEYS];
      g_autoptr (KankyoHistoryClass) klass = g_new0 (KankyoHistoryClass, 1);
      double *slots[] = { &klass->raw_s, &klass->minute_s, &klass->hour_s };

      kankyo_yaml_mapping_nth (yaml, v[0], i, &key, &value);
      if (!kankyo_yaml_get_identifier (yaml, key, "classes", FALSE, &klass->name, error))
        return FALSE;
      if (kankyo_project_find_history_class (project, klass->name) != NULL)
        {
          kankyo_yaml_set_error (yaml, key, error, _ ("classes: class '%s' is given twice"), klass->name);
          return FALSE;
        }
      if (value->type != YAML_MAPPING_NODE)
        {
          kankyo_yaml_set_expected_error (
              yaml, value, klass->name, _ ("a mapping such as {raw: 90d, minute: 2y, hour: forever}"), error);
          return FALSE;
        }
      if (!kankyo_yaml_get_fields (yaml, value, klass->name, retention_keys, r, error))
        return FALSE;
      for (guint k = 0; k < N_RETENTION_KEYS; k++)
        if (r[k] != NULL && !get_retention (yaml, r[k], retention_keys[k], slots[k], error))
          return FALSE;
      g_ptr_array_add (project->history_classes, g_steal_pointer (&klass));
    }
  return TRUE;
}

KankyoHistoryClass *
kankyo_project_find_history_class (KankyoProject *project, const char *name)
{
  for (guint i = 0; i < project->history_classes->len; i++)
    {
      KankyoHistoryClass *klass = g_ptr_array_index (project->history_classes, i);

      if (g_str_equal (klass->name, name))
        return klass;
    }
  return NULL;
}

KankyoProject *
kankyo_project_load_from_bytes (GBytes *bytes, const char *name, const char *dir, GError **error)
{
  g_autoptr (KankyoYaml) yaml = NULL;
  g_autoptr (KankyoProject) project = NULL;
  g_autoptr (GHashTable) area_names = NULL;
  g_autoptr (GHashTable) device_names = NULL;
  LoadContext ctx;
  yaml_node_t *root;
  yaml_node_t *v[N_PROJECT_KEYS];
  guint n_areas;

  g_return_val_if_fail (bytes != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  yaml = kankyo_yaml_load (bytes, name, error);
  if (yaml == NULL)
    return NULL;

  project = g_new0 (KankyoProject, 1);
  project->path = g_strdup (name);
  project->dir = g_strdup (dir);
  project->areas = g_ptr_array_new_with_free_func ((GDestroyNotify) area_config_free);
  project->devices = g_ptr_array_new_with_free_func ((GDestroyNotify) device_config_free);
  project->history_classes = g_ptr_array_new_with_free_func ((GDestroyNotify) kankyo_history_class_free);

  area_names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  device_names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  ctx.yaml = yaml;
  ctx.dir = dir;
  ctx.area_names = area_names;
  ctx.device_names = device_names;
  ctx.n_tags = 0;

  root = kankyo_yaml_get_root (yaml);
  if (!kankyo_yaml_get_fields (yaml, root, _ ("project"), project_keys, v, error)
      || !kankyo_yaml_require (yaml, root, _ ("project"), "project", v[PROJECT_NAME], error)
      || !kankyo_yaml_require (yaml, root, _ ("project"), "areas", v[PROJECT_AREAS], error)
      || !kankyo_yaml_get_string (yaml, v[PROJECT_NAME], "project", KANKYO_YAML_STRING_LINE, &project->name,
                                  error)
      || !kankyo_yaml_get_sequence (yaml, v[PROJECT_AREAS], "areas", _ ("a list of areas"), 1, MAX_AREAS,
                                    &n_areas, error))
    return NULL;

  for (guint i = 0; i < n_areas; i++)
    if (!parse_area (&ctx, kankyo_yaml_sequence_nth (yaml, v[PROJECT_AREAS], i), project, error))
      return NULL;
  if (v[PROJECT_HISTORY] != NULL && !parse_history_classes (yaml, v[PROJECT_HISTORY], project, error))
    return NULL;

  return g_steal_pointer (&project);
}

KankyoProject *
kankyo_project_load (const char *path, GError **error)
{
  g_autoptr (GBytes) bytes = NULL;
  g_autofree char *dir = NULL;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  bytes = kankyo_yaml_read_file (path, error);
  if (bytes == NULL)
    return NULL;
  dir = g_path_get_dirname (path);
  return kankyo_project_load_from_bytes (bytes, path, dir, error);
}

const KankyoAlarmOverride *
kankyo_device_config_find_alarm_override (const KankyoDeviceConfig *device, const char *tag)
{
  g_return_val_if_fail (device != NULL, NULL);

  for (guint i = 0; device->alarm_overrides != NULL && i < device->alarm_overrides->len; i++)
    {
      const KankyoAlarmOverride *override = g_ptr_array_index (device->alarm_overrides, i);

      if (g_strcmp0 (override->tag, tag) == 0)
        return override;
    }
  return NULL;
}

KankyoDeviceConfig *
kankyo_project_find_device (KankyoProject *project, const char *name)
{
  g_return_val_if_fail (project != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);

  for (guint i = 0; i < project->devices->len; i++)
    {
      KankyoDeviceConfig *device = g_ptr_array_index (project->devices, i);

      if (g_str_equal (device->name, name))
        return device;
    }
  return NULL;
}
