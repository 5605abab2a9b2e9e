/* test-codec.c: word orders, data types and scaling against known words.
 *
 * The expected register contents are written out by hand from the byte
 * layouts (and Vaisala's fixed -123.45 = 0xC2F6 0xE666), not produced by the
 * encoder, so encoder and decoder cannot agree on a mistake.
 */
#include <math.h>
#include <string.h>

#include "kankyo-plugin.h"

static KankyoRegisterSpec
spec_of (KankyoDataType type, KankyoWordOrder order)
{
  KankyoRegisterSpec s;

  kankyo_register_spec_init (&s);
  s.data_type = type;
  s.word_order = order;
  return s;
}

static void
check_words (const KankyoRegisterSpec *s, const KankyoValue *v, const guint16 *expect, guint n)
{
  guint16 words[4] = { 0 };
  g_autoptr (GError) error = NULL;
  g_auto (KankyoValue) back = KANKYO_VALUE_INIT;

  g_assert_true (kankyo_register_encode (s, v, words, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < n; i++)
    g_assert_cmphex (words[i], ==, expect[i]);
  g_assert_true (kankyo_register_decode (s, expect, &back, &error));
  g_assert_cmpfloat_with_epsilon (kankyo_value_to_double (&back), kankyo_value_to_double (v), 1e-4);
}

static void
test_float32_orders (void)
{
  static const guint16 abcd[] = { 0xC2F6, 0xE666 };
  static const guint16 cdab[] = { 0xE666, 0xC2F6 };
  static const guint16 badc[] = { 0xF6C2, 0x66E6 };
  static const guint16 dcba[] = { 0x66E6, 0xF6C2 };
  g_auto (KankyoValue) v = KANKYO_VALUE_INIT;
  KankyoRegisterSpec s;

  kankyo_value_set_double (&v, -123.45);
  s = spec_of (KANKYO_DATA_FLOAT32, KANKYO_WORD_ORDER_ABCD);
  check_words (&s, &v, abcd, 2);
  s = spec_of (KANKYO_DATA_FLOAT32, KANKYO_WORD_ORDER_CDAB);
  check_words (&s, &v, cdab, 2);
  s = spec_of (KANKYO_DATA_FLOAT32, KANKYO_WORD_ORDER_BADC);
  check_words (&s, &v, badc, 2);
  s = spec_of (KANKYO_DATA_FLOAT32, KANKYO_WORD_ORDER_DCBA);
  check_words (&s, &v, dcba, 2);
}

static void
test_integers (void)
{
  static const guint16 u32_abcd[] = { 0x1234, 0x5678 };
  static const guint16 u32_cdab[] = { 0x5678, 0x1234 };
  static const guint16 i32_abcd[] = { 0xFFFF, 0xFFFE };
  static const guint16 f64_abcd[] = { 0x3FF0, 0x0000, 0x0000, 0x0000 };
  static const guint16 f64_cdab[] = { 0x0000, 0x0000, 0x0000, 0x3FF0 };
  static const guint16 i16[] = { 0xFF85 };
  static const guint16 i16_badc[] = { 0x85FF };
  g_auto (KankyoValue) v = KANKYO_VALUE_INIT;
  KankyoRegisterSpec s;

  kankyo_value_set_uint (&v, 0x12345678);
  s = spec_of (KANKYO_DATA_UINT32, KANKYO_WORD_ORDER_ABCD);
  check_words (&s, &v, u32_abcd, 2);
  s = spec_of (KANKYO_DATA_UINT32, KANKYO_WORD_ORDER_CDAB);
  check_words (&s, &v, u32_cdab, 2);
  kankyo_value_set_int (&v, -2);
  s = spec_of (KANKYO_DATA_INT32, KANKYO_WORD_ORDER_ABCD);
  check_words (&s, &v, i32_abcd, 2);
  kankyo_value_set_double (&v, 1.0);
  s = spec_of (KANKYO_DATA_FLOAT64, KANKYO_WORD_ORDER_ABCD);
  check_words (&s, &v, f64_abcd, 4);
  s = spec_of (KANKYO_DATA_FLOAT64, KANKYO_WORD_ORDER_CDAB);
  check_words (&s, &v, f64_cdab, 4);
  kankyo_value_set_int (&v, -123);
  s = spec_of (KANKYO_DATA_INT16, KANKYO_WORD_ORDER_ABCD);
  check_words (&s, &v, i16, 1);
  s = spec_of (KANKYO_DATA_INT16, KANKYO_WORD_ORDER_BADC);
  check_words (&s, &v, i16_badc, 1);
}

static void
test_scaling (void)
{
  static const guint16 raw[] = { 0xFF85 }; /* -123 */
  static const guint16 raw_offset[] = { 1000 };
  g_auto (KankyoValue) v = KANKYO_VALUE_INIT;
  KankyoRegisterSpec s = spec_of (KANKYO_DATA_INT16, KANKYO_WORD_ORDER_ABCD);

  g_assert_cmpint (kankyo_register_spec_value_type (&s), ==, KANKYO_VALUE_INT);
  s.gain = 0.1;
  g_assert_cmpint (kankyo_register_spec_value_type (&s), ==, KANKYO_VALUE_DOUBLE);
  g_assert_true (kankyo_register_decode (&s, raw, &v, NULL));
  g_assert_cmpfloat_with_epsilon (v.v.d, -12.3, 1e-9);
  /* -12.3 must encode back to exactly -123, not -122 through rounding down. */
  check_words (&s, &v, raw, 1);

  /* 234 x 0.1 is the double nearest 23.4, not 23.400000000000002. */
  {
    static const guint16 r234[] = { 234 };

    g_assert_true (kankyo_register_decode (&s, r234, &v, NULL));
    g_assert_cmpfloat (v.v.d, ==, 23.4);
  }

  s = spec_of (KANKYO_DATA_UINT16, KANKYO_WORD_ORDER_ABCD);
  s.gain = 0.01;
  s.offset = -40;
  kankyo_value_set_double (&v, -30);
  check_words (&s, &v, raw_offset, 1);
}

static void
test_bits (void)
{
  guint16 words[1] = { 0xA5F0 };
  g_auto (KankyoValue) v = KANKYO_VALUE_INIT;
  KankyoRegisterSpec s = spec_of (KANKYO_DATA_BIT, KANKYO_WORD_ORDER_ABCD);

  s.bit = 4;
  g_assert_true (kankyo_register_decode (&s, words, &v, NULL));
  g_assert_true (v.v.b);
  kankyo_value_set_bool (&v, FALSE);
  g_assert_true (kankyo_register_encode (&s, &v, words, NULL));
  g_assert_cmphex (words[0], ==, 0xA5E0); /* only bit 4 changed */

  s = spec_of (KANKYO_DATA_BITFIELD, KANKYO_WORD_ORDER_ABCD);
  s.bit = 8;
  s.bit_count = 4;
  g_assert_true (kankyo_register_decode (&s, words, &v, NULL));
  g_assert_cmpuint (v.v.u, ==, 0x5);
  kankyo_value_set_uint (&v, 0xC);
  g_assert_true (kankyo_register_encode (&s, &v, words, NULL));
  g_assert_cmphex (words[0], ==, 0xACE0);
  kankyo_value_set_uint (&v, 16);
  g_assert_false (kankyo_register_encode (&s, &v, words, NULL));
  g_assert_cmphex (words[0], ==, 0xACE0);

  s = spec_of (KANKYO_DATA_BOOL, KANKYO_WORD_ORDER_ABCD);
  s.area = KANKYO_AREA_COIL;
  words[0] = 1;
  g_assert_true (kankyo_register_decode (&s, words, &v, NULL));
  g_assert_true (v.v.b);
}

static void
test_out_of_range (void)
{
  guint16 words[4] = { 0x1111, 0x2222, 0x3333, 0x4444 };
  g_auto (KankyoValue) v = KANKYO_VALUE_INIT;
  g_autoptr (GError) error = NULL;
  KankyoRegisterSpec s = spec_of (KANKYO_DATA_INT16, KANKYO_WORD_ORDER_ABCD);

  kankyo_value_set_int (&v, 40000);
  g_assert_false (kankyo_register_encode (&s, &v, words, &error));
  g_assert_error (error, KANKYO_CODEC_ERROR, KANKYO_CODEC_ERROR_OUT_OF_RANGE);
  g_assert_cmphex (words[0], ==, 0x1111);
  g_clear_error (&error);

  s = spec_of (KANKYO_DATA_UINT16, KANKYO_WORD_ORDER_ABCD);
  kankyo_value_set_int (&v, -1);
  g_assert_false (kankyo_register_encode (&s, &v, words, &error));
  g_clear_error (&error);

  s = spec_of (KANKYO_DATA_FLOAT32, KANKYO_WORD_ORDER_ABCD);
  kankyo_value_set_double (&v, 1e39);
  g_assert_false (kankyo_register_encode (&s, &v, words, &error));
  g_clear_error (&error);

  kankyo_value_set_string (&v, "12");
  g_assert_false (kankyo_register_encode (&s, &v, words, &error));
}

static void
test_nan_decodes (void)
{
  static const guint16 qnan[] = { 0x7FC0, 0x0000 };
  g_auto (KankyoValue) v = KANKYO_VALUE_INIT;
  KankyoRegisterSpec s = spec_of (KANKYO_DATA_FLOAT32, KANKYO_WORD_ORDER_ABCD);

  g_assert_true (kankyo_register_decode (&s, qnan, &v, NULL));
  g_assert_true (isnan (v.v.d));
}

static void
test_validate (void)
{
  KankyoRegisterSpec s = spec_of (KANKYO_DATA_FLOAT32, KANKYO_WORD_ORDER_ABCD);
  g_autoptr (GError) error = NULL;

  s.address = 65535;
  g_assert_false (kankyo_register_spec_validate (&s, &error));
  g_assert_nonnull (strstr (error->message, "65535"));
  g_clear_error (&error);

  s = spec_of (KANKYO_DATA_FLOAT32, KANKYO_WORD_ORDER_ABCD);
  s.area = KANKYO_AREA_COIL;
  g_assert_false (kankyo_register_spec_validate (&s, &error));
  g_clear_error (&error);

  s = spec_of (KANKYO_DATA_BITFIELD, KANKYO_WORD_ORDER_ABCD);
  s.bit = 12;
  s.bit_count = 5;
  g_assert_false (kankyo_register_spec_validate (&s, &error));
  g_clear_error (&error);

  s = spec_of (KANKYO_DATA_INT16, KANKYO_WORD_ORDER_ABCD);
  s.gain = 0;
  g_assert_false (kankyo_register_spec_validate (&s, &error));
  g_clear_error (&error);

  s = spec_of (KANKYO_DATA_FLOAT64, KANKYO_WORD_ORDER_DCBA);
  s.address = 65532;
  g_assert_true (kankyo_register_spec_validate (&s, &error));
  g_assert_no_error (error);
}

static void
test_names (void)
{
  KankyoWordOrder order;
  KankyoArea area;
  KankyoDataType type;

  g_assert_true (kankyo_word_order_from_string ("cdab", &order));
  g_assert_cmpint (order, ==, KANKYO_WORD_ORDER_CDAB);
  g_assert_false (kankyo_word_order_from_string ("ACBD", &order));
  g_assert_true (kankyo_area_from_string ("holding-register", &area));
  g_assert_cmpint (area, ==, KANKYO_AREA_HOLDING_REGISTER);
  g_assert_true (kankyo_data_type_from_string ("float64", &type));
  g_assert_cmpstr (kankyo_data_type_to_string (type), ==, "float64");
  g_assert_false (kankyo_data_type_from_string ("double", &type));
}

static void
test_round_trip_random (void)
{
  static const KankyoDataType types[] = { KANKYO_DATA_INT16,  KANKYO_DATA_UINT16,  KANKYO_DATA_INT32,
                                          KANKYO_DATA_UINT32, KANKYO_DATA_FLOAT32, KANKYO_DATA_FLOAT64 };

  for (guint i = 0; i < 20000; i++)
    {
      KankyoRegisterSpec s = spec_of (types[g_test_rand_int_range (0, G_N_ELEMENTS (types))],
                                      (KankyoWordOrder) g_test_rand_int_range (0, 4));
      guint16 words[4];
      g_auto (KankyoValue) v = KANKYO_VALUE_INIT;
      g_auto (KankyoValue) back = KANKYO_VALUE_INIT;
      guint16 again[4] = { 0 };

      for (guint k = 0; k < 4; k++)
        words[k] = (guint16) g_test_rand_int_range (0, 65536);
      g_assert_true (kankyo_register_decode (&s, words, &v, NULL));
      if (v.type == KANKYO_VALUE_DOUBLE && !isfinite (v.v.d))
        continue;
      g_assert_true (kankyo_register_encode (&s, &v, again, NULL));
      for (guint k = 0; k < kankyo_data_type_width (s.data_type); k++)
        g_assert_cmphex (again[k], ==, words[k]);
      g_assert_true (kankyo_register_decode (&s, again, &back, NULL));
      g_assert_true (kankyo_value_equal (&v, &back));
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/codec/float32/word-orders", test_float32_orders);
  g_test_add_func ("/codec/integers", test_integers);
  g_test_add_func ("/codec/scaling", test_scaling);
  g_test_add_func ("/codec/bits", test_bits);
  g_test_add_func ("/codec/out-of-range", test_out_of_range);
  g_test_add_func ("/codec/nan", test_nan_decodes);
  g_test_add_func ("/codec/validate", test_validate);
  g_test_add_func ("/codec/names", test_names);
  g_test_add_func ("/codec/round-trip", test_round_trip_random);
  return g_test_run ();
}
