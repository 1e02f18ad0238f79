/* sieve_bind.c: the definition of each command and test, checked at compile time.
 *
 * sieve_bind() takes one command's raw arguments (tags, numbers, string lists, as
 * sieve_parse.c read them) and binds them into a struct sieve_node: tags become
 * flags and fields, arguments go to fixed string-list slots (listed per op below),
 * and everything the RFCs make a compile-time error is one here: unknown commands,
 * tests and tags, a missing require, wrong argument counts or types, conflicting
 * tags, an invalid relational operator, comparator, date part, zone or variable
 * name, and a constant regular expression that does not compile or is too long.
 *
 * Slots: fileinto sl0 mailbox, sl1 :flags; keep sl1 :flags; redirect sl0 address;
 * reject/ereject sl0 reason; vacation sl0 reason, sl1 :subject, sl2 :from,
 * sl3 :addresses, sl4 :handle; set sl0 name, sl1 value; addflag/setflag/removeflag
 * sl0 variable (optional), sl1 flags; include sl0 name; global sl0 names;
 * address/header sl0 names, sl1 keys; envelope sl0 parts, sl1 keys; exists sl0;
 * body sl1 keys, sl3 :content types; date sl0 header, sl1 part, sl2 keys, sl3 zone;
 * currentdate sl1 part, sl2 keys, sl3 zone; string sl0 sources, sl1 keys; hasflag
 * sl0 variables (optional), sl1 keys; mailboxexists sl0; duplicate sl0 :handle,
 * sl1 :header, sl2 :uniqueid; spamtest sl1 value. */
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arena.h"
#include "sieve_int.h"

static const struct {
	const char *name;
	uint32_t bit;
} exts[] = {
	{ "fileinto", EXT_FILEINTO },
	{ "reject", EXT_REJECT },
	{ "ereject", EXT_EREJECT },
	{ "envelope", EXT_ENVELOPE },
	{ "encoded-character", EXT_ENCODED },
	{ "imap4flags", EXT_IMAP4FLAGS },
	{ "body", EXT_BODY },
	{ "variables", EXT_VARIABLES },
	{ "vacation", EXT_VACATION },
	{ "vacation-seconds", EXT_VACATION_SECONDS | EXT_VACATION },
	{ "relational", EXT_RELATIONAL },
	{ "comparator-i;ascii-numeric", EXT_NUMERIC },
	{ "comparator-i;octet", EXT_COMPARATOR_OCTET },
	{ "comparator-i;ascii-casemap", EXT_COMPARATOR_CASEMAP },
	{ "subaddress", EXT_SUBADDRESS },
	{ "copy", EXT_COPY },
	{ "mailbox", EXT_MAILBOX },
	{ "date", EXT_DATE },
	{ "index", EXT_INDEX },
	{ "regex", EXT_REGEX },
	{ "duplicate", EXT_DUPLICATE },
	{ "spamtest", EXT_SPAMTEST },
	{ "spamtestplus", EXT_SPAMTESTPLUS | EXT_SPAMTEST },
	{ "include", EXT_INCLUDE },
};

uint32_t sieve_ext_bit(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++)
		if (strlen(exts[i].name) == len && memcmp(exts[i].name, name, len) == 0)
			return exts[i].bit;
	return 0;
}

enum { MATCHING = 1, ADDRPART = 2, INDEXED = 4 };

/* pos: positional arguments: 'S' one string, 'L' a string list, 'N' a number;
 * lower case = optional (only leading ones). slots: where each goes. */
static const struct opdef {
	const char *name;
	enum sieve_op op;
	bool test;
	uint32_t ext;
	unsigned groups;
	const char *pos;
	uint8_t slots[3];
} defs[] = {
	{ "if", OP_IF, false, 0, 0, "", { 0 } },
	{ "elsif", OP_ELSIF, false, 0, 0, "", { 0 } },
	{ "else", OP_ELSE, false, 0, 0, "", { 0 } },
	{ "stop", OP_STOP, false, 0, 0, "", { 0 } },
	{ "keep", OP_KEEP, false, 0, 0, "", { 0 } },
	{ "discard", OP_DISCARD, false, 0, 0, "", { 0 } },
	{ "fileinto", OP_FILEINTO, false, EXT_FILEINTO, 0, "S", { 0 } },
	{ "redirect", OP_REDIRECT, false, 0, 0, "S", { 0 } },
	{ "reject", OP_REJECT, false, EXT_REJECT, 0, "S", { 0 } },
	{ "ereject", OP_EREJECT, false, EXT_EREJECT, 0, "S", { 0 } },
	{ "vacation", OP_VACATION, false, EXT_VACATION, 0, "S", { 0 } },
	{ "set", OP_SET, false, EXT_VARIABLES, 0, "SS", { 0, 1 } },
	{ "addflag", OP_ADDFLAG, false, EXT_IMAP4FLAGS, 0, "sL", { 0, 1 } },
	{ "setflag", OP_SETFLAG, false, EXT_IMAP4FLAGS, 0, "sL", { 0, 1 } },
	{ "removeflag", OP_REMOVEFLAG, false, EXT_IMAP4FLAGS, 0, "sL", { 0, 1 } },
	{ "include", OP_INCLUDE, false, EXT_INCLUDE, 0, "S", { 0 } },
	{ "return", OP_RETURN, false, EXT_INCLUDE, 0, "", { 0 } },
	{ "global", OP_GLOBAL, false, EXT_INCLUDE | EXT_VARIABLES, 0, "L", { 0 } },
	{ "true", OP_TRUE, true, 0, 0, "", { 0 } },
	{ "false", OP_FALSE, true, 0, 0, "", { 0 } },
	{ "not", OP_NOT, true, 0, 0, "", { 0 } },
	{ "anyof", OP_ANYOF, true, 0, 0, "", { 0 } },
	{ "allof", OP_ALLOF, true, 0, 0, "", { 0 } },
	{ "address", OP_ADDRESS, true, 0, MATCHING | ADDRPART | INDEXED, "LL", { 0, 1 } },
	{ "envelope", OP_ENVELOPE, true, EXT_ENVELOPE, MATCHING | ADDRPART, "LL", { 0, 1 } },
	{ "header", OP_HEADER, true, 0, MATCHING | INDEXED, "LL", { 0, 1 } },
	{ "exists", OP_EXISTS, true, 0, 0, "L", { 0 } },
	{ "size", OP_SIZE, true, 0, 0, "N", { 0 } },
	{ "body", OP_BODY, true, EXT_BODY, MATCHING, "L", { 1 } },
	{ "date", OP_DATE, true, EXT_DATE, MATCHING | INDEXED, "SSL", { 0, 1, 2 } },
	{ "currentdate", OP_CURRENTDATE, true, EXT_DATE, MATCHING, "SL", { 1, 2 } },
	{ "string", OP_STRING, true, EXT_VARIABLES, MATCHING, "LL", { 0, 1 } },
	{ "hasflag", OP_HASFLAG, true, EXT_IMAP4FLAGS, MATCHING, "lL", { 0, 1 } },
	{ "mailboxexists", OP_MAILBOXEXISTS, true, EXT_MAILBOX, 0, "L", { 0 } },
	{ "duplicate", OP_DUPLICATE, true, EXT_DUPLICATE, 0, "", { 0 } },
	{ "spamtest", OP_SPAMTEST, true, EXT_SPAMTEST, MATCHING, "S", { 1 } },
};

static const char *const dateparts[] = { "year",   "month", "day",     "date",  "julian", "hour",    "minute",
					 "second", "time",  "iso8601", "std11", "zone",   "weekday", NULL };

/* The index of a date part name, or -1. */
int sieve_datepart(const char *s);
int sieve_datepart(const char *s)
{
	for (int i = 0; dateparts[i] != NULL; i++)
		if (strcasecmp(s, dateparts[i]) == 0)
			return i;
	return -1;
}

struct ctx {
	struct arena *a;
	const struct sieve_program *pr;
	const struct opdef *def;
	const struct sieve_rawarg *args;
	size_t nargs, i;
	struct sieve_node *n;
	const char **error_r;
	bool have_match, have_cmp, have_part;
};

static int err(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int err(struct ctx *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	const char *m = arena_vprintf(c->a, fmt, ap);
	va_end(ap);
	*c->error_r = arena_printf(c->a, "%s: %s", c->def->name, m);
	return -1;
}

static bool has(struct ctx *c, uint32_t ext)
{
	return (c->pr->exts & ext) == ext;
}

static int need(struct ctx *c, uint32_t ext, const char *what)
{
	if (has(c, ext))
		return 0;
	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++)
		if (exts[i].bit & ext)
			return err(c, "%s needs require \"%s\"", what, exts[i].name);
	return err(c, "%s is not available", what);
}

/* The single string of list sl (its first), NUL-terminated in the blob. */
static const char *first_str(const struct sieve_program *pr, uint32_t sl, uint32_t *len_r, bool *vars_r)
{
	const struct sieve_str *s = &pr->strs[pr->slists[sl].first];
	if (len_r)
		*len_r = s->len;
	if (vars_r)
		*vars_r = s->vars != 0;
	return pr->blob + s->off;
}

/* Takes the next raw argument as a string (list) for tag `tag`. */
static int tag_arg(struct ctx *c, const char *tag, bool single, uint32_t *sl_r)
{
	if (c->i >= c->nargs || c->args[c->i].type != ARG_STRLIST)
		return err(c, ":%s needs a %s", tag, single ? "string" : "string list");
	if (single && !c->args[c->i].single && c->pr->slists[c->args[c->i].sl].n != 1)
		return err(c, ":%s needs a single string", tag);
	*sl_r = c->args[c->i++].sl;
	return 0;
}

static int tag_num(struct ctx *c, const char *tag, int64_t *v_r)
{
	if (c->i >= c->nargs || c->args[c->i].type != ARG_NUMBER)
		return err(c, ":%s needs a number", tag);
	*v_r = (int64_t)c->args[c->i++].number;
	return 0;
}

static int set_match(struct ctx *c, enum sieve_match m)
{
	if (c->have_match)
		return err(c, "more than one match type");
	c->have_match = true;
	c->n->match = (uint8_t)m;
	if (m == MATCH_VALUE || m == MATCH_COUNT) {
		uint32_t sl;
		if (tag_arg(c, m == MATCH_VALUE ? "value" : "count", true, &sl) < 0)
			return -1;
		static const char *const rel[] = { "gt", "ge", "lt", "le", "eq", "ne" };
		const char *s = first_str(c->pr, sl, NULL, NULL);
		for (int k = 0; k < 6; k++)
			if (strcasecmp(s, rel[k]) == 0) {
				c->n->relop = (uint8_t)k;
				return 0;
			}
		return err(c, "invalid relational operator \"%s\"", s);
	}
	return 0;
}

static int bind_tag(struct ctx *c, const char *t)
{
	struct sieve_node *n = c->n;
	enum sieve_op op = c->def->op;
	unsigned g = c->def->groups;
	uint32_t sl;
	if (g & MATCHING) {
		if (!strcmp(t, "is"))
			return set_match(c, MATCH_IS);
		if (!strcmp(t, "contains"))
			return set_match(c, MATCH_CONTAINS);
		if (!strcmp(t, "matches"))
			return set_match(c, MATCH_MATCHES);
		if (!strcmp(t, "regex"))
			return need(c, EXT_REGEX, ":regex") < 0 ? -1 : set_match(c, MATCH_REGEX);
		if (!strcmp(t, "value") || !strcmp(t, "count")) {
			if (need(c, EXT_RELATIONAL, t[0] == 'v' ? ":value" : ":count") < 0)
				return -1;
			return set_match(c, t[0] == 'v' ? MATCH_VALUE : MATCH_COUNT);
		}
		if (!strcmp(t, "comparator")) {
			if (c->have_cmp)
				return err(c, "more than one comparator");
			c->have_cmp = true;
			if (tag_arg(c, "comparator", true, &sl) < 0)
				return -1;
			const char *s = first_str(c->pr, sl, NULL, NULL);
			if (!strcmp(s, "i;octet"))
				n->cmp = CMP_OCTET;
			else if (!strcmp(s, "i;ascii-casemap"))
				n->cmp = CMP_CASEMAP;
			else if (!strcmp(s, "i;ascii-numeric")) {
				if (need(c, EXT_NUMERIC, "comparator \"i;ascii-numeric\"") < 0)
					return -1;
				n->cmp = CMP_NUMERIC;
			} else
				return err(c, "unknown comparator \"%s\"", s);
			return 0;
		}
	}
	if (g & ADDRPART) {
		static const char *const parts[] = { "all", "localpart", "domain", "user", "detail" };
		for (int k = 0; k < 5; k++)
			if (!strcmp(t, parts[k])) {
				if (c->have_part)
					return err(c, "more than one address part");
				if (k >= PART_USER && need(c, EXT_SUBADDRESS, k == PART_USER ? ":user" : ":detail") < 0)
					return -1;
				c->have_part = true;
				n->part = (uint8_t)k;
				return 0;
			}
	}
	if (g & INDEXED) {
		if (!strcmp(t, "index")) {
			if (need(c, EXT_INDEX, ":index") < 0 || tag_num(c, "index", &n->num2) < 0)
				return -1;
			if (n->num2 < 1)
				return err(c, ":index must be at least 1");
			n->flags |= NF_INDEX;
			return 0;
		}
		if (!strcmp(t, "last")) {
			if (need(c, EXT_INDEX, ":last") < 0)
				return -1;
			n->flags |= NF_LAST;
			return 0;
		}
	}
	switch (op) {
	case OP_FILEINTO:
		if (!strcmp(t, "create")) {
			n->flags |= NF_CREATE;
			return need(c, EXT_MAILBOX, ":create");
		}
		/* fall through */
	case OP_REDIRECT:
		if (!strcmp(t, "copy")) {
			n->flags |= NF_COPY;
			return need(c, EXT_COPY, ":copy");
		}
		/* fall through */
	case OP_KEEP:
		if (op != OP_REDIRECT && !strcmp(t, "flags")) {
			n->flags |= NF_FLAGS;
			if (need(c, EXT_IMAP4FLAGS, ":flags") < 0 || tag_arg(c, "flags", false, &sl) < 0)
				return -1;
			n->sl[1] = sl + 1;
			return 0;
		}
		break;
	case OP_VACATION:
		if (!strcmp(t, "days") || !strcmp(t, "seconds")) {
			if (n->flags & (NF_DAYS | NF_SECONDS))
				return err(c, ":days and :seconds are exclusive");
			if (t[0] == 's' && need(c, EXT_VACATION_SECONDS, ":seconds") < 0)
				return -1;
			n->flags |= t[0] == 'd' ? NF_DAYS : NF_SECONDS;
			return tag_num(c, t, &n->num);
		}
		if (!strcmp(t, "mime")) {
			n->flags |= NF_MIME;
			return 0;
		}
		static const char *const vt[] = { "subject", "from", "addresses", "handle" };
		for (int k = 0; k < 4; k++)
			if (!strcmp(t, vt[k])) {
				if (n->sl[k + 1] != SIEVE_NONE)
					return err(c, ":%s given twice", t);
				if (tag_arg(c, t, k != 2, &sl) < 0)
					return -1;
				n->sl[k + 1] = sl + 1;
				return 0;
			}
		break;
	case OP_SET: {
		static const char *const mods[] = { "lower",      "upper",         "lowerfirst",
						    "upperfirst", "quotewildcard", "length" };
		for (int k = 0; k < 6; k++)
			if (!strcmp(t, mods[k])) {
				/* RFC 5229 §4.1: two modifiers of one precedence are an error */
				uint32_t same = k < 2   ? NF_MOD_LOWER | NF_MOD_UPPER
						: k < 4 ? NF_MOD_LOWERFIRST | NF_MOD_UPPERFIRST
							: (uint32_t)NF_MOD_LOWER << k;
				if (n->flags & same)
					return err(c, "modifier :%s conflicts with one of the same precedence", t);
				n->flags |= (uint32_t)NF_MOD_LOWER << k;
				return 0;
			}
		break;
	}
	case OP_INCLUDE:
		if (!strcmp(t, "personal") || !strcmp(t, "global")) {
			if (t[0] == 'g')
				n->flags |= NF_GLOBAL;
			return 0;
		}
		if (!strcmp(t, "once")) {
			n->flags |= NF_ONCE;
			return 0;
		}
		if (!strcmp(t, "optional")) {
			n->flags |= NF_OPTIONAL;
			return 0;
		}
		break;
	case OP_SIZE:
		if (!strcmp(t, "over") || !strcmp(t, "under")) {
			if (n->flags & (NF_OVER | NF_SECONDS))
				return err(c, "more than one of :over and :under");
			n->flags |= t[0] == 'o' ? NF_OVER : NF_SECONDS; /* NF_SECONDS marks :under here */
			return 0;
		}
		break;
	case OP_BODY:
		if (!strcmp(t, "raw") || !strcmp(t, "text") || !strcmp(t, "content")) {
			n->part = t[0] == 'r' ? BODY_RAW : t[0] == 't' ? BODY_TEXT : BODY_CONTENT;
			if (n->part == BODY_CONTENT) {
				if (tag_arg(c, "content", false, &sl) < 0)
					return -1;
				n->sl[3] = sl + 1;
			}
			return 0;
		}
		break;
	case OP_DATE:
		if (!strcmp(t, "originalzone")) {
			n->flags |= NF_ORIGZONE;
			return 0;
		}
		/* fall through */
	case OP_CURRENTDATE:
		if (!strcmp(t, "zone")) {
			n->flags |= NF_ZONE;
			if (tag_arg(c, "zone", true, &sl) < 0)
				return -1;
			n->sl[3] = sl + 1;
			return 0;
		}
		break;
	case OP_DUPLICATE:
		if (!strcmp(t, "handle") || !strcmp(t, "header") || !strcmp(t, "uniqueid")) {
			int k = t[0] == 'h' ? (t[1] == 'a' ? 0 : 1) : 2;
			if (n->sl[k] != SIEVE_NONE || (k > 0 && n->sl[3 - k] != SIEVE_NONE))
				return err(c, ":%s conflicts with an earlier tag", t);
			if (tag_arg(c, t, true, &sl) < 0)
				return -1;
			n->sl[k] = sl + 1;
			return 0;
		}
		if (!strcmp(t, "seconds")) {
			n->flags |= NF_SECONDS;
			return tag_num(c, t, &n->num);
		}
		if (!strcmp(t, "last")) {
			n->flags |= NF_LAST;
			return 0;
		}
		break;
	case OP_SPAMTEST:
		if (!strcmp(t, "percent")) {
			n->flags |= NF_PERCENT;
			return need(c, EXT_SPAMTESTPLUS, ":percent");
		}
		break;
	default:
		break;
	}
	return err(c, "unknown tag ':%s'", t);
}

static bool valid_varname(const char *s, uint32_t len)
{
	if (len == 0 || len > 64)
		return false;
	for (uint32_t i = 0; i < len; i++) {
		char ch = s[i];
		bool alpha = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_';
		if (!alpha && !(i > 0 && ch >= '0' && ch <= '9'))
			return false;
	}
	return true;
}

/* Compile-time checks that need the bound node. */
static int check_node(struct ctx *c)
{
	struct sieve_node *n = c->n;
	const struct sieve_program *pr = c->pr;
	if (n->cmp == CMP_NUMERIC &&
	    (n->match == MATCH_CONTAINS || n->match == MATCH_MATCHES || n->match == MATCH_REGEX))
		return err(c, "comparator \"i;ascii-numeric\" cannot be used with this match type");
	if ((n->flags & NF_LAST) && !(n->flags & NF_INDEX) && n->op != OP_DUPLICATE)
		return err(c, ":last needs :index");
	uint32_t keysl = n->op == OP_DATE || n->op == OP_CURRENTDATE ? n->sl[2] : n->sl[1];
	if (n->match == MATCH_REGEX && keysl != SIEVE_NONE) {
		const struct sieve_slist *l = &pr->slists[keysl - 1];
		for (uint32_t k = 0; k < l->n; k++) {
			const struct sieve_str *s = &pr->strs[l->first + k];
			if (s->vars) /* checked when it is expanded */
				continue;
			if (s->len > pr->limits.max_regex_bytes)
				return err(c, "regular expression longer than %zu bytes", pr->limits.max_regex_bytes);
			const char *why;
			if (sieve_regex_check(pr->blob + s->off, &why) < 0)
				return err(c, "regular expression \"%s\": %s", pr->blob + s->off, why);
			regex_t re;
			int flags = REG_EXTENDED | REG_NOSUB | (n->cmp == CMP_CASEMAP ? REG_ICASE : 0);
			int rc = regcomp(&re, pr->blob + s->off, flags);
			if (rc != 0)
				return err(c, "invalid regular expression \"%s\"", pr->blob + s->off);
			regfree(&re);
		}
	}
	uint32_t len;
	bool vars;
	const char *s;
	switch (n->op) {
	case OP_DATE:
	case OP_CURRENTDATE:
		s = first_str(pr, n->sl[1] - 1, &len, &vars);
		if (!vars && sieve_datepart(s) < 0)
			return err(c, "unknown date part \"%s\"", s);
		if (n->sl[3] != SIEVE_NONE) {
			if (n->flags & NF_ORIGZONE)
				return err(c, ":zone and :originalzone are exclusive");
			s = first_str(pr, n->sl[3] - 1, &len, &vars);
			if (!vars && !(len == 5 && (s[0] == '+' || s[0] == '-') && strspn(s + 1, "0123456789") == 4))
				return err(c, "invalid zone \"%s\" (expected +hhmm or -hhmm)", s);
		}
		break;
	case OP_SET:
		s = first_str(pr, n->sl[0] - 1, &len, &vars);
		if (!valid_varname(s, len))
			return err(c, "invalid variable name \"%s\"", s);
		break;
	case OP_GLOBAL: {
		const struct sieve_slist *l = &pr->slists[n->sl[0] - 1];
		for (uint32_t k = 0; k < l->n; k++) {
			const struct sieve_str *st = &pr->strs[l->first + k];
			if (!valid_varname(pr->blob + st->off, st->len))
				return err(c, "invalid variable name \"%s\"", pr->blob + st->off);
		}
		break;
	}
	case OP_ADDFLAG:
	case OP_SETFLAG:
	case OP_REMOVEFLAG:
		if (n->sl[0] != SIEVE_NONE) {
			if (need(c, EXT_VARIABLES, "a variable name") < 0)
				return -1;
			s = first_str(pr, n->sl[0] - 1, &len, &vars);
			if (!valid_varname(s, len))
				return err(c, "invalid variable name \"%s\"", s);
		}
		break;
	case OP_HASFLAG:
		if (n->sl[0] != SIEVE_NONE && need(c, EXT_VARIABLES, "a variable list") < 0)
			return -1;
		break;
	case OP_VACATION:
		if ((n->flags & (NF_DAYS | NF_SECONDS)) && n->num < 0)
			return err(c, "negative period");
		break;
	case OP_ADDRESS: {
		/* RFC 5228 §5.1: only header fields that hold addresses */
		static const char *const ok[] = { "from",
						  "sender",
						  "reply-to",
						  "to",
						  "cc",
						  "bcc",
						  "resent-from",
						  "resent-sender",
						  "resent-reply-to",
						  "resent-to",
						  "resent-cc",
						  "resent-bcc",
						  "return-path",
						  "delivered-to",
						  "envelope-to",
						  "x-original-to",
						  "x-envelope-to",
						  "errors-to",
						  "mail-followup-to",
						  "mail-reply-to",
						  "disposition-notification-to",
						  "approved",
						  NULL };
		const struct sieve_slist *l = &pr->slists[n->sl[0] - 1];
		for (uint32_t k = 0; k < l->n; k++) {
			const struct sieve_str *st = &pr->strs[l->first + k];
			const char *h = pr->blob + st->off;
			bool found = st->vars != 0;
			for (int j = 0; ok[j] != NULL && !found; j++)
				found = strcasecmp(h, ok[j]) == 0;
			if (!found)
				return err(c, "header \"%s\" does not hold addresses", h);
		}
		break;
	}
	case OP_INCLUDE:
		s = first_str(pr, n->sl[0] - 1, &len, &vars);
		if (vars) /* RFC 6609 §3.2: a constant */
			return err(c, "the script name must be a constant, not \"%s\"", s);
		if (len == 0 || memchr(s, '/', len) != NULL)
			return err(c, "invalid script name \"%s\"", s);
		break;
	default:
		break;
	}
	return 0;
}

int sieve_bind(struct arena *a, const struct sieve_program *prog, const char *name, bool is_test,
	       const struct sieve_rawarg *args, size_t nargs, size_t ntests, bool has_block, struct sieve_node *node,
	       const char **error_r)
{
	const struct opdef *def = NULL;
	for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]); i++)
		if (!strcmp(defs[i].name, name) && defs[i].test == is_test) {
			def = &defs[i];
			break;
		}
	if (def == NULL) {
		*error_r = arena_printf(a, "unknown %s '%s'", is_test ? "test" : "command", name);
		return -1;
	}
	struct ctx c = { .a = a, .pr = prog, .def = def, .args = args, .nargs = nargs, .n = node, .error_r = error_r };
	node->op = (uint8_t)def->op;
	if (def->ext != 0 && need(&c, def->ext, def->test ? "this test" : "this command") < 0)
		return -1;
	/* tests and blocks */
	enum sieve_op op = def->op;
	size_t want_tests = op == OP_IF || op == OP_ELSIF || op == OP_NOT ? 1 : 0;
	if (op == OP_ANYOF || op == OP_ALLOF) {
		if (ntests == 0)
			return err(&c, "needs a list of tests");
	} else if (ntests != want_tests) {
		return err(&c, want_tests ? "needs one test" : "takes no test");
	}
	bool want_block = op == OP_IF || op == OP_ELSIF || op == OP_ELSE;
	if (has_block != want_block)
		return err(&c, want_block ? "needs a block" : "takes no block");
	/* tags anywhere before the positional arguments; positional ones in order */
	const struct sieve_rawarg *pos[4];
	size_t npos = 0;
	for (c.i = 0; c.i < nargs;) {
		const struct sieve_rawarg *ra = &args[c.i++];
		if (ra->type == ARG_TAG) {
			if (npos > 0 && op != OP_SPAMTEST)
				return err(&c, "tag ':%s' after a positional argument", ra->tag);
			if (bind_tag(&c, ra->tag) < 0)
				return -1;
			continue;
		}
		if (npos == 4)
			return err(&c, "too many arguments");
		pos[npos++] = ra;
	}
	size_t nreq = 0, nopt = 0, plen = strlen(def->pos);
	for (size_t k = 0; k < plen; k++)
		*(def->pos[k] >= 'a' ? &nopt : &nreq) += 1;
	if (npos < nreq || npos > nreq + nopt)
		return err(&c, "expected %zu argument%s, got %zu", nreq, nreq == 1 ? "" : "s", npos);
	size_t skip = nopt - (npos - nreq); /* optional leading ones not given */
	for (size_t k = 0; k < npos; k++) {
		size_t d = k + skip;
		char want = (char)(def->pos[d] | 0x20);
		const struct sieve_rawarg *ra = pos[k];
		if (want == 'n') {
			if (ra->type != ARG_NUMBER)
				return err(&c, "argument %zu must be a number", k + 1);
			node->num = (int64_t)ra->number;
			continue;
		}
		if (ra->type != ARG_STRLIST)
			return err(&c, "argument %zu must be a string%s", k + 1, want == 'l' ? " list" : "");
		if (want == 's' && c.pr->slists[ra->sl].n != 1)
			return err(&c, "argument %zu must be a single string", k + 1);
		node->sl[def->slots[d]] = ra->sl + 1;
	}
	if (op == OP_SIZE && !(node->flags & (NF_OVER | NF_SECONDS)))
		return err(&c, "needs :over or :under");
	if (op == OP_SIZE && (node->flags & NF_SECONDS))
		node->flags &= ~(uint32_t)NF_SECONDS; /* :under = not :over */
	if (op == OP_SPAMTEST && node->match == MATCH_IS && !c.have_match)
		node->match = MATCH_IS;
	return check_node(&c);
}
