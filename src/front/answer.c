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
	struct buf	clean;
	int		rc = -1;

	/* Worst case every byte becomes a 3-byte U+FFFD. */
	buf_init(&clean, b->len * 3 + 1);
	if (utf8_sanitize(b->data ? b->data : "", b->len, &clean) == 0 &&
	    yajl_gen_string(g, (const unsigned char *)(clean.data ? clean.data : ""),
	    clean.len) == yajl_gen_status_ok)
		rc = 0;
	buf_free(&clean);
	return rc;
}

int
answer_result(const struct job_result *r, struct buf *out)
{
	yajl_gen g;

	if ((g = json_gen_begin()) == NULL)
		return -1;
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
	GEN(yajl_gen_map_close(g));
	return json_gen_end(g, out);
fail:
	yajl_gen_free(g);
	return -1;
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
