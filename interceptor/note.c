/* Diagnostics and the redirect log (see note.h). */
#include "note.h"

#include <errno.h>      /* errno */
#include <fcntl.h>      /* open, O_* */
#include <stdarg.h>     /* va_list */
#include <stdio.h>      /* vsnprintf, dprintf */
#include <stdlib.h>     /* exit */
#include <string.h>     /* strerror */
#include <unistd.h>     /* write, STDERR_FILENO */

static int log_fd = -1;
static bool log_to_stderr;

static void
vmessage(const char *fmt, va_list ap, int saved_errno)
{
	char text[1024];

	vsnprintf(text, sizeof(text), fmt, ap);
	if (saved_errno != 0)
		dprintf(STDERR_FILENO, PROGRAM_NAME ": %s: %s\n", text, strerror(saved_errno));
	else
		dprintf(STDERR_FILENO, PROGRAM_NAME ": %s\n", text);
}

void
error_msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(fmt, ap, 0);
	va_end(ap);
}

void
perror_msg(const char *fmt, ...)
{
	int saved_errno = errno;
	va_list ap;

	va_start(ap, fmt);
	vmessage(fmt, ap, saved_errno);
	va_end(ap);
}

void
error_msg_and_die(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(fmt, ap, 0);
	va_end(ap);
	exit(status);
}

void
perror_msg_and_die(int status, const char *fmt, ...)
{
	int saved_errno = errno;
	va_list ap;

	va_start(ap, fmt);
	vmessage(fmt, ap, saved_errno);
	va_end(ap);
	exit(status);
}

int
redirect_log_open(const char *log_path, bool verbose)
{
	log_to_stderr = verbose;
	if (log_path == NULL)
		return 0;
	/* O_CLOEXEC: the traced program must not inherit the tracer's log. */
	log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (log_fd < 0)
		return -errno;
	return 0;
}

bool
redirect_log_enabled(void)
{
	return log_to_stderr || log_fd >= 0;
}

static void
emit_line(const char *line, size_t len)
{
	/* One write per line keeps lines whole when the program shares stderr with us. */
	if (log_to_stderr && write(STDERR_FILENO, line, len) < 0)
		log_to_stderr = false;
	if (log_fd >= 0 && write(log_fd, line, len) < 0) {
		perror_msg("writing the redirect log failed; logging to the file stops");
		log_fd = -1;
	}
}

void
redirect_log(pid_t tid, const char *syscall_name, const char *original, const char *target)
{
	char line[2 * 4096 + 128];
	int len;

	if (!redirect_log_enabled())
		return;
	len = snprintf(line, sizeof(line), PROGRAM_NAME ": redirect pid=%d %s %s -> %s\n",
		       (int)tid, syscall_name, original, target);
	if (len > 0)
		emit_line(line, (size_t)len < sizeof(line) ? (size_t)len : sizeof(line) - 1);
}

void
redirect_log_note(const char *fmt, ...)
{
	char line[2 * 4096 + 128];
	va_list ap;
	int len;

	if (!redirect_log_enabled())
		return;
	len = snprintf(line, sizeof(line), PROGRAM_NAME ": ");
	va_start(ap, fmt);
	len += vsnprintf(line + len, sizeof(line) - (size_t)len - 1, fmt, ap);
	va_end(ap);
	if ((size_t)len > sizeof(line) - 2)
		len = (int)sizeof(line) - 2;
	line[len++] = '\n';
	emit_line(line, (size_t)len);
}
