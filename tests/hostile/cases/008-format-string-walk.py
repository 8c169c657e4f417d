# attack: str.format attribute and item walks (no call needed) from () and from exit to
#   object's subclasses, the real builtins and os.environ, printed for the canary check
# expect: status in ok|error ; stdout lacks PYCAGE_CANARY|DOCKER_HOST
# escaped: stdout "environ({'PYCAGE_CANARY': 'x'})\n"
for template, argument in (
        ("{0.__class__.__base__.__subclasses__}", ()),
        ("{0.__class__.__call__.__globals__[__builtins__][open]}", exit),
        ("{0.__class__.__call__.__globals__[sys].modules[os].environ}", exit),
        ("{0.__class__.__call__.__globals__[sys].modules[posix].environ}", exit)):
    try:
        print(template.format(argument))
    except BaseException as exc:
        print("refused", template, type(exc).__name__, exc)
