/* Loading and looking up the fake set (see fakes.h). */
#include "fakes.h"
#include "strset.h"

#include <errno.h>      /* errno */
#include <ftw.h>        /* nftw, FTW_* */
#include <limits.h>     /* PATH_MAX */
#include <string.h>     /* strlen, strrchr */
#include <sys/stat.h>   /* S_ISREG */

static struct strset fake_paths;
static struct strset fake_basenames;
static struct strset fake_dirs;
static const char *root_dir;
static size_t root_len;
static char *walk_failed_path;
static long walk_count;

static int
remember_failure(const char *path, int error)
{
	strncpy(walk_failed_path, path, PATH_MAX - 1);
	walk_failed_path[PATH_MAX - 1] = '\0';
	return error;
}

/* Every directory above @virtual_path, "/" excluded: /a/b/c records /a/b and /a. */
static int
record_dirs(const char *virtual_path)
{
	for (const char *slash = strrchr(virtual_path, '/'); slash > virtual_path;) {
		size_t len = (size_t)(slash - virtual_path);

		if (strset_contains(&fake_dirs, virtual_path, len))
			return 0;  /* and so are its parents */
		if (strset_add(&fake_dirs, virtual_path, len) < 0)
			return -ENOMEM;
		while (--slash > virtual_path && *slash != '/')
			;
	}
	return 0;
}

static int
record_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	const char *virtual_path = path + root_len;
	const char *basename;

	(void)ftw;
	if (type == FTW_DNR)
		return remember_failure(path, EACCES);
	if (type == FTW_NS)
		return remember_failure(path, ENOENT);
	if (type != FTW_F || !S_ISREG(st->st_mode))
		return 0;
	basename = strrchr(virtual_path, '/') + 1;
	if (strset_add(&fake_paths, virtual_path, strlen(virtual_path)) < 0
	    || strset_add(&fake_basenames, basename, strlen(basename)) < 0
	    || record_dirs(virtual_path) < 0)
		return remember_failure(path, ENOMEM);
	walk_count++;
	return 0;
}

long
fakes_load(const char *root, char *failed_path)
{
	int ret;

	root_dir = root;
	root_len = strlen(root);
	walk_failed_path = failed_path;
	walk_count = 0;
	errno = 0;
	/* FTW_PHYS: a symlink in the fake tree is not a regular file and is not followed. */
	ret = nftw(root, record_entry, 16, FTW_PHYS);
	if (ret < 0) {
		strncpy(failed_path, root, PATH_MAX - 1);
		failed_path[PATH_MAX - 1] = '\0';
		return -(errno ? errno : EIO);
	}
	if (ret > 0)
		return -ret;
	return walk_count;
}

const char *
fakes_root(void)
{
	return root_dir;
}

bool
fakes_contains(const char *path, size_t len)
{
	return strset_contains(&fake_paths, path, len);
}

bool
fakes_has_basename(const char *name, size_t len)
{
	return strset_contains(&fake_basenames, name, len);
}

bool
fakes_has_dir(const char *path, size_t len)
{
	return strset_contains(&fake_dirs, path, len);
}
