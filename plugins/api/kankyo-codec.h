/* kankyo-codec.h: how an engineering value sits in Modbus registers.
 *
 * One register spec says where a tag lives (table and 0-based protocol
 * address), how it is encoded (data type, word order, bit) and how raw counts
 * become engineering units (gain and offset). The same code decodes on the
 * client side and encodes on the simulator side, so both agree by
 * construction; interop tests against independent peers check that the
 * agreement is with the world and not only with ourselves.
 */
#pragma once

#include <glib.h>
#include "kankyo-value.h"

G_BEGIN_DECLS

/* Numbered as the Modbus read function codes. */
typedef enum
{
  KANKYO_AREA_COIL = 1,
  KANKYO_AREA_DISCRETE_INPUT = 2,
  KANKYO_AREA_HOLDING_REGISTER = 3,
  KANKYO_AREA_INPUT_REGISTER = 4,
} KankyoArea;

typedef enum
{
  KANKYO_DATA_BOOL = 0, /* one coil or discrete input */
  KANKYO_DATA_BIT,      /* one bit of a 16-bit register */
  KANKYO_DATA_BITFIELD, /* bit_count bits of a 16-bit register, from bit */
  KANKYO_DATA_INT16,
  KANKYO_DATA_UINT16,
  KANKYO_DATA_INT32,
  KANKYO_DATA_UINT32,
  KANKYO_DATA_FLOAT32,
  KANKYO_DATA_FLOAT64,
} KankyoDataType;

/* Bytes of the value, most significant first, are A B C D (E F G H).
 * ABCD: high word first, as Eurotherm, Prevac and Bronkhorst send it.
 * CDAB: low word first (word swap), as Vaisala and Novus send it.
 * BADC: high word first, bytes in each word swapped.
 * DCBA: fully little-endian.
 * For 64-bit values the same rule extends: CDAB reverses the word order. */
typedef enum
{
  KANKYO_WORD_ORDER_ABCD = 0,
  KANKYO_WORD_ORDER_CDAB,
  KANKYO_WORD_ORDER_BADC,
  KANKYO_WORD_ORDER_DCBA,
} KankyoWordOrder;

typedef struct
{
  KankyoArea area;
  guint16 address; /* 0-based protocol address */
  KankyoDataType data_type;
  KankyoWordOrder word_order;
  guint8 bit;       /* BIT, BITFIELD: first bit, 0 = least significant */
  guint8 bit_count; /* BITFIELD: width, 1..16 */
  double gain;      /* engineering = raw * gain + offset */
  double offset;
} KankyoRegisterSpec;

#define KANKYO_CODEC_ERROR (kankyo_codec_error_quark ())
GQuark kankyo_codec_error_quark (void);

typedef enum
{
  KANKYO_CODEC_ERROR_INVALID_SPEC,
  KANKYO_CODEC_ERROR_NOT_A_NUMBER, /* a float register held NaN or infinity */
  KANKYO_CODEC_ERROR_OUT_OF_RANGE, /* the value does not fit the raw type */
  KANKYO_CODEC_ERROR_READ_ONLY,    /* the table cannot be written */
} KankyoCodecError;

void kankyo_register_spec_init (KankyoRegisterSpec *spec);
/* Checks the combination of table, type, bits and address range. */
gboolean kankyo_register_spec_validate (const KankyoRegisterSpec *spec, GError **error);
/* Registers (or bits) the spec occupies: 1, 2 or 4. */
guint kankyo_data_type_width (KankyoDataType type);
gboolean kankyo_area_is_bits (KankyoArea area);
gboolean kankyo_area_is_writable (KankyoArea area);
/* The natural value type after scaling: BOOL for bits, DOUBLE when gain or
 * offset is not identity or the type is a float, INT/UINT otherwise. */
KankyoValueType kankyo_register_spec_value_type (const KankyoRegisterSpec *spec);

/* @words holds kankyo_data_type_width() registers starting at spec->address
 * (for bit areas, one 0/1 element each). */
gboolean kankyo_register_decode (const KankyoRegisterSpec *spec,
                                 const guint16 *words,
                                 KankyoValue *ret_value,
                                 GError **error);
/* The inverse of decode: @words holds the current register contents on entry
 * (BIT and BITFIELD are read-modify-write) and the new ones on success.
 * Integer types round to nearest and refuse values outside the raw range. */
gboolean kankyo_register_encode (const KankyoRegisterSpec *spec,
                                 const KankyoValue *value,
                                 guint16 *words,
                                 GError **error);

const char *kankyo_area_to_string (KankyoArea area);
gboolean kankyo_area_from_string (const char *name, KankyoArea *ret_area);
const char *kankyo_data_type_to_string (KankyoDataType type);
gboolean kankyo_data_type_from_string (const char *name, KankyoDataType *ret_type);
const char *kankyo_word_order_to_string (KankyoWordOrder order);
gboolean kankyo_word_order_from_string (const char *name, KankyoWordOrder *ret_order);

G_END_DECLS
