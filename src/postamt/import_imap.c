/* import_imap.c: `postamt import ADDRESS imap[s]://USER@HOST:PORT`, the IMAP source.
 *
 * A blocking client over one connection: implicit TLS for imaps://, STARTTLS for
 * imap:// when the server offers it (plain text otherwise: fine on loopback, and the
 * server decides whether it accepts a password in the clear), LOGIN with the password
 * from the first line of stdin. Planning: LIST (with RETURN (SPECIAL-USE) when
 * offered) gives the folders, each EXAMINEd for its UIDVALIDITY and then one UID FETCH
 * of UID, FLAGS, INTERNALDATE, RFC822.SIZE and the Message-ID field; loading: one
 * UID FETCH BODY.PEEK[] for the next messages of the folder, up to 64 of them or
 * 16 MB, kept until asked for (a round trip per message took half the time).
 * Everything the server sends goes through the pure parser
 * (proto/imap/imap_client.c) with bounds from the configuration:
 * import.line_max per line, limits.message_size per literal, import.timeout per read;
 * a UID that is zero, repeated or not a number is reported and skipped. */
#include "import.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "imap_client.h"
#include "imap_format.h"
#include "import_parse.h"

#define PREFETCH_MAX 64                   /* messages fetched by one UID FETCH while loading */
#define PREFETCH_BYTES (16 * 1024 * 1024) /* ... and their sizes together (one is always fetched) */

struct imapc {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	const char *host;
	const char *ca_file;
	bool insecure;
	struct buf in;
	struct imapc_limits lim;
	int timeout_ms;
	unsigned int tag;
	struct arena *ra; /* one response's items */
	bool starttls, special_use, logindisabled;
	const char *error; /* static or in ra */
	char errbuf[256];
	/* loading: the bodies of the next messages of the folder, fetched with one command */
	uint32_t pf_uid[PREFETCH_MAX];
	struct buf pf_body[PREFETCH_MAX];
	bool pf_got[PREFETCH_MAX];
	size_t pf_n;
};

static int cfail(struct imapc *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int cfail(struct imapc *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->errbuf, sizeof(c->errbuf), fmt, ap);
	va_end(ap);
	c->error = c->errbuf;
	return -1;
}

static int wait_fd(struct imapc *c, short events)
{
	struct pollfd p = { .fd = c->fd, .events = events };
	int r;
	do {
		r = poll(&p, 1, c->timeout_ms);
	} while (r < 0 && errno == EINTR);
	if (r == 0)
		return cfail(c, "the server did not answer within import.timeout");
	return r < 0 ? cfail(c, "poll: %s", strerror(errno)) : 1;
}

static int send_all(struct imapc *c, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w;
		if (c->ssl != NULL) {
			int k = SSL_write(c->ssl, p, (int)(n > 1 << 20 ? 1 << 20 : n));
			if (k <= 0)
				return cfail(c, "TLS write failed");
			w = k;
		} else {
			w = send(c->fd, p, n, MSG_NOSIGNAL);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return cfail(c, "send: %s", strerror(errno));
		}
		p += w;
		n -= (size_t)w;
	}
	return 1;
}

static int read_more(struct imapc *c)
{
	buf_reserve(&c->in, 65536);
	size_t room = c->in.cap - c->in.len - 1;
	ssize_t n;
	if (c->ssl != NULL) {
		if (SSL_pending(c->ssl) == 0 && wait_fd(c, POLLIN) < 0)
			return -1;
		int k = SSL_read(c->ssl, c->in.data + c->in.len, (int)(room > INT32_MAX ? INT32_MAX : room));
		if (k <= 0)
			return cfail(c, "the server closed the connection");
		n = k;
	} else {
		if (wait_fd(c, POLLIN) < 0)
			return -1;
		do {
			n = recv(c->fd, c->in.data + c->in.len, room, 0);
		} while (n < 0 && errno == EINTR);
		if (n < 0)
			return cfail(c, "recv: %s", strerror(errno));
		if (n == 0)
			return cfail(c, "the server closed the connection");
	}
	c->in.len += (size_t)n;
	c->in.data[c->in.len] = '\0';
	return 1;
}

/* The next response (items in c->ra, cleared first). 1 or -1. */
static int read_response(struct imapc *c, struct imapc_response *r)
{
	arena_clear(c->ra);
	for (;;) {
		size_t need = 0;
		const char *err;
		int n = c->in.len > 0 ? imapc_parse(c->ra, c->in.data, c->in.len, &c->lim, r, &need, &err) : 0;
		if (n > 0) {
			buf_consume(&c->in, (size_t)n);
			return 1;
		}
		if (n < 0)
			return cfail(c, "bad response from the server: %s", err);
		do {
			if (read_more(c) < 0)
				return -1;
		} while (c->in.len < need);
	}
}

typedef int untagged_fn(struct imapc *c, const struct imapc_response *r, void *arg);

/* Sends a command and reads until its tagged answer; untagged responses go to fn.
 * 1 on OK, -1 otherwise (c->error). */
static int command(struct imapc *c, untagged_fn *fn, void *arg, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int command(struct imapc *c, untagged_fn *fn, void *arg, const char *fmt, ...)
{
	char tag[16];
	snprintf(tag, sizeof(tag), "p%u", ++c->tag);
	struct buf line = { 0 };
	buf_printf(&line, "%s ", tag);
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&line, fmt, ap);
	va_end(ap);
	buf_puts(&line, "\r\n");
	int r = send_all(c, line.data, line.len);
	buf_free(&line);
	if (r < 0)
		return -1;
	for (;;) {
		struct imapc_response resp;
		if (read_response(c, &resp) < 0)
			return -1;
		if (strcmp(resp.tag, tag) == 0) {
			if (strcmp(resp.status, "OK") == 0)
				return 1;
			return cfail(c, "%s %s", resp.status, resp.text != NULL ? resp.text : "");
		}
		if (strcmp(resp.tag, "*") == 0 && resp.status != NULL && strcmp(resp.status, "BYE") == 0)
			return cfail(c, "the server said BYE: %s", resp.text);
		if (strcmp(resp.tag, "*") == 0 && fn != NULL && fn(c, &resp, arg) < 0)
			return -1;
	}
}

static void caps_from(struct imapc *c, const struct imapc_item *items, size_t n)
{
	c->starttls = c->special_use = c->logindisabled = false;
	for (size_t i = 0; i < n; i++) {
		c->starttls |= imapc_is(&items[i], "STARTTLS") == 1;
		c->special_use |= imapc_is(&items[i], "SPECIAL-USE") == 1;
		c->logindisabled |= imapc_is(&items[i], "LOGINDISABLED") == 1;
	}
}

static int on_capability(struct imapc *c, const struct imapc_response *r, void *arg)
{
	(void)arg;
	if (r->n > 0 && imapc_is(&r->items[0], "CAPABILITY"))
		caps_from(c, r->items + 1, r->n - 1);
	return 1;
}

static int tls_start(struct imapc *c)
{
	c->ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
	if (c->insecure) {
		SSL_CTX_set_verify(c->ctx, SSL_VERIFY_NONE, NULL);
	} else {
		SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
		if (c->ca_file != NULL ? SSL_CTX_load_verify_locations(c->ctx, c->ca_file, NULL) != 1
				       : SSL_CTX_set_default_verify_paths(c->ctx) != 1)
			return cfail(c, "cannot load the CA certificates%s%s", c->ca_file ? " of " : "",
				     c->ca_file ? c->ca_file : "");
	}
	c->ssl = SSL_new(c->ctx);
	SSL_set_fd(c->ssl, c->fd);
	SSL_set_tlsext_host_name(c->ssl, c->host);
	if (!c->insecure) {
		X509_VERIFY_PARAM *vp = SSL_get0_param(c->ssl);
		if (X509_VERIFY_PARAM_set1_ip_asc(vp, c->host) != 1)
			SSL_set1_host(c->ssl, c->host);
	}
	for (;;) {
		int k = SSL_connect(c->ssl);
		if (k == 1)
			return 1;
		int e = SSL_get_error(c->ssl, k);
		if (e == SSL_ERROR_WANT_READ && wait_fd(c, POLLIN) > 0)
			continue;
		if (e == SSL_ERROR_WANT_WRITE && wait_fd(c, POLLOUT) > 0)
			continue;
		long v = SSL_get_verify_result(c->ssl);
		return cfail(c, "TLS handshake failed%s%s", v != X509_V_OK ? ": " : "",
			     v != X509_V_OK ? X509_verify_cert_error_string(v) : "");
	}
}

static int tcp_connect(struct imapc *c, const char *host, const char *port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;
	int e = getaddrinfo(host, port, &hints, &res);
	if (e != 0)
		return cfail(c, "%s: %s", host, gai_strerror(e));
	c->fd = -1;
	for (struct addrinfo *ai = res; ai != NULL && c->fd < 0; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			c->fd = fd;
		else
			close(fd);
	}
	freeaddrinfo(res);
	if (c->fd < 0)
		return cfail(c, "cannot connect to %s port %s", host, port);
	return 1;
}

/* "imap[s]://USER@HOST[:PORT][/]": user percent-decoded, host without brackets. */
static int parse_url(struct arena *a, const char *url, bool *tls_r, const char **user_r, const char **host_r,
		     const char **port_r)
{
	const char *p;
	if (strncmp(url, "imaps://", 8) == 0) {
		*tls_r = true;
		p = url + 8;
	} else {
		*tls_r = false;
		p = url + 7;
	}
	const char *at = strrchr(p, '@');
	if (at == NULL || at == p)
		return -1;
	struct buf u = { 0 };
	for (const char *q = p; q < at; q++) {
		if (*q == '%' && q + 2 < at && isxdigit((unsigned char)q[1]) && isxdigit((unsigned char)q[2])) {
			char hex[3] = { q[1], q[2], 0 };
			buf_putc(&u, (char)strtol(hex, NULL, 16));
			q += 2;
		} else {
			buf_putc(&u, *q);
		}
	}
	*user_r = arena_strndup(a, u.data, u.len);
	buf_free(&u);
	const char *h = at + 1, *he;
	const char *rest;
	if (*h == '[') {
		he = strchr(h, ']');
		if (he == NULL)
			return -1;
		*host_r = arena_strndup(a, h + 1, (size_t)(he - h - 1));
		rest = he + 1;
	} else {
		he = h + strcspn(h, ":/");
		*host_r = arena_strndup(a, h, (size_t)(he - h));
		rest = he;
	}
	if ((*host_r)[0] == '\0')
		return -1;
	*port_r = *tls_r ? "993" : "143";
	if (*rest == ':') {
		size_t n = strspn(rest + 1, "0123456789");
		if (n == 0 || n > 5)
			return -1;
		*port_r = arena_strndup(a, rest + 1, n);
		rest += 1 + n;
	}
	if (*rest == '/')
		rest++;
	return *rest == '\0' ? 1 : -1;
}

static void put_quoted(struct buf *b, const char *s)
{
	buf_putc(b, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			buf_putc(b, '\\');
		buf_putc(b, *s);
	}
	buf_putc(b, '"');
}

/* ------------------------------------------------------------------ planning */

struct list_ctx {
	struct import_run *run;
	struct import_source *src;
};

static unsigned int special_use_attr(const struct imapc_item *attrs)
{
	static const struct {
		const char *name;
		unsigned int su;
	} map[] = { { "\\Sent", STORE_SU_SENT },
		    { "\\Drafts", STORE_SU_DRAFTS },
		    { "\\Trash", STORE_SU_TRASH },
		    { "\\Junk", STORE_SU_JUNK },
		    { "\\Archive", STORE_SU_ARCHIVE } };
	for (size_t i = 0; i < attrs->n; i++) {
		for (size_t k = 0; k < sizeof(map) / sizeof(map[0]); k++) {
			if (imapc_is(&attrs->items[i], map[k].name))
				return map[k].su;
		}
	}
	return 0;
}

static int on_list(struct imapc *c, const struct imapc_response *r, void *arg)
{
	struct list_ctx *lc = arg;
	if (r->n < 4 || !imapc_is(&r->items[0], "LIST") || r->items[1].kind != IMAPC_LIST)
		return 1;
	const struct imapc_item *attrs = &r->items[1], *delim = &r->items[2], *name = &r->items[3];
	for (size_t i = 0; i < attrs->n; i++) {
		if (imapc_is(&attrs->items[i], "\\Noselect") || imapc_is(&attrs->items[i], "\\NonExistent"))
			return 1;
	}
	if (name->kind == IMAPC_NIL || name->kind == IMAPC_LIST || name->len == 0 || strlen(name->s) != name->len) {
		import_report("a folder with an unusable name skipped");
		return 1;
	}
	char sep = delim->kind == IMAPC_STRING && delim->len == 1 ? delim->s[0] : '/';
	const char *utf8, *err;
	if (strcasecmp(name->s, "INBOX") == 0)
		utf8 = "INBOX";
	else if (import_folder_name(lc->run->a, name->s, sep, &utf8, &err) < 0) {
		import_report("folder \"%s\" skipped: %s", name->s, err);
		return 1;
	}
	(void)c;
	struct import_folder *f = import_add_folder(lc->run, utf8, utf8, special_use_attr(attrs));
	if (f != NULL && f->imap_name == NULL)
		f->imap_name = arena_strdup(lc->run->a, name->s);
	else if (f != NULL) {
		/* a second source folder on the same target: planned as a folder of its own */
		struct import_run *run = lc->run;
		if (run->nfolders == run->capfolders) {
			run->capfolders *= 2;
			run->folders = xrealloc(run->folders, run->capfolders * sizeof(*run->folders));
		}
		size_t idx = (size_t)(f - run->folders);
		struct import_folder *g = &run->folders[run->nfolders++];
		*g = (struct import_folder){ .source_name = utf8,
					     .name = run->folders[idx].name,
					     .special_use = run->folders[idx].special_use,
					     .imap_name = arena_strdup(run->a, name->s) };
	}
	return 1;
}

struct select_ctx {
	uint32_t uidvalidity;
	uint32_t exists;
};

static int on_select(struct imapc *c, const struct imapc_response *r, void *arg)
{
	(void)c;
	struct select_ctx *sc = arg;
	if (r->status != NULL && r->code != NULL && strncasecmp(r->code, "UIDVALIDITY ", 12) == 0)
		sc->uidvalidity = (uint32_t)strtoul(r->code + 12, NULL, 10);
	if (r->has_number && r->n == 1 && imapc_is(&r->items[0], "EXISTS"))
		sc->exists = r->number;
	return 1;
}

/* "17-Jul-1996 02:44:25 -0700" as unix seconds, 0 if it does not parse. */
static int64_t parse_internaldate(const char *s)
{
	static const char *const mons[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	int d, y, hh, mm, ss;
	char mon[4], sign;
	int zh, used = 0;
	if (sscanf(s, " %d-%3s-%d %d:%d:%d %c%4d%n", &d, mon, &y, &hh, &mm, &ss, &sign, &zh, &used) != 8)
		return 0;
	int mi = -1;
	for (int i = 0; i < 12; i++) {
		if (strcasecmp(mon, mons[i]) == 0)
			mi = i;
	}
	if (mi < 0 || d < 1 || d > 31 || y < 1970 || y > 9999 || hh > 23 || mm > 59 || ss > 60 ||
	    (sign != '+' && sign != '-'))
		return 0;
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mi, .tm_mday = d, .tm_hour = hh, .tm_min = mm, .tm_sec = ss };
	int64_t t = (int64_t)timegm(&tm);
	int off = (zh / 100) * 3600 + (zh % 100) * 60;
	t += sign == '+' ? -off : off;
	return t > 0 ? t : 0;
}

struct fetch_ctx {
	struct import_run *run;
	struct import_folder *f;
	uint32_t uidvalidity;
	uint32_t *seen; /* UIDs planned so far (duplicates are bogus) */
	size_t nseen, capseen;
	uint32_t max_uid;
	int result;
	struct buf *body; /* loading: the literal of BODY[] */
	bool got_body;
};

static const struct imapc_item *fetch_att(const struct imapc_item *list, const char *name)
{
	for (size_t i = 0; i + 1 < list->n; i += 2) {
		if (imapc_is(&list->items[i], name))
			return &list->items[i + 1];
	}
	return NULL;
}

static int on_fetch(struct imapc *c, const struct imapc_response *r, void *arg)
{
	struct fetch_ctx *fc = arg;
	if (!r->has_number || r->n != 2 || !imapc_is(&r->items[0], "FETCH") || r->items[1].kind != IMAPC_LIST)
		return 1;
	const struct imapc_item *l = &r->items[1];
	struct import_run *run = fc->run;
	uint64_t uid, size = 0;
	if (imapc_number(fetch_att(l, "UID"), UINT32_MAX, &uid) < 0) {
		import_report("folder \"%s\": a message without a valid UID skipped", fc->f->source_name);
		run->refused++;
		return 1;
	}
	if (fc->body != NULL) { /* loading: into the prefetch slot of that UID */
		const struct imapc_item *b = fetch_att(l, "BODY[]");
		for (size_t k = 0; b != NULL && b->kind == IMAPC_STRING && k < c->pf_n; k++) {
			if (c->pf_uid[k] == uid && !c->pf_got[k]) {
				buf_reset(&c->pf_body[k]);
				buf_append(&c->pf_body[k], b->s, b->len);
				c->pf_got[k] = true;
				break;
			}
		}
		return 1;
	}
	/* UIDs come in ascending order from real servers: only a UID not above the
	 * highest so far needs the (linear) look for a repeat */
	bool repeat = false;
	for (size_t i = 0; uid <= fc->max_uid && i < fc->nseen && !repeat; i++)
		repeat = fc->seen[i] == uid;
	if (repeat) {
		import_report("folder \"%s\": UID %llu sent twice, once kept", fc->f->source_name,
			      (unsigned long long)uid);
		return 1;
	}
	if (uid > fc->max_uid)
		fc->max_uid = (uint32_t)uid;
	if (fc->nseen == fc->capseen) {
		fc->capseen = fc->capseen ? fc->capseen * 2 : 256;
		fc->seen = xrealloc(fc->seen, fc->capseen * sizeof(*fc->seen));
	}
	fc->seen[fc->nseen++] = (uint32_t)uid;
	imapc_number(fetch_att(l, "RFC822.SIZE"), UINT64_MAX, &size);
	struct import_item it = { .uid = (uint32_t)uid, .size = size };
	const struct imapc_item *fl = fetch_att(l, "FLAGS");
	size_t nkw = 0;
	const char **kws = arena_alloc(run->a, ((fl != NULL && fl->kind == IMAPC_LIST ? fl->n : 0) + 1) * sizeof(*kws));
	for (size_t i = 0; fl != NULL && fl->kind == IMAPC_LIST && i < fl->n; i++) {
		const struct imapc_item *x = &fl->items[i];
		if (x->kind != IMAPC_ATOM)
			continue;
		if (x->s[0] == '\\') {
			it.flags |= store_flag_parse(x->s);
			continue;
		}
		kws[nkw++] = arena_strdup(run->a, x->s);
	}
	kws[nkw] = NULL;
	it.keywords = kws;
	const struct imapc_item *d = fetch_att(l, "INTERNALDATE");
	if (d != NULL && d->kind == IMAPC_STRING)
		it.internal_date = parse_internaldate(d->s);
	const char *mid = NULL;
	for (size_t i = 0; i + 1 < l->n; i += 2) {
		if (l->items[i].kind == IMAPC_ATOM && strncasecmp(l->items[i].s, "BODY[HEADER.FIELDS", 18) == 0 &&
		    l->items[i + 1].kind == IMAPC_STRING)
			mid = import_header_value(run->a, l->items[i + 1].s, l->items[i + 1].len, "Message-ID");
	}
	const char *key =
		arena_printf(run->a, "imap %s %u %llu", fc->f->imap_name, fc->uidvalidity, (unsigned long long)uid);
	if (import_add_item(run, fc->f, &it, key, mid) < 0)
		fc->result = -1;
	return 1;
}

static int examine(struct imapc *c, const char *imap_name, struct select_ctx *sc)
{
	struct buf q = { 0 };
	put_quoted(&q, imap_name);
	int r = command(c, on_select, sc, "EXAMINE %s", q.data);
	buf_free(&q);
	return r;
}

/* Moves the prefetched body of uid into out: true, or false when there is none. */
static bool take_prefetched(struct imapc *c, uint32_t uid, struct buf *out)
{
	for (size_t k = 0; k < c->pf_n; k++) {
		if (c->pf_uid[k] == uid && c->pf_got[k]) {
			buf_append(out, c->pf_body[k].data, c->pf_body[k].len);
			buf_reset(&c->pf_body[k]);
			c->pf_got[k] = false;
			return true;
		}
	}
	return false;
}

static int load_imap(struct import_source *src, const struct import_folder *f, const struct import_item *it,
		     struct buf *out, const char **error_r)
{
	struct imapc *c = src->ctx;
	if (src->current != f) { /* the folder changed: select it */
		struct select_ctx sc = { 0 };
		if (examine(c, f->imap_name, &sc) < 0) {
			*error_r = c->error;
			return -2;
		}
		src->current = f;
		c->pf_n = 0;
	}
	buf_reset(out);
	if (take_prefetched(c, it->uid, out))
		return 1;
	/* this message and the next ones of the folder in one command */
	assert(it >= f->items && it < f->items + f->n);
	struct buf cmd = { 0 };
	buf_puts(&cmd, "UID FETCH ");
	uint64_t bytes = 0;
	c->pf_n = 0;
	for (size_t j = (size_t)(it - f->items); j < f->n && c->pf_n < PREFETCH_MAX; j++) {
		const struct import_item *x = &f->items[j];
		if (c->pf_n > 0 && (x->size > c->lim.literal_max || bytes + x->size > PREFETCH_BYTES))
			break; /* import_folder leaves a message over the size limit out unloaded */
		buf_printf(&cmd, "%s%u", c->pf_n > 0 ? "," : "", x->uid);
		c->pf_uid[c->pf_n] = x->uid;
		c->pf_got[c->pf_n] = false;
		c->pf_n++;
		bytes += x->size;
	}
	buf_puts(&cmd, " (UID BODY.PEEK[])");
	struct fetch_ctx fc = { .body = out, .f = (struct import_folder *)f };
	struct import_run dummy = { 0 };
	fc.run = &dummy;
	int r = command(c, on_fetch, &fc, "%s", cmd.data);
	buf_free(&cmd);
	if (r < 0) {
		c->pf_n = 0;
		*error_r = c->error;
		return -2;
	}
	if (!take_prefetched(c, it->uid, out)) {
		*error_r = "the server sent no body (expunged meanwhile?)";
		return -1;
	}
	return 1;
}

static void close_imap(struct import_source *src)
{
	struct imapc *c = src->ctx;
	if (c == NULL)
		return;
	if (c->fd >= 0 && c->error == NULL)
		command(c, NULL, NULL, "LOGOUT");
	if (c->ssl != NULL)
		SSL_free(c->ssl);
	if (c->ctx != NULL)
		SSL_CTX_free(c->ctx);
	if (c->fd >= 0)
		close(c->fd);
	buf_free(&c->in);
	for (size_t k = 0; k < PREFETCH_MAX; k++)
		buf_free(&c->pf_body[k]);
	arena_free(&c->ra);
	free(c);
	src->ctx = NULL;
	src->current = NULL;
}

int import_plan_imap(struct import_run *run, struct import_source *src, const char *url, const char *ca_file,
		     bool insecure)
{
	bool tls;
	const char *user, *host, *port;
	if (parse_url(run->a, url, &tls, &user, &host, &port) < 0) {
		fprintf(stderr, "postamt: %s: expected imap://USER@HOST:PORT or imaps://USER@HOST:PORT\n", url);
		return -1;
	}
	char *pw = NULL;
	size_t cap = 0;
	ssize_t n = getline(&pw, &cap, stdin);
	while (n > 0 && (pw[n - 1] == '\n' || pw[n - 1] == '\r'))
		pw[--n] = '\0';
	if (n <= 0) {
		free(pw);
		fprintf(stderr, "postamt: no password on standard input (give it as the first line)\n");
		return -1;
	}
	struct imapc *c = xcalloc(1, sizeof(*c));
	c->fd = -1;
	c->host = host;
	c->ca_file = ca_file;
	c->insecure = insecure;
	c->ra = arena_new();
	c->timeout_ms = (int)(run->cfg->import_timeout * 1000);
	c->lim = (struct imapc_limits){ .line_max = (size_t)run->cfg->import_line_max,
					.literal_max = (uint64_t)run->cfg->message_max,
					.items_max = 100000,
					.depth_max = 16 };
	src->ctx = c;
	src->load = load_imap;
	src->close = close_imap;
	int r = tcp_connect(c, host, port);
	if (r > 0 && tls)
		r = tls_start(c);
	struct imapc_response resp;
	if (r > 0 && read_response(c, &resp) > 0) {
		if (resp.status == NULL || (strcmp(resp.status, "OK") != 0 && strcmp(resp.status, "PREAUTH") != 0))
			r = cfail(c, "the server refused the connection: %s", resp.text ? resp.text : "");
	} else {
		r = -1;
	}
	if (r > 0)
		r = command(c, on_capability, NULL, "CAPABILITY");
	if (r > 0 && !tls && c->starttls) {
		r = command(c, NULL, NULL, "STARTTLS");
		if (r > 0 && c->in.len > 0)
			r = cfail(c, "the server sent data after STARTTLS");
		if (r > 0)
			r = tls_start(c);
		if (r > 0)
			r = command(c, on_capability, NULL, "CAPABILITY");
	}
	if (r > 0 && c->logindisabled)
		r = cfail(c, "the server refuses LOGIN (LOGINDISABLED) without TLS");
	if (r > 0) {
		struct buf login = { 0 };
		buf_puts(&login, "LOGIN ");
		put_quoted(&login, user);
		buf_putc(&login, ' ');
		put_quoted(&login, pw);
		r = command(c, on_capability, NULL, "%s", login.data);
		explicit_bzero(login.data, login.len);
		buf_free(&login);
		if (r < 0)
			cfail(c, "login as %s failed: %s", user, c->errbuf);
	}
	explicit_bzero(pw, strlen(pw));
	free(pw);
	struct list_ctx lc = { run, src };
	if (r > 0)
		r = command(c, on_list, &lc,
			    c->special_use ? "LIST \"\" \"*\" RETURN (SPECIAL-USE)" : "LIST \"\" \"*\"");
	for (size_t i = 0; r > 0 && i < run->nfolders; i++) {
		struct import_folder *f = &run->folders[i];
		struct select_ctx sc = { 0 };
		r = examine(c, f->imap_name, &sc);
		if (r < 0 || sc.exists == 0)
			continue;
		struct fetch_ctx fc = { .run = run, .f = f, .uidvalidity = sc.uidvalidity, .result = 1 };
		r = command(c, on_fetch, &fc,
			    "UID FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])");
		free(fc.seen);
		if (fc.result < 0)
			r = -1;
	}
	if (r < 0) {
		fprintf(stderr, "postamt: %s: %s\n", url, c->error != NULL ? c->error : "store error");
		return -1;
	}
	return 1;
}
