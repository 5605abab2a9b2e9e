/* kankyo-endpoint.c: parsing device addresses written as URIs.
 *
 * GUri does the URI grammar; this file only checks that what it found is a
 * usable TCP host and port or serial line setting, and says what was
 * expected when it is not.
 */
#include "kankyo-endpoint.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <string.h>

/* The first argument becomes the quark's name, so it must stay one word. */
/* clang-format off */
G_DEFINE_QUARK (kankyo-endpoint-error-quark, kankyo_endpoint_error)
/* clang-format on */

#define MAX_URI_LENGTH 512

static gboolean
parse_uint (const char *text, guint64 min, guint64 max, guint64 *ret)
{
  char *end = NULL;
  guint64 v;

  if (text == NULL || *text == '\0' || !g_ascii_isdigit (*text))
    return FALSE;
  errno = 0;
  v = g_ascii_strtoull (text, &end, 10);
  if (errno != 0 || *end != '\0' || v < min || v > max)
    return FALSE;
  *ret = v;
  return TRUE;
}

static gboolean
apply_param (KankyoEndpoint *ep, const char *uri, const char *key, const char *value, GError **error)
{
  guint64 v;

  if (g_str_equal (key, "timeout") || g_str_equal (key, "byte-timeout"))
    {
      if (!parse_uint (value, 1, 60000, &v))
        {
          g_set_error (error, KANKYO_ENDPOINT_ERROR, KANKYO_ENDPOINT_ERROR_INVALID,
                       _ ("%s: %s: expected milliseconds from 1 to 60000, found '%s'"), uri, key, value);
          return FALSE;
        }
      if (g_str_equal (key, "timeout"))
        ep->response_timeout_ms = (guint) v;
      else
        ep->byte_timeout_ms = (guint) v;
      return TRUE;
    }

  if (ep->transport == KANKYO_TRANSPORT_RTU)
    {
      if (g_str_equal (key, "baud"))
        {
          if (!parse_uint (value, 300, 4000000, &v))
            {
              g_set_error (error, KANKYO_ENDPOINT_ERROR, KANKYO_ENDPOINT_ERROR_INVALID,
                           _ ("%s: baud: expected a rate such as 9600 or 115200, found '%s'"), uri, value);
              return FALSE;
            }
          ep->baud = (guint) v;
          return TRUE;
        }
      if (g_str_equal (key, "parity"))
        {
          if (strlen (value) != 1 || strchr ("NEOneo", value[0]) == NULL)
            {
              g_set_error (error, KANKYO_ENDPOINT_ERROR, KANKYO_ENDPOINT_ERROR_INVALID,
                           _ ("%s: parity: expected N, E or O, found '%s'"), uri, value);
              return FALSE;
            }
          ep->parity = g_ascii_toupper (value[0]);
          return TRUE;
        }
      if (g_str_equal (key, "data"))
        {
          if (!parse_uint (value, 5, 8, &v))
            {
              g_set_error (error, KANKYO_ENDPOINT_ERROR, KANKYO_ENDPOINT_ERROR_INVALID,
                           _ ("%s: data: expected 5 to 8 data bits, found '%s'"), uri, value);
              return FALSE;
            }
          ep->data_bits = (guint8) v;
          return TRUE;
        }
      if (g_str_equal (key, "stop"))
        {
          if (!parse_uint (value, 1, 2, &v))
            {
              g_set_error (error, KANKYO_ENDPOINT_ERROR, KANKYO_ENDPOINT_ERROR_INVALID,
                           _ ("%s: stop: expected 1 or 2 stop bits, found '%s'"), uri, value);
              return FALSE;
            }
          ep->stop_bits = (guint8) v;
          return TRUE;
        }
    }

  g_set_error (error, KANKYO_ENDPOINT_ERROR, KANKYO_ENDPOINT_ERROR_INVALID,
               _ ("%s: unknown parameter '%s'; expected %s"), uri, key,
               ep->transport == KANKYO_TRANSPORT_RTU ? _ ("baud, parity, data, stop, timeout or byte-timeout")
                                                     : _ ("timeout or byte-timeout"));
  return FALSE;
}

KankyoEndpoint *
kankyo_endpoint_parse (const char *uri, GError **error)
{
  g_autoptr (GUri) parsed = NULL;
  g_autoptr (KankyoEndpoint) ep = NULL;
  g_autoptr (GError) local_error = NULL;
  const char *scheme;
  const char *query;

  g_return_val_if_fail (uri != NULL, NULL);

  if (strlen (uri) > MAX_URI_LENGTH)
    {
      g_set_error (error, KANKYO_ENDPOINT_ERROR, KANKYO_ENDPOINT_ERROR_INVALID,
                   _ ("endpoint is longer than %d characters"), MAX_URI_LENGTH);
      return NULL;
    }

  parsed = g_uri_parse (uri, G_URI_FLAGS_NONE, &local_error);
  if (parsed == NULL)
    {
      g_set_error (error, KANKYO_ENDPOINT_ERROR, KANKYO_ENDPOINT_ERROR_INVALID,
                   _ ("'%s' is not an endpoint; expected tcp://HOST:PORT or "
                      "rtu:///dev/DEVICE?baud=9600&parity=N"),
                   uri);
      return NULL;
    }

  ep = g_new0 (KankyoEndpoint, 1);
  scheme = g_uri_get_scheme (parsed);
  if (g_ascii_strcasecmp (scheme, "tcp") == 0)
    {
      const char *host = g_uri_get_host (parsed);
      int port = g_uri_get_port (parsed);

      ep->transport = KANKYO_TRANSPORT_TCP;
      if (host == NULL || *host == '\0')
        {
          g_set_error (error, KANKYO_ENDPOINT_ERROR, KANKYO_ENDPOINT_ERROR_INVALID,
                       _ ("%s: expected a host, as in tcp://192.168.0.10:502"), uri);
          return NULL;
        }
      if (port < 0)
        port = 502;
      if (port > 65535)
        {
          g_set_error (error, KANKYO_ENDPOINT_ERROR, KANKYO_ENDPOINT_ERROR_INVALID,
                       _ ("%s: port %d is out of range (expected 0 to 65535)"), uri, port);
          return NULL;
        }
      if (g_strcmp0 (g_uri_get_path (parsed), "") != 0 && g_strcmp0 (g_uri_get_path (parsed), "/") != 0)
        {
          g_set_error (error, KANKYO_ENDPOINT_ERROR, KANKYO_ENDPOINT_ERROR_INVALID,
                       _ ("%s: a TCP endpoint has no path; expected tcp://HOST:PORT"), uri);
          return NULL;
        }
      ep->host = g_strdup (host);
      ep->port = (guint16) port;
    }
  else if (g_ascii_strcasecmp (scheme, "rtu") == 0)
    {
      const char *path = g_uri_get_path (parsed);

      ep->transport = KANKYO_TRANSPORT_RTU;
      ep->baud = 9600;
      ep->parity = 'N';
      ep->data_bits = 8;
      ep->stop_bits = 1;
      if (path == NULL || path[0] != '/')
        {
          g_set_error (error, KANKYO_ENDPOINT_ERROR, KANKYO_ENDPOINT_ERROR_INVALID,
                       _ ("%s: expected a serial device path, as in rtu:///dev/ttyUSB0?baud=9600"), uri);
          return NULL;
        }
      ep->device = g_strdup (path);
    }
  else
    {
      g_set_error (error, KANKYO_ENDPOINT_ERROR, KANKYO_ENDPOINT_ERROR_INVALID,
                   _ ("%s: unknown transport '%s'; expected tcp or rtu"), uri, scheme);
      return NULL;
    }

  query = g_uri_get_query (parsed);
  if (query != NULL && *query != '\0')
    {
      g_autoptr (GHashTable) params = g_uri_parse_params (query, -1, "&", G_URI_PARAMS_NONE, &local_error);
      GHashTableIter iter;
      gpointer key, value;

      if (params == NULL)
        {
          g_set_error (error, KANKYO_ENDPOINT_ERROR, KANKYO_ENDPOINT_ERROR_INVALID,
                       _ ("%s: cannot read the parameters: %s"), uri, local_error->message);
          return NULL;
        }
      g_hash_table_iter_init (&iter, params);
      while (g_hash_table_iter_next (&iter, &key, &value))
        if (!apply_param (ep, uri, key, value, error))
          return NULL;
    }

  return g_steal_pointer (&ep);
}

KankyoEndpoint *
kankyo_endpoint_copy (const KankyoEndpoint *endpoint)
{
  KankyoEndpoint *copy = g_memdup2 (endpoint, sizeof *endpoint);

  copy->host = g_strdup (endpoint->host);
  copy->device = g_strdup (endpoint->device);
  return copy;
}

void
kankyo_endpoint_free (KankyoEndpoint *endpoint)
{
  if (endpoint == NULL)
    return;
  g_free (endpoint->host);
  g_free (endpoint->device);
  g_free (endpoint);
}

char *
kankyo_endpoint_to_string (const KankyoEndpoint *endpoint)
{
  if (endpoint->transport == KANKYO_TRANSPORT_TCP)
    {
      if (strchr (endpoint->host, ':') != NULL)
        return g_strdup_printf ("tcp://[%s]:%u", endpoint->host, endpoint->port);
      return g_strdup_printf ("tcp://%s:%u", endpoint->host, endpoint->port);
    }
  return g_strdup_printf ("rtu://%s?baud=%u&parity=%c&data=%u&stop=%u", endpoint->device, endpoint->baud,
                          endpoint->parity, endpoint->data_bits, endpoint->stop_bits);
}
