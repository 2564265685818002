/* Scratch address-space objects (see scratch.h). */
#include "scratch.h"

#include <stdlib.h>  /* calloc, free */

struct addr_space *
addr_space_new(void)
{
	struct addr_space *space = calloc(1, sizeof(*space));

	if (space != NULL)
		space->refs = 1;
	return space;
}

struct addr_space *
addr_space_ref(struct addr_space *space)
{
	space->refs++;
	return space;
}

void
addr_space_unref(struct addr_space *space)
{
	if (space != NULL && --space->refs == 0)
		free(space);
}

int
addr_space_take_slot(struct addr_space *space)
{
	for (int slot = 0; slot < SCRATCH_SLOTS; slot++) {
		if (!(space->busy & (1ULL << slot))) {
			space->busy |= 1ULL << slot;
			return slot;
		}
	}
	return -1;
}

bool
addr_space_can_serve(const struct addr_space *space)
{
	if (space->injecting)
		return false;
	return space->base == 0 || space->busy != ~0ULL >> (64 - SCRATCH_SLOTS);
}

void
addr_space_release_slot(struct addr_space *space, int slot)
{
	space->busy &= ~(1ULL << slot);
}

unsigned long
addr_space_slot_addr(const struct addr_space *space, int slot)
{
	return space->base + (unsigned long)slot * SCRATCH_SLOT_SIZE;
}

struct addr_space *
addr_space_for_child(struct addr_space *parent, int shares_vm)
{
	if (parent != NULL && (shares_vm == 1 || parent->base != 0))
		return addr_space_ref(parent);
	return addr_space_new();
}
