/*
 * protocol.h: the runner's wire format (docs/RUNNER.md), included by both
 * ends: pycage-runner inside the sandbox (runner/runner.c) and the
 * executor that writes its request and reads its records
 * (src/executor/job.c, pool.c, selfcheck.c).  The configuration's maxima
 * for code and stdin come from here too (common/config.c), so the host can
 * never accept a program the runner would refuse.
 *
 * Request on fd 0: a header line "pycage1 CODE_LEN STDIN_LEN NONCE\n" (at
 * most PROTOCOL_HEADER_MAX_BYTES with its '\n'; NONCE is hex, or "-" for
 * none), then CODE_LEN bytes of code and STDIN_LEN bytes of stdin.
 * Records, each starting with PROTOCOL_RECORD_START so no ordinary text
 * line can pass for one:
 *   ready  "\x1epycage-ready\n" on fd 1, with --ready, once the runner is
 *          initialised (the preload imported), before it reads fd 0;
 *   data   "\x1epycage-data NONCE LEN\n" then LEN bytes of JSON on fd 1,
 *          just before the exit record on fd 1, when the program ran: the
 *          uncaught exception, the last expression's repr (docs/RUNNER.md).
 *          Made inside the sandbox, so the executor only carries its bytes
 *          (capped) and the unprivileged front validates them; it can only
 *          mislead its own answer.
 *   exit   "\x1epycage-exit NONCE CODE\n" on fd 1 and on fd 2 after the
 *          program ended, so the host need not wait for the container to
 *          stop; without the nonce it means nothing.
 * The runner's own failures exit 125 (a bad request) or 126 (no Python);
 * they are the sandbox failing, never a program's verdict.
 */
#ifndef PYCAGE_RUNNER_PROTOCOL_H
#define PYCAGE_RUNNER_PROTOCOL_H

#define PROTOCOL_HEADER_MAGIC "pycage1"
#define PROTOCOL_NO_NONCE "-"
#define PROTOCOL_HEADER_MAX_BYTES 160    /* including its '\n' */
#define PROTOCOL_CODE_MAX_BYTES 262144   /* 256 KiB */
#define PROTOCOL_STDIN_MAX_BYTES 1048576 /* 1 MiB */
#define PROTOCOL_NONCE_MAX_CHARS 64
#define PROTOCOL_PRELOAD_MAX_BYTES 1024 /* the text after --preload= */
/* Files for /mnt/data (issue 17).  Header "pycage2 CODE_LEN STDIN_LEN
 * FILES_LEN FILES_OUT_MAX NONCE\n": after stdin, FILES_LEN bytes of files,
 * each "NAME SIZE\n" then SIZE bytes; FILES_OUT_MAX caps what comes back
 * (the configuration's files_max_bytes).  "pycage1 CODE STDIN NONCE" is
 * still read (no files).  The configuration's maxima come from here. */
#define PROTOCOL_HEADER2_MAGIC "pycage2"
#define PROTOCOL_FILES_MAX 32
#define PROTOCOL_FILE_NAME_MAX_BYTES 100
#define PROTOCOL_FILES_MAX_BYTES (32UL * 1024 * 1024) /* 32 MiB, decoded */
#define PROTOCOL_DATA_DIR "/mnt/data"
/* The file list on the wire: the files and a "NAME SIZE\n" line each. */
#define PROTOCOL_FILES_LIST_MAX_BYTES \
	(PROTOCOL_FILES_MAX_BYTES +   \
	    PROTOCOL_FILES_MAX * (PROTOCOL_FILE_NAME_MAX_BYTES + 24))

#define PROTOCOL_RECORD_START "\x1e"
#define PROTOCOL_READY_RECORD "\x1epycage-ready\n"
#define PROTOCOL_EXIT_PREFIX "\x1epycage-exit "
#define PROTOCOL_DATA_PREFIX "\x1epycage-data "
/* The data record's JSON, at most; its header line at most
 * 1 + 12 + 64 + 1 + 10 + 1 bytes.  The runner keeps the parts under
 * their own caps below, so a record it writes always fits. */
#define PROTOCOL_DATA_META_MAX_BYTES (2UL * 1024 * 1024) /* 2 MiB */
/* Files travel base64-encoded in it: 4 bytes per 3, plus their names. */
#define PROTOCOL_DATA_MAX_BYTES \
	(PROTOCOL_DATA_META_MAX_BYTES + PROTOCOL_FILES_MAX_BYTES / 3 * 4 + 4)
#define PROTOCOL_DATA_HEADER_MAX_BYTES 96
#define PROTOCOL_RESULT_MAX_BYTES 65536 /* repr(), UTF-8, 64 KiB */
#define PROTOCOL_EXC_TYPE_MAX_BYTES 256
#define PROTOCOL_EXC_MESSAGE_MAX_BYTES 4096
#define PROTOCOL_EXC_FRAMES_MAX 64      /* the last ones are kept */
#define PROTOCOL_EXC_TEXT_MAX_BYTES 512 /* a frame's function or line */
/* 1 + 12 + 64 + 1 + 3 + 1 fits: the longest exit record on the wire. */
#define PROTOCOL_EXIT_RECORD_MAX_BYTES 96

/* argv flags of pycage-runner */
#define PROTOCOL_ARG_READY "--ready"
#define PROTOCOL_ARG_PRELOAD "--preload="
/* pycage-runner --describe (alone): one line of JSON on fd 1, exit 0:
 * {"python": "3.11.2", "modules": [the import allowlist], "libraries":
 * {module: version} for the allowed modules installed as distributions}.
 * The self-check runs it in the real image (GET /v1/runtime). */
#define PROTOCOL_ARG_DESCRIBE "--describe"
#define PROTOCOL_DESCRIBE_MAX_BYTES 8192

enum protocol_exit_code {
	PROTOCOL_EXIT_SUCCESS = 0,
	PROTOCOL_EXIT_PROGRAM_FAILED = 1, /* uncaught exception, SyntaxError */
	PROTOCOL_EXIT_BAD_REQUEST = 125,
	PROTOCOL_EXIT_NO_INTERPRETER = 126,
};

#include <stddef.h>

/* What a header says (runner/header.c). */
struct protocol_header {
	size_t code_len;
	size_t stdin_len;
	size_t files_len; /* pycage2 only; 0 for pycage1 */
	size_t files_out_max;
	char nonce[PROTOCOL_NONCE_MAX_CHARS + 1]; /* "" when it said "-" */
};

/* The header line, '\n' included, into out: its length, or -1 if the
 * lengths are over their caps or it does not fit.  nonce "" writes "-". */
int protocol_format_header(char *out, size_t outlen, size_t code_len,
    size_t stdin_len, const char *nonce);
/* The same with files: "pycage2" unless files_len and files_out_max are
 * both 0, which is written "pycage1" (one spelling per header). */
int protocol_format_header_files(char *out, size_t outlen, size_t code_len,
    size_t stdin_len, size_t files_len, size_t files_out_max, const char *nonce);
/* line: the header without its '\n'.  0, or -1 with a reason for the
 * runner's "pycage-runner: ..." line. */
int protocol_parse_header(const char *line, size_t len,
    struct protocol_header *, const char **reason);

#endif /* PYCAGE_RUNNER_PROTOCOL_H */
