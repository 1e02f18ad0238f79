/* fuzz_imap_client.c: libFuzzer target for the IMAP client's response parser
 * (src/proto/imap/imap_client.h: imapc_parse, imapc_is, imapc_number), what
 * `postamt import imap://...` reads from a foreign, possibly hostile server.
 *
 * The first byte picks small limits (so that the fuzzer reaches every bound); the rest
 * is the server's stream. Responses are read one after another from the whole buffer
 * and again from growing prefixes (as bytes arrive): both readings must agree on every
 * response's length, tag, status and item count, "need more" must ask for more than
 * the buffer holds, and a parsed response may not be longer than the data. Every item
 * tree is walked: lengths within the limits, lists within items_max and depth_max. */
#include "fuzz.h"
#include "imap_client.h"

#include <string.h>

#define MAX_RESP 32

struct seen {
	size_t len;
	char tag[16];
	char status[16];
	size_t n;
};

static void walk(const struct imapc_item *it, size_t n, int depth, const struct imapc_limits *lim)
{
	CHECK(depth <= lim->depth_max + 1);
	CHECK(n <= lim->items_max);
	for (size_t i = 0; i < n; i++) {
		const struct imapc_item *x = &it[i];
		switch (x->kind) {
		case IMAPC_ATOM:
			CHECK(x->s != NULL && x->len > 0 && x->s[x->len] == '\0');
			CHECK(x->len <= lim->line_max);
			(void)imapc_is(x, "FETCH");
			uint64_t v;
			if (imapc_number(x, 4294967295u, &v) > 0)
				CHECK(v >= 1 && v <= 4294967295u);
			break;
		case IMAPC_STRING:
			CHECK(x->s != NULL && x->s[x->len] == '\0');
			CHECK(x->len <= lim->line_max || x->len <= lim->literal_max);
			break;
		case IMAPC_NIL:
			break;
		case IMAPC_LIST:
			CHECK(x->n == 0 || x->items != NULL);
			walk(x->items, x->n, depth + 1, lim);
			break;
		default:
			CHECK(0);
		}
	}
}

/* Reads responses from data; step 0: whole buffer, else prefixes growing by step. */
static size_t run(const char *data, size_t len, size_t step, const struct imapc_limits *lim, struct seen *out,
		  bool *error_r)
{
	struct arena *a = arena_new();
	size_t pos = 0, k = 0;
	size_t avail = step == 0 ? len : (step < len ? step : len);
	*error_r = false;
	while (pos < len && k < MAX_RESP) {
		struct imapc_response r;
		size_t need = 0;
		const char *err = NULL;
		arena_clear(a);
		int n = imapc_parse(a, data + pos, avail - pos, lim, &r, &need, &err);
		if (n < 0) {
			CHECK(err != NULL && err[0] != '\0');
			*error_r = true;
			break;
		}
		if (n == 0) {
			CHECK(need > avail - pos);
			if (avail == len)
				break;
			avail = avail + step < len ? avail + step : len;
			continue;
		}
		CHECK((size_t)n <= avail - pos);
		CHECK(r.tag != NULL);
		walk(r.items, r.n, 0, lim);
		struct seen *s = &out[k++];
		s->len = (size_t)n;
		snprintf(s->tag, sizeof(s->tag), "%s", r.tag);
		snprintf(s->status, sizeof(s->status), "%s", r.status != NULL ? r.status : "-");
		s->n = r.n;
		pos += (size_t)n;
		if (step != 0 && avail < pos)
			avail = pos;
	}
	arena_free(&a);
	return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct imapc_limits lim = {
		.line_max = data[0] & 1 ? 64 : 4096,
		.literal_max = data[0] & 2 ? 16 : 65536,
		.items_max = data[0] & 4 ? 4 : 1000,
		.depth_max = data[0] & 8 ? 2 : 16,
	};
	size_t step = 1 + (data[0] >> 4);
	const char *p = (const char *)data + 1;
	size_t len = size - 1;
	struct seen a[MAX_RESP], b[MAX_RESP];
	bool ea, eb;
	size_t na = run(p, len, 0, &lim, a, &ea);
	size_t nb = run(p, len, step, &lim, b, &eb);
	CHECK(na == nb && ea == eb);
	for (size_t i = 0; i < na; i++) {
		CHECK(a[i].len == b[i].len && a[i].n == b[i].n);
		CHECK(strcmp(a[i].tag, b[i].tag) == 0 && strcmp(a[i].status, b[i].status) == 0);
	}
	return 0;
}
