/* The tid table (see tracee.h): chained buckets, so removal during a walk is simple. */
#include "tracee.h"

#include <stdlib.h>  /* calloc, free */

#define BUCKETS 1024

static struct tracee *buckets[BUCKETS];
static size_t count;

static struct tracee **
bucket_of(pid_t tid)
{
	return &buckets[(unsigned int)tid % BUCKETS];
}

struct tracee *
tracee_find(pid_t tid)
{
	for (struct tracee *t = *bucket_of(tid); t != NULL; t = t->next_in_bucket)
		if (t->tid == tid)
			return t;
	return NULL;
}

static void
link_record(struct tracee *tracee)
{
	struct tracee **head = bucket_of(tracee->tid);

	tracee->next_in_bucket = *head;
	*head = tracee;
}

static void
unlink_record(struct tracee *tracee)
{
	for (struct tracee **link = bucket_of(tracee->tid); *link != NULL;
	     link = &(*link)->next_in_bucket) {
		if (*link == tracee) {
			*link = tracee->next_in_bucket;
			return;
		}
	}
}

struct tracee *
tracee_add(pid_t tid)
{
	struct tracee *tracee = calloc(1, sizeof(*tracee));

	if (tracee == NULL)
		return NULL;
	tracee->tid = tid;
	tracee->slot = -1;
	link_record(tracee);
	count++;
	return tracee;
}

void
tracee_remove(struct tracee *tracee)
{
	unlink_record(tracee);
	if (tracee->space != NULL) {
		if (tracee->slot >= 0)
			addr_space_release_slot(tracee->space, tracee->slot);
		if (tracee->wait == WAIT_MMAP_EXIT)
			tracee->space->injecting = false;
		if (tracee->parked)
			tracee->space->parked--;
		addr_space_unref(tracee->space);
	}
	free(tracee);
	count--;
}

void
tracee_rekey(struct tracee *tracee, pid_t tid)
{
	unlink_record(tracee);
	tracee->tid = tid;
	link_record(tracee);
}

void
tracee_for_each(void (*fn)(struct tracee *tracee, void *arg), void *arg)
{
	for (size_t i = 0; i < BUCKETS; i++) {
		struct tracee *t = buckets[i];

		while (t != NULL) {
			struct tracee *next = t->next_in_bucket;

			fn(t, arg);
			t = next;
		}
	}
}

size_t
tracee_count(void)
{
	return count;
}
