/* kankyo-driver.h: the transport contract.
 *
 * A driver module (drivers/modbus) implements KankyoDriver on the
 * "kankyo-drivers-1" extension point under its name ("modbus"). The engine
 * asks it for connections, one per device endpoint, and calls them from that
 * connection's own worker thread: every method may block up to the
 * endpoint's timeouts and none is called from two threads at once. The
 * simulator asks it for servers that serve a KankyoRegisterBank.
 */
#pragma once

#include <gio/gio.h>
#include "kankyo-codec.h"
#include "kankyo-endpoint.h"
#include "kankyo-register-bank.h"

G_BEGIN_DECLS

#define KANKYO_DRIVER_EXTENSION_POINT "kankyo-drivers-1"

#define KANKYO_DRIVER_ERROR (kankyo_driver_error_quark ())
GQuark kankyo_driver_error_quark (void);

/* Distinct outcomes, so that the engine and the operator can tell a dead
 * cable from a device that refuses an address. */
typedef enum
{
  KANKYO_DRIVER_ERROR_FAILED,
  KANKYO_DRIVER_ERROR_CONNECT,      /* could not open the TCP socket or the serial port */
  KANKYO_DRIVER_ERROR_DISCONNECTED, /* the peer closed or reset the connection */
  KANKYO_DRIVER_ERROR_TIMEOUT,      /* no (complete) reply in time */
  KANKYO_DRIVER_ERROR_EXCEPTION,    /* the device answered with a Modbus exception */
  KANKYO_DRIVER_ERROR_BAD_DATA,     /* malformed reply: length, ids, byte count */
  KANKYO_DRIVER_ERROR_BAD_CRC,      /* RTU checksum mismatch */
  KANKYO_DRIVER_ERROR_INVALID,      /* bad request arguments */
} KankyoDriverError;

/* Modbus write function codes. */
typedef enum
{
  KANKYO_WRITE_SINGLE_COIL = 5,
  KANKYO_WRITE_SINGLE_REGISTER = 6,
  KANKYO_WRITE_MULTIPLE_COILS = 15,
  KANKYO_WRITE_MULTIPLE_REGISTERS = 16,
} KankyoWriteFunction;

/* ---- KankyoConnection ---- */

#define KANKYO_TYPE_CONNECTION (kankyo_connection_get_type ())
G_DECLARE_INTERFACE (KankyoConnection, kankyo_connection, KANKYO, CONNECTION, GObject)

struct _KankyoConnectionInterface
{
  GTypeInterface g_iface;

  gboolean (*connect) (KankyoConnection *self, GError **error);
  void (*disconnect) (KankyoConnection *self);
  gboolean (*is_connected) (KankyoConnection *self);
  /* Reads @count registers (or bits, one element 0/1 each) of @area from
   * @address into @dest, which holds at least @count elements. Counts are
   * bounded: 1..125 registers, 1..2000 bits. */
  gboolean (*read) (KankyoConnection *self,
                    guint8 unit_id,
                    KankyoArea area,
                    guint16 address,
                    guint16 count,
                    guint16 *dest,
                    GError **error);
  /* Writes with the given function code; single-element codes take @count 1.
   * Bits are passed one element 0/1 each. */
  gboolean (*write) (KankyoConnection *self,
                     guint8 unit_id,
                     KankyoWriteFunction function,
                     guint16 address,
                     guint16 count,
                     const guint16 *values,
                     GError **error);
};

gboolean kankyo_connection_connect (KankyoConnection *self, GError **error);
void kankyo_connection_disconnect (KankyoConnection *self);
gboolean kankyo_connection_is_connected (KankyoConnection *self);
gboolean kankyo_connection_read (KankyoConnection *self,
                                 guint8 unit_id,
                                 KankyoArea area,
                                 guint16 address,
                                 guint16 count,
                                 guint16 *dest,
                                 GError **error);
gboolean kankyo_connection_write (KankyoConnection *self,
                                  guint8 unit_id,
                                  KankyoWriteFunction function,
                                  guint16 address,
                                  guint16 count,
                                  const guint16 *values,
                                  GError **error);

/* ---- KankyoServer ---- */

#define KANKYO_TYPE_SERVER (kankyo_server_get_type ())
G_DECLARE_INTERFACE (KankyoServer, kankyo_server, KANKYO, SERVER, GObject)

struct _KankyoServerInterface
{
  GTypeInterface g_iface;

  /* Binds (TCP) or opens (RTU) and serves from a thread of its own until
   * stop. Honours the bank's fault settings on every request. */
  gboolean (*start) (KankyoServer *self, GError **error);
  void (*stop) (KankyoServer *self);
  /* TCP: the bound port (useful after asking for port 0). */
  guint16 (*get_port) (KankyoServer *self);
};

gboolean kankyo_server_start (KankyoServer *self, GError **error);
void kankyo_server_stop (KankyoServer *self);
guint16 kankyo_server_get_port (KankyoServer *self);

/* ---- KankyoDriver ---- */

#define KANKYO_TYPE_DRIVER (kankyo_driver_get_type ())
G_DECLARE_INTERFACE (KankyoDriver, kankyo_driver, KANKYO, DRIVER, GObject)

struct _KankyoDriverInterface
{
  GTypeInterface g_iface;

  KankyoConnection *(*create_connection) (KankyoDriver *self, const KankyoEndpoint *endpoint, GError **error);
  /* A server answering as @unit_id (RTU filters on it; TCP answers any). */
  KankyoServer *(*create_server) (KankyoDriver *self,
                                  const KankyoEndpoint *endpoint,
                                  guint8 unit_id,
                                  KankyoRegisterBank *bank,
                                  GError **error);
};

KankyoConnection *
kankyo_driver_create_connection (KankyoDriver *self, const KankyoEndpoint *endpoint, GError **error);
KankyoServer *kankyo_driver_create_server (KankyoDriver *self,
                                           const KankyoEndpoint *endpoint,
                                           guint8 unit_id,
                                           KankyoRegisterBank *bank,
                                           GError **error);

G_END_DECLS
