/* seccomp-bpf filter (see filter.h). */
#include "filter.h"
#include "arch.h"

#include <errno.h>               /* errno, EACCES, EINVAL */
#include <linux/filter.h>        /* struct sock_filter, BPF_* */
#include <linux/seccomp.h>       /* SECCOMP_*, struct seccomp_data */
#include <stddef.h>              /* offsetof */
#include <stdlib.h>              /* qsort */
#include <sys/prctl.h>           /* prctl, PR_SET_NO_NEW_PRIVS */
#include <sys/syscall.h>         /* SYS_seccomp */
#include <unistd.h>              /* syscall */

#define MAX_TRACED 32
#define MAX_INSNS (4 * MAX_TRACED + 8)
#define LEAF_SIZE 2  /* numbers compared one by one at the bottom of the search tree */

struct program {
	struct sock_filter insns[MAX_INSNS];
	size_t len;
	size_t allow, trace;  /* indexes of the two return instructions */
};

/* Instructions emitted for the sorted numbers [lo, hi) by emit_search. */
static size_t
search_size(size_t lo, size_t hi)
{
	size_t mid = lo + (hi - lo) / 2;

	if (hi - lo <= LEAF_SIZE)
		return hi - lo + 1;
	return 1 + search_size(lo, mid) + search_size(mid, hi);
}

static void
emit(struct program *prog, struct sock_filter insn)
{
	prog->insns[prog->len++] = insn;
}

/* A binary search on the syscall number: a syscall that is not ours passes about
 * log2(count) comparisons instead of count, which is all the filter costs it. */
static void
emit_search(struct program *prog, const long *nrs, size_t lo, size_t hi)
{
	size_t mid = lo + (hi - lo) / 2;

	if (hi - lo <= LEAF_SIZE) {
		for (size_t i = lo; i < hi; i++) {
			size_t here = prog->len;

			emit(prog, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned int)nrs[i],
								(unsigned char)(prog->trace - here - 1), 0));
		}
		emit(prog, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JA, (unsigned int)(prog->allow - prog->len - 1), 0, 0));
		return;
	}
	emit(prog, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, (unsigned int)nrs[mid],
						(unsigned char)search_size(lo, mid), 0));
	emit_search(prog, nrs, lo, mid);
	emit_search(prog, nrs, mid, hi);
}

static int
compare_nr(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

static int
load_filter(const struct sock_fprog *fprog)
{
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, fprog) < 0 ? -errno : 0;
}

int
filter_install(const long *nrs, size_t count)
{
	static struct program prog;
	long sorted[MAX_TRACED];
	struct sock_fprog fprog;
	int ret;

	if (count == 0 || count > MAX_TRACED)
		return -EINVAL;
	for (size_t i = 0; i < count; i++)
		sorted[i] = nrs[i];
	qsort(sorted, count, sizeof(sorted[0]), compare_nr);
	prog.len = 0;
	prog.allow = 3 + search_size(0, count);
	prog.trace = prog.allow + 1;
	/* Only arch and nr are loaded, never arguments: gVisor can then cache the verdict per
	 * syscall number and run no BPF at all for syscalls that are not ours.  A foreign ABI
	 * (i386 via int 0x80, x32 numbers) is allowed through untouched. */
	emit(&prog, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)));
	emit(&prog, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, arch_audit,
						  0, (unsigned char)(prog.allow - 2)));
	emit(&prog, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)));
	emit_search(&prog, sorted, 0, count);
	emit(&prog, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
	emit(&prog, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE));
	fprog.len = (unsigned short)prog.len;
	fprog.filter = prog.insns;

	/* Without NO_NEW_PRIVS first, as strace does: a root user keeps setuid semantics.
	 * An unprivileged one gets EACCES and must set it. */
	ret = load_filter(&fprog);
	if (ret == -EACCES) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			return -errno;
		ret = load_filter(&fprog);
	}
	return ret;
}
