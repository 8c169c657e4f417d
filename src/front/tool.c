/*
 * tool.c: the one definition of the run_python tool, for both places a
 * model meets it: GET /v1/tool (function calling: name, description,
 * parameters) and MCP's tools/list (mcp.c: the same name and description,
 * inputSchema = the same parameters, plus outputSchema for the answer).
 *
 * The description is written from what is true of this responder: the
 * image's Python and library versions as the self-check read them
 * (GET /v1/runtime's source, channel_runtime()) and this configuration's
 * limits.  The parameters mirror what json_in.c accepts for
 * POST /v1/execute, and the output schema what answer.c writes; a change
 * to either belongs here too (tests/integration/test_mcp.py validates
 * real answers against both schemas).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "front.h"
#include "json_gen.h"

/* The file-name rule of job_file_name_ok(): 1-100 bytes of
 * [A-Za-z0-9._-], not starting with '.'. */
#define TOOL_FILE_NAME_PATTERN "^[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}$"

static bool
tool_is_library(const struct runtime_info *rt, const char *module)
{
	size_t i;

	for (i = 0; i < rt->nlibraries; i++)
		if (strcmp(rt->library[i], module) == 0)
			return true;
	return false;
}

static int
tool_mib(size_t bytes, char *s, size_t len)
{
	if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0)
		return snprintf(s, len, "%zu MiB", bytes / (1024 * 1024));
	if (bytes >= 1024 && bytes % 1024 == 0)
		return snprintf(s, len, "%zu KiB", bytes / 1024);
	return snprintf(s, len, "%zu bytes", bytes);
}

int
tool_description(const struct runtime_info *rt, const struct config *c,
    struct buf *out)
{
	char line[512], output[32], files[32];
	size_t i;
	bool first;
	int rc = 0;

	rc |= buf_append_str(out,
	    "Run Python code in a fresh single-use sandbox and "
	    "get back stdout, stderr, the uncaught exception as data, the "
	    "repr() of the last line when it is an expression (as a notebook "
	    "shows it) and the files the program wrote. ");
	if (rt->known) {
		snprintf(line, sizeof(line), "Python %s with ", rt->python);
		rc |= buf_append_str(out, line);
		for (i = 0; i < rt->nlibraries; i++) {
			snprintf(line, sizeof(line), "%s%s %s",
			    i == 0                      ? "" :
				i + 1 == rt->nlibraries ? " and " :
							  ", ",
			    rt->library[i], rt->version[i]);
			rc |= buf_append_str(out, line);
		}
		rc |=
		    buf_append_str(out, "; the only other imports allowed are ");
		first = true;
		for (i = 0; i < rt->nmodules; i++) {
			if (tool_is_library(rt, rt->modules[i]))
				continue;
			if (!first)
				rc |= buf_append_str(out, ", ");
			rc |= buf_append_str(out, rt->modules[i]);
			first = false;
		}
		rc |= buf_append_str(out, ". ");
	} else
		rc |= buf_append_str(out,
		    "Python 3.11 with numpy, pandas, openpyxl "
		    "and sympy (versions: GET /v1/runtime). ");
	rc |= buf_append_str(out,
	    "No network. open() does not exist: files given "
	    "in `files` are in the working directory, read them by name with "
	    "pandas or openpyxl (pd.read_csv(\"data.csv\")); files the program "
	    "saves there (df.to_excel(\"out.xlsx\")) come back in the answer. ");
	tool_mib(c->output_max_bytes, output, sizeof(output));
	tool_mib(c->files_max_bytes, files, sizeof(files));
	snprintf(line, sizeof(line),
	    "Limits: %u s by default (`timeout`, at "
	    "most %u s), %u MiB of memory, %s each of stdout and stderr, %d "
	    "files and %s of files. ",
	    c->timeout_default_ms / 1000, c->timeout_max_ms / 1000,
	    c->memory_mb, output, PROTOCOL_FILES_MAX, files);
	rc |= buf_append_str(out, line);
	rc |= buf_append_str(out,
	    "Each call is a new process with no state from "
	    "earlier calls: send all the code and files it needs every time.");
	return rc == 0 ? 0 : -1;
}

/* {"type": t} or {"type": [t, "null"]}. */
static int
tool_type(yajl_gen g, const char *key, const char *type, bool nullable)
{
	GEN_KEY(g, key);
	GEN(yajl_gen_map_open(g));
	GEN_KEY(g, "type");
	if (nullable) {
		GEN(yajl_gen_array_open(g));
		GEN_STR(g, type);
		GEN_STR(g, "null");
		GEN(yajl_gen_array_close(g));
	} else
		GEN_STR(g, type);
	GEN(yajl_gen_map_close(g));
	return 0;
fail:
	return -1;
}

static int
tool_required(yajl_gen g, const char *const *keys, size_t n)
{
	size_t i;

	GEN_KEY(g, "required");
	GEN(yajl_gen_array_open(g));
	for (i = 0; i < n; i++)
		GEN_STR(g, keys[i]);
	GEN(yajl_gen_array_close(g));
	return 0;
fail:
	return -1;
}

#define TOOL_TYPE(g, k, t, n)                            \
	do {                                             \
		if (tool_type((g), (k), (t), (n)) == -1) \
			goto fail;                       \
	} while (0)
#define TOOL_REQUIRED(g, a)                                                    \
	do {                                                                   \
		if (tool_required((g), (a), sizeof(a) / sizeof((a)[0])) == -1) \
			goto fail;                                             \
	} while (0)

/* KEY: {"type": TYPE, left open for the caller's other keywords. */
static int
tool_open(yajl_gen g, const char *key, const char *type)
{
	GEN_KEY(g, key);
	GEN(yajl_gen_map_open(g));
	GEN_KEY(g, "type");
	GEN_STR(g, type);
	return 0;
fail:
	return -1;
}

/* "encoding": {"type": "string", "enum": ["utf-8", "base64"], left open. */
static int
tool_open_encoding(yajl_gen g)
{
	if (tool_open(g, "encoding", "string") == -1)
		goto fail;
	GEN_KEY(g, "enum");
	GEN(yajl_gen_array_open(g));
	GEN_STR(g, "utf-8");
	GEN_STR(g, "base64");
	GEN(yajl_gen_array_close(g));
	return 0;
fail:
	return -1;
}

#define TOOL_OPEN(g, k, t)                          \
	do {                                        \
		if (tool_open((g), (k), (t)) == -1) \
			goto fail;                  \
	} while (0)
#define TOOL_OPEN_ENCODING(g)                      \
	do {                                       \
		if (tool_open_encoding((g)) == -1) \
			goto fail;                 \
	} while (0)

/* JSON Schema (2020-12) of the POST /v1/execute body. */
int
tool_input_schema(yajl_gen g, const struct config *c)
{
	char text[256];

	GEN(yajl_gen_map_open(g));
	GEN_KEY(g, "type");
	GEN_STR(g, "object");
	GEN_KEY(g, "properties");
	GEN(yajl_gen_map_open(g));

	TOOL_OPEN(g, "code", "string");
	GEN_KEY(g, "description");
	snprintf(text, sizeof(text),
	    "Python source, at most %zu bytes of "
	    "UTF-8.",
	    c->code_max_bytes);
	GEN_STR(g, text);
	GEN(yajl_gen_map_close(g));

	TOOL_OPEN(g, "stdin", "string");
	GEN_KEY(g, "description");
	snprintf(text, sizeof(text),
	    "What input() and sys.stdin read, at "
	    "most %zu bytes.",
	    c->stdin_max_bytes);
	GEN_STR(g, text);
	GEN(yajl_gen_map_close(g));

	TOOL_OPEN(g, "timeout", "number");
	GEN_KEY(g, "exclusiveMinimum");
	GEN(yajl_gen_integer(g, 0));
	GEN_KEY(g, "maximum");
	GEN(yajl_gen_double(g, c->timeout_max_ms / 1000.0));
	GEN_KEY(g, "default");
	GEN(yajl_gen_double(g, c->timeout_default_ms / 1000.0));
	GEN_KEY(g, "description");
	GEN_STR(g, "Seconds the program may run.");
	GEN(yajl_gen_map_close(g));

	TOOL_OPEN(g, "files", "array");
	GEN_KEY(g, "maxItems");
	GEN(yajl_gen_integer(g, PROTOCOL_FILES_MAX));
	GEN_KEY(g, "description");
	snprintf(text, sizeof(text),
	    "Files put in the program's working "
	    "directory; at most %zu bytes in all, decoded.",
	    c->files_max_bytes);
	GEN_STR(g, text);
	TOOL_OPEN(g, "items", "object");
	GEN_KEY(g, "properties");
	GEN(yajl_gen_map_open(g));
	TOOL_OPEN(g, "name", "string");
	GEN_KEY(g, "pattern");
	GEN_STR(g, TOOL_FILE_NAME_PATTERN);
	GEN(yajl_gen_map_close(g));
	TOOL_TYPE(g, "content", "string", false);
	TOOL_OPEN_ENCODING(g);
	GEN_KEY(g, "default");
	GEN_STR(g, "utf-8");
	GEN(yajl_gen_map_close(g));
	GEN(yajl_gen_map_close(g));
	GEN_KEY(g, "required");
	GEN(yajl_gen_array_open(g));
	GEN_STR(g, "name");
	GEN_STR(g, "content");
	GEN(yajl_gen_array_close(g));
	GEN_KEY(g, "additionalProperties");
	GEN(yajl_gen_bool(g, 0));
	GEN(yajl_gen_map_close(g));
	GEN(yajl_gen_map_close(g));

	GEN(yajl_gen_map_close(g));
	GEN_KEY(g, "required");
	GEN(yajl_gen_array_open(g));
	GEN_STR(g, "code");
	GEN(yajl_gen_array_close(g));
	GEN_KEY(g, "additionalProperties");
	GEN(yajl_gen_bool(g, 0));
	GEN(yajl_gen_map_close(g));
	return 0;
fail:
	return -1;
}

/* JSON Schema of the 200 answer of POST /v1/execute (answer.c). */
int
tool_output_schema(yajl_gen g)
{
	static const char *const answer_keys[] = { "stdout", "stderr",
		"exit_code", "status", "stdout_truncated", "stderr_truncated",
		"duration_ms", "exception", "result", "result_truncated",
		"usage", "files", "files_truncated" };
	static const char *const exception_keys[] = { "type", "message", "line",
		"traceback" };
	static const char *const frame_keys[] = { "line", "function", "text" };
	static const char *const usage_keys[] = { "cpu_ms", "memory_peak_bytes",
		"queue_ms" };
	static const char *const file_keys[] = { "name", "content", "encoding",
		"size" };
	static const char *const statuses[] = { "ok", "error", "timeout", "oom",
		"output_limit" };
	size_t i;

	GEN(yajl_gen_map_open(g));
	GEN_KEY(g, "type");
	GEN_STR(g, "object");
	GEN_KEY(g, "properties");
	GEN(yajl_gen_map_open(g));
	TOOL_TYPE(g, "stdout", "string", false);
	TOOL_TYPE(g, "stderr", "string", false);
	TOOL_TYPE(g, "exit_code", "integer", false);
	TOOL_OPEN(g, "status", "string");
	GEN_KEY(g, "enum");
	GEN(yajl_gen_array_open(g));
	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		GEN_STR(g, statuses[i]);
	GEN(yajl_gen_array_close(g));
	GEN(yajl_gen_map_close(g));
	TOOL_TYPE(g, "stdout_truncated", "boolean", false);
	TOOL_TYPE(g, "stderr_truncated", "boolean", false);
	TOOL_TYPE(g, "duration_ms", "integer", false);

	GEN_KEY(g, "exception");
	GEN(yajl_gen_map_open(g));
	GEN_KEY(g, "type");
	GEN(yajl_gen_array_open(g));
	GEN_STR(g, "object");
	GEN_STR(g, "null");
	GEN(yajl_gen_array_close(g));
	GEN_KEY(g, "properties");
	GEN(yajl_gen_map_open(g));
	TOOL_TYPE(g, "type", "string", false);
	TOOL_TYPE(g, "message", "string", false);
	TOOL_TYPE(g, "line", "integer", true);
	TOOL_TYPE(g, "offset", "integer", false);
	TOOL_OPEN(g, "traceback", "array");
	TOOL_OPEN(g, "items", "object");
	GEN_KEY(g, "properties");
	GEN(yajl_gen_map_open(g));
	TOOL_TYPE(g, "line", "integer", false);
	TOOL_TYPE(g, "function", "string", false);
	TOOL_TYPE(g, "text", "string", false);
	GEN(yajl_gen_map_close(g));
	TOOL_REQUIRED(g, frame_keys);
	GEN(yajl_gen_map_close(g));
	GEN(yajl_gen_map_close(g));
	GEN(yajl_gen_map_close(g));
	TOOL_REQUIRED(g, exception_keys);
	GEN(yajl_gen_map_close(g));

	TOOL_TYPE(g, "result", "string", true);
	TOOL_TYPE(g, "result_truncated", "boolean", false);
	TOOL_OPEN(g, "usage", "object");
	GEN_KEY(g, "properties");
	GEN(yajl_gen_map_open(g));
	for (i = 0; i < sizeof(usage_keys) / sizeof(usage_keys[0]); i++)
		TOOL_TYPE(g, usage_keys[i], "integer", true);
	GEN(yajl_gen_map_close(g));
	TOOL_REQUIRED(g, usage_keys);
	GEN(yajl_gen_map_close(g));

	TOOL_OPEN(g, "files", "array");
	TOOL_OPEN(g, "items", "object");
	GEN_KEY(g, "properties");
	GEN(yajl_gen_map_open(g));
	TOOL_TYPE(g, "name", "string", false);
	TOOL_TYPE(g, "content", "string", false);
	TOOL_OPEN_ENCODING(g);
	GEN(yajl_gen_map_close(g));
	TOOL_TYPE(g, "size", "integer", false);
	GEN(yajl_gen_map_close(g));
	TOOL_REQUIRED(g, file_keys);
	GEN(yajl_gen_map_close(g));
	GEN(yajl_gen_map_close(g));
	TOOL_TYPE(g, "files_truncated", "boolean", false);
	GEN(yajl_gen_map_close(g));
	TOOL_REQUIRED(g, answer_keys);
	GEN(yajl_gen_map_close(g));
	return 0;
fail:
	return -1;
}

/* GET /v1/tool: {"name", "description", "parameters"}. */
int
answer_tool(const struct runtime_info *rt, const struct config *c, struct buf *out)
{
	struct buf desc;
	yajl_gen g;

	buf_init(&desc, TOOL_DESCRIPTION_MAX_BYTES);
	if (tool_description(rt, c, &desc) == -1 ||
	    (g = json_gen_begin()) == NULL) {
		buf_free(&desc);
		return -1;
	}
	GEN(yajl_gen_map_open(g));
	GEN_KEY(g, "name");
	GEN_STR(g, TOOL_NAME);
	GEN_KEY(g, "description");
	GEN(yajl_gen_string(g, (const unsigned char *)desc.data, desc.len));
	GEN_KEY(g, "parameters");
	if (tool_input_schema(g, c) == -1)
		goto fail;
	GEN(yajl_gen_map_close(g));
	buf_free(&desc);
	return json_gen_end(g, out);
fail:
	buf_free(&desc);
	yajl_gen_free(g);
	return -1;
}
