/*
 * result.c: the two answers a job can get, as both processes hold them
 * (the executor fills them, the channel carries them, the front renders
 * them): a job's result (set-up, release, the verdicts' names) and an
 * API error.  Kept apart from job.c and request.c so that each process
 * links only its own half of the code.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "protocol.h"

void
api_error_set(struct api_error *e, int http_status, const char *code,
    const char *fmt, ...)
{
	va_list ap;

	e->http_status = http_status;
	e->code = code;
	e->retry_after_s = 0;
	e->allow = NULL;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
}

void
api_error_init(struct api_error *e)
{
	memset(e, 0, sizeof(*e));
	api_error_set(e, 500, "internal",
	    "pycage failed on its side; the "
	    "failure is in its log.");
}

void
api_error_normalize(struct api_error *e)
{
	if (e->code == NULL || e->code[0] == '\0' || e->http_status < 400 ||
	    e->http_status > 599 ||
	    memchr(e->message, '\0', sizeof(e->message)) == NULL)
		api_error_init(e);
}

const char *
job_status_name(enum job_status status)
{
	switch (status) {
	case JOB_OK:
		return "ok";
	case JOB_ERROR:
		return "error";
	case JOB_TIMEOUT:
		return "timeout";
	case JOB_OOM:
		return "oom";
	case JOB_OUTPUT_LIMIT:
		return "output_limit";
	}
	return "error";
}

void
job_result_init(struct job_result *r, size_t output_max_bytes)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->stdout_buf, output_max_bytes);
	buf_init(&r->stderr_buf, output_max_bytes);
	buf_init(&r->data, PROTOCOL_DATA_MAX_BYTES);
	r->files_max_bytes = PROTOCOL_FILES_MAX_BYTES;
	r->usage.cpu_ms = r->usage.memory_peak_bytes = r->usage.queue_ms = -1;
}

void
job_result_free(struct job_result *r)
{
	buf_free(&r->stdout_buf);
	buf_free(&r->stderr_buf);
	buf_free(&r->data);
}

bool
job_client_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len >= JOB_CLIENT_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return false;
	return true;
}

bool
job_file_name_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > PROTOCOL_FILE_NAME_MAX_BYTES || s[0] == '.')
		return false;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
			(s[i] >= 'a' && s[i] <= 'z') ||
			(s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
			s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}
