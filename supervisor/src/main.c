/* k3s-sandbox-supervise: keeps k3s running after the Node bootstrapper has exited.
 * See ../README.md for the contract with the bootstrapper. */
#include "identity.h"
#include "logsink.h"
#include "options.h"
#include "pidfile.h"
#include "signals.h"
#include "status.h"
#include "supervise.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define PROG "k3s-sandbox-supervise"

static int fail(int code, const char *what, const char *path)
{
	fprintf(stderr, PROG ": %s%s%s: %s\n", what, path[0] ? " " : "", path, strerror(errno));
	return code;
}

/* A pidfile naming a supervisor that never ran anything would make the next start
 * look "already running" to the bootstrapper until the pid is reused. */
static int abandon(const struct options *opts, int code, const char *what, const char *path)
{
	int saved = errno;
	pidfile_remove_if_self(opts->pidfile_path);
	errno = saved;
	return fail(code, what, path);
}

/* Points fd at /dev/null so the supervisor neither reads the caller's terminal nor keeps
 * the caller's pipes open (a caller reading our stderr to EOF must not wait forever). */
static int redirect_to_dev_null(int fd, int flags)
{
	int null_fd = open("/dev/null", flags | O_CLOEXEC);
	if (null_fd < 0)
		return -1;
	if (dup2(null_fd, fd) < 0) {
		int saved = errno;
		(void)close(null_fd); /* dup2's error is the one to report */
		errno = saved;
		return -1;
	}
	return close(null_fd);
}

/* The caller starts us with setsid already; doing it again covers callers that do not,
 * so a terminal hangup or the caller's process group being killed cannot reach k3s.
 * EPERM means we already lead a process group (a job-control shell made one for us),
 * which the caller's own group being killed cannot reach, so staying in it is safe. */
static int become_session_leader(void)
{
	if (getsid(0) == getpid())
		return 0;
	if (setsid() < 0 && errno != EPERM)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	static struct supervisor sup;
	struct options opts;

	int rc = options_parse(argc, argv, &opts);
	if (rc != OPTIONS_PARSED)
		return rc;
	if (signals_install(&sup.wait_mask, &sup.child_mask) != 0)
		return fail(1, "cannot install signal handlers", "");
	if (redirect_to_dev_null(STDIN_FILENO, O_RDONLY) != 0)
		return fail(1, "cannot redirect stdin to", "/dev/null");
	if (become_session_leader() != 0)
		return fail(1, "cannot create a new session", "");

	pid_t other = pidfile_live_supervisor(opts.pidfile_path);
	if (other < 0)
		return fail(EXIT_USAGE, "cannot read pidfile", opts.pidfile_path);
	if (other > 0) {
		fprintf(stderr, PROG ": already running as pid %ld (pidfile %s); stop it first\n", (long)other,
			opts.pidfile_path);
		return EXIT_ALREADY_RUNNING;
	}

	sup.opts = &opts;
	/* "its directory must exist" is the remedy for ENOENT alone: EROFS, ENOSPC or EACCES say what they are. */
	if (logsink_open(&sup.log, opts.log_path, opts.log_max_bytes, opts.log_keep) != 0)
		return fail(EXIT_USAGE, errno == ENOENT ? "cannot open log file (its directory must exist)" : "cannot open log file",
			    opts.log_path);
	if (pidfile_write_self(opts.pidfile_path) != 0)
		return fail(EXIT_USAGE, errno == ENOENT ? "cannot write pidfile (its directory must exist)" : "cannot write pidfile",
			    opts.pidfile_path);
	sup.status.path = opts.status_path;
	sup.status.supervisor_pid = getpid();
	/* Without these the bootstrapper could not tell us from a later process with our pid,
	 * so it would never stop us: refuse to start instead. */
	if (identity_start_time(getpid(), &sup.status.supervisor_start_time) != 0)
		return abandon(&opts, 1, "cannot read own start time from", "/proc/self/stat");
	if (identity_boot_id(sup.status.boot_id, sizeof sup.status.boot_id) != 0)
		return abandon(&opts, 1, "cannot read the boot id from /proc/sys/kernel/random/boot_id or", "/proc/stat");
	sup.status.state = "starting";
	if (status_write(&sup.status) != 0)
		return abandon(&opts, EXIT_USAGE,
			       errno == ENOENT ? "cannot write status file (its directory must exist)" : "cannot write status file",
			       opts.status_path);
	if (supervise_prepare(&sup) != 0)
		return abandon(&opts, 1, "cannot set up supervision", "");

	/* From here on everything is reported in the log and the status file. */
	if (redirect_to_dev_null(STDOUT_FILENO, O_WRONLY) != 0 || redirect_to_dev_null(STDERR_FILENO, O_WRONLY) != 0)
		logsink_note(&sup.log, "warning", "cannot detach stdout/stderr: %s", strerror(errno));
	return supervise_run(&sup);
}
