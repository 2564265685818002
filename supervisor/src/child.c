#include "child.h"

#include "atomic_file.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The child stays in the supervisor's session and process group (no setpgid): the
 * supervisor only ever signals the child's pid, and k3s itself takes care of the
 * processes it starts (containerd dies with it via Pdeathsig). */
static void exec_child(char **argv, int output_fd, const sigset_t *mask)
{
	char msg[512];
	const char *failed = NULL;
	/* Ignored dispositions survive exec; k3s must see SIGHUP/SIGPIPE as a normal process would. */
	if (signal(SIGHUP, SIG_DFL) == SIG_ERR || signal(SIGPIPE, SIG_DFL) == SIG_ERR)
		failed = "reset signal dispositions";
	else if (sigprocmask(SIG_SETMASK, mask, NULL) != 0)
		failed = "restore the signal mask";
	else if (dup2(output_fd, STDOUT_FILENO) < 0 || dup2(output_fd, STDERR_FILENO) < 0)
		failed = "redirect output";
	else {
		execvp(argv[0], argv);
		failed = "execute";
	}
	int n = snprintf(msg, sizeof msg, "k3s-sandbox-supervise: cannot %s %s: %s\n", failed, argv[0],
			 strerror(errno));
	/* Nobody is left to tell if this write fails; exit 127 still says it all. */
	if (n > 0)
		(void)write_all(output_fd, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
	_exit(127);
}

pid_t child_spawn(char **argv, int output_fd, const sigset_t *mask)
{
	pid_t pid = fork();
	if (pid == 0)
		exec_child(argv, output_fd, mask);
	return pid;
}

void child_describe_exit(int wstatus, char *buf, size_t size)
{
	if (WIFSIGNALED(wstatus))
		snprintf(buf, size, "signal %d", WTERMSIG(wstatus));
	else
		snprintf(buf, size, "exit %d", WEXITSTATUS(wstatus));
}
