/* kankyo-trend-views.h: named sets of trend pens, kept beside the project.
 *
 * An operator who watches the same few tags together every shift saves them
 * once as a view ("Supply air", "Fill room") and opens it again by name. The
 * views of a project live in a small YAML file next to the project file
 * (plant.yaml -> plant.views.yaml), so they travel and diff with it; the
 * embedded demo, which has no folder, keeps them in its data directory.
 *
 * The file is read with libyaml's event parser, bounded (size, number of
 * views, pens per view, name length) and checked as it is read, so a bad
 * file fails with "file:line:column:" and what was expected there. It is
 * written with libyaml's emitter and replaced atomically.
 */
#pragma once

#include <glib.h>

#include "kankyo-project.h"

G_BEGIN_DECLS

#define KANKYO_TREND_VIEWS_ERROR (kankyo_trend_views_error_quark ())
GQuark kankyo_trend_views_error_quark (void);

typedef enum
{
  KANKYO_TREND_VIEWS_ERROR_IO,      /* the file cannot be read or written */
  KANKYO_TREND_VIEWS_ERROR_SYNTAX,  /* not well-formed YAML */
  KANKYO_TREND_VIEWS_ERROR_INVALID, /* well-formed, but not what was expected */
} KankyoTrendViewsError;

#define KANKYO_TREND_VIEWS_MAX_FILE_SIZE (256 * 1024)
#define KANKYO_TREND_VIEWS_MAX_VIEWS 64
#define KANKYO_TREND_VIEWS_MAX_PENS 8
#define KANKYO_TREND_VIEWS_MAX_NAME 64 /* characters */
#define KANKYO_TREND_VIEWS_MAX_TAG 129 /* bytes: "device.tag", 64 each */
#define KANKYO_TREND_VIEWS_MIN_SPAN_US (10 * G_USEC_PER_SEC)
#define KANKYO_TREND_VIEWS_MAX_SPAN_US (G_GINT64_CONSTANT (366) * 24 * 3600 * G_USEC_PER_SEC)

typedef struct
{
  char *name;     /* one line, 1 to KANKYO_TREND_VIEWS_MAX_NAME characters */
  gint64 span_us; /* how much time the view shows, ending now; 0: not given */
  char **pens;    /* NULL-terminated tag names ("ahu1.supply_temp"), 1 to MAX_PENS */
} KankyoTrendView;

/* Checks every field; on failure says which and why. */
KankyoTrendView *
kankyo_trend_view_new (const char *name, gint64 span_us, const char *const *pens, GError **error);
void kankyo_trend_view_free (KankyoTrendView *view);

/* Whether @name can name a view; the error says what is expected. */
gboolean kankyo_trend_views_check_name (const char *name, GError **error);
/* Whether @tag can be a pen of a view. */
gboolean kankyo_trend_views_check_tag (const char *tag, GError **error);

/* Where the views of @project are kept: beside its file, or in @data_dir
 * for a project with no folder (the embedded demo). */
char *kankyo_trend_views_path (const KankyoProject *project, const char *data_dir);

/* A GPtrArray of KankyoTrendView*, in file order, owning them. @name
 * prefixes every error. A missing file holds no views. */
GPtrArray *kankyo_trend_views_parse (const char *text, gsize length, const char *name, GError **error);
GPtrArray *kankyo_trend_views_load (const char *path, GError **error);

char *kankyo_trend_views_to_yaml (GPtrArray *views, GError **error);
/* Replaces the file atomically; creates its folder when missing. */
gboolean kankyo_trend_views_save (const char *path, GPtrArray *views, GError **error);

/* NULL when there is no view of that name. */
KankyoTrendView *kankyo_trend_views_find (GPtrArray *views, const char *name);
/* Takes @view: replaces the view of the same name, or appends it when
 * there is room. On failure @view is freed. */
gboolean kankyo_trend_views_put (GPtrArray *views, KankyoTrendView *view, GError **error);
gboolean kankyo_trend_views_remove (GPtrArray *views, const char *name);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KankyoTrendView, kankyo_trend_view_free)

G_END_DECLS
