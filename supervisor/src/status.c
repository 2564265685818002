#include "status.h"

#include "atomic_file.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* Worst case every byte of last_fatal becomes a six-byte \u00XX escape. */
#define STATUS_MAX (6 * LOGSINK_LINE_KEEP + 512)

struct out {
	char buf[STATUS_MAX];
	size_t len;
};

static void put(struct out *o, const char *text)
{
	size_t n = strlen(text);
	if (n > sizeof o->buf - 1 - o->len)
		n = sizeof o->buf - 1 - o->len;
	memcpy(o->buf + o->len, text, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

static void put_escaped_or_null(struct out *o, const char *text)
{
	if (text[0] == '\0') {
		put(o, "null");
		return;
	}
	put(o, "\"");
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		char esc[8];
		if (*p == '"' || *p == '\\')
			snprintf(esc, sizeof esc, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			snprintf(esc, sizeof esc, "\\u%04x", *p);
		else
			snprintf(esc, sizeof esc, "%c", *p);
		put(o, esc);
	}
	put(o, "\"");
}

int status_write(const struct status *st)
{
	static struct out o; /* static: 6 KiB is large for the stack of a tiny daemon */
	char num[160];
	o.len = 0;
	snprintf(num, sizeof num, "{\"state\":\"%s\",\"supervisorPid\":%ld,\"supervisorStartTime\":%llu,\"bootId\":",
		 st->state, (long)st->supervisor_pid, st->supervisor_start_time);
	put(&o, num);
	put_escaped_or_null(&o, st->boot_id);
	put(&o, ",\"childPid\":");
	if (st->child_pid > 0)
		snprintf(num, sizeof num, "%ld,\"childStartTime\":", (long)st->child_pid);
	else
		snprintf(num, sizeof num, "null,\"childStartTime\":");
	put(&o, num);
	if (st->child_pid > 0 && st->child_start_time > 0)
		snprintf(num, sizeof num, "%llu", st->child_start_time);
	else
		snprintf(num, sizeof num, "null");
	put(&o, num);
	snprintf(num, sizeof num, ",\"starts\":%u,\"crashes\":%u,\"backoffMs\":%u,\"lastExit\":",
		 st->starts, st->crashes, st->backoff_ms);
	put(&o, num);
	put_escaped_or_null(&o, st->last_exit);
	put(&o, ",\"lastFatal\":");
	put_escaped_or_null(&o, st->last_fatal);
	snprintf(num, sizeof num, ",\"updated\":%lld}\n", (long long)time(NULL));
	put(&o, num);
	return replace_file_atomically(st->path, o.buf, o.len, 0644);
}
