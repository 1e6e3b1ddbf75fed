/* What unit tests run through the shell (scratch files, mounts, a
 * database server): the command's exit status, and the command on standard
 * error when it failed. */

#ifndef TESTS_UNIT_SHELL_H
#define TESTS_UNIT_SHELL_H 1

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "util.h"

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

#endif /* tests/unit/shell.h */
