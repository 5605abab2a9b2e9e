/* test-window.c: the operator window on the demo plant, under Xvfb.
 *
 * Starts the real application on the embedded demo plant (simulated devices
 * served as Modbus TCP on loopback and polled by the engine), and checks
 * what an operator would see: every device online in the status bar, live
 * values on a faceplate that change over time, a screenshot that is not
 * blank, a setpoint changed through the write dialog's own widgets and
 * confirmed by read-back, the change in the audit trail with its reason,
 * and a project error shown as a page naming the file and line.
 *
 * Widgets are found by their names (gtk_widget_set_name), which the window,
 * faceplate and dialog set for exactly this purpose.
 */
#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ui-test-util.h"
#include "kankyo-application.h"

#include "kankyo-audit.h"
#include "kankyo-faceplate.h"
#include "kankyo-mimic-view.h"
#include "kankyo-modules.h"
#include "kankyo-sim-host.h"
#include "kankyo-window.h"
#include "kankyo-write-dialog.h"

#define LIVE_TIMEOUT_MS 30000
#define WRITE_TIMEOUT_MS 20000
#define TEST_REASON "UI test: night setback trial"

static KankyoApplication *app;
static GtkWindow *window;
static char *data_dir;

/* ---- helpers ---- */

static GtkWidget *
window_child (const char *name)
{
  GtkWidget *widget = ui_test_find_named (GTK_WIDGET (window), name);

  if (widget == NULL)
    g_error ("no widget named %s in the window", name);
  return widget;
}

static const char *
label_text (GtkWidget *widget)
{
  g_assert_true (GTK_IS_LABEL (widget));
  return gtk_label_get_text (GTK_LABEL (widget));
}

static gboolean
flag_set (gpointer data)
{
  return *(gboolean *) data;
}

static void
on_clicked (GtkButton *button, gpointer data)
{
  *(gboolean *) data = TRUE;
}

/* As Enter or Space on a focused button does: the button shows itself
 * pressed for a moment, then emits "clicked". */
static void
press (GtkWidget *button)
{
  gboolean clicked = FALSE;
  gulong handler;

  g_assert_true (GTK_IS_BUTTON (button));
  g_assert_true (gtk_widget_is_sensitive (button));
  handler = g_signal_connect (button, "clicked", G_CALLBACK (on_clicked), &clicked);
  g_assert_true (gtk_widget_activate (button));
  g_assert_true (ui_test_wait_for (flag_set, &clicked, 5000));
  g_signal_handler_disconnect (button, handler);
}

static gboolean
all_devices_online (gpointer data)
{
  GtkWidget *bar = window_child ("status-bar");
  guint n = 0;

  for (GtkWidget *button = gtk_widget_get_first_child (bar); button != NULL;
       button = gtk_widget_get_next_sibling (button))
    {
      if (!gtk_widget_has_css_class (button, "online"))
        return FALSE;
      n++;
    }
  return n > 0;
}

/* ---- tests ---- */

static void
test_status_bar (void)
{
  KankyoProject *project = kankyo_engine_get_project (kankyo_application_get_engine (app));
  GtkWidget *bar = window_child ("status-bar");
  guint n = 0;

  g_assert_true (ui_test_wait_for (all_devices_online, NULL, LIVE_TIMEOUT_MS));
  for (GtkWidget *button = gtk_widget_get_first_child (bar); button != NULL;
       button = gtk_widget_get_next_sibling (button))
    {
      g_autofree char *expected = g_strdup_printf ("%s: online", gtk_widget_get_name (button));
      GtkWidget *label = gtk_widget_get_last_child (gtk_button_get_child (GTK_BUTTON (button)));

      g_assert_cmpstr (label_text (label), ==, expected);
      n++;
    }
  g_assert_cmpuint (n, ==, project->devices->len);
  g_test_message ("%u devices online in the status bar", n);
}

static gboolean
stack_shows_device (gpointer data)
{
  return g_strcmp0 (gtk_stack_get_visible_child_name (data), "device") == 0;
}

static void
test_navigation (void)
{
  GtkStack *levels = GTK_STACK (window_child ("level-stack"));
  GtkWidget *subtitle = window_child ("subtitle");
  GtkWidget *mimic;
  graphene_rect_t box;

  g_assert_cmpstr (gtk_stack_get_visible_child_name (levels), ==, "overview");
  g_assert_cmpstr (label_text (subtitle), ==, "Plant overview");

  /* Ctrl+1 */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "nav.area-number", "i", 1));
  g_assert_cmpstr (gtk_stack_get_visible_child_name (levels), ==, "area");
  g_assert_cmpstr (label_text (subtitle), ==, "Cleanroom suite");

  /* A click on a symbol of the mimic opens that device's faceplate: a real
   * click, through the X server, on the fill room's temperature. */
  mimic = ui_test_find_of_type (GTK_WIDGET (window), KANKYO_TYPE_MIMIC_VIEW);
  g_assert_nonnull (mimic);
  g_assert_true (ui_test_wait_for (ui_test_is_allocated, mimic, 5000));
  ui_test_spin (200);
  g_assert_true (kankyo_mimic_view_get_element_bounds (KANKYO_MIMIC_VIEW (mimic), "room-fill-temp", &box));
  ui_test_click (mimic, box.origin.x + box.size.width / 2, box.origin.y + box.size.height / 2);
  g_assert_true (ui_test_wait_for (stack_shows_device, levels, 3000));
  g_assert_cmpstr (label_text (subtitle), ==, "Cleanroom suite › Fill room temperature and humidity");
  g_assert_nonnull (ui_test_find_named (GTK_WIDGET (window), "th_fill.temperature"));

  /* Alt+Left: device -> area -> overview */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "nav.back", NULL));
  g_assert_cmpstr (gtk_stack_get_visible_child_name (levels), ==, "area");

  /* The keyboard does the same: arrows move the focus from element to
   * element, Enter opens the focused one's device. */
  gtk_widget_grab_focus (mimic);
  ui_test_xdo ("key --window %lu Right Right Return", ui_test_window_xid (window));
  g_assert_true (ui_test_wait_for (stack_shows_device, levels, 3000));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "nav.back", NULL));
  g_assert_cmpstr (gtk_stack_get_visible_child_name (levels), ==, "area");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "nav.back", NULL));
  g_assert_cmpstr (gtk_stack_get_visible_child_name (levels), ==, "overview");
  g_assert_cmpstr (label_text (subtitle), ==, "Plant overview");
}

typedef struct
{
  GtkWidget *label;
  char *first;
  guint changes;
  char *last;
} Watch;

static gboolean
value_changed_twice (gpointer data)
{
  Watch *w = data;
  const char *now = label_text (w->label);

  if (g_strcmp0 (now, w->last) != 0)
    {
      g_free (w->last);
      w->last = g_strdup (now);
      w->changes++;
    }
  return w->changes >= 2;
}

static void
test_live_values (void)
{
  Watch w = { 0 };

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "nav.device", "s", "th_fill"));
  w.label = window_child ("th_fill.temperature");
  w.first = g_strdup (label_text (w.label));
  w.last = g_strdup (w.first);
  g_test_message ("th_fill.temperature shows '%s'", w.first);
  g_assert_true (g_str_has_suffix (w.first, " degC"));
  g_assert_false (gtk_widget_has_css_class (w.label, "bad"));

  g_assert_true (ui_test_wait_for (value_changed_twice, &w, LIVE_TIMEOUT_MS));
  g_test_message ("th_fill.temperature changed to '%s'", w.last);
  g_assert_cmpstr (w.first, !=, w.last);
  g_free (w.first);
  g_free (w.last);
}

static guint
count_colours (GdkTexture *texture, double *ret_foreground)
{
  int width = gdk_texture_get_width (texture);
  int height = gdk_texture_get_height (texture);
  gsize stride = (gsize) width * 4;
  g_autofree guchar *pixels = g_malloc (stride * (gsize) height);
  g_autoptr (GHashTable) colours = g_hash_table_new (NULL, NULL);
  guint32 background = 0;
  guint most = 0;
  gsize n_background = 0;

  gdk_texture_download (texture, pixels, stride);
  for (gsize i = 0; i < (gsize) width * (gsize) height; i++)
    {
      guint32 px;
      guint count;

      memcpy (&px, pixels + i * 4, 4);
      count = GPOINTER_TO_UINT (g_hash_table_lookup (colours, GUINT_TO_POINTER (px))) + 1;
      g_hash_table_insert (colours, GUINT_TO_POINTER (px), GUINT_TO_POINTER (count));
      if (count > most)
        {
          most = count;
          background = px;
        }
    }
  for (gsize i = 0; i < (gsize) width * (gsize) height; i++)
    {
      guint32 px;

      memcpy (&px, pixels + i * 4, 4);
      n_background += px == background;
    }
  *ret_foreground = 1.0 - (double) n_background / ((double) width * height);
  return g_hash_table_size (colours);
}

/* Renders @widget as it is on screen into $KANKYO_BUILD_DIR/tests/ui/@name. */
static GdkTexture *
screenshot (GtkWidget *widget, const char *name)
{
  const char *build_dir = g_getenv ("KANKYO_BUILD_DIR");
  g_autofree char *path = g_build_filename (build_dir ? build_dir : ".", "tests", "ui", name, NULL);
  GdkTexture *texture;
  int width, height;

  g_assert_true (ui_test_wait_for (ui_test_is_allocated, widget, 5000));
  ui_test_spin (100); /* a frame to paint what was allocated */
  width = gtk_widget_get_width (widget);
  height = gtk_widget_get_height (widget);
  g_assert_cmpint (width, >, 100);
  g_assert_cmpint (height, >, 100);
  texture = ui_test_render (widget);
  g_assert_true (gdk_texture_save_to_png (texture, path));
  g_test_message ("screenshot %s: %dx%d", path, width, height);
  return texture;
}

static void
test_screenshot (void)
{
  g_autoptr (GdkTexture) overview = NULL;
  g_autoptr (GdkTexture) texture = NULL;
  double foreground = 0;
  guint colours;

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "nav.overview", NULL));
  ui_test_spin (200);
  overview = screenshot (GTK_WIDGET (window), "overview.png");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "nav.area-number", "i", 1));
  ui_test_spin (500);
  g_clear_object (&overview);
  overview = screenshot (GTK_WIDGET (window), "area.png");

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "nav.device", "s", "ahu1"));
  ui_test_spin (3000); /* a few updates and sparkline samples */
  texture = screenshot (GTK_WIDGET (window), "window.png");
  colours = count_colours (texture, &foreground);
  g_test_message ("%u colours, %.1f %% not background", colours, foreground * 100);
  g_assert_cmpuint (colours, >, 32);
  g_assert_cmpfloat (foreground, >, 0.02);
}

/* Share of the pixels in @r (window coordinates) that are darker than the
 * value box's paper: digits and, when the value is stale, the hatching. */
static double
ink_in (GdkTexture *texture, const graphene_rect_t *r)
{
  int width = gdk_texture_get_width (texture);
  int height = gdk_texture_get_height (texture);
  g_autofree guchar *pixels = g_malloc ((gsize) width * height * 4);
  int x0 = MAX (0, (int) r->origin.x), y0 = MAX (0, (int) r->origin.y);
  int x1 = MIN (width, (int) (r->origin.x + r->size.width));
  int y1 = MIN (height, (int) (r->origin.y + r->size.height));
  guint ink = 0, all = 0;

  gdk_texture_download (texture, pixels, (gsize) width * 4);
  for (int y = y0; y < y1; y++)
    for (int x = x0; x < x1; x++)
      {
        const guchar *p = pixels + ((gsize) y * width + x) * 4; /* B G R A */

        all++;
        if ((p[0] + p[1] + p[2]) / 3 < 200)
          ink++;
      }
  return all ? (double) ink / all : 0;
}

static gboolean
fill_temperature_is (gpointer data)
{
  KankyoEngine *engine = kankyo_application_get_engine (app);
  KankyoTagStore *store = kankyo_engine_get_tag_store (engine);
  KankyoTagSample s;
  gboolean match;

  kankyo_tag_store_get (store, (guint) kankyo_tag_store_lookup (store, "th_fill.temperature"), &s);
  match = (int) s.quality == GPOINTER_TO_INT (data);
  kankyo_tag_sample_clear (&s);
  return match;
}

/* The acceptance's second screenshot: the fill room's transmitter stops
 * answering (its simulator drops every connection), and on the area's
 * mimic its temperature is marked stale, then clears when it answers again. */
static void
test_stale_mimic (void)
{
  KankyoEngine *engine = kankyo_application_get_engine (app);
  KankyoSimHost *sim = kankyo_engine_get_sim_host (engine);
  KankyoServerFaults drop = { .drop = TRUE };
  KankyoServerFaults none = { 0 };
  g_autoptr (GdkTexture) live = NULL;
  g_autoptr (GdkTexture) stale = NULL;
  g_autoptr (GdkTexture) back = NULL;
  graphene_rect_t box;
  GtkWidget *view;
  double wx, wy, ink_live, ink_stale, ink_back;
  guint device;

  g_assert_nonnull (sim);
  device = kankyo_sim_host_find (sim, "th_fill");
  g_assert_cmpuint (device, !=, G_MAXUINT);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "nav.area-number", "i", 1));
  g_assert_true (
      ui_test_wait_for (fill_temperature_is, GINT_TO_POINTER (KANKYO_QUALITY_GOOD), LIVE_TIMEOUT_MS));
  ui_test_spin (500);
  view = ui_test_find_of_type (GTK_WIDGET (window), KANKYO_TYPE_MIMIC_VIEW);
  g_assert_nonnull (view);
  g_assert_true (kankyo_mimic_view_get_element_bounds (KANKYO_MIMIC_VIEW (view), "room-fill-temp", &box));
  g_assert_true (
      gtk_widget_translate_coordinates (view, GTK_WIDGET (window), box.origin.x, box.origin.y, &wx, &wy));
  box.origin.x = (float) wx;
  box.origin.y = (float) wy;
  live = screenshot (GTK_WIDGET (window), "mimic-live.png");
  ink_live = ink_in (live, &box);

  kankyo_sim_host_set_server_faults (sim, device, &drop);
  g_assert_true (ui_test_wait_for (
      fill_temperature_is, GINT_TO_POINTER (KANKYO_QUALITY_BAD_COMMUNICATION_ERROR), LIVE_TIMEOUT_MS));
  ui_test_spin (500);
  stale = screenshot (GTK_WIDGET (window), "mimic-stale.png");
  ink_stale = ink_in (stale, &box);

  kankyo_sim_host_set_server_faults (sim, device, &none);
  g_assert_true (
      ui_test_wait_for (fill_temperature_is, GINT_TO_POINTER (KANKYO_QUALITY_GOOD), LIVE_TIMEOUT_MS));
  ui_test_spin (500);
  back = screenshot (GTK_WIDGET (window), "mimic-back.png");
  ink_back = ink_in (back, &box);

  g_test_message ("room-fill-temp at %.0f,%.0f %.0fx%.0f: ink %.3f live, %.3f stale, %.3f back", box.origin.x,
                  box.origin.y, box.size.width, box.size.height, ink_live, ink_stale, ink_back);
  g_assert_cmpfloat (ink_live, >, 0.01);
  g_assert_cmpfloat (ink_stale, >, 1.5 * ink_live);
  g_assert_cmpfloat (ink_back, <, 0.8 * ink_stale);
}

static KankyoWriteDialog *
find_write_dialog (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr (GObject) item = g_list_model_get_item (toplevels, i);

      if (KANKYO_IS_WRITE_DIALOG (item) && gtk_widget_get_visible (GTK_WIDGET (item)))
        return KANKYO_WRITE_DIALOG (item);
    }
  return NULL;
}

static gboolean
dialog_has_result (gpointer data)
{
  GtkWidget *result = ui_test_find_named (GTK_WIDGET (data), "result-label");

  return *gtk_label_get_text (GTK_LABEL (result)) != '\0';
}

static gboolean
label_shows (gpointer data)
{
  return g_str_has_prefix (label_text (window_child ("ahu1.supply_temp_setpoint")), "19 ");
}

static double
store_value (const char *tag)
{
  KankyoTagStore *store = kankyo_engine_get_tag_store (kankyo_application_get_engine (app));
  KankyoTagSample s;
  double v;

  kankyo_tag_store_get (store, (guint) kankyo_tag_store_lookup (store, tag), &s);
  v = s.quality == KANKYO_QUALITY_GOOD ? kankyo_value_to_double (&s.value) : NAN;
  kankyo_tag_sample_clear (&s);
  return v;
}

static gboolean
fill_cooled_in_engine (gpointer data)
{
  return store_value ("th_fill.temperature") < *(double *) data;
}

static gboolean
fill_cooled_on_screen (gpointer data)
{
  GtkWidget *label = ui_test_find_named (GTK_WIDGET (window), "th_fill.temperature");

  return label != NULL && g_ascii_strtod (label_text (label), NULL) < *(double *) data;
}

/* After the supply air setpoint went down, the plant answers: half an hour
 * of simulated time later the fill room has cooled toward the new supply
 * air, in the engine and on the faceplate. */
static void
room_responds (void)
{
  KankyoSimHost *sim = kankyo_engine_get_sim_host (kankyo_application_get_engine (app));
  double before = store_value ("th_fill.temperature");
  double below = before - 0.25;

  g_assert_false (isnan (before));
  kankyo_sim_host_advance (sim, 1800, 1.0);
  g_assert_true (ui_test_wait_for (fill_cooled_in_engine, &below, LIVE_TIMEOUT_MS));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "nav.device", "s", "th_fill"));
  g_assert_true (ui_test_wait_for (fill_cooled_on_screen, &below, LIVE_TIMEOUT_MS));
  g_test_message ("fill room: %.2f degC before the setpoint change, %.2f degC 30 simulated minutes after",
                  before, store_value ("th_fill.temperature"));
}

static void
test_write_setpoint (void)
{
  KankyoEngine *engine = kankyo_application_get_engine (app);
  GtkWidget *dialog, *value_entry, *reason_entry, *write_button, *message;
  g_autoptr (KankyoAudit) audit = NULL;
  g_autoptr (GPtrArray) records = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GdkTexture) shot = NULL;
  gboolean request_found = FALSE, result_found = FALSE;
  const char *result;

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "nav.device", "s", "ahu1"));
  g_assert_null (find_write_dialog ());
  press (window_child ("change:ahu1.supply_temp_setpoint"));
  dialog = GTK_WIDGET (find_write_dialog ());
  g_assert_nonnull (dialog);
  g_assert_true (gtk_window_get_transient_for (GTK_WINDOW (dialog)) == window);
  g_assert_true (gtk_window_get_modal (GTK_WINDOW (dialog)));

  value_entry = ui_test_find_named (dialog, "value-entry");
  reason_entry = ui_test_find_named (dialog, "reason-entry");
  write_button = ui_test_find_named (dialog, "write-button");
  message = ui_test_find_named (dialog, "value-message");
  g_assert_nonnull (value_entry);
  g_assert_nonnull (reason_entry);
  g_assert_nonnull (write_button);

  /* Checked while typing, with the tag's limits (12 to 26 degC). */
  gtk_editable_set_text (GTK_EDITABLE (reason_entry), TEST_REASON);
  gtk_editable_set_text (GTK_EDITABLE (value_entry), "99");
  g_assert_false (gtk_widget_get_sensitive (write_button));
  g_assert_true (gtk_widget_has_css_class (message, "error"));
  g_test_message ("99: %s", label_text (message));
  g_assert_nonnull (strstr (label_text (message), "26"));
  gtk_editable_set_text (GTK_EDITABLE (value_entry), "warm");
  g_assert_false (gtk_widget_get_sensitive (write_button));
  g_test_message ("warm: %s", label_text (message));

  /* No reason, no write. */
  gtk_editable_set_text (GTK_EDITABLE (value_entry), "19");
  gtk_editable_set_text (GTK_EDITABLE (reason_entry), "  ");
  g_assert_false (gtk_widget_get_sensitive (write_button));
  gtk_editable_set_text (GTK_EDITABLE (reason_entry), TEST_REASON);
  g_assert_true (gtk_widget_get_sensitive (write_button));
  g_assert_false (gtk_widget_has_css_class (message, "error"));

  /* Write first asks. */
  shot = screenshot (dialog, "write-dialog.png");
  press (write_button);
  g_test_message ("confirmation: %s", label_text (ui_test_find_named (dialog, "confirm-label")));
  g_assert_true (g_str_has_prefix (label_text (ui_test_find_named (dialog, "confirm-label")),
                                   "Change Supply air temperature setpoint from "));
  g_assert_true (
      g_str_has_suffix (label_text (ui_test_find_named (dialog, "confirm-label")), " to 19 degC?"));
  press (ui_test_find_named (dialog, "confirm-button"));

  g_assert_true (ui_test_wait_for (dialog_has_result, dialog, WRITE_TIMEOUT_MS));
  result = label_text (ui_test_find_named (dialog, "result-label"));
  g_test_message ("result: %s", result);
  g_assert_cmpstr (result, ==, "Confirmed: 19 degC");
  g_clear_object (&shot);
  shot = screenshot (dialog, "write-dialog-result.png");

  /* The faceplate behind the dialog follows. */
  g_assert_true (ui_test_wait_for (label_shows, NULL, LIVE_TIMEOUT_MS));
  gtk_window_close (GTK_WINDOW (dialog));

  audit = kankyo_audit_open_readonly (kankyo_engine_get_audit_path (engine), &error);
  g_assert_no_error (error);
  records = kankyo_audit_list (audit, 0, 1000, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < records->len; i++)
    {
      KankyoAuditRecord *r = g_ptr_array_index (records, i);

      if (g_strcmp0 (r->target, "ahu1.supply_temp_setpoint") != 0 || g_strcmp0 (r->reason, TEST_REASON) != 0)
        continue;
      g_assert_cmpstr (r->actor, ==, g_get_user_name ());
      if (g_str_equal (r->action, "write.request"))
        {
          g_assert_cmpstr (r->new_value, ==, "19");
          request_found = TRUE;
        }
      else if (g_str_equal (r->action, "write.result"))
        {
          g_assert_cmpstr (r->result, ==, "ok");
          result_found = TRUE;
        }
    }
  g_assert_true (request_found);
  g_assert_true (result_found);

  room_responds ();
}

static void
test_load_error (void)
{
  g_autoptr (GError) error
      = g_error_new (G_IO_ERROR, G_IO_ERROR_FAILED,
                     "/srv/plant/project.yaml:12:5: poll-period: expected a duration such as 1s");
  KankyoWindow *error_window = kankyo_window_new (app, error);
  GtkWidget *where = ui_test_find_named (GTK_WIDGET (error_window), "error-where");
  GtkWidget *what = ui_test_find_named (GTK_WIDGET (error_window), "error-message");

  g_assert_cmpstr (label_text (where), ==, "/srv/plant/project.yaml, line 12, column 5");
  g_assert_cmpstr (label_text (what), ==, "poll-period: expected a duration such as 1s");
  g_assert_false (gtk_widget_get_visible (gtk_widget_get_ancestor (
      ui_test_find_named (GTK_WIDGET (error_window), "status-bar"), GTK_TYPE_SCROLLED_WINDOW)));
  gtk_window_present (GTK_WINDOW (error_window));
  ui_test_spin (300);
  g_object_unref (screenshot (GTK_WIDGET (error_window), "load-error.png"));
  gtk_window_destroy (GTK_WINDOW (error_window));
}

/* A thermostat served by an in-process simulator on a free loopback port. */
static KankyoSimHost *
start_thermostat (guint16 *ret_port)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (KankyoDeviceType) type = kankyo_modules_get_device_type ("test.thermostat", &error);
  g_autoptr (KankyoDriver) driver = kankyo_modules_get_driver ("modbus", &error);
  g_autoptr (KankyoEndpoint) endpoint = kankyo_endpoint_parse ("tcp://127.0.0.1:0", &error);
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (KankyoDeviceMap) map = NULL;
  g_autoptr (GPtrArray) specs = NULL;
  g_autoptr (KankyoSimModel) model = NULL;
  g_autofree char *where = NULL;
  KankyoDeviceConfig config = { 0 };
  KankyoSimHost *sim;

  g_assert_no_error (error);
  bytes = kankyo_device_type_get_map (type, NULL);
  map = kankyo_device_map_parse (bytes, "thermostat", &error);
  g_assert_no_error (error);
  config.name = (char *) "sim";
  specs = kankyo_device_map_resolve_tags (map, &config, &error);
  g_assert_no_error (error);
  model = kankyo_device_type_create_model (type, NULL, &error);
  g_assert_no_error (error);
  sim = kankyo_sim_host_new (1.0);
  g_assert_cmpuint (kankyo_sim_host_add (sim, "sim", specs, model, driver, endpoint, 1, &error), ==, 0);
  g_assert_no_error (error);
  g_assert_true (kankyo_sim_host_start (sim, &error));
  g_assert_no_error (error);
  where = kankyo_sim_host_get_endpoint (sim, 0);
  *ret_port = (guint16) atoi (strrchr (where, ':') + 1);
  return sim;
}

static gboolean
has_class (gpointer data)
{
  return gtk_widget_has_css_class (GTK_WIDGET (data), "bad");
}

static gboolean
lacks_class (gpointer data)
{
  return !has_class (data);
}

/* The simulator goes away: the faceplate keeps the last value, outlined
 * and hatched, and says in words that communication is lost. */
static void
test_stale (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_build_filename (data_dir, "stale", NULL);
  g_autofree char *project_path = g_build_filename (dir, "plant.yaml", NULL);
  g_autofree char *text = NULL;
  g_autoptr (GdkTexture) live = NULL;
  g_autoptr (GdkTexture) stale = NULL;
  g_autoptr (KankyoEngine) engine = NULL;
  KankyoSimHost *sim;
  KankyoProject *project;
  GtkWindow *plate_window;
  GtkWidget *value, *quality, *dialog;
  guint16 port = 0;

  sim = start_thermostat (&port);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  text = g_strdup_printf ("project: Stale test\n"
                          "areas:\n"
                          "  - name: lab\n"
                          "    devices:\n"
                          "      - name: room1\n"
                          "        type: test.thermostat\n"
                          "        endpoint: tcp://127.0.0.1:%u?timeout=150\n"
                          "        poll-period: 200ms\n",
                          port);
  g_assert_true (g_file_set_contents (project_path, text, -1, NULL));
  project = kankyo_project_load (project_path, &error);
  g_assert_no_error (error);
  engine = kankyo_engine_new (project, dir, &error);
  g_assert_no_error (error);
  g_assert_true (kankyo_engine_start (engine, &error));
  g_assert_no_error (error);

  plate_window = GTK_WINDOW (gtk_window_new ());
  gtk_window_set_default_size (plate_window, 900, 600);
  gtk_window_set_child (plate_window, kankyo_faceplate_new (engine, "room1"));
  gtk_window_present (plate_window);
  value = ui_test_find_named (GTK_WIDGET (plate_window), "room1.temperature");
  g_assert_nonnull (value);
  quality = gtk_widget_get_next_sibling (value);

  g_assert_true (ui_test_wait_for (lacks_class, value, LIVE_TIMEOUT_MS));
  g_assert_cmpstr (label_text (quality), ==, "Good");
  ui_test_spin (1000);
  live = screenshot (GTK_WIDGET (plate_window), "faceplate-live.png");

  kankyo_sim_host_stop (sim);
  g_assert_true (ui_test_wait_for (has_class, value, LIVE_TIMEOUT_MS));
  g_test_message ("after the simulator stopped: '%s', %s", label_text (value), label_text (quality));
  g_assert_cmpstr (label_text (quality), ==, "Bad: communication lost");
  g_assert_true (gtk_widget_has_css_class (quality, "bad"));
  /* The last value stays on screen, marked. */
  g_assert_true (g_str_has_suffix (label_text (value), " degC"));
  ui_test_spin (500);
  stale = screenshot (GTK_WIDGET (plate_window), "faceplate-stale.png");

  /* A write to a device that does not answer fails, and the dialog says so. */
  press (ui_test_find_named (GTK_WIDGET (plate_window), "change:room1.setpoint"));
  dialog = GTK_WIDGET (find_write_dialog ());
  g_assert_nonnull (dialog);
  gtk_editable_set_text (GTK_EDITABLE (ui_test_find_named (dialog, "value-entry")), "21");
  gtk_editable_set_text (GTK_EDITABLE (ui_test_find_named (dialog, "reason-entry")), TEST_REASON);
  press (ui_test_find_named (dialog, "write-button"));
  press (ui_test_find_named (dialog, "confirm-button"));
  g_assert_true (ui_test_wait_for (dialog_has_result, dialog, WRITE_TIMEOUT_MS));
  g_test_message ("write to a stopped device: %s", label_text (ui_test_find_named (dialog, "result-label")));
  g_assert_true (
      g_str_has_prefix (label_text (ui_test_find_named (dialog, "result-label")), "Not confirmed: "));
  gtk_window_destroy (GTK_WINDOW (dialog));

  gtk_window_destroy (plate_window);
  kankyo_engine_stop (engine);
  kankyo_sim_host_free (sim);
}

static void
test_window_state (void)
{
  g_autoptr (GSettings) settings = g_settings_new ("org.kankyo.Kankyo");

  gtk_window_set_default_size (window, 1111, 777);
  gtk_window_close (window);
  g_assert_cmpint (g_settings_get_int (settings, "window-width"), ==, 1111);
  g_assert_cmpint (g_settings_get_int (settings, "window-height"), ==, 777);
  g_assert_false (g_settings_get_boolean (settings, "window-maximized"));
}

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        remove_tree (child);
      else
        g_remove (child);
    }
  g_rmdir (path);
}

static gboolean
window_mapped (gpointer data)
{
  return gtk_widget_get_mapped (GTK_WIDGET (window));
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  KankyoEngine *engine;
  int status;

  /* Before GTK and the engine: no state of the developer's is read or
   * written. */
  data_dir = g_dir_make_tmp ("kankyo-ui-XXXXXX", &error);
  g_assert_no_error (error);
  g_setenv ("KANKYO_DATA_DIR", data_dir, TRUE);
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);

  gtk_test_init (&argc, &argv, NULL);

  app = kankyo_application_new ();
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);
  engine = kankyo_application_get_engine (app);
  g_assert_nonnull (engine);
  g_application_activate (G_APPLICATION (app));
  window = gtk_application_get_windows (GTK_APPLICATION (app))->data;
  g_assert_true (KANKYO_IS_WINDOW (window));
  g_assert_true (ui_test_wait_for (window_mapped, NULL, 10000));

  g_test_add_func ("/ui/window/status-bar", test_status_bar);
  g_test_add_func ("/ui/window/navigation", test_navigation);
  g_test_add_func ("/ui/window/live-values", test_live_values);
  g_test_add_func ("/ui/window/screenshot", test_screenshot);
  g_test_add_func ("/ui/window/write-dialog", test_write_setpoint);
  g_test_add_func ("/ui/window/load-error", test_load_error);
  g_test_add_func ("/ui/window/stale", test_stale);
  g_test_add_func ("/ui/window/stale-mimic", test_stale_mimic);
  g_test_add_func ("/ui/window/state", test_window_state);
  status = g_test_run ();

  kankyo_engine_stop (engine);
  g_clear_object (&app);
  remove_tree (data_dir);
  g_free (data_dir);
  return status;
}
