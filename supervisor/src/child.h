#ifndef K3S_SANDBOX_SUPERVISE_CHILD_H
#define K3S_SANDBOX_SUPERVISE_CHILD_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

/* Forks and execs argv with stdout and stderr on output_fd and the given signal mask.
 * Returns the child's pid, or -1 with errno set when fork fails. An exec failure shows up
 * as exit 127 with the reason written to output_fd, like a shell's "command not found". */
pid_t child_spawn(char **argv, int output_fd, const sigset_t *mask);

/* "exit N" or "signal N" for a waitpid() status. */
void child_describe_exit(int wstatus, char *buf, size_t size);

#endif
