/* Diagnostics and the redirect log: every message the interceptor prints goes through here,
 * so the prefix and the destination are decided in one place. */
#ifndef NOTE_H
#define NOTE_H

#include <stdbool.h>    /* bool */
#include <sys/types.h>  /* pid_t */

#define PROGRAM_NAME "k3s-sandbox-intercept"

/* Prints "k3s-sandbox-intercept: <message>" on stderr. */
void error_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Same as error_msg, with ": strerror(errno)" appended. */
void perror_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* error_msg, then exit(status). */
_Noreturn void error_msg_and_die(int status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* perror_msg, then exit(status). */
_Noreturn void perror_msg_and_die(int status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/**
 * Chooses where redirect lines go: @verbose sends them to stderr, @log_path (may be NULL)
 * appends them to that file.  Returns -errno if the file cannot be opened, otherwise 0.
 */
int redirect_log_open(const char *log_path, bool verbose);

/* True when redirect_log_open enabled at least one destination. */
bool redirect_log_enabled(void);

/* Writes one line per redirect: pid, syscall, original path and target. */
void redirect_log(pid_t tid, const char *syscall_name, const char *original, const char *target);

/* Writes a free-form line to the same destinations (used for "not redirected because ..."). */
void redirect_log_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
