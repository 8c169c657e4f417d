/*
 * test-utf8.c: src/utf8.c.  utf8_valid follows RFC 3629 (no overlongs,
 * no surrogates, nothing above U+10FFFF); utf8_sanitize replaces each
 * maximal invalid prefix with one U+FFFD (WHATWG / Unicode 15 "U+FFFD
 * substitution of maximal subparts"; the expected bytes below agree with
 * CPython's bytes.decode("utf-8", "replace")), keeps NUL bytes and honours
 * the output buffer's cap.  Besides the table, every 1-, 2- and 3-byte
 * string and a 4-byte sample are checked against an independent decoder
 * written from the bit patterns.
 */
#include <stdlib.h>
#include <string.h>

#include "front.h"
#include "executor.h"
#include "tap.h"

#define R "\xef\xbf\xbd" /* U+FFFD as UTF-8 */

/* s/len in, valid?, sanitized bytes out. */
struct utf8_case {
	const char *name;
	const char *in;
	size_t in_len;
	bool valid;
	const char *out;
	size_t out_len;
};

#define CASE(name, in, valid, out)                                    \
	{                                                             \
		name, in, sizeof(in) - 1, valid, out, sizeof(out) - 1 \
	}
#define SAME(name, in) CASE(name, in, true, in)

static const struct utf8_case cases[] = { SAME("empty", ""),
	SAME("ASCII", "hello, world"), SAME("NUL byte", "\0"),
	SAME("NULs around text", "\0a\0b\0"), SAME("DEL 7F", "\x7f"),
	SAME("U+0080 smallest 2-byte", "\xc2\x80"),
	SAME("U+00E9 2-byte", "caf\xc3\xa9"),
	SAME("U+07FF largest 2-byte", "\xdf\xbf"),
	SAME("U+0800 smallest 3-byte", "\xe0\xa0\x80"),
	SAME("U+20AC 3-byte", "\xe2\x82\xac"),
	SAME("U+D7FF below surrogates", "\xed\x9f\xbf"),
	SAME("U+E000 above surrogates", "\xee\x80\x80"),
	SAME("U+FFFD itself", R), SAME("U+FFFF", "\xef\xbf\xbf"),
	SAME("U+10000 smallest 4-byte", "\xf0\x90\x80\x80"),
	SAME("U+1F600 4-byte", "\xf0\x9f\x98\x80"),
	SAME("U+10FFFF largest", "\xf4\x8f\xbf\xbf"),
	SAME("mixed widths", "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z"),

	CASE("lone continuation 80", "\x80", false, R),
	CASE("lone continuation BF", "\xbf", false, R),
	CASE("two continuations", "\x80\xbf", false, R R),
	CASE("FF between ASCII",
	    "a\xff"
	    "b",
	    false, "a" R "b"),
	CASE("FE", "\xfe", false, R),
	CASE("C2 truncated at end", "\xc2", false, R),
	CASE("E2 82 truncated at end", "\xe2\x82", false, R),
	CASE("E2 truncated at end", "\xe2", false, R),
	CASE("F0 9F 98 truncated at end", "\xf0\x9f\x98", false, R),
	CASE("F0 9F 98 then x", "\xf0\x9f\x98x", false, R "x"),
	CASE("E2 82 then x", "\xe2\x82x", false, R "x"),
	CASE("C2 then x", "\xc2x", false, R "x"),
	CASE("C2 then NUL", "\xc2\0", false, R "\0"),
	CASE("NUL FF NUL", "\0\xff\0", false, "\0" R "\0"),
	CASE("overlong C0 80 (NUL)", "\xc0\x80", false, R R),
	CASE("overlong C1 BF", "\xc1\xbf", false, R R),
	CASE("overlong E0 80 80", "\xe0\x80\x80", false, R R R),
	CASE("overlong E0 9F BF", "\xe0\x9f\xbf", false, R R R),
	CASE("overlong F0 80 80 80", "\xf0\x80\x80\x80", false, R R R R),
	CASE("overlong F0 8F BF BF", "\xf0\x8f\xbf\xbf", false, R R R R),
	CASE("surrogate ED A0 80 (U+D800)", "\xed\xa0\x80", false, R R R),
	CASE("surrogate ED BF BF (U+DFFF)", "\xed\xbf\xbf", false, R R R),
	CASE("surrogate pair as UTF-8", "\xed\xa0\xbd\xed\xb8\x80", false,
	    R R R R R R),
	CASE("above U+10FFFF F4 90 80 80", "\xf4\x90\x80\x80", false, R R R R),
	CASE("F5 80 80 80", "\xf5\x80\x80\x80", false, R R R R),
	CASE("F7 BF BF BF", "\xf7\xbf\xbf\xbf", false, R R R R),
	CASE("5-byte form F8 88 80 80 80", "\xf8\x88\x80\x80\x80", false,
	    R R R R R),
	CASE("valid then truncated", "\xe2\x82\xac\xe2\x82", false,
	    "\xe2\x82\xac" R),
	CASE("valid 4-byte then stray continuation", "\xf0\x9f\x98\x80\x80",
	    false, "\xf0\x9f\x98\x80" R),
	CASE("E2 then a full E2 82 AC", "\xe2\xe2\x82\xac", false,
	    R "\xe2\x82\xac"),
	CASE("F0 9F then a full emoji", "\xf0\x9f\xf0\x9f\x98\x80", false,
	    R "\xf0\x9f\x98\x80"),
	CASE("invalid at start and end",
	    "\xff"
	    "abc\xc3",
	    false, R "abc" R) };

static void
test_table(void)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct utf8_case *c = &cases[i];
		struct buf out;

		is_int(utf8_valid(c->in, c->in_len), c->valid, "valid: %s",
		    c->name);
		buf_init(&out, 1024);
		is_int(utf8_sanitize(c->in, c->in_len, &out), 0,
		    "sanitize ok: %s", c->name);
		is_mem(out.data ? out.data : "", out.len, c->out, c->out_len,
		    "sanitize bytes: %s", c->name);
		buf_free(&out);
	}
	ok(utf8_valid(NULL, 0), "NULL with length 0 is valid (empty)");
}

/* Every byte F5..FF and C0, C1 is invalid alone and becomes one U+FFFD. */
static void
test_never_bytes(void)
{
	unsigned c, valid_count = 0, wrong_repair = 0;

	for (c = 0xc0; c <= 0xff; c++) {
		char in[3] = { 'a', (char)c, 'b' };
		struct buf out;

		if (c >= 0xc2 && c <= 0xf4)
			continue;
		if (utf8_valid(in, sizeof(in)))
			valid_count++;
		buf_init(&out, 64);
		if (utf8_sanitize(in, sizeof(in), &out) != 0 || out.len != 5 ||
		    memcmp(out.data, "a" R "b", 5) != 0)
			wrong_repair++;
		buf_free(&out);
	}
	is_int(valid_count, 0, "C0, C1, F5..FF never valid");
	is_int(wrong_repair, 0, "C0, C1, F5..FF each become exactly one U+FFFD");
}

/*
 * Reference from the bit patterns (not the lead-byte ranges utf8.c uses):
 * decode the lead's length and payload, require 10xxxxxx continuations,
 * then refuse overlongs by the minimum code point for the length,
 * surrogates and anything above U+10FFFF.
 */
static bool
ref_valid(const unsigned char *s, size_t len)
{
	static const unsigned long min_for_len[] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t i = 0, n, k;
	unsigned long cp;

	while (i < len) {
		unsigned char c = s[i];

		if ((c & 0x80) == 0) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			n = 2;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			n = 3;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			n = 4;
			cp = c & 0x07;
		} else
			return false;
		if (i + n > len)
			return false;
		for (k = 1; k < n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min_for_len[n] || (cp >= 0xd800 && cp <= 0xdfff) ||
		    cp > 0x10ffff)
			return false;
		i += n;
	}
	return true;
}

static void
test_exhaustive(void)
{
	static const unsigned char probe[] = { 0x00, 0x41, 0x7f, 0x80, 0x8f,
		0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc2, 0xe0, 0xf0, 0xf4, 0xff };
	unsigned char s[4];
	unsigned long a, b, c, d, mismatches = 0, count = 0;
	unsigned long repair_bad = 0;
	struct buf out;

	for (a = 0; a < 256; a++) {
		s[0] = (unsigned char)a;
		if (utf8_valid((char *)s, 1) != ref_valid(s, 1))
			mismatches++;
	}
	is_int(mismatches, 0, "all 256 1-byte strings agree with the reference");

	mismatches = 0;
	for (a = 0; a < 65536; a++) {
		s[0] = (unsigned char)(a >> 8);
		s[1] = (unsigned char)a;
		if (utf8_valid((char *)s, 2) != ref_valid(s, 2))
			mismatches++;
		/* Repair always yields valid UTF-8 and leaves valid input alone. */
		buf_init(&out, 16);
		if (utf8_sanitize((char *)s, 2, &out) != 0 ||
		    !ref_valid((unsigned char *)out.data, out.len) ||
		    (ref_valid(s, 2) &&
			(out.len != 2 || memcmp(out.data, s, 2) != 0)))
			repair_bad++;
		buf_free(&out);
	}
	is_int(mismatches, 0,
	    "all 65536 2-byte strings agree with the reference");
	is_int(repair_bad, 0,
	    "sanitize of every 2-byte string is valid UTF-8, "
	    "identity on valid input");

	mismatches = 0;
	for (a = 0; a < (1UL << 24); a++) {
		s[0] = (unsigned char)(a >> 16);
		s[1] = (unsigned char)(a >> 8);
		s[2] = (unsigned char)a;
		if (utf8_valid((char *)s, 3) != ref_valid(s, 3))
			mismatches++;
	}
	is_int(mismatches, 0,
	    "all 16777216 3-byte strings agree with the reference");

	/* 4 bytes: every lead and second byte, probes for the other two. */
	mismatches = 0;
	for (a = 0; a < 256; a++)
		for (b = 0; b < 256; b++)
			for (c = 0; c < sizeof(probe); c++)
				for (d = 0; d < sizeof(probe); d++) {
					s[0] = (unsigned char)a;
					s[1] = (unsigned char)b;
					s[2] = probe[c];
					s[3] = probe[d];
					count++;
					if (utf8_valid((char *)s, 4) !=
					    ref_valid(s, 4))
						mismatches++;
				}
	is_int(mismatches, 0,
	    "%lu sampled 4-byte strings agree with the "
	    "reference",
	    count);

	/* Every scalar value encodes to something valid; every surrogate does not. */
	mismatches = 0;
	for (a = 0; a <= 0x10ffff; a++) {
		size_t n;

		if (a < 0x80) {
			s[0] = (unsigned char)a;
			n = 1;
		} else if (a < 0x800) {
			s[0] = (unsigned char)(0xc0 | a >> 6);
			s[1] = (unsigned char)(0x80 | (a & 0x3f));
			n = 2;
		} else if (a < 0x10000) {
			s[0] = (unsigned char)(0xe0 | a >> 12);
			s[1] = (unsigned char)(0x80 | ((a >> 6) & 0x3f));
			s[2] = (unsigned char)(0x80 | (a & 0x3f));
			n = 3;
		} else {
			s[0] = (unsigned char)(0xf0 | a >> 18);
			s[1] = (unsigned char)(0x80 | ((a >> 12) & 0x3f));
			s[2] = (unsigned char)(0x80 | ((a >> 6) & 0x3f));
			s[3] = (unsigned char)(0x80 | (a & 0x3f));
			n = 4;
		}
		if (utf8_valid((char *)s, n) != !(a >= 0xd800 && a <= 0xdfff))
			mismatches++;
	}
	is_int(mismatches, 0,
	    "every code point U+0000..U+10FFFF encoded: valid "
	    "unless a surrogate");
}

static void
test_cap(void)
{
	struct buf out;
	size_t full = 5; /* "a" R "b" */

	buf_init(&out, full);
	is_int(utf8_sanitize("a\xff"
			     "b",
		   3, &out),
	    0,
	    "cap exactly the repaired "
	    "length: ok");
	is_mem(out.data, out.len, "a" R "b", full, "cap exactly: bytes");
	buf_free(&out);

	buf_init(&out, full - 1);
	is_int(utf8_sanitize("a\xff"
			     "b",
		   3, &out),
	    -1,
	    "cap one short of the "
	    "repaired length: -1");
	ok(out.len <= full - 1, "cap one short: length %zu within cap", out.len);
	ok(out.len == 0 || utf8_valid(out.data, out.len),
	    "cap one short: no half U+FFFD left behind");
	buf_free(&out);

	/* 3 bytes of cap, one invalid byte: the replacement alone fills it. */
	buf_init(&out, 3);
	is_int(utf8_sanitize("\x80", 1, &out), 0, "cap 3, one invalid byte: ok");
	is_mem(out.data, out.len, R, 3, "cap 3: exactly U+FFFD");
	is_int(utf8_sanitize("\x80", 1, &out), -1, "cap 3 full: a second one -1");
	is_int(out.len, 3, "cap 3 full: unchanged");
	buf_free(&out);

	buf_init(&out, 2);
	is_int(utf8_sanitize("\x80", 1, &out), -1, "cap 2: U+FFFD does not fit");
	is_int(out.len, 0, "cap 2: nothing appended");
	buf_free(&out);

	buf_init(&out, 4);
	is_int(utf8_sanitize("abcde", 5, &out), -1,
	    "valid input over the cap: -1");
	ok(out.len <= 4, "valid input over the cap: length within cap");
	buf_free(&out);

	buf_init(&out, 0);
	is_int(utf8_sanitize("", 0, &out), 0, "cap 0, empty input: ok");
	is_int(utf8_sanitize("x", 1, &out), -1, "cap 0, one byte: -1");
	buf_free(&out);

	/* Appends after what is there; worst case triples the size. */
	{
		char in[1000];
		size_t fails = 0;

		memset(in, 0xff, sizeof(in));
		buf_init(&out, 3 + 3 * sizeof(in));
		buf_append(&out, "pre", 3);
		is_int(utf8_sanitize(in, sizeof(in), &out), 0,
		    "1000 invalid bytes into exactly 3 + 3000 bytes");
		is_int(out.len, 3 + 3 * sizeof(in), "length 3003");
		ok(memcmp(out.data, "pre", 3) == 0,
		    "appends after existing data");
		for (size_t i = 3; i < out.len; i += 3)
			if (memcmp(out.data + i, R, 3) != 0)
				fails++;
		is_int(fails, 0, "1000 x U+FFFD");
		buf_free(&out);
	}
}

/*
 * utf8_whole_prefix: an output cut at its cap may end inside a character;
 * only a tail that is a proper prefix of a valid sequence is cut off, an
 * invalid tail stays for utf8_sanitize to replace.
 */
struct prefix_case {
	const char *name;
	const char *in;
	size_t len;
	size_t whole;
};

#define PREFIX(name, in, whole)                 \
	{                                       \
		name, in, sizeof(in) - 1, whole \
	}

static const struct prefix_case prefix_cases[] = { PREFIX("empty", "", 0),
	PREFIX("ASCII", "abc", 3), PREFIX("ends in a NUL", "ab\0", 3),
	PREFIX("complete 2-byte", "a\xc3\xa9", 3),
	PREFIX("complete 4-byte", "\xf0\x9f\x98\x80", 4),
	PREFIX("U+10FFFF complete", "\xf4\x8f\xbf\xbf", 4),
	PREFIX("lone lead C3 at the end", "a\xc3", 1),
	PREFIX("lone lead C3 alone", "\xc3", 0),
	PREFIX("E2 82 cut", "ab\xe2\x82", 2), PREFIX("E2 cut", "ab\xe2", 2),
	PREFIX("F0 9F 98 cut", "x\xf0\x9f\x98", 1),
	PREFIX("F0 9F cut", "\xf0\x9f", 0),
	PREFIX("F4 8F BF cut (U+10FFFF)", "\xf4\x8f\xbf", 0),
	PREFIX("invalid lead C0 kept", "a\xc0", 2),
	PREFIX("invalid lead F5 kept", "a\xf5", 2), PREFIX("FF kept", "a\xff", 2),
	PREFIX("overlong E0 80 kept", "\xe0\x80", 2),
	PREFIX("surrogate ED A0 kept", "\xed\xa0", 2),
	PREFIX("above U+10FFFF F4 90 kept", "\xf4\x90\x80", 3),
	PREFIX("F0 80 80 kept", "\xf0\x80\x80", 3),
	PREFIX("lone continuation kept", "a\x80", 2),
	PREFIX("four continuations kept", "\x80\x80\x80\x80", 4),
	PREFIX("E2 then complete E2 82 AC", "\xe2\xe2\x82\xac", 4),
	PREFIX("complete then E2 82", "\xe2\x82\xac\xe2\x82", 3),
	PREFIX("complete 4-byte then stray continuation",
	    "\xf0\x9f\x98\x80\x80", 5),
	PREFIX("invalid E2 then E2 cut", "\xe2\xe2\x82", 1) };

/* Proper prefixes (1-3 bytes) of every valid 2-4 byte encoding, as a bit
 * per (length, bytes); built from the code points, not from utf8.c. */
static unsigned char *prefix_bits;

static size_t
prefix_index(const unsigned char *t, size_t k)
{
	size_t v = 0, i;

	for (i = 0; i < k; i++)
		v = v << 8 | t[i];
	return (k - 1) * (1UL << 24) + v;
}

static void
prefix_bits_build(void)
{
	unsigned long cp;
	unsigned char e[4];
	size_t n, k;

	prefix_bits = calloc(3 * (1UL << 24) / 8, 1);
	for (cp = 0x80; cp <= 0x10ffff; cp++) {
		if (cp >= 0xd800 && cp <= 0xdfff)
			continue;
		if (cp < 0x800) {
			e[0] = (unsigned char)(0xc0 | cp >> 6);
			e[1] = (unsigned char)(0x80 | (cp & 0x3f));
			n = 2;
		} else if (cp < 0x10000) {
			e[0] = (unsigned char)(0xe0 | cp >> 12);
			e[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
			e[2] = (unsigned char)(0x80 | (cp & 0x3f));
			n = 3;
		} else {
			e[0] = (unsigned char)(0xf0 | cp >> 18);
			e[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
			e[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
			e[3] = (unsigned char)(0x80 | (cp & 0x3f));
			n = 4;
		}
		for (k = 1; k < n; k++) {
			size_t i = prefix_index(e, k);

			prefix_bits[i / 8] |= (unsigned char)(1U << (i % 8));
		}
	}
}

static size_t
ref_whole_prefix(const unsigned char *s, size_t len)
{
	size_t k;

	for (k = 1; k <= 3 && k <= len; k++) {
		size_t i = prefix_index(s + len - k, k);

		if (prefix_bits[i / 8] & (1U << (i % 8)))
			return len - k;
	}
	return len;
}

static void
test_whole_prefix(void)
{
	static const unsigned char head[] = { 'a', 0x80, 0xc3, 0xe2, 0xf0 };
	unsigned char s[5];
	unsigned long a, mismatches = 0, count = 0;
	size_t i, h;

	for (i = 0; i < sizeof(prefix_cases) / sizeof(prefix_cases[0]); i++)
		is_int(utf8_whole_prefix(prefix_cases[i].in, prefix_cases[i].len),
		    prefix_cases[i].whole, "whole prefix: %s",
		    prefix_cases[i].name);
	is_int(utf8_whole_prefix(NULL, 0), 0, "whole prefix of NULL, 0");

	/* Every 1-, 2- and 3-byte string, alone and after a head byte. */
	prefix_bits_build();
	for (h = 0; h <= sizeof(head); h++) {
		size_t off = h < sizeof(head) ? 1 : 0;

		if (off)
			s[0] = head[h];
		for (a = 0; a < 256 + 65536 + (1UL << 24); a++) {
			size_t k = a < 256 ? 1 : a < 256 + 65536 ? 2 : 3;
			unsigned long v = a < 256 ? a :
			    a < 256 + 65536       ? a - 256 :
						    a - 256 - 65536;

			s[off + k - 1] = (unsigned char)v;
			if (k >= 2)
				s[off + k - 2] = (unsigned char)(v >> 8);
			if (k == 3)
				s[off] = (unsigned char)(v >> 16);
			count++;
			if (utf8_whole_prefix((char *)s, off + k) !=
			    ref_whole_prefix(s, off + k))
				mismatches++;
		}
	}
	is_int(mismatches, 0,
	    "whole prefix of %lu short strings agrees with the "
	    "reference built from the code points",
	    count);
	free(prefix_bits);
}

int
main(void)
{
	test_table();
	test_never_bytes();
	test_exhaustive();
	test_cap();
	test_whole_prefix();
	return done_testing();
}
