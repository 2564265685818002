/* The seccomp-bpf filter that makes only our syscalls stop: everything else runs at native
 * speed, with no ptrace stop at all. */
#ifndef FILTER_H
#define FILTER_H

#include <stddef.h>  /* size_t */

/**
 * Installs, in the calling process, a filter returning SECCOMP_RET_TRACE for the @count
 * syscall numbers in @nrs (native architecture) and SECCOMP_RET_ALLOW for everything
 * else.  Returns -errno on failure, otherwise 0.
 */
int filter_install(const long *nrs, size_t count);

#endif
