/* kankyo-yaml.h: reading the YAML files people edit, with positions.
 *
 * Project files, device maps and the other text files of the parser family
 * are loaded whole with libyaml's document API, which keeps the line and
 * column of every node. The getters here check one node against what the
 * format expects and, when it does not fit, fail with a KANKYO_PROJECT_ERROR
 * whose message starts with "file:line:column:" and says what was expected
 * and what was found, so a plant engineer can go straight to the mistake.
 *
 * Input is bounded before anything is built from it: size, nesting depth and
 * number of nodes. Anchors, aliases, explicit tags and multiple documents are
 * refused: none of them is needed to describe a plant, and each makes a file
 * harder to read in review.
 */
#pragma once

#include <glib.h>
#include <yaml.h>

G_BEGIN_DECLS

#define KANKYO_YAML_MAX_FILE_SIZE (4 * 1024 * 1024)
#define KANKYO_YAML_MAX_DEPTH 32
#define KANKYO_YAML_MAX_NODES 500000
#define KANKYO_YAML_MAX_STRING 256
#define KANKYO_YAML_MAX_NAME 64

typedef struct _KankyoYaml KankyoYaml;

typedef enum
{
  KANKYO_YAML_STRING_LINE, /* one line: no control characters */
  KANKYO_YAML_STRING_TEXT, /* may also hold line breaks and tabs */
} KankyoYamlStringKind;

/* Parses @bytes as one YAML document; @name prefixes every error. */
KankyoYaml *kankyo_yaml_load (GBytes *bytes, const char *name, GError **error);
/* Reads a file of at most KANKYO_YAML_MAX_FILE_SIZE bytes. */
GBytes *kankyo_yaml_read_file (const char *path, GError **error);
void kankyo_yaml_free (KankyoYaml *yaml);

const char *kankyo_yaml_get_name (KankyoYaml *yaml);
yaml_node_t *kankyo_yaml_get_root (KankyoYaml *yaml);
/* "name:line:column", 1-based. */
char *kankyo_yaml_location (KankyoYaml *yaml, yaml_node_t *node);
void kankyo_yaml_set_error (KankyoYaml *yaml, yaml_node_t *node, GError **error, const char *format, ...)
    G_GNUC_PRINTF (4, 5);
/* "KEY: expected EXPECTED, found WHAT-IS-THERE", with the value quoted. */
void kankyo_yaml_set_expected_error (
    KankyoYaml *yaml, yaml_node_t *node, const char *key, const char *expected, GError **error);

/* Checks that @node is a mapping whose keys are all among @keys (a
 * NULL-terminated list), each at most once, and stores the value of each key
 * in the same slot of @ret_values (NULL when absent). @what names the mapping
 * in errors ("device"). On failure @ret_values is untouched. */
gboolean kankyo_yaml_get_fields (KankyoYaml *yaml,
                                 yaml_node_t *node,
                                 const char *what,
                                 const char *const *keys,
                                 yaml_node_t **ret_values,
                                 GError **error);
/* The key node of @value in @mapping, for errors about a whole section:
 * a mapping value starts on the line after its key. @value itself when it
 * is not a value of @mapping. */
yaml_node_t *kankyo_yaml_get_key_node (KankyoYaml *yaml, yaml_node_t *mapping, yaml_node_t *value);
/* Fails naming @key at @mapping when @value is NULL. */
gboolean kankyo_yaml_require (KankyoYaml *yaml,
                              yaml_node_t *mapping,
                              const char *what,
                              const char *key,
                              yaml_node_t *value,
                              GError **error);

/* A sequence of @min_items to @max_items entries; returns the count. */
gboolean kankyo_yaml_get_sequence (KankyoYaml *yaml,
                                   yaml_node_t *node,
                                   const char *key,
                                   const char *expected,
                                   guint min_items,
                                   guint max_items,
                                   guint *ret_length,
                                   GError **error);
yaml_node_t *kankyo_yaml_sequence_nth (KankyoYaml *yaml, yaml_node_t *sequence, guint index);
/* A mapping of @min_items to @max_items pairs whose keys the caller reads
 * in the order written (conditions, first match wins); returns the count. */
gboolean kankyo_yaml_get_mapping (KankyoYaml *yaml,
                                  yaml_node_t *node,
                                  const char *key,
                                  const char *expected,
                                  guint min_items,
                                  guint max_items,
                                  guint *ret_length,
                                  GError **error);
void kankyo_yaml_mapping_nth (
    KankyoYaml *yaml, yaml_node_t *mapping, guint index, yaml_node_t **ret_key, yaml_node_t **ret_value);

/* A non-null scalar; @expected completes "expected ..." in the error. */
gboolean kankyo_yaml_get_scalar (KankyoYaml *yaml,
                                 yaml_node_t *node,
                                 const char *key,
                                 const char *expected,
                                 const char **ret_text,
                                 GError **error);
gboolean kankyo_yaml_get_string (KankyoYaml *yaml,
                                 yaml_node_t *node,
                                 const char *key,
                                 KankyoYamlStringKind kind,
                                 char **ret_string,
                                 GError **error);
/* [a-z0-9_-]+, plus '.' when @allow_dot, at most KANKYO_YAML_MAX_NAME long. */
gboolean kankyo_yaml_get_identifier (KankyoYaml *yaml,
                                     yaml_node_t *node,
                                     const char *key,
                                     gboolean allow_dot,
                                     char **ret_name,
                                     GError **error);
/* Decimal, or hexadecimal with a 0x prefix. */
gboolean kankyo_yaml_get_int (KankyoYaml *yaml,
                              yaml_node_t *node,
                              const char *key,
                              gint64 min,
                              gint64 max,
                              gint64 *ret_value,
                              GError **error);
/* A finite number. */
gboolean kankyo_yaml_get_double (
    KankyoYaml *yaml, yaml_node_t *node, const char *key, double *ret_value, GError **error);
/* "250ms", "1.5s", "2min", "1h", or a whole number of milliseconds. */
gboolean kankyo_yaml_get_duration_ms (KankyoYaml *yaml,
                                      yaml_node_t *node,
                                      const char *key,
                                      guint min_ms,
                                      guint max_ms,
                                      guint *ret_ms,
                                      GError **error);
/* Any YAML value as a GVariant, for sections whose meaning belongs to a
 * plugin: mappings become a{sv}, lists av, scalars s as written (numbers
 * too; the reader parses them). @node must be a mapping. Nesting is bounded
 * to @max_depth mappings and lists (@node is the first), the keys and values
 * together to @max_nodes, and each key and value to @max_scalar bytes.
 * Returns a new, non-floating reference. */
GVariant *kankyo_yaml_to_variant (KankyoYaml *yaml,
                                  yaml_node_t *node,
                                  const char *key,
                                  guint max_depth,
                                  guint max_nodes,
                                  gsize max_scalar,
                                  GError **error);
/* One of the NULL-terminated @choices, as written. */
gboolean kankyo_yaml_get_choice (KankyoYaml *yaml,
                                 yaml_node_t *node,
                                 const char *key,
                                 const char *const *choices,
                                 guint *ret_index,
                                 GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KankyoYaml, kankyo_yaml_free)

G_END_DECLS
