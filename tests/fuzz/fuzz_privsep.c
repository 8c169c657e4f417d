/*
 * fuzz_privsep.c: libFuzzer target for src/common/privsep.c, above all
 * privsep_unpack_request(), the executor's reader of what the front sends:
 * the root process's only input from another process.
 *
 * Input: one message, copied into an allocation of exactly its size so
 * ASan sees a read past its end.  It is read as a request (the executor's
 * side) and as each reply (the front's side).  Checks:
 *   - a request taken as RUN has its code and stdin inside the message,
 *     within the configured caps, a timeout in range, a client
 *     job_client_ok() takes, and packs back to
 *     exactly the input bytes (nothing skipped, nothing made up);
 *   - HEALTH and METRICS are taken only as their single type byte;
 *   - a reply read as a result, health or metrics is 0 or -1, and on -1
 *     the error has a status in 400-599 and a code from the known set;
 *     a result taken packs back to exactly the input bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "privsep.h"

#define FUZZ_CHECK(cond)                                               \
	do {                                                           \
		if (!(cond)) {                                         \
			fprintf(stderr,                                \
			    "fuzz_privsep: %s:%d: check failed: %s\n", \
			    __FILE__, __LINE__, #cond);                \
			abort();                                       \
		}                                                      \
	} while (0)

static struct config config;
static int ready;

static void
fuzz_error_ok(const struct api_error *err)
{
	FUZZ_CHECK(err->http_status >= 400 && err->http_status <= 599);
	FUZZ_CHECK(err->code != NULL && err->code[0] != '\0');
	FUZZ_CHECK(memchr(err->message, '\0', sizeof(err->message)) != NULL);
}

static void
fuzz_request(const struct buf *msg)
{
	struct job_spec spec;
	struct api_error err;
	struct buf again;
	int type;

	memset(&err, 0, sizeof(err));
	type = privsep_unpack_request(msg, &config, &spec, &err);
	switch (type) {
	case -1:
		FUZZ_CHECK(spec.code == NULL && spec.stdin_data == NULL);
		fuzz_error_ok(&err);
		return;
	case PRIVSEP_HEALTH:
	case PRIVSEP_METRICS:
	case PRIVSEP_RUNTIME:
		FUZZ_CHECK(msg->len == 1);
		return;
	case PRIVSEP_RUN:
		break;
	default:
		FUZZ_CHECK(!"unknown type taken");
	}
	FUZZ_CHECK(spec.code_len <= config.code_max_bytes);
	FUZZ_CHECK(spec.stdin_len <= config.stdin_max_bytes);
	FUZZ_CHECK(
	    spec.timeout_ms >= 1 && spec.timeout_ms <= config.timeout_max_ms);
	FUZZ_CHECK(
	    job_client_ok(spec.client, strnlen(spec.client, JOB_CLIENT_MAX)));
	FUZZ_CHECK(spec.code >= msg->data &&
	    spec.code + spec.code_len <= msg->data + msg->len);
	FUZZ_CHECK(spec.stdin_data >= msg->data &&
	    spec.stdin_data + spec.stdin_len <= msg->data + msg->len);
	buf_init(&again, msg->len);
	FUZZ_CHECK(privsep_pack_run(&again, &spec) == 0);
	FUZZ_CHECK(again.len == msg->len &&
	    memcmp(again.data, msg->data, msg->len) == 0);
	buf_free(&again);
}

static void
fuzz_replies(const struct buf *msg)
{
	struct job_result result;
	struct health h;
	struct api_error err;
	struct buf out, again;
	char version[PRIVSEP_VERSION_MAX];

	memset(&err, 0, sizeof(err));
	job_result_init(&result, 4096);
	if (privsep_unpack_result(msg, &result, &err) == 0) {
		FUZZ_CHECK(result.status <= JOB_OUTPUT_LIMIT);
		buf_init(&again, msg->len);
		FUZZ_CHECK(privsep_pack_result(&again, &result) == 0);
		FUZZ_CHECK(again.len == msg->len &&
		    memcmp(again.data, msg->data, msg->len) == 0);
		buf_free(&again);
	} else
		fuzz_error_ok(&err);
	job_result_free(&result);

	{
		struct runtime_info *rt = calloc(1, sizeof(*rt));
		size_t i;

		FUZZ_CHECK(rt != NULL);
		if (privsep_unpack_runtime(msg, rt, &err) == 0) {
			FUZZ_CHECK(rt->nmodules <= RUNTIME_MODULES_MAX &&
			    rt->nlibraries <= RUNTIME_LIBRARIES_MAX);
			for (i = 0; i < rt->nmodules; i++)
				FUZZ_CHECK(
				    strlen(rt->modules[i]) < RUNTIME_NAME_MAX);
			buf_init(&again, msg->len);
			FUZZ_CHECK(privsep_pack_runtime(&again, rt) == 0);
			FUZZ_CHECK(again.len == msg->len &&
			    memcmp(again.data, msg->data, msg->len) == 0);
			buf_free(&again);
		} else
			fuzz_error_ok(&err);
		free(rt);
	}

	memset(&h, 0, sizeof(h));
	if (privsep_unpack_health(msg, &h, version, &err) == 0)
		FUZZ_CHECK(h.engine_version == version &&
		    strlen(version) < PRIVSEP_VERSION_MAX);
	else
		fuzz_error_ok(&err);

	buf_init(&out, 4096);
	if (privsep_unpack_metrics(msg, &out, &err) == 0)
		FUZZ_CHECK(out.len + 1 == msg->len);
	else
		fuzz_error_ok(&err);
	buf_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf msg;
	char *copy;

	if (!ready) {
		config_defaults(&config);
		log_set_level(LOG_LEVEL_ERROR);
		ready = 1;
	}
	/* Exactly the input's size, so a read past the end is seen. */
	if ((copy = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	msg.data = copy;
	msg.len = size;
	msg.alloc = size;
	msg.cap_bytes = size;
	fuzz_request(&msg);
	fuzz_replies(&msg);
	free(copy);
	return 0;
}
