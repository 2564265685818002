#ifndef K3S_SANDBOX_SUPERVISE_LOGSINK_H
#define K3S_SANDBOX_SUPERVISE_LOGSINK_H

#include <stddef.h>
#include <stdint.h>

/* The status file promises lines of at most this many bytes. */
#define LOGSINK_LINE_KEEP 1000

struct kept_line {
	char text[LOGSINK_LINE_KEEP + 1];
	size_t len;
	int truncated;
};

struct logsink {
	const char *path;
	int fd;
	uint64_t size;
	uint64_t max_bytes;
	unsigned keep;
	int at_line_start;
	struct kept_line current;
	struct kept_line last_line;
	struct kept_line last_fatal;
};

/* Returns 0 or -1 with errno set (a missing directory is the caller's mistake). */
int logsink_open(struct logsink *s, const char *path, uint64_t max_bytes, unsigned keep);

/* Appends the child's bytes to the log, rotating as needed, and remembers its lines. */
void logsink_child_output(struct logsink *s, const char *buf, size_t len);

/* Appends one supervisor event line in the logrus format k3s itself uses. */
void logsink_note(struct logsink *s, const char *level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Forgets the previous child's lines so its successor's exit is explained by its own. */
void logsink_forget_lines(struct logsink *s);

/* The line that best explains the child's exit: its last fatal line, else its last
 * line, else NULL. Treats a pending unterminated line as complete. */
const char *logsink_exit_line(struct logsink *s);

#endif
