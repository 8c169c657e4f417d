/*
 * privsep.c: the channel's framing and every message's pack and unpack
 * (privsep.h has the wire format and why the processes are split).  Each
 * message's two halves sit next to each other so that they cannot drift;
 * both programs link this file.  Every append is checked: a message over
 * its buffer's cap is refused, never cut.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "privsep.h"
#include "protocol.h"

#define PRIVSEP_HEAD_BYTES 64            /* fixed fields of any message */
#define PRIVSEP_METRICS_MAX (256 * 1024) /* the executor's series */

/* Error codes travel as text; the front maps them back to its constants
 * so that api_error.code always points at static storage. */
static const char *const privsep_codes[] = { "busy", "engine_unavailable",
	"engine_error", "image_missing", "sandbox_failed", "sandbox_degraded",
	"sandbox_check_failed", "code_too_large", "stdin_too_large",
	"timeout_out_of_range", "internal", "uid_range_conflict" };

static const char *
privsep_code(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(privsep_codes) / sizeof(privsep_codes[0]); i++)
		if (strlen(privsep_codes[i]) == len &&
		    memcmp(privsep_codes[i], s, len) == 0)
			return privsep_codes[i];
	return "internal";
}

/* ------------------------------------------------- writing and reading */

/* A message being written: the first append that does not fit sets bad,
 * and nothing after it is appended. */
struct privsep_writer {
	struct buf *b;
	bool bad;
};

static void
privsep_put(struct privsep_writer *w, const void *p, size_t n)
{
	if (!w->bad && buf_append(w->b, p, n) == -1)
		w->bad = true;
}

static void
privsep_put_u8(struct privsep_writer *w, uint8_t v)
{
	privsep_put(w, &v, 1);
}

static void
privsep_put_u32(struct privsep_writer *w, uint32_t v)
{
	privsep_put(w, &v, sizeof(v));
}

static void
privsep_put_u64(struct privsep_writer *w, uint64_t v)
{
	privsep_put(w, &v, sizeof(v));
}

static void
privsep_put_str(struct privsep_writer *w, const char *s, size_t len)
{
	if (len > UINT32_MAX) {
		w->bad = true;
		return;
	}
	privsep_put_u32(w, (uint32_t)len);
	privsep_put(w, s != NULL ? s : "", len);
}

static struct privsep_writer
privsep_begin(struct buf *b, enum privsep_type type)
{
	struct privsep_writer w = { b, false };

	buf_reset(b);
	privsep_put_u8(&w, (uint8_t)type);
	return w;
}

static int
privsep_end(struct privsep_writer *w)
{
	if (w->bad) {
		buf_reset(w->b);
		return -1;
	}
	return 0;
}

/* A message being read: a read past its end sets bad and yields zeros. */
struct privsep_reader {
	const char *p;
	size_t left;
	bool bad;
};

static struct privsep_reader
privsep_reader(const struct buf *b)
{
	struct privsep_reader r = { b->data != NULL ? b->data : "", b->len,
		false };

	return r;
}

static const char *
privsep_get(struct privsep_reader *r, size_t n)
{
	const char *p = r->p;

	if (r->bad || r->left < n) {
		r->bad = true;
		return "";
	}
	r->p += n;
	r->left -= n;
	return p;
}

static uint8_t
privsep_get_u8(struct privsep_reader *r)
{
	const char *p = privsep_get(r, 1);

	return r->bad ? 0 : (uint8_t)*p;
}

static uint32_t
privsep_get_u32(struct privsep_reader *r)
{
	uint32_t v = 0;
	const char *p = privsep_get(r, sizeof(v));

	if (!r->bad)
		memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t
privsep_get_u64(struct privsep_reader *r)
{
	uint64_t v = 0;
	const char *p = privsep_get(r, sizeof(v));

	if (!r->bad)
		memcpy(&v, p, sizeof(v));
	return v;
}

/* A str: *len its length, the bytes (not NUL-terminated) returned; past
 * the end, "" with *len 0 (a length with no bytes behind it must not
 * reach a memcmp: fuzz_privsep found that). */
static const char *
privsep_get_str(struct privsep_reader *r, uint32_t *len)
{
	const char *s;

	*len = privsep_get_u32(r);
	s = privsep_get(r, *len);
	if (r->bad)
		*len = 0;
	return s;
}

/* ------------------------------------------------------------ framing */

static int
privsep_write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
privsep_read_all(int fd, char *p, size_t n)
{
	ssize_t r;

	while (n > 0) {
		if ((r = read(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

int
privsep_send(int fd, const struct buf *b)
{
	uint32_t len = (uint32_t)b->len;

	if (b->len > UINT32_MAX ||
	    privsep_write_all(fd, (const char *)&len, sizeof(len)) == -1)
		return -1;
	return privsep_write_all(fd, b->data ? b->data : "", b->len);
}

int
privsep_recv(int fd, struct buf *b)
{
	uint32_t len;
	char *p;

	buf_reset(b);
	if (privsep_read_all(fd, (char *)&len, sizeof(len)) == -1)
		return -1;
	if ((p = buf_extend(b, len)) == NULL) {
		log_error("privsep: a %u-byte message is over the %zu cap", len,
		    b->cap_bytes);
		return -1;
	}
	return privsep_read_all(fd, p, len);
}

size_t
privsep_request_max(const struct config *c)
{
	return PRIVSEP_HEAD_BYTES + c->code_max_bytes + c->stdin_max_bytes +
	    c->files_max_bytes +
	    PROTOCOL_FILES_MAX * (8 + PROTOCOL_FILE_NAME_MAX_BYTES);
}

size_t
privsep_reply_max(const struct config *c)
{
	return PRIVSEP_HEAD_BYTES + 2 * PRIVSEP_STR_MAX +
	    2 * c->output_max_bytes + PROTOCOL_DATA_MAX_BYTES +
	    PRIVSEP_METRICS_MAX;
}

/* ----------------------------------------------------------- requests */

int
privsep_pack_run(struct buf *b, const struct job_spec *spec)
{
	struct privsep_writer w = privsep_begin(b, PRIVSEP_RUN);
	size_t i;

	privsep_put_u32(&w, spec->timeout_ms);
	if (spec->code_len > UINT32_MAX || spec->stdin_len > UINT32_MAX)
		w.bad = true;
	privsep_put_u32(&w, (uint32_t)spec->code_len);
	privsep_put_u32(&w, (uint32_t)spec->stdin_len);
	privsep_put(&w, spec->code != NULL ? spec->code : "", spec->code_len);
	privsep_put(&w, spec->stdin_data != NULL ? spec->stdin_data : "",
	    spec->stdin_len);
	if (spec->nfiles > PROTOCOL_FILES_MAX)
		w.bad = true;
	privsep_put_u32(&w, (uint32_t)spec->nfiles);
	for (i = 0; i < spec->nfiles && !w.bad; i++) {
		privsep_put_str(&w, spec->files[i].name,
		    strnlen(spec->files[i].name, PROTOCOL_FILE_NAME_MAX_BYTES));
		privsep_put_str(&w, spec->files[i].data, spec->files[i].len);
	}
	privsep_put_str(&w, spec->client, strnlen(spec->client, JOB_CLIENT_MAX));
	return privsep_end(&w);
}

int
privsep_pack_type(struct buf *b, enum privsep_type type)
{
	struct privsep_writer w = privsep_begin(b, type);

	return privsep_end(&w);
}

int
privsep_unpack_request(const struct buf *b, const struct config *c,
    struct job_spec *spec, struct api_error *err)
{
	struct privsep_reader r = privsep_reader(b);
	uint32_t code_len, stdin_len, n, len, i, k;
	size_t total;
	const char *client;
	uint8_t type = privsep_get_u8(&r);

	memset(spec, 0, sizeof(*spec));
	switch (type) {
	case PRIVSEP_HEALTH:
	case PRIVSEP_METRICS:
	case PRIVSEP_RUNTIME:
		if (r.bad || r.left != 0)
			break;
		return type;
	case PRIVSEP_RUN:
		spec->timeout_ms = privsep_get_u32(&r);
		code_len = privsep_get_u32(&r);
		stdin_len = privsep_get_u32(&r);
		/* The front checked all this; a front that lies is refused. */
		if (r.bad || code_len > c->code_max_bytes ||
		    stdin_len > c->stdin_max_bytes || spec->timeout_ms == 0 ||
		    spec->timeout_ms > c->timeout_max_ms)
			break;
		spec->code = (char *)privsep_get(&r, code_len);
		spec->code_len = code_len;
		spec->stdin_data = (char *)privsep_get(&r, stdin_len);
		spec->stdin_len = stdin_len;
		if ((n = privsep_get_u32(&r)) > PROTOCOL_FILES_MAX)
			break;
		for (i = 0, total = 0; i < n && !r.bad; i++) {
			struct job_file *f = &spec->files[i];
			const char *name = privsep_get_str(&r, &len);

			if (r.bad || !job_file_name_ok(name, len))
				r.bad = true;
			else {
				memcpy(f->name, name, len);
				f->name[len] = '\0';
			}
			f->data = (char *)privsep_get_str(&r, &len);
			f->len = len;
			total += len;
			for (k = 0; k < i && !r.bad; k++)
				if (strcmp(spec->files[k].name, f->name) == 0)
					r.bad = true;
		}
		spec->nfiles = n;
		client = privsep_get_str(&r, &len);
		if (r.bad || !job_client_ok(client, len))
			break;
		memcpy(spec->client, client, len);
		spec->client[len] = '\0';
		if (r.left != 0 || total > c->files_max_bytes)
			break;
		return type;
	default:
		break;
	}
	memset(spec, 0, sizeof(*spec));
	api_error_set(err, 500, "internal", "Malformed message from the front.");
	return -1;
}

/* ------------------------------------------------------------ replies */

int
privsep_pack_error(struct buf *b, const struct api_error *err)
{
	struct privsep_writer w = privsep_begin(b, PRIVSEP_ERR);
	const char *code = err->code != NULL ? err->code : "internal";

	privsep_put_u32(&w, (uint32_t)err->http_status);
	privsep_put_u32(&w, err->retry_after_s);
	privsep_put_str(&w, code, strlen(code));
	privsep_put_str(&w, err->message,
	    strnlen(err->message, sizeof(err->message)));
	return privsep_end(&w);
}

/* The OK reply's reader past its type byte, or -1 with err set from an
 * ERR reply or for anything else. */
static int
privsep_reply(const struct buf *b, struct privsep_reader *r, struct api_error *err)
{
	uint32_t status, retry, len;
	const char *s;

	*r = privsep_reader(b);
	switch (privsep_get_u8(r)) {
	case PRIVSEP_OK:
		return 0;
	case PRIVSEP_ERR:
		break;
	default:
		api_error_set(err, 500, "internal", "Malformed executor reply.");
		return -1;
	}
	status = privsep_get_u32(r);
	retry = privsep_get_u32(r);
	s = privsep_get_str(r, &len);
	api_error_set(err, (int)status, privsep_code(s, len), "%s", "");
	s = privsep_get_str(r, &len);
	if (!r->bad && len < sizeof(err->message)) {
		memcpy(err->message, s, len);
		err->message[len] = '\0';
	} else
		r->bad = true;
	err->retry_after_s = retry;
	if (r->bad || r->left != 0 || status < 400 || status > 599)
		api_error_set(err, 500, "internal", "Malformed executor reply.");
	return -1;
}

static int
privsep_malformed(struct api_error *err)
{
	api_error_set(err, 500, "internal", "Malformed executor reply.");
	return -1;
}

int
privsep_pack_result(struct buf *b, const struct job_result *result)
{
	struct privsep_writer w = privsep_begin(b, PRIVSEP_OK);

	privsep_put_u32(&w, (uint32_t)result->exit_code);
	privsep_put_u8(&w, (uint8_t)result->status);
	privsep_put_u8(&w, result->stdout_truncated);
	privsep_put_u8(&w, result->stderr_truncated);
	privsep_put_u32(&w, (uint32_t)result->duration_ms);
	privsep_put_str(&w, result->stdout_buf.data, result->stdout_buf.len);
	privsep_put_str(&w, result->stderr_buf.data, result->stderr_buf.len);
	privsep_put_u64(&w, (uint64_t)result->usage.cpu_ms);
	privsep_put_u64(&w, (uint64_t)result->usage.memory_peak_bytes);
	privsep_put_u64(&w, (uint64_t)result->usage.queue_ms);
	privsep_put_str(&w, result->data.data, result->data.len);
	return privsep_end(&w);
}

int
privsep_unpack_result(const struct buf *b, struct job_result *result,
    struct api_error *err)
{
	struct privsep_reader r;
	uint8_t status, flags[2];
	uint32_t len;
	const char *s;

	if (privsep_reply(b, &r, err) == -1)
		return -1;
	result->exit_code = (int)privsep_get_u32(&r);
	status = privsep_get_u8(&r);
	flags[0] = privsep_get_u8(&r);
	flags[1] = privsep_get_u8(&r);
	result->stdout_truncated = flags[0] == 1;
	result->stderr_truncated = flags[1] == 1;
	result->duration_ms = privsep_get_u32(&r);
	/* One encoding per answer: anything else is not from our executor. */
	if (status > JOB_OUTPUT_LIMIT || flags[0] > 1 || flags[1] > 1)
		r.bad = true;
	result->status = (enum job_status)status;
	buf_reset(&result->stdout_buf);
	buf_reset(&result->stderr_buf);
	s = privsep_get_str(&r, &len);
	if (!r.bad && buf_append(&result->stdout_buf, s, len) == -1)
		r.bad = true;
	s = privsep_get_str(&r, &len);
	if (!r.bad && buf_append(&result->stderr_buf, s, len) == -1)
		r.bad = true;
	result->usage.cpu_ms = (long long)privsep_get_u64(&r);
	result->usage.memory_peak_bytes = (long long)privsep_get_u64(&r);
	result->usage.queue_ms = (long long)privsep_get_u64(&r);
	buf_reset(&result->data);
	s = privsep_get_str(&r, &len);
	if (!r.bad && buf_append(&result->data, s, len) == -1)
		r.bad = true;
	if (r.bad || r.left != 0)
		return privsep_malformed(err);
	return 0;
}

int
privsep_pack_health(struct buf *b, unsigned running, unsigned pool_ready,
    const char *version)
{
	struct privsep_writer w = privsep_begin(b, PRIVSEP_OK);

	privsep_put_u32(&w, running);
	privsep_put_u32(&w, pool_ready);
	privsep_put_str(&w, version, strlen(version));
	return privsep_end(&w);
}

int
privsep_unpack_health(const struct buf *b, struct health *h,
    char versionbuf[PRIVSEP_VERSION_MAX], struct api_error *err)
{
	struct privsep_reader r;
	uint32_t len;
	const char *s;

	if (privsep_reply(b, &r, err) == -1)
		return -1;
	h->executions_running = privsep_get_u32(&r);
	h->pool_ready = privsep_get_u32(&r);
	s = privsep_get_str(&r, &len);
	if (r.bad || r.left != 0 || len >= PRIVSEP_VERSION_MAX ||
	    memchr(s, '\0', len) != NULL)
		return privsep_malformed(err);
	memcpy(versionbuf, s, len);
	versionbuf[len] = '\0';
	h->engine_version = versionbuf;
	return 0;
}

int
privsep_pack_metrics(struct buf *b)
{
	struct privsep_writer w = privsep_begin(b, PRIVSEP_OK);

	if (!w.bad && metrics_render_executor(b) == -1)
		w.bad = true;
	return privsep_end(&w);
}

int
privsep_unpack_metrics(const struct buf *b, struct buf *out, struct api_error *err)
{
	struct privsep_reader r;

	if (privsep_reply(b, &r, err) == -1)
		return -1;
	if (buf_append(out, r.p, r.left) == -1) {
		api_error_set(err, 500, "internal", "Metrics over their cap.");
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ runtime */

static void
privsep_put_name(struct privsep_writer *w, const char *s)
{
	privsep_put_str(w, s, strnlen(s, RUNTIME_NAME_MAX - 1));
}

int
privsep_pack_runtime(struct buf *b, const struct runtime_info *rt)
{
	struct privsep_writer w = privsep_begin(b, PRIVSEP_OK);
	size_t i;

	if (rt->nmodules > RUNTIME_MODULES_MAX ||
	    rt->nlibraries > RUNTIME_LIBRARIES_MAX)
		w.bad = true;
	privsep_put_u8(&w, rt->known);
	privsep_put_name(&w, rt->python);
	privsep_put_u32(&w, (uint32_t)rt->nmodules);
	for (i = 0; i < rt->nmodules && !w.bad; i++)
		privsep_put_name(&w, rt->modules[i]);
	privsep_put_u32(&w, (uint32_t)rt->nlibraries);
	for (i = 0; i < rt->nlibraries && !w.bad; i++) {
		privsep_put_name(&w, rt->library[i]);
		privsep_put_name(&w, rt->version[i]);
	}
	return privsep_end(&w);
}

/* A name into a RUNTIME_NAME_MAX array: shorter, and no NUL in it. */
static void
privsep_get_name(struct privsep_reader *r, char dst[RUNTIME_NAME_MAX])
{
	uint32_t len;
	const char *s = privsep_get_str(r, &len);

	if (r->bad || len >= RUNTIME_NAME_MAX || memchr(s, '\0', len) != NULL) {
		r->bad = true;
		dst[0] = '\0';
		return;
	}
	memcpy(dst, s, len);
	dst[len] = '\0';
}

int
privsep_unpack_runtime(const struct buf *b, struct runtime_info *rt,
    struct api_error *err)
{
	struct privsep_reader r;
	uint8_t known;
	uint32_t n, i;

	memset(rt, 0, sizeof(*rt));
	if (privsep_reply(b, &r, err) == -1)
		return -1;
	known = privsep_get_u8(&r);
	privsep_get_name(&r, rt->python);
	if ((n = privsep_get_u32(&r)) > RUNTIME_MODULES_MAX)
		r.bad = true;
	for (i = 0; i < n && !r.bad; i++)
		privsep_get_name(&r, rt->modules[i]);
	rt->nmodules = r.bad ? 0 : n;
	if ((n = privsep_get_u32(&r)) > RUNTIME_LIBRARIES_MAX)
		r.bad = true;
	for (i = 0; i < n && !r.bad; i++) {
		privsep_get_name(&r, rt->library[i]);
		privsep_get_name(&r, rt->version[i]);
	}
	rt->nlibraries = r.bad ? 0 : n;
	if (r.bad || r.left != 0 || known > 1) {
		memset(rt, 0, sizeof(*rt));
		return privsep_malformed(err);
	}
	rt->known = known == 1;
	return 0;
}
