/* Launching the program (see launch.h).  The order is strace's startup_child: the child
 * stops itself, the parent seizes it with all options set, then SIGCONT.  Only then does
 * the child install the filter: a RET_TRACE syscall made before TRACESECCOMP is set would
 * fail with ENOSYS. */
#include "launch.h"
#include "filter.h"
#include "note.h"

#include <errno.h>       /* errno */
#include <stdio.h>       /* fopen, fscanf */
#include <sys/ptrace.h>  /* ptrace, PTRACE_* */
#include <sys/wait.h>    /* waitpid */
#include <unistd.h>      /* fork, execvp, _exit */

static _Noreturn void
exec_child(char **argv, const long *nrs, size_t count, const sigset_t *child_mask)
{
	int ret;

	if (sigprocmask(SIG_SETMASK, child_mask, NULL) < 0 || raise(SIGSTOP) != 0)
		_exit(126);
	if (nrs != NULL) {
		ret = filter_install(nrs, count);
		if (ret < 0) {
			errno = -ret;
			perror_msg("installing the seccomp filter in %s", argv[0]);
			_exit(126);
		}
	}
	execvp(argv[0], argv);
	ret = errno;
	perror_msg("cannot run PROGRAM '%s'", argv[0]);
	/* The shell's convention: 127 when it is not found, 126 when it cannot be run. */
	_exit(ret == ENOENT || ret == ENOTDIR ? 127 : 126);
}

static int
ptrace_scope(void)
{
	FILE *f = fopen("/proc/sys/kernel/yama/ptrace_scope", "re");
	int scope = -1;

	if (f != NULL) {
		if (fscanf(f, "%d", &scope) != 1)
			scope = -1;
		(void)fclose(f);  /* read-only: nothing to flush */
	}
	return scope;
}

static _Noreturn void
die_ptrace_refused(int error)
{
	int scope = ptrace_scope();

	errno = error;
	if (scope >= 2)
		perror_msg("ptrace is refused: yama ptrace_scope is %d (2 allows only CAP_SYS_PTRACE, "
			   "3 allows nobody)", scope);
	else
		perror_msg("ptrace is refused: this process may not trace its own child (a container "
			   "without CAP_SYS_PTRACE, or a seccomp profile that blocks ptrace)");
	error_msg_and_die(1, "remedy: allow ptrace of child processes: sysctl kernel.yama.ptrace_scope=1 "
			  "(3 needs a reboot), or run the container with --cap-add=SYS_PTRACE and a "
			  "seccomp profile that permits ptrace");
}

pid_t
launch_traced(char **argv, const long *nrs, size_t count, const sigset_t *child_mask)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		perror_msg_and_die(1, "fork");
	if (pid == 0)
		exec_child(argv, nrs, count, child_mask);
	if (waitpid(pid, &status, WUNTRACED) < 0)
		perror_msg_and_die(1, "waiting for the child to stop");
	if (!WIFSTOPPED(status))
		error_msg_and_die(1, "the child ended before it could be traced");
	if (ptrace(PTRACE_SEIZE, pid, 0, (void *)(long)TRACE_OPTIONS) < 0) {
		int error = errno;

		/* Our own stopped child: it must not run the program untraced. */
		if (kill(pid, SIGKILL) < 0 || waitpid(pid, &status, 0) < 0)
			perror_msg("ending the untraced child %d", (int)pid);
		die_ptrace_refused(error);
	}
	if (kill(pid, SIGCONT) < 0)
		perror_msg_and_die(1, "resuming the child");
	return pid;
}
