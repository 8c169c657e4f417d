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

/* Protocol limits.  Lengths count bytes on the wire. */
#define RUNNER_HEADER_MAX_BYTES 160        /* header line including its '\n' */
#define RUNNER_CODE_MAX_BYTES 262144       /* code_len cap */
#define RUNNER_STDIN_MAX_BYTES 1048576     /* stdin_len cap */
#define RUNNER_NONCE_MAX_CHARS 64
#define RUNNER_PRELOAD_MAX_BYTES 1024      /* the text after --preload= */
/* With --ready, written to fd 1 once initialised, before fd 0 is read. */
#define RUNNER_READY_RECORD "\x1epycage-ready\n"
#define RUNNER_MESSAGE_MAX_BYTES 512       /* one "pycage-runner: ..." line */
#define RUNNER_EXIT_RECORD_MAX_BYTES 96    /* 1 + 12 + 64 + 1 + 3 + 1 fits */

#define RUNNER_HEADER_MAGIC "pycage1"
#define RUNNER_NO_NONCE "-"
#define RUNNER_SOURCE_FILENAME "<string>" /* what `python3 -c` shows */

enum runner_exit_code {
	RUNNER_EXIT_SUCCESS = 0,
	RUNNER_EXIT_PROGRAM_FAILED = 1, /* uncaught exception, SyntaxError */
	RUNNER_EXIT_BAD_REQUEST = 125,
	RUNNER_EXIT_NO_INTERPRETER = 126,
};

struct runner_header {
	size_t code_len;
	size_t stdin_len;
	char nonce[RUNNER_NONCE_MAX_CHARS + 1]; /* "" when the header said "-" */
};

/* Top-level module names user code may import.  `sys` is a hole in the
 * tripwire (sys.modules) kept because sys.stdin and sys.exit are needed. */
static const char *const runner_import_allowlist[] = {
	"math", "cmath", "random", "datetime", "time", "calendar", "json",
	"re", "statistics", "itertools", "functools", "operator",
	"collections", "decimal", "fractions", "string", "textwrap", "io",
	"copy", "heapq", "bisect", "array", "enum", "dataclasses", "typing",
	"abc", "numbers", "pprint", "hashlib", "base64", "binascii", "struct",
	"uuid", "unicodedata", "difflib", "csv", "contextlib", "types",
	"warnings", "zoneinfo", "sys",
	"numpy", "pandas", "openpyxl", "sympy",
};

/* Builtins that reach files, the terminal, or code and namespaces outside
 * the compiled program. */
static const char *const runner_removed_builtins[] = {
	"open", "eval", "exec", "compile", "input", "breakpoint",
	"globals", "locals", "vars", "help",
};

/* The real __import__, owned for the life of the process.  Kept in a static
 * rather than as the restricted function's __self__, where user code could
 * pick it up with one attribute lookup. */
static PyObject *runner_real_import;

#define RUNNER_ARRAY_LEN(array) (sizeof(array) / sizeof((array)[0]))

static int runner_write_all(int fd, const char *buf, size_t len)
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
static ssize_t runner_read_full(int fd, char *buf, size_t len)
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
__attribute__((format(printf, 2, 3), noreturn))
static void runner_fail(int exit_code, const char *format, ...)
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

static bool runner_is_module_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.';
}

/* Returns the text after --preload= (NULL when absent) and whether
 * --ready was given; exits 125 on anything else (an option twice
 * included), so a typo in the pool's Cmd fails loudly at start. */
static const char *runner_parse_argv(int argc, char **argv, bool *ready)
{
	static const char option[] = "--preload=";
	const char *preload = NULL;

	*ready = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--ready") == 0 && !*ready) {
			*ready = true;
			continue;
		}
		if (strncmp(argv[i], option, sizeof(option) - 1) != 0 ||
		    preload != NULL)
			runner_fail(RUNNER_EXIT_BAD_REQUEST, "usage: pycage-runner "
				    "[--preload=mod1,mod2,...] [--ready]");
		preload = argv[i] + sizeof(option) - 1;
	}
	if (preload == NULL)
		return NULL;

	size_t len = strlen(preload);
	size_t name_len = 0;

	if (len > RUNNER_PRELOAD_MAX_BYTES)
		runner_fail(RUNNER_EXIT_BAD_REQUEST,
			    "--preload longer than %d bytes",
			    RUNNER_PRELOAD_MAX_BYTES);
	/* "--preload=" alone preloads nothing; otherwise no name may be empty. */
	for (size_t i = 0; len > 0 && i <= len; i++) {
		if (i == len || preload[i] == ',') {
			if (name_len == 0)
				runner_fail(RUNNER_EXIT_BAD_REQUEST,
					    "--preload has an empty module name");
			name_len = 0;
		} else if (runner_is_module_name_char(preload[i])) {
			name_len++;
		} else {
			runner_fail(RUNNER_EXIT_BAD_REQUEST,
				    "--preload wants module names of [A-Za-z0-9_.]");
		}
	}
	return preload;
}

/* ---- the request header --------------------------------------------------- */

/* Parses a run of decimal digits at *cursor.  Stopping as soon as the value
 * passes max_bytes means a 30-digit length cannot overflow size_t.
 * Returns 0, -1 (no digits) or -2 (over max_bytes). */
static int runner_parse_length(const char **cursor, const char *end,
			       size_t max_bytes, size_t *value_out)
{
	const char *p = *cursor;
	size_t value = 0;

	if (p == end || *p < '0' || *p > '9')
		return -1;
	while (p < end && *p >= '0' && *p <= '9') {
		value = value * 10 + (size_t)(*p - '0');
		if (value > max_bytes)
			return -2;
		p++;
	}
	*cursor = p;
	*value_out = value;
	return 0;
}

static bool runner_is_nonce_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

/* line holds the header without its '\n'.  Returns 0, or -1 with a reason
 * for the "pycage-runner: " line. */
static int runner_parse_header(const char *line, size_t len,
			       struct runner_header *header,
			       const char **reason)
{
	static const char magic[] = RUNNER_HEADER_MAGIC " ";
	const char *p = line;
	const char *end = line + len;
	int parsed;

	*reason = "bad header: want 'pycage1 <code_len> <stdin_len> <nonce>'";
	if (len < sizeof(magic) - 1 || memcmp(p, magic, sizeof(magic) - 1) != 0)
		return -1;
	p += sizeof(magic) - 1;

	parsed = runner_parse_length(&p, end, RUNNER_CODE_MAX_BYTES,
				     &header->code_len);
	if (parsed == -2)
		*reason = "code_len over the cap of 262144 bytes";
	if (parsed != 0 || p == end || *p != ' ')
		return -1;
	p++;

	parsed = runner_parse_length(&p, end, RUNNER_STDIN_MAX_BYTES,
				     &header->stdin_len);
	if (parsed == -2)
		*reason = "stdin_len over the cap of 1048576 bytes";
	if (parsed != 0 || p == end || *p != ' ')
		return -1;
	p++;

	size_t nonce_len = (size_t)(end - p);
	if (nonce_len == 1 && *p == RUNNER_NO_NONCE[0]) {
		header->nonce[0] = '\0';
		return 0;
	}
	if (nonce_len == 0 || nonce_len > RUNNER_NONCE_MAX_CHARS) {
		*reason = "bad header: nonce must be 1..64 of [A-Za-z0-9] or '-'";
		return -1;
	}
	for (size_t i = 0; i < nonce_len; i++) {
		if (!runner_is_nonce_char(p[i])) {
			*reason = "bad header: nonce must be 1..64 of [A-Za-z0-9] or '-'";
			return -1;
		}
	}
	memcpy(header->nonce, p, nonce_len);
	header->nonce[nonce_len] = '\0';
	return 0;
}

/* One byte per read() so that not a byte past the '\n' is consumed: the
 * header is at most 160 bytes, so this costs at most 160 system calls. */
static void runner_read_header(struct runner_header *header)
{
	char line[RUNNER_HEADER_MAX_BYTES];
	const char *reason;
	size_t len = 0;

	for (;;) {
		if (len == sizeof(line))
			runner_fail(RUNNER_EXIT_BAD_REQUEST,
				    "bad header: no newline in the first %d bytes",
				    RUNNER_HEADER_MAX_BYTES);
		ssize_t got = read(STDIN_FILENO, line + len, 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			runner_fail(RUNNER_EXIT_BAD_REQUEST,
				    "cannot read the request: %s",
				    strerror(errno));
		if (got == 0)
			runner_fail(RUNNER_EXIT_BAD_REQUEST, "%s",
				    len == 0 ? "short input: no request on stdin"
					     : "short input: EOF inside the header");
		if (line[len] == '\n')
			break;
		len++;
	}
	if (runner_parse_header(line, len, header, &reason) != 0)
		runner_fail(RUNNER_EXIT_BAD_REQUEST, "%s", reason);
}

/* Returns a new bytes object holding exactly len bytes of fd 0. */
static PyObject *runner_read_payload(size_t len, const char *what)
{
	PyObject *bytes = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)len);
	if (bytes == NULL)
		runner_fail(RUNNER_EXIT_NO_INTERPRETER,
			    "no memory for %zu bytes of %s", len, what);

	ssize_t got = runner_read_full(STDIN_FILENO, PyBytes_AS_STRING(bytes), len);
	if (got < 0)
		runner_fail(RUNNER_EXIT_BAD_REQUEST, "cannot read the %s: %s",
			    what, strerror(errno));
	if ((size_t)got != len)
		runner_fail(RUNNER_EXIT_BAD_REQUEST,
			    "short input: EOF after %zd of %zu bytes of %s",
			    got, len, what);
	return bytes;
}

/* ---- Python -------------------------------------------------------------- */

/* The traceback as `python3 -c` prints it, without consulting
 * sys.excepthook: PyErr_Print() would, and a hook that raises SystemExit
 * makes PyErr_Print() exit the process before the exit record. */
static void runner_print_exception(void)
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
static PyObject *runner_refused_fork_exec(PyObject *self, PyObject *args)
{
	(void)self;
	(void)args;
	PyErr_SetString(PyExc_PermissionError,
			"_posixsubprocess.fork_exec is not allowed in the sandbox");
	return NULL;
}

static PyMethodDef runner_posixsubprocess_methods[] = {
	{"fork_exec", runner_refused_fork_exec, METH_VARARGS,
	 "Refuses: no processes in the pycage sandbox."},
	{NULL, NULL, 0, NULL},
};

static struct PyModuleDef runner_posixsubprocess_module = {
	PyModuleDef_HEAD_INIT,
	.m_name = "_posixsubprocess",
	.m_doc = "pycage: fork_exec() refuses; see docs/RUNNER.md.",
	.m_size = -1,
	.m_methods = runner_posixsubprocess_methods,
};

static PyObject *runner_posixsubprocess_init(void)
{
	return PyModule_Create(&runner_posixsubprocess_module);
}

static const struct _inittab runner_replaced_builtin_modules[] = {
	{"_posixsubprocess", runner_posixsubprocess_init},
};

/* Points PyImport_Inittab at a copy with runner_replaced_builtin_modules
 * swapped in.  Runs before Py_InitializeFromConfig(): the import system
 * reads the table for the life of the process, which therefore owns the
 * copy.  A name the table lacks is added, so the replacement exists
 * whatever libpython was built with. */
static void runner_replace_builtin_modules(void)
{
	size_t count = 0, used;
	struct _inittab *table;

	while (PyImport_Inittab[count].name != NULL)
		count++;
	/* calloc: zeroed, so the entry after the last is the end marker. */
	table = calloc(count + RUNNER_ARRAY_LEN(runner_replaced_builtin_modules) + 1,
		       sizeof(*table));
	if (table == NULL)
		runner_fail(RUNNER_EXIT_NO_INTERPRETER,
			    "no memory for the built-in module table");
	memcpy(table, PyImport_Inittab, count * sizeof(*table));
	used = count;
	for (size_t i = 0; i < RUNNER_ARRAY_LEN(runner_replaced_builtin_modules); i++) {
		size_t j = 0;
		while (j < count &&
		       strcmp(table[j].name, runner_replaced_builtin_modules[i].name) != 0)
			j++;
		table[j < count ? j : used++] = runner_replaced_builtin_modules[i];
	}
	PyImport_Inittab = table;
}

static void runner_init_python(const char *program_name)
{
	PyPreConfig preconfig;
	PyConfig config;
	PyStatus status;
	wchar_t *python_argv[] = {L"-c"};

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
	status = PyConfig_SetBytesString(&config, &config.program_name,
					 program_name);
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
	runner_fail(RUNNER_EXIT_NO_INTERPRETER, "cannot initialise Python: %s%s%s",
		    status.func != NULL ? status.func : "",
		    status.func != NULL ? ": " : "",
		    status.err_msg != NULL ? status.err_msg : "unknown error");
}

/* A real import, before the request is read: a pre-started container then
 * answers without paying for numpy's or pandas' import. */
static void runner_preload(const char *preload)
{
	while (preload != NULL && *preload != '\0') {
		const char *comma = strchr(preload, ',');
		size_t len = comma != NULL ? (size_t)(comma - preload) : strlen(preload);
		PyObject *name = PyUnicode_FromStringAndSize(preload, (Py_ssize_t)len);
		PyObject *module = name != NULL ? PyImport_Import(name) : NULL;

		if (module == NULL) {
			runner_print_exception();
			runner_fail(RUNNER_EXIT_NO_INTERPRETER,
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
static int runner_top_level_name_in(PyObject *name, const char *const *names,
				    size_t count)
{
	Py_ssize_t name_len;
	const char *utf8 = PyUnicode_AsUTF8AndSize(name, &name_len);

	if (utf8 == NULL)
		return -1;
	const char *dot = memchr(utf8, '.', (size_t)name_len);
	size_t top_len = dot != NULL ? (size_t)(dot - utf8) : (size_t)name_len;

	for (size_t i = 0; i < count; i++) {
		if (strlen(names[i]) == top_len && memcmp(names[i], utf8, top_len) == 0)
			return 1;
	}
	return 0;
}

/* __import__ as user code sees it.  Only the user's __builtins__ holds it:
 * modules imported through it run with the real builtins, so numpy's own
 * `import os` still works. */
static PyObject *runner_restricted_import(PyObject *self, PyObject *args,
					  PyObject *kwargs)
{
	static char *keywords[] = {"name", "globals", "locals", "fromlist",
				   "level", NULL};
	PyObject *name;
	PyObject *globals = NULL, *locals = NULL, *fromlist = NULL;
	int level = 0;
	int allowed;

	(void)self;
	if (!PyArg_ParseTupleAndKeywords(args, kwargs, "U|OOOi:__import__",
					 keywords, &name, &globals, &locals,
					 &fromlist, &level))
		return NULL;
	/* A relative import names no top-level module to check. */
	if (level > 0) {
		PyErr_Format(PyExc_ImportError,
			     "relative import of %R is not allowed in the sandbox",
			     name);
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
		}
		return NULL;
	}
	return PyObject_Call(runner_real_import, args, kwargs);
}

static PyMethodDef runner_restricted_import_def = {
	"__import__", (PyCFunction)(void (*)(void))runner_restricted_import,
	METH_VARARGS | METH_KEYWORDS,
	"__import__(name, globals=None, locals=None, fromlist=(), level=0)\n"
	"Import an allowlisted module (pycage sandbox)."
};

/* Returns a new dict: a copy of the builtins without the removed names and
 * with the allowlisting __import__.  The real builtins dict is left alone
 * because every imported module shares it. */
static PyObject *runner_new_restricted_builtins(PyObject *real_builtins)
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
	import_function = PyCFunction_NewEx(&runner_restricted_import_def, NULL, NULL);
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

/* ---- the audit hook (PEP 578) --------------------------------------------- */

/* Why a hook when there is a tripwire: the restricted builtins only see
 * what the program names, and print.__self__ or sys.modules lead past them.
 * Audit events are raised by the operations themselves (the C code that
 * opens a file, forks, creates a socket), whichever way the program reached
 * them.  The hook guards effects, not reachability: getting hold of the os
 * module is not refused, os.system() is.  It is still not a boundary (see
 * docs/RUNNER.md, "Audit hook"): CPython gives native code and raw memory
 * no audit events to refuse, and numpy is raw memory with an array API. */

#define RUNNER_AUDIT_PATH_MAX_BYTES 4096 /* Linux PATH_MAX, NUL included */
#define RUNNER_AUDIT_RULES_MAX 32        /* 9 fixed + 4 prefixes x 2 libdirs */
#define RUNNER_AUDIT_RULE_MAX_BYTES 256  /* one allowed path, NUL included */
#define RUNNER_AUDIT_ARMED_EVENT "pycage.runner.audit_armed"

enum runner_audit_match {
	RUNNER_MATCH_FILE, /* this path exactly */
	RUNNER_MATCH_TREE, /* this directory and everything below it */
	RUNNER_MATCH_STEM, /* any path that starts with this text */
};

struct runner_audit_rule {
	char path[RUNNER_AUDIT_RULE_MAX_BYTES];
	size_t len;
	enum runner_audit_match match;
	bool writable;
};

/* Where files may be opened.  Everything else is refused, reading too:
 * the program has no business in /etc or /proc (/proc/self/mem would write
 * over the hook itself).  The Python installation is added from sys.prefix
 * and friends when the hook is installed. */
static const struct {
	const char *path;
	enum runner_audit_match match;
	bool writable;
} runner_audit_fixed_rules[] = {
	/* tempfile: openpyxl (so pandas.to_excel) writes each sheet to a
	 * NamedTemporaryFile even when the workbook goes to io.BytesIO.
	 * "/tmp" itself is opened too: NamedTemporaryFile passes the
	 * directory to open() and lets its opener pick the name. */
	{"/tmp", RUNNER_MATCH_TREE, true},
	/* os.devnull: discarding output, subprocess.DEVNULL-style idioms. */
	{"/dev/null", RUNNER_MATCH_FILE, true},
	{"/dev/urandom", RUNNER_MATCH_FILE, false},
	{"/dev/random", RUNNER_MATCH_FILE, false},
	/* Debian's dist-packages and any python3.X or python3XY.zip: numpy,
	 * pandas, sympy and openpyxl import lazily and read their own files. */
	{"/usr/lib/python3", RUNNER_MATCH_STEM, false},
	{"/usr/local/lib/python3", RUNNER_MATCH_STEM, false},
	/* zoneinfo, pytz (walks the whole tree at import) and dateutil. */
	{"/usr/share/zoneinfo", RUNNER_MATCH_TREE, false},
	{"/etc/localtime", RUNNER_MATCH_FILE, false},
	/* `import openpyxl` runs mimetypes.init(), which reads it
	 * (measured: refusing it makes the import fail). */
	{"/etc/mime.types", RUNNER_MATCH_FILE, false},
};

static struct runner_audit_rule runner_audit_rules[RUNNER_AUDIT_RULES_MAX];
static size_t runner_audit_rule_count;

/* Set by the hook when it sees RUNNER_AUDIT_ARMED_EVENT, which
 * runner_audit_install() raises to prove that the hook is in place. */
static bool runner_audit_armed;

/* Modules whose import the hook refuses, matched on the first dotted
 * component as the allowlist is.  The "import" event fires for every module
 * not yet in sys.modules and, for an extension module, a second time when
 * its .so is loaded (importdl.c) whichever way the loading was asked for.
 * importlib.import_module() of a pure-Python module raises no "import"
 * event, but each Python module here is only dangerous through a native
 * one that is refused, or through events refused below.
 * Deliberately allowed, because the four libraries import them at import
 * time (measured in the image, cold `import numpy, pandas, sympy, openpyxl`):
 *   subprocess   pandas (pandas/_config/localization.py, and platform.uname()
 *                at pandas' import); subprocess.Popen is refused, and
 *                _posixsubprocess is a stand-in whose fork_exec() refuses.
 *   socket       pandas (pandas._testing); every socket.* event is refused.
 *   ctypes       pandas (pandas/errors/__init__.py, unconditionally; numpy
 *                does without it).  Every ctypes.* event but the dlopen of
 *                the running program, which `import ctypes` does, is refused.
 *   mmap         pandas.io.common; mmap.__new__ is refused.
 *   signal       subprocess; it only reaches this process (os.kill to any
 *                other pid is refused) and _signal is loaded at start-up. */
static const char *const runner_audit_refused_imports[] = {
	/* processes; none is imported by the four libraries */
	"pty", "multiprocessing", "_multiprocessing", "_posixshmem",
	/* C libraries that open paths themselves, past the "open" event
	 * (measured: lxml.etree resolves <!ENTITY x SYSTEM "file:///etc/passwd">
	 * and readline.read_history_file("/etc/passwd") hands the lines back).
	 * openpyxl uses lxml when it imports and falls back to the standard
	 * library's ElementTree on ImportError; nothing in the four libraries
	 * imports the others at import time. */
	"lxml", "readline", "sqlite3", "_sqlite3", "_dbm", "_gdbm",
	/* CPython's test modules: C API pokes and deliberate crashes; a
	 * second interpreter with fresh builtins */
	"_ctypes_test", "_testcapi", "_testinternalcapi", "_testbuffer",
	"_testmultiphase", "_testclinic", "_testimportmultiple",
	"_xxtestfuzz", "_xxsubinterpreters",
};

static int runner_audit_refuse(const char *event)
{
	PyErr_Format(PyExc_PermissionError,
		     "%s is not allowed in the sandbox", event);
	return -1;
}

/* Appends the components of path[0..len) to out (*out_len bytes so far),
 * dropping empty and "." components.  A ".." sets *dotdot and is dropped:
 * the caller decides what a path with ".." means.  Returns 0, or -1 when
 * the result would not fit. */
static int runner_audit_append_components(char *out, size_t *out_len,
					  const char *path, size_t len,
					  bool *dotdot)
{
	size_t start = 0;

	while (start < len) {
		size_t end = start;
		while (end < len && path[end] != '/')
			end++;
		size_t component_len = end - start;
		if (component_len == 2 && memcmp(path + start, "..", 2) == 0) {
			*dotdot = true;
		} else if (component_len > 0 &&
			   !(component_len == 1 && path[start] == '.')) {
			if (*out_len + 1 + component_len >= RUNNER_AUDIT_PATH_MAX_BYTES)
				return -1;
			out[(*out_len)++] = '/';
			memcpy(out + *out_len, path + start, component_len);
			*out_len += component_len;
		}
		start = end + 1;
	}
	out[*out_len] = '\0';
	return 0;
}

/* Writes the absolute form of the NUL-terminated path (len bytes, no NUL
 * inside) to out: relative paths are taken from the current directory,
 * "." and empty components dropped.  Lexical, so a symbolic link inside an
 * allowed tree is followed unchecked: the image's own links are trusted,
 * and the program cannot make new ones (os.symlink and os.link are
 * refused).  ".." is the exception: an absolute path with ".." is resolved
 * by realpath(), as the kernel will; a relative one is refused, because the
 * "open" event does not say which dir_fd it is relative to.
 * Returns 0, or -1 when the path is to be refused. */
static int runner_audit_absolute_path(const char *path, size_t len,
				      char out[RUNNER_AUDIT_PATH_MAX_BYTES])
{
	char cwd[RUNNER_AUDIT_PATH_MAX_BYTES];
	size_t out_len = 0;
	bool dotdot = false;

	if (len == 0 || memchr(path, '\0', len) != NULL)
		return -1;
	out[0] = '\0';
	if (path[0] != '/') {
		if (getcwd(cwd, sizeof(cwd)) == NULL ||
		    runner_audit_append_components(out, &out_len, cwd,
						   strlen(cwd), &dotdot) != 0)
			return -1;
	}
	if (runner_audit_append_components(out, &out_len, path, len, &dotdot) != 0)
		return -1;
	if (dotdot) {
		if (path[0] != '/' || realpath(path, out) == NULL)
			return -1;
		return 0;
	}
	if (out_len == 0) {
		out[0] = '/';
		out[1] = '\0';
	}
	return 0;
}

static bool runner_audit_path_allowed(const char *path, bool write)
{
	size_t len = strlen(path);

	for (size_t i = 0; i < runner_audit_rule_count; i++) {
		const struct runner_audit_rule *rule = &runner_audit_rules[i];

		if ((write && !rule->writable) || len < rule->len ||
		    memcmp(path, rule->path, rule->len) != 0)
			continue;
		switch (rule->match) {
		case RUNNER_MATCH_FILE:
			if (len == rule->len)
				return true;
			break;
		case RUNNER_MATCH_TREE:
			if (len == rule->len || path[rule->len] == '/')
				return true;
			break;
		case RUNNER_MATCH_STEM:
			return true;
		}
	}
	return false;
}

#define RUNNER_AUDIT_READ_REASON \
	"files can be read only in the Python installation, /usr/share/zoneinfo and /tmp"
#define RUNNER_AUDIT_WRITE_REASON "files can be written only under /tmp"

/* Lets event go on when path, one of its arguments, may be read (or
 * written, when write is set).  Returns 0, or -1 with an exception set.
 *   An int is a file descriptor (open(fd), os.fchmod, os.listdir(fd)),
 *   allowed: every descriptor of the process was either inherited (0, 1,
 *   2), made without a path (pipes, ptys, memfd), or opened through this
 *   check, so using it reaches nothing the check has not already let
 *   through; open(1, "w") on stdout is common.  A descriptor opened for
 *   reading stays read-only whatever is done with it.
 *   None is the current directory (os.scandir()).
 *   os.PathLike arguments arrive already converted to str or bytes (the
 *   os module and io convert before they audit); anything else is refused
 *   rather than converted again, which would run the program's
 *   __fspath__ a second time and check a different answer. */
static int runner_audit_check_path(const char *event, PyObject *path,
				   bool write, const char *access,
				   const char *reason)
{
	char absolute[RUNNER_AUDIT_PATH_MAX_BYTES];
	PyObject *encoded, *shown;
	bool allowed;

	if (PyLong_Check(path))
		return 0;
	if (path == Py_None)
		encoded = PyBytes_FromString(".");
	else if (PyUnicode_Check(path))
		encoded = PyUnicode_EncodeFSDefault(path);
	else if (PyBytes_Check(path))
		encoded = PyBytes_FromStringAndSize(PyBytes_AS_STRING(path),
						    PyBytes_GET_SIZE(path));
	else {
		PyErr_Format(PyExc_PermissionError,
			     "%s of a %.100s is not allowed in the sandbox",
			     event, Py_TYPE(path)->tp_name);
		return -1;
	}
	if (encoded == NULL)
		return -1;

	allowed = runner_audit_absolute_path(PyBytes_AS_STRING(encoded),
					     (size_t)PyBytes_GET_SIZE(encoded),
					     absolute) == 0 &&
		  runner_audit_path_allowed(absolute, write);
	if (allowed) {
		Py_DECREF(encoded);
		return 0;
	}
	shown = PyUnicode_DecodeFSDefaultAndSize(PyBytes_AS_STRING(encoded),
						 PyBytes_GET_SIZE(encoded));
	Py_DECREF(encoded);
	if (shown == NULL)
		return -1;
	PyErr_Format(PyExc_PermissionError,
		     "%s(%R)%s is not allowed in the sandbox: %s", event, shown,
		     access, reason);
	Py_DECREF(shown);
	return -1;
}

/* "open" (path, mode, flags): raised by open(), io.open_code() (every
 * import), os.open() (mode None) and FileIO (flags the O_* it will use).
 * Write access is read from both the mode and the flags. */
static int runner_audit_open(const char *event, PyObject *args)
{
	PyObject *mode, *flags_object;
	bool write = false;

	if (PyTuple_GET_SIZE(args) < 3)
		return runner_audit_refuse(event);
	mode = PyTuple_GET_ITEM(args, 1);
	flags_object = PyTuple_GET_ITEM(args, 2);
	if (PyUnicode_Check(mode)) {
		const char *text = PyUnicode_AsUTF8(mode);
		if (text == NULL)
			return -1;
		write = strpbrk(text, "wax+") != NULL;
	}
	if (PyLong_Check(flags_object)) {
		long flags = PyLong_AsLong(flags_object);
		if (flags == -1 && PyErr_Occurred())
			return -1;
		if ((flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND)) != 0)
			write = true;
	}
	return runner_audit_check_path(event, PyTuple_GET_ITEM(args, 0), write,
				       write ? " for writing" : " for reading",
				       write ? RUNNER_AUDIT_WRITE_REASON
					     : RUNNER_AUDIT_READ_REASON);
}

/* os.listdir, os.scandir (path): a listing is a read. */
static int runner_audit_list(const char *event, PyObject *args)
{
	if (PyTuple_GET_SIZE(args) < 1)
		return runner_audit_refuse(event);
	return runner_audit_check_path(event, PyTuple_GET_ITEM(args, 0), false, "",
				       RUNNER_AUDIT_READ_REASON);
}

/* os.remove, os.rmdir, os.mkdir, os.chmod, os.chown, os.truncate, os.utime,
 * os.setxattr, os.removexattr: the path is the first argument.  The root is
 * read-only anyway; refusing here gives a clear error and keeps the policy
 * independent of how the container was mounted. */
static int runner_audit_change(const char *event, PyObject *args)
{
	if (PyTuple_GET_SIZE(args) < 1)
		return runner_audit_refuse(event);
	return runner_audit_check_path(event, PyTuple_GET_ITEM(args, 0), true, "",
				       RUNNER_AUDIT_WRITE_REASON);
}

/* os.rename (src, dst, src_dir_fd, dst_dir_fd), os.replace too. */
static int runner_audit_rename(const char *event, PyObject *args)
{
	if (PyTuple_GET_SIZE(args) < 2)
		return runner_audit_refuse(event);
	if (runner_audit_check_path(event, PyTuple_GET_ITEM(args, 0), true, "",
				    RUNNER_AUDIT_WRITE_REASON) != 0)
		return -1;
	return runner_audit_check_path(event, PyTuple_GET_ITEM(args, 1), true, "",
				       RUNNER_AUDIT_WRITE_REASON);
}

/* os.chdir (path), os.fchdir too: only into /tmp.  Relative paths are
 * checked against the current directory; keeping it under /tmp (where it
 * starts: the container's WorkingDir) means that a thread changing
 * directory between another thread's check and its open() cannot move a
 * relative path out of /tmp.  A descriptor is refused for the same reason. */
static int runner_audit_chdir(const char *event, PyObject *args)
{
	if (PyTuple_GET_SIZE(args) < 1 || PyLong_Check(PyTuple_GET_ITEM(args, 0)))
		return runner_audit_refuse(event);
	return runner_audit_check_path(event, PyTuple_GET_ITEM(args, 0), true, "",
				       "the working directory stays under /tmp");
}

/* os.kill (pid, signal): the program may signal itself (as os.abort() and
 * signal.raise_signal() do, with no event), nothing else: not the init
 * process, not a process group (0, -1, negative pids). */
static int runner_audit_kill(const char *event, PyObject *args)
{
	long pid;

	if (PyTuple_GET_SIZE(args) < 1 || !PyLong_Check(PyTuple_GET_ITEM(args, 0)))
		return runner_audit_refuse(event);
	pid = PyLong_AsLong(PyTuple_GET_ITEM(args, 0));
	if (pid == -1 && PyErr_Occurred())
		return -1;
	if (pid > 0 && pid == (long)getpid())
		return 0;
	PyErr_Format(PyExc_PermissionError,
		     "%s of pid %ld is not allowed in the sandbox: "
		     "a program may signal only itself", event, pid);
	return -1;
}

/* ctypes.dlopen (name, mode): `import ctypes` opens the running program
 * (name None) for ctypes.pythonapi; pandas imports ctypes at import.  That
 * handle reaches nothing by itself: finding a symbol in it (ctypes.dlsym)
 * and calling one (ctypes.call_function) are refused.  Loading any library
 * is refused. */
static int runner_audit_dlopen(const char *event, PyObject *args)
{
	if (PyTuple_GET_SIZE(args) >= 1 && PyTuple_GET_ITEM(args, 0) == Py_None)
		return 0;
	return runner_audit_refuse(event);
}

/* "import" (module, filename, sys.path, sys.meta_path, sys.path_hooks).
 * Refused with ImportError, not PermissionError: libraries guard optional
 * imports with `except ImportError` (numpy.core._internal and ctypes,
 * platform and subprocess), and a PermissionError there would turn "not
 * available" into a crash. */
static int runner_audit_import(const char *event, PyObject *args)
{
	PyObject *name, *message;
	int refused;

	(void)event;
	if (PyTuple_GET_SIZE(args) < 1 || !PyUnicode_Check(PyTuple_GET_ITEM(args, 0)))
		return 0;
	name = PyTuple_GET_ITEM(args, 0);
	refused = runner_top_level_name_in(name, runner_audit_refused_imports,
					   RUNNER_ARRAY_LEN(runner_audit_refused_imports));
	if (refused <= 0)
		return refused;
	message = PyUnicode_FromFormat("import of %R is not allowed in the sandbox",
				       name);
	if (message != NULL) {
		PyErr_SetImportError(message, name, NULL);
		Py_DECREF(message);
	}
	return -1;
}

/* The events the hook acts on, by exact name; check NULL means "always
 * refused".  Events are CPython 3.11's (docs.python.org/3.11/library/
 * audit_events.html, and the strings in Debian's libpython3.11). */
static const struct {
	const char *event;
	int (*check)(const char *event, PyObject *args);
} runner_audit_events[] = {
	/* files */
	{"open", runner_audit_open},
	{"os.listdir", runner_audit_list},
	{"os.scandir", runner_audit_list},
	{"os.chdir", runner_audit_chdir},
	{"os.remove", runner_audit_change},
	{"os.rmdir", runner_audit_change},
	{"os.mkdir", runner_audit_change},
	{"os.chmod", runner_audit_change},
	{"os.chown", runner_audit_change},
	{"os.truncate", runner_audit_change},
	{"os.utime", runner_audit_change},
	{"os.setxattr", runner_audit_change},
	{"os.removexattr", runner_audit_change},
	{"os.rename", runner_audit_rename},
	/* a link in /tmp to a file elsewhere would pass the path check */
	{"os.link", NULL},
	{"os.symlink", NULL},
	/* processes.  os.spawn is Windows' event: on POSIX os.spawn*() is
	 * fork() + exec(), refused as os.fork. */
	{"os.system", NULL},
	{"os.exec", NULL},
	{"os.posix_spawn", NULL},
	{"os.spawn", NULL},
	{"os.fork", NULL},
	{"os.forkpty", NULL},
	{"subprocess.Popen", NULL},
	{"pty.spawn", NULL},
	{"os.kill", runner_audit_kill},
	{"os.killpg", NULL},
	/* memory that can be made executable (the event does not carry prot);
	 * costs pandas' memory_map=True and numpy.memmap, both file-backed */
	{"mmap.__new__", NULL},
	{"ctypes.dlopen", runner_audit_dlopen},
	{"import", runner_audit_import},
};

/* Whole families refused by prefix, after the exact names above: every
 * socket operation (there is no network, and name lookups would read /etc),
 * every other ctypes operation (symbols, calls, memory at an address). */
static const char *const runner_audit_refused_prefixes[] = {
	"socket.", "ctypes.",
};

/* Called by CPython for every audit event, in every thread, with the GIL
 * held and no exception set; returning -1 with an exception set makes the
 * operation raise it.  It runs thousands of times during an import of
 * pandas, so it only compares names until one matches. */
static int runner_audit_hook(const char *event, PyObject *args, void *user_data)
{
	(void)user_data;
	for (size_t i = 0; i < RUNNER_ARRAY_LEN(runner_audit_events); i++) {
		if (strcmp(event, runner_audit_events[i].event) != 0)
			continue;
		if (runner_audit_events[i].check == NULL)
			return runner_audit_refuse(event);
		return runner_audit_events[i].check(event, args);
	}
	for (size_t i = 0; i < RUNNER_ARRAY_LEN(runner_audit_refused_prefixes); i++) {
		const char *prefix = runner_audit_refused_prefixes[i];
		if (strncmp(event, prefix, strlen(prefix)) == 0)
			return runner_audit_refuse(event);
	}
	if (strcmp(event, RUNNER_AUDIT_ARMED_EVENT) == 0)
		runner_audit_armed = true;
	return 0;
}

static void runner_audit_add_rule(const char *path, size_t len,
				  enum runner_audit_match match, bool writable)
{
	struct runner_audit_rule *rule;

	for (size_t i = 0; i < runner_audit_rule_count; i++) {
		rule = &runner_audit_rules[i];
		if (rule->len == len && memcmp(rule->path, path, len) == 0 &&
		    rule->match == match && rule->writable == writable)
			return;
	}
	if (runner_audit_rule_count == RUNNER_AUDIT_RULES_MAX ||
	    len >= sizeof(rule->path))
		runner_fail(RUNNER_EXIT_NO_INTERPRETER,
			    "audit hook: too many or too long allowed paths");
	rule = &runner_audit_rules[runner_audit_rule_count++];
	memcpy(rule->path, path, len);
	rule->path[len] = '\0';
	rule->len = len;
	rule->match = match;
	rule->writable = writable;
}

/* "<prefix>/<libdir>/python3" for sys.prefix, sys.base_prefix,
 * sys.exec_prefix and sys.base_exec_prefix, with libdir "lib" and
 * sys.platlibdir: the installation the interpreter actually found, for an
 * image where it is not under /usr or /usr/local. */
static void runner_audit_add_prefix_rules(void)
{
	static const char *const prefix_names[] = {
		"prefix", "base_prefix", "exec_prefix", "base_exec_prefix",
	};
	PyObject *platlibdir_object = PySys_GetObject("platlibdir"); /* borrowed */
	const char *libdirs[] = {"lib", "lib"};
	char stem[RUNNER_AUDIT_PATH_MAX_BYTES];

	if (platlibdir_object != NULL && PyUnicode_Check(platlibdir_object)) {
		libdirs[1] = PyUnicode_AsUTF8(platlibdir_object);
		if (libdirs[1] == NULL)
			runner_fail(RUNNER_EXIT_NO_INTERPRETER,
				    "audit hook: sys.platlibdir is not UTF-8");
	}
	for (size_t i = 0; i < RUNNER_ARRAY_LEN(prefix_names); i++) {
		PyObject *prefix_object = PySys_GetObject(prefix_names[i]); /* borrowed */
		const char *prefix;

		if (prefix_object == NULL || !PyUnicode_Check(prefix_object))
			continue;
		prefix = PyUnicode_AsUTF8(prefix_object);
		if (prefix == NULL)
			runner_fail(RUNNER_EXIT_NO_INTERPRETER,
				    "audit hook: sys.%s is not UTF-8", prefix_names[i]);
		/* A relative or empty prefix names no installation to allow. */
		if (prefix[0] != '/')
			continue;
		for (size_t j = 0; j < RUNNER_ARRAY_LEN(libdirs); j++) {
			int len = snprintf(stem, sizeof(stem), "%s/%s/python3",
					   strcmp(prefix, "/") == 0 ? "" : prefix,
					   libdirs[j]);
			if (len < 0 || (size_t)len >= sizeof(stem))
				runner_fail(RUNNER_EXIT_NO_INTERPRETER,
					    "audit hook: sys.%s is too long",
					    prefix_names[i]);
			runner_audit_add_rule(stem, (size_t)len, RUNNER_MATCH_STEM, false);
		}
	}
}

/* Installs the hook.  Order, in main(): after Py_InitializeFromConfig()
 * (the rules need sys.prefix; site has run; the hook cannot be removed
 * from Python, there is no API for that) and BEFORE --preload, so that a
 * preloaded numpy or pandas is imported under the same rules as one the
 * program imports cold: the same modules end up in sys.modules either way
 * (measured: without the hook, `import numpy, pandas` loads ctypes, and
 * platform.uname() loads subprocess and _posixsubprocess).
 * PySys_AddAuditHook() after initialisation first raises "sys.addaudithook"
 * to the hooks already there; if one of those raises RuntimeError the new
 * hook is silently not added and 0 is returned (C API docs, "PySys_Add
 * AuditHook").  Isolated mode runs no usercustomize, but sitecustomize may
 * run, so the hook proves it is armed by seeing an event of its own. */
static void runner_audit_install(void)
{
	for (size_t i = 0; i < RUNNER_ARRAY_LEN(runner_audit_fixed_rules); i++)
		runner_audit_add_rule(runner_audit_fixed_rules[i].path,
				      strlen(runner_audit_fixed_rules[i].path),
				      runner_audit_fixed_rules[i].match,
				      runner_audit_fixed_rules[i].writable);
	runner_audit_add_prefix_rules();

	if (PySys_AddAuditHook(runner_audit_hook, NULL) != 0 ||
	    PySys_Audit(RUNNER_AUDIT_ARMED_EVENT, NULL) != 0 || !runner_audit_armed) {
		runner_print_exception();
		runner_fail(RUNNER_EXIT_NO_INTERPRETER,
			    "cannot install the audit hook");
	}
}

/* Returns a new reference to the globals of a fresh __main__ module, also
 * installed as sys.modules["__main__"]: pickle, typing.get_type_hints and
 * dataclasses look classes up through sys.modules[cls.__module__]. */
static PyObject *runner_new_main_globals(PyObject *restricted_builtins)
{
	PyObject *main_module = PyModule_New("__main__");
	PyObject *modules = PySys_GetObject("modules"); /* borrowed */
	PyObject *globals;

	if (main_module == NULL)
		return NULL;
	globals = PyModule_GetDict(main_module); /* borrowed */
	if (modules == NULL ||
	    PyDict_SetItemString(globals, "__builtins__", restricted_builtins) != 0 ||
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

static int runner_install_output(void)
{
	PyObject *ns = PyDict_New(), *code = NULL, *result = NULL;
	PyObject *out, *err;
	int rc = -1;

	if (ns == NULL || PyDict_SetItemString(ns, "__builtins__",
					       PyEval_GetBuiltins()) != 0)
		goto done;
	/* Its own file name, so its frames never pass for the program's. */
	code = Py_CompileString(runner_output_source, "<pycage-runner>",
				Py_file_input);
	if (code == NULL || (result = PyEval_EvalCode(code, ns, ns)) == NULL)
		goto done;
	out = PyDict_GetItemString(ns, "stdout");
	err = PyDict_GetItemString(ns, "stderr");
	if (out == NULL || err == NULL ||
	    PySys_SetObject("stdout", out) != 0 ||
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
static int runner_install_stdin(PyObject *stdin_bytes)
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
static int runner_system_exit_code(void)
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
		exit_code = RUNNER_EXIT_SUCCESS;
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
		exit_code = RUNNER_EXIT_PROGRAM_FAILED;
	}
	Py_XDECREF(code);
	Py_XDECREF(type);
	Py_XDECREF(value);
	Py_XDECREF(traceback);
	return exit_code;
}

/* Compiles and runs the program.  Every outcome is an exit code. */
static int runner_run_program(PyObject *source, PyObject *globals,
			      PyObject *real_compile)
{
	PyObject *code_object;
	PyObject *result = NULL;

	/* compile() of a str, as the protocol specifies: a coding cookie is
	 * ignored as with `python3 -c`, and a NUL byte is a ValueError
	 * instead of silently ending the source. */
	code_object = PyObject_CallFunction(real_compile, "Oss", source,
					    RUNNER_SOURCE_FILENAME, "exec");
	if (code_object != NULL) {
		result = PyEval_EvalCode(code_object, globals, globals);
		Py_DECREF(code_object);
	}
	if (result != NULL) {
		Py_DECREF(result);
		return RUNNER_EXIT_SUCCESS;
	}
	if (PyErr_ExceptionMatches(PyExc_SystemExit))
		return runner_system_exit_code();
	runner_print_exception();
	return RUNNER_EXIT_PROGRAM_FAILED;
}

static void runner_flush_stream(const char *name)
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
__attribute__((noreturn))
static void runner_finish(const struct runner_header *header, int exit_code)
{
	char record[RUNNER_EXIT_RECORD_MAX_BYTES];

	/* sys.stdout may be a buffered wrapper the program made; __stdout__ is
	 * the unbuffered one over fd 1. */
	runner_flush_stream("stdout");
	runner_flush_stream("stderr");
	runner_flush_stream("__stdout__");
	runner_flush_stream("__stderr__");

	if (header->nonce[0] != '\0') {
		int len = snprintf(record, sizeof(record), "\x1epycage-exit %s %d\n",
				   header->nonce, exit_code);
		if (len > 0 && (size_t)len < sizeof(record)) {
			/* A closed stdout must not cost the record on stderr. */
			(void)runner_write_all(STDOUT_FILENO, record, (size_t)len);
			(void)runner_write_all(STDERR_FILENO, record, (size_t)len);
		}
	}
	_exit(exit_code);
}

int main(int argc, char **argv)
{
	struct runner_header header;
	PyObject *builtins_module, *real_builtins;
	PyObject *real_compile, *restricted_builtins, *globals;
	PyObject *code_bytes, *stdin_bytes, *source;
	const char *preload;
	bool ready;
	int null_fd;

	preload = runner_parse_argv(argc, argv, &ready);
	runner_init_python(argc > 0 ? argv[0] : "pycage-runner");
	if (runner_install_output() != 0) {
		runner_print_exception();
		runner_fail(RUNNER_EXIT_NO_INTERPRETER, "cannot set up stdout");
	}
	/* Before the preload: see runner_audit_install(). */
	runner_audit_install();
	runner_preload(preload);
	/* A pool hands the container out only after this: the request's
	 * deadline must not pay for the preload. */
	if (ready && runner_write_all(STDOUT_FILENO, RUNNER_READY_RECORD,
				      sizeof(RUNNER_READY_RECORD) - 1) != 0)
		runner_fail(RUNNER_EXIT_NO_INTERPRETER,
			    "cannot write the ready record: %s", strerror(errno));

	runner_read_header(&header);
	code_bytes = runner_read_payload(header.code_len, "code");
	stdin_bytes = runner_read_payload(header.stdin_len, "stdin");

	null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null_fd < 0 || dup2(null_fd, STDIN_FILENO) < 0)
		runner_fail(RUNNER_EXIT_NO_INTERPRETER,
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
		runner_fail(RUNNER_EXIT_BAD_REQUEST,
			    "code is not valid UTF-8 (byte %zd)", offset);
	}
	Py_DECREF(code_bytes);

	builtins_module = PyImport_ImportModule("builtins");
	real_builtins = builtins_module != NULL ? PyModule_GetDict(builtins_module)
						: NULL;
	runner_real_import = real_builtins != NULL
				     ? PyDict_GetItemString(real_builtins, "__import__")
				     : NULL;
	real_compile = real_builtins != NULL
			       ? PyDict_GetItemString(real_builtins, "compile")
			       : NULL;
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
	runner_fail(RUNNER_EXIT_NO_INTERPRETER, "cannot set up the sandbox namespace");
}
