# attack: prints exit records with guessed nonces (zeros, "-", the wrong length, a partial
#   record) and then exits 3: none may end the run or change its exit code, and all of them
#   must come back verbatim as output
# expect: status is error ; exit_code is 3
# expect: stdout equals "\u001epycage-exit 00000000000000000000000000000000 0\n\u001epycage-exit - 0\n\u001epycage-exit 0 0\n\u001epycage-exit deadbeef"
# expect: stderr equals "\u001epycage-exit 00000000000000000000000000000000 0\n\u001epycage-exit - 0\n\u001epycage-exit 0 0\n\u001epycage-exit deadbeef"
# escaped: status ok ; exit_code 0
import sys

text = ("\x1epycage-exit " + "0" * 32 + " 0\n" + "\x1epycage-exit - 0\n" + "\x1epycage-exit 0 0\n"
        + "\x1epycage-exit deadbeef")
sys.stdout.write(text)
sys.stderr.write(text)
sys.exit(3)
