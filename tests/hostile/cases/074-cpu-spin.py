# attack: a busy loop that never ends
# timeout: 2
# expect: status is timeout ; stdout equals "" ; duration_ms in 2000..3500 ; answered within 8 s
# escaped: status timeout ; duration_ms 30000 ; wall 31
while True:
    pass
