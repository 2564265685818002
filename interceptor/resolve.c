/* Kernel-faithful path walk (see resolve.h).  Paid only by paths with ".." whose last
 * component is the name of a fake, so it may cost one lstat per component. */
#include "resolve.h"
#include "fakes.h"

#include <errno.h>      /* E* */
#include <limits.h>     /* PATH_MAX */
#include <stdio.h>      /* snprintf */
#include <string.h>     /* memcpy, memcmp, strlen */
#include <sys/stat.h>   /* lstat, S_IS* */
#include <unistd.h>     /* readlink */

bool
path_has_dotdot(const char *path)
{
	for (const char *p = path; (p = strstr(p, "..")) != NULL; p += 2) {
		bool starts = p == path || p[-1] == '/';
		bool ends = p[2] == '\0' || p[2] == '/';

		if (starts && ends)
			return true;
	}
	return false;
}

/* The walk's state: the canonical directory reached so far, and what is left to walk. */
struct walk {
	char *out;          /* "" stands for "/" */
	size_t len, size;
	char rest[2 * PATH_MAX];
	size_t pos;
	int links;
};

static bool
component_is(const char *name, size_t n, const char *text)
{
	return strlen(text) == n && memcmp(name, text, n) == 0;
}

/* "/proc/<digits>/...": per-process links (cwd, root, fd/N) whose target is an object, not a text. */
static bool
under_proc_pid(const char *path)
{
	return strncmp(path, "/proc/", 6) == 0 && path[6] >= '0' && path[6] <= '9';
}

/* Replaces the component just appended (from @dir_len on) by @target, ahead of what is left. */
static int
splice_link(struct walk *w, size_t dir_len, const char *target)
{
	size_t target_len = strlen(target), tail_len = strlen(w->rest + w->pos);

	if (++w->links > RESOLVE_MAX_SYMLINKS)
		return -ELOOP;
	if (target_len == 0)
		return -ENOENT;
	if (target_len + 1 + tail_len + 1 > sizeof(w->rest))
		return -ENAMETOOLONG;
	memmove(w->rest + target_len + 1, w->rest + w->pos, tail_len + 1);
	memcpy(w->rest, target, target_len);
	w->rest[target_len] = '/';
	w->pos = 0;
	w->len = target[0] == '/' ? 0 : dir_len;
	w->out[w->len] = '\0';
	return 0;
}

/* Looks up the directory component just appended; follows it when it is a symlink. */
static int
step_into(struct walk *w, size_t dir_len, pid_t tid, const char *name, size_t n)
{
	char target[PATH_MAX];
	struct stat st;
	ssize_t got;

	/* The tracer's own /proc/self would be the wrong process. */
	if (component_is(w->out, dir_len, "/proc") && component_is(name, n, "self")) {
		snprintf(target, sizeof(target), "%d", (int)tid);
		return splice_link(w, dir_len, target);
	}
	if (component_is(w->out, dir_len, "/proc") && component_is(name, n, "thread-self")) {
		snprintf(target, sizeof(target), "%d/task/%d", (int)tid, (int)tid);
		return splice_link(w, dir_len, target);
	}
	if (lstat(w->out, &st) < 0) {
		if (errno == ENOENT && fakes_has_dir(w->out, w->len))
			return 0;
		return -errno;
	}
	if (S_ISDIR(st.st_mode))
		return 0;
	if (!S_ISLNK(st.st_mode))
		return -ENOTDIR;
	got = readlink(w->out, target, sizeof(target));
	if (got < 0)
		return -errno;
	if ((size_t)got >= sizeof(target))
		return -ENAMETOOLONG;
	target[got] = '\0';
	/* "pipe:[123]" or "anon_inode:[...]": the kernel follows the object, and no path names it. */
	if (under_proc_pid(w->out) && target[0] != '/')
		return -EINVAL;
	return splice_link(w, dir_len, target);
}

long
resolve_path(pid_t tid, const char *base, const char *path, char *out, size_t size)
{
	struct walk w = { .out = out, .size = size };
	size_t path_len = strlen(path);

	if (size < 2 || path_len + 1 > sizeof(w.rest))
		return -ENAMETOOLONG;
	memcpy(w.rest, path, path_len + 1);
	out[0] = '\0';
	if (path[0] != '/') {
		w.len = strlen(base);
		if (base[0] != '/' || w.len + 1 > size)
			return -ENAMETOOLONG;
		memcpy(out, base, w.len + 1);
		if (w.len == 1)  /* base "/" */
			out[--w.len] = '\0';
	}
	for (;;) {
		const char *name;
		size_t n, dir_len;
		bool last;
		int ret;

		while (w.rest[w.pos] == '/')
			w.pos++;
		if (w.rest[w.pos] == '\0')
			break;
		name = w.rest + w.pos;
		for (n = 0; name[n] != '\0' && name[n] != '/'; n++)
			;
		w.pos += n;
		last = name[n + strspn(name + n, "/")] == '\0';
		if (component_is(name, n, "."))
			continue;
		if (component_is(name, n, "..")) {
			/* out is canonical here, so its parent is where the kernel's ".." goes. */
			while (w.len > 0 && out[w.len - 1] != '/')
				w.len--;
			if (w.len > 0)
				w.len--;
			out[w.len] = '\0';
			continue;
		}
		dir_len = w.len;
		if (w.len + 1 + n + 1 > size)
			return -ENAMETOOLONG;
		out[w.len++] = '/';
		memcpy(out + w.len, name, n);
		w.len += n;
		out[w.len] = '\0';
		if (last)
			break;
		/* step_into may rewrite w.rest, which @name points into: it is not used after. */
		ret = step_into(&w, dir_len, tid, name, n);
		if (ret < 0)
			return ret;
	}
	if (w.len == 0) {
		out[w.len++] = '/';
		out[w.len] = '\0';
	}
	return (long)w.len;
}
