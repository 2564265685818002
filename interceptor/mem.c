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

/* The part of one aligned tracee word that a byte range covers: PEEK/POKEDATA move whole
 * words, so a range that starts or ends inside a word takes only some of its bytes. */
struct word_part {
	unsigned long word_addr;
	size_t skip;  /* bytes of the word before the range */
	size_t len;   /* bytes of the range inside the word */
};

/* The part of the first word of the @len (> 0) bytes at @addr. */
static struct word_part
first_word_part(unsigned long addr, size_t len)
{
	struct word_part part;

	part.word_addr = addr & ~(sizeof(long) - 1);
	part.skip = addr - part.word_addr;
	part.len = sizeof(long) - part.skip;
	if (part.len > len)
		part.len = len;
	return part;
}

static int
peek_bytes(pid_t tid, unsigned long addr, char *buf, size_t len)
{
	while (len > 0) {
		struct word_part part = first_word_part(addr, len);
		long word;

		errno = 0;
		word = ptrace(PTRACE_PEEKDATA, tid, (void *)part.word_addr, 0);
		if (errno != 0)
			return -errno;
		memcpy(buf, (char *)&word + part.skip, part.len);
		buf += part.len;
		addr += part.len;
		len -= part.len;
	}
	return 0;
}

/* The signature process_vm_readv and process_vm_writev share. */
typedef ssize_t vm_call_t(pid_t, const struct iovec *, unsigned long, const struct iovec *,
			  unsigned long, unsigned long);

/* vm_transfer's answer when the process_vm_* calls are refused: the caller falls back to ptrace. */
#define USE_PTRACE 1

/* Moves @len bytes between @buf and @addr of @tid with @call.  Returns 0, -errno, or
 * USE_PTRACE when the calls are refused (that is remembered: they stay refused). */
static int
vm_transfer(vm_call_t *call, pid_t tid, unsigned long addr, void *buf, size_t len)
{
	struct iovec local = { buf, len };
	struct iovec remote = { (void *)addr, len };
	ssize_t moved;

	if (vm_calls_unavailable)
		return USE_PTRACE;
	moved = call(tid, &local, 1, &remote, 1, 0);
	if (moved == (ssize_t)len)
		return 0;
	if (moved >= 0)
		return -EFAULT;
	if (!vm_call_refused(errno))
		return -errno;
	vm_calls_unavailable = true;
	return USE_PTRACE;
}

int
mem_read(pid_t tid, unsigned long addr, void *buf, size_t len)
{
	int ret = vm_transfer(process_vm_readv, tid, addr, buf, len);

	return ret == USE_PTRACE ? peek_bytes(tid, addr, buf, len) : ret;
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
	while (len > 0) {
		struct word_part part = first_word_part(addr, len);
		long word = 0;
		int ret;

		/* A partial word keeps the bytes around it: read it first. */
		if (part.len < sizeof(long)) {
			ret = peek_bytes(tid, part.word_addr, (char *)&word, sizeof(word));
			if (ret < 0)
				return ret;
		}
		memcpy((char *)&word + part.skip, buf, part.len);
		if (ptrace(PTRACE_POKEDATA, tid, (void *)part.word_addr, (void *)word) < 0)
			return -errno;
		buf += part.len;
		addr += part.len;
		len -= part.len;
	}
	return 0;
}

int
mem_write(pid_t tid, unsigned long addr, const void *buf, size_t len)
{
	/* process_vm_writev only reads the local buffer; struct iovec has no const. */
	int ret = vm_transfer(process_vm_writev, tid, addr, (void *)buf, len);

	return ret == USE_PTRACE ? poke_bytes(tid, addr, buf, len) : ret;
}
