#!/usr/bin/python3
"""Programs that must work: the guide's examples, the libraries in the image, stdin, UTF-8.

Each case runs through nginx -> pycage-fcgi -> a fresh container and compares the 200 answer
field by field with exact expected values; every answer is also checked for its shape (keys in
order, types, status agreeing with exit_code). Two more cases look at the raw bytes: the key
order of the answer, and a Content-Type with a charset parameter.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pycagetest as pt  # noqa: E402

GUIDE_NUMPY = """\
import numpy as np
a = np.array([[1, 2], [3, 4]])
b = np.array([[5, 6], [7, 8]])
print(a @ b)
"""

GUIDE_PANDAS = """\
import pandas as pd
df = pd.DataFrame({"region": ["north", "south", "north", "east", "south"], "sales": [120, 80, 200, 50, 130]})
print(df.groupby("region")["sales"].sum().sort_values(ascending=False).to_string())
"""

LANGUAGE = """\
from dataclasses import dataclass, field
from typing import Iterator, List


@dataclass(order=True)
class Item:
    name: str
    price: float
    tags: List[str] = field(default_factory=list)


class Stack:
    def __init__(self):
        self._items = []

    def push(self, item):
        self._items.append(item)
        return self

    def __len__(self):
        return len(self._items)


def evens(limit: int) -> Iterator[int]:
    n = 0
    while n < limit:
        yield n
        n += 2


print(sorted([Item("b", 2.5), Item("a", 1.0, ["x"])])[0])
print(list(evens(9)))
print({k: v for k, v in zip("abc", range(3))})
print(sum(x * x for x in range(10)))
print(len(Stack().push(1).push(2)))
print(sorted({word.lower() for word in "The the THE cat".split()}))
print((lambda *args, **kw: (args, kw))(1, b=2))
"""

SYMPY = """\
import sympy
x = sympy.Symbol('x')
print(sympy.integrate(sympy.sin(x)**2, x))
"""

OPENPYXL = """\
import io
import openpyxl
wb = openpyxl.Workbook()
wb.active["A1"] = "total"
wb.active["B1"] = 42
buf = io.BytesIO()
wb.save(buf)
buf.seek(0)
back = openpyxl.load_workbook(buf).active
print(back["A1"].value, back["B1"].value)
"""

PANDAS_EXCEL = """\
import io
import pandas as pd
df = pd.DataFrame({"name": ["a", "b"], "qty": [3, 4]})
buf = io.BytesIO()
df.to_excel(buf, index=False)
buf.seek(0)
print(pd.read_excel(buf).to_dict("list"))
"""

ALLOWLISTED = """\
import collections, datetime, decimal, fractions, functools, io, itertools, json, math
import random, re, statistics, string, sys, textwrap
print(math.gcd(12, 18), json.dumps({"a": [1]}), statistics.mean([1, 2, 3]))
print(fractions.Fraction(1, 3) + fractions.Fraction(1, 6), decimal.Decimal("0.1") + decimal.Decimal("0.2"))
print(collections.Counter("abca").most_common(1), list(itertools.accumulate([1, 2, 3])))
print(functools.reduce(lambda a, b: a * b, range(1, 6)), re.sub(r"\\d", "#", "a1b22"))
print(datetime.date(2024, 2, 28) + datetime.timedelta(days=1), string.ascii_lowercase[:3])
print(textwrap.wrap("aa bb cc", 5), random.Random(0).random() < 1, sys.version_info[:2])
"""

CASES = [
    {"name": "guide example 1: numpy matrix product",
     "code": GUIDE_NUMPY,
     "expect": pt.ok_with("[[19 22]\n [43 50]]\n")},
    {"name": "guide example 2: pandas sales by region",
     "code": GUIDE_PANDAS,
     "expect": pt.ok_with("region\nnorth    320\nsouth    210\neast      50\n")},
    {"name": "print of 2-, 3- and 4-byte UTF-8 characters",
     "code": 'print("é")\nprint("漢字 🐍")\n',
     "expect": pt.ok_with("é\n漢字 🐍\n")},
    {"name": "stdin is passed through to sys.stdin.read()",
     "code": "import sys\ndata = sys.stdin.read()\nprint(len(data), data.upper(), end='')\n",
     "stdin": "hello\nworld\n",
     "expect": pt.ok_with("12 HELLO\nWORLD\n")},
    {"name": "non-ASCII stdin is read as UTF-8",
     "code": "import sys\nprint(len(sys.stdin.read()))\n",
     "stdin": "é漢🐍",
     "expect": pt.ok_with("3\n")},
    {"name": "without stdin, sys.stdin.read() is empty at once",
     "code": "import sys\nprint(repr(sys.stdin.read()))\n",
     "expect": pt.ok_with("''\n")},
    {"name": "functions, classes, dataclasses, generators, comprehensions, typing",
     "code": LANGUAGE,
     "expect": pt.ok_with("Item(name='a', price=1.0, tags=['x'])\n"
                          "[0, 2, 4, 6, 8]\n"
                          "{'a': 0, 'b': 1, 'c': 2}\n"
                          "285\n"
                          "2\n"
                          "['cat', 'the']\n"
                          "((1,), {'b': 2})\n")},
    {"name": "sympy integrates sin(x)**2",
     "code": SYMPY,
     "expect": pt.ok_with("x/2 - sin(x)*cos(x)/2\n")},
    {"name": "openpyxl workbook saved to BytesIO and loaded back",
     "code": OPENPYXL,
     "expect": pt.ok_with("total 42\n")},
    {"name": "pandas to_excel into BytesIO and read_excel back",
     "code": PANDAS_EXCEL,
     "expect": pt.ok_with("{'name': ['a', 'b'], 'qty': [3, 4]}\n")},
    {"name": "allowlisted standard modules import and work",
     "code": ALLOWLISTED,
     "expect": pt.ok_with('6 {"a": [1]} 2\n'
                          "1/2 0.3\n"
                          "[('a', 2)] [1, 3, 6]\n"
                          "120 a#b##\n"
                          "2024-02-29 abc\n"
                          "['aa bb', 'cc'] True (3, 11)\n")},
    {"name": "a program that prints nothing",
     "code": "pass\n",
     "expect": pt.ok_with("")},
]


def key_order_problems():
    """The raw answer's top-level keys, in document order, duplicates included."""
    response = pt.execute_raw("print(1)\n")
    if response.status != 200:
        return [f"HTTP status: expected 200, got {response.status}", pt.show(response.body)]
    keys = pt.top_level_keys(response.body)
    if keys != pt.ANSWER_KEYS:
        return [f"expected keys {pt.ANSWER_KEYS}", f"     got keys {keys}"]
    return []


def charset_problems():
    """`Content-Type: application/json; charset=utf-8` is a JSON body like any other."""
    response = pt.execute_raw('print("ok")\n', content_type="application/json; charset=utf-8")
    answer = pt.parse_json(response.body)
    return pt.answer_problems(response.status, answer, pt.ok_with("ok\n"))


def main():
    tap = pt.start(len(CASES) + 2)
    for case in CASES:
        tap.check(case["name"], pt.run_case, case)
    tap.check("the 200 answer's keys come in the documented order", key_order_problems)
    tap.check("a charset parameter on the Content-Type is accepted", charset_problems)
    tap.done()


if __name__ == "__main__":
    main()
