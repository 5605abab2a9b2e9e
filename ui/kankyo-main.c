/* kankyo-main.c: entry point of the operator HMI. */
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>

#include "kankyo-application.h"

int
main (int argc, char **argv)
{
  g_autoptr (KankyoApplication) app = NULL;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, KANKYO_LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  app = kankyo_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
