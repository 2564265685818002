#ifndef K3S_SANDBOX_SUPERVISE_ATOMIC_FILE_H
#define K3S_SANDBOX_SUPERVISE_ATOMIC_FILE_H

#include <stddef.h>
#include <sys/types.h>

/* Writes all of buf, retrying short writes and EINTR. Returns 0 or -1 with errno set. */
int write_all(int fd, const char *buf, size_t len);

/* Replaces path with content via a temp file in the same directory and rename(2), so a
 * reader (the bootstrapper's `status`) never sees a half-written file.
 * Returns 0 or -1 with errno set; the temp file is removed on failure. */
int replace_file_atomically(const char *path, const char *content, size_t len, mode_t mode);

/* Reads up to size - 1 bytes of a small file (a pidfile, a /proc entry) and NUL-terminates them.
 * Returns the length read, or -1 with errno set. */
ssize_t read_small_file(const char *path, char *buf, size_t size);

#endif
