/* Start-up capability probe: can we ptrace, is seccomp available, and in which order does
 * this kernel report a seccomp stop relative to the syscall-entry stop? */
#ifndef PROBE_H
#define PROBE_H

enum stop_order {
	/* Linux >= 4.8: entry stop (if PTRACE_SYSCALL), then the seccomp stop. */
	ORDER_SECCOMP_AFTER_ENTRY,
	/* Linux 3.5-4.7 and gVisor (which claims 4.x): the seccomp stop comes first, and a
	 * PTRACE_SYSCALL resume from it adds a syscall-entry stop before the exit stop. */
	ORDER_SECCOMP_BEFORE_ENTRY,
	/* No seccomp filters: fall back to PTRACE_SYSCALL on every syscall. */
	ORDER_NO_SECCOMP,
};

/**
 * Runs a child that traces only gettid and watches which stop comes first (strace's
 * check_seccomp_order).  Returns the order, or -errno when PTRACE_SEIZE itself fails.
 */
int probe_stop_order(void);

#endif
