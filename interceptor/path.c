/* Path resolution for redirects (see path.h). */
#include "path.h"
#include "fakes.h"
#include "mem.h"
#include "note.h"
#include "resolve.h"
#include "root.h"

#include <errno.h>       /* ENAMETOOLONG */
#include <fcntl.h>       /* AT_FDCWD */
#include <limits.h>      /* PATH_MAX */
#include <linux/openat2.h> /* struct open_how, RESOLVE_* */
#include <stdbool.h>     /* bool */
#include <stdio.h>       /* snprintf */
#include <string.h>      /* memcpy, strlen, strrchr */
#include <unistd.h>      /* readlink */

long
path_normalize(const char *in, char *out, size_t size)
{
	size_t len = 0;
	const char *p = in;

	while (*p != '\0') {
		const char *start;
		size_t n;

		while (*p == '/')
			p++;
		start = p;
		while (*p != '\0' && *p != '/')
			p++;
		n = (size_t)(p - start);
		if (n == 0 || (n == 1 && start[0] == '.'))
			continue;
		if (n == 2 && start[0] == '.' && start[1] == '.') {
			/* ".." of "/" is "/" (path_resolution(7)). */
			while (len > 0 && out[len - 1] != '/')
				len--;
			if (len > 0)
				len--;
			continue;
		}
		if (len + 1 + n + 1 > size)
			return -ENAMETOOLONG;
		out[len++] = '/';
		memcpy(out + len, start, n);
		len += n;
	}
	if (len == 0) {
		if (size < 2)
			return -ENAMETOOLONG;
		out[len++] = '/';
	}
	out[len] = '\0';
	return (long)len;
}

/* A trailing "/" or a last component "." / ".." can only name a directory, never a fake. */
static bool
may_name_regular_file(const char *path, size_t len, const char **basename, size_t *base_len)
{
	const char *slash;

	if (len == 0 || path[len - 1] == '/')
		return false;
	slash = strrchr(path, '/');
	*basename = slash ? slash + 1 : path;
	*base_len = len - (size_t)(*basename - path);
	return !((*base_len == 1 && (*basename)[0] == '.')
		 || (*base_len == 2 && (*basename)[0] == '.' && (*basename)[1] == '.'));
}

/* Reads where a relative path starts: the dirfd's target or the cwd of @tid. */
static int
read_base_dir(pid_t tid, int dirfd, char *base, size_t size)
{
	char link[64];
	ssize_t n;

	if (dirfd == AT_FDCWD)
		snprintf(link, sizeof(link), "/proc/%d/cwd", (int)tid);
	else
		snprintf(link, sizeof(link), "/proc/%d/fd/%d", (int)tid, dirfd);
	n = readlink(link, base, size - 1);
	/* Sockets, pipes and anon inodes read as "type:[...]": nothing is relative to them. */
	if (n <= 0 || base[0] != '/')
		return -1;
	base[n] = '\0';
	return 0;
}

/* openat2's RESOLVE_BENEATH / RESOLVE_IN_ROOT give an absolute path another meaning. */
static bool
open_how_resolves_normally(pid_t tid, const regs_t *regs)
{
	struct open_how how;

	if (regs_arg(regs, 3) < sizeof(how) || mem_read(tid, regs_arg(regs, 2), &how, sizeof(how)) < 0)
		return false;
	return !(how.resolve & (RESOLVE_BENEATH | RESOLVE_IN_ROOT));
}

/* The canonical path the kernel would reach: lexical unless a ".." might climb out of a symlink's target. */
static long
canonical_path(pid_t tid, const char *original, const char *base, char *canonical)
{
	char joined[2 * PATH_MAX];
	size_t base_len;

	if (path_has_dotdot(original))
		return resolve_path(tid, base, original, canonical, PATH_MAX);
	if (original[0] == '/')
		return path_normalize(original, canonical, PATH_MAX);
	base_len = strlen(base);
	memcpy(joined, base, base_len);
	joined[base_len] = '/';
	memcpy(joined + base_len + 1, original, strlen(original) + 1);
	return path_normalize(joined, canonical, PATH_MAX);
}

int
path_find_fake(pid_t tid, const struct syscall_desc *sc, const regs_t *regs,
	       char *original, char *target)
{
	char base[PATH_MAX] = "/";
	char canonical[PATH_MAX];
	const char *basename;
	size_t base_len;
	long len = mem_read_string(tid, regs_arg(regs, (unsigned int)sc->path_arg), original, PATH_MAX);

	if (len <= 0 || !may_name_regular_file(original, (size_t)len, &basename, &base_len))
		return 0;
	/* Decided in memory first: a readlink or lstat below is paid only when the name may match. */
	if (!fakes_has_basename(basename, base_len))
		return 0;
	if (original[0] != '/') {
		int dirfd = sc->dirfd_arg >= 0 ? (int)regs_arg(regs, (unsigned int)sc->dirfd_arg) : AT_FDCWD;

		if (read_base_dir(tid, dirfd, base, PATH_MAX) < 0)
			return 0;
	}
	len = canonical_path(tid, original, base, canonical);
	if (len < 0 || !fakes_contains(canonical, (size_t)len))
		return 0;
	if (sc->open_how && !open_how_resolves_normally(tid, regs))
		return 0;
	if (!root_is_ours(tid)) {
		redirect_log_note("not redirected: pid=%d %s %s (its root directory is not ours)",
				  (int)tid, sc->name, original);
		return 0;
	}
	if (snprintf(target, PATH_MAX, "%s%s", fakes_root(), canonical) >= PATH_MAX)
		return 0;
	return 1;
}

int
path_read_absolute(pid_t tid, unsigned long addr, char *out)
{
	char path[PATH_MAX], base[PATH_MAX];
	long len = mem_read_string(tid, addr, path, PATH_MAX);

	if (len <= 0)
		return -1;
	if (path[0] == '/') {
		memcpy(out, path, (size_t)len + 1);
		return 0;
	}
	if (read_base_dir(tid, AT_FDCWD, base, PATH_MAX) < 0)
		return -1;
	return snprintf(out, PATH_MAX, "%s/%s", base, path) < PATH_MAX ? 0 : -1;
}
