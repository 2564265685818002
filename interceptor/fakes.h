/* The set of faked paths, loaded once from the fake root so that deciding "is this ours"
 * needs no syscall. */
#ifndef FAKES_H
#define FAKES_H

#include <stdbool.h>  /* bool */
#include <stddef.h>   /* size_t */

/**
 * Walks @root (an absolute, canonical directory) and records every regular file under it
 * as the absolute path it stands in for.  Returns -errno on failure (with the failing
 * path in @failed_path, PATH_MAX bytes), otherwise the number of fakes.
 */
long fakes_load(const char *root, char *failed_path);

/* The fake root given to fakes_load. */
const char *fakes_root(void);

/* True when the canonical absolute @path has a fake. */
bool fakes_contains(const char *path, size_t len);

/* True when some fake's last component is @name[0..@len): a cheap pre-check that spares
 * the readlink of the cwd for relative paths that cannot match. */
bool fakes_has_basename(const char *name, size_t len);

/* True when the canonical absolute @path is a directory that holds fakes. */
bool fakes_has_dir(const char *path, size_t len);

#endif
