/* kankyo-mimic-binding.c: reading, checking and evaluating mimic bindings.
 *
 * The binding file is read with the project file's YAML helpers, so its
 * errors look the same: file:line:column, what was expected, what was
 * found. The SVG is scanned with GMarkup before librsvg sees it: that gives
 * a malformed drawing a line and column, and gives the binding check the
 * set of ids without a renderer, so the check runs in unit tests and in
 * kankyoctl as well as in the view. librsvg stays the judge of what draws.
 */
#include "config.h"

#include "kankyo-mimic-binding.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "kankyo-project.h"
#include "kankyo-yaml.h"

#define MAX_RPM 600.0
#define MIN_RPM 0.1
#define MAX_FONT_SIZE 500.0
#define MAX_SUGGEST_DISTANCE 3
#define MAX_LISTED 12
#define READ_CHUNK 65536

static const char *const state_names[] = {
  [KANKYO_MIMIC_STATE_NORMAL] = "normal",         [KANKYO_MIMIC_STATE_ACTIVE] = "active",
  [KANKYO_MIMIC_STATE_INACTIVE] = "inactive",     [KANKYO_MIMIC_STATE_ABNORMAL] = "abnormal",
  [KANKYO_MIMIC_STATE_ALARM_LOW] = "alarm-low",   [KANKYO_MIMIC_STATE_ALARM_MEDIUM] = "alarm-medium",
  [KANKYO_MIMIC_STATE_ALARM_HIGH] = "alarm-high", [KANKYO_MIMIC_N_STATES] = NULL,
};

static const char *const align_names[] = {
  [KANKYO_MIMIC_ALIGN_MIDDLE] = "middle",
  [KANKYO_MIMIC_ALIGN_START] = "start",
  [KANKYO_MIMIC_ALIGN_END] = "end",
  NULL,
};

static const char *const direction_names[] = {
  [KANKYO_MIMIC_DIRECTION_UP] = "up",
  [KANKYO_MIMIC_DIRECTION_DOWN] = "down",
  [KANKYO_MIMIC_DIRECTION_LEFT] = "left",
  [KANKYO_MIMIC_DIRECTION_RIGHT] = "right",
  NULL,
};

enum
{
  FILE_BINDINGS,
  N_FILE_KEYS
};
static const char *const file_keys[] = { [FILE_BINDINGS] = "bindings", [N_FILE_KEYS] = NULL };

enum
{
  BINDING_ID,
  BINDING_TAG,
  BINDING_DEVICE,
  BINDING_TEXT,
  BINDING_FILL,
  BINDING_STROKE,
  BINDING_LEVEL,
  BINDING_ROTATE,
  BINDING_VISIBLE,
  BINDING_BLINK,
  N_BINDING_KEYS
};
static const char *const binding_keys[] = {
  [BINDING_ID] = "id",       [BINDING_TAG] = "tag",       [BINDING_DEVICE] = "device",
  [BINDING_TEXT] = "text",   [BINDING_FILL] = "fill",     [BINDING_STROKE] = "stroke",
  [BINDING_LEVEL] = "level", [BINDING_ROTATE] = "rotate", [BINDING_VISIBLE] = "visible",
  [BINDING_BLINK] = "blink", [N_BINDING_KEYS] = NULL,
};

enum
{
  TEXT_TAG,
  TEXT_FORMAT,
  TEXT_UNIT,
  TEXT_ALIGN,
  TEXT_FONT_SIZE,
  N_TEXT_KEYS
};
static const char *const text_keys[] = {
  [TEXT_TAG] = "tag",     [TEXT_FORMAT] = "format",       [TEXT_UNIT] = "unit",
  [TEXT_ALIGN] = "align", [TEXT_FONT_SIZE] = "font-size", [N_TEXT_KEYS] = NULL,
};

enum
{
  STATES_TAG,
  STATES_STATES,
  N_STATES_KEYS
};
static const char *const states_keys[] = {
  [STATES_TAG] = "tag",
  [STATES_STATES] = "states",
  [N_STATES_KEYS] = NULL,
};

enum
{
  LEVEL_TAG,
  LEVEL_MIN,
  LEVEL_MAX,
  LEVEL_DIRECTION,
  N_LEVEL_KEYS
};
static const char *const level_keys[] = {
  [LEVEL_TAG] = "tag",   [LEVEL_MIN] = "min", [LEVEL_MAX] = "max", [LEVEL_DIRECTION] = "direction",
  [N_LEVEL_KEYS] = NULL,
};

enum
{
  ROTATE_TAG,
  ROTATE_WHEN,
  ROTATE_SPEED,
  N_ROTATE_KEYS
};
static const char *const rotate_keys[] = {
  [ROTATE_TAG] = "tag",
  [ROTATE_WHEN] = "when",
  [ROTATE_SPEED] = "speed",
  [N_ROTATE_KEYS] = NULL,
};

enum
{
  SWITCH_TAG,
  SWITCH_WHEN,
  SWITCH_STATE,
  N_SWITCH_KEYS
};
static const char *const visible_keys[] = {
  [SWITCH_TAG] = "tag",
  [SWITCH_WHEN] = "when",
  NULL,
};
static const char *const blink_keys[] = {
  [SWITCH_TAG] = "tag",
  [SWITCH_WHEN] = "when",
  [SWITCH_STATE] = "state",
  [N_SWITCH_KEYS] = NULL,
};

#define CONDITION_EXPECTED                                                                                   \
  N_ ("a condition: else, true, false, a number, '< N', '<= N', '> N', '>= N', '== N', '!= N' or 'A..B'")
#define FORMAT_EXPECTED N_ ("a format such as '%.1f' (one of %d, %i, %f, %e, %g or %s)")

/* ---- states, conditions, formats ---- */

const char *
kankyo_mimic_state_to_string (KankyoMimicState state)
{
  g_return_val_if_fail (state < KANKYO_MIMIC_N_STATES, NULL);
  return state_names[state];
}

gboolean
kankyo_mimic_state_is_colour (KankyoMimicState state)
{
  return state >= KANKYO_MIMIC_STATE_ABNORMAL && state < KANKYO_MIMIC_N_STATES;
}

static gboolean
parse_number (const char *text, double *ret_value)
{
  char *end = NULL;
  double d;

  while (*text == ' ')
    text++;
  if (*text == '\0')
    return FALSE;
  d = g_ascii_strtod (text, &end);
  while (end != NULL && *end == ' ')
    end++;
  if (end == NULL || *end != '\0' || !isfinite (d))
    return FALSE;
  /* g_ascii_strtod reads "nan", "inf" and hexadecimal; a plant file says numbers plainly. */
  for (const char *p = text; p < end; p++)
    if (g_ascii_isalpha (*p) && *p != 'e' && *p != 'E')
      return FALSE;
  *ret_value = d;
  return TRUE;
}

gboolean
kankyo_mimic_condition_parse (const char *text, KankyoMimicCondition *ret_condition)
{
  static const struct
  {
    const char *op;
    KankyoMimicConditionOp code;
  } ops[] = {
    { "<=", KANKYO_MIMIC_CONDITION_LESS_EQUAL }, { ">=", KANKYO_MIMIC_CONDITION_GREATER_EQUAL },
    { "==", KANKYO_MIMIC_CONDITION_EQUAL },      { "!=", KANKYO_MIMIC_CONDITION_NOT_EQUAL },
    { "<", KANKYO_MIMIC_CONDITION_LESS },        { ">", KANKYO_MIMIC_CONDITION_GREATER },
  };
  KankyoMimicCondition c = { KANKYO_MIMIC_CONDITION_ELSE, 0, 0 };
  const char *dots;

  g_return_val_if_fail (text != NULL, FALSE);

  if (g_str_equal (text, "else"))
    c.op = KANKYO_MIMIC_CONDITION_ELSE;
  else if (g_str_equal (text, "true"))
    c.op = KANKYO_MIMIC_CONDITION_TRUE;
  else if (g_str_equal (text, "false"))
    c.op = KANKYO_MIMIC_CONDITION_FALSE;
  else if (parse_number (text, &c.a))
    c.op = KANKYO_MIMIC_CONDITION_EQUAL;
  else if ((dots = strstr (text, "..")) != NULL)
    {
      g_autofree char *low = g_strndup (text, dots - text);

      if (!parse_number (low, &c.a) || !parse_number (dots + 2, &c.b) || c.a > c.b)
        return FALSE;
      c.op = KANKYO_MIMIC_CONDITION_RANGE;
    }
  else
    {
      guint i;

      for (i = 0; i < G_N_ELEMENTS (ops); i++)
        if (g_str_has_prefix (text, ops[i].op))
          break;
      if (i == G_N_ELEMENTS (ops) || !parse_number (text + strlen (ops[i].op), &c.a))
        return FALSE;
      c.op = ops[i].code;
    }
  *ret_condition = c;
  return TRUE;
}

static gboolean
value_is_usable (const KankyoValue *value)
{
  return value != NULL && value->type != KANKYO_VALUE_NONE;
}

gboolean
kankyo_mimic_condition_eval (const KankyoMimicCondition *condition, const KankyoValue *value)
{
  double d;

  g_return_val_if_fail (condition != NULL, FALSE);

  if (condition->op == KANKYO_MIMIC_CONDITION_ELSE)
    return TRUE;
  if (!value_is_usable (value))
    return FALSE;
  d = kankyo_value_to_double (value);
  if (isnan (d))
    return FALSE;
  switch (condition->op)
    {
      case KANKYO_MIMIC_CONDITION_TRUE:
        return d != 0;
      case KANKYO_MIMIC_CONDITION_FALSE:
        return d == 0;
      case KANKYO_MIMIC_CONDITION_EQUAL:
        return d == condition->a;
      case KANKYO_MIMIC_CONDITION_NOT_EQUAL:
        return d != condition->a;
      case KANKYO_MIMIC_CONDITION_LESS:
        return d < condition->a;
      case KANKYO_MIMIC_CONDITION_LESS_EQUAL:
        return d <= condition->a;
      case KANKYO_MIMIC_CONDITION_GREATER:
        return d > condition->a;
      case KANKYO_MIMIC_CONDITION_GREATER_EQUAL:
        return d >= condition->a;
      case KANKYO_MIMIC_CONDITION_RANGE:
        return d >= condition->a && d <= condition->b;
      case KANKYO_MIMIC_CONDITION_ELSE:
      default:
        return TRUE;
    }
}

/* One conversion, split: the text before it, its flags, width, precision
 * (-1 when absent) and letter, and the text after it. */
typedef struct
{
  GString *prefix;
  char flags[6];
  int width;
  int precision;
  char conversion;
  GString *suffix;
} ParsedFormat;

static void
parsed_format_clear (ParsedFormat *f)
{
  if (f->prefix != NULL)
    g_string_free (f->prefix, TRUE);
  if (f->suffix != NULL)
    g_string_free (f->suffix, TRUE);
}

static gboolean
parse_format (const char *format, ParsedFormat *f, char **ret_problem)
{
  const char *p = format;
  GString *out;
  guint n_flags = 0;

  memset (f, 0, sizeof *f);
  f->prefix = g_string_new (NULL);
  f->suffix = g_string_new (NULL);
  f->width = -1;
  f->precision = -1;
  out = f->prefix;

  if (strlen (format) > KANKYO_MIMIC_MAX_FORMAT)
    {
      *ret_problem = g_strdup_printf (_ ("longer than %d characters"), KANKYO_MIMIC_MAX_FORMAT);
      return FALSE;
    }
  while (*p != '\0')
    {
      if (*p != '%')
        {
          if (g_ascii_iscntrl (*p))
            {
              *ret_problem = g_strdup (_ ("control characters are not allowed"));
              return FALSE;
            }
          g_string_append_c (out, *p++);
          continue;
        }
      p++;
      if (*p == '%')
        {
          g_string_append_c (out, '%');
          p++;
          continue;
        }
      if (f->conversion != 0)
        {
          *ret_problem = g_strdup (_ ("more than one conversion; write %% for a percent sign"));
          return FALSE;
        }
      while (*p != '\0' && strchr ("-+ 0#", *p) != NULL)
        {
          if (n_flags == sizeof f->flags - 1)
            {
              *ret_problem = g_strdup (_ ("too many flags"));
              return FALSE;
            }
          f->flags[n_flags++] = *p++;
        }
      if (g_ascii_isdigit (*p))
        {
          f->width = *p++ - '0';
          if (g_ascii_isdigit (*p))
            f->width = f->width * 10 + (*p++ - '0');
        }
      if (*p == '.')
        {
          p++;
          f->precision = 0;
          if (g_ascii_isdigit (*p))
            {
              f->precision = *p++ - '0';
              if (g_ascii_isdigit (*p))
                f->precision = f->precision * 10 + (*p++ - '0');
            }
        }
      if (g_ascii_isdigit (*p))
        {
          *ret_problem = g_strdup (_ ("width and precision take at most two digits"));
          return FALSE;
        }
      if (*p == '\0' || strchr ("difFeEgGs", *p) == NULL)
        {
          if (*p == '\0')
            *ret_problem = g_strdup (_ ("the conversion is incomplete"));
          else
            *ret_problem = g_strdup_printf (_ ("'%%%c' is not a conversion Kankyo knows"), *p);
          return FALSE;
        }
      if (f->precision > 17 && strchr ("fFeEgG", *p) != NULL)
        {
          *ret_problem = g_strdup (_ ("a precision above 17 digits means nothing for a number"));
          return FALSE;
        }
      f->conversion = *p++;
      out = f->suffix;
    }
  if (f->conversion == 0)
    {
      *ret_problem = g_strdup (_ ("no conversion such as %.1f"));
      return FALSE;
    }
  return TRUE;
}

gboolean
kankyo_mimic_format_check (const char *format, char **ret_problem)
{
  ParsedFormat f;
  g_autofree char *problem = NULL;
  gboolean ok;

  g_return_val_if_fail (format != NULL, FALSE);

  ok = parse_format (format, &f, &problem);
  parsed_format_clear (&f);
  if (!ok && ret_problem != NULL)
    *ret_problem = g_steal_pointer (&problem);
  return ok;
}

static gboolean
format_is_numeric (const char *format)
{
  ParsedFormat f;
  g_autofree char *problem = NULL;
  gboolean numeric;

  if (format == NULL)
    return FALSE;
  numeric = parse_format (format, &f, &problem) && f.conversion != 's';
  parsed_format_clear (&f);
  return numeric;
}

static void
append_padded (GString *out, const ParsedFormat *f, const char *sign, const char *digits)
{
  gboolean left = strchr (f->flags, '-') != NULL;
  gboolean zero = !left && strchr (f->flags, '0') != NULL && f->conversion != 's';
  int len = (int) (strlen (sign) + g_utf8_strlen (digits, -1));

  if (!left && !zero)
    for (int i = len; i < f->width; i++)
      g_string_append_c (out, ' ');
  g_string_append (out, sign);
  if (zero)
    for (int i = len; i < f->width; i++)
      g_string_append_c (out, '0');
  g_string_append (out, digits);
  if (left)
    for (int i = len; i < f->width; i++)
      g_string_append_c (out, ' ');
}

/* Formats without handing the user's text to printf: integers and strings
 * are padded here, and floating point goes through g_ascii_formatd, so the
 * text is the same in every locale, like the rest of Kankyo's numbers. */
static char *
format_value (const ParsedFormat *f, const KankyoValue *value)
{
  GString *out = g_string_new (f->prefix->str);
  double d = kankyo_value_to_double (value);

  switch (f->conversion)
    {
      case 's':
        {
          g_autofree char *text = kankyo_value_to_string (value);

          if (f->precision >= 0 && g_utf8_strlen (text, -1) > f->precision)
            *g_utf8_offset_to_pointer (text, f->precision) = '\0';
          append_padded (out, f, "", text);
          break;
        }
      case 'd':
      case 'i':
        {
          g_autofree char *digits = NULL;
          const char *sign = "";
          double r = round (d);

          if (isnan (r) || r >= 9.2e18 || r <= -9.2e18)
            {
              g_string_free (out, TRUE);
              return NULL;
            }
          if (r < 0)
            sign = "-";
          else if (strchr (f->flags, '+') != NULL)
            sign = "+";
          else if (strchr (f->flags, ' ') != NULL)
            sign = " ";
          digits = g_strdup_printf ("%" G_GINT64_FORMAT, (gint64) fabs (r));
          append_padded (out, f, sign, digits);
          break;
        }
      default:
        {
          g_autoptr (GString) spec = g_string_new ("%");
          char buffer[G_ASCII_DTOSTR_BUF_SIZE + 64];

          if (isnan (d))
            {
              g_string_free (out, TRUE);
              return NULL;
            }
          g_string_append (spec, f->flags);
          if (f->width >= 0)
            g_string_append_printf (spec, "%d", f->width);
          if (f->precision >= 0)
            g_string_append_printf (spec, ".%d", f->precision);
          g_string_append_c (spec, f->conversion);
          g_ascii_formatd (buffer, sizeof buffer, spec->str, d);
          g_string_append (out, buffer);
          break;
        }
    }
  g_string_append (out, f->suffix->str);
  return g_string_free (out, FALSE);
}

char *
kankyo_mimic_text_format (const KankyoMimicText *text, const KankyoTagSpec *spec, const KankyoValue *value)
{
  g_autofree char *shown = NULL;
  const char *unit;

  g_return_val_if_fail (text != NULL, NULL);

  if (!value_is_usable (value))
    return NULL;
  if (text->format != NULL)
    {
      ParsedFormat f;
      g_autofree char *problem = NULL;

      if (parse_format (text->format, &f, &problem))
        shown = format_value (&f, value);
      parsed_format_clear (&f);
    }
  else if (spec != NULL)
    shown = kankyo_tag_spec_format_value (spec, value);
  else
    shown = kankyo_value_to_string (value);
  if (shown == NULL)
    return NULL;

  unit = text->unit != NULL ? text->unit : (spec != NULL ? spec->unit : NULL);
  if (unit == NULL || *unit == '\0')
    return g_steal_pointer (&shown);
  return g_strdup_printf ("%s %s", shown, unit);
}

KankyoMimicState
kankyo_mimic_states_eval (const KankyoMimicStates *states, const KankyoValue *value)
{
  g_return_val_if_fail (states != NULL, KANKYO_MIMIC_STATE_NORMAL);

  for (guint i = 0; i < states->n_rules; i++)
    if (kankyo_mimic_condition_eval (&states->rules[i].when, value))
      return states->rules[i].state;
  return KANKYO_MIMIC_STATE_NORMAL;
}

double
kankyo_mimic_level_fraction (const KankyoMimicLevel *level, const KankyoValue *value)
{
  double d;

  g_return_val_if_fail (level != NULL, NAN);

  if (!value_is_usable (value) || !(level->max > level->min))
    return NAN;
  d = kankyo_value_to_double (value);
  if (isnan (d))
    return NAN;
  return CLAMP ((d - level->min) / (level->max - level->min), 0.0, 1.0);
}

/* ---- suggestions ---- */

static guint
edit_distance (const char *a, const char *b)
{
  gsize la = strlen (a);
  gsize lb = strlen (b);
  guint row[KANKYO_YAML_MAX_STRING + 2];

  if (la > KANKYO_YAML_MAX_STRING || lb > KANKYO_YAML_MAX_STRING)
    return G_MAXUINT;
  if ((la > lb ? la - lb : lb - la) > MAX_SUGGEST_DISTANCE)
    return G_MAXUINT;
  for (gsize j = 0; j <= lb; j++)
    row[j] = (guint) j;
  for (gsize i = 1; i <= la; i++)
    {
      guint diagonal = row[0];

      row[0] = (guint) i;
      for (gsize j = 1; j <= lb; j++)
        {
          guint above = row[j];
          guint best = MIN (row[j] + 1, row[j - 1] + 1);

          row[j] = MIN (best, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
          diagonal = above;
        }
    }
  return row[lb];
}

/* " (did you mean 'x'?)" or "". */
static char *
suggest (const char *wrong, GList *candidates)
{
  const char *closest = NULL;
  guint best = MAX_SUGGEST_DISTANCE + 1;

  for (GList *l = candidates; l != NULL; l = l->next)
    {
      guint d = edit_distance (wrong, l->data);

      if (d < best || (d == best && closest != NULL && strcmp (l->data, closest) < 0))
        {
          best = d;
          closest = l->data;
        }
    }
  if (closest == NULL)
    return g_strdup ("");
  return g_strdup_printf (_ (" (did you mean '%s'?)"), closest);
}

/* ---- freeing ---- */

static void
tag_ref_clear (KankyoMimicTagRef *ref)
{
  g_clear_pointer (&ref->name, g_free);
  g_clear_pointer (&ref->location, g_free);
}

static void
text_free (KankyoMimicText *text)
{
  if (text == NULL)
    return;
  tag_ref_clear (&text->tag);
  g_free (text->format);
  g_free (text->unit);
  g_free (text);
}

/* States, levels, rotations and switches own nothing but their tag
 * reference, which each has as its first member: one function frees any of
 * them, given the behaviour seen as that member. */
G_STATIC_ASSERT (G_STRUCT_OFFSET (KankyoMimicStates, tag) == 0);
G_STATIC_ASSERT (G_STRUCT_OFFSET (KankyoMimicLevel, tag) == 0);
G_STATIC_ASSERT (G_STRUCT_OFFSET (KankyoMimicRotate, tag) == 0);
G_STATIC_ASSERT (G_STRUCT_OFFSET (KankyoMimicSwitch, tag) == 0);

static void
behaviour_free (gpointer behaviour)
{
  if (behaviour == NULL)
    return;
  tag_ref_clear ((KankyoMimicTagRef *) behaviour);
  g_free (behaviour);
}

static void
binding_free (KankyoMimicBinding *binding)
{
  if (binding == NULL)
    return;
  g_free (binding->id);
  g_free (binding->location);
  g_free (binding->device);
  g_free (binding->device_location);
  text_free (binding->text);
  behaviour_free (binding->fill);
  behaviour_free (binding->stroke);
  behaviour_free (binding->level);
  behaviour_free (binding->rotate);
  behaviour_free (binding->visible);
  behaviour_free (binding->blink);
  g_free (binding);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KankyoMimicBinding, binding_free)

void
kankyo_mimic_bindings_free (KankyoMimicBindings *bindings)
{
  if (bindings == NULL)
    return;
  g_clear_pointer (&bindings->by_id, g_hash_table_unref);
  g_clear_pointer (&bindings->bindings, g_ptr_array_unref);
  g_free (bindings->source);
  g_free (bindings);
}

/* ---- parsing ---- */

typedef struct
{
  KankyoYaml *yaml;
  yaml_node_t *default_tag; /* the binding's own tag: node, or NULL */
} ParseContext;

/* The behaviour's "tag:" if written, else the binding's; one is needed. */
static gboolean
get_tag_ref (ParseContext *ctx,
             yaml_node_t *behaviour,
             const char *key,
             yaml_node_t *node,
             KankyoMimicTagRef *ret_ref,
             GError **error)
{
  g_autofree char *name = NULL;

  if (node == NULL)
    node = ctx->default_tag;
  if (node == NULL)
    {
      kankyo_yaml_set_error (ctx->yaml, behaviour, error,
                             _ ("%s: which tag? Give 'tag' here or on the binding"), key);
      return FALSE;
    }
  if (!kankyo_yaml_get_identifier (ctx->yaml, node, "tag", TRUE, &name, error))
    return FALSE;
  if (strchr (name, '.') == NULL)
    {
      kankyo_yaml_set_error (ctx->yaml, node, error,
                             _ ("tag: expected DEVICE.TAG such as ahu1.supply_temp, found '%s'"), name);
      return FALSE;
    }
  ret_ref->name = g_steal_pointer (&name);
  ret_ref->location = kankyo_yaml_location (ctx->yaml, node);
  ret_ref->id = -1;
  return TRUE;
}

static gboolean
get_condition (
    KankyoYaml *yaml, yaml_node_t *node, const char *key, KankyoMimicCondition *ret, GError **error)
{
  const char *text;

  if (!kankyo_yaml_get_scalar (yaml, node, key, _ (CONDITION_EXPECTED), &text, error))
    return FALSE;
  if (!kankyo_mimic_condition_parse (text, ret))
    {
      kankyo_yaml_set_expected_error (yaml, node, key, _ (CONDITION_EXPECTED), error);
      return FALSE;
    }
  return TRUE;
}

static gboolean
get_state (KankyoYaml *yaml, yaml_node_t *node, const char *key, KankyoMimicState *ret, GError **error)
{
  guint index;

  if (!kankyo_yaml_get_choice (yaml, node, key, state_names, &index, error))
    return FALSE;
  *ret = (KankyoMimicState) index;
  return TRUE;
}

static KankyoMimicText *
parse_text (ParseContext *ctx, yaml_node_t *node, GError **error)
{
  KankyoYaml *yaml = ctx->yaml;
  KankyoMimicText *text = g_new0 (KankyoMimicText, 1);
  yaml_node_t *v[N_TEXT_KEYS];

  text->tag.id = -1;
  if (!kankyo_yaml_get_fields (yaml, node, "text", text_keys, v, error)
      || !get_tag_ref (ctx, node, "text", v[TEXT_TAG], &text->tag, error))
    goto fail;
  if (v[TEXT_FORMAT] != NULL)
    {
      const char *format;
      g_autofree char *problem = NULL;

      if (!kankyo_yaml_get_scalar (yaml, v[TEXT_FORMAT], "format", _ (FORMAT_EXPECTED), &format, error))
        goto fail;
      if (!kankyo_mimic_format_check (format, &problem))
        {
          kankyo_yaml_set_error (yaml, v[TEXT_FORMAT], error,
                                 _ ("format: '%s' is not usable: %s; expected %s"), format, problem,
                                 _ (FORMAT_EXPECTED));
          goto fail;
        }
      text->format = g_strdup (format);
    }
  if (v[TEXT_UNIT] != NULL)
    {
      const char *unit;

      /* "" is allowed here: it hides the tag's unit. */
      if (!kankyo_yaml_get_scalar (yaml, v[TEXT_UNIT], "unit", _ ("one line of text, or \"\" for none"),
                                   &unit, error))
        goto fail;
      if (g_utf8_strlen (unit, -1) > KANKYO_MIMIC_MAX_UNIT)
        {
          kankyo_yaml_set_error (yaml, v[TEXT_UNIT], error, _ ("%s: longer than %d characters"), "unit",
                                 KANKYO_MIMIC_MAX_UNIT);
          goto fail;
        }
      for (const char *p = unit; *p != '\0'; p = g_utf8_next_char (p))
        if (g_unichar_iscntrl (g_utf8_get_char (p)))
          {
            kankyo_yaml_set_expected_error (yaml, v[TEXT_UNIT], "unit",
                                            _ ("one line of text, or \"\" for none"), error);
            goto fail;
          }
      text->unit = g_strdup (unit);
    }
  if (v[TEXT_ALIGN] != NULL)
    {
      guint index;

      if (!kankyo_yaml_get_choice (yaml, v[TEXT_ALIGN], "align", align_names, &index, error))
        goto fail;
      text->align = (KankyoMimicAlign) index;
    }
  if (v[TEXT_FONT_SIZE] != NULL)
    {
      if (!kankyo_yaml_get_double (yaml, v[TEXT_FONT_SIZE], "font-size", &text->font_size, error))
        goto fail;
      if (text->font_size < 1 || text->font_size > MAX_FONT_SIZE)
        {
          kankyo_yaml_set_error (yaml, v[TEXT_FONT_SIZE], error,
                                 _ ("font-size: expected 1 to %g SVG pixels, found %g"), MAX_FONT_SIZE,
                                 text->font_size);
          goto fail;
        }
    }
  return text;

fail:
  text_free (text);
  return NULL;
}

static KankyoMimicStates *
parse_states (ParseContext *ctx, yaml_node_t *node, const char *key, GError **error)
{
  KankyoYaml *yaml = ctx->yaml;
  KankyoMimicStates *states = g_new0 (KankyoMimicStates, 1);
  yaml_node_t *v[N_STATES_KEYS];
  g_autofree char *expected = NULL;
  guint n;

  states->tag.id = -1;
  if (!kankyo_yaml_get_fields (yaml, node, key, states_keys, v, error)
      || !get_tag_ref (ctx, node, key, v[STATES_TAG], &states->tag, error)
      || !kankyo_yaml_require (yaml, node, key, "states", v[STATES_STATES], error))
    goto fail;

  expected = g_strdup (_ ("a mapping of conditions to states such as {\"true\": active, else: normal}"));
  if (!kankyo_yaml_get_mapping (yaml, v[STATES_STATES], "states", expected, 1, KANKYO_MIMIC_MAX_STATES, &n,
                                error))
    goto fail;
  for (guint i = 0; i < n; i++)
    {
      yaml_node_t *when;
      yaml_node_t *state;

      kankyo_yaml_mapping_nth (yaml, v[STATES_STATES], i, &when, &state);
      if (!get_condition (yaml, when, "states", &states->rules[i].when, error)
          || !get_state (yaml, state, "states", &states->rules[i].state, error))
        goto fail;
      if (i + 1 < n && states->rules[i].when.op == KANKYO_MIMIC_CONDITION_ELSE)
        {
          kankyo_yaml_set_error (yaml, when, error,
                                 _ ("states: 'else' must come last; the conditions after it "
                                    "could never match"));
          goto fail;
        }
    }
  states->n_rules = n;
  return states;

fail:
  behaviour_free (states);
  return NULL;
}

static KankyoMimicLevel *
parse_level (ParseContext *ctx, yaml_node_t *node, GError **error)
{
  KankyoYaml *yaml = ctx->yaml;
  KankyoMimicLevel *level = g_new0 (KankyoMimicLevel, 1);
  yaml_node_t *v[N_LEVEL_KEYS];

  level->tag.id = -1;
  level->min = NAN;
  level->max = NAN;
  if (!kankyo_yaml_get_fields (yaml, node, "level", level_keys, v, error)
      || !get_tag_ref (ctx, node, "level", v[LEVEL_TAG], &level->tag, error)
      || (v[LEVEL_MIN] != NULL && !kankyo_yaml_get_double (yaml, v[LEVEL_MIN], "min", &level->min, error))
      || (v[LEVEL_MAX] != NULL && !kankyo_yaml_get_double (yaml, v[LEVEL_MAX], "max", &level->max, error)))
    goto fail;
  if (!isnan (level->min) && !isnan (level->max) && !(level->min < level->max))
    {
      kankyo_yaml_set_error (yaml, v[LEVEL_MAX], error, _ ("max: must be above min (%g), found %g"),
                             level->min, level->max);
      goto fail;
    }
  if (v[LEVEL_DIRECTION] != NULL)
    {
      guint index;

      if (!kankyo_yaml_get_choice (yaml, v[LEVEL_DIRECTION], "direction", direction_names, &index, error))
        goto fail;
      level->direction = (KankyoMimicDirection) index;
    }
  return level;

fail:
  behaviour_free (level);
  return NULL;
}

static KankyoMimicRotate *
parse_rotate (ParseContext *ctx, yaml_node_t *node, GError **error)
{
  KankyoYaml *yaml = ctx->yaml;
  KankyoMimicRotate *rotate = g_new0 (KankyoMimicRotate, 1);
  yaml_node_t *v[N_ROTATE_KEYS];

  rotate->tag.id = -1;
  rotate->when.op = KANKYO_MIMIC_CONDITION_TRUE;
  rotate->rpm = 30;
  if (!kankyo_yaml_get_fields (yaml, node, "rotate", rotate_keys, v, error)
      || !get_tag_ref (ctx, node, "rotate", v[ROTATE_TAG], &rotate->tag, error)
      || (v[ROTATE_WHEN] != NULL && !get_condition (yaml, v[ROTATE_WHEN], "when", &rotate->when, error))
      || (v[ROTATE_SPEED] != NULL
          && !kankyo_yaml_get_double (yaml, v[ROTATE_SPEED], "speed", &rotate->rpm, error)))
    goto fail;
  if (rotate->rpm < MIN_RPM || rotate->rpm > MAX_RPM)
    {
      kankyo_yaml_set_error (yaml, v[ROTATE_SPEED], error,
                             _ ("speed: expected %g to %g turns per minute on screen, found %g"), MIN_RPM,
                             MAX_RPM, rotate->rpm);
      goto fail;
    }
  return rotate;

fail:
  behaviour_free (rotate);
  return NULL;
}

static KankyoMimicSwitch *
parse_switch (ParseContext *ctx, yaml_node_t *node, const char *key, gboolean blink, GError **error)
{
  KankyoYaml *yaml = ctx->yaml;
  KankyoMimicSwitch *sw = g_new0 (KankyoMimicSwitch, 1);
  yaml_node_t *v[N_SWITCH_KEYS] = { NULL };

  sw->tag.id = -1;
  sw->when.op = KANKYO_MIMIC_CONDITION_TRUE;
  sw->state = KANKYO_MIMIC_STATE_ALARM_HIGH;
  if (!kankyo_yaml_get_fields (yaml, node, key, blink ? blink_keys : visible_keys, v, error)
      || !get_tag_ref (ctx, node, key, v[SWITCH_TAG], &sw->tag, error)
      || (v[SWITCH_WHEN] != NULL && !get_condition (yaml, v[SWITCH_WHEN], "when", &sw->when, error))
      || (v[SWITCH_STATE] != NULL && !get_state (yaml, v[SWITCH_STATE], "state", &sw->state, error)))
    goto fail;
  if (blink && !kankyo_mimic_state_is_colour (sw->state))
    {
      kankyo_yaml_set_error (yaml, v[SWITCH_STATE], error,
                             _ ("state: a blink needs an abnormal or alarm state, found '%s'"),
                             state_names[sw->state]);
      goto fail;
    }
  return sw;

fail:
  behaviour_free (sw);
  return NULL;
}

static KankyoMimicBinding *
parse_binding (KankyoYaml *yaml, yaml_node_t *node, GHashTable *seen, GError **error)
{
  g_autoptr (KankyoMimicBinding) binding = g_new0 (KankyoMimicBinding, 1);
  yaml_node_t *v[N_BINDING_KEYS];
  ParseContext ctx = { yaml, NULL };
  const char *id;
  const char *first_location;
  gboolean any = FALSE;

  if (!kankyo_yaml_get_fields (yaml, node, _ ("binding"), binding_keys, v, error)
      || !kankyo_yaml_require (yaml, node, _ ("binding"), "id", v[BINDING_ID], error)
      || !kankyo_yaml_get_scalar (yaml, v[BINDING_ID], "id", _ ("the id of an SVG element"), &id, error))
    return NULL;
  if (*id == '\0' || strlen (id) > KANKYO_YAML_MAX_STRING || strpbrk (id, " \t\n\r\"\\") != NULL)
    {
      kankyo_yaml_set_expected_error (yaml, v[BINDING_ID], "id",
                                      _ ("the id of an SVG element (no spaces, quotes or backslashes)"),
                                      error);
      return NULL;
    }
  binding->id = g_strdup (id);
  binding->location = kankyo_yaml_location (yaml, v[BINDING_ID]);
  first_location = g_hash_table_lookup (seen, id);
  if (first_location != NULL)
    {
      kankyo_yaml_set_error (yaml, v[BINDING_ID], error,
                             _ ("id: '%s' is bound twice, first at %s; give one binding all its behaviours"),
                             id, first_location);
      return NULL;
    }

  ctx.default_tag = v[BINDING_TAG];
  if (v[BINDING_TAG] != NULL)
    {
      KankyoMimicTagRef check = { NULL, NULL, -1 };
      gboolean ok = get_tag_ref (&ctx, node, "tag", v[BINDING_TAG], &check, error);

      tag_ref_clear (&check);
      if (!ok)
        return NULL;
    }
  if (v[BINDING_DEVICE] != NULL)
    {
      if (!kankyo_yaml_get_identifier (yaml, v[BINDING_DEVICE], "device", FALSE, &binding->device, error))
        return NULL;
      binding->device_location = kankyo_yaml_location (yaml, v[BINDING_DEVICE]);
      any = TRUE;
    }

  if (v[BINDING_TEXT] != NULL && (binding->text = parse_text (&ctx, v[BINDING_TEXT], error)) == NULL)
    return NULL;
  if (v[BINDING_FILL] != NULL
      && (binding->fill = parse_states (&ctx, v[BINDING_FILL], "fill", error)) == NULL)
    return NULL;
  if (v[BINDING_STROKE] != NULL
      && (binding->stroke = parse_states (&ctx, v[BINDING_STROKE], "stroke", error)) == NULL)
    return NULL;
  if (v[BINDING_LEVEL] != NULL && (binding->level = parse_level (&ctx, v[BINDING_LEVEL], error)) == NULL)
    return NULL;
  if (v[BINDING_ROTATE] != NULL && (binding->rotate = parse_rotate (&ctx, v[BINDING_ROTATE], error)) == NULL)
    return NULL;
  if (v[BINDING_VISIBLE] != NULL
      && (binding->visible = parse_switch (&ctx, v[BINDING_VISIBLE], "visible", FALSE, error)) == NULL)
    return NULL;
  if (v[BINDING_BLINK] != NULL
      && (binding->blink = parse_switch (&ctx, v[BINDING_BLINK], "blink", TRUE, error)) == NULL)
    return NULL;

  any = any || binding->text != NULL || binding->fill != NULL || binding->stroke != NULL
        || binding->level != NULL || binding->rotate != NULL || binding->visible != NULL
        || binding->blink != NULL;
  if (!any)
    {
      kankyo_yaml_set_error (
          yaml, node, error,
          _ ("binding '%s' does nothing; give it text, fill, stroke, level, rotate, visible, "
             "blink or device"),
          id);
      return NULL;
    }
  if (binding->device == NULL)
    {
      const KankyoMimicTagRef *refs[] = {
        binding->text != NULL ? &binding->text->tag : NULL,
        binding->fill != NULL ? &binding->fill->tag : NULL,
        binding->stroke != NULL ? &binding->stroke->tag : NULL,
        binding->level != NULL ? &binding->level->tag : NULL,
        binding->rotate != NULL ? &binding->rotate->tag : NULL,
        binding->visible != NULL ? &binding->visible->tag : NULL,
        binding->blink != NULL ? &binding->blink->tag : NULL,
      };
      const KankyoMimicTagRef *first_ref = NULL;

      for (guint i = 0; i < G_N_ELEMENTS (refs) && first_ref == NULL; i++)
        first_ref = refs[i];
      if (v[BINDING_TAG] != NULL)
        {
          const char *tag = (const char *) v[BINDING_TAG]->data.scalar.value;

          binding->device = g_strndup (tag, strchr (tag, '.') - tag);
          binding->device_location = kankyo_yaml_location (yaml, v[BINDING_TAG]);
        }
      else if (first_ref != NULL)
        {
          binding->device = g_strndup (first_ref->name, strchr (first_ref->name, '.') - first_ref->name);
          binding->device_location = g_strdup (first_ref->location);
        }
    }
  g_hash_table_insert (seen, g_strdup (id), g_strdup (binding->location));
  return g_steal_pointer (&binding);
}

KankyoMimicBindings *
kankyo_mimic_bindings_parse (GBytes *bytes, const char *name, GError **error)
{
  g_autoptr (KankyoYaml) yaml = NULL;
  g_autoptr (KankyoMimicBindings) bindings = NULL;
  g_autoptr (GHashTable) seen = NULL;
  yaml_node_t *v[N_FILE_KEYS];
  yaml_node_t *root;
  guint n = 0;

  g_return_val_if_fail (bytes != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  yaml = kankyo_yaml_load (bytes, name, error);
  if (yaml == NULL)
    return NULL;

  bindings = g_new0 (KankyoMimicBindings, 1);
  bindings->source = g_strdup (name);
  bindings->bindings = g_ptr_array_new_with_free_func ((GDestroyNotify) binding_free);
  bindings->by_id = g_hash_table_new (g_str_hash, g_str_equal);
  seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  root = kankyo_yaml_get_root (yaml);
  if (!kankyo_yaml_get_fields (yaml, root, _ ("binding file"), file_keys, v, error)
      || !kankyo_yaml_require (yaml, root, _ ("binding file"), "bindings", v[FILE_BINDINGS], error)
      || !kankyo_yaml_get_sequence (yaml, v[FILE_BINDINGS], "bindings", _ ("a list of bindings"), 0,
                                    KANKYO_MIMIC_MAX_BINDINGS, &n, error))
    return NULL;

  for (guint i = 0; i < n; i++)
    {
      KankyoMimicBinding *binding
          = parse_binding (yaml, kankyo_yaml_sequence_nth (yaml, v[FILE_BINDINGS], i), seen, error);

      if (binding == NULL)
        return NULL;
      g_ptr_array_add (bindings->bindings, binding);
      g_hash_table_insert (bindings->by_id, binding->id, binding);
    }
  return g_steal_pointer (&bindings);
}

/* ---- resolving tags ---- */

static GList *
store_tag_names (KankyoTagStore *store)
{
  GList *names = NULL;
  guint n = kankyo_tag_store_get_n_tags (store);

  for (guint i = n; i > 0; i--)
    names = g_list_prepend (names, (gpointer) kankyo_tag_store_get_name (store, i - 1));
  return names;
}

static gboolean
store_has_device (KankyoTagStore *store, const char *device)
{
  guint n = kankyo_tag_store_get_n_tags (store);

  for (guint i = 0; i < n; i++)
    if (g_strcmp0 (kankyo_tag_store_get_device (store, i), device) == 0)
      return TRUE;
  return FALSE;
}

static char *
list_devices (KankyoTagStore *store)
{
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  GString *s = g_string_new (NULL);
  guint n = kankyo_tag_store_get_n_tags (store);
  guint listed = 0;

  for (guint i = 0; i < n; i++)
    {
      const char *device = kankyo_tag_store_get_device (store, i);

      if (device == NULL || !g_hash_table_add (seen, (gpointer) device))
        continue;
      if (listed == MAX_LISTED)
        {
          g_string_append (s, ", ...");
          break;
        }
      if (listed > 0)
        g_string_append (s, ", ");
      g_string_append (s, device);
      listed++;
    }
  return g_string_free (s, FALSE);
}

static gboolean
resolve_ref (KankyoMimicTagRef *ref, const char *key, KankyoTagStore *store, GError **error)
{
  gint id = kankyo_tag_store_lookup (store, ref->name);

  if (id < 0)
    {
      g_autofree char *device = g_strndup (ref->name, strchr (ref->name, '.') - ref->name);

      if (!store_has_device (store, device))
        {
          g_autofree char *devices = list_devices (store);

          g_set_error (error, KANKYO_PROJECT_ERROR, KANKYO_PROJECT_ERROR_INVALID,
                       _ ("%s: %s: no device '%s' in the project for tag '%s'; devices: %s"), ref->location,
                       key, device, ref->name, devices);
        }
      else
        {
          GList *names = store_tag_names (store);
          g_autofree char *hint = suggest (ref->name, names);

          g_list_free (names);
          g_set_error (error, KANKYO_PROJECT_ERROR, KANKYO_PROJECT_ERROR_INVALID,
                       _ ("%s: %s: no tag '%s' in the project%s"), ref->location, key, ref->name, hint);
        }
      return FALSE;
    }
  ref->id = id;
  return TRUE;
}

static gboolean
check_numeric (
    KankyoMimicTagRef *ref, const char *key, const char *needs, KankyoTagStore *store, GError **error)
{
  const KankyoTagSpec *spec = kankyo_tag_store_get_spec (store, ref->id);

  if (spec->value_type == KANKYO_VALUE_STRING)
    {
      g_set_error (error, KANKYO_PROJECT_ERROR, KANKYO_PROJECT_ERROR_INVALID,
                   _ ("%s: %s: tag '%s' holds text, but %s needs a number"), ref->location, key, ref->name,
                   needs);
      return FALSE;
    }
  return TRUE;
}

static gboolean
condition_needs_number (const KankyoMimicCondition *c)
{
  return c->op != KANKYO_MIMIC_CONDITION_ELSE;
}

static gboolean
resolve_states (KankyoMimicStates *states, const char *key, KankyoTagStore *store, GError **error)
{
  if (!resolve_ref (&states->tag, key, store, error))
    return FALSE;
  for (guint i = 0; i < states->n_rules; i++)
    if (condition_needs_number (&states->rules[i].when))
      return check_numeric (&states->tag, key, _ ("a condition"), store, error);
  return TRUE;
}

gboolean
kankyo_mimic_bindings_resolve (KankyoMimicBindings *bindings, KankyoTagStore *store, GError **error)
{
  g_return_val_if_fail (bindings != NULL, FALSE);
  g_return_val_if_fail (store != NULL, FALSE);

  for (guint i = 0; i < bindings->bindings->len; i++)
    {
      KankyoMimicBinding *b = g_ptr_array_index (bindings->bindings, i);

      if (b->text != NULL)
        {
          if (!resolve_ref (&b->text->tag, "text", store, error)
              || (format_is_numeric (b->text->format)
                  && !check_numeric (&b->text->tag, "text", _ ("this format"), store, error)))
            return FALSE;
        }
      if (b->fill != NULL)
        {
          if (!resolve_states (b->fill, "fill", store, error))
            return FALSE;
        }
      if (b->stroke != NULL)
        {
          if (!resolve_states (b->stroke, "stroke", store, error))
            return FALSE;
        }
      if (b->level != NULL)
        {
          const KankyoTagSpec *spec;

          if (!resolve_ref (&b->level->tag, "level", store, error)
              || !check_numeric (&b->level->tag, "level", _ ("a level"), store, error))
            return FALSE;
          spec = kankyo_tag_store_get_spec (store, b->level->tag.id);
          if (isnan (b->level->min))
            b->level->min = spec->min;
          if (isnan (b->level->max))
            b->level->max = spec->max;
          if (spec->value_type == KANKYO_VALUE_BOOL)
            {
              if (isnan (b->level->min))
                b->level->min = 0;
              if (isnan (b->level->max))
                b->level->max = 1;
            }
          if (isnan (b->level->min) || isnan (b->level->max) || !(b->level->min < b->level->max))
            {
              g_set_error (error, KANKYO_PROJECT_ERROR, KANKYO_PROJECT_ERROR_INVALID,
                           _ ("%s: level: tag '%s' has no range; give min and max"), b->level->tag.location,
                           b->level->tag.name);
              return FALSE;
            }
        }
      if (b->rotate != NULL)
        {
          if (!resolve_ref (&b->rotate->tag, "rotate", store, error)
              || (condition_needs_number (&b->rotate->when)
                  && !check_numeric (&b->rotate->tag, "rotate", _ ("a condition"), store, error)))
            return FALSE;
        }
      if (b->visible != NULL)
        {
          if (!resolve_ref (&b->visible->tag, "visible", store, error)
              || (condition_needs_number (&b->visible->when)
                  && !check_numeric (&b->visible->tag, "visible", _ ("a condition"), store, error)))
            return FALSE;
        }
      if (b->blink != NULL)
        {
          if (!resolve_ref (&b->blink->tag, "blink", store, error)
              || (condition_needs_number (&b->blink->when)
                  && !check_numeric (&b->blink->tag, "blink", _ ("a condition"), store, error)))
            return FALSE;
        }

      if (!store_has_device (store, b->device))
        {
          g_autofree char *devices = list_devices (store);

          g_set_error (error, KANKYO_PROJECT_ERROR, KANKYO_PROJECT_ERROR_INVALID,
                       _ ("%s: device: no device '%s' in the project; devices: %s"), b->device_location,
                       b->device, devices);
          return FALSE;
        }
    }
  return TRUE;
}

guint
kankyo_mimic_binding_get_tags (const KankyoMimicBinding *binding, gint ret_ids[KANKYO_MIMIC_MAX_BINDING_TAGS])
{
  const KankyoMimicTagRef *refs[] = {
    binding->text != NULL ? &binding->text->tag : NULL,
    binding->fill != NULL ? &binding->fill->tag : NULL,
    binding->stroke != NULL ? &binding->stroke->tag : NULL,
    binding->level != NULL ? &binding->level->tag : NULL,
    binding->rotate != NULL ? &binding->rotate->tag : NULL,
    binding->visible != NULL ? &binding->visible->tag : NULL,
    binding->blink != NULL ? &binding->blink->tag : NULL,
  };
  guint n = 0;

  G_STATIC_ASSERT (G_N_ELEMENTS (refs) < KANKYO_MIMIC_MAX_BINDING_TAGS);

  for (guint i = 0; i < G_N_ELEMENTS (refs); i++)
    {
      gboolean seen = FALSE;

      if (refs[i] == NULL || refs[i]->id < 0)
        continue;
      for (guint j = 0; j < n; j++)
        seen = seen || ret_ids[j] == refs[i]->id;
      if (!seen)
        ret_ids[n++] = refs[i]->id;
    }
  return n;
}

/* ---- the SVG ---- */

typedef struct
{
  char *element;
  char *parent_id; /* borrowed from the table's keys */
  guint line;
  guint column;
  guint count;
  guint order; /* place in document order, from 0 */
} SvgId;

struct _KankyoMimicSvg
{
  char *name;
  GHashTable *ids; /* id -> SvgId* */
};

typedef struct
{
  KankyoMimicSvg *svg;
  const char *data;    /* the whole file, NUL-terminated */
  GPtrArray *id_stack; /* nearest id at each depth, borrowed keys or NULL */
  guint n_elements;
  /* Where a check of ours failed: GMarkup has moved on by the time it
   * reports the error. 0 when the error is GMarkup's own. */
  int error_line;
  int error_column;
} ScanState;

static void
svg_id_free (SvgId *id)
{
  g_free (id->element);
  g_free (id);
}

void
kankyo_mimic_svg_free (KankyoMimicSvg *svg)
{
  if (svg == NULL)
    return;
  g_clear_pointer (&svg->ids, g_hash_table_unref);
  g_free (svg->name);
  g_free (svg);
}

const char *
kankyo_mimic_svg_get_name (KankyoMimicSvg *svg)
{
  return svg->name;
}

const char *
kankyo_mimic_svg_get_element (KankyoMimicSvg *svg, const char *id)
{
  SvgId *found = g_hash_table_lookup (svg->ids, id);

  return found != NULL ? found->element : NULL;
}

guint
kankyo_mimic_svg_get_order (KankyoMimicSvg *svg, const char *id)
{
  SvgId *found = g_hash_table_lookup (svg->ids, id);

  return found != NULL ? found->order : G_MAXUINT;
}

const char *
kankyo_mimic_svg_get_parent_id (KankyoMimicSvg *svg, const char *id)
{
  SvgId *found = g_hash_table_lookup (svg->ids, id);

  return found != NULL ? found->parent_id : NULL;
}

static const char *
local_name (const char *element)
{
  const char *colon = strrchr (element, ':');

  return colon != NULL ? colon + 1 : element;
}

/* Line and column of the first element's "<", past the declaration,
 * comments and doctype. */
static void
root_start (const char *data, int *ret_line, int *ret_column)
{
  const char *p = data;
  const char *line_start = data;
  int line = 1;

  for (; *p != '\0'; p++)
    {
      if (*p == '\n')
        {
          line++;
          line_start = p + 1;
        }
      else if (*p == '<' && p[1] != '?' && p[1] != '!')
        break;
      else if (*p == '<' && g_str_has_prefix (p, "<!--"))
        {
          const char *end = strstr (p, "-->");

          for (const char *q = p; end != NULL && q < end; q++)
            if (*q == '\n')
              {
                line++;
                line_start = q + 1;
              }
          if (end == NULL)
            break;
          p = end + 2;
        }
    }
  *ret_line = line;
  *ret_column = (int) g_utf8_strlen (line_start, p - line_start) + 1;
}

static void
scan_start (GMarkupParseContext *context,
            const char *element,
            const char **names,
            const char **values,
            gpointer user_data,
            GError **error)
{
  ScanState *state = user_data;
  const char *parent
      = state->id_stack->len > 0 ? g_ptr_array_index (state->id_stack, state->id_stack->len - 1) : NULL;
  const char *nearest = parent;
  int line, column;

  g_markup_parse_context_get_position (context, &line, &column);
  state->error_line = line;
  state->error_column = column;
  if (state->id_stack->len == 0 && !g_str_equal (local_name (element), "svg"))
    {
      /* GMarkup is past the tag by now; point at the tag itself. */
      root_start (state->data, &state->error_line, &state->error_column);
      g_set_error (error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
                   _ ("the root element is '%s'; an SVG drawing starts with 'svg'"), element);
      return;
    }
  if (++state->n_elements > KANKYO_MIMIC_MAX_SVG_ELEMENTS)
    {
      g_set_error (error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT, _ ("more than %d elements"),
                   KANKYO_MIMIC_MAX_SVG_ELEMENTS);
      return;
    }
  if (state->id_stack->len >= KANKYO_MIMIC_MAX_SVG_DEPTH)
    {
      g_set_error (error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT, _ ("nested deeper than %d levels"),
                   KANKYO_MIMIC_MAX_SVG_DEPTH);
      return;
    }
  for (guint i = 0; names[i] != NULL; i++)
    if (g_str_equal (names[i], "id"))
      {
        SvgId *id = g_hash_table_lookup (state->svg->ids, values[i]);
        gpointer key = NULL;

        if (id != NULL)
          id->count++;
        else
          {
            id = g_new0 (SvgId, 1);
            id->element = g_strdup (local_name (element));
            id->line = (guint) line;
            id->column = (guint) column;
            id->count = 1;
            id->order = state->n_elements - 1;
            g_hash_table_insert (state->svg->ids, g_strdup (values[i]), id);
          }
        g_hash_table_lookup_extended (state->svg->ids, values[i], &key, NULL);
        /* The first element with an id is the one its children remember. */
        if (id->count == 1)
          {
            id->parent_id = (char *) parent;
            nearest = key;
          }
        break;
      }
  g_ptr_array_add (state->id_stack, (gpointer) nearest);
  state->error_line = 0;
}

static void
scan_end (GMarkupParseContext *context, const char *element, gpointer user_data, GError **error)
{
  ScanState *state = user_data;

  g_ptr_array_set_size (state->id_stack, state->id_stack->len - 1);
}

static void
set_markup_error (GError **error,
                  const char *name,
                  GMarkupParseContext *context,
                  const ScanState *state,
                  const GError *markup_error)
{
  const char *message = markup_error->message;
  int line, column;

  if (state->error_line > 0)
    {
      g_set_error (error, KANKYO_PROJECT_ERROR, KANKYO_PROJECT_ERROR_INVALID, "%s:%d:%d: %s", name,
                   state->error_line, state->error_column, message);
      return;
    }
  g_markup_parse_context_get_position (context, &line, &column);
  /* GMarkup says where itself; the position goes in front, once. */
  if (g_str_has_prefix (message, "Error on line "))
    {
      const char *rest = strstr (message, ": ");

      if (rest != NULL)
        message = rest + 2;
    }
  g_set_error (error, KANKYO_PROJECT_ERROR, KANKYO_PROJECT_ERROR_SYNTAX,
               _ ("%s:%d:%d: not a well-formed SVG file: %s"), name, line, column, message);
}

KankyoMimicSvg *
kankyo_mimic_svg_scan (GBytes *bytes, const char *name, GError **error)
{
  static const GMarkupParser parser = { scan_start, scan_end, NULL, NULL, NULL };
  g_autoptr (KankyoMimicSvg) svg = NULL;
  g_autoptr (GError) markup_error = NULL;
  g_autoptr (GPtrArray) stack = NULL;
  g_autofree char *text = NULL;
  GMarkupParseContext *context;
  ScanState state;
  gsize size;
  const char *data;
  gboolean ok;

  g_return_val_if_fail (bytes != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);

  data = g_bytes_get_data (bytes, &size);
  if (size > KANKYO_MIMIC_MAX_SVG_SIZE)
    {
      g_set_error (error, KANKYO_PROJECT_ERROR, KANKYO_PROJECT_ERROR_INVALID,
                   _ ("%s: the file is larger than %d MiB, the most allowed"), name,
                   KANKYO_MIMIC_MAX_SVG_SIZE / (1024 * 1024));
      return NULL;
    }

  svg = g_new0 (KankyoMimicSvg, 1);
  svg->name = g_strdup (name);
  svg->ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) svg_id_free);
  stack = g_ptr_array_new ();
  /* GBytes from a file are not NUL-terminated; the scan needs the text. */
  text = g_strndup (data != NULL ? data : "", size);
  state.svg = svg;
  state.data = text;
  state.id_stack = stack;
  state.n_elements = 0;
  state.error_line = 0;
  state.error_column = 0;

  context = g_markup_parse_context_new (&parser, 0, &state, NULL);
  ok = g_markup_parse_context_parse (context, data != NULL ? data : "", (gssize) size, &markup_error)
       && g_markup_parse_context_end_parse (context, &markup_error);
  if (ok && state.n_elements == 0)
    {
      g_set_error_literal (&markup_error, G_MARKUP_ERROR, G_MARKUP_ERROR_EMPTY,
                           _ ("the file holds no elements"));
      ok = FALSE;
    }
  if (!ok)
    {
      set_markup_error (error, name, context, &state, markup_error);
      g_markup_parse_context_free (context);
      return NULL;
    }
  g_markup_parse_context_free (context);
  return g_steal_pointer (&svg);
}

gboolean
kankyo_mimic_bindings_check_svg (KankyoMimicBindings *bindings, KankyoMimicSvg *svg, GError **error)
{
  g_return_val_if_fail (bindings != NULL, FALSE);
  g_return_val_if_fail (svg != NULL, FALSE);

  for (guint i = 0; i < bindings->bindings->len; i++)
    {
      KankyoMimicBinding *b = g_ptr_array_index (bindings->bindings, i);
      SvgId *id = g_hash_table_lookup (svg->ids, b->id);

      if (id == NULL)
        {
          GList *ids = g_hash_table_get_keys (svg->ids);
          g_autofree char *hint = suggest (b->id, ids);

          g_list_free (ids);
          g_set_error (error, KANKYO_PROJECT_ERROR, KANKYO_PROJECT_ERROR_INVALID,
                       _ ("%s: id: no element with id '%s' in %s%s"), b->location, b->id, svg->name, hint);
          return FALSE;
        }
      if (id->count > 1)
        {
          g_set_error (
              error, KANKYO_PROJECT_ERROR, KANKYO_PROJECT_ERROR_INVALID,
              _ ("%s: id: %u elements of %s have the id '%s' (the first at line %u); a binding needs "
                 "exactly one"),
              b->location, id->count, svg->name, b->id, id->line);
          return FALSE;
        }
    }
  return TRUE;
}

/* ---- files ---- */

GBytes *
kankyo_mimic_read_file (GFile *file, gsize max_size, GError **error)
{
  g_autoptr (GFileInputStream) stream = NULL;
  g_autoptr (GByteArray) buffer = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree char *name = NULL;

  g_return_val_if_fail (G_IS_FILE (file), NULL);

  name = g_file_get_parse_name (file);
  stream = g_file_read (file, NULL, &local_error);
  if (stream == NULL)
    {
      g_set_error (error, KANKYO_PROJECT_ERROR, KANKYO_PROJECT_ERROR_IO, _ ("%s: cannot open the file: %s"),
                   name, local_error->message);
      return NULL;
    }
  /* Read one chunk past the limit at most, whatever the file claims to be. */
  buffer = g_byte_array_new ();
  for (;;)
    {
      guint old_len = buffer->len;
      gssize n;

      if (old_len > max_size)
        {
          g_set_error (error, KANKYO_PROJECT_ERROR, KANKYO_PROJECT_ERROR_INVALID,
                       _ ("%s: the file is larger than %d MiB, the most allowed"), name,
                       (int) (max_size / (1024 * 1024)));
          return NULL;
        }
      g_byte_array_set_size (buffer, old_len + READ_CHUNK);
      n = g_input_stream_read (G_INPUT_STREAM (stream), buffer->data + old_len, READ_CHUNK, NULL,
                               &local_error);
      if (n < 0)
        {
          g_set_error (error, KANKYO_PROJECT_ERROR, KANKYO_PROJECT_ERROR_IO,
                       _ ("%s: cannot read the file: %s"), name, local_error->message);
          return NULL;
        }
      g_byte_array_set_size (buffer, old_len + (guint) n);
      if (n == 0)
        break;
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&buffer));
}

KankyoMimicBindings *
kankyo_mimic_load (GFile *svg_file,
                   GFile *bindings_file,
                   KankyoTagStore *store,
                   GBytes **ret_svg_bytes,
                   KankyoMimicSvg **ret_svg,
                   GError **error)
{
  g_autoptr (GBytes) svg_bytes = NULL;
  g_autoptr (KankyoMimicSvg) svg = NULL;
  g_autoptr (KankyoMimicBindings) bindings = NULL;
  g_autofree char *svg_name = NULL;

  g_return_val_if_fail (G_IS_FILE (svg_file), NULL);
  g_return_val_if_fail (bindings_file == NULL || G_IS_FILE (bindings_file), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  svg_name = g_file_get_parse_name (svg_file);
  svg_bytes = kankyo_mimic_read_file (svg_file, KANKYO_MIMIC_MAX_SVG_SIZE, error);
  if (svg_bytes == NULL)
    return NULL;
  svg = kankyo_mimic_svg_scan (svg_bytes, svg_name, error);
  if (svg == NULL)
    return NULL;

  if (bindings_file != NULL)
    {
      g_autofree char *name = g_file_get_parse_name (bindings_file);
      g_autoptr (GBytes) bytes = kankyo_mimic_read_file (bindings_file, KANKYO_YAML_MAX_FILE_SIZE, error);

      if (bytes == NULL)
        return NULL;
      bindings = kankyo_mimic_bindings_parse (bytes, name, error);
    }
  else
    {
      g_autoptr (GBytes) empty = g_bytes_new_static ("bindings: []\n", strlen ("bindings: []\n"));

      bindings = kankyo_mimic_bindings_parse (empty, svg_name, error);
    }
  if (bindings == NULL || !kankyo_mimic_bindings_check_svg (bindings, svg, error)
      || (store != NULL && !kankyo_mimic_bindings_resolve (bindings, store, error)))
    return NULL;

  if (ret_svg_bytes != NULL)
    *ret_svg_bytes = g_steal_pointer (&svg_bytes);
  if (ret_svg != NULL)
    *ret_svg = g_steal_pointer (&svg);
  return g_steal_pointer (&bindings);
}
