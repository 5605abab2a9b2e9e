/* kankyo-history-codec.c: the historian's block and rollup-pack formats.
 *
 * A block holds one tag's samples in time order. Process values change a
 * little from one poll to the next and polls come at a steady rate, so the
 * block stores differences: each time as the change of the previous
 * interval (one bit for a steady poll), each value as the change from the
 * previous value in an integer domain chosen per block, both coded with an
 * adaptive Rice code (unary quotient, k low bits, k following the running
 * mean of recent codes). A steady 1 s poll costs one bit a time stamp and a
 * reading with a few counts of noise a few bits. The integer domain is the
 * first of these that reproduces every value bit for bit:
 *
 *   scaled   v = m / 10^d for an integer m, d in 0..9: int16 x0.1 readings
 *            (the Modbus codec divides by 10), counters, booleans;
 *   float32  the value is a float32 reading widened to double; m is its bit
 *            pattern mapped so that integer order is numeric order;
 *   double   the same mapping on the 64-bit pattern.
 *
 * Quality is stored as runs (quality, length); Bad samples have no value in
 * the value stream and decode as NAN.
 *
 * Block layout, bit-packed most significant bit first:
 *   'K' 'H' 1, mode (0 no values, 1 scaled, 2 float32, 3 double), decimals,
 *   varint count, varint number of runs, runs as (quality byte, varint
 *   length), zigzag varint first time; then the first interval as its
 *   bit length (6 bits) and its bits, and for each later interval a 0 bit
 *   when it equals the one before, or a 1 bit and the Rice code of the
 *   zigzag change minus one;
 *   then the first value's integer raw (32 bits for float32, 64 otherwise)
 *   and the zigzag Rice codes of each following change, modulo 2^64.
 *
 * A rollup pack is a run of fixed-size little-endian records, so that a
 * trend read decodes a day of minutes with plain loads:
 *   'K' 'R' 1 0, u32 count, i64 base bucket; then per bucket u16 index from
 *   base, u8 flags (1: some sample was Bad), u8 0, u32 count, u32 first and
 *   last offset (µs into the bucket), f64 min, max, sum, first, last.
 *
 * Decoders check every field and every bound, so a damaged blob gives
 * KANKYO_HISTORIAN_ERROR_CORRUPT rather than a crash or wrong data.
 */

#include "config.h"

#include "kankyo-history-codec.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#define BLOCK_VERSION 1
#define PACK_VERSION 1
#define PACK_HEADER_LEN 16
#define PACK_RECORD_LEN 56
#define DECIMALS_MAX 9
/* A quotient this long switches to the value's 64 raw bits. */
#define RICE_ESCAPE 32
/* Keeps one wild value from swamping the running mean. */
#define RICE_SUM_CAP (G_GUINT64_CONSTANT (1) << 56)
#define RICE_WINDOW 16
/* Largest integer a double holds exactly, and so a scaled value may have. */
#define SCALED_MAX 9007199254740992.0
/* Worst case of one sample in the bit stream: two escapes, in bytes. */
#define SAMPLE_BYTES_MAX 32

enum
{
  MODE_NONE,
  MODE_SCALED,
  MODE_FLOAT,
  MODE_DOUBLE,
};

static const double powers_of_ten[DECIMALS_MAX + 1] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9 };

static gboolean
corrupt (GError **error, const char *what)
{
  /* Translators: %s says what was wrong, e.g. 'times do not increase'. */
  g_set_error (error, KANKYO_HISTORIAN_ERROR, KANKYO_HISTORIAN_ERROR_CORRUPT,
               _ ("the stored data is damaged: %s"), what);
  return FALSE;
}

/* Bit writer, most significant bit first. */

typedef struct
{
  guint8 *buf;
  gsize len;
  gsize cap;
  guint64 acc;
  guint n_acc;
} BitWriter;

static void
bw_reserve (BitWriter *w, gsize extra)
{
  if (w->len + extra + 1 <= w->cap)
    return;
  w->cap = MAX (w->cap * 2, w->len + extra + 64);
  w->buf = g_realloc (w->buf, w->cap);
}

/* @n <= 32 and @bits < 2^n; room must have been reserved. */
static inline void
bw_put (BitWriter *w, guint64 bits, guint n)
{
  w->acc = (w->acc << n) | bits;
  w->n_acc += n;
  while (w->n_acc >= 8)
    {
      w->n_acc -= 8;
      w->buf[w->len++] = (guint8) (w->acc >> w->n_acc);
    }
}

static inline void
bw_put64 (BitWriter *w, guint64 bits, guint n)
{
  if (n > 32)
    {
      bw_put (w, bits >> 32, n - 32);
      bw_put (w, bits & 0xffffffffu, 32);
    }
  else
    bw_put (w, bits, n);
}

static void
bw_varint (BitWriter *w, guint64 v)
{
  bw_reserve (w, 10);
  while (v >= 0x80)
    {
      bw_put (w, (v & 0x7f) | 0x80, 8);
      v >>= 7;
    }
  bw_put (w, v, 8);
}

static guint8 *
bw_finish (BitWriter *w, gsize *ret_len)
{
  bw_reserve (w, 1);
  if (w->n_acc > 0)
    bw_put (w, 0, 8 - w->n_acc);
  *ret_len = w->len;
  return w->buf;
}

/* Bit reader: a 64-bit window, most significant bit first, that marks an
 * overrun instead of reading past the end. */

typedef struct
{
  const guint8 *p;
  const guint8 *end;
  guint64 win;
  guint n_win;
  gboolean overrun;
} BitReader;

static inline void
br_refill (BitReader *r)
{
  while (r->n_win <= 56 && r->p < r->end)
    {
      r->win |= (guint64) *r->p++ << (56 - r->n_win);
      r->n_win += 8;
    }
}

static inline void
br_skip (BitReader *r, guint n)
{
  r->win = n >= 64 ? 0 : r->win << n;
  r->n_win -= n;
}

/* @n <= 32. */
static inline guint64
br_get (BitReader *r, guint n)
{
  guint64 v;

  if (n == 0)
    return 0;
  if (r->n_win < n)
    {
      br_refill (r);
      if (r->n_win < n)
        {
          r->overrun = TRUE;
          return 0;
        }
    }
  v = r->win >> (64 - n);
  br_skip (r, n);
  return v;
}

static inline guint64
br_get64 (BitReader *r, guint n)
{
  if (n > 32)
    {
      guint64 high = br_get (r, n - 32);

      return (high << 32) | br_get (r, 32);
    }
  return br_get (r, n);
}

/* Counts one bits up to @max, consuming the zero that ends them. */
static inline guint
br_ones (BitReader *r, guint max)
{
  guint count = 0;

  for (;;)
    {
      guint64 inv;
      guint lead;

      if (r->n_win == 0)
        {
          br_refill (r);
          if (r->n_win == 0)
            {
              r->overrun = TRUE;
              return count;
            }
        }
      inv = ~r->win;
      lead = inv == 0 ? 64 : (guint) __builtin_clzll (inv);
      lead = MIN (lead, r->n_win);
      if (count + lead >= max)
        {
          br_skip (r, max - count);
          return max;
        }
      if (lead < r->n_win)
        {
          br_skip (r, lead + 1);
          return count + lead;
        }
      count += lead;
      br_skip (r, lead);
    }
}

static gboolean
br_varint (BitReader *r, guint64 *ret)
{
  guint64 v = 0;

  for (guint shift = 0; shift < 64; shift += 7)
    {
      guint64 byte = br_get (r, 8);

      if (r->overrun)
        return FALSE;
      if (shift == 63 && byte > 1)
        return FALSE;
      v |= (byte & 0x7f) << shift;
      if ((byte & 0x80) == 0)
        {
          *ret = v;
          return TRUE;
        }
    }
  return FALSE;
}

/* Adaptive Rice code. */

typedef struct
{
  guint64 sum;
  guint32 n;
} Rice;

#define RICE_INIT                                                                                            \
  {                                                                                                          \
    0, 1                                                                                                     \
  }

static inline guint
rice_k (const Rice *s)
{
  guint64 mean = s->sum / s->n;

  return mean < 2 ? 0 : 63 - (guint) __builtin_clzll (mean);
}

static inline void
rice_update (Rice *s, guint64 u)
{
  s->sum += MIN (u, RICE_SUM_CAP);
  if (++s->n == RICE_WINDOW)
    {
      s->sum >>= 1;
      s->n >>= 1;
    }
}

static inline void
rice_put (BitWriter *w, Rice *s, guint64 u)
{
  guint k = rice_k (s);
  guint64 q = u >> k;

  if (q < RICE_ESCAPE)
    {
      bw_put (w, ((G_GUINT64_CONSTANT (1) << q) - 1) << 1, (guint) q + 1);
      bw_put64 (w, u & ((G_GUINT64_CONSTANT (1) << k) - 1), k);
    }
  else
    {
      bw_put (w, 0xffffffffu, RICE_ESCAPE);
      bw_put64 (w, u, 64);
    }
  rice_update (s, u);
}

static inline guint64
rice_get (BitReader *r, Rice *s)
{
  guint k = rice_k (s);
  guint q = br_ones (r, RICE_ESCAPE);
  guint64 u;

  if (q == RICE_ESCAPE)
    u = br_get64 (r, 64);
  else
    u = ((guint64) q << k) | br_get64 (r, k);
  rice_update (s, u);
  return u;
}

static inline guint64
zigzag (gint64 v)
{
  return ((guint64) v << 1) ^ (guint64) (v >> 63);
}

static inline gint64
unzigzag (guint64 u)
{
  return (gint64) (u >> 1) ^ -(gint64) (u & 1);
}

/* Value domains. */

static inline guint64
double_bits (double v)
{
  guint64 bits;

  memcpy (&bits, &v, sizeof bits);
  return bits;
}

static inline double
bits_double (guint64 bits)
{
  double v;

  memcpy (&v, &bits, sizeof v);
  return v;
}

static inline guint32
float_bits (float f)
{
  guint32 bits;

  memcpy (&bits, &f, sizeof bits);
  return bits;
}

static gboolean
scaled_fits (double v, guint decimals, guint64 *ret)
{
  double x = v * powers_of_ten[decimals];
  gint64 m;

  if (!(fabs (x) < SCALED_MAX))
    return FALSE;
  m = (gint64) llround (x);
  if (double_bits ((double) m / powers_of_ten[decimals]) != double_bits (v))
    return FALSE;
  *ret = (guint64) m;
  return TRUE;
}

static inline guint64
float_to_ordered (double v)
{
  guint32 b = float_bits ((float) v);

  return (b & 0x80000000u) ? (guint32) ~b : (b | 0x80000000u);
}

static inline double
ordered_to_float (guint32 o)
{
  guint32 b = (o & 0x80000000u) ? (o ^ 0x80000000u) : ~o;
  float f;

  memcpy (&f, &b, sizeof f);
  return f;
}

static inline guint64
double_to_ordered (double v)
{
  guint64 b = double_bits (v);

  return (b >> 63) ? ~b : (b | (G_GUINT64_CONSTANT (1) << 63));
}

static inline double
ordered_to_double (guint64 o)
{
  return bits_double ((o >> 63) ? (o ^ (G_GUINT64_CONSTANT (1) << 63)) : ~o);
}

static gboolean
all_fit (const KankyoHistorianSample *samples, guint n, int mode, guint decimals)
{
  for (guint i = 0; i < n; i++)
    {
      double v = samples[i].value;
      guint64 m;

      if (kankyo_quality_is_bad (samples[i].quality))
        continue;
      if (mode == MODE_SCALED && !scaled_fits (v, decimals, &m))
        return FALSE;
      if (mode == MODE_FLOAT && double_bits ((double) (float) v) != double_bits (v))
        return FALSE;
    }
  return TRUE;
}

static void
choose_mode (const KankyoHistorianSample *samples, guint n, int *ret_mode, guint *ret_decimals)
{
  gboolean any = FALSE;

  for (guint i = 0; i < n && !any; i++)
    any = !kankyo_quality_is_bad (samples[i].quality);
  *ret_decimals = 0;
  if (!any)
    {
      *ret_mode = MODE_NONE;
      return;
    }
  for (guint d = 0; d <= DECIMALS_MAX; d++)
    if (all_fit (samples, n, MODE_SCALED, d))
      {
        *ret_mode = MODE_SCALED;
        *ret_decimals = d;
        return;
      }
  *ret_mode = all_fit (samples, n, MODE_FLOAT, 0) ? MODE_FLOAT : MODE_DOUBLE;
}

static inline guint64
to_integer (double v, int mode, guint decimals)
{
  guint64 m = 0;

  switch (mode)
    {
      case MODE_SCALED:
        scaled_fits (v, decimals, &m);
        return m;
      case MODE_FLOAT:
        return float_to_ordered (v);
      default:
        return double_to_ordered (v);
    }
}

guint8 *
kankyo_history_block_encode (const KankyoHistorianSample *samples, guint n_samples, gsize *ret_len)
{
  BitWriter w = { NULL, 0, 0, 0, 0 };
  Rice time_rice = RICE_INIT;
  Rice value_rice = RICE_INIT;
  guint n_runs = 1;
  gint64 prev_delta = 0;
  gboolean have_value = FALSE;
  guint64 prev = 0;
  guint decimals;
  int mode;

  g_return_val_if_fail (samples != NULL, NULL);
  g_return_val_if_fail (n_samples >= 1 && n_samples <= KANKYO_HISTORY_BLOCK_MAX, NULL);
  g_return_val_if_fail (ret_len != NULL, NULL);

  choose_mode (samples, n_samples, &mode, &decimals);
  for (guint i = 1; i < n_samples; i++)
    if (samples[i].quality != samples[i - 1].quality)
      n_runs++;

  bw_reserve (&w, 5);
  bw_put (&w, 'K', 8);
  bw_put (&w, 'H', 8);
  bw_put (&w, BLOCK_VERSION, 8);
  bw_put (&w, mode, 8);
  bw_put (&w, decimals, 8);
  bw_varint (&w, n_samples);
  bw_varint (&w, n_runs);
  for (guint i = 0; i < n_samples;)
    {
      guint j = i + 1;

      while (j < n_samples && samples[j].quality == samples[i].quality)
        j++;
      bw_reserve (&w, 1);
      bw_put (&w, samples[i].quality, 8);
      bw_varint (&w, j - i);
      i = j;
    }
  bw_varint (&w, zigzag (samples[0].time));

  for (guint i = 1; i < n_samples; i++)
    {
      gint64 delta = samples[i].time - samples[i - 1].time;

      g_return_val_if_fail (delta > 0, (g_free (w.buf), NULL));
      bw_reserve (&w, SAMPLE_BYTES_MAX);
      if (i == 1)
        {
          guint bits = 64 - (guint) __builtin_clzll ((guint64) delta);

          bw_put (&w, bits, 6);
          bw_put64 (&w, (guint64) delta, bits);
        }
      else if (delta == prev_delta)
        bw_put (&w, 0, 1);
      else
        {
          bw_put (&w, 1, 1);
          rice_put (&w, &time_rice, zigzag (delta - prev_delta) - 1);
        }
      prev_delta = delta;
    }

  for (guint i = 0; i < n_samples; i++)
    {
      guint64 m;

      if (kankyo_quality_is_bad (samples[i].quality))
        continue;
      m = to_integer (samples[i].value, mode, decimals);
      bw_reserve (&w, SAMPLE_BYTES_MAX);
      if (!have_value)
        bw_put64 (&w, m, mode == MODE_FLOAT ? 32 : 64);
      else
        rice_put (&w, &value_rice, zigzag ((gint64) (m - prev)));
      prev = m;
      have_value = TRUE;
    }

  return bw_finish (&w, ret_len);
}

static gboolean
decode_value (guint64 m, int mode, guint decimals, double *ret)
{
  double v;

  switch (mode)
    {
      case MODE_SCALED:
        if ((gint64) m > (gint64) SCALED_MAX || (gint64) m < -(gint64) SCALED_MAX)
          return FALSE;
        v = (double) (gint64) m / powers_of_ten[decimals];
        break;
      case MODE_FLOAT:
        if (m > G_MAXUINT32)
          return FALSE;
        v = ordered_to_float ((guint32) m);
        break;
      default:
        v = ordered_to_double (m);
        break;
    }
  if (!isfinite (v))
    return FALSE;
  *ret = v;
  return TRUE;
}

gboolean
kankyo_history_block_decode (const guint8 *data, gsize len, GArray *samples, GError **error)
{
  BitReader r = { data, data + len, 0, 0, FALSE };
  Rice time_rice = RICE_INIT;
  Rice value_rice = RICE_INIT;
  guint first = samples->len;
  KankyoHistorianSample *out;
  guint64 n, n_runs, zz_time, filled = 0;
  gint64 time, delta = 0;
  gboolean have_value = FALSE;
  guint64 prev = 0;
  guint decimals;
  int mode;

  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail (g_array_get_element_size (samples) == sizeof (KankyoHistorianSample), FALSE);

  if (br_get (&r, 8) != 'K' || br_get (&r, 8) != 'H' || br_get (&r, 8) != BLOCK_VERSION)
    return corrupt (error, _ ("not a block of samples"));
  mode = (int) br_get (&r, 8);
  decimals = (guint) br_get (&r, 8);
  if (r.overrun || mode > MODE_DOUBLE || decimals > DECIMALS_MAX)
    return corrupt (error, _ ("unknown value encoding"));
  if (!br_varint (&r, &n) || n < 1 || n > KANKYO_HISTORY_BLOCK_MAX || !br_varint (&r, &n_runs) || n_runs < 1
      || n_runs > n)
    return corrupt (error, _ ("the sample count is out of range"));

  g_array_set_size (samples, first + n);
  out = &g_array_index (samples, KankyoHistorianSample, first);
  for (guint64 run = 0; run < n_runs; run++)
    {
      guint64 quality = br_get (&r, 8);
      guint64 length;

      if (r.overrun || quality > KANKYO_QUALITY_BAD_SENSOR_FAILURE || !br_varint (&r, &length) || length < 1
          || length > n - filled)
        {
          g_array_set_size (samples, first);
          return corrupt (error, _ ("the quality runs do not add up"));
        }
      for (guint64 i = 0; i < length; i++)
        out[filled + i].quality = (KankyoQuality) quality;
      filled += length;
    }
  if (filled != n || !br_varint (&r, &zz_time))
    {
      g_array_set_size (samples, first);
      return corrupt (error, _ ("the quality runs do not add up"));
    }

  time = unzigzag (zz_time);
  if (time < 0 || time > KANKYO_HISTORY_TIME_MAX)
    {
      g_array_set_size (samples, first);
      return corrupt (error, _ ("a time is out of range"));
    }
  out[0].time = time;
  for (guint64 i = 1; i < n; i++)
    {
      if (i == 1)
        {
          guint bits = (guint) br_get (&r, 6);
          guint64 u = br_get64 (&r, bits);

          delta = u <= (guint64) KANKYO_HISTORY_TIME_MAX ? (gint64) u : -1;
        }
      else if (br_get (&r, 1) == 1)
        {
          guint64 u = rice_get (&r, &time_rice);
          gint64 change = u == G_MAXUINT64 ? G_MININT64 : unzigzag (u + 1);

          delta = (change > 0 && delta > KANKYO_HISTORY_TIME_MAX - change) ? -1 : delta + change;
        }
      if (r.overrun || delta < 1 || time > KANKYO_HISTORY_TIME_MAX - delta)
        {
          g_array_set_size (samples, first);
          return corrupt (error, _ ("times do not increase"));
        }
      time += delta;
      out[i].time = time;
    }

  for (guint64 i = 0; i < n; i++)
    {
      guint64 m;

      if (kankyo_quality_is_bad (out[i].quality))
        {
          out[i].value = NAN;
          continue;
        }
      if (mode == MODE_NONE)
        {
          g_array_set_size (samples, first);
          return corrupt (error, _ ("a value is missing"));
        }
      if (!have_value)
        m = br_get64 (&r, mode == MODE_FLOAT ? 32 : 64);
      else
        m = prev + (guint64) unzigzag (rice_get (&r, &value_rice));
      if (r.overrun || !decode_value (m, mode, decimals, &out[i].value))
        {
          g_array_set_size (samples, first);
          return corrupt (error, _ ("a value does not decode"));
        }
      prev = m;
      have_value = TRUE;
    }

  return TRUE;
}

/* Rollup packs. */

static inline void
put_u16 (guint8 *p, guint16 v)
{
  p[0] = v & 0xff;
  p[1] = v >> 8;
}

static inline void
put_u32 (guint8 *p, guint32 v)
{
  v = GUINT32_TO_LE (v);
  memcpy (p, &v, 4);
}

static inline void
put_u64 (guint8 *p, guint64 v)
{
  v = GUINT64_TO_LE (v);
  memcpy (p, &v, 8);
}

static inline guint16
get_u16 (const guint8 *p)
{
  return (guint16) (p[0] | (p[1] << 8));
}

static inline guint32
get_u32 (const guint8 *p)
{
  guint32 v;

  memcpy (&v, p, 4);
  return GUINT32_FROM_LE (v);
}

static inline guint64
get_u64 (const guint8 *p)
{
  guint64 v;

  memcpy (&v, p, 8);
  return GUINT64_FROM_LE (v);
}

guint8 *
kankyo_history_rollups_encode (const KankyoHistoryRollup *rollups, guint n, gint64 base, gsize *ret_len)
{
  gsize len = PACK_HEADER_LEN + (gsize) n * PACK_RECORD_LEN;
  guint8 *buf, *p;

  g_return_val_if_fail (rollups != NULL, NULL);
  g_return_val_if_fail (n >= 1 && n <= KANKYO_HISTORY_PACK_MAX, NULL);
  g_return_val_if_fail (ret_len != NULL, NULL);

  buf = g_malloc (len);
  buf[0] = 'K';
  buf[1] = 'R';
  buf[2] = PACK_VERSION;
  buf[3] = 0;
  put_u32 (buf + 4, n);
  put_u64 (buf + 8, (guint64) base);
  p = buf + PACK_HEADER_LEN;
  for (guint i = 0; i < n; i++, p += PACK_RECORD_LEN)
    {
      const KankyoHistoryRollup *r = &rollups[i];
      gboolean empty = r->count == 0;

      g_return_val_if_fail (r->bucket >= base && r->bucket - base < KANKYO_HISTORY_PACK_MAX,
                            (g_free (buf), NULL));
      g_return_val_if_fail (i == 0 || r->bucket > rollups[i - 1].bucket, (g_free (buf), NULL));
      put_u16 (p, (guint16) (r->bucket - base));
      p[2] = r->bad ? 1 : 0;
      p[3] = 0;
      put_u32 (p + 4, r->count);
      put_u32 (p + 8, r->first_off);
      put_u32 (p + 12, r->last_off);
      put_u64 (p + 16, double_bits (empty ? NAN : r->min));
      put_u64 (p + 24, double_bits (empty ? NAN : r->max));
      put_u64 (p + 32, double_bits (empty ? NAN : r->sum));
      put_u64 (p + 40, double_bits (empty ? NAN : r->first));
      put_u64 (p + 48, double_bits (empty ? NAN : r->last));
    }
  *ret_len = len;
  return buf;
}

gboolean
kankyo_history_rollups_decode (const guint8 *data, gsize len, gint64 width, GArray *rollups, GError **error)
{
  guint first = rollups->len;
  KankyoHistoryRollup *out;
  const guint8 *p;
  gint64 base;
  guint32 n;

  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail (width > 0 && width <= G_MAXUINT32, FALSE);
  g_return_val_if_fail (g_array_get_element_size (rollups) == sizeof (KankyoHistoryRollup), FALSE);

  if (len < PACK_HEADER_LEN || data[0] != 'K' || data[1] != 'R' || data[2] != PACK_VERSION || data[3] != 0)
    return corrupt (error, _ ("not a pack of rollups"));
  n = get_u32 (data + 4);
  base = (gint64) get_u64 (data + 8);
  if (n < 1 || n > KANKYO_HISTORY_PACK_MAX || len != PACK_HEADER_LEN + (gsize) n * PACK_RECORD_LEN)
    return corrupt (error, _ ("the rollup count does not match the size"));
  if (base < 0 || base > KANKYO_HISTORY_TIME_MAX / width - KANKYO_HISTORY_PACK_MAX)
    return corrupt (error, _ ("a time is out of range"));

  g_array_set_size (rollups, first + n);
  out = &g_array_index (rollups, KankyoHistoryRollup, first);
  p = data + PACK_HEADER_LEN;
  for (guint32 i = 0; i < n; i++, p += PACK_RECORD_LEN)
    {
      KankyoHistoryRollup *r = &out[i];
      const char *problem = NULL;

      r->bucket = base + get_u16 (p);
      r->bad = p[2] == 1;
      r->count = get_u32 (p + 4);
      r->first_off = get_u32 (p + 8);
      r->last_off = get_u32 (p + 12);
      if (r->count > 0)
        {
          r->min = bits_double (get_u64 (p + 16));
          r->max = bits_double (get_u64 (p + 24));
          r->sum = bits_double (get_u64 (p + 32));
          r->first = bits_double (get_u64 (p + 40));
          r->last = bits_double (get_u64 (p + 48));
          /* Written this way round so that NAN fails every test. */
          if (!(r->min <= r->max) || !isfinite (r->min) || !isfinite (r->max) || !isfinite (r->sum)
              || !(r->first >= r->min && r->first <= r->max) || !(r->last >= r->min && r->last <= r->max))
            problem = _ ("a rollup's values are inconsistent");
        }
      else
        r->min = r->max = r->sum = r->first = r->last = NAN;

      if (p[2] > 1 || p[3] != 0)
        problem = _ ("a rollup's flags are unknown");
      else if (i > 0 && r->bucket <= out[i - 1].bucket)
        problem = _ ("rollups are out of order");
      else if (r->first_off > r->last_off || r->last_off >= width)
        problem = _ ("a rollup's times fall outside its interval");

      if (problem != NULL)
        {
          g_array_set_size (rollups, first);
          return corrupt (error, problem);
        }
    }
  return TRUE;
}
