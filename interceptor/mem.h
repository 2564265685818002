/* Copying bytes between the tracer and a stopped tracee. */
#ifndef MEM_H
#define MEM_H

#include <stddef.h>     /* size_t */
#include <sys/types.h>  /* pid_t */

/**
 * Reads the NUL-terminated string at @addr of @tid into @buf (@size bytes).  Reads page by
 * page so that a string ending just before an unmapped page is still read.  Returns its
 * length, -ENAMETOOLONG when no NUL is found within @size, or another -errno.
 */
long mem_read_string(pid_t tid, unsigned long addr, char *buf, size_t size);

/* Reads exactly @len bytes.  Returns -errno on failure, otherwise 0. */
int mem_read(pid_t tid, unsigned long addr, void *buf, size_t len);

/* Writes exactly @len bytes.  Returns -errno on failure, otherwise 0. */
int mem_write(pid_t tid, unsigned long addr, const void *buf, size_t len);

#endif
