/*
 * runner/runner.c - pycage-runner, the entrypoint of the sandbox image.
 *
 * Owns: reading one request from fd 0, one embedded CPython 3.11
 * interpreter, the restricted builtins and import allowlist the user's code
 * sees, the audit hook that refuses files, processes, sockets and native
 * code to everything in the process, the program's exit code and the exit
 * record.
 * Never: decides a verdict (the host does, from the exit status and the OOM
 * flag it sees), reads past the request, or runs a second program (every
 * container is single-use).
 *
 * Theory of operation
 *   1. Parse argv.  Initialise Python from an isolated config in UTF-8 mode
 *      with unbuffered stdio (libpython's _posixsubprocess swapped for a
 *      stand-in first), install the audit hook, then import the --preload
 *      modules under it.  A pool starts containers ahead of time, so all of
 *      this happens before the request exists and the runner then blocks on
 *      fd 0, warm.
 *   2. Read exactly one request from fd 0 (below).  The runner never waits
 *      for EOF: the attach stream of a pooled container stays open after the
 *      request has been written.  fd 0 then becomes /dev/null, so a program
 *      that reaches the raw fd reads EOF instead of blocking on that stream.
 *   3. Run the code in a fresh __main__ whose __builtins__ is a restricted
 *      copy of the builtins dict, like `python3 -c CODE`.
 *   4. Turn the outcome into an exit code, flush, write the exit record,
 *      _exit() without finalising (see runner_finish()).
 *
 * Protocol (the responder depends on it byte for byte; docs/RUNNER.md)
 *   argv:  pycage-runner [--preload=mod1,mod2,...] [--ready]
 *   ready: with --ready, "\x1epycage-ready\n" on fd 1 once Python is set up
 *          and the preload imported, before fd 0 is read (a pool waits for it)
 *   fd 0:  "pycage1 <code_len> <stdin_len> <nonce>\n"     at most 160 bytes
 *          <code_len bytes of UTF-8 Python source>        code_len <= 262144
 *          <stdin_len bytes, the program's sys.stdin>     stdin_len <= 1048576
 *          Lengths are decimal digits only.  nonce is 1..64 of [A-Za-z0-9],
 *          or "-" for "no exit record".  Fields are separated by one space.
 *   exit:  the program's code: 0 on normal end, 1 after an uncaught exception
 *          or a SyntaxError (traceback on stderr as `python3 -c` prints it),
 *          sys.exit(n) gives n & 0xff, sys.exit("msg") prints msg and gives 1.
 *          125: bad request (bad argv or header, a length over its cap, EOF
 *          before all bytes, code not UTF-8); one "pycage-runner: <reason>"
 *          line on stderr.  126: the interpreter could not be set up.
 *   exit record: with a nonce, once the program has finished and stdout and
 *          stderr are flushed, "\x1epycage-exit <nonce> <exit_code>\n" goes
 *          to fd 1 and then to fd 2.  It is written only when the program
 *          ran, never with 125 or 126, so a 125/126 without a record is the
 *          runner failing and one with a record is the program's sys.exit().
 *
 * Security: the restricted builtins and the import allowlist are a tripwire
 * that turns the naive open()/import os into a clear error.  They are not a
 * boundary: on CPython, print.__self__ is the real builtins module, `sys` is
 * allowlisted and sys.modules holds os, object.__subclasses__() and frames
 * lead everywhere.  The audit hook (PEP 578) is a second, wider tripwire:
 * it sees the operations themselves however they were reached, so those
 * roads end in a PermissionError, but any write to raw memory removes it
 * (numpy and ctypes, both loaded by pandas, write to any address without an
 * audit event).  The boundary is the container (no network, read-only root,
 * unprivileged uid, no capabilities, seccomp, pids/memory/cpu limits).
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "audit.h"
#include "data.h"
#include "protocol.h"

#define RUNNER_MESSAGE_MAX_BYTES 512      /* one "pycage-runner: ..." line */
#define RUNNER_SOURCE_FILENAME "<string>" /* what `python3 -c` shows */

/* Top-level module names user code may import.  `sys` is a hole in the
 * tripwire (sys.modules) kept because sys.stdin and sys.exit are needed. */
static const char *const runner_import_allowlist[] = { "math", "cmath",
	"random", "datetime", "time", "calendar", "json", "re", "statistics",
	"itertools", "functools", "operator", "collections", "decimal",
	"fractions", "string", "textwrap", "io", "copy", "heapq", "bisect",
	"array", "enum", "dataclasses", "typing", "abc", "numbers", "pprint",
	"hashlib", "base64", "binascii", "struct", "uuid", "unicodedata",
	"difflib", "csv", "contextlib", "types", "warnings", "zoneinfo", "sys",
	"numpy", "pandas", "openpyxl", "sympy" };

/* Builtins that reach files, the terminal, or code and namespaces outside
 * the compiled program. */
static const char *const runner_removed_builtins[] = { "open", "eval", "exec",
	"compile", "breakpoint", "globals", "locals", "vars", "help" };

/* The real __import__, owned for the life of the process.  Kept in a static
 * rather than as the restricted function's __self__, where user code could
 * pick it up with one attribute lookup. */
static PyObject *runner_real_import;

static int
runner_write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t written = write(fd, buf, len);
		if (written < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += written;
		len -= (size_t)written;
	}
	return 0;
}

/* Reads until len bytes or EOF.  Returns the byte count, short only at EOF,
 * or -1 on a read error. */
static ssize_t
runner_read_full(int fd, char *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t got = read(fd, buf + done, len - done);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (got == 0)
			break;
		done += (size_t)got;
	}
	return (ssize_t)done;
}

/* The one way the runner gives up: a single line on fd 2, then _exit().
 * _exit() because nothing registered with atexit (nor Python's finaliser)
 * may run or print after the runner has decided to fail. */
__attribute__((format(printf, 2, 3), noreturn)) void
runner_fail(int exit_code, const char *format, ...)
{
	char message[RUNNER_MESSAGE_MAX_BYTES];
	static const char prefix[] = "pycage-runner: ";
	size_t prefix_len = sizeof(prefix) - 1;
	va_list args;
	int formatted;
	size_t len;

	memcpy(message, prefix, prefix_len);
	va_start(args, format);
	formatted = vsnprintf(message + prefix_len,
	    sizeof(message) - prefix_len - 1, format, args);
	va_end(args);
	if (formatted < 0)
		formatted = 0;
	len = prefix_len + (size_t)formatted;
	if (len > sizeof(message) - 2)
		len = sizeof(message) - 2; /* truncated, still one line */
	message[len++] = '\n';
	(void)runner_write_all(STDERR_FILENO, message, len);
	_exit(exit_code);
}

/* ---- argv ---------------------------------------------------------------- */

static bool
runner_is_module_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '.';
}

/* Returns the text after --preload= (NULL when absent) and whether
 * --ready was given; exits 125 on anything else (an option twice
 * included), so a typo in the pool's Cmd fails loudly at start. */
static const char *
runner_parse_argv(int argc, char **argv, bool *ready)
{
	static const char option[] = PROTOCOL_ARG_PRELOAD;
	const char *preload = NULL;

	*ready = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], PROTOCOL_ARG_READY) == 0 && !*ready) {
			*ready = true;
			continue;
		}
		if (strncmp(argv[i], option, sizeof(option) - 1) != 0 ||
		    preload != NULL)
			runner_fail(PROTOCOL_EXIT_BAD_REQUEST,
			    "usage: pycage-runner "
			    "[--preload=mod1,mod2,...] [--ready]");
		preload = argv[i] + sizeof(option) - 1;
	}
	if (preload == NULL)
		return NULL;

	size_t len = strlen(preload);
	size_t name_len = 0;

	if (len > PROTOCOL_PRELOAD_MAX_BYTES)
		runner_fail(PROTOCOL_EXIT_BAD_REQUEST,
		    "--preload longer than %d bytes", PROTOCOL_PRELOAD_MAX_BYTES);
	/* "--preload=" alone preloads nothing; otherwise no name may be empty. */
	for (size_t i = 0; len > 0 && i <= len; i++) {
		if (i == len || preload[i] == ',') {
			if (name_len == 0)
				runner_fail(PROTOCOL_EXIT_BAD_REQUEST,
				    "--preload has an empty module name");
			name_len = 0;
		} else if (runner_is_module_name_char(preload[i])) {
			name_len++;
		} else {
			runner_fail(PROTOCOL_EXIT_BAD_REQUEST,
			    "--preload wants module names of [A-Za-z0-9_.]");
		}
	}
	return preload;
}

/* ---- the request header --------------------------------------------------- */

/* One byte per read() so that not a byte past the '\n' is consumed: the
 * header is at most 160 bytes, so this costs at most 160 system calls. */
static void
runner_read_header(struct protocol_header *header)
{
	char line[PROTOCOL_HEADER_MAX_BYTES];
	const char *reason;
	size_t len = 0;

	for (;;) {
		if (len == sizeof(line))
			runner_fail(PROTOCOL_EXIT_BAD_REQUEST,
			    "bad header: no newline in the first %d bytes",
			    PROTOCOL_HEADER_MAX_BYTES);
		ssize_t got = read(STDIN_FILENO, line + len, 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			runner_fail(PROTOCOL_EXIT_BAD_REQUEST,
			    "cannot read the request: %s", strerror(errno));
		if (got == 0)
			runner_fail(PROTOCOL_EXIT_BAD_REQUEST, "%s",
			    len == 0 ? "short input: no request on stdin" :
				       "short input: EOF inside the header");
		if (line[len] == '\n')
			break;
		len++;
	}
	if (protocol_parse_header(line, len, header, &reason) != 0)
		runner_fail(PROTOCOL_EXIT_BAD_REQUEST, "%s", reason);
}

/* Returns a new bytes object holding exactly len bytes of fd 0. */
static bool
runner_file_name_ok(const char *s, size_t len)
{
	if (len == 0 || len > PROTOCOL_FILE_NAME_MAX_BYTES || s[0] == '.')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			(c >= '0' && c <= '9') || c == '.' || c == '_' ||
			c == '-'))
			return false;
	}
	return true;
}

/* Parses a run of decimal digits at *cursor, at most max; 0 or -1. */
static int
runner_parse_size(const char **cursor, const char *end, size_t max, size_t *out)
{
	const char *p = *cursor;
	size_t value = 0;

	if (p == end || *p < '0' || *p > '9')
		return -1;
	while (p < end && *p >= '0' && *p <= '9') {
		value = value * 10 + (size_t)(*p - '0');
		if (value > max)
			return -1;
		p++;
	}
	*cursor = p;
	*out = value;
	return 0;
}

/* The request's files into the working directory, PROTOCOL_DATA_DIR,
 * before any of the program runs: "NAME SIZE\n" then SIZE bytes, each.
 * A name is checked again here (the executor checked it too), and a file
 * is created, never opened: O_EXCL | O_NOFOLLOW.  Returns a new list of
 * (name, inode, size, mtime_ns) for the data record to tell the files the
 * program left unchanged, or exits 125 on a malformed list. */
static PyObject *
runner_write_files(const char *p, size_t len)
{
	const char *end = p + len;
	PyObject *written = PyList_New(0);
	size_t count = 0;

	if (written == NULL)
		runner_fail(PROTOCOL_EXIT_NO_INTERPRETER,
		    "no memory for the files");
	if (len > 0 && chdir(PROTOCOL_DATA_DIR) != 0)
		runner_fail(PROTOCOL_EXIT_NO_INTERPRETER, "cannot enter %s: %s",
		    PROTOCOL_DATA_DIR, strerror(errno));
	while (p < end) {
		const char *space = memchr(p, ' ', (size_t)(end - p));
		char name[PROTOCOL_FILE_NAME_MAX_BYTES + 1];
		size_t name_len, size;
		struct stat st;
		int fd;

		if (space == NULL || ++count > PROTOCOL_FILES_MAX)
			runner_fail(PROTOCOL_EXIT_BAD_REQUEST, "bad file list");
		name_len = (size_t)(space - p);
		if (!runner_file_name_ok(p, name_len))
			runner_fail(PROTOCOL_EXIT_BAD_REQUEST, "bad file name");
		memcpy(name, p, name_len);
		name[name_len] = '\0';
		p = space + 1;
		if (runner_parse_size(&p, end, PROTOCOL_FILES_MAX_BYTES,
			&size) != 0 ||
		    p == end || *p != '\n' || (size_t)(end - p - 1) < size)
			runner_fail(PROTOCOL_EXIT_BAD_REQUEST, "bad file size");
		p++;
		fd = open(name,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0 || runner_write_all(fd, p, size) != 0 ||
		    fstat(fd, &st) != 0)
			runner_fail(PROTOCOL_EXIT_NO_INTERPRETER,
			    "cannot write %s: %s", name, strerror(errno));
		close(fd);
		p += size;
		PyObject *entry = Py_BuildValue("(sKKL)", name,
		    (unsigned long long)st.st_ino, (unsigned long long)st.st_size,
		    (long long)st.st_mtim.tv_sec * 1000000000LL +
			st.st_mtim.tv_nsec);
		if (entry == NULL || PyList_Append(written, entry) != 0)
			runner_fail(PROTOCOL_EXIT_NO_INTERPRETER,
			    "no memory for the files");
		Py_DECREF(entry);
	}
	return written;
}

static PyObject *
runner_read_payload(size_t len, const char *what)
{
	PyObject *bytes = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)len);
	if (bytes == NULL)
		runner_fail(PROTOCOL_EXIT_NO_INTERPRETER,
		    "no memory for %zu bytes of %s", len, what);

	ssize_t got =
	    runner_read_full(STDIN_FILENO, PyBytes_AS_STRING(bytes), len);
	if (got < 0)
		runner_fail(PROTOCOL_EXIT_BAD_REQUEST, "cannot read the %s: %s",
		    what, strerror(errno));
	if ((size_t)got != len)
		runner_fail(PROTOCOL_EXIT_BAD_REQUEST,
		    "short input: EOF after %zd of %zu bytes of %s", got, len,
		    what);
	return bytes;
}

/* ---- Python -------------------------------------------------------------- */

/* The traceback as `python3 -c` prints it, without consulting
 * sys.excepthook: PyErr_Print() would, and a hook that raises SystemExit
 * makes PyErr_Print() exit the process before the exit record. */
void
runner_print_exception(void)
{
	PyObject *type, *value, *traceback;

	PyErr_Fetch(&type, &value, &traceback);
	if (type == NULL)
		return;
	PyErr_NormalizeException(&type, &value, &traceback);
	if (traceback != NULL && value != NULL)
		PyException_SetTraceback(value, traceback);
	PyErr_Display(type, value, traceback != NULL ? traceback : Py_None);
	PyErr_Clear();
	Py_XDECREF(type);
	Py_XDECREF(value);
	Py_XDECREF(traceback);
}

/* ---- the built-in module table -------------------------------------------- */

/* _posixsubprocess.fork_exec() starts a process with no audit event of its
 * own (subprocess.Popen raises one in Python before calling it), and
 * _imp.create_builtin() loads a built-in module with no "import" event, so
 * neither the hook nor the tripwire sees `_imp.create_builtin(spec)
 * .fork_exec(...)`.  The module cannot simply be left out: pandas imports
 * subprocess at import (pandas/_config/localization.py), and subprocess
 * imports _posixsubprocess.  So libpython's module is replaced, before
 * Python starts, by one whose fork_exec() only refuses. */
static PyObject *
runner_refused_fork_exec(PyObject *self, PyObject *args)
{
	(void)self;
	(void)args;
	PyErr_SetString(PyExc_PermissionError,
	    "_posixsubprocess.fork_exec is not allowed in the sandbox");
	return NULL;
}

static PyMethodDef runner_posixsubprocess_methods[] = {
	{ "fork_exec", runner_refused_fork_exec, METH_VARARGS,
	    "Refuses: no processes in the pycage sandbox." },
	{ NULL, NULL, 0, NULL },
};

static struct PyModuleDef runner_posixsubprocess_module = {
	PyModuleDef_HEAD_INIT,
	.m_name = "_posixsubprocess",
	.m_doc = "pycage: fork_exec() refuses; see docs/RUNNER.md.",
	.m_size = -1,
	.m_methods = runner_posixsubprocess_methods,
};

static PyObject *
runner_posixsubprocess_init(void)
{
	return PyModule_Create(&runner_posixsubprocess_module);
}

static const struct _inittab runner_replaced_builtin_modules[] = {
	{ "_posixsubprocess", runner_posixsubprocess_init },
};

/* Points PyImport_Inittab at a copy with runner_replaced_builtin_modules
 * swapped in.  Runs before Py_InitializeFromConfig(): the import system
 * reads the table for the life of the process, which therefore owns the
 * copy.  A name the table lacks is added, so the replacement exists
 * whatever libpython was built with. */
static void
runner_replace_builtin_modules(void)
{
	size_t count = 0, used;
	struct _inittab *table;

	while (PyImport_Inittab[count].name != NULL)
		count++;
	/* calloc: zeroed, so the entry after the last is the end marker. */
	table =
	    calloc(count + RUNNER_ARRAY_LEN(runner_replaced_builtin_modules) + 1,
		sizeof(*table));
	if (table == NULL)
		runner_fail(PROTOCOL_EXIT_NO_INTERPRETER,
		    "no memory for the built-in module table");
	memcpy(table, PyImport_Inittab, count * sizeof(*table));
	used = count;
	for (size_t i = 0;
	     i < RUNNER_ARRAY_LEN(runner_replaced_builtin_modules); i++) {
		size_t j = 0;
		while (j < count &&
		    strcmp(table[j].name,
			runner_replaced_builtin_modules[i].name) != 0)
			j++;
		table[j < count ? j : used++] =
		    runner_replaced_builtin_modules[i];
	}
	PyImport_Inittab = table;
}

static void
runner_init_python(const char *program_name)
{
	PyPreConfig preconfig;
	PyConfig config;
	PyStatus status;
	wchar_t *python_argv[] = { L"-c" };

	/* utf8_mode lives in the pre-config: without it print("é") raises
	 * UnicodeEncodeError under the C locale that containers run in. */
	PyPreConfig_InitIsolatedConfig(&preconfig);
	preconfig.utf8_mode = 1;
	status = Py_PreInitialize(&preconfig);
	if (PyStatus_Exception(status))
		goto failed;

	PyConfig_InitIsolatedConfig(&config);
	/* Output printed before a SIGKILL (deadline, OOM) must already be on the
	 * fd: the host reports it. */
	config.buffered_stdio = 0;
	config.write_bytecode = 0;
	/* Debian's numpy, pandas, ... are in /usr/lib/python3/dist-packages,
	 * which only site.py puts on sys.path. */
	config.site_import = 1;
	/* As `python3 -c`: SIGINT raises KeyboardInterrupt, SIGPIPE is ignored
	 * so a closed pipe is a BrokenPipeError rather than a silent death. */
	config.install_signal_handlers = 1;
	/* Without an explicit name Python would take argv[0], "-c", and could
	 * not find its prefix from the executable's location. */
	status =
	    PyConfig_SetBytesString(&config, &config.program_name, program_name);
	if (PyStatus_Exception(status))
		goto failed_config;
	status = PyConfig_SetArgv(&config, 1, python_argv);
	if (PyStatus_Exception(status))
		goto failed_config;
	runner_replace_builtin_modules();
	status = Py_InitializeFromConfig(&config);
	if (PyStatus_Exception(status))
		goto failed_config;
	PyConfig_Clear(&config);
	return;

failed_config:
	PyConfig_Clear(&config);
failed:
	runner_fail(PROTOCOL_EXIT_NO_INTERPRETER,
	    "cannot initialise Python: %s%s%s",
	    status.func != NULL ? status.func : "",
	    status.func != NULL ? ": " : "",
	    status.err_msg != NULL ? status.err_msg : "unknown error");
}

/* A real import, before the request is read: a pre-started container then
 * answers without paying for numpy's or pandas' import. */
static void
runner_preload(const char *preload)
{
	while (preload != NULL && *preload != '\0') {
		const char *comma = strchr(preload, ',');
		size_t len =
		    comma != NULL ? (size_t)(comma - preload) : strlen(preload);
		PyObject *name =
		    PyUnicode_FromStringAndSize(preload, (Py_ssize_t)len);
		PyObject *module = name != NULL ? PyImport_Import(name) : NULL;

		if (module == NULL) {
			runner_print_exception();
			runner_fail(PROTOCOL_EXIT_NO_INTERPRETER,
			    "cannot preload module '%.*s'", (int)len, preload);
		}
		Py_DECREF(module);
		Py_DECREF(name);
		preload = comma != NULL ? comma + 1 : NULL;
	}
}

/* Returns 1 if the first dotted component of name is one of names, 0 if
 * not, -1 with an exception set.  Both the allowlist of the restricted
 * __import__ and the audit hook's refused imports match this way, so
 * "ctypes.util" is ctypes and "numpy.linalg" is numpy. */
int
runner_top_level_name_in(PyObject *name, const char *const *names, size_t count)
{
	Py_ssize_t name_len;
	const char *utf8 = PyUnicode_AsUTF8AndSize(name, &name_len);

	if (utf8 == NULL)
		return -1;
	const char *dot = memchr(utf8, '.', (size_t)name_len);
	size_t top_len = dot != NULL ? (size_t)(dot - utf8) : (size_t)name_len;

	for (size_t i = 0; i < count; i++) {
		if (strlen(names[i]) == top_len &&
		    memcmp(names[i], utf8, top_len) == 0)
			return 1;
	}
	return 0;
}

/* The refusal's last line tells the model what to do instead (a PEP 678
 * note, printed after the message).  The ImportError is set. */
static void
runner_import_note(void)
{
	static const char note[] =
	    "pycage: use only the allowed modules "
	    "(GET /v1/runtime lists them with their versions): math, json, re, "
	    "datetime, collections, itertools, statistics, numpy, pandas, "
	    "openpyxl, sympy and more of the standard library.";
	PyObject *type, *value, *traceback, *done;

	PyErr_Fetch(&type, &value, &traceback);
	PyErr_NormalizeException(&type, &value, &traceback);
	done = value != NULL ? PyObject_CallMethod(value, "add_note", "s", note) :
			       NULL;
	if (done == NULL)
		PyErr_Clear();
	Py_XDECREF(done);
	PyErr_Restore(type, value, traceback);
}

/* __import__ as user code sees it.  Only the user's __builtins__ holds it:
 * modules imported through it run with the real builtins, so numpy's own
 * `import os` still works. */
static PyObject *
runner_restricted_import(PyObject *self, PyObject *args, PyObject *kwargs)
{
	static char *keywords[] = { "name", "globals", "locals", "fromlist",
		"level", NULL };
	PyObject *name;
	PyObject *globals = NULL, *locals = NULL, *fromlist = NULL;
	int level = 0;
	int allowed;

	(void)self;
	if (!PyArg_ParseTupleAndKeywords(args, kwargs, "U|OOOi:__import__",
		keywords, &name, &globals, &locals, &fromlist, &level))
		return NULL;
	/* A relative import names no top-level module to check. */
	if (level > 0) {
		PyErr_Format(PyExc_ImportError,
		    "relative import of %R is not allowed in the sandbox", name);
		return NULL;
	}
	allowed = runner_top_level_name_in(name, runner_import_allowlist,
	    RUNNER_ARRAY_LEN(runner_import_allowlist));
	if (allowed < 0)
		return NULL;
	if (allowed == 0) {
		PyObject *message = PyUnicode_FromFormat(
		    "import of %R is not allowed in the sandbox", name);
		if (message != NULL) {
			PyErr_SetImportError(message, name, NULL);
			Py_DECREF(message);
			runner_import_note();
		}
		return NULL;
	}
	return PyObject_Call(runner_real_import, args, kwargs);
}

static PyMethodDef runner_restricted_import_def = { "__import__",
	(PyCFunction)(void (*)(void))runner_restricted_import,
	METH_VARARGS | METH_KEYWORDS,
	"__import__(name, globals=None, locals=None, fromlist=(), level=0)\n"
	"Import an allowlisted module (pycage sandbox)." };

/* Returns a new dict: a copy of the builtins without the removed names and
 * with the allowlisting __import__.  The real builtins dict is left alone
 * because every imported module shares it. */
static PyObject *
runner_new_restricted_builtins(PyObject *real_builtins)
{
	PyObject *restricted = PyDict_Copy(real_builtins);
	PyObject *import_function = NULL;

	if (restricted == NULL)
		return NULL;
	for (size_t i = 0; i < RUNNER_ARRAY_LEN(runner_removed_builtins); i++) {
		const char *removed = runner_removed_builtins[i];
		/* help is added by site.py; absent is as good as removed. */
		if (PyDict_GetItemString(restricted, removed) != NULL &&
		    PyDict_DelItemString(restricted, removed) != 0)
			goto failed;
	}
	import_function =
	    PyCFunction_NewEx(&runner_restricted_import_def, NULL, NULL);
	if (import_function == NULL ||
	    PyDict_SetItemString(restricted, "__import__", import_function) != 0)
		goto failed;
	Py_DECREF(import_function);
	return restricted;

failed:
	Py_XDECREF(import_function);
	Py_DECREF(restricted);
	return NULL;
}

/* Returns a new reference to the globals of a fresh __main__ module, also
 * installed as sys.modules["__main__"]: pickle, typing.get_type_hints and
 * dataclasses look classes up through sys.modules[cls.__module__]. */
static PyObject *
runner_new_main_globals(PyObject *restricted_builtins)
{
	PyObject *main_module = PyModule_New("__main__");
	PyObject *modules = PySys_GetObject("modules"); /* borrowed */
	PyObject *globals;

	if (main_module == NULL)
		return NULL;
	globals = PyModule_GetDict(main_module); /* borrowed */
	if (modules == NULL ||
	    PyDict_SetItemString(globals, "__builtins__", restricted_builtins) !=
		0 ||
	    PyDict_SetItemString(modules, "__main__", main_module) != 0) {
		Py_DECREF(main_module);
		return NULL;
	}
	Py_INCREF(globals);
	Py_DECREF(main_module); /* sys.modules keeps it alive */
	return globals;
}

/*
 * sys.stdout and sys.stderr over raw writers that write every byte.  With
 * buffered_stdio = 0 CPython puts TextIOWrapper(write_through) straight on
 * a FileIO, whose write() is one write(2): a pipe may take only part of a
 * large write (gVisor's does, at 64 KiB; found by writing 3 MB under
 * runsc) and TextIOWrapper drops what the raw write did not take.  Still
 * unbuffered, so output printed before a SIGKILL is on the fd.
 */
static const char runner_output_source[] =
    "import io, os\n"
    "class FullWriter(io.RawIOBase):\n"
    "    def __init__(self, fd, name):\n"
    "        self._fd = fd\n"
    "        self.name = name\n"
    "    def writable(self):\n"
    "        return True\n"
    "    def fileno(self):\n"
    "        return self._fd\n"
    "    def isatty(self):\n"
    "        return False\n"
    "    def write(self, data):\n"
    "        view = memoryview(data).cast('B')\n"
    "        done = 0\n"
    "        while done < len(view):\n"
    "            done += os.write(self._fd, view[done:])\n"
    "        return done\n"
    "def wrap(fd, name, errors):\n"
    "    return io.TextIOWrapper(FullWriter(fd, name), encoding='utf-8',\n"
    "                            errors=errors, write_through=True)\n"
    "stdout = wrap(1, '<stdout>', 'surrogateescape')\n"
    "stderr = wrap(2, '<stderr>', 'backslashreplace')\n";

static int
runner_install_output(void)
{
	PyObject *ns = PyDict_New(), *code = NULL, *result = NULL;
	PyObject *out, *err;
	int rc = -1;

	if (ns == NULL ||
	    PyDict_SetItemString(ns, "__builtins__", PyEval_GetBuiltins()) != 0)
		goto done;
	/* Its own file name, so its frames never pass for the program's. */
	code = Py_CompileString(runner_output_source, "<pycage-runner>",
	    Py_file_input);
	if (code == NULL || (result = PyEval_EvalCode(code, ns, ns)) == NULL)
		goto done;
	out = PyDict_GetItemString(ns, "stdout");
	err = PyDict_GetItemString(ns, "stderr");
	if (out == NULL || err == NULL || PySys_SetObject("stdout", out) != 0 ||
	    PySys_SetObject("__stdout__", out) != 0 ||
	    PySys_SetObject("stderr", err) != 0 ||
	    PySys_SetObject("__stderr__", err) != 0)
		goto done;
	rc = 0;
done:
	Py_XDECREF(result);
	Py_XDECREF(code);
	Py_XDECREF(ns);
	return rc;
}

/* sys.stdin over the request's bytes, made as CPython makes it on POSIX:
 * UTF-8 (surrogateescape in UTF-8 mode), newline="\n". */
static int
runner_install_stdin(PyObject *stdin_bytes)
{
	PyObject *io = PyImport_ImportModule("io");
	PyObject *buffer = NULL, *text = NULL, *name = NULL;
	int result = -1;

	if (io == NULL)
		return -1;
	buffer = PyObject_CallMethod(io, "BytesIO", "O", stdin_bytes);
	name = PyUnicode_FromString("<stdin>");
	if (buffer == NULL || name == NULL ||
	    PyObject_SetAttrString(buffer, "name", name) != 0)
		goto done;
	text = PyObject_CallMethod(io, "TextIOWrapper", "Osss", buffer, "utf-8",
	    "surrogateescape", "\n");
	if (text == NULL)
		goto done;
	if (PySys_SetObject("stdin", text) != 0 ||
	    PySys_SetObject("__stdin__", text) != 0)
		goto done;
	result = 0;
done:
	Py_XDECREF(text);
	Py_XDECREF(name);
	Py_XDECREF(buffer);
	Py_DECREF(io);
	return result;
}

/* The exit code of an uncaught SystemExit, as CPython's
 * _Py_HandleSystemExit() computes it, but returned instead of exiting. */
static int
runner_system_exit_code(void)
{
	PyObject *type, *value, *traceback;
	PyObject *code;
	int exit_code;

	PyErr_Fetch(&type, &value, &traceback);
	PyErr_NormalizeException(&type, &value, &traceback);
	code = value;
	Py_XINCREF(code);
	if (value != NULL && PyExceptionInstance_Check(value)) {
		PyObject *attribute = PyObject_GetAttrString(value, "code");
		if (attribute != NULL) {
			Py_DECREF(code);
			code = attribute;
		} else {
			PyErr_Clear(); /* as CPython: print the exception itself */
		}
	}

	if (code == NULL || code == Py_None) {
		exit_code = PROTOCOL_EXIT_SUCCESS;
	} else if (PyLong_Check(code)) {
		long number = PyLong_AsLong(code);
		if (number == -1 && PyErr_Occurred())
			PyErr_Clear(); /* CPython exits with (int)-1 too: 255 */
		exit_code = (int)((unsigned long)number & 0xffUL);
	} else {
		/* str(code) may run user code that raises anything, KeyboardInterrupt
		 * or another SystemExit included: the answer stays 1. */
		PyObject *stderr_stream = PySys_GetObject("stderr"); /* borrowed */
		if (stderr_stream != NULL && stderr_stream != Py_None &&
		    (PyFile_WriteObject(code, stderr_stream, Py_PRINT_RAW) != 0 ||
			PyFile_WriteString("\n", stderr_stream) != 0))
			PyErr_Clear();
		exit_code = PROTOCOL_EXIT_PROGRAM_FAILED;
	}
	Py_XDECREF(code);
	Py_XDECREF(type);
	Py_XDECREF(value);
	Py_XDECREF(traceback);
	return exit_code;
}

/* Compiles and runs the program.  Every outcome is an exit code.  When
 * its last statement is an expression, the statements before it and the
 * expression run as two code objects from C (no frame of the runner's in
 * a traceback), so the expression's value is kept for the data record as
 * the interactive interpreter would show it. */
static int
runner_run_program(PyObject *source, PyObject *globals, PyObject *real_compile)
{
	PyObject *code_object, *head, *last = NULL;
	PyObject *result = NULL;

	/* compile() of a str, as the protocol specifies: a coding cookie is
	 * ignored as with `python3 -c`, and a NUL byte is a ValueError
	 * instead of silently ending the source.  The whole source is
	 * compiled first, so a SyntaxError is reported exactly as today. */
	code_object = PyObject_CallFunction(real_compile, "Oss", source,
	    RUNNER_SOURCE_FILENAME, "exec");
	if (code_object != NULL) {
		head = runner_data_split(source, &last);
		if (head != NULL) {
			result = PyEval_EvalCode(head, globals, globals);
			Py_DECREF(head);
			if (result != NULL) {
				Py_DECREF(result);
				result = PyEval_EvalCode(last, globals, globals);
				if (result != NULL)
					runner_data_result(result);
			}
			Py_DECREF(last);
		} else
			result = PyEval_EvalCode(code_object, globals, globals);
		Py_DECREF(code_object);
	}
	if (result != NULL) {
		Py_DECREF(result);
		return PROTOCOL_EXIT_SUCCESS;
	}
	if (PyErr_ExceptionMatches(PyExc_SystemExit))
		return runner_system_exit_code();
	runner_data_exception(source);
	runner_print_exception();
	return PROTOCOL_EXIT_PROGRAM_FAILED;
}

static void
runner_flush_stream(const char *name)
{
	PyObject *stream = PySys_GetObject(name); /* borrowed */
	PyObject *result;

	if (stream == NULL || stream == Py_None)
		return;
	result = PyObject_CallMethod(stream, "flush", NULL);
	if (result == NULL)
		PyErr_Clear();
	Py_XDECREF(result);
}

/* Ends the process without Py_FinalizeEx().  Finalising runs code the
 * program controls (atexit callbacks, __del__, joins of non-daemon threads
 * in threading._shutdown), which can block forever or print after the exit
 * record; the container is thrown away, so the kernel reclaims everything
 * anyway.  The cost, compared with `python3 -c`: atexit handlers and
 * finalisers of the program do not run.
 * The GIL stays held from the last flush to _exit(), so no other Python
 * thread can write between the flush and the record. */
__attribute__((noreturn)) static void
runner_finish(const struct protocol_header *header, int exit_code)
{
	char record[PROTOCOL_EXIT_RECORD_MAX_BYTES];

	/* sys.stdout may be a buffered wrapper the program made; __stdout__ is
	 * the unbuffered one over fd 1. */
	runner_flush_stream("stdout");
	runner_flush_stream("stderr");
	runner_flush_stream("__stdout__");
	runner_flush_stream("__stderr__");

	if (header->nonce[0] != '\0') {
		runner_data_write(header->nonce);
		int len = snprintf(record, sizeof(record),
		    PROTOCOL_EXIT_PREFIX "%s %d\n", header->nonce, exit_code);
		if (len > 0 && (size_t)len < sizeof(record)) {
			/* A closed stdout must not cost the record on stderr. */
			(void)runner_write_all(STDOUT_FILENO, record,
			    (size_t)len);
			(void)runner_write_all(STDERR_FILENO, record,
			    (size_t)len);
		}
	}
	_exit(exit_code);
}

/* --describe: what this runner in this image offers (protocol.h).  The
 * versions come from the installed distributions' metadata, without
 * importing the libraries. */
static const char runner_describe_source[] =
    "import json, platform, importlib.metadata as metadata\n"
    "libraries = {}\n"
    "for name in modules:\n"
    "    try:\n"
    "        libraries[name] = metadata.version(name)\n"
    "    except Exception:\n"
    "        pass\n"
    "print(json.dumps({'python': platform.python_version(), 'modules': modules,\n"
    "                  'libraries': libraries}, separators=(',', ':')))\n";

__attribute__((noreturn)) static void
runner_describe(void)
{
	PyObject *ns = PyDict_New(), *modules = PyList_New(0), *code, *result;

	if (ns == NULL || modules == NULL ||
	    PyDict_SetItemString(ns, "__builtins__", PyEval_GetBuiltins()) != 0)
		goto failed;
	for (size_t i = 0; i < RUNNER_ARRAY_LEN(runner_import_allowlist); i++) {
		PyObject *name = PyUnicode_FromString(runner_import_allowlist[i]);
		if (name == NULL || PyList_Append(modules, name) != 0)
			goto failed;
		Py_DECREF(name);
	}
	if (PyDict_SetItemString(ns, "modules", modules) != 0)
		goto failed;
	code = Py_CompileString(runner_describe_source, "<pycage-describe>",
	    Py_file_input);
	if (code == NULL || (result = PyEval_EvalCode(code, ns, ns)) == NULL)
		goto failed;
	runner_flush_stream("stdout");
	_exit(PROTOCOL_EXIT_SUCCESS);
failed:
	runner_print_exception();
	runner_fail(PROTOCOL_EXIT_NO_INTERPRETER, "cannot describe the runtime");
}

int
main(int argc, char **argv)
{
	struct protocol_header header;
	PyObject *builtins_module, *real_builtins;
	PyObject *real_compile, *restricted_builtins, *globals;
	PyObject *code_bytes, *stdin_bytes, *source, *files_bytes, *files_written;
	const char *preload;
	bool ready;
	int null_fd;

	if (argc == 2 && strcmp(argv[1], PROTOCOL_ARG_DESCRIBE) == 0) {
		runner_init_python(argv[0]);
		if (runner_install_output() != 0)
			runner_fail(PROTOCOL_EXIT_NO_INTERPRETER,
			    "cannot set up stdout");
		runner_describe();
	}
	preload = runner_parse_argv(argc, argv, &ready);
	runner_init_python(argc > 0 ? argv[0] : "pycage-runner");
	if (runner_install_output() != 0) {
		runner_print_exception();
		runner_fail(PROTOCOL_EXIT_NO_INTERPRETER, "cannot set up stdout");
	}
	/* Before the preload: see runner_audit_install(). */
	runner_audit_install();
	if (runner_data_init() != 0) {
		runner_print_exception();
		runner_fail(PROTOCOL_EXIT_NO_INTERPRETER,
		    "cannot set up the data record");
	}
	runner_preload(preload);
	/* A pool hands the container out only after this: the request's
	 * deadline must not pay for the preload. */
	if (ready &&
	    runner_write_all(STDOUT_FILENO, PROTOCOL_READY_RECORD,
		sizeof(PROTOCOL_READY_RECORD) - 1) != 0)
		runner_fail(PROTOCOL_EXIT_NO_INTERPRETER,
		    "cannot write the ready record: %s", strerror(errno));

	runner_read_header(&header);
	code_bytes = runner_read_payload(header.code_len, "code");
	stdin_bytes = runner_read_payload(header.stdin_len, "stdin");
	files_bytes = runner_read_payload(header.files_len, "files");
	files_written =
	    runner_write_files(PyBytes_AS_STRING(files_bytes), header.files_len);
	Py_DECREF(files_bytes);
	runner_data_files(files_written, header.files_out_max);
	Py_DECREF(files_written);

	null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null_fd < 0 || dup2(null_fd, STDIN_FILENO) < 0)
		runner_fail(PROTOCOL_EXIT_NO_INTERPRETER,
		    "cannot put /dev/null on stdin: %s", strerror(errno));
	if (null_fd != STDIN_FILENO)
		close(null_fd);

	source = PyUnicode_DecodeUTF8(PyBytes_AS_STRING(code_bytes),
	    PyBytes_GET_SIZE(code_bytes), "strict");
	if (source == NULL) {
		Py_ssize_t offset = 0;
		PyObject *type, *value, *traceback;

		PyErr_Fetch(&type, &value, &traceback);
		if (value == NULL ||
		    PyUnicodeDecodeError_GetStart(value, &offset) != 0)
			PyErr_Clear();
		runner_fail(PROTOCOL_EXIT_BAD_REQUEST,
		    "code is not valid UTF-8 (byte %zd)", offset);
	}
	Py_DECREF(code_bytes);

	builtins_module = PyImport_ImportModule("builtins");
	real_builtins =
	    builtins_module != NULL ? PyModule_GetDict(builtins_module) : NULL;
	runner_real_import = real_builtins != NULL ?
	    PyDict_GetItemString(real_builtins, "__import__") :
	    NULL;
	real_compile = real_builtins != NULL ?
	    PyDict_GetItemString(real_builtins, "compile") :
	    NULL;
	if (runner_real_import == NULL || real_compile == NULL)
		goto no_interpreter;
	Py_INCREF(runner_real_import);
	Py_INCREF(real_compile);

	restricted_builtins = runner_new_restricted_builtins(real_builtins);
	if (restricted_builtins == NULL)
		goto no_interpreter;
	globals = runner_new_main_globals(restricted_builtins);
	Py_DECREF(restricted_builtins);
	if (globals == NULL || runner_install_stdin(stdin_bytes) != 0)
		goto no_interpreter;
	Py_DECREF(stdin_bytes);
	Py_DECREF(builtins_module);

	runner_finish(&header, runner_run_program(source, globals, real_compile));

no_interpreter:
	runner_print_exception();
	runner_fail(PROTOCOL_EXIT_NO_INTERPRETER,
	    "cannot set up the sandbox namespace");
}
