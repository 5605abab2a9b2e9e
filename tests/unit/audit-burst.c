/* audit-burst.c: appends audit records as fast as it can until it is killed.
 *
 * The kill -9 test in test-audit.c runs this against a database, reads the
 * numbers it prints and kills it mid-stream. A number is printed only after
 * kankyo_audit_append() has returned, so every number the test reads is a
 * record that was reported durable and must still be there afterwards.
 */

#define G_LOG_DOMAIN "audit-burst"

#include "config.h"

#include <stdio.h>

#include "kankyo-audit.h"

int
main (int argc, char **argv)
{
  g_autoptr (KankyoAudit) audit = NULL;
  g_autoptr (GError) error = NULL;

  if (argc != 2)
    {
      fprintf (stderr, "usage: %s DATABASE\n", argv[0]);
      return 2;
    }

  audit = kankyo_audit_open (argv[1], &error);
  if (audit == NULL)
    {
      fprintf (stderr, "audit-burst: %s\n", error->message);
      return 1;
    }

  /* Ends by SIGKILL from the test, or by SIGPIPE if the test went away. */
  for (guint64 i = 0;; i++)
    {
      g_autofree char *value = g_strdup_printf ("%" G_GUINT64_FORMAT, i);
      gint64 seq;

      if (!kankyo_audit_append (audit, "burst", "write.request", "burst.counter", NULL, value, "kill -9 test",
                                "pending", &seq, &error))
        {
          fprintf (stderr, "audit-burst: %s\n", error->message);
          return 1;
        }
      printf ("%" G_GINT64_FORMAT "\n", seq);
      if (fflush (stdout) != 0)
        return 1;
    }
}
