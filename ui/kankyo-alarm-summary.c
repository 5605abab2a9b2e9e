/* kankyo-alarm-summary.c: the alarm summary window and its shelve dialog.
 *
 * The list is one GListStore of items, one per alarm that is not normal,
 * kept by a subscription to the alarm engine on the GTK main context. The
 * items follow each delivery at once; the store is told at most every
 * FLUSH_MS, with as few splices as it can: one when a single alarm
 * changed, one of the whole list when several did (a flood is hundreds),
 * so the filter, the sorter and the list view see a few changes a second
 * however many alarms move. Items keep their identity across updates, so
 * GtkMultiSelection keeps what the operator selected while the list moves
 * under it. New alarms enter a short list a few per frame (see grow ()),
 * because each row GTK makes for them costs a dozen widgets.
 *
 * Above the store sit a filter (text, area, priority, state), the column
 * view's own sorter and a multi-selection. Actions send the ids of the
 * selected (or of all shown) alarms to kankyo_alarm_engine_act_async() with
 * the login name as the user, the way the write path records its actor;
 * the window stays usable and shows the engine's answer when it comes.
 */
#include "config.h"

#include "kankyo-alarm-summary.h"

#include <glib/gi18n.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kankyo-alarm-banner.h"
#include "kankyo-alarm-engine.h"

/* How long changes wait to be shown together. */
#define FLUSH_MS 200
/* While the list is short, new alarms are listed a few per frame. */
#define GROW_STEP 4
#define GROW_UNTIL 210
#define GROW_INTERVAL_MS 16
/* The engine accepts a reason of up to 1024 bytes; at most four bytes a
 * character, this many characters always fit. */
#define MAX_REASON_CHARS 256
#define MAX_DURATION_CHARS 32

/* ---- one alarm in the list ---- */

#define KANKYO_TYPE_ALARM_ITEM (kankyo_alarm_item_get_type ())
G_DECLARE_FINAL_TYPE (KankyoAlarmItem, kankyo_alarm_item, KANKYO, ALARM_ITEM, GObject)

struct _KankyoAlarmItem
{
  GObject parent_instance;

  KankyoAlarmDefinition *definition; /* a copy: the engine's stop frees its own */
  char *haystack;                    /* casefolded id, tag, device, area and message */
  char *tag_key;                     /* collation keys, made once: sorting a flood compares */
  char *area_key;                    /* thousands of times */
  char *message_key;
  KankyoAlarmState state;
  gint64 time;       /* when it last activated, else when its state changed */
  gint64 state_time; /* when its state changed */
  char *time_text;
  char *value_text;
  double value; /* NAN for none */
  gint64 shelved_until;
  char *shelved_by;
  char *shelve_reason;
  gboolean listed; /* in the summary's store, not only waiting for it */
  gboolean queued; /* in the summary's updates waiting for the next flush */
};

G_DEFINE_FINAL_TYPE (KankyoAlarmItem, kankyo_alarm_item, G_TYPE_OBJECT)

static void
kankyo_alarm_item_finalize (GObject *object)
{
  KankyoAlarmItem *self = KANKYO_ALARM_ITEM (object);

  g_clear_pointer (&self->definition, kankyo_alarm_definition_free);
  g_free (self->haystack);
  g_free (self->tag_key);
  g_free (self->area_key);
  g_free (self->message_key);
  g_free (self->time_text);
  g_free (self->value_text);
  g_free (self->shelved_by);
  g_free (self->shelve_reason);
  G_OBJECT_CLASS (kankyo_alarm_item_parent_class)->finalize (object);
}

static void
kankyo_alarm_item_class_init (KankyoAlarmItemClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = kankyo_alarm_item_finalize;
}

static void
kankyo_alarm_item_init (KankyoAlarmItem *self)
{
}

static KankyoAlarmItem *
alarm_item_new (const KankyoAlarmDefinition *definition)
{
  KankyoAlarmItem *self = g_object_new (KANKYO_TYPE_ALARM_ITEM, NULL);
  g_autofree char *all
      = g_strjoin ("\n", definition->id, definition->tag ? definition->tag : "",
                   definition->device ? definition->device : "", definition->area ? definition->area : "",
                   definition->message ? definition->message : "", NULL);

  self->definition = kankyo_alarm_definition_copy (definition);
  self->haystack = g_utf8_casefold (all, -1);
  self->tag_key = g_utf8_collate_key (definition->tag ? definition->tag : "", -1);
  self->area_key = g_utf8_collate_key (definition->area ? definition->area : "", -1);
  self->message_key = g_utf8_collate_key (definition->message ? definition->message : definition->id, -1);
  return self;
}

static void
alarm_item_update (KankyoAlarmItem *self, const KankyoAlarmInfo *info, KankyoTagStore *store)
{
  self->state = info->state;
  self->state_time = info->state_time;
  self->time = info->active_time > 0 ? info->active_time : info->state_time;
  g_free (self->time_text);
  self->time_text = kankyo_alarm_format_time (self->time, TRUE);
  g_free (self->value_text);
  self->value_text = kankyo_alarm_format_value (store, self->definition->tag, info->value);
  self->value = info->value;
  self->shelved_until = info->shelved_until;
  g_free (self->shelved_by);
  self->shelved_by = g_strdup (info->shelved_by);
  g_free (self->shelve_reason);
  self->shelve_reason = g_strdup (info->shelve_reason);
}

static const char *
item_message (const KankyoAlarmItem *item)
{
  return item->definition->message != NULL ? item->definition->message : item->definition->id;
}

/* ---- durations as operators type them ---- */

/* "30", "30 min", "2 h", "1 h 30 min", "1:30"; whole minutes. */
static gboolean
parse_duration (const char *text, gint64 *ret_us)
{
  static GRegex *regex;
  g_autoptr (GMatchInfo) match = NULL;
  g_autofree char *hours = NULL;
  g_autofree char *minutes = NULL;
  g_autofree char *clock_h = NULL;
  g_autofree char *clock_m = NULL;
  gint64 total;

  if (g_once_init_enter (&regex))
    g_once_init_leave (&regex,
                       g_regex_new ("^\\s*(?:(?:([0-9]{1,4})\\s*h)?\\s*(?:([0-9]{1,6})\\s*(?:min|m)?)?"
                                    "|([0-9]{1,4}):([0-9]{2}))\\s*$",
                                    G_REGEX_OPTIMIZE | G_REGEX_CASELESS, 0, NULL));
  if (text == NULL || !g_regex_match (regex, text, 0, &match))
    return FALSE;
  hours = g_match_info_fetch (match, 1);
  minutes = g_match_info_fetch (match, 2);
  clock_h = g_match_info_fetch (match, 3);
  clock_m = g_match_info_fetch (match, 4);
  if (clock_h != NULL && *clock_h != '\0')
    {
      if (atoi (clock_m) > 59)
        return FALSE;
      total = (gint64) atoi (clock_h) * 60 + atoi (clock_m);
    }
  else if ((hours == NULL || *hours == '\0') && (minutes == NULL || *minutes == '\0'))
    return FALSE;
  else
    total = (hours && *hours ? (gint64) atoi (hours) * 60 : 0) + (minutes && *minutes ? atoi (minutes) : 0);
  *ret_us = total * 60 * G_USEC_PER_SEC;
  return TRUE;
}

/* "8 h", "45 min", "1 h 30 min". */
static char *
format_duration (gint64 us)
{
  gint64 minutes = us / (60 * G_USEC_PER_SEC);

  if (minutes < 60)
    return g_strdup_printf (_ ("%d min"), (int) minutes);
  if (minutes % 60 == 0)
    return g_strdup_printf (_ ("%d h"), (int) (minutes / 60));
  return g_strdup_printf (_ ("%d h %d min"), (int) (minutes / 60), (int) (minutes % 60));
}

static void
set_message (GtkLabel *label, const char *text, gboolean is_error)
{
  gtk_label_set_text (label, text != NULL ? text : "");
  gtk_widget_set_tooltip_text (GTK_WIDGET (label), text);
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

static char *
describe_done (KankyoAlarmAction action, guint n, gint64 until)
{
  switch (action)
    {
      case KANKYO_ALARM_ACTION_ACK:
        return g_strdup_printf (ngettext ("%u alarm acknowledged.", "%u alarms acknowledged.", n), n);
      case KANKYO_ALARM_ACTION_SHELVE:
        {
          g_autofree char *at = kankyo_alarm_format_time (until, TRUE);

          /* Translators: the alarms shelved, and until when */
          return g_strdup_printf (ngettext ("%u alarm shelved until %s.", "%u alarms shelved until %s.", n),
                                  n, at);
        }
      case KANKYO_ALARM_ACTION_UNSHELVE:
        return g_strdup_printf (ngettext ("%u alarm unshelved.", "%u alarms unshelved.", n), n);
      case KANKYO_ALARM_ACTION_RESET:
        return g_strdup_printf (ngettext ("%u alarm reset.", "%u alarms reset.", n), n);
      case KANKYO_ALARM_ACTION_REMOVE_FROM_SERVICE:
      case KANKYO_ALARM_ACTION_RETURN_TO_SERVICE:
      default:
        /* The summary offers no other action. */
        g_return_val_if_reached (g_strdup (""));
    }
}

/* The engine's answer for people: what was done, and what was not. */
static char *
describe_result (KankyoAlarmAction action, guint n_done, gint64 until, const GError *error)
{
  g_autofree char *done = NULL;

  if (error == NULL)
    return describe_done (action, n_done, until);
  if (n_done == 0)
    /* Translators: an alarm action that the alarm engine refused; its message follows */
    return g_strdup_printf (_ ("Not done: %s"), error->message);
  done = describe_done (action, n_done, until);
  /* Translators: what was done, then why the rest was not */
  return g_strdup_printf (_ ("%s Not done for the rest: %s"), done, error->message);
}

static void summary_show_result (KankyoAlarmSummary *self, const char *text, gboolean is_error);

/* ---- the shelve dialog ---- */

#define KANKYO_TYPE_ALARM_SHELVE_DIALOG (kankyo_alarm_shelve_dialog_get_type ())
G_DECLARE_FINAL_TYPE (
    KankyoAlarmShelveDialog, kankyo_alarm_shelve_dialog, KANKYO, ALARM_SHELVE_DIALOG, GtkWindow)

struct _KankyoAlarmShelveDialog
{
  GtkWindow parent_instance;

  /* Template widgets */
  GtkLabel *what_label;
  GtkEntry *reason_entry;
  GtkLabel *reason_message;
  GtkEntry *duration_entry;
  GtkLabel *duration_message;
  GtkSpinner *spinner;
  GtkLabel *result_label;
  GtkWidget *shelve_button;

  KankyoEngine *engine; /* keeps the alarm engine's definitions alive */
  KankyoAlarmEngine *alarms;
  GStrv ids;
  KankyoAlarmSummary *summary; /* weak */
  gint64 max_us;
  gint64 duration_us; /* valid while duration_ok */
  gboolean duration_ok;
  gboolean reason_ok;
  gboolean busy;
};

G_DEFINE_FINAL_TYPE (KankyoAlarmShelveDialog, kankyo_alarm_shelve_dialog, GTK_TYPE_WINDOW)

static void
shelve_update_button (KankyoAlarmShelveDialog *self)
{
  gtk_widget_set_sensitive (self->shelve_button, self->duration_ok && self->reason_ok && !self->busy);
}

static void
shelve_validate_reason (KankyoAlarmShelveDialog *self)
{
  g_autofree char *reason = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->reason_entry))));

  self->reason_ok = *reason != '\0';
  if (self->reason_ok)
    set_message (self->reason_message,
                 _ ("Recorded with your name in the alarm journal and the audit trail."), FALSE);
  else
    set_message (self->reason_message, _ ("A reason is required to shelve an alarm."),
                 gtk_widget_has_focus (GTK_WIDGET (self->reason_entry)) || self->duration_ok);
  shelve_update_button (self);
}

static void
shelve_validate_duration (KankyoAlarmShelveDialog *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->duration_entry));
  g_autofree char *most = format_duration (self->max_us);
  g_autofree char *message = NULL;
  gint64 us = 0;

  self->duration_ok = FALSE;
  if (!parse_duration (text, &us))
    message = g_strdup (_ ("Enter how long, such as 30 min, 2 h or 1 h 30 min."));
  else if (us < 60 * G_USEC_PER_SEC)
    message = g_strdup (_ ("Shelve for at least 1 min."));
  else if (us > self->max_us)
    /* Translators: %s is the longest shelve allowed, e.g. "8 h" */
    message = g_strdup_printf (_ ("At most %s: that is the longest an alarm may be shelved."), most);
  if (message != NULL)
    {
      set_message (self->duration_message, message, TRUE);
      gtk_widget_add_css_class (GTK_WIDGET (self->duration_entry), "error");
    }
  else
    {
      g_autofree char *until = kankyo_alarm_format_time (g_get_real_time () + us, TRUE);

      self->duration_ok = TRUE;
      self->duration_us = us;
      /* Translators: when a shelve would end, and the longest allowed */
      message = g_strdup_printf (_ ("Until %s (at most %s)."), until, most);
      set_message (self->duration_message, message, FALSE);
      gtk_widget_remove_css_class (GTK_WIDGET (self->duration_entry), "error");
    }
  shelve_update_button (self);
}

static void
on_shelve_reason_changed (GtkEditable *editable, gpointer user_data)
{
  shelve_validate_reason (user_data);
}

static void
on_shelve_duration_changed (GtkEditable *editable, gpointer user_data)
{
  shelve_validate_duration (user_data);
}

static void
on_shelve_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (KankyoAlarmShelveDialog) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  guint n_done = 0;
  gboolean ok = kankyo_alarm_engine_act_finish (self->alarms, result, &n_done, &error);

  self->busy = FALSE;
  gtk_spinner_stop (self->spinner);
  text = describe_result (KANKYO_ALARM_ACTION_SHELVE, n_done, g_get_real_time () + self->duration_us, error);
  if (self->summary != NULL)
    summary_show_result (self->summary, text, !ok);
  if (ok)
    {
      gtk_window_destroy (GTK_WINDOW (self));
      return;
    }
  set_message (self->result_label, text, TRUE);
  shelve_update_button (self);
}

static void
on_shelve_clicked (GtkButton *button, gpointer user_data)
{
  KankyoAlarmShelveDialog *self = user_data;
  g_autofree char *reason = NULL;

  shelve_validate_reason (self);
  shelve_validate_duration (self);
  if (!self->reason_ok || !self->duration_ok || self->busy)
    return;
  if (kankyo_engine_get_alarms (self->engine) != self->alarms)
    {
      set_message (self->result_label, _ ("Alarms are not available: the plant is not running."), TRUE);
      return;
    }
  self->busy = TRUE;
  shelve_update_button (self);
  reason = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->reason_entry))));
  gtk_spinner_start (self->spinner);
  set_message (self->result_label, _ ("Shelving…"), FALSE);
  /* The reference keeps the dialog for the answer even if it is closed. */
  kankyo_alarm_engine_act_async (self->alarms, KANKYO_ALARM_ACTION_SHELVE, (const char *const *) self->ids,
                                 g_get_user_name (), reason, self->duration_us, NULL, on_shelve_done,
                                 g_object_ref (self));
}

static void
on_shelve_activate (GtkEntry *entry, gpointer user_data)
{
  KankyoAlarmShelveDialog *self = user_data;

  if (gtk_widget_get_sensitive (self->shelve_button))
    gtk_widget_activate (self->shelve_button);
  else if (!self->reason_ok)
    gtk_widget_grab_focus (GTK_WIDGET (self->reason_entry));
  else
    gtk_widget_grab_focus (GTK_WIDGET (self->duration_entry));
}

static void
kankyo_alarm_shelve_dialog_dispose (GObject *object)
{
  KankyoAlarmShelveDialog *self = KANKYO_ALARM_SHELVE_DIALOG (object);

  g_clear_weak_pointer (&self->summary);
  gtk_widget_dispose_template (GTK_WIDGET (self), KANKYO_TYPE_ALARM_SHELVE_DIALOG);
  G_OBJECT_CLASS (kankyo_alarm_shelve_dialog_parent_class)->dispose (object);
}

static void
kankyo_alarm_shelve_dialog_finalize (GObject *object)
{
  KankyoAlarmShelveDialog *self = KANKYO_ALARM_SHELVE_DIALOG (object);

  g_strfreev (self->ids);
  g_clear_object (&self->engine);
  G_OBJECT_CLASS (kankyo_alarm_shelve_dialog_parent_class)->finalize (object);
}

static void
kankyo_alarm_shelve_dialog_class_init (KankyoAlarmShelveDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kankyo_alarm_shelve_dialog_dispose;
  object_class->finalize = kankyo_alarm_shelve_dialog_finalize;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/kankyo/Kankyo/kankyo-alarm-shelve-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, KankyoAlarmShelveDialog, what_label);
  gtk_widget_class_bind_template_child (widget_class, KankyoAlarmShelveDialog, reason_entry);
  gtk_widget_class_bind_template_child (widget_class, KankyoAlarmShelveDialog, reason_message);
  gtk_widget_class_bind_template_child (widget_class, KankyoAlarmShelveDialog, duration_entry);
  gtk_widget_class_bind_template_child (widget_class, KankyoAlarmShelveDialog, duration_message);
  gtk_widget_class_bind_template_child (widget_class, KankyoAlarmShelveDialog, spinner);
  gtk_widget_class_bind_template_child (widget_class, KankyoAlarmShelveDialog, result_label);
  gtk_widget_class_bind_template_child (widget_class, KankyoAlarmShelveDialog, shelve_button);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
kankyo_alarm_shelve_dialog_init (KankyoAlarmShelveDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  gtk_entry_set_max_length (self->reason_entry, MAX_REASON_CHARS);
  gtk_entry_set_max_length (self->duration_entry, MAX_DURATION_CHARS);
  g_signal_connect_object (self->reason_entry, "changed", G_CALLBACK (on_shelve_reason_changed), self, 0);
  g_signal_connect_object (self->duration_entry, "changed", G_CALLBACK (on_shelve_duration_changed), self, 0);
  g_signal_connect_object (self->reason_entry, "activate", G_CALLBACK (on_shelve_activate), self, 0);
  g_signal_connect_object (self->duration_entry, "activate", G_CALLBACK (on_shelve_activate), self, 0);
  g_signal_connect_object (self->shelve_button, "clicked", G_CALLBACK (on_shelve_clicked), self, 0);
}

static KankyoAlarmShelveDialog *
shelve_dialog_new (
    KankyoAlarmSummary *summary, KankyoEngine *engine, KankyoAlarmEngine *alarms, GStrv ids, const char *what)
{
  KankyoAlarmShelveDialog *self
      = g_object_new (KANKYO_TYPE_ALARM_SHELVE_DIALOG, "transient-for", summary, NULL);

  self->engine = g_object_ref (engine);
  self->alarms = alarms;
  self->ids = ids;
  g_set_weak_pointer (&self->summary, summary);
  self->max_us = kankyo_alarm_engine_get_max_shelve (alarms);
  gtk_label_set_text (self->what_label, what);
  shelve_validate_duration (self);
  shelve_validate_reason (self);
  gtk_window_set_focus (GTK_WINDOW (self), GTK_WIDGET (self->reason_entry));
  return self;
}

/* ---- the summary ---- */

typedef enum
{
  COLUMN_PRIORITY,
  COLUMN_TIME,
  COLUMN_TAG,
  COLUMN_AREA,
  COLUMN_MESSAGE,
  COLUMN_STATE,
  COLUMN_VALUE,
  N_COLUMNS
} Column;

typedef enum
{
  STATE_FILTER_ANY,
  STATE_FILTER_UNACK,
  STATE_FILTER_ACKED,
  STATE_FILTER_LATCHED,
  STATE_FILTER_SHELVED,
  STATE_FILTER_HIDDEN,
} StateFilter;

struct _KankyoAlarmSummary
{
  GtkWindow parent_instance;

  /* Template widgets */
  GtkLabel *count_label;
  GtkSearchEntry *search_entry;
  GtkDropDown *area_dropdown;
  GtkDropDown *priority_dropdown;
  GtkDropDown *state_dropdown;
  GtkColumnView *column_view;
  GtkLabel *details_label;
  GtkLabel *guidance_label;
  GtkWidget *display_button;
  GtkWidget *ack_button;
  GtkWidget *ack_all_button;
  GtkWidget *shelve_button;
  GtkWidget *unshelve_button;
  GtkWidget *reset_button;
  GtkSpinner *spinner;
  GtkLabel *status_label;

  KankyoEngine *engine;
  KankyoAlarmEngine *alarms; /* the engine's; NULL when it has none */
  KankyoTagStore *store;
  guint subscription;
  GHashTable *items;   /* alarm id (the item's) -> KankyoAlarmItem*, owned */
  GPtrArray *unlisted; /* items not in the store yet, oldest first */
  GPtrArray *updated;  /* listed items changed since the last flush, owned */
  GPtrArray *removed;  /* listed items gone since the last flush, owned */
  guint grow_source;
  guint flush_source;
  GListStore *list;
  GtkCustomFilter *filter;
  GtkFilterListModel *filtered;
  GtkSortListModel *sorted;
  GtkMultiSelection *selection;
  GtkColumnViewColumn *columns[N_COLUMNS];
  GPtrArray *area_names; /* the area dropdown's entries after "All areas" */

  char *search; /* casefolded, NULL for none */
  guint busy;   /* actions sent and not answered */
};

G_DEFINE_FINAL_TYPE (KankyoAlarmSummary, kankyo_alarm_summary, GTK_TYPE_WINDOW)

static void update_actions (KankyoAlarmSummary *self);

/* The alarm engine while the plant runs; NULL once the engine stopped,
 * which frees it. */
static KankyoAlarmEngine *
live_alarms (KankyoAlarmSummary *self)
{
  KankyoAlarmEngine *alarms = kankyo_engine_get_alarms (self->engine);

  return alarms != NULL && alarms == self->alarms ? alarms : NULL;
}

static void
summary_show_result (KankyoAlarmSummary *self, const char *text, gboolean is_error)
{
  gtk_label_set_text (self->status_label, text);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->status_label), text);
  if (is_error)
    gtk_widget_add_css_class (GTK_WIDGET (self->status_label), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->status_label), "error");
}

/* ---- filtering ---- */

static gboolean
item_matches (gpointer object, gpointer user_data)
{
  KankyoAlarmItem *item = object;
  KankyoAlarmSummary *self = user_data;
  guint area = gtk_drop_down_get_selected (self->area_dropdown);
  guint priority = gtk_drop_down_get_selected (self->priority_dropdown);
  KankyoAlarmState s = item->state;

  if (self->search != NULL && strstr (item->haystack, self->search) == NULL)
    return FALSE;
  if (area != GTK_INVALID_LIST_POSITION && area > 0 && area <= self->area_names->len
      && g_strcmp0 (item->definition->area, g_ptr_array_index (self->area_names, area - 1)) != 0)
    return FALSE;
  /* 0 any, 1 low and up, 2 medium and up, 3 high */
  if (priority != GTK_INVALID_LIST_POSITION && (guint) item->definition->priority < priority)
    return FALSE;
  switch ((StateFilter) gtk_drop_down_get_selected (self->state_dropdown))
    {
      case STATE_FILTER_UNACK:
        return kankyo_alarm_state_needs_ack (s);
      case STATE_FILTER_ACKED:
        return s == KANKYO_ALARM_STATE_ACKED;
      case STATE_FILTER_LATCHED:
        return s == KANKYO_ALARM_STATE_LATCHED;
      case STATE_FILTER_SHELVED:
        return s == KANKYO_ALARM_STATE_SHELVED;
      case STATE_FILTER_HIDDEN:
        return s == KANKYO_ALARM_STATE_SUPPRESSED || s == KANKYO_ALARM_STATE_OUT_OF_SERVICE;
      case STATE_FILTER_ANY:
      default:
        return TRUE;
    }
}

static void
refilter (KankyoAlarmSummary *self)
{
  gtk_filter_changed (GTK_FILTER (self->filter), GTK_FILTER_CHANGE_DIFFERENT);
}

static void
on_search_changed (GtkSearchEntry *entry, gpointer user_data)
{
  KankyoAlarmSummary *self = user_data;
  g_autofree char *text = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (entry))));

  g_clear_pointer (&self->search, g_free);
  if (*text != '\0')
    self->search = g_utf8_casefold (text, -1);
  refilter (self);
}

static void
on_dropdown_changed (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  refilter (user_data);
}

/* ---- sorting ---- */

/* Numbers in order, no value last. */
static int
compare_values (double a, double b)
{
  if (isnan (a) || isnan (b))
    return isnan (a) - isnan (b);
  return (a > b) - (a < b);
}

static int
compare_items (gconstpointer a, gconstpointer b, gpointer user_data)
{
  const KankyoAlarmItem *x = a, *y = b;

  switch ((Column) GPOINTER_TO_INT (user_data))
    {
      case COLUMN_PRIORITY:
        return (x->definition->priority > y->definition->priority)
               - (x->definition->priority < y->definition->priority);
      case COLUMN_TIME:
        return (x->time > y->time) - (x->time < y->time);
      case COLUMN_TAG:
        return strcmp (x->tag_key, y->tag_key);
      case COLUMN_AREA:
        return strcmp (x->area_key, y->area_key);
      case COLUMN_MESSAGE:
        return strcmp (x->message_key, y->message_key);
      case COLUMN_STATE:
        return (x->state > y->state) - (x->state < y->state);
      case COLUMN_VALUE:
      default:
        return compare_values (x->value, y->value);
    }
}

/* ---- cells ---- */

static void
on_cell_setup (GtkSignalListItemFactory *factory, GtkListItem *list_item, gpointer user_data)
{
  Column column = GPOINTER_TO_INT (user_data);

  gtk_list_item_set_child (
      list_item,
      kankyo_alarm_cell_new (column == COLUMN_PRIORITY, column == COLUMN_TIME || column == COLUMN_VALUE));
}

static void
on_cell_bind (GtkSignalListItemFactory *factory, GtkListItem *list_item, gpointer user_data)
{
  KankyoAlarmItem *item = gtk_list_item_get_item (list_item);
  KankyoAlarmCell *cell = KANKYO_ALARM_CELL (gtk_list_item_get_child (list_item));
  const char *text;

  switch ((Column) GPOINTER_TO_INT (user_data))
    {
      case COLUMN_PRIORITY:
        kankyo_alarm_cell_set_priority (cell, item->definition->priority);
        text = kankyo_alarm_priority_label (item->definition->priority);
        break;
      case COLUMN_TIME:
        text = item->time_text;
        break;
      case COLUMN_TAG:
        text = item->definition->tag;
        break;
      case COLUMN_AREA:
        text = item->definition->area;
        break;
      case COLUMN_MESSAGE:
        text = item_message (item);
        break;
      case COLUMN_STATE:
        text = kankyo_alarm_state_label (item->state);
        break;
      case COLUMN_VALUE:
      default:
        text = item->value_text;
        break;
    }
  /* What waits for acknowledgement stands out by weight, not colour only. */
  kankyo_alarm_cell_set_text (cell, text, kankyo_alarm_state_needs_ack (item->state));
}

static void
add_column (KankyoAlarmSummary *self, Column column, const char *title, gboolean expand, int fixed_width)
{
  g_autoptr (GtkListItemFactory) factory = gtk_signal_list_item_factory_new ();
  g_autoptr (GtkColumnViewColumn) view_column = NULL;
  GtkCustomSorter *sorter = gtk_custom_sorter_new (compare_items, GINT_TO_POINTER (column), NULL);

  g_signal_connect (factory, "setup", G_CALLBACK (on_cell_setup), GINT_TO_POINTER (column));
  g_signal_connect (factory, "bind", G_CALLBACK (on_cell_bind), GINT_TO_POINTER (column));
  view_column = gtk_column_view_column_new (title, g_object_ref (factory));
  gtk_column_view_column_set_sorter (view_column, GTK_SORTER (sorter));
  g_object_unref (sorter);
  gtk_column_view_column_set_expand (view_column, expand);
  gtk_column_view_column_set_resizable (view_column, TRUE);
  if (fixed_width > 0)
    gtk_column_view_column_set_fixed_width (view_column, fixed_width);
  gtk_column_view_append_column (self->column_view, view_column);
  self->columns[column] = view_column;
}

/* ---- following the alarm engine ---- */

/* Adds alarms not listed yet. While the list is shorter than the two
 * hundred rows a GTK 4.8 column view keeps, a frame adds only a few: each
 * new row is a dozen widgets made, styled and measured, and a flood must
 * not make them all in one go. Beyond that, rows are reused and all the
 * rest go in with one splice. */
static gboolean grow_later (gpointer user_data);

static void
grow (KankyoAlarmSummary *self)
{
  guint listed = g_list_model_get_n_items (G_LIST_MODEL (self->list));
  guint take;

  /* Items changed in place must be sorted again before any is inserted
   * by the sorter's binary search; the flush does both. */
  if (self->flush_source != 0)
    return;
  take = listed < GROW_UNTIL ? MIN (GROW_STEP, self->unlisted->len) : self->unlisted->len;
  if (take > 0)
    {
      for (guint i = 0; i < take; i++)
        ((KankyoAlarmItem *) g_ptr_array_index (self->unlisted, i))->listed = TRUE;
      g_list_store_splice (self->list, listed, 0, self->unlisted->pdata, take);
      g_ptr_array_remove_range (self->unlisted, 0, take);
    }
  if (self->unlisted->len > 0 && self->grow_source == 0)
    {
      self->grow_source = g_timeout_add (GROW_INTERVAL_MS, grow_later, self);
      g_source_set_name_by_id (self->grow_source, "[kankyo] alarm summary growth");
    }
}

static gboolean
grow_later (gpointer user_data)
{
  KankyoAlarmSummary *self = user_data;

  self->grow_source = 0;
  grow (self);
  return G_SOURCE_REMOVE;
}

/* Shows what changed since the last flush. One changed alarm moves alone;
 * when several did, they may have moved past one another, and the whole
 * list is given again, sorted anew (its items keep their identity, so the
 * selection stays on them). */
static void
flush (KankyoAlarmSummary *self)
{
  g_clear_handle_id (&self->flush_source, g_source_remove);
  for (guint i = 0; i < self->removed->len; i++)
    {
      guint position;

      if (g_list_store_find (self->list, g_ptr_array_index (self->removed, i), &position))
        g_list_store_remove (self->list, position);
    }
  if (self->updated->len == 1)
    {
      guint position;

      if (g_list_store_find (self->list, g_ptr_array_index (self->updated, 0), &position))
        g_list_store_splice (self->list, position, 1, self->updated->pdata, 1);
    }
  else if (self->updated->len > 1)
    {
      g_autoptr (GPtrArray) listed = g_ptr_array_sized_new (g_hash_table_size (self->items));
      GHashTableIter iter;
      gpointer value;

      g_hash_table_iter_init (&iter, self->items);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        if (((KankyoAlarmItem *) value)->listed)
          g_ptr_array_add (listed, value);
      g_list_store_splice (self->list, 0, g_list_model_get_n_items (G_LIST_MODEL (self->list)), listed->pdata,
                           listed->len);
    }
  for (guint i = 0; i < self->updated->len; i++)
    ((KankyoAlarmItem *) g_ptr_array_index (self->updated, i))->queued = FALSE;
  g_ptr_array_set_size (self->updated, 0);
  g_ptr_array_set_size (self->removed, 0);
  grow (self);
}

static gboolean
flush_timeout (gpointer user_data)
{
  KankyoAlarmSummary *self = user_data;

  self->flush_source = 0;
  flush (self);
  return G_SOURCE_REMOVE;
}

/* The items follow the engine at once; the list shows them at most
 * FLUSH_MS later, so a flood's many deliveries redraw it a few times, not
 * at every delivery. */
static void
on_alarms_changed (KankyoAlarmEngine *engine,
                   const KankyoAlarmInfo *changed,
                   guint n_changed,
                   gpointer user_data)
{
  KankyoAlarmSummary *self = user_data;

  for (guint i = 0; i < n_changed; i++)
    {
      const KankyoAlarmInfo *info = &changed[i];
      KankyoAlarmItem *item = g_hash_table_lookup (self->items, info->definition->id);

      if (info->state == KANKYO_ALARM_STATE_NORMAL)
        {
          if (item == NULL)
            continue;
          if (item->listed)
            g_ptr_array_add (self->removed, g_object_ref (item));
          else
            g_ptr_array_remove (self->unlisted, item);
          g_hash_table_remove (self->items, item->definition->id);
          continue;
        }
      if (item == NULL)
        {
          item = alarm_item_new (info->definition);
          g_hash_table_insert (self->items, item->definition->id, item);
          g_ptr_array_add (self->unlisted, item);
        }
      else if (item->listed && !item->queued)
        {
          item->queued = TRUE;
          g_ptr_array_add (self->updated, g_object_ref (item));
        }
      alarm_item_update (item, info, self->store);
    }
  if (self->flush_source == 0)
    {
      self->flush_source = g_timeout_add (FLUSH_MS, flush_timeout, self);
      g_source_set_name_by_id (self->flush_source, "[kankyo] alarm summary flush");
    }
}

static void
update_count (KankyoAlarmSummary *self)
{
  guint all = g_list_model_get_n_items (G_LIST_MODEL (self->list));
  guint shown = g_list_model_get_n_items (G_LIST_MODEL (self->filtered));
  g_autofree char *text = NULL;

  if (shown == all)
    text = g_strdup_printf (ngettext ("%u alarm", "%u alarms", all), all);
  else
    /* Translators: alarms the filters show, of all alarms listed */
    text = g_strdup_printf (ngettext ("%u of %u alarm shown", "%u of %u alarms shown", all), shown, all);
  gtk_label_set_text (self->count_label, text);
}

static void
on_sorted_changed (GListModel *model, guint position, guint removed, guint added, gpointer user_data)
{
  KankyoAlarmSummary *self = user_data;

  update_count (self);
  update_actions (self);
}

/* ---- selection, details, actions ---- */

static GPtrArray *
selected_items (KankyoAlarmSummary *self)
{
  GPtrArray *items = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GtkBitset) bits = gtk_selection_model_get_selection (GTK_SELECTION_MODEL (self->selection));
  GtkBitsetIter iter;
  guint position;

  for (gboolean ok = gtk_bitset_iter_init_first (&iter, bits, &position); ok;
       ok = gtk_bitset_iter_next (&iter, &position))
    g_ptr_array_add (items, g_list_model_get_item (G_LIST_MODEL (self->selection), position));
  return items;
}

static void
show_details (KankyoAlarmSummary *self, GPtrArray *selected)
{
  KankyoAlarmItem *item;
  g_autoptr (GString) details = NULL;
  g_autofree char *since = NULL;

  if (selected->len != 1)
    {
      g_autofree char *text = NULL;

      if (selected->len == 0)
        text = g_strdup (_ ("Select an alarm to see its details and guidance."));
      else
        text = g_strdup_printf (ngettext ("%u alarm selected.", "%u alarms selected.", selected->len),
                                selected->len);
      gtk_label_set_text (self->details_label, text);
      gtk_label_set_text (self->guidance_label, "");
      gtk_widget_set_sensitive (self->display_button, FALSE);
      return;
    }
  item = g_ptr_array_index (selected, 0);
  since = kankyo_alarm_format_time (item->state_time, TRUE);
  details = g_string_new (NULL);
  /* Translators: the selected alarm: its message, its priority, its state and since when */
  g_string_append_printf (details, _ ("%s — %s priority, %s since %s"), item_message (item),
                          kankyo_alarm_priority_label (item->definition->priority),
                          kankyo_alarm_state_label (item->state), since);
  g_string_append_c (details, '\n');
  /* Translators: where the selected alarm comes from: alarm id, tag, device and area */
  g_string_append_printf (details, _ ("Alarm %s on tag %s of device %s, area %s"), item->definition->id,
                          item->definition->tag ? item->definition->tag : "—",
                          item->definition->device ? item->definition->device : "—",
                          item->definition->area ? item->definition->area : "—");
  if (item->state == KANKYO_ALARM_STATE_SHELVED)
    {
      g_autofree char *until = kankyo_alarm_format_time (item->shelved_until, TRUE);

      g_string_append_c (details, '\n');
      /* Translators: who shelved the selected alarm, until when, and why */
      g_string_append_printf (details, _ ("Shelved by %s until %s: %s"),
                              item->shelved_by ? item->shelved_by : "?", until,
                              item->shelve_reason ? item->shelve_reason : "");
    }
  gtk_label_set_text (self->details_label, details->str);
  if (item->definition->guidance != NULL && *item->definition->guidance != '\0')
    {
      g_autofree char *guidance = g_strdup_printf (_ ("Guidance: %s"), item->definition->guidance);

      gtk_label_set_text (self->guidance_label, guidance);
    }
  else
    gtk_label_set_text (self->guidance_label, _ ("No guidance is written for this alarm."));
  gtk_widget_set_sensitive (self->display_button,
                            gtk_window_get_transient_for (GTK_WINDOW (self)) != NULL
                                && (item->definition->display != NULL || item->definition->area != NULL));
}

static void
update_actions (KankyoAlarmSummary *self)
{
  g_autoptr (GPtrArray) selected = selected_items (self);
  gboolean can_ack = FALSE, can_shelve = FALSE, can_unshelve = FALSE, can_reset = FALSE, can_ack_all = FALSE;
  gboolean idle = self->busy == 0 && live_alarms (self) != NULL;
  guint shown = g_list_model_get_n_items (G_LIST_MODEL (self->sorted));

  for (guint i = 0; i < selected->len; i++)
    {
      KankyoAlarmItem *item = g_ptr_array_index (selected, i);

      can_ack = can_ack || kankyo_alarm_state_needs_ack (item->state);
      can_shelve = can_shelve || kankyo_alarm_state_is_annunciated (item->state);
      can_unshelve = can_unshelve || item->state == KANKYO_ALARM_STATE_SHELVED;
      can_reset = can_reset || item->state == KANKYO_ALARM_STATE_LATCHED;
    }
  for (guint i = 0; i < shown && !can_ack_all; i++)
    {
      g_autoptr (KankyoAlarmItem) item = g_list_model_get_item (G_LIST_MODEL (self->sorted), i);

      can_ack_all = kankyo_alarm_state_needs_ack (item->state);
    }
  gtk_widget_set_sensitive (self->ack_button, idle && can_ack);
  gtk_widget_set_sensitive (self->ack_all_button, idle && can_ack_all);
  gtk_widget_set_sensitive (self->shelve_button, idle && can_shelve);
  gtk_widget_set_sensitive (self->unshelve_button, idle && can_unshelve);
  gtk_widget_set_sensitive (self->reset_button, idle && can_reset);
  show_details (self, selected);
}

static void
on_selection_changed (GtkSelectionModel *model, guint position, guint n_items, gpointer user_data)
{
  update_actions (user_data);
}

typedef struct
{
  KankyoAlarmSummary *self;
  KankyoAlarmAction action;
} ActJob;

static void
on_act_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  ActJob *job = user_data;
  g_autoptr (KankyoAlarmSummary) self = job->self;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  guint n_done = 0;
  gboolean ok = kankyo_alarm_engine_act_finish (self->alarms, result, &n_done, &error);

  text = describe_result (job->action, n_done, 0, error);
  g_free (job);
  self->busy--;
  if (self->busy == 0)
    gtk_spinner_stop (self->spinner);
  summary_show_result (self, text, !ok);
  update_actions (self);
}

/* Sends @action for @items (those it applies to) with the login name. */
static void
act_on (KankyoAlarmSummary *self, KankyoAlarmAction action, GPtrArray *items)
{
  g_autoptr (GPtrArray) ids = g_ptr_array_new ();
  g_autofree char *busy = NULL;
  ActJob *job;

  for (guint i = 0; i < items->len; i++)
    {
      KankyoAlarmItem *item = g_ptr_array_index (items, i);
      gboolean applies = action == KANKYO_ALARM_ACTION_ACK        ? kankyo_alarm_state_needs_ack (item->state)
                         : action == KANKYO_ALARM_ACTION_UNSHELVE ? item->state == KANKYO_ALARM_STATE_SHELVED
                         : action == KANKYO_ALARM_ACTION_RESET    ? item->state == KANKYO_ALARM_STATE_LATCHED
                                                                  : TRUE;

      if (applies)
        g_ptr_array_add (ids, item->definition->id);
    }
  if (ids->len == 0 || live_alarms (self) == NULL)
    return;
  switch (action)
    {
      case KANKYO_ALARM_ACTION_ACK:
        busy = g_strdup_printf (ngettext ("Acknowledging %u alarm…", "Acknowledging %u alarms…", ids->len),
                                ids->len);
        break;
      case KANKYO_ALARM_ACTION_UNSHELVE:
        busy = g_strdup_printf (ngettext ("Unshelving %u alarm…", "Unshelving %u alarms…", ids->len),
                                ids->len);
        break;
      case KANKYO_ALARM_ACTION_RESET:
      default:
        busy = g_strdup_printf (ngettext ("Resetting %u alarm…", "Resetting %u alarms…", ids->len), ids->len);
        break;
    }
  g_ptr_array_add (ids, NULL);
  summary_show_result (self, busy, FALSE);
  self->busy++;
  gtk_spinner_start (self->spinner);
  update_actions (self);

  job = g_new0 (ActJob, 1);
  job->self = g_object_ref (self);
  job->action = action;
  kankyo_alarm_engine_act_async (self->alarms, action, (const char *const *) ids->pdata, g_get_user_name (),
                                 NULL, 0, NULL, on_act_done, job);
}

static void
on_ack_clicked (GtkButton *button, gpointer user_data)
{
  KankyoAlarmSummary *self = user_data;
  g_autoptr (GPtrArray) selected = selected_items (self);

  act_on (self, KANKYO_ALARM_ACTION_ACK, selected);
}

static void
on_ack_all_clicked (GtkButton *button, gpointer user_data)
{
  KankyoAlarmSummary *self = user_data;
  g_autoptr (GPtrArray) shown = g_ptr_array_new_with_free_func (g_object_unref);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->sorted));

  for (guint i = 0; i < n; i++)
    g_ptr_array_add (shown, g_list_model_get_item (G_LIST_MODEL (self->sorted), i));
  act_on (self, KANKYO_ALARM_ACTION_ACK, shown);
}

static void
on_unshelve_clicked (GtkButton *button, gpointer user_data)
{
  KankyoAlarmSummary *self = user_data;
  g_autoptr (GPtrArray) selected = selected_items (self);

  act_on (self, KANKYO_ALARM_ACTION_UNSHELVE, selected);
}

static void
on_reset_clicked (GtkButton *button, gpointer user_data)
{
  KankyoAlarmSummary *self = user_data;
  g_autoptr (GPtrArray) selected = selected_items (self);

  act_on (self, KANKYO_ALARM_ACTION_RESET, selected);
}

static void
on_shelve_clicked_summary (GtkButton *button, gpointer user_data)
{
  KankyoAlarmSummary *self = user_data;
  g_autoptr (GPtrArray) selected = selected_items (self);
  g_autoptr (GStrvBuilder) ids = g_strv_builder_new ();
  g_autofree char *what = NULL;
  KankyoAlarmItem *first = NULL;
  guint n = 0;

  if (live_alarms (self) == NULL)
    return;
  for (guint i = 0; i < selected->len; i++)
    {
      KankyoAlarmItem *item = g_ptr_array_index (selected, i);

      if (!kankyo_alarm_state_is_annunciated (item->state))
        continue;
      g_strv_builder_add (ids, item->definition->id);
      first = first != NULL ? first : item;
      n++;
    }
  if (n == 0)
    return;
  if (n == 1)
    /* Translators: the alarm to shelve: its message and id */
    what = g_strdup_printf (_ ("Shelve “%s” (%s)"), item_message (first), first->definition->id);
  else
    what = g_strdup_printf (ngettext ("Shelve %u alarm", "Shelve %u alarms", n), n);
  gtk_window_present (
      GTK_WINDOW (shelve_dialog_new (self, self->engine, self->alarms, g_strv_builder_end (ids), what)));
}

static void
on_display_clicked (GtkButton *button, gpointer user_data)
{
  KankyoAlarmSummary *self = user_data;
  g_autoptr (GPtrArray) selected = selected_items (self);
  GtkWindow *parent = gtk_window_get_transient_for (GTK_WINDOW (self));
  KankyoAlarmItem *item;
  const char *area;

  if (selected->len != 1 || parent == NULL)
    return;
  item = g_ptr_array_index (selected, 0);
  area = item->definition->display != NULL ? item->definition->display : item->definition->area;
  if (area != NULL && gtk_widget_activate_action (GTK_WIDGET (parent), "nav.area", "s", area))
    gtk_window_present (parent);
}

/* ---- GObject ---- */

static void
kankyo_alarm_summary_dispose (GObject *object)
{
  KankyoAlarmSummary *self = KANKYO_ALARM_SUMMARY (object);

  if (self->subscription != 0 && live_alarms (self) != NULL)
    kankyo_alarm_engine_unsubscribe (self->alarms, self->subscription);
  self->subscription = 0;
  /* The column view goes later than this window, and resorts its model
   * when its columns go: nobody is left here to hear of it. */
  if (self->sorted != NULL)
    g_signal_handlers_disconnect_by_data (self->sorted, self);
  if (self->selection != NULL)
    g_signal_handlers_disconnect_by_data (self->selection, self);
  gtk_widget_dispose_template (GTK_WIDGET (self), KANKYO_TYPE_ALARM_SUMMARY);
  g_clear_object (&self->selection);
  g_clear_object (&self->sorted);
  g_clear_object (&self->filtered);
  g_clear_object (&self->filter);
  g_clear_object (&self->list);
  g_clear_handle_id (&self->grow_source, g_source_remove);
  g_clear_handle_id (&self->flush_source, g_source_remove);
  g_clear_pointer (&self->unlisted, g_ptr_array_unref);
  g_clear_pointer (&self->updated, g_ptr_array_unref);
  g_clear_pointer (&self->removed, g_ptr_array_unref);
  g_clear_pointer (&self->items, g_hash_table_unref);
  G_OBJECT_CLASS (kankyo_alarm_summary_parent_class)->dispose (object);
}

static void
kankyo_alarm_summary_finalize (GObject *object)
{
  KankyoAlarmSummary *self = KANKYO_ALARM_SUMMARY (object);

  g_clear_pointer (&self->area_names, g_ptr_array_unref);
  g_clear_pointer (&self->store, kankyo_tag_store_unref);
  g_clear_object (&self->engine);
  g_free (self->search);
  G_OBJECT_CLASS (kankyo_alarm_summary_parent_class)->finalize (object);
}

static gboolean
focus_search (GtkWidget *widget, GVariant *args, gpointer user_data)
{
  return gtk_widget_grab_focus (GTK_WIDGET (KANKYO_ALARM_SUMMARY (widget)->search_entry));
}

static void
kankyo_alarm_summary_class_init (KankyoAlarmSummaryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kankyo_alarm_summary_dispose;
  object_class->finalize = kankyo_alarm_summary_finalize;

  gtk_widget_class_set_template_from_resource (widget_class, "/org/kankyo/Kankyo/kankyo-alarm-summary.ui");
  gtk_widget_class_bind_template_child (widget_class, KankyoAlarmSummary, count_label);
  gtk_widget_class_bind_template_child (widget_class, KankyoAlarmSummary, search_entry);
  gtk_widget_class_bind_template_child (widget_class, KankyoAlarmSummary, area_dropdown);
  gtk_widget_class_bind_template_child (widget_class, KankyoAlarmSummary, priority_dropdown);
  gtk_widget_class_bind_template_child (widget_class, KankyoAlarmSummary, state_dropdown);
  gtk_widget_class_bind_template_child (widget_class, KankyoAlarmSummary, column_view);
  gtk_widget_class_bind_template_child (widget_class, KankyoAlarmSummary, details_label);
  gtk_widget_class_bind_template_child (widget_class, KankyoAlarmSummary, guidance_label);
  gtk_widget_class_bind_template_child (widget_class, KankyoAlarmSummary, display_button);
  gtk_widget_class_bind_template_child (widget_class, KankyoAlarmSummary, ack_button);
  gtk_widget_class_bind_template_child (widget_class, KankyoAlarmSummary, ack_all_button);
  gtk_widget_class_bind_template_child (widget_class, KankyoAlarmSummary, shelve_button);
  gtk_widget_class_bind_template_child (widget_class, KankyoAlarmSummary, unshelve_button);
  gtk_widget_class_bind_template_child (widget_class, KankyoAlarmSummary, reset_button);
  gtk_widget_class_bind_template_child (widget_class, KankyoAlarmSummary, spinner);
  gtk_widget_class_bind_template_child (widget_class, KankyoAlarmSummary, status_label);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_w, GDK_CONTROL_MASK, "window.close", NULL);
  gtk_widget_class_add_binding (widget_class, GDK_KEY_f, GDK_CONTROL_MASK, focus_search, NULL);
}

static void
kankyo_alarm_summary_init (KankyoAlarmSummary *self)
{
  GtkSorter *sorter;

  gtk_widget_init_template (GTK_WIDGET (self));

  self->items = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_object_unref);
  self->unlisted = g_ptr_array_new ();
  self->updated = g_ptr_array_new_with_free_func (g_object_unref);
  self->removed = g_ptr_array_new_with_free_func (g_object_unref);
  self->list = g_list_store_new (KANKYO_TYPE_ALARM_ITEM);
  self->filter = gtk_custom_filter_new (item_matches, self, NULL);
  self->filtered = gtk_filter_list_model_new (g_object_ref (G_LIST_MODEL (self->list)),
                                              g_object_ref (GTK_FILTER (self->filter)));

  add_column (self, COLUMN_PRIORITY, C_ ("alarm column", "Priority"), FALSE, 110);
  add_column (self, COLUMN_TIME, C_ ("alarm column", "Time"), FALSE, 185);
  add_column (self, COLUMN_TAG, C_ ("alarm column", "Tag"), FALSE, 160);
  add_column (self, COLUMN_AREA, C_ ("alarm column", "Area"), FALSE, 80);
  add_column (self, COLUMN_MESSAGE, C_ ("alarm column", "Message"), TRUE, -1);
  add_column (self, COLUMN_STATE, C_ ("alarm column", "State"), FALSE, 180);
  add_column (self, COLUMN_VALUE, C_ ("alarm column", "Value"), FALSE, 90);

  sorter = gtk_column_view_get_sorter (self->column_view);
  self->sorted
      = gtk_sort_list_model_new (g_object_ref (G_LIST_MODEL (self->filtered)), g_object_ref (sorter));
  self->selection = gtk_multi_selection_new (g_object_ref (G_LIST_MODEL (self->sorted)));
  gtk_column_view_set_model (self->column_view, GTK_SELECTION_MODEL (self->selection));
  /* Highest priority first, newest first within a priority. */
  gtk_column_view_sort_by_column (self->column_view, self->columns[COLUMN_TIME], GTK_SORT_DESCENDING);
  gtk_column_view_sort_by_column (self->column_view, self->columns[COLUMN_PRIORITY], GTK_SORT_DESCENDING);

  g_signal_connect_object (self->sorted, "items-changed", G_CALLBACK (on_sorted_changed), self, 0);
  g_signal_connect_object (self->selection, "selection-changed", G_CALLBACK (on_selection_changed), self, 0);
  g_signal_connect_object (self->search_entry, "search-changed", G_CALLBACK (on_search_changed), self, 0);
  g_signal_connect_object (self->area_dropdown, "notify::selected", G_CALLBACK (on_dropdown_changed), self,
                           0);
  g_signal_connect_object (self->priority_dropdown, "notify::selected", G_CALLBACK (on_dropdown_changed),
                           self, 0);
  g_signal_connect_object (self->state_dropdown, "notify::selected", G_CALLBACK (on_dropdown_changed), self,
                           0);
  g_signal_connect_object (self->ack_button, "clicked", G_CALLBACK (on_ack_clicked), self, 0);
  g_signal_connect_object (self->ack_all_button, "clicked", G_CALLBACK (on_ack_all_clicked), self, 0);
  g_signal_connect_object (self->shelve_button, "clicked", G_CALLBACK (on_shelve_clicked_summary), self, 0);
  g_signal_connect_object (self->unshelve_button, "clicked", G_CALLBACK (on_unshelve_clicked), self, 0);
  g_signal_connect_object (self->reset_button, "clicked", G_CALLBACK (on_reset_clicked), self, 0);
  g_signal_connect_object (self->display_button, "clicked", G_CALLBACK (on_display_clicked), self, 0);
}

KankyoAlarmSummary *
kankyo_alarm_summary_new (GtkWindow *parent, KankyoEngine *engine)
{
  KankyoAlarmSummary *self;
  KankyoProject *project;
  g_autoptr (GtkStringList) areas = gtk_string_list_new (NULL);

  g_return_val_if_fail (parent == NULL || GTK_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (KANKYO_IS_ENGINE (engine), NULL);

  self = g_object_new (KANKYO_TYPE_ALARM_SUMMARY, "transient-for", parent, "destroy-with-parent", TRUE, NULL);
  if (parent != NULL)
    gtk_window_set_application (GTK_WINDOW (self), gtk_window_get_application (parent));
  self->engine = g_object_ref (engine);
  self->store = kankyo_tag_store_ref (kankyo_engine_get_tag_store (engine));
  self->alarms = kankyo_engine_get_alarms (engine);

  project = kankyo_engine_get_project (engine);
  self->area_names = g_ptr_array_new_with_free_func (g_free);
  gtk_string_list_append (areas, _ ("All areas"));
  for (guint i = 0; i < project->areas->len; i++)
    {
      KankyoAreaConfig *area = g_ptr_array_index (project->areas, i);

      gtk_string_list_append (areas, area->label != NULL ? area->label : area->name);
      g_ptr_array_add (self->area_names, g_strdup (area->name));
    }
  gtk_drop_down_set_model (self->area_dropdown, G_LIST_MODEL (areas));
  gtk_drop_down_set_selected (self->area_dropdown, 0);

  if (self->alarms != NULL)
    {
      /* The list is whole at once (an alarm may be selected right away);
       * the subscription's first delivery brings the same again. */
      g_autoptr (GArray) active = kankyo_alarm_engine_list_active (self->alarms);

      on_alarms_changed (self->alarms, (const KankyoAlarmInfo *) active->data, active->len, self);
      flush (self);
      self->subscription = kankyo_alarm_engine_subscribe (self->alarms, NULL, on_alarms_changed, self, NULL);
    }
  else
    summary_show_result (self, _ ("Alarms are not available: the plant is not running."), TRUE);
  update_count (self);
  update_actions (self);
  return self;
}

static GtkWidget *
find_list_view (GtkWidget *widget)
{
  if (GTK_IS_LIST_VIEW (widget))
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_list_view (child);

      if (found != NULL)
        return found;
    }
  return NULL;
}

gboolean
kankyo_alarm_summary_select (KankyoAlarmSummary *self, const char *id)
{
  KankyoAlarmItem *item;
  GtkWidget *list_view;
  guint n;

  g_return_val_if_fail (KANKYO_IS_ALARM_SUMMARY (self), FALSE);
  g_return_val_if_fail (id != NULL, FALSE);

  item = g_hash_table_lookup (self->items, id);
  if (item == NULL)
    return FALSE;
  flush (self);
  if (!item->listed)
    {
      /* Everything waiting goes in now, so the alarm has its row. */
      for (guint i = 0; i < self->unlisted->len; i++)
        ((KankyoAlarmItem *) g_ptr_array_index (self->unlisted, i))->listed = TRUE;
      g_list_store_splice (self->list, g_list_model_get_n_items (G_LIST_MODEL (self->list)), 0,
                           self->unlisted->pdata, self->unlisted->len);
      g_ptr_array_set_size (self->unlisted, 0);
    }
  if (!item_matches (item, self))
    {
      gtk_editable_set_text (GTK_EDITABLE (self->search_entry), "");
      g_clear_pointer (&self->search, g_free);
      gtk_drop_down_set_selected (self->area_dropdown, 0);
      gtk_drop_down_set_selected (self->priority_dropdown, 0);
      gtk_drop_down_set_selected (self->state_dropdown, 0);
      refilter (self);
    }
  n = g_list_model_get_n_items (G_LIST_MODEL (self->sorted));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (KankyoAlarmItem) at = g_list_model_get_item (G_LIST_MODEL (self->sorted), i);

      if (at != item)
        continue;
      gtk_selection_model_select_item (GTK_SELECTION_MODEL (self->selection), i, TRUE);
      list_view = find_list_view (GTK_WIDGET (self->column_view));
      if (list_view != NULL)
        gtk_widget_activate_action (list_view, "list.scroll-to-item", "u", i);
      return TRUE;
    }
  return FALSE;
}

guint
kankyo_alarm_summary_get_n_alarms (KankyoAlarmSummary *self)
{
  g_return_val_if_fail (KANKYO_IS_ALARM_SUMMARY (self), 0);
  return g_list_model_get_n_items (G_LIST_MODEL (self->list));
}

guint
kankyo_alarm_summary_get_n_shown (KankyoAlarmSummary *self)
{
  g_return_val_if_fail (KANKYO_IS_ALARM_SUMMARY (self), 0);
  return g_list_model_get_n_items (G_LIST_MODEL (self->sorted));
}

gboolean
kankyo_alarm_summary_is_busy (KankyoAlarmSummary *self)
{
  g_return_val_if_fail (KANKYO_IS_ALARM_SUMMARY (self), FALSE);
  return self->busy > 0;
}
