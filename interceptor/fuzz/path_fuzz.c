/* libFuzzer target for the interceptor's path decisions: path_normalize, and path_find_fake
 * (with its ".." walk) on a real tree of directories and symlinks, checked against the
 * kernel's own lookup of the same string.
 *
 * Input: one byte choosing how the path is passed (absolute or cwd-relative through open,
 * or relative to a dirfd through openat), then the path.  The process is its own "tracee":
 * path_find_fake reads the string with process_vm_readv from itself and the cwd and dirfd
 * from /proc/<own pid>.  Build and run: see README.md here. */
#include "../arch.h"
#include "../fakes.h"
#include "../path.h"
#include "../root.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

static char tree[PATH_MAX];     /* the real directories, files and links the paths walk */
static char fake_root[PATH_MAX];
static int tree_dirfd;
static const struct syscall_desc *sc_open, *sc_openat;

static void
die(const char *what)
{
	perror(what);
	abort();
}

static void
make_dir(const char *fmt, const char *arg)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), fmt, arg);
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		die(path);
}

static void
make_file(const char *fmt, const char *arg)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), fmt, arg);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die(path);
	close(fd);
}

static void
make_link(const char *target, const char *fmt, const char *arg)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), fmt, arg);
	if (symlink(target, path) < 0 && errno != EEXIST)
		die(path);
}

static const struct syscall_desc *
find_syscall(const char *name)
{
	for (size_t i = 0; i < arch_syscall_count; i++)
		if (strcmp(arch_syscalls[i].name, name) == 0)
			return &arch_syscalls[i];
	abort();
}

static int
remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

static void
remove_tree(void)
{
	nftw(tree, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* T/a/b/c directories, T/a/file, links of every kind under T/a, and fakes for
 * /proc/sys/kernel/panic, for T/a/b/fake (real too) and for T/ghost/f (a directory only the
 * fakes have). */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char fake[PATH_MAX + 64], failed[PATH_MAX];

	(void)argc;
	(void)argv;
	snprintf(tree, sizeof(tree), "/tmp/k3s-sandbox-path-fuzz.%d", (int)getpid());
	make_dir("%s", tree);
	atexit(remove_tree);
	make_dir("%s/a", tree);
	make_dir("%s/a/b", tree);
	make_dir("%s/a/b/c", tree);
	make_file("%s/a/file", tree);
	make_file("%s/a/b/fake", tree);
	make_link("b/c", "%s/a/rel", tree);
	make_link("/proc/sys/kernel", "%s/a/kern", tree);
	make_link("../../..", "%s/a/up", tree);
	make_link("loop", "%s/a/loop", tree);
	make_link("file", "%s/a/tofile", tree);
	make_link("/", "%s/a/root", tree);
	make_link("/proc/self/cwd", "%s/a/selfcwd", tree);
	make_link("nowhere", "%s/a/dangling", tree);

	snprintf(fake_root, sizeof(fake_root), "%s/fake", tree);
	make_dir("%s", fake_root);
	snprintf(fake, sizeof(fake), "%s/proc", fake_root);
	make_dir("%s", fake);
	make_dir("%s/sys", fake);
	make_dir("%s/sys/kernel", fake);
	make_file("%s/sys/kernel/panic", fake);
	snprintf(fake, sizeof(fake), "%s%s", fake_root, tree);
	for (char *slash = fake + strlen(fake_root) + 1; (slash = strchr(slash, '/')) != NULL; slash++) {
		*slash = '\0';
		make_dir("%s", fake);
		*slash = '/';
	}
	make_dir("%s", fake);
	make_dir("%s/a", fake);
	make_dir("%s/a/b", fake);
	make_file("%s/a/b/fake", fake);
	make_dir("%s/ghost", fake);
	make_file("%s/ghost/f", fake);

	if (fakes_load(fake_root, failed) < 0 || root_init() < 0)
		die("loading the fakes");
	if (chdir(tree) < 0 || chdir("a") < 0)
		die("chdir");
	tree_dirfd = open("b", O_RDONLY | O_DIRECTORY);
	if (tree_dirfd < 0)
		die("open b");
	sc_open = find_syscall("open");
	sc_openat = find_syscall("openat");
	return 0;
}

/* The canonical path of what @fd refers to. */
static bool
fd_path(int fd, char *out)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, out, PATH_MAX - 1);
	if (n < 0)
		return false;
	out[n] = '\0';
	return true;
}

/* A redirect must name the directory the kernel reaches for the same string, and a fake in it. */
static void
check_against_kernel(int dirfd, const char *original, const char *canonical)
{
	char dir_part[PATH_MAX], kernel_dir[PATH_MAX], canonical_dir[PATH_MAX];
	const char *slash = strrchr(original, '/');
	char *last_slash;
	int fd;

	if (slash == NULL)
		snprintf(dir_part, sizeof(dir_part), ".");
	else if (slash == original)
		snprintf(dir_part, sizeof(dir_part), "/");
	else
		snprintf(dir_part, sizeof(dir_part), "%.*s", (int)(slash - original), original);
	snprintf(canonical_dir, sizeof(canonical_dir), "%s", canonical);
	last_slash = strrchr(canonical_dir, '/');
	last_slash[last_slash == canonical_dir ? 1 : 0] = '\0';  /* "/x" -> "/", "/a/x" -> "/a" */

	fd = openat(dirfd, dir_part, O_PATH | O_DIRECTORY);
	if (fd < 0) {
		/* Only a directory that the fakes alone have may be missing for the kernel. */
		if (errno == ENOENT && fakes_has_dir(canonical_dir, strlen(canonical_dir)))
			return;
		fprintf(stderr, "redirected %s (as %s), but the kernel fails on %s: %s\n",
			original, canonical, dir_part, strerror(errno));
		abort();
	}
	if (!fd_path(fd, kernel_dir))
		abort();
	close(fd);
	if (strcmp(kernel_dir, canonical_dir) != 0) {
		fprintf(stderr, "redirected %s as %s, but the kernel's directory is %s\n",
			original, canonical, kernel_dir);
		abort();
	}
}

/* path_normalize's output is absolute, with no empty, "." or ".." component, and fits. */
static void
check_normalized(const char *in)
{
	char out[PATH_MAX];
	long len;

	if (in[0] != '/')
		return;
	len = path_normalize(in, out, sizeof(out));
	if (len == -ENAMETOOLONG)
		return;
	if (len < 1 || (size_t)len != strlen(out) || out[0] != '/' || (len > 1 && out[len - 1] == '/')
	    || strstr(out, "//") || strstr(out, "/./") || strstr(out, "/../")
	    || (len >= 2 && strcmp(out + len - 2, "/.") == 0) || (len >= 3 && strcmp(out + len - 3, "/..") == 0)) {
		fprintf(stderr, "path_normalize(%s) = %s (%ld)\n", in, out, len);
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[PATH_MAX + 16], original[PATH_MAX], target[PATH_MAX];
	const struct syscall_desc *sc;
	regs_t regs;
	int dirfd;

	if (size < 1 || size - 1 >= sizeof(path))
		return 0;
	memcpy(path, data + 1, size - 1);
	path[size - 1] = '\0';
	if (strlen(path) != size - 1)
		return 0;  /* a C string ends at its first NUL */
	check_normalized(path);

	memset(&regs, 0, sizeof(regs));
	if (data[0] & 1) {
		sc = sc_openat;
		dirfd = tree_dirfd;
	} else {
		sc = sc_open;
		dirfd = AT_FDCWD;
	}
	/* regs_set_arg is the accessor the tracer uses to change a register. */
	regs_set_arg(&regs, (unsigned int)sc->path_arg, (unsigned long)(uintptr_t)path);
	if (sc->dirfd_arg >= 0)
		regs_set_arg(&regs, (unsigned int)sc->dirfd_arg, (unsigned long)(long)dirfd);
	if (path_find_fake(getpid(), sc, &regs, original, target) != 1)
		return 0;
	if (strcmp(original, path) != 0 || strncmp(target, fake_root, strlen(fake_root)) != 0)
		abort();
	check_against_kernel(dirfd, path, target + strlen(fake_root));
	return 0;
}
