#ifndef K3S_SANDBOX_SUPERVISE_SUPERVISE_H
#define K3S_SANDBOX_SUPERVISE_SUPERVISE_H

#include "logsink.h"
#include "options.h"
#include "status.h"

#include <signal.h>
#include <stdint.h>

struct supervisor {
	const struct options *opts;
	struct logsink log;
	struct status status;
	sigset_t wait_mask;
	sigset_t child_mask;
	int output_read;  /* one pipe for the supervisor's lifetime: see supervise_run() */
	int output_write;
	pid_t child;
	int child_wstatus;
	uint64_t *crash_times_ms; /* ring of the last max_crashes + 1 crash times */
	unsigned crash_times_used;
	unsigned crash_times_next;
};

/* Allocates the crash history and the output pipe. Returns 0 or -1 with errno set. */
int supervise_prepare(struct supervisor *sup);

/* Runs and restarts the program until a stop request or a crash loop.
 * Returns the supervisor's exit code (EXIT_STOPPED or EXIT_CRASHLOOP). */
int supervise_run(struct supervisor *sup);

#endif
