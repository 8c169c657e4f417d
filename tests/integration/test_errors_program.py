#!/usr/bin/python3
"""Programs that fail, and output that is awkward: still a 200 answer, with the right verdict.

Covers syntax errors, uncaught exceptions (exact tracebacks), sys.exit in its three forms,
the restricted builtins (NameError), the import allowlist (ImportError naming the module),
stdout and stderr kept apart, and output bytes that are not valid UTF-8 or hold a NUL.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pycagetest as pt  # noqa: E402

RESTRICTED_BUILTINS = ["open", "eval", "exec", "compile", "breakpoint",
                       "globals", "locals", "vars", "help"]
REFUSED_IMPORTS = [("import os", "os"), ("import subprocess", "subprocess"),
                   ("import socket", "socket"), ("from os import path", "os")]


def failed(stdout="", stderr="", exit_code=1):
    """Expectation of a run that ended with a non-zero exit status."""
    return {"stdout": stdout, "stderr": stderr, "exit_code": exit_code, "status": "error",
            "stdout_truncated": False, "stderr_truncated": False}


CASES = [
    {"name": "a syntax error runs nothing and reports SyntaxError",
     "code": 'print("before")\nprint("unclosed"\n',
     "expect": failed(stderr=pt.Contains("SyntaxError"))},
    {"name": "an uncaught ZeroDivisionError prints the exact traceback",
     "code": "x = 1\ny = x / 0\n",
     "expect": failed(stderr='Traceback (most recent call last):\n'
                             '  File "<string>", line 2, in <module>\n'
                             'ZeroDivisionError: division by zero\n')},
    {"name": "a traceback through a function keeps the output printed before it",
     "code": "def share(n):\n    return 10 // n\n\nprint(share(2))\nshare(0)\n",
     "expect": failed(stdout="5\n",
                      stderr='Traceback (most recent call last):\n'
                             '  File "<string>", line 5, in <module>\n'
                             '  File "<string>", line 2, in share\n'
                             'ZeroDivisionError: integer division or modulo by zero\n')},
    {"name": "sys.exit(3) gives exit_code 3 and status error",
     "code": "import sys\nsys.exit(3)\n",
     "expect": failed(exit_code=3)},
    {"name": "sys.exit() gives exit_code 0 and status ok",
     "code": "import sys\nsys.exit()\n",
     "expect": pt.ok_with("")},
    {"name": 'sys.exit("bye") prints bye on stderr, exit_code 1',
     "code": 'import sys\nsys.exit("bye")\n',
     "expect": failed(stderr="bye\n")},
    {"name": "output printed before sys.exit(4) is kept",
     "code": 'import sys\nprint("kept")\nsys.exit(4)\n',
     "expect": failed(stdout="kept\n", exit_code=4)},
    {"name": "stdout and stderr are captured apart",
     "code": 'import sys\nprint("out")\nprint("err", file=sys.stderr)\nsys.stdout.write("out2\\n")\n',
     "expect": {**pt.ok_with("out\nout2\n"), "stderr": "err\n"}},
    {"name": "invalid UTF-8 on stdout becomes U+FFFD",
     "code": 'import sys\nsys.stdout.buffer.write(b"a\\xffb\\n")\n',
     "expect": pt.ok_with("a\ufffdb\n")},
    {"name": "a UTF-8 sequence cut short at the end becomes U+FFFD",
     "code": 'import sys\nsys.stdout.buffer.write(b"ok\\xc3")\n',
     "expect": pt.ok_with("ok\ufffd")},
    {"name": "invalid UTF-8 on stderr becomes U+FFFD",
     "code": 'import sys\nsys.stderr.buffer.write(b"\\xfe\\n")\n',
     "expect": {**pt.ok_with(""), "stderr": "\ufffd\n"}},
    {"name": "a NUL byte in output comes back as \\u0000",
     "code": 'print("a\\0b")\n',
     "expect": pt.ok_with("a\x00b\n")},
] + [
    {"name": f"builtin {name} is missing (NameError)",
     "code": f"{name}\n",
     "expect": failed(stderr=pt.Contains(f"NameError: name '{name}' is not defined"))}
    for name in RESTRICTED_BUILTINS
] + [
    {"name": f"'{statement}' raises ImportError naming {module}",
     "code": f"{statement}\n",
     "expect": failed(stderr=pt.Contains(f"ImportError: import of '{module}' is not allowed"))}
    for statement, module in REFUSED_IMPORTS
]


def main():
    tap = pt.start(len(CASES))
    for case in CASES:
        tap.check(case["name"], pt.run_case, case)
    tap.done()


if __name__ == "__main__":
    main()
