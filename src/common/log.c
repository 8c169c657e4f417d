/*
 * log.c: one line per event on stderr, with a UTC timestamp and the level.
 * Lines are written with a single write(2) so threads never interleave
 * inside a line.  Messages carry words from outside (a request's path, an
 * engine's or a container's message): every control byte in them (C0,
 * DEL, and the C1 controls U+0080-U+009F as UTF-8) and every backslash
 * is written as \xNN, so none can start a forged line, pass for an
 * escape, or drive a terminal.  (U+2028 and other format characters are
 * left as they are.)  It never exits except through fatal(), which is for
 * start-up only (STYLE.md point 4).
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define LOG_LINE_MAX 1024
#define LOG_BURST_LINES 30     /* per call site, at once */
#define LOG_RATE_LINES_PER_S 5 /* per call site, after the burst */
#define LOG_SITES_MAX 128      /* call sites limited; past that, none */

struct log_site {
	const char *fmt;        /* NULL: free */
	long long milli_tokens; /* 1000 a line */
	long long at_ms;        /* of the last refill */
	unsigned long held;     /* lines held back since the last written */
	long long held_since_ms;
};

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static struct log_site log_sites[LOG_SITES_MAX];

static long long
log_now_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static long long (*log_clock)(void) = log_now_ms;

void
log_set_clock(long long (*clock_ms)(void))
{
	pthread_mutex_lock(&log_lock);
	log_clock = clock_ms != NULL ? clock_ms : log_now_ms;
	pthread_mutex_unlock(&log_lock);
}

/*
 * Whether a line from the call site fmt may be written now.  If it may and
 * some were held back before it, *held and *held_ms say how many and
 * over how long.
 */
static bool
log_allow(const char *fmt, unsigned long *held, long long *held_ms)
{
	struct log_site *site = NULL;
	long long now;
	size_t h, i;
	bool allow = true;

	*held = 0;
	pthread_mutex_lock(&log_lock);
	now = log_clock();
	h = ((uintptr_t)fmt >> 3) % LOG_SITES_MAX;
	for (i = 0; i < LOG_SITES_MAX; i++) {
		site = &log_sites[(h + i) % LOG_SITES_MAX];
		if (site->fmt == fmt)
			break;
		if (site->fmt == NULL) {
			site->fmt = fmt;
			site->milli_tokens = LOG_BURST_LINES * 1000LL;
			site->at_ms = now;
			break;
		}
		site = NULL;
	}
	if (site != NULL) {
		site->milli_tokens += (now - site->at_ms) * LOG_RATE_LINES_PER_S;
		if (site->milli_tokens > LOG_BURST_LINES * 1000LL)
			site->milli_tokens = LOG_BURST_LINES * 1000LL;
		site->at_ms = now;
		if (site->milli_tokens >= 1000) {
			site->milli_tokens -= 1000;
			*held = site->held;
			*held_ms = now - site->held_since_ms;
			site->held = 0;
		} else {
			if (site->held++ == 0)
				site->held_since_ms = now;
			allow = false;
		}
	}
	pthread_mutex_unlock(&log_lock);
	return allow;
}

static enum log_level log_level = LOG_LEVEL_INFO;
static const char *log_role = "main";

void
log_set_role(const char *role)
{
	log_role = role;
}

void
log_set_level(enum log_level level)
{
	log_level = level;
}

/* How many bytes at p are written escaped: 0, 1, or 2 for a UTF-8 C1. */
static size_t
log_escaped_bytes(const unsigned char *p)
{
	if (*p < 0x20 || *p == 0x7f || *p == '\\')
		return 1;
	if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
		return 2;
	return 0;
}

/*
 * Appends msg to line (which holds n bytes of size), escaping as the top
 * of this file says; stops where the next piece would not fit.  Returns
 * the new length.
 */
static size_t
log_escape(char *line, size_t n, size_t size, const char *msg)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p;
	size_t k, i;

	for (p = (const unsigned char *)msg; *p != '\0'; p += k ? k : 1) {
		if ((k = log_escaped_bytes(p)) == 0) {
			if (n + 1 > size)
				break;
			line[n++] = *p;
			continue;
		}
		if (n + 4 * k > size)
			break;
		for (i = 0; i < k; i++) {
			line[n++] = '\\';
			line[n++] = 'x';
			line[n++] = hex[p[i] >> 4];
			line[n++] = hex[p[i] & 0xf];
		}
	}
	return n;
}

/* The head of a line: "time role level: ".  Its length, or -1. */
static int
log_head(char *line, size_t size, enum log_level level)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	struct timespec now;
	struct tm tm;
	int n;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	n = snprintf(line, size,
	    "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s: ", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    now.tv_nsec / 1000000, log_role, names[level]);
	return (n < 0 || (size_t)n >= size - 1) ? -1 : n;
}

/* key: the call site's format, for the rate limit; NULL: never held back. */
static void
log_write(enum log_level level, const char *key, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX], msg[LOG_LINE_MAX];
	unsigned long held = 0;
	long long held_ms = 0;
	int n;

	if (level > log_level)
		return;
	if (key != NULL && !log_allow(key, &held, &held_ms))
		return;
	if (held > 0 && (n = log_head(line, sizeof(line), level)) >= 0) {
		snprintf(msg, sizeof(msg),
		    "(%lu more lines like the next were "
		    "held back over %lld.%03lld s)",
		    held, held_ms / 1000, held_ms % 1000);
		n = log_escape(line, n, sizeof(line) - 1, msg);
		line[n++] = '\n';
		(void)!write(STDERR_FILENO, line, n);
	}
	if ((n = log_head(line, sizeof(line), level)) < 0 ||
	    vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		return;
	n = log_escape(line, n, sizeof(line) - 1, msg);
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, n);
}

#define LOG_FN(name, level)                     \
	void name(const char *fmt, ...)         \
	{                                       \
		va_list ap;                     \
		va_start(ap, fmt);              \
		log_write(level, fmt, fmt, ap); \
		va_end(ap);                     \
	}

LOG_FN(log_error, LOG_LEVEL_ERROR)
LOG_FN(log_warn, LOG_LEVEL_WARN)
LOG_FN(log_info, LOG_LEVEL_INFO)
LOG_FN(log_debug, LOG_LEVEL_DEBUG)

/*
 * The one line a run gets when the front hands it to the executor, never
 * held back: runs are bounded by the execution workers and the web
 * server's limits, not by what a request can make fail, and an operator
 * (or test_scale.py) counts runs per request id from these lines.
 */
void
log_run(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_write(LOG_LEVEL_INFO, NULL, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_write(LOG_LEVEL_ERROR, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}
