/* kankyo-sim-host.h: simulated devices served as real Modbus.
 *
 * Each simulated device gets a register bank sized from its tags, a server
 * from the driver (so the wire format is the one real devices see) and,
 * when its type has one, a physics model stepped on a thread of the host at
 * real time times the speed factor. kankyo-sim and the engine's embedded demo
 * both use it. Faults can be injected per device at any time.
 */
#pragma once

#include <glib.h>
#include "kankyo-plugin.h"

G_BEGIN_DECLS

typedef struct _KankyoSimHost KankyoSimHost;

typedef enum
{
  KANKYO_SIM_VALUE_FAULT_NONE = 0,
  KANKYO_SIM_VALUE_FAULT_NAN,          /* floats report NaN, int16 0x8000 */
  KANKYO_SIM_VALUE_FAULT_OUT_OF_RANGE, /* values far beyond the tag range */
} KankyoSimValueFault;

KankyoSimHost *kankyo_sim_host_new (double speed);
void kankyo_sim_host_free (KankyoSimHost *host);

/* @specs: KankyoTagSpec* with 0-based addresses (copied). @model may be
 * NULL: the registers then hold what clients write. A TCP @endpoint with
 * port 0 binds a free port. Returns the device index. */
guint kankyo_sim_host_add (KankyoSimHost *host,
                           const char *name,
                           GPtrArray *specs,
                           KankyoSimModel *model,
                           KankyoDriver *driver,
                           const KankyoEndpoint *endpoint,
                           guint8 unit_id,
                           GError **error);
guint kankyo_sim_host_get_n_devices (KankyoSimHost *host);
gboolean kankyo_sim_host_start (KankyoSimHost *host, GError **error);
void kankyo_sim_host_stop (KankyoSimHost *host);

/* The index of the device named @name, or G_MAXUINT. */
guint kankyo_sim_host_find (KankyoSimHost *host, const char *name);
const char *kankyo_sim_host_get_name (KankyoSimHost *host, guint index);
/* After start: where the device is served, e.g. "tcp://127.0.0.1:40213". */
char *kankyo_sim_host_get_endpoint (KankyoSimHost *host, guint index);
void kankyo_sim_host_set_server_faults (KankyoSimHost *host, guint index, const KankyoServerFaults *faults);
void kankyo_sim_host_set_value_fault (KankyoSimHost *host, guint index, KankyoSimValueFault fault);
/* Engineering value of a tag as the simulator holds it; NAN if unknown. */
double kankyo_sim_host_get_value (KankyoSimHost *host, guint index, const char *tag);
/* Sets a tag as the device itself would (not as a client write). */
void kankyo_sim_host_set_value (KankyoSimHost *host, guint index, const char *tag, double value);

/* Steps every model by @seconds of simulated time in steps of at most
 * @step, on the calling thread, whether or not the host is running. For
 * tests that need physics faster than any --speed. */
void kankyo_sim_host_advance (KankyoSimHost *host, double seconds, double step);
/* A plant signal the models share, or NAN. */
double kankyo_sim_host_get_signal (KankyoSimHost *host, const char *name);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KankyoSimHost, kankyo_sim_host_free)

G_END_DECLS
