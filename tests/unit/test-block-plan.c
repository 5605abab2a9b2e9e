/* test-block-plan.c: reads merged into the fewest contiguous blocks. */
#include "kankyo-block-plan.h"

static KankyoTagSpec *
tag (KankyoArea area, guint address, KankyoDataType type)
{
  KankyoTagSpec *spec = kankyo_tag_spec_new ();

  spec->name = g_strdup_printf ("t%u", address);
  spec->reg.area = area;
  spec->reg.address = (guint16) address;
  spec->reg.data_type = type;
  return spec;
}

/* Every tag must lie wholly inside its block. */
static void
check_cover (GPtrArray *specs, GArray *blocks, GArray *placements)
{
  for (guint i = 0; i < specs->len; i++)
    {
      KankyoTagSpec *s = g_ptr_array_index (specs, i);
      KankyoBlockPlacement *p = &g_array_index (placements, KankyoBlockPlacement, i);
      KankyoBlock *b = &g_array_index (blocks, KankyoBlock, p->block);

      g_assert_cmpint (b->area, ==, s->reg.area);
      g_assert_cmpuint (b->start + p->offset, ==, s->reg.address);
      g_assert_cmpuint (p->offset + kankyo_data_type_width (s->reg.data_type), <=, b->count);
      g_assert_cmpuint (b->count, <=, kankyo_block_plan_limit (b->area));
    }
}

static void
test_contiguous (void)
{
  g_autoptr (GPtrArray) specs = g_ptr_array_new_with_free_func ((GDestroyNotify) kankyo_tag_spec_free);
  g_autoptr (GArray) placements = NULL;
  g_autoptr (GArray) blocks = NULL;

  /* Out of order on purpose; float32 at 0-1, int16 at 2, float64 at 3-6. */
  g_ptr_array_add (specs, tag (KANKYO_AREA_HOLDING_REGISTER, 3, KANKYO_DATA_FLOAT64));
  g_ptr_array_add (specs, tag (KANKYO_AREA_HOLDING_REGISTER, 0, KANKYO_DATA_FLOAT32));
  g_ptr_array_add (specs, tag (KANKYO_AREA_HOLDING_REGISTER, 2, KANKYO_DATA_INT16));
  g_ptr_array_add (specs, tag (KANKYO_AREA_INPUT_REGISTER, 2, KANKYO_DATA_INT16));
  g_ptr_array_add (specs, tag (KANKYO_AREA_COIL, 5, KANKYO_DATA_BOOL));
  g_ptr_array_add (specs, tag (KANKYO_AREA_COIL, 6, KANKYO_DATA_BOOL));
  blocks = kankyo_block_plan_build ((KankyoTagSpec *const *) specs->pdata, specs->len, 0, &placements);
  g_assert_cmpuint (blocks->len, ==, 3);
  g_assert_cmpuint (g_array_index (blocks, KankyoBlock, 1).start, ==, 0);
  g_assert_cmpuint (g_array_index (blocks, KankyoBlock, 1).count, ==, 7);
  check_cover (specs, blocks, placements);
}

static void
test_gap (void)
{
  g_autoptr (GPtrArray) specs = g_ptr_array_new_with_free_func ((GDestroyNotify) kankyo_tag_spec_free);
  g_autoptr (GArray) placements = NULL;
  g_autoptr (GArray) blocks = NULL;

  g_ptr_array_add (specs, tag (KANKYO_AREA_HOLDING_REGISTER, 0, KANKYO_DATA_UINT16));
  g_ptr_array_add (specs, tag (KANKYO_AREA_HOLDING_REGISTER, 5, KANKYO_DATA_UINT16));
  blocks = kankyo_block_plan_build ((KankyoTagSpec *const *) specs->pdata, specs->len, 0, &placements);
  g_assert_cmpuint (blocks->len, ==, 2);
  g_array_unref (blocks);
  g_array_unref (placements);
  blocks = kankyo_block_plan_build ((KankyoTagSpec *const *) specs->pdata, specs->len, 4, &placements);
  g_assert_cmpuint (blocks->len, ==, 1);
  g_assert_cmpuint (g_array_index (blocks, KankyoBlock, 0).count, ==, 6);
  check_cover (specs, blocks, placements);
}

static void
test_limits (void)
{
  g_autoptr (GPtrArray) specs = g_ptr_array_new_with_free_func ((GDestroyNotify) kankyo_tag_spec_free);
  g_autoptr (GArray) placements = NULL;
  g_autoptr (GArray) blocks = NULL;

  /* 300 contiguous registers -> 125 + 125 + 50; a float32 at 124 must not
   * straddle the 125-register boundary. */
  for (guint a = 0; a < 124; a++)
    g_ptr_array_add (specs, tag (KANKYO_AREA_INPUT_REGISTER, a, KANKYO_DATA_UINT16));
  g_ptr_array_add (specs, tag (KANKYO_AREA_INPUT_REGISTER, 124, KANKYO_DATA_FLOAT32));
  for (guint a = 126; a < 300; a++)
    g_ptr_array_add (specs, tag (KANKYO_AREA_INPUT_REGISTER, a, KANKYO_DATA_UINT16));
  /* 4500 coils -> 2000 + 2000 + 500 */
  for (guint a = 0; a < 4500; a++)
    g_ptr_array_add (specs, tag (KANKYO_AREA_DISCRETE_INPUT, a, KANKYO_DATA_BOOL));
  blocks = kankyo_block_plan_build ((KankyoTagSpec *const *) specs->pdata, specs->len, 0, &placements);
  check_cover (specs, blocks, placements);
  g_assert_cmpuint (blocks->len, ==, 6);
  g_assert_cmpuint (g_array_index (blocks, KankyoBlock, 0).count, ==, 2000);
  g_assert_cmpuint (g_array_index (blocks, KankyoBlock, 3).count, ==, 124);
  g_assert_cmpuint (g_array_index (blocks, KankyoBlock, 4).start, ==, 124);
  g_assert_cmpuint (g_array_index (blocks, KankyoBlock, 4).count, ==, 125);
}

static void
test_overlap_and_empty (void)
{
  g_autoptr (GPtrArray) specs = g_ptr_array_new_with_free_func ((GDestroyNotify) kankyo_tag_spec_free);
  g_autoptr (GArray) placements = NULL;
  g_autoptr (GArray) blocks = NULL;

  blocks = kankyo_block_plan_build (NULL, 0, 0, &placements);
  g_assert_cmpuint (blocks->len, ==, 0);
  g_array_unref (blocks);
  g_array_unref (placements);

  /* Two views of the same register (a bit and the whole word). */
  g_ptr_array_add (specs, tag (KANKYO_AREA_HOLDING_REGISTER, 10, KANKYO_DATA_UINT16));
  g_ptr_array_add (specs, tag (KANKYO_AREA_HOLDING_REGISTER, 10, KANKYO_DATA_BIT));
  g_ptr_array_add (specs, tag (KANKYO_AREA_HOLDING_REGISTER, 9, KANKYO_DATA_UINT32));
  blocks = kankyo_block_plan_build ((KankyoTagSpec *const *) specs->pdata, specs->len, 0, &placements);
  g_assert_cmpuint (blocks->len, ==, 1);
  g_assert_cmpuint (g_array_index (blocks, KankyoBlock, 0).count, ==, 2);
  check_cover (specs, blocks, placements);
}

/* Random layouts: the plan covers every tag, and no two neighbouring blocks
 * could have been one read. */
static void
test_random (void)
{
  for (guint round = 0; round < 300; round++)
    {
      g_autoptr (GPtrArray) specs = g_ptr_array_new_with_free_func ((GDestroyNotify) kankyo_tag_spec_free);
      g_autoptr (GArray) placements = NULL;
      g_autoptr (GArray) blocks = NULL;
      guint n = (guint) g_test_rand_int_range (1, 200);
      guint gap = (guint) g_test_rand_int_range (0, 5);

      for (guint i = 0; i < n; i++)
        g_ptr_array_add (
            specs, tag (KANKYO_AREA_HOLDING_REGISTER, (guint) g_test_rand_int_range (0, 600),
                        (KankyoDataType) g_test_rand_int_range (KANKYO_DATA_INT16, KANKYO_DATA_FLOAT64 + 1)));
      blocks = kankyo_block_plan_build ((KankyoTagSpec *const *) specs->pdata, specs->len, gap, &placements);
      check_cover (specs, blocks, placements);
      for (guint b = 1; b < blocks->len; b++)
        {
          KankyoBlock *prev = &g_array_index (blocks, KankyoBlock, b - 1);
          KankyoBlock *cur = &g_array_index (blocks, KankyoBlock, b);

          /* A new block starts only when the gap is too wide or the
           * previous one could not take the next tag (at most 4 wide). */
          g_assert_true (cur->start > prev->start);
          g_assert_true (cur->start > (guint) prev->start + prev->count + gap
                         || cur->start + 4u > (guint) prev->start + 125u);
        }
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/block-plan/contiguous", test_contiguous);
  g_test_add_func ("/block-plan/gap", test_gap);
  g_test_add_func ("/block-plan/limits", test_limits);
  g_test_add_func ("/block-plan/overlap-empty", test_overlap_and_empty);
  g_test_add_func ("/block-plan/random", test_random);
  return g_test_run ();
}
