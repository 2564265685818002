/* Counters printed by --stats at exit. */
#ifndef STATS_H
#define STATS_H

#include "arch.h"  /* struct syscall_desc */

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
	unsigned long propagation_fakes;  /* refused propagation changes answered 0 */
	unsigned long rbinds_as_bind;     /* recursive binds done as plain binds */
	unsigned long traced[32];      /* per arch_syscalls index */
	unsigned long redirected[32];
};

extern struct stats stats;

/* Prints the counters on stderr. */
void stats_print(void);

/* Index of @sc in arch_syscalls, for the per-syscall counters. */
#define STATS_INDEX(sc) ((size_t)((sc) - arch_syscalls))

#endif
