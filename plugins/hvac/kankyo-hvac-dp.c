/* kankyo-hvac-dp.c: a dual differential pressure transmitter.
 *
 * Each of the two cells is piped between two sides of the suite the AHU
 * publishes (simulation: {a: [fill, corridor], b: [gowning, outside]}) and
 * reads the first side's pressure minus the second's, in whole pascals with
 * the scatter of a real cell. A cell without sides, or whose rooms nobody
 * publishes, reads the int16 missing value 0x8000.
 */
#include "config.h"

#include <math.h>

#include "kankyo-hvac-private.h"

/* Standard deviation of the reading's scatter, well inside the DPT's
 * accuracy of about 1 Pa. */
#define DP_NOISE 0.2 /* Pa */

typedef struct
{
  char *high; /* pressure signal of the first side; NULL for outside */
  char *low;
  gboolean used;
} Cell;

typedef struct
{
  Cell cells[2];
} Dp;

static void
dp_free (gpointer state)
{
  Dp *self = state;

  for (guint i = 0; i < 2; i++)
    {
      g_free (self->cells[i].high);
      g_free (self->cells[i].low);
    }
  g_free (self);
}

static char *
pressure_signal (int room)
{
  if (room == KANKYO_HVAC_OUTSIDE)
    return NULL;
  return _kankyo_hvac_room_signal (kankyo_hvac_demo_suite ()->rooms[room].name, "pressure");
}

static gpointer
dp_create (GVariant *params, GError **error)
{
  static const char *const known[] = { "a", "b", NULL };
  int sides[2][2]
      = { { KANKYO_HVAC_NO_ROOM, KANKYO_HVAC_NO_ROOM }, { KANKYO_HVAC_NO_ROOM, KANKYO_HVAC_NO_ROOM } };
  Dp *self;

  if (!_kankyo_hvac_params_check_keys (params, NULL, known, error)
      || !_kankyo_hvac_params_get_room_pair (params, NULL, "a", sides[0], error)
      || !_kankyo_hvac_params_get_room_pair (params, NULL, "b", sides[1], error))
    return NULL;
  self = g_new0 (Dp, 1);
  for (guint i = 0; i < 2; i++)
    if (sides[i][0] != KANKYO_HVAC_NO_ROOM)
      {
        self->cells[i].used = TRUE;
        self->cells[i].high = pressure_signal (sides[i][0]);
        self->cells[i].low = pressure_signal (sides[i][1]);
      }
  return self;
}

static double
side_pressure (KankyoSimIo *io, const char *signal)
{
  return signal == NULL ? 0.0 : kankyo_sim_io_get_signal (io, signal);
}

static void
publish (Dp *self, KankyoSimIo *io)
{
  static const char *const tags[2] = { "pressure_a", "pressure_b" };

  for (guint i = 0; i < 2; i++)
    {
      const Cell *cell = &self->cells[i];
      double dp = NAN;

      if (cell->used)
        dp = side_pressure (io, cell->high) - side_pressure (io, cell->low)
             + DP_NOISE * _kankyo_hvac_gaussian (io->rand);
      kankyo_sim_io_set (io, tags[i], dp);
    }
}

static void
dp_init (gpointer state, KankyoSimIo *io)
{
  publish (state, io);
}

static void
dp_step (gpointer state, double dt, KankyoSimIo *io)
{
  publish (state, io);
}

const KankyoHvacModel _kankyo_hvac_dp_model = {
  .create = dp_create,
  .init = dp_init,
  .step = dp_step,
  .free = dp_free,
};
