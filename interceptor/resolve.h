/* Walking a path's directories the way the kernel does, for the rare path whose ".." could
 * climb out of a symlink's target: there a lexical answer may name another file. */
#ifndef RESOLVE_H
#define RESOLVE_H

#include <stdbool.h>    /* bool */
#include <stddef.h>     /* size_t */
#include <sys/types.h>  /* pid_t */

/* The kernel's MAXSYMLINKS: the symlinks one lookup may follow. */
#define RESOLVE_MAX_SYMLINKS 40

/* True when @path has a ".." component: only then can the lexical and the kernel's answer differ. */
bool path_has_dotdot(const char *path);

/**
 * Resolves @path (absolute, or relative to the canonical absolute directory @base) into
 * the canonical absolute path the kernel reaches, in @out (@size bytes).  Every component
 * but the last is looked up with lstat: a symlink is followed (its ".." then climbs from
 * its target), a missing directory fails, except one that holds fakes (a /proc/sys
 * directory gVisor lacks), and "/proc/self" and "/proc/thread-self" mean @tid's.  The last
 * component is appended as it is: whether it is followed is the syscall's business.
 * Returns the length, or -errno where the kernel would fail (ENOENT, ENOTDIR, ELOOP) or
 * the walk cannot tell (ENAMETOOLONG, EINVAL for a magic link that names no path).
 */
long resolve_path(pid_t tid, const char *base, const char *path, char *out, size_t size);

#endif
