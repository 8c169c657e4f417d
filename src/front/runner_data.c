/*
 * runner_data.c: reads the runner's data record (runner/protocol.h) into
 * a fixed struct for answer.c.  The record is made inside the sandbox, so
 * a program can write anything there: the executor only carried its bytes
 * (capped at PROTOCOL_DATA_MAX_BYTES) and this unprivileged process is the
 * only one that parses them.  The shape is exact: an object with the keys
 * "exception" (null, or {type, message, line, [offset], traceback: [{line,
 * function, text}]}), "result" (null or a string) and "result_truncated"
 * (a boolean), each string within its protocol cap, nesting within 4
 * levels.  Anything else, and the whole record is refused: the answer then
 * says null for both (a forged record misleads only its own answer, and a
 * malformed one not even that).
 */
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "front.h"

enum rd_where {
	RD_TOP,
	RD_EXCEPTION,
	RD_TRACEBACK,
	RD_FRAME,
	RD_FILES,
	RD_FILE
};

enum rd_key {
	RD_KEY_NONE,
	RD_KEY_EXCEPTION,
	RD_KEY_RESULT,
	RD_KEY_RESULT_TRUNCATED,
	RD_KEY_TYPE,
	RD_KEY_MESSAGE,
	RD_KEY_LINE,
	RD_KEY_OFFSET,
	RD_KEY_TRACEBACK,
	RD_KEY_FUNCTION,
	RD_KEY_TEXT,
	RD_KEY_FILES,
	RD_KEY_FILES_TRUNCATED,
	RD_KEY_NAME,
	RD_KEY_SIZE,
	RD_KEY_DATA
};

struct rd_parser {
	struct runner_data *d;
	unsigned depth;
	enum rd_key key;
	unsigned seen; /* keys of the current object */
	unsigned top_seen;
	unsigned exc_seen;
	bool in_files; /* depths 2 and 3 are files' */
	long long file_size;
};

static const struct {
	const char *name;
	enum rd_key key;
	enum rd_where in;
} rd_keys[] = {
	{ "exception", RD_KEY_EXCEPTION, RD_TOP },
	{ "result", RD_KEY_RESULT, RD_TOP },
	{ "result_truncated", RD_KEY_RESULT_TRUNCATED, RD_TOP },
	{ "type", RD_KEY_TYPE, RD_EXCEPTION },
	{ "message", RD_KEY_MESSAGE, RD_EXCEPTION },
	{ "line", RD_KEY_LINE, RD_EXCEPTION },
	{ "offset", RD_KEY_OFFSET, RD_EXCEPTION },
	{ "traceback", RD_KEY_TRACEBACK, RD_EXCEPTION },
	{ "line", RD_KEY_LINE, RD_FRAME },
	{ "function", RD_KEY_FUNCTION, RD_FRAME },
	{ "text", RD_KEY_TEXT, RD_FRAME },
	{ "files", RD_KEY_FILES, RD_TOP },
	{ "files_truncated", RD_KEY_FILES_TRUNCATED, RD_TOP },
	{ "name", RD_KEY_NAME, RD_FILE },
	{ "size", RD_KEY_SIZE, RD_FILE },
	{ "data", RD_KEY_DATA, RD_FILE },
};

/* Where a value at the parser's depth sits: 1 top object, 2 exception,
 * 3 traceback array, 4 frame. */
static enum rd_where
rd_where(const struct rd_parser *p)
{
	if (p->in_files)
		return p->depth == 2 ? RD_FILES : RD_FILE;
	switch (p->depth) {
	case 1:
		return RD_TOP;
	case 2:
		return RD_EXCEPTION;
	case 3:
		return RD_TRACEBACK;
	default:
		return RD_FRAME;
	}
}

static struct runner_frame *
rd_frame(struct rd_parser *p)
{
	return &p->d->exception.frames[p->d->exception.nframes - 1];
}

static int
rd_null(void *ctx)
{
	struct rd_parser *p = ctx;

	if (p->depth == 1 &&
	    (p->key == RD_KEY_EXCEPTION || p->key == RD_KEY_RESULT))
		return 1;
	if (p->depth == 2 && (p->key == RD_KEY_LINE || p->key == RD_KEY_OFFSET))
		return 1;
	return 0;
}

static int
rd_boolean(void *ctx, int value)
{
	struct rd_parser *p = ctx;

	if (p->depth == 1 && p->key == RD_KEY_FILES_TRUNCATED) {
		p->d->files_truncated = value != 0;
		return 1;
	}
	if (p->depth != 1 || p->key != RD_KEY_RESULT_TRUNCATED)
		return 0;
	p->d->result_truncated = value != 0;
	return 1;
}

static int
rd_integer(void *ctx, long long value)
{
	struct rd_parser *p = ctx;

	if (p->in_files) {
		if (p->depth != 3 || p->key != RD_KEY_SIZE || value < 0 ||
		    (unsigned long long)value > p->d->files_max)
			return 0;
		p->file_size = value;
		return 1;
	}
	if (value < 0 || value > RUNNER_DATA_LINE_MAX)
		return 0;
	if (p->depth == 2 && p->key == RD_KEY_LINE)
		p->d->exception.line = value;
	else if (p->depth == 2 && p->key == RD_KEY_OFFSET)
		p->d->exception.offset = value;
	else if (p->depth == 4 && p->key == RD_KEY_LINE)
		rd_frame(p)->line = value;
	else
		return 0;
	return 1;
}

/* A string into a fixed array: within its cap and without NUL. */
static int
rd_copy(char *dst, size_t dstsize, const unsigned char *s, size_t len)
{
	if (len >= dstsize || memchr(s, '\0', len) != NULL)
		return 0;
	memcpy(dst, s, len);
	dst[len] = '\0';
	return 1;
}

static int
rd_string(void *ctx, const unsigned char *s, size_t len)
{
	struct rd_parser *p = ctx;
	struct runner_data *d = p->d;

	if (p->in_files) {
		struct runner_file *f;

		if (p->depth != 3)
			return 0;
		f = &d->files[d->nfiles - 1];
		if (p->key == RD_KEY_NAME) {
			if (!job_file_name_ok((const char *)s, len))
				return 0;
			memcpy(f->name, s, len);
			f->name[len] = '\0';
			return 1;
		}
		if (p->key != RD_KEY_DATA)
			return 0;
		if (base64_decoded_max(len) > d->files_max - d->files_total + 2)
			return 0;
		buf_init(&f->data, d->files_max - d->files_total);
		return base64_decode((const char *)s, len, &f->data) == 0;
	}
	if (p->depth == 1 && p->key == RD_KEY_RESULT) {
		d->has_result = true;
		return len <= PROTOCOL_RESULT_MAX_BYTES &&
		    buf_append(&d->result, s, len) == 0;
	}
	if (p->depth == 2 && p->key == RD_KEY_TYPE)
		return rd_copy(d->exception.type, sizeof(d->exception.type), s,
		    len);
	if (p->depth == 2 && p->key == RD_KEY_MESSAGE)
		return len <= PROTOCOL_EXC_MESSAGE_MAX_BYTES &&
		    buf_append(&d->exception.message, s, len) == 0;
	if (p->depth == 4 && p->key == RD_KEY_FUNCTION)
		return rd_copy(rd_frame(p)->function,
		    sizeof(rd_frame(p)->function), s, len);
	if (p->depth == 4 && p->key == RD_KEY_TEXT)
		return rd_copy(rd_frame(p)->text, sizeof(rd_frame(p)->text), s,
		    len);
	return 0;
}

static int
rd_map_key(void *ctx, const unsigned char *key, size_t len)
{
	struct rd_parser *p = ctx;
	enum rd_where in = rd_where(p);
	size_t i;

	for (i = 0; i < sizeof(rd_keys) / sizeof(rd_keys[0]); i++) {
		if (rd_keys[i].in != in || strlen(rd_keys[i].name) != len ||
		    memcmp(rd_keys[i].name, key, len) != 0)
			continue;
		if (p->seen & (1U << rd_keys[i].key))
			return 0; /* a key twice */
		p->seen |= 1U << rd_keys[i].key;
		p->key = rd_keys[i].key;
		return 1;
	}
	return 0; /* an unknown key */
}

static int
rd_start_map(void *ctx)
{
	struct rd_parser *p = ctx;

	if (p->depth == 0)
		;
	else if (p->in_files && p->depth == 2) {
		if (p->d->nfiles == PROTOCOL_FILES_MAX)
			return 0;
		p->d->nfiles++;
		p->file_size = -1;
	} else if (p->in_files)
		return 0;
	else if (p->depth == 1 && p->key == RD_KEY_EXCEPTION) {
		p->d->has_exception = true;
		p->top_seen = p->seen;
	} else if (p->depth == 3) {
		if (p->d->exception.nframes == PROTOCOL_EXC_FRAMES_MAX)
			return 0;
		p->d->exception.nframes++;
		rd_frame(p)->line = -1;
	} else
		return 0;
	p->depth++;
	p->seen = 0;
	p->key = RD_KEY_NONE;
	return 1;
}

static int
rd_end_map(void *ctx)
{
	struct rd_parser *p = ctx;

	if (p->in_files) {
		struct runner_file *f = &p->d->files[p->d->nfiles - 1];
		size_t i;

		p->depth--;
		/* a file: all three keys, the size its data's, a name once */
		if (p->seen !=
			((1U << RD_KEY_NAME) | (1U << RD_KEY_SIZE) |
			    (1U << RD_KEY_DATA)) ||
		    p->file_size < 0 || (size_t)p->file_size != f->data.len)
			return 0;
		for (i = 0; i + 1 < p->d->nfiles; i++)
			if (strcmp(p->d->files[i].name, f->name) == 0)
				return 0;
		p->d->files_total += f->data.len;
		p->seen = 0;
		return 1;
	}
	switch (p->depth--) {
	case 1: /* the record: every key once; files optional */
		return (p->seen &
			   ~((1U << RD_KEY_FILES) |
			       (1U << RD_KEY_FILES_TRUNCATED))) ==
		    ((1U << RD_KEY_EXCEPTION) | (1U << RD_KEY_RESULT) |
			(1U << RD_KEY_RESULT_TRUNCATED)) &&
		    !(p->seen & (1U << RD_KEY_FILES)) ==
		    !(p->seen & (1U << RD_KEY_FILES_TRUNCATED));
	case 2: /* the exception: offset is optional */
		if ((p->seen | (1U << RD_KEY_OFFSET)) !=
		    ((1U << RD_KEY_TYPE) | (1U << RD_KEY_MESSAGE) |
			(1U << RD_KEY_LINE) | (1U << RD_KEY_OFFSET) |
			(1U << RD_KEY_TRACEBACK)))
			return 0;
		p->seen = p->top_seen;
		return 1;
	case 4: /* a frame: all three */
		if (p->seen !=
			((1U << RD_KEY_LINE) | (1U << RD_KEY_FUNCTION) |
			    (1U << RD_KEY_TEXT)) ||
		    rd_frame(p)->line < 0)
			return 0;
		p->seen = p->exc_seen;
		return 1;
	default:
		return 0;
	}
}

static int
rd_start_array(void *ctx)
{
	struct rd_parser *p = ctx;

	if (p->depth == 1 && p->key == RD_KEY_FILES) {
		p->d->has_files = true;
		p->top_seen = p->seen;
		p->in_files = true;
		p->depth++;
		p->seen = 0;
		return 1;
	}
	if (p->depth != 2 || p->key != RD_KEY_TRACEBACK)
		return 0;
	p->exc_seen = p->seen;
	p->depth++;
	return 1;
}

static int
rd_end_array(void *ctx)
{
	struct rd_parser *p = ctx;

	if (p->in_files && p->depth == 2) {
		p->in_files = false;
		p->depth--;
		p->seen = p->top_seen;
		return 1;
	}
	if (p->depth != 3)
		return 0;
	p->depth--;
	p->seen = p->exc_seen;
	return 1;
}

static const yajl_callbacks rd_callbacks = {
	.yajl_null = rd_null,
	.yajl_boolean = rd_boolean,
	.yajl_integer = rd_integer,
	.yajl_string = rd_string,
	.yajl_start_map = rd_start_map,
	.yajl_map_key = rd_map_key,
	.yajl_end_map = rd_end_map,
	.yajl_start_array = rd_start_array,
	.yajl_end_array = rd_end_array,
};

void
runner_data_init(struct runner_data *d)
{
	size_t files_max = d->files_max;

	memset(d, 0, sizeof(*d));
	d->files_max = files_max;
	buf_init(&d->result, PROTOCOL_RESULT_MAX_BYTES);
	buf_init(&d->exception.message, PROTOCOL_EXC_MESSAGE_MAX_BYTES);
	d->exception.line = d->exception.offset = -1;
}

void
runner_data_free(struct runner_data *d)
{
	size_t i;

	for (i = 0; i < d->nfiles && i < PROTOCOL_FILES_MAX; i++)
		buf_free(&d->files[i].data);
	d->nfiles = 0;
	buf_free(&d->result);
	buf_free(&d->exception.message);
}

int
runner_data_parse(const char *s, size_t len, struct runner_data *d)
{
	struct rd_parser p;
	yajl_handle h;
	yajl_status st;

	runner_data_free(d);
	runner_data_init(d);
	if (len == 0 || len > PROTOCOL_DATA_MAX_BYTES || !utf8_valid(s, len))
		return -1;
	memset(&p, 0, sizeof(p));
	p.d = d;
	if ((h = yajl_alloc(&rd_callbacks, NULL, &p)) == NULL)
		return -1;
	yajl_config(h, yajl_allow_comments, 0);
	yajl_config(h, yajl_dont_validate_strings, 0);
	yajl_config(h, yajl_allow_trailing_garbage, 0);
	yajl_config(h, yajl_allow_multiple_values, 0);
	yajl_config(h, yajl_allow_partial_values, 0);
	st = yajl_parse(h, (const unsigned char *)s, len);
	if (st == yajl_status_ok)
		st = yajl_complete_parse(h);
	yajl_free(h);
	d->valid = st == yajl_status_ok && p.depth == 0;
	if (!d->valid) {
		runner_data_free(d);
		runner_data_init(d);
		return -1;
	}
	return 0;
}
