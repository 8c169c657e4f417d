# attack: one 2 GiB allocation, touched at once (bytearray zero-fills it), against 512 MiB
#   with no swap
# timeout: 15
# expect: stdout lacks ALLOCATED ; answered within 25 s
# either: status is oom
# either: status is error ; exit_code is 1 ; stderr has MemoryError
# escaped: stdout "ALLOCATED 2147483648\n"
# escaped: status error ; exit_code 1 ; stderr "Killed\n"
b = bytearray(2**31)
print("ALLOCATED", len(b))
