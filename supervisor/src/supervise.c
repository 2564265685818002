#include "supervise.h"

#include "child.h"
#include "identity.h"
#include "pidfile.h"
#include "signals.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Reads per wakeup are bounded so a chatty child cannot starve signal handling. */
#define READS_PER_WAKEUP 16

static uint64_t now_ms(void)
{
	struct timespec ts;
	/* CLOCK_MONOTONIC cannot fail with a valid clock id; a wall-clock jump must not
	 * shorten the stop timeout or forgive crashes. */
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		abort();
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void publish(struct supervisor *sup, const char *state)
{
	sup->status.state = state;
	if (status_write(&sup->status) != 0)
		logsink_note(&sup->log, "error", "cannot write status file %s: %s", sup->status.path,
			     strerror(errno));
}

static void read_output(struct supervisor *sup)
{
	static char buf[65536];
	for (int i = 0; i < READS_PER_WAKEUP; i++) {
		ssize_t n = read(sup->output_read, buf, sizeof buf);
		if (n > 0) {
			logsink_child_output(&sup->log, buf, (size_t)n);
			continue;
		}
		/* The supervisor holds a write end itself, so EOF cannot happen; EAGAIN means drained. */
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			logsink_note(&sup->log, "error", "cannot read program output: %s", strerror(errno));
		return;
	}
}

static void reap(struct supervisor *sup)
{
	for (;;) {
		int wstatus;
		pid_t pid = waitpid(-1, &wstatus, WNOHANG);
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid <= 0)
			return; /* 0: nothing more to reap; ECHILD: no children at all */
		if (pid == sup->child) {
			sup->child = 0;
			sup->child_wstatus = wstatus;
		}
	}
}

/* Sleeps until output, a signal, or timeout_ms (-1: no timeout), then handles output and
 * child exits. Stop requests are left to the caller, which knows what state it is in. */
static void pump(struct supervisor *sup, int timeout_ms)
{
	struct pollfd pfd = { .fd = sup->output_read, .events = POLLIN };
	struct timespec ts = { timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L };
	int n = ppoll(&pfd, 1, timeout_ms < 0 ? NULL : &ts, &sup->wait_mask);
	if (n < 0 && errno != EINTR)
		logsink_note(&sup->log, "error", "ppoll failed: %s", strerror(errno));
	if (n > 0)
		read_output(sup);
	if (signals_take_child_event())
		reap(sup);
}

static int remaining_ms(uint64_t deadline)
{
	uint64_t now = now_ms();
	return deadline > now ? (int)(deadline - now) : 0;
}

static void send_signal(struct supervisor *sup, int sig, const char *name)
{
	/* kill() of our own unreaped child cannot hit a reused pid; it may only fail if
	 * the child just died, which the next reap reports. */
	if (kill(sup->child, sig) != 0)
		logsink_note(&sup->log, "warning", "cannot send %s to pid %ld: %s", name,
			     (long)sup->child, strerror(errno));
}

/* Waits for the running child to exit; returns whether that exit was requested. */
static int wait_for_child(struct supervisor *sup)
{
	int term_sent = 0, kill_sent = 0;
	uint64_t kill_deadline = 0;
	while (sup->child > 0) {
		int timeout = -1;
		if (signals_stop_requested() && !term_sent) {
			publish(sup, "stopping");
			logsink_note(&sup->log, "info", "stop requested (signal %d); sending SIGTERM to pid %ld",
				     signals_stop_requested(), (long)sup->child);
			/* Once only: k3s treats a second signal as "exit 1 immediately". */
			send_signal(sup, SIGTERM, "SIGTERM");
			term_sent = 1;
			kill_deadline = now_ms() + (uint64_t)sup->opts->stop_timeout_s * 1000u;
		}
		if (term_sent && !kill_sent) {
			timeout = remaining_ms(kill_deadline);
			if (timeout == 0) {
				logsink_note(&sup->log, "warning", "pid %ld still running %u s after SIGTERM; sending SIGKILL",
					     (long)sup->child, sup->opts->stop_timeout_s);
				send_signal(sup, SIGKILL, "SIGKILL");
				kill_sent = 1;
				timeout = -1;
			}
		}
		pump(sup, timeout);
	}
	/* A dead child's output is all in the pipe already; take it before judging the exit. */
	read_output(sup);
	return signals_stop_requested() != 0;
}

/* Records a crash and returns how many crashes fall inside the crash window. */
static unsigned record_crash(struct supervisor *sup)
{
	const unsigned slots = sup->opts->max_crashes + 1;
	uint64_t now = now_ms(), window = (uint64_t)sup->opts->crash_window_s * 1000u;
	sup->crash_times_ms[sup->crash_times_next] = now;
	sup->crash_times_next = (sup->crash_times_next + 1) % slots;
	if (sup->crash_times_used < slots)
		sup->crash_times_used++;
	unsigned recent = 0;
	for (unsigned i = 0; i < sup->crash_times_used; i++)
		if (now - sup->crash_times_ms[i] < window)
			recent++;
	return recent;
}

/* Doubling per recent crash means a child that has run quietly for a whole crash
 * window is restarted quickly again, without a separate reset timer. */
static unsigned backoff_for(const struct options *o, unsigned recent_crashes)
{
	uint64_t delay = o->backoff_initial_ms;
	for (unsigned i = 1; i < recent_crashes && delay < o->backoff_max_ms; i++)
		delay *= 2;
	return delay > o->backoff_max_ms ? o->backoff_max_ms : (unsigned)delay;
}

/* Returns whether a stop was requested while waiting. */
static int wait_backoff(struct supervisor *sup, unsigned delay_ms)
{
	uint64_t deadline = now_ms() + delay_ms;
	while (!signals_stop_requested()) {
		int timeout = remaining_ms(deadline);
		if (timeout == 0)
			return 0;
		pump(sup, timeout);
	}
	return 1;
}

static int spawn(struct supervisor *sup)
{
	logsink_forget_lines(&sup->log);
	pid_t pid = child_spawn(sup->opts->program_argv, sup->output_write, &sup->child_mask);
	if (pid < 0) {
		snprintf(sup->status.last_fatal, sizeof sup->status.last_fatal, "cannot fork: %s",
			 strerror(errno));
		snprintf(sup->status.last_exit, sizeof sup->status.last_exit, "not started");
		logsink_note(&sup->log, "error", "%s", sup->status.last_fatal);
		return -1;
	}
	sup->child = pid;
	sup->status.child_pid = pid;
	/* Our unreaped child keeps its pid, so this reads its own start time, not a successor's. */
	if (identity_start_time(pid, &sup->status.child_start_time) != 0) {
		sup->status.child_start_time = 0;
		logsink_note(&sup->log, "warning", "cannot read the start time of pid %ld: %s; `down` will not signal it once we are gone",
			     (long)pid, strerror(errno));
	}
	sup->status.starts++;
	sup->status.backoff_ms = 0;
	logsink_note(&sup->log, "info", "started %s as pid %ld (start %u)", sup->opts->program_argv[0],
		     (long)pid, sup->status.starts);
	publish(sup, "running");
	return 0;
}

static void record_exit(struct supervisor *sup, int requested)
{
	const char *line = logsink_exit_line(&sup->log);
	child_describe_exit(sup->child_wstatus, sup->status.last_exit, sizeof sup->status.last_exit);
	snprintf(sup->status.last_fatal, sizeof sup->status.last_fatal, "%s", line ? line : "");
	logsink_note(&sup->log, requested ? "info" : "warning", "pid %ld exited (%s)%s",
		     (long)sup->status.child_pid, sup->status.last_exit, requested ? " as requested" : "");
	sup->status.child_pid = 0;
	sup->status.child_start_time = 0;
}

static int finish(struct supervisor *sup, const char *state, int exit_code)
{
	sup->status.backoff_ms = 0;
	publish(sup, state);
	pidfile_remove_if_self(sup->opts->pidfile_path);
	return exit_code;
}

int supervise_prepare(struct supervisor *sup)
{
	int fds[2];
	/* The read end is non-blocking so draining never hangs. The write end stays open
	 * here for the supervisor's lifetime: output of processes that outlive one k3s
	 * still reaches the log instead of failing with EPIPE. */
	sup->crash_times_ms = calloc(sup->opts->max_crashes + 1u, sizeof *sup->crash_times_ms);
	if (sup->crash_times_ms == NULL || pipe2(fds, O_CLOEXEC) != 0)
		return -1;
	int flags = fcntl(fds[0], F_GETFL);
	if (flags < 0 || fcntl(fds[0], F_SETFL, flags | O_NONBLOCK) != 0) {
		int saved = errno;
		(void)close(fds[0]); /* already failing */
		(void)close(fds[1]);
		errno = saved;
		return -1;
	}
	sup->output_read = fds[0];
	sup->output_write = fds[1];
	return 0;
}

int supervise_run(struct supervisor *sup)
{
	const struct options *o = sup->opts;
	for (;;) {
		if (signals_stop_requested())
			return finish(sup, "stopped", EXIT_STOPPED);
		if (spawn(sup) == 0) {
			int requested = wait_for_child(sup);
			record_exit(sup, requested);
			if (requested)
				return finish(sup, "stopped", EXIT_STOPPED);
		}
		sup->status.crashes++;
		unsigned recent = record_crash(sup);
		if (recent > o->max_crashes) {
			logsink_note(&sup->log, "error", "crash loop: %u crashes within %u s (limit %u); giving up",
				     recent, o->crash_window_s, o->max_crashes);
			return finish(sup, "crashloop", EXIT_CRASHLOOP);
		}
		sup->status.backoff_ms = backoff_for(o, recent);
		logsink_note(&sup->log, "info", "restarting in %u ms", sup->status.backoff_ms);
		publish(sup, "backoff");
		if (wait_backoff(sup, sup->status.backoff_ms))
			return finish(sup, "stopped", EXIT_STOPPED);
	}
}
