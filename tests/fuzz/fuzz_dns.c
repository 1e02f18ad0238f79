/* fuzz_dns.c: libFuzzer target for the resolver's record parser (src/dns/dns_parse.c:
 * dns_parse_rdata), which reads whatever record data a DNS server sends, and for
 * dns_server_parse (the dns.server value).
 *
 * Input: one byte chooses the record type, then records as a 2-byte big-endian length
 * and that many bytes (a short tail is the last record). Invariants: the parser
 * returns -1 or a count no larger than the records given, -1 only when none parsed;
 * TXT text is NUL-terminated at its length; every name is at most 4 * 255 bytes and
 * holds only letters, digits, '-', '_', '.' between labels and \DDD escapes;
 * addresses have the family of their type. dns_server_parse writes "ADDR@PORT". */
#include "fuzz.h"

#include "arena.h"
#include "dns.h"

#include <string.h>
#include <sys/socket.h>

static const int types[] = { DNS_A, DNS_AAAA, DNS_TXT, DNS_MX, DNS_PTR, DNS_CNAME, DNS_SRV, DNS_TLSA };

static void check_name(const char *n)
{
	size_t len = strlen(n);
	CHECK(len <= 4 * 255);
	for (size_t i = 0; i < len; i++) {
		char c = n[i];
		if (c == '\\') {
			CHECK(i + 3 < len + 1 && n[i + 1] >= '0' && n[i + 1] <= '2');
			i += 3;
			continue;
		}
		CHECK((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
		      c == '_' || (c == '.' && i > 0 && i + 1 < len && n[i + 1] != '.'));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	int type = types[data[0] % (sizeof(types) / sizeof(types[0]))];
	const uint8_t *rec[64];
	size_t len[64], n = 0, i = 1;
	while (i < size && n < 64) {
		size_t l = i + 2 <= size ? (size_t)data[i] << 8 | data[i + 1] : 0;
		i += 2;
		if (i > size)
			i = size;
		if (l > size - i)
			l = size - i;
		rec[n] = data + i;
		len[n++] = l;
		i += l;
	}
	struct arena *a = arena_new();
	struct dns_answer ans;
	memset(&ans, 0, sizeof(ans));
	const char *err = NULL;
	int r = dns_parse_rdata(type, rec, len, n, a, &ans, &err);
	CHECK(r == -1 || (r >= 0 && (size_t)r <= n));
	CHECK(r != -1 || (n > 0 && err != NULL));
	for (size_t k = 0; r > 0 && k < (size_t)r; k++) {
		switch (type) {
		case DNS_A:
			CHECK(ans.addrs[k].family == AF_INET);
			break;
		case DNS_AAAA:
			CHECK(ans.addrs[k].family == AF_INET6);
			break;
		case DNS_TXT:
			CHECK(ans.txt[k].text[ans.txt[k].len] == '\0');
			break;
		case DNS_MX:
			check_name(ans.mx[k].host);
			break;
		case DNS_SRV:
			check_name(ans.srv[k].target);
			break;
		case DNS_PTR:
		case DNS_CNAME:
			check_name(ans.names[k]);
			break;
		case DNS_TLSA:
			CHECK(ans.tlsa[k].len < 65536);
			break;
		}
	}
	/* the dns.server syntax over the same bytes as text */
	char text[128], out[96];
	size_t tl = size - 1 < sizeof(text) - 1 ? size - 1 : sizeof(text) - 1;
	memcpy(text, data + 1, tl);
	text[tl] = '\0';
	if (dns_server_parse(text, out, sizeof(out)) > 0)
		CHECK(strchr(out, '@') != NULL);
	arena_free(&a);
	return 0;
}
