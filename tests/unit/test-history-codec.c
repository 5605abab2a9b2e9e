/* test-history-codec.c: the historian's block and rollup-pack encodings.
 *
 * Every block must decode to exactly the samples encoded, bit for bit, in
 * each value domain; typical process signals must pack into a few bits a
 * sample; and damaged blobs (cut short, bits flipped) must be refused or
 * decode to a well-formed series, never crash or read out of bounds.
 */

#include "config.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "kankyo-history-codec.h"

#define SEC G_TIME_SPAN_SECOND
#define T0 (G_GINT64_CONSTANT (1704067200) * SEC)

static GArray *
new_samples (void)
{
  return g_array_new (FALSE, FALSE, sizeof (KankyoHistorianSample));
}

static void
add (GArray *a, gint64 time, double value, KankyoQuality quality)
{
  KankyoHistorianSample s = { time, kankyo_quality_is_bad (quality) ? NAN : value, quality };

  g_array_append_val (a, s);
}

static gboolean
same_bits (double a, double b)
{
  return memcmp (&a, &b, sizeof a) == 0;
}

/* Encodes, decodes and compares; returns the encoded size. */
static gsize
roundtrip (GArray *in)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) out = new_samples ();
  g_autofree guint8 *data = NULL;
  gsize len = 0;

  data = kankyo_history_block_encode ((KankyoHistorianSample *) in->data, in->len, &len);
  g_assert_nonnull (data);
  g_assert_cmpuint (len, >, 0);

  /* Decoding appends. */
  add (out, 1, 2, KANKYO_QUALITY_GOOD);
  g_assert_true (kankyo_history_block_decode (data, len, out, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (out->len, ==, in->len + 1);
  for (guint i = 0; i < in->len; i++)
    {
      KankyoHistorianSample *a = &g_array_index (in, KankyoHistorianSample, i);
      KankyoHistorianSample *b = &g_array_index (out, KankyoHistorianSample, i + 1);

      g_assert_cmpint (b->time, ==, a->time);
      g_assert_cmpint (b->quality, ==, a->quality);
      if (kankyo_quality_is_bad (a->quality))
        g_assert_true (isnan (b->value));
      else if (!same_bits (a->value, b->value))
        g_error ("sample %u: %.17g came back as %.17g", i, a->value, b->value);
    }
  return len;
}

static void
test_roundtrip_scaled (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (1);
  g_autoptr (GArray) a = new_samples ();
  gsize len;

  /* int16 x0.1 readings, divided by 10 as the Modbus codec does. */
  for (guint i = 0; i < 4096; i++)
    add (a, T0 + i * SEC, (double) (215 + g_rand_int_range (rand, -3, 4)) / 10, KANKYO_QUALITY_GOOD);
  len = roundtrip (a);
  g_test_message ("int16 x0.1 with noise: %.2f bytes a sample", (double) len / a->len);
  g_assert_cmpfloat ((double) len / a->len, <, 1.2);

  /* x0.01, negative, and plain integers and booleans. */
  g_array_set_size (a, 0);
  for (guint i = 0; i < 1000; i++)
    add (a, T0 + i * SEC, (double) (-1850 + g_rand_int_range (rand, -20, 20)) / 100, KANKYO_QUALITY_GOOD);
  roundtrip (a);
  g_array_set_size (a, 0);
  for (guint i = 0; i < 1000; i++)
    add (a, T0 + i * SEC, g_rand_int_range (rand, 0, 2), KANKYO_QUALITY_GOOD);
  len = roundtrip (a);
  g_assert_cmpfloat ((double) len / a->len, <, 0.6);
  g_array_set_size (a, 0);
  for (guint i = 0; i < 1000; i++)
    add (a, T0 + i * SEC, (double) g_rand_int (rand) * 1000, KANKYO_QUALITY_GOOD);
  roundtrip (a);
}

static void
test_roundtrip_float32 (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (2);
  g_autoptr (GArray) a = new_samples ();
  double level = 21.0;
  gsize len;

  /* A float32 sensor: drift plus noise of a few hundredths. */
  for (guint i = 0; i < 4096; i++)
    {
      level += g_rand_double_range (rand, -0.002, 0.002);
      add (a, T0 + i * SEC, (float) (level + g_rand_double_range (rand, -0.02, 0.02)), KANKYO_QUALITY_GOOD);
    }
  len = roundtrip (a);
  g_test_message ("float32 with noise: %.2f bytes a sample", (double) len / a->len);
  g_assert_cmpfloat ((double) len / a->len, <, 3.5);

  /* Across signs and exponents. */
  g_array_set_size (a, 0);
  for (guint i = 0; i < 2000; i++)
    add (a, T0 + i * SEC, (float) (sin (i / 50.0) * pow (10, (int) (i % 7) - 3)), KANKYO_QUALITY_GOOD);
  roundtrip (a);
  g_array_set_size (a, 0);
  add (a, T0, FLT_MAX, KANKYO_QUALITY_GOOD);
  add (a, T0 + 1, -FLT_MAX, KANKYO_QUALITY_GOOD);
  add (a, T0 + 2, FLT_MIN / 4, KANKYO_QUALITY_GOOD);
  add (a, T0 + 3, -0.0f, KANKYO_QUALITY_GOOD);
  add (a, T0 + 4, 0.0f, KANKYO_QUALITY_GOOD);
  roundtrip (a);
}

static void
test_roundtrip_double (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (3);
  g_autoptr (GArray) a = new_samples ();
  static const double extremes[]
      = { DBL_MAX, -DBL_MAX, DBL_MIN,   -DBL_MIN,           DBL_MIN / 1024,     -0.0, 0.0, 1e-300,
          M_PI,    -M_E,     1.0 / 3.0, 9007199254740993.0, 123456789.123456789 };

  for (guint i = 0; i < G_N_ELEMENTS (extremes); i++)
    add (a, T0 + i, extremes[i], KANKYO_QUALITY_GOOD);
  roundtrip (a);

  g_array_set_size (a, 0);
  for (guint i = 0; i < 3000; i++)
    add (a, T0 + i * SEC, g_rand_double_range (rand, -1e6, 1e6), KANKYO_QUALITY_GOOD);
  roundtrip (a);

  /* A single sample, and a scaled-looking value among full doubles. */
  g_array_set_size (a, 0);
  add (a, 0, 0.1 + 0.2, KANKYO_QUALITY_GOOD);
  roundtrip (a);
  add (a, 1, 0.5, KANKYO_QUALITY_GOOD);
  roundtrip (a);
}

static void
test_roundtrip_quality (void)
{
  static const KankyoQuality qualities[] = {
    KANKYO_QUALITY_GOOD,
    KANKYO_QUALITY_UNCERTAIN_LAST_USABLE_VALUE,
    KANKYO_QUALITY_BAD_COMMUNICATION_ERROR,
    KANKYO_QUALITY_BAD_NO_COMMUNICATION,
    KANKYO_QUALITY_BAD_OUT_OF_SERVICE,
    KANKYO_QUALITY_BAD_WAITING_FOR_INITIAL_DATA,
    KANKYO_QUALITY_BAD_SENSOR_FAILURE,
  };
  g_autoptr (GRand) rand = g_rand_new_with_seed (4);
  g_autoptr (GArray) a = new_samples ();
  KankyoQuality q = KANKYO_QUALITY_GOOD;

  for (guint i = 0; i < 5000; i++)
    {
      if (g_rand_int_range (rand, 0, 40) == 0)
        q = qualities[g_rand_int_range (rand, 0, G_N_ELEMENTS (qualities))];
      add (a, T0 + i * SEC, (double) g_rand_int_range (rand, 0, 1000) / 10, q);
    }
  roundtrip (a);

  /* Nothing but Bad: no values at all. */
  g_array_set_size (a, 0);
  for (guint i = 0; i < 100; i++)
    add (a, T0 + i * SEC, 0, KANKYO_QUALITY_BAD_NO_COMMUNICATION);
  g_assert_cmpuint (roundtrip (a), <, 40);

  /* Bad first and last, Good in between. */
  g_array_set_size (a, 0);
  add (a, T0, 0, KANKYO_QUALITY_BAD_SENSOR_FAILURE);
  add (a, T0 + 1, 4.5, KANKYO_QUALITY_GOOD);
  add (a, T0 + 2, 0, KANKYO_QUALITY_BAD_SENSOR_FAILURE);
  roundtrip (a);
}

static void
test_roundtrip_times (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (5);
  g_autoptr (GArray) a = new_samples ();
  gint64 t = 0;
  gsize len;

  /* A steady poll of a steady value costs a bit for the time stamp and
   * one for the value. */
  for (guint i = 0; i < 4096; i++)
    add (a, T0 + i * SEC, 1, KANKYO_QUALITY_GOOD);
  len = roundtrip (a);
  g_assert_cmpuint (len, <, 2 * 4096 / 8 + 64);

  /* Jitter, 1 µs steps, gaps of years, the first and last valid times. */
  g_array_set_size (a, 0);
  for (guint i = 0; i < 3000; i++)
    {
      switch (g_rand_int_range (rand, 0, 4))
        {
          case 0:
            t += 1;
            break;
          case 1:
            t += SEC + g_rand_int_range (rand, -20000, 20000);
            break;
          case 2:
            t += g_rand_int_range (rand, 1, 1000000000);
            break;
          default:
            t += (gint64) g_rand_int_range (rand, 1, 1000) * 365 * 86400 * SEC / 1000;
            break;
        }
      add (a, t, i, KANKYO_QUALITY_GOOD);
    }
  roundtrip (a);
  g_array_set_size (a, 0);
  add (a, 0, 1, KANKYO_QUALITY_GOOD);
  add (a, KANKYO_HISTORY_TIME_MAX - 1, 2, KANKYO_QUALITY_GOOD);
  add (a, KANKYO_HISTORY_TIME_MAX, 3, KANKYO_QUALITY_GOOD);
  roundtrip (a);
}

/* Many random blocks of every kind and size, up to the maximum. */
static void
test_roundtrip_random (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (6);

  for (guint round = 0; round < 300; round++)
    {
      g_autoptr (GArray) a = new_samples ();
      guint n = round == 0 ? KANKYO_HISTORY_BLOCK_MAX : g_rand_int_range (rand, 1, 3000);
      int kind = g_rand_int_range (rand, 0, 4);
      gint64 t = g_rand_int_range (rand, 0, 1000000) * SEC;

      for (guint i = 0; i < n; i++)
        {
          KankyoQuality q = g_rand_int_range (rand, 0, 10) == 0 ? KANKYO_QUALITY_BAD_COMMUNICATION_ERROR
                                                                : KANKYO_QUALITY_GOOD;
          double v;

          t += g_rand_int_range (rand, 1, 3 * SEC);
          switch (kind)
            {
              case 0:
                v = (double) g_rand_int_range (rand, -32768, 32768) / 100;
                break;
              case 1:
                v = (float) g_rand_double_range (rand, -100, 100);
                break;
              case 2:
                v = g_rand_double_range (rand, -1e12, 1e12);
                break;
              default:
                v = g_rand_int_range (rand, 0, 2);
                break;
            }
          add (a, t, v, q);
        }
      roundtrip (a);
    }
}

static GArray *
sample_block (void)
{
  GArray *a = new_samples ();

  for (guint i = 0; i < 500; i++)
    add (a, T0 + i * SEC + (i % 7) * 1000, (float) (20 + sin (i / 10.0)),
         i % 50 < 3 ? KANKYO_QUALITY_BAD_NO_COMMUNICATION : KANKYO_QUALITY_GOOD);
  return a;
}

/* A decoded damaged block, if it decodes at all, is still a series the
 * historian can use. */
static void
assert_well_formed (GArray *out)
{
  for (guint i = 0; i < out->len; i++)
    {
      KankyoHistorianSample *s = &g_array_index (out, KankyoHistorianSample, i);

      g_assert_cmpint (s->time, >=, 0);
      g_assert_cmpint (s->time, <=, KANKYO_HISTORY_TIME_MAX);
      g_assert_true (i == 0 || s->time > s[-1].time);
      g_assert_cmpint (s->quality, <=, KANKYO_QUALITY_BAD_SENSOR_FAILURE);
      g_assert_true (kankyo_quality_is_bad (s->quality) ? isnan (s->value) : isfinite (s->value));
    }
}

static void
test_corrupt_truncated (void)
{
  g_autoptr (GArray) in = sample_block ();
  g_autofree guint8 *data = NULL;
  gsize len;

  data = kankyo_history_block_encode ((KankyoHistorianSample *) in->data, in->len, &len);
  for (gsize cut = 0; cut < len; cut++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GArray) out = new_samples ();
      /* A copy of exactly @cut bytes, so that a sanitizer sees any read past it. */
      g_autofree guint8 *part = g_memdup2 (data, MAX (cut, 1));

      g_assert_false (kankyo_history_block_decode (cut > 0 ? part : NULL, cut, out, &error));
      g_assert_error (error, KANKYO_HISTORIAN_ERROR, KANKYO_HISTORIAN_ERROR_CORRUPT);
      g_assert_cmpuint (out->len, ==, 0);
    }
}

static void
test_corrupt_bitflips (void)
{
  g_autoptr (GArray) in = sample_block ();
  g_autofree guint8 *data = NULL;
  guint refused = 0;
  gsize len;

  data = kankyo_history_block_encode ((KankyoHistorianSample *) in->data, in->len, &len);
  for (gsize bit = 0; bit < len * 8; bit++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GArray) out = new_samples ();
      g_autofree guint8 *copy = g_memdup2 (data, len);

      copy[bit / 8] ^= 1 << (bit % 8);
      if (kankyo_history_block_decode (copy, len, out, &error))
        assert_well_formed (out);
      else
        {
          g_assert_error (error, KANKYO_HISTORIAN_ERROR, KANKYO_HISTORIAN_ERROR_CORRUPT);
          g_assert_nonnull (strstr (error->message, "damaged"));
          g_assert_cmpuint (out->len, ==, 0);
          refused++;
        }
    }
  /* Flips in the header and the counts are always caught. */
  g_test_message ("%u of %" G_GSIZE_FORMAT " flipped bits refused", refused, len * 8);
  g_assert_cmpuint (refused, >=, 40);
}

static void
test_rollups_roundtrip (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) out = g_array_new (FALSE, FALSE, sizeof (KankyoHistoryRollup));
  KankyoHistoryRollup in[3] = {
    { 1440 * 100, 60, 0, 59000000, FALSE, 19.5, 21.25, 1230.5, 20.0, 21.0 },
    { 1440 * 100 + 7, 0, 1000, 5000, TRUE, NAN, NAN, NAN, NAN, NAN },
    { 1440 * 100 + 1439, 1, 30000000, 30000000, TRUE, -4.5, -4.5, -4.5, -4.5, -4.5 },
  };
  g_autofree guint8 *data = NULL;
  gsize len;

  data = kankyo_history_rollups_encode (in, G_N_ELEMENTS (in), 1440 * 100, &len);
  g_assert_true (kankyo_history_rollups_decode (data, len, 60 * SEC, out, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (out->len, ==, 3);
  for (guint i = 0; i < 3; i++)
    {
      KankyoHistoryRollup *r = &g_array_index (out, KankyoHistoryRollup, i);

      g_assert_cmpint (r->bucket, ==, in[i].bucket);
      g_assert_cmpuint (r->count, ==, in[i].count);
      g_assert_cmpuint (r->first_off, ==, in[i].first_off);
      g_assert_cmpuint (r->last_off, ==, in[i].last_off);
      g_assert_cmpint (r->bad, ==, in[i].bad);
      g_assert_true (same_bits (r->min, in[i].min) || (isnan (r->min) && isnan (in[i].min)));
      g_assert_true (same_bits (r->sum, in[i].sum) || (isnan (r->sum) && isnan (in[i].sum)));
      g_assert_true (same_bits (r->last, in[i].last) || (isnan (r->last) && isnan (in[i].last)));
    }

  /* An offset that does not fit the bucket width is damage. */
  g_array_set_size (out, 0);
  g_assert_false (kankyo_history_rollups_decode (data, len, 30 * SEC, out, &error));
  g_assert_error (error, KANKYO_HISTORIAN_ERROR, KANKYO_HISTORIAN_ERROR_CORRUPT);
  g_assert_cmpuint (out->len, ==, 0);
}

static void
test_rollups_corrupt (void)
{
  KankyoHistoryRollup in[2] = {
    { 10, 3, 0, 20, FALSE, 1, 3, 6, 1, 3 },
    { 11, 2, 5, 7, TRUE, 2, 2, 4, 2, 2 },
  };
  g_autofree guint8 *data = NULL;
  gsize len;

  data = kankyo_history_rollups_encode (in, 2, 0, &len);
  for (gsize cut = 0; cut < len; cut++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GArray) out = g_array_new (FALSE, FALSE, sizeof (KankyoHistoryRollup));
      g_autofree guint8 *part = g_memdup2 (data, MAX (cut, 1));

      g_assert_false (kankyo_history_rollups_decode (cut > 0 ? part : NULL, cut, 60 * SEC, out, &error));
      g_assert_error (error, KANKYO_HISTORIAN_ERROR, KANKYO_HISTORIAN_ERROR_CORRUPT);
    }
  for (gsize bit = 0; bit < len * 8; bit++)
    {
      g_autoptr (GArray) out = g_array_new (FALSE, FALSE, sizeof (KankyoHistoryRollup));
      g_autofree guint8 *copy = g_memdup2 (data, len);

      copy[bit / 8] ^= 1 << (bit % 8);
      if (kankyo_history_rollups_decode (copy, len, 60 * SEC, out, NULL))
        for (guint i = 0; i < out->len; i++)
          {
            KankyoHistoryRollup *r = &g_array_index (out, KankyoHistoryRollup, i);

            g_assert_cmpuint (r->last_off, <, 60 * SEC);
            g_assert_cmpuint (r->first_off, <=, r->last_off);
            g_assert_true (r->count == 0 || (r->min <= r->max && isfinite (r->sum)));
          }
      else
        g_assert_cmpuint (out->len, ==, 0);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/history-codec/roundtrip/scaled", test_roundtrip_scaled);
  g_test_add_func ("/history-codec/roundtrip/float32", test_roundtrip_float32);
  g_test_add_func ("/history-codec/roundtrip/double", test_roundtrip_double);
  g_test_add_func ("/history-codec/roundtrip/quality", test_roundtrip_quality);
  g_test_add_func ("/history-codec/roundtrip/times", test_roundtrip_times);
  g_test_add_func ("/history-codec/roundtrip/random", test_roundtrip_random);
  g_test_add_func ("/history-codec/corrupt/truncated", test_corrupt_truncated);
  g_test_add_func ("/history-codec/corrupt/bitflips", test_corrupt_bitflips);
  g_test_add_func ("/history-codec/rollups/roundtrip", test_rollups_roundtrip);
  g_test_add_func ("/history-codec/rollups/corrupt", test_rollups_corrupt);

  return g_test_run ();
}
