/* kankyo-project.h: the plant as a person describes it in text.
 *
 * A project file names areas and the devices in them: how each is reached
 * (driver, endpoint, unit id), how often it is polled, its word order and
 * addressing, and its tags, either from a device type a plugin provides, from
 * a map file next to the project, or written inline. Device maps use the same
 * YAML family; besides registers they carry default alarm limits, the mimic
 * symbols tags drive, computed tags and hints for a generic simulation.
 * Every error names file:line:column and what was expected.
 */
#pragma once

#include <glib.h>
#include "kankyo-plugin.h"

G_BEGIN_DECLS

#define KANKYO_PROJECT_ERROR (kankyo_project_error_quark ())
GQuark kankyo_project_error_quark (void);

typedef enum
{
  KANKYO_PROJECT_ERROR_IO,      /* cannot read the file */
  KANKYO_PROJECT_ERROR_SYNTAX,  /* not well-formed YAML */
  KANKYO_PROJECT_ERROR_INVALID, /* well-formed, but not what was expected */
} KankyoProjectError;

/* One tag as written in a map: the spec with its address as written, plus
 * what the device may still override. A computed tag (spec->computed) has
 * no register: its address is 0 and its reg is unused. */
typedef struct
{
  KankyoTagSpec *spec;     /* reg.address is the address as written */
  guint32 address;         /* as written, before base-address correction */
  gboolean has_word_order; /* the tag names its own word order */
  char *location;          /* "file:line:column" of the tag entry */
  /* "simulate:" hints for a generic simulation as a{sv} of doubles: value,
   * noise, amplitude, period (seconds), step (per second); NULL if none. */
  GVariant *simulate;
} KankyoMapTag;

typedef struct
{
  char *id; /* "test.thermostat"; NULL for inline maps */
  char *vendor;
  char *model;
  char *description;
  char *symbol;               /* mimic symbol that draws the whole device, or NULL */
  KankyoWordOrder word_order; /* default for 32/64-bit tags */
  guint base_address;         /* 0: protocol addresses; 1: register numbers */
  GPtrArray *tags;            /* KankyoMapTag* */
  char *source;               /* file or resource name */
} KankyoDeviceMap;

typedef struct
{
  char *name;
  char *label;
  /* The area's mimic ("mimic:"), as URIs for g_file_new_for_uri(): file://
   * for a project in a folder, resource:// for the embedded demo; NULL when
   * the area has none. The bindings may be NULL without the drawing. */
  char *mimic_svg;
  char *mimic_bindings;
} KankyoAreaConfig;

/* The project's own alarms for one tag of a device (the device's
 * "alarms:"), instead of those its type or map gives the tag. */
typedef struct
{
  char *tag;
  gboolean off;             /* the tag has no alarms */
  KankyoAlarmLimits limits; /* when not off */
  char *location;           /* "file:line:column" of the entry */
} KankyoAlarmOverride;

typedef struct
{
  char *name; /* unique in the project: "room1" */
  char *label;
  char *area;               /* name of an area in the project */
  char *type_id;            /* device type from a plugin, or NULL */
  KankyoDeviceMap *map;     /* from "map:" file or inline "tags:", or NULL */
  char *driver;             /* "modbus" */
  KankyoEndpoint *endpoint; /* NULL: "simulated" (served by an in-process simulator) */
  guint8 unit_id;
  guint poll_period_ms;
  gboolean word_order_set;
  KankyoWordOrder word_order;
  gboolean base_address_set;
  guint base_address;
  guint max_gap;        /* unused registers a merged read may span */
  GVariant *simulation; /* "simulation:" as a{sv}: mappings a{sv}, lists av, scalars s; or NULL */
  char *location;       /* "file:line:column" of the device entry */
  /* The device's comm-fail alarm ("comm-fail:"): none when off, else a
   * KankyoAlarmPriority (default high), how long the device must stay
   * silent before it alarms (default 10 s) and guidance (may be NULL). */
  gboolean comm_fail_off;
  int comm_fail_priority;
  guint comm_fail_delay_ms;
  char *comm_fail_guidance;
  GPtrArray *alarm_overrides; /* KankyoAlarmOverride*, or NULL */
} KankyoDeviceConfig;

/* How long the historian keeps each kind of data for tags of a class;
 * 0 keeps it for ever. */
typedef struct
{
  char *name;
  double raw_s;
  double minute_s;
  double hour_s;
} KankyoHistoryClass;

typedef struct
{
  char *name;
  char *path;                 /* file or resource name */
  char *dir;                  /* folder that relative map paths start from; NULL for resources */
  GPtrArray *areas;           /* KankyoAreaConfig* */
  GPtrArray *devices;         /* KankyoDeviceConfig* */
  GPtrArray *history_classes; /* KankyoHistoryClass*, from history: classes: */
} KankyoProject;

KankyoProject *kankyo_project_load (const char *path, GError **error);
/* @name appears in errors; @dir resolves relative "map:" paths (may be NULL). */
KankyoProject *
kankyo_project_load_from_bytes (GBytes *bytes, const char *name, const char *dir, GError **error);
void kankyo_project_free (KankyoProject *project);
KankyoDeviceConfig *kankyo_project_find_device (KankyoProject *project, const char *name);
/* The device's override for @tag, or NULL. */
const KankyoAlarmOverride *kankyo_device_config_find_alarm_override (const KankyoDeviceConfig *device,
                                                                     const char *tag);
void kankyo_history_class_free (KankyoHistoryClass *klass);
KankyoHistoryClass *kankyo_project_find_history_class (KankyoProject *project, const char *name);

KankyoDeviceMap *kankyo_device_map_parse (GBytes *bytes, const char *name, GError **error);
KankyoDeviceMap *kankyo_device_map_load (const char *path, GError **error);
void kankyo_device_map_free (KankyoDeviceMap *map);

/* The device's tags ready to poll: addresses made 0-based (base address of
 * the device if set, else of the map), word order from the tag, else the
 * device, else the map; computed tags as they are. Returns KankyoTagSpec*
 * owned by the array. */
GPtrArray *
kankyo_device_map_resolve_tags (const KankyoDeviceMap *map, const KankyoDeviceConfig *device, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KankyoProject, kankyo_project_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KankyoHistoryClass, kankyo_history_class_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KankyoDeviceMap, kankyo_device_map_free)

G_END_DECLS
