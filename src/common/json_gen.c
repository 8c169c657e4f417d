/*
 * json_gen.c: a yajl generator that validates UTF-8, and the move of its
 * finished document into a capped buffer (json_gen.h).
 */
#include "json_gen.h"

yajl_gen
json_gen_begin(void)
{
	yajl_gen g;

	if ((g = yajl_gen_alloc(NULL)) == NULL)
		return NULL;
	yajl_gen_config(g, yajl_gen_validate_utf8, 1);
	return g;
}

int
json_gen_end(yajl_gen g, struct buf *out)
{
	const unsigned char *text;
	size_t len;
	int rc = -1;

	if (yajl_gen_get_buf(g, &text, &len) == yajl_gen_status_ok &&
	    buf_append(out, text, len) == 0)
		rc = 0;
	yajl_gen_free(g);
	return rc;
}
