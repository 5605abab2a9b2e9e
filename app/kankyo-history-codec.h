/* kankyo-history-codec.h: how the historian packs samples and rollups into blobs.
 *
 * Internal to libkankyo: the historian stores a tag's raw samples as blocks
 * (a few thousand samples each) and its rollups as packs (a day of minutes,
 * thirty days of hours), so that a trend over weeks reads a few hundred
 * blobs instead of millions of rows. The formats are described at the top
 * of kankyo-history-codec.c.
 */
#pragma once

#include <glib.h>

#include "kankyo-historian.h"

G_BEGIN_DECLS

/* Most samples a block may hold; the historian writes at most 4096. */
#define KANKYO_HISTORY_BLOCK_MAX 65536
/* Latest time a sample may carry: the start of the year 10000. */
#define KANKYO_HISTORY_TIME_MAX G_GINT64_CONSTANT (253402300800000000)
/* Most buckets one rollup pack may hold. */
#define KANKYO_HISTORY_PACK_MAX 65535

/* Encodes @n_samples (1 to KANKYO_HISTORY_BLOCK_MAX) samples whose times
 * strictly increase, lie in [0, KANKYO_HISTORY_TIME_MAX] and whose values
 * are finite unless their quality is Bad (a Bad sample's value is not
 * stored: it decodes as NAN). Returns a g_malloc()ed block. */
guint8 *kankyo_history_block_encode (const KankyoHistorianSample *samples, guint n_samples, gsize *ret_len);

/* Appends the samples of a block to @samples (KankyoHistorianSample).
 * Fails with KANKYO_HISTORIAN_ERROR_CORRUPT, leaving @samples as it was,
 * when the block does not decode to a well-formed series. */
gboolean kankyo_history_block_decode (const guint8 *data, gsize len, GArray *samples, GError **error);

/* One rollup bucket: the Good samples in [bucket * width, (bucket + 1) * width).
 * When count is 0 the values are NAN and the offsets are those of the first
 * and last sample of any quality; otherwise they are those of the first and
 * last Good sample. */
typedef struct
{
  gint64 bucket;
  guint32 count;
  guint32 first_off; /* µs after the start of the bucket */
  guint32 last_off;
  gboolean bad; /* some sample in the bucket had Bad quality */
  double min, max, sum, first, last;
} KankyoHistoryRollup;

/* Encodes @n (1 to KANKYO_HISTORY_PACK_MAX) rollups whose buckets strictly
 * increase and lie in [@base, @base + KANKYO_HISTORY_PACK_MAX). */
guint8 *
kankyo_history_rollups_encode (const KankyoHistoryRollup *rollups, guint n, gint64 base, gsize *ret_len);

/* Appends the rollups of a pack to @rollups (KankyoHistoryRollup). @width is
 * the bucket width in µs, which every offset must stay below. Fails with
 * KANKYO_HISTORIAN_ERROR_CORRUPT, leaving @rollups as it was. */
gboolean
kankyo_history_rollups_decode (const guint8 *data, gsize len, gint64 width, GArray *rollups, GError **error);

G_END_DECLS
