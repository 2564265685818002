/* --stats output and the --stats-file snapshots (see stats.h). */
#include "stats.h"
#include "note.h"

#include <errno.h>   /* errno */
#include <fcntl.h>   /* open, O_* */
#include <limits.h>  /* PATH_MAX */
#include <stdio.h>   /* dprintf, rename, snprintf */
#include <time.h>    /* clock_gettime */
#include <unistd.h>  /* STDERR_FILENO, close */

#define STATS_FILE_PERIOD_MS 1000

struct stats stats;

static const char *file_path;
static char file_tmp_path[PATH_MAX + 8];
static unsigned long started_ms, written_ms;

static void
write_counters(int fd)
{
	dprintf(fd,
		PROGRAM_NAME ": stats: stops=%lu seccomp=%lu syscall=%lu signal=%lu group=%lu "
		"event=%lu redirects=%lu statfs-spoofs=%lu scratch-maps=%lu parked=%lu "
		"self-bind-fakes=%lu propagation-fakes=%lu rbinds-as-bind=%lu\n",
		stats.stops, stats.seccomp_stops, stats.syscall_stops, stats.signal_stops,
		stats.group_stops, stats.event_stops, stats.redirects, stats.statfs_spoofs,
		stats.scratch_maps, stats.parked, stats.self_bind_fakes, stats.propagation_fakes,
		stats.rbinds_as_bind);
	for (size_t i = 0; i < arch_syscall_count; i++)
		if (stats.traced[i] != 0)
			dprintf(fd, PROGRAM_NAME ": stats: %s traced=%lu redirected=%lu\n",
				arch_syscalls[i].name, stats.traced[i], stats.redirected[i]);
}

void
stats_print(void)
{
	write_counters(STDERR_FILENO);
}

/* The coarse clock is read from the vDSO (no syscall, also in gVisor): cheap enough per stop. */
static unsigned long
now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (unsigned long)ts.tv_sec * 1000 + (unsigned long)ts.tv_nsec / 1000000;
}

/* A new file renamed over the old one: a reader never sees a half-written snapshot. */
static int
write_file(void)
{
	int fd = open(file_tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		return -errno;
	written_ms = now_ms();
	dprintf(fd, PROGRAM_NAME ": stats: elapsed-ms=%lu\n", written_ms - started_ms);
	write_counters(fd);
	if (close(fd) < 0 || rename(file_tmp_path, file_path) < 0)
		return -errno;
	return 0;
}

int
stats_file_init(const char *path)
{
	if ((size_t)snprintf(file_tmp_path, sizeof(file_tmp_path), "%s.tmp", path) >= sizeof(file_tmp_path))
		return -ENAMETOOLONG;
	file_path = path;
	started_ms = now_ms();
	return write_file();
}

void
stats_file_update(bool at_exit)
{
	int ret;

	if (file_path == NULL || (!at_exit && now_ms() - written_ms < STATS_FILE_PERIOD_MS))
		return;
	ret = write_file();
	if (ret < 0 && at_exit) {
		errno = -ret;
		perror_msg("writing the stats file '%s'", file_path);
	}
}
