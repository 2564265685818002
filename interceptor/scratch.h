/* Scratch memory the interceptor owns inside each traced address space.  A redirected path
 * is written here, never over the program's own memory.  One object per address space; a
 * slot belongs to exactly one redirected syscall from its seccomp stop to its exit stop. */
#ifndef SCRATCH_H
#define SCRATCH_H

#include <stdbool.h>  /* bool */
#include <stdint.h>   /* uint64_t */

#define SCRATCH_SLOTS 64
#define SCRATCH_SLOT_SIZE 4096UL  /* PATH_MAX: the kernel rejects longer paths anyway */
#define SCRATCH_SIZE (SCRATCH_SLOTS * SCRATCH_SLOT_SIZE)

struct addr_space {
	unsigned int refs;       /* tracees using this object */
	unsigned long base;      /* tracee address of the mapping, 0 before injection */
	uint64_t busy;           /* bit i set: slot i is owned by a syscall in flight */
	unsigned int parked;     /* tracees stopped until a slot frees or the mapping exists */
	bool injecting;          /* one of its threads is running our injected mmap */
	bool injection_failed;   /* the mmap failed once; redirects are off for this space */
};

/* Returns a new object with one reference, or NULL when memory is exhausted. */
struct addr_space *addr_space_new(void);

/* Adds a reference and returns @space. */
struct addr_space *addr_space_ref(struct addr_space *space);

/* Drops a reference; frees the object at zero. */
void addr_space_unref(struct addr_space *space);

/* Returns a free slot index, or -1 when all are owned. */
int addr_space_take_slot(struct addr_space *space);

/* True when a parked tracee could proceed: the mapping exists (or may be injected) and a
 * slot is free. */
bool addr_space_can_serve(const struct addr_space *space);

/* Gives slot @slot back. */
void addr_space_release_slot(struct addr_space *space, int slot);

/* The tracee address of slot @slot. */
unsigned long addr_space_slot_addr(const struct addr_space *space, int slot);

/**
 * The object a new child created by fork/vfork/clone uses.  @shares_vm is 1 for CLONE_VM,
 * 0 without it, -1 when the flags could not be read.  Sharing the parent's object is
 * safe whenever the mapping already exists (a fork copies it to the same address, and
 * slot ownership stays exclusive); otherwise only CLONE_VM children may share it.
 * Returns NULL when memory is exhausted.
 */
struct addr_space *addr_space_for_child(struct addr_space *parent, int shares_vm);

#endif
