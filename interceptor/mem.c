/* Tracee memory access (see mem.h).  process_vm_readv/writev cost one syscall per transfer;
 * PTRACE_PEEK/POKEDATA, one per word, is the fallback where a seccomp profile forbids them
 * (strace src/ucopy.c and proot src/tracee/mem.c make the same choice). */
#include "mem.h"

#include <errno.h>       /* errno */
#include <stdbool.h>     /* bool */
#include <string.h>      /* memchr, memcpy */
#include <sys/ptrace.h>  /* PTRACE_PEEKDATA, PTRACE_POKEDATA */
#include <sys/uio.h>     /* process_vm_readv, process_vm_writev */

#define PAGE 4096UL
#define FIRST_READ 128UL

static bool vm_calls_unavailable;

static bool
vm_call_refused(int error)
{
	return error == ENOSYS || error == EPERM;
}

static int
peek_bytes(pid_t tid, unsigned long addr, char *buf, size_t len)
{
	unsigned long aligned = addr & ~(sizeof(long) - 1);
	size_t skip = addr - aligned;

	while (len > 0) {
		long word;
		size_t chunk = sizeof(long) - skip;

		errno = 0;
		word = ptrace(PTRACE_PEEKDATA, tid, (void *)aligned, 0);
		if (errno != 0)
			return -errno;
		if (chunk > len)
			chunk = len;
		memcpy(buf, (char *)&word + skip, chunk);
		buf += chunk;
		len -= chunk;
		aligned += sizeof(long);
		skip = 0;
	}
	return 0;
}

int
mem_read(pid_t tid, unsigned long addr, void *buf, size_t len)
{
	struct iovec local = { buf, len };
	struct iovec remote = { (void *)addr, len };
	ssize_t got;

	if (!vm_calls_unavailable) {
		got = process_vm_readv(tid, &local, 1, &remote, 1, 0);
		if (got == (ssize_t)len)
			return 0;
		if (got >= 0)
			return -EFAULT;
		if (!vm_call_refused(errno))
			return -errno;
		vm_calls_unavailable = true;
	}
	return peek_bytes(tid, addr, buf, len);
}

long
mem_read_string(pid_t tid, unsigned long addr, char *buf, size_t size)
{
	/* Most paths are short: a small first read keeps the common case cheap (in gVisor the
	 * cost of a read grows with its length), later reads take the rest of a page. */
	size_t want = FIRST_READ;
	size_t done = 0;

	while (done < size) {
		/* Never cross a page boundary in one read: the next page may be unmapped. */
		size_t chunk = PAGE - ((addr + done) & (PAGE - 1));
		const char *nul;
		int ret;

		if (chunk > want)
			chunk = want;
		if (chunk > size - done)
			chunk = size - done;
		ret = mem_read(tid, addr + done, buf + done, chunk);
		if (ret < 0)
			return ret;
		nul = memchr(buf + done, '\0', chunk);
		if (nul != NULL)
			return nul - buf;
		done += chunk;
		want = PAGE;
	}
	return -ENAMETOOLONG;
}

static int
poke_bytes(pid_t tid, unsigned long addr, const char *buf, size_t len)
{
	unsigned long aligned = addr & ~(sizeof(long) - 1);
	size_t skip = addr - aligned;

	while (len > 0) {
		long word = 0;
		size_t chunk = sizeof(long) - skip;
		int ret;

		if (chunk > len)
			chunk = len;
		/* A partial word keeps the bytes around it: read it first. */
		if (chunk < sizeof(long)) {
			ret = peek_bytes(tid, aligned, (char *)&word, sizeof(word));
			if (ret < 0)
				return ret;
		}
		memcpy((char *)&word + skip, buf, chunk);
		if (ptrace(PTRACE_POKEDATA, tid, (void *)aligned, (void *)word) < 0)
			return -errno;
		buf += chunk;
		len -= chunk;
		aligned += sizeof(long);
		skip = 0;
	}
	return 0;
}

int
mem_write(pid_t tid, unsigned long addr, const void *buf, size_t len)
{
	struct iovec local = { (void *)buf, len };
	struct iovec remote = { (void *)addr, len };
	ssize_t put;

	if (!vm_calls_unavailable) {
		put = process_vm_writev(tid, &local, 1, &remote, 1, 0);
		if (put == (ssize_t)len)
			return 0;
		if (put >= 0)
			return -EFAULT;
		if (!vm_call_refused(errno))
			return -errno;
		vm_calls_unavailable = true;
	}
	return poke_bytes(tid, addr, buf, len);
}
