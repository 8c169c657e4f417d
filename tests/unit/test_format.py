#!/usr/bin/python3
"""One code style for the C of src/, runner/ and tests/ (issue 14): the repository's
.clang-format, applied by `make format`.  Each C file is one point; a file that clang-format
would change fails with the first lines it would change.

clang-format 14 (Debian 12's clang-format-14) is pinned by name: another version formats
some constructs differently, and a style test must not depend on whichever is first on PATH.
"""
import difflib
import os
import shutil
import subprocess
import sys

TOP = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
FORMATTER = "clang-format-14"
DIRECTORIES = ("src", "runner", os.path.join("tests", "unit"), os.path.join("tests", "fuzz"))


def c_files():
    for top in DIRECTORIES:
        for root, _, names in sorted(os.walk(os.path.join(TOP, top))):
            for name in sorted(names):
                if name.endswith((".c", ".h")):
                    yield os.path.join(root, name)


def main():
    files = list(c_files())
    formatter = shutil.which(FORMATTER)
    style = os.path.join(TOP, ".clang-format")
    if formatter is None or not os.path.exists(style):
        print("1..1")
        print(f"not ok 1 - {FORMATTER} and {style} are there")
        print(f"# {FORMATTER}: {formatter}; scripts/common.sh installs it (package clang-format-14)")
        return 1
    print(f"1..{len(files)}")
    failures = 0
    for number, path in enumerate(files, 1):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        formatted = subprocess.run([formatter, f"--style=file:{style}",
                                    f"--assume-filename={path}"], input=text,
                                   capture_output=True, text=True, check=False)
        name = os.path.relpath(path, TOP)
        ok = formatted.returncode == 0 and formatted.stdout == text
        print(f"{'ok' if ok else 'not ok'} {number} - {name} is in the repository's style")
        if not ok:
            failures += 1
            diff = difflib.unified_diff(text.splitlines(), formatted.stdout.splitlines(),
                                        name, "formatted", lineterm="", n=0)
            for line in list(diff)[:12] + formatted.stderr.splitlines()[:3]:
                print(f"#   {line}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
