# attack: output built to break out of the answer's JSON: quotes, braces, a fake
#   "status":"ok", backslashes, control characters, U+2028/U+2029, a lone surrogate
#   (surrogateescape), then exits 5; the answer must carry it all as data
# expect: status is error ; exit_code is 5 ; stderr equals ""
# expect: stdout equals "\",\"exit_code\":0,\"status\":\"ok\"}\n\\\"\b\f\r\t\u0001\u007f\u2028\u2029\n\ufffd\n"
# escaped: status ok ; exit_code 0 ; stdout "\""
import sys

sys.stdout.write('","exit_code":0,"status":"ok"}\n')
sys.stdout.write('\\"\b\f\r\t\x01\x7f\u2028\u2029\n')
sys.stdout.flush()
sys.stdout.buffer.write("\udcff\n".encode("utf-8", "surrogateescape"))
sys.exit(5)
