/* What happens at the stops of our syscalls: the redirect at entry, the register restore
 * (and the statfs spoof) at exit, and the one-time injection of the scratch mapping. */
#ifndef REDIRECT_H
#define REDIRECT_H

#include <stdbool.h>  /* bool */

#include "probe.h"    /* enum stop_order */
#include "tracee.h"   /* struct tracee */

enum resume {
	RESUME_CONT,     /* nothing more to see in this syscall */
	RESUME_SYSCALL,  /* we need this syscall's exit stop */
	RESUME_LATER,    /* parked: stays stopped until scratch space frees up */
};

/* Sets the stop order, whether path syscalls are traced (there is a fake root) and whether
 * statfs/fstatfs results are spoofed.  mount(2) is traced when a mount fake is on. */
void redirect_init(enum stop_order order, bool paths, bool statfs_spoof);

/* The syscall numbers the filter must trace; returns how many are in @nrs (32 at most). */
size_t redirect_traced_syscalls(long *nrs);

/* @tracee is at the seccomp stop (fallback: entry stop) of a syscall.  Decides and
 * applies a redirect.  Returns how to resume it. */
enum resume redirect_on_entry(struct tracee *tracee);

/* @tracee is at the exit stop it waited for.  Restores its registers and finishes the
 * redirect, the spoof or the injection.  Returns how to resume it. */
enum resume redirect_on_exit(struct tracee *tracee);

#endif
