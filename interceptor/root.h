/* Container detection: a process whose root directory is not ours (after chroot or
 * pivot_root, e.g. runc init) gets no redirects, because the fake paths mean nothing there. */
#ifndef ROOT_H
#define ROOT_H

#include <stdbool.h>    /* bool */
#include <sys/types.h>  /* pid_t */

/* Remembers the interceptor's own root.  Returns -errno on failure, otherwise 0. */
int root_init(void);

/* True when @tid's root directory is the interceptor's.  Costs one stat, and is asked only
 * when a path already matched a fake. */
bool root_is_ours(pid_t tid);

#endif
