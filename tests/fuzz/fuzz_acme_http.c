/* fuzz_acme_http.c: libFuzzer target for the ACME client's HTTP side
 * (src/acme/acme_http.c): the CA's HTTP/1.1 responses, which come from the network,
 * and https URLs (acme.directory and every URL a CA hands out).
 *
 * Input: one flags byte (bit 0: the peer closed; bits 1-3 choose the body limit),
 * then the response bytes. Invariants: a parse that is done has a status of 100 to
 * 999, a body no larger than the limit and NUL-terminated at its length, lying in
 * the arena; every shorter prefix of a done response is never done with a longer
 * body; a URL that parses has a host, a port of 1 to 65535 and a path starting '/'. */
#include "fuzz.h"

#include "acme_int.h"
#include "arena.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	bool eof = data[0] & 1;
	static const size_t limits[] = { 0, 1, 16, 100, 1024, 16384, 65536, 1 << 20 };
	size_t body_max = limits[(data[0] >> 1) & 7];
	const unsigned char *p = data + 1;
	size_t n = size - 1;
	struct arena *a = arena_new();
	struct acme_http_response r = { 0 };
	const char *err = NULL;
	int k = acme_http_response_parse(p, n, eof, body_max, a, &r, &err);
	CHECK(k == 1 || k == 0 || k == -1);
	CHECK(k != -1 || err != NULL);
	if (k == 1) {
		CHECK(r.status >= 100 && r.status <= 999);
		CHECK(r.body_len <= body_max);
		CHECK(r.body != NULL && r.body[r.body_len] == '\0');
		CHECK(r.retry_after >= -1);
		/* a shorter prefix is not a complete response with more body */
		if (n > 0) {
			struct acme_http_response r2 = { 0 };
			int k2 = acme_http_response_parse(p, n / 2, false, body_max, a, &r2, &err);
			CHECK(k2 != 1 || r2.body_len <= r.body_len || n / 2 >= n);
		}
	}
	/* the same bytes as a URL */
	char *url = malloc(n + 1);
	memcpy(url, p, n);
	url[n] = '\0';
	struct acme_url u;
	if (acme_url_parse(url, &u, &err) > 0) {
		CHECK(u.host[0] != '\0' && strlen(u.host) <= ACME_HOST_MAX);
		long port = strtol(u.port, NULL, 10);
		CHECK(port >= 1 && port <= 65535);
		CHECK(u.path[0] == '/');
		CHECK(strchr(u.path, '#') == NULL);
	}
	free(url);
	arena_free(&a);
	return 0;
}
