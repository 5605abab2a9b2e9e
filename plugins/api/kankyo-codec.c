/* kankyo-codec.c: registers <-> engineering values.
 *
 * The byte juggling for word orders lives here once. A value is assembled
 * into big-endian bytes A B C D ... whatever order the device sent them in,
 * then read as the data type; encoding runs the same steps backwards.
 * 16-bit values follow the byte half of the word order (BADC and DCBA swap
 * bytes), because a device that swaps bytes swaps them everywhere.
 */
#include "kankyo-codec.h"

#include <float.h>
#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

/* The first argument becomes the quark's name, so it must stay one word. */
/* clang-format off */
G_DEFINE_QUARK (kankyo-codec-error-quark, kankyo_codec_error)
/* clang-format on */

void
kankyo_register_spec_init (KankyoRegisterSpec *spec)
{
  memset (spec, 0, sizeof *spec);
  spec->area = KANKYO_AREA_HOLDING_REGISTER;
  spec->data_type = KANKYO_DATA_UINT16;
  spec->word_order = KANKYO_WORD_ORDER_ABCD;
  spec->gain = 1.0;
  spec->offset = 0.0;
}

guint
kankyo_data_type_width (KankyoDataType type)
{
  switch (type)
    {
      case KANKYO_DATA_INT32:
      case KANKYO_DATA_UINT32:
      case KANKYO_DATA_FLOAT32:
        return 2;
      case KANKYO_DATA_FLOAT64:
        return 4;
      case KANKYO_DATA_BOOL:
      case KANKYO_DATA_BIT:
      case KANKYO_DATA_BITFIELD:
      case KANKYO_DATA_INT16:
      case KANKYO_DATA_UINT16:
      default:
        return 1;
    }
}

gboolean
kankyo_area_is_bits (KankyoArea area)
{
  return area == KANKYO_AREA_COIL || area == KANKYO_AREA_DISCRETE_INPUT;
}

gboolean
kankyo_area_is_writable (KankyoArea area)
{
  return area == KANKYO_AREA_COIL || area == KANKYO_AREA_HOLDING_REGISTER;
}

static gboolean
is_scaled (const KankyoRegisterSpec *spec)
{
  return spec->gain != 1.0 || spec->offset != 0.0;
}

/* raw * 0.1 gives 23.400000000000002 for 234; raw / 10 gives the double
 * nearest to 23.4. Decimal gains are the common case, so divide by their
 * reciprocal when it is a whole number. */
static double
apply_scale (const KankyoRegisterSpec *spec, double raw)
{
  double inv;

  if (spec->gain != 0.0 && fabs (spec->gain) < 1.0)
    {
      inv = 1.0 / spec->gain;
      if (fabs (inv - round (inv)) < 1e-9 * fabs (inv))
        return raw / round (inv) + spec->offset;
    }
  return raw * spec->gain + spec->offset;
}

KankyoValueType
kankyo_register_spec_value_type (const KankyoRegisterSpec *spec)
{
  switch (spec->data_type)
    {
      case KANKYO_DATA_BOOL:
      case KANKYO_DATA_BIT:
        return KANKYO_VALUE_BOOL;
      case KANKYO_DATA_FLOAT32:
      case KANKYO_DATA_FLOAT64:
        return KANKYO_VALUE_DOUBLE;
      case KANKYO_DATA_INT16:
      case KANKYO_DATA_INT32:
        return is_scaled (spec) ? KANKYO_VALUE_DOUBLE : KANKYO_VALUE_INT;
      case KANKYO_DATA_BITFIELD:
      case KANKYO_DATA_UINT16:
      case KANKYO_DATA_UINT32:
      default:
        return is_scaled (spec) ? KANKYO_VALUE_DOUBLE : KANKYO_VALUE_UINT;
    }
}

gboolean
kankyo_register_spec_validate (const KankyoRegisterSpec *spec, GError **error)
{
  guint width;

  if (spec->area < KANKYO_AREA_COIL || spec->area > KANKYO_AREA_INPUT_REGISTER)
    {
      g_set_error (error, KANKYO_CODEC_ERROR, KANKYO_CODEC_ERROR_INVALID_SPEC,
                   _ ("unknown register table %d"), (int) spec->area);
      return FALSE;
    }
  if (spec->data_type > KANKYO_DATA_FLOAT64)
    {
      g_set_error (error, KANKYO_CODEC_ERROR, KANKYO_CODEC_ERROR_INVALID_SPEC, _ ("unknown data type %d"),
                   (int) spec->data_type);
      return FALSE;
    }
  if (spec->word_order > KANKYO_WORD_ORDER_DCBA)
    {
      g_set_error (error, KANKYO_CODEC_ERROR, KANKYO_CODEC_ERROR_INVALID_SPEC, _ ("unknown word order %d"),
                   (int) spec->word_order);
      return FALSE;
    }
  if (kankyo_area_is_bits (spec->area) != (spec->data_type == KANKYO_DATA_BOOL))
    {
      g_set_error (error, KANKYO_CODEC_ERROR, KANKYO_CODEC_ERROR_INVALID_SPEC,
                   _ ("%s holds %s; type %s does not fit it (use bool for coils and "
                      "discrete inputs, and a register type for registers)"),
                   kankyo_area_to_string (spec->area),
                   kankyo_area_is_bits (spec->area) ? _ ("single bits") : _ ("16-bit registers"),
                   kankyo_data_type_to_string (spec->data_type));
      return FALSE;
    }
  if (spec->data_type == KANKYO_DATA_BIT && spec->bit > 15)
    {
      g_set_error (error, KANKYO_CODEC_ERROR, KANKYO_CODEC_ERROR_INVALID_SPEC,
                   _ ("bit %u does not exist in a 16-bit register (expected 0 to 15)"), spec->bit);
      return FALSE;
    }
  if (spec->data_type == KANKYO_DATA_BITFIELD
      && (spec->bit_count < 1 || spec->bit_count > 16 || spec->bit + spec->bit_count > 16))
    {
      g_set_error (error, KANKYO_CODEC_ERROR, KANKYO_CODEC_ERROR_INVALID_SPEC,
                   _ ("bits %u to %u do not fit in a 16-bit register"), spec->bit,
                   spec->bit + spec->bit_count - 1);
      return FALSE;
    }
  if (!isfinite (spec->gain) || spec->gain == 0.0 || !isfinite (spec->offset))
    {
      g_set_error (error, KANKYO_CODEC_ERROR, KANKYO_CODEC_ERROR_INVALID_SPEC,
                   _ ("scale must be a finite number other than zero, and offset finite"));
      return FALSE;
    }
  width = kankyo_data_type_width (spec->data_type);
  if ((guint) spec->address + width > 65536)
    {
      g_set_error (error, KANKYO_CODEC_ERROR, KANKYO_CODEC_ERROR_INVALID_SPEC,
                   _ ("a %s at address %u runs past the last address 65535"),
                   kankyo_data_type_to_string (spec->data_type), spec->address);
      return FALSE;
    }
  return TRUE;
}

/* Registers as sent -> big-endian bytes of the value. */
static void
words_to_bytes (const guint16 *words, guint n, KankyoWordOrder order, guint8 *bytes)
{
  gboolean reverse = (order == KANKYO_WORD_ORDER_CDAB || order == KANKYO_WORD_ORDER_DCBA);
  gboolean swap = (order == KANKYO_WORD_ORDER_BADC || order == KANKYO_WORD_ORDER_DCBA);

  for (guint i = 0; i < n; i++)
    {
      guint16 w = words[reverse ? n - 1 - i : i];

      bytes[2 * i] = swap ? (w & 0xff) : (w >> 8);
      bytes[2 * i + 1] = swap ? (w >> 8) : (w & 0xff);
    }
}

static void
bytes_to_words (const guint8 *bytes, guint n, KankyoWordOrder order, guint16 *words)
{
  gboolean reverse = (order == KANKYO_WORD_ORDER_CDAB || order == KANKYO_WORD_ORDER_DCBA);
  gboolean swap = (order == KANKYO_WORD_ORDER_BADC || order == KANKYO_WORD_ORDER_DCBA);

  for (guint i = 0; i < n; i++)
    {
      guint16 hi = bytes[2 * i], lo = bytes[2 * i + 1];
      guint16 w = swap ? (guint16) ((lo << 8) | hi) : (guint16) ((hi << 8) | lo);

      words[reverse ? n - 1 - i : i] = w;
    }
}

static guint64
bytes_to_u64 (const guint8 *bytes, guint n_bytes)
{
  guint64 u = 0;

  for (guint i = 0; i < n_bytes; i++)
    u = (u << 8) | bytes[i];
  return u;
}

static void
u64_to_bytes (guint64 u, guint8 *bytes, guint n_bytes)
{
  for (guint i = n_bytes; i > 0; i--)
    {
      bytes[i - 1] = u & 0xff;
      u >>= 8;
    }
}

gboolean
kankyo_register_decode (const KankyoRegisterSpec *spec,
                        const guint16 *words,
                        KankyoValue *ret_value,
                        GError **error)
{
  guint8 bytes[8];
  guint width = kankyo_data_type_width (spec->data_type);
  guint64 raw;
  double eng;

  switch (spec->data_type)
    {
      case KANKYO_DATA_BOOL:
        kankyo_value_set_bool (ret_value, words[0] != 0);
        return TRUE;
      case KANKYO_DATA_BIT:
        kankyo_value_set_bool (ret_value, (words[0] >> spec->bit) & 1);
        return TRUE;
      case KANKYO_DATA_BITFIELD:
        {
          guint mask = spec->bit_count >= 16 ? 0xffff : ((1u << spec->bit_count) - 1);

          raw = (words[0] >> spec->bit) & mask;
          if (is_scaled (spec))
            kankyo_value_set_double (ret_value, apply_scale (spec, (double) raw));
          else
            kankyo_value_set_uint (ret_value, raw);
          return TRUE;
        }
      default:
        break;
    }

  /* The common layouts skip the byte shuffle: 16-bit big-endian words and
   * 32-bit values with either word first. */
  if (width == 1
      && (spec->word_order == KANKYO_WORD_ORDER_ABCD || spec->word_order == KANKYO_WORD_ORDER_CDAB))
    raw = words[0];
  else if (width == 2 && spec->word_order == KANKYO_WORD_ORDER_ABCD)
    raw = ((guint64) words[0] << 16) | words[1];
  else if (width == 2 && spec->word_order == KANKYO_WORD_ORDER_CDAB)
    raw = ((guint64) words[1] << 16) | words[0];
  else
    {
      words_to_bytes (words, width, spec->word_order, bytes);
      raw = bytes_to_u64 (bytes, 2 * width);
    }

  switch (spec->data_type)
    {
      case KANKYO_DATA_INT16:
        eng = (double) (gint16) (guint16) raw;
        if (!is_scaled (spec))
          {
            kankyo_value_set_int (ret_value, (gint16) (guint16) raw);
            return TRUE;
          }
        break;
      case KANKYO_DATA_UINT16:
      case KANKYO_DATA_UINT32:
        eng = (double) raw;
        if (!is_scaled (spec))
          {
            kankyo_value_set_uint (ret_value, raw);
            return TRUE;
          }
        break;
      case KANKYO_DATA_INT32:
        eng = (double) (gint32) (guint32) raw;
        if (!is_scaled (spec))
          {
            kankyo_value_set_int (ret_value, (gint32) (guint32) raw);
            return TRUE;
          }
        break;
      case KANKYO_DATA_FLOAT32:
        {
          guint32 u32 = (guint32) raw;
          float f;

          memcpy (&f, &u32, sizeof f);
          eng = f;
          break;
        }
      case KANKYO_DATA_FLOAT64:
        memcpy (&eng, &raw, sizeof eng);
        break;
      default:
        g_set_error (error, KANKYO_CODEC_ERROR, KANKYO_CODEC_ERROR_INVALID_SPEC, _ ("unknown data type %d"),
                     (int) spec->data_type);
        return FALSE;
    }

  /* NaN stays NaN through scaling; the caller marks it as a sensor failure. */
  kankyo_value_set_double (ret_value, is_scaled (spec) ? apply_scale (spec, eng) : eng);
  return TRUE;
}

static gboolean
raw_integer (
    const KankyoRegisterSpec *spec, double eng, double lo, double hi, gint64 *ret_raw, GError **error)
{
  double raw = (eng - spec->offset) / spec->gain;

  if (!isfinite (raw))
    {
      g_set_error (error, KANKYO_CODEC_ERROR, KANKYO_CODEC_ERROR_NOT_A_NUMBER,
                   _ ("a %s register cannot hold a value that is not a number"),
                   kankyo_data_type_to_string (spec->data_type));
      return FALSE;
    }
  raw = round (raw);
  if (raw < lo || raw > hi)
    {
      g_set_error (error, KANKYO_CODEC_ERROR, KANKYO_CODEC_ERROR_OUT_OF_RANGE,
                   _ ("%g does not fit a %s register (raw %.0f, expected %.0f to %.0f)"), eng,
                   kankyo_data_type_to_string (spec->data_type), raw, lo, hi);
      return FALSE;
    }
  *ret_raw = (gint64) raw;
  return TRUE;
}

gboolean
kankyo_register_encode (const KankyoRegisterSpec *spec,
                        const KankyoValue *value,
                        guint16 *words,
                        GError **error)
{
  guint8 bytes[8];
  guint width = kankyo_data_type_width (spec->data_type);
  double eng = kankyo_value_to_double (value);
  gint64 raw = 0;
  guint64 bits = 0;

  if (value->type == KANKYO_VALUE_NONE || value->type == KANKYO_VALUE_STRING)
    {
      g_set_error (error, KANKYO_CODEC_ERROR, KANKYO_CODEC_ERROR_INVALID_SPEC,
                   _ ("a %s register cannot hold a %s value"), kankyo_data_type_to_string (spec->data_type),
                   kankyo_value_type_to_string (value->type));
      return FALSE;
    }

  switch (spec->data_type)
    {
      case KANKYO_DATA_BOOL:
        words[0] = eng != 0.0;
        return TRUE;
      case KANKYO_DATA_BIT:
        if (eng != 0.0)
          words[0] |= (guint16) (1u << spec->bit);
        else
          words[0] &= (guint16) ~(1u << spec->bit);
        return TRUE;
      case KANKYO_DATA_BITFIELD:
        {
          guint mask = spec->bit_count >= 16 ? 0xffff : ((1u << spec->bit_count) - 1);

          if (!raw_integer (spec, eng, 0, mask, &raw, error))
            return FALSE;
          words[0] = (guint16) ((words[0] & ~(mask << spec->bit)) | ((guint) raw << spec->bit));
          return TRUE;
        }
      case KANKYO_DATA_INT16:
        if (!raw_integer (spec, eng, G_MININT16, G_MAXINT16, &raw, error))
          return FALSE;
        bits = (guint16) (gint16) raw;
        break;
      case KANKYO_DATA_UINT16:
        if (!raw_integer (spec, eng, 0, G_MAXUINT16, &raw, error))
          return FALSE;
        bits = (guint64) raw;
        break;
      case KANKYO_DATA_INT32:
        if (!raw_integer (spec, eng, G_MININT32, G_MAXINT32, &raw, error))
          return FALSE;
        bits = (guint32) (gint32) raw;
        break;
      case KANKYO_DATA_UINT32:
        if (!raw_integer (spec, eng, 0, G_MAXUINT32, &raw, error))
          return FALSE;
        bits = (guint64) raw;
        break;
      case KANKYO_DATA_FLOAT32:
        {
          double r = (eng - spec->offset) / spec->gain;
          float f;
          guint32 u32;

          if (isfinite (r) && fabs (r) > FLT_MAX)
            {
              g_set_error (error, KANKYO_CODEC_ERROR, KANKYO_CODEC_ERROR_OUT_OF_RANGE,
                           _ ("%g does not fit a float32 register"), eng);
              return FALSE;
            }
          f = (float) r;
          memcpy (&u32, &f, sizeof u32);
          bits = u32;
          break;
        }
      case KANKYO_DATA_FLOAT64:
        {
          double r = (eng - spec->offset) / spec->gain;

          memcpy (&bits, &r, sizeof bits);
          break;
        }
      default:
        g_set_error (error, KANKYO_CODEC_ERROR, KANKYO_CODEC_ERROR_INVALID_SPEC, _ ("unknown data type %d"),
                     (int) spec->data_type);
        return FALSE;
    }

  u64_to_bytes (bits, bytes, 2 * width);
  bytes_to_words (bytes, width, spec->word_order, words);
  return TRUE;
}

typedef struct
{
  const char *name;
  int value;
} NameValue;

static const NameValue area_names[] = {
  { "coil", KANKYO_AREA_COIL },
  { "discrete-input", KANKYO_AREA_DISCRETE_INPUT },
  { "holding", KANKYO_AREA_HOLDING_REGISTER },
  { "input", KANKYO_AREA_INPUT_REGISTER },
  /* accepted spellings */
  { "coils", KANKYO_AREA_COIL },
  { "discrete", KANKYO_AREA_DISCRETE_INPUT },
  { "holding-register", KANKYO_AREA_HOLDING_REGISTER },
  { "input-register", KANKYO_AREA_INPUT_REGISTER },
};

static const NameValue data_type_names[] = {
  { "bool", KANKYO_DATA_BOOL },     { "bit", KANKYO_DATA_BIT },         { "bitfield", KANKYO_DATA_BITFIELD },
  { "int16", KANKYO_DATA_INT16 },   { "uint16", KANKYO_DATA_UINT16 },   { "int32", KANKYO_DATA_INT32 },
  { "uint32", KANKYO_DATA_UINT32 }, { "float32", KANKYO_DATA_FLOAT32 }, { "float64", KANKYO_DATA_FLOAT64 },
};

static const NameValue word_order_names[] = {
  { "ABCD", KANKYO_WORD_ORDER_ABCD },
  { "CDAB", KANKYO_WORD_ORDER_CDAB },
  { "BADC", KANKYO_WORD_ORDER_BADC },
  { "DCBA", KANKYO_WORD_ORDER_DCBA },
};

static const char *
lookup_name (const NameValue *table, guint n, int value)
{
  for (guint i = 0; i < n; i++)
    if (table[i].value == value)
      return table[i].name;
  return "unknown";
}

static gboolean
lookup_value (const NameValue *table, guint n, const char *name, gboolean ignore_case, int *ret)
{
  if (name == NULL)
    return FALSE;
  for (guint i = 0; i < n; i++)
    if (ignore_case ? g_ascii_strcasecmp (table[i].name, name) == 0 : strcmp (table[i].name, name) == 0)
      {
        *ret = table[i].value;
        return TRUE;
      }
  return FALSE;
}

const char *
kankyo_area_to_string (KankyoArea area)
{
  return lookup_name (area_names, G_N_ELEMENTS (area_names), area);
}

gboolean
kankyo_area_from_string (const char *name, KankyoArea *ret_area)
{
  int v;

  if (!lookup_value (area_names, G_N_ELEMENTS (area_names), name, FALSE, &v))
    return FALSE;
  *ret_area = (KankyoArea) v;
  return TRUE;
}

const char *
kankyo_data_type_to_string (KankyoDataType type)
{
  return lookup_name (data_type_names, G_N_ELEMENTS (data_type_names), type);
}

gboolean
kankyo_data_type_from_string (const char *name, KankyoDataType *ret_type)
{
  int v;

  if (!lookup_value (data_type_names, G_N_ELEMENTS (data_type_names), name, FALSE, &v))
    return FALSE;
  *ret_type = (KankyoDataType) v;
  return TRUE;
}

const char *
kankyo_word_order_to_string (KankyoWordOrder order)
{
  return lookup_name (word_order_names, G_N_ELEMENTS (word_order_names), order);
}

gboolean
kankyo_word_order_from_string (const char *name, KankyoWordOrder *ret_order)
{
  int v;

  if (!lookup_value (word_order_names, G_N_ELEMENTS (word_order_names), name, TRUE, &v))
    return FALSE;
  *ret_order = (KankyoWordOrder) v;
  return TRUE;
}
