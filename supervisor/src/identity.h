#ifndef K3S_SANDBOX_SUPERVISE_IDENTITY_H
#define K3S_SANDBOX_SUPERVISE_IDENTITY_H

#include <stddef.h>
#include <sys/types.h>

/* What tells a process apart from a later one that got the same pid: its start time
 * (field 22 of /proc/<pid>/stat, clock ticks since boot) within one boot. The
 * bootstrapper signals a pid from the status file only when both still match, and
 * reads them the same way (src/instance/identity.ts). */

/* Room for a boot id: a UUID, or "btime " and a decimal number. */
#define BOOT_ID_MAX 64

/* Reads the start time of pid. Returns 0, or -1 with errno set (ENOENT when it is gone,
 * EINVAL when the stat line does not parse). */
int identity_start_time(pid_t pid, unsigned long long *start_time);

/* The boot id: /proc/sys/kernel/random/boot_id, else "btime <N>" from /proc/stat (gVisor
 * has no boot_id). Returns 0, or -1 with errno set when neither can be read. */
int identity_boot_id(char *buf, size_t size);

#endif
