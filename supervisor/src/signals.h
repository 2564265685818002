#ifndef K3S_SANDBOX_SUPERVISE_SIGNALS_H
#define K3S_SANDBOX_SUPERVISE_SIGNALS_H

#include <signal.h>

/* Ignores SIGHUP and SIGPIPE, blocks SIGTERM, SIGINT and SIGCHLD and installs flag-setting
 * handlers for them. The blocked signals are only delivered inside ppoll() with
 * *wait_mask, so a stop request or child exit can never slip in between a check of the
 * flags and going to sleep. *child_mask is the mask a spawned child must restore.
 * Returns 0 or -1 with errno set. */
int signals_install(sigset_t *wait_mask, sigset_t *child_mask);

/* The first SIGTERM/SIGINT received (sticky), or 0. */
int signals_stop_requested(void);

/* Whether SIGCHLD arrived since the last call. */
int signals_take_child_event(void);

#endif
