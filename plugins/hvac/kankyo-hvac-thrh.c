/* kankyo-hvac-thrh.c: a room temperature and humidity transmitter.
 *
 * It measures the room the AHU's suite publishes (simulation: {room: fill})
 * with the small scatter of a real transmitter's last digit, and reports
 * temperature, relative humidity and dew point as floats, the 16-bit copies
 * scaled by 0.01, and the fixed -123.45 of the communication test
 * registers. Without a room, or before any AHU publishes it, the
 * transmitter has nothing to measure and reports what a Vaisala transmitter
 * reports for a missing value: NaN in the floats, 0x8000 in the integers.
 */
#include "config.h"

#include <math.h>

#include "kankyo-hvac-private.h"

/* Standard deviations of the reading's scatter: a few counts of the last
 * digit, far inside the HMP110's accuracy of +-0.2 degC and +-1.5 %RH. */
#define TEMP_NOISE 0.01 /* K */
#define RH_NOISE 0.05   /* %RH */
#define TEST_VALUE -123.45

typedef struct
{
  char *temp_signal; /* NULL: no room */
  char *rh_signal;
} Thrh;

static void
thrh_free (gpointer state)
{
  Thrh *self = state;

  g_free (self->temp_signal);
  g_free (self->rh_signal);
  g_free (self);
}

static gpointer
thrh_create (GVariant *params, GError **error)
{
  static const char *const known[] = { "room", NULL };
  const char *room = NULL;
  int index = KANKYO_HVAC_NO_ROOM;
  Thrh *self;

  if (!_kankyo_hvac_params_check_keys (params, NULL, known, error)
      || !_kankyo_hvac_params_get_room (params, NULL, "room", FALSE, &index, error))
    return NULL;
  self = g_new0 (Thrh, 1);
  if (index != KANKYO_HVAC_NO_ROOM)
    {
      room = kankyo_hvac_demo_suite ()->rooms[index].name;
      self->temp_signal = _kankyo_hvac_room_signal (room, "temperature");
      self->rh_signal = _kankyo_hvac_room_signal (room, "rh");
    }
  return self;
}

static void
publish (Thrh *self, KankyoSimIo *io)
{
  double t = NAN, rh = NAN, dew;

  if (self->temp_signal != NULL)
    {
      t = kankyo_sim_io_get_signal (io, self->temp_signal);
      rh = kankyo_sim_io_get_signal (io, self->rh_signal);
    }
  /* NAN plus noise stays NAN. */
  t += TEMP_NOISE * _kankyo_hvac_gaussian (io->rand);
  rh = CLAMP (rh + RH_NOISE * _kankyo_hvac_gaussian (io->rand), 0.0, 100.0);
  dew = isnan (t) || isnan (rh) ? NAN : kankyo_hvac_dew_point (t, rh);

  kankyo_sim_io_set (io, "temperature", t);
  kankyo_sim_io_set (io, "humidity", rh);
  kankyo_sim_io_set (io, "dew_point", dew);
  kankyo_sim_io_set (io, "temperature_int", t);
  kankyo_sim_io_set (io, "humidity_int", rh);
  /* The test registers are fixed; a client cannot change them. */
  kankyo_sim_io_set (io, "test_int", TEST_VALUE);
  kankyo_sim_io_set (io, "test_float", TEST_VALUE);
}

static void
thrh_init (gpointer state, KankyoSimIo *io)
{
  publish (state, io);
}

static void
thrh_step (gpointer state, double dt, KankyoSimIo *io)
{
  publish (state, io);
}

const KankyoHvacModel _kankyo_hvac_thrh_model = {
  .create = thrh_create,
  .init = thrh_init,
  .step = thrh_step,
  .free = thrh_free,
};
