/* k3s-sandbox-intercept: runs PROGRAM so that path syscalls naming a file that exists
 * under --fake-root DIR use that file instead.  See README.md for the design. */
#include "fakes.h"
#include "launch.h"
#include "loop.h"
#include "mountfake.h"
#include "note.h"
#include "probe.h"
#include "redirect.h"
#include "root.h"
#include "signals.h"
#include "stats.h"

#include <errno.h>       /* errno */
#include <getopt.h>      /* getopt_long */
#include <limits.h>      /* PATH_MAX */
#include <stdbool.h>     /* bool */
#include <stdio.h>       /* dprintf */
#include <stdlib.h>      /* realpath, getenv, exit */
#include <string.h>      /* strcmp */
#include <sys/prctl.h>   /* prctl, PR_SET_CHILD_SUBREAPER */
#include <sys/stat.h>    /* stat */
#include <unistd.h>      /* access */

#define EXIT_USAGE 2
#define EXIT_NO_PROGRAM 127

struct options {
	const char *fake_root;
	const char *log_path;
	bool verbose;
	bool stats;
	const char *stats_file;
	bool statfs_spoof;
	bool fake_propagation;
	bool rbind_as_bind;
	char **program;
};

static void
print_usage(int fd)
{
	dprintf(fd,
		"usage: " PROGRAM_NAME " --fake-root DIR [--log FILE] [-v] [--stats] [--stats-file FILE] [--statfs-spoof]"
		" [--fake-propagation] [--rbind-as-bind] -- PROGRAM [ARGS...]\n"
		"  --fake-root DIR  a regular file DIR/P stands in for path P (reads and writes)\n"
		"  --log FILE       append one line per redirect to FILE\n"
		"  -v, --verbose    print one line per redirect on stderr\n"
		"  --stats          print stop, redirect and per-syscall counts at exit\n"
		"  --stats-file FILE  keep the same counts in FILE, rewritten once a second while tracing\n"
		"  --statfs-spoof   make statfs/fstatfs report ext4 (0xEF53) where they see 9p\n"
		"  --fake-propagation  answer 0 to a mount propagation change the kernel refuses (EINVAL)\n"
		"  --rbind-as-bind  do a recursive bind the kernel refuses (EINVAL) as a plain bind\n"
		"  (with a mount fake and no --fake-root, only mount(2) is traced)\n"
		"environment: K3S_SANDBOX_INTERCEPT_NO_SECCOMP=1 forces the PTRACE_SYSCALL fallback;\n"
		"  K3S_SANDBOX_INTERCEPT_STATS_FILE=FILE is --stats-file FILE when that is not given\n");
}

static _Noreturn void
die_usage(const char *fmt, const char *arg)
{
	dprintf(STDERR_FILENO, PROGRAM_NAME ": ");
	dprintf(STDERR_FILENO, fmt, arg);
	dprintf(STDERR_FILENO, "\n");
	print_usage(STDERR_FILENO);
	exit(EXIT_USAGE);
}

static struct options
parse_options(int argc, char **argv)
{
	enum { OPT_FAKE_ROOT = 256, OPT_LOG, OPT_STATS, OPT_STATS_FILE, OPT_STATFS_SPOOF, OPT_FAKE_PROPAGATION, OPT_RBIND_AS_BIND };
	static const struct option longopts[] = {
		{ "fake-root", required_argument, NULL, OPT_FAKE_ROOT },
		{ "log", required_argument, NULL, OPT_LOG },
		{ "verbose", no_argument, NULL, 'v' },
		{ "stats", no_argument, NULL, OPT_STATS },
		{ "stats-file", required_argument, NULL, OPT_STATS_FILE },
		{ "statfs-spoof", no_argument, NULL, OPT_STATFS_SPOOF },
		{ "fake-propagation", no_argument, NULL, OPT_FAKE_PROPAGATION },
		{ "rbind-as-bind", no_argument, NULL, OPT_RBIND_AS_BIND },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct options opts = { 0 };
	int c;

	opterr = 0;
	/* "+": stop at PROGRAM, whose own options are not ours; ":": report a missing argument. */
	while ((c = getopt_long(argc, argv, "+:vh", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_FAKE_ROOT: opts.fake_root = optarg; break;
		case OPT_LOG: opts.log_path = optarg; break;
		case 'v': opts.verbose = true; break;
		case OPT_STATS: opts.stats = true; break;
		case OPT_STATS_FILE: opts.stats_file = optarg; break;
		case OPT_STATFS_SPOOF: opts.statfs_spoof = true; break;
		case OPT_FAKE_PROPAGATION: opts.fake_propagation = true; break;
		case OPT_RBIND_AS_BIND: opts.rbind_as_bind = true; break;
		case 'h': print_usage(STDOUT_FILENO); exit(0);
		case ':': die_usage("option %s needs an argument", argv[optind - 1]);
		default: die_usage("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (opts.fake_root == NULL && !opts.fake_propagation && !opts.rbind_as_bind)
		die_usage("%s", "--fake-root DIR is required (unless --fake-propagation or --rbind-as-bind is given)");
	if (optind >= argc) {
		dprintf(STDERR_FILENO, PROGRAM_NAME ": missing PROGRAM after the options\n");
		print_usage(STDERR_FILENO);
		exit(EXIT_NO_PROGRAM);
	}
	opts.program = argv + optind;
	/* How bench/real-node asks it of the interceptor that `k3s-sandbox up` starts. */
	if (opts.stats_file == NULL)
		opts.stats_file = getenv("K3S_SANDBOX_INTERCEPT_STATS_FILE");
	return opts;
}

/* Resolves and loads the fake root; any problem is fatal with the path and what is allowed. */
static void
load_fake_root(const char *arg, char *canonical)
{
	char failed[PATH_MAX];
	struct stat st;
	long count;

	if (realpath(arg, canonical) == NULL)
		perror_msg_and_die(EXIT_USAGE, "--fake-root '%s' (expected an existing readable directory)", arg);
	if (stat(canonical, &st) < 0 || !S_ISDIR(st.st_mode))
		error_msg_and_die(EXIT_USAGE, "--fake-root '%s' is not a directory (expected an existing "
				  "readable directory)", arg);
	if (strcmp(canonical, "/") == 0)
		error_msg_and_die(EXIT_USAGE, "--fake-root '%s' is '/': every file would fake itself "
				  "(expected a directory holding only the fakes)", arg);
	if (access(canonical, R_OK | X_OK) < 0)
		perror_msg_and_die(EXIT_USAGE, "--fake-root '%s' is not readable (expected an existing "
				   "readable directory)", arg);
	count = fakes_load(canonical, failed);
	if (count < 0) {
		errno = (int)-count;
		perror_msg_and_die(EXIT_USAGE, "--fake-root '%s': cannot read '%s'", arg, failed);
	}
}

static bool
seccomp_disabled_by_environment(void)
{
	const char *value = getenv("K3S_SANDBOX_INTERCEPT_NO_SECCOMP");

	return value != NULL && strcmp(value, "1") == 0;
}

static enum stop_order
choose_stop_order(void)
{
	int order = probe_stop_order();

	if (order < 0) {
		/* launch_traced reports a refused ptrace with its remedy. */
		return ORDER_NO_SECCOMP;
	}
	if (seccomp_disabled_by_environment()) {
		error_msg("K3S_SANDBOX_INTERCEPT_NO_SECCOMP=1: using PTRACE_SYSCALL, "
			  "every syscall of every thread stops twice");
		return ORDER_NO_SECCOMP;
	}
	if (order == ORDER_NO_SECCOMP)
		error_msg("seccomp filters are unavailable: falling back to PTRACE_SYSCALL, "
			  "every syscall of every thread stops twice");
	return (enum stop_order)order;
}

/* Nothing to trace here (the kernel does every mount asked for): become PROGRAM, so it runs
 * at full speed with the same pid. */
static _Noreturn void
run_untraced(char **program)
{
	int error;

	redirect_log_note("the kernel refuses none of the faked mounts: running %s untraced", program[0]);
	execvp(program[0], program);
	error = errno;
	perror_msg("cannot run PROGRAM '%s'", program[0]);
	exit(error == ENOENT || error == ENOTDIR ? EXIT_NO_PROGRAM : 126);
}

int
main(int argc, char **argv)
{
	static char fake_root[PATH_MAX];
	struct options opts = parse_options(argc, argv);
	enum stop_order order;
	sigset_t original_mask;
	long nrs[32];
	size_t count;
	pid_t pid;
	int ret, status;

	if (opts.fake_root != NULL)
		load_fake_root(opts.fake_root, fake_root);
	ret = redirect_log_open(opts.log_path, opts.verbose);
	if (ret < 0) {
		errno = -ret;
		perror_msg_and_die(EXIT_USAGE, "--log '%s' (expected a writable file path)", opts.log_path);
	}
	if (root_init() < 0)
		perror_msg_and_die(1, "stat /");
	if (opts.fake_propagation || opts.rbind_as_bind)
		mount_fakes_init(opts.fake_propagation, opts.rbind_as_bind, mount_probe_refusals());
	redirect_init(ORDER_NO_SECCOMP, opts.fake_root != NULL, opts.statfs_spoof);
	count = redirect_traced_syscalls(nrs);
	if (count == 0)
		run_untraced(opts.program);
	if (opts.stats_file != NULL && (ret = stats_file_init(opts.stats_file)) < 0) {
		errno = -ret;
		perror_msg_and_die(EXIT_USAGE, "--stats-file '%s' (expected a writable file path)", opts.stats_file);
	}
	order = choose_stop_order();
	redirect_init(order, opts.fake_root != NULL, opts.statfs_spoof);
	/* Orphaned descendants are re-parented to us, so we reap them and leave no zombie.
	 * gVisor (EINVAL) re-parents them to the sandbox's init instead, which reaps them. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0 && errno != EINVAL)
		perror_msg("PR_SET_CHILD_SUBREAPER (orphans will be reaped by init instead)");
	signals_hold(&original_mask);
	pid = launch_traced(opts.program, order == ORDER_NO_SECCOMP ? NULL : nrs, count, &original_mask);
	forward_signals_to(pid, &original_mask);
	status = loop_run(pid, order != ORDER_NO_SECCOMP);
	loop_finish();
	stats_file_update(true);
	if (opts.stats)
		stats_print();
	if (status < 0)
		error_msg_and_die(1, "out of memory while tracing");
	exit_like(status);
}
