/* Everything that differs between architectures, as data and tiny accessors.
 * The implementation is arch/<arch>.c; the Makefile compiles only the one for $(CC)'s target. */
#ifndef ARCH_H
#define ARCH_H

#include <stdbool.h>    /* bool */
#include <stddef.h>     /* size_t */
#include <stdint.h>     /* uint32_t */
#include <sys/types.h>  /* pid_t */
#include <sys/user.h>   /* struct user_regs_struct (both x86_64 and aarch64 glibc) */

#if !defined(__x86_64__) && !defined(__aarch64__)
#error "k3s-sandbox-intercept supports x86_64 and aarch64 only"
#endif

typedef struct user_regs_struct regs_t;

/* One syscall the seccomp filter may send to us: a path-taking one, fstatfs, or mount. */
struct syscall_desc {
	long nr;
	const char *name;
	int path_arg;        /* argument index of the path, -1 when there is none (fstatfs) */
	int dirfd_arg;       /* argument index of the dirfd, -1 when relative means "from the cwd" */
	int open_flags_arg;  /* argument index of O_* flags, -1 when not an open */
	int statfs_buf_arg;  /* argument index of the struct statfs pointer, -1 otherwise */
	bool open_how;       /* openat2: flags and resolve rules live in a struct in memory */
	bool mount;          /* mount(2): flags in argument 3; stops only for the mount fakes */
};

extern const uint32_t arch_audit;              /* AUDIT_ARCH_* checked first by the filter */
extern const struct syscall_desc arch_syscalls[];
extern const size_t arch_syscall_count;
extern const long arch_nr_mmap;
extern const long arch_nr_gettid;               /* used by the stop-order probe */
/* Process creation, to tell whether a new child shares its parent's memory; -1 where the
 * architecture has no such syscall. */
extern const long arch_nr_clone, arch_nr_clone3, arch_nr_fork, arch_nr_vfork;

/* Returns -errno on failure, otherwise 0. */
int regs_read(pid_t tid, regs_t *regs);
int regs_write(pid_t tid, const regs_t *regs);

long regs_syscall_nr(const regs_t *regs);
unsigned long regs_arg(const regs_t *regs, unsigned int index);
void regs_set_arg(regs_t *regs, unsigned int index, unsigned long value);
long regs_return_value(const regs_t *regs);
void regs_set_return_value(regs_t *regs, long value);

/**
 * Replaces the syscall the stopped tracee @tid is about to run by @nr, writing @regs
 * (arguments included) back.  Returns -errno on failure, otherwise 0.
 */
int regs_write_with_syscall(pid_t tid, regs_t *regs, long nr);

/**
 * Makes @regs (taken at a syscall stop) re-execute syscall @nr when resumed: the
 * instruction pointer goes back over the syscall instruction.
 */
void regs_prepare_restart(regs_t *regs, long nr);

#endif
