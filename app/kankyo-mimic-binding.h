/* kankyo-mimic-binding.h: what a mimic's live parts show, without GTK.
 *
 * A mimic is an SVG drawing plus a binding file (YAML, the parser family of
 * the project file) that ties SVG element ids to tags and behaviours: value
 * text, fill or stroke by ISA-101 state, level, rotation, visibility and
 * blinking. This module reads and checks both files (every error names
 * file:line:column, the element id or the tag) and evaluates behaviours on
 * values, so the mimic view only draws what it is told and the rules are
 * tested without a display.
 */
#pragma once

#include <gio/gio.h>
#include "kankyo-plugin.h"
#include "kankyo-tag-store.h"

G_BEGIN_DECLS

#define KANKYO_MIMIC_MAX_BINDINGS 10000
#define KANKYO_MIMIC_MAX_SVG_SIZE (16 * 1024 * 1024)
#define KANKYO_MIMIC_MAX_SVG_ELEMENTS 200000
#define KANKYO_MIMIC_MAX_SVG_DEPTH 256
#define KANKYO_MIMIC_MAX_STATES 32
#define KANKYO_MIMIC_MAX_FORMAT 32
#define KANKYO_MIMIC_MAX_UNIT 32
/* The tags one binding can read: its behaviours' and its device's _online. */
#define KANKYO_MIMIC_MAX_BINDING_TAGS 8

/* ISA-101 state classes. Greys for the normal operating picture; colour only
 * for abnormal and alarm, which the view always pairs with a shape and a
 * mark. Alarm classes are ISA-18.2 priorities, not limits. */
typedef enum
{
  KANKYO_MIMIC_STATE_NORMAL = 0,
  KANKYO_MIMIC_STATE_ACTIVE,   /* running, open, on: dark grey */
  KANKYO_MIMIC_STATE_INACTIVE, /* stopped, closed, off: light grey */
  KANKYO_MIMIC_STATE_ABNORMAL, /* off-normal but not an alarm */
  KANKYO_MIMIC_STATE_ALARM_LOW,
  KANKYO_MIMIC_STATE_ALARM_MEDIUM,
  KANKYO_MIMIC_STATE_ALARM_HIGH,
  KANKYO_MIMIC_N_STATES
} KankyoMimicState;

typedef enum
{
  KANKYO_MIMIC_CONDITION_ELSE = 0, /* always */
  KANKYO_MIMIC_CONDITION_TRUE,     /* true, or a number other than 0 */
  KANKYO_MIMIC_CONDITION_FALSE,    /* false, or 0 */
  KANKYO_MIMIC_CONDITION_EQUAL,
  KANKYO_MIMIC_CONDITION_NOT_EQUAL,
  KANKYO_MIMIC_CONDITION_LESS,
  KANKYO_MIMIC_CONDITION_LESS_EQUAL,
  KANKYO_MIMIC_CONDITION_GREATER,
  KANKYO_MIMIC_CONDITION_GREATER_EQUAL,
  KANKYO_MIMIC_CONDITION_RANGE, /* a <= value <= b */
} KankyoMimicConditionOp;

typedef struct
{
  KankyoMimicConditionOp op;
  double a;
  double b;
} KankyoMimicCondition;

typedef enum
{
  KANKYO_MIMIC_ALIGN_MIDDLE = 0,
  KANKYO_MIMIC_ALIGN_START,
  KANKYO_MIMIC_ALIGN_END,
} KankyoMimicAlign;

typedef enum
{
  KANKYO_MIMIC_DIRECTION_UP = 0,
  KANKYO_MIMIC_DIRECTION_DOWN,
  KANKYO_MIMIC_DIRECTION_LEFT,
  KANKYO_MIMIC_DIRECTION_RIGHT,
} KankyoMimicDirection;

typedef struct
{
  char *name;     /* "device.tag" as written */
  char *location; /* "file:line:column" where it is written */
  gint id;        /* tag store id once resolved; -1 before */
} KankyoMimicTagRef;

typedef struct
{
  KankyoMimicTagRef tag;
  char *format; /* printf-like, one conversion; NULL: as the tag formats itself */
  char *unit;   /* NULL: the tag's unit; "": none */
  KankyoMimicAlign align;
  double font_size; /* SVG px; 0: from the element's height */
} KankyoMimicText;

typedef struct
{
  KankyoMimicCondition when;
  KankyoMimicState state;
} KankyoMimicStateRule;

/* First matching rule wins; no match is NORMAL. */
typedef struct
{
  KankyoMimicTagRef tag;
  KankyoMimicStateRule rules[KANKYO_MIMIC_MAX_STATES];
  guint n_rules;
} KankyoMimicStates;

typedef struct
{
  KankyoMimicTagRef tag;
  double min; /* as written, else the tag's once resolved */
  double max;
  KankyoMimicDirection direction;
} KankyoMimicLevel;

typedef struct
{
  KankyoMimicTagRef tag;
  KankyoMimicCondition when;
  double rpm;
} KankyoMimicRotate;

typedef struct
{
  KankyoMimicTagRef tag;
  KankyoMimicCondition when;
  KankyoMimicState state; /* blink only: the colour it blinks in */
} KankyoMimicSwitch;

typedef struct
{
  char *id;
  char *location; /* "file:line:column" of the id */
  char *device;   /* reported on activation; the first tag's device when not written */
  char *device_location;
  KankyoMimicText *text;
  KankyoMimicStates *fill;
  KankyoMimicStates *stroke;
  KankyoMimicLevel *level;
  KankyoMimicRotate *rotate;
  KankyoMimicSwitch *visible;
  KankyoMimicSwitch *blink;
} KankyoMimicBinding;

typedef struct
{
  char *source;        /* the binding file's name */
  GPtrArray *bindings; /* KankyoMimicBinding* in file order */
  GHashTable *by_id;   /* id -> KankyoMimicBinding*, borrowed */
} KankyoMimicBindings;

/* What a scan of the SVG learnt: its ids, the element each is on, and which
 * element with an id encloses it. */
typedef struct _KankyoMimicSvg KankyoMimicSvg;

const char *kankyo_mimic_state_to_string (KankyoMimicState state);
gboolean kankyo_mimic_state_is_colour (KankyoMimicState state);

/* Parses a condition as written in a binding file: "else", "true", "false",
 * a number, "< 3", "<= 3", "> 3", ">= 3", "== 3", "!= 3" or "18..22". */
gboolean kankyo_mimic_condition_parse (const char *text, KankyoMimicCondition *ret_condition);
gboolean kankyo_mimic_condition_eval (const KankyoMimicCondition *condition, const KankyoValue *value);

/* Checks a printf-like format: text around exactly one conversion of
 * d, i, f, F, e, E, g, G or s with flags "-+ 0#", a width and a precision
 * of at most two digits each; "%%" is a percent sign. */
gboolean kankyo_mimic_format_check (const char *format, char **ret_problem);

KankyoMimicBindings *kankyo_mimic_bindings_parse (GBytes *bytes, const char *name, GError **error);
void kankyo_mimic_bindings_free (KankyoMimicBindings *bindings);
/* Resolves every tag name against @store and checks it fits its behaviour;
 * fills in the devices not written. Errors name the place and the tag. */
gboolean kankyo_mimic_bindings_resolve (KankyoMimicBindings *bindings, KankyoTagStore *store, GError **error);
/* Every bound id must be on exactly one element of @svg. */
gboolean kankyo_mimic_bindings_check_svg (KankyoMimicBindings *bindings, KankyoMimicSvg *svg, GError **error);
/* The tag ids a binding reads, once resolved; returns the count. */
guint kankyo_mimic_binding_get_tags (const KankyoMimicBinding *binding,
                                     gint ret_ids[KANKYO_MIMIC_MAX_BINDING_TAGS]);

/* Checks the SVG is well-formed XML with an svg root and collects its ids;
 * errors name file:line:column. */
KankyoMimicSvg *kankyo_mimic_svg_scan (GBytes *bytes, const char *name, GError **error);
void kankyo_mimic_svg_free (KankyoMimicSvg *svg);
const char *kankyo_mimic_svg_get_name (KankyoMimicSvg *svg);
/* The element name ("rect", "text") of the element with @id, or NULL. */
const char *kankyo_mimic_svg_get_element (KankyoMimicSvg *svg, const char *id);
/* Where the element with @id comes in document order (later draws on
 * top), or G_MAXUINT. */
guint kankyo_mimic_svg_get_order (KankyoMimicSvg *svg, const char *id);
/* The nearest enclosing element that has an id, or NULL. */
const char *kankyo_mimic_svg_get_parent_id (KankyoMimicSvg *svg, const char *id);

/* Reads @file whole (local or resource://), refusing more than @max_size
 * bytes. Errors name the file. */
GBytes *kankyo_mimic_read_file (GFile *file, gsize max_size, GError **error);

/* The whole check a view does before drawing: reads both files, scans the
 * SVG, parses the bindings (@bindings_file may be NULL: no bindings),
 * checks their ids against the SVG and resolves their tags in @store
 * (NULL: not resolved). On success returns the bindings and, in
 * @ret_svg_bytes and @ret_svg, what was read. */
KankyoMimicBindings *kankyo_mimic_load (GFile *svg_file,
                                        GFile *bindings_file,
                                        KankyoTagStore *store,
                                        GBytes **ret_svg_bytes,
                                        KankyoMimicSvg **ret_svg,
                                        GError **error);

/* Evaluation, for the view and for tests. */
KankyoMimicState kankyo_mimic_states_eval (const KankyoMimicStates *states, const KankyoValue *value);
/* The value as the text binding shows it, with its unit; NULL for no value. */
char *
kankyo_mimic_text_format (const KankyoMimicText *text, const KankyoTagSpec *spec, const KankyoValue *value);
/* 0..1 of the level's range, clamped; NAN without a usable value. */
double kankyo_mimic_level_fraction (const KankyoMimicLevel *level, const KankyoValue *value);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KankyoMimicBindings, kankyo_mimic_bindings_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KankyoMimicSvg, kankyo_mimic_svg_free)

G_END_DECLS
