/*
 * tap.h: a tiny Test Anything Protocol emitter for the unit tests, read by
 * automake's tap-driver.sh.  Header only (static inline functions behind
 * macros that add the file and line), no library.
 *
 *   plan(n)                      optional: "1..n" up front
 *   ok(cond, fmt, ...)           one test point
 *   is_int(got, expected, ...)   integers, with got/expected on failure
 *   is_str(got, expected, ...)   NUL-terminated strings (NULL allowed)
 *   is_mem(got, glen, exp, elen, ...)  byte strings, escaped on failure
 *   diag(fmt, ...)               a "# " comment line
 *   todo_start(why) / todo_end() points between them are "# TODO why":
 *                                a known bug, reported but not fatal
 *   done_testing()               the trailing plan if none was given;
 *                                returns the exit status for main()
 *
 * Everything goes to stdout so diagnostics stay next to their test point.
 */
#ifndef PYCAGE_TAP_H
#define PYCAGE_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* Escaped bytes shown per side in a failed is_mem/is_str. */
#define TAP_SHOW_BYTES 160

static struct {
	int planned; /* -1: no plan yet */
	int run;
	int failed;
	const char *todo; /* non-NULL: points are "# TODO todo" */
} tap_state = { -1, 0, 0, NULL };

static inline void
plan(int n)
{
	tap_state.planned = n;
	printf("1..%d\n", n);
	fflush(stdout);
}

static inline void __attribute__((format(printf, 1, 2)))
diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

static inline void
todo_start(const char *why)
{
	tap_state.todo = why;
}

static inline void
todo_end(void)
{
	tap_state.todo = NULL;
}

static inline bool
tap_vok(bool pass, const char *file, int line, const char *fmt, va_list ap)
{
	tap_state.run++;
	if (!pass && tap_state.todo == NULL)
		tap_state.failed++;
	printf("%s %d - ", pass ? "ok" : "not ok", tap_state.run);
	vprintf(fmt, ap);
	if (tap_state.todo != NULL)
		printf(" # TODO %s", tap_state.todo);
	fputc('\n', stdout);
	if (!pass)
		printf("#   Failed %stest at %s line %d.\n",
		    tap_state.todo != NULL ? "(TODO) " : "", file, line);
	fflush(stdout);
	return pass;
}

static inline bool __attribute__((format(printf, 4, 5)))
tap_ok(bool pass, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	bool r;

	va_start(ap, fmt);
	r = tap_vok(pass, file, line, fmt, ap);
	va_end(ap);
	return r;
}

static inline bool __attribute__((format(printf, 5, 6))) tap_is_int(long long got,
    long long expected, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	bool r;

	va_start(ap, fmt);
	r = tap_vok(got == expected, file, line, fmt, ap);
	va_end(ap);
	if (!r)
		printf("#          got: %lld\n#     expected: %lld\n", got,
		    expected);
	fflush(stdout);
	return r;
}

/* Prints up to TAP_SHOW_BYTES bytes of p, C-escaped, in quotes. */
static inline void
tap_show_bytes(const char *label, const void *p, size_t len)
{
	const unsigned char *s = p;
	size_t i;

	printf("# %12s: ", label);
	if (p == NULL) {
		printf("NULL\n");
		return;
	}
	putchar('"');
	for (i = 0; i < len && i < TAP_SHOW_BYTES; i++) {
		if (s[i] == '"' || s[i] == '\\')
			printf("\\%c", s[i]);
		else if (s[i] >= 0x20 && s[i] < 0x7f)
			putchar(s[i]);
		else
			printf("\\x%02x", s[i]);
	}
	putchar('"');
	if (len > TAP_SHOW_BYTES)
		printf("... (%zu bytes)", len);
	putchar('\n');
}

static inline bool
tap_mem_report(bool pass, const void *got, size_t got_len, const void *expected,
    size_t expected_len)
{
	const unsigned char *g = got, *e = expected;
	size_t i;

	if (pass)
		return true;
	tap_show_bytes("got", got, got_len);
	tap_show_bytes("expected", expected, expected_len);
	if (got != NULL && expected != NULL) {
		for (i = 0; i < got_len && i < expected_len && g[i] == e[i]; i++)
			continue;
		printf("#   lengths %zu vs %zu, first difference at byte %zu\n",
		    got_len, expected_len, i);
	}
	fflush(stdout);
	return false;
}

static inline bool __attribute__((format(printf, 7, 8)))
tap_is_mem(const void *got, size_t got_len, const void *expected,
    size_t expected_len, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	bool pass;

	if (got == NULL || expected == NULL)
		pass = got == NULL && expected == NULL;
	else
		pass = got_len == expected_len &&
		    (got_len == 0 || memcmp(got, expected, got_len) == 0);
	va_start(ap, fmt);
	tap_vok(pass, file, line, fmt, ap);
	va_end(ap);
	return tap_mem_report(pass, got, got_len, expected, expected_len);
}

static inline bool __attribute__((format(printf, 5, 6)))
tap_is_str(const char *got, const char *expected, const char *file, int line,
    const char *fmt, ...)
{
	va_list ap;
	bool pass;

	if (got == NULL || expected == NULL)
		pass = got == NULL && expected == NULL;
	else
		pass = strcmp(got, expected) == 0;
	va_start(ap, fmt);
	tap_vok(pass, file, line, fmt, ap);
	va_end(ap);
	return tap_mem_report(pass, got, got ? strlen(got) : 0, expected,
	    expected ? strlen(expected) : 0);
}

static inline int
done_testing(void)
{
	if (tap_state.planned < 0)
		printf("1..%d\n", tap_state.run);
	else if (tap_state.planned != tap_state.run)
		printf("# planned %d tests but ran %d\n", tap_state.planned,
		    tap_state.run);
	if (tap_state.failed > 0)
		printf("# failed %d of %d tests\n", tap_state.failed,
		    tap_state.run);
	fflush(stdout);
	return (tap_state.failed == 0 &&
		   (tap_state.planned < 0 || tap_state.planned == tap_state.run)) ?
	    0 :
	    1;
}

#define ok(cond, ...) \
	tap_ok((cond) ? true : false, __FILE__, __LINE__, __VA_ARGS__)
#define is_int(got, expected, ...)                                    \
	tap_is_int((long long)(got), (long long)(expected), __FILE__, \
	    __LINE__, __VA_ARGS__)
#define is_str(got, expected, ...) \
	tap_is_str((got), (expected), __FILE__, __LINE__, __VA_ARGS__)
#define is_mem(got, got_len, expected, expected_len, ...)                  \
	tap_is_mem((got), (got_len), (expected), (expected_len), __FILE__, \
	    __LINE__, __VA_ARGS__)

#endif /* PYCAGE_TAP_H */
