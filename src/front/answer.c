/*
 * answer.c: the JSON documents the front writes: the execution answer,
 * error answers and the health answer (json_gen.h: yajl_gen, UTF-8
 * validated, every token checked; never printf).  The container bodies
 * the executor sends to Docker are executor/create_body.c's.
 *
 * Program output may hold any bytes: it is repaired to UTF-8 (U+FFFD per
 * invalid sequence, common/utf8.c) before it reaches yajl; NUL and control
 * bytes come out as \u00XX escapes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "front.h"
#include "json_gen.h"

/* Program output: repaired to UTF-8, then a JSON string. */
static int
answer_output(yajl_gen g, const struct buf *b)
{
	struct buf clean;
	int rc = -1;

	/* Worst case every byte becomes a 3-byte U+FFFD. */
	buf_init(&clean, b->len * 3 + 1);
	if (utf8_sanitize(b->data ? b->data : "", b->len, &clean) == 0 &&
	    yajl_gen_string(g,
		(const unsigned char *)(clean.data ? clean.data : ""),
		clean.len) == yajl_gen_status_ok)
		rc = 0;
	buf_free(&clean);
	return rc;
}

/* A validated string of the runner's (runner_data.c): UTF-8 already. */
static int
answer_text(yajl_gen g, const char *s, size_t len)
{
	return yajl_gen_string(g, (const unsigned char *)s, len) ==
		yajl_gen_status_ok ?
	    0 :
	    -1;
}

static int
answer_exception(yajl_gen g, const struct runner_data *d)
{
	const struct runner_exception *e = &d->exception;
	size_t i;

	if (!d->valid || !d->has_exception) {
		GEN(yajl_gen_null(g));
		return 0;
	}
	GEN(yajl_gen_map_open(g));
	GEN_KEY(g, "type");
	GEN_STR(g, e->type);
	GEN_KEY(g, "message");
	if (answer_text(g, e->message.data ? e->message.data : "",
		e->message.len) == -1)
		goto fail;
	GEN_KEY(g, "line");
	GEN(e->line >= 0 ? yajl_gen_integer(g, e->line) : yajl_gen_null(g));
	if (e->offset >= 0) {
		GEN_KEY(g, "offset");
		GEN(yajl_gen_integer(g, e->offset));
	}
	GEN_KEY(g, "traceback");
	GEN(yajl_gen_array_open(g));
	for (i = 0; i < e->nframes; i++) {
		GEN(yajl_gen_map_open(g));
		GEN_KEY(g, "line");
		GEN(yajl_gen_integer(g, e->frames[i].line));
		GEN_KEY(g, "function");
		GEN_STR(g, e->frames[i].function);
		GEN_KEY(g, "text");
		GEN_STR(g, e->frames[i].text);
		GEN(yajl_gen_map_close(g));
	}
	GEN(yajl_gen_array_close(g));
	GEN(yajl_gen_map_close(g));
	return 0;
fail:
	return -1;
}

bool
answer_file_is_text(const struct runner_file *f)
{
	const char *data = f->data.data != NULL ? f->data.data : "";

	return utf8_valid(data, f->data.len) &&
	    memchr(data, '\0', f->data.len) == NULL;
}

/*
 * The files the program left in /mnt/data, as the request sends them:
 * "utf-8" when the bytes are valid UTF-8 with no NUL, else "base64".
 */
static int
answer_files(yajl_gen g, const struct runner_data *d)
{
	struct buf b64;
	size_t i;
	int rc = -1;

	GEN(yajl_gen_array_open(g));
	for (i = 0; d->valid && i < d->nfiles; i++) {
		const struct runner_file *f = &d->files[i];
		const char *data = f->data.data != NULL ? f->data.data : "";
		bool text = answer_file_is_text(f);

		GEN(yajl_gen_map_open(g));
		GEN_KEY(g, "name");
		GEN_STR(g, f->name);
		GEN_KEY(g, "content");
		if (text) {
			if (answer_text(g, data, f->data.len) == -1)
				goto fail;
		} else {
			buf_init(&b64, (f->data.len + 2) / 3 * 4);
			if (base64_encode(data, f->data.len, &b64) == -1 ||
			    answer_text(g, b64.data ? b64.data : "", b64.len) ==
				-1) {
				buf_free(&b64);
				goto fail;
			}
			buf_free(&b64);
		}
		GEN_KEY(g, "encoding");
		GEN_STR(g, text ? "utf-8" : "base64");
		GEN_KEY(g, "size");
		GEN(yajl_gen_integer(g, (long long)f->data.len));
		GEN(yajl_gen_map_close(g));
	}
	GEN(yajl_gen_array_close(g));
	rc = 0;
fail:
	return rc;
}

static int
answer_count(yajl_gen g, long long v)
{
	GEN(v >= 0 ? yajl_gen_integer(g, v) : yajl_gen_null(g));
	return 0;
fail:
	return -1;
}

/*
 * The keys after duration_ms (issue 17): what the runner reported, as
 * validated data d (made inside the sandbox: it can only mislead its own
 * answer), then what the host measured.
 */
static int
answer_agent_keys(yajl_gen g, const struct job_result *r,
    const struct runner_data *d)
{
	GEN_KEY(g, "exception");
	if (answer_exception(g, d) == -1)
		goto fail;
	GEN_KEY(g, "result");
	if (d->valid && d->has_result) {
		if (answer_text(g, d->result.data ? d->result.data : "",
			d->result.len) == -1)
			goto fail;
	} else
		GEN(yajl_gen_null(g));
	GEN_KEY(g, "result_truncated");
	GEN(yajl_gen_bool(g, d->valid && d->result_truncated));
	GEN_KEY(g, "usage");
	GEN(yajl_gen_map_open(g));
	GEN_KEY(g, "cpu_ms");
	if (answer_count(g, r->usage.cpu_ms) == -1)
		goto fail;
	GEN_KEY(g, "memory_peak_bytes");
	if (answer_count(g, r->usage.memory_peak_bytes) == -1)
		goto fail;
	GEN_KEY(g, "queue_ms");
	if (answer_count(g, r->usage.queue_ms) == -1)
		goto fail;
	GEN(yajl_gen_map_close(g));
	GEN_KEY(g, "files");
	if (answer_files(g, d) == -1)
		goto fail;
	GEN_KEY(g, "files_truncated");
	GEN(yajl_gen_bool(g, d->valid && d->files_truncated));
	return 0;
fail:
	return -1;
}

struct runner_data *
answer_runner_data(const struct job_result *r)
{
	struct runner_data *d;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	d->files_max = r->files_max_bytes;
	runner_data_init(d);
	if (r->data.len > 0 &&
	    runner_data_parse(r->data.data, r->data.len, d) == -1)
		log_warn("answer: the runner's data record was refused "
			 "(%zu bytes)",
		    r->data.len);
	return d;
}

void
answer_runner_data_free(struct runner_data *d)
{
	if (d == NULL)
		return;
	runner_data_free(d);
	free(d);
}

int
answer_result_gen(yajl_gen g, const struct job_result *r,
    const struct runner_data *d)
{
	/* The first three keys are the product's contract, in this order. */
	GEN(yajl_gen_map_open(g));
	GEN_KEY(g, "stdout");
	if (answer_output(g, &r->stdout_buf) == -1)
		goto fail;
	GEN_KEY(g, "stderr");
	if (answer_output(g, &r->stderr_buf) == -1)
		goto fail;
	GEN_KEY(g, "exit_code");
	GEN(yajl_gen_integer(g, r->exit_code));
	GEN_KEY(g, "status");
	GEN_STR(g, job_status_name(r->status));
	GEN_KEY(g, "stdout_truncated");
	GEN(yajl_gen_bool(g, r->stdout_truncated));
	GEN_KEY(g, "stderr_truncated");
	GEN(yajl_gen_bool(g, r->stderr_truncated));
	GEN_KEY(g, "duration_ms");
	GEN(yajl_gen_integer(g, r->duration_ms));
	if (answer_agent_keys(g, r, d) == -1)
		goto fail;
	GEN(yajl_gen_map_close(g));
	return 0;
fail:
	return -1;
}

int
answer_result(const struct job_result *r, struct buf *out)
{
	struct runner_data *d;
	yajl_gen g;

	if ((d = answer_runner_data(r)) == NULL)
		return -1;
	if ((g = json_gen_begin()) == NULL) {
		answer_runner_data_free(d);
		return -1;
	}
	if (answer_result_gen(g, r, d) == -1) {
		yajl_gen_free(g);
		answer_runner_data_free(d);
		return -1;
	}
	answer_runner_data_free(d);
	return json_gen_end(g, out);
}

int
answer_error(const struct api_error *e, struct buf *out)
{
	yajl_gen g;

	if ((g = json_gen_begin()) == NULL)
		return -1;
	GEN(yajl_gen_map_open(g));
	GEN_KEY(g, "error");
	GEN(yajl_gen_map_open(g));
	GEN_KEY(g, "code");
	GEN_STR(g, e->code);
	GEN_KEY(g, "message");
	GEN_STR(g, e->message);
	GEN(yajl_gen_map_close(g));
	GEN(yajl_gen_map_close(g));
	return json_gen_end(g, out);
fail:
	yajl_gen_free(g);
	return -1;
}

int
answer_health(const struct health *h, struct buf *out)
{
	yajl_gen g;

	if ((g = json_gen_begin()) == NULL)
		return -1;
	GEN(yajl_gen_map_open(g));
	GEN_KEY(g, "status");
	GEN_STR(g, "ok");
	if (h->brief) {
		GEN(yajl_gen_map_close(g));
		return json_gen_end(g, out);
	}
	GEN_KEY(g, "engine_version");
	GEN_STR(g, h->engine_version);
	GEN_KEY(g, "image");
	GEN_STR(g, h->image);
	GEN_KEY(g, "executions_running");
	GEN(yajl_gen_integer(g, h->executions_running));
	GEN_KEY(g, "max_executions");
	GEN(yajl_gen_integer(g, h->max_executions));
	GEN_KEY(g, "pool_size");
	GEN(yajl_gen_integer(g, h->pool_size));
	GEN_KEY(g, "pool_ready");
	GEN(yajl_gen_integer(g, h->pool_ready));
	GEN(yajl_gen_map_close(g));
	return json_gen_end(g, out);
fail:
	yajl_gen_free(g);
	return -1;
}

/*
 * GET /v1/runtime: the image's Python, libraries and allowed modules as
 * the self-check read them from the runner in the real image (null when
 * no check has reported them), and the limits of this configuration.
 */
int
answer_runtime(const struct runtime_info *rt, const struct config *c,
    struct buf *out)
{
	yajl_gen g;
	size_t i;

	if ((g = json_gen_begin()) == NULL)
		return -1;
	GEN(yajl_gen_map_open(g));
	GEN_KEY(g, "python");
	if (rt->known)
		GEN_STR(g, rt->python);
	else
		GEN(yajl_gen_null(g));
	GEN_KEY(g, "libraries");
	if (rt->known) {
		GEN(yajl_gen_map_open(g));
		for (i = 0; i < rt->nlibraries; i++) {
			GEN_KEY(g, rt->library[i]);
			GEN_STR(g, rt->version[i]);
		}
		GEN(yajl_gen_map_close(g));
	} else
		GEN(yajl_gen_null(g));
	GEN_KEY(g, "modules");
	if (rt->known) {
		GEN(yajl_gen_array_open(g));
		for (i = 0; i < rt->nmodules; i++)
			GEN_STR(g, rt->modules[i]);
		GEN(yajl_gen_array_close(g));
	} else
		GEN(yajl_gen_null(g));
	GEN_KEY(g, "image");
	GEN_STR(g, c->image);
	GEN_KEY(g, "limits");
	GEN(yajl_gen_map_open(g));
	GEN_KEY(g, "timeout_default_s");
	GEN(yajl_gen_double(g, c->timeout_default_ms / 1000.0));
	GEN_KEY(g, "timeout_max_s");
	GEN(yajl_gen_double(g, c->timeout_max_ms / 1000.0));
	GEN_KEY(g, "memory_bytes");
	GEN(yajl_gen_integer(g, (long long)c->memory_mb * 1024 * 1024));
	GEN_KEY(g, "cpus");
	GEN(yajl_gen_double(g, c->cpu_millis / 1000.0));
	GEN_KEY(g, "pids");
	GEN(yajl_gen_integer(g, c->pids_limit));
	GEN_KEY(g, "output_max_bytes");
	GEN(yajl_gen_integer(g, (long long)c->output_max_bytes));
	GEN_KEY(g, "code_max_bytes");
	GEN(yajl_gen_integer(g, (long long)c->code_max_bytes));
	GEN_KEY(g, "stdin_max_bytes");
	GEN(yajl_gen_integer(g, (long long)c->stdin_max_bytes));
	GEN_KEY(g, "body_max_bytes");
	GEN(yajl_gen_integer(g, (long long)c->body_max_bytes));
	GEN_KEY(g, "files_max");
	GEN(yajl_gen_integer(g, PROTOCOL_FILES_MAX));
	GEN_KEY(g, "files_max_bytes");
	GEN(yajl_gen_integer(g, (long long)c->files_max_bytes));
	GEN_KEY(g, "result_max_bytes");
	GEN(yajl_gen_integer(g, PROTOCOL_RESULT_MAX_BYTES));
	GEN_KEY(g, "network");
	GEN(yajl_gen_bool(g, 0));
	GEN(yajl_gen_map_close(g));
	GEN(yajl_gen_map_close(g));
	return json_gen_end(g, out);
fail:
	yajl_gen_free(g);
	return -1;
}
