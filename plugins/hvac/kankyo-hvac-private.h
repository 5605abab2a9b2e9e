/* kankyo-hvac-private.h: what the HVAC module's files share.
 *
 * A simulation model here is plain C: a constructor that reads the device's
 * "simulation:" parameters into a state, and init (), step () and free ()
 * on that state. kankyo-hvac.c wraps each in the one GObject that
 * implements KankyoSimModel and ties it to a device type in its table, so a
 * model file holds physics and parameter checks, no boilerplate. The helpers
 * below read parameters the same strict way for every model, so that every
 * mistake in a project's simulation: section is reported with the
 * parameter's name.
 */
#pragma once

#include <gio/gio.h>

#include "kankyo-hvac-physics.h"
#include "kankyo-plugin.h"

G_BEGIN_DECLS

typedef struct
{
  /* @params: the device's simulation: section (a{sv}; mappings a{sv},
   * lists av, scalars s) or NULL. */
  gpointer (*create) (GVariant *params, GError **error);
  void (*init) (gpointer state, KankyoSimIo *io);
  void (*step) (gpointer state, double dt, KankyoSimIo *io);
  void (*free) (gpointer state);
} KankyoHvacModel;

extern const KankyoHvacModel _kankyo_hvac_ahu_model;
extern const KankyoHvacModel _kankyo_hvac_thrh_model;
extern const KankyoHvacModel _kankyo_hvac_dp_model;
extern const KankyoHvacModel _kankyo_hvac_particle_model;

void _kankyo_hvac_particle_derive (KankyoTagIo *io);

/* ---- plant signals the AHU publishes and the sensors read ---- */

/* "room.fill.temperature": degC, .rh (%RH), .pressure (Pa against the
 * surroundings), .particles (>= 0.5 um per m3); "door.fill.open" (0 or 1). */
char *_kankyo_hvac_room_signal (const char *room, const char *quantity);

/* The room of the demo suite named @name, KANKYO_HVAC_OUTSIDE for
 * "outside" when @outside_ok, or -2. */
#define KANKYO_HVAC_NO_ROOM (-2)
int _kankyo_hvac_room_index (const char *name, gboolean outside_ok);

/* ---- simulation parameters ---- */

/* Fails naming the first key of @dict that is not in @known. @path is where
 * @dict sits ("" for the section itself, "doors.fill" inside). */
gboolean
_kankyo_hvac_params_check_keys (GVariant *dict, const char *path, const char *const *known, GError **error);
/* Each leaves @ret untouched and succeeds when @key is absent. */
gboolean _kankyo_hvac_params_get_text (
    GVariant *dict, const char *path, const char *key, const char **ret, GError **error);
gboolean _kankyo_hvac_params_get_number (
    GVariant *dict, const char *path, const char *key, double min, double max, double *ret, GError **error);
/* A duration as in the project file (250ms, 1.5s, 12min, 1h, or whole
 * milliseconds), in seconds. */
gboolean _kankyo_hvac_params_get_duration (
    GVariant *dict, const char *path, const char *key, double min, double max, double *ret, GError **error);
/* A room of the demo suite; "outside" only if @outside_ok. */
gboolean _kankyo_hvac_params_get_room (
    GVariant *dict, const char *path, const char *key, gboolean outside_ok, int *ret, GError **error);
/* [ROOM, ROOM or outside]: two different rooms. */
gboolean _kankyo_hvac_params_get_room_pair (
    GVariant *dict, const char *path, const char *key, int ret[2], GError **error);
/* A mapping (G_VARIANT_TYPE_VARDICT) or a list ("av") under @key, as a new
 * reference. */
gboolean _kankyo_hvac_params_get_container (GVariant *dict,
                                            const char *path,
                                            const char *key,
                                            const GVariantType *type,
                                            GVariant **ret,
                                            GError **error);
/* "path.key", or "key" at the top, or "path" without a key. */
char *_kankyo_hvac_params_join (const char *path, const char *key);
gboolean _kankyo_hvac_params_fail (GError **error, const char *path, const char *key, const char *format, ...)
    G_GNUC_PRINTF (4, 5);

/* A standard normal deviate from the device's random source. */
double _kankyo_hvac_gaussian (GRand *rand);

G_END_DECLS
