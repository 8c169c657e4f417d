/*
 * test-buf.c: src/common/buf.c, the capped buffer (STYLE.md point 7).  The cap is
 * exact: cap bytes fit, cap + 1 is refused with nothing appended, and the
 * allocation never runs past cap + 1 (the NUL) however the doubling goes.
 */
#include <stdlib.h>
#include <string.h>

#include "front.h"
#include "executor.h"
#include "tap.h"

/* The buffer holds exactly these bytes, NUL-terminated after them. */
static void
check_contents(const struct buf *b, const void *expected, size_t len,
    const char *what)
{
	is_mem(b->data, b->len, expected, len, "%s: contents", what);
	ok(b->data != NULL && b->data[b->len] == '\0', "%s: NUL after the data",
	    what);
	ok(b->alloc <= b->cap_bytes + 1, "%s: alloc %zu <= cap + 1 (%zu)", what,
	    b->alloc, b->cap_bytes + 1);
}

static void
test_init(void)
{
	struct buf b;

	memset(&b, 0xa5, sizeof(b));
	buf_init(&b, 10);
	ok(b.data == NULL && b.len == 0 && b.alloc == 0,
	    "init: nothing allocated, empty");
	is_int(b.cap_bytes, 10, "init: cap kept");
	buf_free(&b);
	ok(b.data == NULL && b.len == 0, "free of a never-used buffer");
}

static void
test_exact_cap(void)
{
	struct buf b;

	buf_init(&b, 10);
	is_int(buf_append(&b, "0123", 4), 0, "cap 10: 4 bytes");
	is_int(buf_append(&b, "456789", 6), 0, "cap 10: 6 more, exactly at cap");
	check_contents(&b, "0123456789", 10, "cap 10 full");
	is_int(buf_append(&b, "x", 1), -1, "cap 10: the 11th byte is refused");
	check_contents(&b, "0123456789", 10, "after refused byte");
	is_int(buf_append(&b, "", 0), 0, "cap 10 full: 0 bytes still fit");
	is_int(b.len, 10, "length unchanged by a 0-byte append");
	buf_free(&b);

	buf_init(&b, 10);
	is_int(buf_append(&b, "0123456789x", 11), -1,
	    "cap 10, empty: 11 bytes in one go refused");
	is_int(b.len, 0, "nothing appended");
	ok(b.data == NULL, "and nothing allocated for it");
	is_int(buf_append(&b, "0123456789", 10), 0, "then 10 bytes fit");
	is_int(buf_append(&b, "0123", 4), -1, "4 over a full buffer refused");
	check_contents(&b, "0123456789", 10, "after refused 4");
	buf_free(&b);
	ok(b.data == NULL && b.len == 0 && b.alloc == 0, "free empties");
	buf_free(&b);
	ok(b.data == NULL, "second free is harmless");

	/* Partly full: room 3, ask for 4 -> all refused, none taken. */
	buf_init(&b, 10);
	buf_append(&b, "abcdefg", 7);
	is_int(buf_append(&b, "hijk", 4), -1, "room 3: 4 bytes refused");
	check_contents(&b, "abcdefg", 7, "room 3 after refusal");
	is_int(buf_append(&b, "hij", 3), 0, "room 3: 3 bytes fit");
	check_contents(&b, "abcdefghij", 10, "room 3 filled");
	buf_free(&b);
}

static void
test_append_upto(void)
{
	struct buf b;

	buf_init(&b, 10);
	buf_append(&b, "0123456", 7);
	is_int(buf_append_upto(&b, "abcdef", 6), 3, "upto: room 3 of 6 taken");
	check_contents(&b, "0123456abc", 10, "upto partial take");
	is_int(buf_append_upto(&b, "def", 3), 0, "upto on a full buffer takes 0");
	check_contents(&b, "0123456abc", 10, "full after upto 0");
	buf_free(&b);

	buf_init(&b, 10);
	is_int(buf_append_upto(&b, "abc", 3), 3, "upto under the room takes all");
	is_int(buf_append_upto(&b, "defghij", 7), 7, "upto exactly the room");
	check_contents(&b, "abcdefghij", 10, "upto filled exactly");
	is_int(buf_append_upto(&b, "abc", 0), 0, "upto of 0 bytes takes 0");
	buf_free(&b);

	/* A huge n (as from a 4 GiB frame header) takes only the room; the
	 * source only has to be as long as what is taken. */
	buf_init(&b, 4);
	is_int(buf_append_upto(&b, "wxyz", (size_t)0xffffffffU), 4,
	    "upto with n = 4 GiB takes only the 4 bytes of room");
	check_contents(&b, "wxyz", 4, "4 GiB request");
	buf_free(&b);
}

static void
test_zero_cap(void)
{
	struct buf b;

	buf_init(&b, 0);
	is_int(buf_append(&b, "x", 1), -1, "cap 0: 1 byte refused");
	is_int(b.len, 0, "cap 0: still empty");
	is_int(buf_append_upto(&b, "x", 1), 0, "cap 0: upto takes 0");
	is_int(buf_append_str(&b, "x"), -1, "cap 0: append_str refused");
	is_int(buf_append(&b, "", 0), 0, "cap 0: 0 bytes fit");
	check_contents(&b, "", 0, "cap 0 after 0-byte append");
	buf_reset(&b);
	is_int(b.len, 0, "cap 0: reset");
	buf_free(&b);
}

static void
test_nul_and_binary(void)
{
	static const char bytes[] = { 'a', '\0', 'b', '\0', '\xff', '\0' };
	struct buf b;

	buf_init(&b, 16);
	is_int(buf_append(&b, bytes, sizeof(bytes)), 0, "embedded NULs append");
	check_contents(&b, bytes, sizeof(bytes),
	    "embedded NULs kept, length counts");
	is_int(buf_append_str(&b, "cd"), 0, "append_str after binary");
	check_contents(&b, "a\0b\0\xff\0cd", 8, "append_str stops at its NUL");
	buf_free(&b);
}

static void
test_reset(void)
{
	struct buf b;

	buf_init(&b, 8);
	buf_reset(&b);
	ok(b.len == 0 && b.data == NULL, "reset of a never-used buffer");
	buf_append(&b, "abcdefgh", 8);
	buf_reset(&b);
	ok(b.len == 0 && b.data != NULL && b.data[0] == '\0',
	    "reset: empty and NUL-terminated");
	is_int(b.cap_bytes, 8, "reset keeps the cap");
	is_int(buf_append(&b, "12345678", 8), 0,
	    "after reset the whole cap fits again");
	is_int(buf_append(&b, "9", 1), -1, "and cap + 1 is still refused");
	check_contents(&b, "12345678", 8, "after reset and refill");
	buf_free(&b);
}

/* Many small appends across the allocator's minimum and doublings. */
static void
test_growth(void)
{
	static const size_t caps[] = { 1, 255, 256, 257, 511, 512, 1000, 4096,
		65537 };
	struct buf b;
	char *expected;
	size_t i, k, refused, over_alloc;

	for (k = 0; k < sizeof(caps) / sizeof(caps[0]); k++) {
		size_t cap = caps[k];

		expected = malloc(cap);
		buf_init(&b, cap);
		refused = over_alloc = 0;
		for (i = 0; i < cap; i++) {
			char c = (char)('a' + i % 26);

			expected[i] = c;
			if (buf_append(&b, &c, 1) != 0)
				refused++;
			if (b.alloc > cap + 1 || b.data[b.len] != '\0')
				over_alloc++;
		}
		is_int(refused, 0, "cap %zu: %zu single-byte appends all fit",
		    cap, cap);
		is_int(over_alloc, 0,
		    "cap %zu: never allocated past cap + 1, "
		    "always NUL-terminated",
		    cap);
		is_int(buf_append(&b, "!", 1), -1,
		    "cap %zu: byte cap + 1 refused", cap);
		check_contents(&b, expected, cap, "single-byte fill");
		buf_free(&b);
		free(expected);
	}

	/* 1 MiB in 4 KiB chunks, then one more byte. */
	{
		static char chunk[4096];
		size_t cap = 1024 * 1024, fails = 0;

		memset(chunk, 'q', sizeof(chunk));
		buf_init(&b, cap);
		for (i = 0; i < cap / sizeof(chunk); i++)
			if (buf_append(&b, chunk, sizeof(chunk)) != 0 ||
			    b.alloc > cap + 1)
				fails++;
		is_int(fails, 0, "1 MiB cap filled in 4 KiB chunks");
		is_int(b.len, cap, "1 MiB held");
		is_int(buf_append(&b, "q", 1), -1, "1 MiB + 1 refused");
		is_int(b.alloc, cap + 1, "allocation is exactly cap + 1");
		buf_free(&b);
	}
}

static void
test_shrink(void)
{
	struct buf b;
	char big[4096];
	const char *kept;

	memset(big, 'x', sizeof(big));
	buf_init(&b, 1 << 20);
	buf_append(&b, "small", 5);
	kept = b.data;
	buf_shrink(&b, 1024);
	ok(b.len == 0 && b.data == kept && b.data[0] == '\0',
	    "shrink under keep: emptied, memory kept");
	buf_append(&b, big, sizeof(big));
	buf_shrink(&b, 1024);
	ok(b.len == 0 && b.data == NULL && b.alloc == 0,
	    "shrink over keep: emptied, memory given back");
	is_int(b.cap_bytes, 1 << 20, "shrink keeps the cap");
	is_int(buf_append(&b, big, sizeof(big)), 0, "and the buffer grows again");
	buf_free(&b);
}

int
main(void)
{
	test_init();
	test_exact_cap();
	test_append_upto();
	test_zero_cap();
	test_nul_and_binary();
	test_reset();
	test_shrink();
	test_growth();
	return done_testing();
}
