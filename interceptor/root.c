/* Root-directory comparison (see root.h). */
#include "root.h"

#include <errno.h>     /* errno */
#include <stdio.h>     /* snprintf */
#include <sys/stat.h>  /* stat */

static dev_t own_root_dev;
static ino_t own_root_ino;

int
root_init(void)
{
	struct stat st;

	if (stat("/", &st) < 0)
		return -errno;
	own_root_dev = st.st_dev;
	own_root_ino = st.st_ino;
	return 0;
}

bool
root_is_ours(pid_t tid)
{
	char link[64];
	struct stat st;

	snprintf(link, sizeof(link), "/proc/%d/root", (int)tid);
	/* Unknown is "not ours": a missed redirect is safer than one into a container. */
	if (stat(link, &st) < 0)
		return false;
	return st.st_dev == own_root_dev && st.st_ino == own_root_ino;
}
