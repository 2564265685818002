/* Open-addressing string set (see strset.h). */
#include "strset.h"

#include <errno.h>   /* ENOMEM */
#include <stdint.h>  /* uint64_t */
#include <stdlib.h>  /* calloc, free */
#include <string.h>  /* memcmp, memcpy, strlen */

static uint64_t
hash_bytes(const char *text, size_t len)
{
	uint64_t hash = 1469598103934665603ULL;  /* FNV-1a */

	for (size_t i = 0; i < len; i++) {
		hash ^= (unsigned char)text[i];
		hash *= 1099511628211ULL;
	}
	return hash;
}

static bool
slot_matches(const char *slot, const char *text, size_t len)
{
	return strlen(slot) == len && memcmp(slot, text, len) == 0;
}

static void
insert_owned(char **slots, size_t capacity, char *owned)
{
	size_t i = hash_bytes(owned, strlen(owned)) & (capacity - 1);

	while (slots[i] != NULL)
		i = (i + 1) & (capacity - 1);
	slots[i] = owned;
}

static int
grow(struct strset *set)
{
	size_t capacity = set->capacity ? set->capacity * 2 : 64;
	char **slots = calloc(capacity, sizeof(*slots));

	if (slots == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < set->capacity; i++)
		if (set->slots[i] != NULL)
			insert_owned(slots, capacity, set->slots[i]);
	free(set->slots);
	set->slots = slots;
	set->capacity = capacity;
	return 0;
}

int
strset_add(struct strset *set, const char *text, size_t len)
{
	char *owned;

	if (strset_contains(set, text, len))
		return 0;
	/* Keep the load factor under one half so probe chains stay short. */
	if ((set->count + 1) * 2 > set->capacity && grow(set) < 0)
		return -ENOMEM;
	owned = malloc(len + 1);
	if (owned == NULL)
		return -ENOMEM;
	memcpy(owned, text, len);
	owned[len] = '\0';
	insert_owned(set->slots, set->capacity, owned);
	set->count++;
	return 0;
}

bool
strset_contains(const struct strset *set, const char *text, size_t len)
{
	size_t i;

	if (set->capacity == 0)
		return false;
	i = hash_bytes(text, len) & (set->capacity - 1);
	while (set->slots[i] != NULL) {
		if (slot_matches(set->slots[i], text, len))
			return true;
		i = (i + 1) & (set->capacity - 1);
	}
	return false;
}
