#ifndef K3S_SANDBOX_SUPERVISE_PIDFILE_H
#define K3S_SANDBOX_SUPERVISE_PIDFILE_H

#include <sys/types.h>

/* Returns the pid of a live supervisor named by the pidfile, 0 when the pidfile is
 * absent or stale (dead pid, pid reused by another program, garbage content), or -1 with
 * errno set when the pidfile cannot be read at all. */
pid_t pidfile_live_supervisor(const char *path);

/* Returns 0 or -1 with errno set. */
int pidfile_write_self(const char *path);

/* Removes the pidfile only while it still names this process, so a supervisor that
 * was replaced by a newer one never deletes its successor's pidfile. */
void pidfile_remove_if_self(const char *path);

#endif
