/*
 * runner/audit.h - what runner.c and audit.c share inside pycage-runner:
 * the audit hook's installation and the few helpers both sides call.
 */
#ifndef PYCAGE_RUNNER_AUDIT_H
#define PYCAGE_RUNNER_AUDIT_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stddef.h>

#define RUNNER_ARRAY_LEN(array) (sizeof(array) / sizeof((array)[0]))

/* Adds the path rules and the hook, and proves it armed; exits 126 if it
 * cannot (audit.c). */
void runner_audit_install(void);

/* runner.c: the runner's own failure: one "pycage-runner: ..." line on
 * stderr, then _exit(exit_code), before any exit record. */
__attribute__((format(printf, 2, 3), noreturn)) void
runner_fail(int exit_code, const char *format, ...);
/* runner.c: the pending exception's traceback as `python3 -c` prints it. */
void runner_print_exception(void);
/* runner.c: 1 if the first dotted component of name is one of names, 0 if
 * not, -1 with an exception set. */
int
runner_top_level_name_in(PyObject *name, const char *const *names, size_t count);

#endif /* PYCAGE_RUNNER_AUDIT_H */
