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
 * would lose them: that is the limit, and why the rewrite is logged.
 *
 * Why a refused bind of a directory onto itself answers 0 where every mount is refused
 * (EPERM: no CAP_SYS_ADMIN): its only effect would be to make the directory a mount point so
 * that its propagation can be set next (kubelet's MakeRShared), and that propagation change,
 * refused with EPERM too, is moot where the process can make no mount at all: nothing it
 * does can propagate anywhere.  The call still runs first and only the kernel's EPERM is
 * answered 0, so a process that can mount gets the real bind.  Only a bind of a directory
 * onto the very same path (MS_BIND, MS_REC at most) is answered: every other mount keeps
 * its EPERM, as the kernel says. */
#include "mountfake.h"
#include "arch.h"
#include "note.h"
#include "path.h"
#include "root.h"
#include "stats.h"

#include <errno.h>       /* errno, EINVAL, EPERM */
#include <limits.h>      /* PATH_MAX */
#include <sched.h>       /* unshare, CLONE_NEWNS */
#include <stdlib.h>      /* mkdtemp, realpath */
#include <string.h>      /* strcmp */
#include <sys/mount.h>   /* mount, umount2, MS_* */
#include <sys/stat.h>    /* stat, S_ISDIR */
#include <sys/wait.h>    /* waitpid */
#include <unistd.h>      /* fork, rmdir, _exit */

#define PROPAGATION_FLAGS (MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE)
#define PROBE_CANNOT_TELL 0x40

static bool fake_propagation;
static bool rbind_as_bind;
static bool every_mount_refused;  /* with fake_propagation: EPERM answered as above */

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

/* The kernel said EPERM to unshare (Linux without CAP_SYS_ADMIN) or to the first mount in the
 * new namespace (gVisor lets anyone unshare one): it says EPERM to any mount then, and this
 * checks that on the operation faked, a bind of a directory onto itself. */
static int
probe_unpermitted_bind(void)
{
	char dir[] = "/tmp/k3s-sandbox-intercept-probe.XXXXXX";
	int refused = PROBE_CANNOT_TELL;

	if (mkdtemp(dir) == NULL)
		return PROBE_CANNOT_TELL;
	if (mount(dir, dir, NULL, MS_BIND, NULL) == 0)
		(void)umount2(dir, MNT_DETACH);  /* permitted after all: no fake, and nothing left */
	else if (errno == EPERM)
		refused = REFUSES_EVERY_MOUNT;
	(void)rmdir(dir);
	return refused;
}

static _Noreturn void
run_probe_child(void)
{
	int refusals = 0;

	if (unshare(CLONE_NEWNS) < 0)
		_exit(errno == EPERM ? probe_unpermitted_bind() : PROBE_CANNOT_TELL);
	/* What unshare(1) does first.  Where the kernel refuses it, mounts do not propagate
	 * anywhere (gVisor), so the bind probe below reaches no other namespace either. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		if (errno == EPERM)
			_exit(probe_unpermitted_bind());
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
	every_mount_refused = (refusals & REFUSES_EVERY_MOUNT) != 0;
	fake_propagation = propagation && (refusals & (REFUSES_RECURSIVE_PROPAGATION | REFUSES_EVERY_MOUNT));
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

/* MS_BIND, MS_REC at most: the flags of a bind that only makes a mount point. */
static bool
is_plain_bind(unsigned long flags)
{
	return (flags & ~(unsigned long)MS_REC) == MS_BIND;
}

/* Whether the saved source and target of @tracee's mount(2) name the same directory once
 * resolved (symlinks and ".." included), seen from its root, which must be ours. */
static bool
binds_directory_onto_itself(const struct tracee *tracee)
{
	char source[PATH_MAX], target[PATH_MAX], real_source[PATH_MAX], real_target[PATH_MAX];
	struct stat st;

	if (path_read_absolute(tracee->tid, regs_arg(&tracee->saved, 0), source) < 0
	    || path_read_absolute(tracee->tid, regs_arg(&tracee->saved, 1), target) < 0
	    || realpath(source, real_source) == NULL || realpath(target, real_target) == NULL)
		return false;
	return strcmp(real_source, real_target) == 0 && stat(real_source, &st) == 0 && S_ISDIR(st.st_mode)
	       && root_is_ours(tracee->tid);
}

bool
mount_fake_on_entry(struct tracee *tracee, regs_t *regs)
{
	unsigned long flags = flags_of(regs);

	if (fake_propagation && (is_propagation_change(flags) || (every_mount_refused && is_plain_bind(flags))))
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
	long refusal = every_mount_refused ? -EPERM : -EINVAL;

	if (result != refusal || !fake_propagation)
		return result;
	if (is_propagation_change(flags)) {
		stats.propagation_fakes++;
		redirect_log_note("pid %d: mount flags 0x%lx: propagation change refused (%s), answered 0",
				  (int)tracee->tid, flags, every_mount_refused ? "EPERM" : "EINVAL");
		return 0;
	}
	if (!every_mount_refused || !is_plain_bind(flags) || !binds_directory_onto_itself(tracee))
		return result;
	stats.self_bind_fakes++;
	redirect_log_note("pid %d: mount flags 0x%lx: bind of a directory onto itself refused (EPERM), answered 0",
			  (int)tracee->tid, flags);
	return 0;
}
