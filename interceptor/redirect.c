/* Redirect, restore and scratch injection (see redirect.h).
 *
 * A redirect never writes over program memory: the new path goes into a slot of a scratch
 * mapping we injected, and only the path register changes.  Every register we change is
 * put back at the syscall's exit stop, because libc and Go expect argument registers to
 * survive a syscall, and a restarted syscall (-ERESTARTSYS) re-runs from them. */
#include "redirect.h"
#include "arch.h"
#include "mem.h"
#include "mountfake.h"
#include "note.h"
#include "path.h"
#include "stats.h"

#include <errno.h>       /* ESRCH */
#include <fcntl.h>       /* O_* */
#include <limits.h>      /* PATH_MAX */
#include <string.h>      /* strlen */
#include <sys/mman.h>    /* PROT_*, MAP_* */

#define V9FS_MAGIC 0x01021997UL
#define EXT4_SUPER_MAGIC 0xEF53UL
#define NR_LOOKUP_SIZE 512

static enum stop_order stop_order;
static bool trace_paths;
static bool spoof_statfs;
static unsigned char nr_to_index[NR_LOOKUP_SIZE];  /* index + 1 into arch_syscalls, 0: none */

void
redirect_init(enum stop_order order, bool paths, bool statfs_spoof)
{
	stop_order = order;
	trace_paths = paths;
	spoof_statfs = statfs_spoof;
	for (size_t i = 0; i < arch_syscall_count; i++)
		nr_to_index[arch_syscalls[i].nr] = (unsigned char)(i + 1);
}

static bool
is_traced(const struct syscall_desc *sc)
{
	if (sc->mount)
		return mount_fakes_enabled();
	/* fstatfs has no path: it only stops when its result is to be spoofed. */
	if (sc->statfs_buf_arg >= 0 && spoof_statfs)
		return true;
	return sc->path_arg >= 0 && trace_paths;
}

size_t
redirect_traced_syscalls(long *nrs)
{
	size_t count = 0;

	for (size_t i = 0; i < arch_syscall_count; i++)
		if (is_traced(&arch_syscalls[i]))
			nrs[count++] = arch_syscalls[i].nr;
	return count;
}

static const struct syscall_desc *
lookup(long nr)
{
	if (nr < 0 || nr >= NR_LOOKUP_SIZE || nr_to_index[nr] == 0)
		return NULL;
	return &arch_syscalls[nr_to_index[nr] - 1];
}

/* Syscall stops between now and the exit stop, when resumed with PTRACE_SYSCALL. */
static int
stops_until_exit(void)
{
	return stop_order == ORDER_SECCOMP_BEFORE_ENTRY ? 2 : 1;
}

static enum resume
wait_for_exit(struct tracee *tracee, enum tracee_wait what)
{
	tracee->wait = what;
	tracee->syscall_stops_left = stops_until_exit();
	return RESUME_SYSCALL;
}

static enum resume
park(struct tracee *tracee)
{
	tracee->parked = true;
	tracee->space->parked++;
	stats.parked++;
	return RESUME_LATER;
}

/* Replaces the syscall by mmap of the scratch area; its exit stop restarts the original. */
static enum resume
inject_scratch_mapping(struct tracee *tracee, const regs_t *regs)
{
	regs_t mmap_regs = *regs;

	tracee->saved = *regs;
	regs_set_arg(&mmap_regs, 0, 0);
	regs_set_arg(&mmap_regs, 1, SCRATCH_SIZE);
	regs_set_arg(&mmap_regs, 2, PROT_READ | PROT_WRITE);
	regs_set_arg(&mmap_regs, 3, MAP_PRIVATE | MAP_ANONYMOUS);
	regs_set_arg(&mmap_regs, 4, (unsigned long)-1);
	regs_set_arg(&mmap_regs, 5, 0);
	if (regs_write_with_syscall(tracee->tid, &mmap_regs, arch_nr_mmap) < 0)
		return RESUME_CONT;
	tracee->space->injecting = true;
	return wait_for_exit(tracee, WAIT_MMAP_EXIT);
}

/* A write-only open of a fake gets O_TRUNC: writing "1" over "1000" must read back as "1",
 * as it does for the sysctl file the fake stands in for. */
static void
add_trunc_to_write_only_open(const struct syscall_desc *sc, regs_t *regs)
{
	unsigned long flags;

	if (sc->open_flags_arg < 0)
		return;
	flags = regs_arg(regs, (unsigned int)sc->open_flags_arg);
	if ((flags & O_ACCMODE) == O_WRONLY && !(flags & O_APPEND))
		regs_set_arg(regs, (unsigned int)sc->open_flags_arg, flags | O_TRUNC);
}

/* Points the path argument at a scratch slot holding @target.  Returns RESUME_SYSCALL when
 * redirected, RESUME_LATER when parked, RESUME_CONT when it cannot be done. */
static enum resume
redirect_path(struct tracee *tracee, const struct syscall_desc *sc, const regs_t *regs,
	      const char *original, const char *target)
{
	struct addr_space *space = tracee->space;
	regs_t redirected = *regs;
	unsigned long addr;
	int slot;

	if (space->injection_failed)
		return RESUME_CONT;
	if (space->injecting)
		return park(tracee);
	if (space->base == 0)
		return inject_scratch_mapping(tracee, regs);
	slot = addr_space_take_slot(space);
	if (slot < 0)
		return park(tracee);
	addr = addr_space_slot_addr(space, slot);
	if (mem_write(tracee->tid, addr, target, strlen(target) + 1) < 0) {
		addr_space_release_slot(space, slot);
		return RESUME_CONT;
	}
	regs_set_arg(&redirected, (unsigned int)sc->path_arg, addr);
	add_trunc_to_write_only_open(sc, &redirected);
	if (regs_write(tracee->tid, &redirected) < 0) {
		addr_space_release_slot(space, slot);
		return RESUME_CONT;
	}
	tracee->slot = slot;
	tracee->regs_changed = true;
	stats.redirects++;
	stats.redirected[STATS_INDEX(sc)]++;
	redirect_log(tracee->tid, sc->name, original, target);
	return RESUME_SYSCALL;
}

enum resume
redirect_on_entry(struct tracee *tracee)
{
	char original[PATH_MAX], target[PATH_MAX];
	const struct syscall_desc *sc;
	enum resume resume = RESUME_CONT;
	bool retry = tracee->parked;
	regs_t regs;

	if (retry) {
		tracee->parked = false;
		tracee->space->parked--;
	}
	if (regs_read(tracee->tid, &regs) < 0)
		return RESUME_CONT;
	sc = lookup(regs_syscall_nr(&regs));
	if (sc == NULL || !is_traced(sc))
		return RESUME_CONT;
	if (!retry)
		stats.traced[STATS_INDEX(sc)]++;
	tracee->syscall = sc;
	tracee->saved = regs;
	tracee->regs_changed = false;
	tracee->slot = -1;
	tracee->spoof_statfs = spoof_statfs && sc->statfs_buf_arg >= 0;
	if (sc->mount)
		return mount_fake_on_entry(tracee, &regs) ? wait_for_exit(tracee, WAIT_SYSCALL_EXIT) : RESUME_CONT;
	if (trace_paths && sc->path_arg >= 0 && path_find_fake(tracee->tid, sc, &regs, original, target) == 1)
		resume = redirect_path(tracee, sc, &regs, original, target);
	if (resume == RESUME_LATER || tracee->wait == WAIT_MMAP_EXIT)
		return resume;
	if (resume == RESUME_SYSCALL || tracee->spoof_statfs)
		return wait_for_exit(tracee, WAIT_SYSCALL_EXIT);
	return RESUME_CONT;
}

static void
spoof_statfs_result(struct tracee *tracee, long result)
{
	unsigned long buf = regs_arg(&tracee->saved, (unsigned int)tracee->syscall->statfs_buf_arg);
	unsigned long f_type;  /* __statfs_word f_type at offset 0 on x86_64 and aarch64 */
	const unsigned long ext4 = EXT4_SUPER_MAGIC;

	if (result != 0 || mem_read(tracee->tid, buf, &f_type, sizeof(f_type)) < 0
	    || f_type != V9FS_MAGIC)
		return;
	if (mem_write(tracee->tid, buf, &ext4, sizeof(ext4)) == 0)
		stats.statfs_spoofs++;
}

/* -ESRCH is a tracee killed while stopped: nothing is left to restore. */
static void
report_lost_registers(const struct tracee *tracee, int ret)
{
	if (ret < 0 && ret != -ESRCH) {
		errno = -ret;
		perror_msg("pid %d: restoring registers", (int)tracee->tid);
	}
}

static enum resume
finish_injection(struct tracee *tracee, long result)
{
	struct addr_space *space = tracee->space;
	regs_t restart = tracee->saved;

	space->injecting = false;
	if (result < 0 && result > -4096) {
		space->injection_failed = true;
		error_msg("pid %d: mapping scratch memory failed (%ld); its paths are not redirected",
			  (int)tracee->tid, result);
	} else {
		space->base = (unsigned long)result;
		stats.scratch_maps++;
	}
	/* Re-run the original syscall from the top: it stops again and is redirected now. */
	regs_prepare_restart(&restart, regs_syscall_nr(&tracee->saved));
	report_lost_registers(tracee, regs_write(tracee->tid, &restart));
	return RESUME_CONT;
}

enum resume
redirect_on_exit(struct tracee *tracee)
{
	enum tracee_wait what = tracee->wait;
	regs_t now;
	long result;

	tracee->wait = WAIT_NOTHING;
	if (regs_read(tracee->tid, &now) < 0)
		return RESUME_CONT;
	result = regs_return_value(&now);
	if (what == WAIT_MMAP_EXIT)
		return finish_injection(tracee, result);
	if (tracee->spoof_statfs)
		spoof_statfs_result(tracee, result);
	if (tracee->syscall->mount) {
		long answer = mount_fake_result(tracee, result);

		tracee->regs_changed |= answer != result;
		result = answer;
	}
	if (tracee->slot >= 0) {
		addr_space_release_slot(tracee->space, tracee->slot);
		tracee->slot = -1;
	}
	if (tracee->regs_changed) {
		regs_t restored = tracee->saved;

		regs_set_return_value(&restored, result);
		report_lost_registers(tracee, regs_write(tracee->tid, &restored));
		tracee->regs_changed = false;
	}
	return RESUME_CONT;
}
