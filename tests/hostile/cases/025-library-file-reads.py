# attack: numpy and pandas, both allowlisted, re-export file access: np.fromfile,
#   np.loadtxt, pd.read_csv on /etc/shadow and the planted canary
# expect: status in ok|error ; stdout lacks LEAKED ; stdout lacks-match ^root:
# escaped: stdout "LEAKED numpy.fromfile /etc/shadow b'root:*:19000'\n"
import numpy
import pandas

readers = {
    "numpy.fromfile": lambda path: numpy.fromfile(path, dtype=numpy.uint8).tobytes()[:100],
    "numpy.loadtxt": lambda path: numpy.loadtxt(path, dtype=str, delimiter="\x01")[:3],
    "pandas.read_csv": lambda path: pandas.read_csv(path, header=None).head(3).to_string(),
}
for path in ("/etc/shadow", "/etc/pycage/canary", "/run/pycage/pycage-fcgi.pid"):
    for name, read in readers.items():
        try:
            print("LEAKED", name, path, read(path))
        except BaseException as exc:
            print("refused", name, path, type(exc).__name__)
