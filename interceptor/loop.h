/* The tracer's event loop: one waitpid(-1, __WALL) at a time, every kind of stop. */
#ifndef LOOP_H
#define LOOP_H

#include <stdbool.h>    /* bool */
#include <sys/types.h>  /* pid_t */

/**
 * Traces @main_pid and every descendant until @main_pid ends.  @use_seccomp false means
 * the PTRACE_SYSCALL fallback.  Returns the main program's wait status, or -1 when
 * memory is exhausted.
 */
int loop_run(pid_t main_pid, bool use_seccomp);

/* Kills the remaining tracees (the EXITKILL semantics, made explicit so that we can reap
 * them) and reaps everything until no child is left, so no zombie stays behind. */
void loop_finish(void);

#endif
