#include "signals.h"

#include <stddef.h>

static volatile sig_atomic_t stop_signal;
static volatile sig_atomic_t child_event;

static void on_stop(int sig)
{
	if (stop_signal == 0)
		stop_signal = sig;
}

static void on_child(int sig)
{
	(void)sig;
	child_event = 1;
}

static int handle(int sig, void (*handler)(int))
{
	struct sigaction sa = { 0 };
	sa.sa_handler = handler;
	/* SA_RESTART would let ppoll() sleep on after the flag was set. */
	sa.sa_flags = handler == on_child ? SA_NOCLDSTOP : 0;
	if (sigemptyset(&sa.sa_mask) != 0)
		return -1;
	return sigaction(sig, &sa, NULL);
}

int signals_install(sigset_t *wait_mask, sigset_t *child_mask)
{
	sigset_t block;
	if (sigemptyset(&block) != 0 || sigaddset(&block, SIGTERM) != 0 ||
	    sigaddset(&block, SIGINT) != 0 || sigaddset(&block, SIGCHLD) != 0)
		return -1;
	if (sigprocmask(SIG_BLOCK, &block, child_mask) != 0)
		return -1;
	*wait_mask = *child_mask;
	if (sigdelset(wait_mask, SIGTERM) != 0 || sigdelset(wait_mask, SIGINT) != 0 ||
	    sigdelset(wait_mask, SIGCHLD) != 0)
		return -1;
	/* SIGHUP: the caller's terminal or session going away must not stop k3s.
	 * SIGPIPE: the caller may have handed us a pipe as stderr and exited. */
	if (handle(SIGHUP, SIG_IGN) != 0 || handle(SIGPIPE, SIG_IGN) != 0)
		return -1;
	if (handle(SIGTERM, on_stop) != 0 || handle(SIGINT, on_stop) != 0 ||
	    handle(SIGCHLD, on_child) != 0)
		return -1;
	return 0;
}

int signals_stop_requested(void)
{
	return stop_signal;
}

int signals_take_child_event(void)
{
	int seen = child_event;
	child_event = 0;
	return seen;
}
