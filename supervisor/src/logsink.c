#include "logsink.h"

#include "atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LOG_MODE 0640

/* After a failed write the supervisor keeps going (k3s must not block on a full pipe
 * because the log disk is full), so errors can only be reported where someone may look. */
static void report_log_error(const struct logsink *s, const char *what)
{
	fprintf(stderr, "k3s-sandbox-supervise: %s %s: %s\n", what, s->path, strerror(errno));
}

static int open_log(struct logsink *s)
{
	s->fd = open(s->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, LOG_MODE);
	if (s->fd < 0)
		return -1;
	struct stat st;
	/* The log may hold tokens from k3s output, so the caller's umask must not widen it;
	 * the size decides when the first rotation of an inherited log happens. */
	if (fchmod(s->fd, LOG_MODE) != 0 || fstat(s->fd, &st) != 0) {
		int saved = errno;
		(void)close(s->fd); /* the fchmod/fstat error is the one to report */
		s->fd = -1;
		errno = saved;
		return -1;
	}
	s->size = (uint64_t)st.st_size;
	s->at_line_start = 1;
	return 0;
}

int logsink_open(struct logsink *s, const char *path, uint64_t max_bytes, unsigned keep)
{
	memset(s, 0, sizeof *s);
	s->path = path;
	s->max_bytes = max_bytes;
	s->keep = keep;
	return open_log(s);
}

static void numbered_name(char *buf, size_t size, const char *path, unsigned n)
{
	snprintf(buf, size, "%s.%u", path, n);
}

/* Rename keeps rotation cheap and lets `tail -F` readers follow the new file. */
static void rotate(struct logsink *s)
{
	char from[4096], to[4096];
	if (s->keep == 0) {
		if (unlink(s->path) != 0 && errno != ENOENT)
			report_log_error(s, "cannot remove full log");
	} else {
		for (unsigned k = s->keep; k >= 1; k--) {
			numbered_name(to, sizeof to, s->path, k);
			if (k == 1)
				snprintf(from, sizeof from, "%s", s->path);
			else
				numbered_name(from, sizeof from, s->path, k - 1);
			if (rename(from, to) != 0 && errno != ENOENT)
				report_log_error(s, "cannot rotate log");
		}
	}
	if (close(s->fd) != 0)
		report_log_error(s, "cannot close rotated log");
	if (open_log(s) != 0)
		report_log_error(s, "cannot reopen log");
}

static void append_raw(struct logsink *s, const char *buf, size_t len)
{
	if (s->fd < 0 && open_log(s) != 0) {
		report_log_error(s, "cannot open log, dropping output for");
		return;
	}
	if (write_all(s->fd, buf, len) != 0) {
		report_log_error(s, "cannot write log");
		return;
	}
	s->size += len;
	s->at_line_start = buf[len - 1] == '\n';
}

/* Splits output so no file exceeds max_bytes, cutting after the last whole line that
 * fits; only a single line longer than max_bytes is cut mid-line. */
static void append_rotating(struct logsink *s, const char *buf, size_t len)
{
	int rotation_failed = 0;
	while (len > 0) {
		uint64_t room = s->size < s->max_bytes ? s->max_bytes - s->size : 0;
		size_t chunk = len;
		if ((uint64_t)len > room && !rotation_failed) {
			const char *nl = room > 0 ? memrchr(buf, '\n', (size_t)room) : NULL;
			if (nl != NULL) {
				chunk = (size_t)(nl - buf) + 1;
			} else if (s->size > 0) {
				rotate(s);
				/* A log that cannot be rotated grows past the limit rather than
				 * spinning here while k3s blocks on a full pipe. */
				rotation_failed = s->size > 0 || s->fd < 0;
				continue;
			} else {
				chunk = (size_t)room;
			}
		}
		append_raw(s, buf, chunk);
		buf += chunk;
		len -= chunk;
	}
}

/* Cutting a line at LOGSINK_LINE_KEEP bytes may split a UTF-8 sequence; dropping the
 * partial sequence keeps the status file valid UTF-8 JSON. */
static void trim_partial_utf8(struct kept_line *l)
{
	size_t i = l->len, back = 0;
	while (i > 0 && back < 4 && ((unsigned char)l->text[i - 1] & 0xC0) == 0x80) {
		i--;
		back++;
	}
	if (i == 0)
		return;
	unsigned char lead = (unsigned char)l->text[i - 1];
	size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
	if (need > 1 && back + 1 < need)
		l->len = i - 1;
	l->text[l->len] = '\0';
}

/* klog.Fatalf lines (the apiserver's PostStartHook failures) start with F + MMDD. */
static int is_klog_fatal(const struct kept_line *l)
{
	return l->len >= 6 && l->text[0] == 'F' && strspn(l->text + 1, "0123456789") >= 4 &&
	       l->text[5] == ' ';
}

static int is_fatal_line(const struct kept_line *l)
{
	return strstr(l->text, "level=fatal") != NULL || strstr(l->text, "panic:") != NULL ||
	       is_klog_fatal(l);
}

static void finish_line(struct logsink *s)
{
	struct kept_line *l = &s->current;
	while (l->len > 0 && l->text[l->len - 1] == '\r')
		l->len--;
	l->text[l->len] = '\0';
	if (l->truncated)
		trim_partial_utf8(l);
	if (l->len > 0) {
		s->last_line = *l;
		if (is_fatal_line(l))
			s->last_fatal = *l;
	}
	l->len = 0;
	l->truncated = 0;
	l->text[0] = '\0';
}

static void remember_lines(struct logsink *s, const char *buf, size_t len)
{
	struct kept_line *l = &s->current;
	while (len > 0) {
		const char *nl = memchr(buf, '\n', len);
		size_t seg = nl ? (size_t)(nl - buf) : len;
		size_t room = LOGSINK_LINE_KEEP - l->len;
		size_t take = seg < room ? seg : room;
		memcpy(l->text + l->len, buf, take);
		l->len += take;
		l->text[l->len] = '\0';
		if (take < seg)
			l->truncated = 1;
		if (nl == NULL)
			return;
		finish_line(s);
		buf += seg + 1;
		len -= seg + 1;
	}
}

void logsink_child_output(struct logsink *s, const char *buf, size_t len)
{
	append_rotating(s, buf, len);
	remember_lines(s, buf, len);
}

void logsink_note(struct logsink *s, const char *level, const char *fmt, ...)
{
	char msg[1024], line[1200], stamp[32];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);

	struct timespec now;
	struct tm tm;
	if (clock_gettime(CLOCK_REALTIME, &now) != 0 || gmtime_r(&now.tv_sec, &tm) == NULL ||
	    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(stamp, sizeof stamp, "unknown");
	/* A note must not glue itself onto the end of an unterminated child line. */
	int n = snprintf(line, sizeof line, "%stime=\"%s\" level=%s msg=\"k3s-sandbox-supervise: %s\"\n",
			 s->at_line_start ? "" : "\n", stamp, level, msg);
	if (n > 0)
		append_rotating(s, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

void logsink_forget_lines(struct logsink *s)
{
	memset(&s->current, 0, sizeof s->current);
	memset(&s->last_line, 0, sizeof s->last_line);
	memset(&s->last_fatal, 0, sizeof s->last_fatal);
}

const char *logsink_exit_line(struct logsink *s)
{
	if (s->current.len > 0)
		finish_line(s);
	if (s->last_fatal.len > 0)
		return s->last_fatal.text;
	if (s->last_line.len > 0)
		return s->last_line.text;
	return NULL;
}
