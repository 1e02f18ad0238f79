/* dkim_verify.c: verifying every DKIM-Signature of a message (RFC 6376 §6, RFC 8463,
 * RFC 8301), one verdict each (dkim.h).
 *
 * For each signature, top down, at most opts->max_signatures: parse the tag list and
 * check the tags (§3.5, §6.1.1); fetch and parse the key record (§3.6, §6.1.2); hash
 * the canonical body up to l= and compare with bh=; hash the listed header fields,
 * each name picking its instances from the bottom up (§5.4.2; a name listed more
 * often than present hashes nothing for the extra ones), then the signature field
 * with b= emptied; check b=. Outcome words, as dkim.h lists them: neutral for a
 * signature that cannot be read, permerror for one that can never verify (its key,
 * its algorithm), policy for a time out of range, fail for a mismatch, temperror
 * for DNS trouble. */
#include "dkim_int.h"

#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A parsed DKIM-Signature. */
struct sig {
	int alg; /* 1 ed25519-sha256, 2 rsa-sha256 */
	bool head_relaxed, body_relaxed;
	const char *d, *s, *i, *h;
	unsigned char *b, *bh;
	size_t b_len, bh_len;
	bool has_l, has_t, has_x;
	unsigned long long l, t, x;
	const char *b_raw; /* b='s value span in the field, for emptying it */
	size_t b_raw_len;
};

static bool tag_is(const struct dkim_tag *t, const char *name)
{
	return t->name_len == strlen(name) && memcmp(t->name, name, t->name_len) == 0;
}

/* A decimal number of at most 20 digits (§3.5: t=, x=, l= up to 12 or 76 digits;
 * we accept what fits in 64 bits). */
static bool number(const char *s, unsigned long long *v)
{
	if (*s == '\0' || strlen(s) > 19)
		return false;
	unsigned long long r = 0;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return false;
		r = r * 10 + (unsigned)(*s - '0');
	}
	*v = r;
	return true;
}

/* The domain part of i= ("user@sub.example.com" -> "sub.example.com"). */
static const char *identity_domain(const char *i)
{
	const char *at = strrchr(i, '@');
	return at != NULL ? at + 1 : NULL;
}

/* Whether sub is dom or a subdomain of it. */
static bool within(const char *sub, const char *dom)
{
	size_t sl = strlen(sub), dl = strlen(dom);
	if (sl == dl)
		return strcasecmp(sub, dom) == 0;
	return sl > dl && sub[sl - dl - 1] == '.' && strcasecmp(sub + sl - dl, dom) == 0;
}

/* Parses the value of one DKIM-Signature field into *sg and the verdict's strings.
 * Returns 1, or the verdict's result with v->reason. */
static int parse_sig(const struct dkim_field *f, struct arena *a, struct sig *sg, struct dkim_verdict *v)
{
	const char *val = f->p + f->name_len;
	while (*val != ':')
		val++;
	val++;
	size_t vlen = f->len - (size_t)(val - f->p);
	struct dkim_tag *tags;
	const char *error;
	int n = dkim_tag_list_parse(val, vlen, a, &tags, &error);
	if (n < 0) {
		v->reason = arena_printf(a, "bad tag list: %s", error);
		return MAILAUTH_NEUTRAL;
	}
	const char *tv = NULL, *ta = NULL, *tb = NULL, *tbh = NULL, *tc = NULL, *tl = NULL, *tq = NULL, *tt = NULL,
		   *tx = NULL;
	size_t b_len = 0, bh_len = 0;
	for (int k = 0; k < n; k++) {
		const struct dkim_tag *t = &tags[k];
		char *s = arena_strndup(a, t->value, t->value_len);
		if (tag_is(t, "v"))
			tv = s;
		else if (tag_is(t, "a"))
			ta = v->algorithm = s;
		else if (tag_is(t, "b")) {
			tb = t->value;
			b_len = t->value_len;
			sg->b_raw = t->raw;
			sg->b_raw_len = t->raw_len;
		} else if (tag_is(t, "bh")) {
			tbh = t->value;
			bh_len = t->value_len;
		} else if (tag_is(t, "c"))
			tc = s;
		else if (tag_is(t, "d"))
			sg->d = v->domain = s;
		else if (tag_is(t, "h"))
			sg->h = s;
		else if (tag_is(t, "i"))
			sg->i = s;
		else if (tag_is(t, "l"))
			tl = s;
		else if (tag_is(t, "q"))
			tq = s;
		else if (tag_is(t, "s"))
			sg->s = v->selector = s;
		else if (tag_is(t, "t"))
			tt = s;
		else if (tag_is(t, "x"))
			tx = s;
	}
	if (tb != NULL) {
		char *p = arena_alloc(a, 17);
		size_t o = 0;
		for (size_t k = 0; k < b_len && o < 16; k++)
			if (!isspace((unsigned char)tb[k]))
				p[o++] = tb[k];
		v->b_prefix = p;
	}
	if (tv == NULL || ta == NULL || tb == NULL || tbh == NULL || sg->d == NULL || sg->h == NULL || sg->s == NULL) {
		v->reason = "a required tag is missing (v, a, b, bh, d, h, s)";
		return MAILAUTH_NEUTRAL;
	}
	if (strcmp(tv, "1") != 0) {
		v->reason = "unknown version v=";
		return MAILAUTH_NEUTRAL;
	}
	v->identity = sg->i != NULL ? sg->i : arena_printf(a, "@%s", sg->d);
	if (strcmp(ta, "rsa-sha256") == 0)
		sg->alg = DKIM_ALG_RSA;
	else if (strcmp(ta, "ed25519-sha256") == 0)
		sg->alg = DKIM_ALG_ED25519;
	else if (strcmp(ta, "rsa-sha1") == 0) {
		v->reason = "rsa-sha1 is not accepted (RFC 8301)";
		return MAILAUTH_PERMERROR;
	} else {
		v->reason = "unknown algorithm";
		return MAILAUTH_PERMERROR;
	}
	if (tc != NULL) {
		const char *slash = strchr(tc, '/');
		size_t hl = slash ? (size_t)(slash - tc) : strlen(tc);
		const char *body = slash ? slash + 1 : "simple";
		bool hr = hl == 7 && strncmp(tc, "relaxed", 7) == 0, hs = hl == 6 && strncmp(tc, "simple", 6) == 0;
		bool br = strcmp(body, "relaxed") == 0, bs = strcmp(body, "simple") == 0;
		if (!(hr || hs) || !(br || bs)) {
			v->reason = "unknown canonicalization c=";
			return MAILAUTH_NEUTRAL;
		}
		sg->head_relaxed = hr;
		sg->body_relaxed = br;
	}
	if (!dkim_list_has(sg->h, "from")) {
		v->reason = "h= does not include From";
		return MAILAUTH_PERMERROR;
	}
	if (sg->i != NULL) {
		const char *id = identity_domain(sg->i);
		if (id == NULL || !within(id, sg->d)) {
			v->reason = "i= is not within d=";
			return MAILAUTH_PERMERROR;
		}
	}
	if ((tl != NULL && !(sg->has_l = number(tl, &sg->l))) || (tt != NULL && !(sg->has_t = number(tt, &sg->t))) ||
	    (tx != NULL && !(sg->has_x = number(tx, &sg->x)))) {
		v->reason = "a bad number in l=, t= or x=";
		return MAILAUTH_NEUTRAL;
	}
	if (tq != NULL && !dkim_list_has(tq, "dns/txt")) {
		v->reason = "no known query method q=";
		return MAILAUTH_PERMERROR;
	}
	long k1 = dkim_unbase64(a, tb, b_len, &sg->b), k2 = dkim_unbase64(a, tbh, bh_len, &sg->bh);
	if (k1 <= 0 || k2 <= 0) {
		v->reason = "b= or bh= is not base64";
		return MAILAUTH_NEUTRAL;
	}
	sg->b_len = (size_t)k1;
	sg->bh_len = (size_t)k2;
	return 1;
}

/* The public key of a key record for alg. NULL with *why on failure. */
static EVP_PKEY *record_key(const struct dkim_key_record *rec, int alg, const char **why)
{
	EVP_PKEY *pk = NULL;
	if (alg == DKIM_ALG_ED25519) {
		if (rec->pubkey_len == 32)
			pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, rec->pubkey, 32);
		*why = "the Ed25519 key is not 32 bytes";
		return pk;
	}
	const unsigned char *p = rec->pubkey;
	pk = d2i_PUBKEY(NULL, &p, (long)rec->pubkey_len);
	if (pk == NULL) { /* some publish the PKCS#1 RSAPublicKey */
		p = rec->pubkey;
		pk = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, (long)rec->pubkey_len);
	}
	if (pk != NULL && !EVP_PKEY_is_a(pk, "RSA")) {
		EVP_PKEY_free(pk);
		pk = NULL;
	}
	*why = "the RSA key cannot be read";
	return pk;
}

/* Fetches and checks the key of sg. Returns 1 with *pk_r, or a verdict result. */
static int get_key(const struct mailauth_dns *dns, struct arena *a, const struct sig *sg, EVP_PKEY **pk_r,
		   bool *testing_r, struct dkim_verdict *v)
{
	const char *name = arena_printf(a, "%s._domainkey.%s", sg->s, sg->d);
	const char **recs;
	size_t n = 0;
	int st = dns->txt(dns->ctx, name, a, &recs, &n);
	if (st == MAILAUTH_DNS_TEMP) {
		v->reason = arena_printf(a, "DNS error looking up %s", name);
		return MAILAUTH_TEMPERROR;
	}
	if (st != MAILAUTH_DNS_FOUND || n == 0) {
		v->reason = arena_printf(a, "no key record at %s", name);
		return MAILAUTH_PERMERROR;
	}
	struct dkim_key_record rec;
	const char *error = "no usable key record";
	size_t k = 0;
	while (k < n && dkim_key_record_parse(recs[k], strlen(recs[k]), a, &rec, &error) < 0)
		k++;
	if (k == n) {
		v->reason = arena_printf(a, "bad key record: %s", error);
		return MAILAUTH_PERMERROR;
	}
	if (rec.revoked) {
		v->reason = "the key is revoked (empty p=)";
		return MAILAUTH_PERMERROR;
	}
	const char *want = sg->alg == DKIM_ALG_ED25519 ? "ed25519" : "rsa";
	if (strcmp(rec.key_type, want) != 0) {
		v->reason = arena_printf(a, "the key is k=%s, the signature a=%s", rec.key_type, v->algorithm);
		return MAILAUTH_PERMERROR;
	}
	if (rec.hashes != NULL && !dkim_list_has(rec.hashes, "sha256")) {
		v->reason = "the key does not allow sha256 (h=)";
		return MAILAUTH_PERMERROR;
	}
	if (rec.services != NULL && !dkim_list_has(rec.services, "*") && !dkim_list_has(rec.services, "email")) {
		v->reason = "the key is not for email (s=)";
		return MAILAUTH_PERMERROR;
	}
	if (rec.strict && sg->i != NULL && strcasecmp(identity_domain(sg->i), sg->d) != 0) {
		v->reason = "the key is strict (t=s) and i= is a subdomain of d=";
		return MAILAUTH_PERMERROR;
	}
	EVP_PKEY *pk = record_key(&rec, sg->alg, &error);
	if (pk == NULL) {
		v->reason = error;
		return MAILAUTH_PERMERROR;
	}
	if (sg->alg == DKIM_ALG_RSA && EVP_PKEY_get_bits(pk) < 1024) {
		EVP_PKEY_free(pk);
		v->reason = "the RSA key is shorter than 1024 bits (RFC 8301)";
		return MAILAUTH_PERMERROR;
	}
	*testing_r = rec.testing;
	*pk_r = pk;
	return 1;
}

/* Checks b= over the header data. 1 when it verifies. */
static int check_signature(EVP_PKEY *pk, int alg, const struct buf *hdata, const struct sig *sg)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok;
	if (alg == DKIM_ALG_ED25519) {
		unsigned char digest[SHA256_DIGEST_LENGTH];
		SHA256((const unsigned char *)hdata->data, hdata->len, digest);
		ok = EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pk) == 1 &&
		     EVP_DigestVerify(ctx, sg->b, sg->b_len, digest, sizeof(digest)) == 1;
	} else {
		ok = EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pk) == 1 &&
		     EVP_DigestVerify(ctx, sg->b, sg->b_len, (const unsigned char *)hdata->data, hdata->len) == 1;
	}
	EVP_MD_CTX_free(ctx);
	return ok ? 1 : 0;
}

/* Verifies the signature in field j. Fills v; returns its result. */
static int verify_one(const struct mailauth_dns *dns, const struct dkim_verify_opts *o, const struct dkim_field *f,
		      size_t nf, size_t j, const char *body, size_t body_len, time_t now, struct arena *a,
		      struct dkim_verdict *v)
{
	struct sig sg = { 0 };
	int r = parse_sig(&f[j], a, &sg, v);
	if (r != 1)
		return r;
	if (sg.has_x && sg.has_t && sg.x < sg.t) {
		v->reason = "x= is before t=";
		return MAILAUTH_PERMERROR;
	}
	if (sg.has_x && (unsigned long long)now > sg.x) {
		v->reason = "the signature has expired (x=)";
		return MAILAUTH_POLICY;
	}
	if (sg.has_t && sg.t > (unsigned long long)now + o->clock_skew) {
		v->reason = "the signature is from the future (t=)";
		return MAILAUTH_POLICY;
	}
	EVP_PKEY *pk;
	bool testing = false;
	r = get_key(dns, a, &sg, &pk, &testing, v);
	if (r != 1)
		return r;
	/* the body */
	unsigned char bh[SHA256_DIGEST_LENGTH];
	unsigned int bhl;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	struct dkim_sink bs = { md, NULL, sg.has_l ? sg.l : ~0ULL, 0 };
	dkim_canon_body_to(body, body_len, sg.body_relaxed, &bs);
	EVP_DigestFinal_ex(md, bh, &bhl);
	EVP_MD_CTX_free(md);
	if (sg.has_l && bs.written < sg.l) {
		EVP_PKEY_free(pk);
		v->reason = "l= is longer than the body";
		return MAILAUTH_FAIL;
	}
	if (sg.bh_len != bhl || memcmp(sg.bh, bh, bhl) != 0) {
		EVP_PKEY_free(pk);
		v->reason = "the body hash does not match (bh=)";
		return MAILAUTH_FAIL;
	}
	/* the header */
	bool *used = arena_alloc(a, nf);
	struct buf hdata = { 0 };
	struct dkim_sink hs = { NULL, &hdata, ~0ULL, 0 };
	const char *p = sg.h;
	while (*p) {
		while (*p == ':' || isspace((unsigned char)*p))
			p++;
		const char *e = p;
		while (*e && *e != ':' && !isspace((unsigned char)*e))
			e++;
		if (e == p)
			break;
		for (size_t i = nf; i-- > 0;) {
			if (!used[i] && dkim_field_is(&f[i], p, (size_t)(e - p))) {
				used[i] = true;
				dkim_canon_header_to(f[i].p, f[i].len, sg.head_relaxed, &hs);
				dkim_sink_put(&hs, "\r\n", 2);
				break;
			}
		}
		p = e;
	}
	/* the signature field with b= emptied */
	size_t pre = (size_t)(sg.b_raw - f[j].p), post = pre + sg.b_raw_len;
	struct buf self = { 0 };
	buf_append(&self, f[j].p, pre);
	buf_append(&self, f[j].p + post, f[j].len - post);
	dkim_canon_header_to(self.data, self.len, sg.head_relaxed, &hs);
	buf_free(&self);
	int ok = check_signature(pk, sg.alg, &hdata, &sg);
	buf_free(&hdata);
	EVP_PKEY_free(pk);
	if (!ok) {
		v->reason = "the signature does not verify (b=)";
		return MAILAUTH_FAIL;
	}
	v->reason = testing ? "valid (the key is in testing mode, t=y)" : "valid";
	return MAILAUTH_PASS;
}

int dkim_verify_opts(const struct mailauth_dns *dns, const struct dkim_verify_opts *opts, const char *msg, size_t len,
		     time_t now, struct arena *a, struct dkim_verdict **verdicts_r, size_t *n_r)
{
	struct dkim_verify_opts o = { DKIM_VERIFY_MAX_SIGNATURES, DKIM_VERIFY_CLOCK_SKEW };
	if (opts != NULL && opts->max_signatures > 0)
		o.max_signatures = opts->max_signatures;
	if (opts != NULL && opts->clock_skew > 0)
		o.clock_skew = opts->clock_skew;
	struct dkim_field *f = NULL;
	size_t nf = 0, cap = 0;
	bool has_body;
	size_t body_off = dkim_fields_split(msg, len, a, &f, &nf, &cap, &has_body);
	size_t nsig = 0;
	for (size_t i = 0; i < nf; i++)
		nsig += dkim_field_is(&f[i], "DKIM-Signature", 14);
	if (nsig > o.max_signatures)
		nsig = o.max_signatures;
	struct dkim_verdict *vs = arena_alloc(a, (nsig ? nsig : 1) * sizeof(*vs));
	size_t n = 0;
	for (size_t i = 0; i < nf && n < nsig; i++) {
		if (!dkim_field_is(&f[i], "DKIM-Signature", 14))
			continue;
		struct dkim_verdict *v = &vs[n++];
		v->result =
			(enum mailauth_result)verify_one(dns, &o, f, nf, i, msg + body_off, len - body_off, now, a, v);
	}
	*verdicts_r = vs;
	*n_r = n;
	return (int)n;
}

int dkim_verify(const struct mailauth_dns *dns, const char *msg, size_t len, time_t now, struct arena *a,
		struct dkim_verdict **verdicts_r, size_t *n_r)
{
	return dkim_verify_opts(dns, NULL, msg, len, now, a, verdicts_r, n_r);
}
