# attack: 10**10**8: a 330-million-bit integer, then printing it
# timeout: 3
# expect: stdout equals "" ; answered within 10 s
# either: status is timeout
# either: status is oom
# either: status is error ; stderr has-any ValueError|MemoryError
# escaped: status ok ; stdout "1000000000"
x = 10**10**8
print(x)
