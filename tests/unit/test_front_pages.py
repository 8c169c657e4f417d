#!/usr/bin/python3
"""Apache's own error answers are nginx's, byte for byte (no service needed).

nginx/pycage.conf answers each error it makes itself with a fixed JSON body (`error_page`
to a location that does `return NNN '...'`). apache/pycage.conf serves the same answers
from apache/errors/*.json through ErrorDocument. Read from the two files: every body file
is exactly nginx's body for its code, every status nginx answers itself has an
ErrorDocument in Apache giving the same error code (404, 405, 413, 414, 431, 500, 503 and
504 at least), and every page the Apache site names exists. The live answers are compared
by the HTTP suites (pycagetest.front_body_problems) through whichever front runs.
"""
import os
import re
import sys

TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
NGINX = os.path.join(TOP, "nginx", "pycage.conf")
APACHE = os.path.join(TOP, "apache", "pycage.conf")
PAGES = os.path.join(TOP, "apache", "errors")
# The statuses issue 19 names; each must have its JSON page in Apache.
REQUIRED = [404, 405, 413, 414, 431, 500, 503, 504]
# nginx-only pseudo-statuses: 494 (header too large) answers 431, 497 (plain HTTP on the
# TLS port) 400; Apache has neither number.
NGINX_ONLY = {494: 431, 497: None}


def nginx_answers():
    """({status nginx makes: (status it answers, error code, body bytes)},
    {error code: body bytes} of every error location)."""
    site = open(NGINX).read()
    by_location = {}
    for name, status, body in re.findall(
            r"location (?:= )?(\S+) \{[^}]*?return (\d{3}) '(.*?)';", site, re.S):
        code = re.search(r'"code":"([a-z_]+)"', body).group(1)
        by_location[name] = (int(status), code, body.replace("\\n", "\n").encode())
    answers = {}
    for line in re.findall(r"^\s*error_page ([^;]+);", site, re.M):
        words = line.split()
        target = words[-1].lstrip("=") if words[-1] != "=" else None
        for status in words[:-1]:
            if status.isdigit():
                answers[int(status)] = by_location[target]
    answers[404] = by_location["/"]
    for nginx_status, status in NGINX_ONLY.items():
        answer = answers.pop(nginx_status)
        if status is not None:
            answers[status] = answer
    return answers, {code: body for _, code, body in by_location.values()}


def apache_pages():
    """{status: page file name} of apache/pycage.conf's ErrorDocuments."""
    site = open(APACHE).read()
    return {int(status): name for status, name in
            re.findall(r"^\s*ErrorDocument (\d{3}) /_pycage_errors/(\S+)$", site, re.M)}


def main():
    answers, bodies = nginx_answers()
    pages = apache_pages()
    cases = []
    for name in sorted(os.listdir(PAGES)):
        with open(os.path.join(PAGES, name), "rb") as f:
            got = f.read()
        want = bodies.get(name[:-len(".json")])
        cases.append((f"apache/errors/{name} is nginx's body for its code",
                      got == want, f"got {got!r}, nginx's {want!r}"))
    for status in sorted(set(answers) | set(REQUIRED)):
        if status not in answers:
            cases.append((f"nginx answers {status} itself", False, "no error_page for it"))
            continue
        _, code, _ = answers[status]
        page = pages.get(status)
        cases.append((f"Apache's own {status} is {code} as nginx's",
                      page == f"{code}.json", f"ErrorDocument {status}: {page!r}"))
    site = open(APACHE).read()
    for name in sorted(set(re.findall(r"/_pycage_errors/([a-z_]+\.json)", site))):
        cases.append((f"apache/errors/{name}, named by the site, exists",
                      os.path.exists(os.path.join(PAGES, name)), "missing"))
    print(f"1..{len(cases)}")
    failed = 0
    for number, (desc, ok, diag) in enumerate(cases, 1):
        print(f"{'ok' if ok else 'not ok'} {number} - {desc}")
        if not ok:
            failed += 1
            print(f"#   {diag}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
