#!/usr/bin/python3
"""Every error code is in docs/openapi.yaml, README's error table and the code alike (no
service needed).

The code's codes, each with its status where the code says it:
- src/: api_error_set(err, STATUS, "code", ...) and json_in_fail(p, STATUS, "code", ...);
  json_in_keep_string(..., "code", "key") with the status of its own json_in_fail; the
  codes that cross the privsep channel (privsep.c's privsep_codes, no status there);
- nginx/pycage.conf: each `return STATUS '{"error":{"code":"..."'`;
- apache/pycage.conf: each ErrorDocument STATUS with the code of its page in
  apache/errors/, and the pages its rewrites put in place of bad_request.json (status 400);
  every page's code.
The document's codes are the enums of components.schemas.Error<STATUS>.  README's are the
backquoted codes of the table under "### Errors", with the status of their row.

A code in the code or README but not in the document (or there under another status)
fails, and so does a code of the document that the code or README lacks. 
"""
import os
import re
import sys

TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
DOCUMENT = os.path.join(TOP, "docs", "openapi.yaml")
README = os.path.join(TOP, "README.md")
NGINX = os.path.join(TOP, "nginx", "pycage.conf")
APACHE = os.path.join(TOP, "apache", "pycage.conf")
PAGES = os.path.join(TOP, "apache", "errors")
SOURCES = [os.path.join(TOP, "src")]

def load_yaml(path):
    """Debian's python3-yaml, also when the python3 running this is another 3.11 build
    (pyenv's here) whose path lacks Debian's modules."""
    try:
        import yaml
    except ImportError:
        sys.path.append("/usr/lib/python3/dist-packages")
        import yaml
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def document_codes(document):
    """{(status, code)} of the document's Error<status> schemas."""
    pairs = set()
    for name, schema in document["components"]["schemas"].items():
        match = re.fullmatch(r"Error(\d{3})", name)
        if not match:
            continue
        code = schema["properties"]["error"]["properties"]["code"]
        for value in code.get("enum", []):
            pairs.add((int(match.group(1)), value))
    return pairs


def mcp_document_codes(document):
    """MCP's own data codes: the enum of McpErrorData's code."""
    codes = set()
    for branch in document["components"]["schemas"]["McpErrorData"]["properties"]["code"]["anyOf"]:
        codes.update(branch.get("enum", []))
    return codes


def mcp_source_codes():
    """The data codes src/front/mcp.c gives: each mcp_error() call's code, and the codes
    of its api_error_set() calls (a tools/call refusal of its own)."""
    text = open(os.path.join(TOP, "src", "front", "mcp.c"), encoding="utf-8").read()
    codes = set()
    for call in re.findall(r"\bmcp_error\((.*?)\);", text, re.S):
        codes.update(c for c in re.findall(r'"([^"]*)"', call) if re.fullmatch(r"[a-z][a-z0-9_]*", c))
    codes.update(re.findall(r'api_error_set\(\s*[^,()]+,\s*\d{3},\s*"([a-z0-9_]+)"', text))
    return codes


def c_sources():
    for root in SOURCES:
        for directory, _, names in os.walk(root):
            for name in sorted(names):
                if name.endswith((".c", ".h")):
                    yield os.path.join(directory, name)


def source_codes():
    """({(status, code)}, {code without a status here}) set by the C sources."""
    pairs, bare = set(), set()
    for path in c_sources():
        text = open(path, encoding="utf-8").read()
        for status, code in re.findall(
                r'\b(?:api_error_set|json_in_fail)\(\s*[^,()]+,\s*(\d{3}),\s*"([a-z0-9_]+)"', text):
            pairs.add((int(status), code))
        keep = re.search(r"\njson_in_keep_string\([^{]*\{(.*?)\n\}", text, re.S)
        if keep:
            status = re.search(r"json_in_fail\(p, (\d{3}), code,", keep.group(1))
            for code in re.findall(r'json_in_keep_string\([^;]*?"([a-z0-9_]+)",\s*"[a-z]+"\)',
                                   text, re.S):
                pairs.add((int(status.group(1)), code))
        table = re.search(r"privsep_codes\[\] = \{(.*?)\};", text, re.S)
        if table:
            bare.update(re.findall(r'"([a-z0-9_]+)"', table.group(1)))
    return pairs, bare


def nginx_codes():
    site = open(NGINX, encoding="utf-8").read()
    return {(int(status), code) for status, code in
            re.findall(r"""return (\d{3}) '\{"error":\{"code":"([a-z0-9_]+)\"""", site)}


def page_code(name):
    with open(os.path.join(PAGES, name), encoding="utf-8") as f:
        return re.search(r'"code":"([a-z0-9_]+)"', f.read()).group(1)


def apache_codes():
    """({(status, code)} of the ErrorDocuments and their rewrites, {every page's code})."""
    site = open(APACHE, encoding="utf-8").read()
    pairs = {(int(status), page_code(page)) for status, page in
             re.findall(r"^\s*ErrorDocument (\d{3}) /_pycage_errors/(\S+\.json)$", site, re.M)}
    pairs |= {(400, page_code(page)) for page in re.findall(
        r"^\s*RewriteRule \^/_pycage_errors/bad_request\\\.json\$ /_pycage_errors/(\S+\.json)",
        site, re.M)}
    return pairs, {page_code(name) for name in os.listdir(PAGES) if name.endswith(".json")}


def readme_codes():
    """{(status, code)} of README's error table."""
    text = open(README, encoding="utf-8").read()
    section = text.split("### Errors", 1)[1].split("\n## ", 1)[0]
    pairs = set()
    for status, codes in re.findall(r"^\| (\d{3}) \| ([^|]+) \|", section, re.M):
        for code in re.findall(r"`([a-z0-9_]+)`", codes):
            pairs.add((int(status), code))
    return pairs


def main():
    document = document_codes(load_yaml(DOCUMENT))
    doc_codes = {code for _, code in document}
    source_pairs, source_bare = source_codes()
    front_pairs = nginx_codes()
    apache_pairs, apache_pages = apache_codes()
    readme = readme_codes()
    code_pairs = source_pairs | front_pairs | apache_pairs
    code_codes = {code for _, code in code_pairs} | source_bare | apache_pages
    readme_set = {code for _, code in readme}

    checks = []
    # The extractors found what they look for: a refactor that hides the codes from them
    # fails here instead of passing with nothing compared.
    checks.append(("the document has error codes", len(document) >= 20, [f"{sorted(document)}"]))
    checks.append(("the sources set error codes", len(source_pairs) >= 20 and
                   {"busy", "internal"} <= source_bare, [f"{sorted(source_pairs)}"]))
    checks.append(("nginx and Apache answer error codes",
                   len(front_pairs) >= 10 and len(apache_pairs) >= 10,
                   [f"nginx {sorted(front_pairs)}", f"apache {sorted(apache_pairs)}"]))
    checks.append(("README's table has error codes", len(readme) >= 20, [f"{sorted(readme)}"]))

    mcp_only = mcp_document_codes(load_yaml(DOCUMENT)) - doc_codes
    missing = sorted({(status, code) for status, code in code_pairs if code not in mcp_only}
                     - document, key=str)
    checks.append(("every (status, code) the code answers is in docs/openapi.yaml",
                   not missing, [f"not in the document: {status} {code}"
                                 for status, code in missing]))
    missing = sorted(code_codes - doc_codes - mcp_only)
    checks.append(("every code in src/, nginx/ and apache/errors/ is in docs/openapi.yaml",
                   not missing, [f"not in the document: {code}" for code in missing]))
    extra = sorted(doc_codes - code_codes)
    checks.append(("every code of docs/openapi.yaml is in src/, nginx/ or apache/errors/",
                   not extra, [f"in the document but in no code: {code}" for code in extra]))
    missing = sorted(readme - document, key=str)
    checks.append(("every (status, code) of README's error table is in docs/openapi.yaml",
                   not missing, [f"not in the document: {status} {code}"
                                 for status, code in missing]))
    extra = sorted(doc_codes - readme_set)
    checks.append(("every code of docs/openapi.yaml is in README's error table",
                   not extra, [f"not in README: {code}" for code in extra]))
    # MCP's own codes travel in a JSON-RPC error's data.code (McpErrorData), not in the
    # API's error object: the same two ways, against src/front/mcp.c and README.
    doc_mcp = mcp_document_codes(load_yaml(DOCUMENT))
    src_mcp = mcp_source_codes()
    checks.append(("MCP's data codes were found", len(doc_mcp) >= 4 and len(src_mcp) >= 4,
                   [f"document {sorted(doc_mcp)}", f"mcp.c {sorted(src_mcp)}"]))
    missing = sorted(src_mcp - doc_mcp - doc_codes)
    checks.append(("every data.code of src/front/mcp.c is in docs/openapi.yaml", not missing,
                   [f"not in the document: {code}" for code in missing]))
    extra = sorted(doc_mcp - src_mcp)
    checks.append(("every MCP data.code of docs/openapi.yaml is in src/front/mcp.c", not extra,
                   [f"in the document but not in mcp.c: {code}" for code in extra]))
    readme_text = open(README, encoding="utf-8").read()
    missing = sorted(code for code in doc_mcp if f"`{code}`" not in readme_text)
    checks.append(("every MCP data.code of docs/openapi.yaml is in README", not missing,
                   [f"not in README: {code}" for code in missing]))

    print(f"1..{len(checks)}")
    failures = 0
    for number, (desc, ok, diag) in enumerate(checks, 1):
        print(f"{'ok' if ok else 'not ok'} {number} - {desc}")
        if not ok:
            failures += 1
            for line in diag:
                print(f"#   {line}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
