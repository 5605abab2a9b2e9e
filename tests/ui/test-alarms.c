/* test-alarms.c: the alarm screens on a small simulated plant, under Xvfb.
 *
 * The real application opens a project written here: one simulated oven
 * whose registers hold what the test sets through the simulator (as the
 * device itself would), with a high-priority temperature alarm that has
 * guidance and a latching medium-priority pressure alarm, and a mimic of
 * both values. The test drives excursions and checks what an operator sees
 * and does: the banner's line, counts, blinking mark and repeating sound
 * (and its silence); the mimic element's alarm mark blinking in pixels and
 * then steady; the alarm selected from the banner in the summary, its
 * guidance, its row, the filter and the way to its display; acknowledged;
 * shelved through the dialog (whose checks refuse a missing reason and a
 * shelve longer than allowed), unshelved (annunciated anew), returned and
 * acknowledged again; a latched alarm acknowledged with "all shown" and
 * reset; then the acknowledgement with the login name in the history
 * window's search, in alarms.db searched directly, in the CSV export and
 * in the audit trail, and the performance report with its PDF.
 *
 * Widgets are found by their names (gtk_widget_set_name) and driven by
 * activating them, as Enter on a focused button does.
 */
#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <string.h>

#include "ui-test-util.h"
#include "kankyo-alarm-banner.h"
#include "kankyo-alarm-history.h"
#include "kankyo-alarm-summary.h"
#include "kankyo-application.h"
#include "kankyo-audit.h"
#include "kankyo-mimic-view.h"
#include "kankyo-window.h"

#define TIMEOUT_MS 20000
#define TEMPERATURE_ALARM "oven.temperature.high"
#define PRESSURE_ALARM "oven.pressure.high"
#define GUIDANCE "Open the oven door and check the heater relay."
#define SHELVE_REASON "UI test: oven under maintenance"

static KankyoApplication *app;
static GtkWindow *window;
static char *data_dir;
static int status;

/* ---- the plant ---- */

static const char project_yaml[] = "project: Alarm screens test\n"
                                   "areas:\n"
                                   "  - name: lab\n"
                                   "    label: Test lab\n"
                                   "    mimic: {svg: lab.svg, bindings: lab-bindings.yaml}\n"
                                   "    devices:\n"
                                   "      - name: oven\n"
                                   "        label: Test oven\n"
                                   "        endpoint: simulated\n"
                                   "        poll-period: 100ms\n"
                                   "        tags:\n"
                                   "          - name: temperature\n"
                                   "            label: Oven temperature\n"
                                   "            unit: degC\n"
                                   "            area: holding\n"
                                   "            address: 0\n"
                                   "            type: int16\n"
                                   "            scale: 0.1\n"
                                   "            alarms:\n"
                                   "              high: 50\n"
                                   "              priority: high\n"
                                   "              guidance: " GUIDANCE "\n"
                                   "          - name: pressure\n"
                                   "            label: Chamber pressure\n"
                                   "            unit: kPa\n"
                                   "            area: holding\n"
                                   "            address: 1\n"
                                   "            type: int16\n"
                                   "            scale: 0.1\n"
                                   "            alarms:\n"
                                   "              high: 5\n"
                                   "              priority: medium\n"
                                   "              latching: true\n";

static const char svg_text[]
    = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"400\" height=\"200\">\n"
      "  <rect width=\"400\" height=\"200\" fill=\"#e6e6e6\"/>\n"
      "  <rect x=\"40\" y=\"40\" width=\"320\" height=\"120\" fill=\"none\" stroke=\"#555555\"/>\n"
      "  <rect id=\"oven-temp\" x=\"80\" y=\"80\" width=\"100\" height=\"30\" fill=\"#f7f7f7\" "
      "stroke=\"#9a9a9a\"/>\n"
      "  <rect id=\"oven-pressure\" x=\"220\" y=\"80\" width=\"100\" height=\"30\" fill=\"#f7f7f7\" "
      "stroke=\"#9a9a9a\"/>\n"
      "</svg>\n";

static const char bindings_yaml[] = "bindings:\n"
                                    "  - id: oven-temp\n"
                                    "    text: {tag: oven.temperature, format: \"%.1f\"}\n"
                                    "  - id: oven-pressure\n"
                                    "    text: {tag: oven.pressure, format: \"%.1f\"}\n";

/* ---- helpers ---- */

static GtkWidget *
child_named (GtkWidget *root, const char *name)
{
  GtkWidget *widget = ui_test_find_named (root, name);

  if (widget == NULL)
    g_error ("no widget named %s in %s", name, G_OBJECT_TYPE_NAME (root));
  return widget;
}

/* The text of a label, or of a cell of the alarm banner and lists. */
static const char *
label_text (GtkWidget *widget)
{
  if (KANKYO_IS_ALARM_CELL (widget))
    return kankyo_alarm_cell_get_text (KANKYO_ALARM_CELL (widget));
  g_assert_true (GTK_IS_LABEL (widget));
  return gtk_label_get_text (GTK_LABEL (widget));
}

static GtkWindow *
find_toplevel (GType type)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr (GObject) item = g_list_model_get_item (toplevels, i);

      if (G_TYPE_CHECK_INSTANCE_TYPE (item, type) && gtk_widget_get_visible (GTK_WIDGET (item)))
        return GTK_WINDOW (item);
    }
  return NULL;
}

static GtkWindow *
find_toplevel_named (const char *name)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr (GObject) item = g_list_model_get_item (toplevels, i);

      if (g_strcmp0 (gtk_widget_get_name (GTK_WIDGET (item)), name) == 0
          && gtk_widget_get_visible (GTK_WIDGET (item)))
        return GTK_WINDOW (item);
    }
  return NULL;
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

/* As Enter or Space on a focused button does. */
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

static KankyoEngine *
engine (void)
{
  return kankyo_application_get_engine (app);
}

static void
set_value (const char *tag, double value)
{
  KankyoSimHost *sim = kankyo_engine_get_sim_host (engine ());
  guint device = kankyo_sim_host_find (sim, "oven");

  g_assert_cmpuint (device, !=, G_MAXUINT);
  kankyo_sim_host_set_value (sim, device, tag, value);
}

static KankyoAlarmBanner *
banner (void)
{
  GtkWidget *widget = ui_test_find_of_type (GTK_WIDGET (window), KANKYO_TYPE_ALARM_BANNER);

  g_assert_nonnull (widget);
  return KANKYO_ALARM_BANNER (widget);
}

static gboolean
banner_shows (gpointer data)
{
  return g_strcmp0 (kankyo_alarm_banner_get_line_alarm (banner (), 0), data) == 0;
}

static gboolean
alarm_in_state (gpointer data)
{
  KankyoAlarmEngine *alarms = kankyo_engine_get_alarms (engine ());
  const char *const *want = data; /* id, state */
  KankyoAlarmInfo info;
  gint index = kankyo_alarm_engine_lookup (alarms, want[0]);
  gboolean match;

  g_assert_cmpint (index, >=, 0);
  g_assert_true (kankyo_alarm_engine_get_info (alarms, (guint) index, &info));
  match = g_str_equal (kankyo_alarm_state_to_string (info.state), want[1]);
  kankyo_alarm_info_clear (&info);
  return match;
}

static void
wait_alarm_state (const char *id, KankyoAlarmState state)
{
  const char *want[] = { id, kankyo_alarm_state_to_string (state) };

  if (!ui_test_wait_for (alarm_in_state, want, TIMEOUT_MS))
    {
      KankyoAlarmEngine *alarms = kankyo_engine_get_alarms (engine ());
      KankyoAlarmInfo info;

      g_assert_true (
          kankyo_alarm_engine_get_info (alarms, (guint) kankyo_alarm_engine_lookup (alarms, id), &info));
      g_error ("%s is %s, not %s", id, kankyo_alarm_state_to_string (info.state), want[1]);
    }
}

/* Renders @widget as it is on screen into $KANKYO_BUILD_DIR/tests/ui/@name. */
static void
screenshot (GtkWidget *widget, const char *name)
{
  const char *build_dir = g_getenv ("KANKYO_BUILD_DIR");
  g_autofree char *path = g_build_filename (build_dir ? build_dir : ".", "tests", "ui", name, NULL);
  g_autoptr (GdkTexture) texture = NULL;

  g_assert_true (ui_test_wait_for (ui_test_is_allocated, widget, 5000));
  ui_test_spin (100);
  texture = ui_test_render (widget);
  g_assert_true (gdk_texture_save_to_png (texture, path));
  g_test_message ("screenshot %s", path);
}

/* Clearly red pixels (the high-priority colour) in @r of @widget, widened
 * by the half of the mark that stands out of the element's box. */
static guint
red_pixels (GtkWidget *widget, const graphene_rect_t *r)
{
  g_autoptr (GdkTexture) texture = ui_test_render (widget);
  int width = gdk_texture_get_width (texture);
  int height = gdk_texture_get_height (texture);
  double factor = width / (double) gtk_widget_get_width (widget);
  g_autofree guchar *data = g_malloc ((gsize) width * height * 4);
  int x0 = MAX (0, (int) ((r->origin.x - 16) * factor));
  int y0 = MAX (0, (int) ((r->origin.y - 16) * factor));
  int x1 = MIN (width, (int) ((r->origin.x + r->size.width + 16) * factor));
  int y1 = MIN (height, (int) ((r->origin.y + r->size.height + 16) * factor));
  guint red = 0;

  gdk_texture_download (texture, data, (gsize) width * 4);
  for (int y = y0; y < y1; y++)
    for (int x = x0; x < x1; x++)
      {
        const guchar *p = data + ((gsize) y * width + x) * 4; /* B G R A */

        if (p[2] > 150 && p[1] < 90 && p[0] < 90)
          red++;
      }
  return red;
}

typedef struct
{
  guint min;
  guint max;
} Range;

/* The red of the element's alarm mark over two blink periods. */
static Range
sample_mark (GtkWidget *view, const char *id)
{
  graphene_rect_t box;
  Range range = { G_MAXUINT, 0 };

  g_assert_true (kankyo_mimic_view_get_element_bounds (KANKYO_MIMIC_VIEW (view), id, &box));
  for (int i = 0; i < 20; i++)
    {
      guint red = red_pixels (view, &box);

      range.min = MIN (range.min, red);
      range.max = MAX (range.max, red);
      ui_test_spin (110);
    }
  return range;
}

/* Opacity of the banner's first mark over two blink periods. */
static Range
sample_banner_mark (void)
{
  GtkWidget *line = child_named (GTK_WIDGET (banner ()), "alarm-banner-line-0");
  GtkWidget *mark = ui_test_find_of_type (line, KANKYO_TYPE_ALARM_MARK);
  Range range = { G_MAXUINT, 0 };

  g_assert_nonnull (mark);
  for (int i = 0; i < 12; i++)
    {
      guint opacity = (guint) (gtk_widget_get_opacity (mark) * 100);

      range.min = MIN (range.min, opacity);
      range.max = MAX (range.max, opacity);
      ui_test_spin (110);
    }
  return range;
}

static void
element_alarm (GtkWidget *view, const char *id, KankyoMimicState *ret_state, gboolean *ret_blinking)
{
  g_assert_true (kankyo_mimic_view_get_element_alarm (KANKYO_MIMIC_VIEW (view), id, ret_state, ret_blinking));
}

static gboolean
view_blinks (gpointer data)
{
  KankyoMimicState state;
  gboolean blinking;

  element_alarm (data, "oven-temp", &state, &blinking);
  return state == KANKYO_MIMIC_STATE_ALARM_HIGH && blinking;
}

static gboolean
view_steady (gpointer data)
{
  KankyoMimicState state;
  gboolean blinking;

  element_alarm (data, "oven-temp", &state, &blinking);
  return state == KANKYO_MIMIC_STATE_ALARM_HIGH && !blinking;
}

static gboolean
view_normal (gpointer data)
{
  KankyoMimicState state;
  gboolean blinking;

  element_alarm (data, "oven-temp", &state, &blinking);
  return state == KANKYO_MIMIC_STATE_NORMAL && !blinking;
}

static gboolean
label_is (gpointer data)
{
  const char *const *want = data; /* widget name in the banner, text */

  return g_strcmp0 (label_text (child_named (GTK_WIDGET (banner ()), want[0])), want[1]) == 0;
}

static GtkWidget *
mimic (void)
{
  GtkWidget *view;

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "nav.area-number", "i", 1));
  view = ui_test_find_of_type (GTK_WIDGET (window), KANKYO_TYPE_MIMIC_VIEW);
  g_assert_nonnull (view);
  g_assert_true (ui_test_wait_for (ui_test_is_allocated, view, 5000));
  return view;
}

static gboolean
device_online (gpointer data)
{
  KankyoTagStore *store = kankyo_engine_get_tag_store (engine ());
  KankyoTagSample sample;
  gboolean online;

  kankyo_tag_store_get (store, (guint) kankyo_tag_store_lookup (store, "oven._online"), &sample);
  online = sample.value.type == KANKYO_VALUE_BOOL && sample.value.v.b;
  kankyo_tag_sample_clear (&sample);
  return online;
}

static KankyoAlarmSummary *
summary (void)
{
  GtkWindow *found = find_toplevel (KANKYO_TYPE_ALARM_SUMMARY);

  g_assert_nonnull (found);
  return KANKYO_ALARM_SUMMARY (found);
}

static gboolean
has_cell_text (GtkWidget *root, const char *text)
{
  if (KANKYO_IS_ALARM_CELL (root)
      && g_str_equal (kankyo_alarm_cell_get_text (KANKYO_ALARM_CELL (root)), text))
    return TRUE;
  for (GtkWidget *child = gtk_widget_get_first_child (root); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (has_cell_text (child, text))
      return TRUE;
  return FALSE;
}

/* A row of the summary's list shows @data in one of its cells. */
static gboolean
summary_row_shows (gpointer data)
{
  return has_cell_text (child_named (GTK_WIDGET (summary ()), "alarm-summary-view"), data);
}

static gboolean
summary_says (gpointer data)
{
  return g_str_has_prefix (label_text (child_named (GTK_WIDGET (summary ()), "alarm-summary-status")), data)
         && !kankyo_alarm_summary_is_busy (summary ());
}

/* ---- tests ---- */

static void
test_quiet (void)
{
  KankyoAlarmBanner *b = banner ();

  g_assert_true (ui_test_wait_for (device_online, NULL, TIMEOUT_MS));
  ui_test_spin (500);
  g_assert_null (kankyo_alarm_banner_get_line_alarm (b, 0));
  g_assert_cmpstr (label_text (child_named (GTK_WIDGET (b), "alarm-banner-message-0")), ==, "No alarms");
  g_assert_false (kankyo_alarm_banner_get_ringing (b));
  g_assert_cmpstr (label_text (child_named (GTK_WIDGET (b), "alarm-banner-count-high")), ==, "0");
}

/* The excursion: the banner shows it first, its mark blinks, the sound
 * rings, and a silenced station stays silent. */
static void
test_banner (void)
{
  KankyoAlarmBanner *b = banner ();
  g_autoptr (GSettings) settings = g_settings_new ("org.kankyo.Kankyo");
  Range blink;

  set_value ("temperature", 65.0);
  g_assert_true (ui_test_wait_for (banner_shows, (gpointer) TEMPERATURE_ALARM, TIMEOUT_MS));
  g_assert_cmpstr (label_text (child_named (GTK_WIDGET (b), "alarm-banner-message-0")), ==,
                   "Test oven: Oven temperature high");
  g_assert_cmpstr (label_text (child_named (GTK_WIDGET (b), "alarm-banner-state-0")), ==, "Unacknowledged");
  g_assert_cmpstr (label_text (child_named (GTK_WIDGET (b), "alarm-banner-count-high")), ==, "1");
  g_assert_cmpuint (kankyo_alarm_banner_get_count (b, KANKYO_ALARM_PRIORITY_HIGH, TRUE), ==, 1);
  g_assert_null (kankyo_alarm_banner_get_line_alarm (b, 1));
  g_assert_true (kankyo_alarm_banner_get_ringing (b));

  blink = sample_banner_mark ();
  g_test_message ("banner mark opacity between %u and %u %%", blink.min, blink.max);
  g_assert_cmpuint (blink.min, ==, 0);
  g_assert_cmpuint (blink.max, ==, 100);

  /* Silenced by its toggle, and remembered; then heard again. */
  press (child_named (GTK_WIDGET (b), "alarm-banner-silence"));
  g_assert_true (kankyo_alarm_banner_get_silenced (b));
  g_assert_false (kankyo_alarm_banner_get_ringing (b));
  g_assert_true (g_settings_get_boolean (settings, "alarm-sound-silenced"));
  press (child_named (GTK_WIDGET (b), "alarm-banner-silence"));
  g_assert_false (g_settings_get_boolean (settings, "alarm-sound-silenced"));
  g_assert_true (kankyo_alarm_banner_get_ringing (b));
  screenshot (GTK_WIDGET (window), "alarms-banner.png");
}

static void
test_mimic_blinks (void)
{
  GtkWidget *view = mimic ();
  Range red;

  g_assert_true (ui_test_wait_for (view_blinks, view, TIMEOUT_MS));
  red = sample_mark (view, "oven-temp");
  g_test_message ("oven-temp: %u to %u red pixels while unacknowledged", red.min, red.max);
  g_assert_cmpuint (red.min, ==, 0);
  g_assert_cmpuint (red.max, >, 40);
  /* The pressure is normal: nothing on it. */
  red = sample_mark (view, "oven-pressure");
  g_assert_cmpuint (red.max, ==, 0);
  screenshot (GTK_WIDGET (window), "alarms-mimic.png");
}

static gboolean
search_applied (gpointer data)
{
  return kankyo_alarm_summary_get_n_shown (summary ()) == GPOINTER_TO_UINT (data);
}

/* From the banner's line to the summary, where the operator reads the
 * guidance and acknowledges. */
static void
test_acknowledge (void)
{
  KankyoAlarmBanner *b = banner ();
  GtkWidget *view = mimic ();
  GtkWidget *s, *search;
  const char *want_acked[] = { "alarm-banner-state-0", "Acknowledged" };
  Range red;

  g_assert_null (find_toplevel (KANKYO_TYPE_ALARM_SUMMARY));
  press (child_named (GTK_WIDGET (b), "alarm-banner-line-0"));
  s = GTK_WIDGET (summary ());
  g_assert_true (gtk_window_get_transient_for (GTK_WINDOW (s)) == window);
  g_assert_cmpuint (kankyo_alarm_summary_get_n_alarms (KANKYO_ALARM_SUMMARY (s)), ==, 1);
  g_assert_true (ui_test_wait_for (summary_row_shows, (gpointer) "Unacknowledged", TIMEOUT_MS));
  g_assert_true (
      ui_test_wait_for (summary_row_shows, (gpointer) "Test oven: Oven temperature high", TIMEOUT_MS));
  g_assert_true (ui_test_wait_for (summary_row_shows, (gpointer) "65 degC", TIMEOUT_MS));
  g_assert_nonnull (strstr (label_text (child_named (s, "alarm-summary-details")), TEMPERATURE_ALARM));
  g_assert_cmpstr (label_text (child_named (s, "alarm-summary-guidance")), ==, "Guidance: " GUIDANCE);
  /* The way to the display that handles it. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "nav.overview", NULL));
  press (child_named (s, "alarm-summary-display"));
  g_assert_cmpstr (
      gtk_stack_get_visible_child_name (GTK_STACK (child_named (GTK_WIDGET (window), "level-stack"))), ==,
      "area");
  g_assert_cmpstr (label_text (child_named (GTK_WIDGET (window), "subtitle")), ==, "Test lab");
  g_assert_false (gtk_widget_get_sensitive (child_named (s, "alarm-unshelve-button")));
  g_assert_false (gtk_widget_get_sensitive (child_named (s, "alarm-reset-button")));

  /* The filter hides what does not match, and the selection survives. */
  search = child_named (s, "alarm-summary-search");
  gtk_editable_set_text (GTK_EDITABLE (search), "pressure");
  g_assert_true (ui_test_wait_for (search_applied, GUINT_TO_POINTER (0), 5000));
  gtk_editable_set_text (GTK_EDITABLE (search), "temperature");
  g_assert_true (ui_test_wait_for (search_applied, GUINT_TO_POINTER (1), 5000));
  g_assert_true (kankyo_alarm_summary_select (KANKYO_ALARM_SUMMARY (s), TEMPERATURE_ALARM));
  screenshot (s, "alarms-summary.png");

  press (child_named (s, "alarm-ack-button"));
  g_assert_true (ui_test_wait_for (summary_says, (gpointer) "1 alarm acknowledged.", TIMEOUT_MS));
  wait_alarm_state (TEMPERATURE_ALARM, KANKYO_ALARM_STATE_ACKED);
  g_assert_true (ui_test_wait_for (label_is, want_acked, TIMEOUT_MS));
  g_assert_false (kankyo_alarm_banner_get_ringing (b));
  g_assert_false (gtk_widget_get_sensitive (child_named (s, "alarm-ack-button")));
  /* The row follows: it says so, no longer in bold. */
  g_assert_true (ui_test_wait_for (summary_row_shows, (gpointer) "Acknowledged", TIMEOUT_MS));
  g_assert_false (summary_row_shows ((gpointer) "Unacknowledged"));

  /* Steady on the mimic now. */
  g_assert_true (ui_test_wait_for (view_steady, view, TIMEOUT_MS));
  red = sample_mark (view, "oven-temp");
  g_test_message ("oven-temp: %u to %u red pixels once acknowledged", red.min, red.max);
  g_assert_cmpuint (red.min, >, 40);
  gtk_editable_set_text (GTK_EDITABLE (search), "");
}

static KankyoAlarmHistory *history_window (void);

/* Shelving asks for a reason and a time within the engine's maximum. */
static void
test_shelve (void)
{
  KankyoAlarmBanner *b = banner ();
  GtkWidget *s = GTK_WIDGET (summary ());
  GtkWidget *view = mimic ();
  GtkWidget *dialog, *reason, *duration, *message, *button;
  const char *want_none[] = { "alarm-banner-message-0", "No alarms" };
  const char *want_unacked[] = { "alarm-banner-state-0", "Unacknowledged" };
  const char *want_returned[] = { "alarm-banner-state-0", "Returned, unacknowledged" };

  g_assert_true (kankyo_alarm_summary_select (KANKYO_ALARM_SUMMARY (s), TEMPERATURE_ALARM));
  press (child_named (s, "alarm-shelve-button"));
  dialog = GTK_WIDGET (find_toplevel_named ("alarm-shelve-dialog"));
  g_assert_nonnull (dialog);
  g_assert_true (gtk_window_get_modal (GTK_WINDOW (dialog)));
  reason = child_named (dialog, "shelve-reason");
  duration = child_named (dialog, "shelve-duration");
  message = child_named (dialog, "shelve-duration-message");
  button = child_named (dialog, "shelve-button");

  gtk_editable_set_text (GTK_EDITABLE (reason), SHELVE_REASON);
  gtk_editable_set_text (GTK_EDITABLE (duration), "9 h");
  g_test_message ("9 h: %s", label_text (message));
  g_assert_false (gtk_widget_get_sensitive (button));
  g_assert_true (gtk_widget_has_css_class (message, "error"));
  g_assert_nonnull (strstr (label_text (message), "8 h"));
  gtk_editable_set_text (GTK_EDITABLE (duration), "soon");
  g_assert_false (gtk_widget_get_sensitive (button));
  gtk_editable_set_text (GTK_EDITABLE (duration), "1 h 30 min");
  g_assert_true (gtk_widget_get_sensitive (button));
  g_assert_false (gtk_widget_has_css_class (message, "error"));
  gtk_editable_set_text (GTK_EDITABLE (reason), "   ");
  g_assert_false (gtk_widget_get_sensitive (button));
  g_assert_true (gtk_widget_has_css_class (child_named (dialog, "shelve-reason-message"), "error"));
  gtk_editable_set_text (GTK_EDITABLE (reason), SHELVE_REASON);
  gtk_editable_set_text (GTK_EDITABLE (duration), "30 min");
  screenshot (dialog, "alarms-shelve.png");
  press (button);
  g_assert_true (ui_test_wait_for (summary_says, (gpointer) "1 alarm shelved until ", TIMEOUT_MS));
  wait_alarm_state (TEMPERATURE_ALARM, KANKYO_ALARM_STATE_SHELVED);
  g_assert_null (find_toplevel_named ("alarm-shelve-dialog"));

  /* Not annunciated while shelved; listed in the summary to unshelve. */
  g_assert_true (ui_test_wait_for (label_is, want_none, TIMEOUT_MS));
  g_assert_cmpuint (kankyo_alarm_banner_get_count (b, KANKYO_ALARM_PRIORITY_HIGH, FALSE), ==, 0);
  g_assert_true (ui_test_wait_for (view_normal, view, TIMEOUT_MS));
  g_assert_cmpuint (kankyo_alarm_summary_get_n_alarms (KANKYO_ALARM_SUMMARY (s)), ==, 1);
  g_assert_true (kankyo_alarm_summary_select (KANKYO_ALARM_SUMMARY (s), TEMPERATURE_ALARM));
  g_assert_nonnull (strstr (label_text (child_named (s, "alarm-summary-details")), SHELVE_REASON));

  /* Unshelved while still active, it is annunciated anew. */
  press (child_named (s, "alarm-unshelve-button"));
  g_assert_true (ui_test_wait_for (summary_says, (gpointer) "1 alarm unshelved.", TIMEOUT_MS));
  wait_alarm_state (TEMPERATURE_ALARM, KANKYO_ALARM_STATE_UNACK);
  g_assert_true (ui_test_wait_for (label_is, want_unacked, TIMEOUT_MS));
  g_assert_true (kankyo_alarm_banner_get_ringing (b));
  g_assert_true (ui_test_wait_for (view_blinks, view, TIMEOUT_MS));

  /* It returns, and still waits for acknowledgement. */
  set_value ("temperature", 21.0);
  wait_alarm_state (TEMPERATURE_ALARM, KANKYO_ALARM_STATE_RTN_UNACK);
  g_assert_true (ui_test_wait_for (label_is, want_returned, TIMEOUT_MS));
  g_assert_true (ui_test_wait_for (view_blinks, view, TIMEOUT_MS));

  /* Acknowledged, it leaves every screen. */
  g_assert_true (kankyo_alarm_summary_select (KANKYO_ALARM_SUMMARY (s), TEMPERATURE_ALARM));
  press (child_named (s, "alarm-ack-button"));
  g_assert_true (ui_test_wait_for (summary_says, (gpointer) "1 alarm acknowledged.", TIMEOUT_MS));
  wait_alarm_state (TEMPERATURE_ALARM, KANKYO_ALARM_STATE_NORMAL);
  g_assert_true (ui_test_wait_for (label_is, want_none, TIMEOUT_MS));
  g_assert_false (kankyo_alarm_banner_get_ringing (b));
  g_assert_true (ui_test_wait_for (view_normal, view, TIMEOUT_MS));
  g_assert_true (ui_test_wait_for (search_applied, GUINT_TO_POINTER (0), TIMEOUT_MS));
}

/* A latching alarm: acknowledged with "all shown", then reset once it
 * returned. */
static void
test_latching (void)
{
  GtkWidget *s = GTK_WIDGET (summary ());

  set_value ("pressure", 8.0);
  g_assert_true (ui_test_wait_for (banner_shows, (gpointer) PRESSURE_ALARM, TIMEOUT_MS));
  g_assert_cmpuint (kankyo_alarm_banner_get_count (banner (), KANKYO_ALARM_PRIORITY_MEDIUM, TRUE), ==, 1);
  g_assert_true (ui_test_wait_for (search_applied, GUINT_TO_POINTER (1), TIMEOUT_MS));
  press (child_named (s, "alarm-ack-all-button"));
  g_assert_true (ui_test_wait_for (summary_says, (gpointer) "1 alarm acknowledged.", TIMEOUT_MS));
  wait_alarm_state (PRESSURE_ALARM, KANKYO_ALARM_STATE_ACKED);

  set_value ("pressure", 1.0);
  wait_alarm_state (PRESSURE_ALARM, KANKYO_ALARM_STATE_LATCHED);
  ui_test_spin (300);
  g_assert_true (kankyo_alarm_summary_select (KANKYO_ALARM_SUMMARY (s), PRESSURE_ALARM));
  g_assert_false (gtk_widget_get_sensitive (child_named (s, "alarm-ack-button")));
  press (child_named (s, "alarm-reset-button"));
  g_assert_true (ui_test_wait_for (summary_says, (gpointer) "1 alarm reset.", TIMEOUT_MS));
  wait_alarm_state (PRESSURE_ALARM, KANKYO_ALARM_STATE_NORMAL);
  g_assert_true (ui_test_wait_for (search_applied, GUINT_TO_POINTER (0), TIMEOUT_MS));
}

static KankyoAlarmHistory *
history_window (void)
{
  GtkWindow *found = find_toplevel (KANKYO_TYPE_ALARM_HISTORY);

  g_assert_nonnull (found);
  return KANKYO_ALARM_HISTORY (found);
}

static gboolean
history_idle (gpointer data)
{
  KankyoAlarmHistory *h = history_window ();

  return !kankyo_alarm_history_is_searching (h) && !kankyo_alarm_history_is_exporting (h)
         && !kankyo_alarm_history_is_computing (h);
}

static gboolean
has_record (KankyoAlarmHistory *h, const char *alarm, KankyoAlarmEvent event, const char *reason)
{
  for (guint i = 0; i < kankyo_alarm_history_get_n_results (h); i++)
    {
      const KankyoAlarmRecord *r = kankyo_alarm_history_get_result (h, i);

      if (g_str_equal (r->alarm_id, alarm) && r->event == event
          && g_strcmp0 (r->user, g_get_user_name ()) == 0
          && (reason == NULL || g_strcmp0 (r->reason, reason) == 0))
        return TRUE;
    }
  return FALSE;
}

static gboolean
file_exists (gpointer data)
{
  return g_file_test (data, G_FILE_TEST_EXISTS);
}

/* The acknowledgement, with the login name, in the history window, the
 * journal itself, its CSV export and the audit trail. */
static void
test_history (void)
{
  const char *user = g_get_user_name ();
  g_autofree char *audit_ack
      = g_strconcat ("alarm.", kankyo_alarm_action_to_string (KANKYO_ALARM_ACTION_ACK), NULL);
  g_autofree char *audit_shelve
      = g_strconcat ("alarm.", kankyo_alarm_action_to_string (KANKYO_ALARM_ACTION_SHELVE), NULL);
  g_autofree char *csv_path = g_build_filename (data_dir, "journal.csv", NULL);
  g_autofree char *csv_part = g_strconcat (csv_path, ".part", NULL);
  g_autofree char *pdf_path = g_build_filename (data_dir, "performance.pdf", NULL);
  g_autofree char *pdf_done = g_strconcat ("Exported to ", pdf_path, ".", NULL);
  g_autofree char *journal_path = g_build_filename (data_dir, "alarms.db", NULL);
  g_autoptr (GFile) csv = g_file_new_for_path (csv_path);
  g_autoptr (GFile) pdf = g_file_new_for_path (pdf_path);
  g_autoptr (KankyoAlarmJournal) journal = NULL;
  g_autoptr (GArray) records = NULL;
  g_autoptr (KankyoAudit) audit = NULL;
  g_autoptr (GPtrArray) trail = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *csv_text = NULL;
  g_autofree char *pdf_text = NULL;
  KankyoAlarmQuery query;
  KankyoAlarmHistory *h;
  const KankyoAlarmPerformance *p;
  GtkWidget *w;
  gboolean acked = FALSE, shelved = FALSE, in_top = FALSE;
  gsize length = 0;

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "alarm.history", NULL));
  h = history_window ();
  w = GTK_WIDGET (h);
  g_assert_true (ui_test_wait_for (history_idle, NULL, TIMEOUT_MS));
  g_test_message ("history opens with %u records of the last 24 hours",
                  kankyo_alarm_history_get_n_results (h));
  g_assert_true (has_record (h, TEMPERATURE_ALARM, KANKYO_ALARM_EVENT_ACK, NULL));

  /* By user and event, through the page's own fields. */
  gtk_editable_set_text (GTK_EDITABLE (child_named (w, "journal-user")), user);
  gtk_drop_down_set_selected (GTK_DROP_DOWN (child_named (w, "journal-event")), 3); /* Acknowledged */
  press (child_named (w, "journal-search"));
  g_assert_true (ui_test_wait_for (history_idle, NULL, TIMEOUT_MS));
  g_test_message ("%s", label_text (child_named (w, "journal-message")));
  g_assert_cmpuint (kankyo_alarm_history_get_n_results (h), ==, 3);
  g_assert_true (has_record (h, TEMPERATURE_ALARM, KANKYO_ALARM_EVENT_ACK, NULL));
  g_assert_true (has_record (h, PRESSURE_ALARM, KANKYO_ALARM_EVENT_ACK, NULL));
  g_assert_cmpstr (label_text (child_named (w, "journal-message")), ==, "3 records found.");
  /* A user nobody is finds nothing. */
  gtk_editable_set_text (GTK_EDITABLE (child_named (w, "journal-user")), "nobody-at-all");
  press (child_named (w, "journal-search"));
  g_assert_true (ui_test_wait_for (history_idle, NULL, TIMEOUT_MS));
  g_assert_cmpuint (kankyo_alarm_history_get_n_results (h), ==, 0);
  /* The shelve with its reason. */
  gtk_editable_set_text (GTK_EDITABLE (child_named (w, "journal-user")), user);
  gtk_drop_down_set_selected (GTK_DROP_DOWN (child_named (w, "journal-event")), 4); /* Shelved */
  press (child_named (w, "journal-search"));
  g_assert_true (ui_test_wait_for (history_idle, NULL, TIMEOUT_MS));
  g_assert_true (has_record (h, TEMPERATURE_ALARM, KANKYO_ALARM_EVENT_SHELVE, SHELVE_REASON));
  screenshot (w, "alarms-history.png");

  /* The journal itself. */
  journal = kankyo_alarm_journal_open_readonly (journal_path, &error);
  g_assert_no_error (error);
  kankyo_alarm_query_init (&query);
  query.tag = "oven.temperature";
  query.event = KANKYO_ALARM_EVENT_ACK;
  records = kankyo_alarm_journal_search (journal, &query, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (records->len, ==, 2);
  for (guint i = 0; i < records->len; i++)
    {
      g_assert_cmpstr (g_array_index (records, KankyoAlarmRecord, i).user, ==, user);
      g_assert_cmpstr (g_array_index (records, KankyoAlarmRecord, i).alarm_id, ==, TEMPERATURE_ALARM);
    }

  /* CSV of what the fields find: the shelve, without the search's limit. */
  kankyo_alarm_history_export_csv (h, csv);
  g_assert_true (ui_test_wait_for (history_idle, NULL, TIMEOUT_MS));
  g_assert_true (g_file_get_contents (csv_path, &csv_text, &length, &error));
  g_assert_no_error (error);
  g_test_message ("CSV: %s", csv_text);
  g_assert_nonnull (strstr (csv_text, TEMPERATURE_ALARM));
  g_assert_nonnull (strstr (csv_text, SHELVE_REASON));
  g_assert_nonnull (strstr (csv_text, user));
  g_assert_null (strstr (csv_text, PRESSURE_ALARM));
  g_assert_false (g_file_test (csv_part, G_FILE_TEST_EXISTS));

  /* The performance of the last 24 hours, shown and as PDF. */
  kankyo_alarm_history_show_performance (h);
  g_assert_true (ui_test_wait_for (history_idle, NULL, TIMEOUT_MS));
  p = kankyo_alarm_history_get_performance (h);
  g_assert_nonnull (p);
  g_test_message ("performance: %u activations, %.2f an hour", p->n_activations, p->alarms_per_hour);
  g_assert_cmpuint (p->n_activations, ==, 2);
  for (guint i = 0; i < p->top_ten->len; i++)
    in_top
        = in_top || g_str_equal (g_array_index (p->top_ten, KankyoAlarmActor, i).alarm_id, TEMPERATURE_ALARM);
  g_assert_true (in_top);
  g_assert_nonnull (ui_test_find_named (w, "performance-top-ten"));
  screenshot (w, "alarms-performance.png");
  kankyo_alarm_history_export_pdf (h, pdf);
  g_assert_true (ui_test_wait_for (history_idle, NULL, TIMEOUT_MS));
  g_assert_true (ui_test_wait_for (file_exists, pdf_path, TIMEOUT_MS));
  g_assert_true (g_file_get_contents (pdf_path, &pdf_text, &length, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (length, >, 1000);
  g_assert_true (g_str_has_prefix (pdf_text, "%PDF-"));
  g_assert_cmpstr (label_text (child_named (w, "performance-message")), ==, pdf_done);

  /* The audit trail. */
  audit = kankyo_audit_open_readonly (kankyo_engine_get_audit_path (engine ()), &error);
  g_assert_no_error (error);
  trail = kankyo_audit_list (audit, 0, 10000, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < trail->len; i++)
    {
      KankyoAuditRecord *r = g_ptr_array_index (trail, i);

      if (g_strcmp0 (r->target, TEMPERATURE_ALARM) != 0)
        continue;
      if (g_str_equal (r->action, audit_ack))
        {
          g_assert_cmpstr (r->actor, ==, user);
          acked = TRUE;
        }
      else if (g_str_equal (r->action, audit_shelve))
        {
          g_assert_cmpstr (r->actor, ==, user);
          g_assert_cmpstr (r->reason, ==, SHELVE_REASON);
          shelved = TRUE;
        }
    }
  g_assert_true (acked);
  g_assert_true (shelved);
  gtk_window_destroy (GTK_WINDOW (h));
}

/* ---- running inside the application ---- */

static gboolean
window_mapped (gpointer data)
{
  return gtk_widget_get_mapped (GTK_WIDGET (window));
}

static void
on_activate (GApplication *application, gpointer data)
{
  GList *windows = gtk_application_get_windows (GTK_APPLICATION (application));

  g_assert_nonnull (windows);
  window = windows->data;
  g_assert_true (KANKYO_IS_WINDOW (window));
  g_assert_true (ui_test_wait_for (window_mapped, NULL, 10000));
  status = g_test_run ();
  /* Every window goes while the engine runs, then the application ends. */
  while ((windows = gtk_application_get_windows (GTK_APPLICATION (application))) != NULL)
    gtk_window_destroy (windows->data);
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

static void
write_file (const char *dir, const char *name, const char *text)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr (GError) error = NULL;

  g_assert_true (g_file_set_contents (path, text, -1, &error));
  g_assert_no_error (error);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *project_dir = NULL;
  g_autofree char *project_path = NULL;
  char *args[4];

  /* Before GTK and the engine: no state of the developer's is read or
   * written. */
  data_dir = g_dir_make_tmp ("kankyo-alarms-XXXXXX", &error);
  g_assert_no_error (error);
  g_setenv ("KANKYO_DATA_DIR", data_dir, TRUE);
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  project_dir = g_build_filename (data_dir, "project", NULL);
  g_assert_cmpint (g_mkdir_with_parents (project_dir, 0700), ==, 0);
  write_file (project_dir, "plant.yaml", project_yaml);
  write_file (project_dir, "lab.svg", svg_text);
  write_file (project_dir, "lab-bindings.yaml", bindings_yaml);
  project_path = g_build_filename (project_dir, "plant.yaml", NULL);

  gtk_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ui/alarms/quiet", test_quiet);
  g_test_add_func ("/ui/alarms/banner", test_banner);
  g_test_add_func ("/ui/alarms/mimic-blinks", test_mimic_blinks);
  g_test_add_func ("/ui/alarms/acknowledge", test_acknowledge);
  g_test_add_func ("/ui/alarms/shelve", test_shelve);
  g_test_add_func ("/ui/alarms/latching", test_latching);
  g_test_add_func ("/ui/alarms/history", test_history);

  app = kankyo_application_new ();
  g_signal_connect_after (app, "activate", G_CALLBACK (on_activate), NULL);
  args[0] = argv[0];
  args[1] = (char *) "--project";
  args[2] = project_path;
  args[3] = NULL;
  g_assert_cmpint (g_application_run (G_APPLICATION (app), 3, args), ==, 0);
  g_clear_object (&app);
  remove_tree (data_dir);
  g_free (data_dir);
  return status;
}
