#!/usr/bin/python3
"""What an agent needs from one run (issue 17): the exception as data, the last expression's
value, input() over the request's stdin, the "what to do instead" line of a refusal, and the
CPU and memory the host measured.

Every answer is checked for its shape too (pycagetest.shape_problems: the new keys come after
the original ones, in order). stdout and stderr stay exactly what `python3 -c` prints: the
cases that look at `exception` or `result` also compare the streams byte for byte.
"""

import base64
import io
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pycagetest as pt  # noqa: E402

MB = 1000 * 1000


def failed(stdout="", stderr="", exit_code=1, **more):
    return {"stdout": stdout, "stderr": stderr, "exit_code": exit_code, "status": "error",
            "stdout_truncated": False, "stderr_truncated": False, **more}


def gvisor():
    """Whether the service runs its sandboxes under gVisor (runtime = runsc in its config)."""
    try:
        with open(pt.PYCAGE_CONF) as conf:
            return any(line.split("=", 1)[0].strip() == "runtime" and
                       line.split("=", 1)[1].strip() == "runsc" for line in conf if "=" in line)
    except OSError:
        return False


ZERO_DIVISION = {
    "type": "ZeroDivisionError", "message": "division by zero", "line": 3,
    "traceback": [{"line": 3, "function": "<module>", "text": "print(a / b)"}]}

CASES = [
    # ---- the exception as data
    {"name": "an uncaught exception is data: type, message, line, the user's frames",
     "code": "a = 1\nb = 0\nprint(a / b)\n",
     "expect": failed(stderr='Traceback (most recent call last):\n'
                             '  File "<string>", line 3, in <module>\n'
                             'ZeroDivisionError: division by zero\n',
                      exception=ZERO_DIVISION, result=None)},
    {"name": "frames through a function, innermost last, line is the innermost user frame",
     "code": "def share(n):\n    return 10 // n\n\nprint(share(2))\nshare(0)\n",
     "expect": failed(stdout="5\n",
                      stderr='Traceback (most recent call last):\n'
                             '  File "<string>", line 5, in <module>\n'
                             '  File "<string>", line 2, in share\n'
                             'ZeroDivisionError: integer division or modulo by zero\n',
                      exception={"type": "ZeroDivisionError",
                                 "message": "integer division or modulo by zero", "line": 2,
                                 "traceback": [
                                     {"line": 5, "function": "<module>", "text": "share(0)"},
                                     {"line": 2, "function": "share", "text": "return 10 // n"}]})},
    {"name": "an error from a library: the user's frame, then only the frame it came out of",
     "code": 'import json\njson.loads("{")\n',
     "expect": failed(stderr=pt.Contains("json.decoder.JSONDecodeError: Expecting property name"),
                      exception={"type": "json.decoder.JSONDecodeError",
                                 "message": "Expecting property name enclosed in double quotes: "
                                            "line 1 column 2 (char 1)",
                                 "line": 2,
                                 "traceback": [
                                     {"line": 2, "function": "<module>",
                                      "text": 'json.loads("{")'},
                                     {"line": 353, "function": "raw_decode",
                                      "text": "obj, end = self.scan_once(s, idx)"}]})},
    {"name": "a SyntaxError gives line and offset and no frames; nothing ran",
     "code": 'print("before")\nif x\n    y\n',
     "expect": failed(stderr='  File "<string>", line 2\n    if x\n        ^\n'
                             "SyntaxError: expected ':'\n",
                      exception={"type": "SyntaxError", "message": "expected ':'", "line": 2,
                                 "offset": 5, "traceback": []})},
    {"name": "an IndentationError gives line and offset",
     "code": "def f():\nreturn 1\n",
     "expect": failed(stderr=pt.Contains("IndentationError: expected an indented block"),
                      exception={"type": "IndentationError",
                                 "message": "expected an indented block after function "
                                            "definition on line 1",
                                 "line": 2, "offset": 1, "traceback": []})},
    {"name": "a user-defined exception class is named as the traceback names it",
     "code": "class Oops(Exception):\n    pass\nraise Oops('bad input')\n",
     "expect": failed(stderr=pt.Contains("Oops: bad input"),
                      exception={"type": "Oops", "message": "bad input", "line": 3,
                                 "traceback": [{"line": 3, "function": "<module>",
                                                "text": "raise Oops('bad input')"}]})},
    {"name": "no exception: exception is null",
     "code": "print('fine')\n",
     "expect": {**pt.ok_with("fine\n"), "exception": None, "result": None,
                "result_truncated": False}},
    {"name": "sys.exit(3) is not an exception",
     "code": "import sys\nsys.exit(3)\n",
     "expect": failed(exit_code=3, exception=None)},
    # ---- the "what to do instead" lines
    {"name": "open()'s NameError ends with one line saying what to do instead",
     "code": 'open("data.csv")\n',
     "expect": failed(stderr=pt.LastLine(r"pycage: open\(\) is not available in the sandbox\..*"
                                         r"(stdin|input\(\)).*"),
                      exception={"type": "NameError", "message": "name 'open' is not defined",
                                 "line": 1, "traceback": [{"line": 1, "function": "<module>",
                                                           "text": 'open("data.csv")'}]})},
    {"name": "a refused import's ImportError ends with a line naming GET /v1/runtime",
     "code": "import os\n",
     "expect": failed(stderr=pt.LastLine(r"pycage: use only the allowed modules "
                                         r"\(GET /v1/runtime lists them.*"),
                      exception={"type": "ImportError",
                                 "message": "import of 'os' is not allowed in the sandbox",
                                 "line": 1, "traceback": [{"line": 1, "function": "<module>",
                                                           "text": "import os"}]})},
    {"name": "an ImportError the program catches has the note but no effect on the run",
     "code": "try:\n    import os\nexcept ImportError as e:\n    print(e)\n",
     "expect": {**pt.ok_with("import of 'os' is not allowed in the sandbox\n"),
                "exception": None}},
    # ---- the last expression's value
    {"name": "2+2 as the last statement: result '4', stdout stays empty",
     "code": "2+2\n",
     "expect": {**pt.ok_with(""), "result": "4", "result_truncated": False}},
    {"name": "the last expression after other statements, repr() of it",
     "code": "x = {'a': [1, 2]}\nprint('side')\nx['a']\n",
     "expect": {**pt.ok_with("side\n"), "result": "[1, 2]"}},
    {"name": "a string's repr is quoted",
     "code": "'hé' + 'llo'\n",
     "expect": {**pt.ok_with(""), "result": "'héllo'"}},
    {"name": "a call that returns None (print) gives null",
     "code": "print(1+1)\n",
     "expect": {**pt.ok_with("2\n"), "result": None, "result_truncated": False}},
    {"name": "an assignment last gives null",
     "code": "x = 5\n",
     "expect": {**pt.ok_with(""), "result": None}},
    {"name": "df.describe() as the last line gives the table",
     "code": "import pandas as pd\ndf = pd.DataFrame({'a': [1, 2, 3]})\ndf.describe()\n",
     "expect": {**pt.ok_with(""), "result": pt.Contains("count  3.0", "mean   2.0")}},
    {"name": "a repr over 64 KiB is cut to 64 KiB on a character boundary, result_truncated",
     "code": "'é' * 40000\n",
     "expect": {**pt.ok_with(""), "result": pt.Utf8Length(pt.RESULT_CAP - 1, pt.RESULT_CAP),
                "result_truncated": True}},
    {"name": "the last expression raising is an ordinary exception",
     "code": "x = [1]\nx[5]\n",
     "expect": failed(stderr='Traceback (most recent call last):\n'
                             '  File "<string>", line 2, in <module>\n'
                             'IndexError: list index out of range\n',
                      result=None,
                      exception={"type": "IndexError", "message": "list index out of range",
                                 "line": 2, "traceback": [{"line": 2, "function": "<module>",
                                                           "text": "x[5]"}]})},
    # ---- input()
    {"name": "input() reads the request's stdin line by line",
     "code": "name = input()\nage = int(input('age? '))\nprint(name, age + 1)\n",
     "stdin": "ada\n36\n",
     "expect": pt.ok_with("age? ada 37\n")},
    {"name": "input() at the end of stdin raises EOFError",
     "code": "print(input())\ninput()\n",
     "stdin": "only line\n",
     "expect": failed(stdout="only line\n",
                      stderr='Traceback (most recent call last):\n'
                             '  File "<string>", line 2, in <module>\n'
                             'EOFError: EOF when reading a line\n',
                      exception={"type": "EOFError", "message": "EOF when reading a line",
                                 "line": 2, "traceback": [{"line": 2, "function": "<module>",
                                                           "text": "input()"}]})},
]


def case_usage_memory():
    """A 200 MB allocation: the host's cgroup peak is at least that (and under the limit)."""
    status, answer = pt.execute("x = bytearray(200 * 1000 * 1000)\nprint(len(x))\n")
    problems = pt.answer_problems(status, answer, pt.ok_with("200000000\n"))
    peak = (answer.get("usage") or {}).get("memory_peak_bytes")
    if type(peak) is not int or not 200 * MB <= peak <= 512 * 1024 * 1024:
        problems.append(f"usage.memory_peak_bytes: expected 200 MB to 512 MiB, got {peak!r}")
    return problems


def case_usage_cpu():
    """About a second of CPU (the program's own clock): the host counts about 1000 ms."""
    code = ("import time\nstart = time.process_time()\n"
            "while time.process_time() - start < 1.0:\n    pass\n")
    status, answer = pt.execute(code, timeout=10)
    problems = pt.answer_problems(status, answer, pt.ok_with(""))
    cpu = (answer.get("usage") or {}).get("cpu_ms")
    # gVisor's in-sandbox clock runs ahead of the host's count (test_limits.py).
    low = 300 if gvisor() else 900
    if type(cpu) is not int or not low <= cpu <= 1600:
        problems.append(f"usage.cpu_ms: expected {low} to 1600, got {cpu!r}")
    return problems


def case_usage_small():
    """print(1+1): little CPU, a queue time, every count an integer."""
    status, answer = pt.execute("print(1+1)\n")
    problems = pt.answer_problems(status, answer, pt.ok_with("2\n"))
    usage = answer.get("usage") or {}
    if not all(type(usage.get(key)) is int for key in pt.USAGE_KEYS):
        problems.append(f"usage: expected three integers, got {usage!r}")
    elif usage["cpu_ms"] > 500:
        problems.append(f"usage.cpu_ms: expected at most 500 for print(1+1), got {usage!r}")
    return problems


def conf_value(key, default):
    """A key of the service's configuration file (pt.PYCAGE_CONF), else default."""
    try:
        with open(pt.PYCAGE_CONF) as conf:
            for line in conf:
                name, _, value = line.partition("=")
                if name.strip() == key and not line.lstrip().startswith("#"):
                    return value.strip()
    except OSError:
        pass
    return default


def case_runtime():
    """GET /v1/runtime: what a program in the sandbox sees, and the configuration's limits."""
    response = pt.request("GET", "/v1/runtime")
    if response.status != 200:
        return [f"GET /v1/runtime: expected 200, got {response.status}: {pt.show(response.body)}"]
    runtime = pt.parse_json(response.body)
    code = ("import sys, numpy, pandas, openpyxl, sympy, json\n"
            "print(json.dumps({'python': '%d.%d.%d' % sys.version_info[:3],\n"
            "    'libraries': {m.__name__: m.__version__ for m in (numpy, pandas, openpyxl, sympy)}}))\n")
    status, answer = pt.execute(code, timeout=20)
    problems = pt.answer_problems(status, answer, {"exit_code": 0})
    seen = pt.parse_json(answer.get("stdout", "").encode()) if not problems else {}
    expected = {
        "python": seen.get("python"),
        "libraries": seen.get("libraries"),
        "image": conf_value("image", "pycage-sandbox:latest"),
    }
    problems += pt.field_problems(runtime, expected)
    modules = runtime.get("modules")
    if not isinstance(modules, list) or not {"math", "json", "numpy", "pandas", "openpyxl",
                                              "sympy", "sys"} <= set(modules):
        problems.append(f"modules: expected the allowlist, got {pt.show(modules)}")
    elif {"os", "subprocess", "socket", "ctypes"} & set(modules):
        problems.append(f"modules: lists a refused module: {modules}")
    limits = runtime.get("limits") or {}
    want = {
        "timeout_default_s": float(conf_value("timeout_default_s", "10")),
        "timeout_max_s": float(conf_value("timeout_max_s", "30")),
        "memory_bytes": int(conf_value("memory_mb", "512")) * 1024 * 1024,
        "cpus": int(conf_value("cpu_millis", "500")) / 1000,
        "output_max_bytes": int(conf_value("output_max_bytes", "1048576")),
        "code_max_bytes": int(conf_value("code_max_bytes", "262144")),
        "stdin_max_bytes": int(conf_value("stdin_max_bytes", "1048576")),
        "result_max_bytes": pt.RESULT_CAP,
        "files_max": 32,
        "files_max_bytes": int(conf_value("files_max_bytes", str(FILES_MAX))),
        "network": False,
    }
    problems += pt.field_problems(limits, want, "limits.")
    return problems


def case_runtime_modules_importable():
    """Every module /v1/runtime lists imports in the sandbox."""
    response = pt.request("GET", "/v1/runtime")
    modules = (pt.parse_json(response.body) or {}).get("modules") if response.status == 200 else None
    if not isinstance(modules, list) or not modules:
        return [f"GET /v1/runtime: no modules: {response.status} {pt.show(response.body)}"]
    code = "".join(f"import {name}\n" for name in modules) + "print('all imported')\n"
    status, answer = pt.execute(code, timeout=30)
    return pt.answer_problems(status, answer, pt.ok_with("all imported\n"))


# ---- files in and out

FILES_MAX = 8 * 1024 * 1024     # files_max_bytes, the default


def file_in(name, content, encoding=None):
    entry = {"name": name, "content": content}
    if encoding:
        entry["encoding"] = encoding
    return entry


def b64(data):
    return base64.b64encode(data).decode("ascii")


def files_of(answer):
    return {f.get("name"): f for f in answer.get("files") or []}


def returned_bytes(entry):
    if entry.get("encoding") == "base64":
        return base64.b64decode(entry["content"])
    return entry["content"].encode("utf-8")


def case_files_round_trip():
    """A CSV and bytes in; pandas reads them by name; a new CSV and new bytes come back
    (utf-8 and base64, with sizes); the unchanged inputs do not."""
    code = ("import pandas as pd\n"
            "df = pd.read_csv('sales.csv')\n"
            "df['double'] = df.sales * 2\n"
            "df.to_csv('out.csv', index=False)\n"
            "import io\n"
            "raw = pd.read_csv('sales.csv').to_numpy().tobytes()\n"
            "pd.Series([1, 2]).to_pickle('s.pkl')\n"
            "print(int(df.sales.sum()))\n")
    status, answer = pt.execute(code, files=[
        file_in("sales.csv", "region,sales\nnorth,120\nsouth,80\n"),
        file_in("blob.bin", b64(b"\x00\xff\x10"), "base64")], timeout=20)
    problems = pt.answer_problems(status, answer, {**pt.ok_with("200\n"),
                                                    "files_truncated": False})
    files = files_of(answer)
    if sorted(files) != ["out.csv", "s.pkl"]:
        problems.append(f"files: expected out.csv and s.pkl back, got {sorted(files)}")
        return problems
    out = files["out.csv"]
    want = {"name": "out.csv", "content": "region,sales,double\nnorth,120,240\nsouth,80,160\n",
            "encoding": "utf-8", "size": 47}
    if out != want:
        problems.append(f"out.csv: expected {want}, got {out}")
    pkl = files["s.pkl"]
    if pkl.get("encoding") != "base64" or pkl.get("size") != len(returned_bytes(pkl)) \
            or not returned_bytes(pkl).startswith(b"\x80"):
        problems.append(f"s.pkl: expected a base64 pickle with its size, got {pt.show(pkl)}")
    if list(answer).index("files") < list(answer).index("duration_ms"):
        problems.append("files comes before the original keys")
    return problems


def host_openpyxl():
    """openpyxl on the test side, from Debian's python3-openpyxl (scripts/common.sh installs
    it): the python3 running the tests may be another build of 3.11 (a pyenv one, say) whose
    own path lacks Debian's packages, so their directory is tried last."""
    try:
        import openpyxl
    except ImportError:
        sys.path.append("/usr/lib/python3/dist-packages")
        import openpyxl
    return openpyxl


def case_files_openpyxl_report():
    """The guide's case: a workbook built with openpyxl and df.to_excel("report.xlsx") in
    the sandbox; the returned bytes open with openpyxl here and hold the expected cells."""
    openpyxl = host_openpyxl()
    code = ("import openpyxl, pandas as pd\n"
            "wb = openpyxl.Workbook()\n"
            "ws = wb.active\n"
            "ws.title = 'summary'\n"
            "ws.append(['region', 'total'])\n"
            "ws.append(['north', 320])\n"
            "ws['C1'] = '=SUM(B2:B2)'\n"
            "wb.save('summary.xlsx')\n"
            "df = pd.DataFrame({'region': ['north', 'south'], 'sales': [120, 80]})\n"
            "df.to_excel('report.xlsx', index=False, sheet_name='sales')\n"
            "print('saved')\n")
    status, answer = pt.execute(code, timeout=30)
    problems = pt.answer_problems(status, answer, pt.ok_with("saved\n"))
    files = files_of(answer)
    if sorted(files) != ["report.xlsx", "summary.xlsx"]:
        return problems + [f"files: expected report.xlsx and summary.xlsx, got {sorted(files)}"]
    for entry in files.values():
        if entry.get("encoding") != "base64" or entry.get("size") != len(returned_bytes(entry)):
            problems.append(f"{entry.get('name')}: expected base64 bytes of its size")
    report = openpyxl.load_workbook(io.BytesIO(returned_bytes(files["report.xlsx"])))
    rows = [list(row) for row in report["sales"].iter_rows(values_only=True)]
    if rows != [["region", "sales"], ["north", 120], ["south", 80]]:
        problems.append(f"report.xlsx sheet 'sales': got {rows}")
    summary = openpyxl.load_workbook(io.BytesIO(returned_bytes(files["summary.xlsx"])))
    ws = summary["summary"]
    got = [ws["A1"].value, ws["B2"].value, ws["C1"].value]
    if got != ["region", 320, "=SUM(B2:B2)"]:
        problems.append(f"summary.xlsx cells A1, B2, C1: got {got}")
    return problems


def case_files_read_excel():
    """A workbook made here goes in base64; pd.read_excel and openpyxl.load_workbook read it
    by name; the input is not returned (unchanged)."""
    openpyxl = host_openpyxl()
    wb = openpyxl.Workbook()
    wb.active.append(["x", "y"])
    wb.active.append([1, 2])
    wb.active.append([3, 4])
    buffer = io.BytesIO()
    wb.save(buffer)
    code = ("import pandas as pd, openpyxl\n"
            "df = pd.read_excel('in.xlsx')\n"
            "print(int(df.y.sum()), openpyxl.load_workbook('in.xlsx').active['A3'].value)\n")
    status, answer = pt.execute(code, files=[file_in("in.xlsx", b64(buffer.getvalue()),
                                                     "base64")], timeout=30)
    return pt.answer_problems(status, answer, {**pt.ok_with("6 3\n"), "files": [],
                                               "files_truncated": False})


def case_files_changed_input():
    """An input file the program changes comes back; one it leaves alone does not."""
    code = ("import pandas as pd\n"
            "df = pd.read_csv('a.csv')\n"
            "df.assign(b=df.a + 1).to_csv('a.csv', index=False)\n")
    status, answer = pt.execute(code, files=[file_in("a.csv", "a\n1\n"),
                                             file_in("keep.txt", "same\n")])
    return pt.answer_problems(status, answer, {**pt.ok_with(""), "files": [
        {"name": "a.csv", "content": "a,b\n1,2\n", "encoding": "utf-8", "size": 8}],
        "files_truncated": False})


def case_files_too_many_out():
    """33 new files: 32 come back whole (by name order), files_truncated."""
    code = ("import pandas as pd\n"
            "for i in range(33):\n"
            "    pd.Series([i]).to_csv(f'f{i:02d}.csv', index=False)\n")
    status, answer = pt.execute(code, timeout=20)
    problems = pt.answer_problems(status, answer, {**pt.ok_with(""), "files_truncated": True})
    names = [f.get("name") for f in answer.get("files") or []]
    if names != [f"f{i:02d}.csv" for i in range(32)]:
        problems.append(f"files: expected f00.csv..f31.csv, got {names}")
    return problems


def case_files_too_large_out():
    """A file over files_max_bytes is left out whole; a small one still comes back."""
    code = ("import numpy as np, pandas as pd\n"
            "np.save('big.npy', np.zeros(9 * 1024 * 1024 // 8 + 1))\n"
            "pd.Series([1]).to_csv('small.csv', index=False)\n")
    status, answer = pt.execute(code, timeout=20)
    problems = pt.answer_problems(status, answer, {**pt.ok_with(""), "files_truncated": True})
    names = [f.get("name") for f in answer.get("files") or []]
    if names != ["small.csv"]:
        problems.append(f"files: expected only small.csv, got {names}")
    return problems


def case_files_at_limits():
    """32 files of 8 MiB in all, decoded, are accepted and readable by name."""
    size = FILES_MAX // 32
    files = [file_in(f"f{i:02d}.bin", b64(bytes([i]) * size), "base64") for i in range(32)]
    code = ("import io\n"
            "total = sum(len(io.FileIO(f'f{i:02d}.bin').read()) for i in range(32))\n"
            "print(total)\n")
    status, answer = pt.execute(code, files=files, timeout=30)
    return pt.answer_problems(status, answer, {**pt.ok_with(f"{FILES_MAX}\n"), "files": []})


REFUSED_FILES = [
    ("a name with a slash", [file_in("../etc/passwd", "x")], "bad_file_name"),
    ("a name starting with a dot", [file_in(".bashrc", "x")], "bad_file_name"),
    ("an empty name", [file_in("", "x")], "bad_file_name"),
    ("a name of 101 bytes", [file_in("a" * 101, "x")], "bad_file_name"),
    ("a name with a space", [file_in("a b.csv", "x")], "bad_file_name"),
    ("the same name twice", [file_in("a.csv", "x"), file_in("a.csv", "y")],
     "duplicate_file_name"),
    ("content that is not base64", [file_in("a.bin", "AP8", "base64")], "bad_base64"),
    ("base64 with a line break", [file_in("a.bin", "AP8=\nAP8=", "base64")], "bad_base64"),
    ("an unknown encoding", [file_in("a.bin", "x", "latin-1")], "bad_file_encoding"),
    ("33 files", [file_in(f"f{i}", "") for i in range(33)], "too_many_files"),
    ("8 MiB + 1 byte decoded", [file_in("a.bin", b64(b"\0" * (FILES_MAX - 1)), "base64"),
                                file_in("b.txt", "xx")], "files_too_large"),
    ("a file without content", [{"name": "a"}], "missing_file_field"),
    ("a file with an unknown key", [{"name": "a", "content": "", "mode": "w"}], "unknown_key"),
    ("files not a list", {"name": "a", "content": ""}, "wrong_type"),
    ("a content that is not a string", [{"name": "a", "content": 1}], "wrong_type"),
]


def case_files_refused(files, code):
    response = pt.execute_raw("print(1)\n", files=files)
    return pt.error_problems(response, 400, code)


def case_runtime_files_cwd():
    """A file saved by a bare name lands in the working directory and comes back; open is
    still not among the builtins."""
    code = ("import pandas as pd\n"
            "pd.Series([1]).to_csv('w.csv', index=False)\n"
            "print('open' in __builtins__, 'input' in __builtins__)\n")
    status, answer = pt.execute(code)
    return pt.answer_problems(status, answer, {**pt.ok_with("False True\n"), "files": [
        {"name": "w.csv", "content": "0\n1\n", "encoding": "utf-8", "size": 4}]})


def main():
    tap = pt.start(len(CASES) + 5 + 9 + len(REFUSED_FILES))
    for case in CASES:
        tap.check(case["name"], pt.run_case, case)
    tap.check("usage: a 200 MB allocation peaks at 200 MB or more", case_usage_memory)
    tap.check("usage: a 1 s busy loop reports about 1000 ms of CPU", case_usage_cpu)
    tap.check("usage: print(1+1) reports small integers", case_usage_small)
    tap.check("GET /v1/runtime: Python and library versions as the sandbox sees them, the "
              "allowlist, the configured limits", case_runtime)
    tap.check("GET /v1/runtime: every listed module imports in the sandbox",
              case_runtime_modules_importable)
    tap.check("files: a CSV and bytes in, new files back as utf-8 and base64",
              case_files_round_trip)
    tap.check("files: the guide's openpyxl report comes back and opens here",
              case_files_openpyxl_report)
    tap.check("files: a workbook in, read by pd.read_excel and openpyxl by name",
              case_files_read_excel)
    tap.check("files: a changed input comes back, an unchanged one does not",
              case_files_changed_input)
    tap.check("files: 33 written, 32 back, files_truncated", case_files_too_many_out)
    tap.check("files: a file over files_max_bytes is left out whole", case_files_too_large_out)
    tap.check("files: 32 files and 8 MiB decoded are accepted", case_files_at_limits)
    tap.check("files: the working directory holds them, open stays removed",
              case_runtime_files_cwd)
    tap.check("files: none written, none back", pt.run_case,
              {"code": "print(1)\n", "expect": {**pt.ok_with("1\n"), "files": [],
                                                 "files_truncated": False}})
    for desc, files, code in REFUSED_FILES:
        tap.check(f"files: {desc}: 400 {code}", case_files_refused, files, code)
    tap.done()


if __name__ == "__main__":
    main()
