/* kankyo-yaml.c: YAML documents with line and column for every error.
 *
 * A file is parsed twice. The first pass walks libyaml's event stream to
 * enforce the bounds (depth, node count, a single document) and to refuse
 * anchors, aliases and explicit tags before any tree is built; the second
 * pass loads the document tree, whose nodes keep their marks. libyaml counts
 * lines and columns from 0; people count from 1, so every message adds one.
 */
#include "config.h"

#include "kankyo-yaml.h"
#include "kankyo-project.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#define QUOTE_MAX_CHARS 40
#define READ_CHUNK 65536

struct _KankyoYaml
{
  yaml_document_t document;
  gboolean loaded;
  char *name;
};

/* ---- messages ---- */

/* 'text' for messages: at most QUOTE_MAX_CHARS characters, control
 * characters escaped so a stray byte cannot garble a terminal or a log. */
static char *
quote_text (const char *text, gsize length)
{
  GString *s = g_string_new ("'");
  const char *p = text;
  const char *end = text + length;
  guint n = 0;

  while (p < end)
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
        }
      else
        {
          if (c == '\n')
            g_string_append (s, "\\n");
          else if (c == '\t')
            g_string_append (s, "\\t");
          else if (g_unichar_iscntrl (c))
            g_string_append_printf (s, "\\u%04X", c);
          else
            g_string_append_len (s, p, g_utf8_next_char (p) - p);
          p = g_utf8_next_char (p);
        }
      n++;
    }
  g_string_append_c (s, '\'');
  return g_string_free (s, FALSE);
}

static gboolean
scalar_is_null (yaml_node_t *node)
{
  const char *text = (const char *) node->data.scalar.value;

  if (node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
    return FALSE;
  return node->data.scalar.length == 0 || g_str_equal (text, "~") || g_str_equal (text, "null")
         || g_str_equal (text, "Null") || g_str_equal (text, "NULL");
}

/* What was found, for "expected X, found Y". */
static char *
describe_node (yaml_node_t *node)
{
  switch (node->type)
    {
      case YAML_MAPPING_NODE:
        return g_strdup (_ ("a mapping"));
      case YAML_SEQUENCE_NODE:
        return g_strdup (_ ("a list"));
      case YAML_SCALAR_NODE:
        if (scalar_is_null (node))
          return g_strdup (_ ("nothing"));
        return quote_text ((const char *) node->data.scalar.value, node->data.scalar.length);
      case YAML_NO_NODE:
      default:
        return g_strdup (_ ("nothing"));
    }
}

/* "a, b or c" */
static char *
join_choices (const char *const *choices, const char *last_separator)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; choices[i] != NULL; i++)
    {
      if (i > 0)
        g_string_append (s, choices[i + 1] == NULL ? last_separator : ", ");
      g_string_append (s, choices[i]);
    }
  return g_string_free (s, FALSE);
}

/* Edit distance for "did you mean", only between short words. */
static guint
edit_distance (const char *a, const char *b)
{
  gsize la = strlen (a);
  gsize lb = strlen (b);
  guint row[KANKYO_YAML_MAX_NAME + 1];

  if (la > KANKYO_YAML_MAX_NAME || lb > KANKYO_YAML_MAX_NAME)
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
          guint cost = a[i - 1] == b[j - 1] ? 0 : 1;

          row[j] = MIN (MIN (row[j] + 1, row[j - 1] + 1), diagonal + cost);
          diagonal = above;
        }
    }
  return row[lb];
}

static void
set_error_at_mark (GError **error, gint code, const char *name, const yaml_mark_t *mark, const char *message)
{
  g_set_error (error, KANKYO_PROJECT_ERROR, code, "%s:%zu:%zu: %s", name, mark->line + 1, mark->column + 1,
               message);
}

/* 0-based line and column of a character -> the bytes there, or NULL. */
static const char *
text_at (const guint8 *data, gsize size, gsize line, gsize column)
{
  const char *p = (const char *) data;
  const char *end = p + size;

  while (line > 0 && p < end)
    {
      if (*p == '\n')
        line--;
      p++;
    }
  while (column > 0 && p < end)
    {
      p = g_utf8_find_next_char (p, end);
      if (p == NULL)
        return NULL;
      column--;
    }
  return p < end ? p : NULL;
}

static void
set_parser_error (yaml_parser_t *parser, const char *name, const guint8 *data, gsize size, GError **error)
{
  g_autoptr (GString) message = NULL;
  const char *problem = parser->problem != NULL ? parser->problem : _ ("unknown error");
  const char *at;

  switch (parser->error)
    {
      case YAML_READER_ERROR:
        {
          /* The reader reports a byte offset, not a mark. */
          gsize offset = MIN (parser->problem_offset, size);
          gsize line = 1;
          gsize column = 1;

          for (gsize i = 0; i < offset; i++)
            {
              if (data[i] == '\n')
                {
                  line++;
                  column = 1;
                }
              else if ((data[i] & 0xC0) != 0x80)
                column++;
            }
          if (parser->problem_value >= 0)
            g_set_error (error, KANKYO_PROJECT_ERROR, KANKYO_PROJECT_ERROR_SYNTAX,
                         _ ("%s:%zu:%zu: not UTF-8 text: %s (byte 0x%02X)"), name, line, column, problem,
                         (guint) parser->problem_value & 0xFF);
          else
            g_set_error (error, KANKYO_PROJECT_ERROR, KANKYO_PROJECT_ERROR_SYNTAX,
                         _ ("%s:%zu:%zu: not UTF-8 text: %s"), name, line, column, problem);
          return;
        }

      case YAML_SCANNER_ERROR:
      case YAML_PARSER_ERROR:
      case YAML_COMPOSER_ERROR:
        message = g_string_new (_ ("YAML syntax error: "));
        g_string_append (message, problem);
        if (parser->context != NULL)
          {
            if (parser->context_mark.line != parser->problem_mark.line
                || parser->context_mark.column != parser->problem_mark.column)
              g_string_append_printf (message, _ (" (%s at line %zu, column %zu)"), parser->context,
                                      parser->context_mark.line + 1, parser->context_mark.column + 1);
            else
              g_string_append_printf (message, " (%s)", parser->context);
          }
        at = text_at (data, size, parser->problem_mark.line, parser->problem_mark.column);
        if (at != NULL && *at == '\t')
          g_string_append (message, _ ("; indent with spaces, YAML does not allow tabs there"));
        set_error_at_mark (error, KANKYO_PROJECT_ERROR_SYNTAX, name, &parser->problem_mark, message->str);
        return;

      case YAML_MEMORY_ERROR:
      case YAML_NO_ERROR:
      case YAML_WRITER_ERROR:
      case YAML_EMITTER_ERROR:
      default:
        g_set_error (error, KANKYO_PROJECT_ERROR, KANKYO_PROJECT_ERROR_SYNTAX,
                     _ ("%s: cannot parse the file: %s"), name, problem);
        return;
    }
}

/* ---- loading ---- */

/* The first pass: bounds and refusals, on events, before a tree exists. */
static gboolean
check_events (const guint8 *data, gsize size, const char *name, GError **error)
{
  yaml_parser_t parser;
  gboolean ok = FALSE;
  gboolean done = FALSE;
  guint depth = 0;
  guint documents = 0;
  guint nodes = 0;

  if (!yaml_parser_initialize (&parser))
    {
      g_set_error (error, KANKYO_PROJECT_ERROR, KANKYO_PROJECT_ERROR_IO, _ ("%s: out of memory"), name);
      return FALSE;
    }
  yaml_parser_set_input_string (&parser, data, size);

  while (!done)
    {
      yaml_event_t event;
      const yaml_char_t *anchor = NULL;
      const yaml_char_t *tag = NULL;
      g_autofree char *problem = NULL;

      if (!yaml_parser_parse (&parser, &event))
        {
          set_parser_error (&parser, name, data, size, error);
          goto out;
        }

      switch (event.type)
        {
          case YAML_STREAM_END_EVENT:
            done = TRUE;
            break;
          case YAML_DOCUMENT_START_EVENT:
            if (++documents > 1)
              problem = g_strdup (_ ("a file holds one YAML document; this starts a second one"));
            break;
          case YAML_ALIAS_EVENT:
            problem = g_strdup_printf (_ ("aliases such as '*%s' are not supported; "
                                          "write the value out"),
                                       event.data.alias.anchor);
            break;
          case YAML_SCALAR_EVENT:
            anchor = event.data.scalar.anchor;
            tag = event.data.scalar.tag;
            nodes++;
            break;
          case YAML_SEQUENCE_START_EVENT:
            anchor = event.data.sequence_start.anchor;
            tag = event.data.sequence_start.tag;
            nodes++;
            depth++;
            break;
          case YAML_MAPPING_START_EVENT:
            anchor = event.data.mapping_start.anchor;
            tag = event.data.mapping_start.tag;
            nodes++;
            depth++;
            break;
          case YAML_SEQUENCE_END_EVENT:
          case YAML_MAPPING_END_EVENT:
            depth--;
            break;
          case YAML_NO_EVENT:
          case YAML_STREAM_START_EVENT:
          case YAML_DOCUMENT_END_EVENT:
          default:
            break;
        }

      if (problem == NULL && anchor != NULL)
        problem = g_strdup_printf (_ ("anchors such as '&%s' are not supported; "
                                      "write each value out"),
                                   anchor);
      if (problem == NULL && tag != NULL)
        problem = g_strdup_printf (_ ("tags such as '%s' are not supported; "
                                      "write the value without a tag"),
                                   tag);
      if (problem == NULL && depth > KANKYO_YAML_MAX_DEPTH)
        problem = g_strdup_printf (_ ("nested deeper than %d levels"), KANKYO_YAML_MAX_DEPTH);
      if (problem == NULL && nodes > KANKYO_YAML_MAX_NODES)
        problem = g_strdup_printf (_ ("more than %d values in one file"), KANKYO_YAML_MAX_NODES);

      if (problem != NULL)
        set_error_at_mark (error, KANKYO_PROJECT_ERROR_INVALID, name, &event.start_mark, problem);
      yaml_event_delete (&event);
      if (problem != NULL)
        goto out;
    }
  ok = TRUE;

out:
  yaml_parser_delete (&parser);
  return ok;
}

KankyoYaml *
kankyo_yaml_load (GBytes *bytes, const char *name, GError **error)
{
  g_autoptr (KankyoYaml) yaml = NULL;
  yaml_parser_t parser;
  const guint8 *data;
  gsize size = 0;

  g_return_val_if_fail (bytes != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);

  data = g_bytes_get_data (bytes, &size);
  if (data == NULL)
    data = (const guint8 *) "";
  if (size > KANKYO_YAML_MAX_FILE_SIZE)
    {
      g_set_error (error, KANKYO_PROJECT_ERROR, KANKYO_PROJECT_ERROR_INVALID,
                   _ ("%s: the file is %zu bytes; at most %d (4 MiB) are allowed"), name, size,
                   KANKYO_YAML_MAX_FILE_SIZE);
      return NULL;
    }

  if (!check_events (data, size, name, error))
    return NULL;

  yaml = g_new0 (KankyoYaml, 1);
  yaml->name = g_strdup (name);
  if (!yaml_parser_initialize (&parser))
    {
      g_set_error (error, KANKYO_PROJECT_ERROR, KANKYO_PROJECT_ERROR_IO, _ ("%s: out of memory"), name);
      return NULL;
    }
  yaml_parser_set_input_string (&parser, data, size);
  if (!yaml_parser_load (&parser, &yaml->document))
    {
      set_parser_error (&parser, name, data, size, error);
      yaml_parser_delete (&parser);
      return NULL;
    }
  yaml->loaded = TRUE;
  yaml_parser_delete (&parser);

  if (yaml_document_get_root_node (&yaml->document) == NULL)
    {
      g_set_error (error, KANKYO_PROJECT_ERROR, KANKYO_PROJECT_ERROR_INVALID, _ ("%s:1:1: the file is empty"),
                   name);
      return NULL;
    }
  return g_steal_pointer (&yaml);
}

GBytes *
kankyo_yaml_read_file (const char *path, GError **error)
{
  g_autoptr (GByteArray) buffer = NULL;
  int fd;

  g_return_val_if_fail (path != NULL, NULL);

  fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0)
    {
      int saved_errno = errno;

      g_set_error (error, KANKYO_PROJECT_ERROR, KANKYO_PROJECT_ERROR_IO, _ ("%s: cannot open the file: %s"),
                   path, g_strerror (saved_errno));
      return NULL;
    }

  /* Read one chunk past the limit at most, whatever the file claims to be. */
  buffer = g_byte_array_new ();
  for (;;)
    {
      guint old_len = buffer->len;
      gssize n;

      if (old_len > KANKYO_YAML_MAX_FILE_SIZE)
        {
          g_close (fd, NULL);
          g_set_error (error, KANKYO_PROJECT_ERROR, KANKYO_PROJECT_ERROR_INVALID,
                       _ ("%s: the file is larger than %d bytes (4 MiB), the most allowed"), path,
                       KANKYO_YAML_MAX_FILE_SIZE);
          return NULL;
        }
      g_byte_array_set_size (buffer, old_len + READ_CHUNK);
      n = read (fd, buffer->data + old_len, READ_CHUNK);
      if (n < 0 && errno == EINTR)
        {
          g_byte_array_set_size (buffer, old_len);
          continue;
        }
      if (n < 0)
        {
          int saved_errno = errno;

          g_close (fd, NULL);
          g_set_error (error, KANKYO_PROJECT_ERROR, KANKYO_PROJECT_ERROR_IO,
                       _ ("%s: cannot read the file: %s"), path, g_strerror (saved_errno));
          return NULL;
        }
      g_byte_array_set_size (buffer, old_len + (guint) n);
      if (n == 0)
        break;
    }
  g_close (fd, NULL);

  return g_byte_array_free_to_bytes (g_steal_pointer (&buffer));
}

void
kankyo_yaml_free (KankyoYaml *yaml)
{
  if (yaml == NULL)
    return;
  if (yaml->loaded)
    yaml_document_delete (&yaml->document);
  g_free (yaml->name);
  g_free (yaml);
}

const char *
kankyo_yaml_get_name (KankyoYaml *yaml)
{
  return yaml->name;
}

yaml_node_t *
kankyo_yaml_get_root (KankyoYaml *yaml)
{
  return yaml_document_get_root_node (&yaml->document);
}

char *
kankyo_yaml_location (KankyoYaml *yaml, yaml_node_t *node)
{
  return g_strdup_printf ("%s:%zu:%zu", yaml->name, node->start_mark.line + 1, node->start_mark.column + 1);
}

void
kankyo_yaml_set_error (KankyoYaml *yaml, yaml_node_t *node, GError **error, const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  set_error_at_mark (error, KANKYO_PROJECT_ERROR_INVALID, yaml->name, &node->start_mark, message);
}

void
kankyo_yaml_set_expected_error (
    KankyoYaml *yaml, yaml_node_t *node, const char *key, const char *expected, GError **error)
{
  g_autofree char *found = describe_node (node);

  kankyo_yaml_set_error (yaml, node, error, _ ("%s: expected %s, found %s"), key, expected, found);
}

/* ---- mappings and sequences ---- */

gboolean
kankyo_yaml_get_fields (KankyoYaml *yaml,
                        yaml_node_t *node,
                        const char *what,
                        const char *const *keys,
                        yaml_node_t **ret_values,
                        GError **error)
{
  g_autofree yaml_node_t **values = NULL;
  g_autofree yaml_node_t **key_nodes = NULL;
  guint n_keys = g_strv_length ((char **) keys);
  yaml_node_pair_t *pair;

  if (node->type != YAML_MAPPING_NODE)
    {
      g_autofree char *expected = g_strdup_printf (_ ("a mapping of %s settings"), what);

      kankyo_yaml_set_expected_error (yaml, node, what, expected, error);
      return FALSE;
    }

  values = g_new0 (yaml_node_t *, n_keys);
  key_nodes = g_new0 (yaml_node_t *, n_keys);
  for (pair = node->data.mapping.pairs.start; pair < node->data.mapping.pairs.top; pair++)
    {
      yaml_node_t *key = yaml_document_get_node (&yaml->document, pair->key);
      yaml_node_t *value = yaml_document_get_node (&yaml->document, pair->value);
      const char *text;
      guint i;

      if (key->type != YAML_SCALAR_NODE || scalar_is_null (key))
        {
          g_autofree char *found = describe_node (key);

          kankyo_yaml_set_error (yaml, key, error, _ ("%s: expected a key name, found %s"), what, found);
          return FALSE;
        }
      text = (const char *) key->data.scalar.value;
      for (i = 0; i < n_keys; i++)
        if (strlen (text) == key->data.scalar.length && g_str_equal (text, keys[i]))
          break;

      if (i == n_keys)
        {
          g_autofree char *quoted = quote_text (text, key->data.scalar.length);
          g_autofree char *list = join_choices (keys, ", ");
          const char *closest = NULL;
          guint best = 3;

          for (guint j = 0; j < n_keys; j++)
            {
              guint d = edit_distance (text, keys[j]);

              if (d < best)
                {
                  best = d;
                  closest = keys[j];
                }
            }
          if (closest != NULL)
            kankyo_yaml_set_error (yaml, key, error,
                                   _ ("unknown key %s in %s (did you mean '%s'?); expected one of: %s"),
                                   quoted, what, closest, list);
          else
            kankyo_yaml_set_error (yaml, key, error, _ ("unknown key %s in %s; expected one of: %s"), quoted,
                                   what, list);
          return FALSE;
        }
      if (values[i] != NULL)
        {
          kankyo_yaml_set_error (yaml, key, error,
                                 _ ("duplicate key '%s'; it is already set at line %zu, column %zu"), keys[i],
                                 key_nodes[i]->start_mark.line + 1, key_nodes[i]->start_mark.column + 1);
          return FALSE;
        }
      values[i] = value;
      key_nodes[i] = key;
    }

  memcpy (ret_values, values, n_keys * sizeof *values);
  return TRUE;
}

yaml_node_t *
kankyo_yaml_get_key_node (KankyoYaml *yaml, yaml_node_t *mapping, yaml_node_t *value)
{
  g_return_val_if_fail (mapping->type == YAML_MAPPING_NODE, value);

  for (yaml_node_pair_t *pair = mapping->data.mapping.pairs.start; pair < mapping->data.mapping.pairs.top;
       pair++)
    if (yaml_document_get_node (&yaml->document, pair->value) == value)
      return yaml_document_get_node (&yaml->document, pair->key);
  return value;
}

gboolean
kankyo_yaml_require (KankyoYaml *yaml,
                     yaml_node_t *mapping,
                     const char *what,
                     const char *key,
                     yaml_node_t *value,
                     GError **error)
{
  if (value != NULL)
    return TRUE;
  kankyo_yaml_set_error (yaml, mapping, error, _ ("%s: missing required key '%s'"), what, key);
  return FALSE;
}

/* The shared part of getting a sequence or a mapping: its size within the
 * bounds a caller allows. */
static gboolean
check_length (KankyoYaml *yaml,
              yaml_node_t *node,
              const char *key,
              const char *expected,
              gsize length,
              guint min_items,
              guint max_items,
              guint *ret_length,
              GError **error)
{
  if (length < min_items)
    {
      kankyo_yaml_set_error (yaml, node, error, _ ("%s: expected %s with at least %u %s, found %zu"), key,
                             expected, min_items, min_items == 1 ? _ ("entry") : _ ("entries"), length);
      return FALSE;
    }
  if (length > max_items)
    {
      kankyo_yaml_set_error (yaml, node, error, _ ("%s: at most %u entries are allowed, found %zu"), key,
                             max_items, length);
      return FALSE;
    }
  *ret_length = (guint) length;
  return TRUE;
}

gboolean
kankyo_yaml_get_sequence (KankyoYaml *yaml,
                          yaml_node_t *node,
                          const char *key,
                          const char *expected,
                          guint min_items,
                          guint max_items,
                          guint *ret_length,
                          GError **error)
{
  if (node->type != YAML_SEQUENCE_NODE)
    {
      kankyo_yaml_set_expected_error (yaml, node, key, expected, error);
      return FALSE;
    }
  return check_length (yaml, node, key, expected,
                       node->data.sequence.items.top - node->data.sequence.items.start, min_items, max_items,
                       ret_length, error);
}

yaml_node_t *
kankyo_yaml_sequence_nth (KankyoYaml *yaml, yaml_node_t *sequence, guint index)
{
  g_return_val_if_fail (sequence->type == YAML_SEQUENCE_NODE, NULL);
  g_return_val_if_fail (sequence->data.sequence.items.start + index < sequence->data.sequence.items.top,
                        NULL);

  return yaml_document_get_node (&yaml->document, sequence->data.sequence.items.start[index]);
}

gboolean
kankyo_yaml_get_mapping (KankyoYaml *yaml,
                         yaml_node_t *node,
                         const char *key,
                         const char *expected,
                         guint min_items,
                         guint max_items,
                         guint *ret_length,
                         GError **error)
{
  if (node->type != YAML_MAPPING_NODE)
    {
      kankyo_yaml_set_expected_error (yaml, node, key, expected, error);
      return FALSE;
    }
  return check_length (yaml, node, key, expected,
                       node->data.mapping.pairs.top - node->data.mapping.pairs.start, min_items, max_items,
                       ret_length, error);
}

void
kankyo_yaml_mapping_nth (
    KankyoYaml *yaml, yaml_node_t *mapping, guint index, yaml_node_t **ret_key, yaml_node_t **ret_value)
{
  yaml_node_pair_t *pair;

  g_return_if_fail (mapping->type == YAML_MAPPING_NODE);
  g_return_if_fail (mapping->data.mapping.pairs.start + index < mapping->data.mapping.pairs.top);

  pair = mapping->data.mapping.pairs.start + index;
  *ret_key = yaml_document_get_node (&yaml->document, pair->key);
  *ret_value = yaml_document_get_node (&yaml->document, pair->value);
}

/* ---- scalars ---- */

gboolean
kankyo_yaml_get_scalar (KankyoYaml *yaml,
                        yaml_node_t *node,
                        const char *key,
                        const char *expected,
                        const char **ret_text,
                        GError **error)
{
  const char *text;

  if (node->type != YAML_SCALAR_NODE || scalar_is_null (node))
    {
      kankyo_yaml_set_expected_error (yaml, node, key, expected, error);
      return FALSE;
    }
  text = (const char *) node->data.scalar.value;
  if (strlen (text) != node->data.scalar.length)
    {
      kankyo_yaml_set_error (yaml, node, error, _ ("%s: expected %s, found text with a NUL character"), key,
                             expected);
      return FALSE;
    }
  *ret_text = text;
  return TRUE;
}

gboolean
kankyo_yaml_get_string (KankyoYaml *yaml,
                        yaml_node_t *node,
                        const char *key,
                        KankyoYamlStringKind kind,
                        char **ret_string,
                        GError **error)
{
  const char *expected = kind == KANKYO_YAML_STRING_LINE ? _ ("one line of text") : _ ("text");
  const char *text;

  if (!kankyo_yaml_get_scalar (yaml, node, key, expected, &text, error))
    return FALSE;
  if (*text == '\0')
    {
      kankyo_yaml_set_error (yaml, node, error, _ ("%s: expected %s, found an empty string"), key, expected);
      return FALSE;
    }
  if (g_utf8_strlen (text, -1) > KANKYO_YAML_MAX_STRING)
    {
      kankyo_yaml_set_error (yaml, node, error, _ ("%s: longer than %d characters"), key,
                             KANKYO_YAML_MAX_STRING);
      return FALSE;
    }
  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (kind == KANKYO_YAML_STRING_TEXT && (c == '\n' || c == '\t'))
        continue;
      if (g_unichar_iscntrl (c))
        {
          g_autofree char *found = describe_node (node);

          kankyo_yaml_set_error (yaml, node, error,
                                 _ ("%s: expected %s without control characters, found %s"), key, expected,
                                 found);
          return FALSE;
        }
    }
  *ret_string = g_strdup (text);
  return TRUE;
}

gboolean
kankyo_yaml_get_identifier (
    KankyoYaml *yaml, yaml_node_t *node, const char *key, gboolean allow_dot, char **ret_name, GError **error)
{
  g_autofree char *expected = NULL;
  const char *text = NULL;
  gboolean ok;

  expected = g_strdup_printf (allow_dot ? _ ("a name of lowercase letters, digits, '.', '-' and '_' "
                                             "(at most %d characters)")
                                        : _ ("a name of lowercase letters, digits, '-' and '_' "
                                             "(at most %d characters)"),
                              KANKYO_YAML_MAX_NAME);
  ok = kankyo_yaml_get_scalar (yaml, node, key, expected, &text, NULL);
  if (ok)
    ok = *text != '\0' && strlen (text) <= KANKYO_YAML_MAX_NAME;
  for (const char *p = text; ok && *p != '\0'; p++)
    ok = g_ascii_islower (*p) || g_ascii_isdigit (*p) || *p == '-' || *p == '_' || (allow_dot && *p == '.');
  if (!ok)
    {
      kankyo_yaml_set_expected_error (yaml, node, key, expected, error);
      return FALSE;
    }
  *ret_name = g_strdup (text);
  return TRUE;
}

gboolean
kankyo_yaml_get_int (KankyoYaml *yaml,
                     yaml_node_t *node,
                     const char *key,
                     gint64 min,
                     gint64 max,
                     gint64 *ret_value,
                     GError **error)
{
  g_autofree char *expected = NULL;
  g_autofree char *min_text = g_strdup_printf ("%" G_GINT64_FORMAT, min);
  g_autofree char *max_text = g_strdup_printf ("%" G_GINT64_FORMAT, max);
  const char *text = NULL;
  char *end = NULL;
  gint64 value = 0;
  gboolean ok;

  expected = g_strdup_printf (_ ("a whole number from %s to %s"), min_text, max_text);
  ok = kankyo_yaml_get_scalar (yaml, node, key, expected, &text, NULL);
  if (ok && (g_str_has_prefix (text, "0x") || g_str_has_prefix (text, "0X")))
    {
      guint64 u;

      ok = g_ascii_isxdigit (text[2]);
      errno = 0;
      u = ok ? g_ascii_strtoull (text + 2, &end, 16) : 0;
      ok = ok && errno == 0 && *end == '\0' && u <= G_MAXINT64;
      value = (gint64) u;
    }
  else if (ok)
    {
      ok = g_ascii_isdigit (text[0]) || (text[0] == '-' && g_ascii_isdigit (text[1]));
      errno = 0;
      value = ok ? g_ascii_strtoll (text, &end, 10) : 0;
      ok = ok && errno == 0 && *end == '\0';
    }
  if (!ok || value < min || value > max)
    {
      kankyo_yaml_set_expected_error (yaml, node, key, expected, error);
      return FALSE;
    }
  *ret_value = value;
  return TRUE;
}

/* A finite number that takes the whole of @text. */
static gboolean
parse_double (const char *text, double *ret_value)
{
  char *end = NULL;
  double value;

  if (!(g_ascii_isdigit (text[0]) || text[0] == '-' || text[0] == '+' || text[0] == '.'))
    return FALSE;
  value = g_ascii_strtod (text, &end);
  if (end == text || *end != '\0' || !isfinite (value))
    return FALSE;
  *ret_value = value;
  return TRUE;
}

gboolean
kankyo_yaml_get_double (
    KankyoYaml *yaml, yaml_node_t *node, const char *key, double *ret_value, GError **error)
{
  const char *expected = _ ("a finite number such as 12 or -0.5");
  const char *text = NULL;
  double value;

  if (!kankyo_yaml_get_scalar (yaml, node, key, expected, &text, NULL) || !parse_double (text, &value))
    {
      kankyo_yaml_set_expected_error (yaml, node, key, expected, error);
      return FALSE;
    }
  *ret_value = value;
  return TRUE;
}

static char *
format_duration (guint ms)
{
  if (ms >= 3600000 && ms % 3600000 == 0)
    return g_strdup_printf ("%uh", ms / 3600000);
  if (ms >= 60000 && ms % 60000 == 0)
    return g_strdup_printf ("%umin", ms / 60000);
  if (ms >= 1000 && ms % 1000 == 0)
    return g_strdup_printf ("%us", ms / 1000);
  return g_strdup_printf ("%ums", ms);
}

gboolean
kankyo_yaml_get_duration_ms (KankyoYaml *yaml,
                             yaml_node_t *node,
                             const char *key,
                             guint min_ms,
                             guint max_ms,
                             guint *ret_ms,
                             GError **error)
{
  static const struct
  {
    const char *unit;
    double factor;
  } units[] = {
    { "", 1 }, { "ms", 1 }, { "s", 1000 }, { "min", 60000 }, { "h", 3600000 },
  };
  const char *expected = _ ("a duration such as 500ms or 2s");
  g_autofree char *min_text = format_duration (min_ms);
  g_autofree char *max_text = format_duration (max_ms);
  const char *text = NULL;
  double ms = -1;

  if (kankyo_yaml_get_scalar (yaml, node, key, expected, &text, NULL) && g_ascii_isdigit (text[0])
      && g_ascii_strncasecmp (text, "0x", 2) != 0)
    {
      char *end = NULL;
      double number = g_ascii_strtod (text, &end);

      while (*end == ' ')
        end++;
      for (guint i = 0; i < G_N_ELEMENTS (units); i++)
        if (g_str_equal (end, units[i].unit))
          {
            /* A bare number is milliseconds and must be whole. */
            if (*units[i].unit == '\0' && number != floor (number))
              break;
            ms = number * units[i].factor;
            break;
          }
    }
  if (!isfinite (ms) || ms < 0)
    {
      kankyo_yaml_set_expected_error (yaml, node, key, expected, error);
      return FALSE;
    }
  ms = round (ms);
  if (ms < min_ms || ms > max_ms)
    {
      g_autofree char *found = describe_node (node);

      kankyo_yaml_set_error (yaml, node, error, _ ("%s: expected a duration from %s to %s, found %s"), key,
                             min_text, max_text, found);
      return FALSE;
    }
  *ret_ms = (guint) ms;
  return TRUE;
}

gboolean
kankyo_yaml_get_choice (KankyoYaml *yaml,
                        yaml_node_t *node,
                        const char *key,
                        const char *const *choices,
                        guint *ret_index,
                        GError **error)
{
  g_autofree char *expected = join_choices (choices, _ (" or "));
  const char *text = NULL;

  if (kankyo_yaml_get_scalar (yaml, node, key, expected, &text, NULL))
    for (guint i = 0; choices[i] != NULL; i++)
      if (g_str_equal (text, choices[i]))
        {
          *ret_index = i;
          return TRUE;
        }
  kankyo_yaml_set_expected_error (yaml, node, key, expected, error);
  return FALSE;
}

/* ---- free-form sections ---- */

typedef struct
{
  KankyoYaml *yaml;
  guint max_depth;
  guint max_nodes;
  gsize max_scalar;
  guint n_nodes;
} VariantWalk;

static GVariant *
walk_node (VariantWalk *walk, yaml_node_t *node, const char *key, guint depth, GError **error);

static gboolean
walk_count (VariantWalk *walk, yaml_node_t *node, const char *key, GError **error)
{
  if (++walk->n_nodes > walk->max_nodes)
    {
      kankyo_yaml_set_error (walk->yaml, node, error, _ ("%s: more than %u keys and values"), key,
                             walk->max_nodes);
      return FALSE;
    }
  return TRUE;
}

/* Keys are one line of text; values may also hold line breaks and tabs. */
static gboolean
walk_scalar (VariantWalk *walk,
             yaml_node_t *node,
             const char *key,
             gboolean is_key,
             const char **ret_text,
             GError **error)
{
  const char *expected = is_key ? _ ("a key name") : _ ("a value");
  const char *text = NULL;

  if (!kankyo_yaml_get_scalar (walk->yaml, node, key, expected, &text, error))
    return FALSE;
  if (is_key && *text == '\0')
    {
      kankyo_yaml_set_expected_error (walk->yaml, node, key, expected, error);
      return FALSE;
    }
  if (node->data.scalar.length > walk->max_scalar)
    {
      kankyo_yaml_set_error (walk->yaml, node, error, _ ("%s: longer than %zu bytes"), key, walk->max_scalar);
      return FALSE;
    }
  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_iscntrl (c) && (is_key || (c != '\n' && c != '\t')))
        {
          g_autofree char *found = describe_node (node);

          kankyo_yaml_set_error (walk->yaml, node, error,
                                 _ ("%s: expected %s without control characters, found %s"), key, expected,
                                 found);
          return FALSE;
        }
    }
  *ret_text = text;
  return TRUE;
}

static GVariant *
walk_mapping (VariantWalk *walk, yaml_node_t *node, const char *key, guint depth, GError **error)
{
  g_auto (GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

  for (yaml_node_pair_t *pair = node->data.mapping.pairs.start; pair < node->data.mapping.pairs.top; pair++)
    {
      yaml_node_t *key_node = yaml_document_get_node (&walk->yaml->document, pair->key);
      yaml_node_t *value_node = yaml_document_get_node (&walk->yaml->document, pair->value);
      yaml_node_t *first;
      const char *name = NULL;
      GVariant *value;

      if (!walk_count (walk, key_node, key, error) || !walk_scalar (walk, key_node, key, TRUE, &name, error))
        return NULL;
      first = g_hash_table_lookup (seen, name);
      if (first != NULL)
        {
          kankyo_yaml_set_error (walk->yaml, key_node, error,
                                 _ ("duplicate key '%s'; it is already set at line %zu, column %zu"), name,
                                 first->start_mark.line + 1, first->start_mark.column + 1);
          return NULL;
        }
      g_hash_table_insert (seen, (gpointer) name, key_node);
      value = walk_node (walk, value_node, name, depth + 1, error);
      if (value == NULL)
        return NULL;
      g_variant_builder_add (&builder, "{sv}", name, value);
    }
  return g_variant_builder_end (&builder);
}

static GVariant *
walk_sequence (VariantWalk *walk, yaml_node_t *node, const char *key, guint depth, GError **error)
{
  g_auto (GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("av"));

  for (yaml_node_item_t *item = node->data.sequence.items.start; item < node->data.sequence.items.top; item++)
    {
      GVariant *value
          = walk_node (walk, yaml_document_get_node (&walk->yaml->document, *item), key, depth + 1, error);

      if (value == NULL)
        return NULL;
      g_variant_builder_add (&builder, "v", value);
    }
  return g_variant_builder_end (&builder);
}

/* Returns a floating reference. */
static GVariant *
walk_node (VariantWalk *walk, yaml_node_t *node, const char *key, guint depth, GError **error)
{
  const char *text = NULL;

  if (!walk_count (walk, node, key, error))
    return NULL;
  switch (node->type)
    {
      case YAML_SCALAR_NODE:
        if (!walk_scalar (walk, node, key, FALSE, &text, error))
          return NULL;
        return g_variant_new_string (text);

      case YAML_MAPPING_NODE:
      case YAML_SEQUENCE_NODE:
        if (depth > walk->max_depth)
          {
            kankyo_yaml_set_error (walk->yaml, node, error, _ ("%s: nested deeper than %u levels"), key,
                                   walk->max_depth);
            return NULL;
          }
        if (node->type == YAML_MAPPING_NODE)
          return walk_mapping (walk, node, key, depth, error);
        return walk_sequence (walk, node, key, depth, error);

      case YAML_NO_NODE:
      default:
        kankyo_yaml_set_expected_error (walk->yaml, node, key, _ ("a value"), error);
        return NULL;
    }
}

GVariant *
kankyo_yaml_to_variant (KankyoYaml *yaml,
                        yaml_node_t *node,
                        const char *key,
                        guint max_depth,
                        guint max_nodes,
                        gsize max_scalar,
                        GError **error)
{
  VariantWalk walk = { yaml, max_depth, max_nodes, max_scalar, 0 };
  GVariant *value;

  g_return_val_if_fail (max_depth >= 1, NULL);

  if (node->type != YAML_MAPPING_NODE)
    {
      kankyo_yaml_set_expected_error (yaml, node, key, _ ("a mapping"), error);
      return NULL;
    }
  value = walk_node (&walk, node, key, 1, error);
  return value != NULL ? g_variant_ref_sink (value) : NULL;
}
