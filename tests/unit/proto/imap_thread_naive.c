/* imap_thread_naive.c: the REFERENCES threading as it was before the December 2026 review
 * (finding 14), kept only as the oracle of test_thread.c: it walks up the parents to
 * find loops (O(depth) per link) and repeats the prune until nothing changes, which
 * is slow on deep chains but obviously the algorithm of RFC 5256 §4. The randomised
 * test compares the fast implementation with it on small mailboxes. */
#include "imap_thread.h"

#include <stdlib.h>
#include <string.h>

void naive_thread_references(struct arena *a, const struct imap_thread_msg *msgs, size_t n, struct buf *out);

/* ------------------------------------------------------------ threads */

struct node {
	const struct imap_thread_msg *m; /* NULL: a dummy */
	struct node *parent, *child, *next, *prev; /* siblings doubly linked, unordered
	                                            * until sorted */
	int64_t date;                     /* for sorting: the message's, or a dummy's first child's */
	uint32_t num;
	unsigned gen;                     /* sort_tree's visit mark */
};

static void put_node(struct buf *out, const struct node *x)
{
	/* a message, then its children: one child continues the chain, several are
	 * parenthesised each */
	for (;;) {
		if (x->m != NULL)
			buf_printf(out, "%u", x->m->num);
		if (x->child == NULL)
			return;
		if (x->child->next == NULL) {
			if (x->m != NULL)
				buf_putc(out, ' ');
			x = x->child;
			continue;
		}
		if (x->m != NULL)
			buf_putc(out, ' ');
		for (const struct node *c = x->child; c != NULL; c = c->next) {
			buf_putc(out, '(');
			put_node(out, c);
			buf_putc(out, ')');
		}
		return;
	}
}

static int node_cmp(const void *pa, const void *pb)
{
	const struct node *a = *(const struct node *const *)pa, *b = *(const struct node *const *)pb;
	if (a->date != b->date)
		return a->date < b->date ? -1 : 1;
	return a->num < b->num ? -1 : a->num > b->num;
}

/* Sorts a sibling list by (date, num); returns the new head. */
static struct node *sort_siblings(struct node *head, struct node ***tmp, size_t *tmpcap)
{
	size_t n = 0;
	for (struct node *c = head; c != NULL; c = c->next)
		n++;
	if (n < 2)
		return head;
	if (n > *tmpcap) {
		*tmpcap = n * 2;
		*tmp = realloc(*tmp, *tmpcap * sizeof(**tmp));
		if (*tmp == NULL)
			abort();
	}
	size_t i = 0;
	for (struct node *c = head; c != NULL; c = c->next)
		(*tmp)[i++] = c;
	qsort(*tmp, n, sizeof(**tmp), node_cmp);
	for (i = 0; i < n; i++) {
		(*tmp)[i]->next = i + 1 < n ? (*tmp)[i + 1] : NULL;
		(*tmp)[i]->prev = i > 0 ? (*tmp)[i - 1] : NULL;
	}
	return (*tmp)[0];
}

/* Sorts the children of every node, deepest first, and gives each dummy its first
 * child's date; iterative (reference chains can be 100,000 deep). */
static void sort_tree(struct node *root, unsigned gen)
{
	struct node **tmp = NULL;
	size_t tmpcap = 0;
	size_t cap = 64, sp = 0;
	struct node **stack = malloc(cap * sizeof(*stack));
	if (stack == NULL)
		abort();
	stack[sp++] = root;
	while (sp > 0) {
		struct node *x = stack[sp - 1];
		if (x->gen != gen) {
			x->gen = gen;
			for (struct node *c = x->child; c != NULL; c = c->next) {
				if (sp == cap) {
					cap *= 2;
					stack = realloc(stack, cap * sizeof(*stack));
					if (stack == NULL)
						abort();
				}
				stack[sp++] = c;
			}
			continue;
		}
		sp--;
		x->child = sort_siblings(x->child, &tmp, &tmpcap);
		if (x->m == NULL && x->child != NULL) {
			x->date = x->child->date;
			x->num = x->child->num;
		}
	}
	free(stack);
	free(tmp);
}

/* A string -> node hash table (open addressing). */
struct table {
	const char **keys;
	struct node **vals;
	size_t cap;
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static void table_init(struct arena *a, struct table *t, size_t n)
{
	t->cap = 16;
	while (t->cap < n * 2 + 16)
		t->cap *= 2;
	t->keys = arena_alloc(a, t->cap * sizeof(*t->keys));
	t->vals = arena_alloc(a, t->cap * sizeof(*t->vals));
}

static struct node **table_slot(struct table *t, const char *key)
{
	size_t i = (size_t)hash_str(key) & (t->cap - 1);
	while (t->keys[i] != NULL && strcmp(t->keys[i], key) != 0)
		i = (i + 1) & (t->cap - 1);
	if (t->keys[i] == NULL)
		t->keys[i] = key;
	return &t->vals[i];
}

static bool is_ancestor(const struct node *anc, const struct node *x)
{
	for (; x != NULL; x = x->parent)
		if (x == anc)
			return true;
	return false;
}

static void unlink_node(struct node *x)
{
	if (x->parent == NULL)
		return;
	if (x->prev != NULL)
		x->prev->next = x->next;
	else
		x->parent->child = x->next;
	if (x->next != NULL)
		x->next->prev = x->prev;
	x->next = x->prev = NULL;
	x->parent = NULL;
}

/* Links x (without a parent) as a child of parent, first in the list. */
static void add_child(struct node *parent, struct node *x)
{
	x->parent = parent;
	x->prev = NULL;
	x->next = parent->child;
	if (parent->child != NULL)
		parent->child->prev = x;
	parent->child = x;
}

void naive_thread_references(struct arena *a, const struct imap_thread_msg *msgs, size_t n, struct buf *out)
{
	/* nodes[0] is the root's parent (holds the root set); then messages and dummies */
	size_t refs_total = 0;
	for (size_t i = 0; i < n; i++)
		for (const char *const *r = msgs[i].refs; r != NULL && *r != NULL; r++)
			refs_total++;
	size_t cap = 1 + n + refs_total;
	struct node *nodes = arena_alloc(a, cap * sizeof(*nodes));
	size_t used = 1;
	struct table ids;
	table_init(a, &ids, n + refs_total);
	/* (1) */
	for (size_t i = 0; i < n; i++) {
		const struct imap_thread_msg *m = &msgs[i];
		struct node *x = NULL;
		if (m->msgid != NULL && m->msgid[0] != '\0') {
			struct node **slot = table_slot(&ids, m->msgid);
			if (*slot != NULL && (*slot)->m == NULL)
				x = *slot; /* a dummy made for a reference: it is this message */
			else if (*slot == NULL)
				x = *slot = &nodes[used++];
			/* a duplicate Message-ID: the later message gets a node of its own */
		}
		if (x == NULL)
			x = &nodes[used++];
		x->m = m;
		x->date = m->date;
		x->num = m->num;
		/* (1A) link the references in order */
		struct node *prev = NULL;
		for (const char *const *r = m->refs; r != NULL && *r != NULL; r++) {
			struct node **slot = table_slot(&ids, *r);
			if (*slot == NULL)
				*slot = &nodes[used++];
			struct node *c = *slot;
			if (prev != NULL && c->parent == NULL && c != prev && !is_ancestor(c, prev))
				add_child(prev, c);
			prev = c;
		}
		/* (1B) the message's parent is the last reference: the old link breaks
		 * first, the new one is not made when it would be a loop */
		unlink_node(x);
		if (prev != NULL && prev != x && !is_ancestor(x, prev))
			add_child(prev, x);
	}
	/* (2) root set */
	struct node *root = &nodes[0];
	for (size_t i = 1; i < used; i++)
		if (nodes[i].parent == NULL)
			add_child(root, &nodes[i]);
	/* (3) prune dummies: without children deleted; with children promoted unless at
	 * the root with several children. Iterate until stable (a promotion can expose
	 * another dummy). */
	for (bool changed = true; changed;) {
		changed = false;
		for (size_t i = 1; i < used; i++) {
			struct node *x = &nodes[i];
			if (x->m != NULL || x->parent == NULL)
				continue;
			if (x->child == NULL) {
				unlink_node(x);
				changed = true;
				continue;
			}
			if (x->parent == root && x->child->next != NULL)
				continue;
			/* promote the children to x's place */
			struct node *p = x->parent;
			unlink_node(x);
			while (x->child != NULL) {
				struct node *c = x->child;
				unlink_node(c);
				add_child(p, c);
			}
			changed = true;
		}
	}
	/* (4) sort the root set (dummies by their first child after sorting below) */
	sort_tree(root, 1);
	/* (5) group the root set by base subject */
	struct table subj;
	table_init(a, &subj, n);
	const struct imap_thread_msg *first_m;
	for (struct node *x = root->child; x != NULL; x = x->next) {
		first_m = x->m ? x->m : x->child->m;
		if (first_m == NULL || first_m->base[0] == '\0')
			continue;
		struct node **slot = table_slot(&subj, first_m->base);
		struct node *c = *slot;
		if (c == NULL || (x->m == NULL && c->m != NULL) ||
		    (c->m != NULL && c->m->reply && x->m != NULL && !x->m->reply))
			*slot = x;
	}
	size_t nroots = 0;
	for (struct node *x = root->child; x != NULL; x = x->next)
		nroots++;
	struct node **roots = arena_alloc(a, (nroots + 1) * sizeof(*roots));
	nroots = 0;
	for (struct node *x = root->child; x != NULL; x = x->next)
		roots[nroots++] = x;
	for (size_t ri = 0; ri < nroots; ri++) {
		struct node *x = roots[ri];
		if (x->parent != root)
			continue; /* merged into another thread meanwhile */
		first_m = x->m ? x->m : x->child->m;
		if (first_m == NULL || first_m->base[0] == '\0')
			continue;
		struct node **slot = table_slot(&subj, first_m->base);
		struct node *c = *slot;
		if (c == x || c == NULL)
			continue;
		unlink_node(x);
		if (c->m == NULL && x->m == NULL) {
			/* both dummies: x's children join c's */
			while (x->child != NULL) {
				struct node *k = x->child;
				unlink_node(k);
				add_child(c, k);
			}
		} else if (c->m == NULL) {
			add_child(c, x);
		} else if (x->m != NULL && x->m->reply && !c->m->reply) {
			add_child(c, x);
		} else {
			/* a new dummy holds both */
			struct node *d = arena_alloc(a, sizeof(*d));
			struct node *cp = c->parent;
			d->parent = cp;
			d->prev = c->prev;
			d->next = c->next;
			if (c->prev != NULL)
				c->prev->next = d;
			else
				cp->child = d;
			if (c->next != NULL)
				c->next->prev = d;
			c->parent = NULL;
			c->next = c->prev = NULL;
			add_child(d, c);
			add_child(d, x);
			*slot = d;
		}
	}
	/* (6) sort every sibling list; dummies sort by their first child */
	sort_tree(root, 2);
	for (struct node *x = root->child; x != NULL; x = x->next) {
		buf_putc(out, '(');
		put_node(out, x);
		buf_putc(out, ')');
	}
}
