/*
 * test-sha256.c: src/front/sha256.c.  FIPS 180-4's examples (NIST's
 * "SHA256.pdf": "abc", the 448-bit two-block message, a million 'a') and
 * the empty message, then every length from 0 to 300 bytes (each padding
 * boundary: 55, 56, 63, 64, 119, 120, 128) of pseudo-random bytes
 * compared with coreutils' sha256sum run on the same bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "front.h"
#include "tap.h"

#define LENGTHS_MAX 300

static void
hex(const unsigned char *d, char out[2 * SHA256_BYTES + 1])
{
	int i;

	for (i = 0; i < SHA256_BYTES; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void
vector(const void *data, size_t len, const char *expected, const char *what)
{
	unsigned char d[SHA256_BYTES];
	char got[2 * SHA256_BYTES + 1];

	sha256(data, len, d);
	hex(d, got);
	is_str(got, expected, "FIPS 180-4: %s", what);
}

/* sha256sum's digest of data, or "" if it could not run. */
static void
coreutils(const unsigned char *data, size_t len, char out[2 * SHA256_BYTES + 1])
{
	char path[] = "/tmp/pycage-test-sha256-XXXXXX", cmd[128], line[256];
	FILE *p;
	int fd;

	out[0] = '\0';
	if ((fd = mkstemp(path)) == -1)
		return;
	if (write(fd, data, len) != (ssize_t)len) {
		close(fd);
		unlink(path);
		return;
	}
	close(fd);
	snprintf(cmd, sizeof(cmd), "sha256sum %s", path);
	if ((p = popen(cmd, "r")) != NULL) {
		if (fgets(line, sizeof(line), p) != NULL &&
		    strspn(line, "0123456789abcdef") == 2 * SHA256_BYTES) {
			memcpy(out, line, 2 * SHA256_BYTES);
			out[2 * SHA256_BYTES] = '\0';
		}
		pclose(p);
	}
	unlink(path);
}

int
main(void)
{
	unsigned char data[LENGTHS_MAX], d[SHA256_BYTES];
	char got[2 * SHA256_BYTES + 1], want[2 * SHA256_BYTES + 1];
	char *million;
	unsigned seed = 12345;
	size_t len, bad = 0;

	vector("abc", 3,
	    "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad",
	    "abc (one block)");
	vector("", 0,
	    "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855",
	    "the empty message");
	vector("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
	    "248d6a61d20638b8e5c026930c3e6039"
	    "a33ce45964ff2167f6ecedd419db06c1",
	    "448 bits (two blocks)");
	if ((million = malloc(1000000)) == NULL)
		return 1;
	memset(million, 'a', 1000000);
	vector(million, 1000000,
	    "cdc76e5c9914fb9281a1c7e284d73e67"
	    "f1809a48a497200e046d39ccc7112cd0",
	    "a million 'a'");
	free(million);

	for (len = 0; len < LENGTHS_MAX; len++) {
		seed = seed * 1103515245U + 12345U;
		data[len] = (unsigned char)(seed >> 16);
	}
	for (len = 0; len <= LENGTHS_MAX; len++) {
		sha256(data, len, d);
		hex(d, got);
		coreutils(data, len, want);
		if (strcmp(got, want) != 0) {
			if (bad++ < 5)
				diag("%zu bytes: sha256 %s, sha256sum %s", len,
				    got, want[0] ? want : "(did not run)");
		}
	}
	ok(bad == 0,
	    "every length 0 to %d bytes is sha256sum's digest "
	    "(%zu differ)",
	    LENGTHS_MAX, bad);
	return done_testing();
}
