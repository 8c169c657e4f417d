# attack: grows memory 1 MB at a time without end
# timeout: 20
# expect: stdout equals "" ; answered within 30 s
# either: status is oom
# either: status is error ; exit_code is 1 ; stderr has MemoryError
# escaped: status timeout ; exit_code 137
chunks = []
while True:
    chunks.append(" " * 10**6)
