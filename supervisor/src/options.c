#include "options.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROG "k3s-sandbox-supervise"

static void print_usage(FILE *to)
{
	fprintf(to,
		"usage: " PROG " --log FILE --status FILE --pidfile FILE\n"
		"    [--log-max-bytes N (default 10485760)] [--log-keep K (default 3)]\n"
		"    [--max-crashes N (default 5)] [--crash-window SECONDS (default 300)]\n"
		"    [--backoff-initial-ms MS (default 500)] [--backoff-max-ms MS (default 30000)]\n"
		"    [--stop-timeout SECONDS (default 20)]\n"
		"    -- PROGRAM [ARGS...]\n");
}

static int usage_error(const char *what, const char *allowed)
{
	fprintf(stderr, PROG ": %s; allowed: %s\n", what, allowed);
	print_usage(stderr);
	return EXIT_USAGE;
}

enum value_kind { VALUE_PATH, VALUE_NUMBER };

struct option_spec {
	const char *name;
	enum value_kind kind;
	uint64_t min, max;
	const char **path;
	uint64_t number;
};

/* Digits only: strtoull alone would accept " 12", "+12" and "-1" (wrapped to a huge
 * number), letting a bad config value in the bootstrapper slip through unnoticed. */
static int set_number(struct option_spec *o, const char *text)
{
	char allowed[96], what[256];
	snprintf(allowed, sizeof allowed, "an integer %llu..%llu",
		 (unsigned long long)o->min, (unsigned long long)o->max);
	snprintf(what, sizeof what, "%s: '%.64s' is not allowed", o->name, text);
	if (text[0] == '\0' || strspn(text, "0123456789") != strlen(text))
		return usage_error(what, allowed);
	errno = 0;
	unsigned long long v = strtoull(text, NULL, 10);
	if (errno == ERANGE || v < o->min || v > o->max)
		return usage_error(what, allowed);
	o->number = v;
	return 0;
}

static int set_value(struct option_spec *o, const char *text)
{
	if (o->kind == VALUE_NUMBER)
		return set_number(o, text);
	if (text[0] == '\0') {
		char what[96];
		snprintf(what, sizeof what, "%s: an empty path is not allowed", o->name);
		return usage_error(what, "a file path");
	}
	*o->path = text;
	return 0;
}

static const char *const option_names =
	"--log, --status, --pidfile, --log-max-bytes, --log-keep, --max-crashes, --crash-window, "
	"--backoff-initial-ms, --backoff-max-ms, --stop-timeout, --help, then -- PROGRAM [ARGS...]";

int options_parse(int argc, char **argv, struct options *opts)
{
	const char *log_path = NULL, *status_path = NULL, *pidfile_path = NULL;
	enum { LOG, STATUS, PIDFILE, LOG_MAX_BYTES, LOG_KEEP, MAX_CRASHES, CRASH_WINDOW,
	       BACKOFF_INITIAL, BACKOFF_MAX, STOP_TIMEOUT, NSPECS };
	/* Upper bounds keep arithmetic (ms doubling, seconds to ms) far from overflow and
	 * catch unit mix-ups such as passing milliseconds where seconds are expected. */
	struct option_spec specs[NSPECS] = {
		{ "--log", VALUE_PATH, 0, 0, &log_path, 0 },
		{ "--status", VALUE_PATH, 0, 0, &status_path, 0 },
		{ "--pidfile", VALUE_PATH, 0, 0, &pidfile_path, 0 },
		{ "--log-max-bytes", VALUE_NUMBER, 1, 1ULL << 40, NULL, 10485760 },
		{ "--log-keep", VALUE_NUMBER, 0, 99, NULL, 3 },
		{ "--max-crashes", VALUE_NUMBER, 0, 1000, NULL, 5 },
		{ "--crash-window", VALUE_NUMBER, 1, 86400, NULL, 300 },
		{ "--backoff-initial-ms", VALUE_NUMBER, 1, 3600000, NULL, 500 },
		{ "--backoff-max-ms", VALUE_NUMBER, 1, 3600000, NULL, 30000 },
		{ "--stop-timeout", VALUE_NUMBER, 0, 3600, NULL, 20 },
	};
	int i;

	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if (strcmp(arg, "--") == 0)
			break;
		if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
			print_usage(stdout);
			return EXIT_STOPPED;
		}
		const char *eq = strchr(arg, '=');
		size_t name_len = eq ? (size_t)(eq - arg) : strlen(arg);
		struct option_spec *o = NULL;
		for (size_t s = 0; s < NSPECS; s++)
			if (strlen(specs[s].name) == name_len && strncmp(specs[s].name, arg, name_len) == 0)
				o = &specs[s];
		if (o == NULL) {
			char what[256];
			snprintf(what, sizeof what, "unknown option '%.128s'", arg);
			return usage_error(what, option_names);
		}
		const char *value = eq ? eq + 1 : NULL;
		if (value == NULL) {
			if (i + 1 >= argc) {
				char what[96];
				snprintf(what, sizeof what, "%s needs a value", o->name);
				return usage_error(what, o->kind == VALUE_PATH ? "a file path" : "an integer");
			}
			value = argv[++i];
		}
		int rc = set_value(o, value);
		if (rc != 0)
			return rc;
	}

	if (i >= argc || i + 1 >= argc)
		return usage_error("missing '-- PROGRAM': nothing to supervise", "-- PROGRAM [ARGS...]");
	if (argv[i + 1][0] == '\0')
		return usage_error("PROGRAM after '--' is empty", "a program path or name");
	for (size_t s = LOG; s <= PIDFILE; s++)
		if (*specs[s].path == NULL) {
			char what[96];
			snprintf(what, sizeof what, "%s is required", specs[s].name);
			return usage_error(what, "a file path in an existing directory");
		}
	if (specs[BACKOFF_MAX].number < specs[BACKOFF_INITIAL].number) {
		char what[128];
		snprintf(what, sizeof what, "--backoff-max-ms %llu is below --backoff-initial-ms %llu",
			 (unsigned long long)specs[BACKOFF_MAX].number, (unsigned long long)specs[BACKOFF_INITIAL].number);
		return usage_error(what, "--backoff-max-ms >= --backoff-initial-ms");
	}

	opts->log_path = log_path;
	opts->status_path = status_path;
	opts->pidfile_path = pidfile_path;
	opts->log_max_bytes = specs[LOG_MAX_BYTES].number;
	opts->log_keep = (unsigned)specs[LOG_KEEP].number;
	opts->max_crashes = (unsigned)specs[MAX_CRASHES].number;
	opts->crash_window_s = (unsigned)specs[CRASH_WINDOW].number;
	opts->backoff_initial_ms = (unsigned)specs[BACKOFF_INITIAL].number;
	opts->backoff_max_ms = (unsigned)specs[BACKOFF_MAX].number;
	opts->stop_timeout_s = (unsigned)specs[STOP_TIMEOUT].number;
	opts->program_argv = &argv[i + 1];
	return OPTIONS_PARSED;
}
