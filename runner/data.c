/*
 * runner/data.c - the data record: the program's uncaught exception as
 * data, the repr() of its last expression, and the "what to do instead"
 * notes on the sandbox's refusals (docs/RUNNER.md, "Data record").
 *
 * Owns: a small Python helper compiled at start (its own file name,
 * "<pycage-data>", so its frames never pass for the program's) and the
 * record's bytes.  The program's code is still run from C
 * (runner_run_program), so no helper frame appears in a traceback.
 * Never: changes stdout or stderr (the record is on fd 1 after the
 * program's output, framed by the nonce; the executor cuts it off) or the
 * exit code.  The helper runs with the real builtins after the program,
 * so a program that patched json, repr or str can make the record say
 * anything, or nothing: the record only describes its own answer, and the
 * front validates every byte of it (src/front/runner_data.c).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "data.h"
#include "protocol.h"

#define STR_(x) #x
#define STR(x) STR_(x)

static const char runner_data_source[] =
    /* json itself imports re (about 10 ms cold); the C escaper is all
	 * the record needs, and what json.dumps(ensure_ascii=False) uses. */
    "from _json import encode_basestring as _quote\n"
    "import _ast\n"
    "RESULT_MAX = " STR(
	PROTOCOL_RESULT_MAX_BYTES) "\n"
				   "TYPE_MAX = " STR(
				       PROTOCOL_EXC_TYPE_MAX_BYTES) "\n"
								    "MESSAGE_MAX = " STR(
									PROTOCOL_EXC_MESSAGE_MAX_BYTES) "\n"
													"FRAMES_MAX = " STR(
													    PROTOCOL_EXC_FRAMES_MAX) "\n"
																     "TEXT_MAX = " STR(
																	 PROTOCOL_EXC_TEXT_MAX_BYTES) "\n"
																				      "def dumps(o):\n"
																				      "    if o is None:\n"
																				      "        return 'null'\n"
																				      "    if o is True:\n"
																				      "        return 'true'\n"
																				      "    if o is False:\n"
																				      "        return 'false'\n"
																				      "    if type(o) is int:\n"
																				      "        return int.__repr__(o)\n"
																				      "    if type(o) is str:\n"
																				      "        return _quote(o)\n"
																				      "    if type(o) is list:\n"
																				      "        return '[' + ','.join([dumps(v) for v in o]) + ']'\n"
																				      "    if type(o) is dict:\n"
																				      "        return '{' + ','.join([_quote(k) + ':' + dumps(v) for k, v in o.items()]) + '}'\n"
																				      "    raise TypeError(type(o).__name__)\n"
																				      "state = {'exception': None, 'result': None, 'result_truncated': False}\n"
																				      "OPEN_NOTE = ('pycage: open() is not available in the sandbox. The '\n"
																				      "    'request\\'s files are in the working directory: read them with '\n"
																				      "    'pandas (pd.read_csv(\"name.csv\"), pd.read_excel) or '\n"
																				      "    'openpyxl.load_workbook(\"name.xlsx\"); files saved there (df.to_csv, '\n"
																				      "    'wb.save) come back in the answer; stdin is read with input().')\n"
																				      "IMPORT_NOTE = ('pycage: use only the allowed modules (GET /v1/runtime '\n"
																				      "    'lists them with their versions): math, json, re, datetime, '\n"
																				      "    'collections, itertools, statistics, numpy, pandas, openpyxl, '\n"
																				      "    'sympy and more of the standard library.')\n"
																				      "def cut(s, limit):\n"
																				      "    b = s.encode('utf-8', 'backslashreplace')\n"
																				      "    if len(b) <= limit:\n"
																				      "        return b.decode('utf-8'), False\n"
																				      "    return b[:limit].decode('utf-8', 'ignore'), True\n"
																				      "def split(source):\n"
																				      "    tree = compile(source, '<string>', 'exec', _ast.PyCF_ONLY_AST)\n"
																				      "    if not tree.body or not isinstance(tree.body[-1], _ast.Expr):\n"
																				      "        return None\n"
																				      "    head = _ast.Module(body=tree.body[:-1], type_ignores=[])\n"
																				      "    last = _ast.Expression(body=tree.body[-1].value)\n"
																				      "    return (compile(head, '<string>', 'exec'),\n"
																				      "            compile(last, '<string>', 'eval'))\n"
																				      "def result(value):\n"
																				      "    try:\n"
																				      "        text = repr(value)\n"
																				      "        if type(text) is not str:\n"
																				      "            return\n"
																				      "        state['result'], state['result_truncated'] = cut(text, RESULT_MAX)\n"
																				      "    except BaseException:\n"
																				      "        pass\n"
																				      "def type_name(t):\n"
																				      "    module = getattr(t, '__module__', None)\n"
																				      "    name = getattr(t, '__qualname__', None) or t.__name__\n"
																				      "    if module in (None, 'builtins', '__main__'):\n"
																				      "        return name\n"
																				      "    return f'{module}.{name}'\n"
																				      "def safe_str(e):\n"
																				      "    try:\n"
																				      "        return str(e)\n"
																				      "    except BaseException:\n"
																				      "        return '<exception str() failed>'\n"
																				      "def library_line(filename, lineno):\n"
																				      "    try:\n"
																				      "        import linecache\n"
																				      "        return linecache.getline(filename, lineno).strip()\n"
																				      "    except BaseException:\n"
																				      "        return ''\n"
																				      "def exception(e, source):\n"
																				      "    if isinstance(e, NameError) and getattr(e, 'name', None) == 'open':\n"
																				      "        e.add_note(OPEN_NOTE)\n"
																				      "    lines = source.split('\\n')\n"
																				      "    described = {'type': cut(type_name(type(e)), TYPE_MAX)[0]}\n"
																				      "    if isinstance(e, SyntaxError):\n"
																				      "        described['message'] = cut(str(e.msg), MESSAGE_MAX)[0]\n"
																				      "        described['line'] = e.lineno if type(e.lineno) is int else None\n"
																				      "        described['offset'] = e.offset if type(e.offset) is int else None\n"
																				      "        described['traceback'] = []\n"
																				      "        state['exception'] = described\n"
																				      "        return\n"
																				      "    described['message'] = cut(safe_str(e), MESSAGE_MAX)[0]\n"
																				      "    frames = []\n"
																				      "    tb = e.__traceback__\n"
																				      "    while tb is not None:\n"
																				      "        code = tb.tb_frame.f_code\n"
																				      "        mine = code.co_filename == '<string>'\n"
																				      "        if mine or tb.tb_next is None:\n"
																				      "            lineno = tb.tb_lineno\n"
																				      "            if mine:\n"
																				      "                text = lines[lineno - 1].strip() if 0 < lineno <= len(lines) else ''\n"
																				      "            else:\n"
																				      "                text = library_line(code.co_filename, lineno)\n"
																				      "            frames.append({'line': lineno,\n"
																				      "                           'function': cut(code.co_name, TEXT_MAX)[0],\n"
																				      "                           'text': cut(text, TEXT_MAX)[0],\n"
																				      "                           'mine': mine})\n"
																				      "        tb = tb.tb_next\n"
																				      "    frames = frames[-FRAMES_MAX:]\n"
																				      "    line = None\n"
																				      "    for frame in frames:\n"
																				      "        if frame.pop('mine'):\n"
																				      "            line = frame['line']\n"
																				      "    described['line'] = line\n"
																				      "    described['traceback'] = frames\n"
																				      "    state['exception'] = described\n"
																				      "import os as _os, _stat, binascii as _binascii\n"
																				      "DATA_DIR = '" PROTOCOL_DATA_DIR
																				      "'\n"
																				      "FILES_MAX = " STR(
																					  PROTOCOL_FILES_MAX) "\n"
																							      "files_in = {}\n"
																							      "files_out_max = [0]\n"
																							      "def files(written, out_max):\n"
																							      "    for name, ino, size, mtime in written:\n"
																							      "        files_in[name] = (ino, size, mtime)\n"
																							      "    files_out_max[0] = out_max\n"
																							      "    state['files'] = []\n"
																							      "    state['files_truncated'] = False\n"
																							      "def name_ok(name):\n"
																							      "    return (0 < len(name) <= 100 and name[0] != '.' and\n"
																							      "            all(c.isascii() and (c.isalnum() or c in '._-') for c in name))\n"
																							      "def collect():\n"
																							      "    if 'files' not in state:\n"
																							      "        return\n"
																							      "    out, total, truncated = [], 0, False\n"
																							      "    try:\n"
																							      "        names = sorted(e.name for e in _os.scandir(DATA_DIR))\n"
																							      "    except BaseException:\n"
																							      "        return\n"
																							      "    for name in names:\n"
																							      "        if not name_ok(name):\n"
																							      "            truncated = True\n"
																							      "            continue\n"
																							      "        try:\n"
																							      "            fd = _os.open(DATA_DIR + '/' + name, _os.O_RDONLY | _os.O_NOFOLLOW |\n"
																							      "                          _os.O_NONBLOCK | _os.O_CLOEXEC)\n"
																							      "        except BaseException:\n"
																							      "            continue\n"
																							      "        try:\n"
																							      "            st = _os.fstat(fd)\n"
																							      "            if not _stat.S_ISREG(st.st_mode):\n"
																							      "                continue\n"
																							      "            if files_in.get(name) == (st.st_ino, st.st_size, st.st_mtime_ns):\n"
																							      "                continue\n"
																							      "            if len(out) == FILES_MAX or total + st.st_size > files_out_max[0]:\n"
																							      "                truncated = True\n"
																							      "                continue\n"
																							      "            chunks, left = [], st.st_size\n"
																							      "            while left > 0:\n"
																							      "                chunk = _os.read(fd, min(left, 1 << 20))\n"
																							      "                if not chunk:\n"
																							      "                    break\n"
																							      "                chunks.append(chunk)\n"
																							      "                left -= len(chunk)\n"
																							      "            data = b''.join(chunks)\n"
																							      "            total += len(data)\n"
																							      "            out.append({'name': name, 'size': len(data),\n"
																							      "                        'data': _binascii.b2a_base64(data, newline=False).decode('ascii')})\n"
																							      "        except BaseException:\n"
																							      "            truncated = True\n"
																							      "        finally:\n"
																							      "            _os.close(fd)\n"
																							      "    state['files'] = out\n"
																							      "    state['files_truncated'] = truncated\n"
																							      "def record():\n"
																							      "    collect()\n"
																							      "    return dumps(state).encode('utf-8')\n";

static PyObject *runner_data_ns; /* the helper's globals, for life */

static PyObject *
runner_data_call(const char *name, PyObject *args)
{
	PyObject *function;

	if (runner_data_ns == NULL || args == NULL)
		return NULL;
	function = PyDict_GetItemString(runner_data_ns, name); /* borrowed */
	if (function == NULL)
		return NULL;
	return PyObject_CallObject(function, args);
}

int
runner_data_init(void)
{
	PyObject *code, *result;

	if ((runner_data_ns = PyDict_New()) == NULL ||
	    PyDict_SetItemString(runner_data_ns, "__builtins__",
		PyEval_GetBuiltins()) != 0)
		return -1;
	code =
	    Py_CompileString(runner_data_source, "<pycage-data>", Py_file_input);
	if (code == NULL)
		return -1;
	result = PyEval_EvalCode(code, runner_data_ns, runner_data_ns);
	Py_DECREF(code);
	if (result == NULL)
		return -1;
	Py_DECREF(result);
	return 0;
}

PyObject *
runner_data_split(PyObject *source, PyObject **last)
{
	PyObject *args = Py_BuildValue("(O)", source);
	PyObject *pair = runner_data_call("split", args);
	PyObject *head = NULL;

	Py_XDECREF(args);
	*last = NULL;
	if (pair == NULL) {
		PyErr_Clear(); /* the whole code object runs instead */
		return NULL;
	}
	if (PyTuple_Check(pair) && PyTuple_GET_SIZE(pair) == 2) {
		head = PyTuple_GET_ITEM(pair, 0);
		*last = PyTuple_GET_ITEM(pair, 1);
		Py_INCREF(head);
		Py_INCREF(*last);
	}
	Py_DECREF(pair);
	return head;
}

void
runner_data_result(PyObject *value)
{
	PyObject *args, *done;

	if (value == Py_None)
		return;
	args = Py_BuildValue("(O)", value);
	done = runner_data_call("result", args);
	Py_XDECREF(args);
	if (done == NULL)
		PyErr_Clear();
	Py_XDECREF(done);
}

void
runner_data_exception(PyObject *source)
{
	PyObject *type, *value, *traceback, *args, *done;

	PyErr_Fetch(&type, &value, &traceback);
	PyErr_NormalizeException(&type, &value, &traceback);
	if (value == NULL) {
		PyErr_Restore(type, value, traceback);
		return;
	}
	if (traceback != NULL)
		PyException_SetTraceback(value, traceback);
	args = Py_BuildValue("(OO)", value, source);
	done = runner_data_call("exception", args);
	Py_XDECREF(args);
	if (done == NULL)
		PyErr_Clear();
	Py_XDECREF(done);
	PyErr_Restore(type, value, traceback);
}

static int
runner_data_write_all(const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(STDOUT_FILENO, p, n);
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

void
runner_data_files(PyObject *written, size_t out_max)
{
	PyObject *args = Py_BuildValue("(On)", written, (Py_ssize_t)out_max);
	PyObject *done = runner_data_call("files", args);

	Py_XDECREF(args);
	if (done == NULL)
		PyErr_Clear();
	Py_XDECREF(done);
}

void
runner_data_write(const char *nonce)
{
	PyObject *args = PyTuple_New(0);
	PyObject *bytes = runner_data_call("record", args);
	char header[PROTOCOL_DATA_HEADER_MAX_BYTES];
	int n;

	Py_XDECREF(args);
	if (bytes == NULL || !PyBytes_Check(bytes) ||
	    (size_t)PyBytes_GET_SIZE(bytes) > PROTOCOL_DATA_MAX_BYTES) {
		PyErr_Clear();
		Py_XDECREF(bytes);
		return;
	}
	n = snprintf(header, sizeof(header), PROTOCOL_DATA_PREFIX "%s %zd\n",
	    nonce, PyBytes_GET_SIZE(bytes));
	if (n > 0 && (size_t)n < sizeof(header) &&
	    runner_data_write_all(header, (size_t)n) == 0)
		(void)runner_data_write_all(PyBytes_AS_STRING(bytes),
		    (size_t)PyBytes_GET_SIZE(bytes));
	Py_DECREF(bytes);
}
