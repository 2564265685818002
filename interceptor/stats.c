/* --stats output (see stats.h). */
#include "stats.h"
#include "note.h"

#include <stdio.h>   /* dprintf */
#include <unistd.h>  /* STDERR_FILENO */

struct stats stats;

void
stats_print(void)
{
	dprintf(STDERR_FILENO,
		PROGRAM_NAME ": stats: stops=%lu seccomp=%lu syscall=%lu signal=%lu group=%lu "
		"event=%lu redirects=%lu statfs-spoofs=%lu scratch-maps=%lu parked=%lu "
		"propagation-fakes=%lu rbinds-as-bind=%lu\n",
		stats.stops, stats.seccomp_stops, stats.syscall_stops, stats.signal_stops,
		stats.group_stops, stats.event_stops, stats.redirects, stats.statfs_spoofs,
		stats.scratch_maps, stats.parked, stats.propagation_fakes, stats.rbinds_as_bind);
	for (size_t i = 0; i < arch_syscall_count; i++)
		if (stats.traced[i] != 0)
			dprintf(STDERR_FILENO, PROGRAM_NAME ": stats: %s traced=%lu redirected=%lu\n",
				arch_syscalls[i].name, stats.traced[i], stats.redirected[i]);
}
