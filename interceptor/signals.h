/* The interceptor's own signals: forwarding to the program, and dying like it did. */
#ifndef SIGNALS_H
#define SIGNALS_H

#include <signal.h>     /* sigset_t */
#include <sys/types.h>  /* pid_t */

/* Blocks the forwarded signals until forward_signals_to runs; stores the previous mask in
 * @old_mask (the program must get that one back). */
void signals_hold(sigset_t *old_mask);

/* From now on SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 sent to us go to @pid.
 * Restores @old_mask, so signals that arrived while held are forwarded now. */
void forward_signals_to(pid_t pid, const sigset_t *old_mask);

/* Exits with the same code as the wait status @status, or dies by the same signal. */
_Noreturn void exit_like(int status);

#endif
