/*
 * data.h: what the runner reports about a program besides its output and
 * exit code (runner/data.c): the uncaught exception as data, the last
 * expression's repr(), written as the data record (protocol.h) before the
 * exit record.  Everything here is made inside the sandbox: the program
 * can forge it, and it can only mislead its own answer.
 */
#ifndef PYCAGE_RUNNER_DATA_H
#define PYCAGE_RUNNER_DATA_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* Before the request: compiles the helper and imports what it needs, so a
 * pooled container pays for it while waiting.  -1 with a Python error. */
int runner_data_init(void);
/* After a successful compile of source: if its last statement is an
 * expression, returns a new reference to the code of the statements before
 * it and sets *last to the code (eval mode) of the expression; otherwise,
 * or if anything fails, NULL with no error set. */
PyObject *runner_data_split(PyObject *source, PyObject **last);
/* The value of the last expression: its repr() is kept (None is not). */
void runner_data_result(PyObject *value);
/* With an exception set (not SystemExit): records it as data and adds the
 * "what to do instead" note to the refusals the sandbox makes; the
 * exception stays set, for the traceback. */
void runner_data_exception(PyObject *source);
/* The files the runner wrote (a list of (name, inode, size, mtime_ns))
 * and the cap on what comes back: the record then lists every regular
 * file of PROTOCOL_DATA_DIR created or changed since. */
void runner_data_files(PyObject *written, size_t out_max);
/* Writes the data record for nonce on fd 1; nothing if it cannot be made. */
void runner_data_write(const char *nonce);

#endif /* PYCAGE_RUNNER_DATA_H */
