/* jmap_blob.c: blob ids and blob reading (RFC 8620 §6). A blob is an upload ("U...",
 * kept in memory by state.c), a whole stored message ("B" + email id), one part of
 * one ("B" + email id + "_" + section with "-" for "."; a part's bytes are given
 * with the transfer encoding undone) or a Sieve script's text ("S<script id>-<hash
 * of the text>", made and read here for jmap_sieve.c). Downloads of a message or
 * part are streamed: jmap_blob_open gives the file range and transform for the one
 * body reader (src/mail/mail_reader.h) and the HTTP handler reads it a window at a
 * time; other readers (Email/parse, uploads, encodings the reader cannot undo)
 * pread into the request's arena. */
#include "jmap.h"

#include "mail_reader.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void jmap_blob_id(int64_t email_id, const char *section, char *out, size_t outlen)
{
	char eid[24];
	store_id_email(email_id, eid);
	if (section == NULL || section[0] == '\0') {
		snprintf(out, outlen, "B%s", eid + 1);
		return;
	}
	int n = snprintf(out, outlen, "B%s_%s", eid + 1, section);
	for (int i = 0; i < n && (size_t)i < outlen; i++) {
		if (out[i] == '.')
			out[i] = '-';
	}
}

int jmap_blob_parse(const char *blob_id, int64_t *email_id_r, char *section, size_t seclen)
{
	if (blob_id == NULL || blob_id[0] != 'B')
		return 0;
	char eid[24];
	size_t n = strcspn(blob_id + 1, "_");
	if (n == 0 || n + 2 > sizeof(eid))
		return 0;
	eid[0] = 'E';
	memcpy(eid + 1, blob_id + 1, n);
	eid[n + 1] = '\0';
	if (store_id_parse(eid, 'E', email_id_r) <= 0)
		return 0;
	const char *sec = blob_id + 1 + n;
	if (*sec == '\0') {
		section[0] = '\0';
		return 1;
	}
	sec++;
	size_t sl = strlen(sec);
	if (sl == 0 || sl >= seclen)
		return 0;
	for (size_t i = 0; i < sl; i++) {
		if (sec[i] == '-')
			section[i] = '.';
		else if (sec[i] >= '0' && sec[i] <= '9')
			section[i] = sec[i];
		else
			return 0;
	}
	section[sl] = '\0';
	return 1;
}

static int read_fd(struct jmap_ctx *ctx, int fd, uint64_t off, uint64_t len, const char **data_r)
{
	char *buf = arena_alloc(ctx->a, len + 1);
	uint64_t got = 0;
	while (got < len) {
		ssize_t k = pread(fd, buf + got, len - got, (off_t)(off + got));
		if (k <= 0)
			return -1;
		got += (uint64_t)k;
	}
	buf[len] = '\0';
	*data_r = buf;
	return 1;
}

int jmap_email_read_prefix(struct jmap_ctx *ctx, int64_t email_id, uint64_t max, const char **data_r,
			   size_t *len_r)
{
	int fd;
	uint64_t size;
	const char *error;
	int r = store_email_open(ctx->store, ctx->account_id, email_id, &fd, &size, &error);
	if (r <= 0)
		return r;
	uint64_t want = max > 0 && max < size ? max : size;
	r = read_fd(ctx, fd, 0, want, data_r);
	close(fd);
	*len_r = (size_t)want;
	return r;
}

int jmap_email_read(struct jmap_ctx *ctx, int64_t email_id, const char **data_r, size_t *len_r)
{
	return jmap_email_read_prefix(ctx, email_id, 0, data_r, len_r);
}

/* ---- Sieve scripts' blobs (jmap_sieve.c names them in SieveScript objects) */

/* FNV-1a, 64 bits: names a script's content in its blob id. */
static uint64_t content_hash(const char *text, size_t len)
{
	uint64_t h = 14695981039346656037ull;
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)text[i];
		h *= 1099511628211ull;
	}
	return h;
}

const char *jmap_blob_sieve_id(struct jmap_ctx *ctx, struct store_sieve_script *sc)
{
	if (sc->text == NULL) {
		const char *error;
		struct store_sieve_script full;
		if (store_sieve_get(ctx->store, ctx->a, ctx->account_id, sc->id, NULL, STORE_SIEVE_TEXT, &full,
				    &error) <= 0 ||
		    full.text == NULL)
			return NULL;
		sc->text = full.text;
		sc->size = full.size;
	}
	return arena_printf(ctx->a, "S%" PRId64 "-%016" PRIx64, sc->id, content_hash(sc->text, sc->size));
}

/* A Sieve script's blob "S<id>-<hash>": its text in the arena, 1; 0 if there is no such
 * blob (or the script changed since); <0 on a store error. */
static int sieve_blob_read(struct jmap_ctx *ctx, const char *blob_id, const char **data_r, size_t *len_r)
{
	int64_t id;
	uint64_t hash;
	int n = 0;
	if (blob_id == NULL || sscanf(blob_id, "S%" SCNd64 "-%16" SCNx64 "%n", &id, &hash, &n) != 2 || id <= 0 ||
	    blob_id[n] != '\0')
		return 0;
	struct store_sieve_script sc;
	const char *error;
	int r = store_sieve_get(ctx->store, ctx->a, ctx->account_id, id, NULL, STORE_SIEVE_TEXT, &sc, &error);
	if (r <= 0)
		return r;
	if (sc.text == NULL || content_hash(sc.text, sc.size) != hash)
		return 0; /* the script's content changed since: that blob is gone */
	*data_r = sc.text;
	*len_r = sc.size;
	return 1;
}

int jmap_blob_read(struct jmap_ctx *ctx, const char *blob_id, const char **data_r, size_t *len_r,
		   const char **type_r, const char **name_r)
{
	if (blob_id == NULL)
		return 0;
	if (blob_id[0] == 'S') {
		int r = sieve_blob_read(ctx, blob_id, data_r, len_r);
		if (r > 0 && type_r)
			*type_r = "application/sieve";
		if (r > 0 && name_r)
			*name_r = NULL;
		return r;
	}
	if (blob_id[0] == 'U') {
		struct web_blob *b = web_upload_get(ctx->env->state, ctx->account_id, blob_id);
		if (b == NULL)
			return 0;
		char *copy = arena_alloc(ctx->a, b->len + 1);
		memcpy(copy, b->data, b->len);
		*data_r = copy;
		*len_r = b->len;
		if (type_r)
			*type_r = arena_strdup(ctx->a, b->type);
		if (name_r)
			*name_r = NULL;
		web_blob_unref(ctx->env->state, b);
		return 1;
	}
	int64_t email_id;
	char section[256];
	if (blob_id[0] == 'E') {
		if (store_id_parse(blob_id, 'E', &email_id) <= 0)
			return 0;
		section[0] = '\0';
	} else if (jmap_blob_parse(blob_id, &email_id, section, sizeof(section)) <= 0) {
		return 0;
	}
	const char *msg;
	size_t len;
	int r = jmap_email_read(ctx, email_id, &msg, &len);
	if (r <= 0)
		return r;
	if (section[0] == '\0') {
		*data_r = msg;
		*len_r = len;
		if (type_r)
			*type_r = "message/rfc822";
		if (name_r)
			*name_r = NULL;
		return 1;
	}
	struct store_msg_meta meta;
	int64_t mbid;
	const char *error;
	struct mail_part *parts;
	size_t nparts;
	if (store_email_meta(ctx->store, ctx->a, ctx->account_id, email_id, &meta, &mbid, &error) <= 0 ||
	    mail_parts_decode(ctx->a, meta.parts, &parts, &nparts) < 0)
		return 0;
	const struct mail_part *p = mail_part_find(parts, nparts, section);
	if (p == NULL || p->body_off + p->body_len > len || (p->flags & MAIL_PART_MULTIPART))
		return 0;
	if (p->flags & MAIL_PART_MESSAGE) {
		*data_r = msg + p->body_off;
		*len_r = (size_t)p->body_len;
	} else {
		struct buf out = { 0 };
		mail_part_binary(msg, len, p, &out);
		char *copy = arena_alloc(ctx->a, out.len + 1);
		if (out.len)
			memcpy(copy, out.data, out.len);
		*data_r = copy;
		*len_r = out.len;
		buf_free(&out);
	}
	if (type_r)
		*type_r = arena_printf(ctx->a, "%s/%s", p->type, p->subtype);
	if (name_r)
		*name_r = p->filename[0] ? p->filename : NULL;
	return 1;
}

int jmap_blob_open(struct jmap_ctx *ctx, const char *blob_id, struct jmap_blob_src *src, const char **type_r,
		   const char **name_r)
{
	int64_t email_id;
	char section[256];
	if (blob_id == NULL || blob_id[0] == 'U' || blob_id[0] == 'S')
		return 2;
	if (blob_id[0] == 'E') {
		if (store_id_parse(blob_id, 'E', &email_id) <= 0)
			return 0;
		section[0] = '\0';
	} else if (jmap_blob_parse(blob_id, &email_id, section, sizeof(section)) <= 0) {
		return 0;
	}
	int fd;
	uint64_t size;
	const char *error;
	int r = store_email_open(ctx->store, ctx->account_id, email_id, &fd, &size, &error);
	if (r <= 0)
		return r;
	*src = (struct jmap_blob_src){ .fd = fd, .off = 0, .len = size, .x = MAIL_X_NONE, .size = size };
	*type_r = "message/rfc822";
	*name_r = NULL;
	if (section[0] == '\0')
		return 1;
	struct store_msg_meta meta;
	int64_t mbid;
	struct mail_part *parts;
	size_t nparts;
	const struct mail_part *p = NULL;
	if (store_email_meta(ctx->store, ctx->a, ctx->account_id, email_id, &meta, &mbid, &error) > 0 &&
	    mail_parts_decode(ctx->a, meta.parts, &parts, &nparts) >= 0)
		p = mail_part_find(parts, nparts, section);
	if (p == NULL || p->body_off + p->body_len > size || (p->flags & MAIL_PART_MULTIPART)) {
		close(fd);
		return 0;
	}
	int x = (p->flags & MAIL_PART_MESSAGE) ? MAIL_X_NONE : mail_xform_for_encoding(p->encoding);
	if (x < 0) {
		close(fd);
		return 2; /* uuencode and the like: GMime in memory (jmap_blob_read) */
	}
	src->off = p->body_off;
	src->len = p->body_len;
	src->x = x;
	src->size = p->body_len;
	bool nul;
	if (x != MAIL_X_NONE && mail_reader_measure(fd, src->off, src->len, (enum mail_xform)x, 0, UINT64_MAX,
						    &src->size, &nul) < 0) {
		close(fd);
		return -1;
	}
	*type_r = arena_printf(ctx->a, "%s/%s", p->type, p->subtype);
	*name_r = p->filename[0] ? p->filename : NULL;
	return 1;
}
