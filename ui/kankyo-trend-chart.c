/* kankyo-trend-chart.c: the history of a few tags as lines over time.
 *
 * The view is a time range and a plot some pixels wide. Each pen's data is
 * kept as bins of one width on a grid anchored at the epoch (bin k starts
 * at k * width), so panning and live scrolling read only the bins that are
 * new, and the bins already read stay valid. The width is the time of one
 * pixel rounded up to whole minutes or hours once it is longer than those,
 * so that kankyo_historian_read_binned() can answer from its rollups: a week
 * costs a few thousand rollup rows, not millions of samples.
 *
 * Reads run in a GTask on a worker thread, one at a time; while one is in
 * flight the chart draws what it has, placed by time, so a zoom shows the
 * old bins stretched until the new ones arrive. The worker also turns bins
 * into what is drawn: the historian stores a sample only when the value
 * moves past its deadband, when quality changes, or on a heartbeat, so a
 * bin without samples carries the value in force before it, and a Bad
 * sample holds until a Good one follows. A bin whose samples were all Bad
 * draws no line and is hatched.
 *
 * Each pixel column is drawn as one pixel-aligned box from its minimum to
 * its maximum, reaching to the value the column before ended on. GTK
 * repaints where the render nodes of two frames differ, and repainting
 * costs in proportion to the area (with the cairo renderer under Xvfb, a
 * 2,000 by 700 pixel area costs some 11 ms before anything is drawn in it),
 * so the chart keeps its layers as nodes from frame to frame: grid and
 * axes, pen names, and the lines in tiles 128 pixels wide that are built
 * again only when their bins change. A moving cursor then repaints the
 * cursor, and a live read the last tiles. For the same reason a live view
 * moves on in steps of a tenth of its span, with a line at now, rather than
 * by a pixel at a time, which would repaint all of it every time.
 */
#include "config.h"

#include "kankyo-trend-chart.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "kankyo-faceplate.h"

#define MINUTE_US (G_GINT64_CONSTANT (60) * G_USEC_PER_SEC)
#define HOUR_US (60 * MINUTE_US)
#define DAY_US (24 * HOUR_US)
/* Bins per read and per pen kept; a wider plot is drawn from wider bins. */
#define MAX_BINS 4096
#define MAX_CACHED_BINS (3 * MAX_BINS)
/* The historian commits in batches: bins newer than this are read again. */
#define COMMIT_LAG_US (5 * G_USEC_PER_SEC)
#define LIVE_READ_US (G_USEC_PER_SEC)
/* Bins holding both Good and Bad samples whose end state is looked up in
 * the raw data, per pen and read; past this a gap is assumed. */
#define MAX_MIXED_LOOKUPS 256

#define MARGIN 8
#define AXIS_WIDTH 64
#define SIDE_AXIS_WIDTH 58
#define TIME_AXIS_HEIGHT 40
#define LANE_GAP 8
#define TRACE_WIDTH 2
#define MARKER_SPACING 180
#define MARKER_RADIUS 4.5
#define TICK_SPACING 110
#define PAN_STEP 0.1
#define ZOOM_STEP 1.5
#define WHEEL_ZOOM 1.25
#define DRAG_THRESHOLD 4
#define MAX_LAYOUTS 512
#define MAX_LABEL_CHARS 128
/* The lines are drawn in tiles this wide, each redrawn only when its data
 * changes; markers may reach this far into the next tile. */
#define TILE_WIDTH 128
#define MARKER_PAD 8
/* A live view moves on by a tenth of its span at a time. */
#define LIVE_STEPS 10

typedef enum
{
  COLUMN_EMPTY, /* nothing known: before the first sample, or after now */
  COLUMN_VALUE,
  COLUMN_GAP, /* quality was Bad */
} ColumnKind;

typedef struct
{
  double lo, hi, last;
  guint32 count; /* Good samples in the bin; 0 when the value is carried */
  guint8 kind;
  guint8 bad; /* some sample in the bin was Bad */
} Column;

/* Bins [k0, k0 + n) of one width, for one pen. */
typedef struct
{
  gint64 width;
  gint64 k0;
  guint n;
  Column *columns;
  gint64 complete_until; /* bins ending before this will not change */
  gint64 known_until;    /* nothing is known after this: when it was read */
} Series;

typedef struct
{
  char *tag;
  char *label;
  char *unit;
  guint style; /* colour and marker */
  Series *series;
  gboolean not_recorded;
  /* The cursor's reading */
  gint64 cursor_time;
  gboolean cursor_known;
  gboolean cursor_found;
  gboolean cursor_failed;
  KankyoHistorianSample cursor_sample;
} Pen;

/* One pixel column of a pen, made from the bins it covers. */
typedef struct
{
  int x0, x1;
  double lo, hi, last;
  gboolean value;
  gboolean gap;
} PixelColumn;

typedef struct
{
  graphene_rect_t plot;
  graphene_rect_t lanes[KANKYO_TREND_CHART_MAX_PENS];
  gboolean stacked;
} Layout;

typedef struct
{
  double lo, hi, step;
  gboolean valid;
} Scale;

/* Everything the kept layers depend on besides the data. */
typedef struct
{
  int width, height;
  gint64 from, to;
  guint look_serial;
  guint messages;
  GdkRGBA fg;
  guint n_pens;
  Scale scales[KANKYO_TREND_CHART_MAX_PENS];
} DrawKey;

struct _KankyoTrendChart
{
  GtkWidget parent_instance;

  KankyoHistorian *historian;
  GPtrArray *pens; /* Pen* */

  gint64 from, to; /* the view, UTC µs */
  gboolean live;
  gboolean stacked;
  guint tick_id;
  gint64 last_live_read;

  Layout layout;
  int plot_width; /* of the last allocation: the bin width depends on it */

  /* Reading */
  GCancellable *cancellable;
  gboolean reading;
  gboolean replan;
  char *error;
  GMutex lock;
  GCond idle;
  guint in_flight; /* worker threads using the historian, under lock */

  /* Cursor */
  gboolean cursor_shown;
  gboolean cursor_pinned;
  gint64 cursor_time;
  gboolean cursor_reading;
  guint cursor_generation;
  double pointer_x; /* -1 outside the widget */

  /* Gestures */
  gint64 drag_from, drag_to;
  gboolean panning;
  gint64 zoom_span;
  gint64 zoom_anchor;
  double zoom_fraction;

  /* Drawing */
  GHashTable *layouts; /* text -> PangoLayout */
  cairo_pattern_t *hatch;
  /* Layers kept from frame to frame: GTK compares a frame's render nodes
   * with the last one's and repaints only where they differ, so a node
   * kept is a part of the screen not painted again. */
  DrawKey key;
  guint look_serial;    /* bumped by anything that changes how pens look */
  GskRenderNode *under; /* background, grid and axes */
  GskRenderNode *over;  /* pen names and messages */
  GPtrArray *tiles;     /* GskRenderNode* or NULL: the lines, TILE_WIDTH pixels each */
  int now_x;
  GArray *columns[KANKYO_TREND_CHART_MAX_PENS]; /* PixelColumn, per pen, rebuilt each frame */
  guint64 n_paints;
};

G_DEFINE_FINAL_TYPE (KankyoTrendChart, kankyo_trend_chart, GTK_TYPE_WIDGET)

enum
{
  PROP_0,
  PROP_LIVE,
  PROP_STACKED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum
{
  SIGNAL_VIEW_CHANGED,
  SIGNAL_PENS_CHANGED,
  SIGNAL_CURSOR_CHANGED,
  SIGNAL_LOADED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* Muted, so that the process graphic stays grey and only alarms shout. */
static const GdkRGBA pen_colors[KANKYO_TREND_CHART_MAX_PENS] = {
  { 0.247f, 0.431f, 0.604f, 1 }, { 0.604f, 0.357f, 0.247f, 1 }, { 0.357f, 0.541f, 0.290f, 1 },
  { 0.478f, 0.353f, 0.580f, 1 }, { 0.247f, 0.541f, 0.541f, 1 }, { 0.541f, 0.478f, 0.247f, 1 },
  { 0.541f, 0.290f, 0.416f, 1 }, { 0.333f, 0.333f, 0.333f, 1 },
};

/* The same shapes as text, for the readout. */
static const char *const marker_glyphs[KANKYO_TREND_CHART_MAX_PENS]
    = { "●", "■", "▲", "◆", "▼", "✕", "✚", "○" };

static const char *const marker_names[KANKYO_TREND_CHART_MAX_PENS] = {
  N_ ("circle"), N_ ("square"), N_ ("triangle"), N_ ("diamond"), N_ ("downward triangle"),
  N_ ("cross"),  N_ ("plus"),   N_ ("ring"),
};

static const gint64 preset_spans[] = {
  10 * MINUTE_US, HOUR_US, 8 * HOUR_US, DAY_US, 7 * DAY_US,
};

static void plan_reads (KankyoTrendChart *self);
static void start_cursor_read (KankyoTrendChart *self);
static void invalidate_time (KankyoTrendChart *self, gint64 start, gint64 end);
static double time_to_x (KankyoTrendChart *self, gint64 time);

/* ---- series ---- */

static Series *
series_new (gint64 width, gint64 k0, guint n)
{
  Series *s = g_new0 (Series, 1);

  s->width = width;
  s->k0 = k0;
  s->n = n;
  s->columns = g_new0 (Column, MAX (n, 1));
  return s;
}

static void
series_free (Series *s)
{
  if (s == NULL)
    return;
  g_free (s->columns);
  g_free (s);
}

static void
pen_free (Pen *pen)
{
  g_free (pen->tag);
  g_free (pen->label);
  g_free (pen->unit);
  series_free (pen->series);
  g_free (pen);
}

static Pen *
get_pen (KankyoTrendChart *self, guint index)
{
  return g_ptr_array_index (self->pens, index);
}

/* For the public getters: NULL, with a critical, for a wrong index. */
static Pen *
checked_pen (KankyoTrendChart *self, guint index)
{
  g_return_val_if_fail (KANKYO_IS_TREND_CHART (self), NULL);
  g_return_val_if_fail (index < self->pens->len, NULL);
  return g_ptr_array_index (self->pens, index);
}

static void
node_unref0 (gpointer node)
{
  if (node != NULL)
    gsk_render_node_unref (node);
}

static gint64
floor_div (gint64 a, gint64 b)
{
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* The bin width for @span over @plot_width pixels: at least a pixel's
 * time, whole minutes or hours once longer, so rollups can answer. */
static gint64
bin_width_for (gint64 span, int plot_width)
{
  gint64 w = (span + plot_width - 1) / MAX (plot_width, 1);

  w = MAX (w, (span + MAX_BINS - 1) / MAX_BINS);
  if (w > HOUR_US)
    w = (w + HOUR_US - 1) / HOUR_US * HOUR_US;
  else if (w > MINUTE_US)
    w = (w + MINUTE_US - 1) / MINUTE_US * MINUTE_US;
  return MAX (w, 1);
}

/* Adds @frag to what @pen has, keeping at most MAX_CACHED_BINS around the
 * bins [kf, kt) of the view; takes @frag. */
static void
pen_merge (Pen *pen, Series *frag, gint64 kf, gint64 kt)
{
  Series *old = pen->series;
  Series *merged;
  gint64 a, b, margin = kt - kf;

  if (old == NULL || old->width != frag->width || frag->k0 > old->k0 + old->n || frag->k0 + frag->n < old->k0)
    {
      series_free (old);
      pen->series = frag;
      return;
    }
  a = MIN (old->k0, frag->k0);
  b = MAX (old->k0 + (gint64) old->n, frag->k0 + (gint64) frag->n);
  a = MAX (a, kf - margin);
  b = MIN (b, kt + margin);
  if (b - a > MAX_CACHED_BINS)
    {
      a = MAX (a, kf - (MAX_CACHED_BINS - (kt - kf)) / 2);
      b = MIN (b, a + MAX_CACHED_BINS);
    }
  if (b <= a)
    {
      series_free (old);
      pen->series = frag;
      return;
    }
  merged = series_new (frag->width, a, (guint) (b - a));
  for (gint64 k = a; k < b; k++)
    {
      if (k >= frag->k0 && k < frag->k0 + frag->n)
        merged->columns[k - a] = frag->columns[k - frag->k0];
      else if (k >= old->k0 && k < old->k0 + old->n)
        merged->columns[k - a] = old->columns[k - old->k0];
    }
  if (frag->k0 + frag->n >= old->k0 + old->n)
    {
      merged->complete_until = frag->complete_until;
      merged->known_until = frag->known_until;
    }
  else
    {
      merged->complete_until = old->complete_until;
      merged->known_until = old->known_until;
    }
  series_free (old);
  series_free (frag);
  pen->series = merged;
}

/* ---- reading, on a worker thread ---- */

typedef struct
{
  char *tag;
  gint64 width, ka, kb;
  /* Out */
  Series *series;
  char *unit;
  gboolean not_recorded;
} PenRead;

typedef struct
{
  KankyoHistorian *historian;
  GPtrArray *reads; /* PenRead* */
  gint64 now;
  gint64 kf, kt; /* the view's bins when the read started */
  char *error;
} ReadJob;

static void
pen_read_free (PenRead *r)
{
  g_free (r->tag);
  g_free (r->unit);
  series_free (r->series);
  g_free (r);
}

static void
read_job_free (ReadJob *job)
{
  g_ptr_array_unref (job->reads);
  g_free (job->error);
  g_free (job);
}

static void
enter_historian (KankyoTrendChart *self)
{
  g_mutex_lock (&self->lock);
  self->in_flight++;
  g_mutex_unlock (&self->lock);
}

static void
leave_historian (KankyoTrendChart *self)
{
  g_mutex_lock (&self->lock);
  self->in_flight--;
  g_cond_broadcast (&self->idle);
  g_mutex_unlock (&self->lock);
}

/* Until no worker uses the historian: the engine may close it next. */
static void
wait_for_workers (KankyoTrendChart *self)
{
  g_mutex_lock (&self->lock);
  while (self->in_flight > 0)
    g_cond_wait (&self->idle, &self->lock);
  g_mutex_unlock (&self->lock);
}

typedef enum
{
  STATE_UNKNOWN,
  STATE_VALUE,
  STATE_BAD,
} CarryState;

/* Whether a bin holding both Good and Bad samples ended Bad. */
static gboolean
bin_ends_bad (KankyoHistorian *historian, guint id, const KankyoHistorianBin *bin, GError **error)
{
  g_autoptr (GArray) raw
      = kankyo_historian_read_raw (historian, id, bin->start, bin->start + bin->width, FALSE, error);
  const KankyoHistorianSample *last;

  if (raw == NULL || raw->len == 0)
    return raw == NULL;
  last = &g_array_index (raw, KankyoHistorianSample, raw->len - 1);
  return kankyo_quality_is_bad (last->quality) || !isfinite (last->value);
}

static gboolean
read_pen (KankyoHistorian *historian, PenRead *r, gint64 now, GError **error)
{
  gint64 from = r->ka * r->width;
  gint64 to = r->kb * r->width;
  guint n = (guint) (r->kb - r->ka);
  guint id = kankyo_historian_lookup (historian, r->tag);
  g_autoptr (GArray) prior = NULL;
  g_autoptr (GArray) bins = NULL;
  CarryState state = STATE_UNKNOWN;
  double carried = NAN;
  guint lookups = 0;

  if (id == 0)
    {
      r->not_recorded = TRUE;
      return TRUE;
    }
  r->unit = kankyo_historian_get_unit (historian, id);
  prior = kankyo_historian_read_raw (historian, id, from, from + 1, TRUE, error);
  if (prior == NULL)
    return FALSE;
  if (prior->len > 0 && g_array_index (prior, KankyoHistorianSample, 0).time < from)
    {
      const KankyoHistorianSample *s = &g_array_index (prior, KankyoHistorianSample, 0);

      if (kankyo_quality_is_bad (s->quality) || !isfinite (s->value))
        state = STATE_BAD;
      else
        {
          state = STATE_VALUE;
          carried = s->value;
        }
    }
  bins = kankyo_historian_read_binned (historian, id, from, to, n, error);
  if (bins == NULL)
    return FALSE;
  if (bins->len != n)
    {
      g_set_error (error, KANKYO_HISTORIAN_ERROR, KANKYO_HISTORIAN_ERROR_READ,
                   _ ("%s: %u bins asked for, %u read"), r->tag, n, bins->len);
      return FALSE;
    }

  r->series = series_new (r->width, r->ka, n);
  r->series->known_until = now;
  r->series->complete_until = now - COMMIT_LAG_US;
  for (guint i = 0; i < n; i++)
    {
      const KankyoHistorianBin *b = &g_array_index (bins, KankyoHistorianBin, i);
      Column *c = &r->series->columns[i];

      if (b->start >= now)
        continue; /* the future: nothing to carry into */
      if (b->no_data)
        {
          if (state == STATE_VALUE)
            {
              c->kind = COLUMN_VALUE;
              c->lo = c->hi = c->last = carried;
            }
          else if (state == STATE_BAD)
            c->kind = COLUMN_GAP;
          continue;
        }
      if (b->count == 0)
        {
          c->kind = COLUMN_GAP;
          c->bad = TRUE;
          state = STATE_BAD;
          continue;
        }
      c->kind = COLUMN_VALUE;
      c->lo = b->min;
      c->hi = b->max;
      c->last = b->last;
      c->count = (guint32) MIN (b->count, G_MAXUINT32);
      c->bad = b->bad;
      state = STATE_VALUE;
      carried = b->last;
      /* Good and Bad in one bin: what follows an empty bin depends on
       * which came last, which only the raw data knows. */
      if (b->bad && i + 1 < n && g_array_index (bins, KankyoHistorianBin, i + 1).no_data)
        {
          gboolean ends_bad = TRUE;

          if (lookups++ < MAX_MIXED_LOOKUPS)
            {
              ends_bad = bin_ends_bad (historian, id, b, error);
              if (error != NULL && *error != NULL)
                return FALSE;
            }
          if (ends_bad)
            state = STATE_BAD;
        }
    }
  return TRUE;
}

static void
read_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  KankyoTrendChart *self = source;
  ReadJob *job = task_data;

  for (guint i = 0; i < job->reads->len && !g_cancellable_is_cancelled (cancellable); i++)
    {
      g_autoptr (GError) error = NULL;

      if (!read_pen (job->historian, g_ptr_array_index (job->reads, i), job->now, &error))
        {
          job->error = g_strdup (error->message);
          break;
        }
    }
  leave_historian (self);
  g_task_return_boolean (task, TRUE);
}

static gboolean
view_bins (KankyoTrendChart *self, gint64 *ret_width, gint64 *ret_kf, gint64 *ret_kt)
{
  gint64 width;

  if (self->plot_width <= 0)
    return FALSE;
  width = bin_width_for (self->to - self->from, self->plot_width);
  *ret_width = width;
  *ret_kf = floor_div (self->from, width);
  *ret_kt = floor_div (self->to + width - 1, width);
  return TRUE;
}

static void
on_read_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  KankyoTrendChart *self = KANKYO_TREND_CHART (source);
  ReadJob *job = g_task_get_task_data (G_TASK (result));
  gint64 width, kf, kt;

  /* A cancelled read belongs to a historian or a chart that is gone. */
  if (!g_task_propagate_boolean (G_TASK (result), NULL)
      || g_cancellable_is_cancelled (g_task_get_cancellable (G_TASK (result))))
    return;
  self->reading = FALSE;
  if (g_strcmp0 (self->error, job->error) != 0)
    self->look_serial++;
  g_clear_pointer (&self->error, g_free);
  self->error = g_strdup (job->error);
  if (!view_bins (self, &width, &kf, &kt))
    {
      kf = job->kf;
      kt = job->kt;
    }
  for (guint i = 0; i < job->reads->len; i++)
    {
      PenRead *r = g_ptr_array_index (job->reads, i);
      int index = kankyo_trend_chart_find_pen (self, r->tag);
      Pen *pen;

      if (index < 0)
        continue;
      pen = get_pen (self, (guint) index);
      pen->not_recorded = r->not_recorded;
      if (r->unit != NULL && pen->unit == NULL)
        {
          pen->unit = g_steal_pointer (&r->unit);
          self->look_serial++;
          g_signal_emit (self, signals[SIGNAL_PENS_CHANGED], 0);
        }
      if (r->series != NULL)
        {
          invalidate_time (self, r->series->k0 * r->series->width,
                           (r->series->k0 + (gint64) r->series->n) * r->series->width);
          pen_merge (pen, g_steal_pointer (&r->series), kf, kt);
        }
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
  if (self->replan)
    {
      self->replan = FALSE;
      plan_reads (self);
    }
  g_signal_emit (self, signals[SIGNAL_LOADED], 0);
}

/* The bins a pen still needs for the view: none, those missing on one
 * side of what it has, or all of them. */
static gboolean
pen_needs (Pen *pen, gint64 width, gint64 kf, gint64 kt, gint64 *ret_ka, gint64 *ret_kb)
{
  Series *s = pen->series;
  gint64 end, valid_end;
  gboolean left, right;

  if (s == NULL || s->width != width || kf >= s->k0 + s->n || kt <= s->k0)
    {
      *ret_ka = kf;
      *ret_kb = kt;
      return TRUE;
    }
  end = s->k0 + s->n;
  valid_end = MIN (end, floor_div (s->complete_until, width));
  left = kf < s->k0;
  right = kt > valid_end;
  if ((left && right) || valid_end <= kf)
    {
      *ret_ka = kf;
      *ret_kb = kt;
    }
  else if (left)
    {
      *ret_ka = kf;
      *ret_kb = s->k0;
    }
  else if (right)
    {
      *ret_ka = valid_end;
      *ret_kb = kt;
    }
  else
    return FALSE;
  return TRUE;
}

static void
plan_reads (KankyoTrendChart *self)
{
  g_autoptr (GTask) task = NULL;
  ReadJob *job;
  gint64 width, kf, kt;

  if (self->reading)
    {
      self->replan = TRUE;
      return;
    }
  if (self->historian == NULL || self->pens->len == 0 || !view_bins (self, &width, &kf, &kt))
    return;

  job = g_new0 (ReadJob, 1);
  job->historian = self->historian;
  job->reads = g_ptr_array_new_with_free_func ((GDestroyNotify) pen_read_free);
  job->now = g_get_real_time ();
  job->kf = kf;
  job->kt = kt;
  for (guint i = 0; i < self->pens->len; i++)
    {
      Pen *pen = get_pen (self, i);
      gint64 ka, kb;

      if (pen_needs (pen, width, kf, kt, &ka, &kb))
        {
          PenRead *r = g_new0 (PenRead, 1);

          r->tag = g_strdup (pen->tag);
          r->width = width;
          r->ka = ka;
          r->kb = kb;
          g_ptr_array_add (job->reads, r);
        }
    }
  if (job->reads->len == 0)
    {
      read_job_free (job);
      return;
    }

  self->reading = TRUE;
  enter_historian (self);
  task = g_task_new (self, self->cancellable, on_read_done, NULL);
  g_task_set_source_tag (task, plan_reads);
  g_task_set_task_data (task, job, (GDestroyNotify) read_job_free);
  g_task_run_in_thread (task, read_thread);
}

/* Forgets what was read: the historian or the pens changed. */
static void
restart_reads (KankyoTrendChart *self)
{
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  self->reading = FALSE;
  self->replan = FALSE;
  self->cursor_reading = FALSE;
  plan_reads (self);
}

/* ---- the cursor's reading ---- */

typedef struct
{
  KankyoHistorian *historian;
  gint64 time;
  guint generation;
  GStrv tags;
  gboolean *found;
  gboolean *failed;
  KankyoHistorianSample *samples;
} CursorJob;

static void
cursor_job_free (CursorJob *job)
{
  g_strfreev (job->tags);
  g_free (job->found);
  g_free (job->failed);
  g_free (job->samples);
  g_free (job);
}

static void
cursor_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  CursorJob *job = task_data;

  for (guint i = 0; job->tags[i] != NULL && !g_cancellable_is_cancelled (cancellable); i++)
    {
      guint id = kankyo_historian_lookup (job->historian, job->tags[i]);
      g_autoptr (GArray) raw = NULL;

      if (id == 0)
        continue;
      /* [t, t + 1) with the sample before: the last of them is the one in force at t. */
      raw = kankyo_historian_read_raw (job->historian, id, job->time, job->time + 1, TRUE, NULL);
      job->failed[i] = raw == NULL;
      if (raw != NULL && raw->len > 0)
        {
          job->found[i] = TRUE;
          job->samples[i] = g_array_index (raw, KankyoHistorianSample, raw->len - 1);
        }
    }
  leave_historian (source);
  g_task_return_boolean (task, TRUE);
}

static void
on_cursor_read_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  KankyoTrendChart *self = KANKYO_TREND_CHART (source);
  CursorJob *job = g_task_get_task_data (G_TASK (result));

  if (!g_task_propagate_boolean (G_TASK (result), NULL)
      || g_cancellable_is_cancelled (g_task_get_cancellable (G_TASK (result))))
    return;
  self->cursor_reading = FALSE;
  for (guint i = 0; job->tags[i] != NULL; i++)
    {
      int index = kankyo_trend_chart_find_pen (self, job->tags[i]);
      Pen *pen;

      if (index < 0)
        continue;
      pen = get_pen (self, (guint) index);
      pen->cursor_time = job->time;
      pen->cursor_known = TRUE;
      pen->cursor_found = job->found[i];
      pen->cursor_failed = job->failed[i];
      pen->cursor_sample = job->samples[i];
    }
  if (self->cursor_shown && job->generation != self->cursor_generation)
    start_cursor_read (self);
  else
    {
      g_autofree char *readout = kankyo_trend_chart_get_cursor_readout (self);

      gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                      readout != NULL ? readout : "", -1);
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_signal_emit (self, signals[SIGNAL_CURSOR_CHANGED], 0);
}

/* One at a time: a pointer moving over the chart asks again when the read
 * in flight is done. */
static void
start_cursor_read (KankyoTrendChart *self)
{
  g_autoptr (GTask) task = NULL;
  CursorJob *job;

  if (self->cursor_reading || self->historian == NULL || self->pens->len == 0 || !self->cursor_shown)
    return;
  job = g_new0 (CursorJob, 1);
  job->historian = self->historian;
  job->time = self->cursor_time;
  job->generation = self->cursor_generation;
  job->tags = g_new0 (char *, self->pens->len + 1);
  job->found = g_new0 (gboolean, self->pens->len);
  job->failed = g_new0 (gboolean, self->pens->len);
  job->samples = g_new0 (KankyoHistorianSample, self->pens->len);
  for (guint i = 0; i < self->pens->len; i++)
    job->tags[i] = g_strdup (get_pen (self, i)->tag);

  self->cursor_reading = TRUE;
  enter_historian (self);
  task = g_task_new (self, self->cancellable, on_cursor_read_done, NULL);
  g_task_set_source_tag (task, start_cursor_read);
  g_task_set_task_data (task, job, (GDestroyNotify) cursor_job_free);
  g_task_run_in_thread (task, cursor_thread);
}

static void
move_cursor (KankyoTrendChart *self, gint64 time, gboolean pinned)
{
  if (self->cursor_shown && self->cursor_time == time && self->cursor_pinned == pinned)
    return;
  self->cursor_shown = TRUE;
  self->cursor_pinned = pinned;
  self->cursor_time = time;
  self->cursor_generation++;
  for (guint i = 0; i < self->pens->len; i++)
    get_pen (self, i)->cursor_known = FALSE;
  start_cursor_read (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_signal_emit (self, signals[SIGNAL_CURSOR_CHANGED], 0);
}

static void
hide_cursor (KankyoTrendChart *self)
{
  if (!self->cursor_shown)
    return;
  self->cursor_shown = FALSE;
  self->cursor_pinned = FALSE;
  self->cursor_generation++;
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, "", -1);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_signal_emit (self, signals[SIGNAL_CURSOR_CHANGED], 0);
}

/* ---- the view ---- */

/* The end of a live view: the next step after now. Moving a view even by a
 * pixel repaints all of it, so a live view moves on by a tenth of its span
 * at a time, like the paper of a strip chart recorder, and in between only
 * what is new is painted. */
static gint64
live_end (gint64 now, gint64 span)
{
  gint64 step = MAX (span / LIVE_STEPS, 1);

  return (floor_div (now, step) + 1) * step;
}

static gboolean
on_live_tick (GtkWidget *widget, GdkFrameClock *clock, gpointer user_data)
{
  KankyoTrendChart *self = KANKYO_TREND_CHART (widget);
  gint64 now = g_get_real_time ();
  gint64 span = self->to - self->from;

  /* A step when now reaches the end; the line of now moves by pixels;
   * what was recorded is read once a second. */
  if (now >= self->to)
    {
      self->to = live_end (now, span);
      self->from = self->to - span;
      gtk_widget_queue_draw (widget);
    }
  else if ((int) floor (time_to_x (self, now)) != self->now_x)
    gtk_widget_queue_draw (widget);
  if (now - self->last_live_read >= LIVE_READ_US)
    {
      self->last_live_read = now;
      plan_reads (self);
    }
  return G_SOURCE_CONTINUE;
}

static void
update_tick (KankyoTrendChart *self)
{
  gboolean want = self->live && gtk_widget_get_mapped (GTK_WIDGET (self));

  if (want && self->tick_id == 0)
    self->tick_id = gtk_widget_add_tick_callback (GTK_WIDGET (self), on_live_tick, NULL, NULL);
  else if (!want && self->tick_id != 0)
    {
      gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->tick_id);
      self->tick_id = 0;
    }
}

static void
set_view (KankyoTrendChart *self, gint64 from, gint64 to, gboolean live)
{
  gint64 span = CLAMP (to - from, KANKYO_TREND_CHART_MIN_SPAN_US, KANKYO_TREND_CHART_MAX_SPAN_US);
  gint64 now = g_get_real_time ();
  gboolean changed;

  if (live)
    to = live_end (now, span);
  else
    to = MIN (from + span, now);
  from = to - span;
  if (from < 0)
    {
      from = 0;
      to = span;
    }
  changed = from != self->from || to != self->to || live != self->live;
  self->from = from;
  self->to = to;
  if (live != self->live)
    {
      self->live = live;
      self->last_live_read = now;
      update_tick (self);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LIVE]);
    }
  if (changed)
    {
      gtk_widget_queue_draw (GTK_WIDGET (self));
      plan_reads (self);
      g_signal_emit (self, signals[SIGNAL_VIEW_CHANGED], 0);
    }
}

static gint64
pixel_time (KankyoTrendChart *self)
{
  return MAX ((self->to - self->from) / MAX (self->plot_width, 1), 1);
}

/* Zooms by @factor (below 1 zooms in) keeping @anchor where it is on
 * screen; in live mode the right edge stays at now. */
static void
zoom_at (KankyoTrendChart *self, double factor, gint64 anchor)
{
  gint64 span = self->to - self->from;
  double new_span = CLAMP (span * factor, (double) KANKYO_TREND_CHART_MIN_SPAN_US,
                           (double) KANKYO_TREND_CHART_MAX_SPAN_US);
  double fraction = span > 0 ? (double) (anchor - self->from) / span : 1;
  gint64 from;

  if (self->live)
    {
      set_view (self, self->to - (gint64) new_span, self->to, TRUE);
      return;
    }
  from = anchor - (gint64) (fraction * new_span);
  set_view (self, from, from + (gint64) new_span, FALSE);
}

static void
pan_by (KankyoTrendChart *self, double fraction)
{
  gint64 shift = (gint64) ((self->to - self->from) * fraction);

  set_view (self, self->from + shift, self->to + shift, FALSE);
}

static gint64
view_anchor (KankyoTrendChart *self)
{
  if (self->cursor_shown && self->cursor_time >= self->from && self->cursor_time <= self->to)
    return self->cursor_time;
  return self->from + (self->to - self->from) / 2;
}

/* ---- going to the start of the data ---- */

typedef struct
{
  KankyoHistorian *historian;
  GStrv tags;
  gint64 first;
  gboolean found;
} ExtentJob;

static void
extent_job_free (ExtentJob *job)
{
  g_strfreev (job->tags);
  g_free (job);
}

static void
extent_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  ExtentJob *job = task_data;

  for (guint i = 0; job->tags[i] != NULL; i++)
    {
      guint id = kankyo_historian_lookup (job->historian, job->tags[i]);
      gint64 first, last;

      if (id != 0 && kankyo_historian_get_extent (job->historian, id, &first, &last)
          && (!job->found || first < job->first))
        {
          job->first = first;
          job->found = TRUE;
        }
    }
  leave_historian (source);
  g_task_return_boolean (task, TRUE);
}

static void
on_extent_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  KankyoTrendChart *self = KANKYO_TREND_CHART (source);
  ExtentJob *job = g_task_get_task_data (G_TASK (result));
  gint64 span = self->to - self->from;

  if (!g_task_propagate_boolean (G_TASK (result), NULL)
      || g_cancellable_is_cancelled (g_task_get_cancellable (G_TASK (result))) || !job->found)
    return;
  set_view (self, job->first, job->first + span, FALSE);
}

static void
go_to_start (KankyoTrendChart *self)
{
  g_autoptr (GTask) task = NULL;
  ExtentJob *job;

  if (self->historian == NULL || self->pens->len == 0)
    return;
  job = g_new0 (ExtentJob, 1);
  job->historian = self->historian;
  job->tags = g_new0 (char *, self->pens->len + 1);
  for (guint i = 0; i < self->pens->len; i++)
    job->tags[i] = g_strdup (get_pen (self, i)->tag);
  enter_historian (self);
  task = g_task_new (self, self->cancellable, on_extent_done, NULL);
  g_task_set_source_tag (task, go_to_start);
  g_task_set_task_data (task, job, (GDestroyNotify) extent_job_free);
  g_task_run_in_thread (task, extent_thread);
}

/* ---- layout ---- */

static void
compute_layout (KankyoTrendChart *self, int width, int height, Layout *ret)
{
  guint n = MAX (self->pens->len, 1);
  double left = AXIS_WIDTH;
  double plot_h;

  ret->stacked = self->stacked;
  /* Side by side axes need room; a narrow chart stacks instead. */
  if (!ret->stacked && SIDE_AXIS_WIDTH * (int) n > width / 2)
    ret->stacked = TRUE;
  if (!ret->stacked)
    left = SIDE_AXIS_WIDTH * n;
  ret->plot = GRAPHENE_RECT_INIT (left, MARGIN, MAX (width - left - MARGIN, 0),
                                  MAX (height - MARGIN - TIME_AXIS_HEIGHT, 0));
  plot_h = ret->plot.size.height;
  for (guint i = 0; i < n; i++)
    {
      if (ret->stacked)
        {
          double lane_h = MAX ((plot_h - LANE_GAP * (n - 1)) / n, 1);

          ret->lanes[i] = GRAPHENE_RECT_INIT (
              ret->plot.origin.x, ret->plot.origin.y + i * (lane_h + LANE_GAP), ret->plot.size.width, lane_h);
        }
      else
        ret->lanes[i] = ret->plot;
    }
}

static double
time_to_x (KankyoTrendChart *self, gint64 time)
{
  const graphene_rect_t *p = &self->layout.plot;
  gint64 span = self->to - self->from;

  return p->origin.x + (double) (time - self->from) * p->size.width / (double) MAX (span, 1);
}

/* ---- drawing ---- */

static PangoLayout *
get_layout (KankyoTrendChart *self, const char *text)
{
  PangoLayout *layout = g_hash_table_lookup (self->layouts, text);

  if (layout == NULL)
    {
      if (g_hash_table_size (self->layouts) >= MAX_LAYOUTS)
        g_hash_table_remove_all (self->layouts);
      layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), text);
      g_hash_table_insert (self->layouts, g_strdup (text), layout);
    }
  return layout;
}

static void
draw_text (GtkSnapshot *snapshot, PangoLayout *layout, double x, double y, const GdkRGBA *color)
{
  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT ((float) round (x), (float) round (y)));
  gtk_snapshot_append_layout (snapshot, layout, color);
  gtk_snapshot_restore (snapshot);
}

static void
draw_marker (cairo_t *cr, KankyoTrendMarker marker, double x, double y, double r)
{
  switch (marker)
    {
      case KANKYO_TREND_MARKER_CIRCLE:
        cairo_arc (cr, x, y, r, 0, 2 * G_PI);
        cairo_fill (cr);
        break;
      case KANKYO_TREND_MARKER_SQUARE:
        cairo_rectangle (cr, x - r * 0.85, y - r * 0.85, r * 1.7, r * 1.7);
        cairo_fill (cr);
        break;
      case KANKYO_TREND_MARKER_TRIANGLE:
        cairo_move_to (cr, x, y - r * 1.1);
        cairo_line_to (cr, x + r, y + r * 0.8);
        cairo_line_to (cr, x - r, y + r * 0.8);
        cairo_close_path (cr);
        cairo_fill (cr);
        break;
      case KANKYO_TREND_MARKER_DIAMOND:
        cairo_move_to (cr, x, y - r * 1.2);
        cairo_line_to (cr, x + r, y);
        cairo_line_to (cr, x, y + r * 1.2);
        cairo_line_to (cr, x - r, y);
        cairo_close_path (cr);
        cairo_fill (cr);
        break;
      case KANKYO_TREND_MARKER_TRIANGLE_DOWN:
        cairo_move_to (cr, x, y + r * 1.1);
        cairo_line_to (cr, x + r, y - r * 0.8);
        cairo_line_to (cr, x - r, y - r * 0.8);
        cairo_close_path (cr);
        cairo_fill (cr);
        break;
      case KANKYO_TREND_MARKER_CROSS:
        cairo_set_line_width (cr, 2);
        cairo_move_to (cr, x - r, y - r);
        cairo_line_to (cr, x + r, y + r);
        cairo_move_to (cr, x - r, y + r);
        cairo_line_to (cr, x + r, y - r);
        cairo_stroke (cr);
        break;
      case KANKYO_TREND_MARKER_PLUS:
        cairo_set_line_width (cr, 2.5);
        cairo_move_to (cr, x - r * 1.2, y);
        cairo_line_to (cr, x + r * 1.2, y);
        cairo_move_to (cr, x, y - r * 1.2);
        cairo_line_to (cr, x, y + r * 1.2);
        cairo_stroke (cr);
        break;
      case KANKYO_TREND_MARKER_RING:
      default:
        cairo_set_line_width (cr, 2);
        cairo_arc (cr, x, y, r * 0.9, 0, 2 * G_PI);
        cairo_stroke (cr);
        break;
    }
}

/* Pixel columns of @pen in the view, into @pcs. */
static void
build_columns (KankyoTrendChart *self, Pen *pen, GArray *pcs)
{
  const graphene_rect_t *plot = &self->layout.plot;
  Series *s = pen->series;
  int left = (int) plot->origin.x;
  int right = (int) (plot->origin.x + plot->size.width);
  gint64 k, kend;

  g_array_set_size (pcs, 0);
  if (s == NULL)
    return;
  k = MAX (s->k0, floor_div (self->from, s->width));
  kend = MIN (s->k0 + (gint64) s->n, floor_div (self->to, s->width) + 1);
  for (; k < kend; k++)
    {
      const Column *c = &s->columns[k - s->k0];
      PixelColumn *pc = NULL;
      int x0, x1;

      if (c->kind == COLUMN_EMPTY)
        continue;
      x0 = (int) floor (time_to_x (self, k * s->width));
      x1 = (int) floor (time_to_x (self, (k + 1) * s->width));
      x0 = CLAMP (x0, left, right);
      x1 = CLAMP (x1, left, right);
      if (x1 <= x0)
        {
          if (x0 >= right)
            continue;
          x1 = x0 + 1;
        }
      if (pcs->len > 0)
        {
          pc = &g_array_index (pcs, PixelColumn, pcs->len - 1);
          if (x0 >= pc->x1)
            pc = NULL;
        }
      if (pc == NULL)
        {
          g_array_set_size (pcs, pcs->len + 1);
          pc = &g_array_index (pcs, PixelColumn, pcs->len - 1);
          *pc = (PixelColumn){ x0, x1, INFINITY, -INFINITY, NAN, FALSE, FALSE };
        }
      pc->x1 = MAX (pc->x1, x1);
      if (c->kind == COLUMN_VALUE)
        {
          pc->value = TRUE;
          pc->lo = MIN (pc->lo, c->lo);
          pc->hi = MAX (pc->hi, c->hi);
          pc->last = c->last;
        }
      if (c->kind == COLUMN_GAP || c->bad)
        pc->gap = TRUE;
    }
}

/* Tick-aligned bounds around [lo, hi] with about @max_ticks steps. */
static Scale
nice_scale (double lo, double hi, int max_ticks)
{
  Scale scale = { 0 };
  double range, rough, magnitude, norm, step;

  if (!isfinite (lo) || !isfinite (hi))
    return scale;
  if (hi - lo < fabs (hi) * 1e-9 + 1e-12)
    {
      double pad = fabs (hi) > 1e-12 ? fabs (hi) * 0.02 : 1;

      lo -= pad;
      hi += pad;
    }
  range = hi - lo;
  lo -= range * 0.04;
  hi += range * 0.04;
  rough = (hi - lo) / MAX (max_ticks, 1);
  magnitude = pow (10, floor (log10 (rough)));
  norm = rough / magnitude;
  step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 2.5 ? 2.5 : norm <= 5 ? 5 : 10) * magnitude;
  scale.lo = floor (lo / step) * step;
  scale.hi = ceil (hi / step) * step;
  scale.step = step;
  scale.valid = scale.hi > scale.lo && isfinite (scale.lo) && isfinite (scale.hi);
  return scale;
}

static char *
format_tick (double value, double step)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  char format[16];
  int decimals;

  if (fabs (value) < step * 1e-6)
    value = 0;
  if (fabs (value) >= 1e6 || step < 1e-4)
    g_ascii_formatd (buf, sizeof buf, "%.3g", value);
  else
    {
      decimals = (int) CLAMP (ceil (-log10 (step) - 1e-9), 0, 6);
      g_snprintf (format, sizeof format, "%%.%df", decimals);
      g_ascii_formatd (buf, sizeof buf, format, value);
    }
  return g_strdup (buf);
}

static double
value_to_y (const graphene_rect_t *lane, const Scale *scale, double v)
{
  return lane->origin.y + lane->size.height - (v - scale->lo) / (scale->hi - scale->lo) * lane->size.height;
}

static void
get_fg_color (KankyoTrendChart *self, GdkRGBA *ret_color)
{
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  gtk_style_context_get_color (gtk_widget_get_style_context (GTK_WIDGET (self)), ret_color);
  G_GNUC_END_IGNORE_DEPRECATIONS
}

static cairo_pattern_t *
get_hatch (KankyoTrendChart *self, const GdkRGBA *fg)
{
  if (self->hatch == NULL)
    {
      cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 8, 8);
      cairo_t *cr = cairo_create (surface);

      cairo_set_source_rgba (cr, fg->red, fg->green, fg->blue, 0.45);
      cairo_set_line_width (cr, 1.5);
      cairo_move_to (cr, -2, 10);
      cairo_line_to (cr, 10, -2);
      cairo_move_to (cr, -2, 2);
      cairo_line_to (cr, 2, -2);
      cairo_move_to (cr, 6, 10);
      cairo_line_to (cr, 10, 6);
      cairo_stroke (cr);
      cairo_destroy (cr);
      self->hatch = cairo_pattern_create_for_surface (surface);
      cairo_pattern_set_extend (self->hatch, CAIRO_EXTEND_REPEAT);
      cairo_surface_destroy (surface);
    }
  return self->hatch;
}

/* Time ticks: a step of at least TICK_SPACING pixels, at round local times. */
static gint64
tick_step (KankyoTrendChart *self)
{
  static const gint64 steps_s[]
      = { 1,    2,    5,    10,    15,    30,    60,    120,    300,    600,     900,
          1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800, 1209600, 2419200 };
  double px_per_s = self->layout.plot.size.width * G_USEC_PER_SEC / (double) MAX (self->to - self->from, 1);

  for (guint i = 0; i < G_N_ELEMENTS (steps_s); i++)
    if (steps_s[i] * px_per_s >= TICK_SPACING)
      return steps_s[i] * G_USEC_PER_SEC;
  return steps_s[G_N_ELEMENTS (steps_s) - 1] * G_USEC_PER_SEC;
}

static GDateTime *
local_time (gint64 utc_us)
{
  return g_date_time_new_from_unix_local (floor_div (utc_us, G_USEC_PER_SEC));
}

/* The first tick at or after @t: a multiple of @step in local time, or
 * local midnight for steps of days. */
static gint64
align_tick (gint64 t, gint64 step)
{
  g_autoptr (GDateTime) local = local_time (t);
  gint64 offset = local != NULL ? g_date_time_get_utc_offset (local) : 0;

  if (step >= DAY_US && local != NULL)
    {
      g_autoptr (GDateTime) midnight
          = g_date_time_new_local (g_date_time_get_year (local), g_date_time_get_month (local),
                                   g_date_time_get_day_of_month (local), 0, 0, 0);
      g_autoptr (GDateTime) next = midnight != NULL ? g_date_time_add_days (midnight, 1) : NULL;

      if (midnight == NULL || next == NULL)
        return t;
      /* The next midnight by the calendar: a day is 23 or 25 hours when
       * the clocks change. */
      if (g_date_time_to_unix (midnight) * G_USEC_PER_SEC >= t)
        return g_date_time_to_unix (midnight) * G_USEC_PER_SEC;
      return g_date_time_to_unix (next) * G_USEC_PER_SEC;
    }
  return floor_div (t + offset + step - 1, step) * step - offset;
}

static void
draw_time_axis (KankyoTrendChart *self, GtkSnapshot *snapshot, cairo_t *cr, const GdkRGBA *fg)
{
  const graphene_rect_t *plot = &self->layout.plot;
  gint64 step = tick_step (self);
  gint64 t = align_tick (self->from, step);
  GdkRGBA text = *fg;
  int last_day = -1;
  guint guard = 0;

  text.alpha *= 0.75f;
  cairo_set_source_rgba (cr, fg->red, fg->green, fg->blue, 0.10);
  cairo_set_line_width (cr, 1);
  for (; t <= self->to && guard < 200; guard++)
    {
      g_autoptr (GDateTime) local = local_time (t);
      double x = floor (time_to_x (self, t)) + 0.5;
      g_autofree char *label = NULL;
      PangoLayout *layout;
      int w, h;

      if (local == NULL)
        break;
      cairo_move_to (cr, x, plot->origin.y);
      cairo_line_to (cr, x, plot->origin.y + plot->size.height);
      if (step >= DAY_US)
        /* Translators: a date under the time axis of a trend; strftime format */
        label = g_date_time_format (local, C_ ("trend axis", "%b %d"));
      else if (step >= MINUTE_US)
        label = g_date_time_format (local, "%H:%M");
      else
        label = g_date_time_format (local, "%H:%M:%S");
      layout = get_layout (self, label);
      pango_layout_get_pixel_size (layout, &w, &h);
      if (x - w / 2.0 >= plot->origin.x - 20 && x + w / 2.0 <= plot->origin.x + plot->size.width + MARGIN)
        {
          draw_text (snapshot, layout, x - w / 2.0, plot->origin.y + plot->size.height + 3, &text);
          /* The date under the first tick and wherever the day changes. */
          if (step < DAY_US && g_date_time_get_day_of_year (local) != last_day)
            {
              /* Translators: the date under a trend's time axis; strftime format */
              g_autofree char *date = g_date_time_format (local, C_ ("trend axis", "%Y-%m-%d"));
              PangoLayout *date_layout = get_layout (self, date);
              int dw, dh;

              pango_layout_get_pixel_size (date_layout, &dw, &dh);
              draw_text (snapshot, date_layout, x - dw / 2.0, plot->origin.y + plot->size.height + 3 + h,
                         &text);
              last_day = g_date_time_get_day_of_year (local);
            }
        }
      t = align_tick (t + step, step);
    }
  cairo_stroke (cr);
}

/* The first column that reaches past @x. */
static guint
first_column_after (GArray *pcs, int x)
{
  guint lo = 0, hi = pcs->len;

  while (lo < hi)
    {
      guint mid = (lo + hi) / 2;

      if (g_array_index (pcs, PixelColumn, mid).x1 <= x)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

/* Hatching where quality was Bad, between x0 and x1. */
static void
draw_gaps (KankyoTrendChart *self,
           cairo_t *cr,
           GArray *pcs,
           int x0,
           int x1,
           const graphene_rect_t *lane,
           const GdkRGBA *fg)
{
  cairo_set_source (cr, get_hatch (self, fg));
  for (guint i = first_column_after (pcs, x0); i < pcs->len; i++)
    {
      const PixelColumn *pc = &g_array_index (pcs, PixelColumn, i);

      if (pc->x0 >= x1)
        break;
      if (pc->gap)
        cairo_rectangle (cr, MAX (pc->x0, x0), lane->origin.y, MIN (pc->x1, x1) - MAX (pc->x0, x0),
                         lane->size.height);
    }
  cairo_fill (cr);
}

/* One box per pixel column from its minimum to its maximum, reaching to
 * the value the column before ended on, unless something lies between. */
static void
draw_trace (cairo_t *cr, GArray *pcs, int x0, int x1, const graphene_rect_t *lane, const Scale *scale)
{
  for (guint i = first_column_after (pcs, x0); i < pcs->len; i++)
    {
      const PixelColumn *pc = &g_array_index (pcs, PixelColumn, i);
      const PixelColumn *before = i > 0 ? &g_array_index (pcs, PixelColumn, i - 1) : NULL;
      double lo, hi, top, bottom;

      if (pc->x0 >= x1)
        break;
      if (!pc->value)
        continue;
      lo = pc->lo;
      hi = pc->hi;
      if (before != NULL && before->value && before->x1 == pc->x0 && isfinite (before->last))
        {
          lo = MIN (lo, before->last);
          hi = MAX (hi, before->last);
        }
      top = round (value_to_y (lane, scale, hi) - TRACE_WIDTH / 2.0);
      bottom = round (value_to_y (lane, scale, lo) + TRACE_WIDTH / 2.0);
      top = CLAMP (top, lane->origin.y - TRACE_WIDTH, lane->origin.y + lane->size.height);
      bottom = CLAMP (bottom, top + TRACE_WIDTH, lane->origin.y + lane->size.height + TRACE_WIDTH);
      cairo_rectangle (cr, MAX (pc->x0, x0), top, MIN (pc->x1, x1) - MAX (pc->x0, x0), bottom - top);
    }
  cairo_fill (cr);
}

static const PixelColumn *
column_at (GArray *pcs, int x)
{
  guint i = first_column_after (pcs, x);

  if (i < pcs->len && g_array_index (pcs, PixelColumn, i).x0 <= x)
    return &g_array_index (pcs, PixelColumn, i);
  return NULL;
}

/* Markers at fixed times, so they move with the line; each pen's are
 * offset from the others'. Those centred between x0 and x1. */
static void
draw_markers (KankyoTrendChart *self,
              cairo_t *cr,
              GArray *pcs,
              int x0,
              int x1,
              Pen *pen,
              const graphene_rect_t *lane,
              const Scale *scale,
              const GdkRGBA *paper)
{
  gint64 spacing = pixel_time (self) * MARKER_SPACING;
  gint64 offset = spacing * pen->style / KANKYO_TREND_CHART_MAX_PENS;
  gint64 t = floor_div (kankyo_trend_chart_x_to_time (self, x0) - offset, spacing) * spacing + offset;

  for (; t <= self->to; t += spacing)
    {
      int x = (int) floor (time_to_x (self, t));
      const PixelColumn *pc;
      double y;

      if (x >= x1)
        break;
      pc = column_at (pcs, x);
      if (x < x0 || pc == NULL || !pc->value)
        continue;
      y = value_to_y (lane, scale, (pc->lo + pc->hi) / 2);
      gdk_cairo_set_source_rgba (cr, paper);
      draw_marker (cr, KANKYO_TREND_MARKER_CIRCLE, x + 0.5, y, MARKER_RADIUS + 2);
      gdk_cairo_set_source_rgba (cr, &pen_colors[pen->style]);
      draw_marker (cr, (KankyoTrendMarker) pen->style, x + 0.5, y, MARKER_RADIUS);
    }
}

static void
draw_value_axis (KankyoTrendChart *self,
                 GtkSnapshot *snapshot,
                 cairo_t *cr,
                 guint index,
                 const graphene_rect_t *lane,
                 const Scale *scale,
                 const GdkRGBA *fg)
{
  const Layout *L = &self->layout;
  GdkRGBA text = *fg;
  double axis_right = L->stacked ? L->plot.origin.x - 4 : SIDE_AXIS_WIDTH * (index + 1) - 4;
  int last_y = G_MAXINT;

  text.alpha *= 0.75f;
  cairo_set_source_rgba (cr, fg->red, fg->green, fg->blue, L->stacked ? 0.10 : 0.05);
  cairo_set_line_width (cr, 1);
  for (double v = scale->lo; v <= scale->hi + scale->step * 0.5; v += scale->step)
    {
      double y = floor (value_to_y (lane, scale, v)) + 0.5;
      g_autofree char *label = format_tick (v, scale->step);
      PangoLayout *layout = get_layout (self, label);
      int w, h;

      if (L->stacked || index == 0)
        {
          cairo_move_to (cr, L->plot.origin.x, y);
          cairo_line_to (cr, L->plot.origin.x + L->plot.size.width, y);
        }
      pango_layout_get_pixel_size (layout, &w, &h);
      if (fabs (y - last_y) < h || y - h / 2.0 < lane->origin.y - 4
          || y + h / 2.0 > lane->origin.y + lane->size.height + 4)
        continue;
      draw_text (snapshot, layout, axis_right - w, y - h / 2.0, &text);
      last_y = (int) y;
    }
  cairo_stroke (cr);
}

/* "Supply air temperature [degC]" over the lane, or over the axis column. */
static void
draw_pen_header (KankyoTrendChart *self,
                 GtkSnapshot *snapshot,
                 cairo_t *cr,
                 guint index,
                 const GdkRGBA *fg,
                 const GdkRGBA *paper)
{
  Pen *pen = get_pen (self, index);
  const Layout *L = &self->layout;
  const graphene_rect_t *lane = &L->lanes[index];
  g_autofree char *text = NULL;
  PangoLayout *layout;
  double x, y;
  int w, h;

  if (L->stacked)
    {
      if (pen->unit != NULL && *pen->unit != '\0')
        text = g_strdup_printf ("%s [%s]", pen->label, g_dgettext (GETTEXT_PACKAGE, pen->unit));
      else
        text = g_strdup (pen->label);
      x = lane->origin.x + 20;
      y = lane->origin.y + 2;
    }
  else
    {
      text = g_strdup (pen->unit != NULL && *pen->unit != '\0' ? g_dgettext (GETTEXT_PACKAGE, pen->unit)
                                                               : "—");
      x = SIDE_AXIS_WIDTH * index + 18;
      y = L->plot.origin.y + L->plot.size.height + 3;
    }
  layout = get_layout (self, text);
  pango_layout_get_pixel_size (layout, &w, &h);
  if (L->stacked)
    {
      cairo_set_source_rgba (cr, paper->red, paper->green, paper->blue, 0.8);
      cairo_rectangle (cr, x - 18, y, w + 22, h);
      cairo_fill (cr);
    }
  draw_text (snapshot, layout, x, y, fg);
  gdk_cairo_set_source_rgba (cr, &pen_colors[pen->style]);
  draw_marker (cr, (KankyoTrendMarker) pen->style, x - 9, y + h / 2.0, MARKER_RADIUS);
}

static void
draw_message (KankyoTrendChart *self,
              GtkSnapshot *snapshot,
              const graphene_rect_t *area,
              const char *text,
              const GdkRGBA *fg)
{
  PangoLayout *layout = get_layout (self, text);
  GdkRGBA color = *fg;
  int w, h;

  color.alpha *= 0.7f;
  pango_layout_get_pixel_size (layout, &w, &h);
  draw_text (snapshot, layout, area->origin.x + (area->size.width - w) / 2,
             area->origin.y + (area->size.height - h) / 2, &color);
}

static void
draw_cursor (KankyoTrendChart *self,
             GtkSnapshot *snapshot,
             const Scale *scales,
             const GdkRGBA *fg,
             const GdkRGBA *paper)
{
  const graphene_rect_t *plot = &self->layout.plot;
  g_autofree char *readout = NULL;
  GdkRGBA line = *fg;
  GdkRGBA box = *paper;
  double x = floor (time_to_x (self, self->cursor_time));
  PangoLayout *layout;
  int w, h;
  double bx;

  if (x < plot->origin.x || x > plot->origin.x + plot->size.width)
    return;
  line.alpha *= 0.85f;
  gtk_snapshot_append_color (snapshot, &line,
                             &GRAPHENE_RECT_INIT ((float) x, plot->origin.y, 1, plot->size.height));

  for (guint i = 0; i < self->pens->len; i++)
    {
      Pen *pen = get_pen (self, i);
      double y;
      cairo_t *cr;

      if (!pen->cursor_known || !pen->cursor_found || !isfinite (pen->cursor_sample.value)
          || !scales[i].valid)
        continue;
      y = value_to_y (&self->layout.lanes[i], &scales[i], pen->cursor_sample.value);
      if (y < plot->origin.y || y > plot->origin.y + plot->size.height)
        continue;
      cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT ((float) x - 6, (float) y - 6, 13, 13));
      gdk_cairo_set_source_rgba (cr, &pen_colors[pen->style]);
      cairo_arc (cr, x + 0.5, y, 4, 0, 2 * G_PI);
      cairo_set_line_width (cr, 2);
      cairo_stroke (cr);
      cairo_destroy (cr);
    }

  readout = kankyo_trend_chart_get_cursor_readout (self);
  layout = get_layout (self, readout);
  pango_layout_get_pixel_size (layout, &w, &h);
  bx = x + 8 + w + 12 <= plot->origin.x + plot->size.width ? x + 8 : x - 8 - w - 12;
  box.alpha = 0.92f;
  gtk_snapshot_append_color (snapshot, &box,
                             &GRAPHENE_RECT_INIT ((float) bx, plot->origin.y + 4, w + 12, h + 8));
  gtk_snapshot_append_border (snapshot,
                              &GSK_ROUNDED_RECT_INIT ((float) bx, plot->origin.y + 4, w + 12, h + 8),
                              (float[4]){ 1, 1, 1, 1 }, (GdkRGBA[4]){ line, line, line, line });
  draw_text (snapshot, layout, bx + 6, plot->origin.y + 8, fg);
}

static gboolean
scale_equal (const Scale *a, const Scale *b)
{
  return a->valid == b->valid && (!a->valid || (a->lo == b->lo && a->hi == b->hi && a->step == b->step));
}

static gboolean
draw_key_equal (const DrawKey *a, const DrawKey *b)
{
  if (a->width != b->width || a->height != b->height || a->from != b->from || a->to != b->to
      || a->look_serial != b->look_serial || a->messages != b->messages || !gdk_rgba_equal (&a->fg, &b->fg)
      || a->n_pens != b->n_pens)
    return FALSE;
  for (guint i = 0; i < a->n_pens; i++)
    if (!scale_equal (&a->scales[i], &b->scales[i]))
      return FALSE;
  return TRUE;
}

static void
invalidate_all (KankyoTrendChart *self)
{
  g_clear_pointer (&self->under, gsk_render_node_unref);
  g_clear_pointer (&self->over, gsk_render_node_unref);
  g_ptr_array_set_size (self->tiles, 0);
}

/* The tiles that show [start, end) are drawn again. */
static void
invalidate_time (KankyoTrendChart *self, gint64 start, gint64 end)
{
  const graphene_rect_t *plot = &self->layout.plot;
  double x0 = time_to_x (self, start) - MARKER_PAD - 1;
  double x1 = time_to_x (self, end) + MARKER_PAD + 1;
  int first, last;

  if (self->tiles->len == 0 || x1 < plot->origin.x || x0 > plot->origin.x + plot->size.width)
    return;
  first = (int) CLAMP (floor ((x0 - plot->origin.x) / TILE_WIDTH), 0, self->tiles->len - 1);
  last = (int) CLAMP (floor ((x1 - plot->origin.x) / TILE_WIDTH), 0, self->tiles->len - 1);
  for (int i = first; i <= last; i++)
    g_clear_pointer (&g_ptr_array_index (self->tiles, i), gsk_render_node_unref);
}

/* Background, grid and axis labels. */
static GskRenderNode *
build_under (KankyoTrendChart *self, const Scale *scales, const GdkRGBA *fg, int width, int height)
{
  const Layout *L = &self->layout;
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  GdkRGBA plot_bg = { fg->red, fg->green, fg->blue, 0.05f };
  cairo_t *cr;

  gtk_snapshot_append_color (snapshot, &plot_bg, &L->plot);
  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));
  draw_time_axis (self, snapshot, cr, fg);
  for (guint i = 0; i < self->pens->len; i++)
    if (scales[i].valid)
      draw_value_axis (self, snapshot, cr, i, &L->lanes[i], &scales[i], fg);
  cairo_destroy (cr);
  return gtk_snapshot_free_to_node (snapshot);
}

/* The lines between x0 and x1 of the plot. */
static GskRenderNode *
build_tile (
    KankyoTrendChart *self, int x0, int x1, const Scale *scales, const GdkRGBA *fg, const GdkRGBA *paper)
{
  const Layout *L = &self->layout;
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  cairo_t *cr = gtk_snapshot_append_cairo (
      snapshot, &GRAPHENE_RECT_INIT (x0 - MARKER_PAD, L->plot.origin.y - MARKER_PAD, x1 - x0 + 2 * MARKER_PAD,
                                     L->plot.size.height + 2 * MARKER_PAD));

  for (guint i = 0; i < self->pens->len; i++)
    {
      Pen *pen = get_pen (self, i);
      GArray *pcs = self->columns[i];
      const graphene_rect_t *lane = &L->lanes[i];

      cairo_save (cr);
      cairo_rectangle (cr, x0 - MARKER_PAD, lane->origin.y - TRACE_WIDTH, x1 - x0 + 2 * MARKER_PAD,
                       lane->size.height + 2 * TRACE_WIDTH);
      cairo_clip (cr);
      draw_gaps (self, cr, pcs, x0, x1, lane, fg);
      if (scales[i].valid)
        {
          gdk_cairo_set_source_rgba (cr, &pen_colors[pen->style]);
          draw_trace (cr, pcs, x0, x1, lane, &scales[i]);
          draw_markers (self, cr, pcs, x0, x1, pen, lane, &scales[i], paper);
        }
      cairo_restore (cr);
    }
  cairo_destroy (cr);
  return gtk_snapshot_free_to_node (snapshot);
}

/* Pen names over their lanes, and what the chart has to say. */
static GskRenderNode *
build_over (KankyoTrendChart *self, const GdkRGBA *fg, const GdkRGBA *paper, int width, int height)
{
  const Layout *L = &self->layout;
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));

  if (self->pens->len == 0)
    draw_message (self, snapshot, &L->plot, _ ("Add a tag to see its trend."), fg);
  for (guint i = 0; i < self->pens->len; i++)
    {
      Pen *pen = get_pen (self, i);

      if (L->stacked && pen->not_recorded)
        draw_message (self, snapshot, &L->lanes[i], _ ("This tag is not recorded."), fg);
      else if (L->stacked && pen->series != NULL && self->columns[i]->len == 0)
        draw_message (self, snapshot, &L->lanes[i], _ ("No data in this time range."), fg);
      draw_pen_header (self, snapshot, cr, i, fg, paper);
    }
  cairo_destroy (cr);
  if (self->error != NULL)
    {
      g_autofree char *text = g_strdup_printf (_ ("Cannot read the history: %s"), self->error);

      draw_message (self, snapshot, &L->plot, text, fg);
    }
  else if (self->historian == NULL)
    draw_message (self, snapshot, &L->plot, _ ("No history is recorded."), fg);
  return gtk_snapshot_free_to_node (snapshot);
}

/* White paper on a light theme, dark grey on a dark one. */
static void
paper_for (const GdkRGBA *fg, GdkRGBA *ret_paper)
{
  double luminance = 0.2126 * fg->red + 0.7152 * fg->green + 0.0722 * fg->blue;

  *ret_paper = luminance < 0.5 ? (GdkRGBA){ 1, 1, 1, 1 } : (GdkRGBA){ 0.16f, 0.16f, 0.16f, 1 };
}

/* The layers kept from the last frame are appended as they are; only what
 * changed is built again: a moving cursor repaints the cursor, a live read
 * the tiles its new bins fall in, and a new view or scale everything. */
static void
kankyo_trend_chart_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  KankyoTrendChart *self = KANKYO_TREND_CHART (widget);
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  const Layout *L = &self->layout;
  DrawKey key = { 0 };
  GdkRGBA fg, paper;
  guint n_tiles;

  self->n_paints++;
  compute_layout (self, width, height, &self->layout);
  if (L->plot.size.width < 20 || L->plot.size.height < 20)
    return;
  get_fg_color (self, &fg);
  paper_for (&fg, &paper);

  key.width = width;
  key.height = height;
  key.from = self->from;
  key.to = self->to;
  key.look_serial = self->look_serial;
  key.fg = fg;
  key.n_pens = self->pens->len;
  /* Each pen scaled to what it shows in the view. */
  for (guint i = 0; i < self->pens->len; i++)
    {
      Pen *pen = get_pen (self, i);
      GArray *pcs = self->columns[i];
      double lo = INFINITY, hi = -INFINITY;

      build_columns (self, pen, pcs);
      for (guint j = 0; j < pcs->len; j++)
        {
          const PixelColumn *pc = &g_array_index (pcs, PixelColumn, j);

          if (pc->value)
            {
              lo = MIN (lo, pc->lo);
              hi = MAX (hi, pc->hi);
            }
        }
      key.scales[i] = nice_scale (lo, hi, MAX ((int) (L->lanes[i].size.height / 36), 1));
      if (pen->not_recorded || (pen->series != NULL && pcs->len == 0))
        key.messages |= 1u << i;
    }
  if (!draw_key_equal (&key, &self->key))
    {
      invalidate_all (self);
      self->key = key;
    }

  if (self->under == NULL)
    self->under = build_under (self, key.scales, &fg, width, height);
  gtk_snapshot_append_node (snapshot, self->under);
  n_tiles = (guint) ceil (L->plot.size.width / TILE_WIDTH);
  if (self->pens->len > 0 && self->tiles->len != n_tiles)
    g_ptr_array_set_size (self->tiles, n_tiles);
  for (guint i = 0; i < self->tiles->len; i++)
    {
      int x0 = (int) L->plot.origin.x + (int) i * TILE_WIDTH;
      int x1 = MIN (x0 + TILE_WIDTH, (int) (L->plot.origin.x + L->plot.size.width));

      if (g_ptr_array_index (self->tiles, i) == NULL)
        g_ptr_array_index (self->tiles, i) = build_tile (self, x0, x1, key.scales, &fg, &paper);
      gtk_snapshot_append_node (snapshot, g_ptr_array_index (self->tiles, i));
    }
  if (self->over == NULL)
    self->over = build_over (self, &fg, &paper, width, height);
  gtk_snapshot_append_node (snapshot, self->over);

  /* A live view moves on in steps: a line shows where now is. */
  if (self->live)
    {
      GdkRGBA now_color = { fg.red, fg.green, fg.blue, 0.45f };

      self->now_x = (int) floor (time_to_x (self, g_get_real_time ()));
      if (self->now_x >= L->plot.origin.x && self->now_x < L->plot.origin.x + L->plot.size.width)
        gtk_snapshot_append_color (
            snapshot, &now_color,
            &GRAPHENE_RECT_INIT (self->now_x, L->plot.origin.y, 1, L->plot.size.height));
    }

  if (self->cursor_shown)
    draw_cursor (self, snapshot, key.scales, &fg, &paper);

  if (gtk_widget_has_visible_focus (widget))
    {
      GdkRGBA focus = fg;

      focus.alpha *= 0.6f;
      gtk_snapshot_append_border (snapshot,
                                  &GSK_ROUNDED_RECT_INIT (L->plot.origin.x - 2, L->plot.origin.y - 2,
                                                          L->plot.size.width + 4, L->plot.size.height + 4),
                                  (float[4]){ 1, 1, 1, 1 }, (GdkRGBA[4]){ focus, focus, focus, focus });
    }
}

/* ---- size ---- */

static void
kankyo_trend_chart_measure (GtkWidget *widget,
                            GtkOrientation orientation,
                            int for_size,
                            int *minimum,
                            int *natural,
                            int *minimum_baseline,
                            int *natural_baseline)
{
  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      *minimum = 320;
      *natural = 800;
    }
  else
    {
      *minimum = 200;
      *natural = 420;
    }
}

static void
kankyo_trend_chart_size_allocate (GtkWidget *widget, int width, int height, int baseline)
{
  KankyoTrendChart *self = KANKYO_TREND_CHART (widget);

  compute_layout (self, width, height, &self->layout);
  if ((int) self->layout.plot.size.width != self->plot_width)
    {
      self->plot_width = (int) self->layout.plot.size.width;
      plan_reads (self);
    }
}

static void
kankyo_trend_chart_map (GtkWidget *widget)
{
  KankyoTrendChart *self = KANKYO_TREND_CHART (widget);

  GTK_WIDGET_CLASS (kankyo_trend_chart_parent_class)->map (widget);
  /* Fonts or scale may have changed while hidden. */
  g_hash_table_remove_all (self->layouts);
  self->look_serial++;
  if (self->live)
    set_view (self, self->from, self->to, TRUE);
  update_tick (self);
}

static void
kankyo_trend_chart_unmap (GtkWidget *widget)
{
  GTK_WIDGET_CLASS (kankyo_trend_chart_parent_class)->unmap (widget);
  update_tick (KANKYO_TREND_CHART (widget));
}

/* ---- input ---- */

static void
on_click_pressed (GtkGestureClick *gesture, int n_press, double x, double y, gpointer user_data)
{
  gtk_widget_grab_focus (GTK_WIDGET (user_data));
}

static void
on_click_released (GtkGestureClick *gesture, int n_press, double x, double y, gpointer user_data)
{
  KankyoTrendChart *self = user_data;
  const graphene_rect_t *plot = &self->layout.plot;

  if (self->panning || x < plot->origin.x || x > plot->origin.x + plot->size.width)
    return;
  move_cursor (self, kankyo_trend_chart_x_to_time (self, x), TRUE);
}

static void
on_drag_begin (GtkGestureDrag *gesture, double x, double y, gpointer user_data)
{
  KankyoTrendChart *self = user_data;

  self->drag_from = self->from;
  self->drag_to = self->to;
  self->panning = FALSE;
}

static void
on_drag_update (GtkGestureDrag *gesture, double dx, double dy, gpointer user_data)
{
  KankyoTrendChart *self = user_data;
  gint64 shift;

  if (!self->panning && fabs (dx) < DRAG_THRESHOLD)
    return;
  if (!self->panning)
    {
      self->panning = TRUE;
      gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_CLAIMED);
    }
  shift = (gint64) (-dx * (double) (self->drag_to - self->drag_from) / MAX (self->layout.plot.size.width, 1));
  set_view (self, self->drag_from + shift, self->drag_to + shift, FALSE);
}

static void
on_zoom_begin (GtkGesture *gesture, GdkEventSequence *sequence, gpointer user_data)
{
  KankyoTrendChart *self = user_data;
  double x = 0, y = 0;

  gtk_gesture_get_bounding_box_center (gesture, &x, &y);
  self->zoom_span = self->to - self->from;
  self->zoom_anchor = kankyo_trend_chart_x_to_time (self, x);
  self->zoom_fraction = (double) (self->zoom_anchor - self->from) / MAX (self->zoom_span, 1);
  /* Two fingers zoom; they do not also pan. */
  gtk_gesture_set_state (gesture, GTK_EVENT_SEQUENCE_CLAIMED);
}

static void
on_zoom_scale_changed (GtkGestureZoom *gesture, double scale, gpointer user_data)
{
  KankyoTrendChart *self = user_data;
  double span;
  gint64 from;

  if (scale <= 0 || self->zoom_span <= 0)
    return;
  span = CLAMP (self->zoom_span / scale, (double) KANKYO_TREND_CHART_MIN_SPAN_US,
                (double) KANKYO_TREND_CHART_MAX_SPAN_US);
  if (self->live)
    {
      set_view (self, self->to - (gint64) span, self->to, TRUE);
      return;
    }
  from = self->zoom_anchor - (gint64) (self->zoom_fraction * span);
  set_view (self, from, from + (gint64) span, FALSE);
}

static void
on_motion (GtkEventControllerMotion *controller, double x, double y, gpointer user_data)
{
  KankyoTrendChart *self = user_data;
  const graphene_rect_t *plot = &self->layout.plot;

  self->pointer_x = x;
  if (self->cursor_pinned)
    return;
  if (x >= plot->origin.x && x <= plot->origin.x + plot->size.width && y >= plot->origin.y
      && y <= plot->origin.y + plot->size.height)
    move_cursor (self, kankyo_trend_chart_x_to_time (self, x), FALSE);
  else
    hide_cursor (self);
}

static void
on_leave (GtkEventControllerMotion *controller, gpointer user_data)
{
  KankyoTrendChart *self = user_data;

  self->pointer_x = -1;
  if (!self->cursor_pinned)
    hide_cursor (self);
}

static gboolean
on_scroll (GtkEventControllerScroll *controller, double dx, double dy, gpointer user_data)
{
  KankyoTrendChart *self = user_data;
  GdkModifierType state = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (controller));
  const graphene_rect_t *plot = &self->layout.plot;
  gint64 anchor;

  if ((state & GDK_SHIFT_MASK) && dx == 0)
    {
      dx = dy;
      dy = 0;
    }
  if (dx != 0)
    pan_by (self, dx * PAN_STEP);
  if (dy != 0)
    {
      if (self->pointer_x >= plot->origin.x && self->pointer_x <= plot->origin.x + plot->size.width)
        anchor = kankyo_trend_chart_x_to_time (self, self->pointer_x);
      else
        anchor = self->from + (self->to - self->from) / 2;
      zoom_at (self, pow (WHEEL_ZOOM, dy), anchor);
    }
  return TRUE;
}

static void
step_cursor (KankyoTrendChart *self, int pixels)
{
  gint64 t = self->cursor_shown ? self->cursor_time : self->from + (self->to - self->from) / 2;

  if (self->cursor_shown)
    t += pixels * pixel_time (self);
  move_cursor (self, CLAMP (t, self->from, self->to), TRUE);
}

static gboolean
on_key_pressed (
    GtkEventControllerKey *controller, guint keyval, guint keycode, GdkModifierType state, gpointer user_data)
{
  KankyoTrendChart *self = user_data;
  gboolean shift = (state & GDK_SHIFT_MASK) != 0;
  gboolean control = (state & GDK_CONTROL_MASK) != 0;

  switch (keyval)
    {
      case GDK_KEY_Left:
      case GDK_KEY_KP_Left:
        if (shift)
          step_cursor (self, control ? -10 : -1);
        else
          pan_by (self, control ? -0.5 : -PAN_STEP);
        return TRUE;
      case GDK_KEY_Right:
      case GDK_KEY_KP_Right:
        if (shift)
          step_cursor (self, control ? 10 : 1);
        else
          pan_by (self, control ? 0.5 : PAN_STEP);
        return TRUE;
      case GDK_KEY_Page_Up:
      case GDK_KEY_KP_Page_Up:
        pan_by (self, -1);
        return TRUE;
      case GDK_KEY_Page_Down:
      case GDK_KEY_KP_Page_Down:
        pan_by (self, 1);
        return TRUE;
      case GDK_KEY_plus:
      case GDK_KEY_equal:
      case GDK_KEY_KP_Add:
        zoom_at (self, 1 / ZOOM_STEP, view_anchor (self));
        return TRUE;
      case GDK_KEY_minus:
      case GDK_KEY_underscore:
      case GDK_KEY_KP_Subtract:
        zoom_at (self, ZOOM_STEP, view_anchor (self));
        return TRUE;
      case GDK_KEY_Home:
      case GDK_KEY_KP_Home:
        go_to_start (self);
        return TRUE;
      case GDK_KEY_End:
      case GDK_KEY_KP_End:
        set_view (self, self->from, self->to, TRUE);
        return TRUE;
      case GDK_KEY_Return:
      case GDK_KEY_KP_Enter:
        step_cursor (self, 0);
        return TRUE;
      case GDK_KEY_Escape:
        if (!self->cursor_shown)
          return FALSE;
        hide_cursor (self);
        return TRUE;
      default:
        return FALSE;
    }
}

/* ---- GObject ---- */

static void
kankyo_trend_chart_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  KankyoTrendChart *self = KANKYO_TREND_CHART (object);

  switch (prop_id)
    {
      case PROP_LIVE:
        g_value_set_boolean (value, self->live);
        break;
      case PROP_STACKED:
        g_value_set_boolean (value, self->stacked);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kankyo_trend_chart_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  KankyoTrendChart *self = KANKYO_TREND_CHART (object);

  switch (prop_id)
    {
      case PROP_LIVE:
        kankyo_trend_chart_set_live (self, g_value_get_boolean (value));
        break;
      case PROP_STACKED:
        kankyo_trend_chart_set_stacked (self, g_value_get_boolean (value));
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kankyo_trend_chart_dispose (GObject *object)
{
  KankyoTrendChart *self = KANKYO_TREND_CHART (object);

  g_cancellable_cancel (self->cancellable);
  wait_for_workers (self);
  self->historian = NULL;
  if (self->tick_id != 0)
    {
      gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->tick_id);
      self->tick_id = 0;
    }
  G_OBJECT_CLASS (kankyo_trend_chart_parent_class)->dispose (object);
}

static void
kankyo_trend_chart_finalize (GObject *object)
{
  KankyoTrendChart *self = KANKYO_TREND_CHART (object);

  g_ptr_array_unref (self->pens);
  g_clear_object (&self->cancellable);
  g_hash_table_unref (self->layouts);
  g_clear_pointer (&self->hatch, cairo_pattern_destroy);
  for (guint i = 0; i < KANKYO_TREND_CHART_MAX_PENS; i++)
    g_array_unref (self->columns[i]);
  invalidate_all (self);
  g_ptr_array_unref (self->tiles);
  g_free (self->error);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->idle);
  G_OBJECT_CLASS (kankyo_trend_chart_parent_class)->finalize (object);
}

static void
kankyo_trend_chart_class_init (KankyoTrendChartClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->get_property = kankyo_trend_chart_get_property;
  object_class->set_property = kankyo_trend_chart_set_property;
  object_class->dispose = kankyo_trend_chart_dispose;
  object_class->finalize = kankyo_trend_chart_finalize;
  widget_class->snapshot = kankyo_trend_chart_snapshot;
  widget_class->measure = kankyo_trend_chart_measure;
  widget_class->size_allocate = kankyo_trend_chart_size_allocate;
  widget_class->map = kankyo_trend_chart_map;
  widget_class->unmap = kankyo_trend_chart_unmap;

  properties[PROP_LIVE] = g_param_spec_boolean (
      "live", NULL, NULL, TRUE, G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_STACKED] = g_param_spec_boolean (
      "stacked", NULL, NULL, TRUE, G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* The range or live mode changed (not each step of live scrolling). */
  signals[SIGNAL_VIEW_CHANGED] = g_signal_new ("view-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                               0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  /* A pen was added or removed, or its unit became known. */
  signals[SIGNAL_PENS_CHANGED] = g_signal_new ("pens-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                               0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  /* The cursor moved, went away, or its readout was read. */
  signals[SIGNAL_CURSOR_CHANGED] = g_signal_new ("cursor-changed", G_TYPE_FROM_CLASS (klass),
                                                 G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  /* A read finished and its data is drawn. */
  signals[SIGNAL_LOADED] = g_signal_new ("loaded", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                         NULL, NULL, G_TYPE_NONE, 0);

  gtk_widget_class_set_css_name (widget_class, "trendchart");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
kankyo_trend_chart_init (KankyoTrendChart *self)
{
  GtkWidget *widget = GTK_WIDGET (self);
  GtkGesture *click, *drag, *zoom;
  GtkEventController *motion, *scroll, *key;
  gint64 now = g_get_real_time ();

  self->pens = g_ptr_array_new_with_free_func ((GDestroyNotify) pen_free);
  self->layouts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  for (guint i = 0; i < KANKYO_TREND_CHART_MAX_PENS; i++)
    self->columns[i] = g_array_new (FALSE, FALSE, sizeof (PixelColumn));
  self->tiles = g_ptr_array_new_with_free_func (node_unref0);
  self->cancellable = g_cancellable_new ();
  g_mutex_init (&self->lock);
  g_cond_init (&self->idle);
  self->stacked = TRUE;
  self->live = TRUE;
  self->to = now;
  self->from = now - preset_spans[KANKYO_TREND_RANGE_1_H];
  self->pointer_x = -1;

  gtk_widget_set_focusable (widget, TRUE);
  gtk_widget_set_focus_on_click (widget, TRUE);
  gtk_widget_add_css_class (widget, "kankyo-trend-chart");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL, _ ("Trend chart"),
                                  -1);

  click = gtk_gesture_click_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (click), GDK_BUTTON_PRIMARY);
  g_signal_connect (click, "pressed", G_CALLBACK (on_click_pressed), self);
  g_signal_connect (click, "released", G_CALLBACK (on_click_released), self);
  gtk_widget_add_controller (widget, GTK_EVENT_CONTROLLER (click));

  drag = gtk_gesture_drag_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (drag), GDK_BUTTON_PRIMARY);
  g_signal_connect (drag, "drag-begin", G_CALLBACK (on_drag_begin), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (on_drag_update), self);
  gtk_widget_add_controller (widget, GTK_EVENT_CONTROLLER (drag));

  zoom = gtk_gesture_zoom_new ();
  g_signal_connect (zoom, "begin", G_CALLBACK (on_zoom_begin), self);
  g_signal_connect (zoom, "scale-changed", G_CALLBACK (on_zoom_scale_changed), self);
  gtk_widget_add_controller (widget, GTK_EVENT_CONTROLLER (zoom));

  motion = gtk_event_controller_motion_new ();
  g_signal_connect (motion, "enter", G_CALLBACK (on_motion), self);
  g_signal_connect (motion, "motion", G_CALLBACK (on_motion), self);
  g_signal_connect (motion, "leave", G_CALLBACK (on_leave), self);
  gtk_widget_add_controller (widget, motion);

  scroll = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_BOTH_AXES);
  g_signal_connect (scroll, "scroll", G_CALLBACK (on_scroll), self);
  gtk_widget_add_controller (widget, scroll);

  key = gtk_event_controller_key_new ();
  g_signal_connect (key, "key-pressed", G_CALLBACK (on_key_pressed), self);
  gtk_widget_add_controller (widget, key);
}

/* ---- public ---- */

GtkWidget *
kankyo_trend_chart_new (void)
{
  return g_object_new (KANKYO_TYPE_TREND_CHART, NULL);
}

void
kankyo_trend_chart_set_historian (KankyoTrendChart *self, KankyoHistorian *historian)
{
  g_return_if_fail (KANKYO_IS_TREND_CHART (self));

  if (self->historian == historian)
    return;
  g_cancellable_cancel (self->cancellable);
  wait_for_workers (self);
  self->historian = historian;
  for (guint i = 0; i < self->pens->len; i++)
    {
      Pen *pen = get_pen (self, i);

      g_clear_pointer (&pen->series, series_free);
      pen->cursor_known = FALSE;
    }
  g_clear_pointer (&self->error, g_free);
  self->look_serial++;
  restart_reads (self);
  if (self->cursor_shown)
    start_cursor_read (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

int
kankyo_trend_chart_find_pen (KankyoTrendChart *self, const char *tag)
{
  g_return_val_if_fail (KANKYO_IS_TREND_CHART (self), -1);

  for (guint i = 0; tag != NULL && i < self->pens->len; i++)
    if (g_str_equal (get_pen (self, i)->tag, tag))
      return (int) i;
  return -1;
}

int
kankyo_trend_chart_add_pen (KankyoTrendChart *self, const char *tag, const char *label, const char *unit)
{
  Pen *pen;
  guint used = 0;

  g_return_val_if_fail (KANKYO_IS_TREND_CHART (self), -1);
  g_return_val_if_fail (tag != NULL && *tag != '\0', -1);

  if (self->pens->len >= KANKYO_TREND_CHART_MAX_PENS || kankyo_trend_chart_find_pen (self, tag) >= 0)
    return -1;
  pen = g_new0 (Pen, 1);
  pen->tag = g_strndup (tag, MAX_LABEL_CHARS);
  pen->label = g_strndup (label != NULL && *label != '\0' ? label : tag, MAX_LABEL_CHARS);
  pen->unit = unit != NULL ? g_strndup (unit, MAX_LABEL_CHARS) : NULL;
  /* The first style no other pen has. */
  for (guint i = 0; i < self->pens->len; i++)
    used |= 1u << get_pen (self, i)->style;
  while (used & (1u << pen->style))
    pen->style++;
  g_ptr_array_add (self->pens, pen);
  self->look_serial++;

  gtk_widget_queue_resize (GTK_WIDGET (self));
  plan_reads (self);
  if (self->cursor_shown)
    {
      self->cursor_generation++;
      start_cursor_read (self);
    }
  g_signal_emit (self, signals[SIGNAL_PENS_CHANGED], 0);
  return (int) self->pens->len - 1;
}

gboolean
kankyo_trend_chart_remove_pen (KankyoTrendChart *self, const char *tag)
{
  int index = kankyo_trend_chart_find_pen (self, tag);

  if (index < 0)
    return FALSE;
  g_ptr_array_remove_index (self->pens, (guint) index);
  self->look_serial++;
  gtk_widget_queue_resize (GTK_WIDGET (self));
  g_signal_emit (self, signals[SIGNAL_PENS_CHANGED], 0);
  return TRUE;
}

void
kankyo_trend_chart_clear_pens (KankyoTrendChart *self)
{
  g_return_if_fail (KANKYO_IS_TREND_CHART (self));

  if (self->pens->len == 0)
    return;
  g_ptr_array_set_size (self->pens, 0);
  self->look_serial++;
  gtk_widget_queue_resize (GTK_WIDGET (self));
  g_signal_emit (self, signals[SIGNAL_PENS_CHANGED], 0);
}

guint
kankyo_trend_chart_get_n_pens (KankyoTrendChart *self)
{
  g_return_val_if_fail (KANKYO_IS_TREND_CHART (self), 0);
  return self->pens->len;
}

const char *
kankyo_trend_chart_get_pen_tag (KankyoTrendChart *self, guint index)
{
  Pen *pen = checked_pen (self, index);

  return pen != NULL ? pen->tag : NULL;
}

const char *
kankyo_trend_chart_get_pen_label (KankyoTrendChart *self, guint index)
{
  Pen *pen = checked_pen (self, index);

  return pen != NULL ? pen->label : NULL;
}

const char *
kankyo_trend_chart_get_pen_unit (KankyoTrendChart *self, guint index)
{
  Pen *pen = checked_pen (self, index);

  return pen != NULL ? pen->unit : NULL;
}

void
kankyo_trend_chart_get_pen_color (KankyoTrendChart *self, guint index, GdkRGBA *ret_color)
{
  Pen *pen = checked_pen (self, index);

  if (pen != NULL)
    *ret_color = pen_colors[pen->style];
}

KankyoTrendMarker
kankyo_trend_chart_get_pen_marker (KankyoTrendChart *self, guint index)
{
  Pen *pen = checked_pen (self, index);

  return pen != NULL ? (KankyoTrendMarker) pen->style : KANKYO_TREND_MARKER_CIRCLE;
}

static void
draw_pen_key (GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer data)
{
  guint style = GPOINTER_TO_UINT (data);

  gdk_cairo_set_source_rgba (cr, &pen_colors[style]);
  cairo_rectangle (cr, 1, height / 2.0 - TRACE_WIDTH / 2.0, width - 2, TRACE_WIDTH);
  cairo_fill (cr);
  cairo_set_source_rgb (cr, 1, 1, 1);
  draw_marker (cr, KANKYO_TREND_MARKER_CIRCLE, width / 2.0, height / 2.0, MARKER_RADIUS + 2);
  gdk_cairo_set_source_rgba (cr, &pen_colors[style]);
  draw_marker (cr, (KankyoTrendMarker) style, width / 2.0, height / 2.0, MARKER_RADIUS);
}

GtkWidget *
kankyo_trend_chart_create_pen_key (KankyoTrendChart *self, guint index)
{
  Pen *pen = checked_pen (self, index);
  g_autofree char *label = NULL;
  GtkWidget *area;

  g_return_val_if_fail (pen != NULL, NULL);
  area = gtk_drawing_area_new ();
  gtk_drawing_area_set_content_width (GTK_DRAWING_AREA (area), 36);
  gtk_drawing_area_set_content_height (GTK_DRAWING_AREA (area), 16);
  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (area), draw_pen_key, GUINT_TO_POINTER (pen->style), NULL);
  gtk_widget_set_valign (area, GTK_ALIGN_CENTER);
  /* Translators: how a pen is drawn, e.g. "a line with circle markers" */
  label = g_strdup_printf (_ ("a line with %s markers"), _ (marker_names[pen->style]));
  gtk_accessible_update_property (GTK_ACCESSIBLE (area), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
  return area;
}

gint64
kankyo_trend_range_get_span (KankyoTrendRange preset)
{
  g_return_val_if_fail (preset < KANKYO_TREND_RANGE_CUSTOM, 0);
  return preset_spans[preset];
}

void
kankyo_trend_chart_set_preset (KankyoTrendChart *self, KankyoTrendRange preset)
{
  g_return_if_fail (KANKYO_IS_TREND_CHART (self));
  g_return_if_fail (preset < KANKYO_TREND_RANGE_CUSTOM);

  set_view (self, self->to - preset_spans[preset], self->to, TRUE);
}

KankyoTrendRange
kankyo_trend_chart_get_preset (KankyoTrendChart *self)
{
  g_return_val_if_fail (KANKYO_IS_TREND_CHART (self), KANKYO_TREND_RANGE_CUSTOM);

  if (!self->live)
    return KANKYO_TREND_RANGE_CUSTOM;
  for (guint i = 0; i < G_N_ELEMENTS (preset_spans); i++)
    if (self->to - self->from == preset_spans[i])
      return (KankyoTrendRange) i;
  return KANKYO_TREND_RANGE_CUSTOM;
}

void
kankyo_trend_chart_set_range (KankyoTrendChart *self, gint64 from, gint64 to)
{
  g_return_if_fail (KANKYO_IS_TREND_CHART (self));
  set_view (self, from, to, FALSE);
}

void
kankyo_trend_chart_get_range (KankyoTrendChart *self, gint64 *ret_from, gint64 *ret_to)
{
  g_return_if_fail (KANKYO_IS_TREND_CHART (self));
  if (ret_from != NULL)
    *ret_from = self->from;
  if (ret_to != NULL)
    *ret_to = self->to;
}

void
kankyo_trend_chart_set_live (KankyoTrendChart *self, gboolean live)
{
  g_return_if_fail (KANKYO_IS_TREND_CHART (self));
  set_view (self, self->from, self->to, live);
}

gboolean
kankyo_trend_chart_get_live (KankyoTrendChart *self)
{
  g_return_val_if_fail (KANKYO_IS_TREND_CHART (self), FALSE);
  return self->live;
}

void
kankyo_trend_chart_set_stacked (KankyoTrendChart *self, gboolean stacked)
{
  g_return_if_fail (KANKYO_IS_TREND_CHART (self));

  stacked = !!stacked;
  if (self->stacked == stacked)
    return;
  self->stacked = stacked;
  self->look_serial++;
  gtk_widget_queue_resize (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STACKED]);
}

gboolean
kankyo_trend_chart_get_stacked (KankyoTrendChart *self)
{
  g_return_val_if_fail (KANKYO_IS_TREND_CHART (self), FALSE);
  return self->stacked;
}

gboolean
kankyo_trend_chart_get_plot_area (KankyoTrendChart *self, graphene_rect_t *ret_area)
{
  g_return_val_if_fail (KANKYO_IS_TREND_CHART (self), FALSE);

  if (self->plot_width <= 0)
    return FALSE;
  *ret_area = self->layout.plot;
  return TRUE;
}

gboolean
kankyo_trend_chart_get_pen_area (KankyoTrendChart *self, guint index, graphene_rect_t *ret_area)
{
  if (checked_pen (self, index) == NULL || self->plot_width <= 0)
    return FALSE;
  *ret_area = self->layout.lanes[index];
  return TRUE;
}

double
kankyo_trend_chart_time_to_x (KankyoTrendChart *self, gint64 time)
{
  g_return_val_if_fail (KANKYO_IS_TREND_CHART (self), 0);
  return time_to_x (self, time);
}

gint64
kankyo_trend_chart_x_to_time (KankyoTrendChart *self, double x)
{
  const graphene_rect_t *p;

  g_return_val_if_fail (KANKYO_IS_TREND_CHART (self), 0);
  p = &self->layout.plot;
  return self->from
         + (gint64) ((x - p->origin.x) * (double) (self->to - self->from) / MAX (p->size.width, 1));
}

void
kankyo_trend_chart_set_cursor (KankyoTrendChart *self, gint64 time)
{
  g_return_if_fail (KANKYO_IS_TREND_CHART (self));
  move_cursor (self, time, TRUE);
}

void
kankyo_trend_chart_clear_cursor (KankyoTrendChart *self)
{
  g_return_if_fail (KANKYO_IS_TREND_CHART (self));
  hide_cursor (self);
}

gboolean
kankyo_trend_chart_get_cursor (KankyoTrendChart *self, gint64 *ret_time)
{
  g_return_val_if_fail (KANKYO_IS_TREND_CHART (self), FALSE);

  if (!self->cursor_shown)
    return FALSE;
  if (ret_time != NULL)
    *ret_time = self->cursor_time;
  return TRUE;
}

gboolean
kankyo_trend_chart_get_cursor_sample (KankyoTrendChart *self,
                                      guint index,
                                      gboolean *ret_found,
                                      KankyoHistorianSample *ret_sample)
{
  Pen *pen;

  pen = checked_pen (self, index);
  if (pen == NULL || !self->cursor_shown || !pen->cursor_known || pen->cursor_time != self->cursor_time)
    return FALSE;
  if (ret_found != NULL)
    *ret_found = pen->cursor_found;
  if (ret_sample != NULL && pen->cursor_found)
    *ret_sample = pen->cursor_sample;
  return TRUE;
}

static char *
format_local (gint64 utc_us, const char *format)
{
  g_autoptr (GDateTime) time = local_time (utc_us);

  return time != NULL ? g_date_time_format (time, format) : g_strdup ("?");
}

static char *
format_value (Pen *pen, double value)
{
  g_autofree char *number = kankyo_format_double (value, 6);

  if (pen->unit == NULL || *pen->unit == '\0')
    return g_steal_pointer (&number);
  return g_strdup_printf ("%s %s", number, g_dgettext (GETTEXT_PACKAGE, pen->unit));
}

char *
kankyo_trend_chart_get_cursor_readout (KankyoTrendChart *self)
{
  g_autoptr (GString) text = NULL;
  g_autofree char *when = NULL;

  g_return_val_if_fail (KANKYO_IS_TREND_CHART (self), NULL);

  if (!self->cursor_shown)
    return NULL;
  when = format_local (self->cursor_time, "%Y-%m-%d %H:%M:%S");
  text = g_string_new (when);
  for (guint i = 0; i < self->pens->len; i++)
    {
      Pen *pen = get_pen (self, i);
      const KankyoHistorianSample *s = &pen->cursor_sample;
      g_autofree char *value = NULL;

      g_string_append_printf (text, "\n%s %s: ", marker_glyphs[pen->style], pen->label);
      if (!pen->cursor_known || pen->cursor_time != self->cursor_time)
        g_string_append (text, "…");
      else if (pen->cursor_failed)
        g_string_append (text, _ ("cannot be read"));
      else if (!pen->cursor_found)
        g_string_append (text, _ ("no value recorded"));
      else
        {
          g_autofree char *day = format_local (s->time, "%Y-%m-%d");
          g_autofree char *cursor_day = format_local (self->cursor_time, "%Y-%m-%d");
          g_autofree char *at
              = format_local (s->time, g_str_equal (day, cursor_day) ? "%H:%M:%S" : "%Y-%m-%d %H:%M:%S");

          if (kankyo_quality_is_bad (s->quality) || !isfinite (s->value))
            value = g_strdup (kankyo_quality_describe (s->quality));
          else if (s->quality != KANKYO_QUALITY_GOOD)
            {
              g_autofree char *v = format_value (pen, s->value);

              /* Translators: a value and its quality when it is not Good */
              value = g_strdup_printf (_ ("%s (%s)"), v, kankyo_quality_describe (s->quality));
            }
          else
            value = format_value (pen, s->value);
          /* Translators: a pen's value in the trend cursor readout and when
           * it was recorded, e.g. "21.3 degC at 12:03:40" */
          g_string_append_printf (text, _ ("%s at %s"), value, at);
        }
    }
  return g_string_free (g_steal_pointer (&text), FALSE);
}

GArray *
kankyo_trend_chart_get_bad_ranges (KankyoTrendChart *self, guint index)
{
  GArray *ranges = g_array_new (FALSE, FALSE, sizeof (gint64));
  Pen *pen;
  Series *s;

  pen = checked_pen (self, index);
  s = pen != NULL ? pen->series : NULL;
  for (guint i = 0; s != NULL && i < s->n; i++)
    {
      gint64 start = (s->k0 + i) * s->width;
      gint64 end = start + s->width;

      if (s->columns[i].kind != COLUMN_GAP || end <= self->from || start >= self->to)
        continue;
      if (ranges->len > 0 && g_array_index (ranges, gint64, ranges->len - 1) == start)
        g_array_index (ranges, gint64, ranges->len - 1) = end;
      else
        {
          g_array_append_val (ranges, start);
          g_array_append_val (ranges, end);
        }
    }
  return ranges;
}

gboolean
kankyo_trend_chart_is_loading (KankyoTrendChart *self)
{
  g_return_val_if_fail (KANKYO_IS_TREND_CHART (self), FALSE);
  return self->reading || self->replan;
}

const char *
kankyo_trend_chart_get_error (KankyoTrendChart *self)
{
  g_return_val_if_fail (KANKYO_IS_TREND_CHART (self), NULL);
  return self->error;
}

guint64
kankyo_trend_chart_get_n_paints (KankyoTrendChart *self)
{
  g_return_val_if_fail (KANKYO_IS_TREND_CHART (self), 0);
  return self->n_paints;
}
