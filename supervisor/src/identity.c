#include "identity.h"

#include "atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int identity_start_time(pid_t pid, unsigned long long *start_time)
{
	/* About 52 numbers of at most 20 digits follow the comm; 4 KiB holds them all. */
	char path[64], stat[4096];
	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if (read_small_file(path, stat, sizeof stat) < 0)
		return -1;
	/* The comm is in parentheses and may itself hold spaces and ')': the fields start
	 * after the last ')'. Field 3 (state) comes first, so field 22 is the 20th. */
	char *p = strrchr(stat, ')');
	if (p == NULL) {
		errno = EINVAL;
		return -1;
	}
	p++;
	for (int field = 3; field < 22; field++) {
		p = strchr(p + 1, ' ');
		if (p == NULL) {
			errno = EINVAL;
			return -1;
		}
	}
	char *end;
	errno = 0;
	unsigned long long value = strtoull(p + 1, &end, 10);
	if (errno != 0 || end == p + 1 || (*end != ' ' && *end != '\n' && *end != '\0')) {
		errno = EINVAL;
		return -1;
	}
	*start_time = value;
	return 0;
}

static int boot_time_line(char *buf, size_t size)
{
	static char stat[65536]; /* one line per CPU comes first; static: large for the stack */
	if (read_small_file("/proc/stat", stat, sizeof stat) < 0)
		return -1;
	for (char *line = stat; line != NULL && *line != '\0';) {
		char *next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		unsigned long long btime;
		char extra;
		if (sscanf(line, "btime %llu%c", &btime, &extra) == 1) {
			snprintf(buf, size, "btime %llu", btime);
			return 0;
		}
		line = next;
	}
	errno = ENOENT;
	return -1;
}

int identity_boot_id(char *buf, size_t size)
{
	ssize_t n = read_small_file("/proc/sys/kernel/random/boot_id", buf, size);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	if (n > 0)
		return 0;
	return boot_time_line(buf, size);
}
