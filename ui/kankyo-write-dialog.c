/* kankyo-write-dialog.c: changing a setpoint or giving a command.
 *
 * The operator sees the tag, its current value and quality (kept live) and
 * its limits, types the new value and a reason, and confirms. The value is
 * checked as it is typed, with the same parser and limits the engine will
 * apply, so the message says what is wrong before anything is sent. The
 * write goes through kankyo_engine_write_async(), the one write path; the
 * dialog shows a spinner meanwhile and stays usable, and shows the read-back
 * (or the error) when the engine reports it on the main context. Closing
 * the dialog does not cancel a write that was sent: the engine still
 * finishes and audits it.
 */
#include "config.h"

#include "kankyo-write-dialog.h"

#include "kankyo-faceplate.h"

#include <glib/gi18n.h>
#include <math.h>

/* kankyo-engine.c accepts a reason of up to 1024 bytes; at most four bytes
 * a character, this many characters always fit. */
#define MAX_REASON_CHARS 256

struct _KankyoWriteDialog
{
  GtkWindow parent_instance;

  /* Template widgets */
  GtkLabel *label_label;
  GtkLabel *name_label;
  GtkLabel *current_label;
  GtkLabel *quality_label;
  GtkLabel *limits_label;
  GtkStack *stack;
  GtkEntry *value_entry;
  GtkLabel *unit_label;
  GtkLabel *value_message;
  GtkEntry *reason_entry;
  GtkLabel *reason_message;
  GtkWidget *write_button;
  GtkLabel *confirm_label;
  GtkLabel *confirm_reason_label;
  GtkWidget *back_button;
  GtkWidget *confirm_button;
  GtkSpinner *spinner;
  GtkLabel *busy_label;
  GtkImage *result_icon;
  GtkLabel *result_label;
  GtkWidget *again_button;
  GtkWidget *done_button;

  KankyoEngine *engine;
  KankyoTagStore *store;
  char *tag;
  const KankyoTagSpec *spec; /* owned by the tag store; NULL: no such tag */
  guint tag_id;
  guint subscription;

  KankyoValue current;
  KankyoQuality quality;
  KankyoValue new_value; /* valid while value_ok */
  gboolean value_ok;
  gboolean reason_ok;
  gboolean writing;
};

G_DEFINE_FINAL_TYPE (KankyoWriteDialog, kankyo_write_dialog, GTK_TYPE_WINDOW)

static const char *
tag_label (const KankyoTagSpec *spec)
{
  return spec->label != NULL ? g_dgettext (GETTEXT_PACKAGE, spec->label) : spec->name;
}

static gboolean
has_unit (const KankyoTagSpec *spec)
{
  return spec->unit != NULL && *spec->unit != '\0';
}

/* "19.5 degC", or "19.5" when the tag has no unit. */
static char *
format_with_unit (const KankyoTagSpec *spec, const KankyoValue *value)
{
  g_autofree char *text = NULL;

  if (value->type == KANKYO_VALUE_NONE)
    return g_strdup (_ ("no value"));
  text = kankyo_tag_spec_format_value (spec, value);
  if (!has_unit (spec))
    return g_steal_pointer (&text);
  return g_strdup_printf ("%s %s", text, g_dgettext (GETTEXT_PACKAGE, spec->unit));
}

static char *
format_limit (double limit)
{
  return kankyo_format_double (limit, 17);
}

static void
show_current (KankyoWriteDialog *self)
{
  g_autofree char *text = format_with_unit (self->spec, &self->current);
  gboolean good = self->quality == KANKYO_QUALITY_GOOD;
  gboolean bad = kankyo_quality_is_bad (self->quality);

  gtk_label_set_text (self->current_label, text);
  gtk_label_set_text (self->quality_label, kankyo_quality_describe (self->quality));
  if (bad)
    gtk_widget_add_css_class (GTK_WIDGET (self->current_label), "bad");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->current_label), "bad");
  gtk_widget_remove_css_class (GTK_WIDGET (self->quality_label), "bad");
  gtk_widget_remove_css_class (GTK_WIDGET (self->quality_label), "uncertain");
  if (!good)
    gtk_widget_add_css_class (GTK_WIDGET (self->quality_label), bad ? "bad" : "uncertain");
}

static void
on_batch (KankyoTagStore *store, const KankyoTagSample *samples, guint n_samples, gpointer user_data)
{
  KankyoWriteDialog *self = user_data;

  for (guint i = 0; i < n_samples; i++)
    if (samples[i].tag_id == self->tag_id)
      {
        kankyo_value_clear (&self->current);
        kankyo_value_copy (&samples[i].value, &self->current);
        self->quality = samples[i].quality;
        show_current (self);
      }
}

static void
set_message (GtkLabel *label, const char *text, gboolean is_error)
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

static void
update_write_button (KankyoWriteDialog *self)
{
  gtk_widget_set_sensitive (self->write_button, self->value_ok && self->reason_ok && !self->writing);
}

static char *
expected_text (const KankyoTagSpec *spec)
{
  switch (spec->value_type)
    {
      case KANKYO_VALUE_BOOL:
        return g_strdup (_ ("Enter true or false."));
      case KANKYO_VALUE_STRING:
        return g_strdup (_ ("Enter the text to send."));
      default:
        if (!isnan (spec->min) && !isnan (spec->max))
          {
            g_autofree char *lo = format_limit (spec->min);
            g_autofree char *hi = format_limit (spec->max);

            /* Translators: the range a new value must be in, e.g. "Enter a number from 12 to 26." */
            return g_strdup_printf (_ ("Enter a number from %s to %s."), lo, hi);
          }
        return g_strdup (_ ("Enter a number, with a point for decimals."));
    }
}

static void
validate_value (KankyoWriteDialog *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->value_entry));
  g_autofree char *trimmed = g_strstrip (g_strdup (text));
  g_autoptr (GError) error = NULL;
  g_auto (KankyoValue) value = KANKYO_VALUE_INIT;

  kankyo_value_clear (&self->new_value);
  self->value_ok = FALSE;

  if (self->spec->value_type != KANKYO_VALUE_STRING && *trimmed == '\0')
    {
      g_autofree char *hint = expected_text (self->spec);

      set_message (self->value_message, hint, FALSE);
      gtk_widget_remove_css_class (GTK_WIDGET (self->value_entry), "error");
    }
  else if (!kankyo_value_parse (self->spec->value_type, text, &value, &error)
           || !kankyo_tag_spec_check_value (self->spec, &value, &error))
    {
      set_message (self->value_message, error->message, TRUE);
      gtk_widget_add_css_class (GTK_WIDGET (self->value_entry), "error");
    }
  else
    {
      g_autofree char *hint = expected_text (self->spec);

      kankyo_value_copy (&value, &self->new_value);
      self->value_ok = TRUE;
      set_message (self->value_message, hint, FALSE);
      gtk_widget_remove_css_class (GTK_WIDGET (self->value_entry), "error");
    }
  update_write_button (self);
}

static void
validate_reason (KankyoWriteDialog *self)
{
  g_autofree char *reason = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->reason_entry))));

  self->reason_ok = *reason != '\0';
  if (self->reason_ok)
    set_message (self->reason_message, _ ("Recorded in the audit trail with your name."), FALSE);
  else
    set_message (self->reason_message,
                 _ ("A reason is required: it is recorded in the audit trail with your name."),
                 gtk_widget_has_focus (GTK_WIDGET (self->reason_entry)) || self->value_ok);
  update_write_button (self);
}

static void
on_value_changed (GtkEditable *editable, gpointer user_data)
{
  validate_value (KANKYO_WRITE_DIALOG (user_data));
}

static void
on_reason_changed (GtkEditable *editable, gpointer user_data)
{
  validate_reason (KANKYO_WRITE_DIALOG (user_data));
}

static void
on_value_activate (GtkEntry *entry, gpointer user_data)
{
  KankyoWriteDialog *self = KANKYO_WRITE_DIALOG (user_data);

  if (self->value_ok)
    gtk_widget_grab_focus (GTK_WIDGET (self->reason_entry));
}

static void
on_reason_activate (GtkEntry *entry, gpointer user_data)
{
  KankyoWriteDialog *self = KANKYO_WRITE_DIALOG (user_data);

  if (gtk_widget_get_sensitive (self->write_button))
    gtk_widget_activate (self->write_button);
  else if (!self->value_ok)
    gtk_widget_grab_focus (GTK_WIDGET (self->value_entry));
}

static void
on_write_clicked (GtkButton *button, gpointer user_data)
{
  KankyoWriteDialog *self = KANKYO_WRITE_DIALOG (user_data);
  g_autofree char *from = NULL;
  g_autofree char *to = NULL;
  g_autofree char *question = NULL;
  g_autofree char *reason = NULL;
  g_autofree char *because = NULL;

  /* The value may have changed since it was typed; check once more. */
  validate_value (self);
  validate_reason (self);
  if (!self->value_ok || !self->reason_ok || self->writing)
    return;

  from = format_with_unit (self->spec, &self->current);
  to = format_with_unit (self->spec, &self->new_value);
  /* Translators: the confirmation of a write: tag label, current value, new value */
  question = g_strdup_printf (_ ("Change %s from %s to %s?"), tag_label (self->spec), from, to);
  gtk_label_set_text (self->confirm_label, question);
  reason = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->reason_entry))));
  because = g_strdup_printf (_ ("Reason: %s"), reason);
  gtk_label_set_text (self->confirm_reason_label, because);
  gtk_stack_set_visible_child_name (self->stack, "confirm");
  /* A second Enter must not confirm by accident. */
  gtk_widget_grab_focus (self->back_button);
}

static void
on_back_clicked (GtkButton *button, gpointer user_data)
{
  KankyoWriteDialog *self = KANKYO_WRITE_DIALOG (user_data);

  gtk_stack_set_visible_child_name (self->stack, "edit");
  gtk_widget_grab_focus (GTK_WIDGET (self->value_entry));
}

static void
show_result (KankyoWriteDialog *self, const char *icon, const char *text)
{
  self->writing = FALSE;
  gtk_spinner_stop (self->spinner);
  gtk_image_set_from_icon_name (self->result_icon, icon);
  gtk_label_set_text (self->result_label, text);
  gtk_stack_set_visible_child_name (self->stack, "result");
  gtk_widget_grab_focus (self->done_button);
  update_write_button (self);
}

static void
on_write_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (KankyoWriteDialog) self = user_data;
  g_auto (KankyoValue) readback = KANKYO_VALUE_INIT;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;

  if (kankyo_engine_write_finish (KANKYO_ENGINE (source), result, &readback, &error))
    {
      g_autofree char *value = format_with_unit (self->spec, &readback);

      /* Translators: the device read back the value written, e.g. "Confirmed: 19 degC" */
      text = g_strdup_printf (_ ("Confirmed: %s"), value);
      show_result (self, "object-select-symbolic", text);
    }
  else
    {
      /* Translators: a write failed; the engine's message follows */
      text = g_strdup_printf (_ ("Not confirmed: %s"), error->message);
      show_result (self, "dialog-error-symbolic", text);
    }
}

static void
on_confirm_clicked (GtkButton *button, gpointer user_data)
{
  KankyoWriteDialog *self = KANKYO_WRITE_DIALOG (user_data);
  g_autofree char *value_text = NULL;
  g_autofree char *reason = NULL;
  g_autofree char *to = NULL;
  g_autofree char *busy = NULL;

  if (!self->value_ok || !self->reason_ok || self->writing)
    return;

  self->writing = TRUE;
  value_text = kankyo_value_to_string (&self->new_value);
  reason = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->reason_entry))));
  to = format_with_unit (self->spec, &self->new_value);
  busy = g_strdup_printf (_ ("Writing %s; waiting for the device to confirm…"), to);
  gtk_label_set_text (self->busy_label, busy);
  gtk_spinner_start (self->spinner);
  gtk_stack_set_visible_child_name (self->stack, "busy");
  update_write_button (self);

  /* The reference keeps the dialog alive for the reply even when it is
   * closed meanwhile; the engine completes on this (the main) context. */
  kankyo_engine_write_async (self->engine, self->tag, value_text, g_get_user_name (), reason, NULL,
                             on_write_done, g_object_ref (self));
}

static void
on_again_clicked (GtkButton *button, gpointer user_data)
{
  KankyoWriteDialog *self = KANKYO_WRITE_DIALOG (user_data);

  gtk_stack_set_visible_child_name (self->stack, "edit");
  validate_value (self);
  gtk_widget_grab_focus (GTK_WIDGET (self->value_entry));
}

static gboolean
on_current_query_tooltip (
    GtkWidget *widget, int x, int y, gboolean keyboard, GtkTooltip *tooltip, gpointer data)
{
  KankyoWriteDialog *self = data;
  KankyoTagSample sample;
  g_autofree char *text = NULL;

  if (self->spec == NULL)
    return FALSE;
  kankyo_tag_store_get (self->store, self->tag_id, &sample);
  if (sample.source_time > 0)
    {
      g_autoptr (GDateTime) time = g_date_time_new_from_unix_local (sample.source_time / G_USEC_PER_SEC);
      g_autofree char *at = g_date_time_format (time, "%H:%M:%S");
      gint64 age = (g_get_real_time () - sample.source_time) / G_USEC_PER_SEC;

      /* Translators: when the value shown was read, e.g. "read 12:03:41, 37 s ago" */
      text = g_strdup_printf (_ ("read %s, %u s ago"), at, (guint) CLAMP (age, 0, G_MAXUINT));
    }
  kankyo_tag_sample_clear (&sample);
  if (text == NULL)
    return FALSE;
  gtk_tooltip_set_text (tooltip, text);
  return TRUE;
}

static void
setup (KankyoWriteDialog *self)
{
  gint id = kankyo_tag_store_lookup (self->store, self->tag);
  g_autofree char *limits = NULL;
  g_autofree char *title = NULL;
  KankyoTagSample sample;

  if (id < 0)
    {
      g_autofree char *text = g_strdup_printf (_ ("There is no tag named %s."), self->tag);

      gtk_label_set_text (self->label_label, text);
      gtk_widget_set_sensitive (GTK_WIDGET (self->stack), FALSE);
      return;
    }
  self->tag_id = (guint) id;
  self->spec = kankyo_tag_store_get_spec (self->store, self->tag_id);

  gtk_label_set_text (self->label_label, tag_label (self->spec));
  gtk_label_set_text (self->name_label, self->tag);
  /* Translators: the write dialog's title, with the tag's label */
  title = g_strdup_printf (_ ("Change %s"), tag_label (self->spec));
  gtk_window_set_title (GTK_WINDOW (self), title);
  gtk_label_set_text (self->unit_label,
                      has_unit (self->spec) ? g_dgettext (GETTEXT_PACKAGE, self->spec->unit) : "");

  if (!isnan (self->spec->min) || !isnan (self->spec->max))
    {
      g_autofree char *lo = isnan (self->spec->min) ? g_strdup ("…") : format_limit (self->spec->min);
      g_autofree char *hi = isnan (self->spec->max) ? g_strdup ("…") : format_limit (self->spec->max);

      /* Translators: a tag's limits: minimum, maximum and unit, e.g. "12 – 26 degC" */
      limits = g_strdup_printf (_ ("%s – %s %s"), lo, hi,
                                has_unit (self->spec) ? g_dgettext (GETTEXT_PACKAGE, self->spec->unit) : "");
      g_strchomp (limits);
    }
  gtk_label_set_text (self->limits_label, limits != NULL ? limits : _ ("none"));

  kankyo_tag_store_get (self->store, self->tag_id, &sample);
  kankyo_value_copy (&sample.value, &self->current);
  self->quality = sample.quality;
  kankyo_tag_sample_clear (&sample);
  show_current (self);

  if (!self->spec->writable)
    {
      set_message (self->value_message, _ ("This tag cannot be written."), TRUE);
      gtk_widget_set_sensitive (GTK_WIDGET (self->value_entry), FALSE);
      gtk_widget_set_sensitive (GTK_WIDGET (self->reason_entry), FALSE);
    }
  else
    {
      /* Start from the current value, which is what is usually adjusted. */
      if (self->current.type != KANKYO_VALUE_NONE && kankyo_quality_is_good (self->quality))
        {
          g_autofree char *text = kankyo_tag_spec_format_value (self->spec, &self->current);

          gtk_editable_set_text (GTK_EDITABLE (self->value_entry), text);
        }
      validate_value (self);
      validate_reason (self);
      gtk_window_set_focus (GTK_WINDOW (self), GTK_WIDGET (self->value_entry));
    }

  self->subscription
      = kankyo_tag_store_subscribe (self->store, g_main_context_default (), on_batch, self, NULL);
}

static void
kankyo_write_dialog_dispose (GObject *object)
{
  KankyoWriteDialog *self = KANKYO_WRITE_DIALOG (object);

  if (self->subscription != 0)
    {
      kankyo_tag_store_unsubscribe (self->store, self->subscription);
      self->subscription = 0;
    }
  gtk_widget_dispose_template (GTK_WIDGET (self), KANKYO_TYPE_WRITE_DIALOG);
  G_OBJECT_CLASS (kankyo_write_dialog_parent_class)->dispose (object);
}

static void
kankyo_write_dialog_finalize (GObject *object)
{
  KankyoWriteDialog *self = KANKYO_WRITE_DIALOG (object);

  kankyo_value_clear (&self->current);
  kankyo_value_clear (&self->new_value);
  g_clear_pointer (&self->store, kankyo_tag_store_unref);
  g_clear_object (&self->engine);
  g_free (self->tag);
  G_OBJECT_CLASS (kankyo_write_dialog_parent_class)->finalize (object);
}

static gboolean
kankyo_write_dialog_close_request (GtkWindow *window)
{
  KankyoWriteDialog *self = KANKYO_WRITE_DIALOG (window);

  /* Stop following the tag now; a pending reply still arrives (the dialog
   * is kept alive by it) but is no longer shown to anyone. */
  if (self->subscription != 0)
    {
      kankyo_tag_store_unsubscribe (self->store, self->subscription);
      self->subscription = 0;
    }
  return GTK_WINDOW_CLASS (kankyo_write_dialog_parent_class)->close_request (window);
}

static void
kankyo_write_dialog_class_init (KankyoWriteDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kankyo_write_dialog_dispose;
  object_class->finalize = kankyo_write_dialog_finalize;
  GTK_WINDOW_CLASS (klass)->close_request = kankyo_write_dialog_close_request;

  gtk_widget_class_set_template_from_resource (widget_class, "/org/kankyo/Kankyo/kankyo-write-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, KankyoWriteDialog, label_label);
  gtk_widget_class_bind_template_child (widget_class, KankyoWriteDialog, name_label);
  gtk_widget_class_bind_template_child (widget_class, KankyoWriteDialog, current_label);
  gtk_widget_class_bind_template_child (widget_class, KankyoWriteDialog, quality_label);
  gtk_widget_class_bind_template_child (widget_class, KankyoWriteDialog, limits_label);
  gtk_widget_class_bind_template_child (widget_class, KankyoWriteDialog, stack);
  gtk_widget_class_bind_template_child (widget_class, KankyoWriteDialog, value_entry);
  gtk_widget_class_bind_template_child (widget_class, KankyoWriteDialog, unit_label);
  gtk_widget_class_bind_template_child (widget_class, KankyoWriteDialog, value_message);
  gtk_widget_class_bind_template_child (widget_class, KankyoWriteDialog, reason_entry);
  gtk_widget_class_bind_template_child (widget_class, KankyoWriteDialog, reason_message);
  gtk_widget_class_bind_template_child (widget_class, KankyoWriteDialog, write_button);
  gtk_widget_class_bind_template_child (widget_class, KankyoWriteDialog, confirm_label);
  gtk_widget_class_bind_template_child (widget_class, KankyoWriteDialog, confirm_reason_label);
  gtk_widget_class_bind_template_child (widget_class, KankyoWriteDialog, back_button);
  gtk_widget_class_bind_template_child (widget_class, KankyoWriteDialog, confirm_button);
  gtk_widget_class_bind_template_child (widget_class, KankyoWriteDialog, spinner);
  gtk_widget_class_bind_template_child (widget_class, KankyoWriteDialog, busy_label);
  gtk_widget_class_bind_template_child (widget_class, KankyoWriteDialog, result_icon);
  gtk_widget_class_bind_template_child (widget_class, KankyoWriteDialog, result_label);
  gtk_widget_class_bind_template_child (widget_class, KankyoWriteDialog, again_button);
  gtk_widget_class_bind_template_child (widget_class, KankyoWriteDialog, done_button);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
kankyo_write_dialog_init (KankyoWriteDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->quality = KANKYO_QUALITY_BAD_WAITING_FOR_INITIAL_DATA;
  gtk_entry_set_max_length (self->reason_entry, MAX_REASON_CHARS);
  g_signal_connect_object (self->value_entry, "changed", G_CALLBACK (on_value_changed), self, 0);
  g_signal_connect_object (self->reason_entry, "changed", G_CALLBACK (on_reason_changed), self, 0);
  g_signal_connect_object (self->value_entry, "activate", G_CALLBACK (on_value_activate), self, 0);
  g_signal_connect_object (self->reason_entry, "activate", G_CALLBACK (on_reason_activate), self, 0);
  g_signal_connect_object (self->write_button, "clicked", G_CALLBACK (on_write_clicked), self, 0);
  g_signal_connect_object (self->back_button, "clicked", G_CALLBACK (on_back_clicked), self, 0);
  g_signal_connect_object (self->confirm_button, "clicked", G_CALLBACK (on_confirm_clicked), self, 0);
  g_signal_connect_object (self->again_button, "clicked", G_CALLBACK (on_again_clicked), self, 0);
  g_signal_connect_object (self->current_label, "query-tooltip", G_CALLBACK (on_current_query_tooltip), self,
                           0);
}

KankyoWriteDialog *
kankyo_write_dialog_new (GtkWindow *parent, KankyoEngine *engine, const char *tag)
{
  KankyoWriteDialog *self;

  g_return_val_if_fail (parent == NULL || GTK_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (KANKYO_IS_ENGINE (engine), NULL);
  g_return_val_if_fail (tag != NULL, NULL);

  self = g_object_new (KANKYO_TYPE_WRITE_DIALOG, "transient-for", parent, NULL);
  self->engine = g_object_ref (engine);
  self->store = kankyo_tag_store_ref (kankyo_engine_get_tag_store (engine));
  self->tag = g_strdup (tag);
  setup (self);
  return self;
}
