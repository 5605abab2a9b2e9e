/* kankyo-alarm-banner.c: the alarm banner of the main window, and the
 * marks, cells and words the alarm screens share.
 *
 * The banner keeps a copy of every alarm that is not normal, fed by one
 * alarm engine subscription on the GTK main context; the engine coalesces
 * changes, so a flood of a thousand alarms is a few deliveries, and the
 * banner shows the copy at most every REFRESH_MS: one pass over it chooses
 * the three lines and counts the priorities. Its texts are cells as wide
 * as the widest text they may hold, so new alarms redraw the banner
 * without laying out the window again.
 *
 * Nothing here redraws on a clock unless it must: the marks of lines that
 * wait for acknowledgement blink by a half-second timer that runs only
 * while such a line is shown on a mapped banner, and hides and shows just
 * those marks. The sound repeats every two seconds through
 * gdk_display_beep() while an alarm of low priority or above waits for
 * acknowledgement; a station with no bell (a headless test server) simply
 * hears nothing, and "ringing" says whether it would ring.
 */
#include "config.h"

#include "kankyo-alarm-banner.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "kankyo-mimic-view.h"

#define APP_ID "org.kankyo.Kankyo"
#define SILENCED_KEY "alarm-sound-silenced"
#define BLINK_HALF_PERIOD_MS 500
#define SOUND_PERIOD_MS 2000
#define REFRESH_MS 100
#define MARK_SIZE 16
#define N_PRIORITIES (KANKYO_ALARM_PRIORITY_HIGH + 1)

/* ---- shared words ---- */

const char *
kankyo_alarm_priority_label (KankyoAlarmPriority priority)
{
  switch (priority)
    {
      case KANKYO_ALARM_PRIORITY_HIGH:
        return C_ ("alarm priority", "High");
      case KANKYO_ALARM_PRIORITY_MEDIUM:
        return C_ ("alarm priority", "Medium");
      case KANKYO_ALARM_PRIORITY_LOW:
        return C_ ("alarm priority", "Low");
      case KANKYO_ALARM_PRIORITY_DIAGNOSTIC:
      default:
        return C_ ("alarm priority", "Diagnostic");
    }
}

const char *
kankyo_alarm_state_label (KankyoAlarmState state)
{
  switch (state)
    {
      case KANKYO_ALARM_STATE_UNACK:
        return C_ ("alarm state", "Unacknowledged");
      case KANKYO_ALARM_STATE_ACKED:
        return C_ ("alarm state", "Acknowledged");
      case KANKYO_ALARM_STATE_RTN_UNACK:
        return C_ ("alarm state", "Returned, unacknowledged");
      case KANKYO_ALARM_STATE_LATCHED:
        return C_ ("alarm state", "Latched, needs reset");
      case KANKYO_ALARM_STATE_SHELVED:
        return C_ ("alarm state", "Shelved");
      case KANKYO_ALARM_STATE_SUPPRESSED:
        return C_ ("alarm state", "Suppressed by design");
      case KANKYO_ALARM_STATE_OUT_OF_SERVICE:
        return C_ ("alarm state", "Out of service");
      case KANKYO_ALARM_STATE_NORMAL:
      default:
        return C_ ("alarm state", "Normal");
    }
}

const char *
kankyo_alarm_event_label (KankyoAlarmEvent event)
{
  switch (event)
    {
      case KANKYO_ALARM_EVENT_ACTIVATE:
        return C_ ("alarm event", "Activated");
      case KANKYO_ALARM_EVENT_CLEAR:
        return C_ ("alarm event", "Returned to normal");
      case KANKYO_ALARM_EVENT_ACK:
        return C_ ("alarm event", "Acknowledged");
      case KANKYO_ALARM_EVENT_SHELVE:
        return C_ ("alarm event", "Shelved");
      case KANKYO_ALARM_EVENT_UNSHELVE:
        return C_ ("alarm event", "Unshelved");
      case KANKYO_ALARM_EVENT_SHELVE_EXPIRED:
        return C_ ("alarm event", "Shelve expired");
      case KANKYO_ALARM_EVENT_SUPPRESS:
        return C_ ("alarm event", "Suppressed");
      case KANKYO_ALARM_EVENT_UNSUPPRESS:
        return C_ ("alarm event", "Unsuppressed");
      case KANKYO_ALARM_EVENT_REMOVE_FROM_SERVICE:
        return C_ ("alarm event", "Removed from service");
      case KANKYO_ALARM_EVENT_RETURN_TO_SERVICE:
        return C_ ("alarm event", "Returned to service");
      case KANKYO_ALARM_EVENT_RESET:
        return C_ ("alarm event", "Reset");
      case KANKYO_ALARM_EVENT_NONE:
      default:
        return C_ ("alarm event", "None");
    }
}

char *
kankyo_alarm_format_time (gint64 utc_us, gboolean with_date)
{
  g_autoptr (GDateTime) time = NULL;

  if (utc_us <= 0)
    return g_strdup ("");
  time = g_date_time_new_from_unix_local (utc_us / G_USEC_PER_SEC);
  if (time == NULL)
    return g_strdup ("");
  return g_date_time_format (time, with_date ? "%Y-%m-%d %H:%M:%S" : "%H:%M:%S");
}

char *
kankyo_alarm_format_value (KankyoTagStore *store, const char *tag, double value)
{
  gint id = store != NULL && tag != NULL ? kankyo_tag_store_lookup (store, tag) : -1;
  const KankyoTagSpec *spec;
  g_auto (KankyoValue) v = KANKYO_VALUE_INIT;
  g_autofree char *text = NULL;

  if (isnan (value))
    return g_strdup ("");
  if (id < 0)
    return kankyo_format_double (value, 9);
  spec = kankyo_tag_store_get_spec (store, (guint) id);
  if (spec->value_type == KANKYO_VALUE_BOOL)
    kankyo_value_set_bool (&v, value != 0);
  else
    kankyo_value_set_double (&v, value);
  text = kankyo_tag_spec_format_value (spec, &v);
  if (spec->unit == NULL || *spec->unit == '\0')
    return g_steal_pointer (&text);
  return g_strdup_printf ("%s %s", text, g_dgettext (GETTEXT_PACKAGE, spec->unit));
}

/* ---- the mark ---- */

struct _KankyoAlarmMark
{
  GtkWidget parent_instance;

  KankyoAlarmPriority priority;
  gboolean labelled;
};

G_DEFINE_FINAL_TYPE (KankyoAlarmMark, kankyo_alarm_mark, GTK_TYPE_WIDGET)

static void
kankyo_alarm_mark_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  KankyoAlarmMark *self = KANKYO_ALARM_MARK (widget);
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  double size = MIN (width, height);
  cairo_t *cr;

  if (size <= 0)
    return;
  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));
  cairo_translate (cr, (width - size) / 2, (height - size) / 2);
  kankyo_mimic_paint_state_mark (cr, kankyo_mimic_state_for_alarm_priority (self->priority), size, 1);
  cairo_destroy (cr);
}

static void
kankyo_alarm_mark_measure (GtkWidget *widget,
                           GtkOrientation orientation,
                           int for_size,
                           int *minimum,
                           int *natural,
                           int *minimum_baseline,
                           int *natural_baseline)
{
  *minimum = *natural = MARK_SIZE;
}

static void
kankyo_alarm_mark_class_init (KankyoAlarmMarkClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  widget_class->snapshot = kankyo_alarm_mark_snapshot;
  widget_class->measure = kankyo_alarm_mark_measure;
  gtk_widget_class_set_css_name (widget_class, "kankyo-alarm-mark");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
kankyo_alarm_mark_init (KankyoAlarmMark *self)
{
  gtk_widget_set_valign (GTK_WIDGET (self), GTK_ALIGN_CENTER);
}

void
kankyo_alarm_mark_set_priority (KankyoAlarmMark *self, KankyoAlarmPriority priority)
{
  g_autofree char *label = NULL;

  g_return_if_fail (KANKYO_IS_ALARM_MARK (self));
  if (self->priority == priority && self->labelled)
    return;
  self->priority = priority;
  self->labelled = TRUE;
  /* Translators: what a priority mark says to a screen reader, e.g. "High priority" */
  label = g_strdup_printf (_ ("%s priority"), kankyo_alarm_priority_label (priority));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

GtkWidget *
kankyo_alarm_mark_new (KankyoAlarmPriority priority)
{
  KankyoAlarmMark *self = g_object_new (KANKYO_TYPE_ALARM_MARK, NULL);

  kankyo_alarm_mark_set_priority (self, priority);
  return GTK_WIDGET (self);
}

/* ---- a cell of the alarm lists ---- */

#define CELL_PADDING 4
#define CELL_MARK_GAP 6

struct _KankyoAlarmCell
{
  GtkWidget parent_instance;

  char *text;
  gboolean bold;
  gboolean numeric;
  gboolean with_mark;
  KankyoAlarmPriority priority;
  PangoLayout *layout;        /* made when first drawn */
  int line_height;            /* of the widget's font; 0 until measured */
  PangoFontDescription *font; /* what line_height and layout were made with */
};

G_DEFINE_FINAL_TYPE (KankyoAlarmCell, kankyo_alarm_cell, GTK_TYPE_WIDGET)

static void
cell_update_attributes (KankyoAlarmCell *self)
{
  PangoAttrList *attributes = pango_attr_list_new ();

  if (self->bold)
    pango_attr_list_insert (attributes, pango_attr_weight_new (PANGO_WEIGHT_BOLD));
  if (self->numeric)
    pango_attr_list_insert (attributes, pango_attr_font_features_new ("tnum=1"));
  pango_layout_set_attributes (self->layout, attributes);
  pango_attr_list_unref (attributes);
}

/* Font metrics are costly to ask for, and the cells of a list share a
 * font: the last answer is kept for the next cell (on the main thread). */
static int
cell_line_height (GtkWidget *widget)
{
  static PangoFontDescription *last_font;
  static int last_height;
  PangoContext *context = gtk_widget_get_pango_context (widget);
  const PangoFontDescription *font = pango_context_get_font_description (context);
  PangoFontMetrics *metrics;

  if (last_font != NULL && font != NULL && pango_font_description_equal (last_font, font))
    return last_height;
  metrics = pango_context_get_metrics (context, NULL, NULL);
  last_height = PANGO_PIXELS_CEIL (pango_font_metrics_get_height (metrics));
  if (last_height <= 0)
    last_height = PANGO_PIXELS_CEIL (pango_font_metrics_get_ascent (metrics)
                                     + pango_font_metrics_get_descent (metrics));
  pango_font_metrics_unref (metrics);
  g_clear_pointer (&last_font, pango_font_description_free);
  if (font != NULL)
    last_font = pango_font_description_copy (font);
  return last_height;
}

static int
cell_text_x (KankyoAlarmCell *self)
{
  return CELL_PADDING + (self->with_mark ? MARK_SIZE + CELL_MARK_GAP : 0);
}

static void
kankyo_alarm_cell_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  KankyoAlarmCell *self = KANKYO_ALARM_CELL (widget);
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  int x = cell_text_x (self);
  GdkRGBA colour;
  PangoRectangle logical;

  if (self->with_mark)
    {
      cairo_t *cr = gtk_snapshot_append_cairo (
          snapshot, &GRAPHENE_RECT_INIT (CELL_PADDING, (height - MARK_SIZE) / 2.f, MARK_SIZE, MARK_SIZE));

      cairo_translate (cr, CELL_PADDING, (height - MARK_SIZE) / 2.0);
      kankyo_mimic_paint_state_mark (cr, kankyo_mimic_state_for_alarm_priority (self->priority), MARK_SIZE,
                                     1);
      cairo_destroy (cr);
    }
  if (self->text == NULL || *self->text == '\0' || width - x - CELL_PADDING <= 0)
    return;
  if (self->layout == NULL)
    {
      self->layout = gtk_widget_create_pango_layout (widget, self->text);
      pango_layout_set_ellipsize (self->layout, PANGO_ELLIPSIZE_END);
      pango_layout_set_single_paragraph_mode (self->layout, TRUE);
      cell_update_attributes (self);
    }
  pango_layout_set_width (self->layout, (width - x - CELL_PADDING) * PANGO_SCALE);
  pango_layout_get_pixel_extents (self->layout, NULL, &logical);
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), &colour);
  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (x, (height - logical.height) / 2.f));
  gtk_snapshot_append_layout (snapshot, self->layout, &colour);
  gtk_snapshot_restore (snapshot);
}

static void
kankyo_alarm_cell_measure (GtkWidget *widget,
                           GtkOrientation orientation,
                           int for_size,
                           int *minimum,
                           int *natural,
                           int *minimum_baseline,
                           int *natural_baseline)
{
  KankyoAlarmCell *self = KANKYO_ALARM_CELL (widget);

  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      /* The column gives the width; the text is ellipsized to it. */
      *minimum = *natural = cell_text_x (self) + CELL_PADDING;
      return;
    }
  if (self->line_height == 0)
    self->line_height = cell_line_height (widget);
  *minimum = *natural = MAX (self->line_height, MARK_SIZE) + 2 * CELL_PADDING;
}

static void
kankyo_alarm_cell_css_changed (GtkWidget *widget, GtkCssStyleChange *change)
{
  KankyoAlarmCell *self = KANKYO_ALARM_CELL (widget);
  const PangoFontDescription *font;

  GTK_WIDGET_CLASS (kankyo_alarm_cell_parent_class)->css_changed (widget, change);
  /* Only another font is measured and shaped anew: a row selected or a
   * window losing focus changes a colour, which is a redraw. */
  font = pango_context_get_font_description (gtk_widget_get_pango_context (widget));
  if (self->font != NULL && font != NULL && pango_font_description_equal (self->font, font))
    return;
  g_clear_pointer (&self->font, pango_font_description_free);
  if (font != NULL)
    self->font = pango_font_description_copy (font);
  self->line_height = 0;
  g_clear_object (&self->layout);
  gtk_widget_queue_resize (widget);
}

static gboolean
on_cell_query_tooltip (GtkWidget *widget, int x, int y, gboolean keyboard, GtkTooltip *tooltip, gpointer data)
{
  KankyoAlarmCell *self = KANKYO_ALARM_CELL (widget);

  if (self->layout == NULL || !pango_layout_is_ellipsized (self->layout))
    return FALSE;
  gtk_tooltip_set_text (tooltip, self->text);
  return TRUE;
}

static void
kankyo_alarm_cell_finalize (GObject *object)
{
  KankyoAlarmCell *self = KANKYO_ALARM_CELL (object);

  g_clear_object (&self->layout);
  g_clear_pointer (&self->font, pango_font_description_free);
  g_free (self->text);
  G_OBJECT_CLASS (kankyo_alarm_cell_parent_class)->finalize (object);
}

static void
kankyo_alarm_cell_class_init (KankyoAlarmCellClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = kankyo_alarm_cell_finalize;
  widget_class->snapshot = kankyo_alarm_cell_snapshot;
  widget_class->measure = kankyo_alarm_cell_measure;
  widget_class->css_changed = kankyo_alarm_cell_css_changed;
  gtk_widget_class_set_css_name (widget_class, "kankyo-alarm-cell");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_LABEL);
}

static void
kankyo_alarm_cell_init (KankyoAlarmCell *self)
{
  gtk_widget_set_has_tooltip (GTK_WIDGET (self), TRUE);
  g_signal_connect (self, "query-tooltip", G_CALLBACK (on_cell_query_tooltip), NULL);
}

GtkWidget *
kankyo_alarm_cell_new (gboolean with_mark, gboolean numeric)
{
  KankyoAlarmCell *self = g_object_new (KANKYO_TYPE_ALARM_CELL, NULL);

  self->with_mark = with_mark;
  self->numeric = numeric;
  return GTK_WIDGET (self);
}

void
kankyo_alarm_cell_set_text (KankyoAlarmCell *self, const char *text, gboolean bold)
{
  g_return_if_fail (KANKYO_IS_ALARM_CELL (self));

  text = text != NULL ? text : "";
  bold = !!bold;
  if (g_strcmp0 (self->text, text) == 0 && self->bold == bold)
    return;
  if (g_strcmp0 (self->text, text) != 0)
    {
      g_free (self->text);
      self->text = g_strdup (text);
      if (self->layout != NULL)
        pango_layout_set_text (self->layout, self->text, -1);
      gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL, self->text, -1);
    }
  if (self->bold != bold)
    {
      self->bold = bold;
      if (self->layout != NULL)
        cell_update_attributes (self);
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

const char *
kankyo_alarm_cell_get_text (KankyoAlarmCell *self)
{
  g_return_val_if_fail (KANKYO_IS_ALARM_CELL (self), NULL);
  return self->text != NULL ? self->text : "";
}

void
kankyo_alarm_cell_set_priority (KankyoAlarmCell *self, KankyoAlarmPriority priority)
{
  g_return_if_fail (KANKYO_IS_ALARM_CELL (self));

  if (self->priority == priority)
    return;
  self->priority = priority;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* ---- the banner ---- */

static const KankyoAlarmState all_states[] = {
  KANKYO_ALARM_STATE_UNACK,          KANKYO_ALARM_STATE_ACKED,   KANKYO_ALARM_STATE_RTN_UNACK,
  KANKYO_ALARM_STATE_LATCHED,        KANKYO_ALARM_STATE_SHELVED, KANKYO_ALARM_STATE_SUPPRESSED,
  KANKYO_ALARM_STATE_OUT_OF_SERVICE,
};

/* What the banner needs of an alarm, copied: the engine's stop frees the
 * definitions. */
typedef struct
{
  char *id;
  char *message;
  KankyoAlarmPriority priority;
  KankyoAlarmState state;
  gint64 time; /* when it last activated, else when its state changed */
} BannerAlarm;

static void
banner_alarm_free (BannerAlarm *alarm)
{
  g_free (alarm->id);
  g_free (alarm->message);
  g_free (alarm);
}

typedef struct
{
  GtkWidget *button;
  GtkWidget *mark;
  GtkWidget *time;
  GtkWidget *message;
  GtkWidget *state;
  char *alarm_id; /* the alarm shown, or NULL */
  gboolean blinks;
} BannerLine;

struct _KankyoAlarmBanner
{
  GtkWidget parent_instance;

  KankyoEngine *engine;
  KankyoAlarmEngine *alarms; /* the engine's; NULL when it has none */
  guint subscription;
  GHashTable *active; /* alarm id -> BannerAlarm*, every alarm not normal */

  GtkWidget *lines_box;
  BannerLine lines[KANKYO_ALARM_BANNER_LINES];
  GtkWidget *counts_box;
  GtkWidget *count_labels[N_PRIORITIES];
  GtkWidget *count_items[N_PRIORITIES];
  GtkWidget *summary_button;
  GtkWidget *silence_button;

  guint counts[N_PRIORITIES];
  guint unacked[N_PRIORITIES];

  guint refresh_source;
  guint blink_source;
  gboolean blink_on;
  guint sound_source;
  gboolean ringing;
  gboolean silenced;
  GSettings *settings; /* NULL when the schema is not installed */
};

G_DEFINE_FINAL_TYPE (KankyoAlarmBanner, kankyo_alarm_banner, GTK_TYPE_WIDGET)

enum
{
  PROP_0,
  PROP_RINGING,
  PROP_SILENCED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
set_text (GtkWidget *cell, const char *text, gboolean bold)
{
  kankyo_alarm_cell_set_text (KANKYO_ALARM_CELL (cell), text, bold);
}

/* Waiting for acknowledgement first, then the higher priority, then the
 * newest. */
static gboolean
comes_before (const BannerAlarm *a, const BannerAlarm *b)
{
  gboolean ua = kankyo_alarm_state_needs_ack (a->state);
  gboolean ub = kankyo_alarm_state_needs_ack (b->state);

  if (ua != ub)
    return ua;
  if (a->priority != b->priority)
    return a->priority > b->priority;
  if (a->time != b->time)
    return a->time > b->time;
  return g_strcmp0 (a->id, b->id) < 0;
}

/* ---- blinking and sound ---- */

static void
show_blink_phase (KankyoAlarmBanner *self)
{
  for (guint i = 0; i < KANKYO_ALARM_BANNER_LINES; i++)
    {
      BannerLine *line = &self->lines[i];

      gtk_widget_set_opacity (line->mark, line->alarm_id == NULL            ? 0
                                          : !line->blinks || self->blink_on ? 1
                                                                            : 0);
    }
}

static gboolean
on_blink (gpointer user_data)
{
  KankyoAlarmBanner *self = user_data;

  self->blink_on = !self->blink_on;
  show_blink_phase (self);
  return G_SOURCE_CONTINUE;
}

static void
update_blinking (KankyoAlarmBanner *self)
{
  gboolean any = FALSE;

  for (guint i = 0; i < KANKYO_ALARM_BANNER_LINES; i++)
    any = any || self->lines[i].blinks;
  any = any && gtk_widget_get_mapped (GTK_WIDGET (self));
  if (any && self->blink_source == 0)
    {
      self->blink_on = TRUE;
      self->blink_source = g_timeout_add (BLINK_HALF_PERIOD_MS, on_blink, self);
      g_source_set_name_by_id (self->blink_source, "[kankyo] alarm banner blink");
    }
  else if (!any)
    {
      g_clear_handle_id (&self->blink_source, g_source_remove);
      self->blink_on = TRUE;
    }
  show_blink_phase (self);
}

static void
beep (KankyoAlarmBanner *self)
{
  gdk_display_beep (gtk_widget_get_display (GTK_WIDGET (self)));
}

static gboolean
on_sound (gpointer user_data)
{
  beep (user_data);
  return G_SOURCE_CONTINUE;
}

static void
update_sound (KankyoAlarmBanner *self)
{
  gboolean ringing = FALSE;

  for (guint p = KANKYO_ALARM_PRIORITY_LOW; p < N_PRIORITIES; p++)
    ringing = ringing || self->unacked[p] > 0;
  ringing = ringing && !self->silenced;
  if (ringing == self->ringing)
    return;
  self->ringing = ringing;
  if (ringing)
    {
      beep (self);
      self->sound_source = g_timeout_add (SOUND_PERIOD_MS, on_sound, self);
      g_source_set_name_by_id (self->sound_source, "[kankyo] alarm sound");
    }
  else
    g_clear_handle_id (&self->sound_source, g_source_remove);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RINGING]);
}

static void
update_silence_button (KankyoAlarmBanner *self)
{
  GtkToggleButton *toggle = GTK_TOGGLE_BUTTON (self->silence_button);

  if (gtk_toggle_button_get_active (toggle) != self->silenced)
    gtk_toggle_button_set_active (toggle, self->silenced);
  gtk_button_set_icon_name (GTK_BUTTON (toggle),
                            self->silenced ? "audio-volume-muted-symbolic" : "audio-volume-high-symbolic");
  gtk_widget_set_tooltip_text (self->silence_button,
                               self->silenced ? _ ("The alarm sound is silenced on this station. Press to "
                                                   "hear it again.")
                                              : _ ("Silence the alarm sound on this station"));
}

/* ---- what is shown ---- */

static void
show_line (KankyoAlarmBanner *self, BannerLine *line, const BannerAlarm *alarm)
{
  g_autofree char *time = NULL;

  if (alarm == NULL)
    {
      g_clear_pointer (&line->alarm_id, g_free);
      line->blinks = FALSE;
      set_text (line->time, "", FALSE);
      set_text (line->message, line == &self->lines[0] ? _ ("No alarms") : "", FALSE);
      set_text (line->state, "", FALSE);
      gtk_widget_set_sensitive (line->button, FALSE);
      gtk_widget_set_focusable (line->button, FALSE);
      gtk_actionable_set_action_name (GTK_ACTIONABLE (line->button), NULL);
      gtk_actionable_set_action_target_value (GTK_ACTIONABLE (line->button), NULL);
      gtk_widget_set_tooltip_text (line->button, NULL);
      return;
    }

  line->blinks = kankyo_alarm_state_needs_ack (alarm->state);
  kankyo_alarm_mark_set_priority (KANKYO_ALARM_MARK (line->mark), alarm->priority);
  time = kankyo_alarm_format_time (alarm->time, FALSE);
  set_text (line->time, time, FALSE);
  set_text (line->message, alarm->message, line->blinks);
  set_text (line->state, kankyo_alarm_state_label (alarm->state), line->blinks);
  if (g_strcmp0 (line->alarm_id, alarm->id) != 0)
    {
      g_autofree char *tooltip = NULL;

      g_free (line->alarm_id);
      line->alarm_id = g_strdup (alarm->id);
      /* The target first: the action takes a parameter. */
      gtk_actionable_set_action_target (GTK_ACTIONABLE (line->button), "s", line->alarm_id);
      gtk_actionable_set_action_name (GTK_ACTIONABLE (line->button), "alarm.show");
      /* Translators: the tooltip of an alarm on the banner: its priority and its id */
      tooltip = g_strdup_printf (_ ("%s priority alarm %s. Press to see it in the alarm summary."),
                                 kankyo_alarm_priority_label (alarm->priority), line->alarm_id);
      gtk_widget_set_tooltip_text (line->button, tooltip);
    }
  gtk_widget_set_focusable (line->button, TRUE);
}

static void
show_counts (KankyoAlarmBanner *self)
{
  for (guint p = 0; p < N_PRIORITIES; p++)
    {
      g_autofree char *text = g_strdup_printf ("%u", self->counts[p]);
      g_autofree char *tooltip = NULL;

      set_text (self->count_labels[p], text, self->unacked[p] > 0);
      /* Translators: the count of one priority on the alarm banner, e.g.
       * "High priority: 3 alarms, 1 unacknowledged" */
      tooltip = g_strdup_printf (ngettext ("%s priority: %u alarm, %u unacknowledged",
                                           "%s priority: %u alarms, %u unacknowledged", self->counts[p]),
                                 kankyo_alarm_priority_label (p), self->counts[p], self->unacked[p]);
      gtk_widget_set_tooltip_text (self->count_items[p], tooltip);
      gtk_accessible_update_property (GTK_ACCESSIBLE (self->count_items[p]), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      tooltip, -1);
    }
}

static void
refresh (KankyoAlarmBanner *self)
{
  const BannerAlarm *top[KANKYO_ALARM_BANNER_LINES] = { NULL };
  GHashTableIter iter;
  gpointer value;

  memset (self->counts, 0, sizeof self->counts);
  memset (self->unacked, 0, sizeof self->unacked);
  g_hash_table_iter_init (&iter, self->active);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      const BannerAlarm *alarm = value;
      guint p = MIN ((guint) alarm->priority, N_PRIORITIES - 1);
      guint at;

      if (!kankyo_alarm_state_is_annunciated (alarm->state))
        continue;
      self->counts[p]++;
      if (kankyo_alarm_state_needs_ack (alarm->state))
        self->unacked[p]++;
      /* Insertion into the three best so far. */
      for (at = KANKYO_ALARM_BANNER_LINES;
           at > 0 && (top[at - 1] == NULL || comes_before (alarm, top[at - 1])); at--)
        ;
      if (at < KANKYO_ALARM_BANNER_LINES)
        {
          memmove (&top[at + 1], &top[at], (KANKYO_ALARM_BANNER_LINES - 1 - at) * sizeof top[0]);
          top[at] = alarm;
        }
    }
  for (guint i = 0; i < KANKYO_ALARM_BANNER_LINES; i++)
    show_line (self, &self->lines[i], top[i]);
  show_counts (self);
  update_blinking (self);
  update_sound (self);
}

static gboolean
refresh_timeout (gpointer user_data)
{
  KankyoAlarmBanner *self = user_data;

  self->refresh_source = 0;
  refresh (self);
  return G_SOURCE_REMOVE;
}

/* The copy follows the engine at once; the banner shows it at most
 * REFRESH_MS later, so a flood's many deliveries change its labels, and
 * lay out the window, a few times rather than at every one. */
static void
on_alarms_changed (KankyoAlarmEngine *engine,
                   const KankyoAlarmInfo *changed,
                   guint n_changed,
                   gpointer user_data)
{
  KankyoAlarmBanner *self = user_data;

  for (guint i = 0; i < n_changed; i++)
    {
      const KankyoAlarmInfo *info = &changed[i];
      BannerAlarm *alarm;

      if (info->state == KANKYO_ALARM_STATE_NORMAL)
        {
          g_hash_table_remove (self->active, info->definition->id);
          continue;
        }
      alarm = g_hash_table_lookup (self->active, info->definition->id);
      if (alarm == NULL)
        {
          alarm = g_new0 (BannerAlarm, 1);
          alarm->id = g_strdup (info->definition->id);
          alarm->message
              = g_strdup (info->definition->message != NULL ? info->definition->message : alarm->id);
          alarm->priority = info->definition->priority;
          g_hash_table_insert (self->active, alarm->id, alarm);
        }
      alarm->state = info->state;
      alarm->time = info->active_time > 0 ? info->active_time : info->state_time;
    }
  if (self->refresh_source == 0)
    {
      self->refresh_source = g_timeout_add (REFRESH_MS, refresh_timeout, self);
      g_source_set_name_by_id (self->refresh_source, "[kankyo] alarm banner refresh");
    }
}

/* ---- the station's silence ---- */

static GSettings *
banner_settings_new (void)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr (GSettingsSchema) schema = NULL;

  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, APP_ID, TRUE);
  if (schema == NULL || !g_settings_schema_has_key (schema, SILENCED_KEY))
    {
      g_debug ("GSettings schema %s with %s is not installed; silencing is not remembered", APP_ID,
               SILENCED_KEY);
      return NULL;
    }
  return g_settings_new_full (schema, NULL, NULL);
}

static void
apply_silenced (KankyoAlarmBanner *self, gboolean silenced)
{
  if (silenced == self->silenced)
    return;
  self->silenced = silenced;
  update_silence_button (self);
  update_sound (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SILENCED]);
}

static void
on_settings_changed (GSettings *settings, const char *key, gpointer user_data)
{
  apply_silenced (KANKYO_ALARM_BANNER (user_data), g_settings_get_boolean (settings, SILENCED_KEY));
}

static void
on_silence_toggled (GtkToggleButton *button, gpointer user_data)
{
  kankyo_alarm_banner_set_silenced (KANKYO_ALARM_BANNER (user_data), gtk_toggle_button_get_active (button));
}

/* ---- GObject ---- */

static void
kankyo_alarm_banner_map (GtkWidget *widget)
{
  GTK_WIDGET_CLASS (kankyo_alarm_banner_parent_class)->map (widget);
  update_blinking (KANKYO_ALARM_BANNER (widget));
}

static void
kankyo_alarm_banner_unmap (GtkWidget *widget)
{
  KankyoAlarmBanner *self = KANKYO_ALARM_BANNER (widget);

  g_clear_handle_id (&self->blink_source, g_source_remove);
  GTK_WIDGET_CLASS (kankyo_alarm_banner_parent_class)->unmap (widget);
}

static void
kankyo_alarm_banner_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  KankyoAlarmBanner *self = KANKYO_ALARM_BANNER (object);

  switch (prop_id)
    {
      case PROP_RINGING:
        g_value_set_boolean (value, self->ringing);
        break;
      case PROP_SILENCED:
        g_value_set_boolean (value, self->silenced);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kankyo_alarm_banner_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  KankyoAlarmBanner *self = KANKYO_ALARM_BANNER (object);

  switch (prop_id)
    {
      case PROP_SILENCED:
        kankyo_alarm_banner_set_silenced (self, g_value_get_boolean (value));
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kankyo_alarm_banner_dispose (GObject *object)
{
  KankyoAlarmBanner *self = KANKYO_ALARM_BANNER (object);
  GtkWidget *child;

  /* A stopped engine has freed its alarm engine and its subscriptions. */
  if (self->subscription != 0 && self->engine != NULL
      && kankyo_engine_get_alarms (self->engine) == self->alarms)
    kankyo_alarm_engine_unsubscribe (self->alarms, self->subscription);
  self->subscription = 0;
  g_clear_handle_id (&self->refresh_source, g_source_remove);
  g_clear_handle_id (&self->blink_source, g_source_remove);
  g_clear_handle_id (&self->sound_source, g_source_remove);
  if (self->settings != NULL)
    g_signal_handlers_disconnect_by_data (self->settings, self);
  g_clear_object (&self->settings);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);
  for (guint i = 0; i < KANKYO_ALARM_BANNER_LINES; i++)
    g_clear_pointer (&self->lines[i].alarm_id, g_free);
  g_clear_pointer (&self->active, g_hash_table_unref);
  g_clear_object (&self->engine);
  G_OBJECT_CLASS (kankyo_alarm_banner_parent_class)->dispose (object);
}

static void
kankyo_alarm_banner_class_init (KankyoAlarmBannerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kankyo_alarm_banner_dispose;
  object_class->get_property = kankyo_alarm_banner_get_property;
  object_class->set_property = kankyo_alarm_banner_set_property;
  widget_class->map = kankyo_alarm_banner_map;
  widget_class->unmap = kankyo_alarm_banner_unmap;

  properties[PROP_RINGING]
      = g_param_spec_boolean ("ringing", NULL, NULL, FALSE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_SILENCED] = g_param_spec_boolean (
      "silenced", NULL, NULL, FALSE, G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_css_name (widget_class, "kankyo-alarm-banner");
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BOX_LAYOUT);
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

/* The banner's texts change without changing its layout: their cells are
 * as wide as the widest text they may hold. */
static int
text_width (GtkWidget *widget, const char *text)
{
  g_autoptr (PangoLayout) layout = gtk_widget_create_pango_layout (widget, text);
  PangoAttrList *attributes = pango_attr_list_new ();
  int width = 0;

  pango_attr_list_insert (attributes, pango_attr_weight_new (PANGO_WEIGHT_BOLD));
  pango_layout_set_attributes (layout, attributes);
  pango_attr_list_unref (attributes);
  pango_layout_get_pixel_size (layout, &width, NULL);
  return width;
}

static GtkWidget *
fixed_cell (GtkWidget *banner, gboolean numeric, const char *const *widest)
{
  GtkWidget *cell = kankyo_alarm_cell_new (FALSE, numeric);
  int width = 0;

  for (guint i = 0; widest != NULL && widest[i] != NULL; i++)
    width = MAX (width, text_width (banner, widest[i]));
  if (widest != NULL)
    gtk_widget_set_size_request (cell, width + 2 * CELL_PADDING + 2, -1);
  return cell;
}

static void
build_line (KankyoAlarmBanner *self, guint index)
{
  BannerLine *line = &self->lines[index];
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  g_autofree char *name = NULL;

  line->button = gtk_button_new ();
  gtk_widget_add_css_class (line->button, "flat");
  name = g_strdup_printf ("alarm-banner-line-%u", index);
  gtk_widget_set_name (line->button, name);
  line->mark = kankyo_alarm_mark_new (KANKYO_ALARM_PRIORITY_LOW);
  gtk_widget_set_opacity (line->mark, 0);
  {
    const char *const times[] = { "88:88:88", NULL };
    const char *states[G_N_ELEMENTS (all_states) + 1] = { NULL };

    for (guint i = 0; i < G_N_ELEMENTS (all_states); i++)
      states[i] = kankyo_alarm_state_label (all_states[i]);
    line->time = fixed_cell (GTK_WIDGET (self), TRUE, times);
    gtk_widget_add_css_class (line->time, "dim-label");
    line->state = fixed_cell (GTK_WIDGET (self), FALSE, states);
  }
  line->message = kankyo_alarm_cell_new (FALSE, FALSE);
  gtk_widget_set_hexpand (line->message, TRUE);
  g_free (name);
  name = g_strdup_printf ("alarm-banner-message-%u", index);
  gtk_widget_set_name (line->message, name);
  g_free (name);
  name = g_strdup_printf ("alarm-banner-state-%u", index);
  gtk_widget_set_name (line->state, name);
  gtk_box_append (GTK_BOX (box), line->mark);
  gtk_box_append (GTK_BOX (box), line->time);
  gtk_box_append (GTK_BOX (box), line->message);
  gtk_box_append (GTK_BOX (box), line->state);
  gtk_button_set_child (GTK_BUTTON (line->button), box);
  gtk_box_append (GTK_BOX (self->lines_box), line->button);
}

static void
kankyo_alarm_banner_init (KankyoAlarmBanner *self)
{
  GtkWidget *widget = GTK_WIDGET (self);
  GtkWidget *side;
  g_autofree char *summary_tooltip = NULL;
  g_autofree char *accel = gtk_accelerator_get_label (GDK_KEY_F9, 0);

  self->active = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) banner_alarm_free);
  gtk_orientable_set_orientation (GTK_ORIENTABLE (gtk_widget_get_layout_manager (widget)),
                                  GTK_ORIENTATION_HORIZONTAL);
  gtk_box_layout_set_spacing (GTK_BOX_LAYOUT (gtk_widget_get_layout_manager (widget)), 12);
  gtk_widget_add_css_class (widget, "toolbar");
  gtk_widget_set_name (widget, "alarm-banner");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL, _ ("Alarms"), -1);

  self->lines_box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_box_set_homogeneous (GTK_BOX (self->lines_box), TRUE);
  gtk_widget_set_hexpand (self->lines_box, TRUE);
  gtk_widget_set_parent (self->lines_box, widget);
  for (guint i = 0; i < KANKYO_ALARM_BANNER_LINES; i++)
    build_line (self, i);

  side = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  gtk_widget_set_valign (side, GTK_ALIGN_CENTER);
  gtk_widget_set_parent (side, widget);
  self->counts_box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 10);
  gtk_widget_set_halign (self->counts_box, GTK_ALIGN_END);
  gtk_box_append (GTK_BOX (side), self->counts_box);
  for (int p = N_PRIORITIES - 1; p >= 0; p--)
    {
      const char *const counts[] = { "8888", NULL };

      GtkWidget *item = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 4);
      g_autofree char *name = g_strdup_printf ("alarm-banner-count-%s", kankyo_alarm_priority_to_string (p));

      gtk_box_append (GTK_BOX (item), kankyo_alarm_mark_new (p));
      self->count_labels[p] = fixed_cell (widget, TRUE, counts);
      gtk_widget_set_name (self->count_labels[p], name);
      gtk_box_append (GTK_BOX (item), self->count_labels[p]);
      self->count_items[p] = item;
      gtk_box_append (GTK_BOX (self->counts_box), item);
    }

  {
    GtkWidget *buttons = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);

    gtk_widget_set_halign (buttons, GTK_ALIGN_END);
    self->summary_button = gtk_button_new_with_label (_ ("Summary"));
    gtk_widget_set_name (self->summary_button, "alarm-banner-summary");
    gtk_actionable_set_action_name (GTK_ACTIONABLE (self->summary_button), "alarm.summary");
    /* Translators: %s is the key that opens the summary, e.g. "F9" */
    summary_tooltip
        = g_strdup_printf (_ ("Open the alarm summary to acknowledge and shelve alarms (%s)"), accel);
    gtk_widget_set_tooltip_text (self->summary_button, summary_tooltip);
    gtk_box_append (GTK_BOX (buttons), self->summary_button);

    self->silence_button = gtk_toggle_button_new ();
    gtk_widget_set_name (self->silence_button, "alarm-banner-silence");
    gtk_accessible_update_property (GTK_ACCESSIBLE (self->silence_button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                    _ ("Silence the alarm sound"), -1);
    g_signal_connect_object (self->silence_button, "toggled", G_CALLBACK (on_silence_toggled), self, 0);
    gtk_box_append (GTK_BOX (buttons), self->silence_button);
    gtk_box_append (GTK_BOX (side), buttons);
  }

  /* The marks' digits load a bold font; that happens now, with the
   * window, not in the frame of the first alarm. */
  {
    cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, MARK_SIZE, MARK_SIZE);
    cairo_t *cr = cairo_create (surface);

    for (int p = 0; p < N_PRIORITIES; p++)
      kankyo_mimic_paint_state_mark (cr, kankyo_mimic_state_for_alarm_priority (p), MARK_SIZE, 1);
    cairo_destroy (cr);
    cairo_surface_destroy (surface);
  }

  self->settings = banner_settings_new ();
  if (self->settings != NULL)
    {
      self->silenced = g_settings_get_boolean (self->settings, SILENCED_KEY);
      g_signal_connect (self->settings, "changed::" SILENCED_KEY, G_CALLBACK (on_settings_changed), self);
    }
  update_silence_button (self);
  for (guint i = 0; i < KANKYO_ALARM_BANNER_LINES; i++)
    show_line (self, &self->lines[i], NULL);
  show_counts (self);
}

GtkWidget *
kankyo_alarm_banner_new (KankyoEngine *engine)
{
  KankyoAlarmBanner *self;

  g_return_val_if_fail (KANKYO_IS_ENGINE (engine), NULL);

  self = g_object_new (KANKYO_TYPE_ALARM_BANNER, NULL);
  self->engine = g_object_ref (engine);
  self->alarms = kankyo_engine_get_alarms (engine);
  if (self->alarms != NULL)
    {
      g_autoptr (GArray) active = kankyo_alarm_engine_list_active (self->alarms);

      on_alarms_changed (self->alarms, (const KankyoAlarmInfo *) active->data, active->len, self);
      g_clear_handle_id (&self->refresh_source, g_source_remove);
      refresh (self);
      self->subscription = kankyo_alarm_engine_subscribe (self->alarms, NULL, on_alarms_changed, self, NULL);
    }
  else
    set_text (self->lines[0].message, _ ("Alarms are not available: the plant is not running."), FALSE);
  return GTK_WIDGET (self);
}

gboolean
kankyo_alarm_banner_get_ringing (KankyoAlarmBanner *self)
{
  g_return_val_if_fail (KANKYO_IS_ALARM_BANNER (self), FALSE);
  return self->ringing;
}

gboolean
kankyo_alarm_banner_get_silenced (KankyoAlarmBanner *self)
{
  g_return_val_if_fail (KANKYO_IS_ALARM_BANNER (self), FALSE);
  return self->silenced;
}

void
kankyo_alarm_banner_set_silenced (KankyoAlarmBanner *self, gboolean silenced)
{
  g_return_if_fail (KANKYO_IS_ALARM_BANNER (self));

  silenced = !!silenced;
  if (self->settings != NULL && g_settings_get_boolean (self->settings, SILENCED_KEY) != silenced)
    g_settings_set_boolean (self->settings, SILENCED_KEY, silenced);
  apply_silenced (self, silenced);
}

const char *
kankyo_alarm_banner_get_line_alarm (KankyoAlarmBanner *self, guint line)
{
  g_return_val_if_fail (KANKYO_IS_ALARM_BANNER (self), NULL);
  g_return_val_if_fail (line < KANKYO_ALARM_BANNER_LINES, NULL);
  return self->lines[line].alarm_id;
}

guint
kankyo_alarm_banner_get_count (KankyoAlarmBanner *self,
                               KankyoAlarmPriority priority,
                               gboolean unacknowledged_only)
{
  g_return_val_if_fail (KANKYO_IS_ALARM_BANNER (self), 0);
  g_return_val_if_fail ((guint) priority < N_PRIORITIES, 0);
  return unacknowledged_only ? self->unacked[priority] : self->counts[priority];
}
