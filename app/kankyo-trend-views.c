/* kankyo-trend-views.c: named sets of trend pens, kept beside the project.
 *
 * The format is small and fixed (a list of views, each a name, an optional
 * span and a list of tags), so the file is read straight from libyaml's
 * event stream: each event is checked against what may come next, and the
 * first one that does not fit fails with its line and column and what was
 * expected there. Nothing is built that a bound has not allowed first, and
 * anchors, aliases and explicit tags are refused as in the project files.
 * Writing goes through libyaml's emitter, so names with colons, quotes or
 * non-ASCII text come back as they were saved.
 */
#include "config.h"

#include "kankyo-trend-views.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#define QUOTE_MAX_CHARS 40

/* The first argument becomes the quark's name, so it must stay one word. */
/* clang-format off */
G_DEFINE_QUARK (kankyo-trend-views-error-quark, kankyo_trend_views_error)
/* clang-format on */

static const struct
{
  const char *unit;
  gint64 us;
} span_units[] = {
  { "d", G_GINT64_CONSTANT (24) * 3600 * G_USEC_PER_SEC },
  { "h", G_GINT64_CONSTANT (3600) * G_USEC_PER_SEC },
  { "min", G_GINT64_CONSTANT (60) * G_USEC_PER_SEC },
  { "s", G_USEC_PER_SEC },
};

/* ---- one view ---- */

void
kankyo_trend_view_free (KankyoTrendView *view)
{
  if (view == NULL)
    return;
  g_free (view->name);
  g_strfreev (view->pens);
  g_free (view);
}

static char *
expected_name (void)
{
  return g_strdup_printf (_ ("one line of text of 1 to %d characters, without spaces at either end"),
                          KANKYO_TREND_VIEWS_MAX_NAME);
}

static char *
expected_tag (void)
{
  return g_strdup_printf (_ ("a tag name such as ahu1.supply_temp (letters, digits, '.', '-' and '_', "
                             "at most %d characters)"),
                          KANKYO_TREND_VIEWS_MAX_TAG);
}

static gboolean
name_is_valid (const char *name)
{
  glong n;

  if (name == NULL || !g_utf8_validate (name, -1, NULL))
    return FALSE;
  n = g_utf8_strlen (name, -1);
  if (n < 1 || n > KANKYO_TREND_VIEWS_MAX_NAME)
    return FALSE;
  if (g_unichar_isspace (g_utf8_get_char (name))
      || g_unichar_isspace (g_utf8_get_char (g_utf8_prev_char (name + strlen (name)))))
    return FALSE;
  for (const char *p = name; *p != '\0'; p = g_utf8_next_char (p))
    if (g_unichar_iscntrl (g_utf8_get_char (p)))
      return FALSE;
  return TRUE;
}

static gboolean
tag_is_valid (const char *tag)
{
  gsize n;

  if (tag == NULL)
    return FALSE;
  n = strlen (tag);
  if (n < 1 || n > KANKYO_TREND_VIEWS_MAX_TAG)
    return FALSE;
  for (const char *p = tag; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '.' && *p != '-' && *p != '_')
      return FALSE;
  return TRUE;
}

gboolean
kankyo_trend_views_check_name (const char *name, GError **error)
{
  g_autofree char *expected = NULL;

  if (name_is_valid (name))
    return TRUE;
  expected = expected_name ();
  /* Translators: %s says what a view's name must be */
  g_set_error (error, KANKYO_TREND_VIEWS_ERROR, KANKYO_TREND_VIEWS_ERROR_INVALID, _ ("A view's name is %s."),
               expected);
  return FALSE;
}

gboolean
kankyo_trend_views_check_tag (const char *tag, GError **error)
{
  g_autofree char *expected = NULL;

  if (tag_is_valid (tag))
    return TRUE;
  expected = expected_tag ();
  g_set_error (error, KANKYO_TREND_VIEWS_ERROR, KANKYO_TREND_VIEWS_ERROR_INVALID,
               _ ("'%s' cannot be a pen: expected %s."), tag != NULL ? tag : "", expected);
  return FALSE;
}

static gboolean
check_span (gint64 span_us, GError **error)
{
  if (span_us == 0
      || (span_us >= KANKYO_TREND_VIEWS_MIN_SPAN_US && span_us <= KANKYO_TREND_VIEWS_MAX_SPAN_US))
    return TRUE;
  g_set_error (error, KANKYO_TREND_VIEWS_ERROR, KANKYO_TREND_VIEWS_ERROR_INVALID,
               _ ("A view spans from 10 seconds to 366 days."));
  return FALSE;
}

KankyoTrendView *
kankyo_trend_view_new (const char *name, gint64 span_us, const char *const *pens, GError **error)
{
  g_autoptr (KankyoTrendView) view = NULL;
  guint n = pens != NULL ? g_strv_length ((char **) pens) : 0;

  if (!kankyo_trend_views_check_name (name, error) || !check_span (span_us, error))
    return NULL;
  if (n < 1 || n > KANKYO_TREND_VIEWS_MAX_PENS)
    {
      g_set_error (error, KANKYO_TREND_VIEWS_ERROR, KANKYO_TREND_VIEWS_ERROR_INVALID,
                   _ ("A view holds 1 to %d pens, not %u."), KANKYO_TREND_VIEWS_MAX_PENS, n);
      return NULL;
    }
  for (guint i = 0; i < n; i++)
    {
      if (!kankyo_trend_views_check_tag (pens[i], error))
        return NULL;
      for (guint j = 0; j < i; j++)
        if (g_str_equal (pens[i], pens[j]))
          {
            g_set_error (error, KANKYO_TREND_VIEWS_ERROR, KANKYO_TREND_VIEWS_ERROR_INVALID,
                         _ ("'%s' is a pen of the view twice."), pens[i]);
            return NULL;
          }
    }
  view = g_new0 (KankyoTrendView, 1);
  view->name = g_strdup (name);
  view->span_us = span_us;
  view->pens = g_strdupv ((char **) pens);
  return g_steal_pointer (&view);
}

/* ---- the set of views ---- */

KankyoTrendView *
kankyo_trend_views_find (GPtrArray *views, const char *name)
{
  for (guint i = 0; i < views->len; i++)
    {
      KankyoTrendView *view = g_ptr_array_index (views, i);

      if (g_strcmp0 (view->name, name) == 0)
        return view;
    }
  return NULL;
}

gboolean
kankyo_trend_views_put (GPtrArray *views, KankyoTrendView *view, GError **error)
{
  g_return_val_if_fail (views != NULL, FALSE);
  g_return_val_if_fail (view != NULL, FALSE);

  for (guint i = 0; i < views->len; i++)
    if (g_str_equal (((KankyoTrendView *) g_ptr_array_index (views, i))->name, view->name))
      {
        kankyo_trend_view_free (g_ptr_array_index (views, i));
        views->pdata[i] = view;
        return TRUE;
      }
  if (views->len >= KANKYO_TREND_VIEWS_MAX_VIEWS)
    {
      g_set_error (error, KANKYO_TREND_VIEWS_ERROR, KANKYO_TREND_VIEWS_ERROR_INVALID,
                   _ ("A project keeps at most %d views; delete one first."), KANKYO_TREND_VIEWS_MAX_VIEWS);
      kankyo_trend_view_free (view);
      return FALSE;
    }
  g_ptr_array_add (views, view);
  return TRUE;
}

gboolean
kankyo_trend_views_remove (GPtrArray *views, const char *name)
{
  KankyoTrendView *view = kankyo_trend_views_find (views, name);

  return view != NULL && g_ptr_array_remove (views, view);
}

char *
kankyo_trend_views_path (const KankyoProject *project, const char *data_dir)
{
  g_autofree char *base = NULL;
  gsize n;

  g_return_val_if_fail (project != NULL, NULL);

  if (project->dir == NULL || project->path == NULL)
    {
      g_return_val_if_fail (data_dir != NULL, NULL);
      return g_build_filename (data_dir, "views.yaml", NULL);
    }
  base = g_path_get_basename (project->path);
  n = strlen (base);
  if (n > 5 && g_str_has_suffix (base, ".yaml"))
    base[n - 5] = '\0';
  else if (n > 4 && g_str_has_suffix (base, ".yml"))
    base[n - 4] = '\0';
  return g_strdup_printf ("%s%s%s.views.yaml", project->dir, G_DIR_SEPARATOR_S, base);
}

/* ---- reading ---- */

typedef struct
{
  yaml_parser_t parser;
  const char *name;
  const guint8 *data;
  gsize size;
  yaml_event_t event;
  gboolean have_event;
  GPtrArray *views;
  GHashTable *view_lines; /* name -> line (1-based) where it was defined */
} Reader;

/* 'text' for messages, short and with control characters escaped, so a
 * stray byte cannot garble a terminal or a log. */
static char *
quote_text (const char *text, gsize length)
{
  GString *s = g_string_new ("'");
  const char *p = text;
  const char *end = text + length;

  for (guint n = 0; p < end; n++)
    {
      gunichar c = g_utf8_get_char_validated (p, end - p);

      if (n == QUOTE_MAX_CHARS)
        {
          g_string_append (s, "...");
          break;
        }
      if (c == (gunichar) -1 || c == (gunichar) -2)
        {
          g_string_append_printf (s, "\\x%02X", (guint8) *p);
          p++;
          continue;
        }
      if (g_unichar_iscntrl (c))
        g_string_append_printf (s, "\\u%04X", c);
      else
        g_string_append_len (s, p, g_utf8_next_char (p) - p);
      p = g_utf8_next_char (p);
    }
  g_string_append_c (s, '\'');
  return g_string_free (s, FALSE);
}

static gboolean
event_is_null (const yaml_event_t *event)
{
  const char *text = (const char *) event->data.scalar.value;

  if (event->type != YAML_SCALAR_EVENT || event->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
    return FALSE;
  return event->data.scalar.length == 0 || g_str_equal (text, "~") || g_str_equal (text, "null")
         || g_str_equal (text, "Null") || g_str_equal (text, "NULL");
}

/* What an event starts, for "expected X, found Y". */
static char *
describe_event (const yaml_event_t *event)
{
  switch (event->type)
    {
      case YAML_MAPPING_START_EVENT:
        return g_strdup (_ ("a mapping"));
      case YAML_SEQUENCE_START_EVENT:
        return g_strdup (_ ("a list"));
      case YAML_SCALAR_EVENT:
        if (event_is_null (event))
          return g_strdup (_ ("nothing"));
        return quote_text ((const char *) event->data.scalar.value, event->data.scalar.length);
      case YAML_MAPPING_END_EVENT:
      case YAML_SEQUENCE_END_EVENT:
      case YAML_DOCUMENT_END_EVENT:
      case YAML_STREAM_END_EVENT:
        return g_strdup (_ ("the end of the section"));
      case YAML_NO_EVENT:
      case YAML_STREAM_START_EVENT:
      case YAML_DOCUMENT_START_EVENT:
      case YAML_ALIAS_EVENT:
      default:
        return g_strdup (_ ("nothing"));
    }
}

static void
set_error_at (Reader *r, const yaml_mark_t *mark, gint code, GError **error, const char *format, ...)
    G_GNUC_PRINTF (5, 6);

static void
set_error_at (Reader *r, const yaml_mark_t *mark, gint code, GError **error, const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  /* libyaml counts from 0; people count from 1. */
  g_set_error (error, KANKYO_TREND_VIEWS_ERROR, code, "%s:%zu:%zu: %s", r->name, mark->line + 1,
               mark->column + 1, message);
}

/* "KEY: expected EXPECTED, found WHAT", at the current event. */
static void
set_expected_error (Reader *r, const char *key, const char *expected, GError **error)
{
  g_autofree char *found = describe_event (&r->event);

  /* Translators: KEY: expected WHAT, found WHAT-IS-THERE */
  set_error_at (r, &r->event.start_mark, KANKYO_TREND_VIEWS_ERROR_INVALID, error,
                _ ("%s: expected %s, found %s"), key, expected, found);
}

static void
set_parser_error (Reader *r, GError **error)
{
  const char *problem = r->parser.problem != NULL ? r->parser.problem : _ ("unknown error");

  if (r->parser.error == YAML_READER_ERROR)
    {
      /* The reader reports a byte offset, not a mark. */
      gsize offset = MIN (r->parser.problem_offset, r->size);
      yaml_mark_t mark = { 0 };

      for (gsize i = 0; i < offset; i++)
        {
          if (r->data[i] == '\n')
            {
              mark.line++;
              mark.column = 0;
            }
          else if ((r->data[i] & 0xC0) != 0x80)
            mark.column++;
        }
      set_error_at (r, &mark, KANKYO_TREND_VIEWS_ERROR_SYNTAX, error, _ ("not UTF-8 text: %s"), problem);
      return;
    }
  if (r->parser.error == YAML_SCANNER_ERROR || r->parser.error == YAML_PARSER_ERROR)
    {
      g_autoptr (GString) message = g_string_new (NULL);

      /* Translators: %s is libyaml's own description of the problem */
      g_string_printf (message, _ ("YAML syntax error: %s"), problem);
      if (r->parser.context != NULL)
        g_string_append_printf (message, " (%s)", r->parser.context);
      set_error_at (r, &r->parser.problem_mark, KANKYO_TREND_VIEWS_ERROR_SYNTAX, error, "%s", message->str);
      return;
    }
  g_set_error (error, KANKYO_TREND_VIEWS_ERROR, KANKYO_TREND_VIEWS_ERROR_SYNTAX,
               _ ("%s: cannot parse the file: %s"), r->name, problem);
}

/* The next event, with anchors, aliases and explicit tags refused. */
static gboolean
next (Reader *r, GError **error)
{
  const yaml_char_t *anchor = NULL;
  const yaml_char_t *tag = NULL;

  if (r->have_event)
    yaml_event_delete (&r->event);
  r->have_event = FALSE;
  if (!yaml_parser_parse (&r->parser, &r->event))
    {
      set_parser_error (r, error);
      return FALSE;
    }
  r->have_event = TRUE;

  switch (r->event.type)
    {
      case YAML_ALIAS_EVENT:
        set_error_at (r, &r->event.start_mark, KANKYO_TREND_VIEWS_ERROR_INVALID, error,
                      _ ("aliases such as '*%s' are not supported; write the value out"),
                      r->event.data.alias.anchor);
        return FALSE;
      case YAML_SCALAR_EVENT:
        anchor = r->event.data.scalar.anchor;
        tag = r->event.data.scalar.tag;
        break;
      case YAML_SEQUENCE_START_EVENT:
        anchor = r->event.data.sequence_start.anchor;
        tag = r->event.data.sequence_start.tag;
        break;
      case YAML_MAPPING_START_EVENT:
        anchor = r->event.data.mapping_start.anchor;
        tag = r->event.data.mapping_start.tag;
        break;
      case YAML_NO_EVENT:
      case YAML_STREAM_START_EVENT:
      case YAML_STREAM_END_EVENT:
      case YAML_DOCUMENT_START_EVENT:
      case YAML_DOCUMENT_END_EVENT:
      case YAML_SEQUENCE_END_EVENT:
      case YAML_MAPPING_END_EVENT:
      default:
        break;
    }
  if (anchor != NULL)
    {
      set_error_at (r, &r->event.start_mark, KANKYO_TREND_VIEWS_ERROR_INVALID, error,
                    _ ("anchors such as '&%s' are not supported; write each value out"), anchor);
      return FALSE;
    }
  if (tag != NULL)
    {
      set_error_at (r, &r->event.start_mark, KANKYO_TREND_VIEWS_ERROR_INVALID, error,
                    _ ("tags such as '%s' are not supported; write the value without a tag"), tag);
      return FALSE;
    }
  return TRUE;
}

/* The current event as a non-null scalar without NUL bytes. */
static const char *
scalar_text (Reader *r)
{
  if (r->event.type != YAML_SCALAR_EVENT || event_is_null (&r->event)
      || strlen ((const char *) r->event.data.scalar.value) != r->event.data.scalar.length)
    return NULL;
  return (const char *) r->event.data.scalar.value;
}

/* A key of a mapping: one of @keys, each at most once (@seen holds the
 * marks of those already read). Returns the index, or -1 on error. */
static int
read_key (Reader *r, const char *what, const char *const *keys, yaml_mark_t *seen, GError **error)
{
  const char *text = scalar_text (r);
  g_autoptr (GString) choices = g_string_new (NULL);

  for (int i = 0; text != NULL && keys[i] != NULL; i++)
    if (g_str_equal (text, keys[i]))
      {
        if (seen[i].line != G_MAXSIZE)
          {
            set_error_at (r, &r->event.start_mark, KANKYO_TREND_VIEWS_ERROR_INVALID, error,
                          _ ("duplicate key '%s'; it is already set at line %zu, column %zu"), text,
                          seen[i].line + 1, seen[i].column + 1);
            return -1;
          }
        seen[i] = r->event.start_mark;
        return i;
      }

  for (int i = 0; keys[i] != NULL; i++)
    {
      if (i > 0)
        g_string_append (choices, keys[i + 1] == NULL ? _ (" or ") : ", ");
      g_string_append (choices, keys[i]);
    }
  if (text == NULL)
    {
      g_autofree char *expected = g_strdup_printf (_ ("a key (%s)"), choices->str);

      set_expected_error (r, what, expected, error);
    }
  else
    {
      g_autofree char *quoted = quote_text (text, strlen (text));

      /* Translators: an unknown key in a file: "unknown key 'colour' in a view; expected name, span or pens" */
      set_error_at (r, &r->event.start_mark, KANKYO_TREND_VIEWS_ERROR_INVALID, error,
                    _ ("unknown key %s in %s; expected %s"), quoted, what, choices->str);
    }
  return -1;
}

static gboolean
parse_span (const char *text, gint64 *ret_us)
{
  char *end = NULL;
  guint64 number;

  if (!g_ascii_isdigit (text[0]))
    return FALSE;
  errno = 0;
  number = g_ascii_strtoull (text, &end, 10);
  if (errno != 0 || number > G_MAXINT32)
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (span_units); i++)
    if (g_str_equal (end, span_units[i].unit))
      {
        gint64 us = (gint64) number * span_units[i].us;

        if (us < KANKYO_TREND_VIEWS_MIN_SPAN_US || us > KANKYO_TREND_VIEWS_MAX_SPAN_US)
          return FALSE;
        *ret_us = us;
        return TRUE;
      }
  return FALSE;
}

static gboolean
read_pens (Reader *r, GPtrArray *pens, GError **error)
{
  yaml_mark_t start = r->event.start_mark;

  if (r->event.type != YAML_SEQUENCE_START_EVENT)
    {
      g_autofree char *expected
          = g_strdup_printf (_ ("a list of 1 to %d tag names"), KANKYO_TREND_VIEWS_MAX_PENS);

      set_expected_error (r, "pens", expected, error);
      return FALSE;
    }
  for (;;)
    {
      const char *text;

      if (!next (r, error))
        return FALSE;
      if (r->event.type == YAML_SEQUENCE_END_EVENT)
        break;
      if (pens->len == KANKYO_TREND_VIEWS_MAX_PENS)
        {
          set_error_at (r, &r->event.start_mark, KANKYO_TREND_VIEWS_ERROR_INVALID, error,
                        _ ("pens: more than %d pens; a view holds at most %d"), KANKYO_TREND_VIEWS_MAX_PENS,
                        KANKYO_TREND_VIEWS_MAX_PENS);
          return FALSE;
        }
      text = scalar_text (r);
      if (text == NULL || !tag_is_valid (text))
        {
          g_autofree char *expected = expected_tag ();

          set_expected_error (r, "pens", expected, error);
          return FALSE;
        }
      for (guint i = 0; i < pens->len; i++)
        if (g_str_equal (text, g_ptr_array_index (pens, i)))
          {
            set_error_at (r, &r->event.start_mark, KANKYO_TREND_VIEWS_ERROR_INVALID, error,
                          _ ("pens: '%s' is listed twice"), text);
            return FALSE;
          }
      g_ptr_array_add (pens, g_strdup (text));
    }
  if (pens->len == 0)
    {
      set_error_at (r, &start, KANKYO_TREND_VIEWS_ERROR_INVALID, error,
                    _ ("pens: expected at least one tag name"));
      return FALSE;
    }
  return TRUE;
}

/* One view, from its MAPPING-START event to its MAPPING-END. */
static gboolean
read_view (Reader *r, GError **error)
{
  static const char *const keys[] = { "name", "span", "pens", NULL };
  yaml_mark_t seen[3] = { { 0, G_MAXSIZE, 0 }, { 0, G_MAXSIZE, 0 }, { 0, G_MAXSIZE, 0 } };
  yaml_mark_t start = r->event.start_mark;
  g_autoptr (GPtrArray) pens = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *name = NULL;
  KankyoTrendView *view;
  gint64 span_us = 0;

  for (;;)
    {
      int key;

      if (!next (r, error))
        return FALSE;
      if (r->event.type == YAML_MAPPING_END_EVENT)
        break;
      key = read_key (r, _ ("a view"), keys, seen, error);
      if (key < 0 || !next (r, error))
        return FALSE;
      if (key == 0)
        {
          const char *text = scalar_text (r);
          gpointer line;

          if (text == NULL || !name_is_valid (text))
            {
              g_autofree char *expected = expected_name ();

              set_expected_error (r, "name", expected, error);
              return FALSE;
            }
          line = g_hash_table_lookup (r->view_lines, text);
          if (line != NULL)
            {
              set_error_at (r, &r->event.start_mark, KANKYO_TREND_VIEWS_ERROR_INVALID, error,
                            _ ("name: a view named '%s' is already defined at line %u"), text,
                            GPOINTER_TO_UINT (line));
              return FALSE;
            }
          g_hash_table_insert (r->view_lines, g_strdup (text),
                               GUINT_TO_POINTER ((guint) r->event.start_mark.line + 1));
          name = g_strdup (text);
        }
      else if (key == 1)
        {
          const char *text = scalar_text (r);

          if (text == NULL || !parse_span (text, &span_us))
            {
              set_expected_error (r, "span", _ ("a time from 10s to 366d such as 10min, 8h or 7d"), error);
              return FALSE;
            }
        }
      else if (!read_pens (r, pens, error))
        return FALSE;
    }

  if (name == NULL || pens->len == 0)
    {
      set_error_at (r, &start, KANKYO_TREND_VIEWS_ERROR_INVALID, error, _ ("a view: the key '%s' is missing"),
                    name == NULL ? "name" : "pens");
      return FALSE;
    }
  g_ptr_array_add (pens, NULL);
  view = g_new0 (KankyoTrendView, 1);
  view->name = g_steal_pointer (&name);
  view->span_us = span_us;
  view->pens = (char **) g_ptr_array_free (g_steal_pointer (&pens), FALSE);
  g_ptr_array_add (r->views, view);
  return TRUE;
}

static gboolean
read_views (Reader *r, GError **error)
{
  if (event_is_null (&r->event))
    return TRUE;
  if (r->event.type != YAML_SEQUENCE_START_EVENT)
    {
      set_expected_error (r, "views", _ ("a list of views"), error);
      return FALSE;
    }
  for (;;)
    {
      if (!next (r, error))
        return FALSE;
      if (r->event.type == YAML_SEQUENCE_END_EVENT)
        return TRUE;
      if (r->views->len == KANKYO_TREND_VIEWS_MAX_VIEWS)
        {
          set_error_at (r, &r->event.start_mark, KANKYO_TREND_VIEWS_ERROR_INVALID, error,
                        _ ("views: more than %d views; a project keeps at most %d"),
                        KANKYO_TREND_VIEWS_MAX_VIEWS, KANKYO_TREND_VIEWS_MAX_VIEWS);
          return FALSE;
        }
      if (r->event.type != YAML_MAPPING_START_EVENT)
        {
          set_expected_error (r, "views", _ ("a view (a mapping with name and pens)"), error);
          return FALSE;
        }
      if (!read_view (r, error))
        return FALSE;
    }
}

static gboolean
read_document (Reader *r, GError **error)
{
  static const char *const keys[] = { "views", NULL };
  yaml_mark_t seen[1] = { { 0, G_MAXSIZE, 0 } };
  yaml_mark_t start;

  if (!next (r, error)) /* STREAM-START */
    return FALSE;
  if (!next (r, error))
    return FALSE;
  if (r->event.type == YAML_STREAM_END_EVENT)
    return TRUE; /* an empty file */
  if (!next (r, error))
    return FALSE;
  start = r->event.start_mark;
  if (r->event.type != YAML_MAPPING_START_EVENT)
    {
      set_expected_error (r, _ ("the file"), _ ("a mapping with the key 'views'"), error);
      return FALSE;
    }
  for (;;)
    {
      if (!next (r, error))
        return FALSE;
      if (r->event.type == YAML_MAPPING_END_EVENT)
        break;
      if (read_key (r, _ ("the file"), keys, seen, error) < 0 || !next (r, error) || !read_views (r, error))
        return FALSE;
    }
  if (seen[0].line == G_MAXSIZE)
    {
      set_error_at (r, &start, KANKYO_TREND_VIEWS_ERROR_INVALID, error, _ ("the key 'views' is missing"));
      return FALSE;
    }
  if (!next (r, error)) /* DOCUMENT-END */
    return FALSE;
  if (!next (r, error))
    return FALSE;
  if (r->event.type != YAML_STREAM_END_EVENT)
    {
      set_error_at (r, &r->event.start_mark, KANKYO_TREND_VIEWS_ERROR_INVALID, error,
                    _ ("a file holds one YAML document; this starts a second one"));
      return FALSE;
    }
  return TRUE;
}

GPtrArray *
kankyo_trend_views_parse (const char *text, gsize length, const char *name, GError **error)
{
  g_autoptr (GPtrArray) views = g_ptr_array_new_with_free_func ((GDestroyNotify) kankyo_trend_view_free);
  g_autoptr (GHashTable) view_lines = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  Reader r = { 0 };
  gboolean ok;

  g_return_val_if_fail (text != NULL || length == 0, NULL);
  g_return_val_if_fail (name != NULL, NULL);

  if (length > KANKYO_TREND_VIEWS_MAX_FILE_SIZE)
    {
      g_set_error (error, KANKYO_TREND_VIEWS_ERROR, KANKYO_TREND_VIEWS_ERROR_INVALID,
                   _ ("%s: the file is %zu bytes; at most %d are allowed"), name, length,
                   KANKYO_TREND_VIEWS_MAX_FILE_SIZE);
      return NULL;
    }
  if (!yaml_parser_initialize (&r.parser))
    {
      g_set_error (error, KANKYO_TREND_VIEWS_ERROR, KANKYO_TREND_VIEWS_ERROR_IO, _ ("%s: out of memory"),
                   name);
      return NULL;
    }
  r.name = name;
  r.data = (const guint8 *) (text != NULL ? text : "");
  r.size = length;
  r.views = views;
  r.view_lines = view_lines;
  yaml_parser_set_input_string (&r.parser, r.data, r.size);
  ok = read_document (&r, error);
  if (r.have_event)
    yaml_event_delete (&r.event);
  yaml_parser_delete (&r.parser);
  return ok ? g_steal_pointer (&views) : NULL;
}

GPtrArray *
kankyo_trend_views_load (const char *path, GError **error)
{
  g_autofree char *data = NULL;
  gsize size = 0;
  gssize n;
  int fd;

  g_return_val_if_fail (path != NULL, NULL);

  fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0 && errno == ENOENT)
    return g_ptr_array_new_with_free_func ((GDestroyNotify) kankyo_trend_view_free);
  if (fd < 0)
    {
      int saved_errno = errno;

      g_set_error (error, KANKYO_TREND_VIEWS_ERROR, KANKYO_TREND_VIEWS_ERROR_IO,
                   _ ("%s: cannot open the file: %s"), path, g_strerror (saved_errno));
      return NULL;
    }
  /* One byte past the limit at most, whatever the file claims to be. */
  data = g_malloc (KANKYO_TREND_VIEWS_MAX_FILE_SIZE + 1);
  while (size <= KANKYO_TREND_VIEWS_MAX_FILE_SIZE)
    {
      n = read (fd, data + size, KANKYO_TREND_VIEWS_MAX_FILE_SIZE + 1 - size);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved_errno = errno;

          g_close (fd, NULL);
          g_set_error (error, KANKYO_TREND_VIEWS_ERROR, KANKYO_TREND_VIEWS_ERROR_IO,
                       _ ("%s: cannot read the file: %s"), path, g_strerror (saved_errno));
          return NULL;
        }
      if (n == 0)
        break;
      size += (gsize) n;
    }
  g_close (fd, NULL);
  return kankyo_trend_views_parse (data, size, path, error);
}

/* ---- writing ---- */

static int
write_to_string (void *data, unsigned char *buffer, size_t size)
{
  g_string_append_len (data, (const char *) buffer, (gssize) size);
  return 1;
}

/* A plain scalar another YAML reader would take for a null, a boolean or a
 * number is quoted, so the file means the same to every tool. */
static yaml_scalar_style_t
scalar_style (const char *text)
{
  static const char *const special[]
      = { "~", "null", "true", "false", "yes", "no", "on", "off", "y", "n", NULL };

  if (*text == '\0' || g_ascii_isdigit (*text) || *text == '-' || *text == '+' || *text == '.')
    return YAML_DOUBLE_QUOTED_SCALAR_STYLE;
  for (guint i = 0; special[i] != NULL; i++)
    if (g_ascii_strcasecmp (text, special[i]) == 0)
      return YAML_DOUBLE_QUOTED_SCALAR_STYLE;
  return YAML_ANY_SCALAR_STYLE;
}

static gboolean
emit (yaml_emitter_t *emitter, yaml_event_t *event, gboolean initialized)
{
  if (!initialized)
    return FALSE;
  return yaml_emitter_emit (emitter, event) != 0;
}

static gboolean
emit_scalar (yaml_emitter_t *emitter, const char *text, yaml_scalar_style_t style)
{
  yaml_event_t event;

  return emit (emitter, &event,
               yaml_scalar_event_initialize (&event, NULL, NULL, (yaml_char_t *) text, (int) strlen (text), 1,
                                             1, style));
}

static gboolean
emit_start (yaml_emitter_t *emitter, gboolean mapping)
{
  yaml_event_t event;

  if (mapping)
    return emit (emitter, &event,
                 yaml_mapping_start_event_initialize (&event, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE));
  return emit (emitter, &event,
               yaml_sequence_start_event_initialize (&event, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE));
}

static gboolean
emit_end (yaml_emitter_t *emitter, gboolean mapping)
{
  yaml_event_t event;

  if (mapping)
    return emit (emitter, &event, yaml_mapping_end_event_initialize (&event));
  return emit (emitter, &event, yaml_sequence_end_event_initialize (&event));
}

static char *
format_span (gint64 span_us)
{
  for (guint i = 0; i < G_N_ELEMENTS (span_units); i++)
    if (span_us % span_units[i].us == 0)
      return g_strdup_printf ("%" G_GINT64_FORMAT "%s", span_us / span_units[i].us, span_units[i].unit);
  /* Spans are whole seconds; a finer one is rounded up to the next. */
  return g_strdup_printf ("%" G_GINT64_FORMAT "s", (span_us + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC);
}

static gboolean
emit_view (yaml_emitter_t *emitter, const KankyoTrendView *view)
{
  if (!emit_start (emitter, TRUE) || !emit_scalar (emitter, "name", YAML_PLAIN_SCALAR_STYLE)
      || !emit_scalar (emitter, view->name, scalar_style (view->name)))
    return FALSE;
  if (view->span_us > 0)
    {
      g_autofree char *span = format_span (view->span_us);

      if (!emit_scalar (emitter, "span", YAML_PLAIN_SCALAR_STYLE)
          || !emit_scalar (emitter, span, YAML_PLAIN_SCALAR_STYLE))
        return FALSE;
    }
  if (!emit_scalar (emitter, "pens", YAML_PLAIN_SCALAR_STYLE) || !emit_start (emitter, FALSE))
    return FALSE;
  for (guint i = 0; view->pens[i] != NULL; i++)
    if (!emit_scalar (emitter, view->pens[i], scalar_style (view->pens[i])))
      return FALSE;
  return emit_end (emitter, FALSE) && emit_end (emitter, TRUE);
}

char *
kankyo_trend_views_to_yaml (GPtrArray *views, GError **error)
{
  g_autoptr (GString) out = NULL;
  yaml_emitter_t emitter;
  yaml_event_t event;
  gboolean ok;

  g_return_val_if_fail (views != NULL, NULL);

  if (views->len > KANKYO_TREND_VIEWS_MAX_VIEWS)
    {
      g_set_error (error, KANKYO_TREND_VIEWS_ERROR, KANKYO_TREND_VIEWS_ERROR_INVALID,
                   _ ("A project keeps at most %d views; delete one first."), KANKYO_TREND_VIEWS_MAX_VIEWS);
      return NULL;
    }
  for (guint i = 0; i < views->len; i++)
    {
      const KankyoTrendView *view = g_ptr_array_index (views, i);
      g_autoptr (KankyoTrendView) copy
          = kankyo_trend_view_new (view->name, view->span_us, (const char *const *) view->pens, error);

      if (copy == NULL)
        return NULL;
    }

  out = g_string_new ("# Trend views of this project, written by Kankyo: each names up to 8 pens\n"
                      "# (tags) and, optionally, the time span it shows (10min, 8h, 7d).\n");
  if (!yaml_emitter_initialize (&emitter))
    {
      g_set_error (error, KANKYO_TREND_VIEWS_ERROR, KANKYO_TREND_VIEWS_ERROR_IO, _ ("out of memory"));
      return NULL;
    }
  yaml_emitter_set_output (&emitter, write_to_string, out);
  yaml_emitter_set_unicode (&emitter, 1);
  yaml_emitter_set_indent (&emitter, 2);
  yaml_emitter_set_width (&emitter, -1);

  ok = emit (&emitter, &event, yaml_stream_start_event_initialize (&event, YAML_UTF8_ENCODING))
       && emit (&emitter, &event, yaml_document_start_event_initialize (&event, NULL, NULL, NULL, 1))
       && emit_start (&emitter, TRUE) && emit_scalar (&emitter, "views", YAML_PLAIN_SCALAR_STYLE)
       && emit_start (&emitter, FALSE);
  for (guint i = 0; ok && i < views->len; i++)
    ok = emit_view (&emitter, g_ptr_array_index (views, i));
  ok = ok && emit_end (&emitter, FALSE) && emit_end (&emitter, TRUE)
       && emit (&emitter, &event, yaml_document_end_event_initialize (&event, 1))
       && emit (&emitter, &event, yaml_stream_end_event_initialize (&event)) && yaml_emitter_flush (&emitter);
  if (!ok)
    {
      g_set_error (error, KANKYO_TREND_VIEWS_ERROR, KANKYO_TREND_VIEWS_ERROR_IO,
                   _ ("cannot write the views: %s"),
                   emitter.problem != NULL ? emitter.problem : _ ("unknown error"));
      yaml_emitter_delete (&emitter);
      return NULL;
    }
  yaml_emitter_delete (&emitter);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

gboolean
kankyo_trend_views_save (const char *path, GPtrArray *views, GError **error)
{
  g_autofree char *text = NULL;
  g_autofree char *dir = NULL;
  g_autoptr (GError) local_error = NULL;

  g_return_val_if_fail (path != NULL, FALSE);

  text = kankyo_trend_views_to_yaml (views, error);
  if (text == NULL)
    return FALSE;
  dir = g_path_get_dirname (path);
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, KANKYO_TREND_VIEWS_ERROR, KANKYO_TREND_VIEWS_ERROR_IO,
                   _ ("%s: cannot create the folder: %s"), dir, g_strerror (saved_errno));
      return FALSE;
    }
  if (!g_file_set_contents_full (path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644, &local_error))
    {
      g_set_error (error, KANKYO_TREND_VIEWS_ERROR, KANKYO_TREND_VIEWS_ERROR_IO, _ ("%s: cannot save: %s"),
                   path, local_error->message);
      return FALSE;
    }
  return TRUE;
}
