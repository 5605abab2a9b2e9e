/* kankyo-mimic-view.c: a live process graphic drawn from an SVG file.
 *
 * librsvg renders the drawing once per size into a texture, without the
 * elements that change (those with a fill, stroke, rotation or visibility,
 * and <text> placeholders a value replaces). Each changing element is
 * rendered once per size into a small texture of its own (recoloured once
 * per state it shows), and snapshot draws those over the drawing, plus the
 * values, levels and quality marks. A value update therefore only rebuilds
 * the render nodes of the elements it changes, never the SVG. Nested changing
 * elements are rendered from a handle per nesting level whose stylesheet
 * hides the levels below, so a spinning rotor is not also painted, frozen,
 * inside its fan.
 *
 * The rules (what a condition means, how a value is formatted) live in
 * app/kankyo-mimic-binding.c; this file only draws what they say, in the
 * ISA-101 manner: greys for the normal picture, colour only for abnormal
 * and alarm states and always with a shape and a number beside it, bad or
 * stale values hatched with their age in the tooltip, and a device that
 * does not answer greyed as a whole.
 *
 * Alarms come from the alarm engine, not from the binding file: an element
 * whose tags have annunciated alarms gets the mark of the highest priority
 * among them, steady in its node once acknowledged and, while one waits
 * for acknowledgement, blinking in the animation layer that blink:
 * bindings use, so an alarm costs frames only while it blinks.
 */
#include "config.h"

#include "kankyo-mimic-view.h"

#include "kankyo-alarm-banner.h"
#include "kankyo-faceplate.h"

#include <glib/gi18n.h>
#include <librsvg/rsvg.h>
#include <math.h>
#include <string.h>

#include "kankyo-alarm-engine.h"
#include "kankyo-mimic-binding.h"

#define MAX_NESTING 3
#define INDICATOR_SIZE 14.0
#define FOCUS_WIDTH 2.0
#define BLINK_PERIOD_S 1.0
#define BLINK_ON_FRACTION 0.6
#define TEXT_PADDING 3.0
#define MIN_FONT_PX 4.0
#define CHUNK_SIZE 24
/* Element nodes rebuilt in one frame at most; see build_live_node (). */
#define MAX_REBUILDS_PER_FRAME 64
#define MAX_SHAPED_TEXTS 4096

/* How a sprite is drawn: as it is, or recoloured for a state. */
typedef enum
{
  LOOK_PLAIN,
  LOOK_OFFLINE,
  LOOK_ACTIVE,
  LOOK_INACTIVE,
  LOOK_FILL,                   /* + the colour state - ABNORMAL */
  LOOK_STROKE = LOOK_FILL + 4, /* likewise */
  N_LOOKS = LOOK_STROKE + 4
} Look;

typedef struct
{
  KankyoMimicBinding *binding;     /* owned by the view's bindings */
  graphene_rect_t box;             /* ink box in SVG pixels */
  graphene_point_t centre;         /* of the logical box: what a rotor turns about */
  guint depth;                     /* how many changing elements enclose it */
  gboolean sprite;                 /* drawn from its own texture */
  gboolean replaced;               /* a <text> placeholder: its value is drawn instead */
  cairo_surface_t *surface;        /* the sprite at the current scale, as drawn */
  cairo_surface_t *looks[N_LOOKS]; /* the sprite in each look, made when first needed */
  GdkTexture *look_textures[N_LOOKS];
  graphene_rect_t texture_box; /* where the sprite goes, SVG pixels */
  GskRenderNode *node;         /* what the element adds to the live layer */
  gboolean node_dirty;
  gint online_tag; /* the device's _online, or -1 */

  /* Live state, from the view's copy of the samples. */
  char *text;
  KankyoMimicState fill_state;
  KankyoMimicState stroke_state;
  double level;
  gboolean visible;
  gboolean rotating;
  gboolean blinking;
  KankyoMimicState alarm_steady; /* worst acknowledged alarm on its tags, or NORMAL */
  KankyoMimicState alarm_blink;  /* worst alarm waiting for acknowledgement, or NORMAL */
  gboolean offline;
  gboolean bad;     /* a value is bad or stale: hatched */
  gboolean unknown; /* a value has never arrived */
  gboolean dirty;
} Element;

/* An alarm on a tag the view shows, as the alarm engine last said. What
 * it needs of the definition is copied: the engine's stop frees those. */
typedef struct
{
  char *id;
  char *message;
  KankyoAlarmPriority priority;
  guint tag_id;
  KankyoAlarmState state;
} ViewAlarm;

static void
view_alarm_free (ViewAlarm *a)
{
  g_free (a->id);
  g_free (a->message);
  g_free (a);
}

/* A value's text, shaped once and drawn wherever it is shown. */
typedef struct
{
  GskRenderNode *node; /* at the origin; NULL for blank text */
  int width;
  int height;
} ShapedText;

static void
shaped_text_free (ShapedText *text)
{
  g_clear_pointer (&text->node, gsk_render_node_unref);
  g_free (text);
}

struct _KankyoMimicView
{
  GtkWidget parent_instance;

  KankyoEngine *engine;
  KankyoTagStore *store;
  guint subscription;

  KankyoMimicBindings *bindings;
  GArray *elements;         /* Element, in document order */
  GPtrArray **by_tag;       /* tag id -> indexes (GUINT_TO_POINTER) of elements reading it */
  KankyoTagSample *samples; /* tag id -> the latest sample, for tags in use */
  guint n_tags;

  KankyoAlarmEngine *alarms; /* the engine's; NULL when it has none */
  guint alarm_subscription;
  GHashTable *view_alarms; /* alarm id -> ViewAlarm*, for alarms on tags elements read */
  GPtrArray **tag_alarms;  /* tag id -> ViewAlarm* on it, NULL for none */

  RsvgHandle *static_handle;           /* everything that changes hidden */
  RsvgHandle *layers[MAX_NESTING + 1]; /* layers[k]: depth > k hidden */
  guint n_layers;
  double svg_width;
  double svg_height;

  cairo_surface_t *surface; /* the static drawing at render_scale */
  GdkTexture *texture;
  GskRenderNode *static_node;
  double render_scale; /* device pixels per SVG pixel of the textures */
  /* GTK 4.8's cairo renderer copies a whole texture on every draw;
   * with it, the drawing and the sprites go in as cairo surfaces. */
  gboolean cairo_renderer;
  cairo_surface_t *indicators[KANKYO_MIMIC_N_STATES];
  GdkTexture *indicator_textures[KANKYO_MIMIC_N_STATES];
  int indicator_factor;

  GHashTable *texts;        /* "size|faded|text" -> ShapedText*: values repeat */
  PangoLayout *text_layout; /* for shaping them */
  GskRenderNode **chunks;   /* containers of CHUNK_SIZE element nodes */
  guint n_chunks;
  GskRenderNode *live_node; /* the live layer without animation */
  double live_scale;
  gboolean live_dirty;
  guint next_chunk;    /* where the next frame's rebuilding starts */
  guint catch_up_tick; /* asks for the frame that rebuilds what is left */

  guint tick_id;      /* every frame, while something rotates */
  guint blink_source; /* at each change of the blink, while only something blinks */
  guint n_animated;
  int focus;   /* element index, or -1 */
  int pressed; /* element under the pointer at press, or -1 */

  GtkWidget *error_label;
};

G_DEFINE_FINAL_TYPE (KankyoMimicView, kankyo_mimic_view, GTK_TYPE_WIDGET)

enum
{
  SIGNAL_DEVICE_ACTIVATED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* ---- colours ---- */

static const GdkRGBA text_colour = { 0.12, 0.12, 0.12, 1 };
static const GdkRGBA faded_text_colour = { 0.45, 0.45, 0.45, 1 };
static const GdkRGBA level_colour = { 0.40, 0.42, 0.45, 1 };
static const GdkRGBA hatch_colour = { 0.25, 0.25, 0.25, 0.35 };
static const GdkRGBA outline_colour = { 0.25, 0.25, 0.25, 1 };
static const GdkRGBA veil_colour = { 0.90, 0.90, 0.90, 0.6 };
static const GdkRGBA focus_colour = { 0.10, 0.37, 0.71, 1 };

static const GdkRGBA state_colours[KANKYO_MIMIC_N_STATES] = {
  [KANKYO_MIMIC_STATE_ABNORMAL] = { 0.11, 0.44, 0.85, 1 },
  [KANKYO_MIMIC_STATE_ALARM_LOW] = { 0.64, 0.28, 0.73, 1 },
  [KANKYO_MIMIC_STATE_ALARM_MEDIUM] = { 0.96, 0.76, 0.07, 1 },
  [KANKYO_MIMIC_STATE_ALARM_HIGH] = { 0.75, 0.11, 0.16, 1 },
};

/* The colour of each abnormal and alarm state; NULL for the greys. */
static const GdkRGBA *
state_colour (KankyoMimicState state)
{
  return kankyo_mimic_state_is_colour (state) ? &state_colours[state] : NULL;
}

static KankyoMimicState
worse_state (KankyoMimicState a, KankyoMimicState b)
{
  gboolean ca = kankyo_mimic_state_is_colour (a);
  gboolean cb = kankyo_mimic_state_is_colour (b);

  if (ca != cb)
    return ca ? a : b;
  return MAX (a, b);
}

/* Rows are input channels, columns output channels, as GSK applies the
 * matrix to a row vector of unpremultiplied r, g, b, a. */
static void
luminance_matrix (graphene_matrix_t *matrix, const float out_per_lum[3], float alpha)
{
  static const float weights[3] = { 0.30f, 0.59f, 0.11f };
  float v[16] = { 0 };

  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++)
      v[i * 4 + j] = weights[i] * out_per_lum[j];
  v[15] = alpha;
  graphene_matrix_init_from_float (matrix, v);
}

static Look
element_look (KankyoMimicState fill, KankyoMimicState stroke, gboolean offline)
{
  if (offline)
    return LOOK_OFFLINE;
  if (kankyo_mimic_state_is_colour (fill))
    return LOOK_FILL + (fill - KANKYO_MIMIC_STATE_ABNORMAL);
  if (kankyo_mimic_state_is_colour (stroke))
    return LOOK_STROKE + (stroke - KANKYO_MIMIC_STATE_ABNORMAL);
  if (fill == KANKYO_MIMIC_STATE_ACTIVE)
    return LOOK_ACTIVE;
  if (fill == KANKYO_MIMIC_STATE_INACTIVE)
    return LOOK_INACTIVE;
  return LOOK_PLAIN;
}

/* How a sprite looks in a state: a recolouring that keeps its shading, so
 * the symbol's outlines and details stay readable. */
static void
look_matrix (Look look, graphene_matrix_t *matrix, graphene_vec4_t *offset)
{
  const GdkRGBA *c;

  if (look == LOOK_OFFLINE)
    {
      /* Washed out: a device that does not answer shows no state. */
      const float per_lum[3] = { 0.35f, 0.35f, 0.35f };

      luminance_matrix (matrix, per_lum, 0.75f);
      graphene_vec4_init (offset, 0.55f, 0.55f, 0.55f, 0);
    }
  else if (look >= LOOK_FILL && look < LOOK_STROKE)
    {
      /* Light areas take the colour, dark strokes stay dark. */
      c = &state_colours[KANKYO_MIMIC_STATE_ABNORMAL + (look - LOOK_FILL)];
      {
        const float per_lum[3] = { c->red, c->green, c->blue };

        luminance_matrix (matrix, per_lum, 1);
        graphene_vec4_init (offset, 0, 0, 0, 0);
      }
    }
  else if (look >= LOOK_STROKE)
    {
      /* Strokes and mid greys take the colour, light areas stay light. */
      c = &state_colours[KANKYO_MIMIC_STATE_ABNORMAL + (look - LOOK_STROKE)];
      {
        const float per_lum[3] = { 3 * (1 - c->red), 3 * (1 - c->green), 3 * (1 - c->blue) };

        luminance_matrix (matrix, per_lum, 1);
        graphene_vec4_init (offset, 3 * c->red - 2, 3 * c->green - 2, 3 * c->blue - 2, 0);
      }
    }
  else if (look == LOOK_ACTIVE)
    {
      const float per_lum[3] = { 0.55f, 0.55f, 0.55f };

      luminance_matrix (matrix, per_lum, 1);
      graphene_vec4_init (offset, 0, 0, 0, 0);
    }
  else if (look == LOOK_INACTIVE)
    {
      const float per_lum[3] = { 0.8f, 0.8f, 0.8f };

      luminance_matrix (matrix, per_lum, 1);
      graphene_vec4_init (offset, 0.2f, 0.2f, 0.2f, 0);
    }
  else
    {
      graphene_matrix_init_identity (matrix);
      graphene_vec4_init (offset, 0, 0, 0, 0);
    }
}

/* ---- errors ---- */

static void
show_error (KankyoMimicView *self, const char *message)
{
  g_autofree char *text = g_strdup_printf (_ ("The mimic cannot be shown:\n%s"), message);

  gtk_label_set_text (GTK_LABEL (self->error_label), text);
  gtk_widget_set_visible (self->error_label, TRUE);
  gtk_widget_queue_resize (GTK_WIDGET (self));
}

/* ---- state ---- */

static void
element_drop_textures (Element *e)
{
  g_clear_pointer (&e->surface, cairo_surface_destroy);
  for (guint i = 0; i < N_LOOKS; i++)
    {
      g_clear_pointer (&e->looks[i], cairo_surface_destroy);
      g_clear_object (&e->look_textures[i]);
    }
  g_clear_pointer (&e->node, gsk_render_node_unref);
  e->node_dirty = TRUE;
}

static void
element_clear (Element *e)
{
  element_drop_textures (e);
  g_clear_pointer (&e->text, g_free);
}

static void
clear_chunks (KankyoMimicView *self)
{
  for (guint c = 0; c < self->n_chunks; c++)
    g_clear_pointer (&self->chunks[c], gsk_render_node_unref);
  g_clear_pointer (&self->chunks, g_free);
  self->n_chunks = 0;
}

static void
drop_textures (KankyoMimicView *self)
{
  g_clear_pointer (&self->surface, cairo_surface_destroy);
  g_clear_object (&self->texture);
  g_clear_pointer (&self->static_node, gsk_render_node_unref);
  clear_chunks (self);
  if (self->texts != NULL)
    g_hash_table_remove_all (self->texts);
  self->render_scale = 0;
  for (guint i = 0; self->elements != NULL && i < self->elements->len; i++)
    element_drop_textures (&g_array_index (self->elements, Element, i));
  g_clear_pointer (&self->live_node, gsk_render_node_unref);
}

static void
stop_ticking (KankyoMimicView *self)
{
  if (self->tick_id != 0)
    {
      gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->tick_id);
      self->tick_id = 0;
    }
}

static void
stop_animation (KankyoMimicView *self)
{
  stop_ticking (self);
  g_clear_handle_id (&self->blink_source, g_source_remove);
}

static void
unload (KankyoMimicView *self)
{
  if (self->subscription != 0)
    {
      kankyo_tag_store_unsubscribe (self->store, self->subscription);
      self->subscription = 0;
    }
  /* A stopped engine has freed its alarm engine and its subscriptions. */
  if (self->alarm_subscription != 0 && kankyo_engine_get_alarms (self->engine) == self->alarms)
    kankyo_alarm_engine_unsubscribe (self->alarms, self->alarm_subscription);
  self->alarm_subscription = 0;
  self->alarms = NULL;
  g_clear_pointer (&self->view_alarms, g_hash_table_unref);
  stop_animation (self);
  if (self->catch_up_tick != 0)
    {
      gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->catch_up_tick);
      self->catch_up_tick = 0;
    }
  drop_textures (self);
  if (self->elements != NULL)
    {
      for (guint i = 0; i < self->elements->len; i++)
        element_clear (&g_array_index (self->elements, Element, i));
      g_clear_pointer (&self->elements, g_array_unref);
    }
  if (self->by_tag != NULL)
    {
      for (guint i = 0; i < self->n_tags; i++)
        if (self->by_tag[i] != NULL)
          g_ptr_array_unref (self->by_tag[i]);
      g_clear_pointer (&self->by_tag, g_free);
    }
  if (self->samples != NULL)
    {
      for (guint i = 0; i < self->n_tags; i++)
        kankyo_tag_sample_clear (&self->samples[i]);
      g_clear_pointer (&self->samples, g_free);
    }
  if (self->tag_alarms != NULL)
    {
      for (guint i = 0; i < self->n_tags; i++)
        if (self->tag_alarms[i] != NULL)
          g_ptr_array_unref (self->tag_alarms[i]);
      g_clear_pointer (&self->tag_alarms, g_free);
    }
  self->n_tags = 0;
  g_clear_pointer (&self->bindings, kankyo_mimic_bindings_free);
  g_clear_object (&self->static_handle);
  for (guint i = 0; i < G_N_ELEMENTS (self->layers); i++)
    g_clear_object (&self->layers[i]);
  self->n_layers = 0;
  self->svg_width = self->svg_height = 0;
  self->focus = -1;
  self->pressed = -1;
  self->n_animated = 0;
  if (self->error_label != NULL)
    gtk_widget_set_visible (self->error_label, FALSE);
}

static const KankyoTagSample *
sample_of (KankyoMimicView *self, const KankyoMimicTagRef *ref)
{
  return ref->id >= 0 && (guint) ref->id < self->n_tags ? &self->samples[ref->id] : NULL;
}

static const KankyoValue *
value_of (KankyoMimicView *self, const KankyoMimicTagRef *ref)
{
  const KankyoTagSample *s = sample_of (self, ref);

  return s != NULL ? &s->value : NULL;
}

static void
note_quality (KankyoMimicView *self, Element *e, const KankyoMimicTagRef *ref)
{
  const KankyoTagSample *s = sample_of (self, ref);

  if (s == NULL || s->value.type == KANKYO_VALUE_NONE)
    e->unknown = TRUE;
  else if (!kankyo_quality_is_good (s->quality))
    e->bad = TRUE;
}

/* Recomputes what an element shows from the view's samples. */
static void
element_update (KankyoMimicView *self, Element *e)
{
  KankyoMimicBinding *b = e->binding;
  g_autofree char *text = NULL;

  e->bad = FALSE;
  e->unknown = FALSE;
  e->offline = FALSE;
  if (e->online_tag >= 0)
    {
      const KankyoTagSample *s = &self->samples[e->online_tag];

      e->offline = s->value.type == KANKYO_VALUE_BOOL && !s->value.v.b;
    }

  if (b->text != NULL)
    {
      const KankyoTagSpec *spec = kankyo_tag_store_get_spec (self->store, b->text->tag.id);

      note_quality (self, e, &b->text->tag);
      text = kankyo_mimic_text_format (b->text, spec, value_of (self, &b->text->tag));
      if (text == NULL)
        text = g_strdup ("---");
      else if (e->bad || e->offline)
        {
          /* The last value stays, marked as not current. */
          char *marked = g_strconcat (text, " ?", NULL);

          g_free (text);
          text = marked;
        }
    }
  if (b->fill != NULL)
    {
      note_quality (self, e, &b->fill->tag);
      e->fill_state = kankyo_mimic_states_eval (b->fill, value_of (self, &b->fill->tag));
    }
  if (b->stroke != NULL)
    {
      note_quality (self, e, &b->stroke->tag);
      e->stroke_state = kankyo_mimic_states_eval (b->stroke, value_of (self, &b->stroke->tag));
    }
  if (b->level != NULL)
    {
      note_quality (self, e, &b->level->tag);
      e->level = kankyo_mimic_level_fraction (b->level, value_of (self, &b->level->tag));
    }
  e->visible = b->visible == NULL
               || kankyo_mimic_condition_eval (&b->visible->when, value_of (self, &b->visible->tag));
  if (b->visible != NULL)
    note_quality (self, e, &b->visible->tag);
  if (b->rotate != NULL)
    {
      const KankyoTagSample *s = sample_of (self, &b->rotate->tag);

      note_quality (self, e, &b->rotate->tag);
      /* A fan whose state is not known does not pretend to run. */
      e->rotating = s != NULL && kankyo_quality_is_good (s->quality) && !e->offline
                    && kankyo_mimic_condition_eval (&b->rotate->when, &s->value);
    }
  if (b->blink != NULL)
    {
      note_quality (self, e, &b->blink->tag);
      e->blinking
          = !e->offline && kankyo_mimic_condition_eval (&b->blink->when, value_of (self, &b->blink->tag));
    }

  e->node_dirty = TRUE;
  if (g_strcmp0 (text, e->text) != 0)
    {
      g_free (e->text);
      e->text = g_steal_pointer (&text);
    }
}

static gboolean
tick (GtkWidget *widget, GdkFrameClock *clock, gpointer user_data)
{
  gtk_widget_queue_draw (widget);
  return G_SOURCE_CONTINUE;
}

/* Whether blinking marks show now; from the clock, not the frame, so
 * the phase is right whenever a frame is drawn. */
static gboolean
blink_on_now (void)
{
  gint64 period = (gint64) (BLINK_PERIOD_S * G_USEC_PER_SEC);

  return g_get_monotonic_time () % period < (gint64) (period * BLINK_ON_FRACTION);
}

static gboolean on_blink_change (gpointer user_data);

/* Blinking alone redraws twice a period, when the marks come and go, not
 * every frame: a flood that blinks on hundreds of elements must not keep
 * the main loop painting. */
static void
schedule_blink (KankyoMimicView *self)
{
  gint64 period = (gint64) (BLINK_PERIOD_S * G_USEC_PER_SEC);
  gint64 phase = g_get_monotonic_time () % period;
  gint64 on = (gint64) (period * BLINK_ON_FRACTION);
  gint64 wait = (phase < on ? on : period) - phase;

  self->blink_source = g_timeout_add ((guint) (wait / 1000) + 1, on_blink_change, self);
  g_source_set_name_by_id (self->blink_source, "[kankyo] mimic blink");
}

static gboolean
on_blink_change (gpointer user_data)
{
  KankyoMimicView *self = user_data;

  self->blink_source = 0;
  gtk_widget_queue_draw (GTK_WIDGET (self));
  schedule_blink (self);
  return G_SOURCE_REMOVE;
}

static void
update_animation (KankyoMimicView *self)
{
  guint n_rotating = 0;

  self->n_animated = 0;
  for (guint i = 0; self->elements != NULL && i < self->elements->len; i++)
    {
      Element *e = &g_array_index (self->elements, Element, i);

      if (!e->visible)
        continue;
      if (e->rotating || e->blinking || e->alarm_blink != KANKYO_MIMIC_STATE_NORMAL)
        self->n_animated++;
      if (e->rotating)
        n_rotating++;
    }
  if (n_rotating > 0)
    {
      /* Frames are drawn anyway; they show the blink too. */
      g_clear_handle_id (&self->blink_source, g_source_remove);
      if (self->tick_id == 0)
        self->tick_id = gtk_widget_add_tick_callback (GTK_WIDGET (self), tick, NULL, NULL);
    }
  else if (self->n_animated > 0)
    {
      stop_ticking (self);
      if (self->blink_source == 0 && gtk_widget_get_mapped (GTK_WIDGET (self)))
        schedule_blink (self);
    }
  else
    stop_animation (self);
}

static void
on_batch (KankyoTagStore *store, const KankyoTagSample *samples, guint n_samples, gpointer user_data)
{
  KankyoMimicView *self = user_data;
  g_autoptr (GArray) dirty = g_array_new (FALSE, FALSE, sizeof (guint));

  for (guint i = 0; i < n_samples; i++)
    {
      const KankyoTagSample *s = &samples[i];
      GPtrArray *readers;

      if (s->tag_id >= self->n_tags || (readers = self->by_tag[s->tag_id]) == NULL)
        continue;
      kankyo_tag_sample_clear (&self->samples[s->tag_id]);
      self->samples[s->tag_id] = *s;
      self->samples[s->tag_id].value = (KankyoValue) KANKYO_VALUE_INIT;
      kankyo_value_copy (&s->value, &self->samples[s->tag_id].value);
      for (guint j = 0; j < readers->len; j++)
        {
          guint index = GPOINTER_TO_UINT (g_ptr_array_index (readers, j));
          Element *e = &g_array_index (self->elements, Element, index);

          if (!e->dirty)
            {
              e->dirty = TRUE;
              g_array_append_val (dirty, index);
            }
        }
    }
  if (dirty->len == 0)
    return;
  for (guint i = 0; i < dirty->len; i++)
    {
      Element *e = &g_array_index (self->elements, Element, g_array_index (dirty, guint, i));

      element_update (self, e);
      e->dirty = FALSE;
    }
  update_animation (self);
  self->live_dirty = TRUE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* ---- alarms ---- */

/* Recomputes the alarm marks of an element from the alarms on its tags;
 * TRUE when they changed. */
static gboolean
element_update_alarm (KankyoMimicView *self, Element *e)
{
  gint ids[KANKYO_MIMIC_MAX_BINDING_TAGS];
  guint n = kankyo_mimic_binding_get_tags (e->binding, ids);
  KankyoMimicState steady = KANKYO_MIMIC_STATE_NORMAL;
  KankyoMimicState blink = KANKYO_MIMIC_STATE_NORMAL;

  for (guint i = 0; i < n; i++)
    {
      GPtrArray *alarms = (guint) ids[i] < self->n_tags ? self->tag_alarms[ids[i]] : NULL;

      for (guint j = 0; alarms != NULL && j < alarms->len; j++)
        {
          const ViewAlarm *a = g_ptr_array_index (alarms, j);
          KankyoMimicState state;

          if (!kankyo_alarm_state_is_annunciated (a->state))
            continue;
          state = kankyo_mimic_state_for_alarm_priority (a->priority);
          if (kankyo_alarm_state_needs_ack (a->state))
            blink = worse_state (blink, state);
          else
            steady = worse_state (steady, state);
        }
    }
  if (steady == e->alarm_steady && blink == e->alarm_blink)
    return FALSE;
  e->alarm_steady = steady;
  e->alarm_blink = blink;
  e->node_dirty = TRUE;
  return TRUE;
}

static void
on_alarms_changed (KankyoAlarmEngine *engine,
                   const KankyoAlarmInfo *changed,
                   guint n_changed,
                   gpointer user_data)
{
  KankyoMimicView *self = user_data;
  g_autoptr (GArray) dirty = g_array_new (FALSE, FALSE, sizeof (guint));
  gboolean redraw = FALSE;

  for (guint i = 0; i < n_changed; i++)
    {
      ViewAlarm *a = g_hash_table_lookup (self->view_alarms, changed[i].definition->id);
      GPtrArray *readers;

      if (a == NULL || a->state == changed[i].state)
        continue;
      a->state = changed[i].state;
      readers = self->by_tag[a->tag_id];
      for (guint j = 0; readers != NULL && j < readers->len; j++)
        {
          guint index = GPOINTER_TO_UINT (g_ptr_array_index (readers, j));
          Element *e = &g_array_index (self->elements, Element, index);

          if (!e->dirty)
            {
              e->dirty = TRUE;
              g_array_append_val (dirty, index);
            }
        }
    }
  for (guint i = 0; i < dirty->len; i++)
    {
      Element *e = &g_array_index (self->elements, Element, g_array_index (dirty, guint, i));

      redraw = element_update_alarm (self, e) || redraw;
      e->dirty = FALSE;
    }
  if (!redraw)
    return;
  update_animation (self);
  self->live_dirty = TRUE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static cairo_surface_t *render_indicator (KankyoMimicState state, int factor);
static void clear_indicators (KankyoMimicView *self);

/* Follows the alarms of the tags the bindings read (not of a device's
 * _online tag, which every element of the device reads for its look:
 * the comm-fail alarm would otherwise blink on all of them). */
static void
connect_alarms (KankyoMimicView *self)
{
  KankyoAlarmEngine *alarms = kankyo_engine_get_alarms (self->engine);
  g_autofree gboolean *bound = NULL;
  guint n;

  if (alarms == NULL)
    return;
  bound = g_new0 (gboolean, self->n_tags);
  for (guint i = 0; i < self->elements->len; i++)
    {
      Element *e = &g_array_index (self->elements, Element, i);
      gint ids[KANKYO_MIMIC_MAX_BINDING_TAGS];
      guint n_ids = kankyo_mimic_binding_get_tags (e->binding, ids);

      for (guint j = 0; j < n_ids; j++)
        if ((guint) ids[j] < self->n_tags)
          bound[ids[j]] = TRUE;
    }

  self->tag_alarms = g_new0 (GPtrArray *, self->n_tags);
  self->view_alarms = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) view_alarm_free);
  n = kankyo_alarm_engine_get_n_alarms (alarms);
  for (guint i = 0; i < n; i++)
    {
      const KankyoAlarmDefinition *definition = kankyo_alarm_engine_get_definition (alarms, i);
      gint tag = definition->tag != NULL ? kankyo_tag_store_lookup (self->store, definition->tag) : -1;
      ViewAlarm *a;

      if (tag < 0 || (guint) tag >= self->n_tags || !bound[tag])
        continue;
      a = g_new0 (ViewAlarm, 1);
      a->id = g_strdup (definition->id);
      a->message = g_strdup (definition->message != NULL ? definition->message : definition->id);
      a->priority = definition->priority;
      a->tag_id = (guint) tag;
      a->state = KANKYO_ALARM_STATE_NORMAL;
      g_hash_table_insert (self->view_alarms, a->id, a);
      if (self->tag_alarms[tag] == NULL)
        self->tag_alarms[tag] = g_ptr_array_new ();
      g_ptr_array_add (self->tag_alarms[tag], a);
    }
  if (g_hash_table_size (self->view_alarms) == 0)
    return;
  /* The marks are drawn now, not in the frame of the first alarm: they
   * load a font, which takes longer than a frame. */
  if (self->indicator_factor != gtk_widget_get_scale_factor (GTK_WIDGET (self)))
    {
      clear_indicators (self);
      self->indicator_factor = gtk_widget_get_scale_factor (GTK_WIDGET (self));
    }
  for (KankyoMimicState state = KANKYO_MIMIC_STATE_ABNORMAL; state < KANKYO_MIMIC_N_STATES; state++)
    if (self->indicators[state] == NULL)
      self->indicators[state] = render_indicator (state, self->indicator_factor);

  /* Shown as they stand at once; the first delivery brings them again. */
  self->alarms = alarms;
  {
    g_autoptr (GArray) active = kankyo_alarm_engine_list_active (alarms);

    on_alarms_changed (alarms, (const KankyoAlarmInfo *) active->data, active->len, self);
  }
  self->alarm_subscription = kankyo_alarm_engine_subscribe (alarms, NULL, on_alarms_changed, self, NULL);
}

/* ---- geometry ---- */

static gboolean
compute_fit (KankyoMimicView *self, double *ret_scale, double *ret_x, double *ret_y)
{
  int width = gtk_widget_get_width (GTK_WIDGET (self));
  int height = gtk_widget_get_height (GTK_WIDGET (self));
  double scale;

  if (self->static_handle == NULL || self->svg_width <= 0 || self->svg_height <= 0 || width <= 0
      || height <= 0)
    return FALSE;
  scale = MIN (width / self->svg_width, height / self->svg_height);
  *ret_scale = scale;
  *ret_x = floor ((width - self->svg_width * scale) / 2);
  *ret_y = floor ((height - self->svg_height * scale) / 2);
  return scale > 0;
}

static graphene_rect_t
scaled_box (const Element *e, double scale)
{
  graphene_rect_t r;

  graphene_rect_init (&r, e->box.origin.x * scale, e->box.origin.y * scale, e->box.size.width * scale,
                      e->box.size.height * scale);
  return r;
}

/* The element under a point in widget coordinates, topmost first. */
static int
element_at (KankyoMimicView *self, double x, double y)
{
  double scale, ox, oy;
  graphene_point_t p;

  if (self->elements == NULL || !compute_fit (self, &scale, &ox, &oy))
    return -1;
  graphene_point_init (&p, (x - ox) / scale, (y - oy) / scale);
  for (guint i = self->elements->len; i > 0; i--)
    {
      Element *e = &g_array_index (self->elements, Element, i - 1);

      if (e->visible && graphene_rect_contains_point (&e->box, &p))
        return (int) i - 1;
    }
  return -1;
}

/* ---- rendering the drawing ---- */

static GdkTexture *
texture_for_surface (cairo_surface_t *surface)
{
  int width = cairo_image_surface_get_width (surface);
  int height = cairo_image_surface_get_height (surface);
  int stride = cairo_image_surface_get_stride (surface);
  g_autoptr (GBytes) bytes = NULL;

  cairo_surface_flush (surface);
  bytes = g_bytes_new_with_free_func (cairo_image_surface_get_data (surface), (gsize) stride * height,
                                      (GDestroyNotify) cairo_surface_destroy,
                                      cairo_surface_reference (surface));
  return gdk_memory_texture_new (width, height, GDK_MEMORY_DEFAULT, bytes, stride);
}

/* The sprite recoloured once on the CPU, so that a frame never runs a
 * colour matrix over its pixels (costly in every GSK renderer). */
static cairo_surface_t *
tinted_surface (cairo_surface_t *plain, Look look)
{
  int width = cairo_image_surface_get_width (plain);
  int height = cairo_image_surface_get_height (plain);
  int stride = cairo_image_surface_get_stride (plain);
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);
  const guchar *from = cairo_image_surface_get_data (plain);
  guchar *to = cairo_image_surface_get_data (surface);
  int to_stride = cairo_image_surface_get_stride (surface);
  graphene_matrix_t matrix;
  graphene_vec4_t offset;
  float m[16], o[4];

  look_matrix (look, &matrix, &offset);
  graphene_matrix_to_float (&matrix, m);
  graphene_vec4_to_float (&offset, o);
  cairo_surface_flush (plain);
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        guint32 p = *(const guint32 *) (from + (gsize) y * stride + (gsize) x * 4);
        float a = (p >> 24) / 255.f;
        float in[4], out[4];

        if (a == 0)
          {
            *(guint32 *) (to + (gsize) y * to_stride + (gsize) x * 4) = 0;
            continue;
          }
        in[0] = ((p >> 16) & 0xff) / 255.f / a;
        in[1] = ((p >> 8) & 0xff) / 255.f / a;
        in[2] = (p & 0xff) / 255.f / a;
        in[3] = a;
        for (int j = 0; j < 4; j++)
          out[j] = CLAMP (in[0] * m[j] + in[1] * m[4 + j] + in[2] * m[8 + j] + in[3] * m[12 + j] + o[j], 0.f,
                          1.f);
        *(guint32 *) (to + (gsize) y * to_stride + (gsize) x * 4)
            = ((guint32) (out[3] * 255.f + .5f) << 24) | ((guint32) (out[0] * out[3] * 255.f + .5f) << 16)
              | ((guint32) (out[1] * out[3] * 255.f + .5f) << 8) | (guint32) (out[2] * out[3] * 255.f + .5f);
      }
  cairo_surface_mark_dirty (surface);
  return surface;
}

static cairo_surface_t *
sprite_surface (Element *e, Look look)
{
  if (e->looks[look] == NULL)
    e->looks[look]
        = look == LOOK_PLAIN ? cairo_surface_reference (e->surface) : tinted_surface (e->surface, look);
  return e->looks[look];
}

/* Draws an image surface of device pixels into @r, as a texture for the
 * GL renderer (uploaded once) or as cairo for the cairo renderer. */
static void
append_surface (KankyoMimicView *self,
                GtkSnapshot *snapshot,
                cairo_surface_t *surface,
                GdkTexture **texture,
                const graphene_rect_t *r)
{
  if (self->cairo_renderer)
    {
      cairo_t *cr = gtk_snapshot_append_cairo (snapshot, r);

      cairo_translate (cr, r->origin.x, r->origin.y);
      cairo_scale (cr, r->size.width / cairo_image_surface_get_width (surface),
                   r->size.height / cairo_image_surface_get_height (surface));
      cairo_set_source_surface (cr, surface, 0, 0);
      cairo_paint (cr);
      cairo_destroy (cr);
      return;
    }
  if (*texture == NULL)
    *texture = texture_for_surface (surface);
  gtk_snapshot_append_texture (snapshot, *texture, r);
}

static void
render_textures (KankyoMimicView *self, double k)
{
  g_autoptr (GError) error = NULL;
  RsvgRectangle viewport = { 0, 0, self->svg_width * k, self->svg_height * k };
  cairo_surface_t *surface;
  cairo_t *cr;

  drop_textures (self);
  surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, MAX (1, (int) ceil (self->svg_width * k)),
                                        MAX (1, (int) ceil (self->svg_height * k)));
  cr = cairo_create (surface);
  if (!rsvg_handle_render_document (self->static_handle, cr, &viewport, &error))
    g_warning ("Cannot render the mimic: %s", error->message);
  cairo_destroy (cr);
  cairo_surface_flush (surface);
  self->surface = surface;

  for (guint i = 0; i < self->elements->len; i++)
    {
      Element *e = &g_array_index (self->elements, Element, i);
      g_autofree char *id = NULL;
      double x0, y0, x1, y1;

      if (!e->sprite || e->box.size.width <= 0 || e->box.size.height <= 0)
        continue;
      /* Whole device pixels around the box, so the texture lands on the grid. */
      x0 = floor (e->box.origin.x * k) - 1;
      y0 = floor (e->box.origin.y * k) - 1;
      x1 = ceil ((e->box.origin.x + e->box.size.width) * k) + 1;
      y1 = ceil ((e->box.origin.y + e->box.size.height) * k) + 1;
      surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, (int) (x1 - x0), (int) (y1 - y0));
      cr = cairo_create (surface);
      cairo_translate (cr, -x0, -y0);
      id = g_strconcat ("#", e->binding->id, NULL);
      g_clear_error (&error);
      if (!rsvg_handle_render_layer (self->layers[e->depth], cr, id, &viewport, &error))
        g_warning ("Cannot render mimic element '%s': %s", e->binding->id, error->message);
      cairo_destroy (cr);
      e->surface = surface;
      graphene_rect_init (&e->texture_box, x0 / k, y0 / k, (x1 - x0) / k, (y1 - y0) / k);
    }
  self->render_scale = k;
  self->live_dirty = TRUE;
}

/* A small shape with a number for each colour, so no state is told by
 * colour alone: a square for high, a triangle for medium, a diamond for
 * low, a circle for abnormal. */
void
kankyo_mimic_paint_state_mark (cairo_t *cr, KankyoMimicState state, double size, double line_width)
{
  const GdkRGBA *c = state_colour (state);
  double s = size;
  PangoLayout *layout;
  PangoFontDescription *font;
  const char *mark;
  gboolean dark_mark = state == KANKYO_MIMIC_STATE_ALARM_MEDIUM;
  int w, h;

  g_return_if_fail (cr != NULL);
  if (c == NULL || size <= 0)
    return;
  cairo_save (cr);
  cairo_new_path (cr);
  switch (state)
    {
      case KANKYO_MIMIC_STATE_ALARM_HIGH:
        cairo_rectangle (cr, 1, 1, s - 2, s - 2);
        mark = "1";
        break;
      case KANKYO_MIMIC_STATE_ALARM_MEDIUM:
        cairo_move_to (cr, s / 2, 0.5);
        cairo_line_to (cr, s - 0.5, s - 1);
        cairo_line_to (cr, 0.5, s - 1);
        cairo_close_path (cr);
        mark = "2";
        break;
      case KANKYO_MIMIC_STATE_ALARM_LOW:
        cairo_move_to (cr, s / 2, 0.5);
        cairo_line_to (cr, s - 0.5, s / 2);
        cairo_line_to (cr, s / 2, s - 0.5);
        cairo_line_to (cr, 0.5, s / 2);
        cairo_close_path (cr);
        mark = "3";
        break;
      case KANKYO_MIMIC_STATE_ABNORMAL:
      default:
        cairo_arc (cr, s / 2, s / 2, s / 2 - 1, 0, 2 * G_PI);
        mark = "!";
        break;
    }
  gdk_cairo_set_source_rgba (cr, c);
  cairo_fill_preserve (cr);
  cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
  cairo_set_line_width (cr, line_width);
  cairo_stroke (cr);

  layout = pango_cairo_create_layout (cr);
  font = pango_font_description_from_string ("Sans Bold");
  pango_font_description_set_absolute_size (font, s * 0.62 * PANGO_SCALE);
  pango_layout_set_font_description (layout, font);
  pango_layout_set_text (layout, mark, -1);
  pango_layout_get_pixel_size (layout, &w, &h);
  cairo_move_to (cr, (s - w) / 2, (s - h) / 2 + (state == KANKYO_MIMIC_STATE_ALARM_MEDIUM ? s * 0.12 : 0));
  if (dark_mark)
    cairo_set_source_rgb (cr, 0, 0, 0);
  else
    cairo_set_source_rgb (cr, 1, 1, 1);
  pango_cairo_show_layout (cr, layout);
  pango_font_description_free (font);
  g_object_unref (layout);
  cairo_restore (cr);
}

KankyoMimicState
kankyo_mimic_state_for_alarm_priority (KankyoAlarmPriority priority)
{
  switch (priority)
    {
      case KANKYO_ALARM_PRIORITY_HIGH:
        return KANKYO_MIMIC_STATE_ALARM_HIGH;
      case KANKYO_ALARM_PRIORITY_MEDIUM:
        return KANKYO_MIMIC_STATE_ALARM_MEDIUM;
      case KANKYO_ALARM_PRIORITY_LOW:
        return KANKYO_MIMIC_STATE_ALARM_LOW;
      case KANKYO_ALARM_PRIORITY_DIAGNOSTIC:
      default:
        return KANKYO_MIMIC_STATE_ABNORMAL;
    }
}

static cairo_surface_t *
render_indicator (KankyoMimicState state, int factor)
{
  int size = (int) ceil (INDICATOR_SIZE * factor);
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, size, size);
  cairo_t *cr = cairo_create (surface);

  kankyo_mimic_paint_state_mark (cr, state, size, factor);
  cairo_destroy (cr);
  cairo_surface_flush (surface);
  return surface;
}

static void
clear_indicators (KankyoMimicView *self)
{
  for (guint i = 0; i < G_N_ELEMENTS (self->indicators); i++)
    {
      g_clear_pointer (&self->indicators[i], cairo_surface_destroy);
      g_clear_object (&self->indicator_textures[i]);
    }
}

static void
append_indicator_mark (KankyoMimicView *self,
                       GtkSnapshot *snapshot,
                       KankyoMimicState state,
                       const graphene_rect_t *r)
{
  int factor = gtk_widget_get_scale_factor (GTK_WIDGET (self));

  if (factor != self->indicator_factor)
    {
      clear_indicators (self);
      self->indicator_factor = factor;
    }
  if (self->indicators[state] == NULL)
    self->indicators[state] = render_indicator (state, factor);
  append_surface (self, snapshot, self->indicators[state], &self->indicator_textures[state], r);
}

/* ---- snapshot ---- */

static void
append_outline (GtkSnapshot *snapshot, const graphene_rect_t *r, double width, const GdkRGBA *colour)
{
  GskRoundedRect outline;
  float widths[4] = { width, width, width, width };
  GdkRGBA colours[4] = { *colour, *colour, *colour, *colour };

  gsk_rounded_rect_init_from_rect (&outline, r, 0);
  gtk_snapshot_append_border (snapshot, &outline, widths, colours);
}

static void
append_hatch (GtkSnapshot *snapshot, const graphene_rect_t *r)
{
  GskColorStop stops[] = {
    { 0.0f, hatch_colour },
    { 0.3f, hatch_colour },
    { 0.3f, { 0, 0, 0, 0 } },
    { 1.0f, { 0, 0, 0, 0 } },
  };
  graphene_point_t start, end;

  graphene_point_init (&start, r->origin.x, r->origin.y);
  graphene_point_init (&end, r->origin.x + 5, r->origin.y + 5);
  gtk_snapshot_append_repeating_linear_gradient (snapshot, r, &start, &end, stops, G_N_ELEMENTS (stops));
  append_outline (snapshot, r, 1, &outline_colour);
}

static void
append_sprite (KankyoMimicView *self, GtkSnapshot *snapshot, Element *e, double scale, double angle)
{
  Look look = element_look (e->fill_state, e->stroke_state, e->offline);
  graphene_rect_t r;

  graphene_rect_init (&r, e->texture_box.origin.x * scale, e->texture_box.origin.y * scale,
                      e->texture_box.size.width * scale, e->texture_box.size.height * scale);
  if (angle != 0)
    {
      graphene_point_t c;

      graphene_point_init (&c, e->centre.x * scale, e->centre.y * scale);
      gtk_snapshot_save (snapshot);
      gtk_snapshot_translate (snapshot, &c);
      gtk_snapshot_rotate (snapshot, angle);
      graphene_point_init (&c, -c.x, -c.y);
      gtk_snapshot_translate (snapshot, &c);
    }
  append_surface (self, snapshot, sprite_surface (e, look), &e->look_textures[look], &r);
  if (angle != 0)
    gtk_snapshot_restore (snapshot);
}

static void
append_level (GtkSnapshot *snapshot, Element *e, const graphene_rect_t *box, double scale)
{
  double inset = MIN (1.5 * scale, MIN (box->size.width, box->size.height) / 4);
  graphene_rect_t r;
  double w = box->size.width - 2 * inset;
  double h = box->size.height - 2 * inset;
  double f = e->level;

  if (isnan (f) || w <= 0 || h <= 0)
    return;
  switch (e->binding->level->direction)
    {
      case KANKYO_MIMIC_DIRECTION_DOWN:
        graphene_rect_init (&r, box->origin.x + inset, box->origin.y + inset, w, h * f);
        break;
      case KANKYO_MIMIC_DIRECTION_LEFT:
        graphene_rect_init (&r, box->origin.x + inset + w * (1 - f), box->origin.y + inset, w * f, h);
        break;
      case KANKYO_MIMIC_DIRECTION_RIGHT:
        graphene_rect_init (&r, box->origin.x + inset, box->origin.y + inset, w * f, h);
        break;
      case KANKYO_MIMIC_DIRECTION_UP:
      default:
        graphene_rect_init (&r, box->origin.x + inset, box->origin.y + inset + h * (1 - f), w, h * f);
        break;
    }
  gtk_snapshot_append_color (snapshot, e->offline ? &faded_text_colour : &level_colour, &r);
}

static const ShapedText *
shaped_text (KankyoMimicView *self, const char *text, int size, gboolean faded)
{
  g_autofree char *key = g_strdup_printf ("%d|%d|%s", size, faded, text);
  ShapedText *shaped = g_hash_table_lookup (self->texts, key);
  PangoFontDescription *font;
  PangoRectangle logical;
  GtkSnapshot *snapshot;

  if (shaped != NULL)
    return shaped;
  if (g_hash_table_size (self->texts) >= MAX_SHAPED_TEXTS)
    g_hash_table_remove_all (self->texts);
  if (self->text_layout == NULL)
    {
      PangoAttrList *attributes = pango_attr_list_new ();

      self->text_layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), NULL);
      /* Figures of one width, so a changing value does not jitter. */
      pango_attr_list_insert (attributes, pango_attr_font_features_new ("tnum=1"));
      pango_layout_set_attributes (self->text_layout, attributes);
      pango_attr_list_unref (attributes);
    }
  font = pango_font_description_from_string ("Sans");
  pango_font_description_set_absolute_size (font, size);
  pango_layout_set_font_description (self->text_layout, font);
  pango_font_description_free (font);
  pango_layout_set_text (self->text_layout, text, -1);
  pango_layout_get_pixel_extents (self->text_layout, NULL, &logical);

  snapshot = gtk_snapshot_new ();
  gtk_snapshot_append_layout (snapshot, self->text_layout, faded ? &faded_text_colour : &text_colour);
  shaped = g_new0 (ShapedText, 1);
  shaped->node = gtk_snapshot_free_to_node (snapshot);
  shaped->width = logical.width;
  shaped->height = logical.height;
  g_hash_table_insert (self->texts, g_steal_pointer (&key), shaped);
  return shaped;
}

static void
append_text (
    KankyoMimicView *self, GtkSnapshot *snapshot, Element *e, const graphene_rect_t *box, double scale)
{
  KankyoMimicText *t = e->binding->text;
  const ShapedText *shaped;
  graphene_point_t at;
  double font_px;

  if (e->text == NULL)
    return;
  font_px = (t->font_size > 0 ? t->font_size : e->box.size.height * 0.7) * scale;
  if (font_px < MIN_FONT_PX)
    return;
  shaped = shaped_text (self, e->text, (int) (font_px * PANGO_SCALE), e->offline);
  if (shaped->node == NULL)
    return;
  switch (t->align)
    {
      case KANKYO_MIMIC_ALIGN_START:
        at.x = box->origin.x + TEXT_PADDING * scale;
        break;
      case KANKYO_MIMIC_ALIGN_END:
        at.x = box->origin.x + box->size.width - TEXT_PADDING * scale - shaped->width;
        break;
      case KANKYO_MIMIC_ALIGN_MIDDLE:
      default:
        at.x = box->origin.x + (box->size.width - shaped->width) / 2;
        break;
    }
  at.y = box->origin.y + (box->size.height - shaped->height) / 2;
  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot, &at);
  gtk_snapshot_append_node (snapshot, shaped->node);
  gtk_snapshot_restore (snapshot);
}

static void
append_indicator (KankyoMimicView *self,
                  GtkSnapshot *snapshot,
                  KankyoMimicState state,
                  const graphene_rect_t *box,
                  gboolean outline)
{
  const GdkRGBA *c = state_colour (state);
  graphene_rect_t r;

  if (c == NULL)
    return;
  if (outline)
    {
      graphene_rect_t around;

      graphene_rect_inset_r (box, -0.5, -0.5, &around);
      append_outline (snapshot, &around, 2, c);
    }
  graphene_rect_init (&r, box->origin.x + box->size.width - INDICATOR_SIZE / 2,
                      box->origin.y - INDICATOR_SIZE / 2, INDICATOR_SIZE, INDICATOR_SIZE);
  append_indicator_mark (self, snapshot, state, &r);
}

/* What one element adds to the live layer, animation aside: rebuilt when
 * its values or the size change, so a frame costs what changed. */
static GskRenderNode *
element_node (KankyoMimicView *self, Element *e, double scale)
{
  GtkSnapshot *snapshot;
  graphene_rect_t box = scaled_box (e, scale);
  KankyoMimicState drawn
      = e->offline ? KANKYO_MIMIC_STATE_NORMAL : worse_state (e->fill_state, e->stroke_state);
  KankyoMimicState state = worse_state (drawn, e->alarm_steady);

  if (!e->visible)
    return NULL;
  snapshot = gtk_snapshot_new ();
  if (e->sprite && e->surface != NULL && !e->rotating)
    append_sprite (self, snapshot, e, scale, 0);
  if (e->binding->level != NULL)
    append_level (snapshot, e, &box, scale);
  /* Marks go under the value, so it stays readable. */
  if (e->offline && !e->sprite)
    gtk_snapshot_append_color (snapshot, &veil_colour, &box);
  if (e->bad || e->unknown)
    append_hatch (snapshot, &box);
  if (e->binding->text != NULL)
    append_text (self, snapshot, e, &box, scale);
  /* A state the sprite cannot show (a replaced text, an alarm) gets an
   * outline. */
  append_indicator (self, snapshot, state, &box, !e->sprite || state != drawn);
  return gtk_snapshot_free_to_node (snapshot);
}

static gboolean
catch_up (GtkWidget *widget, GdkFrameClock *clock, gpointer user_data)
{
  KankyoMimicView *self = KANKYO_MIMIC_VIEW (widget);

  self->catch_up_tick = 0;
  gtk_widget_queue_draw (widget);
  return G_SOURCE_REMOVE;
}

/* Elements go into containers of CHUNK_SIZE in document order. GTK keeps
 * at most 30 rectangles of damage before it redraws a whole container, so
 * one flat container of hundreds of changing values would be redrawn whole
 * on every update; with chunks, what is redrawn is the chunks that
 * changed, and the drawing order stays the document's.
 *
 * A frame rebuilds at most MAX_REBUILDS_PER_FRAME changed elements, going
 * round the chunks from where the last frame stopped, and asks for the next
 * frame to do the rest. When several devices' polls land together, their
 * values then appear over a few frames (500 changed values take eight, so
 * about 130 ms at 60 Hz, well inside one poll period) instead of in one
 * long frame that would delay input and animation. */
static GskRenderNode *
build_live_node (KankyoMimicView *self, double scale)
{
  guint n_chunks = (self->elements->len + CHUNK_SIZE - 1) / CHUNK_SIZE;
  gboolean rescaled = self->live_scale != scale;
  g_autoptr (GPtrArray) chunks = g_ptr_array_sized_new (n_chunks);
  guint budget = MAX_REBUILDS_PER_FRAME;
  gboolean left_over = FALSE;

  if (self->chunks == NULL || self->n_chunks != n_chunks)
    {
      clear_chunks (self);
      self->chunks = g_new0 (GskRenderNode *, n_chunks);
      self->n_chunks = n_chunks;
      self->next_chunk = 0;
      rescaled = TRUE;
    }
  for (guint k = 0; k < n_chunks && !rescaled; k++)
    {
      guint c = (self->next_chunk + k) % n_chunks;
      guint first = c * CHUNK_SIZE;
      guint end = MIN (first + CHUNK_SIZE, self->elements->len);
      gboolean changed = FALSE;

      for (guint i = first; i < end; i++)
        {
          Element *e = &g_array_index (self->elements, Element, i);

          if (!e->node_dirty)
            continue;
          if (budget == 0)
            {
              if (!left_over)
                self->next_chunk = c;
              left_over = TRUE;
              break;
            }
          g_clear_pointer (&e->node, gsk_render_node_unref);
          e->node = element_node (self, e, scale);
          e->node_dirty = FALSE;
          budget--;
          changed = TRUE;
        }
      if (changed)
        g_clear_pointer (&self->chunks[c], gsk_render_node_unref);
    }
  for (guint c = 0; c < n_chunks; c++)
    {
      guint first = c * CHUNK_SIZE;
      guint end = MIN (first + CHUNK_SIZE, self->elements->len);

      if (rescaled)
        {
          g_clear_pointer (&self->chunks[c], gsk_render_node_unref);
          for (guint i = first; i < end; i++)
            {
              Element *e = &g_array_index (self->elements, Element, i);

              g_clear_pointer (&e->node, gsk_render_node_unref);
              e->node = element_node (self, e, scale);
              e->node_dirty = FALSE;
            }
        }
      if (self->chunks[c] == NULL)
        {
          GskRenderNode *children[CHUNK_SIZE];
          guint n = 0;

          for (guint i = first; i < end; i++)
            {
              Element *e = &g_array_index (self->elements, Element, i);

              if (e->node != NULL)
                children[n++] = e->node;
            }
          if (n > 0)
            self->chunks[c] = gsk_container_node_new (children, n);
        }
      if (self->chunks[c] != NULL)
        g_ptr_array_add (chunks, self->chunks[c]);
    }
  if (left_over)
    {
      self->live_dirty = TRUE;
      if (self->catch_up_tick == 0)
        self->catch_up_tick = gtk_widget_add_tick_callback (GTK_WIDGET (self), catch_up, NULL, NULL);
    }
  return gsk_container_node_new ((GskRenderNode **) chunks->pdata, chunks->len);
}

static void
append_focus (KankyoMimicView *self, GtkSnapshot *snapshot, double scale)
{
  Element *e;
  graphene_rect_t box, ring;

  if (self->focus < 0 || !gtk_widget_has_visible_focus (GTK_WIDGET (self)))
    return;
  e = &g_array_index (self->elements, Element, self->focus);
  box = scaled_box (e, scale);
  graphene_rect_inset_r (&box, -4, -4, &ring);
  append_outline (snapshot, &ring, FOCUS_WIDTH, &focus_colour);
}

static void
append_animation (KankyoMimicView *self, GtkSnapshot *snapshot, double scale)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (GTK_WIDGET (self));
  double seconds = (clock != NULL ? gdk_frame_clock_get_frame_time (clock) : g_get_monotonic_time ()) / 1e6;
  gboolean blink_on = blink_on_now ();

  for (guint i = 0; i < self->elements->len; i++)
    {
      Element *e = &g_array_index (self->elements, Element, i);

      if (!e->visible)
        continue;
      if (e->rotating && e->sprite && e->surface != NULL)
        append_sprite (self, snapshot, e, scale, fmod (seconds * e->binding->rotate->rpm * 6, 360));
      if (e->blinking && blink_on)
        {
          graphene_rect_t box = scaled_box (e, scale);

          append_indicator (self, snapshot, e->binding->blink->state, &box, TRUE);
        }
      if (e->alarm_blink != KANKYO_MIMIC_STATE_NORMAL && blink_on)
        {
          graphene_rect_t box = scaled_box (e, scale);

          append_indicator (self, snapshot, e->alarm_blink, &box, TRUE);
        }
    }
}

static void
kankyo_mimic_view_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  KankyoMimicView *self = KANKYO_MIMIC_VIEW (widget);
  double scale, x, y, k;

  if (!gtk_widget_get_visible (self->error_label) && compute_fit (self, &scale, &x, &y))
    {
      graphene_rect_t r;
      graphene_point_t offset;

      gboolean cairo_renderer
          = GSK_IS_CAIRO_RENDERER (gtk_native_get_renderer (gtk_widget_get_native (widget)));

      k = scale * gtk_widget_get_scale_factor (widget);
      if (cairo_renderer != self->cairo_renderer)
        {
          /* Another window, another renderer: nodes of the other kind go. */
          self->cairo_renderer = cairo_renderer;
          drop_textures (self);
          clear_indicators (self);
        }
      if (self->surface == NULL || fabs (k - self->render_scale) > 1e-9)
        render_textures (self, k);
      if (self->live_node == NULL || self->live_dirty || self->live_scale != scale)
        {
          g_clear_pointer (&self->live_node, gsk_render_node_unref);
          self->live_dirty = FALSE;
          self->live_node = build_live_node (self, scale);
          self->live_scale = scale;
        }

      graphene_point_init (&offset, x, y);
      gtk_snapshot_save (snapshot);
      gtk_snapshot_translate (snapshot, &offset);
      if (self->static_node == NULL)
        {
          GtkSnapshot *layer = gtk_snapshot_new ();

          int factor = gtk_widget_get_scale_factor (widget);

          /* Whole device pixels, so cairo copies rather than resamples. */
          graphene_rect_init (&r, 0, 0, cairo_image_surface_get_width (self->surface) / (double) factor,
                              cairo_image_surface_get_height (self->surface) / (double) factor);
          append_surface (self, layer, self->surface, &self->texture, &r);
          self->static_node = gtk_snapshot_free_to_node (layer);
        }
      gtk_snapshot_append_node (snapshot, self->static_node);
      if (self->live_node != NULL)
        gtk_snapshot_append_node (snapshot, self->live_node);
      append_focus (self, snapshot, scale);
      if (self->n_animated > 0)
        append_animation (self, snapshot, scale);
      gtk_snapshot_restore (snapshot);
    }
  gtk_widget_snapshot_child (widget, self->error_label, snapshot);
}

static void
kankyo_mimic_view_measure (GtkWidget *widget,
                           GtkOrientation orientation,
                           int for_size,
                           int *minimum,
                           int *natural,
                           int *minimum_baseline,
                           int *natural_baseline)
{
  KankyoMimicView *self = KANKYO_MIMIC_VIEW (widget);
  int child_min = 0, child_nat = 0;
  double size = orientation == GTK_ORIENTATION_HORIZONTAL ? self->svg_width : self->svg_height;

  if (gtk_widget_get_visible (self->error_label))
    gtk_widget_measure (self->error_label, orientation, for_size, &child_min, &child_nat, NULL, NULL);
  *minimum = child_min;
  *natural = MAX (child_nat, (int) ceil (size));
}

static void
kankyo_mimic_view_size_allocate (GtkWidget *widget, int width, int height, int baseline)
{
  KankyoMimicView *self = KANKYO_MIMIC_VIEW (widget);

  if (gtk_widget_get_visible (self->error_label))
    gtk_widget_allocate (self->error_label, width, height, baseline, NULL);
}

/* ---- input ---- */

static void
activate_element (KankyoMimicView *self, int index)
{
  Element *e;

  if (index < 0 || self->elements == NULL || (guint) index >= self->elements->len)
    return;
  e = &g_array_index (self->elements, Element, index);
  if (e->binding->device != NULL)
    g_signal_emit (self, signals[SIGNAL_DEVICE_ACTIVATED], 0, e->binding->device);
}

static void
set_focus (KankyoMimicView *self, int index)
{
  if (self->focus == index)
    return;
  self->focus = index;
  self->live_dirty = TRUE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
  if (index >= 0)
    {
      Element *e = &g_array_index (self->elements, Element, index);
      g_autofree char *description = NULL;

      if (e->text != NULL)
        description = g_strdup_printf (_ ("%s: %s (device %s)"), e->binding->id, e->text, e->binding->device);
      else
        description = g_strdup_printf (_ ("%s (device %s)"), e->binding->id, e->binding->device);
      gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, description,
                                      -1);
    }
}

static void
on_pressed (GtkGestureClick *gesture, int n_press, double x, double y, KankyoMimicView *self)
{
  self->pressed = element_at (self, x, y);
  if (self->pressed >= 0)
    {
      gtk_widget_grab_focus (GTK_WIDGET (self));
      set_focus (self, self->pressed);
    }
}

static void
on_released (GtkGestureClick *gesture, int n_press, double x, double y, KankyoMimicView *self)
{
  int index = element_at (self, x, y);

  if (index >= 0 && index == self->pressed && n_press == 1)
    activate_element (self, index);
  self->pressed = -1;
}

/* The nearest element in a direction, the cross distance counting double. */
static int
element_towards (KankyoMimicView *self, int from, double dx, double dy)
{
  Element *f = &g_array_index (self->elements, Element, from);
  graphene_point_t a;
  double best = G_MAXDOUBLE;
  int found = -1;

  graphene_rect_get_center (&f->box, &a);
  for (guint i = 0; i < self->elements->len; i++)
    {
      Element *e = &g_array_index (self->elements, Element, i);
      graphene_point_t b;
      double along, across, cost;

      if ((int) i == from || !e->visible)
        continue;
      graphene_rect_get_center (&e->box, &b);
      along = (b.x - a.x) * dx + (b.y - a.y) * dy;
      across = fabs ((b.x - a.x) * dy - (b.y - a.y) * dx);
      if (along <= 0.5)
        continue;
      cost = along + 2 * across;
      if (cost < best)
        {
          best = cost;
          found = (int) i;
        }
    }
  return found;
}

static gboolean
on_key_pressed (GtkEventControllerKey *controller,
                guint keyval,
                guint keycode,
                GdkModifierType state,
                KankyoMimicView *self)
{
  double dx = 0, dy = 0;
  int next;

  if (self->elements == NULL || self->elements->len == 0)
    return FALSE;
  if (self->focus < 0)
    set_focus (self, 0);
  switch (keyval)
    {
      case GDK_KEY_Return:
      case GDK_KEY_KP_Enter:
      case GDK_KEY_ISO_Enter:
      case GDK_KEY_space:
      case GDK_KEY_KP_Space:
        activate_element (self, self->focus);
        return TRUE;
      case GDK_KEY_Left:
      case GDK_KEY_KP_Left:
        dx = -1;
        break;
      case GDK_KEY_Right:
      case GDK_KEY_KP_Right:
        dx = 1;
        break;
      case GDK_KEY_Up:
      case GDK_KEY_KP_Up:
        dy = -1;
        break;
      case GDK_KEY_Down:
      case GDK_KEY_KP_Down:
        dy = 1;
        break;
      case GDK_KEY_Home:
        set_focus (self, 0);
        return TRUE;
      case GDK_KEY_End:
        set_focus (self, (int) self->elements->len - 1);
        return TRUE;
      default:
        return FALSE;
    }
  next = element_towards (self, self->focus, dx, dy);
  if (next >= 0)
    set_focus (self, next);
  else
    gtk_widget_error_bell (GTK_WIDGET (self));
  return TRUE;
}

static void
on_focus_changed (GtkEventControllerFocus *controller, KankyoMimicView *self)
{
  if (self->focus < 0 && self->elements != NULL && self->elements->len > 0)
    self->focus = 0;
  self->live_dirty = TRUE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static char *
format_age (gint64 microseconds)
{
  gint64 s = microseconds / G_USEC_PER_SEC;

  if (s < 60)
    return g_strdup_printf (ngettext ("%d second", "%d seconds", (gulong) s), (int) s);
  if (s < 3600)
    return g_strdup_printf (_ ("%d min %d s"), (int) (s / 60), (int) (s % 60));
  if (s < 86400)
    return g_strdup_printf (_ ("%d h %d min"), (int) (s / 3600), (int) (s % 3600 / 60));
  return g_strdup_printf (ngettext ("%d day", "%d days", (gulong) (s / 86400)), (int) (s / 86400));
}

static void
describe_tag (KankyoMimicView *self, GString *out, gint tag_id, gint64 now)
{
  const KankyoTagSpec *spec = kankyo_tag_store_get_spec (self->store, tag_id);
  KankyoTagSample sample;
  g_autofree char *value = NULL;

  kankyo_tag_store_get (self->store, tag_id, &sample);
  if (sample.value.type != KANKYO_VALUE_NONE)
    value = kankyo_tag_spec_format_value (spec, &sample.value);
  g_string_append_printf (out, "\n%s: %s%s%s", spec->label != NULL ? spec->label : spec->name,
                          value != NULL ? value : "---", spec->unit != NULL && value != NULL ? " " : "",
                          spec->unit != NULL && value != NULL ? spec->unit : "");
  if (!kankyo_quality_is_good (sample.quality))
    {
      if (sample.source_time > 0)
        {
          g_autofree char *age = format_age (now - sample.source_time);

          g_string_append_printf (out, _ ("\n    %s, last value %s old"),
                                  kankyo_quality_describe (sample.quality), age);
        }
      else
        g_string_append_printf (out, _ ("\n    %s, no value yet"), kankyo_quality_describe (sample.quality));
    }
  kankyo_tag_sample_clear (&sample);
}

static void
describe_alarms (GString *out, GPtrArray *alarms)
{
  for (guint i = 0; alarms != NULL && i < alarms->len; i++)
    {
      const ViewAlarm *a = g_ptr_array_index (alarms, i);

      if (!kankyo_alarm_state_is_annunciated (a->state))
        continue;
      g_string_append_c (out, '\n');
      /* Translators: an alarm in the tooltip of a mimic element: its
       * priority, its message and its state, e.g. "High priority alarm:
       * Fill room: temperature high (Unacknowledged)" */
      g_string_append_printf (out, _ ("%s priority alarm: %s (%s)"),
                              kankyo_alarm_priority_label (a->priority), a->message,
                              kankyo_alarm_state_label (a->state));
    }
}

static gboolean
on_query_tooltip (GtkWidget *widget, int x, int y, gboolean keyboard, GtkTooltip *tooltip, gpointer user_data)
{
  KankyoMimicView *self = KANKYO_MIMIC_VIEW (widget);
  int index = keyboard ? self->focus : element_at (self, x, y);
  g_autoptr (GString) text = NULL;
  KankyoDeviceConfig *device;
  gint ids[KANKYO_MIMIC_MAX_BINDING_TAGS];
  gint64 now = g_get_real_time ();
  double scale, ox, oy;
  Element *e;
  guint n;

  if (index < 0 || !compute_fit (self, &scale, &ox, &oy))
    return FALSE;
  e = &g_array_index (self->elements, Element, index);
  device = kankyo_project_find_device (kankyo_engine_get_project (self->engine), e->binding->device);
  text = g_string_new (device != NULL && device->label != NULL ? device->label : e->binding->device);
  if (e->offline)
    g_string_append_printf (text, "\n%s", _ ("The device does not answer."));
  n = kankyo_mimic_binding_get_tags (e->binding, ids);
  for (guint i = 0; i < n; i++)
    describe_tag (self, text, ids[i], now);
  for (guint i = 0; self->tag_alarms != NULL && i < n; i++)
    describe_alarms (text, self->tag_alarms[ids[i]]);
  gtk_tooltip_set_text (tooltip, text->str);
  {
    graphene_rect_t box = scaled_box (e, scale);
    GdkRectangle area = { (int) floor (box.origin.x + ox), (int) floor (box.origin.y + oy),
                          (int) ceil (box.size.width), (int) ceil (box.size.height) };

    gtk_tooltip_set_tip_area (tooltip, &area);
  }
  return TRUE;
}

/* ---- loading ---- */

static RsvgHandle *
new_handle (GBytes *bytes, GFile *base, const char *css, GError **error)
{
  g_autoptr (GInputStream) stream = g_memory_input_stream_new_from_bytes (bytes);
  RsvgHandle *handle = rsvg_handle_new_from_stream_sync (stream, base, RSVG_HANDLE_FLAGS_NONE, NULL, error);

  if (handle == NULL)
    return NULL;
  rsvg_handle_set_dpi (handle, 96);
  if (css != NULL && *css != '\0'
      && !rsvg_handle_set_stylesheet (handle, (const guint8 *) css, strlen (css), error))
    {
      g_object_unref (handle);
      return NULL;
    }
  return handle;
}

static gboolean
drawing_size (RsvgHandle *handle, double *ret_width, double *ret_height)
{
  gboolean has_width, has_height, has_viewbox;
  RsvgLength width, height;
  RsvgRectangle viewbox;

  if (rsvg_handle_get_intrinsic_size_in_pixels (handle, ret_width, ret_height))
    return *ret_width > 0 && *ret_height > 0;
  /* Only a viewBox (or percentages): its units are the drawing's pixels. */
  rsvg_handle_get_intrinsic_dimensions (handle, &has_width, &width, &has_height, &height, &has_viewbox,
                                        &viewbox);
  if (!has_viewbox || viewbox.width <= 0 || viewbox.height <= 0)
    return FALSE;
  *ret_width = viewbox.width;
  *ret_height = viewbox.height;
  return TRUE;
}

static void
append_selector (GString *css, const char *id)
{
  if (css->len > 0)
    g_string_append (css, ",\n");
  /* The binding file refuses quotes and backslashes in ids, so this is safe. */
  g_string_append_printf (css, "[id=\"%s\"]", id);
}

static gboolean
is_changing (const KankyoMimicBinding *b, KankyoMimicSvg *svg)
{
  const char *element = kankyo_mimic_svg_get_element (svg, b->id);
  gboolean is_rect = g_strcmp0 (element, "rect") == 0;

  /* A rectangle's stroke state is an outline along its box, drawn like the
   * other marks; a value field then costs no texture of its own. */
  return b->fill != NULL || (b->stroke != NULL && !is_rect) || b->rotate != NULL || b->visible != NULL
         || (b->text != NULL && (g_strcmp0 (element, "text") == 0 || g_strcmp0 (element, "tspan") == 0));
}

static int
compare_order (gconstpointer a, gconstpointer b, gpointer user_data)
{
  KankyoMimicSvg *svg = user_data;
  guint oa = kankyo_mimic_svg_get_order (svg, (*(KankyoMimicBinding *const *) a)->id);
  guint ob = kankyo_mimic_svg_get_order (svg, (*(KankyoMimicBinding *const *) b)->id);

  return oa < ob ? -1 : oa > ob;
}

static gboolean
build_elements (
    KankyoMimicView *self, KankyoMimicSvg *svg, GBytes *svg_bytes, GFile *svg_file, GError **error)
{
  g_autoptr (GPtrArray) order = g_ptr_array_sized_new (self->bindings->bindings->len);
  g_autoptr (GHashTable) changing = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree char *svg_name = g_file_get_parse_name (svg_file);
  GString *hide[MAX_NESTING + 2];
  guint max_depth = 0;
  RsvgRectangle viewport = { 0, 0, self->svg_width, self->svg_height };

  /* Borrowed: the bindings own them. */
  for (guint i = 0; i < self->bindings->bindings->len; i++)
    g_ptr_array_add (order, g_ptr_array_index (self->bindings->bindings, i));
  g_ptr_array_sort_with_data (order, compare_order, svg);
  self->elements = g_array_sized_new (FALSE, TRUE, sizeof (Element), order->len);
  for (guint i = 0; i < order->len; i++)
    {
      KankyoMimicBinding *b = g_ptr_array_index (order, i);

      if (is_changing (b, svg))
        g_hash_table_add (changing, b->id);
    }

  for (guint i = 0; i < G_N_ELEMENTS (hide); i++)
    hide[i] = g_string_new (NULL);
  for (guint i = 0; i < order->len; i++)
    {
      KankyoMimicBinding *b = g_ptr_array_index (order, i);
      const char *element = kankyo_mimic_svg_get_element (svg, b->id);
      Element e = { 0 };

      e.binding = b;
      e.online_tag = -1;
      e.level = NAN;
      e.visible = TRUE;
      e.replaced = b->text != NULL && (g_strcmp0 (element, "text") == 0 || g_strcmp0 (element, "tspan") == 0);
      e.sprite = g_hash_table_contains (changing, b->id) && !e.replaced;
      for (const char *p = kankyo_mimic_svg_get_parent_id (svg, b->id); p != NULL;
           p = kankyo_mimic_svg_get_parent_id (svg, p))
        if (g_hash_table_contains (changing, p))
          e.depth++;
      if (g_hash_table_contains (changing, b->id))
        {
          if (e.depth > MAX_NESTING)
            {
              g_set_error (
                  error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                  _ ("%s: id: '%s' in %s is inside %u other changing elements; at most %d may enclose "
                     "one another"),
                  b->location, b->id, svg_name, e.depth, MAX_NESTING);
              goto fail;
            }
          append_selector (hide[e.depth], b->id);
          max_depth = MAX (max_depth, e.depth);
        }
      g_array_append_val (self->elements, e);
    }

  for (guint i = 0; i < G_N_ELEMENTS (hide); i++)
    if (hide[i]->len > 0)
      g_string_append (hide[i], " { display: none !important; }\n");
  /* The static drawing hides every changing element of the outer level,
   * which hides the inner ones with them; layer k hides level k + 1. */
  self->static_handle = new_handle (svg_bytes, svg_file, hide[0]->str, error);
  if (self->static_handle == NULL)
    goto fail;
  self->n_layers = max_depth + 1;
  for (guint k = 0; k < self->n_layers; k++)
    {
      self->layers[k] = new_handle (svg_bytes, svg_file, hide[k + 1]->str, error);
      if (self->layers[k] == NULL)
        goto fail;
    }

  for (guint i = 0; i < self->elements->len; i++)
    {
      Element *e = &g_array_index (self->elements, Element, i);
      g_autofree char *id = g_strconcat ("#", e->binding->id, NULL);
      RsvgRectangle ink, logical;
      g_autoptr (GError) local_error = NULL;

      if (!rsvg_handle_get_geometry_for_layer (self->layers[MIN (e->depth, self->n_layers - 1)], id,
                                               &viewport, &ink, &logical, &local_error))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       _ ("%s: id: element '%s' of %s cannot be drawn: %s"), e->binding->location,
                       e->binding->id, svg_name, local_error->message);
          goto fail;
        }
      if (ink.width <= 0 && ink.height <= 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       _ ("%s: id: element '%s' of %s draws nothing (is it inside <defs>, or hidden?)"),
                       e->binding->location, e->binding->id, svg_name);
          goto fail;
        }
      graphene_rect_init (&e->box, ink.x, ink.y, ink.width, ink.height);
      graphene_point_init (&e->centre, logical.x + logical.width / 2, logical.y + logical.height / 2);
      if (e->binding->device != NULL)
        {
          g_autofree char *online = g_strconcat (e->binding->device, "._online", NULL);

          e->online_tag = kankyo_tag_store_lookup (self->store, online);
        }
    }
  for (guint i = 0; i < G_N_ELEMENTS (hide); i++)
    g_string_free (hide[i], TRUE);
  return TRUE;

fail:
  for (guint i = 0; i < G_N_ELEMENTS (hide); i++)
    g_string_free (hide[i], TRUE);
  return FALSE;
}

static void
add_reader (KankyoMimicView *self, gint tag_id, guint element)
{
  GPtrArray *readers;

  if (tag_id < 0 || (guint) tag_id >= self->n_tags)
    return;
  if (self->by_tag[tag_id] == NULL)
    {
      self->by_tag[tag_id] = g_ptr_array_new ();
      kankyo_tag_store_get (self->store, tag_id, &self->samples[tag_id]);
    }
  readers = self->by_tag[tag_id];
  if (readers->len == 0 || g_ptr_array_index (readers, readers->len - 1) != GUINT_TO_POINTER (element))
    g_ptr_array_add (readers, GUINT_TO_POINTER (element));
}

static void
connect_tags (KankyoMimicView *self)
{
  self->n_tags = kankyo_tag_store_get_n_tags (self->store);
  self->by_tag = g_new0 (GPtrArray *, self->n_tags);
  self->samples = g_new0 (KankyoTagSample, self->n_tags);
  for (guint i = 0; i < self->elements->len; i++)
    {
      Element *e = &g_array_index (self->elements, Element, i);
      gint ids[KANKYO_MIMIC_MAX_BINDING_TAGS];
      guint n = kankyo_mimic_binding_get_tags (e->binding, ids);

      for (guint j = 0; j < n; j++)
        add_reader (self, ids[j], i);
      add_reader (self, e->online_tag, i);
    }
  for (guint i = 0; i < self->elements->len; i++)
    element_update (self, &g_array_index (self->elements, Element, i));
  self->subscription = kankyo_tag_store_subscribe (self->store, NULL, on_batch, self, NULL);
  connect_alarms (self);
  update_animation (self);
}

/* ---- GObject ---- */

/* A view not on screen (another area is shown) needs no blink timer. */
static void
kankyo_mimic_view_map (GtkWidget *widget)
{
  GTK_WIDGET_CLASS (kankyo_mimic_view_parent_class)->map (widget);
  update_animation (KANKYO_MIMIC_VIEW (widget));
}

static void
kankyo_mimic_view_unmap (GtkWidget *widget)
{
  g_clear_handle_id (&KANKYO_MIMIC_VIEW (widget)->blink_source, g_source_remove);
  GTK_WIDGET_CLASS (kankyo_mimic_view_parent_class)->unmap (widget);
}

static void
kankyo_mimic_view_dispose (GObject *object)
{
  KankyoMimicView *self = KANKYO_MIMIC_VIEW (object);

  unload (self);
  clear_indicators (self);
  g_clear_pointer (&self->texts, g_hash_table_unref);
  g_clear_object (&self->text_layout);
  g_clear_pointer (&self->error_label, gtk_widget_unparent);
  g_clear_pointer (&self->store, kankyo_tag_store_unref);
  g_clear_object (&self->engine);

  G_OBJECT_CLASS (kankyo_mimic_view_parent_class)->dispose (object);
}

static void
kankyo_mimic_view_class_init (KankyoMimicViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kankyo_mimic_view_dispose;
  widget_class->snapshot = kankyo_mimic_view_snapshot;
  widget_class->map = kankyo_mimic_view_map;
  widget_class->unmap = kankyo_mimic_view_unmap;
  widget_class->measure = kankyo_mimic_view_measure;
  widget_class->size_allocate = kankyo_mimic_view_size_allocate;

  signals[SIGNAL_DEVICE_ACTIVATED]
      = g_signal_new ("device-activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                      G_TYPE_NONE, 1, G_TYPE_STRING);
  gtk_widget_class_set_css_name (widget_class, "kankyo-mimic-view");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
kankyo_mimic_view_init (KankyoMimicView *self)
{
  GtkWidget *widget = GTK_WIDGET (self);
  GtkGesture *click = gtk_gesture_click_new ();
  GtkEventController *key = gtk_event_controller_key_new ();
  GtkEventController *focus = gtk_event_controller_focus_new ();

  self->focus = -1;
  self->pressed = -1;
  self->texts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) shaped_text_free);
  gtk_widget_set_focusable (widget, TRUE);
  gtk_widget_set_has_tooltip (widget, TRUE);
  g_signal_connect (widget, "query-tooltip", G_CALLBACK (on_query_tooltip), NULL);

  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (click), GDK_BUTTON_PRIMARY);
  g_signal_connect (click, "pressed", G_CALLBACK (on_pressed), self);
  g_signal_connect (click, "released", G_CALLBACK (on_released), self);
  gtk_widget_add_controller (widget, GTK_EVENT_CONTROLLER (click));
  g_signal_connect (key, "key-pressed", G_CALLBACK (on_key_pressed), self);
  gtk_widget_add_controller (widget, key);
  g_signal_connect (focus, "enter", G_CALLBACK (on_focus_changed), self);
  g_signal_connect (focus, "leave", G_CALLBACK (on_focus_changed), self);
  gtk_widget_add_controller (widget, focus);

  self->error_label = gtk_label_new (NULL);
  gtk_label_set_wrap (GTK_LABEL (self->error_label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (self->error_label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_selectable (GTK_LABEL (self->error_label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (self->error_label), 0);
  gtk_widget_set_valign (self->error_label, GTK_ALIGN_START);
  gtk_widget_add_css_class (self->error_label, "error");
  gtk_widget_set_name (self->error_label, "mimic-error");
  gtk_widget_set_margin_start (self->error_label, 12);
  gtk_widget_set_margin_end (self->error_label, 12);
  gtk_widget_set_margin_top (self->error_label, 12);
  gtk_widget_set_margin_bottom (self->error_label, 12);
  gtk_widget_set_visible (self->error_label, FALSE);
  gtk_widget_set_parent (self->error_label, widget);
}

GtkWidget *
kankyo_mimic_view_new (KankyoEngine *engine)
{
  KankyoMimicView *self;

  g_return_val_if_fail (KANKYO_IS_ENGINE (engine), NULL);

  self = g_object_new (KANKYO_TYPE_MIMIC_VIEW, NULL);
  self->engine = g_object_ref (engine);
  self->store = kankyo_tag_store_ref (kankyo_engine_get_tag_store (engine));
  return GTK_WIDGET (self);
}

gboolean
kankyo_mimic_view_get_element_bounds (KankyoMimicView *self, const char *id, graphene_rect_t *ret_bounds)
{
  double scale, x, y;

  g_return_val_if_fail (KANKYO_IS_MIMIC_VIEW (self), FALSE);
  if (self->elements == NULL || !compute_fit (self, &scale, &x, &y))
    return FALSE;
  for (guint i = 0; i < self->elements->len; i++)
    {
      const Element *e = &g_array_index (self->elements, Element, i);

      if (g_strcmp0 (e->binding->id, id) == 0)
        {
          graphene_rect_init (ret_bounds, x + e->box.origin.x * scale, y + e->box.origin.y * scale,
                              e->box.size.width * scale, e->box.size.height * scale);
          return TRUE;
        }
    }
  return FALSE;
}

gboolean
kankyo_mimic_view_get_element_alarm (KankyoMimicView *self,
                                     const char *id,
                                     KankyoMimicState *ret_state,
                                     gboolean *ret_blinking)
{
  g_return_val_if_fail (KANKYO_IS_MIMIC_VIEW (self), FALSE);
  g_return_val_if_fail (id != NULL, FALSE);

  for (guint i = 0; self->elements != NULL && i < self->elements->len; i++)
    {
      const Element *e = &g_array_index (self->elements, Element, i);

      if (!g_str_equal (e->binding->id, id))
        continue;
      if (ret_state != NULL)
        *ret_state = worse_state (e->alarm_steady, e->alarm_blink);
      if (ret_blinking != NULL)
        *ret_blinking = e->alarm_blink != KANKYO_MIMIC_STATE_NORMAL;
      return TRUE;
    }
  return FALSE;
}

gboolean
kankyo_mimic_view_load (KankyoMimicView *self, GFile *svg, GFile *bindings, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GBytes) svg_bytes = NULL;
  g_autoptr (KankyoMimicSvg) scan = NULL;
  g_autofree char *svg_name = NULL;

  g_return_val_if_fail (KANKYO_IS_MIMIC_VIEW (self), FALSE);
  g_return_val_if_fail (G_IS_FILE (svg), FALSE);
  g_return_val_if_fail (bindings == NULL || G_IS_FILE (bindings), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  unload (self);
  svg_name = g_file_get_parse_name (svg);
  self->bindings = kankyo_mimic_load (svg, bindings, self->store, &svg_bytes, &scan, &local_error);
  if (self->bindings != NULL)
    {
      /* The scan accepted the file; librsvg is the judge of what draws. */
      RsvgHandle *probe = new_handle (svg_bytes, svg, NULL, &local_error);

      if (probe == NULL)
        g_prefix_error (&local_error, "%s: ", svg_name);
      else if (!drawing_size (probe, &self->svg_width, &self->svg_height))
        g_set_error (&local_error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                     _ ("%s: the drawing has no size; give the svg element a width and height or a viewBox"),
                     svg_name);
      g_clear_object (&probe);
    }
  if (local_error == NULL)
    build_elements (self, scan, svg_bytes, svg, &local_error);

  if (local_error != NULL)
    {
      unload (self);
      show_error (self, local_error->message);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  connect_tags (self);
  self->live_dirty = TRUE;
  gtk_widget_queue_resize (GTK_WIDGET (self));
  return TRUE;
}
