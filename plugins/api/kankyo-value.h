/* kankyo-value.h: the typed value and its quality, as every layer sees them.
 *
 * A value read from a device, held in the tag store, written to the historian
 * or typed by an operator is a KankyoValue. Quality follows the OPC UA status
 * names so that an engineer who knows one SCADA knows what Kankyo means.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  KANKYO_VALUE_NONE = 0,
  KANKYO_VALUE_BOOL,
  KANKYO_VALUE_INT,  /* gint64 */
  KANKYO_VALUE_UINT, /* guint64 */
  KANKYO_VALUE_DOUBLE,
  KANKYO_VALUE_STRING,
} KankyoValueType;

typedef struct
{
  KankyoValueType type;
  union
  {
    gboolean b;
    gint64 i;
    guint64 u;
    double d;
    char *s;
  } v;
} KankyoValue;

#define KANKYO_VALUE_INIT                                                                                    \
  {                                                                                                          \
    KANKYO_VALUE_NONE,                                                                                       \
    {                                                                                                        \
      0                                                                                                      \
    }                                                                                                        \
  }

typedef enum
{
  KANKYO_QUALITY_GOOD = 0,
  KANKYO_QUALITY_UNCERTAIN_LAST_USABLE_VALUE,
  KANKYO_QUALITY_BAD_COMMUNICATION_ERROR,
  KANKYO_QUALITY_BAD_NO_COMMUNICATION,
  KANKYO_QUALITY_BAD_OUT_OF_SERVICE,
  KANKYO_QUALITY_BAD_WAITING_FOR_INITIAL_DATA,
  KANKYO_QUALITY_BAD_SENSOR_FAILURE, /* the device reported "no value" (NaN) */
} KankyoQuality;

#define KANKYO_VALUE_ERROR (kankyo_value_error_quark ())
GQuark kankyo_value_error_quark (void);

typedef enum
{
  KANKYO_VALUE_ERROR_PARSE,        /* text is not a value of the type */
  KANKYO_VALUE_ERROR_OUT_OF_RANGE, /* outside the tag's or the register's range */
  KANKYO_VALUE_ERROR_TYPE,         /* the value's type does not fit */
} KankyoValueError;

void kankyo_value_clear (KankyoValue *value);
void kankyo_value_set_bool (KankyoValue *value, gboolean b);
void kankyo_value_set_int (KankyoValue *value, gint64 i);
void kankyo_value_set_uint (KankyoValue *value, guint64 u);
void kankyo_value_set_double (KankyoValue *value, double d);
void kankyo_value_set_string (KankyoValue *value, const char *s);
void kankyo_value_copy (const KankyoValue *src, KankyoValue *dest);
gboolean kankyo_value_equal (const KankyoValue *a, const KankyoValue *b);
/* NAN for NONE and for strings that are not numbers. */
double kankyo_value_to_double (const KankyoValue *value);
/* Locale-independent text: "true"/"false", integers, shortest round-trip doubles. */
char *kankyo_value_to_string (const KankyoValue *value);
/* Shortest locale-independent text that reads back as @d; @max_digits 9
 * treats @d as a float32 reading, 17 as a full double. */
char *kankyo_format_double (double d, int max_digits);
/* Parses text typed by a user or found in a file into a value of @type,
 * independent of the locale. On failure @ret_value is untouched. */
gboolean kankyo_value_parse (KankyoValueType type, const char *text, KankyoValue *ret_value, GError **error);

const char *kankyo_value_type_to_string (KankyoValueType type);
gboolean kankyo_value_type_from_string (const char *name, KankyoValueType *ret_type);

/* The OPC UA name, e.g. "Bad_CommunicationError". */
const char *kankyo_quality_to_string (KankyoQuality quality);
gboolean kankyo_quality_is_good (KankyoQuality quality);
gboolean kankyo_quality_is_bad (KankyoQuality quality);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (KankyoValue, kankyo_value_clear)

G_END_DECLS
