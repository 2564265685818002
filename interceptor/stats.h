/* Counters printed by --stats at exit, and written to --stats-file while tracing. */
#ifndef STATS_H
#define STATS_H

#include "arch.h"  /* struct syscall_desc */

#include <stdbool.h>  /* bool */

struct stats {
	unsigned long stops;
	unsigned long seccomp_stops;
	unsigned long syscall_stops;
	unsigned long signal_stops;
	unsigned long group_stops;
	unsigned long event_stops;
	unsigned long redirects;
	unsigned long statfs_spoofs;
	unsigned long scratch_maps;
	unsigned long parked;
	unsigned long self_bind_fakes;    /* binds of a directory onto itself refused (EPERM), answered 0 */
	unsigned long propagation_fakes;  /* refused propagation changes answered 0 */
	unsigned long rbinds_as_bind;     /* recursive binds done as plain binds */
	unsigned long traced[32];      /* per arch_syscalls index */
	unsigned long redirected[32];
};

extern struct stats stats;

/* Prints the counters on stderr. */
void stats_print(void);

/**
 * Writes the counters to @path now (a first line gives the milliseconds since this call),
 * and later at most once a second through stats_file_update: a live program's counters, for
 * rates over a window.  Returns -errno when @path cannot be written, otherwise 0.
 */
int stats_file_init(const char *path);

/* Rewrites the stats file, if there is one, when a second has passed since it was last
 * written, or always when @at_exit.  Called after each stop, so through a quiet spell the
 * file keeps the counts of its last write, which its elapsed-ms line dates. */
void stats_file_update(bool at_exit);

/* Index of @sc in arch_syscalls, for the per-syscall counters. */
#define STATS_INDEX(sc) ((size_t)((sc) - arch_syscalls))

#endif
