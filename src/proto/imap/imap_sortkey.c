/* imap_sortkey.c: the RFC 5256 / RFC 5957 sort keys of one message, derived once from
 * its decoded Subject, From, To and Cc (see imap_thread.h). The store keeps them per
 * message (store_sortkey.c) so that SORT and THREAD compare stored strings; the keys
 * are already case-folded, so a plain byte comparison (SQLite's BINARY collation, or
 * strcmp) is the i;ascii-casemap order RFC 5256 §2.2 asks for. */
#include "imap_thread.h"

#include <string.h>

static const char *fold(struct arena *a, const char *s)
{
	size_t n = strlen(s);
	char *o = arena_alloc(a, n + 1);
	for (size_t i = 0; i < n; i++)
		o[i] = s[i] >= 'a' && s[i] <= 'z' ? (char)(s[i] - 32) : s[i];
	return o;
}

/* RFC 5256 §3 sorts by the addr-mailbox of the first address of the ENVELOPE: for group
 * syntax ("team: a@b;", RFC 5322 §3.4) that is the group start, whose addr-mailbox is
 * the group's name (RFC 9051 §7.5.2). Returns the name, or NULL when the list does not
 * start with a group. */
static const char *group_name(struct arena *a, const char *list)
{
	const char *p = list;
	while (*p == ' ' || *p == '\t')
		p++;
	const char *s = p, *e;
	if (*p == '"') {
		s = ++p;
		while (*p != '\0' && *p != '"')
			p += p[0] == '\\' && p[1] != '\0' ? 2 : 1;
		if (*p != '"')
			return NULL;
		e = p++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != ':')
			return NULL;
	} else {
		p += strcspn(p, ":<@,\"");
		if (*p != ':')
			return NULL;
		e = p;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
	}
	return arena_strndup(a, s, (size_t)(e - s));
}

const char *imap_address_key(struct arena *a, const char *list, bool display)
{
	const char *name, *addr;
	const char *group = list != NULL && !display ? group_name(a, list) : NULL;
	if (group != NULL)
		return fold(a, group);
	imap_first_address(a, list, &name, &addr);
	if (display) /* RFC 5957 §2: the display name, else the addr-spec */
		return fold(a, name[0] ? name : addr);
	const char *at = strchr(addr, '@');
	return fold(a, at ? arena_strndup(a, addr, (size_t)(at - addr)) : addr);
}

void imap_sort_keys_of(struct arena *a, const char *subject, const char *from, const char *to, const char *cc,
		       struct imap_sort_keys *k)
{
	k->subject = imap_base_subject(a, subject, &k->reply);
	k->from = imap_address_key(a, from, false);
	k->to = imap_address_key(a, to, false);
	k->cc = imap_address_key(a, cc, false);
	k->display_from = imap_address_key(a, from, true);
	k->display_to = imap_address_key(a, to, true);
}
