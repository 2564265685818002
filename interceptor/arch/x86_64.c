/* x86_64: registers and syscall numbers (strace src/linux/x86_64/syscallent.h). */
#include "../arch.h"

#include <errno.h>        /* errno */
#include <linux/audit.h>  /* AUDIT_ARCH_X86_64 */
#include <sys/ptrace.h>   /* ptrace, PTRACE_GETREGS */

const uint32_t arch_audit = AUDIT_ARCH_X86_64;
const long arch_nr_mmap = 9;
const long arch_nr_gettid = 186;
const long arch_nr_clone = 56, arch_nr_clone3 = 435, arch_nr_fork = 57, arch_nr_vfork = 58;

/* The legacy non-*at calls still exist here, and glibc's static programs may use them. */
const struct syscall_desc arch_syscalls[] = {
	{ 2,   "open",       0, -1,  1, -1, false, false },
	{ 4,   "stat",       0, -1, -1, -1, false, false },
	{ 6,   "lstat",      0, -1, -1, -1, false, false },
	{ 21,  "access",     0, -1, -1, -1, false, false },
	{ 76,  "truncate",   0, -1, -1, -1, false, false },
	{ 85,  "creat",      0, -1, -1, -1, false, false },
	{ 89,  "readlink",   0, -1, -1, -1, false, false },
	{ 137, "statfs",     0, -1, -1,  1, false, false },
	{ 138, "fstatfs",   -1, -1, -1,  1, false, false },
	{ 165, "mount",     -1, -1, -1, -1, false, true },
	{ 257, "openat",     1,  0,  2, -1, false, false },
	{ 262, "newfstatat", 1,  0, -1, -1, false, false },
	{ 267, "readlinkat", 1,  0, -1, -1, false, false },
	{ 269, "faccessat",  1,  0, -1, -1, false, false },
	{ 332, "statx",      1,  0, -1, -1, false, false },
	{ 437, "openat2",    1,  0, -1, -1, true, false },
	{ 439, "faccessat2", 1,  0, -1, -1, false, false },
};
const size_t arch_syscall_count = sizeof(arch_syscalls) / sizeof(arch_syscalls[0]);

int
regs_read(pid_t tid, regs_t *regs)
{
	return ptrace(PTRACE_GETREGS, tid, 0, regs) < 0 ? -errno : 0;
}

int
regs_write(pid_t tid, const regs_t *regs)
{
	return ptrace(PTRACE_SETREGS, tid, 0, regs) < 0 ? -errno : 0;
}

long
regs_syscall_nr(const regs_t *regs)
{
	return (long)regs->orig_rax;
}

unsigned long
regs_arg(const regs_t *regs, unsigned int index)
{
	switch (index) {
	case 0: return regs->rdi;
	case 1: return regs->rsi;
	case 2: return regs->rdx;
	case 3: return regs->r10;
	case 4: return regs->r8;
	default: return regs->r9;
	}
}

void
regs_set_arg(regs_t *regs, unsigned int index, unsigned long value)
{
	switch (index) {
	case 0: regs->rdi = value; break;
	case 1: regs->rsi = value; break;
	case 2: regs->rdx = value; break;
	case 3: regs->r10 = value; break;
	case 4: regs->r8 = value; break;
	default: regs->r9 = value; break;
	}
}

long
regs_return_value(const regs_t *regs)
{
	return (long)regs->rax;
}

void
regs_set_return_value(regs_t *regs, long value)
{
	regs->rax = (unsigned long)value;
}

int
regs_write_with_syscall(pid_t tid, regs_t *regs, long nr)
{
	/* Both Linux and gVisor take the syscall number from orig_rax after a seccomp stop. */
	regs->orig_rax = (unsigned long)nr;
	return regs_write(tid, regs);
}

void
regs_prepare_restart(regs_t *regs, long nr)
{
	/* "syscall" is 2 bytes (0f 05) and reads its number from rax. */
	regs->rip -= 2;
	regs->rax = (unsigned long)nr;
	regs->orig_rax = (unsigned long)nr;
}
