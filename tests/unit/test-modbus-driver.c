/* test-modbus-driver.c: the Modbus driver module over real sockets and ptys.
 *
 * Loads drivers/modbus as the host does (a GIO module found on
 * KANKYO_DRIVER_PATH) and drives its client against its own server over
 * loopback TCP, and over a socat pseudo-terminal pair for RTU. Requests no
 * well-behaved client would send, and replies no well-behaved server would
 * give, are written byte by byte on raw sockets and a raw pseudo-terminal:
 * the driver's own client and server agreeing with each other proves
 * nothing about those.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "kankyo-plugin.h"

#define N_BITS 2048
#define N_REGISTERS 256
#define MAX_VALUES 2048

static GList *modules;
static KankyoDriver *driver;

/* ---- helpers ---- */

static KankyoEndpoint
tcp_endpoint (guint16 port, guint timeout_ms)
{
  KankyoEndpoint endpoint = { 0 };

  endpoint.transport = KANKYO_TRANSPORT_TCP;
  endpoint.host = (char *) "127.0.0.1";
  endpoint.port = port;
  endpoint.response_timeout_ms = timeout_ms;
  return endpoint;
}

static KankyoServer *
start_server (const KankyoEndpoint *endpoint, guint8 unit_id, KankyoRegisterBank *bank)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (KankyoServer) server = NULL;

  server = kankyo_driver_create_server (driver, endpoint, unit_id, bank, &error);
  g_assert_no_error (error);
  kankyo_server_start (server, &error);
  g_assert_no_error (error);
  return g_steal_pointer (&server);
}

static KankyoConnection *
new_client (const KankyoEndpoint *endpoint)
{
  g_autoptr (GError) error = NULL;
  KankyoConnection *client;

  client = kankyo_driver_create_connection (driver, endpoint, &error);
  g_assert_no_error (error);
  g_assert_true (KANKYO_IS_CONNECTION (client));
  return client;
}

static KankyoConnection *
connect_tcp_client (guint16 port, guint timeout_ms)
{
  KankyoEndpoint endpoint = tcp_endpoint (port, timeout_ms);
  g_autoptr (GError) error = NULL;
  KankyoConnection *client = new_client (&endpoint);

  kankyo_connection_connect (client, &error);
  g_assert_no_error (error);
  g_assert_true (kankyo_connection_is_connected (client));
  return client;
}

static void
assert_message_contains (const GError *error, const char *text)
{
  g_assert_nonnull (error);
  g_test_message ("error: %s", error->message);
  g_assert_nonnull (strstr (error->message, text));
}

static void
bank_set_register (KankyoRegisterBank *bank, KankyoArea area, guint address, guint16 value)
{
  guint n;

  kankyo_register_bank_lock (bank);
  kankyo_register_bank_registers (bank, area, &n)[address] = value;
  kankyo_register_bank_unlock (bank);
}

static guint16
bank_get_register (KankyoRegisterBank *bank, KankyoArea area, guint address)
{
  guint16 value;
  guint n;

  kankyo_register_bank_lock (bank);
  value = kankyo_register_bank_registers (bank, area, &n)[address];
  kankyo_register_bank_unlock (bank);
  return value;
}

static void
bank_set_bit (KankyoRegisterBank *bank, KankyoArea area, guint address, guint8 value)
{
  guint n;

  kankyo_register_bank_lock (bank);
  kankyo_register_bank_bits (bank, area, &n)[address] = value;
  kankyo_register_bank_unlock (bank);
}

static guint8
bank_get_bit (KankyoRegisterBank *bank, KankyoArea area, guint address)
{
  guint8 value;
  guint n;

  kankyo_register_bank_lock (bank);
  value = kankyo_register_bank_bits (bank, area, &n)[address];
  kankyo_register_bank_unlock (bank);
  return value;
}

static guint64
bank_write_serial (KankyoRegisterBank *bank)
{
  guint64 serial;

  kankyo_register_bank_lock (bank);
  serial = kankyo_register_bank_get_write_serial (bank);
  kankyo_register_bank_unlock (bank);
  return serial;
}

static void
bank_set_faults (KankyoRegisterBank *bank, gboolean drop, guint delay_ms, guint8 exception_code)
{
  KankyoServerFaults faults = { drop, delay_ms, exception_code };

  kankyo_register_bank_set_faults (bank, &faults);
}

static gint64
elapsed_ms (gint64 start)
{
  return (g_get_monotonic_time () - start) / G_TIME_SPAN_MILLISECOND;
}

/* A TCP port nothing listens on, for as long as nobody else takes it. */
static guint16
free_port (void)
{
  g_autoptr (GSocket) socket = NULL;
  g_autoptr (GInetAddress) loopback = NULL;
  g_autoptr (GSocketAddress) address = NULL;
  g_autoptr (GSocketAddress) bound = NULL;
  g_autoptr (GError) error = NULL;

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  address = g_inet_socket_address_new (loopback, 0);
  g_socket_bind (socket, address, FALSE, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

/* ---- TCP fixture: a server on a free loopback port and a client ---- */

typedef struct
{
  KankyoRegisterBank *bank;
  KankyoServer *server;
  guint16 port;
  KankyoConnection *client;
} TcpFixture;

static void
tcp_fixture_set_up (TcpFixture *fixture, gconstpointer user_data)
{
  KankyoEndpoint endpoint = tcp_endpoint (0, 0);

  fixture->bank = kankyo_register_bank_new (N_BITS, N_BITS, N_REGISTERS, N_REGISTERS);
  fixture->server = start_server (&endpoint, 1, fixture->bank);
  fixture->port = kankyo_server_get_port (fixture->server);
  g_assert_cmpuint (fixture->port, !=, 0);
  fixture->client = connect_tcp_client (fixture->port, GPOINTER_TO_UINT (user_data));
}

static void
tcp_fixture_tear_down (TcpFixture *fixture, gconstpointer user_data)
{
  g_clear_object (&fixture->client);
  kankyo_server_stop (fixture->server);
  g_clear_object (&fixture->server);
  g_clear_pointer (&fixture->bank, kankyo_register_bank_unref);
}

/* ---- tests ---- */

static void
test_module_load_twice (void)
{
  const char *path = g_getenv ("KANKYO_DRIVER_PATH");
  GIOExtensionPoint *point;
  GList *again;
  guint n_modbus = 0;

  /* A host that scans its driver directory twice must not register the
   * types twice or list the driver twice; G_DEBUG=fatal-criticals turns
   * any complaint from GType into a failure. */
  again = g_io_modules_load_all_in_directory (path);
  g_assert_nonnull (again);
  modules = g_list_concat (modules, again);

  point = g_io_extension_point_lookup (KANKYO_DRIVER_EXTENSION_POINT);
  for (GList *l = g_io_extension_point_get_extensions (point); l != NULL; l = l->next)
    if (g_strcmp0 (g_io_extension_get_name (l->data), "modbus") == 0)
      n_modbus++;
  g_assert_cmpuint (n_modbus, ==, 1);
}

static void
test_tcp_read (TcpFixture *fixture, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  guint16 values[MAX_VALUES];

  for (guint i = 0; i < N_BITS; i++)
    {
      bank_set_bit (fixture->bank, KANKYO_AREA_COIL, i, i % 3 == 0);
      bank_set_bit (fixture->bank, KANKYO_AREA_DISCRETE_INPUT, i, i % 5 == 1);
    }
  for (guint i = 0; i < N_REGISTERS; i++)
    {
      bank_set_register (fixture->bank, KANKYO_AREA_HOLDING_REGISTER, i, 1000 + i);
      bank_set_register (fixture->bank, KANKYO_AREA_INPUT_REGISTER, i, 0xF000 | i);
    }

  /* FC 1 */
  memset (values, 0xAA, sizeof values);
  kankyo_connection_read (fixture->client, 1, KANKYO_AREA_COIL, 3, 19, values, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < 19; i++)
    g_assert_cmpuint (values[i], ==, (3 + i) % 3 == 0);
  g_assert_cmpuint (values[19], ==, 0xAAAA);

  /* FC 2, the full 2000 bits one request may carry */
  kankyo_connection_read (fixture->client, 1, KANKYO_AREA_DISCRETE_INPUT, 40, 2000, values, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < 2000; i++)
    g_assert_cmpuint (values[i], ==, (40 + i) % 5 == 1);

  /* FC 3 */
  memset (values, 0xAA, sizeof values);
  kankyo_connection_read (fixture->client, 1, KANKYO_AREA_HOLDING_REGISTER, 0, 10, values, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < 10; i++)
    g_assert_cmpuint (values[i], ==, 1000 + i);
  g_assert_cmpuint (values[10], ==, 0xAAAA);

  /* FC 4, the full 125 registers, ending at the last one */
  kankyo_connection_read (fixture->client, 1, KANKYO_AREA_INPUT_REGISTER, N_REGISTERS - 125, 125, values,
                          &error);
  g_assert_no_error (error);
  for (guint i = 0; i < 125; i++)
    g_assert_cmpuint (values[i], ==, 0xF000 | (N_REGISTERS - 125 + i));

  g_assert_cmpuint (bank_write_serial (fixture->bank), ==, 0);
}

static void
test_tcp_write (TcpFixture *fixture, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  guint16 values[MAX_VALUES];
  guint16 back[MAX_VALUES];
  guint16 one;

  /* FC 5: any non-zero value means ON */
  one = 7;
  kankyo_connection_write (fixture->client, 1, KANKYO_WRITE_SINGLE_COIL, 9, 1, &one, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (bank_get_bit (fixture->bank, KANKYO_AREA_COIL, 9), ==, 1);
  g_assert_cmpuint (bank_get_bit (fixture->bank, KANKYO_AREA_COIL, 8), ==, 0);
  g_assert_cmpuint (bank_get_bit (fixture->bank, KANKYO_AREA_COIL, 10), ==, 0);
  g_assert_cmpuint (bank_write_serial (fixture->bank), ==, 1);
  one = 0;
  kankyo_connection_write (fixture->client, 1, KANKYO_WRITE_SINGLE_COIL, 9, 1, &one, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (bank_get_bit (fixture->bank, KANKYO_AREA_COIL, 9), ==, 0);

  /* FC 6 */
  one = 0xBEEF;
  kankyo_connection_write (fixture->client, 1, KANKYO_WRITE_SINGLE_REGISTER, 12, 1, &one, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (bank_get_register (fixture->bank, KANKYO_AREA_HOLDING_REGISTER, 12), ==, 0xBEEF);
  g_assert_cmpuint (bank_get_register (fixture->bank, KANKYO_AREA_HOLDING_REGISTER, 11), ==, 0);
  g_assert_cmpuint (bank_get_register (fixture->bank, KANKYO_AREA_HOLDING_REGISTER, 13), ==, 0);

  /* FC 15, the full 1968 coils */
  for (guint i = 0; i < 1968; i++)
    values[i] = (i % 7 == 2) ? 1 : 0;
  kankyo_connection_write (fixture->client, 1, KANKYO_WRITE_MULTIPLE_COILS, 50, 1968, values, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < 1968; i++)
    g_assert_cmpuint (bank_get_bit (fixture->bank, KANKYO_AREA_COIL, 50 + i), ==, i % 7 == 2);
  kankyo_connection_read (fixture->client, 1, KANKYO_AREA_COIL, 50, 1968, back, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (back, 1968 * sizeof (guint16), values, 1968 * sizeof (guint16));

  /* FC 16, the full 123 registers, ending at the last one */
  for (guint i = 0; i < 123; i++)
    values[i] = (guint16) (0x8000 + i * 3);
  kankyo_connection_write (fixture->client, 1, KANKYO_WRITE_MULTIPLE_REGISTERS, N_REGISTERS - 123, 123,
                           values, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < 123; i++)
    g_assert_cmpuint (bank_get_register (fixture->bank, KANKYO_AREA_HOLDING_REGISTER, N_REGISTERS - 123 + i),
                      ==, 0x8000 + i * 3);

  g_assert_cmpuint (bank_write_serial (fixture->bank), ==, 5);
}

static void
test_tcp_count_limits (TcpFixture *fixture, gconstpointer user_data)
{
  guint16 values[MAX_VALUES] = { 0 };
  struct
  {
    gboolean is_write;
    int area_or_function;
    guint16 address;
    guint16 count;
    const char *reason;
  } cases[] = {
    { FALSE, KANKYO_AREA_HOLDING_REGISTER, 0, 126, "1 to 125 holding registers" },
    { FALSE, KANKYO_AREA_INPUT_REGISTER, 0, 0, "1 to 125 input registers" },
    { FALSE, KANKYO_AREA_COIL, 0, 2001, "1 to 2000 coils" },
    { FALSE, KANKYO_AREA_DISCRETE_INPUT, 0, 0, "1 to 2000 discrete inputs" },
    { FALSE, KANKYO_AREA_HOLDING_REGISTER, 65500, 100, "past address 65535" },
    { FALSE, 7, 0, 1, "expected coils" },
    { TRUE, KANKYO_WRITE_MULTIPLE_REGISTERS, 0, 124, "1 to 123 holding registers" },
    { TRUE, KANKYO_WRITE_MULTIPLE_COILS, 0, 1969, "1 to 1968 coils" },
    { TRUE, KANKYO_WRITE_MULTIPLE_COILS, 0, 0, "1 to 1968 coils" },
    { TRUE, KANKYO_WRITE_SINGLE_COIL, 0, 2, "exactly one coil" },
    { TRUE, KANKYO_WRITE_SINGLE_REGISTER, 65535, 2, "exactly one holding register" },
    { TRUE, 23, 0, 1, "expected write function" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      gboolean ok;

      if (cases[i].is_write)
        ok = kankyo_connection_write (fixture->client, 1, cases[i].area_or_function, cases[i].address,
                                      cases[i].count, values, &error);
      else
        ok = kankyo_connection_read (fixture->client, 1, cases[i].area_or_function, cases[i].address,
                                     cases[i].count, values, &error);
      g_assert_false (ok);
      g_assert_error (error, KANKYO_DRIVER_ERROR, KANKYO_DRIVER_ERROR_INVALID);
      assert_message_contains (error, cases[i].reason);
      /* Refused before anything was sent: the link stays up. */
      g_assert_true (kankyo_connection_is_connected (fixture->client));
    }

  g_assert_cmpuint (bank_write_serial (fixture->bank), ==, 0);
}

static void
test_tcp_exception_fault (TcpFixture *fixture, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  guint16 values[10];
  guint16 one = 42;

  bank_set_faults (fixture->bank, FALSE, 0, 6);
  g_assert_false (
      kankyo_connection_read (fixture->client, 1, KANKYO_AREA_HOLDING_REGISTER, 0, 10, values, &error));
  g_assert_error (error, KANKYO_DRIVER_ERROR, KANKYO_DRIVER_ERROR_EXCEPTION);
  assert_message_contains (error, "tcp://127.0.0.1:");
  assert_message_contains (error, " unit 1: reading 10 holding registers at 0: ");
  assert_message_contains (error, "exception 6 (server device busy)");
  /* An exception is a complete, well-framed answer: no reconnect needed. */
  g_assert_true (kankyo_connection_is_connected (fixture->client));
  g_clear_error (&error);

  bank_set_faults (fixture->bank, FALSE, 0, 4);
  g_assert_false (
      kankyo_connection_write (fixture->client, 1, KANKYO_WRITE_SINGLE_REGISTER, 3, 1, &one, &error));
  g_assert_error (error, KANKYO_DRIVER_ERROR, KANKYO_DRIVER_ERROR_EXCEPTION);
  assert_message_contains (error, "exception 4 (server device failure)");
  g_assert_cmpuint (bank_get_register (fixture->bank, KANKYO_AREA_HOLDING_REGISTER, 3), ==, 0);
  g_assert_cmpuint (bank_write_serial (fixture->bank), ==, 0);
  g_clear_error (&error);

  bank_set_faults (fixture->bank, FALSE, 0, 11);
  g_assert_false (kankyo_connection_read (fixture->client, 1, KANKYO_AREA_COIL, 0, 1, values, &error));
  g_assert_error (error, KANKYO_DRIVER_ERROR, KANKYO_DRIVER_ERROR_EXCEPTION);
  assert_message_contains (error, "exception 11 (gateway target device failed to respond)");
  g_clear_error (&error);

  bank_set_faults (fixture->bank, FALSE, 0, 0);
  kankyo_connection_write (fixture->client, 1, KANKYO_WRITE_SINGLE_REGISTER, 3, 1, &one, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (bank_get_register (fixture->bank, KANKYO_AREA_HOLDING_REGISTER, 3), ==, 42);
}

static void
test_tcp_illegal_address (TcpFixture *fixture, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  guint16 values[16] = { 0 };

  g_assert_false (kankyo_connection_read (fixture->client, 1, KANKYO_AREA_HOLDING_REGISTER, N_REGISTERS - 5,
                                          10, values, &error));
  g_assert_error (error, KANKYO_DRIVER_ERROR, KANKYO_DRIVER_ERROR_EXCEPTION);
  assert_message_contains (error, "exception 2 (illegal data address)");
  g_clear_error (&error);

  g_assert_false (
      kankyo_connection_read (fixture->client, 1, KANKYO_AREA_DISCRETE_INPUT, N_BITS, 1, values, &error));
  g_assert_error (error, KANKYO_DRIVER_ERROR, KANKYO_DRIVER_ERROR_EXCEPTION);
  assert_message_contains (error, "exception 2 (illegal data address)");
  g_clear_error (&error);

  g_assert_false (kankyo_connection_write (fixture->client, 1, KANKYO_WRITE_SINGLE_REGISTER, N_REGISTERS, 1,
                                           values, &error));
  g_assert_error (error, KANKYO_DRIVER_ERROR, KANKYO_DRIVER_ERROR_EXCEPTION);
  assert_message_contains (error, "exception 2 (illegal data address)");
  g_clear_error (&error);

  g_assert_false (kankyo_connection_write (fixture->client, 1, KANKYO_WRITE_MULTIPLE_COILS, N_BITS - 8, 16,
                                           values, &error));
  g_assert_error (error, KANKYO_DRIVER_ERROR, KANKYO_DRIVER_ERROR_EXCEPTION);
  g_clear_error (&error);

  g_assert_cmpuint (bank_write_serial (fixture->bank), ==, 0);
  g_assert_true (kankyo_connection_is_connected (fixture->client));
  kankyo_connection_read (fixture->client, 1, KANKYO_AREA_HOLDING_REGISTER, N_REGISTERS - 10, 10, values,
                          &error);
  g_assert_no_error (error);
}

static void
test_tcp_delay_fault (TcpFixture *fixture, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  guint16 value = 0;
  gint64 start;

  bank_set_register (fixture->bank, KANKYO_AREA_HOLDING_REGISTER, 0, 1);
  bank_set_faults (fixture->bank, FALSE, 600, 0);

  start = g_get_monotonic_time ();
  g_assert_false (
      kankyo_connection_read (fixture->client, 1, KANKYO_AREA_HOLDING_REGISTER, 0, 1, &value, &error));
  g_assert_error (error, KANKYO_DRIVER_ERROR, KANKYO_DRIVER_ERROR_TIMEOUT);
  assert_message_contains (error, "unit 1: reading 1 holding register at 0: no reply within 150 ms");
  g_assert_cmpint (elapsed_ms (start), >=, 140);
  g_assert_cmpint (elapsed_ms (start), <, 600);
  g_clear_error (&error);

  /* The socket is gone, so the late reply cannot answer the next request;
   * that request fails at once and the engine reconnects. */
  g_assert_false (kankyo_connection_is_connected (fixture->client));
  start = g_get_monotonic_time ();
  g_assert_false (
      kankyo_connection_read (fixture->client, 1, KANKYO_AREA_HOLDING_REGISTER, 0, 1, &value, &error));
  g_assert_error (error, KANKYO_DRIVER_ERROR, KANKYO_DRIVER_ERROR_DISCONNECTED);
  g_assert_cmpint (elapsed_ms (start), <, 50);
  g_clear_error (&error);

  bank_set_faults (fixture->bank, FALSE, 0, 0);
  bank_set_register (fixture->bank, KANKYO_AREA_HOLDING_REGISTER, 0, 2);
  /* Let the server finish the delayed reply it owes the old socket. */
  g_usleep (600 * G_TIME_SPAN_MILLISECOND);

  kankyo_connection_connect (fixture->client, &error);
  g_assert_no_error (error);
  kankyo_connection_read (fixture->client, 1, KANKYO_AREA_HOLDING_REGISTER, 0, 1, &value, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (value, ==, 2);
}

static void
test_tcp_drop_fault (TcpFixture *fixture, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  guint16 value = 0;
  gboolean connected = FALSE;
  gint64 start;

  bank_set_register (fixture->bank, KANKYO_AREA_HOLDING_REGISTER, 5, 55);
  bank_set_faults (fixture->bank, TRUE, 0, 0);

  g_assert_false (
      kankyo_connection_read (fixture->client, 1, KANKYO_AREA_HOLDING_REGISTER, 5, 1, &value, &error));
  g_assert_error (error, KANKYO_DRIVER_ERROR, KANKYO_DRIVER_ERROR_DISCONNECTED);
  assert_message_contains (error, "connection was lost");
  g_assert_false (kankyo_connection_is_connected (fixture->client));
  g_clear_error (&error);

  /* While dropped, the port refuses connections. */
  g_assert_false (kankyo_connection_connect (fixture->client, &error));
  g_assert_error (error, KANKYO_DRIVER_ERROR, KANKYO_DRIVER_ERROR_CONNECT);
  assert_message_contains (error, "could not connect");
  g_clear_error (&error);
  g_usleep (300 * G_TIME_SPAN_MILLISECOND);
  g_assert_false (kankyo_connection_connect (fixture->client, &error));
  g_assert_error (error, KANKYO_DRIVER_ERROR, KANKYO_DRIVER_ERROR_CONNECT);
  g_clear_error (&error);

  /* Cleared, the server listens again on the same port. */
  bank_set_faults (fixture->bank, FALSE, 0, 0);
  start = g_get_monotonic_time ();
  while (!connected && elapsed_ms (start) < 2000)
    {
      connected = kankyo_connection_connect (fixture->client, NULL);
      if (!connected)
        g_usleep (20 * G_TIME_SPAN_MILLISECOND);
    }
  g_assert_true (connected);
  g_assert_cmpuint (kankyo_server_get_port (fixture->server), ==, fixture->port);
  kankyo_connection_read (fixture->client, 1, KANKYO_AREA_HOLDING_REGISTER, 5, 1, &value, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (value, ==, 55);
}

static void
test_tcp_not_connected (void)
{
  KankyoEndpoint endpoint = tcp_endpoint (free_port (), 200);
  g_autoptr (KankyoConnection) client = new_client (&endpoint);
  g_autoptr (GError) error = NULL;
  guint16 value;

  g_assert_false (kankyo_connection_is_connected (client));
  g_assert_false (kankyo_connection_read (client, 1, KANKYO_AREA_HOLDING_REGISTER, 0, 1, &value, &error));
  g_assert_error (error, KANKYO_DRIVER_ERROR, KANKYO_DRIVER_ERROR_DISCONNECTED);
  assert_message_contains (error, "not connected");
  g_clear_error (&error);

  g_assert_false (kankyo_connection_connect (client, &error));
  g_assert_error (error, KANKYO_DRIVER_ERROR, KANKYO_DRIVER_ERROR_CONNECT);
  assert_message_contains (error, "could not connect");
  g_assert_false (kankyo_connection_is_connected (client));
}

static void
test_tcp_host_name (void)
{
  g_autoptr (KankyoRegisterBank) bank = kankyo_register_bank_new (0, 0, 4, 0);
  g_autoptr (KankyoServer) server = NULL;
  g_autoptr (KankyoConnection) client = NULL;
  g_autoptr (GError) error = NULL;
  KankyoEndpoint endpoint = tcp_endpoint (0, 1000);
  guint16 value = 0;

  /* Not an IPv4 literal: both ends resolve the name. */
  endpoint.host = (char *) "localhost";
  server = start_server (&endpoint, 1, bank);
  endpoint.port = kankyo_server_get_port (server);
  g_assert_cmpuint (endpoint.port, !=, 0);
  bank_set_register (bank, KANKYO_AREA_HOLDING_REGISTER, 3, 333);

  client = new_client (&endpoint);
  kankyo_connection_connect (client, &error);
  g_assert_no_error (error);
  kankyo_connection_read (client, 1, KANKYO_AREA_HOLDING_REGISTER, 3, 1, &value, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (value, ==, 333);

  /* A bank without input registers has no address to offer there. */
  g_assert_false (kankyo_connection_read (client, 1, KANKYO_AREA_INPUT_REGISTER, 0, 1, &value, &error));
  g_assert_error (error, KANKYO_DRIVER_ERROR, KANKYO_DRIVER_ERROR_EXCEPTION);
  assert_message_contains (error, "tcp://localhost:");
  assert_message_contains (error, "exception 2 (illegal data address)");
}

typedef struct
{
  guint16 port;
  guint index;
  guint failures;
  char *first_failure;
} Worker;

#define WORKER_ROUNDS 100
#define WORKER_SPAN 8

static void
worker_fail (Worker *worker, const char *what)
{
  if (worker->failures++ == 0)
    worker->first_failure = g_strdup (what);
}

static gpointer
worker_run (gpointer data)
{
  Worker *worker = data;
  KankyoEndpoint endpoint = tcp_endpoint (worker->port, 2000);
  g_autoptr (KankyoConnection) client = new_client (&endpoint);
  g_autoptr (GError) error = NULL;
  guint16 base = (guint16) (worker->index * WORKER_SPAN);

  if (!kankyo_connection_connect (client, &error))
    {
      worker_fail (worker, error->message);
      return NULL;
    }

  for (guint round = 0; round < WORKER_ROUNDS; round++)
    {
      guint16 values[4], back[4];

      for (guint j = 0; j < 4; j++)
        values[j] = (guint16) (worker->index << 12 | round << 2 | j);
      if (!kankyo_connection_write (client, 1, KANKYO_WRITE_MULTIPLE_REGISTERS, base, 4, values, &error)
          || !kankyo_connection_read (client, 1, KANKYO_AREA_HOLDING_REGISTER, base, 4, back, &error))
        {
          worker_fail (worker, error->message);
          g_clear_error (&error);
          if (!kankyo_connection_connect (client, &error))
            return NULL;
          continue;
        }
      if (memcmp (values, back, sizeof values) != 0)
        worker_fail (worker, "read back other values than written");
    }
  return NULL;
}

static void
test_tcp_many_clients (TcpFixture *fixture, gconstpointer user_data)
{
  Worker workers[4];
  GThread *threads[4];

  /* The fixture's client stays connected and idle meanwhile. */
  for (guint i = 0; i < G_N_ELEMENTS (workers); i++)
    {
      workers[i] = (Worker){ fixture->port, i, 0, NULL };
      threads[i] = g_thread_new ("worker", worker_run, &workers[i]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (workers); i++)
    {
      g_thread_join (threads[i]);
      if (workers[i].failures > 0)
        g_test_message ("worker %u: %u failures, first: %s", i, workers[i].failures,
                        workers[i].first_failure);
      g_assert_cmpuint (workers[i].failures, ==, 0);
      for (guint j = 0; j < 4; j++)
        g_assert_cmpuint (
            bank_get_register (fixture->bank, KANKYO_AREA_HOLDING_REGISTER, i * WORKER_SPAN + j), ==,
            i << 12 | (WORKER_ROUNDS - 1) << 2 | j);
      g_free (workers[i].first_failure);
    }
  g_assert_cmpuint (bank_write_serial (fixture->bank), ==, 4 * WORKER_ROUNDS);
  g_assert_true (kankyo_connection_is_connected (fixture->client));
}

static void
test_tcp_stop (TcpFixture *fixture, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  guint16 value;
  gint64 start;

  /* stop must not wait for an idle client to say something. */
  start = g_get_monotonic_time ();
  kankyo_server_stop (fixture->server);
  g_assert_cmpint (elapsed_ms (start), <, 500);

  g_assert_false (
      kankyo_connection_read (fixture->client, 1, KANKYO_AREA_HOLDING_REGISTER, 0, 1, &value, &error));
  g_assert_error (error, KANKYO_DRIVER_ERROR, KANKYO_DRIVER_ERROR_DISCONNECTED);
  g_clear_error (&error);
  g_assert_false (kankyo_connection_connect (fixture->client, &error));
  g_assert_error (error, KANKYO_DRIVER_ERROR, KANKYO_DRIVER_ERROR_CONNECT);
}

/* ---- raw sockets: requests and replies libmodbus would never build ---- */

static GSocketConnection *
raw_connect (guint16 port)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GError) error = NULL;
  GSocketConnection *connection;

  connection = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, &error);
  g_assert_no_error (error);
  g_socket_set_timeout (g_socket_connection_get_socket (connection), 5);
  return connection;
}

static void
raw_send (GSocketConnection *connection, guint16 tid, const guint8 *pdu, gsize pdu_length)
{
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (connection));
  g_autoptr (GError) error = NULL;
  guint8 frame[7 + 300];

  g_assert_cmpuint (pdu_length, <=, 300);
  frame[0] = tid >> 8;
  frame[1] = tid & 0xFF;
  frame[2] = 0;
  frame[3] = 0;
  frame[4] = (pdu_length + 1) >> 8;
  frame[5] = (pdu_length + 1) & 0xFF;
  frame[6] = 1;
  memcpy (frame + 7, pdu, pdu_length);
  g_output_stream_write_all (out, frame, 7 + pdu_length, NULL, NULL, &error);
  g_assert_no_error (error);
}

/* Reads one MBAP frame; returns its PDU, or NULL at end of stream. */
static GBytes *
raw_receive (GSocketConnection *connection, guint16 *ret_tid)
{
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (connection));
  g_autoptr (GError) error = NULL;
  guint8 header[7];
  guint8 pdu[260];
  gsize length, got;

  if (!g_input_stream_read_all (in, header, sizeof header, &got, NULL, &error) || got < sizeof header)
    {
      g_test_message ("raw read ended after %zu bytes: %s", got,
                      error != NULL ? error->message : "end of stream");
      return NULL;
    }
  g_assert_cmpuint (header[2] << 8 | header[3], ==, 0);
  length = (gsize) (header[4] << 8 | header[5]);
  g_assert_cmpuint (length, >=, 2);
  g_assert_cmpuint (length, <=, 254);
  g_input_stream_read_all (in, pdu, length - 1, &got, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (got, ==, length - 1);
  if (ret_tid != NULL)
    *ret_tid = (guint16) (header[0] << 8 | header[1]);
  return g_bytes_new (pdu, length - 1);
}

static void
raw_expect (GSocketConnection *connection,
            guint16 tid,
            const guint8 *request,
            gsize request_length,
            const guint8 *reply,
            gsize reply_length)
{
  g_autoptr (GBytes) got = NULL;
  guint16 got_tid = 0;
  gsize got_length;
  const guint8 *got_data;

  raw_send (connection, tid, request, request_length);
  got = raw_receive (connection, &got_tid);
  g_assert_nonnull (got);
  g_assert_cmpuint (got_tid, ==, tid);
  got_data = g_bytes_get_data (got, &got_length);
  g_assert_cmpmem (got_data, got_length, reply, reply_length);
}

#define RAW_EXPECT(conn, tid, req, rsp) raw_expect ((conn), (tid), (req), sizeof (req), (rsp), sizeof (rsp))

static void
test_tcp_malformed_requests (TcpFixture *fixture, gconstpointer user_data)
{
  g_autoptr (GSocketConnection) raw = raw_connect (fixture->port);
  g_autoptr (GError) error = NULL;
  guint16 value = 0;

  bank_set_register (fixture->bank, KANKYO_AREA_HOLDING_REGISTER, 0, 0x1234);
  bank_set_register (fixture->bank, KANKYO_AREA_HOLDING_REGISTER, 1, 0x5678);

  {
    /* Read device identification (43/14): a function libmodbus cannot
     * frame; the rest of the PDU must not be taken for the next request. */
    const guint8 req[] = { 0x2B, 0x0E, 0x01, 0x00 };
    const guint8 rsp[] = { 0xAB, 0x01 };
    RAW_EXPECT (raw, 1, req, rsp);
  }
  {
    const guint8 req[] = { 0x07 };
    const guint8 rsp[] = { 0x87, 0x01 };
    RAW_EXPECT (raw, 2, req, rsp);
  }
  {
    const guint8 req[] = { 0x03, 0x00, 0x00, 0x00, 0x00 };
    const guint8 rsp[] = { 0x83, 0x03 };
    RAW_EXPECT (raw, 3, req, rsp);
  }
  {
    const guint8 req[] = { 0x03, 0x00, 0x00, 0x00, 0x7E };
    const guint8 rsp[] = { 0x83, 0x03 };
    RAW_EXPECT (raw, 4, req, rsp);
  }
  {
    const guint8 req[] = { 0x03, 0x00, 0xFA, 0x00, 0x0A };
    const guint8 rsp[] = { 0x83, 0x02 };
    RAW_EXPECT (raw, 5, req, rsp);
  }
  {
    const guint8 req[] = { 0x01, 0x00, 0x00, 0x07, 0xD1 };
    const guint8 rsp[] = { 0x81, 0x03 };
    RAW_EXPECT (raw, 6, req, rsp);
  }
  {
    /* Byte count 3 for 2 registers (CVE-2019-14462 territory). */
    const guint8 req[] = { 0x10, 0x00, 0x00, 0x00, 0x02, 0x03, 0x11, 0x22, 0x33 };
    const guint8 rsp[] = { 0x90, 0x03 };
    RAW_EXPECT (raw, 7, req, rsp);
  }
  {
    /* Byte count 1 for 10 coils. */
    const guint8 req[] = { 0x0F, 0x00, 0x00, 0x00, 0x0A, 0x01, 0xFF };
    const guint8 rsp[] = { 0x8F, 0x03 };
    RAW_EXPECT (raw, 8, req, rsp);
  }
  {
    /* No registers at all (CVE-2019-14463 territory). */
    const guint8 req[] = { 0x10, 0x00, 0x00, 0x00, 0x00, 0x00 };
    const guint8 rsp[] = { 0x90, 0x03 };
    RAW_EXPECT (raw, 9, req, rsp);
  }
  {
    const guint8 req[] = { 0x05, 0x00, 0x00, 0x12, 0x34 };
    const guint8 rsp[] = { 0x85, 0x03 };
    RAW_EXPECT (raw, 10, req, rsp);
  }
  {
    const guint8 req[] = { 0x10, 0x00, 0xFF, 0x00, 0x02, 0x04, 0, 1, 0, 2 };
    const guint8 rsp[] = { 0x90, 0x02 };
    RAW_EXPECT (raw, 11, req, rsp);
  }
  {
    /* Two bytes more than function 3 takes, covered by the MBAP length. */
    const guint8 req[] = { 0x03, 0x00, 0x00, 0x00, 0x02, 0xAA, 0xBB };
    const guint8 rsp[] = { 0x83, 0x03 };
    RAW_EXPECT (raw, 12, req, rsp);
  }
  g_assert_cmpuint (bank_write_serial (fixture->bank), ==, 0);
  g_assert_cmpuint (bank_get_register (fixture->bank, KANKYO_AREA_HOLDING_REGISTER, 0), ==, 0x1234);
  g_assert_cmpuint (bank_get_bit (fixture->bank, KANKYO_AREA_COIL, 0), ==, 0);

  /* After all that, the same stream still carries well-formed requests. */
  {
    const guint8 req[] = { 0x03, 0x00, 0x00, 0x00, 0x02 };
    const guint8 rsp[] = { 0x03, 0x04, 0x12, 0x34, 0x56, 0x78 };
    RAW_EXPECT (raw, 13, req, rsp);
  }
  {
    const guint8 req[] = { 0x06, 0x00, 0x01, 0xAB, 0xCD };
    const guint8 rsp[] = { 0x06, 0x00, 0x01, 0xAB, 0xCD };
    RAW_EXPECT (raw, 14, req, rsp);
  }
  g_assert_cmpuint (bank_get_register (fixture->bank, KANKYO_AREA_HOLDING_REGISTER, 1), ==, 0xABCD);
  g_assert_cmpuint (bank_write_serial (fixture->bank), ==, 1);

  /* Streams that cannot be framed are closed; the server keeps serving. */
  {
    g_autoptr (GSocketConnection) bad = raw_connect (fixture->port);
    GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (bad));
    const guint8 wrong_protocol[] = { 0, 1, 0, 7, 0, 6, 1, 0x03, 0, 0, 0, 1 };

    g_output_stream_write_all (out, wrong_protocol, sizeof wrong_protocol, NULL, NULL, &error);
    g_assert_no_error (error);
    g_assert_null (raw_receive (bad, NULL));
  }
  {
    g_autoptr (GSocketConnection) bad = raw_connect (fixture->port);
    GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (bad));
    const guint8 short_length[] = { 0, 1, 0, 0, 0, 3, 1, 0x03, 0, 0, 0, 1 };

    g_output_stream_write_all (out, short_length, sizeof short_length, NULL, NULL, &error);
    g_assert_no_error (error);
    g_assert_null (raw_receive (bad, NULL));
  }
  {
    g_autoptr (GSocketConnection) bad = raw_connect (fixture->port);
    GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (bad));

    g_output_stream_write_all (out, "GET / HTTP/1.0\r\n\r\n", 18, NULL, NULL, &error);
    g_assert_no_error (error);
    g_assert_null (raw_receive (bad, NULL));
  }
  {
    /* Half a request, then gone. */
    g_autoptr (GSocketConnection) bad = raw_connect (fixture->port);
    GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (bad));
    const guint8 half[] = { 0, 1, 0, 0, 0, 6, 1, 0x03 };

    g_output_stream_write_all (out, half, sizeof half, NULL, NULL, &error);
    g_assert_no_error (error);
    g_io_stream_close (G_IO_STREAM (bad), NULL, NULL);
  }

  kankyo_connection_read (fixture->client, 1, KANKYO_AREA_HOLDING_REGISTER, 1, 1, &value, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (value, ==, 0xABCD);
  {
    const guint8 req[] = { 0x03, 0x00, 0x00, 0x00, 0x01 };
    const guint8 rsp[] = { 0x03, 0x02, 0x12, 0x34 };
    RAW_EXPECT (raw, 15, req, rsp);
  }
}

/* A raw server that answers one request with a reply broken in a chosen
 * way. Broken replies carry poison (0xDEAD, 0xBEEF) that the client must
 * never hand out as data. */
typedef enum
{
  BAD_REPLY_BYTE_COUNT,     /* 2 registers asked, byte count says 1 */
  BAD_REPLY_HUGE_BIT_COUNT, /* 1 coil asked, 250 bytes of bits sent */
  BAD_REPLY_TRANSACTION_ID,
  BAD_REPLY_PROTOCOL_ID,        /* 1: libmodbus 3.1.6 only refuses two non-zero bytes */
  BAD_REPLY_LENGTH_LONGER,      /* an MBAP length 10 more than the frame */
  BAD_REPLY_LENGTH_SHORTER,     /* an MBAP length of 3 for a 6-byte PDU */
  BAD_REPLY_UNIT_ID,            /* unit 9 answers a request to unit 1 */
  BAD_REPLY_FUNCTION_CODE,      /* function 4 answers function 3 */
  BAD_REPLY_EXCEPTION_TO_OTHER, /* an exception to function 4 answers function 3 */
  BAD_REPLY_ECHO_VALUE,         /* a function 6 reply echoes another value */
  BAD_REPLY_ECHO_ADDRESS,       /* a function 16 reply echoes another address */
  BAD_REPLY_EXCEPTION_CODE,     /* an exception code Modbus does not define */
  BAD_REPLY_HANG_UP,
  BAD_REPLY_SILENCE,
} BadReply;

/* The client's request, the broken reply it gets and the error that must
 * come of it. */
typedef struct
{
  const char *name;
  BadReply reply;
  gboolean is_write;
  int area_or_function;
  guint16 count;
  KankyoDriverError code;
  const char *reason;
} BadReplyCase;

static const BadReplyCase bad_reply_cases[] = {
  { "byte-count", BAD_REPLY_BYTE_COUNT, FALSE, KANKYO_AREA_HOLDING_REGISTER, 2, KANKYO_DRIVER_ERROR_BAD_DATA,
    "reading 2 holding registers at 0: the reply has byte count 2, expected 4" },
  { "huge-bit-count", BAD_REPLY_HUGE_BIT_COUNT, FALSE, KANKYO_AREA_COIL, 1, KANKYO_DRIVER_ERROR_BAD_DATA,
    "the reply has byte count 250, expected 1" },
  { "transaction-id", BAD_REPLY_TRANSACTION_ID, FALSE, KANKYO_AREA_HOLDING_REGISTER, 2,
    KANKYO_DRIVER_ERROR_BAD_DATA, "the reply has transaction id 2, expected 1" },
  { "protocol-id", BAD_REPLY_PROTOCOL_ID, FALSE, KANKYO_AREA_HOLDING_REGISTER, 2,
    KANKYO_DRIVER_ERROR_BAD_DATA, "the reply has protocol id 1, expected 0" },
  { "mbap-length-longer", BAD_REPLY_LENGTH_LONGER, FALSE, KANKYO_AREA_HOLDING_REGISTER, 2,
    KANKYO_DRIVER_ERROR_BAD_DATA, "the reply has MBAP length 17, expected 7" },
  { "mbap-length-shorter", BAD_REPLY_LENGTH_SHORTER, FALSE, KANKYO_AREA_HOLDING_REGISTER, 2,
    KANKYO_DRIVER_ERROR_BAD_DATA, "the reply has MBAP length 3, expected 7" },
  { "unit-id", BAD_REPLY_UNIT_ID, FALSE, KANKYO_AREA_HOLDING_REGISTER, 2, KANKYO_DRIVER_ERROR_BAD_DATA,
    "the reply has unit id 9, expected 1" },
  { "function-code", BAD_REPLY_FUNCTION_CODE, FALSE, KANKYO_AREA_HOLDING_REGISTER, 2,
    KANKYO_DRIVER_ERROR_BAD_DATA, "the reply has function code 4, expected 3" },
  { "exception-to-other-function", BAD_REPLY_EXCEPTION_TO_OTHER, FALSE, KANKYO_AREA_HOLDING_REGISTER, 2,
    KANKYO_DRIVER_ERROR_BAD_DATA, "the reply has function code 132, expected 3" },
  { "write-echo-value", BAD_REPLY_ECHO_VALUE, TRUE, KANKYO_WRITE_SINGLE_REGISTER, 1,
    KANKYO_DRIVER_ERROR_BAD_DATA,
    "writing 1 holding register at 0 (function 6): "
    "the reply echoes address 0 and value 57005, expected 0 and 4660" },
  { "write-echo-address", BAD_REPLY_ECHO_ADDRESS, TRUE, KANKYO_WRITE_MULTIPLE_REGISTERS, 2,
    KANKYO_DRIVER_ERROR_BAD_DATA, "the reply echoes address 1 and quantity 2, expected 0 and 2" },
  { "exception-code", BAD_REPLY_EXCEPTION_CODE, FALSE, KANKYO_AREA_HOLDING_REGISTER, 2,
    KANKYO_DRIVER_ERROR_BAD_DATA, "invalid exception code 12" },
  { "hang-up", BAD_REPLY_HANG_UP, FALSE, KANKYO_AREA_HOLDING_REGISTER, 2, KANKYO_DRIVER_ERROR_DISCONNECTED,
    "connection was lost" },
  { "silence", BAD_REPLY_SILENCE, FALSE, KANKYO_AREA_HOLDING_REGISTER, 2, KANKYO_DRIVER_ERROR_TIMEOUT,
    "no reply within 300 ms" },
};

typedef struct
{
  GSocketListener *listener;
  BadReply reply;
} BadServer;

static gpointer
bad_server_run (gpointer data)
{
  BadServer *server = data;
  g_autoptr (GSocketConnection) connection = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) request = NULL;
  GOutputStream *out;
  GInputStream *in;
  guint8 frame[7];
  guint8 pdu[260];
  gsize pdu_length = 0;
  guint16 tid = 0;
  guint protocol = 0, unit = 1, mbap_length;
  guint8 sink[16];

  connection = g_socket_listener_accept (server->listener, NULL, NULL, &error);
  g_assert_no_error (error);
  g_socket_set_timeout (g_socket_connection_get_socket (connection), 5);
  out = g_io_stream_get_output_stream (G_IO_STREAM (connection));
  in = g_io_stream_get_input_stream (G_IO_STREAM (connection));
  request = raw_receive (connection, &tid);
  g_assert_nonnull (request);

  switch (server->reply)
    {
      case BAD_REPLY_BYTE_COUNT:
        pdu_length = 4;
        memcpy (pdu, (guint8[]){ 0x03, 0x02, 0xDE, 0xAD }, pdu_length);
        break;
      case BAD_REPLY_HUGE_BIT_COUNT:
        pdu[0] = 0x01;
        pdu[1] = 250;
        memset (pdu + 2, 0xFF, 250);
        pdu_length = 252;
        break;
      case BAD_REPLY_TRANSACTION_ID:
      case BAD_REPLY_PROTOCOL_ID:
      case BAD_REPLY_LENGTH_LONGER:
      case BAD_REPLY_LENGTH_SHORTER:
      case BAD_REPLY_UNIT_ID:
      case BAD_REPLY_FUNCTION_CODE:
        pdu_length = 6;
        memcpy (pdu, (guint8[]){ 0x03, 0x04, 0xDE, 0xAD, 0xBE, 0xEF }, pdu_length);
        break;
      case BAD_REPLY_EXCEPTION_TO_OTHER:
        pdu_length = 2;
        memcpy (pdu, (guint8[]){ 0x84, 0x02 }, pdu_length);
        break;
      case BAD_REPLY_ECHO_VALUE:
        pdu_length = 5;
        memcpy (pdu, (guint8[]){ 0x06, 0x00, 0x00, 0xDE, 0xAD }, pdu_length);
        break;
      case BAD_REPLY_ECHO_ADDRESS:
        pdu_length = 5;
        memcpy (pdu, (guint8[]){ 0x10, 0x00, 0x01, 0x00, 0x02 }, pdu_length);
        break;
      case BAD_REPLY_EXCEPTION_CODE:
        pdu_length = 2;
        memcpy (pdu, (guint8[]){ 0x83, 0x0C }, pdu_length);
        break;
      case BAD_REPLY_HANG_UP:
        g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
        return NULL;
      case BAD_REPLY_SILENCE:
      default:
        break;
    }

  mbap_length = pdu_length + 1;
  if (server->reply == BAD_REPLY_TRANSACTION_ID)
    tid++;
  else if (server->reply == BAD_REPLY_PROTOCOL_ID)
    protocol = 1;
  else if (server->reply == BAD_REPLY_LENGTH_LONGER)
    mbap_length += 10;
  else if (server->reply == BAD_REPLY_LENGTH_SHORTER)
    mbap_length = 3;
  else if (server->reply == BAD_REPLY_UNIT_ID)
    unit = 9;
  else if (server->reply == BAD_REPLY_FUNCTION_CODE)
    pdu[0] = 0x04;

  if (pdu_length > 0)
    {
      frame[0] = tid >> 8;
      frame[1] = tid & 0xFF;
      frame[2] = protocol >> 8;
      frame[3] = protocol & 0xFF;
      frame[4] = mbap_length >> 8;
      frame[5] = mbap_length & 0xFF;
      frame[6] = unit;
      g_output_stream_write_all (out, frame, sizeof frame, NULL, NULL, &error);
      g_assert_no_error (error);
      g_output_stream_write_all (out, pdu, pdu_length, NULL, NULL, &error);
      g_assert_no_error (error);
    }

  /* Hold the line until the client gives up on it. */
  while (g_input_stream_read (in, sink, sizeof sink, NULL, NULL) > 0)
    ;
  return NULL;
}

static void
test_tcp_bad_reply (gconstpointer data)
{
  const BadReplyCase *test = data;
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr (GSocketAddress) bound = NULL;
  g_autoptr (KankyoConnection) client = NULL;
  g_autoptr (GError) error = NULL;
  BadServer server = { g_socket_listener_new (), test->reply };
  guint16 values[8] = { 0 };
  GThread *thread;
  gboolean ok;

  g_socket_listener_add_address (server.listener, address, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL,
                                 &bound, &error);
  g_assert_no_error (error);
  client = connect_tcp_client (g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)), 300);
  thread = g_thread_new ("bad-server", bad_server_run, &server);

  if (test->is_write)
    {
      const guint16 written[] = { 0x1234, 0x5678 };

      ok = kankyo_connection_write (client, 1, test->area_or_function, 0, test->count, written, &error);
    }
  else
    ok = kankyo_connection_read (client, 1, test->area_or_function, 0, test->count, values, &error);
  g_assert_false (ok);
  g_assert_error (error, KANKYO_DRIVER_ERROR, (gint) test->code);
  assert_message_contains (error, test->reason);
  /* Nothing of the broken reply was taken for data... */
  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    g_assert_cmpuint (values[i], ==, 0);
  /* ...and whatever else arrives on that socket cannot answer a later
   * request: it is closed. */
  g_assert_false (kankyo_connection_is_connected (client));

  g_thread_join (thread);
  g_socket_listener_close (server.listener);
  g_object_unref (server.listener);
}

static void
test_endpoint_invalid (void)
{
  g_autoptr (KankyoRegisterBank) bank = kankyo_register_bank_new (1, 1, 1, 1);
  KankyoEndpoint endpoint = { 0 };
  g_autoptr (GError) error = NULL;

  endpoint.transport = KANKYO_TRANSPORT_RTU;
  endpoint.device = (char *) "/dev/null";
  endpoint.baud = 9600;
  endpoint.parity = 'X';
  endpoint.data_bits = 8;
  endpoint.stop_bits = 1;
  g_assert_null (kankyo_driver_create_connection (driver, &endpoint, &error));
  g_assert_error (error, KANKYO_DRIVER_ERROR, KANKYO_DRIVER_ERROR_INVALID);
  assert_message_contains (error, "parity X");
  g_clear_error (&error);

  g_assert_null (kankyo_driver_create_server (driver, &endpoint, 1, bank, &error));
  g_assert_error (error, KANKYO_DRIVER_ERROR, KANKYO_DRIVER_ERROR_INVALID);
  g_clear_error (&error);

  endpoint.transport = KANKYO_TRANSPORT_TCP;
  endpoint.host = NULL;
  g_assert_null (kankyo_driver_create_connection (driver, &endpoint, &error));
  g_assert_error (error, KANKYO_DRIVER_ERROR, KANKYO_DRIVER_ERROR_INVALID);
}

/* ---- RTU over a socat pseudo-terminal pair ---- */

static KankyoEndpoint
rtu_endpoint (const char *device, guint timeout_ms)
{
  KankyoEndpoint endpoint = { 0 };

  endpoint.transport = KANKYO_TRANSPORT_RTU;
  endpoint.device = (char *) device;
  endpoint.baud = 115200;
  endpoint.parity = 'N';
  endpoint.data_bits = 8;
  endpoint.stop_bits = 1;
  endpoint.response_timeout_ms = timeout_ms;
  return endpoint;
}

/* Runs in socat before exec: a test that dies on an assertion takes
 * socat with it instead of leaving it to hold the ptys. */
static void
die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

/* Two pseudo-terminals joined by socat: what is written to one end comes
 * out of the other. */
typedef struct
{
  char *dir;
  char *link_a;
  char *link_b;
  GPid pid;
} PtyPair;

/* FALSE, with the test skipped, when socat is not installed. */
static gboolean
pty_pair_start (PtyPair *pair)
{
  g_autofree char *socat = g_find_program_in_path ("socat");
  g_autoptr (GError) error = NULL;
  g_autofree char *arg_a = NULL;
  g_autofree char *arg_b = NULL;
  gint64 start;

  if (socat == NULL)
    {
      g_test_skip ("socat is not installed");
      return FALSE;
    }

  pair->dir = g_dir_make_tmp ("kankyo-rtu-XXXXXX", &error);
  g_assert_no_error (error);
  pair->link_a = g_build_filename (pair->dir, "a", NULL);
  pair->link_b = g_build_filename (pair->dir, "b", NULL);
  arg_a = g_strdup_printf ("pty,raw,echo=0,link=%s", pair->link_a);
  arg_b = g_strdup_printf ("pty,raw,echo=0,link=%s", pair->link_b);
  {
    char *argv[] = { socat, (char *) "-d", (char *) "-d", arg_a, arg_b, NULL };

    g_spawn_async (NULL, argv, NULL,
                   G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                   die_with_parent, NULL, &pair->pid, &error);
    g_assert_no_error (error);
  }
  start = g_get_monotonic_time ();
  while (!(g_file_test (pair->link_a, G_FILE_TEST_EXISTS) && g_file_test (pair->link_b, G_FILE_TEST_EXISTS))
         && elapsed_ms (start) < 5000)
    g_usleep (10 * G_TIME_SPAN_MILLISECOND);
  g_assert_true (g_file_test (pair->link_a, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (pair->link_b, G_FILE_TEST_EXISTS));
  return TRUE;
}

static void
pty_pair_stop (PtyPair *pair)
{
  int status;

  kill (pair->pid, SIGTERM);
  waitpid (pair->pid, &status, 0);
  g_spawn_close_pid (pair->pid);
  g_unlink (pair->link_a);
  g_unlink (pair->link_b);
  g_rmdir (pair->dir);
  g_clear_pointer (&pair->link_a, g_free);
  g_clear_pointer (&pair->link_b, g_free);
  g_clear_pointer (&pair->dir, g_free);
}

static void
test_rtu_read_write (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (KankyoRegisterBank) bank = NULL;
  g_autoptr (KankyoServer) server = NULL;
  g_autoptr (KankyoConnection) client = NULL;
  KankyoEndpoint server_endpoint, client_endpoint;
  PtyPair pair = { 0 };
  guint16 values[16];
  guint16 one;
  gint64 start;

  if (!pty_pair_start (&pair))
    return;

  bank = kankyo_register_bank_new (64, 64, 64, 64);
  for (guint i = 0; i < 64; i++)
    {
      bank_set_register (bank, KANKYO_AREA_HOLDING_REGISTER, i, 100 + i);
      bank_set_register (bank, KANKYO_AREA_INPUT_REGISTER, i, 200 + i);
      bank_set_bit (bank, KANKYO_AREA_DISCRETE_INPUT, i, i % 2);
    }
  server_endpoint = rtu_endpoint (pair.link_a, 0);
  server = start_server (&server_endpoint, 7, bank);
  g_assert_cmpuint (kankyo_server_get_port (server), ==, 0);

  client_endpoint = rtu_endpoint (pair.link_b, 300);
  client = new_client (&client_endpoint);
  kankyo_connection_connect (client, &error);
  g_assert_no_error (error);

  kankyo_connection_read (client, 7, KANKYO_AREA_HOLDING_REGISTER, 2, 10, values, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < 10; i++)
    g_assert_cmpuint (values[i], ==, 102 + i);

  kankyo_connection_read (client, 7, KANKYO_AREA_INPUT_REGISTER, 60, 4, values, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < 4; i++)
    g_assert_cmpuint (values[i], ==, 260 + i);

  kankyo_connection_read (client, 7, KANKYO_AREA_DISCRETE_INPUT, 1, 5, values, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < 5; i++)
    g_assert_cmpuint (values[i], ==, (1 + i) % 2);

  for (guint i = 0; i < 3; i++)
    values[i] = (guint16) (0xA000 + i);
  kankyo_connection_write (client, 7, KANKYO_WRITE_MULTIPLE_REGISTERS, 20, 3, values, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < 3; i++)
    g_assert_cmpuint (bank_get_register (bank, KANKYO_AREA_HOLDING_REGISTER, 20 + i), ==, 0xA000 + i);

  one = 0x0102;
  kankyo_connection_write (client, 7, KANKYO_WRITE_SINGLE_REGISTER, 30, 1, &one, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (bank_get_register (bank, KANKYO_AREA_HOLDING_REGISTER, 30), ==, 0x0102);

  one = 1;
  kankyo_connection_write (client, 7, KANKYO_WRITE_SINGLE_COIL, 3, 1, &one, &error);
  g_assert_no_error (error);
  values[0] = 1;
  values[1] = 0;
  values[2] = 1;
  kankyo_connection_write (client, 7, KANKYO_WRITE_MULTIPLE_COILS, 10, 3, values, &error);
  g_assert_no_error (error);
  kankyo_connection_read (client, 7, KANKYO_AREA_COIL, 0, 16, values, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < 16; i++)
    g_assert_cmpuint (values[i], ==, i == 3 || i == 10 || i == 12);
  g_assert_cmpuint (bank_write_serial (bank), ==, 4);

  /* Nobody answers as unit 8 on this line. */
  start = g_get_monotonic_time ();
  g_assert_false (kankyo_connection_read (client, 8, KANKYO_AREA_HOLDING_REGISTER, 0, 1, values, &error));
  g_assert_error (error, KANKYO_DRIVER_ERROR, KANKYO_DRIVER_ERROR_TIMEOUT);
  assert_message_contains (error, "unit 8: reading 1 holding register at 0: no reply within 300 ms");
  g_assert_cmpint (elapsed_ms (start), >=, 290);
  g_clear_error (&error);
  g_assert_true (kankyo_connection_is_connected (client));

  /* ...and the request after it, to unit 7, is not taken for unit 8's
   * missing reply. */
  kankyo_connection_read (client, 7, KANKYO_AREA_HOLDING_REGISTER, 30, 1, values, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (values[0], ==, 0x0102);

  g_assert_false (kankyo_connection_read (client, 0, KANKYO_AREA_HOLDING_REGISTER, 0, 1, values, &error));
  g_assert_error (error, KANKYO_DRIVER_ERROR, KANKYO_DRIVER_ERROR_INVALID);
  g_clear_error (&error);

  bank_set_faults (bank, FALSE, 0, 3);
  g_assert_false (kankyo_connection_read (client, 7, KANKYO_AREA_HOLDING_REGISTER, 0, 1, values, &error));
  g_assert_error (error, KANKYO_DRIVER_ERROR, KANKYO_DRIVER_ERROR_EXCEPTION);
  assert_message_contains (error, "exception 3 (illegal data value)");
  g_clear_error (&error);

  bank_set_faults (bank, FALSE, 0, 0);
  g_assert_false (kankyo_connection_read (client, 7, KANKYO_AREA_HOLDING_REGISTER, 60, 10, values, &error));
  g_assert_error (error, KANKYO_DRIVER_ERROR, KANKYO_DRIVER_ERROR_EXCEPTION);
  assert_message_contains (error, "exception 2 (illegal data address)");
  g_clear_error (&error);

  kankyo_connection_read (client, 7, KANKYO_AREA_INPUT_REGISTER, 0, 1, values, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (values[0], ==, 200);

  kankyo_connection_disconnect (client);
  g_assert_false (kankyo_connection_is_connected (client));
  kankyo_server_stop (server);
  pty_pair_stop (&pair);
}

/* The Modbus RTU CRC: polynomial 0xA001 (0x8005 reflected) from 0xFFFF. */
static guint16
rtu_crc (const guint8 *data, gsize length)
{
  guint16 crc = 0xFFFF;

  for (gsize i = 0; i < length; i++)
    {
      crc ^= data[i];
      for (guint bit = 0; bit < 8; bit++)
        crc = (crc & 1) ? (crc >> 1) ^ 0xA001 : crc >> 1;
    }
  return crc;
}

/* A reply a raw peer on the line sends to unit 7's next request, and what
 * the client must make of it. Every request is 8 bytes: function 3 for 2
 * registers at 0, or function 6 at 0. */
typedef struct
{
  gboolean is_write;
  guint8 reply[8]; /* without its CRC */
  gsize reply_length;
  gboolean bad_crc;
  KankyoDriverError code;
  const char *reason; /* NULL: a valid reply */
} RtuReply;

static const RtuReply rtu_replies[] = {
  /* libmodbus returns 0 for another unit's frame, without checking its CRC */
  { FALSE,
    { 9, 0x03, 0x04, 0xDE, 0xAD, 0xBE, 0xEF },
    7,
    FALSE,
    KANKYO_DRIVER_ERROR_BAD_DATA,
    "the reply has unit id 9, expected 7" },
  /* ...but lets the broadcast address through */
  { FALSE,
    { 0, 0x03, 0x04, 0xDE, 0xAD, 0xBE, 0xEF },
    7,
    FALSE,
    KANKYO_DRIVER_ERROR_BAD_DATA,
    "the reply has unit id 0, expected 7" },
  { FALSE,
    { 7, 0x03, 0x04, 0xDE, 0xAD, 0xBE, 0xEF },
    7,
    TRUE,
    KANKYO_DRIVER_ERROR_BAD_CRC,
    "failed its CRC check" },
  { FALSE,
    { 7, 0x04, 0x04, 0xDE, 0xAD, 0xBE, 0xEF },
    7,
    FALSE,
    KANKYO_DRIVER_ERROR_BAD_DATA,
    "the reply has function code 4, expected 3" },
  { TRUE,
    { 7, 0x06, 0x00, 0x00, 0xDE, 0xAD },
    6,
    FALSE,
    KANKYO_DRIVER_ERROR_BAD_DATA,
    "writing 1 holding register at 0 (function 6): "
    "the reply echoes address 0 and value 57005, expected 0 and 4660" },
  { FALSE, { 7, 0x03, 0x04, 0x12, 0x34, 0x56, 0x78 }, 7, FALSE, 0, NULL },
};

static gpointer
rtu_peer_run (gpointer data)
{
  const char *device = data;
  struct termios tios;
  int fd;

  fd = open (device, O_RDWR | O_NOCTTY);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (tcgetattr (fd, &tios), ==, 0);
  cfmakeraw (&tios);
  g_assert_cmpint (tcsetattr (fd, TCSANOW, &tios), ==, 0);

  for (gsize i = 0; i < G_N_ELEMENTS (rtu_replies); i++)
    {
      const RtuReply *reply = &rtu_replies[i];
      guint8 request[8];
      guint8 frame[G_N_ELEMENTS (reply->reply) + 2];
      gsize got = 0;
      guint16 crc;

      while (got < sizeof request)
        {
          struct pollfd pfd = { fd, POLLIN, 0 };
          ssize_t n;

          g_assert_cmpint (poll (&pfd, 1, 5000), ==, 1);
          n = read (fd, request + got, sizeof request - got);
          g_assert_cmpint (n, >, 0);
          got += (gsize) n;
        }
      g_assert_cmpuint (request[0], ==, 7);
      g_assert_cmpuint (request[1], ==, reply->is_write ? 0x06 : 0x03);
      g_assert_cmpuint (rtu_crc (request, sizeof request), ==, 0);

      memcpy (frame, reply->reply, reply->reply_length);
      crc = rtu_crc (frame, reply->reply_length);
      if (reply->bad_crc)
        crc ^= 0xFFFF;
      frame[reply->reply_length] = crc & 0xFF;
      frame[reply->reply_length + 1] = crc >> 8;
      g_assert_cmpint (write (fd, frame, reply->reply_length + 2), ==, reply->reply_length + 2);
    }

  close (fd);
  return NULL;
}

static void
test_rtu_bad_replies (void)
{
  g_autoptr (KankyoConnection) client = NULL;
  g_autoptr (GError) error = NULL;
  KankyoEndpoint endpoint;
  PtyPair pair = { 0 };
  GThread *thread;

  if (!pty_pair_start (&pair))
    return;

  thread = g_thread_new ("rtu-peer", rtu_peer_run, pair.link_a);
  endpoint = rtu_endpoint (pair.link_b, 300);
  client = new_client (&endpoint);
  kankyo_connection_connect (client, &error);
  g_assert_no_error (error);

  for (gsize i = 0; i < G_N_ELEMENTS (rtu_replies); i++)
    {
      const RtuReply *reply = &rtu_replies[i];
      const guint16 written = 0x1234;
      guint16 values[4] = { 0 };
      gboolean ok;

      if (reply->is_write)
        ok = kankyo_connection_write (client, 7, KANKYO_WRITE_SINGLE_REGISTER, 0, 1, &written, &error);
      else
        ok = kankyo_connection_read (client, 7, KANKYO_AREA_HOLDING_REGISTER, 0, 2, values, &error);

      if (reply->reason == NULL)
        {
          /* The line is still usable after all that. */
          g_assert_no_error (error);
          g_assert_true (ok);
          g_assert_cmpuint (values[0], ==, 0x1234);
          g_assert_cmpuint (values[1], ==, 0x5678);
          continue;
        }

      g_assert_false (ok);
      g_assert_error (error, KANKYO_DRIVER_ERROR, (gint) reply->code);
      assert_message_contains (error, reply->reason);
      g_clear_error (&error);
      for (guint j = 0; j < G_N_ELEMENTS (values); j++)
        g_assert_cmpuint (values[j], ==, 0);
      /* A serial line is flushed, not closed. */
      g_assert_true (kankyo_connection_is_connected (client));
    }

  g_thread_join (thread);
  kankyo_connection_disconnect (client);
  pty_pair_stop (&pair);
}

int
main (int argc, char *argv[])
{
  const char *path;
  GIOExtensionPoint *point;
  GIOExtension *extension;

  g_test_init (&argc, &argv, NULL);

  path = g_getenv ("KANKYO_DRIVER_PATH");
  g_assert_nonnull (path);
  kankyo_plugin_register_extension_points ();
  modules = g_io_modules_load_all_in_directory (path);
  point = g_io_extension_point_lookup (KANKYO_DRIVER_EXTENSION_POINT);
  extension = g_io_extension_point_get_extension_by_name (point, "modbus");
  g_assert_nonnull (extension);
  driver = g_object_new (g_io_extension_get_type (extension), NULL);
  g_assert_true (KANKYO_IS_DRIVER (driver));

  g_test_add_func ("/modbus-driver/module/load-twice", test_module_load_twice);
  g_test_add ("/modbus-driver/tcp/read", TcpFixture, NULL, tcp_fixture_set_up, test_tcp_read,
              tcp_fixture_tear_down);
  g_test_add ("/modbus-driver/tcp/write", TcpFixture, NULL, tcp_fixture_set_up, test_tcp_write,
              tcp_fixture_tear_down);
  g_test_add ("/modbus-driver/tcp/count-limits", TcpFixture, NULL, tcp_fixture_set_up, test_tcp_count_limits,
              tcp_fixture_tear_down);
  g_test_add ("/modbus-driver/tcp/exception-fault", TcpFixture, NULL, tcp_fixture_set_up,
              test_tcp_exception_fault, tcp_fixture_tear_down);
  g_test_add ("/modbus-driver/tcp/illegal-address", TcpFixture, NULL, tcp_fixture_set_up,
              test_tcp_illegal_address, tcp_fixture_tear_down);
  g_test_add ("/modbus-driver/tcp/delay-fault", TcpFixture, GUINT_TO_POINTER (150), tcp_fixture_set_up,
              test_tcp_delay_fault, tcp_fixture_tear_down);
  g_test_add ("/modbus-driver/tcp/drop-fault", TcpFixture, NULL, tcp_fixture_set_up, test_tcp_drop_fault,
              tcp_fixture_tear_down);
  g_test_add_func ("/modbus-driver/tcp/not-connected", test_tcp_not_connected);
  g_test_add_func ("/modbus-driver/tcp/host-name", test_tcp_host_name);
  g_test_add ("/modbus-driver/tcp/many-clients", TcpFixture, NULL, tcp_fixture_set_up, test_tcp_many_clients,
              tcp_fixture_tear_down);
  g_test_add ("/modbus-driver/tcp/stop", TcpFixture, NULL, tcp_fixture_set_up, test_tcp_stop,
              tcp_fixture_tear_down);
  g_test_add ("/modbus-driver/tcp/malformed-requests", TcpFixture, NULL, tcp_fixture_set_up,
              test_tcp_malformed_requests, tcp_fixture_tear_down);
  for (gsize i = 0; i < G_N_ELEMENTS (bad_reply_cases); i++)
    {
      g_autofree char *test_path
          = g_strconcat ("/modbus-driver/tcp/bad-reply/", bad_reply_cases[i].name, NULL);

      g_test_add_data_func (test_path, &bad_reply_cases[i], test_tcp_bad_reply);
    }
  g_test_add_func ("/modbus-driver/endpoint/invalid", test_endpoint_invalid);
  g_test_add_func ("/modbus-driver/rtu/read-write", test_rtu_read_write);
  g_test_add_func ("/modbus-driver/rtu/bad-replies", test_rtu_bad_replies);

  return g_test_run ();
}
