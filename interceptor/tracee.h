/* Per-thread state, one record per traced tid, created the first time a tid reports. */
#ifndef TRACEE_H
#define TRACEE_H

#include <stdbool.h>    /* bool */
#include <stddef.h>     /* size_t */
#include <sys/types.h>  /* pid_t */

#include "arch.h"       /* regs_t, struct syscall_desc */
#include "scratch.h"    /* struct addr_space */

enum tracee_wait {
	WAIT_NOTHING,         /* resumed with PTRACE_CONT; no syscall stop expected */
	WAIT_SYSCALL_EXIT,    /* a redirect or statfs spoof finishes at this syscall's exit */
	WAIT_MMAP_EXIT,       /* our injected mmap: keep its address, restart the real syscall */
};

struct tracee {
	pid_t tid;
	struct tracee *next_in_bucket;
	struct addr_space *space;      /* NULL until its parent's fork/clone event names it */
	enum tracee_wait wait;
	int syscall_stops_left;        /* syscall stops still to come before that exit stop */
	regs_t saved;                  /* registers to put back at the exit stop */
	bool regs_changed;             /* saved must be written back at the exit stop */
	int slot;                      /* scratch slot owned until the exit stop, or -1 */
	const struct syscall_desc *syscall;
	bool spoof_statfs;             /* check f_type at the exit stop */
	bool held;                     /* first stop came before its parent's event */
	bool parked;                   /* stopped at entry until scratch space is available */
	bool in_syscall;               /* PTRACE_SYSCALL fallback: between entry and exit */
};

/* Returns the record of @tid, or NULL. */
struct tracee *tracee_find(pid_t tid);

/* Creates a record for @tid (space NULL, slot -1).  Returns NULL when memory is exhausted. */
struct tracee *tracee_add(pid_t tid);

/* Gives back its slot and address space reference and frees it. */
void tracee_remove(struct tracee *tracee);

/* Moves @tracee to a new tid (exec from a non-leader thread takes the leader's tid). */
void tracee_rekey(struct tracee *tracee, pid_t tid);

/* Calls @fn for each record; @fn may remove the record it is given. */
void tracee_for_each(void (*fn)(struct tracee *tracee, void *arg), void *arg);

/* Number of records. */
size_t tracee_count(void);

#endif
