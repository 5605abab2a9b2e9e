/* kankyo-faceplate.c: one device's tags, live (ISA-101 level 3).
 *
 * A grid with a row per tag: label, value with its unit, the quality in
 * words, the source time in the station's time zone, a sparkline of the
 * last samples and a "Trend" button that opens the tag's history for
 * analog tags, and a "Change…" button for writable ones.
 * One tag-store subscription on the GTK main context feeds every row; a
 * batch touches only the rows whose tags changed.
 *
 * A value that is not Good keeps its last text but is outlined and hatched
 * and says its quality in words, so it reads as untrustworthy without
 * colour; hovering it tells when it was last good and how long ago.
 */
#include "config.h"

#include "kankyo-faceplate.h"

#include <glib/gi18n.h>
#include <math.h>

#include "kankyo-trend-window.h"
#include "kankyo-write-dialog.h"
#include "kankyo-ui-time.h"

#define SPARKLINE_SAMPLES 120 /* two minutes at one sample a second */
#define SPARKLINE_PERIOD_S 1
#define SPARKLINE_WIDTH 120
#define SPARKLINE_HEIGHT 24
#define MAX_VALUE_CHARS 32

/* ---- sparkline: the last samples of one analog tag ---- */

#define KANKYO_TYPE_SPARKLINE (kankyo_sparkline_get_type ())
G_DECLARE_FINAL_TYPE (KankyoSparkline, kankyo_sparkline, KANKYO, SPARKLINE, GtkWidget)

struct _KankyoSparkline
{
  GtkWidget parent_instance;

  double samples[SPARKLINE_SAMPLES]; /* ring buffer; NAN is a gap (no good value) */
  guint head;                        /* where the next sample goes */
  guint count;
  double min_span; /* the smallest range drawn full height, so noise stays small */
};

G_DEFINE_FINAL_TYPE (KankyoSparkline, kankyo_sparkline, GTK_TYPE_WIDGET)

static void
kankyo_sparkline_push (KankyoSparkline *self, double value)
{
  self->samples[self->head] = value;
  self->head = (self->head + 1) % SPARKLINE_SAMPLES;
  self->count = MIN (self->count + 1, SPARKLINE_SAMPLES);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static double
kankyo_sparkline_get (KankyoSparkline *self, guint i)
{
  return self->samples[(self->head + SPARKLINE_SAMPLES - self->count + i) % SPARKLINE_SAMPLES];
}

static void
kankyo_sparkline_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  KankyoSparkline *self = KANKYO_SPARKLINE (widget);
  double width = gtk_widget_get_width (widget);
  double height = gtk_widget_get_height (widget);
  double lo = INFINITY, hi = -INFINITY, step;
  gboolean pen_down = FALSE;
  GdkRGBA color;
  cairo_t *cr;

  for (guint i = 0; i < self->count; i++)
    {
      double v = kankyo_sparkline_get (self, i);

      if (isfinite (v))
        {
          lo = MIN (lo, v);
          hi = MAX (hi, v);
        }
    }
  if (self->count < 2 || !isfinite (lo) || width < 4 || height < 4)
    return;
  /* A flat or nearly flat line sits in the middle rather than swinging
   * from edge to edge. */
  if (hi - lo < self->min_span)
    {
      double mid = (hi + lo) / 2;

      lo = mid - self->min_span / 2;
      hi = mid + self->min_span / 2;
    }

  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), &color);
  G_GNUC_END_IGNORE_DEPRECATIONS

  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));
  gdk_cairo_set_source_rgba (cr, &color);
  cairo_set_line_width (cr, 1.5);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  step = (width - 2) / (SPARKLINE_SAMPLES - 1);
  for (guint i = 0; i < self->count; i++)
    {
      double v = kankyo_sparkline_get (self, i);
      /* The newest sample is at the right edge. */
      double x = 1 + (SPARKLINE_SAMPLES - self->count + i) * step;
      double y = 1 + (height - 2) * (1 - (v - lo) / (hi - lo));

      if (!isfinite (v))
        {
          pen_down = FALSE;
          continue;
        }
      if (pen_down)
        cairo_line_to (cr, x, y);
      else
        cairo_move_to (cr, x, y);
      pen_down = TRUE;
    }
  cairo_stroke (cr);
  cairo_destroy (cr);
}

static void
kankyo_sparkline_class_init (KankyoSparklineClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  widget_class->snapshot = kankyo_sparkline_snapshot;
  gtk_widget_class_set_css_name (widget_class, "sparkline");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
kankyo_sparkline_init (KankyoSparkline *self)
{
  self->min_span = 1e-6;
  gtk_widget_set_size_request (GTK_WIDGET (self), SPARKLINE_WIDTH, SPARKLINE_HEIGHT);
  gtk_widget_set_valign (GTK_WIDGET (self), GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (GTK_WIDGET (self), "kankyo-sparkline");
}

/* ---- the faceplate ---- */

typedef struct
{
  KankyoFaceplate *faceplate; /* unowned: the faceplate owns the row */
  guint tag_id;
  const char *name;          /* "device.tag", owned by the tag store */
  const KankyoTagSpec *spec; /* owned by the tag store */
  KankyoQuality quality;
  double last_value; /* for the sparkline: NAN unless good */
  gint64 source_time;
  gint64 last_good_time; /* 0: never good since the faceplate opened */
  GtkWidget *value_label;
  GtkWidget *quality_label;
  GtkWidget *time_label;
  GtkWidget *sparkline; /* NULL unless analog */
} FaceplateRow;

struct _KankyoFaceplate
{
  GtkWidget parent_instance;

  KankyoEngine *engine;
  KankyoTagStore *store;
  char *device;
  guint subscription;
  guint sample_timer;
  GtkWidget *box;
  GHashTable *rows; /* tag id -> FaceplateRow* (owned) */
};

G_DEFINE_FINAL_TYPE (KankyoFaceplate, kankyo_faceplate, GTK_TYPE_WIDGET)

const char *
kankyo_quality_describe (KankyoQuality quality)
{
  switch (quality)
    {
      case KANKYO_QUALITY_GOOD:
        return C_ ("quality", "Good");
      case KANKYO_QUALITY_UNCERTAIN_LAST_USABLE_VALUE:
        return C_ ("quality", "Uncertain: last usable value");
      case KANKYO_QUALITY_BAD_COMMUNICATION_ERROR:
        return C_ ("quality", "Bad: communication lost");
      case KANKYO_QUALITY_BAD_NO_COMMUNICATION:
        return C_ ("quality", "Bad: never received");
      case KANKYO_QUALITY_BAD_OUT_OF_SERVICE:
        return C_ ("quality", "Bad: out of service");
      case KANKYO_QUALITY_BAD_WAITING_FOR_INITIAL_DATA:
        return C_ ("quality", "Bad: waiting for data");
      case KANKYO_QUALITY_BAD_SENSOR_FAILURE:
        return C_ ("quality", "Bad: sensor failure");
      default:
        return C_ ("quality", "Bad");
    }
}

/* The name of a plugin's tag label in the catalog, when it has one. */
static const char *
tag_label (const KankyoTagSpec *spec)
{
  return spec->label != NULL ? g_dgettext (GETTEXT_PACKAGE, spec->label) : spec->name;
}

static gboolean
is_analog (const KankyoTagSpec *spec)
{
  switch (spec->value_type)
    {
      case KANKYO_VALUE_DOUBLE:
        return TRUE;
      case KANKYO_VALUE_INT:
      case KANKYO_VALUE_UINT:
        /* A count or a code is not a trend; a measurement has a unit. */
        return spec->unit != NULL;
      default:
        return FALSE;
    }
}

/* "12 s", "4 min 2 s", "3 h 12 min" */
static char *
format_age (gint64 age_us)
{
  /* Ages past a century are not worth a bigger type. */
  guint s = (guint) MIN (MAX (age_us, 0) / G_USEC_PER_SEC, (gint64) G_MAXUINT);

  if (s < 60)
    /* Translators: an age in seconds */
    return g_strdup_printf (_ ("%u s"), s);
  if (s < 3600)
    return g_strdup_printf (_ ("%u min %u s"), s / 60, s % 60);
  return g_strdup_printf (_ ("%u h %u min"), s / 3600, (s / 60) % 60);
}

static gboolean
on_value_query_tooltip (
    GtkWidget *widget, int x, int y, gboolean keyboard, GtkTooltip *tooltip, gpointer data)
{
  FaceplateRow *row = data;
  g_autofree char *text = NULL;
  gint64 now = g_get_real_time ();

  if (row->quality == KANKYO_QUALITY_GOOD && row->source_time > 0)
    {
      g_autofree char *at = kankyo_ui_format_local (row->source_time, "%H:%M:%S");
      g_autofree char *age = format_age (now - row->source_time);

      /* Translators: when a good value was read: "read 12:03:41, 2 s ago" */
      text = g_strdup_printf (_ ("%s\nread %s, %s ago"), gtk_label_get_text (GTK_LABEL (widget)), at, age);
    }
  else if (row->last_good_time > 0)
    {
      g_autofree char *at = kankyo_ui_format_local (row->last_good_time, "%H:%M:%S");
      g_autofree char *age = format_age (now - row->last_good_time);

      /* Translators: the value shown is not good: its quality, then when it
       * was last good, e.g. "last good 12:03:41, 37 s ago" */
      text = g_strdup_printf (_ ("%s (%s)\nlast good %s, %s ago"), gtk_label_get_text (GTK_LABEL (widget)),
                              kankyo_quality_describe (row->quality), at, age);
    }
  else
    /* Translators: a value that has had no good reading since the screen opened */
    text = g_strdup_printf (_ ("%s (%s)\nno good value yet"), gtk_label_get_text (GTK_LABEL (widget)),
                            kankyo_quality_describe (row->quality));
  gtk_tooltip_set_text (tooltip, text);
  return TRUE;
}

static void
on_change_clicked (GtkButton *button, gpointer data)
{
  FaceplateRow *row = data;
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (button));
  KankyoWriteDialog *dialog;

  dialog = kankyo_write_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, row->faceplate->engine,
                                    row->name);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
on_trend_clicked (GtkButton *button, gpointer data)
{
  FaceplateRow *row = data;
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (button));
  KankyoTrendWindow *window;

  window = kankyo_trend_window_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, row->faceplate->engine);
  kankyo_trend_window_add_tag (window, row->name);
  gtk_window_present (GTK_WINDOW (window));
}

static void
row_apply (FaceplateRow *row, const KankyoTagSample *sample)
{
  gboolean good = sample->quality == KANKYO_QUALITY_GOOD;
  gboolean bad = kankyo_quality_is_bad (sample->quality);
  g_autofree char *time_text = NULL;
  g_autofree char *time_tooltip = NULL;

  row->quality = sample->quality;
  row->source_time = sample->source_time;
  if (good && sample->source_time > 0)
    row->last_good_time = sample->source_time;
  else if (row->last_good_time == 0 && sample->quality == KANKYO_QUALITY_BAD_COMMUNICATION_ERROR)
    /* The worker keeps the last value with the time it was read. */
    row->last_good_time = sample->source_time;

  if (sample->value.type != KANKYO_VALUE_NONE)
    {
      g_autofree char *value = kankyo_tag_spec_format_value (row->spec, &sample->value);
      g_autofree char *text = NULL;

      if (row->spec->unit != NULL && *row->spec->unit != '\0')
        text = g_strdup_printf ("%s %s", value, g_dgettext (GETTEXT_PACKAGE, row->spec->unit));
      else
        text = g_steal_pointer (&value);
      gtk_label_set_text (GTK_LABEL (row->value_label), text);
    }
  else
    gtk_label_set_text (GTK_LABEL (row->value_label), "—");

  if (bad)
    gtk_widget_add_css_class (row->value_label, "bad");
  else
    gtk_widget_remove_css_class (row->value_label, "bad");
  if (!good && !bad)
    gtk_widget_add_css_class (row->value_label, "uncertain");
  else
    gtk_widget_remove_css_class (row->value_label, "uncertain");

  gtk_label_set_text (GTK_LABEL (row->quality_label), kankyo_quality_describe (sample->quality));
  gtk_widget_set_tooltip_text (row->quality_label, kankyo_quality_to_string (sample->quality));
  gtk_widget_remove_css_class (row->quality_label, "bad");
  gtk_widget_remove_css_class (row->quality_label, "uncertain");
  if (!good)
    gtk_widget_add_css_class (row->quality_label, bad ? "bad" : "uncertain");

  if (sample->source_time > 0)
    {
      time_text = kankyo_ui_format_local (sample->source_time, "%H:%M:%S");
      time_tooltip = kankyo_ui_format_local (sample->source_time, "%Y-%m-%d %H:%M:%S %Z");
    }
  gtk_label_set_text (GTK_LABEL (row->time_label), time_text ? time_text : "");
  gtk_widget_set_tooltip_text (row->time_label, time_tooltip);

  row->last_value = good ? kankyo_value_to_double (&sample->value) : NAN;
}

/* The tag store delivers changes only, so the sparklines sample the latest
 * value on a clock: a steady value draws a flat line, a lost one a gap, and
 * the line spans the same time for every tag. */
static gboolean
sample_sparklines (gpointer user_data)
{
  KankyoFaceplate *self = user_data;
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->rows);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      FaceplateRow *row = value;

      if (row->sparkline != NULL)
        kankyo_sparkline_push (KANKYO_SPARKLINE (row->sparkline), row->last_value);
    }
  return G_SOURCE_CONTINUE;
}

static void
on_batch (KankyoTagStore *store, const KankyoTagSample *samples, guint n_samples, gpointer user_data)
{
  KankyoFaceplate *self = user_data;

  for (guint i = 0; i < n_samples; i++)
    {
      FaceplateRow *row = g_hash_table_lookup (self->rows, GUINT_TO_POINTER (samples[i].tag_id));

      if (row != NULL)
        row_apply (row, &samples[i]);
    }
}

static GtkWidget *
cell_label (const char *text, float xalign)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_xalign (GTK_LABEL (label), xalign);
  gtk_widget_set_valign (label, GTK_ALIGN_CENTER);
  return label;
}

static void
add_header (GtkGrid *grid)
{
  const char *titles[] = {
    C_ ("faceplate column", "Tag"),  C_ ("faceplate column", "Value"), C_ ("faceplate column", "Quality"),
    C_ ("faceplate column", "Time"), C_ ("faceplate column", "Trend"),
  };

  for (guint i = 0; i < G_N_ELEMENTS (titles); i++)
    {
      GtkWidget *label = cell_label (titles[i], i == 1 ? 1.0f : 0.0f);

      gtk_widget_add_css_class (label, "kankyo-faceplate-header");
      gtk_grid_attach (grid, label, (int) i, 0, 1, 1);
    }
}

static void
add_row (KankyoFaceplate *self, GtkGrid *grid, guint tag_id, int y)
{
  FaceplateRow *row = g_new0 (FaceplateRow, 1);
  KankyoTagSample sample;
  GtkWidget *label;
  g_autofree char *accessible = NULL;

  row->faceplate = self;
  row->tag_id = tag_id;
  row->name = kankyo_tag_store_get_name (self->store, tag_id);
  row->spec = kankyo_tag_store_get_spec (self->store, tag_id);
  g_hash_table_insert (self->rows, GUINT_TO_POINTER (tag_id), row);

  label = cell_label (tag_label (row->spec), 0);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_max_width_chars (GTK_LABEL (label), 36);
  gtk_widget_set_tooltip_text (label, row->spec->description != NULL ? row->spec->description : row->name);
  gtk_grid_attach (grid, label, 0, y, 1, 1);

  row->value_label = cell_label (NULL, 1);
  gtk_widget_set_name (row->value_label, row->name);
  gtk_widget_add_css_class (row->value_label, "kankyo-value");
  gtk_label_set_ellipsize (GTK_LABEL (row->value_label), PANGO_ELLIPSIZE_END);
  gtk_label_set_max_width_chars (GTK_LABEL (row->value_label), MAX_VALUE_CHARS);
  gtk_label_set_selectable (GTK_LABEL (row->value_label), FALSE);
  gtk_widget_set_has_tooltip (row->value_label, TRUE);
  g_signal_connect (row->value_label, "query-tooltip", G_CALLBACK (on_value_query_tooltip), row);
  gtk_grid_attach (grid, row->value_label, 1, y, 1, 1);

  row->quality_label = cell_label (NULL, 0);
  gtk_widget_add_css_class (row->quality_label, "kankyo-quality");
  gtk_grid_attach (grid, row->quality_label, 2, y, 1, 1);

  row->time_label = cell_label (NULL, 0);
  gtk_widget_add_css_class (row->time_label, "numeric");
  gtk_grid_attach (grid, row->time_label, 3, y, 1, 1);

  if (is_analog (row->spec))
    {
      KankyoSparkline *sparkline = g_object_new (KANKYO_TYPE_SPARKLINE, NULL);

      /* Two percent of the tag's range fills the height. */
      if (isfinite (row->spec->min) && isfinite (row->spec->max) && row->spec->max > row->spec->min)
        sparkline->min_span = (row->spec->max - row->spec->min) * 0.02;
      row->sparkline = GTK_WIDGET (sparkline);
      /* Translators: the accessible name of a tag's small trend line */
      accessible = g_strdup_printf (_ ("Recent values of %s"), tag_label (row->spec));
      gtk_accessible_update_property (GTK_ACCESSIBLE (row->sparkline), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      accessible, -1);
      gtk_grid_attach (grid, row->sparkline, 4, y, 1, 1);
    }

  if (row->sparkline != NULL)
    {
      GtkWidget *button = gtk_button_new_with_label (_ ("Trend"));
      g_autofree char *name = g_strconcat ("trend:", row->name, NULL);
      /* Translators: the tooltip of a faceplate row's Trend button */
      g_autofree char *tooltip = g_strdup_printf (_ ("Show the history of %s"), tag_label (row->spec));

      gtk_widget_set_name (button, name);
      gtk_widget_set_tooltip_text (button, tooltip);
      gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
      g_signal_connect (button, "clicked", G_CALLBACK (on_trend_clicked), row);
      gtk_grid_attach (grid, button, 6, y, 1, 1);
    }

  if (row->spec->writable)
    {
      GtkWidget *button = gtk_button_new_with_mnemonic (_ ("C_hange…"));
      g_autofree char *name = g_strconcat ("change:", row->name, NULL);
      g_autofree char *tooltip = g_strdup_printf (_ ("Change %s"), tag_label (row->spec));

      gtk_widget_set_name (button, name);
      gtk_widget_set_tooltip_text (button, tooltip);
      gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
      g_signal_connect (button, "clicked", G_CALLBACK (on_change_clicked), row);
      gtk_grid_attach (grid, button, 5, y, 1, 1);
    }

  kankyo_tag_store_get (self->store, tag_id, &sample);
  row_apply (row, &sample);
  kankyo_tag_sample_clear (&sample);
}

static void
build (KankyoFaceplate *self)
{
  KankyoDeviceConfig *config
      = kankyo_project_find_device (kankyo_engine_get_project (self->engine), self->device);
  g_autofree char *subtitle = NULL;
  GtkWidget *title, *sub, *grid;
  guint n_tags = kankyo_tag_store_get_n_tags (self->store);
  int y = 1;

  title = gtk_label_new (config != NULL && config->label != NULL ? config->label : self->device);
  gtk_widget_add_css_class (title, "title-2");
  gtk_label_set_xalign (GTK_LABEL (title), 0);
  gtk_label_set_wrap (GTK_LABEL (title), TRUE);
  gtk_box_append (GTK_BOX (self->box), title);

  if (config != NULL && config->type_id != NULL)
    /* Translators: under a faceplate's title: device name and device type */
    subtitle = g_strdup_printf (_ ("%s · type %s"), self->device, config->type_id);
  else
    subtitle = g_strdup (self->device);
  sub = gtk_label_new (subtitle);
  gtk_widget_add_css_class (sub, "dim-label");
  gtk_label_set_xalign (GTK_LABEL (sub), 0);
  gtk_box_append (GTK_BOX (self->box), sub);

  grid = gtk_grid_new ();
  gtk_grid_set_row_spacing (GTK_GRID (grid), 4);
  gtk_grid_set_column_spacing (GTK_GRID (grid), 18);
  gtk_widget_set_margin_top (grid, 12);
  add_header (GTK_GRID (grid));
  for (guint id = 0; id < n_tags; id++)
    if (g_strcmp0 (kankyo_tag_store_get_device (self->store, id), self->device) == 0)
      add_row (self, GTK_GRID (grid), id, y++);
  gtk_box_append (GTK_BOX (self->box), grid);

  self->subscription
      = kankyo_tag_store_subscribe (self->store, g_main_context_default (), on_batch, self, NULL);
  sample_sparklines (self);
  self->sample_timer = g_timeout_add_seconds (SPARKLINE_PERIOD_S, sample_sparklines, self);
}

static void
kankyo_faceplate_dispose (GObject *object)
{
  KankyoFaceplate *self = KANKYO_FACEPLATE (object);

  if (self->subscription != 0)
    {
      kankyo_tag_store_unsubscribe (self->store, self->subscription);
      self->subscription = 0;
    }
  g_clear_handle_id (&self->sample_timer, g_source_remove);
  g_clear_pointer (&self->box, gtk_widget_unparent);
  G_OBJECT_CLASS (kankyo_faceplate_parent_class)->dispose (object);
}

static void
kankyo_faceplate_finalize (GObject *object)
{
  KankyoFaceplate *self = KANKYO_FACEPLATE (object);

  g_clear_pointer (&self->rows, g_hash_table_unref);
  g_clear_pointer (&self->store, kankyo_tag_store_unref);
  g_clear_object (&self->engine);
  g_free (self->device);
  G_OBJECT_CLASS (kankyo_faceplate_parent_class)->finalize (object);
}

static void
kankyo_faceplate_class_init (KankyoFaceplateClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kankyo_faceplate_dispose;
  object_class->finalize = kankyo_faceplate_finalize;
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "faceplate");
}

static void
kankyo_faceplate_init (KankyoFaceplate *self)
{
  self->rows = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  self->box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  gtk_widget_set_margin_start (self->box, 24);
  gtk_widget_set_margin_end (self->box, 24);
  gtk_widget_set_margin_top (self->box, 18);
  gtk_widget_set_margin_bottom (self->box, 18);
  gtk_widget_set_parent (self->box, GTK_WIDGET (self));
}

GtkWidget *
kankyo_faceplate_new (KankyoEngine *engine, const char *device)
{
  KankyoFaceplate *self;

  g_return_val_if_fail (KANKYO_IS_ENGINE (engine), NULL);
  g_return_val_if_fail (device != NULL, NULL);

  self = g_object_new (KANKYO_TYPE_FACEPLATE, NULL);
  self->engine = g_object_ref (engine);
  self->store = kankyo_tag_store_ref (kankyo_engine_get_tag_store (engine));
  self->device = g_strdup (device);
  build (self);
  return GTK_WIDGET (self);
}

const char *
kankyo_faceplate_get_device (KankyoFaceplate *self)
{
  g_return_val_if_fail (KANKYO_IS_FACEPLATE (self), NULL);
  return self->device;
}
