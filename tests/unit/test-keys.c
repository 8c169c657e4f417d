/*
 * test-keys.c: src/front/keys.c.  A keys file with comments, tabs and
 * CRLF; each way a file can be wrong, with the exact "path:line: reason"
 * that fails the start; the Authorization values a request may carry
 * (right, wrong, another scheme, no token, spaces, too long, the hash
 * itself); the metrics, which name keys and never show them; and
 * --new-key end to end: the key it prints matches the hash it appended,
 * the file is 0600, a name is taken once.  Files are made with mkstemp
 * under /tmp and removed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "front.h"
#include "tap.h"

static char path[64];

static void
write_file(const char *text, mode_t mode)
{
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "/tmp/pycage-test-keys-XXXXXX");
	if ((fd = mkstemp(path)) == -1 || (f = fdopen(fd, "w")) == NULL)
		exit(1);
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

static void
hexdigest(const char *s, char out[2 * SHA256_BYTES + 1])
{
	unsigned char d[SHA256_BYTES];
	int i;

	sha256(s, strlen(s), d);
	for (i = 0; i < SHA256_BYTES; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* The error keys_load gives for text, with the file's name as "F". */
static const char *
load_error(const char *text, mode_t mode)
{
	static char err[512], out[512];
	struct keys *k;
	size_t n;

	write_file(text, mode);
	err[0] = '\0';
	if (keys_load(&k, path, false, err, sizeof(err)) == 0) {
		keys_free(k);
		unlink(path);
		return "(loaded)";
	}
	unlink(path);
	n = strlen(path);
	if (strncmp(err, path, n) == 0)
		snprintf(out, sizeof(out), "F%s", err + n);
	else if (strncmp(err, "api_keys_file ", 14) == 0 &&
	    strncmp(err + 14, path, n) == 0)
		snprintf(out, sizeof(out), "api_keys_file F%s", err + 14 + n);
	else
		snprintf(out, sizeof(out), "%s", err);
	return out;
}

static const char HASH_MSG[] = "the hash is 64 hex digits (SHA-256 of the key)";

int
main(void)
{
	struct keys *k;
	struct buf metrics;
	struct stat st;
	char alice[2 * SHA256_BYTES + 1], bob[2 * SHA256_BYTES + 1];
	char text[8192], err[512], got[512], header[KEY_TEXT_MAX + 16];
	char expected[512];
	FILE *out;
	char *big;
	size_t i, n;
	int rc;

	hexdigest("alice-key", alice);
	hexdigest("bob-key", bob);

	/* ---- a good file */
	snprintf(text, sizeof(text),
	    "# keys\n\n  alice   %s  \nbob\t%s\r\n"
	    "# the end, no newline",
	    alice, bob);
	write_file(text, 0600);
	err[0] = '\0';
	rc = keys_load(&k, path, false, err, sizeof(err));
	is_int(rc, 0, "a file with comments, blanks, tabs and CRLF loads %s",
	    err);
	unlink(path);
	if (rc != 0)
		return done_testing();
	is_int((int)keys_count(k), 2, "two keys");
	is_str(keys_match(k, "Bearer alice-key"), "alice", "alice's key");
	is_str(keys_match(k, "Bearer bob-key"), "bob", "bob's key");
	is_str(keys_match(k, "bearer bob-key"), "bob",
	    "the scheme in any case (RFC 7235)");
	is_str(keys_match(k, "Bearer   alice-key"), "alice",
	    "spaces before the token");
	ok(keys_match(k, "Bearer alice-kex") == NULL, "a wrong key");
	ok(keys_match(k, "Bearer alice-ke") == NULL, "a key's prefix");
	ok(keys_match(k, "Bearer alice-key ") == NULL, "a space after the token");
	ok(keys_match(k, "Bearer alice-key x") == NULL, "two tokens");
	ok(keys_match(k, "Bearer ") == NULL, "no token");
	ok(keys_match(k, "Bearer") == NULL, "no token, no space");
	ok(keys_match(k, "") == NULL, "an empty header");
	ok(keys_match(k, NULL) == NULL, "no header");
	ok(keys_match(k, "alice-key") == NULL, "no scheme");
	ok(keys_match(k, "Basic YWxpY2U6YWxpY2Uta2V5") == NULL, "Basic");
	snprintf(header, sizeof(header), "Bearer %s", alice);
	ok(keys_match(k, header) == NULL, "the hash in the file is not a key");
	n = (size_t)snprintf(header, sizeof(header), "Bearer ");
	for (i = 0; i < KEY_TEXT_MAX + 1; i++)
		header[n + i] = 'a';
	header[n + i] = '\0';
	ok(keys_match(k, header) == NULL, "a token over %d bytes", KEY_TEXT_MAX);
	buf_init(&metrics, 4096);
	is_int(keys_render_metrics(k, &metrics), 0, "metrics fit");
	buf_append(&metrics, "", 1);
	ok(metrics.data != NULL &&
		strstr(metrics.data,
		    "pycage_key_requests_total{key=\"alice\"} 2\n") &&
		strstr(metrics.data, "pycage_key_requests_total{key=\"bob\"} 2\n"),
	    "pycage_key_requests_total counts each name's matches");
	ok(metrics.data != NULL && strstr(metrics.data, "alice-key") == NULL &&
		strstr(metrics.data, alice) == NULL,
	    "the metrics show neither a key nor a hash");
	buf_free(&metrics);
	keys_free(k);

	/* ---- each way a file is wrong: the start fails with file:line */
	snprintf(text, sizeof(text), "alice\n");
	is_str(load_error(text, 0600), "F:1: expected 'NAME SHA256-HEX'",
	    "a name alone");
	snprintf(text, sizeof(text), "alice %s extra\n", alice);
	is_str(load_error(text, 0600), "F:1: expected 'NAME SHA256-HEX'",
	    "a third field");
	snprintf(text, sizeof(text), "# c\nal/ice %s\n", alice);
	is_str(load_error(text, 0600),
	    "F:2: a key's name is 1 to 32 of "
	    "[A-Za-z0-9_.-]",
	    "a '/' in a name");
	snprintf(text, sizeof(text), "%s %s\n",
	    "a23456789012345678901234567890123", alice);
	is_str(load_error(text, 0600),
	    "F:1: a key's name is 1 to 32 of "
	    "[A-Za-z0-9_.-]",
	    "a name of 33 bytes");
	snprintf(text, sizeof(text), "alice %.63s\n", alice);
	snprintf(expected, sizeof(expected), "F:1: %s", HASH_MSG);
	is_str(load_error(text, 0600), expected, "63 hex digits");
	snprintf(text, sizeof(text), "alice %.63sg\n", alice);
	is_str(load_error(text, 0600), expected, "a g in the hash");
	snprintf(text, sizeof(text), "alice %s\nalice %s\n", alice, bob);
	is_str(load_error(text, 0600),
	    "F:2: the name alice is on an earlier "
	    "line too",
	    "a name twice");
	snprintf(text, sizeof(text), "alice %s\nbob %s\n", alice, alice);
	is_str(load_error(text, 0600), "F:2: the same key as alice",
	    "a hash twice");
	snprintf(text, sizeof(text), "alice %s\n", alice);
	is_str(load_error(text, 0620),
	    "api_keys_file F: writable by group or "
	    "others (chmod 600 it)",
	    "a group-writable file");
	is_str(load_error("# nothing\n", 0600),
	    "api_keys_file F: no keys "
	    "(make one with pycage-fcgi --new-key NAME)",
	    "a file without keys");
	/* KEYS_MAX + 1 lines of distinct keys. */
	big = malloc((KEYS_MAX + 1) * 100);
	for (i = 0, n = 0; big != NULL && i <= KEYS_MAX; i++) {
		snprintf(got, sizeof(got), "key-%zu", i);
		hexdigest(got, alice);
		n += (size_t)snprintf(big + n, 100, "k%zu %s\n", i, alice);
	}
	snprintf(expected, sizeof(expected), "F:%d: more than %d keys",
	    KEYS_MAX + 1, KEYS_MAX);
	is_str(big != NULL ? load_error(big, 0600) : "", expected,
	    "one key over KEYS_MAX");
	free(big);
	err[0] = '\0';
	rc = keys_load(&k, "/nonexistent/keys", false, err, sizeof(err));
	is_str(err, "api_keys_file /nonexistent/keys: No such file or directory",
	    "a missing file");
	rc = keys_load(&k, "/nonexistent/keys", true, err, sizeof(err));
	ok(rc == 0 && keys_count(k) == 0, "... which --new-key may start");
	keys_free(k);

	/* ---- --new-key end to end */
	snprintf(path, sizeof(path), "/tmp/pycage-test-keys-new-XXXXXX");
	if (mkdtemp(path) == NULL)
		return 1;
	snprintf(text, sizeof(text), "%s/keys", path);
	out = fmemopen(got, sizeof(got), "w");
	rc = keys_new(text, "carol", out, err, sizeof(err));
	fclose(out);
	is_int(rc, 0, "--new-key carol into a new file %s", rc ? err : "");
	ok(strncmp(got, "pycage_", 7) == 0 && strlen(got) == 7 + 64 + 1,
	    "it prints pycage_ and 64 hex digits, once");
	ok(stat(text, &st) == 0 && (st.st_mode & 0777) == 0600,
	    "the file is made 0600");
	got[strcspn(got, "\n")] = '\0';
	snprintf(header, sizeof(header), "Bearer %s", got);
	rc = keys_load(&k, text, false, err, sizeof(err));
	is_str(rc == 0 ? keys_match(k, header) : err, "carol",
	    "the printed key matches the hash it appended");
	if (rc == 0)
		keys_free(k);
	out = fmemopen(got, sizeof(got), "w");
	rc = keys_new(text, "carol", out, err, sizeof(err));
	fclose(out);
	ok(rc == -1 && strstr(err, "there is a key named carol already"),
	    "a name is taken once: %s", err);
	out = fmemopen(got, sizeof(got), "w");
	rc = keys_new(text, "no spaces", out, err, sizeof(err));
	fclose(out);
	ok(rc == -1 && strstr(err, "a key's name is 1 to 32"),
	    "a bad name is refused: %s", err);
	/* A last line without its newline gets one before the new key. */
	out = fopen(text, "a");
	fprintf(out, "# no newline");
	fclose(out);
	out = fmemopen(got, sizeof(got), "w");
	rc = keys_new(text, "dave", out, err, sizeof(err));
	fclose(out);
	rc = rc == 0 ? keys_load(&k, text, false, err, sizeof(err)) : -1;
	ok(rc == 0 && keys_count(k) == 2,
	    "after a line without its newline the next key is a line of its "
	    "own %s",
	    rc ? err : "");
	if (rc == 0)
		keys_free(k);
	unlink(text);
	rmdir(path);
	return done_testing();
}
