/* import_parse.c: the pure parsers of import_parse.h (Maildir names and flags,
 * dovecot-keywords, special use by name, mbox). */
#include "import_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "imap_format.h"

static bool valid_utf8(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		unsigned char c = p[i];
		size_t k;
		if (c < 0x80)
			k = 0;
		else if (c >= 0xc2 && c < 0xe0)
			k = 1;
		else if ((c & 0xf0) == 0xe0)
			k = 2;
		else if (c >= 0xf0 && c < 0xf5)
			k = 3;
		else
			return false;
		if (n - i - 1 < k)
			return false;
		for (size_t j = 1; j <= k; j++) {
			if ((p[i + j] & 0xc0) != 0x80)
				return false;
		}
		i += k + 1;
	}
	return true;
}

int import_folder_name(struct arena *a, const char *path, char sep, const char **name_r, const char **error_r)
{
	struct buf out = { 0 };
	const char *p = path;
	int r = 1;
	for (;;) {
		const char *e = strchr(p, sep);
		size_t n = e != NULL ? (size_t)(e - p) : strlen(p);
		if (n == 0) {
			*error_r = "empty level in a folder name";
			r = -1;
			break;
		}
		for (size_t i = 0; i < n; i++) {
			if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f || p[i] == '/') {
				*error_r = "control character or \"/\" in a folder name";
				r = -1;
				break;
			}
		}
		if (r < 0)
			break;
		if (out.len > 0)
			buf_putc(&out, '/');
		size_t before = out.len;
		if (imap_utf7_decode(&out, p, n) < 0) {
			out.len = before;
			if (!valid_utf8(p, n)) {
				*error_r = "folder name neither modified UTF-7 nor UTF-8";
				r = -1;
				break;
			}
			buf_append(&out, p, n);
		}
		/* what mUTF-7 decodes to is checked like the raw bytes ("&AAw-" is a form feed) */
		for (size_t i = before; i < out.len; i++) {
			unsigned char c = (unsigned char)out.data[i];
			if (c < 0x20 || c == 0x7f || c == '/') {
				*error_r = "control character or \"/\" in a folder name";
				r = -1;
				break;
			}
		}
		if (r < 0)
			break;
		if (e == NULL)
			break;
		p = e + 1;
	}
	if (r > 0)
		*name_r = arena_strndup(a, out.data != NULL ? out.data : "", out.len);
	buf_free(&out);
	return r;
}

int import_maildir_filename(const char *name, struct import_maildir_file *r)
{
	memset(r, 0, sizeof(*r));
	if (name[0] == '.' || name[0] == '\0')
		return 0;
	size_t n = strlen(name);
	const char *info = NULL;
	for (size_t i = 0; i < n; i++) {
		if (name[i] == ':' || name[i] == ';') {
			info = name + i + 1;
			break;
		}
	}
	r->uniq_len = info != NULL ? (size_t)(info - 1 - name) : n;
	/* ",S=123" in the unique part */
	for (size_t i = 0; i + 3 <= r->uniq_len; i++) {
		if (name[i] == ',' && name[i + 1] == 'S' && name[i + 2] == '=') {
			size_t j = i + 3;
			uint64_t v = 0;
			if (j >= r->uniq_len || name[j] < '0' || name[j] > '9')
				return -1;
			while (j < r->uniq_len && name[j] >= '0' && name[j] <= '9') {
				if (v > UINT64_MAX / 10 - 1)
					return -1;
				v = v * 10 + (uint64_t)(name[j] - '0');
				j++;
			}
			r->size = v;
			r->has_size = true;
			break;
		}
	}
	if (info == NULL)
		return 1;
	if (info[0] != '2' || info[1] != ',')
		return -1;
	for (const char *f = info + 2; *f != '\0'; f++) {
		switch (*f) {
		case 'D':
			r->flags |= IMPORT_F_DRAFT;
			break;
		case 'F':
			r->flags |= IMPORT_F_FLAGGED;
			break;
		case 'P':
			r->passed = true;
			break;
		case 'R':
			r->flags |= IMPORT_F_ANSWERED;
			break;
		case 'S':
			r->flags |= IMPORT_F_SEEN;
			break;
		case 'T':
			r->flags |= IMPORT_F_DELETED;
			break;
		default:
			if (*f >= 'a' && *f <= 'z')
				r->keywords |= 1u << (*f - 'a');
			break; /* unknown capitals are ignored, as Dovecot does */
		}
	}
	return 1;
}

int import_dovecot_keywords(struct arena *a, const char *data, size_t len, const char *slots[IMPORT_KEYWORD_SLOTS])
{
	for (size_t i = 0; i < IMPORT_KEYWORD_SLOTS; i++)
		slots[i] = NULL;
	int found = 0;
	size_t pos = 0;
	while (pos < len) {
		const char *nl = memchr(data + pos, '\n', len - pos);
		size_t e = nl != NULL ? (size_t)(nl - data) : len;
		const char *l = data + pos;
		size_t n = e - pos;
		pos = e + 1;
		if (n > 0 && l[n - 1] == '\r')
			n--;
		size_t i = 0, idx = 0;
		while (i < n && l[i] >= '0' && l[i] <= '9' && idx < 100)
			idx = idx * 10 + (size_t)(l[i++] - '0');
		if (i == 0 || i >= n || l[i] != ' ' || idx >= IMPORT_KEYWORD_SLOTS)
			continue;
		i++;
		if (i >= n || memchr(l + i, '\0', n - i) != NULL)
			continue;
		if (slots[idx] == NULL)
			found++;
		slots[idx] = arena_strndup(a, l + i, n - i);
	}
	return found;
}

static const struct {
	const char *name;
	unsigned int su;
} su_names[] = {
	{ "Sent", IMPORT_SU_SENT },
	{ "Sent Items", IMPORT_SU_SENT },
	{ "Sent Messages", IMPORT_SU_SENT },
	{ "Sent Mail", IMPORT_SU_SENT },
	{ "Gesendet", IMPORT_SU_SENT },
	{ "Gesendete Elemente", IMPORT_SU_SENT },
	{ "Gesendete Objekte", IMPORT_SU_SENT },
	{ "Gesendete Nachrichten", IMPORT_SU_SENT },
	{ "Drafts", IMPORT_SU_DRAFTS },
	{ "Draft", IMPORT_SU_DRAFTS },
	{ "Entwürfe", IMPORT_SU_DRAFTS },
	{ "Entwurf", IMPORT_SU_DRAFTS },
	{ "Trash", IMPORT_SU_TRASH },
	{ "Deleted Items", IMPORT_SU_TRASH },
	{ "Deleted Messages", IMPORT_SU_TRASH },
	{ "Bin", IMPORT_SU_TRASH },
	{ "Papierkorb", IMPORT_SU_TRASH },
	{ "Gelöscht", IMPORT_SU_TRASH },
	{ "Gelöschte Elemente", IMPORT_SU_TRASH },
	{ "Gelöschte Objekte", IMPORT_SU_TRASH },
	{ "Junk", IMPORT_SU_JUNK },
	{ "Spam", IMPORT_SU_JUNK },
	{ "Junk E-Mail", IMPORT_SU_JUNK },
	{ "Junk-E-Mail", IMPORT_SU_JUNK },
	{ "Bulk Mail", IMPORT_SU_JUNK },
	{ "Werbung", IMPORT_SU_JUNK },
	{ "Archive", IMPORT_SU_ARCHIVE },
	{ "Archives", IMPORT_SU_ARCHIVE },
	{ "Archiv", IMPORT_SU_ARCHIVE },
};

unsigned int import_special_use_of(const char *name)
{
	/* only top-level folders (and INBOX's children, Courier's "INBOX.Sent") have a role */
	const char *last = name;
	if (strncasecmp(name, "INBOX/", 6) == 0)
		last = name + 6;
	if (strchr(last, '/') != NULL)
		return 0;
	for (size_t i = 0; i < sizeof(su_names) / sizeof(su_names[0]); i++) {
		/* strcasecmp folds ASCII only: "ENTWÜRFE" needs an exact "Ü", which is fine */
		if (strcasecmp(last, su_names[i].name) == 0)
			return su_names[i].su;
	}
	return 0;
}

/* ------------------------------------------------------------------ mbox */

static bool from_line_at(const char *data, size_t len, size_t pos)
{
	return len - pos >= 5 && memcmp(data + pos, "From ", 5) == 0;
}

int import_mbox_next(const char *data, size_t len, size_t *pos, struct import_mbox_msg *m)
{
	size_t p = *pos;
	if (p == 0 && len > 0 && !from_line_at(data, len, 0))
		return -1;
	if (p >= len)
		return 0;
	if (!from_line_at(data, len, p))
		return -1; /* only after a bug: *pos always points at a From line */
	const char *nl = memchr(data + p, '\n', len - p);
	size_t line_end = nl != NULL ? (size_t)(nl - data) : len;
	m->from_line = data + p;
	m->from_len = line_end - p;
	if (m->from_len > 0 && m->from_line[m->from_len - 1] == '\r')
		m->from_len--;
	m->start = nl != NULL ? line_end + 1 : len;
	/* the next line that begins "From " */
	size_t q = m->start;
	size_t next = len;
	while (q < len) {
		if (from_line_at(data, len, q)) {
			next = q;
			break;
		}
		const char *n2 = memchr(data + q, '\n', len - q);
		if (n2 == NULL)
			break;
		q = (size_t)(n2 - data) + 1;
	}
	size_t end = next;
	/* the separating blank line belongs to neither message; writers put one after
	 * the last message as well */
	if (end >= m->start + 2 && data[end - 1] == '\n') {
		size_t e2 = end - 1;
		if (e2 > m->start && data[e2 - 1] == '\r')
			e2--;
		if (e2 > m->start && data[e2 - 1] == '\n')
			end = e2;
	}
	m->end = end;
	*pos = next;
	return 1;
}

void import_mbox_unescape(struct buf *out, const char *data, size_t len)
{
	size_t pos = 0;
	while (pos < len) {
		const char *nl = memchr(data + pos, '\n', len - pos);
		size_t e = nl != NULL ? (size_t)(nl - data) + 1 : len;
		size_t k = pos;
		while (k < e && data[k] == '>')
			k++;
		if (k > pos && e - k >= 5 && memcmp(data + k, "From ", 5) == 0)
			pos++; /* drop one '>' */
		buf_append(out, data + pos, e - pos);
		pos = e;
	}
}

int64_t import_mbox_date(const char *line, size_t len)
{
	/* "From SENDER DAY MON DD HH:MM:SS YYYY" (asctime); the sender may be anything
	 * without spaces: look for the weekday-month pattern from the end */
	char buf[256];
	if (len >= sizeof(buf))
		len = sizeof(buf) - 1;
	memcpy(buf, line, len);
	buf[len] = '\0';
	static const char *const mons[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	for (char *p = buf; (p = strchr(p, ' ')) != NULL; p++) {
		char wd[4], mon[4];
		int day, hh, mm, ss, year;
		int used = 0;
		if (sscanf(p + 1, "%3s %3s %d %d:%d:%d %d%n", wd, mon, &day, &hh, &mm, &ss, &year, &used) != 7)
			continue;
		int mi = -1;
		for (int i = 0; i < 12; i++) {
			if (strcmp(mon, mons[i]) == 0)
				mi = i;
		}
		if (mi < 0 || day < 1 || day > 31 || hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 60 ||
		    year < 1970 || year > 9999)
			continue;
		struct tm tm = {
			.tm_year = year - 1900, .tm_mon = mi, .tm_mday = day, .tm_hour = hh, .tm_min = mm, .tm_sec = ss
		};
		time_t t = timegm(&tm);
		return t > 0 ? (int64_t)t : 0;
	}
	return 0;
}

/* The end of the header (the offset of the blank line), or len. */
static size_t header_end(const char *msg, size_t len)
{
	size_t pos = 0;
	while (pos < len) {
		if (msg[pos] == '\n' || (msg[pos] == '\r' && pos + 1 < len && msg[pos + 1] == '\n'))
			return pos;
		const char *nl = memchr(msg + pos, '\n', len - pos);
		if (nl == NULL)
			return len;
		pos = (size_t)(nl - msg) + 1;
	}
	return len;
}

const char *import_header_value(struct arena *a, const char *msg, size_t len, const char *name)
{
	size_t hend = header_end(msg, len), nlen = strlen(name), pos = 0;
	while (pos < hend) {
		const char *nl = memchr(msg + pos, '\n', hend - pos);
		size_t e = nl != NULL ? (size_t)(nl - msg) + 1 : hend;
		if (e - pos > nlen && msg[pos + nlen] == ':' && strncasecmp(msg + pos, name, nlen) == 0) {
			struct buf v = { 0 };
			size_t q = pos + nlen + 1;
			for (;;) {
				for (; q < e; q++) {
					if (msg[q] != '\r' && msg[q] != '\n' && v.len < 998)
						buf_putc(&v, msg[q] == '\t' ? ' ' : msg[q]);
				}
				/* folded continuation lines */
				if (e < hend && (msg[e] == ' ' || msg[e] == '\t')) {
					const char *n2 = memchr(msg + e, '\n', hend - e);
					q = e;
					e = n2 != NULL ? (size_t)(n2 - msg) + 1 : hend;
					continue;
				}
				break;
			}
			struct bytes t = bytes_trim((struct bytes){ v.data != NULL ? v.data : "", v.len });
			const char *out = arena_strndup(a, t.p, t.len);
			buf_free(&v);
			return out;
		}
		pos = e;
	}
	return NULL;
}

void import_mbox_flags(struct arena *a, const char *msg, size_t len, unsigned int *flags_r, const char ***keywords_r)
{
	unsigned int flags = 0;
	const char *st = import_header_value(a, msg, len, "Status");
	const char *xs = import_header_value(a, msg, len, "X-Status");
	for (const char *p = st; p != NULL && *p != '\0'; p++) {
		if (*p == 'R')
			flags |= IMPORT_F_SEEN;
	}
	for (const char *p = xs; p != NULL && *p != '\0'; p++) {
		switch (*p) {
		case 'A':
			flags |= IMPORT_F_ANSWERED;
			break;
		case 'F':
			flags |= IMPORT_F_FLAGGED;
			break;
		case 'T':
			flags |= IMPORT_F_DRAFT;
			break;
		case 'D':
			flags |= IMPORT_F_DELETED;
			break;
		default:
			break;
		}
	}
	*flags_r = flags;
	const char *xk = import_header_value(a, msg, len, "X-Keywords");
	size_t cap = 1, n = 0;
	for (const char *p = xk; p != NULL && *p != '\0'; p++)
		cap += *p == ' ' || *p == ',';
	cap++;
	const char **kws = arena_alloc(a, cap * sizeof(*kws));
	for (const char *p = xk; p != NULL && *p != '\0';) {
		while (*p == ' ' || *p == ',')
			p++;
		size_t k = strcspn(p, " ,");
		if (k > 0 && n + 1 < cap)
			kws[n++] = arena_strndup(a, p, k);
		p += k;
	}
	kws[n] = NULL;
	*keywords_r = kws;
}
