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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define LOG_LINE_MAX	1024

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
	size_t		 k, i;

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

static void
log_write(enum log_level level, const char *fmt, va_list ap)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	char		 line[LOG_LINE_MAX], msg[LOG_LINE_MAX];
	struct timespec	 now;
	struct tm	 tm;
	int		 n;

	if (level > log_level)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s: ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, now.tv_nsec / 1000000, log_role, names[level]);
	if (n < 0 || (size_t)n >= sizeof(line) - 1 ||
	    vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		return;
	n = log_escape(line, n, sizeof(line) - 1, msg);
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, n);
}

#define LOG_FN(name, level)			\
void						\
name(const char *fmt, ...)			\
{						\
	va_list ap;				\
	va_start(ap, fmt);			\
	log_write(level, fmt, ap);		\
	va_end(ap);				\
}

LOG_FN(log_error, LOG_LEVEL_ERROR)
LOG_FN(log_warn, LOG_LEVEL_WARN)
LOG_FN(log_info, LOG_LEVEL_INFO)
LOG_FN(log_debug, LOG_LEVEL_DEBUG)

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_write(LOG_LEVEL_ERROR, fmt, ap);
	va_end(ap);
	exit(1);
}
