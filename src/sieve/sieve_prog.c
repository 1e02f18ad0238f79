/* sieve_prog.c: limits, the extension list, and the saved form of a program.
 *
 * The saved form is the program's arrays in little-endian fixed-width fields after
 * a magic and version ("SIEVEC1\0"): counts, nodes, children, string lists,
 * strings, text blob. sieve_program_load() trusts nothing: every count is checked
 * against the bytes left, every index against its array, every enum against its
 * range, every string against the blob (and its NUL), children must have smaller
 * indices than their parent (so the tree is acyclic) and the depth must stay within
 * limits.max_nesting, so that the evaluator's recursion is bounded for any input. */
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "sieve_int.h"

#define MAGIC "SIEVEC1"
#define NODE_BYTES (5 + 4 + 4 + 8 + 8 + 4 * SIEVE_NSL + 4 + 4)

void sieve_limits_default(struct sieve_limits *l_r)
{
	*l_r = (struct sieve_limits){
		.max_script_bytes = 256 * 1024,
		.max_nesting = 32,
		.max_actions = 32,
		.max_redirects = 4,
		.max_cpu_steps = 5000000,
		.max_regex_bytes = 512,
		.max_regex_per_run = 64,
		.max_variable_bytes = 4096,
		.max_variables = 256,
		.max_include_depth = 5,
		.max_includes = 16,
		.max_body_bytes = 1024 * 1024,
	};
}

void sieve_limits_copy(struct sieve_limits *dst, const struct sieve_limits *src)
{
	if (src != NULL)
		*dst = *src;
	else
		sieve_limits_default(dst);
}

const char *sieve_extensions(void)
{
	return "fileinto reject ereject envelope encoded-character imap4flags body variables vacation "
	       "vacation-seconds relational comparator-i;ascii-numeric subaddress copy mailbox date index "
	       "regex duplicate spamtest spamtestplus include";
}

void sieve_program_free(struct sieve_program **progp)
{
	struct sieve_program *p = *progp;
	if (p == NULL)
		return;
	free(p->nodes);
	free(p->kids);
	free(p->slists);
	free(p->strs);
	free(p->blob);
	free(p);
	*progp = NULL;
}

static void put32(struct buf *out, uint32_t v)
{
	unsigned char b[4] = { (unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
			       (unsigned char)(v >> 24) };
	buf_append(out, b, 4);
}

static void put64(struct buf *out, uint64_t v)
{
	put32(out, (uint32_t)v);
	put32(out, (uint32_t)(v >> 32));
}

void sieve_program_save(const struct sieve_program *p, struct buf *out)
{
	buf_append(out, MAGIC, sizeof(MAGIC));
	uint32_t hdr[] = { p->exts, p->root0, p->nroot, p->nnodes, p->nkids, p->nslists, p->nstrs, p->blob_len };
	for (size_t i = 0; i < sizeof(hdr) / sizeof(hdr[0]); i++)
		put32(out, hdr[i]);
	for (uint32_t i = 0; i < p->nnodes; i++) {
		const struct sieve_node *n = &p->nodes[i];
		unsigned char b5[5] = { n->op, n->match, n->relop, n->cmp, n->part };
		buf_append(out, b5, 5);
		put32(out, n->flags);
		put32(out, n->line);
		put64(out, (uint64_t)n->num);
		put64(out, (uint64_t)n->num2);
		for (int k = 0; k < SIEVE_NSL; k++)
			put32(out, n->sl[k]);
		put32(out, n->kid0);
		put32(out, n->nkids);
	}
	for (uint32_t i = 0; i < p->nkids; i++)
		put32(out, p->kids[i]);
	for (uint32_t i = 0; i < p->nslists; i++) {
		put32(out, p->slists[i].first);
		put32(out, p->slists[i].n);
	}
	for (uint32_t i = 0; i < p->nstrs; i++) {
		put32(out, p->strs[i].off);
		put32(out, p->strs[i].len);
		put32(out, p->strs[i].vars);
	}
	if (p->blob_len > 0)
		buf_append(out, p->blob, p->blob_len);
}

struct rd {
	const unsigned char *p;
	size_t left;
};

static uint32_t get32(struct rd *r)
{
	uint32_t v = (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 | (uint32_t)r->p[2] << 16 | (uint32_t)r->p[3] << 24;
	r->p += 4;
	r->left -= 4;
	return v;
}

static uint64_t get64(struct rd *r)
{
	uint64_t lo = get32(r);
	return lo | (uint64_t)get32(r) << 32;
}

static int bad(const char **error_r, const char *what)
{
	*error_r = what;
	return -1;
}

static int load_arrays(struct sieve_program *p, struct rd *r, const char **error_r)
{
	for (uint32_t i = 0; i < p->nnodes; i++) {
		struct sieve_node *n = &p->nodes[i];
		n->op = r->p[0];
		n->match = r->p[1];
		n->relop = r->p[2];
		n->cmp = r->p[3];
		n->part = r->p[4];
		r->p += 5;
		r->left -= 5;
		n->flags = get32(r);
		n->line = get32(r);
		n->num = (int64_t)get64(r);
		n->num2 = (int64_t)get64(r);
		for (int k = 0; k < SIEVE_NSL; k++)
			n->sl[k] = get32(r);
		n->kid0 = get32(r);
		n->nkids = get32(r);
		if (n->op < 1 || n->op >= OP_MAX || n->match > MATCH_COUNT || n->relop > REL_NE ||
		    n->cmp > CMP_NUMERIC || n->part > PART_DETAIL || (n->flags & ~(uint32_t)NF_ALL) != 0)
			return bad(error_r, "compiled Sieve: a node out of range");
		for (int k = 0; k < SIEVE_NSL; k++)
			if (n->sl[k] > p->nslists)
				return bad(error_r, "compiled Sieve: a string list index out of range");
		if ((uint64_t)n->kid0 + n->nkids > p->nkids)
			return bad(error_r, "compiled Sieve: a child range out of range");
	}
	for (uint32_t i = 0; i < p->nkids; i++)
		p->kids[i] = get32(r);
	for (uint32_t i = 0; i < p->nslists; i++) {
		p->slists[i].first = get32(r);
		p->slists[i].n = get32(r);
		if ((uint64_t)p->slists[i].first + p->slists[i].n > p->nstrs)
			return bad(error_r, "compiled Sieve: a string list out of range");
	}
	for (uint32_t i = 0; i < p->nstrs; i++) {
		struct sieve_str *s = &p->strs[i];
		s->off = get32(r);
		s->len = get32(r);
		s->vars = get32(r);
		if (s->vars > 1)
			return bad(error_r, "compiled Sieve: a string out of range");
	}
	if (p->blob_len > 0)
		memcpy(p->blob, r->p, p->blob_len);
	r->left -= p->blob_len;
	for (uint32_t i = 0; i < p->nstrs; i++) {
		const struct sieve_str *s = &p->strs[i];
		if ((uint64_t)s->off + s->len >= p->blob_len || p->blob[s->off + s->len] != '\0')
			return bad(error_r, "compiled Sieve: a string out of range");
	}
	/* children before parents (acyclic), bounded depth */
	uint32_t *depth = xcalloc(p->nnodes + 1, sizeof(uint32_t));
	int ret = 0;
	for (uint32_t i = 0; i < p->nnodes && ret == 0; i++) {
		const struct sieve_node *n = &p->nodes[i];
		uint32_t d = 1;
		for (uint32_t k = 0; k < n->nkids; k++) {
			uint32_t kid = p->kids[n->kid0 + k];
			if (kid >= i) {
				ret = bad(error_r, "compiled Sieve: a child after its parent");
				break;
			}
			if (depth[kid] + 1 > d)
				d = depth[kid] + 1;
		}
		depth[i] = d;
		if (d > 2 * p->limits.max_nesting + 2)
			ret = bad(error_r, "compiled Sieve: nested too deeply");
	}
	free(depth);
	if (ret < 0)
		return ret;
	if ((uint64_t)p->root0 + p->nroot > p->nkids)
		return bad(error_r, "compiled Sieve: the top level out of range");
	for (uint32_t k = 0; k < p->nroot; k++)
		if (p->kids[p->root0 + k] >= p->nnodes)
			return bad(error_r, "compiled Sieve: the top level out of range");
	if (r->left != 0)
		return bad(error_r, "compiled Sieve: trailing bytes");
	return 0;
}

int sieve_program_load(const void *data, size_t len, const struct sieve_limits *limits, struct sieve_program **prog_r,
		       const char **error_r)
{
	struct rd r = { data, len };
	if (len < sizeof(MAGIC) + 8 * 4 || memcmp(data, MAGIC, sizeof(MAGIC)) != 0)
		return bad(error_r, "not a compiled Sieve program of this version");
	r.p += sizeof(MAGIC);
	r.left -= sizeof(MAGIC);
	struct sieve_program *p = xcalloc(1, sizeof(*p));
	sieve_limits_copy(&p->limits, limits);
	p->exts = get32(&r);
	p->root0 = get32(&r);
	p->nroot = get32(&r);
	p->nnodes = get32(&r);
	p->nkids = get32(&r);
	p->nslists = get32(&r);
	p->nstrs = get32(&r);
	p->blob_len = get32(&r);
	uint64_t need = (uint64_t)p->nnodes * NODE_BYTES + (uint64_t)p->nkids * 4 + (uint64_t)p->nslists * 8 +
			(uint64_t)p->nstrs * 12 + p->blob_len;
	if (need != r.left) {
		sieve_program_free(&p);
		return bad(error_r, "compiled Sieve: sizes do not add up");
	}
	p->nodes = xcalloc(p->nnodes + 1, sizeof(*p->nodes));
	p->kids = xcalloc(p->nkids + 1, sizeof(*p->kids));
	p->slists = xcalloc(p->nslists + 1, sizeof(*p->slists));
	p->strs = xcalloc(p->nstrs + 1, sizeof(*p->strs));
	p->blob = xmalloc(p->blob_len + 1);
	if (load_arrays(p, &r, error_r) < 0) {
		sieve_program_free(&p);
		return -1;
	}
	*prog_r = p;
	return 1;
}
