/* kankyo-hvac-particle.c: a remote airborne particle counter, and the ISO
 * 14644-1 class computed from its counts.
 *
 * The counter draws room air (simulation: {room: fill}) at 1 CFM. While it
 * runs it samples for the sample time, stores a record and, after the hold
 * time, samples again. A record holds, per size channel, the number of
 * particles of that size and larger counted in the sample: the
 * concentration the AHU's suite publishes, integrated over the sample and
 * times the flow, is the mean, and the count is drawn from a Poisson
 * distribution, as counting single particles is. The channels are drawn as
 * independent differential bins (0.3-0.5, 0.5-1, 1-5, >= 5 um) and summed,
 * so that each cumulative channel is Poisson with the right mean and never
 * below the next larger one, as on a real counter. Sizes other than 0.5 um
 * follow the slope of the ISO class limits.
 *
 * Writing 11 to the command register starts counting and 12 stops it. The
 * simulation leaves the command in the register, so that a client's
 * read-back after its write agrees; a real REMOTE reads 0 there.
 *
 * The counter starts running with one record already stored, as a counter
 * that has been running since before the simulation began, so that a client
 * sees data from its first read.
 */
#include "config.h"

#include <math.h>

#include "kankyo-hvac-private.h"

#define CFM (28.316846592e-3 / 60.0) /* m3/s */
#define COMMAND_START 11
#define COMMAND_STOP 12
#define DEFAULT_SAMPLE_TIME 60.0 /* s */
#define NEW_DATA_TIME 10.0       /* s the new-data bit stays set after a record */
#define MAP_VERSION 1.41
#define FIRMWARE_VERSION 2.10
/* ISO 14644-1:2015, A.4.4: the sample must be large enough that at least
 * 20 particles would be counted at the class limit of the largest size
 * considered. */
#define MIN_COUNT_AT_LIMIT 20.0

#define N_CHANNELS 4
static const double channel_sizes[N_CHANNELS] = { 0.3, 0.5, 1.0, 5.0 };
static const char *const channel_tags[N_CHANNELS]
    = { "count_0_3um", "count_0_5um", "count_1_0um", "count_5_0um" };
#define PRIMARY_CHANNEL 1 /* 0.5 um, the size GMP and ISO 14644-1 always consider */

typedef struct
{
  char *signal; /* the room's concentration; NULL without a room */
  double epoch; /* Unix time at simulated time 0 */
  gboolean running;
  gboolean sampling; /* else holding between samples */
  gboolean no_data;  /* running, but the room publishes nothing */
  double elapsed;    /* s into the current sample or hold */
  double integral;   /* particles s / m3 at >= 0.5 um, so far in this sample */
  double command;    /* the last command seen */
  double record_time;
} Particle;

static void
particle_free (gpointer state)
{
  Particle *self = state;

  g_free (self->signal);
  g_free (self);
}

static gpointer
particle_create (GVariant *params, GError **error)
{
  static const char *const known[] = { "room", NULL };
  int index = KANKYO_HVAC_NO_ROOM;
  Particle *self;

  if (!_kankyo_hvac_params_check_keys (params, NULL, known, error)
      || !_kankyo_hvac_params_get_room (params, NULL, "room", FALSE, &index, error))
    return NULL;
  self = g_new0 (Particle, 1);
  if (index != KANKYO_HVAC_NO_ROOM)
    self->signal = _kankyo_hvac_room_signal (kankyo_hvac_demo_suite ()->rooms[index].name, "particles");
  /* Timestamps are the only thing here that reads the clock; the counts
   * repeat from run to run. */
  self->epoch = floor (g_get_real_time () / (double) G_USEC_PER_SEC);
  self->record_time = -INFINITY;
  return self;
}

static double
concentration (Particle *self, KankyoSimIo *io)
{
  return self->signal != NULL ? kankyo_sim_io_get_signal (io, self->signal) : NAN;
}

/* Stores the sample that ended at @time. */
static void
record (Particle *self, KankyoSimIo *io, double time)
{
  double mean05 = self->integral * CFM;
  double cumulative[N_CHANNELS + 1] = { 0 };
  guint64 counts[N_CHANNELS + 1] = { 0 };

  for (guint i = 0; i < N_CHANNELS; i++)
    cumulative[i] = kankyo_hvac_particles_at_size (mean05, channel_sizes[i]);
  for (guint i = N_CHANNELS; i-- > 0;)
    {
      double bin = CLAMP (cumulative[i] - cumulative[i + 1], 0.0, KANKYO_HVAC_POISSON_MAX_MEAN);

      counts[i] = counts[i + 1] + kankyo_hvac_poisson (io->rand, bin);
    }
  for (guint i = 0; i < N_CHANNELS; i++)
    kankyo_sim_io_set (io, channel_tags[i], (double) counts[i]);
  kankyo_sim_io_set (io, "timestamp", self->epoch + floor (time));
  kankyo_sim_io_set (io, "data_status", 0);
  self->record_time = time;
}

static void
start_sample (Particle *self)
{
  self->sampling = TRUE;
  self->elapsed = 0.0;
  self->integral = 0.0;
}

static void
publish_status (Particle *self, KankyoSimIo *io)
{
  kankyo_sim_io_set (io, "running", self->running);
  kankyo_sim_io_set (io, "sampling", self->running && self->sampling);
  kankyo_sim_io_set (io, "new_data", io->time - self->record_time < NEW_DATA_TIME);
  kankyo_sim_io_set (io, "device_error", self->running && self->no_data);
}

static void
particle_init (gpointer state, KankyoSimIo *io)
{
  Particle *self = state;
  double c = concentration (self, io);

  kankyo_sim_io_set (io, "map_version", MAP_VERSION);
  kankyo_sim_io_set (io, "firmware_version", FIRMWARE_VERSION);
  kankyo_sim_io_set (io, "sample_time", DEFAULT_SAMPLE_TIME);
  kankyo_sim_io_set (io, "hold_time", 0);
  kankyo_sim_io_set (io, "command", COMMAND_START);
  self->command = COMMAND_START;
  self->running = TRUE;
  self->no_data = isnan (c);
  if (!self->no_data)
    {
      self->integral = c * DEFAULT_SAMPLE_TIME;
      record (self, io, io->time);
    }
  start_sample (self);
  publish_status (self, io);
}

static void
particle_step (gpointer state, double dt, KankyoSimIo *io)
{
  Particle *self = state;
  double command = kankyo_sim_io_get (io, "command");
  double sample_time = kankyo_sim_io_get (io, "sample_time");
  double hold_time = kankyo_sim_io_get (io, "hold_time");
  double c = concentration (self, io);
  double time = io->time - dt, remaining = dt;

  /* Commands act when written; anything but start and stop is ignored. */
  if (isfinite (command) && command != self->command)
    {
      if (command == COMMAND_START && !self->running)
        {
          self->running = TRUE;
          start_sample (self);
        }
      else if (command == COMMAND_STOP)
        self->running = FALSE;
      self->command = command;
    }
  /* A client may write what the map's range forbids; the counter still
   * samples for at least a second and never holds for less than nothing. */
  sample_time = isfinite (sample_time) ? MAX (sample_time, 1.0) : DEFAULT_SAMPLE_TIME;
  hold_time = isfinite (hold_time) ? MAX (hold_time, 0.0) : 0.0;
  self->no_data = isnan (c);

  /* The concentration is held over the step; a long step may hold several
   * samples, of which the registers keep the last. */
  while (self->running && !self->no_data && remaining > 0.0)
    {
      double length = self->sampling ? sample_time : hold_time;
      double take = CLAMP (length - self->elapsed, 0.0, remaining);

      self->elapsed += take;
      remaining -= take;
      time += take;
      if (self->sampling)
        self->integral += c * take;
      if (self->elapsed < length)
        continue;
      if (self->sampling)
        {
          record (self, io, time);
          if (hold_time > 0.0)
            {
              self->sampling = FALSE;
              self->elapsed = 0.0;
              continue;
            }
        }
      start_sample (self);
    }
  publish_status (self, io);
}

/* The class of the last record, from the counts per m3 of the sampled
 * volume. The 0.5 um channel is always considered; another size only when
 * the sample was large enough for it at the class it shows (see
 * MIN_COUNT_AT_LIMIT), which keeps a few macroparticles in an ISO 5 sample
 * from deciding the class. No record, a count without a value or no sample
 * time: no class. */
void
_kankyo_hvac_particle_derive (KankyoTagIo *io)
{
  double sample_time = kankyo_tag_io_get (io, "sample_time");
  double timestamp = kankyo_tag_io_get (io, "timestamp");
  double sizes[N_CHANNELS], concentrations[N_CHANNELS];
  double volume;
  guint n = 0;

  if (!(sample_time > 0.0) || !(timestamp > 0.0))
    return;
  volume = sample_time * CFM;
  for (guint i = 0; i < N_CHANNELS; i++)
    {
      double count = kankyo_tag_io_get (io, channel_tags[i]);
      double c;

      if (!(count >= 0.0 && isfinite (count)))
        return;
      c = count / volume;
      if (i == PRIMARY_CHANNEL
          || kankyo_hvac_iso_limit (kankyo_hvac_iso_class (c, channel_sizes[i]), channel_sizes[i]) * volume
                 >= MIN_COUNT_AT_LIMIT)
        {
          sizes[n] = channel_sizes[i];
          concentrations[n] = c;
          n++;
        }
    }
  kankyo_tag_io_set (io, "iso_class", kankyo_hvac_iso_class_overall (sizes, concentrations, n));
}

const KankyoHvacModel _kankyo_hvac_particle_model = {
  .create = particle_create,
  .init = particle_init,
  .step = particle_step,
  .free = particle_free,
};
