/* kankyo-alarm-journal.h: the alarm and event history of a plant.
 *
 * Every alarm transition (activated, returned, acknowledged, shelved,
 * unshelved, shelve expired, suppressed, unsuppressed, out of service,
 * back in service, reset) is one row in alarms.db in the data folder,
 * with the alarm's id, tag, device, area and priority as they were, the
 * value, the user and the reason. The journal answers searches by time
 * range, tag, area, priority, event and user, exports them as CSV, and
 * computes the alarm performance figures of ISA-18.2 for a period.
 *
 * Appends come from the alarm engine's thread; searches from any thread
 * (WAL; each thread its own connection). Operator actions are written with
 * synchronous=FULL before they take effect; condition transitions in
 * batches, like trend data. A batch is committed when it is large, when an
 * append finds its oldest record a second old, on flush() and on close():
 * a writer that can fall quiet calls flush() from its periodic tick so that
 * nothing waits longer than a second (it costs nothing when nothing waits).
 */
#pragma once

#include <gio/gio.h>

#include "kankyo-alarm.h"

G_BEGIN_DECLS

#define KANKYO_ALARM_JOURNAL_ERROR (kankyo_alarm_journal_error_quark ())
GQuark kankyo_alarm_journal_error_quark (void);

typedef enum
{
  KANKYO_ALARM_JOURNAL_ERROR_OPEN,
  KANKYO_ALARM_JOURNAL_ERROR_WRITE,
  KANKYO_ALARM_JOURNAL_ERROR_READ,
  KANKYO_ALARM_JOURNAL_ERROR_INVALID, /* bad filter or period */
} KankyoAlarmJournalError;

typedef struct _KankyoAlarmJournal KankyoAlarmJournal;

typedef struct
{
  gint64 seq; /* set by the journal */
  gint64 time;
  char *alarm_id;
  char *tag;
  char *device;
  char *area;
  KankyoAlarmPriority priority;
  KankyoAlarmEvent event;
  KankyoAlarmState state; /* after the event */
  double value;           /* NAN when none */
  char *message;
  char *user;   /* NULL for the system */
  char *reason; /* NULL when none */
} KankyoAlarmRecord;

void kankyo_alarm_record_clear (KankyoAlarmRecord *record);

/* Bounds of what the journal accepts and returns. */
#define KANKYO_ALARM_JOURNAL_NAME_MAX 512  /* bytes of an id, tag, device, area or user */
#define KANKYO_ALARM_JOURNAL_TEXT_MAX 4096 /* bytes of a message or reason */
#define KANKYO_ALARM_JOURNAL_DEFAULT_LIMIT 10000
#define KANKYO_ALARM_JOURNAL_MAX_LIMIT 1000000

KankyoAlarmJournal *kankyo_alarm_journal_open (const char *path, GError **error);
/* A journal only read, next to a running plant (kankyoctl alarms). */
KankyoAlarmJournal *kankyo_alarm_journal_open_readonly (const char *path, GError **error);
/* Commits what waits (see flush() to learn whether that worked). */
void kankyo_alarm_journal_close (KankyoAlarmJournal *self);

/* @durable: commit with synchronous=FULL before returning (operator
 * actions); otherwise the record may wait up to a second for the next
 * batch. Sets record->seq. alarm_id is required; a NULL tag, device, area
 * or message is stored, and read back, as "". */
gboolean kankyo_alarm_journal_append (KankyoAlarmJournal *self,
                                      KankyoAlarmRecord *record,
                                      gboolean durable,
                                      GError **error);
gboolean kankyo_alarm_journal_flush (KankyoAlarmJournal *self, GError **error);

/* A search; NULL or 0 fields match everything. Text fields match exactly,
 * except tag which also matches a prefix ending in '.' ("room1." finds
 * every alarm of room1). */
typedef struct
{
  gint64 from, to; /* [from, to); 0 for open */
  const char *tag;
  const char *area;
  const char *user;
  int min_priority; /* -1 for any, else a KankyoAlarmPriority */
  int event;        /* -1 for any, else a KankyoAlarmEvent */
  guint limit;      /* 0: the default of 10,000; at most KANKYO_ALARM_JOURNAL_MAX_LIMIT */
  gboolean newest_first;
  guint states; /* a bit (1 << KankyoAlarmState) for each state after the event to find; 0 for any */
} KankyoAlarmQuery;

void kankyo_alarm_query_init (KankyoAlarmQuery *query);
/* Array of KankyoAlarmRecord with its clear func set, in time order (then
 * journal order), or newest first. A search on the journal that writes
 * also sees its records still waiting for their commit; other connections
 * see committed records only. */
GArray *kankyo_alarm_journal_search (KankyoAlarmJournal *self, const KankyoAlarmQuery *query, GError **error);
/* The alarms standing at query->to (0: after the newest record): the
 * newest record of each alarm before then, where its state is not NORMAL.
 * Highest priority first, then newest first. tag, area, min_priority,
 * states and limit filter them as in a search; the other fields of @query
 * are not used. @query may be NULL. */
GArray *
kankyo_alarm_journal_list_active (KankyoAlarmJournal *self, const KankyoAlarmQuery *query, GError **error);
/* RFC 4180, UTF-8, ISO 8601 UTC times; every record the query finds (no
 * limit), in the query's order. Columns: seq, time, alarm, tag, device,
 * area, priority, event, state, value, message, user, reason. */
gboolean kankyo_alarm_journal_export_csv (KankyoAlarmJournal *self,
                                          const KankyoAlarmQuery *query,
                                          GOutputStream *out,
                                          GCancellable *cancellable,
                                          GError **error);

/* ISA-18.2 alarm performance over [from, to). What each figure counts,
 * exactly, is written at the top of kankyo-alarm-journal.c. */
typedef struct
{
  char *area;
  guint n_alarms; /* activations */
  double alarms_per_hour;
} KankyoAlarmAreaRate;

typedef struct
{
  gint64 start, end; /* a flood: > 10 activations in 10 minutes, until fewer than 5 */
  guint n_alarms;
} KankyoAlarmFlood;

typedef struct
{
  char *alarm_id;
  char *message;
  guint n_activations;
  guint n_chatter; /* activations within 60 s of the alarm's previous return */
} KankyoAlarmActor;

typedef struct
{
  char *alarm_id;
  char *message;
  gint64 active_since; /* active longer than 24 h at the end of the period */
} KankyoAlarmStale;

typedef struct
{
  gint64 from, to;
  guint n_activations;
  double alarms_per_hour;
  double percent_time_in_flood;
  GArray *areas;      /* KankyoAlarmAreaRate, most first */
  GArray *floods;     /* KankyoAlarmFlood, in time order */
  GArray *chattering; /* KankyoAlarmActor with n_chatter >= 3, most first */
  GArray *stale;      /* KankyoAlarmStale, oldest first */
  GArray *top_ten;    /* KankyoAlarmActor, the ten most frequent */
} KankyoAlarmPerformance;

KankyoAlarmPerformance *
kankyo_alarm_journal_performance (KankyoAlarmJournal *self, gint64 from, gint64 to, GError **error);
void kankyo_alarm_performance_free (KankyoAlarmPerformance *performance);
/* A4 PDF of the performance figures: header with plant and period, the
 * figures, tables of areas, floods, chattering, stale and the top ten. */
gboolean kankyo_alarm_performance_write_pdf (const KankyoAlarmPerformance *performance,
                                             const char *plant,
                                             const char *path,
                                             GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KankyoAlarmJournal, kankyo_alarm_journal_close)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KankyoAlarmPerformance, kankyo_alarm_performance_free)

G_END_DECLS
