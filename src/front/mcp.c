/*
 * mcp.c: the Model Context Protocol endpoint, POST /mcp (Streamable HTTP),
 * stateless: every POST is one JSON-RPC message and gets one
 * application/json answer (or 202 and no body for a notification); there
 * are no sessions, no GET stream and no server-to-client requests.  It
 * owns the JSON-RPC envelope (a yajl callback parser into the fixed
 * struct mcp_message, as json_in.c reads /v1/execute), the HTTP checks the
 * specification asks of a server, and the answers of the five methods.
 *
 * Revisions (the specification's own text, modelcontextprotocol/
 * modelcontextprotocol docs/specification/<rev>):
 *   2026-07-28  modern: no initialize; the version in every request's
 *               params._meta["io.modelcontextprotocol/protocolVersion"]
 *               and the MCP-Protocol-Version header, which must agree, as
 *               must Mcp-Method and (tools/call) Mcp-Name with the body
 *               (-32020, 400); server/discover; results carry resultType,
 *               tools/list ttlMs and cacheScope; an unknown method is 404.
 *   2025-11-25, 2025-06-18, 2025-03-26  legacy: initialize negotiates
 *               (the client's version if we have it, else 2025-11-25),
 *               then ping, tools/list, tools/call; a request without the
 *               version header is 2025-03-26, as both revisions allow.
 * A version header we do not speak is 400 with -32022 and the list.
 *
 * tools/call's "arguments" are the POST /v1/execute body: the parser keeps
 * only their offsets, and json_in_parse_job() reads those bytes, so a bad
 * `code` or `files` gets the same reason text as the REST 400 (as -32602).
 * The run goes through request_run(), the execute path's gate, channel and
 * limits, and the answer object is answer.c's, as structuredContent.
 *
 * Errors: what the MCP layer decides is a JSON-RPC error object (no "id"
 * when none was read); what comes before it (405 from the router, 413 and
 * a broken body from request.c, nginx's own pages) keeps the API's
 * {"error": {"code", "message"}}.
 */
#ifdef HAVE_CONFIG_H
#include <config.h> /* PACKAGE_VERSION, the serverInfo's */
#endif
#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown" /* built outside automake (fuzz.sh) */
#endif

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yajl/yajl_parse.h>

#include "front.h"
#include "json_gen.h"

#define MCP_VERSION_MODERN "2026-07-28"
#define MCP_VERSION_LEGACY "2025-11-25" /* initialize's fallback */
/* A request without MCP-Protocol-Version (streamable-http, 2025-06-18
 * and 2026-07-28: "MAY treat ... as 2025-03-26"). */
#define MCP_VERSION_NO_HEADER "2025-03-26"
#define MCP_META_VERSION_KEY "io.modelcontextprotocol/protocolVersion"
#define MCP_SERVER_NAME "pycage"
/* tools/list and server/discover may be cached this long (2026-07-28,
 * CacheableResult): the tool changes only with the image or config. */
#define MCP_TTL_MS 300000
#define MCP_NUMBER_MAX 32 /* a numeric id's longest numeral */
#define MCP_SUMMARY_MAX_BYTES (64UL * 1024)

static const char *const mcp_versions[] = { MCP_VERSION_MODERN, "2025-11-25",
	"2025-06-18", "2025-03-26" };
#define MCP_NVERSIONS (sizeof(mcp_versions) / sizeof(mcp_versions[0]))

/* ------------------------------------------------------------- parser */

/* What the object open at a depth is. */
enum mcp_container { MC_TOP, MC_PARAMS, MC_META, MC_ARGUMENTS, MC_OTHER };
/* The member whose value comes next, in the object open at a depth. */
enum mcp_member {
	MM_NONE,
	MM_OTHER,
	MM_JSONRPC,
	MM_ID,
	MM_METHOD,
	MM_PARAMS,
	MM_NAME,
	MM_ARGUMENTS,
	MM_PROTOCOL_VERSION,
	MM_META,
	MM_META_VERSION
};

struct mcp_parser {
	struct mcp_message *m;
	yajl_handle h;
	unsigned depth;
	enum mcp_container container[JSON_IN_DEPTH_MAX + 1];
	enum mcp_member member[JSON_IN_DEPTH_MAX + 1];
	unsigned seen[JSON_IN_DEPTH_MAX + 1]; /* bit per member */
	bool has_jsonrpc;
	bool too_deep;
	bool failed;
	bool top_is_object;
};

static void __attribute__((format(printf, 3, 4)))
mcp_fail(struct mcp_parser *p, int code, const char *fmt, ...)
{
	va_list ap;

	if (p->failed)
		return;
	p->failed = true;
	p->m->error_code = code;
	va_start(ap, fmt);
	vsnprintf(p->m->error_message, sizeof(p->m->error_message), fmt, ap);
	va_end(ap);
}

static const char *
mcp_member_name(enum mcp_member k)
{
	switch (k) {
	case MM_JSONRPC:
		return "jsonrpc";
	case MM_ID:
		return "id";
	case MM_METHOD:
		return "method";
	case MM_PARAMS:
		return "params";
	case MM_NAME:
		return "params.name";
	case MM_ARGUMENTS:
		return "params.arguments";
	case MM_PROTOCOL_VERSION:
		return "params.protocolVersion";
	case MM_META:
		return "params._meta";
	case MM_META_VERSION:
		return "params._meta[\"" MCP_META_VERSION_KEY "\"]";
	default:
		return "a member";
	}
}

/* The member the next value belongs to (MM_NONE at the top, or in an
 * array or an object we do not read). */
static enum mcp_member
mcp_current(const struct mcp_parser *p)
{
	if (p->depth == 0)
		return MM_NONE;
	switch (p->container[p->depth - 1]) {
	case MC_TOP:
	case MC_PARAMS:
	case MC_META:
		return p->member[p->depth - 1];
	default:
		return MM_NONE;
	}
}

static void
mcp_wrong_type(struct mcp_parser *p, enum mcp_member k)
{
	switch (k) {
	case MM_JSONRPC:
		mcp_fail(p, MCP_INVALID_REQUEST, "\"jsonrpc\" must be \"2.0\".");
		break;
	case MM_ID:
		mcp_fail(p, MCP_INVALID_REQUEST,
		    "\"id\" must be a string or "
		    "an integer (not null).");
		break;
	case MM_METHOD:
		mcp_fail(p, MCP_INVALID_REQUEST, "\"method\" must be a string.");
		break;
	case MM_PARAMS:
	case MM_ARGUMENTS:
	case MM_META:
		mcp_fail(p, MCP_INVALID_PARAMS, "%s must be an object.",
		    mcp_member_name(k));
		break;
	case MM_NAME:
	case MM_PROTOCOL_VERSION:
	case MM_META_VERSION:
		mcp_fail(p, MCP_INVALID_PARAMS, "%s must be a string.",
		    mcp_member_name(k));
		break;
	default:
		break;
	}
}

static int
mcp_scalar(struct mcp_parser *p)
{
	if (p->depth == 0)
		mcp_fail(p, MCP_INVALID_REQUEST,
		    "The body must be one JSON-RPC "
		    "request or notification object.");
	else
		mcp_wrong_type(p, mcp_current(p));
	return 1;
}

static int
mcp_null(void *ctx)
{
	return mcp_scalar(ctx);
}

static int
mcp_boolean(void *ctx, int value)
{
	(void)value;
	return mcp_scalar(ctx);
}

static int
mcp_number(void *ctx, const char *s, size_t len)
{
	struct mcp_parser *p = ctx;
	size_t i;

	if (mcp_current(p) != MM_ID)
		return mcp_scalar(p);
	/* JSON-RPC: an id SHOULD NOT have a fraction; we take integers. */
	for (i = 0; i < len; i++)
		if (!(s[i] == '-' || (s[i] >= '0' && s[i] <= '9')))
			break;
	if (len == 0 || len > MCP_NUMBER_MAX || i != len) {
		mcp_wrong_type(p, MM_ID);
		return 1;
	}
	memcpy(p->m->id, s, len);
	p->m->id[len] = '\0';
	p->m->id_len = len;
	p->m->id_type = MCP_ID_NUMBER;
	return 1;
}

/* Copies a string member's value into dst (max bytes); -1 if longer. */
static int
mcp_keep(char *dst, size_t max, const unsigned char *s, size_t len)
{
	if (len > max)
		return -1;
	memcpy(dst, s, len);
	dst[len] = '\0';
	return 0;
}

static int
mcp_string(void *ctx, const unsigned char *s, size_t len)
{
	struct mcp_parser *p = ctx;
	struct mcp_message *m = p->m;
	enum mcp_member k = mcp_current(p);

	switch (k) {
	case MM_JSONRPC:
		if (len == 3 && memcmp(s, "2.0", 3) == 0)
			p->has_jsonrpc = true;
		else
			mcp_wrong_type(p, k);
		break;
	case MM_ID:
		if (mcp_keep(m->id, MCP_ID_MAX_BYTES, s, len) == -1) {
			mcp_fail(p, MCP_INVALID_REQUEST,
			    "\"id\" is over %d "
			    "bytes.",
			    MCP_ID_MAX_BYTES);
			break;
		}
		m->id_len = len;
		m->id_type = MCP_ID_STRING;
		break;
	case MM_METHOD:
		/* A longer name is no method of ours ("not found"). */
		if (mcp_keep(m->method, MCP_METHOD_MAX_BYTES, s, len) == -1)
			snprintf(m->method, sizeof(m->method),
			    "(over %d bytes)", MCP_METHOD_MAX_BYTES);
		m->has_method = true;
		break;
	case MM_NAME:
		if (mcp_keep(m->name, MCP_NAME_MAX_BYTES, s, len) == -1)
			snprintf(m->name, sizeof(m->name), "(over %d bytes)",
			    MCP_NAME_MAX_BYTES);
		m->has_name = true;
		break;
	case MM_PROTOCOL_VERSION:
		if (mcp_keep(m->protocol_version, MCP_VERSION_MAX_BYTES, s,
			len) == -1)
			snprintf(m->protocol_version,
			    sizeof(m->protocol_version), "(too long)");
		m->has_protocol_version = true;
		break;
	case MM_META_VERSION:
		if (mcp_keep(m->meta_version, MCP_VERSION_MAX_BYTES, s, len) == -1)
			snprintf(m->meta_version, sizeof(m->meta_version),
			    "(too long)");
		m->has_meta_version = true;
		break;
	default:
		mcp_wrong_type(p, k);
		break;
	}
	return 1;
}

static int
mcp_map_key(void *ctx, const unsigned char *key, size_t len)
{
	static const struct {
		enum mcp_container in;
		const char *name;
		enum mcp_member member;
	} members[] = {
		{ MC_TOP, "jsonrpc", MM_JSONRPC },
		{ MC_TOP, "id", MM_ID },
		{ MC_TOP, "method", MM_METHOD },
		{ MC_TOP, "params", MM_PARAMS },
		{ MC_PARAMS, "name", MM_NAME },
		{ MC_PARAMS, "arguments", MM_ARGUMENTS },
		{ MC_PARAMS, "protocolVersion", MM_PROTOCOL_VERSION },
		{ MC_PARAMS, "_meta", MM_META },
		{ MC_META, MCP_META_VERSION_KEY, MM_META_VERSION },
	};
	struct mcp_parser *p = ctx;
	enum mcp_container in;
	enum mcp_member k = MM_OTHER;
	size_t i;

	if (p->depth == 0)
		return 1;
	in = p->container[p->depth - 1];
	if (in != MC_TOP && in != MC_PARAMS && in != MC_META)
		return 1;
	for (i = 0; i < sizeof(members) / sizeof(members[0]); i++)
		if (members[i].in == in && strlen(members[i].name) == len &&
		    memcmp(members[i].name, key, len) == 0)
			k = members[i].member;
	if (k == MM_OTHER && in == MC_TOP) {
		/* JSON-RPC 2.0 has four members in a request; a client
		 * sends no responses (streamable-http, Sending Messages). */
		mcp_fail(p, MCP_INVALID_REQUEST,
		    "Unknown member \"%.*s\": a "
		    "request has only \"jsonrpc\", \"id\", \"method\" and "
		    "\"params\".",
		    (int)utf8_whole_prefix((const char *)key, len > 64 ? 64 : len),
		    (const char *)key);
	} else if (k != MM_OTHER && (p->seen[p->depth - 1] & (1U << k))) {
		mcp_fail(p, MCP_INVALID_REQUEST, "%s appears more than once.",
		    mcp_member_name(k));
		k = MM_OTHER; /* keep the first value */
	} else if (k != MM_OTHER)
		p->seen[p->depth - 1] |= 1U << k;
	p->member[p->depth - 1] = k;
	return 1;
}

static int
mcp_open(struct mcp_parser *p, bool is_map)
{
	enum mcp_member k = mcp_current(p);
	enum mcp_container c = MC_OTHER;

	if (p->depth == 0) {
		if (is_map) {
			p->top_is_object = true;
			c = MC_TOP;
		} else
			mcp_fail(p, MCP_INVALID_REQUEST,
			    "Batches are not "
			    "accepted: send one JSON-RPC message per POST.");
	} else if (k == MM_PARAMS && is_map)
		c = MC_PARAMS;
	else if (k == MM_META && is_map)
		c = MC_META;
	else if (k == MM_ARGUMENTS && is_map) {
		c = MC_ARGUMENTS;
		/* Just past the '{' (yajl counts what it has lexed). */
		p->m->arguments_offset = yajl_get_bytes_consumed(p->h) - 1;
	} else
		mcp_wrong_type(p, k);
	if (p->depth >= JSON_IN_DEPTH_MAX) {
		p->too_deep = true;
		return 0; /* cancels the parse */
	}
	p->container[p->depth] = c;
	p->member[p->depth] = MM_NONE;
	p->seen[p->depth] = 0;
	p->depth++;
	return 1;
}

static int
mcp_start_map(void *ctx)
{
	return mcp_open(ctx, true);
}

static int
mcp_start_array(void *ctx)
{
	return mcp_open(ctx, false);
}

static int
mcp_close(void *ctx)
{
	struct mcp_parser *p = ctx;

	p->depth--;
	if (p->container[p->depth] == MC_ARGUMENTS) {
		p->m->has_arguments = true;
		p->m->arguments_len =
		    yajl_get_bytes_consumed(p->h) - p->m->arguments_offset;
	}
	return 1;
}

static const yajl_callbacks mcp_callbacks = {
	.yajl_null = mcp_null,
	.yajl_boolean = mcp_boolean,
	.yajl_number = mcp_number,
	.yajl_string = mcp_string,
	.yajl_start_map = mcp_start_map,
	.yajl_map_key = mcp_map_key,
	.yajl_end_map = mcp_close,
	.yajl_start_array = mcp_start_array,
	.yajl_end_array = mcp_close,
};

int
mcp_parse(const char *body, size_t len, struct mcp_message *m)
{
	struct mcp_parser *p;
	struct api_error err;
	yajl_status st;

	memset(m, 0, sizeof(*m));
	api_error_init(&err);
	/* The same byte checks as /v1/execute (json_in.c). */
	if (json_in_check_bytes(body, len, &err) == -1) {
		m->error_code = MCP_PARSE_ERROR;
		snprintf(m->error_message, sizeof(m->error_message), "%s",
		    err.message);
		return -1;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		m->error_code = MCP_INTERNAL_ERROR;
		snprintf(m->error_message, sizeof(m->error_message),
		    "Out of memory.");
		return -1;
	}
	p->m = m;
	if ((p->h = yajl_alloc(&mcp_callbacks, NULL, p)) == NULL) {
		free(p);
		m->error_code = MCP_INTERNAL_ERROR;
		snprintf(m->error_message, sizeof(m->error_message),
		    "Out of memory.");
		return -1;
	}
	yajl_config(p->h, yajl_allow_comments, 0);
	yajl_config(p->h, yajl_dont_validate_strings, 0);
	yajl_config(p->h, yajl_allow_trailing_garbage, 0);
	yajl_config(p->h, yajl_allow_multiple_values, 0);
	yajl_config(p->h, yajl_allow_partial_values, 0);
	/* One call over the whole buffer: the offsets kept for "arguments"
	 * are then offsets in body. */
	st = yajl_parse(p->h, (const unsigned char *)body, len);
	if (st == yajl_status_ok)
		st = yajl_complete_parse(p->h);
	yajl_free(p->h);

	if (p->too_deep) {
		p->failed = false;
		mcp_fail(p, MCP_INVALID_REQUEST,
		    "The body nests deeper than "
		    "%d levels.",
		    JSON_IN_DEPTH_MAX);
	} else if (st != yajl_status_ok) {
		p->failed = false;
		mcp_fail(p, MCP_PARSE_ERROR,
		    "The body is not valid JSON (RFC "
		    "8259; comments and trailing bytes are refused).");
	} else if (!p->failed && !p->has_jsonrpc)
		mcp_fail(p, MCP_INVALID_REQUEST,
		    "\"jsonrpc\": \"2.0\" is "
		    "missing.");
	else if (!p->failed && !m->has_method)
		mcp_fail(p, MCP_INVALID_REQUEST, "\"method\" is missing.");
	if (p->failed && m->error_code == MCP_PARSE_ERROR)
		m->id_type = MCP_ID_NONE; /* an id of a broken body */
	if (!p->failed) {
		free(p);
		return 0;
	}
	free(p);
	return -1;
}

/* ------------------------------------------------------------ answers */

static void
mcp_reply_init(struct mcp_reply *r, int status, size_t cap)
{
	r->status = status;
	r->retry_after_s = 0;
	buf_init(&r->body, cap);
}

static int
mcp_gen_id(yajl_gen g, const struct mcp_message *m)
{
	if (m == NULL || m->id_type == MCP_ID_NONE)
		return 0;
	GEN_KEY(g, "id");
	if (m->id_type == MCP_ID_STRING)
		GEN(yajl_gen_string(g, (const unsigned char *)m->id, m->id_len));
	else
		GEN(yajl_gen_number(g, m->id, m->id_len));
	return 0;
fail:
	return -1;
}

/* The versions we speak, as an array (discover, -32022's data). */
static int
mcp_gen_versions(yajl_gen g)
{
	size_t i;

	GEN(yajl_gen_array_open(g));
	for (i = 0; i < MCP_NVERSIONS; i++)
		GEN_STR(g, mcp_versions[i]);
	GEN(yajl_gen_array_close(g));
	return 0;
fail:
	return -1;
}

/*
 * A JSON-RPC error answer with HTTP status.  api_code, when set, goes in
 * data.code (the API's name for the fault, README's error table);
 * requested, when set, makes it -32022's {"supported", "requested"}.
 */
static void
mcp_error(struct mcp_reply *r, int status, const struct mcp_message *m,
    int code, const char *message, const char *api_code, const char *requested)
{
	yajl_gen g;

	mcp_reply_init(r, status, 4096 + MCP_ID_MAX_BYTES * 6);
	if ((g = json_gen_begin()) == NULL)
		goto fail;
	GEN(yajl_gen_map_open(g));
	GEN_KEY(g, "jsonrpc");
	GEN_STR(g, "2.0");
	if (mcp_gen_id(g, m) == -1)
		goto fail;
	GEN_KEY(g, "error");
	GEN(yajl_gen_map_open(g));
	GEN_KEY(g, "code");
	GEN(yajl_gen_integer(g, code));
	GEN_KEY(g, "message");
	GEN_STR(g, message);
	if (api_code != NULL || requested != NULL) {
		GEN_KEY(g, "data");
		GEN(yajl_gen_map_open(g));
		if (api_code != NULL) {
			GEN_KEY(g, "code");
			GEN_STR(g, api_code);
		}
		if (requested != NULL) {
			GEN_KEY(g, "supported");
			if (mcp_gen_versions(g) == -1)
				goto fail;
			GEN_KEY(g, "requested");
			GEN_STR(g, requested);
		}
		GEN(yajl_gen_map_close(g));
	}
	GEN(yajl_gen_map_close(g));
	GEN(yajl_gen_map_close(g));
	if (json_gen_end(g, &r->body) == 0)
		return;
	g = NULL;
fail:
	if (g != NULL)
		yajl_gen_free(g);
	buf_reset(&r->body);
	r->status = 500;
	buf_append_str(&r->body,
	    "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":"
	    "-32603,\"message\":\"Could not encode the error.\"}}");
}

static bool
mcp_version_known(const char *v)
{
	size_t i;

	for (i = 0; i < MCP_NVERSIONS; i++)
		if (strcmp(v, mcp_versions[i]) == 0)
			return true;
	return false;
}

/* Whether one comma-separated list (config) holds origin, exactly but
 * for case (RFC 6454: scheme and host are case-insensitive). */
static bool
mcp_origin_allowed(const char *list, const char *origin)
{
	size_t n = strlen(origin), len;

	while (*list != '\0') {
		list += strspn(list, " \t,");
		len = strcspn(list, ",");
		while (len > 0 && (list[len - 1] == ' ' || list[len - 1] == '\t'))
			len--;
		if (len > 0 && len == n && strncasecmp(list, origin, n) == 0)
			return true;
		list += strcspn(list, ",");
	}
	return false;
}

/* Whether a media range's parameters (after its ';') hold q=0. */
static bool
mcp_q_zero(const char *params, size_t len)
{
	size_t i = 0, n;

	while (i < len) {
		i += strspn(params + i, "; \t");
		if (i >= len)
			break;
		n = strcspn(params + i, ";");
		if (n > len - i)
			n = len - i;
		while (n > 0 &&
		    (params[i + n - 1] == ' ' || params[i + n - 1] == '\t'))
			n--;
		/* RFC 9110 12.4.2: qvalue = ( "0" [ "." 0*3DIGIT ] ) / ... */
		if (n >= 3 && (params[i] == 'q' || params[i] == 'Q') &&
		    params[i + 1] == '=' && params[i + 2] == '0' &&
		    (n == 3 ||
			(params[i + 3] == '.' && n <= 7 &&
			    strspn(params + i + 4, "0") >= n - 4)))
			return true;
		i += strcspn(params + i, ";");
	}
	return false;
}

/*
 * Whether an Accept header admits application/json (RFC 9110 12.5.1):
 * absent means anything; a range with q=0 does not count.
 */
static bool
mcp_accepts_json(const char *accept)
{
	const char *range = accept, *end, *semi;
	size_t len;

	if (*accept == '\0')
		return true;
	while (*range != '\0') {
		range += strspn(range, " \t,");
		if (*range == '\0')
			break;
		end = range + strcspn(range, ",");
		semi = memchr(range, ';', (size_t)(end - range));
		len = (size_t)((semi != NULL ? semi : end) - range);
		while (len > 0 &&
		    (range[len - 1] == ' ' || range[len - 1] == '\t'))
			len--;
		if (((len == 16 &&
			 strncasecmp(range, "application/json", 16) == 0) ||
			(len == 13 &&
			    strncasecmp(range, "application/*", 13) == 0) ||
			(len == 3 && strncmp(range, "*/*", 3) == 0)) &&
		    (semi == NULL || !mcp_q_zero(semi, (size_t)(end - semi))))
			return true;
		range = end;
	}
	return false;
}

/* "application/json", any case, optionally followed by parameters. */
static bool
mcp_is_json(const char *content_type)
{
	size_t n = sizeof("application/json") - 1;

	if (strncasecmp(content_type, "application/json", n) != 0)
		return false;
	content_type += n;
	content_type += strspn(content_type, " \t");
	return *content_type == '\0' || *content_type == ';';
}

int
mcp_check_http(const struct config *c, const struct mcp_http *http,
    struct mcp_reply *r)
{
	char msg[256];

	/* streamable-http, Security: Origin MUST be validated (DNS
	 * rebinding); present and not allowed is 403.  A request without
	 * Origin is not a browser's. */
	if (*http->origin != '\0' &&
	    !mcp_origin_allowed(c->mcp_origins, http->origin)) {
		snprintf(msg, sizeof(msg),
		    "Origin %.100s is not allowed "
		    "(mcp_origins in pycage.conf).",
		    http->origin);
		mcp_error(r, 403, NULL, MCP_INVALID_REQUEST, msg,
		    "origin_not_allowed", NULL);
		return -1;
	}
	if (!mcp_accepts_json(http->accept)) {
		mcp_error(r, 406, NULL, MCP_INVALID_REQUEST,
		    "The answer is "
		    "application/json; the Accept header does not admit it.",
		    "not_acceptable", NULL);
		return -1;
	}
	if (!mcp_is_json(http->content_type)) {
		mcp_error(r, 415, NULL, MCP_INVALID_REQUEST,
		    "Send the body as "
		    "Content-Type: application/json.",
		    "unsupported_media_type", NULL);
		return -1;
	}
	if (*http->protocol_version != '\0' &&
	    !mcp_version_known(http->protocol_version)) {
		mcp_error(r, 400, NULL, MCP_UNSUPPORTED_VERSION,
		    "Unsupported protocol version",
		    "unsupported_protocol_version", http->protocol_version);
		return -1;
	}
	return 0;
}

size_t
mcp_reply_max(const struct config *c)
{
	/* structuredContent (the whole answer), then the same streams and
	 * files again in the text block and the resources, escaped. */
	return 2 * request_answer_max(c) + MCP_SUMMARY_MAX_BYTES * 6 + 65536;
}

/* The result's envelope up to "result": {...; then the caller's keys. */
static int
mcp_result_open(yajl_gen g, const struct mcp_message *m)
{
	GEN(yajl_gen_map_open(g));
	GEN_KEY(g, "jsonrpc");
	GEN_STR(g, "2.0");
	if (mcp_gen_id(g, m) == -1)
		goto fail;
	GEN_KEY(g, "result");
	GEN(yajl_gen_map_open(g));
	return 0;
fail:
	return -1;
}

/* 2026-07-28's keys of every result; none for the legacy revisions. */
static int
mcp_result_close(yajl_gen g, bool modern)
{
	if (modern) {
		GEN_KEY(g, "resultType");
		GEN_STR(g, "complete");
		GEN_KEY(g, "_meta");
		GEN(yajl_gen_map_open(g));
		GEN_KEY(g, "io.modelcontextprotocol/serverInfo");
		GEN(yajl_gen_map_open(g));
		GEN_KEY(g, "name");
		GEN_STR(g, MCP_SERVER_NAME);
		GEN_KEY(g, "version");
		GEN_STR(g, PACKAGE_VERSION);
		GEN(yajl_gen_map_close(g));
		GEN(yajl_gen_map_close(g));
	}
	GEN(yajl_gen_map_close(g));
	GEN(yajl_gen_map_close(g));
	return 0;
fail:
	return -1;
}

static int
mcp_cacheable(yajl_gen g, bool modern)
{
	if (!modern)
		return 0;
	GEN_KEY(g, "ttlMs");
	GEN(yajl_gen_integer(g, MCP_TTL_MS));
	GEN_KEY(g, "cacheScope");
	GEN_STR(g, "public");
	return 0;
fail:
	return -1;
}

static const char mcp_instructions[] =
    "pycage runs Python code for you "
    "in a sandbox: one fresh, single-use container per call, no network, "
    "no state kept between calls. Use the run_python tool; its description "
    "lists the libraries and limits.";

static int
mcp_capabilities(yajl_gen g)
{
	GEN_KEY(g, "capabilities");
	GEN(yajl_gen_map_open(g));
	GEN_KEY(g, "tools");
	GEN(yajl_gen_map_open(g));
	GEN_KEY(g, "listChanged");
	GEN(yajl_gen_bool(g, 0));
	GEN(yajl_gen_map_close(g));
	GEN(yajl_gen_map_close(g));
	return 0;
fail:
	return -1;
}

static int
mcp_server_info(yajl_gen g)
{
	GEN_KEY(g, "serverInfo");
	GEN(yajl_gen_map_open(g));
	GEN_KEY(g, "name");
	GEN_STR(g, MCP_SERVER_NAME);
	GEN_KEY(g, "version");
	GEN_STR(g, PACKAGE_VERSION);
	GEN(yajl_gen_map_close(g));
	return 0;
fail:
	return -1;
}

/* initialize (legacy revisions): the client's version if we speak it. */
static int
mcp_initialize(yajl_gen g, const struct mcp_message *m)
{
	const char *v = MCP_VERSION_LEGACY;

	if (m->has_protocol_version && mcp_version_known(m->protocol_version) &&
	    strcmp(m->protocol_version, MCP_VERSION_MODERN) != 0)
		v = m->protocol_version;
	GEN_KEY(g, "protocolVersion");
	GEN_STR(g, v);
	if (mcp_capabilities(g) == -1 || mcp_server_info(g) == -1)
		goto fail;
	GEN_KEY(g, "instructions");
	GEN_STR(g, mcp_instructions);
	return 0;
fail:
	return -1;
}

static int
mcp_discover(yajl_gen g)
{
	GEN_KEY(g, "supportedVersions");
	if (mcp_gen_versions(g) == -1 || mcp_capabilities(g) == -1)
		goto fail;
	GEN_KEY(g, "instructions");
	GEN_STR(g, mcp_instructions);
	return 0;
fail:
	return -1;
}

static int
mcp_tools_list(struct worker *w, yajl_gen g, struct api_error *err)
{
	struct runtime_info *rt;
	struct buf desc;
	int rc = -1;

	if ((rt = calloc(1, sizeof(*rt))) == NULL) {
		api_error_set(err, 500, "internal", "Out of memory.");
		return -1;
	}
	buf_init(&desc, TOOL_DESCRIPTION_MAX_BYTES);
	peer_watch_pause(&w->peer);
	rc = channel_runtime(w->chan, rt, err);
	peer_watch_answer(&w->peer);
	if (rc == -1)
		goto out;
	rc = -1;
	if (tool_description(rt, w->config, &desc) == -1) {
		api_error_set(err, 500, "internal",
		    "The tool's description is "
		    "over its cap.");
		goto out;
	}
	GEN_KEY(g, "tools");
	GEN(yajl_gen_array_open(g));
	GEN(yajl_gen_map_open(g));
	GEN_KEY(g, "name");
	GEN_STR(g, TOOL_NAME);
	GEN_KEY(g, "title");
	GEN_STR(g, "Run Python in a sandbox");
	GEN_KEY(g, "description");
	GEN(yajl_gen_string(g, (const unsigned char *)desc.data, desc.len));
	GEN_KEY(g, "inputSchema");
	if (tool_input_schema(g, w->config) == -1)
		goto fail;
	GEN_KEY(g, "outputSchema");
	if (tool_output_schema(g) == -1)
		goto fail;
	GEN_KEY(g, "annotations");
	GEN(yajl_gen_map_open(g));
	GEN_KEY(g, "readOnlyHint");
	GEN(yajl_gen_bool(g, 1));
	GEN_KEY(g, "idempotentHint");
	GEN(yajl_gen_bool(g, 0));
	GEN_KEY(g, "openWorldHint");
	GEN(yajl_gen_bool(g, 0));
	GEN(yajl_gen_map_close(g));
	GEN(yajl_gen_map_close(g));
	GEN(yajl_gen_array_close(g));
	rc = 0;
	goto out;
fail:
	api_error_set(err, 500, "internal", "Could not encode the tool.");
out:
	buf_free(&desc);
	free(rt);
	return rc;
}

/* A file's MIME type, by its name's extension (the files a program
 * writes with the preinstalled libraries, and plain text). */
static const char *
mcp_mime_type(const char *name, bool text)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{ ".csv", "text/csv" },
		{ ".tsv", "text/tab-separated-values" },
		{ ".txt", "text/plain" },
		{ ".md", "text/markdown" },
		{ ".json", "application/json" },
		{ ".html", "text/html" },
		{ ".xml", "application/xml" },
		{ ".py", "text/x-python" },
		{ ".svg", "image/svg+xml" },
		{ ".png", "image/png" },
		{ ".jpg", "image/jpeg" },
		{ ".jpeg", "image/jpeg" },
		{ ".gif", "image/gif" },
		{ ".pdf", "application/pdf" },
		{ ".zip", "application/zip" },
		{ ".xlsx",
		    "application/vnd.openxmlformats-officedocument."
		    "spreadsheetml.sheet" },
		{ ".npy", "application/octet-stream" },
	};
	const char *dot = strrchr(name, '.');
	size_t i;

	for (i = 0; dot != NULL && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcasecmp(dot, types[i].ext) == 0)
			return types[i].type;
	return text ? "text/plain" : "application/octet-stream";
}

/* Program output for the text block: repaired to UTF-8. */
static int
mcp_append_output(struct buf *t, const char *label, const struct buf *b,
    bool truncated)
{
	struct buf clean;
	int rc = 0;

	if (b->len == 0)
		return 0;
	buf_init(&clean, b->len * 3 + 1);
	rc |= utf8_sanitize(b->data, b->len, &clean);
	rc |= buf_append_str(t, label);
	rc |= buf_append_str(t, truncated ? " (cut at its cap):\n" : ":\n");
	if (clean.len > 0)
		rc |= buf_append(t, clean.data, clean.len);
	if (clean.len == 0 || clean.data[clean.len - 1] != '\n')
		rc |= buf_append_str(t, "\n");
	buf_free(&clean);
	return rc == 0 ? 0 : -1;
}

/*
 * The text block a model reads: the verdict, stdout, stderr, the
 * exception, the result and the files' names, each only when there is
 * something to say.
 */
static int
mcp_summary(const struct job_result *r, const struct runner_data *d,
    struct buf *t)
{
	char line[512];
	size_t i;
	int rc = 0;

	snprintf(line, sizeof(line), "status: %s (exit code %d, %ld ms)\n",
	    job_status_name(r->status), r->exit_code, r->duration_ms);
	rc |= buf_append_str(t, line);
	rc |= mcp_append_output(t, "stdout", &r->stdout_buf, r->stdout_truncated);
	rc |= mcp_append_output(t, "stderr", &r->stderr_buf, r->stderr_truncated);
	if (d->valid && d->has_exception) {
		const struct runner_exception *e = &d->exception;

		snprintf(line, sizeof(line), "exception: %s: ", e->type);
		rc |= buf_append_str(t, line);
		if (e->message.len > 0)
			rc |= buf_append(t, e->message.data, e->message.len);
		if (e->line >= 0) {
			snprintf(line, sizeof(line), " (line %lld)", e->line);
			rc |= buf_append_str(t, line);
		}
		rc |= buf_append_str(t, "\n");
	}
	if (d->valid && d->has_result) {
		rc |= buf_append_str(t,
		    d->result_truncated ? "result (cut at its cap): " :
					  "result: ");
		if (d->result.len > 0)
			rc |= buf_append(t, d->result.data, d->result.len);
		rc |= buf_append_str(t, "\n");
	}
	for (i = 0; d->valid && i < d->nfiles; i++) {
		snprintf(line, sizeof(line), "%s%s (%zu bytes)",
		    i == 0 ? "files written: " : ", ", d->files[i].name,
		    d->files[i].data.len);
		rc |= buf_append_str(t, line);
	}
	if (d->valid && d->nfiles > 0)
		rc |= buf_append_str(t,
		    d->files_truncated ? "; more were left out\n" : "\n");
	return rc == 0 ? 0 : -1;
}

static int
mcp_resources(yajl_gen g, const struct runner_data *d)
{
	char uri[64 + PROTOCOL_FILE_NAME_MAX_BYTES];
	size_t i;

	for (i = 0; d->valid && i < d->nfiles; i++) {
		const struct runner_file *f = &d->files[i];
		bool text = answer_file_is_text(f);

		snprintf(uri, sizeof(uri), "file:///mnt/data/%s", f->name);
		GEN(yajl_gen_map_open(g));
		GEN_KEY(g, "type");
		GEN_STR(g, "resource");
		GEN_KEY(g, "resource");
		GEN(yajl_gen_map_open(g));
		GEN_KEY(g, "uri");
		GEN_STR(g, uri);
		GEN_KEY(g, "mimeType");
		GEN_STR(g, mcp_mime_type(f->name, text));
		if (text) {
			GEN_KEY(g, "text");
			GEN(yajl_gen_string(g,
			    (const unsigned char *)(f->data.data ? f->data.data :
								   ""),
			    f->data.len));
		} else {
			struct buf b64;
			int rc;

			GEN_KEY(g, "blob");
			buf_init(&b64, (f->data.len + 2) / 3 * 4 + 1);
			rc = base64_encode(f->data.data ? f->data.data : "",
			    f->data.len, &b64);
			if (rc == 0 &&
			    yajl_gen_string(g,
				(const unsigned char *)(b64.data ? b64.data : ""),
				b64.len) != yajl_gen_status_ok)
				rc = -1;
			buf_free(&b64);
			if (rc == -1)
				goto fail;
		}
		GEN(yajl_gen_map_close(g));
		GEN(yajl_gen_map_close(g));
	}
	return 0;
fail:
	return -1;
}

/* tools/call's result: content (text, then files), structuredContent,
 * isError. */
static int
mcp_call_result(yajl_gen g, const struct job_result *r,
    const struct runner_data *d)
{
	struct buf text;
	int rc = -1;

	buf_init(&text,
	    MCP_SUMMARY_MAX_BYTES + 6 * r->stdout_buf.cap_bytes +
		6 * r->stderr_buf.cap_bytes);
	if (mcp_summary(r, d, &text) == -1)
		goto out;
	GEN_KEY(g, "content");
	GEN(yajl_gen_array_open(g));
	GEN(yajl_gen_map_open(g));
	GEN_KEY(g, "type");
	GEN_STR(g, "text");
	GEN_KEY(g, "text");
	GEN(yajl_gen_string(g, (const unsigned char *)text.data, text.len));
	GEN(yajl_gen_map_close(g));
	if (mcp_resources(g, d) == -1)
		goto fail;
	GEN(yajl_gen_array_close(g));
	GEN_KEY(g, "structuredContent");
	if (answer_result_gen(g, r, d) == -1)
		goto fail;
	GEN_KEY(g, "isError");
	GEN(yajl_gen_bool(g, r->status != JOB_OK));
	rc = 0;
fail:
out:
	buf_free(&text);
	return rc;
}

/* Mcp-Name's value, decoded from the "=?base64?...?=" sentinel form
 * (streamable-http, Value Encoding); 0, or -1 if malformed. */
static int
mcp_header_value(const char *v, char *out, size_t outlen)
{
	static const char pre[] = "=?base64?", post[] = "?=";
	size_t n = strlen(v), np = sizeof(pre) - 1;
	struct buf b;
	int rc = -1;

	if (n < np + 2 || strncasecmp(v, pre, np) != 0 ||
	    strcmp(v + n - 2, post) != 0) {
		snprintf(out, outlen, "%s", v);
		return 0;
	}
	buf_init(&b, outlen - 1);
	if (base64_decode(v + np, n - np - 2, &b) == 0 &&
	    memchr(b.data ? b.data : "", '\0', b.len) == NULL) {
		memcpy(out, b.data ? b.data : "", b.len);
		out[b.len] = '\0';
		rc = 0;
	}
	buf_free(&b);
	return rc;
}

/*
 * 2026-07-28's header checks (streamable-http, Server Validation): the
 * version header, Mcp-Method and, for tools/call, Mcp-Name must be there
 * and agree with the body.  0, or -1 with a -32020 reply.
 */
static int
mcp_check_headers(const struct mcp_http *http, const struct mcp_message *m,
    struct mcp_reply *r)
{
	char msg[256], name[MCP_NAME_MAX_BYTES + 1];

	if (strcmp(http->protocol_version, m->meta_version) != 0) {
		snprintf(msg, sizeof(msg),
		    "Header mismatch: MCP-Protocol-Version "
		    "'%.40s' does not match the body's '%.40s'.",
		    http->protocol_version, m->meta_version);
		goto mismatch;
	}
	if (strcmp(http->mcp_method, m->method) != 0) {
		snprintf(msg, sizeof(msg),
		    "Header mismatch: Mcp-Method '%.64s' "
		    "does not match the body's method '%.64s'.",
		    http->mcp_method, m->method);
		goto mismatch;
	}
	if (strcmp(m->method, "tools/call") == 0 &&
	    (mcp_header_value(http->mcp_name, name, sizeof(name)) == -1 ||
		!m->has_name || strcmp(name, m->name) != 0)) {
		snprintf(msg, sizeof(msg),
		    "Header mismatch: Mcp-Name '%.64s' "
		    "does not match the body's params.name '%.64s'.",
		    http->mcp_name, m->has_name ? m->name : "");
		goto mismatch;
	}
	return 0;
mismatch:
	mcp_error(r, 400, m, MCP_HEADER_MISMATCH, msg, "header_mismatch", NULL);
	return -1;
}

/* tools/call: json_in reads the arguments; the execute path runs them. */
static int
mcp_tools_call(struct worker *w, const struct mcp_http *http, const char *body,
    const struct mcp_message *m, yajl_gen g, struct api_error *err,
    bool *invalid_params)
{
	const struct config *c = w->config;
	struct job_limits limits;
	struct job_spec spec;
	struct job_result result;
	struct runner_data *d = NULL;
	int rc;

	json_in_limits(c, &limits);
	*invalid_params = false;
	if (!m->has_name || strcmp(m->name, TOOL_NAME) != 0) {
		api_error_set(err, 400, "unknown_tool",
		    "Unknown tool \"%s\": "
		    "the one tool is " TOOL_NAME ".",
		    m->has_name ? m->name : "");
		*invalid_params = true;
		return -1;
	}
	if (json_in_parse_job(m->has_arguments ? body + m->arguments_offset : "{}",
		m->has_arguments ? m->arguments_len : 2, &limits, &spec,
		err) == -1) {
		*invalid_params = true;
		return -1;
	}
	job_result_init(&result, c->output_max_bytes);
	result.files_max_bytes = c->files_max_bytes;
	rc = request_run(w, http->client, http->id, &spec, &result, err);
	job_spec_free(&spec);
	if (rc == 0) {
		log_info("mcp tools/call %s: %s exit %d in %ld ms (%s %s)",
		    http->id, job_status_name(result.status), result.exit_code,
		    result.duration_ms, w->keys != NULL ? "key" : "client",
		    http->client);
		if ((d = answer_runner_data(&result)) == NULL ||
		    mcp_call_result(g, &result, d) == -1) {
			api_error_set(err, 500, "internal",
			    "Could not encode the "
			    "result.");
			rc = -1;
		}
	}
	answer_runner_data_free(d);
	job_result_free(&result);
	return rc;
}

void
mcp_serve(struct worker *w, const struct mcp_http *http, const char *body,
    size_t len, struct mcp_reply *r)
{
	struct mcp_message *m;
	struct api_error err;
	yajl_gen g = NULL;
	const char *version;
	bool modern, invalid_params = false;
	int rc;
	char msg[256];

	if ((m = calloc(1, sizeof(*m))) == NULL) {
		mcp_error(r, 500, NULL, MCP_INTERNAL_ERROR, "Out of memory.",
		    "internal", NULL);
		return;
	}
	api_error_init(&err);
	/* Invalid params of a request is an answer to it (200); of a
	 * notification, which no answer can name, the transport's 400. */
	if (mcp_parse(body, len, m) == -1) {
		mcp_error(r,
		    m->error_code == MCP_INTERNAL_ERROR ? 500 :
			m->error_code == MCP_INVALID_PARAMS &&
			    m->id_type != MCP_ID_NONE ?
							  200 :
							  400,
		    m, m->error_code, m->error_message, NULL, NULL);
		goto out;
	}
	/* A notification (no id): accepted, nothing to answer. */
	if (m->id_type == MCP_ID_NONE) {
		mcp_reply_init(r, 202, 0);
		goto out;
	}
	/* The version: the body's _meta (2026-07-28) and the header must
	 * agree; without either it is a legacy request. */
	version = *http->protocol_version != '\0' ? http->protocol_version :
						    MCP_VERSION_NO_HEADER;
	modern = strcmp(version, MCP_VERSION_MODERN) == 0 || m->has_meta_version;
	if (modern && mcp_check_headers(http, m, r) == -1)
		goto out;
	if (modern && !mcp_version_known(m->meta_version)) {
		mcp_error(r, 400, m, MCP_UNSUPPORTED_VERSION,
		    "Unsupported protocol version",
		    "unsupported_protocol_version", m->meta_version);
		goto out;
	}
	/* 2026-07-28 removed initialize and ping. */
	if (!(strcmp(m->method, "tools/call") == 0 ||
		strcmp(m->method, "tools/list") == 0 ||
		strcmp(m->method, "server/discover") == 0 ||
		(!modern &&
		    (strcmp(m->method, "initialize") == 0 ||
			strcmp(m->method, "ping") == 0)))) {
		snprintf(msg, sizeof(msg), "Method not found: %s.", m->method);
		mcp_error(r, modern ? 404 : 200, m, MCP_METHOD_NOT_FOUND, msg,
		    NULL, NULL);
		goto out;
	}
	mcp_reply_init(r, 200, mcp_reply_max(w->config));
	if ((g = json_gen_begin()) == NULL || mcp_result_open(g, m) == -1) {
		api_error_set(&err, 500, "internal", "Out of memory.");
		rc = -1;
	} else if (strcmp(m->method, "initialize") == 0)
		rc = mcp_initialize(g, m);
	else if (strcmp(m->method, "ping") == 0)
		rc = 0;
	else if (strcmp(m->method, "server/discover") == 0)
		rc = mcp_discover(g) == 0 ? mcp_cacheable(g, modern) : -1;
	else if (strcmp(m->method, "tools/list") == 0)
		rc = mcp_tools_list(w, g, &err) == 0 ? mcp_cacheable(g, modern) :
						       -1;
	else
		rc = mcp_tools_call(w, http, body, m, g, &err, &invalid_params);
	if (rc == 0 && mcp_result_close(g, modern) == -1)
		rc = -1;
	if (rc == 0) {
		rc = json_gen_end(g, &r->body);
		g = NULL; /* json_gen_end() frees it */
		if (rc == 0)
			goto out;
		api_error_set(&err, 500, "internal",
		    "The answer is over its "
		    "cap.");
	}
	buf_free(&r->body);
	api_error_normalize(&err);
	if (invalid_params)
		mcp_error(r, 200, m, MCP_INVALID_PARAMS, err.message, err.code,
		    NULL);
	else {
		/* The sandbox failed (busy, the engine): the API's status,
		 * Retry-After and code, as a JSON-RPC server error. */
		mcp_error(r, err.http_status, m,
		    err.http_status == 500 ? MCP_INTERNAL_ERROR : MCP_SERVER_ERROR,
		    err.message, err.code, NULL);
		r->retry_after_s = err.retry_after_s;
	}
out:
	if (g != NULL)
		yajl_gen_free(g);
	free(m);
}
