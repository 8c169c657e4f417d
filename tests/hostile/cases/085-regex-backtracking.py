# attack: catastrophic regex backtracking: CPU spent inside C code that no Python-level
#   handler interrupts
# timeout: 2
# expect: status is timeout ; stdout equals "" ; answered within 8 s
# escaped: status ok ; stdout "None\n"
import re

print(re.match(r"(a+)+$", "a" * 64 + "b"))
