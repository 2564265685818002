#include "pidfile.h"

#include "atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SUPERVISOR_NAME "k3s-sandbox-supervise"

static pid_t parse_pid(const char *text)
{
	char *end;
	errno = 0;
	long v = strtol(text, &end, 10);
	if (errno != 0 || end == text || v <= 0 || v > 0x3fffffff)
		return 0;
	while (*end == '\n' || *end == ' ')
		end++;
	return *end == '\0' ? (pid_t)v : 0;
}

/* A pid can be reused by any program after the supervisor died, so a live pid alone
 * does not prove a supervisor is running: its argv[0] has to name us too. */
static int is_supervisor_process(pid_t pid)
{
	char path[64], cmdline[4096];
	snprintf(path, sizeof path, "/proc/%ld/cmdline", (long)pid);
	ssize_t n = read_small_file(path, cmdline, sizeof cmdline);
	if (n <= 0)
		return 0; /* gone, or a zombie with an empty cmdline: not a live supervisor */
	return strstr(cmdline, SUPERVISOR_NAME) != NULL; /* strstr stops at argv[0]'s NUL */
}

pid_t pidfile_live_supervisor(const char *path)
{
	char buf[64];
	if (read_small_file(path, buf, sizeof buf) < 0)
		return errno == ENOENT ? 0 : -1;
	pid_t pid = parse_pid(buf);
	if (pid == 0 || pid == getpid())
		return 0;
	return is_supervisor_process(pid) ? pid : 0;
}

int pidfile_write_self(const char *path)
{
	char buf[32];
	int n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
	return replace_file_atomically(path, buf, (size_t)n, 0644);
}

void pidfile_remove_if_self(const char *path)
{
	char buf[64];
	if (read_small_file(path, buf, sizeof buf) < 0 || parse_pid(buf) != getpid())
		return;
	if (unlink(path) != 0 && errno != ENOENT)
		fprintf(stderr, SUPERVISOR_NAME ": cannot remove pidfile %s: %s\n", path, strerror(errno));
}
