/* junk_tokens.c: the junk filter's tokenizer (junk_int.h). A message becomes a set
 * of distinct tokens: header features (the From: address and domain, Reply-To,
 * Subject words and bigrams, recipient and Received-hop count buckets, the
 * Content-Type, List-Id presence, the spf/dkim/dmarc verdicts of our own
 * Authentication-Results field), the words of the decoded text/plain and text/html
 * parts (HTML reduced to text, charsets converted to UTF-8 by src/mail, words lower
 * case, Latin-1 capitals such as Ä Ö Ü folded too), the domains of links and the
 * types of attachments.
 *
 * Bounded whatever the input: only the first max_bytes of the message are parsed
 * (so a base64 bomb decodes to less than that), at most max_bytes of decoded text
 * are read over all parts, words longer than JUNK_WORD_MAX are skipped, and
 * tokenizing stops at max_tokens distinct tokens. Pure: bytes in, tokens out. */
#include "junk_int.h"

#include "buf.h"
#include "mail.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

struct tokset {
	struct arena *a;
	struct junk_tokens *out;
	const struct junk_settings *set;
	const char **tok;
	uint32_t *slots; /* index + 1 into tok, 0: empty; size mask + 1 */
	size_t mask, cap;
	size_t text_left; /* decoded-text bytes still allowed */
};

static uint64_t fnv1a(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static bool full(const struct tokset *t)
{
	return t->out->n >= t->cap;
}

/* Adds prefix and s[0..n) (cut at JUNK_TOKEN_MAX) unless already there. */
static void add(struct tokset *t, const char *prefix, const char *s, size_t n)
{
	if (full(t))
		return;
	char tmp[JUNK_TOKEN_MAX + 1];
	size_t pl = strlen(prefix);
	if (pl > JUNK_TOKEN_MAX)
		pl = JUNK_TOKEN_MAX;
	if (n > JUNK_TOKEN_MAX - pl)
		n = JUNK_TOKEN_MAX - pl;
	memcpy(tmp, prefix, pl);
	memcpy(tmp + pl, s, n);
	size_t len = pl + n;
	tmp[len] = '\0';
	if (memchr(tmp, '\0', len) != NULL)
		return; /* a NUL inside: not a token */
	uint64_t h = fnv1a(tmp, len);
	for (size_t i = h & t->mask;; i = (i + 1) & t->mask) {
		uint32_t v = t->slots[i];
		if (v == 0) {
			const char *copy = arena_strndup(t->a, tmp, len);
			t->tok[t->out->n] = copy;
			t->out->n++;
			t->slots[i] = (uint32_t)t->out->n;
			return;
		}
		if (strcmp(t->tok[v - 1], tmp) == 0)
			return;
	}
}

static void add_str(struct tokset *t, const char *prefix, const char *s)
{
	add(t, prefix, s, strlen(s));
}

static bool word_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

/* Lower-cases ASCII and the Latin-1 capitals U+00C0..U+00DE (but U+00D7) in place. */
static void fold(char *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)w[i];
		if (c >= 'A' && c <= 'Z') {
			w[i] = (char)(c + 32);
		} else if (c == 0xC3 && i + 1 < n) {
			unsigned char d = (unsigned char)w[i + 1];
			if (d >= 0x80 && d <= 0x9E && d != 0x97)
				w[i + 1] = (char)(d + 0x20);
			i++;
		}
	}
}

/* Calls back for each word of text (lower case, JUNK_WORD_MIN..JUNK_WORD_MAX bytes,
 * not only digits): as tokens with prefix, and as bigrams with prefix2 when set. */
static void words(struct tokset *t, const char *prefix, const char *prefix2, const char *text, size_t len)
{
	char prev[JUNK_WORD_MAX + 1];
	size_t prevlen = 0;
	size_t i = 0;
	while (i < len && !full(t)) {
		while (i < len && !word_byte((unsigned char)text[i]))
			i++;
		size_t start = i;
		bool digits = true;
		while (i < len && word_byte((unsigned char)text[i])) {
			if (text[i] < '0' || text[i] > '9')
				digits = false;
			i++;
		}
		size_t n = i - start;
		if (n < JUNK_WORD_MIN || n > JUNK_WORD_MAX || digits)
			continue;
		char w[JUNK_WORD_MAX + 1];
		memcpy(w, text + start, n);
		w[n] = '\0';
		fold(w, n);
		add(t, prefix, w, n);
		if (prefix2 != NULL && prevlen > 0) {
			char bi[2 * JUNK_WORD_MAX + 2];
			int bl = snprintf(bi, sizeof(bi), "%s %s", prev, w);
			add(t, prefix2, bi, (size_t)bl);
		}
		memcpy(prev, w, n + 1);
		prevlen = n;
	}
}

static const char *bucket(size_t n)
{
	return n == 0 ? "0" : n == 1 ? "1" : n == 2 ? "2" : n <= 5 ? "3-5" : n <= 20 ? "6-20" : "many";
}

/* The domain of an address (after the last @), or "". */
static const char *domain_of(const char *addr)
{
	const char *at = strrchr(addr, '@');
	return at != NULL ? at + 1 : "";
}

static char *lower_dup(struct arena *a, const char *s)
{
	char *d = arena_strdup(a, s);
	for (char *p = d; *p; p++) {
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p + 32);
	}
	return d;
}

/* The top-level domain of a host name (after the last dot), or "". */
static const char *tld_of(const char *host)
{
	const char *dot = strrchr(host, '.');
	return dot != NULL && dot[1] != '\0' ? dot + 1 : "";
}

/* Link domains: every http(s):// URL in text gives url:HOST and urltld:TLD. */
static void links(struct tokset *t, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	while (p < end && !full(t)) {
		const char *h = memmem(p, (size_t)(end - p), "://", 3);
		if (h == NULL)
			break;
		bool web = (h - text >= 4 && strncasecmp(h - 4, "http", 4) == 0) ||
			   (h - text >= 5 && strncasecmp(h - 5, "https", 5) == 0);
		p = h + 3;
		if (!web)
			continue;
		const char *q = p;
		while (q < end && q - p < JUNK_TOKEN_MAX && (word_byte((unsigned char)*q) || *q == '.' || *q == '-'))
			q++;
		if (q == p)
			continue;
		char host[JUNK_TOKEN_MAX + 1];
		size_t n = (size_t)(q - p);
		memcpy(host, p, n);
		host[n] = '\0';
		fold(host, n);
		add(t, "url:", host, n);
		if (*tld_of(host) != '\0')
			add_str(t, "urltld:", tld_of(host));
		p = q;
	}
}

/* Our own Authentication-Results field (the first one, authserv-id = hostname):
 * its spf=, dkim= and dmarc= results. */
static void authres(struct tokset *t, const char *hdr, size_t hlen)
{
	struct buf v = { 0 };
	if (t->set->hostname == NULL || mail_header_values_raw(hdr, hlen, "Authentication-Results", &v) <= 0) {
		buf_free(&v);
		return;
	}
	const char *s = v.data, *nl = strchr(s, '\n');
	size_t n = nl != NULL ? (size_t)(nl - s) : strlen(s);
	while (n > 0 && (*s == ' ' || *s == '\t'))
		s++, n--;
	size_t hl = strlen(t->set->hostname);
	if (n > hl && strncasecmp(s, t->set->hostname, hl) == 0 && (s[hl] == ';' || s[hl] == ' ')) {
		static const char *const methods[] = { "spf=", "dkim=", "dmarc=" };
		char *line = arena_strndup(t->a, s, n);
		fold(line, n);
		for (size_t m = 0; m < 3; m++) {
			for (const char *p = line; (p = strstr(p, methods[m])) != NULL; p++) {
				if (p > line && p[-1] != ' ' && p[-1] != ';' && p[-1] != '\t')
					continue;
				const char *r = p + strlen(methods[m]);
				size_t rl = strspn(r, "abcdefghijklmnopqrstuvwxyz");
				char tok[16];
				snprintf(tok, sizeof(tok), "%.*s", (int)strlen(methods[m]), methods[m]);
				add(t, tok, r, rl);
				if (m == 2 && rl == 4 && strncmp(r, "fail", 4) == 0)
					t->out->dmarc_fail = true;
				break;
			}
		}
	}
	buf_free(&v);
}

static void headers(struct tokset *t, const char *msg, const struct mail_info *info)
{
	size_t hlen = (size_t)info->header_len;
	const char **addrs;
	size_t n;
	mail_header_mailboxes(t->a, msg, hlen, "From", &addrs, &n);
	if (n > 0) {
		const char *from = lower_dup(t->a, addrs[0]);
		t->out->from = from;
		add_str(t, "from:", from);
		add_str(t, "fromdom:", domain_of(from));
		if (*tld_of(domain_of(from)) != '\0')
			add_str(t, "fromtld:", tld_of(domain_of(from)));
	} else {
		add_str(t, "from:", "none");
	}
	words(t, "fromname:", NULL, info->from, strlen(info->from));
	mail_header_mailboxes(t->a, msg, hlen, "Reply-To", &addrs, &n);
	if (n > 0) {
		const char *rt = domain_of(lower_dup(t->a, addrs[0]));
		add_str(t, "replyto:", rt);
		if (t->out->from == NULL || strcasecmp(rt, domain_of(t->out->from)) != 0)
			add_str(t, "replyto:", "other-domain");
	}
	words(t, "subj:", "subj2:", info->subject, strlen(info->subject));
	size_t nrcpt = 0;
	static const char *const rfields[] = { "To", "Cc" };
	for (size_t f = 0; f < 2; f++) {
		mail_header_mailboxes(t->a, msg, hlen, rfields[f], &addrs, &n);
		nrcpt += n;
	}
	add_str(t, "rcpts:", bucket(nrcpt));
	struct buf v = { 0 };
	int hops = mail_header_values_raw(msg, hlen, "Received", &v);
	add_str(t, "hops:", bucket(hops > 0 ? (size_t)hops : 0));
	buf_reset(&v);
	add_str(t, "list-id:", mail_header_values_raw(msg, hlen, "List-Id", &v) > 0 ? "yes" : "no");
	buf_free(&v);
	if (info->nparts > 0) {
		char ct[JUNK_TOKEN_MAX];
		snprintf(ct, sizeof(ct), "%s/%s", info->parts[0].type, info->parts[0].subtype);
		add_str(t, "ctype:", ct);
	}
	authres(t, msg, hlen);
}

/* File name extensions that run code or hide it (programs, scripts, macro documents,
 * disk images, archives): an attachment with one also gives attach:risky, one token
 * for the whole class, since each extension alone is rare in a young model. */
static bool risky_ext(const char *ext)
{
	static const char *const risky[] = { "exe", "scr", "com", "pif", "bat", "cmd", "js", "jse", "vbs", "vbe",
					     "wsf", "hta", "jar", "msi", "lnk", "iso", "img", "vhd", "zip", "rar",
					     "7z", "ace", "arj", "cab", "gz", "docm", "xlsm", "pptm", "dotm", "xlam" };
	for (size_t i = 0; i < sizeof(risky) / sizeof(risky[0]); i++) {
		if (strcmp(ext, risky[i]) == 0)
			return true;
	}
	return false;
}

/* The <img tags of an HTML part's source (count, capped). */
static size_t img_tags(const char *html, size_t len)
{
	size_t n = 0;
	for (const char *p = html, *end = html + len; n < 100 && (p = memmem(p, (size_t)(end - p), "<img", 4)) != NULL;
	     p += 4)
		n++;
	return n;
}

static void bodies(struct tokset *t, const char *msg, size_t len, const struct mail_info *info)
{
	bool plain = false, html = false;
	size_t imgs = 0;
	for (size_t i = 0; i < info->nparts && i < JUNK_MAX_PARTS && !full(t); i++) {
		const struct mail_part *p = &info->parts[i];
		if (p->flags & (MAIL_PART_MULTIPART | MAIL_PART_MESSAGE))
			continue;
		if ((p->flags & MAIL_PART_ATTACHMENT) || !(p->flags & MAIL_PART_TEXT)) {
			char ty[JUNK_TOKEN_MAX];
			snprintf(ty, sizeof(ty), "%s/%s", p->type, p->subtype);
			add_str(t, "attach:", ty);
			const char *dot = strrchr(p->filename, '.');
			if (dot != NULL && dot[1] != '\0') {
				char *ext = arena_strdup(t->a, dot + 1);
				fold(ext, strlen(ext));
				add_str(t, "attach-ext:", ext);
				if (risky_ext(ext))
					add_str(t, "attach:", "risky");
			}
			continue;
		}
		bool is_html = strcmp(p->subtype, "html") == 0;
		if (!is_html && strcmp(p->subtype, "plain") != 0)
			continue;
		if (t->text_left == 0)
			break;
		html |= is_html;
		plain |= !is_html;
		struct buf raw = { 0 };
		mail_part_text(msg, len, p, false, &raw);
		size_t rn = raw.len < t->text_left ? raw.len : t->text_left;
		t->text_left -= rn;
		t->out->bytes_read += rn;
		links(t, raw.data ? raw.data : "", rn);
		if (is_html) {
			imgs += img_tags(raw.data ? raw.data : "", rn);
			struct buf txt = { 0 };
			mail_part_text(msg, len, p, true, &txt);
			size_t tn = txt.len < t->text_left ? txt.len : t->text_left;
			t->text_left -= tn;
			t->out->bytes_read += tn;
			words(t, "", NULL, txt.data ? txt.data : "", tn);
			buf_free(&txt);
		} else {
			words(t, "", NULL, raw.data ? raw.data : "", rn);
		}
		buf_free(&raw);
	}
	add_str(t, "html:", html ? (plain ? "alternative" : "only") : "none");
	if (html)
		add_str(t, "img:", bucket(imgs));
}

void junk_tokenize(struct arena *a, const char *msg, size_t len, const struct junk_settings *set,
		   struct junk_tokens *out)
{
	memset(out, 0, sizeof(*out));
	struct tokset t = { .a = a, .out = out, .set = set, .cap = set->max_tokens > 0 ? set->max_tokens : 1 };
	size_t slots = 16;
	while (slots < 2 * t.cap)
		slots *= 2;
	t.mask = slots - 1;
	t.slots = arena_alloc(a, slots * sizeof(*t.slots));
	memset(t.slots, 0, slots * sizeof(*t.slots));
	t.tok = arena_alloc(a, t.cap * sizeof(*t.tok));
	out->tok = t.tok;
	if (len > set->max_bytes)
		len = set->max_bytes;
	t.text_left = set->max_bytes;
	out->bytes_read = len;
	struct mail_info *info = mail_parse(a, msg, len);
	headers(&t, msg, info);
	bodies(&t, msg, len, info);
}
