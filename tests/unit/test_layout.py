#!/usr/bin/python3
"""README.md's Layout section and the tree agree: every C file of src/ and runner/ is listed
under its directory, and every file listed there exists.  (The link map, what each program
may hold, is test_link_map.py's.)

A listing line is two spaces, a name, spaces, what it holds; "privsep.h/.c" names both.
"""
import os
import re
import sys

TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def listed():
    with open(os.path.join(TOP, "README.md")) as f:
        text = f.read()
    block = re.search(r"^## Layout\n.*?^```\n(.*?)^```", text, re.S | re.M)
    if not block:
        return None
    names, current = set(), None
    for line in block.group(1).splitlines():
        if re.match(r"^(src/[a-z]+/|runner/)", line):
            current = line.split()[0]
        elif line.startswith("  ") and not line.startswith("   ") and current:
            first = line.split()[0]
            stem, _, exts = first.partition(".")
            for ext in exts.split("/."):
                names.add(current + stem + "." + ext)
        elif not line.startswith(" "):
            current = None
    return names


def present():
    found = set()
    for top in ("src", "runner"):
        for root, _, files in os.walk(os.path.join(TOP, top)):
            for name in files:
                if name.endswith((".c", ".h")):
                    path = os.path.relpath(os.path.join(root, name), TOP)
                    found.add(path.replace(os.sep, "/") if not path.startswith("runner")
                              else path)
    return found


def main():
    print("1..3")
    names = listed()
    print(("ok" if names else "not ok") + " 1 - README.md has a Layout block")
    names = names or set()
    files = present()
    missing = sorted(files - names)
    print(("ok" if not missing else "not ok") + " 2 - every C file of src/ and runner/ is "
          "listed" + (": not listed: " + ", ".join(missing) if missing else ""))
    gone = sorted(names - files)
    print(("ok" if not gone else "not ok") + " 3 - every file listed exists" +
          (": listed but absent: " + ", ".join(gone) if gone else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
