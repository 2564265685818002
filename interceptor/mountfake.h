/* Faking the mount(2) calls this kernel refuses but a node needs (--fake-propagation,
 * --rbind-as-bind).  gVisor answers EINVAL to a recursive propagation change (kubelet's
 * MS_SHARED|MS_REC on its root dir, fatal to kubelet) and to a recursive bind (containerd's
 * native snapshotter unpacks every image layer through one).  Without CAP_SYS_ADMIN every
 * mount is refused with EPERM, kubelet's bind of its root dir onto itself included (the
 * step before making it rshared, also fatal).  Each fake is on only where a start-up probe
 * saw the kernel refuse the operation that way. */
#ifndef MOUNTFAKE_H
#define MOUNTFAKE_H

#include <stdbool.h>   /* bool */

#include "tracee.h"    /* struct tracee */

/* What the start-up probe saw, as bits. */
enum mount_refusal {
	REFUSES_RECURSIVE_PROPAGATION = 1,  /* mount(NULL, "/", NULL, MS_REC|MS_PRIVATE) is EINVAL */
	REFUSES_RECURSIVE_BIND = 2,         /* mount(d, d, NULL, MS_BIND|MS_REC) is EINVAL */
	REFUSES_EVERY_MOUNT = 4,            /* EPERM to the namespace or its first mount, then to mount(d, d, NULL, MS_BIND) */
};

/**
 * Probes, in a child with its own mount namespace (made private first, so nothing it does
 * reaches ours), which of the two operations the kernel refuses with EINVAL.  Where the child
 * gets EPERM (no CAP_SYS_ADMIN) to the new namespace (Linux) or to its first mount (gVisor lets
 * anyone unshare one), it tries the bind of a temp dir onto itself, which then fails with EPERM
 * too (REFUSES_EVERY_MOUNT).
 * Returns the refusal bits; 0 when it could not tell.
 */
int mount_probe_refusals(void);

/* Turns the fakes on: @propagation and @rbind as asked for, each only if @refusals has its bit;
 * with REFUSES_EVERY_MOUNT, @propagation also covers the bind of a directory onto itself. */
void mount_fakes_init(bool propagation, bool rbind, int refusals);

/* Whether either fake is on, so mount(2) must stop at the tracer. */
bool mount_fakes_enabled(void);

/* At mount(2)'s seccomp stop, with its registers: rewrites a recursive bind as a plain bind.
 * Returns true when the syscall's exit stop is needed (to restore registers or answer 0). */
bool mount_fake_on_entry(struct tracee *tracee, regs_t *regs);

/* At mount(2)'s exit stop: the result the program sees (0 for a refused propagation change,
 * and, where every mount is refused, for a refused bind of a directory onto itself). */
long mount_fake_result(struct tracee *tracee, long result);

#endif
