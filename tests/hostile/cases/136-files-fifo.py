# attack: leaves a FIFO with no writer (and one with a blocked opener) in /mnt/data,
#   hoping the collection of the answer's files blocks reading it until the deadline
# timeout: 5
# expect: status in ok|error ; files lacks-match "^== pipe" ; answered within 12 s
# escaped: status timeout ; wall 6
# escaped: files "pipe.csv\n"
import sys

os = sys.modules["os"]
for name in ("pipe.csv", "pipe2.txt"):
    try:
        os.mkfifo("/mnt/data/" + name)
        print("made fifo", name)
    except BaseException as exc:
        print("refused fifo", name, type(exc).__name__, exc)
print("done")
