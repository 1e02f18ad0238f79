/* imap_search.c: search keys (see imap_search.h).
 *
 * RFC 9051 §9: search = "SEARCH" [search-return-opts] SP search-program;
 * search-program = ["CHARSET" SP charset SP] search-key *(SP search-key);
 * search-key = "ALL" / "ANSWERED" / "BCC" SP astring / "BEFORE" SP date / "BODY" SP
 * astring / "CC" SP astring / "DELETED" / "FLAGGED" / "FROM" SP astring / "KEYWORD" SP
 * flag-keyword / "ON" SP date / "SEEN" / "SINCE" SP date / "SUBJECT" SP astring /
 * "TEXT" SP astring / "TO" SP astring / "UNANSWERED" / "UNDELETED" / "UNFLAGGED" /
 * "UNKEYWORD" SP flag-keyword / "UNSEEN" / "DRAFT" / "HEADER" SP header-fld-name SP
 * astring / "LARGER" SP number64 / "NOT" SP search-key / "OR" SP search-key SP
 * search-key / "SENTBEFORE" SP date / "SENTON" SP date / "SENTSINCE" SP date /
 * "SMALLER" SP number64 / "UID" SP sequence-set / "UNDRAFT" / sequence-set /
 * "(" search-key *(SP search-key) ")"; RFC 3501 adds NEW, OLD, RECENT. */
#include "imap_search.h"

#include <string.h>
#include <strings.h>

#define MAX_RANGES 200000

struct key_def {
	const char *name;
	enum imap_sk key;
	enum { ARG_NONE, ARG_ASTRING, ARG_DATE, ARG_NUMBER, ARG_KEYWORD, ARG_SET } arg;
};

static const struct key_def keys[] = {
	{ "ALL", IMAP_SK_ALL, ARG_NONE }, { "ANSWERED", IMAP_SK_ANSWERED, ARG_NONE },
	{ "DELETED", IMAP_SK_DELETED, ARG_NONE }, { "DRAFT", IMAP_SK_DRAFT, ARG_NONE },
	{ "FLAGGED", IMAP_SK_FLAGGED, ARG_NONE }, { "SEEN", IMAP_SK_SEEN, ARG_NONE },
	{ "UNANSWERED", IMAP_SK_UNANSWERED, ARG_NONE }, { "UNDELETED", IMAP_SK_UNDELETED, ARG_NONE },
	{ "UNDRAFT", IMAP_SK_UNDRAFT, ARG_NONE }, { "UNFLAGGED", IMAP_SK_UNFLAGGED, ARG_NONE },
	{ "UNSEEN", IMAP_SK_UNSEEN, ARG_NONE }, { "NEW", IMAP_SK_NEW, ARG_NONE },
	{ "OLD", IMAP_SK_OLD, ARG_NONE }, { "RECENT", IMAP_SK_RECENT, ARG_NONE },
	{ "KEYWORD", IMAP_SK_KEYWORD, ARG_KEYWORD }, { "UNKEYWORD", IMAP_SK_UNKEYWORD, ARG_KEYWORD },
	{ "BCC", IMAP_SK_BCC, ARG_ASTRING }, { "CC", IMAP_SK_CC, ARG_ASTRING },
	{ "FROM", IMAP_SK_FROM, ARG_ASTRING }, { "TO", IMAP_SK_TO, ARG_ASTRING },
	{ "SUBJECT", IMAP_SK_SUBJECT, ARG_ASTRING }, { "BODY", IMAP_SK_BODY, ARG_ASTRING },
	{ "TEXT", IMAP_SK_TEXT, ARG_ASTRING },
	{ "BEFORE", IMAP_SK_BEFORE, ARG_DATE }, { "ON", IMAP_SK_ON, ARG_DATE },
	{ "SINCE", IMAP_SK_SINCE, ARG_DATE }, { "SENTBEFORE", IMAP_SK_SENTBEFORE, ARG_DATE },
	{ "SENTON", IMAP_SK_SENTON, ARG_DATE }, { "SENTSINCE", IMAP_SK_SENTSINCE, ARG_DATE },
	{ "SAVEDBEFORE", IMAP_SK_SAVEDBEFORE, ARG_DATE }, { "SAVEDON", IMAP_SK_SAVEDON, ARG_DATE },
	{ "SAVEDSINCE", IMAP_SK_SAVEDSINCE, ARG_DATE },
	{ "OLDER", IMAP_SK_OLDER, ARG_NUMBER }, { "YOUNGER", IMAP_SK_YOUNGER, ARG_NUMBER },
	{ "LARGER", IMAP_SK_LARGER, ARG_NUMBER }, { "SMALLER", IMAP_SK_SMALLER, ARG_NUMBER },
	{ "UID", IMAP_SK_UID, ARG_SET },
	{ "EMAILID", IMAP_SK_EMAILID, ARG_ASTRING }, { "THREADID", IMAP_SK_THREADID, ARG_ASTRING },
};

static int fail(struct imap_cur *cur, const char *error)
{
	if (cur->error == NULL)
		cur->error = error;
	return -1;
}

static struct imap_search *node(struct imap_cur *cur, enum imap_sk key)
{
	struct imap_search *n = arena_alloc(cur->a, sizeof(*n));
	n->key = key;
	return n;
}

static int search_key(struct imap_cur *cur, int depth, struct imap_search **out);

/* keys up to ")" (inside parentheses) or the end */
static int key_list(struct imap_cur *cur, int depth, bool paren, struct imap_search *and)
{
	struct imap_search **tail = &and->sub;
	for (;;) {
		struct imap_search *k;
		if (search_key(cur, depth, &k) < 0)
			return -1;
		*tail = k;
		tail = &k->next;
		if (paren && imap_cur_skip(cur, ')'))
			return 1;
		if (!paren && imap_cur_end(cur))
			return 1;
		if (imap_cur_sp(cur) < 0)
			return -1;
	}
}

static int search_key(struct imap_cur *cur, int depth, struct imap_search **out)
{
	if (depth > IMAP_SEARCH_DEPTH_MAX)
		return fail(cur, "Search program nested too deeply");
	int c = imap_cur_peek(cur);
	if (c == '(') {
		cur->pos++;
		struct imap_search *and = node(cur, IMAP_SK_AND);
		if (key_list(cur, depth + 1, true, and) < 0)
			return -1;
		*out = and;
		return 1;
	}
	if ((c >= '0' && c <= '9') || c == '*' || c == '$') {
		struct imap_search *n = node(cur, IMAP_SK_SEQ);
		if (imap_cur_seqset(cur, true, MAX_RANGES, &n->set) < 0)
			return -1;
		*out = n;
		return 1;
	}
	if (imap_cur_keyword(cur, "NOT")) {
		struct imap_search *n = node(cur, IMAP_SK_NOT);
		if (imap_cur_sp(cur) < 0 || search_key(cur, depth + 1, &n->sub) < 0)
			return -1;
		*out = n;
		return 1;
	}
	if (imap_cur_keyword(cur, "OR")) {
		struct imap_search *n = node(cur, IMAP_SK_OR);
		struct imap_search *b;
		if (imap_cur_sp(cur) < 0 || search_key(cur, depth + 1, &n->sub) < 0 || imap_cur_sp(cur) < 0 ||
		    search_key(cur, depth + 1, &b) < 0)
			return -1;
		n->sub->next = b;
		*out = n;
		return 1;
	}
	if (imap_cur_keyword(cur, "MODSEQ")) {
		/* RFC 7162 §3.1.5: search-modsequence = "MODSEQ" [search-modseq-ext] SP
		 * mod-sequence-valzer; search-modseq-ext = SP entry-name SP entry-type-req;
		 * entry-type-req = "priv" / "shared" / "all". Flags have one MODSEQ with the
		 * message here, so the entry only narrows nothing. */
		struct imap_search *n = node(cur, IMAP_SK_MODSEQ);
		if (imap_cur_sp(cur) < 0)
			return -1;
		if (imap_cur_peek(cur) == '"') {
			struct imap_str name;
			if (imap_cur_string(cur, &name) < 0 || imap_cur_sp(cur) < 0)
				return -1;
			if (name.len < 7 || strncasecmp(name.s, "/flags/", 7) != 0)
				return fail(cur, "Invalid MODSEQ entry name");
			if (!imap_cur_keyword(cur, "priv") && !imap_cur_keyword(cur, "shared") &&
			    !imap_cur_keyword(cur, "all"))
				return fail(cur, "Invalid MODSEQ entry type");
			if (imap_cur_sp(cur) < 0)
				return -1;
		}
		uint64_t v;
		if (imap_cur_number(cur, 0, INT64_MAX, &v) < 0)
			return -1;
		n->num = (int64_t)v;
		*out = n;
		return 1;
	}
	if (imap_cur_keyword(cur, "HEADER")) {
		struct imap_search *n = node(cur, IMAP_SK_HEADER);
		struct imap_str f, v;
		if (imap_cur_sp(cur) < 0 || imap_cur_astring(cur, &f) < 0 || imap_cur_sp(cur) < 0 ||
		    imap_cur_astring(cur, &v) < 0)
			return -1;
		n->field = f.s;
		n->str = v.s;
		*out = n;
		return 1;
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (!imap_cur_keyword(cur, keys[i].name))
			continue;
		struct imap_search *n = node(cur, keys[i].key);
		*out = n;
		if (keys[i].arg == ARG_NONE)
			return 1;
		if (imap_cur_sp(cur) < 0)
			return -1;
		switch (keys[i].arg) {
		case ARG_NONE:
			break;
		case ARG_ASTRING: {
			struct imap_str s;
			if (imap_cur_astring(cur, &s) < 0)
				return -1;
			n->str = s.s;
			break;
		}
		case ARG_KEYWORD: {
			struct bytes a;
			if (imap_cur_atom(cur, &a) < 0)
				return -1;
			n->str = arena_strndup(cur->a, a.p, a.len);
			break;
		}
		case ARG_DATE: {
			int y, m, d;
			if (imap_cur_date(cur, &y, &m, &d) < 0)
				return -1;
			n->day = (int32_t)imap_days_from_civil(y, m, d);
			break;
		}
		case ARG_NUMBER: {
			uint64_t v;
			if (imap_cur_number(cur, 0, INT64_MAX, &v) < 0)
				return -1;
			n->num = (int64_t)v;
			break;
		}
		case ARG_SET:
			if (imap_cur_seqset(cur, true, MAX_RANGES, &n->set) < 0)
				return -1;
			break;
		}
		return 1;
	}
	return fail(cur, imap_cur_end(cur) ? "Missing search key" : "Unknown search key");
}

int imap_search_parse(struct imap_cur *cur, struct imap_search **prog_r, const char **charset_r)
{
	*charset_r = NULL;
	if (imap_cur_keyword(cur, "CHARSET")) {
		struct imap_str cs;
		if (imap_cur_sp(cur) < 0 || imap_cur_astring(cur, &cs) < 0 || imap_cur_sp(cur) < 0)
			return -1;
		*charset_r = cs.s;
	}
	struct imap_search *and = node(cur, IMAP_SK_AND);
	if (key_list(cur, 0, false, and) < 0)
		return -1;
	*prog_r = and;
	return 1;
}
