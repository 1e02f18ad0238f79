/* fuzz_spf_macro.c: libFuzzer target for SPF macro expansion (src/mailauth/spf_macro.c).
 *
 * Byte 0 picks the mode (bit 0: exp= text, bit 1: IPv6 client, bit 2: a long sender);
 * the input up to the first NUL is the macro string, what follows is the HELO name
 * (so %{h} carries arbitrary bytes). Invariants: the checker and the expander agree
 * on every input; an expansion is at most SPF_MACRO_MAX_OUTPUT bytes and its length is
 * its strlen; a domain expansion is at most SPF_DOMAIN_MAX bytes, has no trailing
 * dot, and is a suffix of the full expansion (labels are only cut from the left). */
#include "fuzz.h"
#include "arena.h"
#include "spf_macro.h"

#include <string.h>
#include <sys/socket.h>

static const char *p_name(void *ctx, const char *domain)
{
	(void)ctx;
	CHECK(domain != NULL);
	return "Mail.Example.COM";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	unsigned mode = data[0];
	data++;
	size--;
	struct arena *a = arena_new();
	const char *spec = (const char *)data;
	size_t len = strnlen(spec, size);
	const char *helo = len < size ? arena_strndup(a, spec + len + 1, size - len - 1) : "";
	struct mailauth_addr ip = { .family = AF_INET, .bytes = { 192, 0, 2, 1 } };
	if (mode & 2) {
		ip.family = AF_INET6;
		memcpy(ip.bytes, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\xcb\x01", 16);
	}
	char long_local[300];
	memset(long_local, 'l', sizeof(long_local) - 1);
	long_local[sizeof(long_local) - 1] = '\0';
	const char *local = (mode & 4) ? long_local : "first.last-x+y";
	struct spf_macro_ctx m = {
		.local = local,
		.sender = arena_printf(a, "%s@sub.example.com", local),
		.sender_domain = "sub.example.com",
		.domain = "a.b.c.example.com.",
		.ip = &ip,
		.helo = helo,
		.receiver = "mx.example.net",
		.now = 1234567890,
		.validated_name = p_name,
	};
	bool exp = mode & 1;
	const char *e1 = NULL, *e2 = NULL;
	char *out = NULL, *dom = NULL;
	int c = spf_macro_check(spec, len, exp, &e1);
	int x = spf_macro_expand(spec, len, &m, exp, a, &out, &e2);
	CHECK(c == 1 || c == -1);
	if (c == -1) {
		CHECK(x == -1 && e1 != NULL && e2 != NULL);
	} else if (x == 1) {
		CHECK(strlen(out) <= SPF_MACRO_MAX_OUTPUT);
	} else {
		CHECK(strcmp(e2, "macro expansion too long") == 0);
	}
	if (!exp) {
		int y = spf_macro_expand_domain(spec, len, &m, a, &dom, &e2);
		CHECK(y == x);
		if (y == 1) {
			size_t dl = strlen(dom), ol = strlen(out);
			size_t bl = ol > 0 && out[ol - 1] == '.' ? ol - 1 : ol; /* one trailing dot dropped */
			CHECK(dl <= SPF_DOMAIN_MAX);
			CHECK(dl <= bl && memcmp(out + bl - dl, dom, dl) == 0);
			CHECK(dl == bl || dl == 0 || out[bl - dl - 1] == '.');
		}
	}
	arena_free(&a);
	return 0;
}
