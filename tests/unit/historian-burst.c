/* historian-burst.c: appends samples as fast as it can until it is killed.
 *
 * The kill -9 test in test-historian.c runs this against a history file,
 * reads what it prints and kills it mid-ingest. Sample number i goes to tag
 * burst.(i % 8) at BASE + i ms with the value i, or as a Bad sample every
 * 97th round, so every sample is stored and the test can tell from the file
 * exactly which ones are there. The first line printed is the number this
 * run starts from (it continues where the file ends); then, from the commit
 * callback, one line per committed batch: how many samples are on disk.
 */

#define G_LOG_DOMAIN "historian-burst"

#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "kankyo-historian.h"

#define TAGS 8
/* 2024-01-01 00:00:00 UTC. */
#define BASE (G_GINT64_CONSTANT (1704067200) * G_USEC_PER_SEC)
#define STEP 1000

static guint64 start;

static void
on_commit (KankyoHistorian *h, guint64 committed, gpointer data)
{
  printf ("%" G_GUINT64_FORMAT "\n", start + committed);
  if (fflush (stdout) != 0)
    exit (1);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  KankyoHistorian *h;
  guint tags[TAGS];

  if (argc != 2)
    {
      fprintf (stderr, "usage: %s HISTORY-FILE\n", argv[0]);
      return 2;
    }
  h = kankyo_historian_open (argv[1], &error);
  if (h == NULL)
    {
      fprintf (stderr, "historian-burst: %s\n", error->message);
      return 1;
    }

  for (guint t = 0; t < TAGS; t++)
    {
      g_autofree char *name = g_strdup_printf ("burst.%u", t);
      KankyoHistorianPolicy policy = { 0, 0, NULL };
      gint64 last;

      tags[t] = kankyo_historian_add_tag (h, name, NULL, &policy, &error);
      if (tags[t] == 0)
        {
          fprintf (stderr, "historian-burst: %s\n", error->message);
          return 1;
        }
      if (kankyo_historian_get_extent (h, tags[t], NULL, &last))
        start = MAX (start, (guint64) ((last - BASE) / STEP) + 1);
    }
  printf ("%" G_GUINT64_FORMAT "\n", start);
  if (fflush (stdout) != 0)
    return 1;
  kankyo_historian_set_commit_func (h, on_commit, NULL);

  /* Ends by SIGKILL from the test, or by a failed write to its pipe. */
  for (guint64 i = start;; i++)
    {
      gboolean bad = (i / TAGS) % 97 == 0;

      while (!kankyo_historian_append_double (h, tags[i % TAGS], BASE + (gint64) i * STEP, (double) i,
                                              bad ? KANKYO_QUALITY_BAD_COMMUNICATION_ERROR
                                                  : KANKYO_QUALITY_GOOD))
        g_usleep (1000);
    }
}
