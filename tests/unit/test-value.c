/* test-value.c: typed values parse and print the same in every locale. */
#include <locale.h>
#include <math.h>
#include <string.h>

#include "kankyo-plugin.h"

static void
test_parse_types (void)
{
  g_auto (KankyoValue) v = KANKYO_VALUE_INIT;
  g_autoptr (GError) error = NULL;

  g_assert_true (kankyo_value_parse (KANKYO_VALUE_DOUBLE, " 21.5 ", &v, &error));
  g_assert_no_error (error);
  g_assert_cmpint (v.type, ==, KANKYO_VALUE_DOUBLE);
  g_assert_cmpfloat (v.v.d, ==, 21.5);

  g_assert_true (kankyo_value_parse (KANKYO_VALUE_INT, "-42", &v, NULL));
  g_assert_cmpint (v.v.i, ==, -42);
  g_assert_true (kankyo_value_parse (KANKYO_VALUE_UINT, "18446744073709551615", &v, NULL));
  g_assert_cmpuint (v.v.u, ==, G_MAXUINT64);
  g_assert_true (kankyo_value_parse (KANKYO_VALUE_BOOL, "On", &v, NULL));
  g_assert_true (v.v.b);
  g_assert_true (kankyo_value_parse (KANKYO_VALUE_BOOL, "0", &v, NULL));
  g_assert_false (v.v.b);
  g_assert_true (kankyo_value_parse (KANKYO_VALUE_STRING, "x y", &v, NULL));
  g_assert_cmpstr (v.v.s, ==, "x y");
}

static void
test_parse_errors (void)
{
  static const struct
  {
    KankyoValueType type;
    const char *text;
  } bad[] = {
    { KANKYO_VALUE_DOUBLE, "21,5" }, /* a comma is not a decimal point here */
    { KANKYO_VALUE_DOUBLE, "" },
    { KANKYO_VALUE_DOUBLE, "nan" },
    { KANKYO_VALUE_DOUBLE, "inf" },
    { KANKYO_VALUE_DOUBLE, "1e400" },
    { KANKYO_VALUE_DOUBLE, "12abc" },
    { KANKYO_VALUE_INT, "1.5" },
    { KANKYO_VALUE_INT, "99999999999999999999" },
    { KANKYO_VALUE_UINT, "-1" },
    { KANKYO_VALUE_BOOL, "maybe" },
    { KANKYO_VALUE_NONE, "1" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      KankyoValue v = KANKYO_VALUE_INIT;
      g_autoptr (GError) error = NULL;

      kankyo_value_set_int (&v, 7);
      g_assert_false (kankyo_value_parse (bad[i].type, bad[i].text, &v, &error));
      g_assert_nonnull (error);
      g_assert_nonnull (error->message);
      /* ret_ untouched on failure */
      g_assert_cmpint (v.type, ==, KANKYO_VALUE_INT);
      g_assert_cmpint (v.v.i, ==, 7);
    }
}

static void
test_locale_independent (void)
{
  g_auto (KankyoValue) v = KANKYO_VALUE_INIT;
  g_autofree char *text = NULL;
  const char *old = setlocale (LC_NUMERIC, NULL);
  g_autofree char *saved = g_strdup (old);

  /* de_DE uses a comma; if the locale is not installed the test still
   * checks the C locale path. */
  setlocale (LC_NUMERIC, "de_DE.UTF-8");
  g_assert_true (kankyo_value_parse (KANKYO_VALUE_DOUBLE, "0.25", &v, NULL));
  g_assert_cmpfloat (v.v.d, ==, 0.25);
  text = kankyo_value_to_string (&v);
  g_assert_cmpstr (text, ==, "0.25");
  setlocale (LC_NUMERIC, saved);
}

static void
test_to_string_and_equal (void)
{
  g_auto (KankyoValue) a = KANKYO_VALUE_INIT;
  g_auto (KankyoValue) b = KANKYO_VALUE_INIT;
  g_autofree char *s1 = NULL;
  g_autofree char *s2 = NULL;

  kankyo_value_set_double (&a, NAN);
  kankyo_value_set_double (&b, NAN);
  g_assert_true (kankyo_value_equal (&a, &b));
  s1 = kankyo_value_to_string (&a);
  g_assert_cmpstr (s1, ==, "NaN");
  /* Shortest text that reads back as the same double. */
  kankyo_value_set_double (&a, 0.1);
  s2 = kankyo_value_to_string (&a);
  g_assert_cmpstr (s2, ==, "0.1");
  g_free (s2);
  kankyo_value_set_double (&a, 234 * 0.1);
  s2 = kankyo_value_to_string (&a);
  g_assert_cmpstr (s2, ==, "23.400000000000002");
  g_free (s2);
  s2 = kankyo_format_double ((float) 20.014, 9);
  g_assert_cmpstr (s2, ==, "20.014");
  g_free (s2);
  s2 = kankyo_format_double (20.0, 9);
  g_assert_cmpstr (s2, ==, "20");
  g_free (s2);
  s2 = kankyo_format_double (-123456.0, 17);
  g_assert_cmpstr (s2, ==, "-123456");
  g_free (s2);
  s2 = kankyo_format_double (1e20, 17);
  g_assert_cmpstr (s2, ==, "1e+20");
  g_free (s2);
  s2 = kankyo_format_double (-1e-7, 17);
  g_assert_cmpstr (s2, ==, "-1e-07");
  kankyo_value_set_int (&b, 0);
  g_assert_false (kankyo_value_equal (&a, &b));
  kankyo_value_set_string (&a, "x");
  kankyo_value_copy (&a, &b);
  g_assert_true (kankyo_value_equal (&a, &b));
  g_assert_true (b.v.s != a.v.s);
}

static void
test_quality_names (void)
{
  g_assert_cmpstr (kankyo_quality_to_string (KANKYO_QUALITY_GOOD), ==, "Good");
  g_assert_cmpstr (kankyo_quality_to_string (KANKYO_QUALITY_BAD_COMMUNICATION_ERROR), ==,
                   "Bad_CommunicationError");
  g_assert_cmpstr (kankyo_quality_to_string (KANKYO_QUALITY_UNCERTAIN_LAST_USABLE_VALUE), ==,
                   "Uncertain_LastUsableValue");
  g_assert_cmpstr (kankyo_quality_to_string (KANKYO_QUALITY_BAD_WAITING_FOR_INITIAL_DATA), ==,
                   "Bad_WaitingForInitialData");
  g_assert_true (kankyo_quality_is_bad (KANKYO_QUALITY_BAD_NO_COMMUNICATION));
  g_assert_false (kankyo_quality_is_bad (KANKYO_QUALITY_UNCERTAIN_LAST_USABLE_VALUE));
  g_assert_false (kankyo_quality_is_good (KANKYO_QUALITY_UNCERTAIN_LAST_USABLE_VALUE));
}

static void
test_tag_spec_range (void)
{
  g_autoptr (KankyoTagSpec) spec = kankyo_tag_spec_new ();
  g_auto (KankyoValue) v = KANKYO_VALUE_INIT;
  g_autoptr (GError) error = NULL;

  spec->name = g_strdup ("setpoint");
  spec->unit = g_strdup ("degC");
  spec->value_type = KANKYO_VALUE_DOUBLE;
  spec->min = 5;
  spec->max = 35;
  kankyo_value_set_double (&v, 35);
  g_assert_true (kankyo_tag_spec_check_value (spec, &v, NULL));
  kankyo_value_set_double (&v, 35.01);
  g_assert_false (kankyo_tag_spec_check_value (spec, &v, &error));
  g_assert_error (error, KANKYO_VALUE_ERROR, KANKYO_VALUE_ERROR_OUT_OF_RANGE);
  g_assert_nonnull (strstr (error->message, "5 to 35 degC"));
  g_clear_error (&error);
  kankyo_value_set_bool (&v, TRUE);
  g_assert_false (kankyo_tag_spec_check_value (spec, &v, &error));
  g_assert_error (error, KANKYO_VALUE_ERROR, KANKYO_VALUE_ERROR_TYPE);
}

/* G_DEFINE_QUARK names the quark after its first argument as written; a
 * formatter once spread it into "kankyo - value - error - quark". */
static void
test_error_domains (void)
{
  g_assert_cmpstr (g_quark_to_string (KANKYO_VALUE_ERROR), ==, "kankyo-value-error-quark");
  g_assert_cmpstr (g_quark_to_string (KANKYO_CODEC_ERROR), ==, "kankyo-codec-error-quark");
  g_assert_cmpstr (g_quark_to_string (KANKYO_ENDPOINT_ERROR), ==, "kankyo-endpoint-error-quark");
  g_assert_cmpstr (g_quark_to_string (KANKYO_DRIVER_ERROR), ==, "kankyo-driver-error-quark");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/value/parse/types", test_parse_types);
  g_test_add_func ("/value/parse/errors", test_parse_errors);
  g_test_add_func ("/value/parse/locale", test_locale_independent);
  g_test_add_func ("/value/to-string-equal", test_to_string_and_equal);
  g_test_add_func ("/value/quality/names", test_quality_names);
  g_test_add_func ("/value/tag-spec/range", test_tag_spec_range);
  g_test_add_func ("/value/error-domains", test_error_domains);
  return g_test_run ();
}
