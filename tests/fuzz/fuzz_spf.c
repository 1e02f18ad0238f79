/* fuzz_spf.c: libFuzzer target for SPF records and their evaluation
 * (src/mailauth/spf_record.c, spf.c, spf_macro.c).
 *
 * The input is lines. Line 0 is parsed by spf_record_parse; then spf_check runs with
 * a DNS made of the input: the TXT records of a name are one line picked by a hash
 * of the name (so includes and redirects reach other lines, or loop), A/AAAA answers
 * are one of four addresses or nothing, MX and PTR answers are names under
 * example.com, and a name hashing to 7 times out. The first byte of line 0 also
 * picks the client (IPv4, IPv6, IPv4-mapped). Invariants: the parser's records are
 * well formed (CIDR lengths in range, include/exists have a domain, every domain-spec
 * passes the macro check); a check always ends with a result word and a problem text,
 * within the DNS-mechanism and void limits (plus the one that tripped them), an
 * explanation only for fail and only printable ASCII. */
#include "fuzz.h"
#include "arena.h"
#include "spf.h"
#include "spf_macro.h"
#include "spf_record.h"

#include <string.h>
#include <sys/socket.h>

struct fdns {
	const char *lines[16];
	size_t n;
};

static unsigned hash(const char *s)
{
	unsigned h = 5381;
	for (; *s != '\0'; s++)
		h = h * 33 + (unsigned char)(*s | 0x20);
	return h;
}

static int f_txt(void *ctx, const char *name, struct arena *a, const char ***records_r, size_t *n_r)
{
	struct fdns *d = ctx;
	unsigned h = hash(name);
	if (h % 11 == 7)
		return MAILAUTH_DNS_TEMP;
	if (d->n == 0 || h % 5 == 0)
		return MAILAUTH_DNS_NONE;
	const char **r = arena_alloc(a, 2 * sizeof(*r));
	r[0] = d->lines[h % d->n];
	*n_r = 1;
	if (h % 13 == 3) {
		r[1] = d->lines[(h / 13) % d->n];
		*n_r = 2;
	}
	*records_r = r;
	return MAILAUTH_DNS_FOUND;
}

static int f_addr(void *ctx, const char *name, int family, struct arena *a, const struct mailauth_addr **addrs_r,
		  size_t *n_r)
{
	(void)ctx;
	unsigned h = hash(name);
	if (h % 11 == 7)
		return MAILAUTH_DNS_TEMP;
	if (h % 4 == 0)
		return MAILAUTH_DNS_NONE;
	struct mailauth_addr *x = arena_alloc(a, sizeof(*x));
	x->family = family;
	if (family == AF_INET) {
		x->bytes[0] = 192;
		x->bytes[2] = 2;
		x->bytes[3] = (uint8_t)(h % 4);
	} else {
		x->bytes[0] = 0x20;
		x->bytes[1] = 0x01;
		x->bytes[15] = (uint8_t)(h % 4);
	}
	*addrs_r = x;
	*n_r = 1;
	return MAILAUTH_DNS_FOUND;
}

static int f_mx(void *ctx, const char *name, struct arena *a, const struct mailauth_mx **mx_r, size_t *n_r)
{
	(void)ctx;
	unsigned h = hash(name);
	if (h % 11 == 7)
		return MAILAUTH_DNS_TEMP;
	size_t n = h % 13;
	if (n == 0)
		return MAILAUTH_DNS_NONE;
	struct mailauth_mx *mx = arena_alloc(a, n * sizeof(*mx));
	for (size_t i = 0; i < n; i++)
		mx[i].host = i == 5 ? "" : arena_printf(a, "mx%zu.%u.example.com", i, h % 3);
	*mx_r = mx;
	*n_r = n;
	return MAILAUTH_DNS_FOUND;
}

static int f_ptr(void *ctx, const struct mailauth_addr *addr, struct arena *a, const char ***names_r, size_t *n_r)
{
	(void)ctx;
	size_t n = addr->bytes[addr->family == AF_INET ? 3 : 15] * 5u;
	if (n == 0)
		return MAILAUTH_DNS_NONE;
	const char **r = arena_alloc(a, n * sizeof(*r));
	for (size_t i = 0; i < n; i++)
		r[i] = arena_printf(a, "host%zu.example.com.", i);
	*names_r = r;
	*n_r = n;
	return MAILAUTH_DNS_FOUND;
}

static void check_record(const struct spf_record *rec)
{
	for (size_t i = 0; i < rec->n_mechs; i++) {
		const struct spf_mech *m = &rec->mechs[i];
		const char *error;
		CHECK(m->cidr4 <= 32 && m->cidr6 <= 128);
		CHECK(m->text != NULL && m->text[0] != '\0');
		CHECK(strchr("+-~?", (int)m->qualifier) != NULL);
		if (m->kind == SPF_MECH_INCLUDE || m->kind == SPF_MECH_EXISTS)
			CHECK(m->domain != NULL);
		if (m->domain != NULL)
			CHECK(spf_domain_spec_check(m->domain, strlen(m->domain), &error) == 1);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = arena_new();
	char *text = arena_strndup(a, (const char *)data, size);
	struct fdns d = { .n = 0 };
	char *p = text;
	while (d.n < sizeof(d.lines) / sizeof(d.lines[0])) {
		d.lines[d.n++] = p;
		char *nl = memchr(p, '\n', strlen(p));
		if (nl == NULL)
			break;
		*nl = '\0';
		p = nl + 1;
	}
	const struct spf_record *rec;
	const char *error = NULL;
	int r = spf_record_parse(d.lines[0], a, &rec, &error);
	CHECK(r == 1 || r == -1);
	if (r == 1)
		check_record(rec);
	else
		CHECK(error != NULL && error[0] != '\0');

	struct mailauth_dns dns = { .ctx = &d, .txt = f_txt, .addr = f_addr, .mx = f_mx, .ptr = f_ptr };
	struct spf_request req = { .mail_from = "user@example.com", .helo = "helo.example.com", .now = 1 };
	unsigned sel = size > 0 ? data[0] % 3 : 0;
	if (sel == 0) {
		req.ip.family = AF_INET;
		memcpy(req.ip.bytes, "\xc0\x00\x02\x01", 4);
	} else {
		req.ip.family = AF_INET6;
		memcpy(req.ip.bytes,
		       sel == 1 ? "\x20\x01\0\0\0\0\0\0\0\0\0\0\0\0\0\x02"
				: "\0\0\0\0\0\0\0\0\0\0\xff\xff\xc0\x00\x02\x03",
		       16);
	}
	if (size > 1 && data[1] == 'H')
		req.mail_from = "";
	struct spf_verdict v;
	CHECK(spf_check(&dns, &req, a, &v) == 1);
	CHECK(v.result <= MAILAUTH_PERMERROR && v.result != MAILAUTH_POLICY);
	CHECK(v.problem != NULL);
	CHECK(v.dns_lookups <= SPF_DEFAULT_DNS_MECHANISMS + 1);
	CHECK(v.void_lookups <= SPF_DEFAULT_VOID_LOOKUPS + 1);
	if (v.explanation != NULL) {
		CHECK(v.result == MAILAUTH_FAIL);
		for (const char *e = v.explanation; *e != '\0'; e++)
			CHECK(*e >= 0x20 && *e < 0x7f);
	}
	arena_free(&a);
	return 0;
}
