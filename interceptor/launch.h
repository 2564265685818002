/* Starting the program under ptrace, with the seccomp filter installed before its exec. */
#ifndef LAUNCH_H
#define LAUNCH_H

#include <signal.h>     /* sigset_t */
#include <stdbool.h>    /* bool */
#include <stddef.h>     /* size_t */
#include <sys/types.h>  /* pid_t */

/* The options every tracee carries; auto-attached children inherit them. */
#define TRACE_OPTIONS (PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACESECCOMP \
		       | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE \
		       | PTRACE_O_TRACEEXEC)

/**
 * Forks, seizes the child and lets it exec @argv.  With @nrs (@count numbers) the child
 * first installs the filter tracing those syscalls; with NULL it runs unfiltered (the
 * PTRACE_SYSCALL fallback).  The child gets @child_mask as its signal mask.  Returns the
 * child's pid; on failure, prints why and exits.
 */
pid_t launch_traced(char **argv, const long *nrs, size_t count, const sigset_t *child_mask);

#endif
