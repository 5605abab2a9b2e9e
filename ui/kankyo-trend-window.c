/* kankyo-trend-window.c: trends of a few tags, their saved views and exports.
 *
 * The window puts a trend chart on the engine's historian and gives it the
 * controls an operator needs around it: the pens (added from every tag the
 * historian records, each shown with its colour, marker and unit, each
 * ticked or not for exports), the time range (one-click presets that follow
 * the clock, or a custom range typed as two local dates and times that are
 * checked as they are typed), saved views, and exports as CSV or as a PDF
 * report.
 *
 * Nothing here touches a disk on the GTK main thread: the list of tags,
 * the views file (read and written) and the exports run in GTasks, the
 * exports with a progress bar and a Cancel button. An export reads the
 * historian from its worker thread; the window waits for such threads
 * before it goes away, so the engine can close the historian after it.
 */
#include "config.h"

#include "kankyo-trend-window.h"

#include <glib/gi18n.h>
#include <stdlib.h>
#include <string.h>

#include "kankyo-report.h"
#include "kankyo-trend-views.h"
#include "kankyo-ui-time.h"

#define MAX_TITLE_CHARS 120

static const gint64 csv_bins_us[] = {
  G_GINT64_CONSTANT (60) * G_USEC_PER_SEC,
  G_GINT64_CONSTANT (600) * G_USEC_PER_SEC,
  G_GINT64_CONSTANT (3600) * G_USEC_PER_SEC,
  G_GINT64_CONSTANT (86400) * G_USEC_PER_SEC,
};

struct _KankyoTrendWindow
{
  GtkWindow parent_instance;

  /* Template widgets */
  GtkLabel *title_label;
  GtkLabel *subtitle_label;
  GtkMenuButton *views_button;
  GtkLabel *views_empty_label;
  GtkListBox *views_list;
  GtkMenuButton *save_button;
  GtkPopover *save_popover;
  GtkEntry *save_name_entry;
  GtkLabel *save_message;
  GtkWidget *save_confirm_button;
  GtkMenuButton *pdf_button;
  GtkPopover *pdf_popover;
  GtkEntry *pdf_title_entry;
  GtkLabel *pdf_range_label;
  GtkWidget *pdf_export_button;
  GtkMenuButton *csv_button;
  GtkPopover *csv_popover;
  GtkCheckButton *csv_raw_check;
  GtkCheckButton *csv_binned_check;
  GtkDropDown *csv_bin_dropdown;
  GtkCheckButton *csv_local_check;
  GtkLabel *csv_range_label;
  GtkWidget *csv_export_button;
  GtkToggleButton *preset_10min;
  GtkToggleButton *preset_1h;
  GtkToggleButton *preset_8h;
  GtkToggleButton *preset_24h;
  GtkToggleButton *preset_7d;
  GtkToggleButton *preset_custom;
  GtkToggleButton *live_toggle;
  GtkToggleButton *stacked_toggle;
  GtkLabel *range_label;
  GtkRevealer *custom_revealer;
  GtkEntry *from_entry;
  GtkEntry *to_entry;
  GtkWidget *apply_button;
  GtkLabel *range_message;
  KankyoTrendChart *chart;
  GtkListBox *pen_list;
  GtkDropDown *tag_dropdown;
  GtkWidget *add_button;
  GtkLabel *pens_message;
  GtkRevealer *progress_revealer;
  GtkLabel *progress_label;
  GtkProgressBar *progress_bar;
  GtkWidget *cancel_button;
  GtkLabel *message_label;

  KankyoEngine *engine;
  KankyoHistorian *historian; /* the engine's; NULL when it records nothing */
  char *views_path;
  GPtrArray *views;      /* KankyoTrendView*; NULL until read */
  gboolean views_broken; /* the file could not be read: it is never overwritten */
  char *current_view;    /* the name of the view last opened or saved */
  GPtrArray *tag_names;  /* char*, in the order of the drop-down's items */
  gboolean tags_loaded;
  GHashTable *left_out; /* tags whose pens are not ticked for exports */
  gboolean syncing;

  GCancellable *cancellable; /* background reads and writes */
  GCancellable *export_cancellable;
  gboolean exporting;
  GMutex lock;
  GCond idle;
  guint in_flight; /* worker threads using the historian, under lock */
  double progress; /* under lock */
  gboolean progress_pending;
};

G_DEFINE_FINAL_TYPE (KankyoTrendWindow, kankyo_trend_window, GTK_TYPE_WINDOW)

static void rebuild_views_list (KankyoTrendWindow *self);
static void update_save_state (KankyoTrendWindow *self);

/* ---- messages ---- */

static void
show_message (KankyoTrendWindow *self, const char *text, gboolean is_error)
{
  gtk_label_set_text (self->message_label, text);
  gtk_widget_set_visible (GTK_WIDGET (self->message_label), text != NULL && *text != '\0');
  if (is_error)
    {
      gtk_widget_add_css_class (GTK_WIDGET (self->message_label), "error");
      gtk_widget_remove_css_class (GTK_WIDGET (self->message_label), "dim-label");
    }
  else
    {
      gtk_widget_remove_css_class (GTK_WIDGET (self->message_label), "error");
      gtk_widget_add_css_class (GTK_WIDGET (self->message_label), "dim-label");
    }
}

static void
set_hint (GtkLabel *label, const char *text, gboolean is_error)
{
  gtk_label_set_text (label, text);
  if (is_error)
    {
      gtk_widget_add_css_class (GTK_WIDGET (label), "error");
      gtk_widget_remove_css_class (GTK_WIDGET (label), "dim-label");
    }
  else
    {
      gtk_widget_remove_css_class (GTK_WIDGET (label), "error");
      gtk_widget_add_css_class (GTK_WIDGET (label), "dim-label");
    }
}

/* ---- time as people read and type it ---- */

/* "10 min", "8 h", "7 days", "1 h 30 min" */
static char *
format_span (gint64 span_us)
{
  /* Spans are at most 366 days: a guint holds their seconds. */
  guint s = (guint) CLAMP (span_us / G_USEC_PER_SEC, 0, G_MAXUINT);

  if (s >= 86400 && s % 86400 == 0)
    return g_strdup_printf (ngettext ("%u day", "%u days", s / 86400), s / 86400);
  if (s >= 3600 && s % 3600 == 0)
    /* Translators: a time span in hours */
    return g_strdup_printf (_ ("%u h"), s / 3600);
  if (s >= 3600)
    return g_strdup_printf (_ ("%u h %u min"), s / 3600, (s / 60) % 60);
  if (s >= 60 && s % 60 == 0)
    return g_strdup_printf (_ ("%u min"), s / 60);
  return g_strdup_printf (_ ("%u s"), s);
}

static char *
format_range (KankyoTrendChart *chart)
{
  gint64 from, to;
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;

  kankyo_trend_chart_get_range (chart, &from, &to);
  if (kankyo_trend_chart_get_live (chart))
    {
      g_autofree char *span = format_span (to - from);

      /* Translators: the time range of a live trend, e.g. "Live: the last 10 min" */
      return g_strdup_printf (_ ("Live: the last %s"), span);
    }
  a = kankyo_ui_format_local (from, "%Y-%m-%d %H:%M:%S");
  b = kankyo_ui_format_local (to, "%Y-%m-%d %H:%M:%S");
  /* Translators: a time range, from – to */
  return g_strdup_printf (_ ("%s – %s"), a, b);
}

/* Checks the custom range as it is typed; says what is expected. */
static gboolean
validate_custom (KankyoTrendWindow *self, gint64 *ret_from, gint64 *ret_to)
{
  const char *from_text = gtk_editable_get_text (GTK_EDITABLE (self->from_entry));
  const char *to_text = gtk_editable_get_text (GTK_EDITABLE (self->to_entry));
  gint64 from = 0, to = 0;
  gboolean from_ok = kankyo_ui_parse_local (from_text, &from);
  gboolean to_ok = kankyo_ui_parse_local (to_text, &to);
  const char *problem = NULL;

  if (!from_ok)
    problem = _ ("Enter the start as a date and time such as 2024-05-03 14:30.");
  else if (!to_ok)
    problem = _ ("Enter the end as a date and time such as 2024-05-03 18:00.");
  else if (to <= from)
    problem = _ ("The end must be after the start.");
  else if (to - from < KANKYO_TREND_CHART_MIN_SPAN_US)
    problem = _ ("Show at least 10 seconds.");
  else if (to - from > KANKYO_TREND_CHART_MAX_SPAN_US)
    problem = _ ("Show at most 366 days.");
  else if (to > g_get_real_time () + G_USEC_PER_SEC * 60)
    problem = _ ("The end is later than now: enter a time up to now, or use Live.");

  if (!from_ok)
    gtk_widget_add_css_class (GTK_WIDGET (self->from_entry), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->from_entry), "error");
  if (from_ok && !to_ok)
    gtk_widget_add_css_class (GTK_WIDGET (self->to_entry), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->to_entry), "error");
  gtk_widget_set_sensitive (self->apply_button, problem == NULL);
  set_hint (self->range_message, problem != NULL ? problem : _ ("Press Enter or Show to see this range."),
            problem != NULL);
  if (problem != NULL)
    return FALSE;
  *ret_from = from;
  *ret_to = MIN (to, g_get_real_time ());
  return TRUE;
}

static void
fill_custom_entries (KankyoTrendWindow *self)
{
  gint64 from, to;
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;

  kankyo_trend_chart_get_range (self->chart, &from, &to);
  a = kankyo_ui_format_local (from, "%Y-%m-%d %H:%M:%S");
  b = kankyo_ui_format_local (to, "%Y-%m-%d %H:%M:%S");
  gtk_editable_set_text (GTK_EDITABLE (self->from_entry), a);
  gtk_editable_set_text (GTK_EDITABLE (self->to_entry), b);
}

/* ---- the range controls follow the chart ---- */

static GtkToggleButton *
preset_button (KankyoTrendWindow *self, KankyoTrendRange preset)
{
  switch (preset)
    {
      case KANKYO_TREND_RANGE_10_MIN:
        return self->preset_10min;
      case KANKYO_TREND_RANGE_1_H:
        return self->preset_1h;
      case KANKYO_TREND_RANGE_8_H:
        return self->preset_8h;
      case KANKYO_TREND_RANGE_24_H:
        return self->preset_24h;
      case KANKYO_TREND_RANGE_7_D:
        return self->preset_7d;
      case KANKYO_TREND_RANGE_CUSTOM:
      default:
        return self->preset_custom;
    }
}

static void
sync_range (KankyoTrendWindow *self)
{
  KankyoTrendRange preset = kankyo_trend_chart_get_preset (self->chart);
  g_autofree char *range = format_range (self->chart);
  g_autofree char *export_range = NULL;
  gboolean editing = gtk_widget_has_focus (GTK_WIDGET (self->from_entry))
                     || gtk_widget_has_focus (GTK_WIDGET (self->to_entry));

  self->syncing = TRUE;
  gtk_toggle_button_set_active (preset_button (self, preset), TRUE);
  gtk_revealer_set_reveal_child (self->custom_revealer, preset == KANKYO_TREND_RANGE_CUSTOM);
  if (preset == KANKYO_TREND_RANGE_CUSTOM && !editing)
    {
      gint64 from, to;

      fill_custom_entries (self);
      validate_custom (self, &from, &to);
    }
  self->syncing = FALSE;

  gtk_label_set_text (self->range_label, range);
  /* Translators: the time range an export covers */
  export_range = g_strdup_printf (_ ("Range: %s (as shown)"), range);
  gtk_label_set_text (self->csv_range_label, export_range);
  gtk_label_set_text (self->pdf_range_label, export_range);
  update_save_state (self);
}

static void
on_view_changed (KankyoTrendChart *chart, gpointer user_data)
{
  sync_range (KANKYO_TREND_WINDOW (user_data));
}

static void
on_live_notify (GObject *chart, GParamSpec *pspec, gpointer user_data)
{
  sync_range (KANKYO_TREND_WINDOW (user_data));
}

static void
on_preset_toggled (GtkToggleButton *button, gpointer user_data)
{
  KankyoTrendWindow *self = user_data;

  if (self->syncing || !gtk_toggle_button_get_active (button))
    return;
  if (button == self->preset_custom)
    {
      gint64 from, to;

      fill_custom_entries (self);
      validate_custom (self, &from, &to);
      gtk_revealer_set_reveal_child (self->custom_revealer, TRUE);
      gtk_widget_grab_focus (GTK_WIDGET (self->from_entry));
      return;
    }
  for (KankyoTrendRange p = KANKYO_TREND_RANGE_10_MIN; p < KANKYO_TREND_RANGE_CUSTOM; p++)
    if (preset_button (self, p) == button)
      kankyo_trend_chart_set_preset (self->chart, p);
  gtk_revealer_set_reveal_child (self->custom_revealer, FALSE);
}

static void
on_custom_changed (GtkEditable *editable, gpointer user_data)
{
  KankyoTrendWindow *self = user_data;
  gint64 from, to;

  if (!self->syncing)
    validate_custom (self, &from, &to);
}

static void
apply_custom (KankyoTrendWindow *self)
{
  gint64 from, to;

  if (validate_custom (self, &from, &to))
    kankyo_trend_chart_set_range (self->chart, from, to);
}

static void
on_apply_clicked (GtkButton *button, gpointer user_data)
{
  apply_custom (KANKYO_TREND_WINDOW (user_data));
}

static void
on_custom_activate (GtkEntry *entry, gpointer user_data)
{
  apply_custom (KANKYO_TREND_WINDOW (user_data));
}

/* ---- pens ---- */

static const KankyoTagSpec *
tag_spec (KankyoTrendWindow *self, const char *tag)
{
  KankyoTagStore *store = kankyo_engine_get_tag_store (self->engine);
  gint id = store != NULL ? kankyo_tag_store_lookup (store, tag) : -1;

  return id >= 0 ? kankyo_tag_store_get_spec (store, (guint) id) : NULL;
}

static const char *
tag_label (const KankyoTagSpec *spec)
{
  return spec != NULL && spec->label != NULL ? g_dgettext (GETTEXT_PACKAGE, spec->label) : NULL;
}

static void
update_pen_controls (KankyoTrendWindow *self)
{
  guint n = kankyo_trend_chart_get_n_pens (self->chart);
  gboolean full = n >= KANKYO_TREND_CHART_MAX_PENS;

  gtk_widget_set_sensitive (self->add_button, self->tag_names != NULL && self->tag_names->len > 0 && !full);
  if (full)
    set_hint (self->pens_message, _ ("A trend shows at most 8 pens; remove one to add another."), FALSE);
  else if (self->tags_loaded && (self->tag_names == NULL || self->tag_names->len == 0))
    set_hint (self->pens_message, _ ("No tag has been recorded yet."), FALSE);
  else if (n == 0)
    set_hint (self->pens_message, _ ("Choose a tag and add it to draw its trend."), FALSE);
  else
    set_hint (self->pens_message, _ ("Ticked pens go into exports."), FALSE);
}

static void
on_remove_pen_clicked (GtkButton *button, gpointer user_data)
{
  KankyoTrendWindow *self = user_data;
  const char *tag = g_object_get_data (G_OBJECT (button), "kankyo-tag");

  g_hash_table_remove (self->left_out, tag);
  kankyo_trend_chart_remove_pen (self->chart, tag);
}

static void
on_export_tick_toggled (GtkCheckButton *check, gpointer user_data)
{
  KankyoTrendWindow *self = user_data;
  const char *tag = g_object_get_data (G_OBJECT (check), "kankyo-tag");

  if (gtk_check_button_get_active (check))
    g_hash_table_remove (self->left_out, tag);
  else
    g_hash_table_add (self->left_out, g_strdup (tag));
}

static GtkWidget *
pen_row_new (KankyoTrendWindow *self, guint index)
{
  const char *tag = kankyo_trend_chart_get_pen_tag (self->chart, index);
  const char *label = kankyo_trend_chart_get_pen_label (self->chart, index);
  const char *unit = kankyo_trend_chart_get_pen_unit (self->chart, index);
  g_autofree char *tick_name = g_strconcat ("export:", tag, NULL);
  g_autofree char *remove_name = g_strconcat ("remove:", tag, NULL);
  g_autofree char *detail = NULL;
  g_autofree char *remove_tip = NULL;
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  GtkWidget *text = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *check = gtk_check_button_new ();
  GtkWidget *name = gtk_label_new (label);
  GtkWidget *sub, *remove;

  gtk_widget_set_name (row, tag);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);
  gtk_widget_set_margin_start (box, 6);
  gtk_widget_set_margin_end (box, 6);
  gtk_widget_set_margin_top (box, 4);
  gtk_widget_set_margin_bottom (box, 4);

  gtk_widget_set_name (check, tick_name);
  gtk_check_button_set_active (GTK_CHECK_BUTTON (check), !g_hash_table_contains (self->left_out, tag));
  gtk_widget_set_tooltip_text (check, _ ("Include in exports"));
  g_object_set_data_full (G_OBJECT (check), "kankyo-tag", g_strdup (tag), g_free);
  g_signal_connect_object (check, "toggled", G_CALLBACK (on_export_tick_toggled), self, 0);
  gtk_box_append (GTK_BOX (box), check);
  gtk_box_append (GTK_BOX (box), kankyo_trend_chart_create_pen_key (self->chart, index));

  gtk_label_set_xalign (GTK_LABEL (name), 0);
  gtk_label_set_ellipsize (GTK_LABEL (name), PANGO_ELLIPSIZE_END);
  gtk_box_append (GTK_BOX (text), name);
  if (unit != NULL && *unit != '\0')
    /* Translators: under a pen's name: its tag and unit */
    detail = g_strdup_printf (_ ("%s · %s"), tag, g_dgettext (GETTEXT_PACKAGE, unit));
  else
    detail = g_strdup (tag);
  sub = gtk_label_new (detail);
  gtk_label_set_xalign (GTK_LABEL (sub), 0);
  gtk_label_set_ellipsize (GTK_LABEL (sub), PANGO_ELLIPSIZE_MIDDLE);
  gtk_widget_add_css_class (sub, "dim-label");
  gtk_widget_add_css_class (sub, "caption");
  gtk_box_append (GTK_BOX (text), sub);
  gtk_widget_set_hexpand (text, TRUE);
  gtk_box_append (GTK_BOX (box), text);

  remove = gtk_button_new_from_icon_name ("list-remove-symbolic");
  gtk_widget_set_name (remove, remove_name);
  gtk_widget_add_css_class (remove, "flat");
  gtk_widget_set_valign (remove, GTK_ALIGN_CENTER);
  /* Translators: the tooltip of the button that removes a pen */
  remove_tip = g_strdup_printf (_ ("Remove %s"), label);
  gtk_widget_set_tooltip_text (remove, remove_tip);
  gtk_accessible_update_property (GTK_ACCESSIBLE (remove), GTK_ACCESSIBLE_PROPERTY_LABEL, remove_tip, -1);
  g_object_set_data_full (G_OBJECT (remove), "kankyo-tag", g_strdup (tag), g_free);
  g_signal_connect_object (remove, "clicked", G_CALLBACK (on_remove_pen_clicked), self, 0);
  gtk_box_append (GTK_BOX (box), remove);

  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  gtk_accessible_update_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
  return row;
}

static void
on_pens_changed (KankyoTrendChart *chart, gpointer user_data)
{
  KankyoTrendWindow *self = user_data;
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->pen_list))) != NULL)
    gtk_list_box_remove (self->pen_list, child);
  for (guint i = 0; i < kankyo_trend_chart_get_n_pens (chart); i++)
    gtk_list_box_append (self->pen_list, pen_row_new (self, i));
  update_pen_controls (self);
  update_save_state (self);
}

gboolean
kankyo_trend_window_add_tag (KankyoTrendWindow *self, const char *tag)
{
  const KankyoTagSpec *spec;

  g_return_val_if_fail (KANKYO_IS_TREND_WINDOW (self), FALSE);
  g_return_val_if_fail (tag != NULL, FALSE);

  spec = tag_spec (self, tag);
  if (kankyo_trend_chart_find_pen (self->chart, tag) >= 0)
    {
      show_message (self, _ ("That tag is a pen already."), FALSE);
      return FALSE;
    }
  if (kankyo_trend_chart_add_pen (self->chart, tag, tag_label (spec), spec != NULL ? spec->unit : NULL) < 0)
    {
      show_message (self, _ ("A trend shows at most 8 pens; remove one to add another."), TRUE);
      return FALSE;
    }
  show_message (self, NULL, FALSE);
  return TRUE;
}

static void
on_add_clicked (GtkButton *button, gpointer user_data)
{
  KankyoTrendWindow *self = user_data;
  guint selected = gtk_drop_down_get_selected (self->tag_dropdown);

  if (self->tag_names != NULL && selected < self->tag_names->len)
    kankyo_trend_window_add_tag (self, g_ptr_array_index (self->tag_names, selected));
}

/* ---- background work ---- */

static void
enter_historian (KankyoTrendWindow *self)
{
  g_mutex_lock (&self->lock);
  self->in_flight++;
  g_mutex_unlock (&self->lock);
}

static void
leave_historian (KankyoTrendWindow *self)
{
  g_mutex_lock (&self->lock);
  self->in_flight--;
  g_cond_broadcast (&self->idle);
  g_mutex_unlock (&self->lock);
}

static gboolean
task_cancelled (GAsyncResult *result)
{
  return g_cancellable_is_cancelled (g_task_get_cancellable (G_TASK (result)));
}

/* Every tag the historian records. */
static void
list_tags_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  char **tags = kankyo_historian_list_tags (task_data);

  leave_historian (source);
  g_task_return_pointer (task, tags, (GDestroyNotify) g_strfreev);
}

static void
on_tags_listed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  KankyoTrendWindow *self = KANKYO_TREND_WINDOW (source);
  g_auto (GStrv) tags = g_task_propagate_pointer (G_TASK (result), NULL);
  g_autoptr (GtkStringList) items = gtk_string_list_new (NULL);

  if (task_cancelled (result))
    return;
  self->tags_loaded = TRUE;
  g_clear_pointer (&self->tag_names, g_ptr_array_unref);
  self->tag_names = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; tags != NULL && tags[i] != NULL; i++)
    {
      const char *label = tag_label (tag_spec (self, tags[i]));
      g_autofree char *item = NULL;

      /* Tags the engine keeps for itself ("room1._online") are no trend. */
      if (strstr (tags[i], "._") != NULL)
        continue;
      /* Translators: a tag in the list of tags to add: its label and name */
      item = label != NULL ? g_strdup_printf (_ ("%s — %s"), label, tags[i]) : g_strdup (tags[i]);
      gtk_string_list_append (items, item);
      g_ptr_array_add (self->tag_names, g_strdup (tags[i]));
    }
  gtk_drop_down_set_model (self->tag_dropdown, G_LIST_MODEL (items));
  update_pen_controls (self);
}

static void
views_load_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  GError *error = NULL;
  GPtrArray *views = kankyo_trend_views_load (task_data, &error);

  if (views == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, views, (GDestroyNotify) g_ptr_array_unref);
}

static void
on_views_loaded (GObject *source, GAsyncResult *result, gpointer user_data)
{
  KankyoTrendWindow *self = KANKYO_TREND_WINDOW (source);
  g_autoptr (GError) error = NULL;
  GPtrArray *views = g_task_propagate_pointer (G_TASK (result), &error);

  if (task_cancelled (result))
    {
      g_clear_pointer (&views, g_ptr_array_unref);
      return;
    }
  if (views == NULL)
    {
      g_autofree char *text = NULL;

      /* Translators: %s is the error, naming file:line:column and what was expected */
      text = g_strdup_printf (_ ("The saved views cannot be read: %s. Views are not saved until the file is "
                                 "corrected."),
                              error->message);
      show_message (self, text, TRUE);
      self->views_broken = TRUE;
      views = g_ptr_array_new_with_free_func ((GDestroyNotify) kankyo_trend_view_free);
    }
  g_clear_pointer (&self->views, g_ptr_array_unref);
  self->views = views;
  rebuild_views_list (self);
  update_save_state (self);
}

static void
views_save_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  KankyoTrendWindow *self = source;
  GError *error = NULL;

  if (!kankyo_trend_views_save (self->views_path, task_data, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
on_views_saved (GObject *source, GAsyncResult *result, gpointer user_data)
{
  KankyoTrendWindow *self = KANKYO_TREND_WINDOW (source);
  g_autoptr (GError) error = NULL;
  g_autofree char *done = user_data;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_autofree char *text = NULL;

      if (task_cancelled (result))
        return;
      text = g_strdup_printf (_ ("The views could not be saved: %s"), error->message);
      show_message (self, text, TRUE);
      return;
    }
  if (!task_cancelled (result))
    show_message (self, done, FALSE);
}

/* Writes a copy of the views in the background; @done is shown after. */
static void
save_views (KankyoTrendWindow *self, const char *done)
{
  g_autoptr (GTask) task = NULL;
  GPtrArray *copy = g_ptr_array_new_with_free_func ((GDestroyNotify) kankyo_trend_view_free);

  for (guint i = 0; i < self->views->len; i++)
    {
      const KankyoTrendView *view = g_ptr_array_index (self->views, i);

      KankyoTrendView *same
          = kankyo_trend_view_new (view->name, view->span_us, (const char *const *) view->pens, NULL);

      /* Every view held was checked when it was read or made. */
      g_assert (same != NULL);
      g_ptr_array_add (copy, same);
    }
  task = g_task_new (self, self->cancellable, on_views_saved, g_strdup (done));
  g_task_set_source_tag (task, save_views);
  g_task_set_task_data (task, copy, (GDestroyNotify) g_ptr_array_unref);
  g_task_run_in_thread (task, views_save_thread);
}

/* ---- saved views ---- */

static void
set_current_view (KankyoTrendWindow *self, const char *name)
{
  g_free (self->current_view);
  self->current_view = g_strdup (name);
  gtk_label_set_text (self->subtitle_label, name != NULL ? name : "");
  gtk_widget_set_visible (GTK_WIDGET (self->subtitle_label), name != NULL);
}

gboolean
kankyo_trend_window_open_view (KankyoTrendWindow *self, const char *name)
{
  KankyoTrendView *view;

  g_return_val_if_fail (KANKYO_IS_TREND_WINDOW (self), FALSE);

  view = self->views != NULL ? kankyo_trend_views_find (self->views, name) : NULL;
  if (view == NULL)
    return FALSE;
  kankyo_trend_chart_clear_pens (self->chart);
  g_hash_table_remove_all (self->left_out);
  for (guint i = 0; view->pens[i] != NULL; i++)
    {
      const KankyoTagSpec *spec = tag_spec (self, view->pens[i]);

      kankyo_trend_chart_add_pen (self->chart, view->pens[i], tag_label (spec),
                                  spec != NULL ? spec->unit : NULL);
    }
  if (view->span_us > 0)
    {
      gint64 now = g_get_real_time ();

      kankyo_trend_chart_set_range (self->chart, now - view->span_us, now);
      kankyo_trend_chart_set_live (self->chart, TRUE);
    }
  set_current_view (self, view->name);
  show_message (self, NULL, FALSE);
  return TRUE;
}

static void
on_view_row_activated (GtkListBox *box, GtkListBoxRow *row, gpointer user_data)
{
  KankyoTrendWindow *self = user_data;

  kankyo_trend_window_open_view (self, g_object_get_data (G_OBJECT (row), "kankyo-view"));
  gtk_menu_button_popdown (self->views_button);
}

static void
on_delete_view_clicked (GtkButton *button, gpointer user_data)
{
  KankyoTrendWindow *self = user_data;
  g_autofree char *name = g_strdup (g_object_get_data (G_OBJECT (button), "kankyo-view"));
  g_autofree char *done = NULL;

  if (self->views_broken || !kankyo_trend_views_remove (self->views, name))
    return;
  if (g_strcmp0 (self->current_view, name) == 0)
    set_current_view (self, NULL);
  rebuild_views_list (self);
  /* Translators: after a saved view was deleted */
  done = g_strdup_printf (_ ("Deleted the view “%s”."), name);
  save_views (self, done);
}

static void
rebuild_views_list (KankyoTrendWindow *self)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->views_list))) != NULL)
    gtk_list_box_remove (self->views_list, child);
  for (guint i = 0; self->views != NULL && i < self->views->len; i++)
    {
      const KankyoTrendView *view = g_ptr_array_index (self->views, i);
      guint n = g_strv_length (view->pens);
      g_autofree char *detail = NULL;
      g_autofree char *delete_name = g_strconcat ("delete-view:", view->name, NULL);
      g_autofree char *delete_tip = NULL;
      GtkWidget *row = gtk_list_box_row_new ();
      GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
      GtkWidget *text = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
      GtkWidget *name = gtk_label_new (view->name);
      GtkWidget *sub, *remove;

      if (view->span_us > 0)
        {
          g_autofree char *span = format_span (view->span_us);

          /* Translators: under a saved view's name: its number of pens and its span */
          detail = g_strdup_printf (ngettext ("%u pen, %s", "%u pens, %s", n), n, span);
        }
      else
        detail = g_strdup_printf (ngettext ("%u pen", "%u pens", n), n);
      gtk_widget_set_name (row, view->name);
      g_object_set_data_full (G_OBJECT (row), "kankyo-view", g_strdup (view->name), g_free);
      gtk_label_set_xalign (GTK_LABEL (name), 0);
      gtk_label_set_ellipsize (GTK_LABEL (name), PANGO_ELLIPSIZE_END);
      gtk_box_append (GTK_BOX (text), name);
      sub = gtk_label_new (detail);
      gtk_label_set_xalign (GTK_LABEL (sub), 0);
      gtk_widget_add_css_class (sub, "dim-label");
      gtk_widget_add_css_class (sub, "caption");
      gtk_box_append (GTK_BOX (text), sub);
      gtk_widget_set_hexpand (text, TRUE);
      gtk_box_append (GTK_BOX (box), text);

      remove = gtk_button_new_from_icon_name ("user-trash-symbolic");
      gtk_widget_set_name (remove, delete_name);
      gtk_widget_add_css_class (remove, "flat");
      gtk_widget_set_sensitive (remove, !self->views_broken);
      /* Translators: the tooltip of the button that deletes a saved view */
      delete_tip = g_strdup_printf (_ ("Delete the view “%s”"), view->name);
      gtk_widget_set_tooltip_text (remove, delete_tip);
      gtk_accessible_update_property (GTK_ACCESSIBLE (remove), GTK_ACCESSIBLE_PROPERTY_LABEL, delete_tip, -1);
      g_object_set_data_full (G_OBJECT (remove), "kankyo-view", g_strdup (view->name), g_free);
      g_signal_connect_object (remove, "clicked", G_CALLBACK (on_delete_view_clicked), self, 0);
      gtk_box_append (GTK_BOX (box), remove);
      gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
      gtk_accessible_update_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_LABEL, view->name, -1);
      gtk_list_box_append (self->views_list, row);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->views_empty_label), self->views == NULL || self->views->len == 0);
}

/* The name typed is checked as it is typed, like every other field. */
static gboolean
check_save_name (KankyoTrendWindow *self, char **ret_name)
{
  g_autofree char *name
      = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->save_name_entry))));
  g_autoptr (GError) error = NULL;
  const char *problem = NULL;

  if (self->views == NULL)
    problem = _ ("The saved views are still being read.");
  else if (self->views_broken)
    problem = _ ("The views file has an error (see below); correct it to save views.");
  else if (kankyo_trend_chart_get_n_pens (self->chart) == 0)
    problem = _ ("Add at least one pen first.");
  else if (*name == '\0')
    problem = _ ("Enter a name for the view.");
  else if (!kankyo_trend_views_check_name (name, &error))
    problem = error->message;

  if (problem != NULL)
    {
      set_hint (self->save_message, problem, *name != '\0' || self->views_broken);
      return FALSE;
    }
  if (kankyo_trend_views_find (self->views, name) != NULL)
    set_hint (self->save_message, _ ("Replaces the saved view of that name."), FALSE);
  else
    set_hint (self->save_message, _ ("Saves these pens and this time span."), FALSE);
  if (ret_name != NULL)
    *ret_name = g_steal_pointer (&name);
  return TRUE;
}

static void
update_save_state (KankyoTrendWindow *self)
{
  gtk_widget_set_sensitive (self->save_confirm_button, check_save_name (self, NULL));
}

static void
on_save_name_changed (GtkEditable *editable, gpointer user_data)
{
  update_save_state (KANKYO_TREND_WINDOW (user_data));
}

static void
save_current_view (KankyoTrendWindow *self)
{
  g_autofree char *name = NULL;
  g_autofree char *done = NULL;
  g_autoptr (GPtrArray) pens = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  KankyoTrendView *view;
  gint64 from, to;

  if (!check_save_name (self, &name))
    return;
  for (guint i = 0; i < kankyo_trend_chart_get_n_pens (self->chart); i++)
    g_ptr_array_add (pens, (gpointer) kankyo_trend_chart_get_pen_tag (self->chart, i));
  g_ptr_array_add (pens, NULL);
  kankyo_trend_chart_get_range (self->chart, &from, &to);
  view = kankyo_trend_view_new (name, to - from, (const char *const *) pens->pdata, &error);
  if (view == NULL || !kankyo_trend_views_put (self->views, view, &error))
    {
      set_hint (self->save_message, error->message, TRUE);
      return;
    }
  set_current_view (self, name);
  rebuild_views_list (self);
  gtk_popover_popdown (self->save_popover);
  /* Translators: after a view was saved */
  done = g_strdup_printf (_ ("Saved the view “%s”."), name);
  save_views (self, done);
}

static void
on_save_confirm_clicked (GtkButton *button, gpointer user_data)
{
  save_current_view (KANKYO_TREND_WINDOW (user_data));
}

static void
on_save_name_activate (GtkEntry *entry, gpointer user_data)
{
  save_current_view (KANKYO_TREND_WINDOW (user_data));
}

static void
on_save_popover_shown (GtkPopover *popover, gpointer user_data)
{
  KankyoTrendWindow *self = user_data;

  if (self->current_view != NULL && *gtk_editable_get_text (GTK_EDITABLE (self->save_name_entry)) == '\0')
    gtk_editable_set_text (GTK_EDITABLE (self->save_name_entry), self->current_view);
  update_save_state (self);
}

void
kankyo_trend_window_show_views (KankyoTrendWindow *self)
{
  g_return_if_fail (KANKYO_IS_TREND_WINDOW (self));
  gtk_menu_button_popup (self->views_button);
}

/* ---- exports ---- */

typedef struct
{
  KankyoHistorian *historian;
  gboolean pdf;
  GFile *file;
  GStrv tags;
  gint64 from, to, bin_us;
  gboolean local_time;
  char *plant;
  char *title;
  char *author;
} ExportJob;

static void
export_job_free (ExportJob *job)
{
  g_clear_object (&job->file);
  g_strfreev (job->tags);
  g_free (job->plant);
  g_free (job->title);
  g_free (job->author);
  g_free (job);
}

static gboolean
show_progress (gpointer user_data)
{
  KankyoTrendWindow *self = user_data;
  double fraction;

  g_mutex_lock (&self->lock);
  fraction = self->progress;
  self->progress_pending = FALSE;
  g_mutex_unlock (&self->lock);
  if (self->exporting && self->progress_bar != NULL)
    gtk_progress_bar_set_fraction (self->progress_bar, CLAMP (fraction, 0, 1));
  return G_SOURCE_REMOVE;
}

/* On the export's thread: at most one update waits for the main loop. */
static void
on_export_progress (double fraction, gpointer user_data)
{
  KankyoTrendWindow *self = user_data;
  gboolean schedule;

  g_mutex_lock (&self->lock);
  self->progress = fraction;
  schedule = !self->progress_pending;
  self->progress_pending = TRUE;
  g_mutex_unlock (&self->lock);
  if (schedule)
    g_main_context_invoke_full (NULL, G_PRIORITY_DEFAULT, show_progress, g_object_ref (self), g_object_unref);
}

static void
export_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  KankyoTrendWindow *self = source;
  ExportJob *job = task_data;
  KankyoExportRange range = {
    (const char *const *) job->tags, job->from, job->to, job->bin_us, job->local_time,
  };
  GError *error = NULL;
  gboolean ok;

  if (job->pdf)
    {
      KankyoReportHeader header = { job->plant, job->title, job->author };
      g_autofree char *path = g_file_get_path (job->file);

      ok = kankyo_report_write_pdf (job->historian, &range, &header, path, on_export_progress, self,
                                    cancellable, &error);
    }
  else
    {
      /* Written beside the file and moved over it when complete, so a
       * failed or cancelled export leaves no half file behind. */
      g_autofree char *path = g_file_get_path (job->file);
      g_autofree char *part_path = g_strconcat (path, ".part", NULL);
      g_autoptr (GFile) part = g_file_new_for_path (part_path);
      g_autoptr (GFileOutputStream) out
          = g_file_replace (part, NULL, FALSE, G_FILE_CREATE_REPLACE_DESTINATION, cancellable, &error);

      ok = out != NULL
           && kankyo_report_write_csv (job->historian, &range, G_OUTPUT_STREAM (out), on_export_progress,
                                       self, cancellable, &error);
      if (out != NULL)
        ok = g_output_stream_close (G_OUTPUT_STREAM (out), NULL, ok ? &error : NULL) && ok;
      ok = ok && g_file_move (part, job->file, G_FILE_COPY_OVERWRITE, cancellable, NULL, NULL, &error);
      if (!ok)
        g_file_delete (part, NULL, NULL);
    }
  leave_historian (self);
  if (ok)
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
set_exporting (KankyoTrendWindow *self, gboolean exporting)
{
  self->exporting = exporting;
  gtk_widget_set_sensitive (self->csv_export_button, !exporting);
  gtk_widget_set_sensitive (self->pdf_export_button, !exporting);
  gtk_widget_set_sensitive (self->cancel_button, exporting);
  gtk_revealer_set_reveal_child (self->progress_revealer, exporting);
}

static void
on_export_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  KankyoTrendWindow *self = KANKYO_TREND_WINDOW (source);
  ExportJob *job = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;
  g_autofree char *name = g_file_get_parse_name (job->file);
  g_autofree char *text = NULL;

  if (self->progress_bar == NULL)
    return; /* the window is gone */
  g_clear_object (&self->export_cancellable);
  set_exporting (self, FALSE);
  if (g_task_propagate_boolean (G_TASK (result), &error))
    {
      gtk_progress_bar_set_fraction (self->progress_bar, 1);
      /* Translators: %s is the file written */
      text = g_strdup_printf (_ ("Exported to %s."), name);
      show_message (self, text, FALSE);
    }
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    show_message (self, _ ("The export was cancelled; no file was written."), FALSE);
  else
    {
      text = g_strdup_printf (_ ("The export failed: %s"), error->message);
      show_message (self, text, TRUE);
    }
}

static void
start_export (
    KankyoTrendWindow *self, gboolean pdf, GFile *file, gint64 bin_us, gboolean local_time, const char *title)
{
  g_autoptr (GTask) task = NULL;
  g_autoptr (GPtrArray) tags = g_ptr_array_new_with_free_func (g_free);
  ExportJob *job;

  if (self->exporting)
    return;
  if (self->historian == NULL)
    {
      show_message (self, _ ("No history is recorded, so there is nothing to export."), TRUE);
      return;
    }
  for (guint i = 0; i < kankyo_trend_chart_get_n_pens (self->chart); i++)
    {
      const char *tag = kankyo_trend_chart_get_pen_tag (self->chart, i);

      if (!g_hash_table_contains (self->left_out, tag))
        g_ptr_array_add (tags, g_strdup (tag));
    }
  if (tags->len == 0)
    {
      show_message (self, _ ("Tick at least one pen to export."), TRUE);
      return;
    }
  g_ptr_array_add (tags, NULL);

  job = g_new0 (ExportJob, 1);
  job->historian = self->historian;
  job->pdf = pdf;
  job->file = g_object_ref (file);
  job->tags = (GStrv) g_ptr_array_steal (tags, NULL);
  kankyo_trend_chart_get_range (self->chart, &job->from, &job->to);
  job->bin_us = bin_us;
  job->local_time = local_time;
  job->plant = g_strdup (kankyo_engine_get_project (self->engine)->name);
  if (title != NULL && *title != '\0')
    {
      g_autofree char *valid = g_utf8_make_valid (title, -1);

      job->title = g_utf8_substring (valid, 0, MIN (g_utf8_strlen (valid, -1), MAX_TITLE_CHARS));
    }
  else
    job->title = g_strdup (self->current_view);
  job->author = g_strdup (g_get_real_name ());

  self->export_cancellable = g_cancellable_new ();
  set_exporting (self, TRUE);
  gtk_progress_bar_set_fraction (self->progress_bar, 0);
  gtk_label_set_text (self->progress_label, pdf ? _ ("Making the PDF report…") : _ ("Exporting CSV…"));
  show_message (self, NULL, FALSE);

  enter_historian (self);
  task = g_task_new (self, self->export_cancellable, on_export_done, NULL);
  g_task_set_source_tag (task, start_export);
  g_task_set_task_data (task, job, (GDestroyNotify) export_job_free);
  g_task_run_in_thread (task, export_thread);
}

void
kankyo_trend_window_export_csv (KankyoTrendWindow *self, GFile *file, gint64 bin_us, gboolean local_time)
{
  g_return_if_fail (KANKYO_IS_TREND_WINDOW (self));
  g_return_if_fail (G_IS_FILE (file));
  start_export (self, FALSE, file, bin_us, local_time, NULL);
}

void
kankyo_trend_window_export_pdf (KankyoTrendWindow *self, GFile *file, const char *title)
{
  g_return_if_fail (KANKYO_IS_TREND_WINDOW (self));
  g_return_if_fail (G_IS_FILE (file));
  start_export (self, TRUE, file, 0, TRUE, title);
}

gboolean
kankyo_trend_window_is_exporting (KankyoTrendWindow *self)
{
  g_return_val_if_fail (KANKYO_IS_TREND_WINDOW (self), FALSE);
  return self->exporting;
}

static void
on_cancel_clicked (GtkButton *button, gpointer user_data)
{
  KankyoTrendWindow *self = user_data;

  if (self->export_cancellable != NULL)
    g_cancellable_cancel (self->export_cancellable);
}

static char *
suggested_name (KankyoTrendWindow *self, const char *extension)
{
  gint64 from;
  g_autofree char *when = NULL;
  g_autofree char *base = NULL;

  kankyo_trend_chart_get_range (self->chart, &from, NULL);
  when = kankyo_ui_format_local (from, "%Y%m%d-%H%M");
  base = g_strdup (self->current_view != NULL ? self->current_view : _ ("trend"));
  /* Characters a file system may refuse become '-'. */
  g_strdelimit (base, "/\\:*?\"<>|", '-');
  return g_strdup_printf ("%s-%s.%s", base, when, extension);
}

static void
on_chooser_response (GtkNativeDialog *chooser, int response, gpointer user_data)
{
  KankyoTrendWindow *self = user_data;
  gboolean pdf = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (chooser), "kankyo-pdf"));
  g_autoptr (GFile) file = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
  if (file != NULL && pdf)
    kankyo_trend_window_export_pdf (self, file, gtk_editable_get_text (GTK_EDITABLE (self->pdf_title_entry)));
  else if (file != NULL)
    {
      gboolean binned = gtk_check_button_get_active (self->csv_binned_check);
      guint bin = MIN (gtk_drop_down_get_selected (self->csv_bin_dropdown), G_N_ELEMENTS (csv_bins_us) - 1);

      kankyo_trend_window_export_csv (self, file, binned ? csv_bins_us[bin] : 0,
                                      gtk_check_button_get_active (self->csv_local_check));
    }
  gtk_native_dialog_destroy (chooser);
  g_object_unref (chooser);
}

static void
choose_file (KankyoTrendWindow *self, gboolean pdf)
{
  g_autofree char *name = suggested_name (self, pdf ? "pdf" : "csv");
  GtkFileChooserNative *chooser;
  GtkFileFilter *filter = gtk_file_filter_new ();

  chooser
      = gtk_file_chooser_native_new (pdf ? _ ("Save the PDF Report") : _ ("Export CSV"), GTK_WINDOW (self),
                                     GTK_FILE_CHOOSER_ACTION_SAVE, _ ("_Save"), _ ("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), name);
  gtk_file_filter_set_name (filter, pdf ? _ ("PDF documents") : _ ("CSV files"));
  gtk_file_filter_add_suffix (filter, pdf ? "pdf" : "csv");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
  g_object_unref (filter);
  g_object_set_data (G_OBJECT (chooser), "kankyo-pdf", GINT_TO_POINTER (pdf));
  g_signal_connect (chooser, "response", G_CALLBACK (on_chooser_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
on_csv_export_clicked (GtkButton *button, gpointer user_data)
{
  KankyoTrendWindow *self = user_data;

  gtk_popover_popdown (self->csv_popover);
  choose_file (self, FALSE);
}

static void
on_pdf_export_clicked (GtkButton *button, gpointer user_data)
{
  KankyoTrendWindow *self = user_data;

  gtk_popover_popdown (self->pdf_popover);
  choose_file (self, TRUE);
}

static void
on_binned_toggled (GtkCheckButton *check, gpointer user_data)
{
  KankyoTrendWindow *self = user_data;

  gtk_widget_set_sensitive (GTK_WIDGET (self->csv_bin_dropdown), gtk_check_button_get_active (check));
}

/* ---- keyboard ---- */

static gboolean
popup_menu_button (GtkWidget *widget, GVariant *args, gpointer user_data)
{
  KankyoTrendWindow *self = KANKYO_TREND_WINDOW (widget);
  const char *which = g_variant_get_string (args, NULL);
  GtkMenuButton *button = g_str_equal (which, "views")  ? self->views_button
                          : g_str_equal (which, "save") ? self->save_button
                          : g_str_equal (which, "csv")  ? self->csv_button
                                                        : self->pdf_button;

  gtk_menu_button_popup (button);
  return TRUE;
}

static gboolean
toggle_live (GtkWidget *widget, GVariant *args, gpointer user_data)
{
  KankyoTrendWindow *self = KANKYO_TREND_WINDOW (widget);

  kankyo_trend_chart_set_live (self->chart, !kankyo_trend_chart_get_live (self->chart));
  return TRUE;
}

/* ---- GObject ---- */

static void
kankyo_trend_window_dispose (GObject *object)
{
  KankyoTrendWindow *self = KANKYO_TREND_WINDOW (object);

  g_cancellable_cancel (self->cancellable);
  if (self->export_cancellable != NULL)
    g_cancellable_cancel (self->export_cancellable);
  /* Exports and the tag list read the historian on other threads. */
  g_mutex_lock (&self->lock);
  while (self->in_flight > 0)
    g_cond_wait (&self->idle, &self->lock);
  g_mutex_unlock (&self->lock);
  gtk_widget_dispose_template (GTK_WIDGET (self), KANKYO_TYPE_TREND_WINDOW);
  g_clear_object (&self->engine);
  G_OBJECT_CLASS (kankyo_trend_window_parent_class)->dispose (object);
}

static void
kankyo_trend_window_finalize (GObject *object)
{
  KankyoTrendWindow *self = KANKYO_TREND_WINDOW (object);

  g_clear_object (&self->cancellable);
  g_clear_object (&self->export_cancellable);
  g_clear_pointer (&self->views, g_ptr_array_unref);
  g_clear_pointer (&self->tag_names, g_ptr_array_unref);
  g_hash_table_unref (self->left_out);
  g_free (self->views_path);
  g_free (self->current_view);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->idle);
  G_OBJECT_CLASS (kankyo_trend_window_parent_class)->finalize (object);
}

static void
kankyo_trend_window_class_init (KankyoTrendWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kankyo_trend_window_dispose;
  object_class->finalize = kankyo_trend_window_finalize;

  g_type_ensure (KANKYO_TYPE_TREND_CHART);
  gtk_widget_class_set_template_from_resource (widget_class, "/org/kankyo/Kankyo/kankyo-trend-window.ui");
  gtk_widget_class_bind_template_child (widget_class, KankyoTrendWindow, title_label);
  gtk_widget_class_bind_template_child (widget_class, KankyoTrendWindow, subtitle_label);
  gtk_widget_class_bind_template_child (widget_class, KankyoTrendWindow, views_button);
  gtk_widget_class_bind_template_child (widget_class, KankyoTrendWindow, views_empty_label);
  gtk_widget_class_bind_template_child (widget_class, KankyoTrendWindow, views_list);
  gtk_widget_class_bind_template_child (widget_class, KankyoTrendWindow, save_button);
  gtk_widget_class_bind_template_child (widget_class, KankyoTrendWindow, save_popover);
  gtk_widget_class_bind_template_child (widget_class, KankyoTrendWindow, save_name_entry);
  gtk_widget_class_bind_template_child (widget_class, KankyoTrendWindow, save_message);
  gtk_widget_class_bind_template_child (widget_class, KankyoTrendWindow, save_confirm_button);
  gtk_widget_class_bind_template_child (widget_class, KankyoTrendWindow, pdf_button);
  gtk_widget_class_bind_template_child (widget_class, KankyoTrendWindow, pdf_popover);
  gtk_widget_class_bind_template_child (widget_class, KankyoTrendWindow, pdf_title_entry);
  gtk_widget_class_bind_template_child (widget_class, KankyoTrendWindow, pdf_range_label);
  gtk_widget_class_bind_template_child (widget_class, KankyoTrendWindow, pdf_export_button);
  gtk_widget_class_bind_template_child (widget_class, KankyoTrendWindow, csv_button);
  gtk_widget_class_bind_template_child (widget_class, KankyoTrendWindow, csv_popover);
  gtk_widget_class_bind_template_child (widget_class, KankyoTrendWindow, csv_raw_check);
  gtk_widget_class_bind_template_child (widget_class, KankyoTrendWindow, csv_binned_check);
  gtk_widget_class_bind_template_child (widget_class, KankyoTrendWindow, csv_bin_dropdown);
  gtk_widget_class_bind_template_child (widget_class, KankyoTrendWindow, csv_local_check);
  gtk_widget_class_bind_template_child (widget_class, KankyoTrendWindow, csv_range_label);
  gtk_widget_class_bind_template_child (widget_class, KankyoTrendWindow, csv_export_button);
  gtk_widget_class_bind_template_child (widget_class, KankyoTrendWindow, preset_10min);
  gtk_widget_class_bind_template_child (widget_class, KankyoTrendWindow, preset_1h);
  gtk_widget_class_bind_template_child (widget_class, KankyoTrendWindow, preset_8h);
  gtk_widget_class_bind_template_child (widget_class, KankyoTrendWindow, preset_24h);
  gtk_widget_class_bind_template_child (widget_class, KankyoTrendWindow, preset_7d);
  gtk_widget_class_bind_template_child (widget_class, KankyoTrendWindow, preset_custom);
  gtk_widget_class_bind_template_child (widget_class, KankyoTrendWindow, live_toggle);
  gtk_widget_class_bind_template_child (widget_class, KankyoTrendWindow, stacked_toggle);
  gtk_widget_class_bind_template_child (widget_class, KankyoTrendWindow, range_label);
  gtk_widget_class_bind_template_child (widget_class, KankyoTrendWindow, custom_revealer);
  gtk_widget_class_bind_template_child (widget_class, KankyoTrendWindow, from_entry);
  gtk_widget_class_bind_template_child (widget_class, KankyoTrendWindow, to_entry);
  gtk_widget_class_bind_template_child (widget_class, KankyoTrendWindow, apply_button);
  gtk_widget_class_bind_template_child (widget_class, KankyoTrendWindow, range_message);
  gtk_widget_class_bind_template_child (widget_class, KankyoTrendWindow, chart);
  gtk_widget_class_bind_template_child (widget_class, KankyoTrendWindow, pen_list);
  gtk_widget_class_bind_template_child (widget_class, KankyoTrendWindow, tag_dropdown);
  gtk_widget_class_bind_template_child (widget_class, KankyoTrendWindow, add_button);
  gtk_widget_class_bind_template_child (widget_class, KankyoTrendWindow, pens_message);
  gtk_widget_class_bind_template_child (widget_class, KankyoTrendWindow, progress_revealer);
  gtk_widget_class_bind_template_child (widget_class, KankyoTrendWindow, progress_label);
  gtk_widget_class_bind_template_child (widget_class, KankyoTrendWindow, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, KankyoTrendWindow, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, KankyoTrendWindow, message_label);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_w, GDK_CONTROL_MASK, "window.close", NULL);
  gtk_widget_class_add_binding (widget_class, GDK_KEY_o, GDK_CONTROL_MASK, popup_menu_button, "s", "views");
  gtk_widget_class_add_binding (widget_class, GDK_KEY_s, GDK_CONTROL_MASK, popup_menu_button, "s", "save");
  gtk_widget_class_add_binding (widget_class, GDK_KEY_e, GDK_CONTROL_MASK, popup_menu_button, "s", "csv");
  gtk_widget_class_add_binding (widget_class, GDK_KEY_p, GDK_CONTROL_MASK, popup_menu_button, "s", "pdf");
  gtk_widget_class_add_binding (widget_class, GDK_KEY_l, GDK_CONTROL_MASK, toggle_live, NULL);
}

static void
kankyo_trend_window_init (KankyoTrendWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->left_out = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->cancellable = g_cancellable_new ();
  g_mutex_init (&self->lock);
  g_cond_init (&self->idle);

  g_object_bind_property (self->chart, "live", self->live_toggle, "active",
                          G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  g_object_bind_property (self->chart, "stacked", self->stacked_toggle, "active",
                          G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  g_signal_connect_object (self->chart, "view-changed", G_CALLBACK (on_view_changed), self, 0);
  g_signal_connect_object (self->chart, "notify::live", G_CALLBACK (on_live_notify), self, 0);
  g_signal_connect_object (self->chart, "pens-changed", G_CALLBACK (on_pens_changed), self, 0);
  for (KankyoTrendRange p = KANKYO_TREND_RANGE_10_MIN; p <= KANKYO_TREND_RANGE_CUSTOM; p++)
    g_signal_connect_object (preset_button (self, p), "toggled", G_CALLBACK (on_preset_toggled), self, 0);
  g_signal_connect_object (self->from_entry, "changed", G_CALLBACK (on_custom_changed), self, 0);
  g_signal_connect_object (self->to_entry, "changed", G_CALLBACK (on_custom_changed), self, 0);
  g_signal_connect_object (self->from_entry, "activate", G_CALLBACK (on_custom_activate), self, 0);
  g_signal_connect_object (self->to_entry, "activate", G_CALLBACK (on_custom_activate), self, 0);
  g_signal_connect_object (self->apply_button, "clicked", G_CALLBACK (on_apply_clicked), self, 0);
  g_signal_connect_object (self->add_button, "clicked", G_CALLBACK (on_add_clicked), self, 0);
  g_signal_connect_object (self->views_list, "row-activated", G_CALLBACK (on_view_row_activated), self, 0);
  g_signal_connect_object (self->save_name_entry, "changed", G_CALLBACK (on_save_name_changed), self, 0);
  g_signal_connect_object (self->save_name_entry, "activate", G_CALLBACK (on_save_name_activate), self, 0);
  g_signal_connect_object (self->save_confirm_button, "clicked", G_CALLBACK (on_save_confirm_clicked), self,
                           0);
  g_signal_connect_object (self->save_popover, "show", G_CALLBACK (on_save_popover_shown), self, 0);
  g_signal_connect_object (self->csv_export_button, "clicked", G_CALLBACK (on_csv_export_clicked), self, 0);
  g_signal_connect_object (self->pdf_export_button, "clicked", G_CALLBACK (on_pdf_export_clicked), self, 0);
  g_signal_connect_object (self->csv_binned_check, "toggled", G_CALLBACK (on_binned_toggled), self, 0);
  g_signal_connect_object (self->cancel_button, "clicked", G_CALLBACK (on_cancel_clicked), self, 0);
  gtk_widget_set_sensitive (GTK_WIDGET (self->csv_bin_dropdown), FALSE);
  set_exporting (self, FALSE);
  set_current_view (self, NULL);
  sync_range (self);
  on_pens_changed (self->chart, self);
}

KankyoTrendWindow *
kankyo_trend_window_new (GtkWindow *parent, KankyoEngine *engine)
{
  KankyoTrendWindow *self;
  KankyoProject *project;
  g_autofree char *data_dir = NULL;
  g_autofree char *title = NULL;
  g_autoptr (GTask) views_task = NULL;

  g_return_val_if_fail (KANKYO_IS_ENGINE (engine), NULL);

  self = g_object_new (KANKYO_TYPE_TREND_WINDOW, NULL);
  if (parent != NULL)
    {
      gtk_window_set_transient_for (GTK_WINDOW (self), parent);
      gtk_window_set_destroy_with_parent (GTK_WINDOW (self), TRUE);
      if (gtk_window_get_application (parent) != NULL)
        gtk_window_set_application (GTK_WINDOW (self), gtk_window_get_application (parent));
    }
  self->engine = g_object_ref (engine);
  self->historian = kankyo_engine_get_historian (engine);
  project = kankyo_engine_get_project (engine);
  /* Translators: the trend window's title: "Trends — project name" */
  title = g_strdup_printf (_ ("Trends — %s"), project->name);
  gtk_window_set_title (GTK_WINDOW (self), title);
  gtk_label_set_text (self->title_label, title);
  kankyo_trend_chart_set_historian (self->chart, self->historian);

  data_dir = g_path_get_dirname (kankyo_engine_get_audit_path (engine));
  self->views_path = kankyo_trend_views_path (project, data_dir);
  views_task = g_task_new (self, self->cancellable, on_views_loaded, NULL);
  g_task_set_source_tag (views_task, kankyo_trend_window_new);
  g_task_set_task_data (views_task, g_strdup (self->views_path), g_free);
  g_task_run_in_thread (views_task, views_load_thread);

  if (self->historian != NULL)
    {
      g_autoptr (GTask) tags_task = g_task_new (self, self->cancellable, on_tags_listed, NULL);

      enter_historian (self);
      g_task_set_source_tag (tags_task, on_tags_listed);
      g_task_set_task_data (tags_task, self->historian, NULL);
      g_task_run_in_thread (tags_task, list_tags_thread);
    }
  else
    {
      self->tags_loaded = TRUE;
      show_message (self, _ ("This station records no history, so there is no trend to show."), TRUE);
    }
  update_pen_controls (self);
  return self;
}

KankyoTrendChart *
kankyo_trend_window_get_chart (KankyoTrendWindow *self)
{
  g_return_val_if_fail (KANKYO_IS_TREND_WINDOW (self), NULL);
  return self->chart;
}

gboolean
kankyo_trend_window_is_ready (KankyoTrendWindow *self)
{
  g_return_val_if_fail (KANKYO_IS_TREND_WINDOW (self), FALSE);
  return self->views != NULL && self->tags_loaded;
}
