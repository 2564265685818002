/* aarch64: registers and syscall numbers (the generic table, strace src/linux/64/syscallent.h).
 * There is no open/stat/access/readlink/creat here: libc and Go always use the *at forms. */
#include "../arch.h"

#include <elf.h>          /* NT_PRSTATUS, NT_ARM_SYSTEM_CALL */
#include <errno.h>        /* errno */
#include <linux/audit.h>  /* AUDIT_ARCH_AARCH64 */
#include <sys/ptrace.h>   /* ptrace, PTRACE_GETREGSET */
#include <sys/uio.h>      /* struct iovec */

const uint32_t arch_audit = AUDIT_ARCH_AARCH64;
const long arch_nr_mmap = 222;
const long arch_nr_gettid = 178;
const long arch_nr_clone = 220, arch_nr_clone3 = 435, arch_nr_fork = -1, arch_nr_vfork = -1;

const struct syscall_desc arch_syscalls[] = {
	{ 40,  "mount",     -1, -1, -1, -1, false, true },
	{ 43,  "statfs",     0, -1, -1,  1, false, false },
	{ 44,  "fstatfs",   -1, -1, -1,  1, false, false },
	{ 45,  "truncate",   0, -1, -1, -1, false, false },
	{ 48,  "faccessat",  1,  0, -1, -1, false, false },
	{ 56,  "openat",     1,  0,  2, -1, false, false },
	{ 78,  "readlinkat", 1,  0, -1, -1, false, false },
	{ 79,  "newfstatat", 1,  0, -1, -1, false, false },
	{ 291, "statx",      1,  0, -1, -1, false, false },
	{ 437, "openat2",    1,  0, -1, -1, true, false },
	{ 439, "faccessat2", 1,  0, -1, -1, false, false },
};
const size_t arch_syscall_count = sizeof(arch_syscalls) / sizeof(arch_syscalls[0]);

int
regs_read(pid_t tid, regs_t *regs)
{
	struct iovec iov = { regs, sizeof(*regs) };

	return ptrace(PTRACE_GETREGSET, tid, (void *)NT_PRSTATUS, &iov) < 0 ? -errno : 0;
}

int
regs_write(pid_t tid, const regs_t *regs)
{
	struct iovec iov = { (void *)regs, sizeof(*regs) };

	return ptrace(PTRACE_SETREGSET, tid, (void *)NT_PRSTATUS, &iov) < 0 ? -errno : 0;
}

long
regs_syscall_nr(const regs_t *regs)
{
	return (long)regs->regs[8];
}

unsigned long
regs_arg(const regs_t *regs, unsigned int index)
{
	return regs->regs[index];
}

void
regs_set_arg(regs_t *regs, unsigned int index, unsigned long value)
{
	regs->regs[index] = value;
}

long
regs_return_value(const regs_t *regs)
{
	return (long)regs->regs[0];
}

void
regs_set_return_value(regs_t *regs, long value)
{
	regs->regs[0] = (unsigned long)value;
}

int
regs_write_with_syscall(pid_t tid, regs_t *regs, long nr)
{
	int syscall_nr = (int)nr;
	struct iovec iov = { &syscall_nr, sizeof(syscall_nr) };
	int ret;

	/* gVisor honours x8 and has no NT_ARM_SYSTEM_CALL; Linux ignores x8 here and needs the
	 * regset (proot src/tracee/reg.c does the same).  So write both and accept either. */
	regs->regs[8] = (unsigned long)nr;
	ret = regs_write(tid, regs);
	if (ret < 0)
		return ret;
	if (ptrace(PTRACE_SETREGSET, tid, (void *)NT_ARM_SYSTEM_CALL, &iov) < 0
	    && errno != EINVAL && errno != EIO)
		return -errno;
	return 0;
}

void
regs_prepare_restart(regs_t *regs, long nr)
{
	/* "svc #0" is 4 bytes and takes its number from x8. */
	regs->pc -= 4;
	regs->regs[8] = (unsigned long)nr;
}
