/*
 * json_gen.h: the one way pycage writes JSON, on both sides (the front's
 * answers, front/answer.c; the executor's container bodies,
 * executor/create_body.c): yajl_gen with UTF-8 validation on and a check
 * on every token that jumps to the caller's `fail` label (the crun
 * status.c pattern).  Never printf.
 */
#ifndef PYCAGE_JSON_GEN_H
#define PYCAGE_JSON_GEN_H

#include <string.h>

#include <yajl/yajl_gen.h>

#include "common.h"

#define GEN(call)                                 \
	do {                                      \
		if ((call) != yajl_gen_status_ok) \
			goto fail;                \
	} while (0)
#define GEN_KEY(g, k) \
	GEN(yajl_gen_string((g), (const unsigned char *)(k), strlen(k)))
#define GEN_STR(g, s) \
	GEN(yajl_gen_string((g), (const unsigned char *)(s), strlen(s)))

/* A generator that refuses invalid UTF-8; NULL without memory. */
yajl_gen json_gen_begin(void);
/* Moves the finished document into out (-1 past its cap); frees g. */
int json_gen_end(yajl_gen, struct buf *out);

#endif /* PYCAGE_JSON_GEN_H */
