/* test-alarm.c: one alarm's condition and ISA-18.2 states.
 *
 * The state machine is checked against a table written out from the
 * ISA-18.2 state model, row by row: start state, whether the condition is
 * active, latching or not, the event, and the state it must end in (the
 * same state where the event does not apply). Scenarios then walk through
 * shelving with expiry, a manual unshelve and a return to normal while
 * shelved, and the condition's deadband, delays, rate of change, deviation
 * and digital state with values a plant would send.
 */
#include "kankyo-alarm.h"

#include <math.h>

#define S(n) KANKYO_ALARM_STATE_##n
#define E(n) KANKYO_ALARM_EVENT_##n
#define SEC ((gint64) G_USEC_PER_SEC)

typedef struct
{
  KankyoAlarmState from;
  gboolean active;
  gboolean latching;
  KankyoAlarmEvent event;
  KankyoAlarmState to;
} Row;

static const Row table[] = {
  /* A normal */
  { S (NORMAL), TRUE, FALSE, E (ACTIVATE), S (UNACK) },
  { S (NORMAL), FALSE, FALSE, E (CLEAR), S (NORMAL) },
  { S (NORMAL), FALSE, FALSE, E (ACK), S (NORMAL) },
  { S (NORMAL), FALSE, FALSE, E (RESET), S (NORMAL) },
  { S (NORMAL), FALSE, FALSE, E (SHELVE), S (SHELVED) },
  { S (NORMAL), FALSE, FALSE, E (UNSHELVE), S (NORMAL) },
  { S (NORMAL), FALSE, FALSE, E (SUPPRESS), S (SUPPRESSED) },
  { S (NORMAL), FALSE, FALSE, E (UNSUPPRESS), S (NORMAL) },
  { S (NORMAL), FALSE, FALSE, E (REMOVE_FROM_SERVICE), S (OUT_OF_SERVICE) },
  { S (NORMAL), FALSE, FALSE, E (RETURN_TO_SERVICE), S (NORMAL) },
  /* B active, unacknowledged */
  { S (UNACK), TRUE, FALSE, E (ACTIVATE), S (UNACK) },
  { S (UNACK), TRUE, FALSE, E (ACK), S (ACKED) },
  { S (UNACK), FALSE, FALSE, E (CLEAR), S (RTN_UNACK) },
  { S (UNACK), FALSE, TRUE, E (CLEAR), S (RTN_UNACK) },
  { S (UNACK), TRUE, FALSE, E (RESET), S (UNACK) },
  { S (UNACK), TRUE, FALSE, E (SHELVE), S (SHELVED) },
  { S (UNACK), TRUE, FALSE, E (SUPPRESS), S (SUPPRESSED) },
  { S (UNACK), TRUE, FALSE, E (REMOVE_FROM_SERVICE), S (OUT_OF_SERVICE) },
  /* C active, acknowledged */
  { S (ACKED), TRUE, FALSE, E (ACK), S (ACKED) },
  { S (ACKED), TRUE, FALSE, E (ACTIVATE), S (ACKED) },
  { S (ACKED), FALSE, FALSE, E (CLEAR), S (NORMAL) },
  { S (ACKED), FALSE, TRUE, E (CLEAR), S (LATCHED) },
  { S (ACKED), TRUE, FALSE, E (SHELVE), S (SHELVED) },
  { S (ACKED), TRUE, FALSE, E (SUPPRESS), S (SUPPRESSED) },
  { S (ACKED), TRUE, FALSE, E (REMOVE_FROM_SERVICE), S (OUT_OF_SERVICE) },
  /* D returned to normal, unacknowledged */
  { S (RTN_UNACK), FALSE, FALSE, E (ACK), S (NORMAL) },
  { S (RTN_UNACK), FALSE, TRUE, E (ACK), S (LATCHED) },
  { S (RTN_UNACK), TRUE, FALSE, E (ACTIVATE), S (UNACK) },
  { S (RTN_UNACK), FALSE, FALSE, E (CLEAR), S (RTN_UNACK) },
  { S (RTN_UNACK), FALSE, FALSE, E (RESET), S (RTN_UNACK) },
  { S (RTN_UNACK), FALSE, FALSE, E (SHELVE), S (SHELVED) },
  { S (RTN_UNACK), FALSE, FALSE, E (SUPPRESS), S (SUPPRESSED) },
  /* latched: returned and acknowledged, waits for reset */
  { S (LATCHED), FALSE, TRUE, E (RESET), S (NORMAL) },
  { S (LATCHED), FALSE, TRUE, E (ACK), S (LATCHED) },
  { S (LATCHED), TRUE, TRUE, E (ACTIVATE), S (UNACK) },
  { S (LATCHED), FALSE, TRUE, E (SHELVE), S (SHELVED) },
  /* E shelved: the condition is judged underneath */
  { S (SHELVED), TRUE, FALSE, E (ACTIVATE), S (SHELVED) },
  { S (SHELVED), FALSE, FALSE, E (CLEAR), S (SHELVED) },
  { S (SHELVED), TRUE, FALSE, E (ACK), S (SHELVED) },
  { S (SHELVED), TRUE, FALSE, E (SHELVE), S (SHELVED) },
  { S (SHELVED), TRUE, FALSE, E (UNSHELVE), S (UNACK) },
  { S (SHELVED), FALSE, FALSE, E (UNSHELVE), S (NORMAL) },
  { S (SHELVED), TRUE, FALSE, E (SHELVE_EXPIRED), S (UNACK) },
  { S (SHELVED), FALSE, FALSE, E (SHELVE_EXPIRED), S (NORMAL) },
  { S (SHELVED), TRUE, FALSE, E (SUPPRESS), S (SHELVED) },
  { S (SHELVED), TRUE, FALSE, E (REMOVE_FROM_SERVICE), S (OUT_OF_SERVICE) },
  /* F suppressed by design */
  { S (SUPPRESSED), TRUE, FALSE, E (ACTIVATE), S (SUPPRESSED) },
  { S (SUPPRESSED), TRUE, FALSE, E (ACK), S (SUPPRESSED) },
  { S (SUPPRESSED), TRUE, FALSE, E (SHELVE), S (SUPPRESSED) },
  { S (SUPPRESSED), TRUE, FALSE, E (UNSHELVE), S (SUPPRESSED) },
  { S (SUPPRESSED), TRUE, FALSE, E (UNSUPPRESS), S (UNACK) },
  { S (SUPPRESSED), FALSE, FALSE, E (UNSUPPRESS), S (NORMAL) },
  { S (SUPPRESSED), TRUE, FALSE, E (REMOVE_FROM_SERVICE), S (OUT_OF_SERVICE) },
  /* G out of service */
  { S (OUT_OF_SERVICE), TRUE, FALSE, E (ACTIVATE), S (OUT_OF_SERVICE) },
  { S (OUT_OF_SERVICE), TRUE, FALSE, E (ACK), S (OUT_OF_SERVICE) },
  { S (OUT_OF_SERVICE), TRUE, FALSE, E (SHELVE), S (OUT_OF_SERVICE) },
  { S (OUT_OF_SERVICE), TRUE, FALSE, E (SUPPRESS), S (OUT_OF_SERVICE) },
  { S (OUT_OF_SERVICE), TRUE, FALSE, E (UNSUPPRESS), S (OUT_OF_SERVICE) },
  { S (OUT_OF_SERVICE), TRUE, FALSE, E (RETURN_TO_SERVICE), S (UNACK) },
  { S (OUT_OF_SERVICE), FALSE, FALSE, E (RETURN_TO_SERVICE), S (NORMAL) },
};

static void
alarm_in (KankyoAlarm *alarm, KankyoAlarmState state, gboolean active, gboolean latching)
{
  KankyoAlarmCondition c = { .kind = KANKYO_ALARM_HIGH, .limit = 10 };

  kankyo_alarm_init (alarm, &c, latching);
  alarm->state = state;
  alarm->active = active;
  alarm->raw_active = active;
}

static void
test_table (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (table); i++)
    {
      const Row *r = &table[i];
      KankyoAlarm alarm;
      gboolean changed;

      alarm_in (&alarm, r->from, r->active, r->latching);
      changed = kankyo_alarm_apply (&alarm, r->event, 1000, 5000);
      if (alarm.state != r->to)
        g_error ("row %u: %s%s%s + %s gave %s, expected %s", i, kankyo_alarm_state_to_string (r->from),
                 r->active ? " (active)" : "", r->latching ? " (latching)" : "",
                 kankyo_alarm_event_to_string (r->event), kankyo_alarm_state_to_string (alarm.state),
                 kankyo_alarm_state_to_string (r->to));
      g_assert_cmpint (changed, ==, r->from != r->to);
      if (changed)
        g_assert_cmpint (alarm.state_time, ==, 1000);
      g_assert_cmpint (alarm.shelved_until, ==, r->to == S (SHELVED) && changed ? 5000 : 0);
    }
}

/* Annunciated means an operator sees it; hidden states are not. */
static void
test_annunciated (void)
{
  g_assert_false (kankyo_alarm_state_is_annunciated (S (NORMAL)));
  g_assert_true (kankyo_alarm_state_is_annunciated (S (UNACK)));
  g_assert_true (kankyo_alarm_state_is_annunciated (S (ACKED)));
  g_assert_true (kankyo_alarm_state_is_annunciated (S (RTN_UNACK)));
  g_assert_true (kankyo_alarm_state_is_annunciated (S (LATCHED)));
  g_assert_false (kankyo_alarm_state_is_annunciated (S (SHELVED)));
  g_assert_false (kankyo_alarm_state_is_annunciated (S (SUPPRESSED)));
  g_assert_false (kankyo_alarm_state_is_annunciated (S (OUT_OF_SERVICE)));
  g_assert_true (kankyo_alarm_state_needs_ack (S (UNACK)));
  g_assert_true (kankyo_alarm_state_needs_ack (S (RTN_UNACK)));
  g_assert_false (kankyo_alarm_state_needs_ack (S (ACKED)));
  g_assert_false (kankyo_alarm_state_needs_ack (S (LATCHED)));
}

/* Drives feed() and applies what it returns, as the alarm engine does. */
static KankyoAlarmEvent
drive (KankyoAlarm *alarm, double value, gint64 now)
{
  KankyoAlarmEvent event = kankyo_alarm_feed (alarm, value, NAN, now);

  if (event != E (NONE))
    kankyo_alarm_apply (alarm, event, now, 0);
  return event;
}

/* Shelved while active; the shelve runs out while the value is still high:
 * the alarm comes back unacknowledged. */
static void
test_shelve_expiry (void)
{
  KankyoAlarmCondition c = { .kind = KANKYO_ALARM_HIGH, .limit = 10 };
  KankyoAlarm alarm;
  gint64 until = 3600 * SEC;

  kankyo_alarm_init (&alarm, &c, FALSE);
  g_assert_cmpint (drive (&alarm, 12, 1 * SEC), ==, E (ACTIVATE));
  g_assert_cmpint (alarm.state, ==, S (UNACK));
  g_assert_true (kankyo_alarm_apply (&alarm, E (SHELVE), 2 * SEC, until));
  g_assert_cmpint (alarm.state, ==, S (SHELVED));
  g_assert_cmpint (alarm.shelved_until, ==, until);
  /* Still high while shelved: nothing shows. */
  g_assert_cmpint (drive (&alarm, 13, 100 * SEC), ==, E (NONE));
  g_assert_cmpint (alarm.state, ==, S (SHELVED));
  g_assert_true (kankyo_alarm_apply (&alarm, E (SHELVE_EXPIRED), until, 0));
  g_assert_cmpint (alarm.state, ==, S (UNACK));
  g_assert_cmpint (alarm.shelved_until, ==, 0);
}

/* Shelved, returns to normal underneath, unshelved by hand: normal. */
static void
test_rtn_while_shelved (void)
{
  KankyoAlarmCondition c = { .kind = KANKYO_ALARM_HIGH, .limit = 10, .deadband = 0.5 };
  KankyoAlarm alarm;

  kankyo_alarm_init (&alarm, &c, FALSE);
  drive (&alarm, 11, 1 * SEC);
  g_assert_true (kankyo_alarm_apply (&alarm, E (ACK), 2 * SEC, 0));
  g_assert_true (kankyo_alarm_apply (&alarm, E (SHELVE), 3 * SEC, 600 * SEC));
  g_assert_cmpint (drive (&alarm, 9, 4 * SEC), ==, E (CLEAR));
  g_assert_false (alarm.active);
  g_assert_cmpint (alarm.state, ==, S (SHELVED));
  g_assert_true (kankyo_alarm_apply (&alarm, E (UNSHELVE), 5 * SEC, 0));
  g_assert_cmpint (alarm.state, ==, S (NORMAL));
}

/* A manual unshelve of a still-active alarm brings it back as new. */
static void
test_manual_unshelve (void)
{
  KankyoAlarmCondition c = { .kind = KANKYO_ALARM_LOW, .limit = 2 };
  KankyoAlarm alarm;

  kankyo_alarm_init (&alarm, &c, FALSE);
  drive (&alarm, 1, 1 * SEC);
  kankyo_alarm_apply (&alarm, E (ACK), 2 * SEC, 0);
  g_assert_cmpint (alarm.state, ==, S (ACKED));
  kankyo_alarm_apply (&alarm, E (SHELVE), 3 * SEC, 900 * SEC);
  g_assert_true (kankyo_alarm_apply (&alarm, E (UNSHELVE), 4 * SEC, 0));
  g_assert_cmpint (alarm.state, ==, S (UNACK));
  /* Unshelving what is not shelved does nothing. */
  g_assert_false (kankyo_alarm_apply (&alarm, E (UNSHELVE), 5 * SEC, 0));
}

/* A value chattering around the limit inside the deadband: one alarm. */
static void
test_deadband_chatter (void)
{
  KankyoAlarmCondition c = { .kind = KANKYO_ALARM_HIGH, .limit = 25, .deadband = 0.5 };
  KankyoAlarm alarm;
  guint activations = 0, clears = 0;

  kankyo_alarm_init (&alarm, &c, FALSE);
  for (guint i = 0; i < 200; i++)
    {
      double value = 25 + ((i % 2) ? 0.3 : -0.3); /* 25.3, 24.7, 25.3, ... */
      KankyoAlarmEvent e = drive (&alarm, value, i * SEC);

      activations += e == E (ACTIVATE);
      clears += e == E (CLEAR);
    }
  g_assert_cmpuint (activations, ==, 1);
  g_assert_cmpuint (clears, ==, 0);
  /* Below limit - deadband it returns. */
  g_assert_cmpint (drive (&alarm, 24.4, 300 * SEC), ==, E (CLEAR));

  /* Without a deadband the same values chatter: the test above means it. */
  kankyo_alarm_init (&alarm, &(KankyoAlarmCondition){ .kind = KANKYO_ALARM_HIGH, .limit = 25 }, FALSE);
  activations = 0;
  for (guint i = 0; i < 200; i++)
    activations += drive (&alarm, 25 + ((i % 2) ? 0.3 : -0.3), i * SEC) == E (ACTIVATE);
  g_assert_cmpuint (activations, ==, 100);
}

/* On-delay: excursions shorter than it raise nothing; off-delay: short
 * dips below the limit do not return it. */
static void
test_delays (void)
{
  KankyoAlarmCondition c
      = { .kind = KANKYO_ALARM_HIGH, .limit = 8, .on_delay = 30 * SEC, .off_delay = 10 * SEC };
  KankyoAlarm alarm;
  guint activations = 0;

  kankyo_alarm_init (&alarm, &c, FALSE);
  /* 20 s above, 5 s below, repeated: never 30 s in a row. */
  for (gint64 t = 0; t < 600; t++)
    activations += drive (&alarm, (t % 25) < 20 ? 9 : 7, t * SEC) == E (ACTIVATE);
  g_assert_cmpuint (activations, ==, 0);

  kankyo_alarm_init (&alarm, &c, FALSE);
  g_assert_cmpint (drive (&alarm, 9, 0), ==, E (NONE));
  g_assert_cmpint (drive (&alarm, 9, 29 * SEC), ==, E (NONE));
  /* The delay runs out with no new value. */
  g_assert_cmpint (kankyo_alarm_tick (&alarm, 30 * SEC), ==, E (ACTIVATE));
  kankyo_alarm_apply (&alarm, E (ACTIVATE), 30 * SEC, 0);
  g_assert_cmpint (drive (&alarm, 7, 40 * SEC), ==, E (NONE));
  g_assert_cmpint (drive (&alarm, 9, 45 * SEC), ==, E (NONE)); /* back above in time */
  g_assert_cmpint (drive (&alarm, 7, 50 * SEC), ==, E (NONE));
  g_assert_cmpint (kankyo_alarm_tick (&alarm, 59 * SEC), ==, E (NONE));
  g_assert_cmpint (kankyo_alarm_tick (&alarm, 60 * SEC), ==, E (CLEAR));
}

/* Bad values (NAN) are not judged: the condition holds as it was. */
static void
test_nan (void)
{
  KankyoAlarmCondition c = { .kind = KANKYO_ALARM_LOW_LOW, .limit = -20 };
  KankyoAlarm alarm;

  kankyo_alarm_init (&alarm, &c, FALSE);
  g_assert_cmpint (drive (&alarm, -25, 0), ==, E (ACTIVATE));
  g_assert_cmpint (drive (&alarm, NAN, 1 * SEC), ==, E (NONE));
  g_assert_true (alarm.active);
  g_assert_cmpint (drive (&alarm, -10, 2 * SEC), ==, E (CLEAR));
}

static void
test_rate (void)
{
  KankyoAlarmCondition c = { .kind = KANKYO_ALARM_RATE, .limit = 0.5, .deadband = 0.1 };
  KankyoAlarm alarm;

  kankyo_alarm_init (&alarm, &c, FALSE);
  g_assert_cmpint (drive (&alarm, 20, 0), ==, E (NONE));
  g_assert_cmpint (drive (&alarm, 20.4, 1 * SEC), ==, E (NONE));     /* 0.4/s */
  g_assert_cmpint (drive (&alarm, 21.4, 2 * SEC), ==, E (ACTIVATE)); /* 1.0/s */
  g_assert_cmpint (drive (&alarm, 21.85, 3 * SEC), ==, E (NONE));    /* 0.45/s: inside the deadband */
  g_assert_cmpint (drive (&alarm, 21.7, 4 * SEC), ==, E (CLEAR));    /* -0.15/s */
  /* Falling fast counts too. */
  g_assert_cmpint (drive (&alarm, 20, 5 * SEC), ==, E (ACTIVATE));
}

static void
test_deviation (void)
{
  KankyoAlarmCondition c = { .kind = KANKYO_ALARM_DEVIATION, .limit = 2, .deadband = 0.5 };
  KankyoAlarm alarm;

  kankyo_alarm_init (&alarm, &c, FALSE);
  g_assert_cmpint (kankyo_alarm_feed (&alarm, 23.5, 22, 0), ==, E (NONE));
  g_assert_cmpint (kankyo_alarm_feed (&alarm, 19.9, 22, 1 * SEC), ==, E (ACTIVATE));
  g_assert_cmpint (kankyo_alarm_feed (&alarm, 20.3, 22, 2 * SEC), ==, E (NONE));
  g_assert_cmpint (kankyo_alarm_feed (&alarm, 20.6, 22, 3 * SEC), ==, E (CLEAR));
  /* No setpoint known: not judged. */
  g_assert_cmpint (kankyo_alarm_feed (&alarm, 10, NAN, 4 * SEC), ==, E (NONE));
  g_assert_false (alarm.active);
}

static void
test_digital (void)
{
  KankyoAlarmCondition on = { .kind = KANKYO_ALARM_DIGITAL, .limit = 1, .on_delay = 5 * SEC };
  KankyoAlarmCondition off = { .kind = KANKYO_ALARM_DIGITAL, .limit = 0 };
  KankyoAlarm alarm;

  kankyo_alarm_init (&alarm, &on, FALSE);
  g_assert_cmpint (drive (&alarm, 1, 0), ==, E (NONE));
  g_assert_cmpint (drive (&alarm, 1, 5 * SEC), ==, E (ACTIVATE));
  g_assert_cmpint (drive (&alarm, 0, 6 * SEC), ==, E (CLEAR));
  /* An alarm on a bit that should be set (a running signal lost). */
  kankyo_alarm_init (&alarm, &off, FALSE);
  g_assert_cmpint (drive (&alarm, 1, 0), ==, E (NONE));
  g_assert_cmpint (drive (&alarm, 0, 1 * SEC), ==, E (ACTIVATE));
}

/* Latching: the alarm stays until it is acknowledged and reset. */
static void
test_latching (void)
{
  KankyoAlarmCondition c = { .kind = KANKYO_ALARM_HIGH, .limit = 100 };
  KankyoAlarm alarm;

  kankyo_alarm_init (&alarm, &c, TRUE);
  drive (&alarm, 120, 0);
  drive (&alarm, 50, 1 * SEC);
  g_assert_cmpint (alarm.state, ==, S (RTN_UNACK));
  g_assert_false (kankyo_alarm_apply (&alarm, E (RESET), 2 * SEC, 0));
  kankyo_alarm_apply (&alarm, E (ACK), 3 * SEC, 0);
  g_assert_cmpint (alarm.state, ==, S (LATCHED));
  g_assert_true (kankyo_alarm_state_is_annunciated (alarm.state));
  g_assert_true (kankyo_alarm_apply (&alarm, E (RESET), 4 * SEC, 0));
  g_assert_cmpint (alarm.state, ==, S (NORMAL));
}

static void
test_names (void)
{
  KankyoAlarmPriority p;

  g_assert_cmpstr (kankyo_alarm_state_to_string (S (RTN_UNACK)), ==, "returned-unacknowledged");
  g_assert_cmpstr (kankyo_alarm_kind_to_string (KANKYO_ALARM_COMM_FAIL), ==, "comm-fail");
  g_assert_true (kankyo_alarm_priority_from_string ("medium", &p));
  g_assert_cmpint (p, ==, KANKYO_ALARM_PRIORITY_MEDIUM);
  g_assert_false (kankyo_alarm_priority_from_string ("urgent", &p));
  g_assert_cmpint (p, ==, KANKYO_ALARM_PRIORITY_MEDIUM);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/alarm/state/table", test_table);
  g_test_add_func ("/alarm/state/annunciated", test_annunciated);
  g_test_add_func ("/alarm/state/shelve-expiry", test_shelve_expiry);
  g_test_add_func ("/alarm/state/rtn-while-shelved", test_rtn_while_shelved);
  g_test_add_func ("/alarm/state/manual-unshelve", test_manual_unshelve);
  g_test_add_func ("/alarm/state/latching", test_latching);
  g_test_add_func ("/alarm/condition/deadband-chatter", test_deadband_chatter);
  g_test_add_func ("/alarm/condition/delays", test_delays);
  g_test_add_func ("/alarm/condition/bad-value", test_nan);
  g_test_add_func ("/alarm/condition/rate", test_rate);
  g_test_add_func ("/alarm/condition/deviation", test_deviation);
  g_test_add_func ("/alarm/condition/digital", test_digital);
  g_test_add_func ("/alarm/names", test_names);
  return g_test_run ();
}
