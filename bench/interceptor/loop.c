/* Microbenchmark loops; prints microseconds per iteration.
 * usage: loop getppid N | loop openat PATH N */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int
main(int argc, char **argv)
{
	double start;
	long n;

	if (argc == 3 && strcmp(argv[1], "getppid") == 0) {
		n = atol(argv[2]);
		start = now_us();
		for (long i = 0; i < n; i++)
			syscall(SYS_getppid);
	} else if (argc == 4 && strcmp(argv[1], "openat") == 0) {
		n = atol(argv[3]);
		start = now_us();
		for (long i = 0; i < n; i++) {
			int fd = openat(AT_FDCWD, argv[2], O_RDONLY);

			if (fd < 0) {
				perror(argv[2]);
				return 1;
			}
			close(fd);
		}
	} else {
		fprintf(stderr, "usage: loop getppid N | loop openat PATH N\n");
		return 2;
	}
	printf("%.3f\n", (now_us() - start) / (double)n);
	return 0;
}
