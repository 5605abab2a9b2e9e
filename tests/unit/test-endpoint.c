/* test-endpoint.c: device addresses as people write them. */
#include <string.h>

#include "kankyo-plugin.h"

static void
test_tcp (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (KankyoEndpoint) ep = kankyo_endpoint_parse ("tcp://192.168.0.10:1502?timeout=300", &error);
  g_autofree char *text = NULL;
  g_autoptr (KankyoEndpoint) def = NULL;

  g_assert_no_error (error);
  g_assert_cmpint (ep->transport, ==, KANKYO_TRANSPORT_TCP);
  g_assert_cmpstr (ep->host, ==, "192.168.0.10");
  g_assert_cmpuint (ep->port, ==, 1502);
  g_assert_cmpuint (ep->response_timeout_ms, ==, 300);
  text = kankyo_endpoint_to_string (ep);
  g_assert_cmpstr (text, ==, "tcp://192.168.0.10:1502");

  def = kankyo_endpoint_parse ("tcp://plc.local", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (def->port, ==, 502);
}

static void
test_rtu (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (KankyoEndpoint) ep = kankyo_endpoint_parse (
      "rtu:///dev/ttyUSB0?baud=57600&parity=e&stop=2&data=7&byte-timeout=50", &error);

  g_assert_no_error (error);
  g_assert_cmpint (ep->transport, ==, KANKYO_TRANSPORT_RTU);
  g_assert_cmpstr (ep->device, ==, "/dev/ttyUSB0");
  g_assert_cmpuint (ep->baud, ==, 57600);
  g_assert_cmpint (ep->parity, ==, 'E');
  g_assert_cmpuint (ep->stop_bits, ==, 2);
  g_assert_cmpuint (ep->data_bits, ==, 7);
  g_assert_cmpuint (ep->byte_timeout_ms, ==, 50);
}

static void
test_errors (void)
{
  static const struct
  {
    const char *uri;
    const char *phrase;
  } bad[] = {
    { "udp://1.2.3.4:502", "unknown transport" },
    { "tcp://:502", "expected a host" },
    { "tcp://host:70000", "" },
    { "tcp://host:502/path", "no path" },
    { "rtu://relative", "serial device path" },
    { "rtu:///dev/ttyS0?baud=fast", "baud" },
    { "rtu:///dev/ttyS0?parity=X", "parity" },
    { "rtu:///dev/ttyS0?data=9", "data bits" },
    { "rtu:///dev/ttyS0?stop=3", "stop bits" },
    { "rtu:///dev/ttyS0?speed=9600", "unknown parameter 'speed'" },
    { "tcp://host:502?timeout=0", "milliseconds" },
    { "not a uri", "not an endpoint" },
    { "", "" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (KankyoEndpoint) ep = kankyo_endpoint_parse (bad[i].uri, &error);

      g_assert_null (ep);
      g_assert_error (error, KANKYO_ENDPOINT_ERROR, KANKYO_ENDPOINT_ERROR_INVALID);
      if (strstr (error->message, bad[i].phrase) == NULL)
        g_error ("'%s': message '%s' lacks '%s'", bad[i].uri, error->message, bad[i].phrase);
    }
}

static void
test_too_long (void)
{
  g_autofree char *host = g_strnfill (600, 'a');
  g_autofree char *uri = g_strdup_printf ("tcp://%s:502", host);
  g_autoptr (GError) error = NULL;

  g_assert_null (kankyo_endpoint_parse (uri, &error));
  g_assert_error (error, KANKYO_ENDPOINT_ERROR, KANKYO_ENDPOINT_ERROR_INVALID);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/endpoint/tcp", test_tcp);
  g_test_add_func ("/endpoint/rtu", test_rtu);
  g_test_add_func ("/endpoint/errors", test_errors);
  g_test_add_func ("/endpoint/too-long", test_too_long);
  return g_test_run ();
}
