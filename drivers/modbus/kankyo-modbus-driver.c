/* kankyo-modbus-driver.c: Modbus TCP and RTU through libmodbus.
 *
 * A GIO module implementing KankyoDriver as "modbus" on the
 * "kankyo-drivers-1" extension point. It gives the engine a client
 * connection per device and the simulator a server per simulated device.
 *
 * The client builds its requests and checks every reply itself before it
 * takes any data from it. libmodbus only frames the replies (and sends RTU
 * requests and checks the CRC of RTU replies): its own checks, in 3.1.6, let
 * through a TCP reply with a protocol id such as 1, an MBAP length that
 * disagrees with the frame or another unit id, and never compare the address
 * and value a write reply echoes. So a reply must carry the transaction id
 * sent, protocol id 0 and an MBAP length that frames it (TCP), the unit id
 * asked, the function code sent (or an exception with a defined code), the
 * byte count the request implies and, for a write, the echo of the request.
 *
 * Every failure is a distinct KankyoDriverError whose message names the
 * endpoint, the unit, the request and what was wrong, so an operator can
 * tell a dead cable from a device refusing an address. After a timeout or a
 * wrong reply on TCP the client closes the socket: a late or shifted frame
 * must never be taken for the reply to the next request.
 *
 * The server answers from a KankyoRegisterBank on a thread of its own and
 * obeys the bank's fault settings. libmodbus' own request checks have had
 * out-of-bounds bugs (CVE-2019-14462, CVE-2019-14463, CVE-2022-0367), so
 * every request is checked here against the Modbus limits and the bank's
 * tables before modbus_reply() sees it.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib-unix.h>
#include <glib/gi18n-lib.h>
#include <modbus.h>

#include "kankyo-plugin.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (modbus_t, modbus_free)

/* libmodbus' defaults, used when an endpoint leaves a timeout at 0. */
#define DEFAULT_TIMEOUT_MS 500

/* How often the server looks at its fault settings and its stop flag. */
#define SERVER_TICK_MS 100

#define SERVER_MAX_CLIENTS 32

/* Bounds how long a client that stops reading can hold up the server. */
#define SERVER_SEND_TIMEOUT_MS 1000

/* How long the RTU server waits for another unit's reply after a request to
 * that unit, before it takes the line for a new request again. */
#define RTU_OTHER_UNIT_WAIT_MS 50

static const char *
exception_meaning (int code)
{
  switch (code)
    {
      case MODBUS_EXCEPTION_ILLEGAL_FUNCTION:
        return N_ ("illegal function");
      case MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS:
        return N_ ("illegal data address");
      case MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE:
        return N_ ("illegal data value");
      case MODBUS_EXCEPTION_SLAVE_OR_SERVER_FAILURE:
        return N_ ("server device failure");
      case MODBUS_EXCEPTION_ACKNOWLEDGE:
        return N_ ("acknowledge");
      case MODBUS_EXCEPTION_SLAVE_OR_SERVER_BUSY:
        return N_ ("server device busy");
      case MODBUS_EXCEPTION_NEGATIVE_ACKNOWLEDGE:
        return N_ ("negative acknowledge");
      case MODBUS_EXCEPTION_MEMORY_PARITY:
        return N_ ("memory parity error");
      case MODBUS_EXCEPTION_GATEWAY_PATH:
        return N_ ("gateway path unavailable");
      case MODBUS_EXCEPTION_GATEWAY_TARGET:
        return N_ ("gateway target device failed to respond");
      default:
        return N_ ("not defined by the Modbus specification");
    }
}

static const char *
area_noun (KankyoArea area, guint count)
{
  switch (area)
    {
      case KANKYO_AREA_COIL:
        return count == 1 ? _ ("coil") : _ ("coils");
      case KANKYO_AREA_DISCRETE_INPUT:
        return count == 1 ? _ ("discrete input") : _ ("discrete inputs");
      case KANKYO_AREA_HOLDING_REGISTER:
        return count == 1 ? _ ("holding register") : _ ("holding registers");
      case KANKYO_AREA_INPUT_REGISTER:
        return count == 1 ? _ ("input register") : _ ("input registers");
      default:
        return _ ("values of an unknown table");
    }
}

/* libmodbus' TCP backend only takes IPv4 literals; anything else (a name,
 * IPv6) goes through its protocol-independent backend. */
static modbus_t *
new_tcp_context (const char *host, guint16 port)
{
  struct in_addr addr;

  if (inet_pton (AF_INET, host, &addr) == 1)
    return modbus_new_tcp (host, port);
  else
    {
      char service[8];

      g_snprintf (service, sizeof service, "%u", port);
      return modbus_new_tcp_pi (host, service);
    }
}

static gboolean
check_endpoint (const KankyoEndpoint *endpoint, GError **error)
{
  switch (endpoint->transport)
    {
      case KANKYO_TRANSPORT_TCP:
        if (endpoint->host == NULL || *endpoint->host == '\0')
          {
            g_set_error_literal (error, KANKYO_DRIVER_ERROR, KANKYO_DRIVER_ERROR_INVALID,
                                 _ ("Modbus TCP endpoint without a host address"));
            return FALSE;
          }
        return TRUE;

      case KANKYO_TRANSPORT_RTU:
        if (endpoint->device == NULL || *endpoint->device == '\0')
          {
            g_set_error_literal (error, KANKYO_DRIVER_ERROR, KANKYO_DRIVER_ERROR_INVALID,
                                 _ ("Modbus RTU endpoint without a serial device"));
            return FALSE;
          }
        if (endpoint->baud == 0 || endpoint->baud > G_MAXINT
            || (endpoint->parity != 'N' && endpoint->parity != 'E' && endpoint->parity != 'O')
            || endpoint->data_bits < 5 || endpoint->data_bits > 8 || endpoint->stop_bits < 1
            || endpoint->stop_bits > 2)
          {
            g_set_error (error, KANKYO_DRIVER_ERROR, KANKYO_DRIVER_ERROR_INVALID,
                         _ ("%s: unusable serial settings %u baud, parity %c, %u data bits, "
                            "%u stop bits (expected parity N, E or O, 5 to 8 data bits, "
                            "1 or 2 stop bits)"),
                         endpoint->device, endpoint->baud,
                         g_ascii_isprint (endpoint->parity) ? endpoint->parity : '?', endpoint->data_bits,
                         endpoint->stop_bits);
            return FALSE;
          }
        return TRUE;

      default:
        g_set_error (error, KANKYO_DRIVER_ERROR, KANKYO_DRIVER_ERROR_INVALID,
                     _ ("unknown Modbus transport %d"), endpoint->transport);
        return FALSE;
    }
}

static modbus_t *
new_context (const KankyoEndpoint *endpoint, const char *name, GError **error)
{
  modbus_t *ctx;

  if (endpoint->transport == KANKYO_TRANSPORT_TCP)
    ctx = new_tcp_context (endpoint->host, endpoint->port);
  else
    ctx = modbus_new_rtu (endpoint->device, (int) endpoint->baud, endpoint->parity, endpoint->data_bits,
                          endpoint->stop_bits);

  if (ctx == NULL)
    {
      int saved_errno = errno;

      g_set_error (error, KANKYO_DRIVER_ERROR, KANKYO_DRIVER_ERROR_INVALID,
                   _ ("%s: libmodbus refused the endpoint: %s"), name, modbus_strerror (saved_errno));
    }
  return ctx;
}

static void
set_tcp_nodelay (int fd)
{
  int one = 1;

  if (setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == -1)
    g_debug ("could not set TCP_NODELAY: %s", g_strerror (errno));
}

/* ---- KankyoModbusConnection ---- */

#define KANKYO_TYPE_MODBUS_CONNECTION (kankyo_modbus_connection_get_type ())
G_DECLARE_FINAL_TYPE (KankyoModbusConnection, kankyo_modbus_connection, KANKYO, MODBUS_CONNECTION, GObject)

struct _KankyoModbusConnection
{
  GObject parent_instance;

  KankyoTransport transport;
  char *name; /* the endpoint as a URI, for messages */
  modbus_t *ctx;
  guint response_timeout_ms;
  gboolean connected;
  guint16 transaction_id; /* TCP: of the last request sent */
};

static void kankyo_modbus_connection_iface_init (KankyoConnectionInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (KankyoModbusConnection,
                               kankyo_modbus_connection,
                               G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (KANKYO_TYPE_CONNECTION,
                                                      kankyo_modbus_connection_iface_init))

/* The MBAP header: transaction id, protocol id, length and unit id. An RTU
 * request is built in the same buffer, from the unit id on. */
#define MBAP_LENGTH 7
#define RTU_CRC_LENGTH 2

/* A request as the caller made it: what an error message names, and what
 * the reply is checked against. */
typedef struct
{
  guint8 unit_id;
  gboolean is_write;
  int function;    /* as asked for; reads are numbered by area */
  KankyoArea area; /* 0 for a write function the client does not know */
  guint16 address;
  guint16 count;
} Request;

/* Only called on the error paths: a poll that succeeds formats nothing. */
static char *
describe_request (const Request *request)
{
  if (!request->is_write)
    return g_strdup_printf (_ ("reading %u %s at %u"), request->count,
                            area_noun (request->area, request->count), request->address);

  return g_strdup_printf (_ ("writing %u %s at %u (function %d)"), request->count,
                          request->area != 0 ? area_noun (request->area, request->count) : _ ("values"),
                          request->address, request->function);
}

static gboolean
is_link_errno (int err)
{
  switch (err)
    {
      case ECONNRESET:
      case ECONNREFUSED:
      case ECONNABORTED:
      case EPIPE:
      case EBADF:
      case ENOTCONN:
      case ENETDOWN:
      case ENETUNREACH:
      case ENETRESET:
      case EHOSTUNREACH:
      case ESHUTDOWN:
      case EIO:
      case ENXIO:
      case ENODEV:
        return TRUE;
      default:
        return FALSE;
    }
}

static void
set_request_error (KankyoModbusConnection *self,
                   const Request *request,
                   KankyoDriverError code,
                   const char *reason,
                   GError **error)
{
  g_autofree char *what = describe_request (request);

  g_set_error (error, KANKYO_DRIVER_ERROR, code, _ ("%s unit %u: %s: %s"), self->name, request->unit_id, what,
               reason);
}

static gboolean
fail_invalid (KankyoModbusConnection *self, const Request *request, const char *reason, GError **error)
{
  set_request_error (self, request, KANKYO_DRIVER_ERROR_INVALID, reason, error);
  return FALSE;
}

/* Reports a failed exchange and leaves the link in a state where the next
 * request cannot be answered by a stale reply, nor by the rest of this one. */
static gboolean
fail_exchange (KankyoModbusConnection *self,
               const Request *request,
               KankyoDriverError code,
               const char *reason,
               GError **error)
{
  set_request_error (self, request, code, reason, error);

  if (self->transport == KANKYO_TRANSPORT_TCP || code == KANKYO_DRIVER_ERROR_DISCONNECTED)
    {
      modbus_close (self->ctx);
      self->connected = FALSE;
    }
  else
    modbus_flush (self->ctx);

  return FALSE;
}

/* For a libmodbus call that failed with @err. */
static gboolean
fail_errno (KankyoModbusConnection *self, const Request *request, int err, GError **error)
{
  g_autofree char *reason = NULL;
  KankyoDriverError code;

  if (err == EMBBADCRC)
    {
      code = KANKYO_DRIVER_ERROR_BAD_CRC;
      reason = g_strdup (_ ("the reply failed its CRC check (noise on the line, or a "
                            "baud rate or parity that differs from the device's)"));
    }
  else if (err == EMBBADDATA)
    {
      code = KANKYO_DRIVER_ERROR_BAD_DATA;
      reason = g_strdup (_ ("the reply was malformed (its byte count runs past the "
                            "largest Modbus frame)"));
    }
  else if (err == ETIMEDOUT)
    {
      code = KANKYO_DRIVER_ERROR_TIMEOUT;
      reason = g_strdup_printf (_ ("no reply within %u ms"), self->response_timeout_ms);
    }
  else if (is_link_errno (err))
    {
      code = KANKYO_DRIVER_ERROR_DISCONNECTED;
      reason = g_strdup_printf (_ ("the connection was lost (%s)"), g_strerror (err));
    }
  else
    {
      code = KANKYO_DRIVER_ERROR_FAILED;
      reason = g_strdup (modbus_strerror (err));
    }

  return fail_exchange (self, request, code, reason, error);
}

/* For a reply that does not answer the request, as "the reply has ...". */
G_GNUC_PRINTF (4, 5)
static gboolean
fail_reply (KankyoModbusConnection *self, const Request *request, GError **error, const char *format, ...)
{
  g_autofree char *reason = NULL;
  va_list args;

  va_start (args, format);
  reason = g_strdup_vprintf (format, args);
  va_end (args);

  return fail_exchange (self, request, KANKYO_DRIVER_ERROR_BAD_DATA, reason, error);
}

/* Checks what every request needs: a live link and a unit id libmodbus
 * accepts on this transport. */
static gboolean
prepare_request (KankyoModbusConnection *self, const Request *request, GError **error)
{
  if (self->transport == KANKYO_TRANSPORT_RTU && request->unit_id == MODBUS_BROADCAST_ADDRESS)
    return fail_invalid (self, request,
                         _ ("unit 0 is the broadcast address, which never answers; "
                            "expected a unit id from 1 to 247"),
                         error);

  if (modbus_set_slave (self->ctx, request->unit_id) == -1)
    return fail_invalid (self, request,
                         _ ("the unit id is out of range (expected 1 to 247, "
                            "or 0 or 255 on TCP)"),
                         error);

  if (!self->connected)
    {
      set_request_error (self, request, KANKYO_DRIVER_ERROR_DISCONNECTED, _ ("not connected"), error);
      return FALSE;
    }

  return TRUE;
}

/* Sends the request whose PDU (@pdu_length bytes) the caller put in @adu
 * from MBAP_LENGTH on, and receives the reply into @rsp, which holds
 * MODBUS_TCP_MAX_ADU_LENGTH bytes. libmodbus only frames that reply, by its
 * function code and byte count: everything that makes it the answer to this
 * request is checked here, before anyone looks at its data. Returns the
 * reply PDU and its length in @rsp_pdu_length; NULL with @error set when
 * there was no reply, a wrong one or an exception. */
static const guint8 *
exchange (KankyoModbusConnection *self,
          const Request *request,
          guint8 *adu,
          gsize pdu_length,
          guint8 *rsp,
          gsize *rsp_pdu_length,
          GError **error)
{
  gboolean is_tcp = self->transport == KANKYO_TRANSPORT_TCP;
  gsize header_length = is_tcp ? MBAP_LENGTH : 1; /* ends with the unit id */
  guint8 function = adu[MBAP_LENGTH];
  g_autofree char *reason = NULL;
  const guint8 *pdu;
  guint unit, announced = 0, exception;
  gsize length;
  int rc;

  if (is_tcp)
    {
      gsize adu_length = MBAP_LENGTH + pdu_length;
      ssize_t sent;

      /* libmodbus gives every raw request transaction id 0. */
      self->transaction_id++;
      adu[0] = self->transaction_id >> 8;
      adu[1] = self->transaction_id & 0xFF;
      adu[2] = 0;
      adu[3] = 0;
      adu[4] = (pdu_length + 1) >> 8;
      adu[5] = (pdu_length + 1) & 0xFF;
      adu[6] = request->unit_id;

      /* One request at a time is in flight, so the socket has room for all
       * of it unless the server stopped reading long ago. */
      sent = send (modbus_get_socket (self->ctx), adu, adu_length, MSG_NOSIGNAL);
      if (sent != (ssize_t) adu_length)
        {
          fail_errno (self, request, sent == -1 ? errno : EAGAIN, error);
          return NULL;
        }
    }
  else
    {
      adu[MBAP_LENGTH - 1] = request->unit_id;
      if (modbus_send_raw_request (self->ctx, adu + MBAP_LENGTH - 1, (int) pdu_length + 1) == -1)
        {
          fail_errno (self, request, errno, error);
          return NULL;
        }
    }

  /* RTU: libmodbus returns 0 for a frame from another unit, without looking
   * at its CRC; it has checked the CRC of any other. */
  rc = modbus_receive_confirmation (self->ctx, rsp);
  if (rc == -1)
    {
      fail_errno (self, request, errno, error);
      return NULL;
    }

  if (is_tcp)
    {
      guint transaction = (guint) rsp[0] << 8 | rsp[1];
      guint protocol = (guint) rsp[2] << 8 | rsp[3];

      if (transaction != self->transaction_id)
        {
          fail_reply (self, request, error, _ ("the reply has transaction id %u, expected %u"), transaction,
                      self->transaction_id);
          return NULL;
        }
      if (protocol != 0)
        {
          fail_reply (self, request, error, _ ("the reply has protocol id %u, expected 0"), protocol);
          return NULL;
        }
      announced = (guint) rsp[4] << 8 | rsp[5];
    }

  unit = rsp[header_length - 1];
  if (unit != request->unit_id)
    {
      fail_reply (self, request, error, _ ("the reply has unit id %u, expected %u"), unit, request->unit_id);
      return NULL;
    }

  pdu = rsp + header_length;
  length = (gsize) rc - header_length - (is_tcp ? 0 : RTU_CRC_LENGTH);
  if (pdu[0] != function && pdu[0] != (function | 0x80))
    {
      fail_reply (self, request, error, _ ("the reply has function code %u, expected %u"), pdu[0], function);
      return NULL;
    }

  /* The rest of a longer frame, or the start of the next one in a shorter,
   * would be taken for the next reply. */
  if (is_tcp && announced != length + 1)
    {
      fail_reply (self, request, error, _ ("the reply has MBAP length %u, expected %zu"), announced,
                  length + 1);
      return NULL;
    }

  if (pdu[0] == function)
    {
      *rsp_pdu_length = length;
      return pdu;
    }

  exception = pdu[1];
  if (exception < MODBUS_EXCEPTION_ILLEGAL_FUNCTION || exception > MODBUS_EXCEPTION_GATEWAY_TARGET)
    {
      fail_reply (self, request, error,
                  _ ("the reply carried an invalid exception code %u "
                     "(expected 1 to 11)"),
                  exception);
      return NULL;
    }

  /* A well-framed answer: the link stays as it is. */
  reason = g_strdup_printf (_ ("the device answered with exception %u (%s)"), exception,
                            _ (exception_meaning ((int) exception)));
  set_request_error (self, request, KANKYO_DRIVER_ERROR_EXCEPTION, reason, error);
  return NULL;
}

static gboolean
kankyo_modbus_connection_connect (KankyoConnection *connection, GError **error)
{
  KankyoModbusConnection *self = KANKYO_MODBUS_CONNECTION (connection);

  if (self->connected)
    return TRUE;

  if (modbus_connect (self->ctx) == -1)
    {
      int saved_errno = errno;

      g_set_error (error, KANKYO_DRIVER_ERROR, KANKYO_DRIVER_ERROR_CONNECT,
                   self->transport == KANKYO_TRANSPORT_TCP ? _ ("%s: could not connect: %s")
                                                           : _ ("%s: could not open the serial port: %s"),
                   self->name, g_strerror (saved_errno));
      modbus_close (self->ctx);
      return FALSE;
    }

  if (self->transport == KANKYO_TRANSPORT_TCP)
    set_tcp_nodelay (modbus_get_socket (self->ctx));

  self->connected = TRUE;
  return TRUE;
}

static void
kankyo_modbus_connection_disconnect (KankyoConnection *connection)
{
  KankyoModbusConnection *self = KANKYO_MODBUS_CONNECTION (connection);

  if (self->connected)
    modbus_close (self->ctx);
  self->connected = FALSE;
}

static gboolean
kankyo_modbus_connection_is_connected (KankyoConnection *connection)
{
  return KANKYO_MODBUS_CONNECTION (connection)->connected;
}

static gboolean
kankyo_modbus_connection_read (KankyoConnection *connection,
                               guint8 unit_id,
                               KankyoArea area,
                               guint16 address,
                               guint16 count,
                               guint16 *dest,
                               GError **error)
{
  KankyoModbusConnection *self = KANKYO_MODBUS_CONNECTION (connection);
  Request request = { unit_id, FALSE, (int) area, area, address, count };
  guint8 adu[MBAP_LENGTH + 5];
  guint8 rsp[MODBUS_TCP_MAX_ADU_LENGTH];
  const guint8 *pdu;
  gsize pdu_length;
  gboolean is_bits;
  guint max_count, byte_count;

  switch (area)
    {
      case KANKYO_AREA_COIL:
      case KANKYO_AREA_DISCRETE_INPUT:
        is_bits = TRUE;
        max_count = MODBUS_MAX_READ_BITS;
        break;
      case KANKYO_AREA_HOLDING_REGISTER:
      case KANKYO_AREA_INPUT_REGISTER:
        is_bits = FALSE;
        max_count = MODBUS_MAX_READ_REGISTERS;
        break;
      default:
        return fail_invalid (self, &request,
                             _ ("expected coils, discrete inputs, holding or input registers"), error);
    }

  if (count < 1 || count > max_count)
    {
      g_autofree char *reason
          = g_strdup_printf (_ ("one read carries 1 to %u %s"), max_count, area_noun (area, max_count));
      return fail_invalid (self, &request, reason, error);
    }
  if ((guint) address + count > 65536)
    return fail_invalid (self, &request, _ ("the range ends past address 65535"), error);

  if (!prepare_request (self, &request, error))
    return FALSE;

  /* The area is numbered as its read function code. */
  adu[MBAP_LENGTH] = (guint8) area;
  adu[MBAP_LENGTH + 1] = address >> 8;
  adu[MBAP_LENGTH + 2] = address & 0xFF;
  adu[MBAP_LENGTH + 3] = count >> 8;
  adu[MBAP_LENGTH + 4] = count & 0xFF;

  pdu = exchange (self, &request, adu, 5, rsp, &pdu_length, error);
  if (pdu == NULL)
    return FALSE;

  /* libmodbus framed the reply by its byte count, so the two agree. */
  byte_count = is_bits ? (count + 7u) / 8 : 2u * count;
  if (pdu[1] != byte_count || pdu_length != 2 + byte_count)
    return fail_reply (self, &request, error, _ ("the reply has byte count %u, expected %u"), pdu[1],
                       byte_count);

  if (is_bits)
    {
      for (guint i = 0; i < count; i++)
        dest[i] = (pdu[2 + i / 8] >> (i % 8)) & 1;
    }
  else
    {
      for (guint i = 0; i < count; i++)
        dest[i] = (guint16) (pdu[2 + 2 * i] << 8 | pdu[3 + 2 * i]);
    }

  return TRUE;
}

static gboolean
kankyo_modbus_connection_write (KankyoConnection *connection,
                                guint8 unit_id,
                                KankyoWriteFunction function,
                                guint16 address,
                                guint16 count,
                                const guint16 *values,
                                GError **error)
{
  KankyoModbusConnection *self = KANKYO_MODBUS_CONNECTION (connection);
  Request request = { unit_id, TRUE, (int) function, 0, address, count };
  guint8 adu[MBAP_LENGTH + MODBUS_MAX_PDU_LENGTH];
  guint8 rsp[MODBUS_TCP_MAX_ADU_LENGTH];
  guint8 *req_pdu = adu + MBAP_LENGTH;
  const guint8 *pdu;
  gsize req_pdu_length, pdu_length;
  guint max_count;

  switch (function)
    {
      case KANKYO_WRITE_SINGLE_COIL:
        request.area = KANKYO_AREA_COIL;
        max_count = 1;
        break;
      case KANKYO_WRITE_SINGLE_REGISTER:
        request.area = KANKYO_AREA_HOLDING_REGISTER;
        max_count = 1;
        break;
      case KANKYO_WRITE_MULTIPLE_COILS:
        request.area = KANKYO_AREA_COIL;
        max_count = MODBUS_MAX_WRITE_BITS;
        break;
      case KANKYO_WRITE_MULTIPLE_REGISTERS:
        request.area = KANKYO_AREA_HOLDING_REGISTER;
        max_count = MODBUS_MAX_WRITE_REGISTERS;
        break;
      default:
        return fail_invalid (self, &request, _ ("expected write function 5, 6, 15 or 16"), error);
    }

  if (count < 1 || count > max_count)
    {
      g_autofree char *reason = NULL;

      if (max_count == 1)
        reason = g_strdup_printf (_ ("function %d writes exactly one %s"), (int) function,
                                  area_noun (request.area, 1));
      else
        reason = g_strdup_printf (_ ("function %d writes 1 to %u %s"), (int) function, max_count,
                                  area_noun (request.area, max_count));
      return fail_invalid (self, &request, reason, error);
    }
  if ((guint) address + count > 65536)
    return fail_invalid (self, &request, _ ("the range ends past address 65535"), error);

  if (!prepare_request (self, &request, error))
    return FALSE;

  req_pdu[0] = (guint8) function;
  req_pdu[1] = address >> 8;
  req_pdu[2] = address & 0xFF;
  switch (function)
    {
      case KANKYO_WRITE_SINGLE_COIL:
        req_pdu[3] = values[0] ? 0xFF : 0x00;
        req_pdu[4] = 0x00;
        req_pdu_length = 5;
        break;
      case KANKYO_WRITE_SINGLE_REGISTER:
        req_pdu[3] = values[0] >> 8;
        req_pdu[4] = values[0] & 0xFF;
        req_pdu_length = 5;
        break;
      case KANKYO_WRITE_MULTIPLE_COILS:
        req_pdu[3] = count >> 8;
        req_pdu[4] = count & 0xFF;
        req_pdu[5] = (guint8) ((count + 7) / 8);
        memset (req_pdu + 6, 0, req_pdu[5]);
        for (guint i = 0; i < count; i++)
          if (values[i])
            req_pdu[6 + i / 8] |= 1 << (i % 8);
        req_pdu_length = 6 + req_pdu[5];
        break;
      case KANKYO_WRITE_MULTIPLE_REGISTERS:
      default:
        req_pdu[3] = count >> 8;
        req_pdu[4] = count & 0xFF;
        req_pdu[5] = (guint8) (2 * count);
        for (guint i = 0; i < count; i++)
          {
            req_pdu[6 + 2 * i] = values[i] >> 8;
            req_pdu[7 + 2 * i] = values[i] & 0xFF;
          }
        req_pdu_length = 6 + req_pdu[5];
        break;
    }

  pdu = exchange (self, &request, adu, req_pdu_length, rsp, &pdu_length, error);
  if (pdu == NULL)
    return FALSE;

  /* Every write reply echoes the address, then the value (5, 6) or the
   * quantity (15, 16): the first 5 bytes of the request, which is all
   * libmodbus frames of it. */
  if (pdu_length != 5 || memcmp (pdu + 1, req_pdu + 1, 4) != 0)
    {
      const char *field = req_pdu_length == 5 ? _ ("value") : _ ("quantity");

      return fail_reply (self, &request, error,
                         _ ("the reply echoes address %u and %s %u, expected %u and %u"),
                         (guint) pdu[1] << 8 | pdu[2], field, (guint) pdu[3] << 8 | pdu[4], (guint) address,
                         (guint) req_pdu[3] << 8 | req_pdu[4]);
    }

  return TRUE;
}

static void
kankyo_modbus_connection_finalize (GObject *object)
{
  KankyoModbusConnection *self = KANKYO_MODBUS_CONNECTION (object);

  if (self->ctx != NULL)
    modbus_close (self->ctx);
  g_clear_pointer (&self->ctx, modbus_free);
  g_clear_pointer (&self->name, g_free);

  G_OBJECT_CLASS (kankyo_modbus_connection_parent_class)->finalize (object);
}

static void
kankyo_modbus_connection_class_init (KankyoModbusConnectionClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = kankyo_modbus_connection_finalize;
}

static void
kankyo_modbus_connection_init (KankyoModbusConnection *self)
{
}

static void
kankyo_modbus_connection_iface_init (KankyoConnectionInterface *iface)
{
  iface->connect = kankyo_modbus_connection_connect;
  iface->disconnect = kankyo_modbus_connection_disconnect;
  iface->is_connected = kankyo_modbus_connection_is_connected;
  iface->read = kankyo_modbus_connection_read;
  iface->write = kankyo_modbus_connection_write;
}

static void
set_timeout (modbus_t *ctx, int (*setter) (modbus_t *, uint32_t, uint32_t), guint ms)
{
  if (ms > 0)
    setter (ctx, ms / 1000, (ms % 1000) * 1000);
}

static KankyoConnection *
kankyo_modbus_connection_new (const KankyoEndpoint *endpoint, GError **error)
{
  g_autoptr (KankyoModbusConnection) self = NULL;

  if (!check_endpoint (endpoint, error))
    return NULL;

  self = g_object_new (KANKYO_TYPE_MODBUS_CONNECTION, NULL);
  self->transport = endpoint->transport;
  self->name = kankyo_endpoint_to_string (endpoint);
  self->ctx = new_context (endpoint, self->name, error);
  if (self->ctx == NULL)
    return NULL;

  set_timeout (self->ctx, modbus_set_response_timeout, endpoint->response_timeout_ms);
  set_timeout (self->ctx, modbus_set_byte_timeout, endpoint->byte_timeout_ms);
  self->response_timeout_ms
      = endpoint->response_timeout_ms > 0 ? endpoint->response_timeout_ms : DEFAULT_TIMEOUT_MS;

  return KANKYO_CONNECTION (g_steal_pointer (&self));
}

/* ---- KankyoModbusServer ---- */

#define KANKYO_TYPE_MODBUS_SERVER (kankyo_modbus_server_get_type ())
G_DECLARE_FINAL_TYPE (KankyoModbusServer, kankyo_modbus_server, KANKYO, MODBUS_SERVER, GObject)

struct _KankyoModbusServer
{
  GObject parent_instance;

  KankyoEndpoint *endpoint;
  char *name;
  guint8 unit_id;
  KankyoRegisterBank *bank;
  guint16 port; /* TCP: the bound port once started */

  /* Set up by start, then used only by the serving thread until stop. */
  modbus_t *ctx;
  int listen_fd;
  GArray *clients; /* int: accepted sockets */
  int wake_fds[2]; /* written by stop to interrupt poll() */

  GThread *thread;
  gint stopping; /* atomic */
};

static void kankyo_modbus_server_iface_init (KankyoServerInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (KankyoModbusServer,
                               kankyo_modbus_server,
                               G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (KANKYO_TYPE_SERVER, kankyo_modbus_server_iface_init))

/* Sleeps up to @ms, waking early for stop; FALSE when stopping. */
static gboolean
server_wait (KankyoModbusServer *self, guint ms)
{
  struct pollfd pfd = { self->wake_fds[0], POLLIN, 0 };

  if (g_atomic_int_get (&self->stopping))
    return FALSE;
  if (poll (&pfd, 1, (int) MIN (ms, (guint) G_MAXINT)) == -1 && errno != EINTR)
    g_debug ("%s: poll: %s", self->name, g_strerror (errno));
  return !g_atomic_int_get (&self->stopping);
}

static void
close_fd (int *fd)
{
  if (*fd >= 0)
    close (*fd);
  *fd = -1;
}

static void
close_client (KankyoModbusServer *self, int fd)
{
  for (guint i = 0; i < self->clients->len; i++)
    {
      if (g_array_index (self->clients, int, i) == fd)
        {
          close (fd);
          g_array_remove_index_fast (self->clients, i);
          return;
        }
    }
}

static gboolean
has_client (KankyoModbusServer *self, int fd)
{
  for (guint i = 0; i < self->clients->len; i++)
    if (g_array_index (self->clients, int, i) == fd)
      return TRUE;
  return FALSE;
}

/* The listener goes first: a client that sees its connection close must not
 * get into the backlog of a listener about to close. */
static void
close_all_tcp (KankyoModbusServer *self)
{
  close_fd (&self->listen_fd);
  for (guint i = 0; i < self->clients->len; i++)
    close (g_array_index (self->clients, int, i));
  g_array_set_size (self->clients, 0);
  if (self->ctx != NULL)
    modbus_set_socket (self->ctx, -1);
  g_clear_pointer (&self->ctx, modbus_free);
}

static guint16
socket_port (int fd)
{
  struct sockaddr_storage addr;
  socklen_t len = sizeof addr;

  if (getsockname (fd, (struct sockaddr *) &addr, &len) == -1)
    return 0;
  if (addr.ss_family == AF_INET)
    return g_ntohs (((struct sockaddr_in *) &addr)->sin_port);
  if (addr.ss_family == AF_INET6)
    return g_ntohs (((struct sockaddr_in6 *) &addr)->sin6_port);
  return 0;
}

/* Binds @port; 0 takes any free one. */
static gboolean
tcp_listen (KankyoModbusServer *self, guint16 port, GError **error)
{
  g_autoptr (modbus_t) ctx = NULL;
  struct in_addr addr;
  int fd;

  ctx = new_tcp_context (self->endpoint->host, port);
  if (ctx == NULL)
    {
      int saved_errno = errno;

      g_set_error (error, KANKYO_DRIVER_ERROR, KANKYO_DRIVER_ERROR_INVALID,
                   _ ("%s: libmodbus refused the endpoint: %s"), self->name, modbus_strerror (saved_errno));
      return FALSE;
    }

  if (inet_pton (AF_INET, self->endpoint->host, &addr) == 1)
    fd = modbus_tcp_listen (ctx, SERVER_MAX_CLIENTS);
  else
    fd = modbus_tcp_pi_listen (ctx, SERVER_MAX_CLIENTS);
  if (fd == -1)
    {
      int saved_errno = errno;

      g_set_error (error, KANKYO_DRIVER_ERROR, KANKYO_DRIVER_ERROR_CONNECT, _ ("%s: could not listen: %s"),
                   self->name, g_strerror (saved_errno));
      return FALSE;
    }

  if (!g_unix_set_fd_nonblocking (fd, TRUE, error))
    {
      close (fd);
      return FALSE;
    }

  self->listen_fd = fd;
  self->ctx = g_steal_pointer (&ctx);
  return TRUE;
}

static void
accept_client (KankyoModbusServer *self)
{
  struct timeval send_timeout = { SERVER_SEND_TIMEOUT_MS / 1000, (SERVER_SEND_TIMEOUT_MS % 1000) * 1000 };
  int fd;

  fd = accept4 (self->listen_fd, NULL, NULL, SOCK_CLOEXEC);
  if (fd == -1)
    {
      if (errno != EAGAIN && errno != EINTR)
        g_debug ("%s: accept: %s", self->name, g_strerror (errno));
      return;
    }

  if (self->clients->len >= SERVER_MAX_CLIENTS)
    {
      g_debug ("%s: refusing a client: already serving %u", self->name, self->clients->len);
      close (fd);
      return;
    }

  set_tcp_nodelay (fd);
  if (setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof send_timeout) == -1)
    g_debug ("%s: could not set a send timeout: %s", self->name, g_strerror (errno));
  g_array_append_val (self->clients, fd);
}

static guint8
check_range (gboolean well_formed, guint quantity, guint max_quantity, guint address, int table_size)
{
  if (!well_formed || quantity < 1 || quantity > max_quantity)
    return MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE;
  if (address + quantity > (guint) table_size)
    return MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS;
  return 0;
}

/* Checks a request PDU against the framing of its function code, the
 * Modbus quantity limits and the bank's tables. Returns the exception to
 * answer, or 0 when modbus_reply() may serve it. @pdu holds @pdu_length
 * bytes; @announced_length is the length its framing claimed. */
static guint8
check_request (const guint8 *pdu, gsize pdu_length, gsize announced_length, const modbus_mapping_t *map)
{
  guint address, quantity, byte_count;

  switch (pdu[0])
    {
      case MODBUS_FC_READ_COILS:
      case MODBUS_FC_READ_DISCRETE_INPUTS:
      case MODBUS_FC_READ_HOLDING_REGISTERS:
      case MODBUS_FC_READ_INPUT_REGISTERS:
      case MODBUS_FC_WRITE_SINGLE_COIL:
      case MODBUS_FC_WRITE_SINGLE_REGISTER:
      case MODBUS_FC_WRITE_MULTIPLE_COILS:
      case MODBUS_FC_WRITE_MULTIPLE_REGISTERS:
        break;
      default:
        return MODBUS_EXCEPTION_ILLEGAL_FUNCTION;
    }

  if (pdu_length != announced_length || pdu_length < 5)
    return MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE;

  address = (guint) pdu[1] << 8 | pdu[2];
  quantity = (guint) pdu[3] << 8 | pdu[4];

  switch (pdu[0])
    {
      case MODBUS_FC_READ_COILS:
        return check_range (pdu_length == 5, quantity, MODBUS_MAX_READ_BITS, address, map->nb_bits);
      case MODBUS_FC_READ_DISCRETE_INPUTS:
        return check_range (pdu_length == 5, quantity, MODBUS_MAX_READ_BITS, address, map->nb_input_bits);
      case MODBUS_FC_READ_HOLDING_REGISTERS:
        return check_range (pdu_length == 5, quantity, MODBUS_MAX_READ_REGISTERS, address, map->nb_registers);
      case MODBUS_FC_READ_INPUT_REGISTERS:
        return check_range (pdu_length == 5, quantity, MODBUS_MAX_READ_REGISTERS, address,
                            map->nb_input_registers);
      case MODBUS_FC_WRITE_SINGLE_COIL:
        /* quantity holds the value here: ON is 0xFF00, OFF 0x0000 */
        return check_range (pdu_length == 5 && (quantity == 0xFF00 || quantity == 0), 1, 1, address,
                            map->nb_bits);
      case MODBUS_FC_WRITE_SINGLE_REGISTER:
        return check_range (pdu_length == 5, 1, 1, address, map->nb_registers);
      case MODBUS_FC_WRITE_MULTIPLE_COILS:
        byte_count = pdu_length > 5 ? pdu[5] : 0;
        return check_range (pdu_length == 6 + byte_count && byte_count == (quantity + 7) / 8, quantity,
                            MODBUS_MAX_WRITE_BITS, address, map->nb_bits);
      case MODBUS_FC_WRITE_MULTIPLE_REGISTERS:
      default:
        byte_count = pdu_length > 5 ? pdu[5] : 0;
        return check_range (pdu_length == 6 + byte_count && byte_count == quantity * 2, quantity,
                            MODBUS_MAX_WRITE_REGISTERS, address, map->nb_registers);
    }
}

static int
table_size (guint count)
{
  return (int) MIN (count, 65536);
}

/* Answers one request framed by libmodbus, applying the delay and
 * exception faults. FALSE when the link it came on is no longer usable. */
static gboolean
serve_request (KankyoModbusServer *self,
               const KankyoServerFaults *faults,
               const guint8 *req,
               int req_length,
               gsize pdu_length,
               gsize announced_length)
{
  int header_length = modbus_get_header_length (self->ctx);
  const guint8 *pdu = req + header_length;
  gboolean broadcast;
  guint8 exception;
  int rc;

  broadcast = self->endpoint->transport == KANKYO_TRANSPORT_RTU && req[0] == MODBUS_BROADCAST_ADDRESS;

  if (faults->delay_ms > 0 && !server_wait (self, faults->delay_ms))
    return FALSE;

  if (faults->exception_code != 0)
    {
      exception = faults->exception_code;
      if (exception >= MODBUS_EXCEPTION_MAX)
        {
          g_debug ("%s: libmodbus cannot send exception %u; sending %d instead", self->name, exception,
                   MODBUS_EXCEPTION_SLAVE_OR_SERVER_FAILURE);
          exception = MODBUS_EXCEPTION_SLAVE_OR_SERVER_FAILURE;
        }
      rc = broadcast ? 0 : modbus_reply_exception (self->ctx, req, exception);
    }
  else
    {
      modbus_mapping_t map = { 0 };
      guint n;

      kankyo_register_bank_lock (self->bank);

      map.tab_bits = kankyo_register_bank_bits (self->bank, KANKYO_AREA_COIL, &n);
      map.nb_bits = table_size (n);
      map.tab_input_bits = kankyo_register_bank_bits (self->bank, KANKYO_AREA_DISCRETE_INPUT, &n);
      map.nb_input_bits = table_size (n);
      map.tab_registers = kankyo_register_bank_registers (self->bank, KANKYO_AREA_HOLDING_REGISTER, &n);
      map.nb_registers = table_size (n);
      map.tab_input_registers = kankyo_register_bank_registers (self->bank, KANKYO_AREA_INPUT_REGISTER, &n);
      map.nb_input_registers = table_size (n);

      exception = check_request (pdu, pdu_length, announced_length, &map);
      if (exception != 0)
        {
          g_debug ("%s: refusing function %u with exception %u (%s)", self->name, pdu[0], exception,
                   exception_meaning (exception));
          rc = broadcast ? 0 : modbus_reply_exception (self->ctx, req, exception);
        }
      else
        {
          rc = modbus_reply (self->ctx, req, req_length, &map);
          if (rc != -1
              && (pdu[0] == MODBUS_FC_WRITE_SINGLE_COIL || pdu[0] == MODBUS_FC_WRITE_SINGLE_REGISTER
                  || pdu[0] == MODBUS_FC_WRITE_MULTIPLE_COILS
                  || pdu[0] == MODBUS_FC_WRITE_MULTIPLE_REGISTERS))
            kankyo_register_bank_note_client_write (self->bank);
        }

      kankyo_register_bank_unlock (self->bank);
    }

  if (rc == -1)
    {
      g_debug ("%s: could not send a reply: %s", self->name, modbus_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

/* Reads and drops @n bytes a client sent after what libmodbus framed, so
 * the stream stays aligned on the MBAP header. */
static gboolean
discard_bytes (int fd, gsize n)
{
  guint8 sink[MODBUS_MAX_PDU_LENGTH];
  gint64 deadline = g_get_monotonic_time () + SERVER_TICK_MS * G_TIME_SPAN_MILLISECOND;

  while (n > 0)
    {
      struct pollfd pfd = { fd, POLLIN, 0 };
      gint64 left_ms = (deadline - g_get_monotonic_time ()) / G_TIME_SPAN_MILLISECOND;
      ssize_t got;

      if (left_ms <= 0 || poll (&pfd, 1, (int) left_ms) <= 0)
        return FALSE;
      got = recv (fd, sink, MIN (n, sizeof sink), 0);
      if (got <= 0)
        return FALSE;
      n -= (gsize) got;
    }
  return TRUE;
}

/* Serves one request from the client on @fd. FALSE when the client should
 * be dropped: it left, or its stream can no longer be framed. */
static gboolean
serve_tcp_client (KankyoModbusServer *self, int fd)
{
  guint8 req[MODBUS_MAX_ADU_LENGTH];
  int header_length = modbus_get_header_length (self->ctx);
  KankyoServerFaults faults;
  gsize pdu_length, announced_length;
  guint protocol;
  int rc;

  modbus_set_socket (self->ctx, fd);
  rc = modbus_receive (self->ctx, req);
  if (rc == -1)
    {
      g_debug ("%s: closing a client connection: %s", self->name, modbus_strerror (errno));
      return FALSE;
    }
  if (rc <= header_length)
    return FALSE;

  /* libmodbus frames requests by function code and never looks at the MBAP
   * length; a mismatch would shift every later request. */
  protocol = (guint) req[2] << 8 | req[3];
  announced_length = (gsize) ((guint) req[4] << 8 | req[5]);
  pdu_length = (gsize) (rc - header_length);
  if (protocol != 0 || announced_length < 2)
    {
      g_debug ("%s: closing a client that sent protocol id %u, length %zu", self->name, protocol,
               announced_length);
      return FALSE;
    }
  announced_length -= 1; /* the unit id */
  if (announced_length < pdu_length || announced_length > MODBUS_MAX_PDU_LENGTH)
    {
      g_debug ("%s: closing a client whose MBAP length %zu does not frame its request", self->name,
               announced_length + 1);
      return FALSE;
    }
  if (announced_length > pdu_length && !discard_bytes (fd, announced_length - pdu_length))
    {
      g_debug ("%s: closing a client that sent less than its MBAP length", self->name);
      return FALSE;
    }

  kankyo_register_bank_get_faults (self->bank, &faults);
  if (faults.drop)
    {
      close_all_tcp (self);
      return TRUE;
    }

  return serve_request (self, &faults, req, rc, pdu_length, announced_length);
}

static gpointer
serve_tcp (gpointer data)
{
  KankyoModbusServer *self = data;
  struct pollfd pfds[2 + SERVER_MAX_CLIENTS];

  while (!g_atomic_int_get (&self->stopping))
    {
      KankyoServerFaults faults;
      guint n_pfds = 0;
      guint first_client;
      int n;

      kankyo_register_bank_get_faults (self->bank, &faults);
      if (faults.drop && self->listen_fd >= 0)
        {
          g_debug ("%s: dropping all connections (fault)", self->name);
          close_all_tcp (self);
        }
      else if (!faults.drop && self->listen_fd < 0)
        {
          g_autoptr (GError) error = NULL;

          if (!tcp_listen (self, self->port, &error))
            g_debug ("%s: %s", self->name, error->message);
        }

      pfds[n_pfds++] = (struct pollfd){ self->wake_fds[0], POLLIN, 0 };
      if (self->listen_fd >= 0)
        pfds[n_pfds++] = (struct pollfd){ self->listen_fd, POLLIN, 0 };
      first_client = n_pfds;
      for (guint i = 0; i < self->clients->len; i++)
        pfds[n_pfds++] = (struct pollfd){ g_array_index (self->clients, int, i), POLLIN, 0 };

      n = poll (pfds, n_pfds, SERVER_TICK_MS);
      if (n == -1)
        {
          if (errno != EINTR)
            {
              g_debug ("%s: poll: %s", self->name, g_strerror (errno));
              server_wait (self, SERVER_TICK_MS);
            }
          continue;
        }
      if (n == 0 || pfds[0].revents != 0)
        continue;

      for (guint i = first_client; i < n_pfds; i++)
        {
          int fd = pfds[i].fd;

          /* An earlier request in this round may have closed it (drop). */
          if (pfds[i].revents == 0 || !has_client (self, fd))
            continue;
          if (!serve_tcp_client (self, fd))
            close_client (self, fd);
          if (g_atomic_int_get (&self->stopping))
            break;
        }

      if (first_client == 2 && pfds[1].revents != 0 && self->listen_fd == pfds[1].fd)
        accept_client (self);
    }

  return NULL;
}

/* Lets the wait libmodbus arms after a request for another unit run out.
 *
 * libmodbus then takes the next frame for that unit's reply and ignores it,
 * even when the unit is absent and the frame is the master's next request.
 * Calling modbus_receive() once more on a short response timeout either
 * swallows the real reply or expires, and the line is ours again. */
static void
skip_other_unit_reply (KankyoModbusServer *self)
{
  guint8 reply[MODBUS_MAX_ADU_LENGTH];

  modbus_receive (self->ctx, reply);
}

static gpointer
serve_rtu (gpointer data)
{
  KankyoModbusServer *self = data;
  int fd = modbus_get_socket (self->ctx);

  while (!g_atomic_int_get (&self->stopping))
    {
      guint8 req[MODBUS_MAX_ADU_LENGTH];
      struct pollfd pfds[2] = {
        { self->wake_fds[0], POLLIN, 0 },
        { fd, POLLIN, 0 },
      };
      KankyoServerFaults faults;
      int header_length;
      gsize pdu_length;
      int rc;

      if (poll (pfds, 2, SERVER_TICK_MS) <= 0 || pfds[0].revents != 0)
        continue;
      if ((pfds[1].revents & POLLIN) == 0)
        {
          /* Hung up or failed: nothing to read, so don't spin on it. */
          server_wait (self, SERVER_TICK_MS);
          continue;
        }

      rc = modbus_receive (self->ctx, req);
      if (rc == 0)
        {
          skip_other_unit_reply (self);
          continue;
        }
      if (rc == -1)
        {
          int saved_errno = errno;

          g_debug ("%s: dropping a bad request: %s", self->name, modbus_strerror (saved_errno));
          modbus_flush (self->ctx);
          if (is_link_errno (saved_errno))
            server_wait (self, SERVER_TICK_MS);
          continue;
        }

      header_length = modbus_get_header_length (self->ctx);
      if (rc < header_length + 2 + 1)
        continue;
      pdu_length = (gsize) (rc - header_length - 2);

      kankyo_register_bank_get_faults (self->bank, &faults);
      if (faults.drop)
        continue;

      if (!serve_request (self, &faults, req, rc, pdu_length, pdu_length))
        modbus_flush (self->ctx);
    }

  return NULL;
}

static gboolean
rtu_open (KankyoModbusServer *self, GError **error)
{
  g_autoptr (modbus_t) ctx = NULL;

  ctx = new_context (self->endpoint, self->name, error);
  if (ctx == NULL)
    return FALSE;

  if (modbus_set_slave (ctx, self->unit_id) == -1)
    {
      g_set_error (error, KANKYO_DRIVER_ERROR, KANKYO_DRIVER_ERROR_INVALID,
                   _ ("%s: a server answers as unit 1 to 247, not %u"), self->name, self->unit_id);
      return FALSE;
    }
  set_timeout (ctx, modbus_set_byte_timeout, self->endpoint->byte_timeout_ms);
  set_timeout (ctx, modbus_set_response_timeout, RTU_OTHER_UNIT_WAIT_MS);

  if (modbus_connect (ctx) == -1)
    {
      int saved_errno = errno;

      g_set_error (error, KANKYO_DRIVER_ERROR, KANKYO_DRIVER_ERROR_CONNECT,
                   _ ("%s: could not open the serial port: %s"), self->name, g_strerror (saved_errno));
      return FALSE;
    }

  self->ctx = g_steal_pointer (&ctx);
  return TRUE;
}

static void
kankyo_modbus_server_stop (KankyoServer *server)
{
  KankyoModbusServer *self = KANKYO_MODBUS_SERVER (server);

  if (self->thread != NULL)
    {
      g_atomic_int_set (&self->stopping, 1);
      if (write (self->wake_fds[1], "", 1) == -1)
        g_debug ("%s: could not wake the server thread: %s", self->name, g_strerror (errno));
      g_thread_join (g_steal_pointer (&self->thread));
    }

  if (self->endpoint->transport == KANKYO_TRANSPORT_TCP)
    close_all_tcp (self);
  else if (self->ctx != NULL)
    {
      modbus_close (self->ctx);
      g_clear_pointer (&self->ctx, modbus_free);
    }
  close_fd (&self->wake_fds[0]);
  close_fd (&self->wake_fds[1]);
  g_atomic_int_set (&self->stopping, 0);
}

static gboolean
kankyo_modbus_server_start (KankyoServer *server, GError **error)
{
  KankyoModbusServer *self = KANKYO_MODBUS_SERVER (server);
  gboolean is_tcp = self->endpoint->transport == KANKYO_TRANSPORT_TCP;

  g_return_val_if_fail (self->thread == NULL, FALSE);

  if (is_tcp)
    {
      if (!tcp_listen (self, self->endpoint->port, error))
        return FALSE;
      g_free (self->name);
      /* A drop fault re-listens on this port, so clients can come back. */
      self->port = socket_port (self->listen_fd);
      self->endpoint->port = self->port;
      self->name = kankyo_endpoint_to_string (self->endpoint);
    }
  else if (!rtu_open (self, error))
    return FALSE;

  if (!g_unix_open_pipe (self->wake_fds, FD_CLOEXEC, error)
      || !g_unix_set_fd_nonblocking (self->wake_fds[1], TRUE, error))
    {
      kankyo_modbus_server_stop (server);
      return FALSE;
    }

  self->thread = g_thread_try_new ("kankyo-modbus", is_tcp ? serve_tcp : serve_rtu, self, error);
  if (self->thread == NULL)
    {
      kankyo_modbus_server_stop (server);
      return FALSE;
    }

  return TRUE;
}

static guint16
kankyo_modbus_server_get_port (KankyoServer *server)
{
  return KANKYO_MODBUS_SERVER (server)->port;
}

static void
kankyo_modbus_server_finalize (GObject *object)
{
  KankyoModbusServer *self = KANKYO_MODBUS_SERVER (object);

  kankyo_modbus_server_stop (KANKYO_SERVER (self));
  g_clear_pointer (&self->clients, g_array_unref);
  g_clear_pointer (&self->bank, kankyo_register_bank_unref);
  g_clear_pointer (&self->endpoint, kankyo_endpoint_free);
  g_clear_pointer (&self->name, g_free);

  G_OBJECT_CLASS (kankyo_modbus_server_parent_class)->finalize (object);
}

static void
kankyo_modbus_server_class_init (KankyoModbusServerClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = kankyo_modbus_server_finalize;
}

static void
kankyo_modbus_server_init (KankyoModbusServer *self)
{
  self->listen_fd = -1;
  self->wake_fds[0] = -1;
  self->wake_fds[1] = -1;
  self->clients = g_array_new (FALSE, FALSE, sizeof (int));
}

static void
kankyo_modbus_server_iface_init (KankyoServerInterface *iface)
{
  iface->start = kankyo_modbus_server_start;
  iface->stop = kankyo_modbus_server_stop;
  iface->get_port = kankyo_modbus_server_get_port;
}

static KankyoServer *
kankyo_modbus_server_new (const KankyoEndpoint *endpoint,
                          guint8 unit_id,
                          KankyoRegisterBank *bank,
                          GError **error)
{
  KankyoModbusServer *self;

  if (!check_endpoint (endpoint, error))
    return NULL;

  self = g_object_new (KANKYO_TYPE_MODBUS_SERVER, NULL);
  self->endpoint = kankyo_endpoint_copy (endpoint);
  self->name = kankyo_endpoint_to_string (endpoint);
  self->unit_id = unit_id;
  self->bank = kankyo_register_bank_ref (bank);
  return KANKYO_SERVER (self);
}

/* ---- KankyoModbusDriver ---- */

#define KANKYO_TYPE_MODBUS_DRIVER (kankyo_modbus_driver_get_type ())
G_DECLARE_FINAL_TYPE (KankyoModbusDriver, kankyo_modbus_driver, KANKYO, MODBUS_DRIVER, GObject)

struct _KankyoModbusDriver
{
  GObject parent_instance;
};

static void kankyo_modbus_driver_iface_init (KankyoDriverInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (KankyoModbusDriver,
                               kankyo_modbus_driver,
                               G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (KANKYO_TYPE_DRIVER, kankyo_modbus_driver_iface_init))

static KankyoConnection *
kankyo_modbus_driver_create_connection (KankyoDriver *driver, const KankyoEndpoint *endpoint, GError **error)
{
  return kankyo_modbus_connection_new (endpoint, error);
}

static KankyoServer *
kankyo_modbus_driver_create_server (KankyoDriver *driver,
                                    const KankyoEndpoint *endpoint,
                                    guint8 unit_id,
                                    KankyoRegisterBank *bank,
                                    GError **error)
{
  return kankyo_modbus_server_new (endpoint, unit_id, bank, error);
}

static void
kankyo_modbus_driver_class_init (KankyoModbusDriverClass *klass)
{
}

static void
kankyo_modbus_driver_init (KankyoModbusDriver *self)
{
}

static void
kankyo_modbus_driver_iface_init (KankyoDriverInterface *iface)
{
  iface->create_connection = kankyo_modbus_driver_create_connection;
  iface->create_server = kankyo_modbus_driver_create_server;
}

/* ---- GIO module entry points ---- */

/* The types are static, registered once per process by their get_type
 * functions; holding a use on the module keeps the code behind them mapped
 * for the life of the process, as GTK's media modules do. */
void
g_io_module_load (GIOModule *module)
{
  g_type_module_use (G_TYPE_MODULE (module));

  kankyo_plugin_register_extension_points ();
  g_io_extension_point_implement (KANKYO_DRIVER_EXTENSION_POINT, KANKYO_TYPE_MODBUS_DRIVER, "modbus", 0);
}

/* GIO requires the symbol; the use taken in g_io_module_load() means it is
 * never called. */
void
g_io_module_unload (GIOModule *module)
{
}

char **
g_io_module_query (void)
{
  char *extension_points[] = { (char *) KANKYO_DRIVER_EXTENSION_POINT, NULL };

  return g_strdupv (extension_points);
}
