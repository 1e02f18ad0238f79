/* sieve_msg.c: what the tests see of the message.
 *
 * Header fields are split once per run (name, unfolded value; RFC 5322 §2.2);
 * header and date tests read their values RFC 2047-decoded (mail_decode_header),
 * address and envelope tests the addr-specs of address lists (quoted strings,
 * comments, groups and route addresses understood). The body test (RFC 5173)
 * parses the MIME structure only when it runs, through the mail module, and sees
 * at most limits.max_body_bytes per part. Date parts follow RFC 5260 §4.2. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "arena.h"
#include "buf.h"
#include "mail.h"
#include "sieve_eval.h"

void sieve_msg_fields(struct sieve_state *run)
{
	if (run->fields_done)
		return;
	run->fields_done = true;
	const char *p = run->msg->data, *end = p + run->msg->len;
	size_t cap = 32, n = 0;
	struct sieve_field *f = arena_alloc(run->a, cap * sizeof(*f));
	struct buf val = { 0 };
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl != NULL ? nl : end;
		size_t llen = (size_t)(le - p);
		if (llen > 0 && p[llen - 1] == '\r')
			llen--;
		if (llen == 0) { /* the blank line */
			p = nl != NULL ? nl + 1 : end;
			break;
		}
		const char *colon = memchr(p, ':', llen);
		const char *next = nl != NULL ? nl + 1 : end;
		if (colon == NULL || p[0] == ' ' || p[0] == '\t') { /* not a field: skip it */
			p = next;
			continue;
		}
		size_t nlen = (size_t)(colon - p);
		while (nlen > 0 && (p[nlen - 1] == ' ' || p[nlen - 1] == '\t'))
			nlen--;
		buf_reset(&val);
		buf_append(&val, colon + 1, llen - (size_t)(colon + 1 - p));
		/* continuation lines */
		while (next < end && (*next == ' ' || *next == '\t')) {
			const char *nl2 = memchr(next, '\n', (size_t)(end - next));
			const char *le2 = nl2 != NULL ? nl2 : end;
			size_t l2 = (size_t)(le2 - next);
			if (l2 > 0 && next[l2 - 1] == '\r')
				l2--;
			buf_append(&val, next, l2);
			next = nl2 != NULL ? nl2 + 1 : end;
		}
		if (n == cap) {
			struct sieve_field *nf = arena_alloc(run->a, cap * 2 * sizeof(*f));
			memcpy(nf, f, n * sizeof(*f));
			f = nf;
			cap *= 2;
		}
		const char *v = val.len ? val.data : "";
		size_t vl = val.len;
		while (vl > 0 && (*v == ' ' || *v == '\t')) {
			v++;
			vl--;
		}
		while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
			vl--;
		f[n].name = arena_strndup(run->a, p, nlen);
		f[n].value = arena_strndup(run->a, v, vl);
		n++;
		p = next;
	}
	buf_free(&val);
	run->fields = f;
	run->nfields = n;
	run->body = p;
	run->body_len = (size_t)(end - p);
}

size_t sieve_msg_header(struct sieve_state *run, const char *name, bool decode, const char ***vals_r)
{
	sieve_msg_fields(run);
	size_t n = 0;
	for (size_t i = 0; i < run->nfields; i++)
		if (strcasecmp(run->fields[i].name, name) == 0)
			n++;
	const char **v = arena_alloc(run->a, (n + 1) * sizeof(char *));
	n = 0;
	for (size_t i = 0; i < run->nfields; i++)
		if (strcasecmp(run->fields[i].name, name) == 0) {
			const char *raw = run->fields[i].value;
			v[n++] = decode && strstr(raw, "=?") != NULL ? mail_decode_header(run->a, raw) : raw;
		}
	run->steps += n;
	*vals_r = v;
	return n;
}

/* Skips a comment at s (which starts with '('), nested; returns the end. */
static const char *skip_comment(const char *s)
{
	int depth = 0;
	for (; *s; s++) {
		if (*s == '\\' && s[1])
			s++;
		else if (*s == '(')
			depth++;
		else if (*s == ')' && --depth == 0)
			return s + 1;
	}
	return s;
}

/* Appends one mailbox (text between commas) as an addr-spec. */
static void one_mailbox(struct sieve_state *run, const char *s, size_t n, const char ***v, size_t *cnt, size_t *cap)
{
	char *m = arena_strndup(run->a, s, n);
	/* a route address <...> wins */
	const char *lt = NULL, *gt = NULL;
	bool inq = false;
	for (const char *p = m; *p; p++) {
		if (*p == '\\' && p[1]) {
			p++;
			continue;
		}
		if (*p == '"')
			inq = !inq;
		else if (!inq && *p == '(')
			p = skip_comment(p) - 1;
		else if (!inq && *p == '<' && lt == NULL)
			lt = p;
		else if (!inq && *p == '>' && lt != NULL && gt == NULL)
			gt = p;
	}
	struct buf out = { 0 };
	if (lt != NULL) {
		const char *a = lt + 1, *e = gt != NULL ? gt : lt + strlen(lt);
		const char *colon = memchr(a, ':', (size_t)(e - a)); /* obsolete route @a,@b: */
		if (a < e && *a == '@' && colon != NULL)
			a = colon + 1;
		buf_append(&out, a, (size_t)(e - a));
	} else {
		inq = false;
		for (const char *p = m; *p; p++) {
			if (*p == '\\' && p[1]) {
				buf_putc(&out, *p++);
				buf_putc(&out, *p);
				continue;
			}
			if (*p == '"')
				inq = !inq;
			if (!inq && *p == '(') {
				p = skip_comment(p) - 1;
				continue;
			}
			if (!inq && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
				continue;
			buf_putc(&out, *p);
		}
	}
	const char *addr = arena_strdup(run->a, buf_str(&out));
	buf_free(&out);
	if (addr[0] == '\0')
		return;
	if (*cnt + 1 >= *cap) {
		const char **nv = arena_alloc(run->a, *cap * 2 * sizeof(char *));
		memcpy(nv, *v, *cnt * sizeof(char *));
		*v = nv;
		*cap *= 2;
	}
	(*v)[(*cnt)++] = addr;
}

size_t sieve_msg_addresses(struct sieve_state *run, const char *value, const char ***addrs_r)
{
	size_t cap = 8, n = 0;
	const char **v = arena_alloc(run->a, cap * sizeof(char *));
	const char *start = value;
	bool inq = false, inangle = false;
	for (const char *p = value;; p++) {
		char c = *p;
		if (c == '\\' && p[1]) {
			p++;
			continue;
		}
		if (c == '"')
			inq = !inq;
		else if (!inq && c == '(') {
			p = skip_comment(p) - 1;
			continue;
		} else if (!inq && c == '<')
			inangle = true;
		else if (!inq && c == '>')
			inangle = false;
		if (c == '\0' || (!inq && !inangle && (c == ',' || c == ';' || c == ':'))) {
			if (c == ':') { /* a group's display name: drop it */
				start = p + 1;
				continue;
			}
			one_mailbox(run, start, (size_t)(p - start), &v, &n, &cap);
			if (c == '\0')
				break;
			start = p + 1;
		}
	}
	run->steps += n;
	v[n] = NULL;
	*addrs_r = v;
	return n;
}

const char *sieve_addr_part(struct sieve_state *run, const char *addr, enum sieve_addrpart part)
{
	const char *at = strrchr(addr, '@');
	size_t llen = at != NULL ? (size_t)(at - addr) : strlen(addr);
	switch (part) {
	case PART_ALL:
		return addr;
	case PART_LOCAL:
		return arena_strndup(run->a, addr, llen);
	case PART_DOMAIN:
		return at != NULL ? at + 1 : "";
	case PART_USER:
	case PART_DETAIL: {
		const char *delim = run->msg->subaddress_delimiter ? run->msg->subaddress_delimiter : "+";
		size_t u = 0;
		while (u < llen && (delim[0] == '\0' || strchr(delim, addr[u]) == NULL))
			u++;
		if (part == PART_USER)
			return arena_strndup(run->a, addr, u);
		if (u == llen)
			return NULL;
		return arena_strndup(run->a, addr + u + 1, llen - u - 1);
	}
	}
	return addr;
}

/* Does the content type of part p match one of types (RFC 5173 §5.2)? */
static bool type_matches(const struct mail_part *p, const char **types, size_t ntypes)
{
	for (size_t i = 0; i < ntypes; i++) {
		const char *t = types[i];
		const char *slash = strchr(t, '/');
		if (t[0] == '\0')
			return true;
		if (slash == NULL) {
			if (strcasecmp(t, p->type) == 0)
				return true;
		} else if (strlen(p->type) == (size_t)(slash - t) &&
			   strncasecmp(t, p->type, (size_t)(slash - t)) == 0 &&
			   strcasecmp(slash + 1, p->subtype) == 0) {
			return true;
		}
	}
	return false;
}

/* Collapses runs of spaces and tabs into one space and trims the ends. */
static void collapse_space(struct buf *b)
{
	size_t o = 0;
	for (size_t i = 0; i < b->len; i++) {
		char c = b->data[i];
		bool sp = c == ' ' || c == '\t';
		if (sp && (o == 0 || b->data[o - 1] == ' ' || b->data[o - 1] == '\n'))
			continue;
		if (c == '\n' && o > 0 && b->data[o - 1] == ' ')
			o--;
		b->data[o++] = sp ? ' ' : c;
	}
	while (o > 0 && (b->data[o - 1] == ' ' || b->data[o - 1] == '\n' || b->data[o - 1] == '\r'))
		o--;
	b->len = o;
	if (b->data != NULL)
		b->data[o] = '\0';
}

/* The decoded value of part i for mode (0: :text, 1: :content), decoded once per
 * run however many body tests ask. */
static const char *part_value(struct sieve_state *run, const struct mail_part *parts, size_t nparts, size_t i, int mode,
			      size_t *len_r)
{
	size_t max = run->lim->max_body_bytes;
	if (run->body_vals[mode] == NULL) {
		run->body_vals[mode] = arena_alloc(run->a, (nparts + 1) * sizeof(char *));
		run->body_lens[mode] = arena_alloc(run->a, (nparts + 1) * sizeof(size_t));
		memset(run->body_vals[mode], 0, (nparts + 1) * sizeof(char *));
	}
	if (run->body_vals[mode][i] != NULL) {
		*len_r = run->body_lens[mode][i];
		return run->body_vals[mode][i];
	}
	/* decode no more than can give max bytes (quoted-printable: 3 to 1) */
	struct mail_part p = parts[i];
	if (max < UINT64_MAX / 4 && p.body_len > 3 * (uint64_t)max + 16)
		p.body_len = 3 * (uint64_t)max + 16;
	struct buf b = { 0 };
	if (strcasecmp(p.type, "text") == 0) {
		mail_part_text(run->msg->data, run->msg->len, &p, mode == 0, &b);
		if (mode == 0 && strcasecmp(p.subtype, "html") == 0)
			collapse_space(&b); /* tags became spaces */
	} else {
		mail_part_binary(run->msg->data, run->msg->len, &p, &b);
	}
	size_t len = b.len < max ? b.len : max;
	const char *v = arena_strndup(run->a, b.len ? b.data : "", len);
	buf_free(&b);
	run->steps += len / 16;
	run->body_vals[mode][i] = v;
	run->body_lens[mode][i] = len;
	*len_r = len;
	return v;
}

size_t sieve_msg_body(struct sieve_state *run, enum sieve_bodyxf xf, const char **types, size_t ntypes,
		      const char ***vals_r, size_t **lens_r)
{
	sieve_msg_fields(run);
	size_t max = run->lim->max_body_bytes;
	if (xf == BODY_RAW) {
		const char **v = arena_alloc(run->a, 2 * sizeof(char *));
		size_t *l = arena_alloc(run->a, 2 * sizeof(size_t));
		l[0] = run->body_len < max ? run->body_len : max;
		v[0] = run->body; /* the message itself: matching takes lengths */
		*vals_r = v;
		*lens_r = l;
		return 1;
	}
	const struct mail_part *parts = run->msg->parts;
	size_t nparts = run->msg->nparts;
	if (parts == NULL) {
		if (run->info == NULL)
			run->info = mail_parse(run->a, run->msg->data, run->msg->len);
		parts = run->info->parts;
		nparts = run->info->nparts;
	}
	const char **v = arena_alloc(run->a, (nparts + 1) * sizeof(char *));
	size_t *l = arena_alloc(run->a, (nparts + 1) * sizeof(size_t));
	size_t n = 0;
	static const char *const text_only[] = { "text" };
	for (size_t i = 0; i < nparts; i++) {
		const struct mail_part *p = &parts[i];
		if (strcasecmp(p->type, "multipart") == 0 || strcasecmp(p->type, "message") == 0)
			continue;
		if (!type_matches(p, xf == BODY_TEXT ? (const char **)text_only : types, xf == BODY_TEXT ? 1 : ntypes))
			continue;
		v[n] = part_value(run, parts, nparts, i, xf == BODY_TEXT ? 0 : 1, &l[n]);
		n++;
	}
	*vals_r = v;
	*lens_r = l;
	return n;
}

const char *sieve_date_part(struct sieve_state *run, int64_t t, int zone, const char *part)
{
	static const char *const wd[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const mo[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t lt = (time_t)(t + (int64_t)zone * 60);
	struct tm tm;
	if (gmtime_r(&lt, &tm) == NULL)
		return NULL;
	int az = zone < 0 ? -zone : zone;
	char zs[8];
	snprintf(zs, sizeof(zs), "%c%02d%02d", zone < 0 ? '-' : '+', (az / 60) % 100, az % 60);
	struct arena *a = run->a;
	int y = tm.tm_year + 1900;
	if (!strcasecmp(part, "year"))
		return arena_printf(a, "%04d", y);
	if (!strcasecmp(part, "month"))
		return arena_printf(a, "%02d", tm.tm_mon + 1);
	if (!strcasecmp(part, "day"))
		return arena_printf(a, "%02d", tm.tm_mday);
	if (!strcasecmp(part, "date"))
		return arena_printf(a, "%04d-%02d-%02d", y, tm.tm_mon + 1, tm.tm_mday);
	if (!strcasecmp(part, "julian")) {
		int64_t days = (int64_t)lt / 86400 - ((int64_t)lt % 86400 < 0);
		return arena_printf(a, "%lld", (long long)(days + 40587));
	}
	if (!strcasecmp(part, "hour"))
		return arena_printf(a, "%02d", tm.tm_hour);
	if (!strcasecmp(part, "minute"))
		return arena_printf(a, "%02d", tm.tm_min);
	if (!strcasecmp(part, "second"))
		return arena_printf(a, "%02d", tm.tm_sec);
	if (!strcasecmp(part, "time"))
		return arena_printf(a, "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (!strcasecmp(part, "iso8601"))
		return arena_printf(a, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", y, tm.tm_mon + 1, tm.tm_mday,
				    tm.tm_hour, tm.tm_min, tm.tm_sec, zone < 0 ? '-' : '+', (az / 60) % 100, az % 60);
	if (!strcasecmp(part, "std11"))
		return arena_printf(a, "%s, %02d %s %04d %02d:%02d:%02d %s", wd[tm.tm_wday], tm.tm_mday, mo[tm.tm_mon],
				    y, tm.tm_hour, tm.tm_min, tm.tm_sec, zs);
	if (!strcasecmp(part, "zone"))
		return arena_strdup(a, zs);
	if (!strcasecmp(part, "weekday"))
		return arena_printf(a, "%d", tm.tm_wday);
	return NULL;
}
