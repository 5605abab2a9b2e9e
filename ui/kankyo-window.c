/* kankyo-window.c: the operator's main window.
 *
 * Navigation follows the ISA-101 levels: the plant overview summarises every
 * area by the devices that answer and those that do not; an area shows its
 * live mimic; a device shows its faceplate. The sidebar, Alt+Left and
 * Ctrl+1..9 move between them. The status bar along the bottom shows every
 * device's connection state at all times, by shape and word first and by
 * colour only second, so a lost link is never missed whatever level is
 * shown. All of it is fed by one tag-store subscription delivered on the
 * GTK main context; nothing here waits on a device. The Trends menu of the
 * header bar (Ctrl+T, Ctrl+Shift+T) opens trend windows and saved views.
 * The alarm banner stays at the top whatever level is shown; F9 opens the
 * alarm summary and Shift+F9 the alarm history, one of each per window.
 */
#include "config.h"

#include "kankyo-window.h"

#include <glib/gi18n.h>

#include "kankyo-alarm-banner.h"
#include "kankyo-alarm-history.h"
#include "kankyo-alarm-summary.h"
#include "kankyo-faceplate.h"
#include "kankyo-mimic-view.h"
#include "kankyo-trend-window.h"
#include "kankyo-ui-time.h"

#define APP_ID "org.kankyo.Kankyo"
#define MIN_WINDOW_SIZE 360
#define MAX_WINDOW_SIZE 16384
#define MAX_AREA_SHORTCUTS 9

typedef enum
{
  DEVICE_WAITING, /* no answer yet since the start */
  DEVICE_ONLINE,
  DEVICE_OFFLINE,
} DeviceState;

typedef struct
{
  char *name;
  char *label;
  char *area;
  gint online_tag; /* -1: the engine has no such tag */
  gint error_tag;
  DeviceState state;
  gint64 state_since;   /* UTC µs */
  char *last_error;     /* the last error the device had, kept after it recovers */
  gint64 last_error_at; /* UTC µs */
  GtkWidget *status_button;
  GtkWidget *status_icon;
  GtkWidget *status_label;
  GtkWidget *card_icon; /* its line on the overview card of its area */
  GtkWidget *card_label;
} WindowDevice;

typedef struct
{
  char *name;
  char *label;
  const KankyoAreaConfig *config; /* owned by the project */
  GtkWidget *row;                 /* in the sidebar */
  GtkWidget *card;                /* on the overview */
  GtkWidget *summary;             /* "7 of 8 devices answer" */
  GtkWidget *missing;             /* which do not */
  GtkWidget *page;                /* the mimic, or a list of devices; made on the first visit */
} WindowArea;

struct _KankyoWindow
{
  GtkApplicationWindow parent_instance;

  /* Template widgets */
  GtkLabel *title_label;
  GtkLabel *subtitle_label;
  GtkStack *main_stack;
  GtkListBox *sidebar;
  GtkStack *level_stack;
  GtkFlowBox *overview_box;
  GtkStack *area_stack;
  GtkScrolledWindow *device_scroller;
  GtkLabel *error_where_label;
  GtkLabel *error_message_label;
  GtkWidget *status_scroller;
  GtkBox *status_bar;

  /* The plant */
  KankyoEngine *engine;
  KankyoTagStore *store;
  guint subscription;
  GPtrArray *areas;       /* WindowArea* in project order */
  GPtrArray *devices;     /* WindowDevice* in project order */
  GHashTable *tag_device; /* tag id -> WindowDevice*, for the status tags */
  GtkWidget *overview_row;

  /* Where the operator is: no area is the overview; a device is level 3 */
  char *current_area;
  char *current_device;
  gboolean syncing_sidebar;

  GSettings *settings; /* NULL when the schema is not installed */

  /* Alarms */
  GtkWidget *alarm_banner;
  KankyoAlarmSummary *alarm_summary; /* weak; opened on demand */
  KankyoAlarmHistory *alarm_history; /* weak; opened on demand */
};

G_DEFINE_FINAL_TYPE (KankyoWindow, kankyo_window, GTK_TYPE_APPLICATION_WINDOW)

static void
window_device_free (WindowDevice *dev)
{
  g_free (dev->name);
  g_free (dev->label);
  g_free (dev->area);
  g_free (dev->last_error);
  g_free (dev);
}

static void
window_area_free (WindowArea *area)
{
  g_free (area->name);
  g_free (area->label);
  g_free (area);
}

static WindowArea *
find_area (KankyoWindow *self, const char *name)
{
  for (guint i = 0; name != NULL && i < self->areas->len; i++)
    {
      WindowArea *area = g_ptr_array_index (self->areas, i);

      if (g_str_equal (area->name, name))
        return area;
    }
  return NULL;
}

static WindowDevice *
find_device (KankyoWindow *self, const char *name)
{
  for (guint i = 0; name != NULL && i < self->devices->len; i++)
    {
      WindowDevice *dev = g_ptr_array_index (self->devices, i);

      if (g_str_equal (dev->name, name))
        return dev;
    }
  return NULL;
}

/* ---- where an area's mimic lives ---- */

/* The project names an area's drawing and bindings ("mimic:"), as URIs
 * resolved against the project's folder (or the demo's resources). FALSE
 * when the area has no drawing. */
static gboolean
area_mimic_files (const KankyoAreaConfig *area, GFile **ret_svg, GFile **ret_bindings)
{
  if (area->mimic_svg == NULL)
    return FALSE;
  *ret_svg = g_file_new_for_uri (area->mimic_svg);
  *ret_bindings = area->mimic_bindings != NULL ? g_file_new_for_uri (area->mimic_bindings) : NULL;
  return TRUE;
}

/* ---- device connection state ---- */

static const char *
device_state_icon (DeviceState state)
{
  switch (state)
    {
      case DEVICE_ONLINE:
        return "kankyo-device-online-symbolic";
      case DEVICE_OFFLINE:
        return "kankyo-device-offline-symbolic";
      case DEVICE_WAITING:
      default:
        return "kankyo-device-waiting-symbolic";
    }
}

static const char *
device_state_word (DeviceState state)
{
  switch (state)
    {
      case DEVICE_ONLINE:
        return C_ ("device state", "online");
      case DEVICE_OFFLINE:
        return C_ ("device state", "not answering");
      case DEVICE_WAITING:
      default:
        return C_ ("device state", "connecting");
    }
}

static DeviceState
device_state_from_sample (const KankyoTagSample *sample)
{
  if (sample->value.type != KANKYO_VALUE_BOOL
      || sample->quality == KANKYO_QUALITY_BAD_WAITING_FOR_INITIAL_DATA)
    return DEVICE_WAITING;
  if (!kankyo_quality_is_good (sample->quality))
    return DEVICE_OFFLINE;
  return sample->value.v.b ? DEVICE_ONLINE : DEVICE_OFFLINE;
}

static void
update_status_item (WindowDevice *dev)
{
  static const char *const classes[] = { "waiting", "online", "offline" };
  g_autofree char *text = NULL;
  g_autofree char *since = NULL;
  g_autoptr (GString) tooltip = g_string_new (dev->label);

  /* Translators: a device in the status bar: its short name and its state,
   * e.g. "ahu1: not answering". */
  text = g_strdup_printf (C_ ("status bar device", "%s: %s"), dev->name, device_state_word (dev->state));
  gtk_label_set_text (GTK_LABEL (dev->status_label), text);
  gtk_image_set_from_icon_name (GTK_IMAGE (dev->status_icon), device_state_icon (dev->state));
  for (guint i = 0; i < G_N_ELEMENTS (classes); i++)
    gtk_widget_remove_css_class (dev->status_button, classes[i]);
  gtk_widget_add_css_class (dev->status_button, classes[dev->state]);
  if (dev->card_label != NULL)
    {
      g_autofree char *line = NULL;

      /* Translators: a device on the plant overview: its label and its state */
      line = g_strdup_printf (C_ ("overview device", "%s: %s"), dev->label, device_state_word (dev->state));

      gtk_label_set_text (GTK_LABEL (dev->card_label), line);
      gtk_image_set_from_icon_name (GTK_IMAGE (dev->card_icon), device_state_icon (dev->state));
      for (guint i = 0; i < G_N_ELEMENTS (classes); i++)
        gtk_widget_remove_css_class (gtk_widget_get_parent (dev->card_label), classes[i]);
      gtk_widget_add_css_class (gtk_widget_get_parent (dev->card_label), classes[dev->state]);
    }

  g_string_append_c (tooltip, '\n');
  if (dev->state_since > 0)
    {
      since = kankyo_ui_format_local (dev->state_since, "%H:%M:%S");
      /* Translators: "online since 12:03:41" */
      g_string_append_printf (tooltip, _ ("%s since %s"), device_state_word (dev->state), since);
    }
  else
    g_string_append (tooltip, device_state_word (dev->state));
  if (dev->last_error != NULL)
    {
      g_autofree char *at = kankyo_ui_format_local (dev->last_error_at, "%H:%M:%S");

      g_string_append_c (tooltip, '\n');
      /* Translators: the time and text of a device's last communication error */
      g_string_append_printf (tooltip, _ ("Last error at %s: %s"), at, dev->last_error);
    }
  gtk_widget_set_tooltip_text (dev->status_button, tooltip->str);
}

static void
update_area_summary (KankyoWindow *self, WindowArea *area)
{
  g_autoptr (GString) missing = g_string_new (NULL);
  g_autofree char *summary = NULL;
  guint total = 0, online = 0, waiting = 0;

  for (guint i = 0; i < self->devices->len; i++)
    {
      WindowDevice *dev = g_ptr_array_index (self->devices, i);

      if (g_strcmp0 (dev->area, area->name) != 0)
        continue;
      total++;
      if (dev->state == DEVICE_ONLINE)
        online++;
      else if (dev->state == DEVICE_WAITING)
        waiting++;
      else
        {
          if (missing->len > 0)
            g_string_append (missing, ", ");
          g_string_append_printf (missing, "%s (%s)", dev->label, dev->name);
        }
    }

  summary = g_strdup_printf (ngettext ("%u of %u device answers", "%u of %u devices answer", total), online,
                             total);
  if (waiting > 0)
    {
      g_autofree char *with_waiting = NULL;

      /* Translators: appended to "3 of 8 devices answer" */
      with_waiting = g_strdup_printf (ngettext ("%s; %u is connecting", "%s; %u are connecting", waiting),
                                      summary, waiting);
      g_free (summary);
      summary = g_steal_pointer (&with_waiting);
    }
  gtk_label_set_text (GTK_LABEL (area->summary), summary);

  if (missing->len > 0)
    {
      g_autofree char *text = g_strdup_printf (_ ("Not answering: %s"), missing->str);

      gtk_label_set_text (GTK_LABEL (area->missing), text);
      gtk_widget_set_visible (area->missing, TRUE);
    }
  else
    gtk_widget_set_visible (area->missing, FALSE);
}

static void
apply_status_sample (KankyoWindow *self, WindowDevice *dev, const KankyoTagSample *sample)
{
  if ((gint) sample->tag_id == dev->online_tag)
    {
      DeviceState state = device_state_from_sample (sample);

      if (state != dev->state)
        {
          dev->state = state;
          dev->state_since = sample->source_time > 0 ? sample->source_time : g_get_real_time ();
        }
    }
  else if ((gint) sample->tag_id == dev->error_tag && sample->value.type == KANKYO_VALUE_STRING
           && sample->value.v.s != NULL && *sample->value.v.s != '\0')
    {
      g_free (dev->last_error);
      dev->last_error = g_strdup (sample->value.v.s);
      dev->last_error_at = sample->source_time > 0 ? sample->source_time : g_get_real_time ();
    }
}

static void
on_status_batch (KankyoTagStore *store, const KankyoTagSample *samples, guint n_samples, gpointer user_data)
{
  KankyoWindow *self = user_data;
  g_autoptr (GHashTable) touched = g_hash_table_new (NULL, NULL);
  GHashTableIter iter;
  gpointer key;

  for (guint i = 0; i < n_samples; i++)
    {
      WindowDevice *dev = g_hash_table_lookup (self->tag_device, GUINT_TO_POINTER (samples[i].tag_id));

      if (dev == NULL)
        continue;
      apply_status_sample (self, dev, &samples[i]);
      g_hash_table_add (touched, dev);
    }
  if (g_hash_table_size (touched) == 0)
    return;

  g_hash_table_iter_init (&iter, touched);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    update_status_item (key);
  for (guint i = 0; i < self->areas->len; i++)
    update_area_summary (self, g_ptr_array_index (self->areas, i));
}

/* ---- navigation ---- */

static void
sync_chrome (KankyoWindow *self)
{
  WindowArea *area = find_area (self, self->current_area);
  WindowDevice *dev = find_device (self, self->current_device);
  GtkWidget *row = self->overview_row;

  if (dev != NULL)
    {
      /* Translators: the header bar's subtitle on a device's faceplate: area and device */
      g_autofree char *subtitle = g_strdup_printf (_ ("%s › %s"), area ? area->label : "", dev->label);

      gtk_label_set_text (self->subtitle_label, subtitle);
    }
  else if (area != NULL)
    gtk_label_set_text (self->subtitle_label, area->label);
  else
    gtk_label_set_text (self->subtitle_label, _ ("Plant overview"));

  if (area != NULL)
    row = area->row;
  self->syncing_sidebar = TRUE;
  gtk_list_box_select_row (self->sidebar, GTK_LIST_BOX_ROW (row));
  self->syncing_sidebar = FALSE;

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "nav.back", self->current_area != NULL);
}

static void
show_overview (KankyoWindow *self)
{
  g_clear_pointer (&self->current_area, g_free);
  g_clear_pointer (&self->current_device, g_free);
  gtk_scrolled_window_set_child (self->device_scroller, NULL);
  gtk_stack_set_visible_child_name (self->level_stack, "overview");
  sync_chrome (self);
}

static void on_device_activated (KankyoMimicView *view, const char *device, gpointer user_data);

static void on_device_button_clicked (GtkButton *button, gpointer user_data);

/* The area's mimic; for an area without a drawing, its devices as buttons,
 * so its faceplates are still one step away. */
static GtkWidget *
area_page_new (KankyoWindow *self, WindowArea *area)
{
  g_autoptr (GFile) svg = NULL;
  g_autoptr (GFile) bindings = NULL;
  GtkWidget *box, *heading;

  if (area_mimic_files (area->config, &svg, &bindings))
    {
      g_autoptr (GError) error = NULL;
      GtkWidget *mimic = kankyo_mimic_view_new (self->engine);

      g_signal_connect_object (mimic, "device-activated", G_CALLBACK (on_device_activated), self, 0);
      /* The view shows what is wrong with the files itself. */
      if (!kankyo_mimic_view_load (KANKYO_MIMIC_VIEW (mimic), svg, bindings, &error))
        g_debug ("area %s: %s", area->name, error->message);
      return mimic;
    }

  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  gtk_widget_set_margin_start (box, 24);
  gtk_widget_set_margin_end (box, 24);
  gtk_widget_set_margin_top (box, 18);
  heading = gtk_label_new (_ ("This area has no diagram. Its devices:"));
  gtk_label_set_xalign (GTK_LABEL (heading), 0);
  gtk_label_set_wrap (GTK_LABEL (heading), TRUE);
  gtk_box_append (GTK_BOX (box), heading);
  for (guint i = 0; i < self->devices->len; i++)
    {
      WindowDevice *dev = g_ptr_array_index (self->devices, i);
      GtkWidget *button;

      if (g_strcmp0 (dev->area, area->name) != 0)
        continue;
      button = gtk_button_new_with_label (dev->label);
      gtk_widget_set_halign (button, GTK_ALIGN_START);
      g_object_set_data_full (G_OBJECT (button), "kankyo-device", g_strdup (dev->name), g_free);
      g_signal_connect_object (button, "clicked", G_CALLBACK (on_device_button_clicked), self, 0);
      gtk_box_append (GTK_BOX (box), button);
    }
  return box;
}

static void
show_area (KankyoWindow *self, const char *name)
{
  WindowArea *area = find_area (self, name);

  if (area == NULL)
    return;

  if (area->page == NULL)
    {
      area->page = area_page_new (self, area);
      gtk_stack_add_named (self->area_stack, area->page, area->name);
    }

  g_free (self->current_area);
  self->current_area = g_strdup (area->name);
  g_clear_pointer (&self->current_device, g_free);
  gtk_scrolled_window_set_child (self->device_scroller, NULL);
  gtk_stack_set_visible_child (self->area_stack, area->page);
  gtk_stack_set_visible_child_name (self->level_stack, "area");
  sync_chrome (self);
}

static void
show_device (KankyoWindow *self, const char *name)
{
  WindowDevice *dev = find_device (self, name);

  if (dev == NULL)
    return;

  /* One faceplate at a time: the one it replaces is destroyed and stops
   * listening to the tag store. */
  gtk_scrolled_window_set_child (self->device_scroller, kankyo_faceplate_new (self->engine, dev->name));
  g_free (self->current_device);
  self->current_device = g_strdup (dev->name);
  g_free (self->current_area);
  self->current_area = g_strdup (dev->area);
  gtk_stack_set_visible_child_name (self->level_stack, "device");
  sync_chrome (self);
}

static void
go_back (KankyoWindow *self)
{
  if (self->current_device != NULL && self->current_area != NULL)
    {
      g_autofree char *area = g_strdup (self->current_area);

      show_area (self, area);
    }
  else if (self->current_area != NULL)
    show_overview (self);
}

static void
on_device_activated (KankyoMimicView *view, const char *device, gpointer user_data)
{
  show_device (KANKYO_WINDOW (user_data), device);
}

static void
nav_back (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  go_back (KANKYO_WINDOW (widget));
}

static void
nav_overview (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  show_overview (KANKYO_WINDOW (widget));
}

static void
nav_area (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  show_area (KANKYO_WINDOW (widget), g_variant_get_string (parameter, NULL));
}

static void
nav_area_number (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  KankyoWindow *self = KANKYO_WINDOW (widget);
  gint32 number = g_variant_get_int32 (parameter);

  if (number >= 1 && (guint) number <= self->areas->len)
    show_area (self, ((WindowArea *) g_ptr_array_index (self->areas, number - 1))->name);
}

static void
nav_device (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  show_device (KANKYO_WINDOW (widget), g_variant_get_string (parameter, NULL));
}

/* A trend window of its own each time, so trends can be compared side by
 * side; it closes with the main window. */
static void
trend_open (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  KankyoWindow *self = KANKYO_WINDOW (widget);
  KankyoTrendWindow *trends = kankyo_trend_window_new (GTK_WINDOW (self), self->engine);

  gtk_window_present (GTK_WINDOW (trends));
  if (g_str_equal (action_name, "trend.views"))
    kankyo_trend_window_show_views (trends);
}

/* One alarm summary per window, raised when it is open already; with a
 * parameter (the banner's lines) it selects that alarm. */
static void
alarm_summary (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  KankyoWindow *self = KANKYO_WINDOW (widget);

  if (self->engine == NULL)
    return;
  if (self->alarm_summary == NULL)
    g_set_weak_pointer (&self->alarm_summary, kankyo_alarm_summary_new (GTK_WINDOW (self), self->engine));
  gtk_window_present (GTK_WINDOW (self->alarm_summary));
  if (parameter != NULL)
    kankyo_alarm_summary_select (self->alarm_summary, g_variant_get_string (parameter, NULL));
}

static void
alarm_history (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  KankyoWindow *self = KANKYO_WINDOW (widget);

  if (self->engine == NULL)
    return;
  if (self->alarm_history == NULL)
    g_set_weak_pointer (&self->alarm_history, kankyo_alarm_history_new (GTK_WINDOW (self), self->engine));
  gtk_window_present (GTK_WINDOW (self->alarm_history));
}

static void
on_sidebar_row (KankyoWindow *self, GtkListBoxRow *row)
{
  const char *area;

  if (row == NULL || self->syncing_sidebar)
    return;
  area = g_object_get_data (G_OBJECT (row), "kankyo-area");
  if (area == NULL)
    show_overview (self);
  else if (g_strcmp0 (area, self->current_area) != 0 || self->current_device != NULL)
    show_area (self, area);
}

static void
on_sidebar_row_selected (GtkListBox *box, GtkListBoxRow *row, gpointer user_data)
{
  on_sidebar_row (KANKYO_WINDOW (user_data), row);
}

static void
on_sidebar_row_activated (GtkListBox *box, GtkListBoxRow *row, gpointer user_data)
{
  on_sidebar_row (KANKYO_WINDOW (user_data), row);
}

static void
on_overview_card_activated (GtkFlowBox *box, GtkFlowBoxChild *child, gpointer user_data)
{
  show_area (KANKYO_WINDOW (user_data), g_object_get_data (G_OBJECT (child), "kankyo-area"));
}

static void
on_device_button_clicked (GtkButton *button, gpointer user_data)
{
  show_device (KANKYO_WINDOW (user_data), g_object_get_data (G_OBJECT (button), "kankyo-device"));
}

/* ---- building the plant's widgets ---- */

static GtkWidget *
sidebar_row_new (const char *text, const char *shortcut)
{
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  gtk_widget_set_hexpand (label, TRUE);
  gtk_box_append (GTK_BOX (box), label);
  if (shortcut != NULL)
    {
      GtkWidget *accel = gtk_label_new (shortcut);

      gtk_widget_add_css_class (accel, "dim-label");
      gtk_box_append (GTK_BOX (box), accel);
    }
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  gtk_accessible_update_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_LABEL, text, -1);
  return row;
}

static void
add_area (KankyoWindow *self, const KankyoAreaConfig *config)
{
  WindowArea *area = g_new0 (WindowArea, 1);
  g_autofree char *shortcut = NULL;
  GtkWidget *card, *title, *child;

  area->config = config;
  area->name = g_strdup (config->name);
  area->label = g_strdup (config->label != NULL ? config->label : config->name);
  g_ptr_array_add (self->areas, area);

  if (self->areas->len <= MAX_AREA_SHORTCUTS)
    {
      g_autofree char *key = g_strdup_printf ("%u", self->areas->len);

      shortcut = gtk_accelerator_get_label (key[0], GDK_CONTROL_MASK);
    }
  area->row = sidebar_row_new (area->label, shortcut);
  g_object_set_data_full (G_OBJECT (area->row), "kankyo-area", g_strdup (area->name), g_free);
  gtk_list_box_append (self->sidebar, area->row);

  card = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  gtk_widget_add_css_class (card, "kankyo-area-card");
  title = gtk_label_new (area->label);
  gtk_widget_add_css_class (title, "heading");
  gtk_label_set_xalign (GTK_LABEL (title), 0);
  gtk_label_set_wrap (GTK_LABEL (title), TRUE);
  gtk_box_append (GTK_BOX (card), title);
  area->summary = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (area->summary), 0);
  gtk_box_append (GTK_BOX (card), area->summary);
  area->missing = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (area->missing), 0);
  gtk_label_set_wrap (GTK_LABEL (area->missing), TRUE);
  gtk_widget_add_css_class (area->missing, "offline");
  gtk_box_append (GTK_BOX (card), area->missing);
  area->card = card;

  gtk_flow_box_append (self->overview_box, card);
  child = gtk_widget_get_parent (card);
  g_object_set_data_full (G_OBJECT (child), "kankyo-area", g_strdup (area->name), g_free);
  gtk_widget_set_tooltip_text (child, _ ("Open the area's diagram"));
}

static void
add_device (KankyoWindow *self, const KankyoDeviceConfig *config)
{
  WindowDevice *dev = g_new0 (WindowDevice, 1);
  g_autofree char *online_name = g_strconcat (config->name, "._online", NULL);
  g_autofree char *error_name = g_strconcat (config->name, "._last_error", NULL);
  WindowArea *area;
  GtkWidget *box;

  dev->name = g_strdup (config->name);
  dev->label = g_strdup (config->label != NULL ? config->label : config->name);
  dev->area = g_strdup (config->area);
  dev->online_tag = kankyo_tag_store_lookup (self->store, online_name);
  dev->error_tag = kankyo_tag_store_lookup (self->store, error_name);
  g_ptr_array_add (self->devices, dev);

  dev->status_button = gtk_button_new ();
  gtk_widget_set_name (dev->status_button, config->name);
  gtk_widget_add_css_class (dev->status_button, "flat");
  gtk_widget_add_css_class (dev->status_button, "kankyo-device-state");
  box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 4);
  dev->status_icon = g_object_new (GTK_TYPE_IMAGE, "accessible-role", GTK_ACCESSIBLE_ROLE_PRESENTATION, NULL);
  dev->status_label = gtk_label_new (NULL);
  gtk_box_append (GTK_BOX (box), dev->status_icon);
  gtk_box_append (GTK_BOX (box), dev->status_label);
  gtk_button_set_child (GTK_BUTTON (dev->status_button), box);
  g_object_set_data_full (G_OBJECT (dev->status_button), "kankyo-device", g_strdup (dev->name), g_free);
  g_signal_connect_object (dev->status_button, "clicked", G_CALLBACK (on_device_button_clicked), self, 0);
  gtk_box_append (self->status_bar, dev->status_button);

  area = find_area (self, dev->area);
  if (area != NULL)
    {
      GtkWidget *line = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);

      gtk_widget_add_css_class (line, "kankyo-device-state");
      dev->card_icon
          = g_object_new (GTK_TYPE_IMAGE, "accessible-role", GTK_ACCESSIBLE_ROLE_PRESENTATION, NULL);
      dev->card_label = gtk_label_new (NULL);
      gtk_label_set_xalign (GTK_LABEL (dev->card_label), 0);
      gtk_label_set_wrap (GTK_LABEL (dev->card_label), TRUE);
      gtk_box_append (GTK_BOX (line), dev->card_icon);
      gtk_box_append (GTK_BOX (line), dev->card_label);
      gtk_box_append (GTK_BOX (area->card), line);
    }

  if (dev->online_tag >= 0)
    {
      KankyoTagSample sample;

      kankyo_tag_store_get (self->store, (guint) dev->online_tag, &sample);
      apply_status_sample (self, dev, &sample);
      kankyo_tag_sample_clear (&sample);
      g_hash_table_insert (self->tag_device, GUINT_TO_POINTER (dev->online_tag), dev);
    }
  if (dev->error_tag >= 0)
    {
      KankyoTagSample sample;

      kankyo_tag_store_get (self->store, (guint) dev->error_tag, &sample);
      apply_status_sample (self, dev, &sample);
      kankyo_tag_sample_clear (&sample);
      g_hash_table_insert (self->tag_device, GUINT_TO_POINTER (dev->error_tag), dev);
    }
  update_status_item (dev);
}

static void
show_plant (KankyoWindow *self, KankyoEngine *engine)
{
  KankyoProject *project = kankyo_engine_get_project (engine);
  g_autofree char *overview_shortcut = NULL;

  self->engine = g_object_ref (engine);
  self->store = kankyo_tag_store_ref (kankyo_engine_get_tag_store (engine));

  gtk_label_set_text (self->title_label, project->name);
  gtk_window_set_title (GTK_WINDOW (self), project->name);

  overview_shortcut = gtk_accelerator_get_label (GDK_KEY_0, GDK_CONTROL_MASK);
  self->overview_row = sidebar_row_new (_ ("Plant overview"), overview_shortcut);
  gtk_list_box_append (self->sidebar, self->overview_row);
  for (guint i = 0; i < project->areas->len; i++)
    add_area (self, g_ptr_array_index (project->areas, i));
  for (guint i = 0; i < project->devices->len; i++)
    add_device (self, g_ptr_array_index (project->devices, i));
  for (guint i = 0; i < self->areas->len; i++)
    update_area_summary (self, g_ptr_array_index (self->areas, i));

  self->subscription
      = kankyo_tag_store_subscribe (self->store, g_main_context_default (), on_status_batch, self, NULL);

  /* On top of the window's content box, under the header bar. (Not a
   * template child: GtkWindow unparents its child itself.) */
  self->alarm_banner = kankyo_alarm_banner_new (engine);
  gtk_box_prepend (GTK_BOX (gtk_window_get_child (GTK_WINDOW (self))),
                   gtk_separator_new (GTK_ORIENTATION_HORIZONTAL));
  gtk_box_prepend (GTK_BOX (gtk_window_get_child (GTK_WINDOW (self))), self->alarm_banner);

  gtk_stack_set_visible_child_name (self->main_stack, "plant");
  show_overview (self);
}

/* A project error names "file:line:column: what was expected"; the window
 * says where on a line of its own, so the operator knows what to open. */
static void
show_load_error (KankyoWindow *self, const GError *error)
{
  g_autoptr (GRegex) regex = g_regex_new ("^(.+?):([0-9]+):([0-9]+): *(.*)$", G_REGEX_DOTALL, 0, NULL);
  g_autoptr (GMatchInfo) match = NULL;
  const char *message = error != NULL ? error->message : _ ("No project was opened.");

  if (g_regex_match (regex, message, 0, &match))
    {
      g_autofree char *file = g_match_info_fetch (match, 1);
      g_autofree char *line = g_match_info_fetch (match, 2);
      g_autofree char *column = g_match_info_fetch (match, 3);
      g_autofree char *what = g_match_info_fetch (match, 4);
      g_autofree char *where = NULL;

      /* Translators: where a project file is wrong: file, line and column */
      where = g_strdup_printf (_ ("%s, line %s, column %s"), file, line, column);
      gtk_label_set_text (self->error_where_label, where);
      gtk_label_set_text (self->error_message_label, what);
    }
  else
    {
      gtk_widget_set_visible (GTK_WIDGET (self->error_where_label), FALSE);
      gtk_label_set_text (self->error_message_label, message);
    }

  gtk_stack_set_visible_child_name (self->main_stack, "error");
  gtk_widget_set_visible (self->status_scroller, FALSE);
  gtk_label_set_text (self->subtitle_label, _ ("Project not loaded"));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "nav.back", FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "nav.overview", FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "nav.area", FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "nav.area-number", FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "nav.device", FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "trend.open", FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "trend.views", FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "alarm.summary", FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "alarm.history", FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "alarm.show", FALSE);
}

/* ---- window state ---- */

static GSettings *
window_settings_new (void)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr (GSettingsSchema) schema = NULL;

  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, APP_ID, TRUE);
  if (schema == NULL)
    {
      /* Run from a build tree without GSETTINGS_SCHEMA_DIR: the window
       * works, it only forgets its size. */
      g_debug ("GSettings schema %s is not installed; the window size is not remembered", APP_ID);
      return NULL;
    }
  return g_settings_new_full (schema, NULL, NULL);
}

static void
restore_window_state (KankyoWindow *self)
{
  if (self->settings == NULL)
    return;
  gtk_window_set_default_size (GTK_WINDOW (self), g_settings_get_int (self->settings, "window-width"),
                               g_settings_get_int (self->settings, "window-height"));
  if (g_settings_get_boolean (self->settings, "window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));
}

static gboolean
kankyo_window_close_request (GtkWindow *window)
{
  KankyoWindow *self = KANKYO_WINDOW (window);

  if (self->settings != NULL)
    {
      int width = 0, height = 0;

      /* The default size follows the window while it is not maximized, so
       * it is the size to come back to. */
      gtk_window_get_default_size (window, &width, &height);
      if (width > 0 && height > 0)
        {
          g_settings_set_int (self->settings, "window-width",
                              CLAMP (width, MIN_WINDOW_SIZE, MAX_WINDOW_SIZE));
          g_settings_set_int (self->settings, "window-height",
                              CLAMP (height, MIN_WINDOW_SIZE, MAX_WINDOW_SIZE));
        }
      g_settings_set_boolean (self->settings, "window-maximized", gtk_window_is_maximized (window));
    }
  return GTK_WINDOW_CLASS (kankyo_window_parent_class)->close_request (window);
}

/* ---- GObject ---- */

static void
load_style (GdkDisplay *display)
{
  g_autoptr (GtkCssProvider) provider = NULL;

  if (display == NULL || g_object_get_data (G_OBJECT (display), "kankyo-style") != NULL)
    return;
  provider = gtk_css_provider_new ();
  gtk_css_provider_load_from_resource (provider, "/org/kankyo/Kankyo/style.css");
  gtk_style_context_add_provider_for_display (display, GTK_STYLE_PROVIDER (provider),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
  g_object_set_data_full (G_OBJECT (display), "kankyo-style", g_steal_pointer (&provider), g_object_unref);
}

static void
kankyo_window_dispose (GObject *object)
{
  KankyoWindow *self = KANKYO_WINDOW (object);

  if (self->subscription != 0)
    {
      kankyo_tag_store_unsubscribe (self->store, self->subscription);
      self->subscription = 0;
    }
  gtk_widget_dispose_template (GTK_WIDGET (self), KANKYO_TYPE_WINDOW);
  G_OBJECT_CLASS (kankyo_window_parent_class)->dispose (object);
}

static void
kankyo_window_finalize (GObject *object)
{
  KankyoWindow *self = KANKYO_WINDOW (object);

  g_clear_pointer (&self->tag_device, g_hash_table_unref);
  g_clear_pointer (&self->areas, g_ptr_array_unref);
  g_clear_pointer (&self->devices, g_ptr_array_unref);
  g_clear_pointer (&self->store, kankyo_tag_store_unref);
  g_clear_object (&self->engine);
  g_clear_object (&self->settings);
  g_clear_weak_pointer (&self->alarm_summary);
  g_clear_weak_pointer (&self->alarm_history);
  g_free (self->current_area);
  g_free (self->current_device);
  G_OBJECT_CLASS (kankyo_window_parent_class)->finalize (object);
}

static void
kankyo_window_class_init (KankyoWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = kankyo_window_dispose;
  object_class->finalize = kankyo_window_finalize;
  window_class->close_request = kankyo_window_close_request;

  gtk_widget_class_set_template_from_resource (widget_class, "/org/kankyo/Kankyo/kankyo-window.ui");
  gtk_widget_class_bind_template_child (widget_class, KankyoWindow, title_label);
  gtk_widget_class_bind_template_child (widget_class, KankyoWindow, subtitle_label);
  gtk_widget_class_bind_template_child (widget_class, KankyoWindow, main_stack);
  gtk_widget_class_bind_template_child (widget_class, KankyoWindow, sidebar);
  gtk_widget_class_bind_template_child (widget_class, KankyoWindow, level_stack);
  gtk_widget_class_bind_template_child (widget_class, KankyoWindow, overview_box);
  gtk_widget_class_bind_template_child (widget_class, KankyoWindow, area_stack);
  gtk_widget_class_bind_template_child (widget_class, KankyoWindow, device_scroller);
  gtk_widget_class_bind_template_child (widget_class, KankyoWindow, error_where_label);
  gtk_widget_class_bind_template_child (widget_class, KankyoWindow, error_message_label);
  gtk_widget_class_bind_template_child (widget_class, KankyoWindow, status_scroller);
  gtk_widget_class_bind_template_child (widget_class, KankyoWindow, status_bar);

  gtk_widget_class_install_action (widget_class, "nav.back", NULL, nav_back);
  gtk_widget_class_install_action (widget_class, "nav.overview", NULL, nav_overview);
  gtk_widget_class_install_action (widget_class, "nav.area", "s", nav_area);
  gtk_widget_class_install_action (widget_class, "nav.area-number", "i", nav_area_number);
  gtk_widget_class_install_action (widget_class, "nav.device", "s", nav_device);
  gtk_widget_class_install_action (widget_class, "trend.open", NULL, trend_open);
  gtk_widget_class_install_action (widget_class, "trend.views", NULL, trend_open);
  gtk_widget_class_install_action (widget_class, "alarm.summary", NULL, alarm_summary);
  gtk_widget_class_install_action (widget_class, "alarm.show", "s", alarm_summary);
  gtk_widget_class_install_action (widget_class, "alarm.history", NULL, alarm_history);

  /* Backspace goes back only when no text field takes it first: bindings of
   * the window run after the focused widget has had the key. */
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Left, GDK_ALT_MASK, "nav.back", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_Left, GDK_ALT_MASK, "nav.back", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_BackSpace, 0, "nav.back", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Back, 0, "nav.back", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_0, GDK_CONTROL_MASK, "nav.overview", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_t, GDK_CONTROL_MASK, "trend.open", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_T, GDK_CONTROL_MASK | GDK_SHIFT_MASK,
                                       "trend.views", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F9, 0, "alarm.summary", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F9, GDK_SHIFT_MASK, "alarm.history", NULL);
  for (int i = 1; i <= MAX_AREA_SHORTCUTS; i++)
    {
      gtk_widget_class_add_binding_action (widget_class, GDK_KEY_0 + i, GDK_CONTROL_MASK, "nav.area-number",
                                           "i", i);
      gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_0 + i, GDK_CONTROL_MASK,
                                           "nav.area-number", "i", i);
    }
}

static void
kankyo_window_init (KankyoWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->areas = g_ptr_array_new_with_free_func ((GDestroyNotify) window_area_free);
  self->devices = g_ptr_array_new_with_free_func ((GDestroyNotify) window_device_free);
  self->tag_device = g_hash_table_new (NULL, NULL);

  g_signal_connect_object (self->sidebar, "row-selected", G_CALLBACK (on_sidebar_row_selected), self, 0);
  g_signal_connect_object (self->sidebar, "row-activated", G_CALLBACK (on_sidebar_row_activated), self, 0);
  g_signal_connect_object (self->overview_box, "child-activated", G_CALLBACK (on_overview_card_activated),
                           self, 0);

  load_style (gtk_widget_get_display (GTK_WIDGET (self)));
  self->settings = window_settings_new ();
  restore_window_state (self);
}

KankyoWindow *
kankyo_window_new (KankyoApplication *app, const GError *load_error)
{
  KankyoWindow *self;
  KankyoEngine *engine;

  g_return_val_if_fail (KANKYO_IS_APPLICATION (app), NULL);

  self = g_object_new (KANKYO_TYPE_WINDOW, "application", app, NULL);
  engine = kankyo_application_get_engine (app);
  if (load_error != NULL || engine == NULL)
    show_load_error (self, load_error);
  else
    show_plant (self, engine);
  return self;
}
