/* Turning a path argument into the canonical absolute path it names, and deciding whether
 * a fake stands in for it. */
#ifndef PATH_H
#define PATH_H

#include <stddef.h>     /* size_t */
#include <sys/types.h>  /* pid_t */

#include "arch.h"       /* regs_t, struct syscall_desc */

/**
 * Lexically normalises the absolute path @in ("//", ".", "..") into @out (@size bytes).
 * Symlinks are not resolved.  Returns the length, or -ENAMETOOLONG.
 */
long path_normalize(const char *in, char *out, size_t size);

/**
 * Decides whether the path argument of syscall @sc, stopped in @tid with @regs, names a
 * fake.  @original receives the string as the program passed it and @target the fake
 * file to use instead (both PATH_MAX bytes).  Returns 1 when it does, 0 when it does not
 * (including unreadable or oversized strings, which the kernel will reject itself).
 */
int path_find_fake(pid_t tid, const struct syscall_desc *sc, const regs_t *regs,
		   char *original, char *target);

/**
 * Reads the path string at @addr of the stopped @tid into @out (PATH_MAX bytes), made
 * absolute against @tid's cwd; symlinks and ".." are left as they are.  Returns 0, or -1
 * when the string is unreadable, empty or too long, or the cwd cannot be read.
 */
int path_read_absolute(pid_t tid, unsigned long addr, char *out);

#endif
