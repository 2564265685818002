/* The stop-order probe (see probe.h).  Never guess the order from uname: gVisor reports
 * 4.4/4.19 yet behaves like pre-4.8 Linux. */
#include "probe.h"
#include "arch.h"
#include "filter.h"
#include "note.h"

#include <errno.h>       /* errno */
#include <signal.h>      /* kill, raise, SIG* */
#include <stdbool.h>     /* bool */
#include <sys/ptrace.h>  /* ptrace, PTRACE_* */
#include <sys/wait.h>    /* waitpid, __WALL */
#include <unistd.h>      /* fork, _exit, syscall */

#define PROBE_NO_SECCOMP 3

static _Noreturn void
run_probe_child(void)
{
	if (raise(SIGSTOP) != 0)
		_exit(2);
	if (filter_install(&arch_nr_gettid, 1) < 0)
		_exit(PROBE_NO_SECCOMP);
	syscall(arch_nr_gettid);
	_exit(0);
}

static void
kill_and_reap(pid_t pid)
{
	int status;

	if (kill(pid, SIGKILL) < 0)
		perror_msg_and_die(1, "ending the stop-order probe child");
	for (;;) {
		if (waitpid(pid, &status, __WALL) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		if (WIFEXITED(status) || WIFSIGNALED(status))
			return;
	}
}

static int
watch_probe_child(pid_t pid)
{
	bool saw_gettid_stop = false;
	int status;

	for (;;) {
		unsigned int sig;
		int inject = 0;
		regs_t regs;

		if (waitpid(pid, &status, __WALL) < 0) {
			if (errno == EINTR)
				continue;
			return ORDER_NO_SECCOMP;
		}
		if (WIFEXITED(status) || WIFSIGNALED(status))
			return ORDER_NO_SECCOMP;
		sig = (unsigned int)status >> 8;
		if (sig == (SIGTRAP | (PTRACE_EVENT_SECCOMP << 8))) {
			kill_and_reap(pid);
			return saw_gettid_stop ? ORDER_SECCOMP_AFTER_ENTRY : ORDER_SECCOMP_BEFORE_ENTRY;
		}
		if (sig == (SIGTRAP | 0x80)) {
			if (regs_read(pid, &regs) == 0 && regs_syscall_nr(&regs) == arch_nr_gettid)
				saw_gettid_stop = true;
		} else if ((sig >> 8) == 0 && sig != SIGSTOP) {
			inject = (int)sig;
		}
		if (ptrace(PTRACE_SYSCALL, pid, 0, (void *)(long)inject) < 0 && errno != ESRCH) {
			kill_and_reap(pid);
			return ORDER_NO_SECCOMP;
		}
	}
}

int
probe_stop_order(void)
{
	int status, error;
	pid_t pid = fork();

	if (pid < 0)
		perror_msg_and_die(1, "fork for the stop-order probe");
	if (pid == 0)
		run_probe_child();
	if (waitpid(pid, &status, WUNTRACED) < 0 || !WIFSTOPPED(status))
		perror_msg_and_die(1, "the stop-order probe child did not stop");
	if (ptrace(PTRACE_SEIZE, pid, 0,
		   (void *)(long)(PTRACE_O_EXITKILL | PTRACE_O_TRACESECCOMP | PTRACE_O_TRACESYSGOOD)) < 0) {
		error = errno;
		kill_and_reap(pid);
		return -error;
	}
	if (kill(pid, SIGCONT) < 0)
		perror_msg_and_die(1, "resuming the stop-order probe child");
	return watch_probe_child(pid);
}
