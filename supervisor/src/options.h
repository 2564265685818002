#ifndef K3S_SANDBOX_SUPERVISE_OPTIONS_H
#define K3S_SANDBOX_SUPERVISE_OPTIONS_H

#include <stdint.h>

struct options {
	const char *log_path;
	const char *status_path;
	const char *pidfile_path;
	uint64_t log_max_bytes;
	unsigned log_keep;
	unsigned max_crashes;
	unsigned crash_window_s;
	unsigned backoff_initial_ms;
	unsigned backoff_max_ms;
	unsigned stop_timeout_s;
	char **program_argv; /* NULL-terminated, points into the caller's argv */
};

/* Exit codes are part of the contract with the TypeScript bootstrapper. */
enum {
	EXIT_STOPPED = 0,
	EXIT_USAGE = 2,
	EXIT_ALREADY_RUNNING = 3,
	EXIT_CRASHLOOP = 4,
};

#define OPTIONS_PARSED (-1)

/* Returns OPTIONS_PARSED when opts is complete; otherwise it has already printed why
 * (plus usage) and returns the exit code to use: EXIT_USAGE, or EXIT_STOPPED for --help. */
int options_parse(int argc, char **argv, struct options *opts);

#endif
