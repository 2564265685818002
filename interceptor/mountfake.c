/* mount(2) fakes (see mountfake.h).
 *
 * Why answering 0 is honest here: in this gVisor every mount is sandbox-wide (its mount
 * namespaces do not isolate), so there is no other namespace for a shared, slave or private
 * mount to propagate to or from: the propagation a program asks for is moot, and the
 * program's own view is the same either way.  Only a change the kernel refused with EINVAL
 * is answered 0, so a real kernel (whose probe finds no refusal) is never lied to.
 *
 * Why a plain bind stands in for a recursive one: a recursive bind also copies the mounts
 * below its source.  containerd's native snapshotter binds a snapshot directory, which has
 * nothing mounted under it, so the plain bind gives the same tree.  A source with submounts
 * would lose them: that is the limit, and why the rewrite is logged. */
#include "mountfake.h"
#include "arch.h"
#include "note.h"
#include "stats.h"

#include <errno.h>       /* errno, EINVAL */
#include <sched.h>       /* unshare, CLONE_NEWNS */
#include <stdlib.h>      /* mkdtemp */
#include <sys/mount.h>   /* mount, umount2, MS_* */
#include <sys/wait.h>    /* waitpid */
#include <unistd.h>      /* fork, rmdir, _exit */

#define PROPAGATION_FLAGS (MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE)
#define PROBE_CANNOT_TELL 0x40

static bool fake_propagation;
static bool rbind_as_bind;

static int
probe_recursive_bind(void)
{
	char dir[] = "/tmp/k3s-sandbox-intercept-probe.XXXXXX";
	int refused = 0;

	if (mkdtemp(dir) == NULL)
		return 0;
	if (mount(dir, dir, NULL, MS_BIND | MS_REC, NULL) == 0)
		(void)umount2(dir, MNT_DETACH);  /* our own namespace's copy, gone with it anyway */
	else if (errno == EINVAL)
		refused = REFUSES_RECURSIVE_BIND;
	(void)rmdir(dir);
	return refused;
}

static _Noreturn void
run_probe_child(void)
{
	int refusals = 0;

	if (unshare(CLONE_NEWNS) < 0)
		_exit(PROBE_CANNOT_TELL);
	/* What unshare(1) does first.  Where the kernel refuses it, mounts do not propagate
	 * anywhere (gVisor), so the bind probe below reaches no other namespace either. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		if (errno != EINVAL)
			_exit(PROBE_CANNOT_TELL);
		refusals |= REFUSES_RECURSIVE_PROPAGATION;
	}
	_exit(refusals | probe_recursive_bind());
}

int
mount_probe_refusals(void)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		perror_msg_and_die(1, "fork for the mount probe");
	if (pid == 0)
		run_probe_child();
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 0;
	if (!WIFEXITED(status) || WEXITSTATUS(status) == PROBE_CANNOT_TELL)
		return 0;
	return WEXITSTATUS(status);
}

void
mount_fakes_init(bool propagation, bool rbind, int refusals)
{
	fake_propagation = propagation && (refusals & REFUSES_RECURSIVE_PROPAGATION);
	rbind_as_bind = rbind && (refusals & REFUSES_RECURSIVE_BIND);
}

bool
mount_fakes_enabled(void)
{
	return fake_propagation || rbind_as_bind;
}

static unsigned long
flags_of(const regs_t *regs)
{
	return regs_arg(regs, 3);
}

/* Only propagation flags (one or more) and MS_REC: nothing else is changed by the call. */
static bool
is_propagation_change(unsigned long flags)
{
	return (flags & PROPAGATION_FLAGS) != 0 && (flags & ~(unsigned long)(PROPAGATION_FLAGS | MS_REC)) == 0;
}

static bool
is_recursive_bind(unsigned long flags)
{
	return (flags & (MS_BIND | MS_REC)) == (MS_BIND | MS_REC) && !(flags & MS_REMOUNT);
}

bool
mount_fake_on_entry(struct tracee *tracee, regs_t *regs)
{
	unsigned long flags = flags_of(regs);

	if (fake_propagation && is_propagation_change(flags))
		return true;
	if (!rbind_as_bind || !is_recursive_bind(flags))
		return false;
	regs_set_arg(regs, 3, flags & ~(unsigned long)MS_REC);
	if (regs_write(tracee->tid, regs) < 0)
		return false;
	tracee->regs_changed = true;
	stats.rbinds_as_bind++;
	redirect_log_note("pid %d: mount flags 0x%lx: recursive bind refused here, done as a plain bind",
			  (int)tracee->tid, flags);
	return true;
}

long
mount_fake_result(struct tracee *tracee, long result)
{
	unsigned long flags = flags_of(&tracee->saved);

	if (result != -EINVAL || !fake_propagation || !is_propagation_change(flags))
		return result;
	stats.propagation_fakes++;
	redirect_log_note("pid %d: mount flags 0x%lx: propagation change refused (EINVAL), answered 0",
			  (int)tracee->tid, flags);
	return 0;
}
