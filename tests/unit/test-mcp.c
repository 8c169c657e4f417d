/*
 * test-mcp.c: src/front/mcp.c's parts that need no executor: the JSON-RPC
 * envelope's parser (mcp_parse: what it keeps, above all the exact bytes
 * of tools/call's arguments, and each refusal's JSON-RPC code) and the HTTP
 * checks (mcp_check_http: the Origin allowlist, Accept with q=0,
 * Content-Type, the version header).  Bodies are copied into a buffer of
 * exactly their length, so an over-read shows under ASan.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "front.h"
#include "tap.h"

static int
parse(const char *body, struct mcp_message *m)
{
	size_t len = strlen(body);
	char *copy = malloc(len > 0 ? len : 1);
	int rc;

	memcpy(copy, body, len);
	memset(m, 0x5a, sizeof(*m)); /* the parser must set every field */
	rc = mcp_parse(copy, len, m);
	free(copy);
	return rc;
}

/* The arguments' bytes as the parser located them in body. */
static void
arguments_are(const char *body, const char *want, const char *what)
{
	struct mcp_message m;
	size_t len = strlen(body);
	char *copy = malloc(len);
	int rc;

	memcpy(copy, body, len);
	rc = mcp_parse(copy, len, &m);
	ok(rc == 0 && m.has_arguments &&
		m.arguments_offset + m.arguments_len <= len,
	    "%s: parsed, arguments within the body", what);
	if (rc == 0 && m.has_arguments)
		is_mem(copy + m.arguments_offset, m.arguments_len, want,
		    strlen(want), "%s: the arguments' exact bytes", what);
	else
		ok(0, "%s: the arguments' exact bytes", what);
	free(copy);
}

static void
refused(const char *body, int code, enum mcp_id_type id_type, const char *what)
{
	struct mcp_message m;

	is_int(parse(body, &m), -1, "%s: refused", what);
	is_int(m.error_code, code, "%s: JSON-RPC code", what);
	is_int(m.id_type, id_type, "%s: the id is %s", what,
	    id_type == MCP_ID_NONE ? "not echoed" : "echoed");
	ok(m.error_message[0] != '\0', "%s: a message (%s)", what,
	    m.error_message);
}

static void
test_parse(void)
{
	struct mcp_message m;
	char deep[200];
	int i;

	is_int(parse("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/list\"}",
		   &m),
	    0, "a request");
	is_int(m.id_type, MCP_ID_NUMBER, "numeric id");
	is_str(m.id, "7", "numeric id kept as its numeral");
	is_str(m.method, "tools/list", "method");
	ok(!m.has_name && !m.has_arguments && !m.has_meta_version,
	    "nothing else");

	is_int(
	    parse("{\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
		  "\"2025-06-18\",\"capabilities\":{\"x\":{\"protocolVersion\":\"no\"}},"
		  "\"clientInfo\":{\"name\":\"c\"}},\"id\":\"a\\\"b\",\"jsonrpc\":\"2.0\"}",
		&m),
	    0, "initialize, members in any order");
	is_int(m.id_type, MCP_ID_STRING, "string id");
	is_str(m.id, "a\"b", "string id decoded");
	is_str(m.protocol_version, "2025-06-18",
	    "params.protocolVersion, not a nested one");
	ok(!m.has_name, "clientInfo.name is not params.name");

	is_int(
	    parse("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":"
		  "{\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\","
		  "\"other\":[1,{\"a\":2}]},\"name\":\"run_python\",\"arguments\":{}}}",
		&m),
	    0, "a 2026-07-28 tools/call");
	is_str(m.meta_version, "2026-07-28", "_meta's protocol version");
	is_str(m.name, "run_python", "params.name");

	is_int(parse("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}",
		   &m),
	    0, "a notification");
	is_int(m.id_type, MCP_ID_NONE, "a notification has no id");

	arguments_are(
	    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":"
	    "{\"name\":\"run_python\",\"arguments\":  {\"code\":\"print({1: [2]})\",\"files\":"
	    "[{\"name\":\"a\",\"content\":\"}\"}]} }}",
	    "{\"code\":\"print({1: [2]})\",\"files\":[{\"name\":\"a\",\"content\":\"}\"}]}",
	    "arguments with braces in strings");
	arguments_are("{\"params\":{\"arguments\":{}},\"jsonrpc\":\"2.0\",\"id\":1,"
		      "\"method\":\"tools/call\"}",
	    "{}", "empty arguments, first");

	refused("{\"jsonrpc\":\"2.0\",\"id\":1", MCP_PARSE_ERROR, MCP_ID_NONE,
	    "cut short");
	refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"} {}",
	    MCP_PARSE_ERROR, MCP_ID_NONE, "two values");
	refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"/**/}",
	    MCP_PARSE_ERROR, MCP_ID_NONE, "a comment");
	refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\\udc00\"}",
	    MCP_PARSE_ERROR, MCP_ID_NONE, "a lone surrogate");
	refused("[]", MCP_INVALID_REQUEST, MCP_ID_NONE, "a batch");
	refused("42", MCP_INVALID_REQUEST, MCP_ID_NONE, "a number");
	refused("{\"jsonrpc\":\"2.0\",\"id\":1}", MCP_INVALID_REQUEST,
	    MCP_ID_NUMBER, "no method");
	refused("{\"id\":1,\"method\":\"ping\"}", MCP_INVALID_REQUEST,
	    MCP_ID_NUMBER, "no jsonrpc");
	refused("{\"jsonrpc\":2.0,\"id\":1,\"method\":\"ping\"}",
	    MCP_INVALID_REQUEST, MCP_ID_NUMBER, "jsonrpc a number");
	refused("{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"ping\"}",
	    MCP_INVALID_REQUEST, MCP_ID_NONE, "a boolean id");
	refused("{\"jsonrpc\":\"2.0\",\"id\":1e3,\"method\":\"ping\"}",
	    MCP_INVALID_REQUEST, MCP_ID_NONE, "an exponent id");
	refused("{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"ping\"}",
	    MCP_INVALID_REQUEST, MCP_ID_NONE, "an object id");
	refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"id\":2,\"method\":\"ping\"}",
	    MCP_INVALID_REQUEST, MCP_ID_NUMBER, "a duplicate id");
	refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"error\":{}}",
	    MCP_INVALID_REQUEST, MCP_ID_NUMBER, "an error member");
	refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\",\"params\":{\"_meta\":"
		"{\"io.modelcontextprotocol/protocolVersion\":\"a\","
		"\"io.modelcontextprotocol/protocolVersion\":\"b\"}}}",
	    MCP_INVALID_REQUEST, MCP_ID_NUMBER, "a duplicate _meta version");
	refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":"
		"{\"arguments\":[]}}",
	    MCP_INVALID_PARAMS, MCP_ID_NUMBER, "arguments a list");
	refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":"
		"{\"name\":3}}",
	    MCP_INVALID_PARAMS, MCP_ID_NUMBER, "name a number");
	refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\",\"params\":\"p\"}",
	    MCP_INVALID_PARAMS, MCP_ID_NUMBER, "params a string");

	/* JSON_IN_DEPTH_MAX levels are fine, one more is not (the top
	 * object and params are two of them). */
	for (i = 0; i < 2; i++) {
		int depth = JSON_IN_DEPTH_MAX - 2 + i, n;

		n = snprintf(deep, sizeof(deep),
		    "{\"jsonrpc\":\"2.0\",\"id\":1,"
		    "\"method\":\"ping\",\"params\":{\"x\":");
		memset(deep + n, '[', (size_t)depth);
		memset(deep + n + depth, ']', (size_t)depth);
		memcpy(deep + n + 2 * depth, "}}", 3);
		if (i == 0)
			is_int(parse(deep, &m), 0, "nesting at the depth cap");
		else
			refused(deep, MCP_INVALID_REQUEST, MCP_ID_NUMBER,
			    "one level past the depth cap");
	}
	snprintf(deep, sizeof(deep),
	    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"%0*d\"}",
	    MCP_METHOD_MAX_BYTES + 1, 0);
	is_int(parse(deep, &m), 0, "a method over the cap is read");
	ok(strcmp(m.method, "tools/list") != 0 &&
		strlen(m.method) <= MCP_METHOD_MAX_BYTES,
	    "a method over the cap is no method of ours (%s)", m.method);
	snprintf(deep, sizeof(deep),
	    "{\"jsonrpc\":\"2.0\",\"id\":\"%0*d\",\"method\":\"a\"}",
	    MCP_ID_MAX_BYTES + 1, 0);
	refused(deep, MCP_INVALID_REQUEST, MCP_ID_NONE,
	    "a string id over the cap");
}

static void
http_is(const struct config *c, const char *origin, const char *accept,
    const char *type, const char *version, int status, const char *what)
{
	struct mcp_http http = { .origin = origin,
		.accept = accept,
		.content_type = type,
		.protocol_version = version,
		.mcp_method = "",
		.mcp_name = "" };
	struct mcp_reply r;
	int rc;

	memset(&r, 0, sizeof(r));
	rc = mcp_check_http(c, &http, &r);
	if (status == 0) {
		is_int(rc, 0, "%s: passes", what);
		return;
	}
	is_int(rc, -1, "%s: refused", what);
	is_int(r.status, status, "%s: HTTP status", what);
	buf_free(&r.body);
}

static void
test_http(void)
{
	struct config c;
	const char *json = "application/json",
		   *both = "application/json, text/event-stream";

	config_defaults(&c);
	http_is(&c, "", both, json, "", 0, "no Origin, no version header");
	http_is(&c, "http://localhost:6274", both, json, "", 403,
	    "an Origin with an empty allowlist");
	snprintf(c.mcp_origins, sizeof(c.mcp_origins),
	    " http://localhost:6274 ,https://agent.example");
	http_is(&c, "http://localhost:6274", both, json, "", 0,
	    "an allowed Origin");
	http_is(&c, "HTTPS://Agent.Example", both, json, "", 0,
	    "an allowed Origin, case");
	http_is(&c, "https://agent.example.evil", both, json, "", 403,
	    "a longer Origin");
	http_is(&c, "https://agent.exampl", both, json, "", 403,
	    "a shorter Origin");
	http_is(&c, "null", both, json, "", 403, "Origin null");
	http_is(&c, "", "", json, "", 0, "no Accept");
	http_is(&c, "", "*/*", json, "", 0, "Accept */*");
	http_is(&c, "", "application/*;q=0.5", json, "", 0,
	    "Accept application/*");
	http_is(&c, "", "text/event-stream", json, "", 406, "Accept SSE only");
	http_is(&c, "", "application/json;q=0", json, "", 406, "Accept JSON q=0");
	http_is(&c, "", "application/json; q=0.000, */*;q=0", json, "", 406,
	    "Accept JSON q=0.000 and */* q=0");
	http_is(&c, "", "application/json;q=0.001", json, "", 0,
	    "Accept JSON q=0.001");
	http_is(&c, "", "application/jsonx", json, "", 406,
	    "Accept application/jsonx");
	http_is(&c, "", both, "text/plain", "", 415, "Content-Type text/plain");
	http_is(&c, "", both, "application/json; charset=utf-8", "", 0,
	    "Content-Type with a charset");
	http_is(&c, "", both, json, "2025-06-18", 0, "version 2025-06-18");
	http_is(&c, "", both, json, "2026-07-28", 0, "version 2026-07-28");
	http_is(&c, "", both, json, "2024-11-05", 400, "version 2024-11-05");
	http_is(&c, "", both, json, "2025-11-25 ", 400, "a version with a space");
}

int
main(void)
{
	test_parse();
	test_http();
	return done_testing();
}
