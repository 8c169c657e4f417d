/*
 * runner/audit.c - the runner's audit hook (PEP 578): the policy, kept apart
 * from the interpreter's mechanism in runner.c as isolate keeps its rules.c
 * apart from its sandbox.
 *
 * Owns: which files the program may read and write (path rules built from
 * the interpreter's own prefixes), which events are refused outright
 * (processes, sockets, native code), which imports the hook refuses even
 * through the real importer, and the hook that applies all of it to
 * everything in the process.
 * Never: decides a verdict, or claims to be a boundary: a program with raw
 * memory (ctypes writes, numpy) can remove the hook; the container holds
 * (docs/SECURITY.md, tests/hostile/ run without the hook).
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "protocol.h"

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
	{ "/tmp", RUNNER_MATCH_TREE, true },
	/* The program's working directory: the request's files, and those it
	 * writes for the answer (issue 17; the container's private tmpfs). */
	{ PROTOCOL_DATA_DIR, RUNNER_MATCH_TREE, true },
	/* os.devnull: discarding output, subprocess.DEVNULL-style idioms. */
	{ "/dev/null", RUNNER_MATCH_FILE, true },
	{ "/dev/urandom", RUNNER_MATCH_FILE, false },
	{ "/dev/random", RUNNER_MATCH_FILE, false },
	/* Debian's dist-packages and any python3.X or python3XY.zip: numpy,
	 * pandas, sympy and openpyxl import lazily and read their own files. */
	{ "/usr/lib/python3", RUNNER_MATCH_STEM, false },
	{ "/usr/local/lib/python3", RUNNER_MATCH_STEM, false },
	/* zoneinfo, pytz (walks the whole tree at import) and dateutil. */
	{ "/usr/share/zoneinfo", RUNNER_MATCH_TREE, false },
	{ "/etc/localtime", RUNNER_MATCH_FILE, false },
	/* `import openpyxl` runs mimetypes.init(), which reads it
	 * (measured: refusing it makes the import fail). */
	{ "/etc/mime.types", RUNNER_MATCH_FILE, false },
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
	"_testmultiphase", "_testclinic", "_testimportmultiple", "_xxtestfuzz",
	"_xxsubinterpreters"
};

static int
runner_audit_refuse(const char *event)
{
	PyErr_Format(PyExc_PermissionError, "%s is not allowed in the sandbox",
	    event);
	return -1;
}

/* Appends the components of path[0..len) to out (*out_len bytes so far),
 * dropping empty and "." components.  A ".." sets *dotdot and is dropped:
 * the caller decides what a path with ".." means.  Returns 0, or -1 when
 * the result would not fit. */
static int
runner_audit_append_components(char *out, size_t *out_len, const char *path,
    size_t len, bool *dotdot)
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
			if (*out_len + 1 + component_len >=
			    RUNNER_AUDIT_PATH_MAX_BYTES)
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
static int
runner_audit_absolute_path(const char *path, size_t len,
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

static bool
runner_audit_path_allowed(const char *path, bool write)
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

#define RUNNER_AUDIT_READ_REASON                                                                     \
	"files can be read only in the Python installation, /usr/share/zoneinfo, " PROTOCOL_DATA_DIR \
	" and /tmp"
#define RUNNER_AUDIT_WRITE_REASON \
	"files can be written only under " PROTOCOL_DATA_DIR " and /tmp"

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
static int
runner_audit_check_path(const char *event, PyObject *path, bool write,
    const char *access, const char *reason)
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
		    "%s of a %.100s is not allowed in the sandbox", event,
		    Py_TYPE(path)->tp_name);
		return -1;
	}
	if (encoded == NULL)
		return -1;

	allowed = runner_audit_absolute_path(PyBytes_AS_STRING(encoded),
		      (size_t)PyBytes_GET_SIZE(encoded), absolute) == 0 &&
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
	    "%s(%R)%s is not allowed in the sandbox: %s", event, shown, access,
	    reason);
	Py_DECREF(shown);
	return -1;
}

/* "open" (path, mode, flags): raised by open(), io.open_code() (every
 * import), os.open() (mode None) and FileIO (flags the O_* it will use).
 * Write access is read from both the mode and the flags. */
static int
runner_audit_open(const char *event, PyObject *args)
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
		if ((flags &
			(O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND)) != 0)
			write = true;
	}
	return runner_audit_check_path(event, PyTuple_GET_ITEM(args, 0), write,
	    write ? " for writing" : " for reading",
	    write ? RUNNER_AUDIT_WRITE_REASON : RUNNER_AUDIT_READ_REASON);
}

/* os.listdir, os.scandir (path): a listing is a read. */
static int
runner_audit_list(const char *event, PyObject *args)
{
	if (PyTuple_GET_SIZE(args) < 1)
		return runner_audit_refuse(event);
	return runner_audit_check_path(event, PyTuple_GET_ITEM(args, 0), false,
	    "", RUNNER_AUDIT_READ_REASON);
}

/* os.remove, os.rmdir, os.mkdir, os.chmod, os.chown, os.truncate, os.utime,
 * os.setxattr, os.removexattr: the path is the first argument.  The root is
 * read-only anyway; refusing here gives a clear error and keeps the policy
 * independent of how the container was mounted. */
static int
runner_audit_change(const char *event, PyObject *args)
{
	if (PyTuple_GET_SIZE(args) < 1)
		return runner_audit_refuse(event);
	return runner_audit_check_path(event, PyTuple_GET_ITEM(args, 0), true,
	    "", RUNNER_AUDIT_WRITE_REASON);
}

/* os.rename (src, dst, src_dir_fd, dst_dir_fd), os.replace too. */
static int
runner_audit_rename(const char *event, PyObject *args)
{
	if (PyTuple_GET_SIZE(args) < 2)
		return runner_audit_refuse(event);
	if (runner_audit_check_path(event, PyTuple_GET_ITEM(args, 0), true, "",
		RUNNER_AUDIT_WRITE_REASON) != 0)
		return -1;
	return runner_audit_check_path(event, PyTuple_GET_ITEM(args, 1), true,
	    "", RUNNER_AUDIT_WRITE_REASON);
}

/* os.chdir (path), os.fchdir too: only into /tmp.  Relative paths are
 * checked against the current directory; keeping it under /tmp (where it
 * starts: the container's WorkingDir) means that a thread changing
 * directory between another thread's check and its open() cannot move a
 * relative path out of /tmp.  A descriptor is refused for the same reason. */
static int
runner_audit_chdir(const char *event, PyObject *args)
{
	if (PyTuple_GET_SIZE(args) < 1 || PyLong_Check(PyTuple_GET_ITEM(args, 0)))
		return runner_audit_refuse(event);
	return runner_audit_check_path(event, PyTuple_GET_ITEM(args, 0), true, "",
	    "the working directory stays under " PROTOCOL_DATA_DIR " or /tmp");
}

/* os.kill (pid, signal): the program may signal itself (as os.abort() and
 * signal.raise_signal() do, with no event), nothing else: not the init
 * process, not a process group (0, -1, negative pids). */
static int
runner_audit_kill(const char *event, PyObject *args)
{
	long pid;

	if (PyTuple_GET_SIZE(args) < 1 ||
	    !PyLong_Check(PyTuple_GET_ITEM(args, 0)))
		return runner_audit_refuse(event);
	pid = PyLong_AsLong(PyTuple_GET_ITEM(args, 0));
	if (pid == -1 && PyErr_Occurred())
		return -1;
	if (pid > 0 && pid == (long)getpid())
		return 0;
	PyErr_Format(PyExc_PermissionError,
	    "%s of pid %ld is not allowed in the sandbox: "
	    "a program may signal only itself",
	    event, pid);
	return -1;
}

/* ctypes.dlopen (name, mode): `import ctypes` opens the running program
 * (name None) for ctypes.pythonapi; pandas imports ctypes at import.  That
 * handle reaches nothing by itself: finding a symbol in it (ctypes.dlsym)
 * and calling one (ctypes.call_function) are refused.  Loading any library
 * is refused. */
static int
runner_audit_dlopen(const char *event, PyObject *args)
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
static int
runner_audit_import(const char *event, PyObject *args)
{
	PyObject *name, *message;
	int refused;

	(void)event;
	if (PyTuple_GET_SIZE(args) < 1 ||
	    !PyUnicode_Check(PyTuple_GET_ITEM(args, 0)))
		return 0;
	name = PyTuple_GET_ITEM(args, 0);
	refused = runner_top_level_name_in(name, runner_audit_refused_imports,
	    RUNNER_ARRAY_LEN(runner_audit_refused_imports));
	if (refused <= 0)
		return refused;
	message = PyUnicode_FromFormat(
	    "import of %R is not allowed in the sandbox", name);
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
	{ "open", runner_audit_open },
	{ "os.listdir", runner_audit_list },
	{ "os.scandir", runner_audit_list },
	{ "os.chdir", runner_audit_chdir },
	{ "os.remove", runner_audit_change },
	{ "os.rmdir", runner_audit_change },
	{ "os.mkdir", runner_audit_change },
	{ "os.chmod", runner_audit_change },
	{ "os.chown", runner_audit_change },
	{ "os.truncate", runner_audit_change },
	{ "os.utime", runner_audit_change },
	{ "os.setxattr", runner_audit_change },
	{ "os.removexattr", runner_audit_change },
	{ "os.rename", runner_audit_rename },
	/* a link in /tmp to a file elsewhere would pass the path check */
	{ "os.link", NULL },
	{ "os.symlink", NULL },
	/* processes.  os.spawn is Windows' event: on POSIX os.spawn*() is
	 * fork() + exec(), refused as os.fork. */
	{ "os.system", NULL },
	{ "os.exec", NULL },
	{ "os.posix_spawn", NULL },
	{ "os.spawn", NULL },
	{ "os.fork", NULL },
	{ "os.forkpty", NULL },
	{ "subprocess.Popen", NULL },
	{ "pty.spawn", NULL },
	{ "os.kill", runner_audit_kill },
	{ "os.killpg", NULL },
	/* memory that can be made executable (the event does not carry prot);
	 * costs pandas' memory_map=True and numpy.memmap, both file-backed */
	{ "mmap.__new__", NULL },
	{ "ctypes.dlopen", runner_audit_dlopen },
	{ "import", runner_audit_import },
};

/* Whole families refused by prefix, after the exact names above: every
 * socket operation (there is no network, and name lookups would read /etc),
 * every other ctypes operation (symbols, calls, memory at an address). */
static const char *const runner_audit_refused_prefixes[] = { "socket.",
	"ctypes." };

/* Called by CPython for every audit event, in every thread, with the GIL
 * held and no exception set; returning -1 with an exception set makes the
 * operation raise it.  It runs thousands of times during an import of
 * pandas, so it only compares names until one matches. */
static int
runner_audit_hook(const char *event, PyObject *args, void *user_data)
{
	(void)user_data;
	for (size_t i = 0; i < RUNNER_ARRAY_LEN(runner_audit_events); i++) {
		if (strcmp(event, runner_audit_events[i].event) != 0)
			continue;
		if (runner_audit_events[i].check == NULL)
			return runner_audit_refuse(event);
		return runner_audit_events[i].check(event, args);
	}
	for (size_t i = 0; i < RUNNER_ARRAY_LEN(runner_audit_refused_prefixes);
	     i++) {
		const char *prefix = runner_audit_refused_prefixes[i];
		if (strncmp(event, prefix, strlen(prefix)) == 0)
			return runner_audit_refuse(event);
	}
	if (strcmp(event, RUNNER_AUDIT_ARMED_EVENT) == 0)
		runner_audit_armed = true;
	return 0;
}

static void
runner_audit_add_rule(const char *path, size_t len,
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
		runner_fail(PROTOCOL_EXIT_NO_INTERPRETER,
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
static void
runner_audit_add_prefix_rules(void)
{
	static const char *const prefix_names[] = { "prefix", "base_prefix",
		"exec_prefix", "base_exec_prefix" };
	PyObject *platlibdir_object = PySys_GetObject("platlibdir"); /* borrowed */
	const char *libdirs[] = { "lib", "lib" };
	char stem[RUNNER_AUDIT_PATH_MAX_BYTES];

	if (platlibdir_object != NULL && PyUnicode_Check(platlibdir_object)) {
		libdirs[1] = PyUnicode_AsUTF8(platlibdir_object);
		if (libdirs[1] == NULL)
			runner_fail(PROTOCOL_EXIT_NO_INTERPRETER,
			    "audit hook: sys.platlibdir is not UTF-8");
	}
	for (size_t i = 0; i < RUNNER_ARRAY_LEN(prefix_names); i++) {
		PyObject *prefix_object =
		    PySys_GetObject(prefix_names[i]); /* borrowed */
		const char *prefix;

		if (prefix_object == NULL || !PyUnicode_Check(prefix_object))
			continue;
		prefix = PyUnicode_AsUTF8(prefix_object);
		if (prefix == NULL)
			runner_fail(PROTOCOL_EXIT_NO_INTERPRETER,
			    "audit hook: sys.%s is not UTF-8", prefix_names[i]);
		/* A relative or empty prefix names no installation to allow. */
		if (prefix[0] != '/')
			continue;
		for (size_t j = 0; j < RUNNER_ARRAY_LEN(libdirs); j++) {
			int len = snprintf(stem, sizeof(stem), "%s/%s/python3",
			    strcmp(prefix, "/") == 0 ? "" : prefix, libdirs[j]);
			if (len < 0 || (size_t)len >= sizeof(stem))
				runner_fail(PROTOCOL_EXIT_NO_INTERPRETER,
				    "audit hook: sys.%s is too long",
				    prefix_names[i]);
			runner_audit_add_rule(stem, (size_t)len,
			    RUNNER_MATCH_STEM, false);
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
void
runner_audit_install(void)
{
	for (size_t i = 0; i < RUNNER_ARRAY_LEN(runner_audit_fixed_rules); i++)
		runner_audit_add_rule(runner_audit_fixed_rules[i].path,
		    strlen(runner_audit_fixed_rules[i].path),
		    runner_audit_fixed_rules[i].match,
		    runner_audit_fixed_rules[i].writable);
	runner_audit_add_prefix_rules();

	if (PySys_AddAuditHook(runner_audit_hook, NULL) != 0 ||
	    PySys_Audit(RUNNER_AUDIT_ARMED_EVENT, NULL) != 0 ||
	    !runner_audit_armed) {
		runner_print_exception();
		runner_fail(PROTOCOL_EXIT_NO_INTERPRETER,
		    "cannot install the audit hook");
	}
}
