/* sieve_tests.c: evaluation of tests (RFC 5228 §5 and the extensions' tests).
 *
 * Each test gathers its values (header fields, addresses, envelope parts, body
 * parts, date parts, strings, flags, the spam score) and matches them against its
 * keys with the node's comparator and match type (sieve_match.c); :count compares
 * the number of values instead (RFC 5231). :index/:last (RFC 5260 §6) pick one
 * field. anyof/allof short-circuit. Every test charges a step. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "arena.h"
#include "buf.h"
#include "mail.h"
#include "sieve_eval.h"

/* Matches values against keys: 1 when any pair matches (or :count holds). */
static int match_values(struct sieve_state *run, const struct sieve_node *n, const char **vals, const size_t *lens,
			size_t nvals, uint32_t keysl, const char **error_r)
{
	const char **keys;
	int nk = sieve_strings(run, keysl, &keys, error_r);
	if (nk < 0)
		return -1;
	if (n->match == MATCH_COUNT) {
		char cnt[24];
		int cl = snprintf(cnt, sizeof(cnt), "%zu", nvals);
		for (int k = 0; k < nk; k++)
			if (sieve_relational(n, cnt, (size_t)cl, keys[k], strlen(keys[k])))
				return 1;
		return 0;
	}
	for (size_t i = 0; i < nvals; i++) {
		size_t vl = lens != NULL ? lens[i] : strlen(vals[i]);
		for (int k = 0; k < nk; k++) {
			int r = sieve_match_one(run, n, vals[i], vl, keys[k], strlen(keys[k]), error_r);
			if (r != 0)
				return r;
		}
	}
	return 0;
}

/* Keeps only the :index'th value (counting from the end with :last). */
static size_t pick_index(const struct sieve_node *n, const char **vals, size_t nv)
{
	if (!(n->flags & NF_INDEX))
		return nv;
	if (n->num2 < 1 || (uint64_t)n->num2 > nv)
		return 0;
	size_t i = (n->flags & NF_LAST) ? nv - (size_t)n->num2 : (size_t)n->num2 - 1;
	vals[0] = vals[i];
	return 1;
}

/* Appends to a growing array. */
static void push(struct sieve_state *run, const char ***v, size_t *n, size_t *cap, const char *s)
{
	if (*n + 1 >= *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		const char **nv = arena_alloc(run->a, nc * sizeof(char *));
		if (*n > 0)
			memcpy(nv, *v, *n * sizeof(char *));
		*v = nv;
		*cap = nc;
	}
	(*v)[(*n)++] = s;
}

static int test_header_like(struct sieve_state *run, const struct sieve_node *n, const char **error_r)
{
	const char **names;
	int nn = sieve_strings(run, n->sl[0], &names, error_r);
	if (nn < 0)
		return -1;
	const char **vals = NULL;
	size_t nv = 0, cap = 0;
	for (int i = 0; i < nn; i++) {
		const char **hv;
		size_t c = sieve_msg_header(run, names[i], n->op == OP_HEADER, &hv);
		c = pick_index(n, hv, c);
		for (size_t k = 0; k < c; k++) {
			if (n->op == OP_HEADER) {
				push(run, &vals, &nv, &cap, hv[k]);
				continue;
			}
			const char **addrs;
			size_t na = sieve_msg_addresses(run, hv[k], &addrs);
			for (size_t j = 0; j < na; j++) {
				const char *p = sieve_addr_part(run, addrs[j], (enum sieve_addrpart)n->part);
				if (p != NULL)
					push(run, &vals, &nv, &cap, p);
			}
		}
	}
	return match_values(run, n, vals, NULL, nv, n->sl[1], error_r);
}

static int test_envelope(struct sieve_state *run, const struct sieve_node *n, const char **error_r)
{
	const char **names;
	int nn = sieve_strings(run, n->sl[0], &names, error_r);
	if (nn < 0)
		return -1;
	const char **vals = NULL;
	size_t nv = 0, cap = 0;
	const struct sieve_message *m = run->msg;
	for (int i = 0; i < nn; i++) {
		const char *addr = NULL;
		if (!strcasecmp(names[i], "from"))
			addr = m->env_from != NULL ? m->env_from : "";
		else if (!strcasecmp(names[i], "to"))
			addr = m->env_to;
		else if (!strcasecmp(names[i], "auth"))
			addr = m->auth;
		if (addr == NULL)
			continue;
		/* the null sender has no parts but the whole (RFC 5228 §5.4) */
		if (addr[0] == '\0' && n->part != PART_ALL)
			continue;
		const char *p = sieve_addr_part(run, addr, (enum sieve_addrpart)n->part);
		if (p != NULL)
			push(run, &vals, &nv, &cap, p);
	}
	return match_values(run, n, vals, NULL, nv, n->sl[1], error_r);
}

/* The zone for a date test: :zone, :originalzone, or local. */
static int pick_zone(struct sieve_state *run, const struct sieve_node *n, int orig, int *zone_r, const char **error_r)
{
	*zone_r = n->flags & NF_ORIGZONE ? orig : run->msg->tz_minutes;
	if (n->sl[3] == SIEVE_NONE)
		return 1;
	const char *z;
	if (sieve_string(run, n->sl[3], &z, error_r) < 0)
		return -1;
	if (strlen(z) != 5 || (z[0] != '+' && z[0] != '-') || strspn(z + 1, "0123456789") != 4)
		return 0; /* RFC 5260 §4.1.1: an invalid zone makes the test false */
	int mins = ((z[1] - '0') * 10 + (z[2] - '0')) * 60 + (z[3] - '0') * 10 + (z[4] - '0');
	*zone_r = z[0] == '-' ? -mins : mins;
	return 1;
}

static int test_date(struct sieve_state *run, const struct sieve_node *n, const char **error_r)
{
	const char *part;
	if (sieve_string(run, n->sl[1], &part, error_r) < 0)
		return -1;
	const char **vals = NULL;
	size_t nv = 0, cap = 0;
	if (n->op == OP_CURRENTDATE) {
		int zone;
		int r = pick_zone(run, n, run->msg->tz_minutes, &zone, error_r);
		if (r <= 0)
			return r;
		const char *v = sieve_date_part(run, run->msg->now, zone, part);
		if (v != NULL)
			push(run, &vals, &nv, &cap, v);
	} else {
		const char *hname;
		if (sieve_string(run, n->sl[0], &hname, error_r) < 0)
			return -1;
		const char **hv;
		size_t c = sieve_msg_header(run, hname, false, &hv);
		c = pick_index(n, hv, c);
		for (size_t k = 0; k < c; k++) {
			const char *d = hv[k];
			if (!strcasecmp(hname, "received")) {
				const char *semi = strrchr(d, ';');
				if (semi == NULL)
					continue;
				d = semi + 1;
			}
			int64_t t;
			int tz;
			if (mail_parse_date(d, &t, &tz) < 0)
				continue;
			int zone;
			int r = pick_zone(run, n, tz, &zone, error_r);
			if (r <= 0)
				return r;
			const char *v = sieve_date_part(run, t, zone, part);
			if (v != NULL)
				push(run, &vals, &nv, &cap, v);
		}
	}
	return match_values(run, n, vals, NULL, nv, n->sl[2], error_r);
}

static int test_body(struct sieve_state *run, const struct sieve_node *n, const char **error_r)
{
	const char **types = NULL;
	int nt = 0;
	if (n->part == BODY_CONTENT && (nt = sieve_strings(run, n->sl[3], &types, error_r)) < 0)
		return -1;
	const char **vals;
	size_t *lens;
	size_t nv = sieve_msg_body(run, (enum sieve_bodyxf)n->part, types, (size_t)nt, &vals, &lens);
	return match_values(run, n, vals, lens, nv, n->sl[1], error_r);
}

/* Splits space-separated flags of the variables in slot sl (or the internal one). */
static size_t flag_values(struct sieve_state *run, uint32_t sl, const char ***vals_r, const char **error_r)
{
	const char **names;
	int nn = sl != SIEVE_NONE ? sieve_strings(run, sl, &names, error_r) : 0;
	const char **vals = NULL;
	size_t nv = 0, cap = 0;
	for (int i = 0; i < (sl != SIEVE_NONE ? nn : 1); i++) {
		const char *v = sl != SIEVE_NONE ? sieve_var_get(run, names[i]) : run->flags;
		if (v == NULL)
			continue;
		char *copy = arena_strdup(run->a, v), *save = NULL;
		for (char *tok = strtok_r(copy, " ", &save); tok != NULL; tok = strtok_r(NULL, " ", &save))
			push(run, &vals, &nv, &cap, tok);
	}
	*vals_r = vals;
	return nv;
}

static int test_spam(struct sieve_state *run, const struct sieve_node *n, const char **error_r)
{
	int p = run->msg->spam_percent;
	char v[8];
	if (p < 0)
		snprintf(v, sizeof(v), "0");
	else if (n->flags & NF_PERCENT)
		snprintf(v, sizeof(v), "%d", p > 100 ? 100 : p);
	else
		snprintf(v, sizeof(v), "%d", 1 + (p > 100 ? 100 : p) * 9 / 100); /* as Pigeonhole */
	const char *vals[1] = { v };
	return match_values(run, n, vals, NULL, 1, n->sl[1], error_r);
}

static int test_duplicate(struct sieve_state *run, const struct sieve_node *n, const char **error_r)
{
	const char *handle = "", *id = NULL;
	if (n->sl[0] != SIEVE_NONE && sieve_string(run, n->sl[0], &handle, error_r) < 0)
		return -1;
	if (n->sl[2] != SIEVE_NONE) {
		if (sieve_string(run, n->sl[2], &id, error_r) < 0)
			return -1;
	} else {
		const char *hname = "Message-ID";
		if (n->sl[1] != SIEVE_NONE && sieve_string(run, n->sl[1], &hname, error_r) < 0)
			return -1;
		const char **hv;
		if (sieve_msg_header(run, hname, false, &hv) == 0)
			return 0;
		id = hv[0];
	}
	uint64_t secs = n->flags & NF_SECONDS ? (uint64_t)n->num : 12 * 3600;
	int seen = 0;
	if (run->msg->duplicate != NULL)
		seen = run->msg->duplicate(run->msg->ctx, handle, id, secs);
	for (size_t i = 0; i < run->ndups; i++)
		if (!strcmp(run->dups[i].handle, handle) && !strcmp(run->dups[i].id, id))
			return seen > 0;
	struct sieve_dup_mark *nd = arena_alloc(run->a, (run->ndups + 1) * sizeof(*nd));
	if (run->ndups > 0)
		memcpy(nd, run->dups, run->ndups * sizeof(*nd));
	nd[run->ndups++] = (struct sieve_dup_mark){ arena_strdup(run->a, handle), arena_strdup(run->a, id), secs,
						    (n->flags & NF_LAST) != 0 };
	run->dups = nd;
	return seen > 0;
}

int sieve_test(struct sieve_state *run, uint32_t idx, unsigned depth, const char **error_r)
{
	const struct sieve_program *pr = run->prog;
	const struct sieve_node *n = &pr->nodes[idx];
	++run->steps;
	if (sieve_run_check(run, error_r) < 0)
		return -1;
	const uint32_t *kids = pr->kids + n->kid0;
	switch ((enum sieve_op)n->op) {
	case OP_TRUE:
		return 1;
	case OP_FALSE:
		return 0;
	case OP_NOT: {
		if (n->nkids != 1)
			break;
		int r = sieve_test(run, kids[0], depth + 1, error_r);
		return r < 0 ? r : !r;
	}
	case OP_ANYOF:
	case OP_ALLOF:
		for (uint32_t k = 0; k < n->nkids; k++) {
			int r = sieve_test(run, kids[k], depth + 1, error_r);
			if (r < 0)
				return r;
			if (n->op == OP_ANYOF && r)
				return 1;
			if (n->op == OP_ALLOF && !r)
				return 0;
		}
		return n->op == OP_ALLOF;
	case OP_ADDRESS:
	case OP_HEADER:
		return test_header_like(run, n, error_r);
	case OP_ENVELOPE:
		return test_envelope(run, n, error_r);
	case OP_EXISTS: {
		const char **names;
		int nn = sieve_strings(run, n->sl[0], &names, error_r);
		if (nn < 0)
			return -1;
		for (int i = 0; i < nn; i++) {
			const char **hv;
			if (sieve_msg_header(run, names[i], false, &hv) == 0)
				return 0;
		}
		return 1;
	}
	case OP_SIZE:
		return n->flags & NF_OVER ? (int64_t)run->msg->len > n->num : (int64_t)run->msg->len < n->num;
	case OP_BODY:
		return test_body(run, n, error_r);
	case OP_DATE:
	case OP_CURRENTDATE:
		return test_date(run, n, error_r);
	case OP_STRING: {
		const char **src;
		int ns = sieve_strings(run, n->sl[0], &src, error_r);
		if (ns < 0)
			return -1;
		if (n->match == MATCH_COUNT) { /* empty strings do not count (RFC 5229 §5) */
			int k = 0;
			for (int i = 0; i < ns; i++)
				if (src[i][0] != '\0')
					src[k++] = src[i];
			ns = k;
		}
		return match_values(run, n, src, NULL, (size_t)ns, n->sl[1], error_r);
	}
	case OP_HASFLAG: {
		const char **vals;
		size_t nv = flag_values(run, n->sl[0], &vals, error_r);
		return match_values(run, n, vals, NULL, nv, n->sl[1], error_r);
	}
	case OP_MAILBOXEXISTS: {
		const char **names;
		int nn = sieve_strings(run, n->sl[0], &names, error_r);
		if (nn < 0)
			return -1;
		for (int i = 0; i < nn; i++) {
			int r = run->msg->mailbox_exists != NULL ? run->msg->mailbox_exists(run->msg->ctx, names[i])
								 : strcasecmp(names[i], "INBOX") == 0;
			if (r <= 0)
				return 0;
		}
		return 1;
	}
	case OP_DUPLICATE:
		return test_duplicate(run, n, error_r);
	case OP_SPAMTEST:
		return test_spam(run, n, error_r);
	default:
		break;
	}
	run->line = n->line;
	return sieve_run_error(run, error_r, "not a test (corrupt program)");
}
