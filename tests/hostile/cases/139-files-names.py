# attack: makes files whose names are not plain (with .., a slash through a
#   subdirectory, a leading dot, a space, non-ASCII, 255 bytes) in and around
#   /mnt/data, hoping one comes back under a name that escapes the answer's rules
#   or that a write lands outside /mnt/data
# expect: status in ok|error ; files lacks-match "^== (\\.|.*/|.* .* .*|.*ü|x{101})" ; files lacks "ESCAPED" ; stdout lacks WROTE-OUTSIDE
# escaped: files "../escape\nESCAPED"
# escaped: files ".hidden\nESCAPED"
# escaped: stdout "WROTE-OUTSIDE /mnt/escape\n"
import sys

os = sys.modules["os"]
io = sys.modules["io"]
for name in ("../escape", "..", "...", ".hidden", "with space", "caf\u00fc.txt",
             "x" * 255, "sub/inner.txt", "/mnt/escape"):
    try:
        if name.startswith("sub/"):
            os.mkdir("/mnt/data/sub")
        path = name if name.startswith("/") else "/mnt/data/" + name
        with io.open(path, "w") as f:
            f.write("ESCAPED")
        print("wrote", repr(name))
        if not os.path.realpath(path).startswith("/mnt/data/"):
            print("WROTE-OUTSIDE", os.path.realpath(path))
    except BaseException as exc:
        print("refused", repr(name)[:40], type(exc).__name__)
with io.open("/mnt/data/plain.txt", "w") as f:
    f.write("fine")
