/* A growable set of strings with open addressing: the fake-file lookups on the hot path
 * must cost no syscall and no allocation. */
#ifndef STRSET_H
#define STRSET_H

#include <stdbool.h>  /* bool */
#include <stddef.h>   /* size_t */

struct strset {
	char **slots;
	size_t capacity;  /* a power of two, or 0 before the first insert */
	size_t count;
};

/* Adds a copy of @text[0..@len).  Returns -ENOMEM on allocation failure, otherwise 0. */
int strset_add(struct strset *set, const char *text, size_t len);

/* True when @text[0..@len) is in @set. */
bool strset_contains(const struct strset *set, const char *text, size_t len);

#endif
