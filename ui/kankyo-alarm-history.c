/* kankyo-alarm-history.c: the alarm journal search and the performance report.
 *
 * Every search, export and computation runs in a GTask thread on a
 * read-only connection of its own to alarms.db, which sits beside the
 * audit trail in the engine's data folder: WAL lets it read while the alarm
 * engine writes, so a long export never holds up the plant's records, and
 * the window does not depend on the engine's own journal, which closes when
 * the engine stops. A read-only connection sees what the engine has
 * committed: operator actions at once, condition changes within about a
 * second (the engine's batch).
 *
 * A search returns at most the journal's default limit of records, newest
 * first, and says so when it hit the limit; the CSV export writes every
 * record the same fields find. The export counts the bytes it writes and
 * the window shows them, since the number of records is not known before
 * the end; Cancel stops it and removes the half-written file. The window
 * holds what threads return only while it lives: a destroyed window cancels
 * its work and drops the answers.
 */
#include "config.h"

#include "kankyo-alarm-history.h"

#include <glib/gi18n.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kankyo-alarm-banner.h"
#include "kankyo-ui-time.h"

#define MAX_TABLE_ROWS 200
#define MAX_FIELD_CHARS 256
#define PROGRESS_INTERVAL_MS 150
#define GOOD_RATE_PER_HOUR 6.0
#define MANAGEABLE_RATE_PER_HOUR 12.0

static const gint64 journal_spans_us[] = {
  G_TIME_SPAN_HOUR,
  24 * G_TIME_SPAN_HOUR,
  7 * G_TIME_SPAN_DAY,
  30 * G_TIME_SPAN_DAY,
};

static const gint64 performance_spans_us[] = {
  24 * G_TIME_SPAN_HOUR,
  7 * G_TIME_SPAN_DAY,
  30 * G_TIME_SPAN_DAY,
};

/* The events and states the search offers, after "any". */
static const KankyoAlarmEvent searchable_events[] = {
  KANKYO_ALARM_EVENT_ACTIVATE,
  KANKYO_ALARM_EVENT_CLEAR,
  KANKYO_ALARM_EVENT_ACK,
  KANKYO_ALARM_EVENT_SHELVE,
  KANKYO_ALARM_EVENT_UNSHELVE,
  KANKYO_ALARM_EVENT_SHELVE_EXPIRED,
  KANKYO_ALARM_EVENT_SUPPRESS,
  KANKYO_ALARM_EVENT_UNSUPPRESS,
  KANKYO_ALARM_EVENT_REMOVE_FROM_SERVICE,
  KANKYO_ALARM_EVENT_RETURN_TO_SERVICE,
  KANKYO_ALARM_EVENT_RESET,
};

static const KankyoAlarmState searchable_states[] = {
  KANKYO_ALARM_STATE_UNACK,      KANKYO_ALARM_STATE_ACKED,          KANKYO_ALARM_STATE_RTN_UNACK,
  KANKYO_ALARM_STATE_LATCHED,    KANKYO_ALARM_STATE_NORMAL,         KANKYO_ALARM_STATE_SHELVED,
  KANKYO_ALARM_STATE_SUPPRESSED, KANKYO_ALARM_STATE_OUT_OF_SERVICE,
};

/* ---- a stream that counts what goes through it ---- */

#define KANKYO_TYPE_COUNTING_STREAM (kankyo_counting_stream_get_type ())
G_DECLARE_FINAL_TYPE (
    KankyoCountingStream, kankyo_counting_stream, KANKYO, COUNTING_STREAM, GFilterOutputStream)

struct _KankyoCountingStream
{
  GFilterOutputStream parent_instance;

  gint64 *count; /* bytes written; read by the main thread, so changed atomically */
};

G_DEFINE_FINAL_TYPE (KankyoCountingStream, kankyo_counting_stream, G_TYPE_FILTER_OUTPUT_STREAM)

static gssize
kankyo_counting_stream_write (
    GOutputStream *stream, const void *buffer, gsize count, GCancellable *cancellable, GError **error)
{
  KankyoCountingStream *self = KANKYO_COUNTING_STREAM (stream);
  gssize written = G_OUTPUT_STREAM_CLASS (kankyo_counting_stream_parent_class)
                       ->write_fn (stream, buffer, count, cancellable, error);

  if (written > 0)
    __atomic_add_fetch (self->count, (gint64) written, __ATOMIC_RELAXED);
  return written;
}

static void
kankyo_counting_stream_class_init (KankyoCountingStreamClass *klass)
{
  G_OUTPUT_STREAM_CLASS (klass)->write_fn = kankyo_counting_stream_write;
}

static void
kankyo_counting_stream_init (KankyoCountingStream *self)
{
}

/* ---- one record in the list ---- */

#define KANKYO_TYPE_JOURNAL_ITEM (kankyo_journal_item_get_type ())
G_DECLARE_FINAL_TYPE (KankyoJournalItem, kankyo_journal_item, KANKYO, JOURNAL_ITEM, GObject)

struct _KankyoJournalItem
{
  GObject parent_instance;

  KankyoAlarmRecord record;
  char *time_text;
  char *value_text; /* made when first shown */
};

G_DEFINE_FINAL_TYPE (KankyoJournalItem, kankyo_journal_item, G_TYPE_OBJECT)

static void
kankyo_journal_item_finalize (GObject *object)
{
  KankyoJournalItem *self = KANKYO_JOURNAL_ITEM (object);

  kankyo_alarm_record_clear (&self->record);
  g_free (self->time_text);
  g_free (self->value_text);
  G_OBJECT_CLASS (kankyo_journal_item_parent_class)->finalize (object);
}

static void
kankyo_journal_item_class_init (KankyoJournalItemClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = kankyo_journal_item_finalize;
}

static void
kankyo_journal_item_init (KankyoJournalItem *self)
{
}

/* ---- times typed and shown ---- */

static void
set_message (GtkLabel *label, const char *text, gboolean is_error)
{
  gtk_label_set_text (label, text != NULL ? text : "");
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

/* ---- the window ---- */

typedef enum
{
  COLUMN_TIME,
  COLUMN_EVENT,
  COLUMN_PRIORITY,
  COLUMN_ALARM,
  COLUMN_AREA,
  COLUMN_MESSAGE,
  COLUMN_STATE,
  COLUMN_VALUE,
  COLUMN_USER,
  COLUMN_REASON,
} Column;

typedef struct
{
  KankyoAlarmPerformance *performance;
} PerformanceBox;

static void
performance_box_clear (PerformanceBox *box)
{
  g_clear_pointer (&box->performance, kankyo_alarm_performance_free);
}

static void
performance_box_release (PerformanceBox *box)
{
  g_atomic_rc_box_release_full (box, (GDestroyNotify) performance_box_clear);
}

struct _KankyoAlarmHistory
{
  GtkWindow parent_instance;

  /* Template widgets */
  GtkStack *pages;
  GtkDropDown *journal_period;
  GtkEntry *journal_from;
  GtkEntry *journal_to;
  GtkEntry *tag_entry;
  GtkEntry *user_entry;
  GtkDropDown *area_dropdown;
  GtkDropDown *priority_dropdown;
  GtkDropDown *event_dropdown;
  GtkDropDown *state_dropdown;
  GtkWidget *search_button;
  GtkSpinner *search_spinner;
  GtkLabel *journal_message;
  GtkColumnView *journal_view;
  GtkWidget *csv_button;
  GtkRevealer *csv_revealer;
  GtkProgressBar *csv_progress;
  GtkLabel *csv_progress_label;
  GtkWidget *csv_cancel_button;
  GtkDropDown *perf_period;
  GtkEntry *perf_from;
  GtkEntry *perf_to;
  GtkWidget *compute_button;
  GtkSpinner *perf_spinner;
  GtkLabel *perf_message;
  GtkWidget *pdf_button;
  GtkBox *perf_box;

  KankyoEngine *engine;
  KankyoTagStore *store;
  char *journal_path;
  char *plant;
  GPtrArray *area_names; /* the area dropdown's entries after "All areas" */
  GListStore *results;

  GCancellable *cancellable; /* everything, at dispose */
  GCancellable *search_cancellable;
  GCancellable *export_cancellable;
  gboolean filling_entries; /* a preset writes the time entries */
  gboolean disposed;

  gint64 export_bytes; /* g_atomic, from the export's thread */
  guint export_timer;
  gboolean computing;
  gboolean writing_pdf;
  PerformanceBox *performance; /* shown; NULL before the first */
};

G_DEFINE_FINAL_TYPE (KankyoAlarmHistory, kankyo_alarm_history, GTK_TYPE_WINDOW)

/* ---- journal: the query the fields describe ---- */

typedef struct
{
  char *path;
  KankyoAlarmQuery query;
  char *tag;
  char *area;
  char *user;
  GFile *file; /* exports only */
} QueryJob;

static void
query_job_free (QueryJob *job)
{
  g_free (job->path);
  g_free (job->tag);
  g_free (job->area);
  g_free (job->user);
  g_clear_object (&job->file);
  g_free (job);
}

static char *
field_text (GtkEntry *entry)
{
  g_autofree char *text = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (entry))));

  return *text != '\0' ? g_steal_pointer (&text) : NULL;
}

/* The range of a preset (to 0: open, up to now and on) or of the typed
 * custom range; FALSE with a message for people when it is not usable. */
static gboolean
read_range (GtkDropDown *period,
            const gint64 *spans,
            guint n_spans,
            GtkEntry *from_entry,
            GtkEntry *to_entry,
            gint64 *ret_from,
            gint64 *ret_to,
            const char **ret_problem)
{
  guint preset = gtk_drop_down_get_selected (period);
  gint64 from = 0, to = 0;
  GtkEntry *wrong = to_entry;

  if (preset < n_spans)
    {
      *ret_from = g_get_real_time () - spans[preset];
      *ret_to = 0;
      return TRUE;
    }
  if (!kankyo_ui_parse_local (gtk_editable_get_text (GTK_EDITABLE (from_entry)), &from))
    {
      *ret_problem = _ ("Enter the start as a date and time such as 2024-05-03 14:30.");
      wrong = from_entry;
    }
  else if (!kankyo_ui_parse_local (gtk_editable_get_text (GTK_EDITABLE (to_entry)), &to))
    *ret_problem = _ ("Enter the end as a date and time such as 2024-05-03 18:00.");
  else if (to <= from)
    *ret_problem = _ ("The end must be after the start.");
  else
    {
      *ret_from = from;
      *ret_to = to;
      return TRUE;
    }
  gtk_widget_add_css_class (GTK_WIDGET (wrong), "error");
  return FALSE;
}

static QueryJob *
read_query (KankyoAlarmHistory *self, const char **ret_problem)
{
  QueryJob *job = g_new0 (QueryJob, 1);
  guint area = gtk_drop_down_get_selected (self->area_dropdown);
  guint priority = gtk_drop_down_get_selected (self->priority_dropdown);
  guint event = gtk_drop_down_get_selected (self->event_dropdown);
  guint state = gtk_drop_down_get_selected (self->state_dropdown);

  gtk_widget_remove_css_class (GTK_WIDGET (self->journal_from), "error");
  gtk_widget_remove_css_class (GTK_WIDGET (self->journal_to), "error");
  kankyo_alarm_query_init (&job->query);
  if (!read_range (self->journal_period, journal_spans_us, G_N_ELEMENTS (journal_spans_us),
                   self->journal_from, self->journal_to, &job->query.from, &job->query.to, ret_problem))
    {
      query_job_free (job);
      return NULL;
    }
  job->path = g_strdup (self->journal_path);
  job->tag = field_text (self->tag_entry);
  job->user = field_text (self->user_entry);
  if (area != GTK_INVALID_LIST_POSITION && area > 0 && area <= self->area_names->len)
    job->area = g_strdup (g_ptr_array_index (self->area_names, area - 1));
  job->query.tag = job->tag;
  job->query.area = job->area;
  job->query.user = job->user;
  job->query.min_priority = priority != GTK_INVALID_LIST_POSITION && priority > 0 ? (int) priority : -1;
  job->query.event
      = event != GTK_INVALID_LIST_POSITION && event > 0 && event <= G_N_ELEMENTS (searchable_events)
            ? (int) searchable_events[event - 1]
            : -1;
  if (state != GTK_INVALID_LIST_POSITION && state > 0 && state <= G_N_ELEMENTS (searchable_states))
    job->query.states = 1u << searchable_states[state - 1];
  job->query.newest_first = TRUE;
  return job;
}

/* ---- journal: search ---- */

static void
search_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  QueryJob *job = task_data;
  g_autoptr (KankyoAlarmJournal) journal = NULL;
  g_autoptr (GArray) records = NULL;
  g_autoptr (GPtrArray) items = NULL;
  GError *error = NULL;

  journal = kankyo_alarm_journal_open_readonly (job->path, &error);
  if (journal != NULL)
    records = kankyo_alarm_journal_search (journal, &job->query, &error);
  if (records == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  /* The items are made here, so a list of ten thousand costs the main
   * thread one splice. */
  items = g_ptr_array_new_full (records->len, g_object_unref);
  for (guint i = 0; i < records->len && !g_cancellable_is_cancelled (cancellable); i++)
    {
      KankyoJournalItem *item = g_object_new (KANKYO_TYPE_JOURNAL_ITEM, NULL);

      item->record = g_array_index (records, KankyoAlarmRecord, i);
      memset (&g_array_index (records, KankyoAlarmRecord, i), 0, sizeof (KankyoAlarmRecord));
      item->time_text = kankyo_alarm_format_time (item->record.time, TRUE);
      g_ptr_array_add (items, item);
    }
  g_task_return_pointer (task, g_steal_pointer (&items), (GDestroyNotify) g_ptr_array_unref);
}

static void
set_searching (KankyoAlarmHistory *self, gboolean searching)
{
  if (searching)
    gtk_spinner_start (self->search_spinner);
  else
    gtk_spinner_stop (self->search_spinner);
}

static void
on_search_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  KankyoAlarmHistory *self = KANKYO_ALARM_HISTORY (source);
  g_autoptr (GPtrArray) items = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  guint limit = KANKYO_ALARM_JOURNAL_DEFAULT_LIMIT;

  items = g_task_propagate_pointer (G_TASK (result), &error);
  if (self->disposed || g_cancellable_is_cancelled (g_task_get_cancellable (G_TASK (result))))
    return;
  g_clear_object (&self->search_cancellable);
  set_searching (self, FALSE);
  if (items == NULL)
    {
      text = g_strdup_printf (_ ("The journal cannot be searched: %s"), error->message);
      set_message (self->journal_message, text, TRUE);
      return;
    }
  g_list_store_splice (self->results, 0, g_list_model_get_n_items (G_LIST_MODEL (self->results)),
                       items->pdata, items->len);
  if (items->len >= limit)
    /* Translators: %u is the most records a search shows */
    text
        = g_strdup_printf (_ ("Showing the newest %u records. Narrow the search to see older ones, or export "
                              "them all as CSV."),
                           limit);
  else
    text = g_strdup_printf (ngettext ("%u record found.", "%u records found.", items->len), items->len);
  set_message (self->journal_message, text, FALSE);
}

void
kankyo_alarm_history_search (KankyoAlarmHistory *self)
{
  g_autoptr (GTask) task = NULL;
  const char *problem = NULL;
  QueryJob *job;

  g_return_if_fail (KANKYO_IS_ALARM_HISTORY (self));

  job = read_query (self, &problem);
  if (job == NULL)
    {
      set_message (self->journal_message, problem, TRUE);
      return;
    }
  if (self->search_cancellable != NULL)
    g_cancellable_cancel (self->search_cancellable);
  g_clear_object (&self->search_cancellable);
  self->search_cancellable = g_cancellable_new ();
  set_searching (self, TRUE);
  set_message (self->journal_message, _ ("Searching…"), FALSE);
  task = g_task_new (self, self->search_cancellable, on_search_done, NULL);
  g_task_set_source_tag (task, kankyo_alarm_history_search);
  g_task_set_task_data (task, job, (GDestroyNotify) query_job_free);
  g_task_run_in_thread (task, search_thread);
}

static void
on_search_clicked (GtkButton *button, gpointer user_data)
{
  kankyo_alarm_history_search (user_data);
}

static void
on_field_activate (GtkEntry *entry, gpointer user_data)
{
  kankyo_alarm_history_search (user_data);
}

/* ---- journal: CSV export ---- */

static void
export_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  KankyoAlarmHistory *self = source;
  QueryJob *job = task_data;
  g_autofree char *path = g_file_get_path (job->file);
  g_autofree char *part_path = g_strconcat (path, ".part", NULL);
  g_autoptr (GFile) part = g_file_new_for_path (part_path);
  g_autoptr (KankyoAlarmJournal) journal = NULL;
  g_autoptr (GFileOutputStream) file_out = NULL;
  g_autoptr (GOutputStream) out = NULL;
  GError *error = NULL;
  gboolean ok;

  journal = kankyo_alarm_journal_open_readonly (job->path, &error);
  if (journal == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  /* Written beside the file and moved over it when complete, so a failed
   * or cancelled export leaves no half file behind. */
  file_out = g_file_replace (part, NULL, FALSE, G_FILE_CREATE_REPLACE_DESTINATION, cancellable, &error);
  if (file_out == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  out = g_object_new (KANKYO_TYPE_COUNTING_STREAM, "base-stream", file_out, "close-base-stream", TRUE, NULL);
  KANKYO_COUNTING_STREAM (out)->count = &self->export_bytes;
  ok = kankyo_alarm_journal_export_csv (journal, &job->query, out, cancellable, &error);
  ok = g_output_stream_close (out, NULL, ok ? &error : NULL) && ok;
  ok = ok && g_file_move (part, job->file, G_FILE_COPY_OVERWRITE, cancellable, NULL, NULL, &error);
  if (!ok)
    {
      g_file_delete (part, NULL, NULL);
      g_task_return_error (task, error);
      return;
    }
  g_task_return_boolean (task, TRUE);
}

static gboolean
show_export_progress (gpointer user_data)
{
  KankyoAlarmHistory *self = user_data;
  g_autofree char *size = g_format_size ((guint64) __atomic_load_n (&self->export_bytes, __ATOMIC_RELAXED));
  g_autofree char *text = NULL;

  gtk_progress_bar_pulse (self->csv_progress);
  /* Translators: how much of a CSV export is written so far, e.g. "1.2 MB written" */
  text = g_strdup_printf (_ ("%s written"), size);
  gtk_label_set_text (self->csv_progress_label, text);
  return G_SOURCE_CONTINUE;
}

static void
set_exporting (KankyoAlarmHistory *self, gboolean exporting)
{
  gtk_widget_set_sensitive (self->csv_button, !exporting);
  gtk_revealer_set_reveal_child (self->csv_revealer, exporting);
  if (exporting)
    {
      __atomic_store_n (&self->export_bytes, 0, __ATOMIC_RELAXED);
      self->export_timer = g_timeout_add (PROGRESS_INTERVAL_MS, show_export_progress, self);
      show_export_progress (self);
    }
  else
    g_clear_handle_id (&self->export_timer, g_source_remove);
}

static void
on_export_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  KankyoAlarmHistory *self = KANKYO_ALARM_HISTORY (source);
  QueryJob *job = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;
  g_autofree char *name = g_file_get_parse_name (job->file);
  g_autofree char *text = NULL;
  gboolean ok = g_task_propagate_boolean (G_TASK (result), &error);

  if (self->disposed)
    return;
  g_clear_object (&self->export_cancellable);
  set_exporting (self, FALSE);
  if (ok)
    {
      g_autofree char *size
          = g_format_size ((guint64) __atomic_load_n (&self->export_bytes, __ATOMIC_RELAXED));

      /* Translators: the file a CSV export wrote, and its size */
      text = g_strdup_printf (_ ("Exported to %s (%s)."), name, size);
      set_message (self->journal_message, text, FALSE);
    }
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    set_message (self->journal_message, _ ("The export was cancelled; no file was written."), FALSE);
  else
    {
      text = g_strdup_printf (_ ("The export failed: %s"), error->message);
      set_message (self->journal_message, text, TRUE);
    }
}

void
kankyo_alarm_history_export_csv (KankyoAlarmHistory *self, GFile *file)
{
  g_autoptr (GTask) task = NULL;
  const char *problem = NULL;
  QueryJob *job;

  g_return_if_fail (KANKYO_IS_ALARM_HISTORY (self));
  g_return_if_fail (G_IS_FILE (file));

  if (self->export_cancellable != NULL)
    return;
  if (!g_file_is_native (file))
    {
      set_message (self->journal_message, _ ("Choose a file on this computer to export to."), TRUE);
      return;
    }
  job = read_query (self, &problem);
  if (job == NULL)
    {
      set_message (self->journal_message, problem, TRUE);
      return;
    }
  job->file = g_object_ref (file);
  self->export_cancellable = g_cancellable_new ();
  set_exporting (self, TRUE);
  set_message (self->journal_message, _ ("Exporting CSV…"), FALSE);
  task = g_task_new (self, self->export_cancellable, on_export_done, NULL);
  g_task_set_source_tag (task, kankyo_alarm_history_export_csv);
  g_task_set_task_data (task, job, (GDestroyNotify) query_job_free);
  g_task_run_in_thread (task, export_thread);
}

gboolean
kankyo_alarm_history_is_exporting (KankyoAlarmHistory *self)
{
  g_return_val_if_fail (KANKYO_IS_ALARM_HISTORY (self), FALSE);
  return self->export_cancellable != NULL || self->writing_pdf;
}

static void
on_export_cancel_clicked (GtkButton *button, gpointer user_data)
{
  KankyoAlarmHistory *self = user_data;

  if (self->export_cancellable != NULL)
    g_cancellable_cancel (self->export_cancellable);
}

static char *
suggested_name (const char *what, const char *extension)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *stamp = g_date_time_format (now, "%Y%m%d-%H%M");

  return g_strdup_printf ("%s-%s.%s", what, stamp, extension);
}

static void
on_csv_chosen (GtkNativeDialog *dialog, int response, gpointer user_data)
{
  KankyoAlarmHistory *self = user_data;

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));

      if (file != NULL)
        kankyo_alarm_history_export_csv (self, file);
    }
  gtk_native_dialog_destroy (dialog);
  g_object_unref (dialog);
}

static void
choose_file (KankyoAlarmHistory *self, const char *title, const char *name, GCallback on_response)
{
  GtkFileChooserNative *chooser = gtk_file_chooser_native_new (
      title, GTK_WINDOW (self), GTK_FILE_CHOOSER_ACTION_SAVE, _ ("_Export"), _ ("_Cancel"));

  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), name);
  g_signal_connect_object (chooser, "response", on_response, self, 0);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
on_csv_clicked (GtkButton *button, gpointer user_data)
{
  g_autofree char *name = suggested_name ("alarm-journal", "csv");

  choose_file (user_data, _ ("Export the Alarm Journal"), name, G_CALLBACK (on_csv_chosen));
}

/* ---- the range controls ---- */

static void
fill_range (KankyoAlarmHistory *self,
            GtkDropDown *period,
            const gint64 *spans,
            guint n_spans,
            GtkEntry *from_entry,
            GtkEntry *to_entry)
{
  guint preset = gtk_drop_down_get_selected (period);
  gint64 now = g_get_real_time ();
  g_autofree char *from = NULL;
  g_autofree char *to = NULL;

  if (preset >= n_spans)
    return;
  from = kankyo_ui_format_local (now - spans[preset], "%Y-%m-%d %H:%M");
  to = kankyo_ui_format_local (now, "%Y-%m-%d %H:%M");
  self->filling_entries = TRUE;
  gtk_editable_set_text (GTK_EDITABLE (from_entry), from);
  gtk_editable_set_text (GTK_EDITABLE (to_entry), to);
  self->filling_entries = FALSE;
  gtk_widget_remove_css_class (GTK_WIDGET (from_entry), "error");
  gtk_widget_remove_css_class (GTK_WIDGET (to_entry), "error");
}

static void
on_journal_period_changed (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  KankyoAlarmHistory *self = user_data;

  fill_range (self, self->journal_period, journal_spans_us, G_N_ELEMENTS (journal_spans_us),
              self->journal_from, self->journal_to);
}

static void
on_perf_period_changed (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  KankyoAlarmHistory *self = user_data;

  fill_range (self, self->perf_period, performance_spans_us, G_N_ELEMENTS (performance_spans_us),
              self->perf_from, self->perf_to);
}

/* Typing a time makes the range a custom one. */
static void
on_journal_range_typed (GtkEditable *editable, gpointer user_data)
{
  KankyoAlarmHistory *self = user_data;

  if (!self->filling_entries)
    gtk_drop_down_set_selected (self->journal_period, G_N_ELEMENTS (journal_spans_us));
}

static void
on_perf_range_typed (GtkEditable *editable, gpointer user_data)
{
  KankyoAlarmHistory *self = user_data;

  if (!self->filling_entries)
    gtk_drop_down_set_selected (self->perf_period, G_N_ELEMENTS (performance_spans_us));
}

/* ---- journal: cells ---- */

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
  KankyoAlarmHistory *self = g_object_get_data (G_OBJECT (factory), "kankyo-history");
  KankyoJournalItem *item = gtk_list_item_get_item (list_item);
  KankyoAlarmCell *cell = KANKYO_ALARM_CELL (gtk_list_item_get_child (list_item));
  const KankyoAlarmRecord *r = &item->record;
  const char *text;

  switch ((Column) GPOINTER_TO_INT (user_data))
    {
      case COLUMN_TIME:
        text = item->time_text;
        break;
      case COLUMN_EVENT:
        text = kankyo_alarm_event_label (r->event);
        break;
      case COLUMN_PRIORITY:
        kankyo_alarm_cell_set_priority (cell, r->priority);
        text = kankyo_alarm_priority_label (r->priority);
        break;
      case COLUMN_ALARM:
        text = r->alarm_id;
        break;
      case COLUMN_AREA:
        text = r->area;
        break;
      case COLUMN_MESSAGE:
        text = r->message;
        break;
      case COLUMN_STATE:
        text = kankyo_alarm_state_label (r->state);
        break;
      case COLUMN_VALUE:
        if (item->value_text == NULL)
          item->value_text = kankyo_alarm_format_value (self->store, r->tag, r->value);
        text = item->value_text;
        break;
      case COLUMN_USER:
        /* Translators: the user of a journal record made by the alarm engine itself */
        text = r->user != NULL ? r->user : C_ ("journal user", "system");
        break;
      case COLUMN_REASON:
      default:
        text = r->reason;
        break;
    }
  /* Operator actions stand out from what the plant did by itself. */
  kankyo_alarm_cell_set_text (cell, text, r->user != NULL);
}

static void
add_column (KankyoAlarmHistory *self, Column column, const char *title, gboolean expand, int width)
{
  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();
  g_autoptr (GtkColumnViewColumn) view_column = NULL;

  g_object_set_data (G_OBJECT (factory), "kankyo-history", self);
  g_signal_connect (factory, "setup", G_CALLBACK (on_cell_setup), GINT_TO_POINTER (column));
  g_signal_connect (factory, "bind", G_CALLBACK (on_cell_bind), GINT_TO_POINTER (column));
  view_column = gtk_column_view_column_new (title, factory);
  gtk_column_view_column_set_expand (view_column, expand);
  gtk_column_view_column_set_resizable (view_column, TRUE);
  if (width > 0)
    gtk_column_view_column_set_fixed_width (view_column, width);
  gtk_column_view_append_column (self->journal_view, view_column);
}

/* ---- performance ---- */

static void
perf_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  QueryJob *job = task_data;
  g_autoptr (KankyoAlarmJournal) journal = NULL;
  KankyoAlarmPerformance *performance = NULL;
  PerformanceBox *box;
  GError *error = NULL;

  journal = kankyo_alarm_journal_open_readonly (job->path, &error);
  if (journal != NULL)
    performance = kankyo_alarm_journal_performance (journal, job->query.from, job->query.to, &error);
  if (performance == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  box = g_atomic_rc_box_new0 (PerformanceBox);
  box->performance = performance;
  g_task_return_pointer (task, box, (GDestroyNotify) performance_box_release);
}

static GtkWidget *
table_label (const char *text, gboolean heading, gboolean numeric)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_xalign (GTK_LABEL (label), numeric ? 1 : 0);
  gtk_label_set_wrap (GTK_LABEL (label), !numeric);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_selectable (GTK_LABEL (label), TRUE);
  gtk_widget_set_focusable (label, FALSE);
  if (heading)
    gtk_widget_add_css_class (label, "heading");
  if (numeric)
    gtk_widget_add_css_class (label, "numeric");
  return label;
}

/* A heading and a grid of @n_columns; returns the grid, rows to add from 1. */
static GtkGrid *
add_table (KankyoAlarmHistory *self, const char *title, const char *name, const char *const *columns)
{
  GtkWidget *heading = gtk_label_new (title);
  GtkWidget *grid = gtk_grid_new ();

  gtk_label_set_xalign (GTK_LABEL (heading), 0);
  gtk_widget_add_css_class (heading, "title-4");
  gtk_widget_set_margin_top (heading, 6);
  gtk_box_append (self->perf_box, heading);
  gtk_widget_set_name (grid, name);
  gtk_grid_set_column_spacing (GTK_GRID (grid), 24);
  gtk_grid_set_row_spacing (GTK_GRID (grid), 3);
  for (int c = 0; columns[c] != NULL; c++)
    gtk_grid_attach (GTK_GRID (grid), table_label (columns[c], TRUE, FALSE), c, 0, 1, 1);
  gtk_box_append (self->perf_box, grid);
  return GTK_GRID (grid);
}

static void
add_cell (GtkGrid *grid, int column, int row, const char *text, gboolean numeric)
{
  GtkWidget *label = table_label (text != NULL ? text : "", FALSE, numeric);

  if (!numeric && column > 0)
    gtk_widget_set_hexpand (label, TRUE);
  gtk_grid_attach (grid, label, column, row, 1, 1);
}

/* The last row of a table: "None." or how many were left out. */
static void
end_table (GtkGrid *grid, guint n_rows, guint n_columns)
{
  g_autofree char *text = NULL;

  if (n_rows == 0)
    text = g_strdup (_ ("None."));
  else if (n_rows > MAX_TABLE_ROWS)
    /* Translators: rows of a table that the window leaves out; the PDF has them */
    text = g_strdup_printf (
        ngettext ("… and %u more, in the PDF.", "… and %u more, in the PDF.", n_rows - MAX_TABLE_ROWS),
        n_rows - MAX_TABLE_ROWS);
  else
    return;
  gtk_grid_attach (grid, table_label (text, FALSE, FALSE), 0, (int) MIN (n_rows, MAX_TABLE_ROWS) + 1,
                   (int) n_columns, 1);
}

static const char *
rate_verdict (double per_hour)
{
  if (per_hour <= GOOD_RATE_PER_HOUR)
    return _ ("acceptable: about 6 an hour or fewer");
  if (per_hour <= MANAGEABLE_RATE_PER_HOUR)
    return _ ("manageable: up to about 12 an hour");
  return _ ("more than an operator can manage: above 12 an hour");
}

static char *
format_rate (double per_hour)
{
  char buffer[G_ASCII_DTOSTR_BUF_SIZE];

  /* One decimal, with the locale's separator. */
  g_snprintf (buffer, sizeof buffer, "%.1f", per_hour);
  return g_strdup (buffer);
}

static void
show_performance (KankyoAlarmHistory *self)
{
  const KankyoAlarmPerformance *p = self->performance->performance;
  GtkWidget *child;
  GtkGrid *grid;
  g_autofree char *from = kankyo_alarm_format_time (p->from, TRUE);
  g_autofree char *to = kankyo_alarm_format_time (p->to, TRUE);
  g_autofree char *title = NULL;
  g_autofree char *rate = format_rate (p->alarms_per_hour);
  g_autofree char *flood = NULL;
  g_autofree char *count = g_strdup_printf ("%u", p->n_activations);
  g_autofree char *rate_text = NULL;
  g_autofree char *n_floods = g_strdup_printf ("%u", p->floods->len);

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->perf_box))) != NULL)
    gtk_box_remove (self->perf_box, child);

  /* Translators: the heading of the alarm performance report: the period */
  title = g_strdup_printf (_ ("Alarm performance from %s to %s"), from, to);
  child = gtk_label_new (title);
  gtk_label_set_xalign (GTK_LABEL (child), 0);
  gtk_label_set_wrap (GTK_LABEL (child), TRUE);
  gtk_widget_add_css_class (child, "title-3");
  gtk_box_append (self->perf_box, child);

  {
    const char *const columns[] = { _ ("Figure"), _ ("Value"), NULL };

    grid = add_table (self, _ ("Figures"), "performance-figures", columns);
  }
  /* Translators: alarms per hour, then what ISA-18.2 says of such a rate */
  rate_text = g_strdup_printf (_ ("%s (%s)"), rate, rate_verdict (p->alarms_per_hour));
  flood = g_strdup_printf ("%.1f %%", p->percent_time_in_flood);
  add_cell (grid, 0, 1, _ ("Alarms annunciated"), FALSE);
  add_cell (grid, 1, 1, count, FALSE);
  add_cell (grid, 0, 2, _ ("Alarms per hour"), FALSE);
  add_cell (grid, 1, 2, rate_text, FALSE);
  add_cell (grid, 0, 3, _ ("Floods (more than 10 alarms in 10 minutes)"), FALSE);
  add_cell (grid, 1, 3, n_floods, FALSE);
  add_cell (grid, 0, 4, _ ("Time in flood"), FALSE);
  add_cell (grid, 1, 4, flood, FALSE);

  {
    const char *const columns[] = { _ ("Area"), C_ ("column: a count", "Alarms"), _ ("Per hour"), NULL };

    grid = add_table (self, _ ("Alarms by area"), "performance-areas", columns);
  }
  for (guint i = 0; i < p->areas->len && i < MAX_TABLE_ROWS; i++)
    {
      const KankyoAlarmAreaRate *a = &g_array_index (p->areas, KankyoAlarmAreaRate, i);
      g_autofree char *n = g_strdup_printf ("%u", a->n_alarms);
      g_autofree char *per_hour = format_rate (a->alarms_per_hour);

      add_cell (grid, 0, (int) i + 1, a->area, FALSE);
      add_cell (grid, 1, (int) i + 1, n, TRUE);
      add_cell (grid, 2, (int) i + 1, per_hour, TRUE);
    }
  end_table (grid, p->areas->len, 3);

  {
    const char *const columns[] = { _ ("Start"), _ ("End"), C_ ("column: a count", "Alarms"), NULL };

    grid = add_table (self, _ ("Floods"), "performance-floods", columns);
  }
  for (guint i = 0; i < p->floods->len && i < MAX_TABLE_ROWS; i++)
    {
      const KankyoAlarmFlood *f = &g_array_index (p->floods, KankyoAlarmFlood, i);
      g_autofree char *start = kankyo_alarm_format_time (f->start, TRUE);
      g_autofree char *end = kankyo_alarm_format_time (f->end, TRUE);
      g_autofree char *n = g_strdup_printf ("%u", f->n_alarms);

      add_cell (grid, 0, (int) i + 1, start, FALSE);
      add_cell (grid, 1, (int) i + 1, end, FALSE);
      add_cell (grid, 2, (int) i + 1, n, TRUE);
    }
  end_table (grid, p->floods->len, 3);

  {
    const char *const columns[]
        = { _ ("Alarm"), _ ("Message"), C_ ("column: a count", "Alarms"), _ ("Chatter"), NULL };

    grid = add_table (self, _ ("Chattering alarms (3 or more within 60 s of returning)"),
                      "performance-chattering", columns);
  }
  for (guint i = 0; i < p->chattering->len && i < MAX_TABLE_ROWS; i++)
    {
      const KankyoAlarmActor *a = &g_array_index (p->chattering, KankyoAlarmActor, i);
      g_autofree char *n = g_strdup_printf ("%u", a->n_activations);
      g_autofree char *chatter = g_strdup_printf ("%u", a->n_chatter);

      add_cell (grid, 0, (int) i + 1, a->alarm_id, FALSE);
      add_cell (grid, 1, (int) i + 1, a->message, FALSE);
      add_cell (grid, 2, (int) i + 1, n, TRUE);
      add_cell (grid, 3, (int) i + 1, chatter, TRUE);
    }
  end_table (grid, p->chattering->len, 4);

  {
    const char *const columns[] = { _ ("Alarm"), _ ("Message"), _ ("Active since"), NULL };

    grid = add_table (self, _ ("Stale alarms (active for more than 24 hours)"), "performance-stale", columns);
  }
  for (guint i = 0; i < p->stale->len && i < MAX_TABLE_ROWS; i++)
    {
      const KankyoAlarmStale *s = &g_array_index (p->stale, KankyoAlarmStale, i);
      g_autofree char *since = kankyo_alarm_format_time (s->active_since, TRUE);

      add_cell (grid, 0, (int) i + 1, s->alarm_id, FALSE);
      add_cell (grid, 1, (int) i + 1, s->message, FALSE);
      add_cell (grid, 2, (int) i + 1, since, FALSE);
    }
  end_table (grid, p->stale->len, 3);

  {
    const char *const columns[] = { _ ("Alarm"), _ ("Message"), C_ ("column: a count", "Alarms"), NULL };

    grid = add_table (self, _ ("The ten most frequent alarms"), "performance-top-ten", columns);
  }
  for (guint i = 0; i < p->top_ten->len && i < MAX_TABLE_ROWS; i++)
    {
      const KankyoAlarmActor *a = &g_array_index (p->top_ten, KankyoAlarmActor, i);
      g_autofree char *n = g_strdup_printf ("%u", a->n_activations);

      add_cell (grid, 0, (int) i + 1, a->alarm_id, FALSE);
      add_cell (grid, 1, (int) i + 1, a->message, FALSE);
      add_cell (grid, 2, (int) i + 1, n, TRUE);
    }
  end_table (grid, p->top_ten->len, 3);
}

static void
update_perf_buttons (KankyoAlarmHistory *self)
{
  gtk_widget_set_sensitive (self->compute_button, !self->computing);
  gtk_widget_set_sensitive (self->pdf_button, self->performance != NULL && !self->writing_pdf);
  if (self->computing || self->writing_pdf)
    gtk_spinner_start (self->perf_spinner);
  else
    gtk_spinner_stop (self->perf_spinner);
}

static void
on_perf_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  KankyoAlarmHistory *self = KANKYO_ALARM_HISTORY (source);
  g_autoptr (GError) error = NULL;
  PerformanceBox *box = g_task_propagate_pointer (G_TASK (result), &error);

  if (self->disposed)
    {
      if (box != NULL)
        performance_box_release (box);
      return;
    }
  self->computing = FALSE;
  if (box == NULL)
    {
      g_autofree char *text = g_strdup_printf (_ ("The performance cannot be computed: %s"), error->message);

      set_message (self->perf_message, text, TRUE);
    }
  else
    {
      g_clear_pointer (&self->performance, performance_box_release);
      self->performance = box;
      show_performance (self);
      set_message (self->perf_message, NULL, FALSE);
    }
  update_perf_buttons (self);
}

static void
compute_performance (KankyoAlarmHistory *self)
{
  g_autoptr (GTask) task = NULL;
  const char *problem = NULL;
  QueryJob *job;

  if (self->computing)
    return;
  gtk_widget_remove_css_class (GTK_WIDGET (self->perf_from), "error");
  gtk_widget_remove_css_class (GTK_WIDGET (self->perf_to), "error");
  job = g_new0 (QueryJob, 1);
  kankyo_alarm_query_init (&job->query);
  if (!read_range (self->perf_period, performance_spans_us, G_N_ELEMENTS (performance_spans_us),
                   self->perf_from, self->perf_to, &job->query.from, &job->query.to, &problem))
    {
      query_job_free (job);
      set_message (self->perf_message, problem, TRUE);
      return;
    }
  if (job->query.to == 0)
    job->query.to = g_get_real_time ();
  job->path = g_strdup (self->journal_path);
  self->computing = TRUE;
  update_perf_buttons (self);
  set_message (self->perf_message, _ ("Computing…"), FALSE);
  task = g_task_new (self, self->cancellable, on_perf_done, NULL);
  g_task_set_source_tag (task, compute_performance);
  g_task_set_task_data (task, job, (GDestroyNotify) query_job_free);
  g_task_run_in_thread (task, perf_thread);
}

static void
on_compute_clicked (GtkButton *button, gpointer user_data)
{
  compute_performance (user_data);
}

static void
on_perf_activate (GtkEntry *entry, gpointer user_data)
{
  compute_performance (user_data);
}

static void
on_page_changed (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  KankyoAlarmHistory *self = user_data;

  if (g_strcmp0 (gtk_stack_get_visible_child_name (self->pages), "performance") == 0
      && self->performance == NULL && !self->computing)
    compute_performance (self);
}

/* ---- performance: PDF ---- */

typedef struct
{
  PerformanceBox *box;
  char *plant;
  GFile *file;
} PdfJob;

static void
pdf_job_free (PdfJob *job)
{
  performance_box_release (job->box);
  g_free (job->plant);
  g_object_unref (job->file);
  g_free (job);
}

static void
pdf_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  PdfJob *job = task_data;
  g_autofree char *path = g_file_get_path (job->file);
  g_autofree char *part_path = g_strconcat (path, ".part", NULL);
  g_autoptr (GFile) part = g_file_new_for_path (part_path);
  GError *error = NULL;

  if (!kankyo_alarm_performance_write_pdf (job->box->performance, job->plant, part_path, &error)
      || !g_file_move (part, job->file, G_FILE_COPY_OVERWRITE, NULL, NULL, NULL, &error))
    {
      g_file_delete (part, NULL, NULL);
      g_task_return_error (task, error);
      return;
    }
  g_task_return_boolean (task, TRUE);
}

static void
on_pdf_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  KankyoAlarmHistory *self = KANKYO_ALARM_HISTORY (source);
  PdfJob *job = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;
  g_autofree char *name = g_file_get_parse_name (job->file);
  g_autofree char *text = NULL;
  gboolean ok = g_task_propagate_boolean (G_TASK (result), &error);

  if (self->disposed)
    return;
  self->writing_pdf = FALSE;
  update_perf_buttons (self);
  if (ok)
    {
      text = g_strdup_printf (_ ("Exported to %s."), name);
      set_message (self->perf_message, text, FALSE);
    }
  else
    {
      text = g_strdup_printf (_ ("The export failed: %s"), error->message);
      set_message (self->perf_message, text, TRUE);
    }
}

void
kankyo_alarm_history_export_pdf (KankyoAlarmHistory *self, GFile *file)
{
  g_autoptr (GTask) task = NULL;
  PdfJob *job;

  g_return_if_fail (KANKYO_IS_ALARM_HISTORY (self));
  g_return_if_fail (G_IS_FILE (file));

  if (self->performance == NULL || self->writing_pdf)
    return;
  if (!g_file_is_native (file))
    {
      set_message (self->perf_message, _ ("Choose a file on this computer to export to."), TRUE);
      return;
    }
  job = g_new0 (PdfJob, 1);
  job->box = g_atomic_rc_box_acquire (self->performance);
  job->plant = g_strdup (self->plant);
  job->file = g_object_ref (file);
  self->writing_pdf = TRUE;
  update_perf_buttons (self);
  set_message (self->perf_message, _ ("Making the PDF report…"), FALSE);
  task = g_task_new (self, NULL, on_pdf_done, NULL);
  g_task_set_source_tag (task, kankyo_alarm_history_export_pdf);
  g_task_set_task_data (task, job, (GDestroyNotify) pdf_job_free);
  g_task_run_in_thread (task, pdf_thread);
}

static void
on_pdf_chosen (GtkNativeDialog *dialog, int response, gpointer user_data)
{
  KankyoAlarmHistory *self = user_data;

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));

      if (file != NULL)
        kankyo_alarm_history_export_pdf (self, file);
    }
  gtk_native_dialog_destroy (dialog);
  g_object_unref (dialog);
}

static void
on_pdf_clicked (GtkButton *button, gpointer user_data)
{
  g_autofree char *name = suggested_name ("alarm-performance", "pdf");

  choose_file (user_data, _ ("Export the Alarm Performance Report"), name, G_CALLBACK (on_pdf_chosen));
}

/* ---- GObject ---- */

static void
kankyo_alarm_history_dispose (GObject *object)
{
  KankyoAlarmHistory *self = KANKYO_ALARM_HISTORY (object);

  /* Threads may still run; their answers are dropped when they come. */
  self->disposed = TRUE;
  g_cancellable_cancel (self->cancellable);
  if (self->search_cancellable != NULL)
    g_cancellable_cancel (self->search_cancellable);
  if (self->export_cancellable != NULL)
    g_cancellable_cancel (self->export_cancellable);
  g_clear_handle_id (&self->export_timer, g_source_remove);
  gtk_widget_dispose_template (GTK_WIDGET (self), KANKYO_TYPE_ALARM_HISTORY);
  g_clear_object (&self->results);
  G_OBJECT_CLASS (kankyo_alarm_history_parent_class)->dispose (object);
}

static void
kankyo_alarm_history_finalize (GObject *object)
{
  KankyoAlarmHistory *self = KANKYO_ALARM_HISTORY (object);

  g_clear_pointer (&self->performance, performance_box_release);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->search_cancellable);
  g_clear_object (&self->export_cancellable);
  g_clear_pointer (&self->area_names, g_ptr_array_unref);
  g_clear_pointer (&self->store, kankyo_tag_store_unref);
  g_clear_object (&self->engine);
  g_free (self->journal_path);
  g_free (self->plant);
  G_OBJECT_CLASS (kankyo_alarm_history_parent_class)->finalize (object);
}

static void
kankyo_alarm_history_class_init (KankyoAlarmHistoryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kankyo_alarm_history_dispose;
  object_class->finalize = kankyo_alarm_history_finalize;

  gtk_widget_class_set_template_from_resource (widget_class, "/org/kankyo/Kankyo/kankyo-alarm-history.ui");
  gtk_widget_class_bind_template_child (widget_class, KankyoAlarmHistory, pages);
  gtk_widget_class_bind_template_child (widget_class, KankyoAlarmHistory, journal_period);
  gtk_widget_class_bind_template_child (widget_class, KankyoAlarmHistory, journal_from);
  gtk_widget_class_bind_template_child (widget_class, KankyoAlarmHistory, journal_to);
  gtk_widget_class_bind_template_child (widget_class, KankyoAlarmHistory, tag_entry);
  gtk_widget_class_bind_template_child (widget_class, KankyoAlarmHistory, user_entry);
  gtk_widget_class_bind_template_child (widget_class, KankyoAlarmHistory, area_dropdown);
  gtk_widget_class_bind_template_child (widget_class, KankyoAlarmHistory, priority_dropdown);
  gtk_widget_class_bind_template_child (widget_class, KankyoAlarmHistory, event_dropdown);
  gtk_widget_class_bind_template_child (widget_class, KankyoAlarmHistory, state_dropdown);
  gtk_widget_class_bind_template_child (widget_class, KankyoAlarmHistory, search_button);
  gtk_widget_class_bind_template_child (widget_class, KankyoAlarmHistory, search_spinner);
  gtk_widget_class_bind_template_child (widget_class, KankyoAlarmHistory, journal_message);
  gtk_widget_class_bind_template_child (widget_class, KankyoAlarmHistory, journal_view);
  gtk_widget_class_bind_template_child (widget_class, KankyoAlarmHistory, csv_button);
  gtk_widget_class_bind_template_child (widget_class, KankyoAlarmHistory, csv_revealer);
  gtk_widget_class_bind_template_child (widget_class, KankyoAlarmHistory, csv_progress);
  gtk_widget_class_bind_template_child (widget_class, KankyoAlarmHistory, csv_progress_label);
  gtk_widget_class_bind_template_child (widget_class, KankyoAlarmHistory, csv_cancel_button);
  gtk_widget_class_bind_template_child (widget_class, KankyoAlarmHistory, perf_period);
  gtk_widget_class_bind_template_child (widget_class, KankyoAlarmHistory, perf_from);
  gtk_widget_class_bind_template_child (widget_class, KankyoAlarmHistory, perf_to);
  gtk_widget_class_bind_template_child (widget_class, KankyoAlarmHistory, compute_button);
  gtk_widget_class_bind_template_child (widget_class, KankyoAlarmHistory, perf_spinner);
  gtk_widget_class_bind_template_child (widget_class, KankyoAlarmHistory, perf_message);
  gtk_widget_class_bind_template_child (widget_class, KankyoAlarmHistory, pdf_button);
  gtk_widget_class_bind_template_child (widget_class, KankyoAlarmHistory, perf_box);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_w, GDK_CONTROL_MASK, "window.close", NULL);
}

static void
kankyo_alarm_history_init (KankyoAlarmHistory *self)
{
  g_autoptr (GtkStringList) events = gtk_string_list_new (NULL);
  g_autoptr (GtkStringList) states = gtk_string_list_new (NULL);
  g_autoptr (GtkSingleSelection) selection = NULL;
  GtkEntry *entries[2];

  gtk_widget_init_template (GTK_WIDGET (self));
  entries[0] = self->tag_entry;
  entries[1] = self->user_entry;

  self->cancellable = g_cancellable_new ();
  self->results = g_list_store_new (KANKYO_TYPE_JOURNAL_ITEM);
  selection = gtk_single_selection_new (g_object_ref (G_LIST_MODEL (self->results)));
  gtk_single_selection_set_autoselect (selection, FALSE);
  gtk_single_selection_set_can_unselect (selection, TRUE);
  gtk_column_view_set_model (self->journal_view, GTK_SELECTION_MODEL (selection));
  add_column (self, COLUMN_TIME, C_ ("journal column", "Time"), FALSE, 150);
  add_column (self, COLUMN_EVENT, C_ ("journal column", "Event"), FALSE, 120);
  add_column (self, COLUMN_PRIORITY, C_ ("journal column", "Priority"), FALSE, 95);
  add_column (self, COLUMN_ALARM, C_ ("journal column", "Alarm"), FALSE, 170);
  add_column (self, COLUMN_AREA, C_ ("journal column", "Area"), FALSE, 70);
  add_column (self, COLUMN_MESSAGE, C_ ("journal column", "Message"), TRUE, -1);
  add_column (self, COLUMN_STATE, C_ ("journal column", "State after"), FALSE, 140);
  add_column (self, COLUMN_VALUE, C_ ("journal column", "Value"), FALSE, 80);
  add_column (self, COLUMN_USER, C_ ("journal column", "User"), FALSE, 70);
  add_column (self, COLUMN_REASON, C_ ("journal column", "Reason"), TRUE, -1);

  gtk_string_list_append (events, _ ("Any event"));
  for (guint i = 0; i < G_N_ELEMENTS (searchable_events); i++)
    gtk_string_list_append (events, kankyo_alarm_event_label (searchable_events[i]));
  gtk_drop_down_set_model (self->event_dropdown, G_LIST_MODEL (events));
  gtk_string_list_append (states, _ ("Any state"));
  for (guint i = 0; i < G_N_ELEMENTS (searchable_states); i++)
    gtk_string_list_append (states, kankyo_alarm_state_label (searchable_states[i]));
  gtk_drop_down_set_model (self->state_dropdown, G_LIST_MODEL (states));

  for (guint i = 0; i < G_N_ELEMENTS (entries); i++)
    {
      gtk_entry_set_max_length (entries[i], MAX_FIELD_CHARS);
      g_signal_connect_object (entries[i], "activate", G_CALLBACK (on_field_activate), self, 0);
    }
  g_signal_connect_object (self->journal_from, "activate", G_CALLBACK (on_field_activate), self, 0);
  g_signal_connect_object (self->journal_to, "activate", G_CALLBACK (on_field_activate), self, 0);
  g_signal_connect_object (self->journal_from, "changed", G_CALLBACK (on_journal_range_typed), self, 0);
  g_signal_connect_object (self->journal_to, "changed", G_CALLBACK (on_journal_range_typed), self, 0);
  g_signal_connect_object (self->journal_period, "notify::selected", G_CALLBACK (on_journal_period_changed),
                           self, 0);
  g_signal_connect_object (self->perf_from, "activate", G_CALLBACK (on_perf_activate), self, 0);
  g_signal_connect_object (self->perf_to, "activate", G_CALLBACK (on_perf_activate), self, 0);
  g_signal_connect_object (self->perf_from, "changed", G_CALLBACK (on_perf_range_typed), self, 0);
  g_signal_connect_object (self->perf_to, "changed", G_CALLBACK (on_perf_range_typed), self, 0);
  g_signal_connect_object (self->perf_period, "notify::selected", G_CALLBACK (on_perf_period_changed), self,
                           0);
  g_signal_connect_object (self->search_button, "clicked", G_CALLBACK (on_search_clicked), self, 0);
  g_signal_connect_object (self->csv_button, "clicked", G_CALLBACK (on_csv_clicked), self, 0);
  g_signal_connect_object (self->csv_cancel_button, "clicked", G_CALLBACK (on_export_cancel_clicked), self,
                           0);
  g_signal_connect_object (self->compute_button, "clicked", G_CALLBACK (on_compute_clicked), self, 0);
  g_signal_connect_object (self->pdf_button, "clicked", G_CALLBACK (on_pdf_clicked), self, 0);
  g_signal_connect_object (self->pages, "notify::visible-child", G_CALLBACK (on_page_changed), self, 0);
  on_journal_period_changed (NULL, NULL, self);
  on_perf_period_changed (NULL, NULL, self);
}

KankyoAlarmHistory *
kankyo_alarm_history_new (GtkWindow *parent, KankyoEngine *engine)
{
  KankyoAlarmHistory *self;
  KankyoProject *project;
  g_autoptr (GtkStringList) areas = gtk_string_list_new (NULL);
  g_autofree char *data_dir = NULL;

  g_return_val_if_fail (parent == NULL || GTK_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (KANKYO_IS_ENGINE (engine), NULL);

  self = g_object_new (KANKYO_TYPE_ALARM_HISTORY, "transient-for", parent, "destroy-with-parent", TRUE, NULL);
  if (parent != NULL)
    gtk_window_set_application (GTK_WINDOW (self), gtk_window_get_application (parent));
  self->engine = g_object_ref (engine);
  self->store = kankyo_tag_store_ref (kankyo_engine_get_tag_store (engine));
  project = kankyo_engine_get_project (engine);
  self->plant = g_strdup (project->name);
  /* alarms.db lives beside audit.db in the engine's data folder. */
  data_dir = g_path_get_dirname (kankyo_engine_get_audit_path (engine));
  self->journal_path = g_build_filename (data_dir, "alarms.db", NULL);

  self->area_names = g_ptr_array_new_with_free_func (g_free);
  gtk_string_list_append (areas, _ ("All areas"));
  for (guint i = 0; i < project->areas->len; i++)
    {
      KankyoAreaConfig *area = g_ptr_array_index (project->areas, i);

      gtk_string_list_append (areas, area->label != NULL ? area->label : area->name);
      g_ptr_array_add (self->area_names, g_strdup (area->name));
    }
  gtk_drop_down_set_model (self->area_dropdown, G_LIST_MODEL (areas));
  kankyo_alarm_history_search (self);
  return self;
}

gboolean
kankyo_alarm_history_is_searching (KankyoAlarmHistory *self)
{
  g_return_val_if_fail (KANKYO_IS_ALARM_HISTORY (self), FALSE);
  return self->search_cancellable != NULL;
}

guint
kankyo_alarm_history_get_n_results (KankyoAlarmHistory *self)
{
  g_return_val_if_fail (KANKYO_IS_ALARM_HISTORY (self), 0);
  return g_list_model_get_n_items (G_LIST_MODEL (self->results));
}

const KankyoAlarmRecord *
kankyo_alarm_history_get_result (KankyoAlarmHistory *self, guint index)
{
  g_autoptr (KankyoJournalItem) item = NULL;

  g_return_val_if_fail (KANKYO_IS_ALARM_HISTORY (self), NULL);
  item = g_list_model_get_item (G_LIST_MODEL (self->results), index);
  /* The store keeps the item, so the record outlives this reference. */
  return item != NULL ? &item->record : NULL;
}

void
kankyo_alarm_history_show_performance (KankyoAlarmHistory *self)
{
  g_return_if_fail (KANKYO_IS_ALARM_HISTORY (self));
  gtk_stack_set_visible_child_name (self->pages, "performance");
  if (self->performance != NULL)
    compute_performance (self);
}

gboolean
kankyo_alarm_history_is_computing (KankyoAlarmHistory *self)
{
  g_return_val_if_fail (KANKYO_IS_ALARM_HISTORY (self), FALSE);
  return self->computing;
}

const KankyoAlarmPerformance *
kankyo_alarm_history_get_performance (KankyoAlarmHistory *self)
{
  g_return_val_if_fail (KANKYO_IS_ALARM_HISTORY (self), NULL);
  return self->performance != NULL ? self->performance->performance : NULL;
}
