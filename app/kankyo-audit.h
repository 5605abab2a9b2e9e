/* kankyo-audit.h: the tamper-evident audit trail.
 *
 * An append-only SQLite table in its own database file, written with
 * synchronous=FULL: when kankyo_audit_append() returns, the record survives a
 * power cut or kill -9. Every record carries the SHA-256 of its content and of
 * the record before it, so an edited, deleted or reordered record breaks the
 * chain where it happened and kankyo_audit_verify() says which.
 *
 * One KankyoAudit may be shared by several threads; calls are serialised.
 * Out-parameters are set only on success.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define KANKYO_AUDIT_ERROR (kankyo_audit_error_quark ())
GQuark kankyo_audit_error_quark (void);

typedef enum
{
  KANKYO_AUDIT_ERROR_OPEN,  /* cannot open or create the database */
  KANKYO_AUDIT_ERROR_WRITE, /* the record could not be made durable */
  KANKYO_AUDIT_ERROR_READ,
  KANKYO_AUDIT_ERROR_INVALID, /* bad argument (missing actor, too long) */
} KankyoAuditError;

typedef struct _KankyoAudit KankyoAudit;

typedef struct
{
  gint64 seq;      /* 1, 2, 3 ... in append order */
  gint64 time_us;  /* UTC microseconds */
  char *actor;     /* who */
  char *action;    /* "write.request", "write.result", ... */
  char *target;    /* tag or object */
  char *old_value; /* may be NULL */
  char *new_value; /* may be NULL */
  char *reason;    /* may be NULL */
  char *result;    /* "pending", "ok", "failed: ..." */
  char *prev_hash; /* hex SHA-256 */
  char *hash;      /* hex SHA-256 */
} KankyoAuditRecord;

typedef enum
{
  KANKYO_AUDIT_FINDING_EDITED,    /* content does not match its hash */
  KANKYO_AUDIT_FINDING_DELETED,   /* a gap in the sequence, or the tail is gone */
  KANKYO_AUDIT_FINDING_REORDERED, /* records out of their chained order */
  KANKYO_AUDIT_FINDING_BROKEN,    /* any other break of the chain */
} KankyoAuditFindingKind;

typedef struct
{
  KankyoAuditFindingKind kind;
  gint64 seq;    /* the record where it was found */
  char *message; /* for people: which record and what is wrong */
} KankyoAuditFinding;

KankyoAudit *kankyo_audit_open (const char *path, GError **error);
/* Read-only, for verification and listing. */
KankyoAudit *kankyo_audit_open_readonly (const char *path, GError **error);
void kankyo_audit_close (KankyoAudit *audit);

/* Durable on TRUE. @actor and @action are required; strings are UTF-8 and
 * bounded (4 KiB each). @ret_seq may be NULL. */
gboolean kankyo_audit_append (KankyoAudit *audit,
                              const char *actor,
                              const char *action,
                              const char *target,
                              const char *old_value,
                              const char *new_value,
                              const char *reason,
                              const char *result,
                              gint64 *ret_seq,
                              GError **error);

/* TRUE when the database could be read. *ret_findings (KankyoAuditFinding*,
 * owned by the caller) is empty when the chain is intact; *ret_count
 * (may be NULL) is the number of records. */
gboolean
kankyo_audit_verify (KankyoAudit *audit, GPtrArray **ret_findings, gint64 *ret_count, GError **error);

/* Records (KankyoAuditRecord*) with seq > @after_seq, oldest first, at most
 * @limit, which must be at least 1. */
GPtrArray *kankyo_audit_list (KankyoAudit *audit, gint64 after_seq, guint limit, GError **error);

void kankyo_audit_record_free (KankyoAuditRecord *record);
void kankyo_audit_finding_free (KankyoAuditFinding *finding);
const char *kankyo_audit_finding_kind_to_string (KankyoAuditFindingKind kind);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KankyoAudit, kankyo_audit_close)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KankyoAuditRecord, kankyo_audit_record_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KankyoAuditFinding, kankyo_audit_finding_free)

G_END_DECLS
