/* Signal forwarding and exit mirroring (see signals.h). */
#include "signals.h"
#include "note.h"

#include <stdlib.h>        /* exit */
#include <sys/resource.h>  /* setrlimit, RLIMIT_CORE */
#include <sys/wait.h>      /* WIFEXITED, ... */

static const int forwarded[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
static volatile sig_atomic_t target_pid;

static void
forward(int sig, siginfo_t *info, void *context)
{
	(void)context;
	/* Only signals a process sent (kill, sigqueue).  A terminal's ^C or ^\ already reached
	 * the program through its process group; forwarding it would deliver it twice. */
	if (info->si_code != SI_USER && info->si_code != SI_QUEUE)
		return;
	/* ESRCH: the program is already gone and its exit report is on its way. */
	if (target_pid > 0)
		(void)kill(target_pid, sig);
}

void
signals_hold(sigset_t *old_mask)
{
	sigset_t set;

	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(&set, forwarded[i]);
	if (sigprocmask(SIG_BLOCK, &set, old_mask) < 0)
		perror_msg_and_die(1, "sigprocmask");
}

void
forward_signals_to(pid_t pid, const sigset_t *old_mask)
{
	struct sigaction action = { 0 };

	target_pid = pid;
	action.sa_sigaction = forward;
	action.sa_flags = SA_SIGINFO | SA_RESTART;
	sigfillset(&action.sa_mask);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		if (sigaction(forwarded[i], &action, NULL) < 0)
			perror_msg_and_die(1, "sigaction %d", forwarded[i]);
	/* A background tracer must not be stopped by terminal I/O (strace does the same), nor
	 * killed by a closed log pipe: its death would take every tracee with it (EXITKILL).
	 * The program keeps its own dispositions: it was forked before this. */
	if (signal(SIGTTOU, SIG_IGN) == SIG_ERR || signal(SIGTTIN, SIG_IGN) == SIG_ERR
	    || signal(SIGPIPE, SIG_IGN) == SIG_ERR || sigprocmask(SIG_SETMASK, old_mask, NULL) < 0)
		perror_msg_and_die(1, "setting up the tracer's signals");
}

void
exit_like(int status)
{
	struct rlimit no_core = { 0, 0 };
	sigset_t set;
	int sig;

	if (WIFEXITED(status))
		exit(WEXITSTATUS(status));
	sig = WTERMSIG(status);
	/* Don't let our own core dump overwrite the program's (strace terminate()). */
	if (setrlimit(RLIMIT_CORE, &no_core) < 0)
		perror_msg("disabling our core dump");
	sigemptyset(&set);
	sigaddset(&set, sig);
	/* SIGKILL's disposition cannot be changed (EINVAL) and is always the default. */
	if (sig != SIGKILL && signal(sig, SIG_DFL) == SIG_ERR)
		perror_msg("resetting signal %d", sig);
	if (sigprocmask(SIG_UNBLOCK, &set, NULL) < 0)
		perror_msg("unblocking signal %d", sig);
	raise(sig);
	/* Still alive (an ignored or unraisable signal): the shell's way of saying the same. */
	exit(128 + sig);
}
