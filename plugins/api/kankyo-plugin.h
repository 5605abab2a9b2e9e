/* kankyo-plugin.h: everything a driver or device plugin may use. */
#pragma once

#define KANKYO_PLUGIN_INSIDE
#include "kankyo-value.h"
#include "kankyo-codec.h"
#include "kankyo-tag-spec.h"
#include "kankyo-endpoint.h"
#include "kankyo-register-bank.h"
#include "kankyo-driver.h"
#include "kankyo-device-type.h"
#undef KANKYO_PLUGIN_INSIDE

G_BEGIN_DECLS
/* Registers "kankyo-drivers-1" and "kankyo-device-types-1" with the
 * interfaces their implementations must have. Idempotent and thread-safe;
 * the host calls it before loading modules. */
void kankyo_plugin_register_extension_points (void);
G_END_DECLS
