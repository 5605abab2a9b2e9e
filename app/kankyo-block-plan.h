/* kankyo-block-plan.h: turning a device's tags into the fewest reads.
 *
 * Tags are grouped per register table, sorted by address and merged into
 * contiguous blocks of at most 125 registers or 2000 bits. A block may span
 * up to max_gap unused registers, because some devices answer an unmapped
 * address with an exception and others are slow per request; the project
 * chooses per device.
 */
#pragma once

#include <glib.h>
#include "kankyo-plugin.h"

G_BEGIN_DECLS

typedef struct
{
  KankyoArea area;
  guint16 start;
  guint16 count;
} KankyoBlock;

typedef struct
{
  guint block;  /* index into the block array */
  guint offset; /* first element of the tag within the block */
} KankyoBlockPlacement;

/* Returns KankyoBlock; *ret_placements gets one KankyoBlockPlacement per
 * spec, in the order of @specs. */
GArray *
kankyo_block_plan_build (KankyoTagSpec *const *specs, guint n_specs, guint max_gap, GArray **ret_placements);

guint kankyo_block_plan_limit (KankyoArea area);

G_END_DECLS
