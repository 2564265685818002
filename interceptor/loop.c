/* Event loop (see loop.h).
 *
 * Stop taxonomy (ptrace(2), with PTRACE_SEIZE and TRACESYSGOOD), decoded from status>>8:
 *   SIGTRAP | PTRACE_EVENT_x << 8   event stop (seccomp, fork/vfork/clone, exec, stop)
 *   SIGTRAP | 0x80                  syscall entry or exit stop
 *   anything else                   signal-delivery-stop: re-inject that signal
 * PTRACE_EVENT_STOP with a stopping signal is a group-stop: PTRACE_LISTEN keeps it
 * stopped without losing it; with SIGTRAP it is a new child's first stop. */
#include "loop.h"
#include "arch.h"
#include "mem.h"
#include "note.h"
#include "redirect.h"
#include "stats.h"
#include "tracee.h"

#include <errno.h>        /* errno */
#include <linux/sched.h>  /* CLONE_VM */
#include <signal.h>       /* kill, SIG* */
#include <stdint.h>       /* uint64_t */
#include <sys/ptrace.h>   /* ptrace, PTRACE_* */
#include <sys/wait.h>     /* waitpid, __WALL */

/* No seccomp filter: every syscall stops twice (PTRACE_SYSCALL entry and exit) instead of only the filtered ones. */
static bool every_syscall_stops;

static void
resume(struct tracee *tracee, enum resume how, int sig)
{
	long request;

	if (how == RESUME_LATER)
		return;
	request = every_syscall_stops || how == RESUME_SYSCALL || tracee->wait != WAIT_NOTHING
		? PTRACE_SYSCALL : PTRACE_CONT;
	/* ESRCH: killed while stopped (another thread's exit_group); its exit report follows. */
	if (ptrace(request, tracee->tid, 0, (void *)(long)sig) < 0 && errno != ESRCH)
		perror_msg("resuming pid %d", (int)tracee->tid);
}

static void
retry_if_parked_on(struct tracee *tracee, void *space)
{
	/* Stop once the space is full again: the rest would only park once more. */
	if (tracee->parked && tracee->space == space && addr_space_can_serve(space))
		resume(tracee, redirect_on_entry(tracee), 0);
}

/* A slot was released or the mapping appeared: tracees parked on @space try again. */
static void
wake_parked(struct addr_space *space)
{
	if (space != NULL && space->parked > 0)
		tracee_for_each(retry_if_parked_on, space);
}

static void
forget_tracee(struct tracee *tracee)
{
	struct addr_space *space = tracee->space;

	if (space == NULL) {
		tracee_remove(tracee);
		return;
	}
	addr_space_ref(space);
	tracee_remove(tracee);
	wake_parked(space);
	addr_space_unref(space);
}

/* Whether the fork/clone that @parent is stopped in shares memory: 1, 0, or -1 unknown. */
static int
creation_shares_vm(const struct tracee *parent)
{
	regs_t regs;
	uint64_t flags;
	long nr;

	if (regs_read(parent->tid, &regs) < 0)
		return -1;
	nr = regs_syscall_nr(&regs);
	if (nr == arch_nr_clone)
		return (regs_arg(&regs, 0) & CLONE_VM) != 0;
	if (nr == arch_nr_clone3 && mem_read(parent->tid, regs_arg(&regs, 0), &flags, sizeof(flags)) == 0)
		return (flags & CLONE_VM) != 0;
	if (nr == arch_nr_vfork)
		return 1;
	if (nr == arch_nr_fork)
		return 0;
	return -1;
}

static int
handle_creation_event(struct tracee *parent)
{
	unsigned long child_tid;
	struct tracee *child;

	if (ptrace(PTRACE_GETEVENTMSG, parent->tid, 0, &child_tid) < 0)
		return 0;
	child = tracee_find((pid_t)child_tid);
	if (child == NULL)
		child = tracee_add((pid_t)child_tid);
	if (child == NULL)
		return -1;
	if (child->space == NULL)
		child->space = addr_space_for_child(parent->space, creation_shares_vm(parent));
	if (child->space == NULL)
		return -1;
	/* Its first stop came before this event: it waited for its address space. */
	if (child->held) {
		child->held = false;
		resume(child, RESUME_CONT, 0);
	}
	return 0;
}

/* After execve the tracee has a new address space (no scratch mapping).  From a non-leader
 * thread it also takes the leader's tid; the leader vanishes without an exit report. */
static struct tracee *
handle_exec_event(struct tracee *tracee)
{
	unsigned long former_tid;
	struct tracee *former;
	struct addr_space *fresh;

	if (ptrace(PTRACE_GETEVENTMSG, tracee->tid, 0, &former_tid) == 0
	    && (pid_t)former_tid != tracee->tid
	    && (former = tracee_find((pid_t)former_tid)) != NULL) {
		pid_t tid = tracee->tid;

		forget_tracee(tracee);
		tracee_rekey(former, tid);
		tracee = former;
	}
	fresh = addr_space_new();
	if (fresh == NULL)
		return NULL;
	if (tracee->slot >= 0)
		addr_space_release_slot(tracee->space, tracee->slot);
	addr_space_unref(tracee->space);
	tracee->space = fresh;
	tracee->slot = -1;
	tracee->wait = WAIT_NOTHING;
	return tracee;
}

static bool
is_stopping_signal(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

static void
handle_syscall_stop(struct tracee *tracee)
{
	struct addr_space *space = tracee->space;

	stats.syscall_stops++;
	if (every_syscall_stops) {
		tracee->in_syscall = !tracee->in_syscall;
		if (tracee->in_syscall) {
			resume(tracee, redirect_on_entry(tracee), 0);
			return;
		}
	}
	if (tracee->wait == WAIT_NOTHING) {
		resume(tracee, RESUME_CONT, 0);
		return;
	}
	/* Under the seccomp-first order (gVisor), this may be the entry stop before the exit. */
	if (!every_syscall_stops && --tracee->syscall_stops_left > 0) {
		resume(tracee, RESUME_SYSCALL, 0);
		return;
	}
	resume(tracee, redirect_on_exit(tracee), 0);
	wake_parked(space);
}

/* Returns -1 when memory is exhausted, otherwise 0. */
static int
handle_stop(struct tracee *tracee, int status)
{
	unsigned int event = (unsigned int)status >> 16;
	int sig = WSTOPSIG(status);

	stats.stops++;
	/* Only a first stop may wait for the parent's event; anything else gets its own space. */
	if (tracee->space == NULL && !(event == PTRACE_EVENT_STOP && !is_stopping_signal(sig))
	    && (tracee->space = addr_space_new()) == NULL)
		return -1;
	if (sig == (SIGTRAP | 0x80)) {
		handle_syscall_stop(tracee);
		return 0;
	}
	switch (event) {
	case PTRACE_EVENT_SECCOMP:
		stats.seccomp_stops++;
		resume(tracee, redirect_on_entry(tracee), 0);
		return 0;
	case PTRACE_EVENT_FORK:
	case PTRACE_EVENT_VFORK:
	case PTRACE_EVENT_CLONE:
		stats.event_stops++;
		if (handle_creation_event(tracee) < 0)
			return -1;
		resume(tracee, RESUME_CONT, 0);
		return 0;
	case PTRACE_EVENT_EXEC:
		stats.event_stops++;
		tracee = handle_exec_event(tracee);
		if (tracee == NULL)
			return -1;
		resume(tracee, RESUME_CONT, 0);
		return 0;
	case PTRACE_EVENT_STOP:
		if (is_stopping_signal(sig)) {
			stats.group_stops++;
			if (ptrace(PTRACE_LISTEN, tracee->tid, 0, 0) < 0 && errno != ESRCH)
				perror_msg("PTRACE_LISTEN pid %d", (int)tracee->tid);
			return 0;
		}
		stats.event_stops++;
		if (tracee->space == NULL) {
			tracee->held = true;
			return 0;
		}
		resume(tracee, RESUME_CONT, 0);
		return 0;
	default:
		stats.signal_stops++;
		resume(tracee, RESUME_CONT, sig);
		return 0;
	}
}

int
loop_run(pid_t main_pid, bool use_seccomp)
{
	struct tracee *main_tracee = tracee_add(main_pid);

	every_syscall_stops = !use_seccomp;
	if (main_tracee == NULL || (main_tracee->space = addr_space_new()) == NULL)
		return -1;
	for (;;) {
		struct tracee *tracee;
		int status;
		pid_t tid = waitpid(-1, &status, __WALL);

		if (tid < 0) {
			if (errno == EINTR)
				continue;
			perror_msg("waitpid");
			return -1;
		}
		tracee = tracee_find(tid);
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			if (tracee != NULL)
				forget_tracee(tracee);
			if (tid == main_pid)
				return status;
			continue;
		}
		if (!WIFSTOPPED(status))
			continue;
		/* A child may report before its parent's fork/clone event names it. */
		if (tracee == NULL && (tracee = tracee_add(tid)) == NULL)
			return -1;
		if (handle_stop(tracee, status) < 0)
			return -1;
		stats_file_update(false);
	}
}

static void
kill_tracee(struct tracee *tracee, void *unused)
{
	(void)unused;
	/* ESRCH: it died meanwhile; loop_finish still reaps it. */
	if (kill(tracee->tid, SIGKILL) < 0 && errno != ESRCH)
		perror_msg("killing pid %d", (int)tracee->tid);
}

void
loop_finish(void)
{
	int status;

	tracee_for_each(kill_tracee, NULL);
	for (;;) {
		pid_t tid = waitpid(-1, &status, __WALL);
		struct tracee *tracee;

		if (tid < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		tracee = tracee_find(tid);
		if (tracee != NULL && (WIFEXITED(status) || WIFSIGNALED(status)))
			tracee_remove(tracee);
	}
}
