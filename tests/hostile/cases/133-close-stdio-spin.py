# attack: closes its stdout and stderr (fds 1 and 2) and then spins: the host must not wait
#   for an end of stream that comes only with the container
# timeout: 3
# expect: status is timeout ; stdout equals "closing\n" ; answered within 9 s
# escaped: status timeout ; stdout "closing\n" ; wall 40
import sys

os = sys.modules["os"]
print("closing", flush=True)
os.close(1)
os.close(2)
while True:
    pass
