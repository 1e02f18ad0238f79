/* mail_addr.c: the mailboxes named in an address header field (From:, Sender:),
 * for the sending policy (who may send as whom, outside review of December 2026).
 *
 * The field values are taken from the header block the way the store reads them
 * (mail_hdr_parse: the first empty line ends the header, values unfolded) and parsed by
 * GMime's RFC 5322 address-list parser, the same one that builds the ENVELOPE and
 * JMAP's from/sender that mail clients show. Groups are flattened into their
 * members. Also the Return-Path field of final delivery (RFC 5321 §4.4). Pure: no
 * I/O, no global state beyond GMime's initialisation. */
#include "mail.h"
#include "mail_int.h"

#include <gmime/gmime.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Appends the mailboxes of one parsed address (a group contributes its members). */
static void add_address(struct arena *a, InternetAddress *ia, const char ***v, size_t *n, size_t *cap,
			size_t *bad)
{
	if (INTERNET_ADDRESS_IS_GROUP(ia)) {
		InternetAddressList *m = internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia));
		for (int i = 0; m != NULL && i < internet_address_list_length(m); i++)
			add_address(a, internet_address_list_get_address(m, i), v, n, cap, bad);
		return;
	}
	const char *addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
	if (addr == NULL || addr[0] == '\0') {
		(*bad)++;
		return;
	}
	if (*n + 1 >= *cap) {
		size_t ncap = *cap * 2;
		const char **nv = arena_alloc(a, ncap * sizeof(*nv));
		memcpy(nv, *v, *n * sizeof(*nv));
		*v = nv;
		*cap = ncap;
	}
	(*v)[(*n)++] = arena_strdup(a, addr);
}

int mail_header_mailboxes(struct arena *a, const char *msg, size_t len, const char *name, const char ***addrs_r,
			  size_t *n_r)
{
	mail_init();
	struct hblock hb;
	mail_hdr_parse(a, msg, len, &hb);
	size_t nl = strlen(name), n = 0, cap = 8, bad = 0;
	const char **v = arena_alloc(a, cap * sizeof(*v));
	int fields = 0;
	for (size_t i = 0; i < hb.n; i++) {
		if (hb.f[i].nlen != nl || strncasecmp(hb.f[i].name, name, nl) != 0)
			continue;
		fields++;
		const char *value = mail_unfold(a, hb.f[i].val, hb.f[i].vlen, MAIL_MAX_FIELD);
		size_t before = n;
		InternetAddressList *l = internet_address_list_parse(NULL, value);
		for (int k = 0; l != NULL && k < internet_address_list_length(l); k++)
			add_address(a, internet_address_list_get_address(l, k), &v, &n, &cap, &bad);
		if (l != NULL)
			g_object_unref(l);
		if (n == before && value[0] != '\0')
			bad++; /* text that names nobody GMime can see, but a client may show */
	}
	v[n] = NULL;
	*addrs_r = v;
	*n_r = n;
	return bad > 0 ? -1 : fields;
}

/* True when the line at p (n bytes, without its end) starts the field "Return-Path". */
static bool is_return_path(const char *p, size_t n)
{
	static const char name[] = "Return-Path";
	size_t k = sizeof(name) - 1;
	if (n < k || strncasecmp(p, name, k) != 0)
		return false;
	while (k < n && (p[k] == ' ' || p[k] == '\t'))
		k++;
	return k < n && p[k] == ':';
}

size_t mail_set_return_path(const char *sender, const char *data, size_t len, char **out_r)
{
	size_t slen = strlen(sender);
	char *o = xmalloc(len + slen + sizeof("Return-Path: <>\r\n"));
	size_t k = (size_t)sprintf(o, "Return-Path: <");
	for (size_t i = 0; i < slen; i++) { /* callers pass a checked address; never a line end */
		if (sender[i] != '\r' && sender[i] != '\n')
			o[k++] = sender[i];
	}
	memcpy(o + k, ">\r\n", 3);
	k += 3;
	size_t i = 0;
	bool dropping = false; /* inside a Return-Path field (its continuation lines too) */
	while (i < len) {
		const char *nl = memchr(data + i, '\n', len - i);
		size_t next = nl ? (size_t)(nl - data) + 1 : len;
		size_t n = next - i; /* the line with its end */
		size_t text = n - (nl ? 1 : 0);
		if (text > 0 && data[i + text - 1] == '\r')
			text--;
		if (text == 0) /* the empty line: the header ends, the rest is copied */
			break;
		if (data[i] == ' ' || data[i] == '\t') {
			if (!dropping) {
				memcpy(o + k, data + i, n);
				k += n;
			}
		} else {
			dropping = is_return_path(data + i, text);
			if (!dropping) {
				memcpy(o + k, data + i, n);
				k += n;
			}
		}
		i = next;
	}
	memcpy(o + k, data + i, len - i);
	k += len - i;
	o[k] = '\0';
	*out_r = o;
	return k;
}

/* Local parts of senders that are machines, not people (compared case-insensitively). */
static bool machine_local_part(const char *addr)
{
	static const char *const machines[] = { "mailer-daemon", "postmaster", "noreply", "no-reply", "donotreply",
						"do-not-reply", "bounce", "bounces", NULL };
	const char *at = strrchr(addr, '@');
	size_t n = at != NULL ? (size_t)(at - addr) : strlen(addr);
	for (size_t i = 0; machines[i] != NULL; i++) {
		if (strlen(machines[i]) == n && strncasecmp(addr, machines[i], n) == 0)
			return true;
	}
	return false;
}

/* The first word of a header value (up to ';', a space or a comment), lower case. */
static const char *first_word(struct arena *a, const char *v)
{
	while (*v == ' ' || *v == '\t')
		v++;
	size_t n = strcspn(v, " \t;(");
	char *w = arena_alloc(a, n + 1);
	for (size_t i = 0; i < n; i++)
		w[i] = (char)((v[i] >= 'A' && v[i] <= 'Z') ? v[i] + 32 : v[i]);
	w[n] = '\0';
	return w;
}

int mail_personal_sender(struct arena *a, const char *msg, size_t len, const char **addr_r, const char **name_r)
{
	*addr_r = NULL;
	*name_r = NULL;
	mail_init();
	struct hblock hb;
	mail_hdr_parse(a, msg, len, &hb);
	/* mailing lists (RFC 2919, RFC 2369) and bulk mail are not people one knows */
	if (mail_hdr_get(&hb, "List-Id") != NULL || mail_hdr_get(&hb, "List-Unsubscribe") != NULL ||
	    mail_hdr_get(&hb, "List-Post") != NULL)
		return 0;
	const char *prec = mail_hdr_value(a, &hb, "Precedence", 256);
	if (prec != NULL) {
		const char *w = first_word(a, prec);
		if (strcmp(w, "bulk") == 0 || strcmp(w, "list") == 0 || strcmp(w, "junk") == 0)
			return 0;
	}
	/* RFC 3834 §5: anything but "no" was sent by a machine */
	const char *auto_sub = mail_hdr_value(a, &hb, "Auto-Submitted", 256);
	if (auto_sub != NULL && strcmp(first_word(a, auto_sub), "no") != 0)
		return 0;
	size_t nfrom = 0;
	const struct hfield *from = NULL;
	for (size_t i = 0; i < hb.n; i++) {
		if (hb.f[i].nlen == 4 && strncasecmp(hb.f[i].name, "From", 4) == 0) {
			from = &hb.f[i];
			nfrom++;
		}
	}
	if (nfrom != 1)
		return 0;
	const char *value = mail_unfold(a, from->val, from->vlen, MAIL_MAX_FIELD);
	InternetAddressList *l = internet_address_list_parse(NULL, value);
	int ret = 0;
	if (l != NULL && internet_address_list_length(l) == 1) {
		InternetAddress *ia = internet_address_list_get_address(l, 0);
		const char *addr = INTERNET_ADDRESS_IS_MAILBOX(ia) ? internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia))
								 : NULL;
		if (addr != NULL && strchr(addr, '@') != NULL && addr[0] != '@' && !machine_local_part(addr) &&
		    strlen(addr) <= 254 && strpbrk(addr, " \t\r\n") == NULL) {
			const char *name = internet_address_get_name(ia);
			*addr_r = arena_strdup(a, addr);
			*name_r = name != NULL && name[0] != '\0' ? arena_strdup(a, name) : NULL;
			ret = 1;
		}
	}
	if (l != NULL)
		g_object_unref(l);
	return ret;
}

void mail_recipient_names(struct arena *a, const char *msg, size_t len, const char *const *addrs, size_t n,
			  const char **names)
{
	for (size_t i = 0; i < n; i++)
		names[i] = NULL;
	mail_init();
	struct hblock hb;
	mail_hdr_parse(a, msg, len, &hb);
	for (size_t f = 0; f < hb.n; f++) {
		const struct hfield *h = &hb.f[f];
		if (!((h->nlen == 2 && strncasecmp(h->name, "To", 2) == 0) ||
		      (h->nlen == 2 && strncasecmp(h->name, "Cc", 2) == 0) ||
		      (h->nlen == 3 && strncasecmp(h->name, "Bcc", 3) == 0)))
			continue;
		InternetAddressList *l = internet_address_list_parse(NULL, mail_unfold(a, h->val, h->vlen, MAIL_MAX_FIELD));
		if (l == NULL)
			continue;
		for (int k = 0; k < internet_address_list_length(l); k++) {
			InternetAddress *ia = internet_address_list_get_address(l, k);
			const char *name = internet_address_get_name(ia);
			if (!INTERNET_ADDRESS_IS_MAILBOX(ia) || name == NULL || name[0] == '\0')
				continue;
			const char *addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
			for (size_t i = 0; addr != NULL && i < n; i++)
				if (names[i] == NULL && strcasecmp(addrs[i], addr) == 0)
					names[i] = arena_strdup(a, name);
		}
		g_object_unref(l);
	}
}
