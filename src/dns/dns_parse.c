/* dns_parse.c: the pure half of the resolver: record data (RFC 1035 §3.3 wire format,
 * as libunbound hands it, one record at a time, names uncompressed) into the plain
 * structs of dns.h; reverse names; type names; dns.server's syntax. No sockets, no
 * libunbound: unit-tested and fuzzed on bytes. */
#include "dns.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

const char *dns_rrtype_name(int rrtype)
{
	switch (rrtype) {
	case DNS_A:
		return "A";
	case DNS_CNAME:
		return "CNAME";
	case DNS_PTR:
		return "PTR";
	case DNS_MX:
		return "MX";
	case DNS_TXT:
		return "TXT";
	case DNS_AAAA:
		return "AAAA";
	case DNS_SRV:
		return "SRV";
	case DNS_TLSA:
		return "TLSA";
	default:
		return NULL;
	}
}

const char *dns_reverse_name(int family, const uint8_t *b, struct arena *a)
{
	if (family == AF_INET)
		return arena_printf(a, "%u.%u.%u.%u.in-addr.arpa", b[3], b[2], b[1], b[0]);
	if (family != AF_INET6)
		return NULL;
	static const char hex[] = "0123456789abcdef";
	char s[16 * 4 + sizeof("ip6.arpa")];
	size_t o = 0;
	for (int i = 15; i >= 0; i--) {
		s[o++] = hex[b[i] & 15];
		s[o++] = '.';
		s[o++] = hex[b[i] >> 4];
		s[o++] = '.';
	}
	memcpy(s + o, "ip6.arpa", sizeof("ip6.arpa"));
	return arena_strdup(a, s);
}

/* Reads an uncompressed domain name at p[*off..len) in presentation form without the
 * trailing dot ("" for the root); bytes outside letters, digits, '-' and '_' are
 * written as \DDD (RFC 1035 §5.1), so a hostile label cannot smuggle a dot or a NUL.
 * Returns 1 and advances *off, or -1 when malformed (compression pointers included:
 * record data handed to us is uncompressed). */
static int read_name(const uint8_t *p, size_t len, size_t *off, struct arena *a, const char **name_r)
{
	char out[255 * 4 + 1];
	size_t o = 0, i = *off, wire = 0;
	for (;;) {
		if (i >= len)
			return -1;
		size_t l = p[i++];
		wire += l + 1;
		if (l > 63 || wire > 255 || i + l > len)
			return -1;
		if (l == 0)
			break;
		if (o > 0)
			out[o++] = '.';
		for (size_t k = 0; k < l; k++) {
			uint8_t c = p[i + k];
			if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
			    c == '_') {
				out[o++] = (char)c;
			} else {
				o += (size_t)snprintf(out + o, 5, "\\%03u", c);
			}
		}
		i += l;
	}
	out[o] = '\0';
	*off = i;
	*name_r = arena_strndup(a, out, o);
	return 1;
}

/* One TXT rdata: the character-strings concatenated. Returns 1, or -1 if malformed. */
static int parse_txt(const uint8_t *p, size_t len, struct arena *a, struct dns_txt *t)
{
	size_t total = 0, i = 0;
	if (len == 0)
		return -1;
	while (i < len) {
		size_t l = p[i++];
		if (i + l > len)
			return -1;
		total += l;
		i += l;
	}
	char *s = arena_alloc(a, total + 1);
	size_t o = 0;
	for (i = 0; i < len;) {
		size_t l = p[i++];
		memcpy(s + o, p + i, l);
		o += l;
		i += l;
	}
	s[o] = '\0';
	t->text = s;
	t->len = total;
	return 1;
}

int dns_parse_rdata(int rrtype, const uint8_t *const *data, const size_t *len, size_t n, struct arena *a,
		    struct dns_answer *ans, const char **error_r)
{
	size_t k = 0;
	struct dns_addr *addrs = NULL;
	struct dns_txt *txt = NULL;
	struct dns_mx *mx = NULL;
	struct dns_srv *srv = NULL;
	struct dns_tlsa *tlsa = NULL;
	const char **names = NULL;
	size_t cap = n > 0 ? n : 1;
	switch (rrtype) {
	case DNS_A:
	case DNS_AAAA:
		addrs = arena_alloc(a, cap * sizeof(*addrs));
		break;
	case DNS_TXT:
		txt = arena_alloc(a, cap * sizeof(*txt));
		break;
	case DNS_MX:
		mx = arena_alloc(a, cap * sizeof(*mx));
		break;
	case DNS_SRV:
		srv = arena_alloc(a, cap * sizeof(*srv));
		break;
	case DNS_TLSA:
		tlsa = arena_alloc(a, cap * sizeof(*tlsa));
		break;
	case DNS_PTR:
	case DNS_CNAME:
		names = arena_alloc(a, cap * sizeof(*names));
		break;
	default:
		*error_r = "unsupported record type";
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const uint8_t *p = data[i];
		size_t l = len[i], off = 0;
		switch (rrtype) {
		case DNS_A:
			if (l != 4)
				continue;
			addrs[k].family = AF_INET;
			memcpy(addrs[k].bytes, p, 4);
			k++;
			break;
		case DNS_AAAA:
			if (l != 16)
				continue;
			addrs[k].family = AF_INET6;
			memcpy(addrs[k].bytes, p, 16);
			k++;
			break;
		case DNS_TXT:
			if (parse_txt(p, l, a, &txt[k]) > 0)
				k++;
			break;
		case DNS_MX:
			if (l < 3)
				continue;
			off = 2;
			if (read_name(p, l, &off, a, &mx[k].host) < 0 || off != l)
				continue;
			mx[k].pref = (unsigned)(p[0] << 8 | p[1]);
			k++;
			break;
		case DNS_SRV:
			if (l < 7)
				continue;
			off = 6;
			if (read_name(p, l, &off, a, &srv[k].target) < 0 || off != l)
				continue;
			srv[k].prio = (unsigned)(p[0] << 8 | p[1]);
			srv[k].weight = (unsigned)(p[2] << 8 | p[3]);
			srv[k].port = (unsigned)(p[4] << 8 | p[5]);
			k++;
			break;
		case DNS_TLSA:
			if (l < 3)
				continue;
			tlsa[k].usage = p[0];
			tlsa[k].selector = p[1];
			tlsa[k].mtype = p[2];
			tlsa[k].len = l - 3;
			uint8_t *copy = arena_alloc(a, l - 3 + 1);
			memcpy(copy, p + 3, l - 3);
			tlsa[k].data = copy;
			k++;
			break;
		case DNS_PTR:
		case DNS_CNAME:
			if (read_name(p, l, &off, a, &names[k]) < 0 || off != l)
				continue;
			k++;
			break;
		}
	}
	ans->n = k;
	ans->addrs = addrs;
	ans->txt = txt;
	ans->mx = mx;
	ans->srv = srv;
	ans->tlsa = tlsa;
	ans->names = names;
	if (n > 0 && k == 0) {
		*error_r = "malformed records in the answer";
		return -1;
	}
	return (int)k;
}

int dns_server_parse(const char *server, char *out, size_t outlen)
{
	char host[64];
	unsigned long port = 53;
	const char *p;
	size_t hl;
	if (server[0] == '[') { /* [v6]:port */
		p = strchr(server, ']');
		if (p == NULL)
			return -1;
		hl = (size_t)(p - server - 1);
		server++;
		p++;
		if (*p == ':')
			p++;
		else if (*p != '\0')
			return -1;
	} else if ((p = strchr(server, '@')) != NULL ||
		   ((p = strrchr(server, ':')) != NULL && strchr(server, ':') == p)) {
		hl = (size_t)(p - server); /* v4:port, host@port */
		p++;
	} else {
		hl = strlen(server); /* v4 or bare v6 */
		p = server + hl;
	}
	if (hl == 0 || hl >= sizeof(host))
		return -1;
	memcpy(host, server, hl);
	host[hl] = '\0';
	if (*p != '\0') {
		char *end;
		port = strtoul(p, &end, 10);
		if (*end != '\0' || port == 0 || port > 65535)
			return -1;
	}
	unsigned char buf[16];
	if (inet_pton(AF_INET, host, buf) != 1 && inet_pton(AF_INET6, host, buf) != 1)
		return -1;
	if ((size_t)snprintf(out, outlen, "%s@%lu", host, port) >= outlen)
		return -1;
	return 1;
}
