/* imap_thread.c: SORT keys, base subjects and threading (see imap_thread.h).
 *
 * RFC 5256 §2.1 base subject:
 *   subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":"
 *   subj-blob = "[" *BLOBCHAR "]" *WSP;  subj-trailer = "(fwd)" / WSP
 *   subj-leader = (*subj-blob subj-refwd) / WSP;  subj-fwd = "[fwd:" subj-base "]"
 * §4 REFERENCES: link by References (or In-Reply-To), gather the root set, prune
 * empty containers, sort, group the root set by base subject, sort the siblings by
 * sent date (ties by number). Comparison of subjects is by the case-folded base
 * subject (ASCII letters; other bytes compare as they are). */
#include "imap_thread.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------ sort criteria */

int imap_sort_parse(struct imap_cur *cur, struct imap_sort_crit *crit, size_t *n_r)
{
	static const struct {
		const char *name;
		enum imap_sort_key key;
	} keys[] = {
		{ "ARRIVAL", IMAP_SORT_ARRIVAL },	  { "CC", IMAP_SORT_CC },     { "DATE", IMAP_SORT_DATE },
		{ "FROM", IMAP_SORT_FROM },		  { "SIZE", IMAP_SORT_SIZE }, { "SUBJECT", IMAP_SORT_SUBJECT },
		{ "TO", IMAP_SORT_TO },			  { "DISPLAYFROM", IMAP_SORT_DISPLAYFROM },
		{ "DISPLAYTO", IMAP_SORT_DISPLAYTO },
	};
	*n_r = 0;
	if (!imap_cur_skip(cur, '(')) {
		cur->error = "Expected ( before the sort criteria";
		return -1;
	}
	for (;;) {
		bool reverse = imap_cur_keyword(cur, "REVERSE");
		if (reverse && imap_cur_sp(cur) < 0)
			return -1;
		size_t i;
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (imap_cur_keyword(cur, keys[i].name))
				break;
		if (i == sizeof(keys) / sizeof(keys[0])) {
			cur->error = "Unknown sort key";
			return -1;
		}
		if (*n_r == IMAP_SORT_KEYS_MAX) {
			cur->error = "Too many sort keys";
			return -1;
		}
		crit[(*n_r)++] = (struct imap_sort_crit){ keys[i].key, reverse };
		if (imap_cur_skip(cur, ')'))
			return 1;
		if (imap_cur_sp(cur) < 0)
			return -1;
	}
}

/* ------------------------------------------------------------ base subject */

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* length of a subj-blob at s (0: none) */
static size_t blob_len(const char *s, size_t n)
{
	if (n == 0 || s[0] != '[')
		return 0;
	size_t i = 1;
	while (i < n && s[i] != ']' && s[i] != '[')
		i++;
	if (i == n || s[i] != ']')
		return 0;
	i++;
	while (i < n && is_wsp(s[i]))
		i++;
	return i;
}

/* length of *subj-blob subj-refwd at s (0: none) */
static size_t refwd_len(const char *s, size_t n)
{
	size_t i = 0, b;
	while ((b = blob_len(s + i, n - i)) > 0)
		i += b;
	if (n - i >= 2 && strncasecmp(s + i, "re", 2) == 0)
		i += 2;
	else if (n - i >= 3 && strncasecmp(s + i, "fwd", 3) == 0)
		i += 3;
	else if (n - i >= 2 && strncasecmp(s + i, "fw", 2) == 0)
		i += 2;
	else
		return 0;
	while (i < n && is_wsp(s[i]))
		i++;
	i += blob_len(s + i, n - i);
	if (i < n && s[i] == ':')
		return i + 1;
	return 0;
}

const char *imap_base_subject(struct arena *a, const char *subject, bool *reply_r)
{
	bool reply = false;
	size_t len = subject ? strlen(subject) : 0;
	/* (1) whitespace runs to one space */
	char *s = arena_alloc(a, len + 1);
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		char c = subject[i];
		if (c == '\t' || c == '\r' || c == '\n')
			c = ' ';
		if (c == ' ' && n > 0 && s[n - 1] == ' ')
			continue;
		s[n++] = c;
	}
	const char *p = s;
	for (;;) {
		/* (2) trailers */
		for (;;) {
			if (n > 0 && is_wsp(p[n - 1])) {
				n--;
			} else if (n >= 5 && strncasecmp(p + n - 5, "(fwd)", 5) == 0) {
				n -= 5;
				reply = true;
			} else {
				break;
			}
		}
		/* (3), (4), (5) leaders and blobs */
		for (bool changed = true; changed;) {
			changed = false;
			size_t k;
			if (n > 0 && is_wsp(p[0])) {
				p++;
				n--;
				changed = true;
			} else if ((k = refwd_len(p, n)) > 0) {
				p += k;
				n -= k;
				reply = true;
				changed = true;
			} else if ((k = blob_len(p, n)) > 0 && k < n) {
				p += k;
				n -= k;
				changed = true;
			}
		}
		/* (6) [fwd: ...] */
		if (n >= 6 && strncasecmp(p, "[fwd:", 5) == 0 && p[n - 1] == ']') {
			p += 5;
			n -= 6;
			reply = true;
			continue;
		}
		break;
	}
	char *out = arena_alloc(a, n + 1);
	for (size_t i = 0; i < n; i++)
		out[i] = p[i] >= 'a' && p[i] <= 'z' ? (char)(p[i] - 32) : p[i];
	out[n] = '\0';
	if (reply_r != NULL)
		*reply_r = reply;
	return out;
}

/* ------------------------------------------------------------ addresses */

static const char *trim_dup(struct arena *a, const char *s, size_t n)
{
	while (n > 0 && (*s == ' ' || *s == '"')) {
		s++;
		n--;
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '"'))
		n--;
	return arena_strndup(a, s, n);
}

void imap_first_address(struct arena *a, const char *list, const char **name_r, const char **addr_r)
{
	*name_r = "";
	*addr_r = "";
	if (list == NULL || list[0] == '\0')
		return;
	const char *lt = strchr(list, '<');
	const char *comma = strstr(list, ", ");
	/* a bare first address: "a@b, Name <c@d>" or "a@b" */
	if (lt == NULL || (comma != NULL && comma < lt && memchr(list, '@', (size_t)(comma - list)) != NULL)) {
		size_t n = comma ? (size_t)(comma - list) : strlen(list);
		*addr_r = trim_dup(a, list, n);
		return;
	}
	const char *gt = strchr(lt, '>');
	size_t an = gt ? (size_t)(gt - lt - 1) : strlen(lt + 1);
	*addr_r = trim_dup(a, lt + 1, an);
	*name_r = trim_dup(a, list, (size_t)(lt - list));
}

/* ------------------------------------------------------------ threads */

struct node {
	const struct imap_thread_msg *m; /* NULL: a dummy */
	struct node *parent, *child, *next, *prev; /* siblings doubly linked, unordered
	                                            * until sorted */
	int64_t date;                     /* for sorting: the message's, or a dummy's first child's */
	uint32_t num;
	unsigned gen;                     /* sort_tree's visit mark */
	struct node *lp, *lc[2];          /* the link-cut tree of step (1), see below */
};

/* put_node's work list: a node to write (with "(" before it), or a ")" */
struct put_item {
	const struct node *x;
	bool open;
};

static void put_push(struct put_item **st, size_t *n, size_t *cap, const struct node *x, bool open)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		*st = realloc(*st, *cap * sizeof(**st));
		if (*st == NULL)
			abort();
	}
	(*st)[(*n)++] = (struct put_item){ x, open };
}

/* Writes a thread: a message, then its children: one child continues the chain,
 * several are parenthesised each. Iterative, like everything that walks the tree
 * (a crafted mailbox can nest 100,000 deep). */
static void put_node(struct buf *out, const struct node *top)
{
	struct put_item *st = NULL;
	size_t n = 0, cap = 0;
	put_push(&st, &n, &cap, top, false);
	while (n > 0) {
		struct put_item it = st[--n];
		if (it.x == NULL) {
			buf_putc(out, ')');
			continue;
		}
		if (it.open)
			buf_putc(out, '(');
		const struct node *x = it.x;
		for (;;) {
			if (x->m != NULL)
				buf_printf(out, "%u", x->m->num);
			if (x->child == NULL)
				break;
			if (x->m != NULL)
				buf_putc(out, ' ');
			if (x->child->next == NULL) {
				x = x->child;
				continue;
			}
			const struct node *last = x->child;
			while (last->next != NULL)
				last = last->next;
			for (const struct node *c = last; c != NULL; c = c->prev) {
				put_push(&st, &n, &cap, NULL, false); /* its ")" */
				put_push(&st, &n, &cap, c, true);
			}
			break;
		}
	}
	free(st);
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

/* A string -> node hash table (open addressing), grown to stay at most half full: the
 * ids of a mailbox's References are mostly its own messages' ids, so sizing it for
 * every reference would zero and touch several times the memory it needs. */
struct table {
	const char **keys;
	struct node **vals;
	uint64_t *hashes;
	size_t cap, n;
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static void table_alloc(struct table *t, size_t cap)
{
	t->cap = cap;
	t->keys = xcalloc(cap, sizeof(*t->keys));
	t->vals = xcalloc(cap, sizeof(*t->vals));
	t->hashes = xcalloc(cap, sizeof(*t->hashes));
}

static void table_init(struct table *t, size_t n)
{
	size_t cap = 16;
	while (cap < n * 2 + 16)
		cap *= 2;
	table_alloc(t, cap);
	t->n = 0;
}

static void table_free(struct table *t)
{
	free(t->keys);
	free(t->vals);
	free(t->hashes);
}

static void table_grow(struct table *t)
{
	struct table old = *t;
	table_alloc(t, old.cap * 2);
	for (size_t i = 0; i < old.cap; i++) {
		if (old.keys[i] == NULL)
			continue;
		size_t j = (size_t)old.hashes[i] & (t->cap - 1);
		while (t->keys[j] != NULL)
			j = (j + 1) & (t->cap - 1);
		t->keys[j] = old.keys[i];
		t->vals[j] = old.vals[i];
		t->hashes[j] = old.hashes[i];
	}
	table_free(&old);
}

/* The value slot of key (added with NULL when new); valid until the next call. */
static struct node **table_slot(struct table *t, const char *key)
{
	uint64_t h = hash_str(key);
	size_t i = (size_t)h & (t->cap - 1);
	while (t->keys[i] != NULL && (t->hashes[i] != h || strcmp(t->keys[i], key) != 0))
		i = (i + 1) & (t->cap - 1);
	if (t->keys[i] != NULL)
		return &t->vals[i];
	if ((t->n + 1) * 2 > t->cap) {
		table_grow(t);
		i = (size_t)h & (t->cap - 1);
		while (t->keys[i] != NULL)
			i = (i + 1) & (t->cap - 1);
	}
	t->keys[i] = key;
	t->hashes[i] = h;
	t->n++;
	return &t->vals[i];
}

/* Step (1) asks again and again whether linking would make a loop: is this node an
 * ancestor of that one? Walking up the parents answers in O(depth), O(n^2) for a
 * crafted chain (finding 14 of the December 2026 review). A link-cut tree (Sleator
 * and Tarjan) mirrors the forest of step (1) and finds a node's root in amortised
 * O(log n): each node's lp is its parent in a splay tree of a preferred path, or the
 * path's parent when the node is the splay tree's root; lc are the splay children
 * (left: nearer the root of the thread). No re-rooting is needed. */
static bool lct_is_root(const struct node *x)
{
	return x->lp == NULL || (x->lp->lc[0] != x && x->lp->lc[1] != x);
}

static void lct_rotate(struct node *x)
{
	struct node *p = x->lp, *g = p->lp;
	int d = p->lc[1] == x;
	if (!lct_is_root(p))
		g->lc[g->lc[1] == p] = x;
	x->lp = g;
	p->lc[d] = x->lc[!d];
	if (x->lc[!d] != NULL)
		x->lc[!d]->lp = p;
	x->lc[!d] = p;
	p->lp = x;
}

static void lct_splay(struct node *x)
{
	while (!lct_is_root(x)) {
		struct node *p = x->lp;
		if (!lct_is_root(p))
			lct_rotate((p->lp->lc[1] == p) == (p->lc[1] == x) ? p : x);
		lct_rotate(x);
	}
}

/* Makes the path from x's root to x preferred, with x at the top of its splay tree. */
static void lct_access(struct node *x)
{
	struct node *last = NULL;
	for (struct node *y = x; y != NULL; y = y->lp) {
		lct_splay(y);
		y->lc[1] = last;
		last = y;
	}
	lct_splay(x);
}

static struct node *lct_root(struct node *x)
{
	lct_access(x);
	while (x->lc[0] != NULL)
		x = x->lc[0];
	lct_splay(x);
	return x;
}

/* x has no parent in the forest; parent becomes its parent. */
static void lct_link(struct node *x, struct node *parent)
{
	lct_access(x);
	x->lp = parent;
}

/* x loses its parent in the forest. */
static void lct_cut(struct node *x)
{
	lct_access(x);
	if (x->lc[0] != NULL) {
		x->lc[0]->lp = NULL;
		x->lc[0] = NULL;
	}
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

/* Nodes made one by one in chunks of the arena; node i is the i-th made. */
#define NODE_CHUNK 4096
struct nodes {
	struct arena *a;
	struct node **chunk; /* malloc'd */
	size_t nchunk, cap, used;
};

static struct node *node_new(struct nodes *ns)
{
	if (ns->used % NODE_CHUNK == 0) {
		if (ns->nchunk == ns->cap) {
			ns->cap = ns->cap ? ns->cap * 2 : 16;
			ns->chunk = xrealloc(ns->chunk, ns->cap * sizeof(*ns->chunk));
		}
		ns->chunk[ns->nchunk++] = arena_alloc(ns->a, NODE_CHUNK * sizeof(struct node));
	}
	size_t i = ns->used++;
	return &ns->chunk[i / NODE_CHUNK][i % NODE_CHUNK];
}

static struct node *node_at(const struct nodes *ns, size_t i)
{
	assert(i < ns->used);
	return &ns->chunk[i / NODE_CHUNK][i % NODE_CHUNK];
}

void imap_thread_references(struct arena *a, const struct imap_thread_msg *msgs, size_t n, struct buf *out)
{
	/* node 0 is the root's parent (holds the root set); then messages and dummies,
	 * the nodes, in chunks as they are made: a reference mostly names a message of the
	 * mailbox and shares its node, so an array for every reference would be mostly
	 * unused (and zeroed) */
	struct nodes nodes = { .a = a };
	node_new(&nodes);
	struct table ids;
	table_init(&ids, n);
	/* (1) */
	for (size_t i = 0; i < n; i++) {
		const struct imap_thread_msg *m = &msgs[i];
		struct node *x = NULL;
		if (m->msgid != NULL && m->msgid[0] != '\0') {
			struct node **slot = table_slot(&ids, m->msgid);
			if (*slot != NULL && (*slot)->m == NULL)
				x = *slot; /* a dummy made for a reference: it is this message */
			else if (*slot == NULL)
				x = *slot = node_new(&nodes);
			/* a duplicate Message-ID: the later message gets a node of its own */
		}
		if (x == NULL)
			x = node_new(&nodes);
		x->m = m;
		x->date = m->date;
		x->num = m->num;
		/* (1A) link the references in order */
		struct node *prev = NULL;
		for (const char *const *r = m->refs; r != NULL && *r != NULL; r++) {
			struct node **slot = table_slot(&ids, *r);
			if (*slot == NULL)
				*slot = node_new(&nodes);
			struct node *c = *slot;
			/* c has no parent: it is an ancestor of prev only as the root of
			 * prev's thread, and only if it has children */
			if (prev != NULL && c->parent == NULL && c != prev && (c->child == NULL || lct_root(prev) != c)) {
				add_child(prev, c);
				lct_link(c, prev);
			}
			prev = c;
		}
		/* (1B) the message's parent is the last reference. RFC 5256: a parent it
		 * already has "is probably the result of a truncated References header
		 * line, so break the current parent/child link before creating the new
		 * correct one", and do not create it when it would make a loop (x is the
		 * last reference, or an ancestor of it): then x has no parent at all, as
		 * Dovecot does too (issue 16) */
		if (x->parent != NULL) {
			lct_cut(x);
			unlink_node(x);
		}
		if (prev != NULL && prev != x && (x->child == NULL || lct_root(prev) != x)) {
			add_child(prev, x);
			lct_link(x, prev);
		}
	}
	/* (2) root set */
	struct node *root = node_at(&nodes, 0);
	size_t used = nodes.used;
	for (size_t i = 1; i < used; i++)
		if (node_at(&nodes, i)->parent == NULL)
			add_child(root, node_at(&nodes, i));
	/* (3) prune dummies: without children deleted; with children promoted unless at
	 * the root with several children. One pass, every node after its descendants
	 * (the reverse of a pre-order walk): a dummy's children are final when it is
	 * looked at, and what it changes (its parent's children) comes later. */
	struct node **order = arena_alloc(a, used * sizeof(*order));
	struct node **stack = arena_alloc(a, used * sizeof(*stack));
	size_t norder = 0, sp = 0;
	for (struct node *c = root->child; c != NULL; c = c->next)
		stack[sp++] = c;
	while (sp > 0) {
		struct node *x = stack[--sp];
		order[norder++] = x;
		for (struct node *c = x->child; c != NULL; c = c->next)
			stack[sp++] = c;
	}
	while (norder > 0) {
		struct node *x = order[--norder];
		if (x->m != NULL || x->parent == NULL)
			continue;
		if (x->child == NULL) {
			unlink_node(x);
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
	}
	/* (4) sort the root set (dummies by their first child after sorting below) */
	sort_tree(root, 1);
	/* (5) group the root set by base subject */
	table_free(&ids);
	struct table subj;
	table_init(&subj, n);
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
	table_free(&subj);
	free(nodes.chunk);
}

static int os_cmp(const void *pa, const void *pb)
{
	const struct imap_thread_msg *a = *(const struct imap_thread_msg *const *)pa;
	const struct imap_thread_msg *b = *(const struct imap_thread_msg *const *)pb;
	int r = strcmp(a->base, b->base);
	if (r != 0)
		return r;
	if (a->date != b->date)
		return a->date < b->date ? -1 : 1;
	return a->num < b->num ? -1 : a->num > b->num;
}

struct os_thread {
	const struct imap_thread_msg **v;
	size_t n;
};

static int os_thread_cmp(const void *pa, const void *pb)
{
	const struct imap_thread_msg *a = ((const struct os_thread *)pa)->v[0];
	const struct imap_thread_msg *b = ((const struct os_thread *)pb)->v[0];
	if (a->date != b->date)
		return a->date < b->date ? -1 : 1;
	return a->num < b->num ? -1 : a->num > b->num;
}

void imap_thread_orderedsubject(struct arena *a, const struct imap_thread_msg *msgs, size_t n, struct buf *out)
{
	if (n == 0)
		return;
	const struct imap_thread_msg **v = arena_alloc(a, n * sizeof(*v));
	for (size_t i = 0; i < n; i++)
		v[i] = &msgs[i];
	qsort(v, n, sizeof(*v), os_cmp);
	struct os_thread *t = arena_alloc(a, n * sizeof(*t));
	size_t nt = 0;
	for (size_t i = 0; i < n; i++) {
		if (nt > 0 && strcmp(t[nt - 1].v[0]->base, v[i]->base) == 0) {
			t[nt - 1].n++;
			continue;
		}
		t[nt++] = (struct os_thread){ &v[i], 1 };
	}
	/* threads by the sent date of their first message */
	qsort(t, nt, sizeof(*t), os_thread_cmp);
	for (size_t i = 0; i < nt; i++) {
		buf_printf(out, "(%u", t[i].v[0]->num);
		if (t[i].n == 2) {
			buf_printf(out, " %u", t[i].v[1]->num);
		} else if (t[i].n > 2) {
			buf_putc(out, ' ');
			for (size_t k = 1; k < t[i].n; k++)
				buf_printf(out, "(%u)", t[i].v[k]->num);
		}
		buf_putc(out, ')');
	}
}
