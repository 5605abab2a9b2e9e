/* kankyo-block-plan.c: greedy merging of sorted address intervals.
 *
 * For intervals sorted by start, extending the current block whenever the
 * next interval starts within the allowed gap and still fits the size limit
 * gives the fewest blocks: no other choice can cover the same intervals with
 * fewer contiguous reads.
 */
#include "kankyo-block-plan.h"

typedef struct
{
  guint index;
  KankyoArea area;
  guint start;
  guint end; /* one past the last element */
} Interval;

guint
kankyo_block_plan_limit (KankyoArea area)
{
  return kankyo_area_is_bits (area) ? 2000 : 125;
}

static int
compare_intervals (gconstpointer a, gconstpointer b)
{
  const Interval *x = a, *y = b;

  if (x->area != y->area)
    return x->area < y->area ? -1 : 1;
  if (x->start != y->start)
    return x->start < y->start ? -1 : 1;
  if (x->end != y->end)
    return x->end > y->end ? -1 : 1;
  return x->index < y->index ? -1 : (x->index > y->index);
}

GArray *
kankyo_block_plan_build (KankyoTagSpec *const *specs, guint n_specs, guint max_gap, GArray **ret_placements)
{
  g_autofree Interval *iv = g_new (Interval, MAX (n_specs, 1));
  GArray *blocks = g_array_new (FALSE, FALSE, sizeof (KankyoBlock));
  GArray *placements = g_array_new (FALSE, TRUE, sizeof (KankyoBlockPlacement));
  guint cur_start = 0, cur_end = 0;
  gboolean open = FALSE;
  KankyoArea cur_area = KANKYO_AREA_COIL;

  g_array_set_size (placements, n_specs);
  for (guint i = 0; i < n_specs; i++)
    {
      iv[i].index = i;
      iv[i].area = specs[i]->reg.area;
      iv[i].start = specs[i]->reg.address;
      iv[i].end = iv[i].start + kankyo_data_type_width (specs[i]->reg.data_type);
    }
  qsort (iv, n_specs, sizeof (Interval), compare_intervals);

  for (guint i = 0; i < n_specs; i++)
    {
      guint limit = kankyo_block_plan_limit (iv[i].area);
      KankyoBlockPlacement *p = &g_array_index (placements, KankyoBlockPlacement, iv[i].index);

      if (open && iv[i].area == cur_area && iv[i].start <= cur_end + max_gap
          && MAX (cur_end, iv[i].end) - cur_start <= limit)
        {
          cur_end = MAX (cur_end, iv[i].end);
        }
      else
        {
          if (open)
            {
              KankyoBlock b = { cur_area, (guint16) cur_start, (guint16) (cur_end - cur_start) };

              g_array_append_val (blocks, b);
            }
          open = TRUE;
          cur_area = iv[i].area;
          cur_start = iv[i].start;
          cur_end = iv[i].end;
        }
      p->block = blocks->len;
      p->offset = iv[i].start - cur_start;
    }
  if (open)
    {
      KankyoBlock b = { cur_area, (guint16) cur_start, (guint16) (cur_end - cur_start) };

      g_array_append_val (blocks, b);
    }

  *ret_placements = placements;
  return blocks;
}
