#ifndef K3S_SANDBOX_SUPERVISE_STATUS_H
#define K3S_SANDBOX_SUPERVISE_STATUS_H

#include "identity.h"
#include "logsink.h"

#include <sys/types.h>

/* What the bootstrapper's `status` reads; field names are part of the contract. */
struct status {
	const char *path;
	const char *state; /* starting, running, backoff, crashloop, stopping, stopped */
	pid_t supervisor_pid;
	unsigned long long supervisor_start_time; /* with boot_id: see identity.h */
	char boot_id[BOOT_ID_MAX];
	pid_t child_pid;   /* 0 when no child is running: written as null */
	unsigned long long child_start_time; /* 0 when unknown: written as null */
	unsigned starts;
	unsigned crashes;
	unsigned backoff_ms; /* delay before the next start while in backoff, else 0 */
	char last_exit[32];  /* "exit N" or "signal N"; empty before the first exit: null */
	char last_fatal[LOGSINK_LINE_KEEP + 1]; /* empty: null */
};

/* Atomically replaces the status file. Returns 0 or -1 with errno set. */
int status_write(const struct status *st);

#endif
