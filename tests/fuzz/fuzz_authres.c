/* fuzz_authres.c: libFuzzer target for Authentication-Results (src/mailauth/authres.h).
 *
 * Input: an authserv-id, a newline, then a message. The reader scans the message for
 * fields claiming the id: every span must lie inside the header block, start a
 * field and end a line, in order without overlap, and name the field; each span's
 * value must parse to the id again. Then the writer writes a field with the input's
 * pieces as every value (hostile strings) and the reader must find it, the only
 * line ends being folds. */
#include "authres.h"
#include "fuzz.h"

#include <string.h>
#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	const char *nl = memchr(p, '\n', size);
	size_t idlen = nl ? (size_t)(nl - p) : size;
	struct arena *a = arena_new();
	char *id = arena_strndup(a, p, idlen);
	const char *msg = nl ? nl + 1 : p + size;
	size_t mlen = size - (size_t)(msg - p);

	struct authres_span *sp;
	size_t n = authres_find(msg, mlen, id, a, &sp);
	size_t prev_end = 0;
	for (size_t i = 0; i < n; i++) {
		CHECK(sp[i].len > 0 && sp[i].off >= prev_end && sp[i].off + sp[i].len <= mlen);
		CHECK(sp[i].off == 0 || msg[sp[i].off - 1] == '\n');
		CHECK(sp[i].off + sp[i].len == mlen || msg[sp[i].off + sp[i].len - 1] == '\n');
		CHECK(strncasecmp(msg + sp[i].off, "Authentication-Results", 22) == 0);
		const char *colon = memchr(msg + sp[i].off, ':', sp[i].len);
		CHECK(colon != NULL);
		const char *got;
		size_t vlen = sp[i].len - (size_t)(colon + 1 - (msg + sp[i].off));
		CHECK(authres_parse_id(colon + 1, vlen, a, &got) == 1 && strcasecmp(got, id) == 0);
		prev_end = sp[i].off + sp[i].len;
	}

	/* the writer with hostile values, read back */
	if (strlen(id) == idlen && idlen > 0) {
		char *v = arena_strndup(a, msg, mlen < 600 ? mlen : 600);
		struct authres_dkim dk = { MAILAUTH_FAIL, v, v, v, v };
		struct authres ar = { .authserv_id = id,
				      .spf = MAILAUTH_SOFTFAIL,
				      .spf_mailfrom = v,
				      .spf_reason = v,
				      .dkim = &dk,
				      .ndkim = 1,
				      .dmarc = MAILAUTH_FAIL,
				      .dmarc_from = v,
				      .dmarc_policy = v,
				      .dmarc_reason = v,
				      .iprev = MAILAUTH_PASS,
				      .iprev_ip = v,
				      .iprev_name = v };
		struct buf b = { 0 };
		authres_write(&ar, &b);
		for (size_t i = 0; i < b.len; i++) {
			if (b.data[i] == '\n')
				CHECK(i > 0 && b.data[i - 1] == '\r' && (i + 1 == b.len || b.data[i + 1] == '\t'));
			if (b.data[i] == '\r')
				CHECK(i + 1 < b.len && b.data[i + 1] == '\n');
		}
		/* an id the writer had to change (cut, control characters as "?") is not found */
		bool changed = idlen > AUTHRES_VALUE_MAX;
		for (size_t i = 0; i < idlen; i++)
			changed |= (unsigned char)id[i] < ' ' || id[i] == 0x7f;
		size_t found = authres_find(b.data, b.len, id, a, &sp);
		CHECK(changed || found == 1);
		buf_free(&b);
	}
	arena_free(&a);
	return 0;
}
