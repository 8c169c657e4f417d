/*
 * keys.c: the API keys file (config api_keys_file) and the check of a
 * request's `Authorization: Bearer KEY` against it (issue 19, part 3).
 *
 * The file holds one key a line as `NAME SHA256-HEX-OF-THE-KEY`; `#`
 * starts a comment line.  It holds hashes only: the key itself is printed
 * once by `pycage-fcgi --new-key NAME` (keys_new()) and kept by whoever
 * asked for it.  The front reads the file as root, before it chroots into
 * an empty directory (main.c), and never again: a key added later counts
 * from the next start.  A malformed line fails the start with file:line,
 * as a configuration error does (STYLE.md point 3).
 *
 * The check hashes the presented key (sha256.c) and compares the digest
 * with every entry's, all of them and every byte, without a branch on the
 * bytes: the time taken does not say which entry, or how much of one,
 * matched.  What the rest of the front sees is the key's NAME: the log
 * line, the metrics label (bounded: the names in the file) and the
 * client whose fair share of the executions the executor keeps
 * (executor/job.c).  The key never leaves this file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "front.h"

#define KEYS_LINE_MAX 256
#define KEY_SECRET_BYTES 32  /* 256 random bits */
#define KEY_PREFIX "pycage_" /* findable by secret scanners */

struct key_entry {
	char name[KEY_NAME_MAX + 1];
	unsigned char hash[SHA256_BYTES];
	atomic_ullong requests;
};

struct keys {
	size_t n;
	struct key_entry entry[KEYS_MAX];
};

static const char key_name_chars[] = "abcdefghijklmnopqrstuvwxyz"
				     "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-";

bool
keys_name_ok(const char *name)
{
	size_t len = strlen(name);

	return len > 0 && len <= KEY_NAME_MAX &&
	    strspn(name, key_name_chars) == len;
}

static int
keys_hex_digit(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static void
keys_hex(const unsigned char *raw, size_t n, char *hex)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		hex[2 * i] = digits[raw[i] >> 4];
		hex[2 * i + 1] = digits[raw[i] & 15];
	}
	hex[2 * n] = '\0';
}

/* One line (NUL-terminated, no newline) into e; -1 with a reason. */
static int
keys_parse_line(char *line, struct key_entry *e, const char **why)
{
	char *name, *hex, *extra;
	size_t i;
	int hi, lo;

	name = strtok(line, " \t\r");
	hex = strtok(NULL, " \t\r");
	extra = strtok(NULL, " \t\r");
	if (name == NULL || hex == NULL || extra != NULL) {
		*why = "expected 'NAME SHA256-HEX'";
		return -1;
	}
	if (!keys_name_ok(name)) {
		*why = "a key's name is 1 to " KEY_NAME_MAX_TEXT
		       " of [A-Za-z0-9_.-]";
		return -1;
	}
	if (strlen(hex) != 2 * SHA256_BYTES) {
		*why = "the hash is 64 hex digits (SHA-256 of the key)";
		return -1;
	}
	for (i = 0; i < SHA256_BYTES; i++) {
		if ((hi = keys_hex_digit(hex[2 * i])) == -1 ||
		    (lo = keys_hex_digit(hex[2 * i + 1])) == -1) {
			*why = "the hash is 64 hex digits (SHA-256 of the key)";
			return -1;
		}
		e->hash[i] = (unsigned char)(hi << 4 | lo);
	}
	snprintf(e->name, sizeof(e->name), "%s", name);
	return 0;
}

int
keys_load(struct keys **out, const char *path, bool may_be_empty, char *err,
    size_t errlen)
{
	struct keys *k;
	struct stat st;
	const char *why;
	char line[KEYS_LINE_MAX + 2], *p;
	FILE *f;
	size_t i;
	int lineno = 0, rc = -1;

	*out = NULL;
	if ((k = calloc(1, sizeof(*k))) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	if ((f = fopen(path, "re")) == NULL) {
		if (errno == ENOENT && may_be_empty) {
			*out = k;
			return 0;
		}
		snprintf(err, errlen, "api_keys_file %s: %s", path,
		    strerror(errno));
		free(k);
		return -1;
	}
	/* Whoever may write it may let anyone in. */
	if (fstat(fileno(f), &st) == -1 || (st.st_mode & 022) != 0) {
		snprintf(err, errlen,
		    "api_keys_file %s: writable by group or "
		    "others (chmod 600 it)",
		    path);
		goto out;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			snprintf(err, errlen, "%s:%d: line longer than %d bytes",
			    path, lineno, KEYS_LINE_MAX);
			goto out;
		}
		line[strcspn(line, "\n")] = '\0';
		for (p = line; *p == ' ' || *p == '\t'; p++)
			;
		if (*p == '\0' || *p == '#' || *p == '\r')
			continue;
		if (k->n == KEYS_MAX) {
			snprintf(err, errlen, "%s:%d: more than %d keys", path,
			    lineno, KEYS_MAX);
			goto out;
		}
		if (keys_parse_line(p, &k->entry[k->n], &why) == -1) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
			goto out;
		}
		for (i = 0; i < k->n; i++) {
			if (strcmp(k->entry[i].name, k->entry[k->n].name) == 0) {
				snprintf(err, errlen,
				    "%s:%d: the name %s is "
				    "on an earlier line too",
				    path, lineno, k->entry[i].name);
				goto out;
			}
			if (memcmp(k->entry[i].hash, k->entry[k->n].hash,
				SHA256_BYTES) == 0) {
				snprintf(err, errlen, "%s:%d: the same key as %s",
				    path, lineno, k->entry[i].name);
				goto out;
			}
		}
		k->n++;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: %s", path, strerror(EIO));
		goto out;
	}
	if (k->n == 0 && !may_be_empty) {
		snprintf(err, errlen,
		    "api_keys_file %s: no keys (make one with "
		    "pycage-fcgi --new-key NAME)",
		    path);
		goto out;
	}
	*out = k;
	k = NULL;
	rc = 0;
out:
	fclose(f);
	free(k);
	return rc;
}

void
keys_free(struct keys *k)
{
	free(k);
}

size_t
keys_count(const struct keys *k)
{
	return k != NULL ? k->n : 0;
}

/*
 * The name of the key in an Authorization header's value, or NULL.  The
 * scheme is case-insensitive (RFC 7235 2.1), the token is RFC 6750's
 * b64token; a token over KEY_TEXT_MAX is refused before it is hashed.
 */
const char *
keys_match(struct keys *k, const char *authorization)
{
	static const char scheme[] = "Bearer ";
	unsigned char digest[SHA256_BYTES], diff;
	const char *token;
	size_t len, i, b, found = 0, hit;

	if (k == NULL || authorization == NULL ||
	    strncasecmp(authorization, scheme, sizeof(scheme) - 1) != 0)
		return NULL;
	token = authorization + sizeof(scheme) - 1;
	while (*token == ' ')
		token++;
	len = strcspn(token, " \t");
	if (len == 0 || len > KEY_TEXT_MAX || token[len] != '\0')
		return NULL;
	sha256(token, len, digest);
	/* Every entry, every byte; found is i + 1 of the match, 0 for none
	 * (hashes are unique in the file, keys_load()). */
	for (i = 0; i < k->n; i++) {
		diff = 0;
		for (b = 0; b < SHA256_BYTES; b++)
			diff |= (unsigned char)(digest[b] ^ k->entry[i].hash[b]);
		/* hit: all ones when diff is 0, else 0, without a branch. */
		hit = (size_t)0 - (size_t)(((unsigned)diff - 1U) >> 8 & 1U);
		found |= hit & (i + 1);
	}
	if (found == 0)
		return NULL;
	atomic_fetch_add_explicit(&k->entry[found - 1].requests, 1,
	    memory_order_relaxed);
	return k->entry[found - 1].name;
}

int
keys_render_metrics(struct keys *k, struct buf *out)
{
	char line[128];
	size_t i;
	int n;

	if (k == NULL)
		return 0;
	buf_append_str(out,
	    "# HELP pycage_key_requests_total Requests that "
	    "carried this API key (by its name in api_keys_file).\n"
	    "# TYPE pycage_key_requests_total counter\n");
	for (i = 0; i < k->n; i++) {
		n = snprintf(line, sizeof(line),
		    "pycage_key_requests_total{key=\"%s\"} %llu\n",
		    k->entry[i].name,
		    atomic_load_explicit(&k->entry[i].requests,
			memory_order_relaxed));
		if (n > 0 && (size_t)n < sizeof(line))
			buf_append(out, line, (size_t)n);
	}
	return out->len < out->cap_bytes ? 0 : -1;
}

/*
 * --new-key NAME: a fresh key from getrandom(), printed once on out, and
 * its hash appended to path (made 0600 if absent).  The file is read
 * first, so a malformed one or a name already there is refused before
 * anything is written.
 */
int
keys_new(const char *path, const char *name, FILE *out, char *err, size_t errlen)
{
	struct keys *k;
	unsigned char secret[KEY_SECRET_BYTES], digest[SHA256_BYTES];
	char key[sizeof(KEY_PREFIX) + 2 * KEY_SECRET_BYTES];
	char hex[2 * SHA256_BYTES + 1], line[KEYS_LINE_MAX + 2], last;
	struct stat st;
	size_t i;
	int fd, n, rc = -1;

	if (!keys_name_ok(name)) {
		snprintf(err, errlen,
		    "--new-key %s: a key's name is 1 to " KEY_NAME_MAX_TEXT
		    " of [A-Za-z0-9_.-]",
		    name);
		return -1;
	}
	if (keys_load(&k, path, true, err, errlen) == -1)
		return -1;
	for (i = 0; i < k->n; i++)
		if (strcmp(k->entry[i].name, name) == 0) {
			snprintf(err, errlen,
			    "%s: there is a key named %s "
			    "already",
			    path, name);
			keys_free(k);
			return -1;
		}
	keys_free(k);
	if (getrandom(secret, sizeof(secret), 0) != (ssize_t)sizeof(secret)) {
		snprintf(err, errlen, "getrandom: %s", strerror(errno));
		return -1;
	}
	memcpy(key, KEY_PREFIX, sizeof(KEY_PREFIX) - 1);
	keys_hex(secret, sizeof(secret), key + sizeof(KEY_PREFIX) - 1);
	sha256(key, strlen(key), digest);
	keys_hex(digest, sizeof(digest), hex);
	if ((fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) ==
	    -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	/* A last line without its newline gets one first. */
	last = '\n';
	if (fstat(fd, &st) == 0 && st.st_size > 0 &&
	    pread(fd, &last, 1, st.st_size - 1) != 1)
		last = '\n';
	n = snprintf(line, sizeof(line), "%s%s %s\n", last == '\n' ? "" : "\n",
	    name, hex);
	if (n > 0 && (size_t)n < sizeof(line) &&
	    write(fd, line, (size_t)n) == n && fsync(fd) == 0)
		rc = 0;
	else
		snprintf(err, errlen, "%s: %s", path,
		    strerror(errno ? errno : EIO));
	if (close(fd) == -1 && rc == 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		rc = -1;
	}
	if (rc == 0)
		fprintf(out, "%s\n", key);
	explicit_bzero(secret, sizeof(secret));
	explicit_bzero(key, sizeof(key));
	return rc;
}
