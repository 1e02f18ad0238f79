/* dkim_sign.c: making one DKIM-Signature (RFC 6376 §5, RFC 8463) over a message.
 *
 * Relaxed/relaxed, t= set, no l= (RFC 6376 §8.2: l= lets anyone append content).
 * The signed fields are those below that are present, each instance listed (and so
 * hashed bottom-up, §5.4.2), plus one more From than there are, so that a From added
 * in transit breaks the signature (over-signing, §8.15). Every List-* field present
 * is signed the same way. rsa-sha256 signs the header data with RSASSA-PKCS1-v1_5
 * SHA-256; ed25519-sha256 signs the SHA-256 digest of the header data with pure
 * Ed25519 (RFC 8463 §3). */
#include "dkim_int.h"

#include <openssl/sha.h>

#include <string.h>
#include <strings.h>

static const char *const signed_fields[] = {
	"From",
	"To",
	"Cc",
	"Subject",
	"Date",
	"Message-ID",
	"In-Reply-To",
	"References",
	"MIME-Version",
	"Content-Type",
	"Content-Transfer-Encoding",
};

/* Signs data (n bytes) with pk: rsa over SHA-256 of data, ed25519 over its digest. */
static int sign_data(EVP_PKEY *pk, enum dkim_alg alg, const unsigned char *data, size_t n, unsigned char *sig,
		     size_t *sig_len)
{
	unsigned char digest[SHA256_DIGEST_LENGTH];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok;
	if (alg == DKIM_ALG_ED25519) {
		SHA256(data, n, digest);
		ok = EVP_DigestSignInit(ctx, NULL, NULL, NULL, pk) == 1 &&
		     EVP_DigestSign(ctx, sig, sig_len, digest, sizeof(digest)) == 1;
	} else {
		ok = EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, pk) == 1 &&
		     EVP_DigestSign(ctx, sig, sig_len, data, n) == 1;
	}
	EVP_MD_CTX_free(ctx);
	return ok ? 1 : -1;
}

/* Appends name to h= with folding: a line break before it when the line would pass
 * 76 columns. *col is the current column. */
static void h_append(struct buf *b, const char *name, size_t nl, size_t *col, bool first)
{
	if (!first) {
		buf_putc(b, ':');
		(*col)++;
	}
	if (*col + nl > 76) {
		buf_puts(b, "\r\n\t");
		*col = 8;
	}
	buf_append(b, name, nl);
	*col += nl;
}

/* One signature field for key over the shared parts: the header data of the signed
 * fields (hdata), their names in h= order (names, nnames) and the body hash. */
static int sign_one(const struct dkim_signer *key, const struct buf *hdata, const char *const *names, size_t nnames,
		    const char *bh64, time_t now, struct arena *a, char **field_r, const char **error_r)
{
	struct buf field = { 0 };
	bool alg_ed = key->alg == DKIM_ALG_ED25519;
	buf_printf(&field, "DKIM-Signature: v=1; a=%s; c=relaxed/relaxed; d=%s; s=%s;\r\n\tt=%lld; h=",
		   alg_ed ? "ed25519-sha256" : "rsa-sha256", key->domain, key->selector, (long long)now);
	size_t col = 8 + 7 + strlen("; h=") + 3;
	for (size_t k = 0; k < nnames; k++)
		h_append(&field, names[k], strlen(names[k]), &col, k == 0);
	buf_printf(&field, ";\r\n\tbh=%s;\r\n\tb=", bh64);
	/* the header data, then the signature field itself: b= empty, relaxed, no CRLF */
	struct buf data = { 0 };
	buf_append(&data, hdata->data ? hdata->data : "", hdata->len);
	struct dkim_sink hs = { NULL, &data, ~0ULL, 0 };
	dkim_canon_header_to(field.data, field.len, true, &hs);
	int max = EVP_PKEY_get_size(key->pkey);
	unsigned char *sig = arena_alloc(a, max > 0 ? (size_t)max : 1);
	size_t sig_len = max > 0 ? (size_t)max : 0;
	int r = sign_data(key->pkey, key->alg, (const unsigned char *)data.data, data.len, sig, &sig_len);
	buf_free(&data);
	if (r < 0) {
		buf_free(&field);
		*error_r = "OpenSSL cannot sign";
		return -1;
	}
	/* b=, folded at 72 columns (FWS inside b= is removed by verifiers) */
	char *b64 = dkim_base64(a, sig, sig_len);
	size_t bl = strlen(b64), off = 0, room = 72 - 10;
	while (off < bl) {
		size_t k = bl - off < room ? bl - off : room;
		if (off > 0)
			buf_puts(&field, "\r\n\t ");
		buf_append(&field, b64 + off, k);
		off += k;
		room = 72 - 9;
	}
	buf_puts(&field, "\r\n");
	*field_r = arena_strndup(a, field.data, field.len);
	buf_free(&field);
	return 1;
}

int dkim_sign_many(const struct dkim_signer *const *keys, size_t nkeys, const char *prefix, size_t plen,
		   const char *msg, size_t len, time_t now, struct arena *a, char **fields_r, const char **error_r)
{
	struct dkim_field *f = NULL;
	size_t nf = 0, cap = 0;
	bool has_body;
	if (plen > 0)
		dkim_fields_split(prefix, plen, a, &f, &nf, &cap, &has_body);
	size_t body_off = dkim_fields_split(msg, len, a, &f, &nf, &cap, &has_body);
	if (nf == 0) {
		*error_r = "the message has no header fields";
		return -1;
	}
	/* the body hash, once for every key */
	unsigned char bh[SHA256_DIGEST_LENGTH];
	unsigned int bhl = 0;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	struct dkim_sink bs = { md, NULL, ~0ULL, 0 };
	dkim_canon_body_to(msg + body_off, len - body_off, true, &bs);
	EVP_DigestFinal_ex(md, bh, &bhl);
	EVP_MD_CTX_free(md);
	char *bh64 = dkim_base64(a, bh, bhl);

	/* the names to sign: signed_fields, then List-* in message order */
	size_t nsf = sizeof(signed_fields) / sizeof(signed_fields[0]);
	const char **names = arena_alloc(a, (nf + 2 + nsf) * sizeof(*names));
	size_t nnames = 0;
	for (size_t k = 0; k < nsf; k++)
		names[nnames++] = signed_fields[k];
	for (size_t i = 0; i < nf; i++) {
		if (f[i].name_len <= 5 || strncasecmp(f[i].p, "List-", 5) != 0)
			continue;
		bool seen = false;
		for (size_t k = nsf; k < nnames && !seen; k++)
			seen = strlen(names[k]) == f[i].name_len && strncasecmp(names[k], f[i].p, f[i].name_len) == 0;
		if (!seen)
			names[nnames++] = arena_strndup(a, f[i].p, f[i].name_len);
	}
	/* h= (each instance present, From once more) and the header data, bottom-up */
	const char **h = arena_alloc(a, (nf + 1) * sizeof(*h));
	size_t nh = 0;
	struct buf hdata = { 0 };
	struct dkim_sink hs = { NULL, &hdata, ~0ULL, 0 };
	for (size_t k = 0; k < nnames; k++) {
		size_t nl = strlen(names[k]);
		for (size_t i = nf; i-- > 0;) {
			if (!dkim_field_is(&f[i], names[k], nl))
				continue;
			h[nh++] = names[k];
			dkim_canon_header_to(f[i].p, f[i].len, true, &hs);
			dkim_sink_put(&hs, "\r\n", 2);
		}
		if (k == 0) /* From: over-signed (an absent instance hashes nothing) */
			h[nh++] = names[k];
	}
	int r = 1;
	for (size_t k = 0; k < nkeys && r > 0; k++)
		r = sign_one(keys[k], &hdata, h, nh, bh64, now, a, &fields_r[k], error_r);
	buf_free(&hdata);
	return r;
}

int dkim_sign(const struct dkim_signer *key, const char *prefix, size_t plen, const char *msg, size_t len, time_t now,
	      struct arena *a, char **field_r, const char **error_r)
{
	return dkim_sign_many(&key, 1, prefix, plen, msg, len, now, a, field_r, error_r);
}
