# attack: ignores SIGTERM, SIGINT, SIGHUP, SIGQUIT and SIGXCPU, blocks what it can, then
#   spins: the deadline must still end it
# timeout: 3
# expect: status is timeout ; stdout equals "ignoring\n" ; answered within 9 s
# escaped: status timeout ; stdout "ignoring\n" ; wall 40
signal = print.__self__.__import__("signal")
for name in ("SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGXCPU", "SIGUSR1"):
    signal.signal(getattr(signal, name), signal.SIG_IGN)
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT, signal.SIGHUP})
print("ignoring", flush=True)
while True:
    pass
