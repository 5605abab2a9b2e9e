/* kankyo-driver.c: the transport interfaces and the extension points.
 *
 * Extension point names carry a version: a module built against another
 * contract registers under another name and is simply not found, instead of
 * being called through a vtable of the wrong shape.
 */
#include "kankyo-plugin.h"

#include <glib/gi18n-lib.h>

/* The first argument becomes the quark's name, so it must stay one word. */
/* clang-format off */
G_DEFINE_QUARK (kankyo-driver-error-quark, kankyo_driver_error)
/* clang-format on */

G_DEFINE_INTERFACE (KankyoConnection, kankyo_connection, G_TYPE_OBJECT)
G_DEFINE_INTERFACE (KankyoServer, kankyo_server, G_TYPE_OBJECT)
G_DEFINE_INTERFACE (KankyoDriver, kankyo_driver, G_TYPE_OBJECT)

static void
kankyo_connection_default_init (KankyoConnectionInterface *iface)
{
}

static void
kankyo_server_default_init (KankyoServerInterface *iface)
{
}

static void
kankyo_driver_default_init (KankyoDriverInterface *iface)
{
}

gboolean
kankyo_connection_connect (KankyoConnection *self, GError **error)
{
  g_return_val_if_fail (KANKYO_IS_CONNECTION (self), FALSE);
  return KANKYO_CONNECTION_GET_IFACE (self)->connect (self, error);
}

void
kankyo_connection_disconnect (KankyoConnection *self)
{
  g_return_if_fail (KANKYO_IS_CONNECTION (self));
  KANKYO_CONNECTION_GET_IFACE (self)->disconnect (self);
}

gboolean
kankyo_connection_is_connected (KankyoConnection *self)
{
  g_return_val_if_fail (KANKYO_IS_CONNECTION (self), FALSE);
  return KANKYO_CONNECTION_GET_IFACE (self)->is_connected (self);
}

gboolean
kankyo_connection_read (KankyoConnection *self,
                        guint8 unit_id,
                        KankyoArea area,
                        guint16 address,
                        guint16 count,
                        guint16 *dest,
                        GError **error)
{
  g_return_val_if_fail (KANKYO_IS_CONNECTION (self), FALSE);
  g_return_val_if_fail (dest != NULL, FALSE);
  return KANKYO_CONNECTION_GET_IFACE (self)->read (self, unit_id, area, address, count, dest, error);
}

gboolean
kankyo_connection_write (KankyoConnection *self,
                         guint8 unit_id,
                         KankyoWriteFunction function,
                         guint16 address,
                         guint16 count,
                         const guint16 *values,
                         GError **error)
{
  g_return_val_if_fail (KANKYO_IS_CONNECTION (self), FALSE);
  g_return_val_if_fail (values != NULL, FALSE);
  return KANKYO_CONNECTION_GET_IFACE (self)->write (self, unit_id, function, address, count, values, error);
}

gboolean
kankyo_server_start (KankyoServer *self, GError **error)
{
  g_return_val_if_fail (KANKYO_IS_SERVER (self), FALSE);
  return KANKYO_SERVER_GET_IFACE (self)->start (self, error);
}

void
kankyo_server_stop (KankyoServer *self)
{
  g_return_if_fail (KANKYO_IS_SERVER (self));
  KANKYO_SERVER_GET_IFACE (self)->stop (self);
}

guint16
kankyo_server_get_port (KankyoServer *self)
{
  g_return_val_if_fail (KANKYO_IS_SERVER (self), 0);
  return KANKYO_SERVER_GET_IFACE (self)->get_port (self);
}

KankyoConnection *
kankyo_driver_create_connection (KankyoDriver *self, const KankyoEndpoint *endpoint, GError **error)
{
  g_return_val_if_fail (KANKYO_IS_DRIVER (self), NULL);
  g_return_val_if_fail (endpoint != NULL, NULL);
  return KANKYO_DRIVER_GET_IFACE (self)->create_connection (self, endpoint, error);
}

KankyoServer *
kankyo_driver_create_server (KankyoDriver *self,
                             const KankyoEndpoint *endpoint,
                             guint8 unit_id,
                             KankyoRegisterBank *bank,
                             GError **error)
{
  KankyoDriverInterface *iface;

  g_return_val_if_fail (KANKYO_IS_DRIVER (self), NULL);
  g_return_val_if_fail (endpoint != NULL && bank != NULL, NULL);
  iface = KANKYO_DRIVER_GET_IFACE (self);
  if (iface->create_server == NULL)
    {
      g_set_error (error, KANKYO_DRIVER_ERROR, KANKYO_DRIVER_ERROR_INVALID,
                   _ ("this driver cannot serve simulated devices"));
      return NULL;
    }
  return iface->create_server (self, endpoint, unit_id, bank, error);
}

void
kankyo_plugin_register_extension_points (void)
{
  static gsize once = 0;

  if (g_once_init_enter (&once))
    {
      GIOExtensionPoint *ep;

      /* Modules' messages are in this domain too, and a host program may
       * not bind it: make them translatable wherever the API is used. */
      bindtextdomain (GETTEXT_PACKAGE, KANKYO_LOCALEDIR);
      bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
      ep = g_io_extension_point_register (KANKYO_DRIVER_EXTENSION_POINT);
      g_io_extension_point_set_required_type (ep, KANKYO_TYPE_DRIVER);
      ep = g_io_extension_point_register (KANKYO_DEVICE_TYPE_EXTENSION_POINT);
      g_io_extension_point_set_required_type (ep, KANKYO_TYPE_DEVICE_TYPE);
      g_once_init_leave (&once, 1);
    }
}
