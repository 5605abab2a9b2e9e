/* kankyo-engine.h: the running plant.
 *
 * The engine turns a project into polling workers and a tag store, serves
 * simulated devices in process when the project asks for them, and owns the
 * one write path: every write, whoever sends it, is checked, recorded in the
 * audit trail (durably, before it is sent), queued to its device's worker,
 * confirmed by read-back, recorded again with its result and reported to the
 * caller on the caller's own main context. Engine work runs on a thread with
 * its own GMainContext, so the same engine serves the GUI and kankyoctl.
 */
#pragma once

#include <gio/gio.h>
#include "kankyo-alarm-engine.h"
#include "kankyo-alarm-journal.h"
#include "kankyo-historian.h"
#include "kankyo-plugin.h"
#include "kankyo-project.h"
#include "kankyo-sim-host.h"
#include "kankyo-tag-store.h"

G_BEGIN_DECLS

#define KANKYO_ENGINE_ERROR (kankyo_engine_error_quark ())
GQuark kankyo_engine_error_quark (void);

typedef enum
{
  KANKYO_ENGINE_ERROR_FAILED,
  KANKYO_ENGINE_ERROR_NOT_FOUND, /* no such tag or device */
  KANKYO_ENGINE_ERROR_READ_ONLY, /* the tag cannot be written */
  KANKYO_ENGINE_ERROR_INVALID,   /* value, actor or reason refused */
  KANKYO_ENGINE_ERROR_AUDIT,     /* the audit record could not be made durable */
  KANKYO_ENGINE_ERROR_BUSY,      /* the device's write queue is full */
  KANKYO_ENGINE_ERROR_READBACK,  /* written, but the device reports another value */
  KANKYO_ENGINE_ERROR_STOPPED,   /* the engine stopped first */
  KANKYO_ENGINE_ERROR_CONFIG,    /* the project cannot be run as written */
} KankyoEngineError;

#define KANKYO_TYPE_ENGINE (kankyo_engine_get_type ())
G_DECLARE_FINAL_TYPE (KankyoEngine, kankyo_engine, KANKYO, ENGINE, GObject)

/* Takes ownership of @project. @data_dir holds audit.db (created if
 * missing). Resolves every device's driver and tags; nothing is started. */
KankyoEngine *kankyo_engine_new (KankyoProject *project, const char *data_dir, GError **error);
/* Before start: poll only these devices (NULL: all). */
void kankyo_engine_set_devices (KankyoEngine *self, const char *const *devices);
/* Before start: speed factor of in-process simulators (default 1). */
void kankyo_engine_set_sim_speed (KankyoEngine *self, double speed);
/* Starts in-process simulators, the engine thread and the workers. */
gboolean kankyo_engine_start (KankyoEngine *self, GError **error);
void kankyo_engine_stop (KankyoEngine *self);

KankyoTagStore *kankyo_engine_get_tag_store (KankyoEngine *self);
/* The in-process simulator serving the project's "simulated" devices while
 * the engine runs, or NULL: for tests and demonstrations that inject faults. */
KankyoSimHost *kankyo_engine_get_sim_host (KankyoEngine *self);
KankyoProject *kankyo_engine_get_project (KankyoEngine *self);
/* The history of every tag (<data_dir>/history.db), open while the engine
 * runs; NULL before start and after stop. */
KankyoHistorian *kankyo_engine_get_historian (KankyoEngine *self);
/* Every alarm of the plant: the device types' and project's alarms of the
 * polled devices and one comm-fail alarm per polled device, judged while
 * the engine runs; NULL before start and after stop. */
KankyoAlarmEngine *kankyo_engine_get_alarms (KankyoEngine *self);
/* The alarm history (<data_dir>/alarms.db), open while the engine runs;
 * NULL before start and after stop. */
KankyoAlarmJournal *kankyo_engine_get_alarm_journal (KankyoEngine *self);
const char *kankyo_engine_get_audit_path (KankyoEngine *self);
/* The device that owns a tag ("room1.setpoint" -> "room1"), or NULL. */
const char *kankyo_engine_get_tag_device (KankyoEngine *self, const char *tag);

/* The one write path. @value_text is parsed for the tag's type in the C
 * locale. Completes on the thread-default main context of the caller. */
void kankyo_engine_write_async (KankyoEngine *self,
                                const char *tag,
                                const char *value_text,
                                const char *actor,
                                const char *reason,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data);
/* On success @ret_readback (may be NULL) gets the value read back. */
gboolean kankyo_engine_write_finish (KankyoEngine *self,
                                     GAsyncResult *result,
                                     KankyoValue *ret_readback,
                                     GError **error);

/* The data directory for a project: $KANKYO_DATA_DIR if set, else
 * $XDG_DATA_HOME/kankyo/<project name as a file name>. */
char *kankyo_engine_default_data_dir (const KankyoProject *project);

/* The embedded demo plant. */
KankyoProject *kankyo_engine_load_demo_project (GError **error);

G_END_DECLS
