/* What several unit tests need: running a shell command (scratch files,
 * mounts, a database server), and waiting for a file that a thread of the
 * code under test removes. */

#ifndef TESTS_UNIT_HELPERS_H
#define TESTS_UNIT_HELPERS_H 1

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "timeval.h"
#include "util.h"

/* Runs the command 'format' makes; returns its exit status, and prints it
 * on standard error when it failed. */
static inline int OVS_PRINTF_FORMAT(1, 2)
run_shell(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    char *cmd = xvasprintf(format, args);
    va_end(args);
    int status = system(cmd);
    if (status) {
        fprintf(stderr, "%s: exit status %d\n", cmd, status);
    }
    free(cmd);
    return status;
}

/* Waits 'timeout_ms' at most for 'path' to be gone; returns true if it
 * is. */
static inline bool
file_gone(const char *path, int timeout_ms)
{
    for (int i = 0; i < timeout_ms / 10 && !access(path, F_OK); i++) {
        xnanosleep(10 * 1000 * 1000);
    }
    return access(path, F_OK) && errno == ENOENT;
}

#endif /* tests/unit/helpers.h */
