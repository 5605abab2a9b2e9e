/* kankyo-endpoint.h: where a device is reached.
 *
 * Written in project files as a URI:
 *   tcp://192.168.0.10:502
 *   rtu:///dev/ttyUSB0?baud=9600&parity=N&data=8&stop=1
 * with optional "timeout" (response, ms) and "byte-timeout" (ms) parameters.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  KANKYO_TRANSPORT_TCP = 0,
  KANKYO_TRANSPORT_RTU,
} KankyoTransport;

typedef struct
{
  KankyoTransport transport;
  char *host;       /* TCP */
  guint16 port;     /* TCP; 0 on a server means "any free port" */
  char *device;     /* RTU: serial device path */
  guint baud;       /* RTU */
  char parity;      /* RTU: 'N', 'E' or 'O' */
  guint8 data_bits; /* RTU: 5..8 */
  guint8 stop_bits; /* RTU: 1 or 2 */
  guint response_timeout_ms;
  guint byte_timeout_ms;
} KankyoEndpoint;

#define KANKYO_ENDPOINT_ERROR (kankyo_endpoint_error_quark ())
GQuark kankyo_endpoint_error_quark (void);

typedef enum
{
  KANKYO_ENDPOINT_ERROR_INVALID,
} KankyoEndpointError;

KankyoEndpoint *kankyo_endpoint_parse (const char *uri, GError **error);
KankyoEndpoint *kankyo_endpoint_copy (const KankyoEndpoint *endpoint);
void kankyo_endpoint_free (KankyoEndpoint *endpoint);
char *kankyo_endpoint_to_string (const KankyoEndpoint *endpoint);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KankyoEndpoint, kankyo_endpoint_free)

G_END_DECLS
