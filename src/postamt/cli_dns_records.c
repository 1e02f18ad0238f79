/* cli_dns_records.c: the records `postamt dns D` prints and `--check` compares (see
 * cli_dns.h and docs/deliverability.md for why each one is what it is).
 *
 * For a single server that receives and sends for D as `hostname` (H):
 *   D MX 10 H                                     mail for D goes to H
 *   D TXT "v=spf1 a:H -all"                       only H sends for D (one lookup of the
 *                                                 ten SPF allows; true whatever MX says)
 *   SEL._domainkey.D TXT "v=DKIM1; k=...; p=..."  one per key in DIR/dkim/D/
 *   _dmarc.D TXT "v=DMARC1; p=quarantine; rua=mailto:postmaster@D"
 *   _smtp._tls.D TXT "v=TLSRPTv1; rua=mailto:postmaster@D"
 *   _submissions._tcp.D SRV ... (RFC 6186, RFC 8314), _autodiscover._tcp.D SRV
 *   autoconfig.D, autodiscover.D CNAME H           Thunderbird's and Outlook's look-ups
 *   _mta-sts.D TXT "v=STSv1; id=..."; mta-sts.D CNAME H   MTA-STS (RFC 8461): webd serves
 *                                                 the policy; the id is a hash of its text
 * With mta_sts.mode = none the MTA-STS records are printed commented out. Pure: no
 * files, no sockets. */
#include "cli_dns.h"

#include "textfmt.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The RFC 6186/8314 services: SRV label, standard port (plus port_offset). */
static const struct {
	const char *label;
	unsigned port;
} services[] = {
	{ "_submissions._tcp", 465 }, { "_submission._tcp", 587 }, { "_imaps._tcp", 993 },        { "_imap._tcp", 143 },
	{ "_pop3s._tcp", 995 },       { "_pop3._tcp", 110 },       { "_autodiscover._tcp", 443 },
	{ "_sieve._tcp", 4190 }, /* RFC 5804 §1.8 */
};

size_t dns_records_build(const struct dns_rec_input *in, struct arena *a, struct dns_rec **recs_r)
{
	size_t max = 16 + in->n_dkim, n = 0;
	struct dns_rec *r = arena_alloc(a, max * sizeof(*r));
	const char *d = in->domain, *h = in->hostname;
	const char *report = arena_printf(a, "mailto:postmaster@%s", d);

	r[n++] = (struct dns_rec){ .name = d, .type = DNS_MX, .what = "MX", .pref = 10, .target = h };
	r[n++] = (struct dns_rec){
		.name = d,
		.type = DNS_TXT,
		.what = "SPF",
		.tag = "v=spf1",
		.text = arena_printf(a, "v=spf1 a:%s -all", h),
		.note = in->relay != NULL ? arena_printf(a,
							 "mail leaves through the relay %s (route.*): add what its "
							 "provider asks for to this SPF record (e.g. include:...)",
							 in->relay)
					  : NULL,
	};
	for (size_t i = 0; i < in->n_dkim; i++)
		r[n++] = (struct dns_rec){
			.name = arena_printf(a, "%s._domainkey.%s", in->dkim_selectors[i], d),
			.type = DNS_TXT,
			.what = arena_printf(a, "DKIM %s", in->dkim_selectors[i]),
			.text = in->dkim_txt[i],
		};
	r[n++] = (struct dns_rec){
		.name = arena_printf(a, "_dmarc.%s", d),
		.type = DNS_TXT,
		.what = "DMARC",
		.tag = "v=DMARC1",
		.text = arena_printf(a, "v=DMARC1; p=quarantine; rua=%s", report),
	};
	r[n++] = (struct dns_rec){
		.name = arena_printf(a, "_smtp._tls.%s", d),
		.type = DNS_TXT,
		.what = "TLS-RPT",
		.tag = "v=TLSRPTv1",
		.text = arena_printf(a, "v=TLSRPTv1; rua=%s", report),
	};
	for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++)
		r[n++] = (struct dns_rec){
			.name = arena_printf(a, "%s.%s", services[i].label, d),
			.type = DNS_SRV,
			.what = "SRV",
			.pref = 0,
			.weight = 1,
			.port = services[i].port + in->port_offset,
			.target = h,
		};
	r[n++] = (struct dns_rec){
		.name = arena_printf(a, "autoconfig.%s", d), .type = DNS_CNAME, .what = "autoconfig", .target = h
	};
	r[n++] = (struct dns_rec){
		.name = arena_printf(a, "autodiscover.%s", d), .type = DNS_CNAME, .what = "autodiscover", .target = h
	};
	/* the id changes exactly when the served policy's text does (RFC 8461 §3.1) */
	char policy[512];
	textfmt_mta_sts_policy(policy, sizeof(policy), in->mta_sts_mode, h, in->mta_sts_max_age);
	unsigned long long fp = 1469598103934665603ull;
	for (const char *p = policy; *p != '\0'; p++)
		fp = (fp ^ (unsigned char)*p) * 1099511628211ull;
	bool sts_off = strcmp(in->mta_sts_mode, "none") == 0;
	r[n++] = (struct dns_rec){
		.name = arena_printf(a, "_mta-sts.%s", d),
		.type = DNS_TXT,
		.what = "MTA-STS",
		.tag = "v=STSv1",
		.text = arena_printf(a, "v=STSv1; id=%016llx", fp),
		.comment = sts_off,
		.note = arena_printf(a,
				     "MTA-STS (RFC 8461): postamt serves the policy (mode: %s) at https://mta-sts.%s/"
				     ".well-known/mta-sts.txt; senders fetch it only under a certificate valid for "
				     "mta-sts.%s (a CA's, not the self-signed one)",
				     in->mta_sts_mode, d, d),
	};
	r[n++] = (struct dns_rec){
		.name = arena_printf(a, "mta-sts.%s", d),
		.type = DNS_CNAME,
		.what = "MTA-STS policy host",
		.target = h,
		.comment = sts_off,
	};
	*recs_r = r;
	return n;
}

/* Appends text as quoted character-strings of at most 255 bytes each. */
static void format_txt(const char *text, struct buf *out)
{
	size_t len = strlen(text);
	if (len == 0) {
		buf_puts(out, "\"\"");
		return;
	}
	for (size_t off = 0; off < len; off += 255) {
		size_t chunk = len - off > 255 ? 255 : len - off;
		if (off > 0)
			buf_putc(out, ' ');
		buf_putc(out, '"');
		for (size_t i = off; i < off + chunk; i++) {
			unsigned char c = (unsigned char)text[i];
			if (c == '"' || c == '\\')
				buf_printf(out, "\\%c", c);
			else if (c < 32 || c > 126)
				buf_printf(out, "\\%03u", c);
			else
				buf_putc(out, (char)c);
		}
		buf_putc(out, '"');
	}
}

void dns_record_format(const struct dns_rec *r, struct buf *out)
{
	if (r->note != NULL)
		buf_printf(out, "; %s\n", r->note);
	buf_printf(out, "%s%s. %d IN %s ", r->comment ? "; " : "", r->name, DNS_REC_TTL, dns_rrtype_name(r->type));
	switch (r->type) {
	case DNS_MX:
		buf_printf(out, "%u %s.", r->pref, r->target);
		break;
	case DNS_SRV:
		buf_printf(out, "%u %u %u %s.", r->pref, r->weight, r->port, r->target);
		break;
	case DNS_CNAME:
		buf_printf(out, "%s.", r->target);
		break;
	case DNS_TXT:
		format_txt(r->text, out);
		break;
	default:
		break;
	}
	buf_putc(out, '\n');
}

/* Compares two TXT texts: runs of white space are one space, ends trimmed; DKIM
 * records (no tag) ignore white space altogether (base64 is often cut by DNS panels)
 * and compare exactly, the others case-insensitively. */
static bool txt_equal(const char *a, size_t alen, const char *b, bool dkim)
{
	size_t i = 0, j = 0, blen = strlen(b);
	for (;;) {
		while (i < alen && (a[i] == ' ' || a[i] == '\t') &&
		       (dkim || i == 0 || i + 1 == alen || a[i + 1] == ' ' || a[i + 1] == '\t'))
			i++;
		while (j < blen && (b[j] == ' ' || b[j] == '\t') &&
		       (dkim || j == 0 || j + 1 == blen || b[j + 1] == ' ' || b[j + 1] == '\t'))
			j++;
		if (i == alen || j == blen)
			return i == alen && j == blen;
		char ca = a[i], cb = b[j];
		if (ca == '\t')
			ca = ' ';
		if (cb == '\t')
			cb = ' ';
		if (dkim ? ca != cb : tolower((unsigned char)ca) != tolower((unsigned char)cb))
			return false;
		i++;
		j++;
	}
}

/* True when text starts with tag followed by ';', white space or its end. */
static bool has_tag(const char *text, size_t len, const char *tag)
{
	size_t tl = strlen(tag);
	return len >= tl && strncasecmp(text, tag, tl) == 0 &&
	       (len == tl || text[tl] == ';' || text[tl] == ' ' || text[tl] == '\t');
}

enum dns_rec_state dns_record_compare(const struct dns_rec *r, const struct dns_answer *ans, struct arena *a,
				      const char **found_r)
{
	*found_r = NULL;
	if (ans->status != DNS_FOUND)
		return DNS_REC_MISSING;
	switch (r->type) {
	case DNS_TXT: {
		const char *other = NULL;
		for (size_t i = 0; i < ans->n; i++) {
			const struct dns_txt *t = &ans->txt[i];
			if (r->tag != NULL && !has_tag(t->text, t->len, r->tag))
				continue;
			if (txt_equal(t->text, t->len, r->text, r->tag == NULL))
				return DNS_REC_OK;
			other = t->text;
		}
		if (other == NULL)
			return DNS_REC_MISSING;
		*found_r = arena_printf(a, "\"%s\"", other);
		return DNS_REC_DIFFERENT;
	}
	case DNS_MX:
		for (size_t i = 0; i < ans->n; i++)
			if (ans->mx[i].pref == r->pref && strcasecmp(ans->mx[i].host, r->target) == 0)
				return DNS_REC_OK;
		*found_r = arena_printf(a, "%u %s.", ans->mx[0].pref, ans->mx[0].host);
		return DNS_REC_DIFFERENT;
	case DNS_SRV:
		for (size_t i = 0; i < ans->n; i++)
			if (ans->srv[i].port == r->port && strcasecmp(ans->srv[i].target, r->target) == 0)
				return DNS_REC_OK;
		*found_r = arena_printf(a, "%u %u %u %s.", ans->srv[0].prio, ans->srv[0].weight, ans->srv[0].port,
					ans->srv[0].target);
		return DNS_REC_DIFFERENT;
	case DNS_CNAME:
		if (strcasecmp(ans->names[0], r->target) == 0)
			return DNS_REC_OK;
		*found_r = arena_printf(a, "%s.", ans->names[0]);
		return DNS_REC_DIFFERENT;
	default:
		return DNS_REC_MISSING;
	}
}
