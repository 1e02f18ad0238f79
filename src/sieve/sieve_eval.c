/* sieve_eval.c: running a program: commands, actions, include, the result.
 *
 * sieve_run() walks the top-level commands of a program (RFC 5228 §3: if/elsif/
 * else chains, stop) and collects actions with the rules of RFC 5228 §4 and the
 * extensions: keep, fileinto and redirect (without :copy) and discard cancel the
 * implicit keep; a second fileinto to the same mailbox or redirect to the same
 * address adds nothing (the last store's flags count, as in Pigeonhole); reject/ereject conflict with any
 * other delivering action and with vacation (RFC 5429 §2.1); there is at most one
 * vacation (RFC 5230 §4.7); redirects are bounded by limits.max_redirects and all
 * actions by limits.max_actions. imap4flags' internal variable gives the flags of
 * keep and fileinto without :flags and of the implicit keep. include (RFC 6609)
 * asks the caller for the text, compiles it with the same limits and runs it in
 * a scope of its own. Any error or limit hit ends the run with -1: the caller
 * then keeps the message. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arena.h"
#include "buf.h"
#include "sieve_eval.h"

/* --- flags (RFC 5232): a space-separated set, case-insensitive --- */

static bool flag_in(const char *set, const char *f, size_t flen)
{
	const char *p = set;
	while (*p) {
		while (*p == ' ')
			p++;
		const char *e = p;
		while (*e && *e != ' ')
			e++;
		if ((size_t)(e - p) == flen && flen > 0 && strncasecmp(p, f, flen) == 0)
			return true;
		p = e;
	}
	return false;
}

/* Adds (add) or removes the flags of the strings in list to/from set. */
static const char *flags_edit(struct sieve_state *run, const char *set, const char **list, int n, bool add)
{
	struct buf b = { 0 };
	if (add) {
		buf_puts(&b, set);
		for (int i = 0; i < n; i++) {
			const char *p = list[i];
			while (*p) {
				while (*p == ' ')
					p++;
				const char *e = p;
				while (*e && *e != ' ')
					e++;
				if (e > p && !flag_in(buf_str(&b), p, (size_t)(e - p))) {
					if (b.len > 0)
						buf_putc(&b, ' ');
					buf_append(&b, p, (size_t)(e - p));
				}
				p = e;
			}
		}
	} else {
		const char *p = set;
		while (*p) {
			while (*p == ' ')
				p++;
			const char *e = p;
			while (*e && *e != ' ')
				e++;
			bool drop = false;
			for (int i = 0; i < n && !drop && e > p; i++)
				drop = flag_in(list[i], p, (size_t)(e - p));
			if (e > p && !drop) {
				if (b.len > 0)
					buf_putc(&b, ' ');
				buf_append(&b, p, (size_t)(e - p));
			}
			p = e;
		}
	}
	const char *r = arena_strdup(run->a, buf_str(&b));
	buf_free(&b);
	return r;
}

/* Splits a flag set into an array. */
static size_t flags_split(struct sieve_state *run, const char *set, const char ***out_r)
{
	size_t n = 0;
	for (const char *p = set; *p; p++)
		if (*p != ' ' && (p == set || p[-1] == ' '))
			n++;
	const char **v = arena_alloc(run->a, (n + 1) * sizeof(char *));
	size_t k = 0;
	const char *p = set;
	while (*p) {
		while (*p == ' ')
			p++;
		const char *e = p;
		while (*e && *e != ' ')
			e++;
		if (e > p)
			v[k++] = arena_strndup(run->a, p, (size_t)(e - p));
		p = e;
	}
	assert(k == n);
	*out_r = v;
	return n;
}

/* --- actions --- */

static struct sieve_action *add_action(struct sieve_state *run, enum sieve_action_type type, const char **error_r)
{
	if (run->nacts >= run->lim->max_actions) {
		sieve_run_error(run, error_r, "more than %u actions", run->lim->max_actions);
		return NULL;
	}
	if (run->nacts == run->capacts) {
		size_t nc = run->capacts ? run->capacts * 2 : 8;
		struct sieve_action *na = arena_alloc(run->a, nc * sizeof(*na));
		if (run->nacts > 0)
			memcpy(na, run->acts, run->nacts * sizeof(*na));
		run->acts = na;
		run->capacts = nc;
	}
	struct sieve_action *act = &run->acts[run->nacts++];
	memset(act, 0, sizeof(*act));
	act->type = type;
	return act;
}

static bool delivers(const struct sieve_action *a)
{
	return a->type == SIEVE_ACT_KEEP || a->type == SIEVE_ACT_FILEINTO || a->type == SIEVE_ACT_REDIRECT;
}

/* A reject cannot go with anything delivering or a vacation (RFC 5429 §2.1). */
static int check_reject_conflict(struct sieve_state *run, enum sieve_action_type type, const char **error_r)
{
	bool is_reject = type == SIEVE_ACT_REJECT || type == SIEVE_ACT_EREJECT;
	for (size_t i = 0; i < run->nacts; i++) {
		const struct sieve_action *o = &run->acts[i];
		bool o_reject = o->type == SIEVE_ACT_REJECT || o->type == SIEVE_ACT_EREJECT;
		if (is_reject && o_reject)
			return sieve_run_error(run, error_r, "more than one reject");
		if (is_reject && (delivers(o) || o->type == SIEVE_ACT_VACATION))
			return sieve_run_error(run, error_r, "reject conflicts with an earlier action");
		if (o_reject && (type == SIEVE_ACT_KEEP || type == SIEVE_ACT_FILEINTO || type == SIEVE_ACT_REDIRECT ||
				 type == SIEVE_ACT_VACATION))
			return sieve_run_error(run, error_r, "this action conflicts with an earlier reject");
	}
	return 0;
}

/* Keep or fileinto: merges into an earlier store to the same mailbox. */
static int do_store(struct sieve_state *run, const struct sieve_node *n, const char **error_r)
{
	const char *mailbox = "INBOX";
	enum sieve_action_type type = n->op == OP_KEEP ? SIEVE_ACT_KEEP : SIEVE_ACT_FILEINTO;
	if (type == SIEVE_ACT_FILEINTO && sieve_string(run, n->sl[0], &mailbox, error_r) < 0)
		return -1;
	bool bad_name = mailbox[0] == '\0';
	for (const char *q = mailbox; *q && !bad_name; q++)
		bad_name = (unsigned char)*q < 0x20 || *q == 0x7f;
	if (bad_name)
		return sieve_run_error(run, error_r, "fileinto: invalid mailbox name \"%s\"", mailbox);
	if (check_reject_conflict(run, type, error_r) < 0)
		return -1;
	const char *flagset = run->flags;
	if (n->flags & NF_FLAGS) {
		const char **fl;
		int nf = sieve_strings(run, n->sl[1], &fl, error_r);
		if (nf < 0)
			return -1;
		flagset = flags_edit(run, "", fl, nf, true);
	}
	if (type == SIEVE_ACT_FILEINTO && strcasecmp(mailbox, "INBOX") == 0)
		mailbox = "INBOX";
	bool copy = (n->flags & NF_COPY) != 0;
	if (!copy)
		run->implicit_keep = false;
	struct sieve_action *act = NULL;
	for (size_t i = 0; i < run->nacts; i++) {
		struct sieve_action *o = &run->acts[i];
		const char *om = o->type == SIEVE_ACT_KEEP ? "INBOX" : o->mailbox;
		if ((o->type == SIEVE_ACT_KEEP || o->type == SIEVE_ACT_FILEINTO) && strcmp(om, mailbox) == 0) {
			act = o;
			break;
		}
	}
	if (act != NULL) { /* the same mailbox again: one store, the last flags (as Pigeonhole) */
		act->nflags = flags_split(run, flagset, &act->flags);
		act->create |= (n->flags & NF_CREATE) != 0;
		act->copy &= copy;
		act->flags_given |= (n->flags & NF_FLAGS) != 0;
		return 0;
	}
	act = add_action(run, type, error_r);
	if (act == NULL)
		return -1;
	act->mailbox = type == SIEVE_ACT_FILEINTO ? mailbox : NULL;
	act->create = (n->flags & NF_CREATE) != 0;
	act->copy = copy;
	act->flags_given = (n->flags & NF_FLAGS) != 0;
	act->nflags = flags_split(run, flagset, &act->flags);
	return 0;
}

/* Addresses are the same when their local parts are equal and their domains equal
 * but for case (RFC 5321 §2.4). */
static bool same_address(const char *a, const char *b)
{
	const char *ata = strrchr(a, '@'), *atb = strrchr(b, '@');
	if (ata == NULL || atb == NULL)
		return strcmp(a, b) == 0;
	return ata - a == atb - b && strncmp(a, b, (size_t)(ata - a)) == 0 && strcasecmp(ata, atb) == 0;
}

static int do_redirect(struct sieve_state *run, const struct sieve_node *n, const char **error_r)
{
	const char *addr;
	if (sieve_string(run, n->sl[0], &addr, error_r) < 0)
		return -1;
	/* RFC 5228 §4.2: the address must be a valid addr-spec */
	const char *at = strrchr(addr, '@');
	if (at == NULL || at == addr || at[1] == '\0' || strpbrk(addr, " \t\r\n<>,;") != NULL)
		return sieve_run_error(run, error_r, "redirect: invalid address \"%s\"", addr);
	if (check_reject_conflict(run, SIEVE_ACT_REDIRECT, error_r) < 0)
		return -1;
	bool copy = (n->flags & NF_COPY) != 0;
	if (!copy)
		run->implicit_keep = false;
	for (size_t i = 0; i < run->nacts; i++)
		if (run->acts[i].type == SIEVE_ACT_REDIRECT && same_address(run->acts[i].address, addr)) {
			run->acts[i].copy &= copy;
			return 0;
		}
	if (run->nredirects >= run->lim->max_redirects)
		return sieve_run_error(run, error_r, "more than %u redirects", run->lim->max_redirects);
	struct sieve_action *act = add_action(run, SIEVE_ACT_REDIRECT, error_r);
	if (act == NULL)
		return -1;
	run->nredirects++;
	act->address = addr;
	act->copy = copy;
	return 0;
}

static int do_reject(struct sieve_state *run, const struct sieve_node *n, const char **error_r)
{
	enum sieve_action_type type = n->op == OP_REJECT ? SIEVE_ACT_REJECT : SIEVE_ACT_EREJECT;
	const char *reason;
	if (sieve_string(run, n->sl[0], &reason, error_r) < 0)
		return -1;
	if (check_reject_conflict(run, type, error_r) < 0)
		return -1;
	struct sieve_action *act = add_action(run, type, error_r);
	if (act == NULL)
		return -1;
	act->reason = reason;
	run->implicit_keep = false;
	return 0;
}

static int do_vacation(struct sieve_state *run, const struct sieve_node *n, const char **error_r)
{
	for (size_t i = 0; i < run->nacts; i++)
		if (run->acts[i].type == SIEVE_ACT_VACATION)
			return sieve_run_error(run, error_r, "more than one vacation");
	if (check_reject_conflict(run, SIEVE_ACT_VACATION, error_r) < 0)
		return -1;
	const char *reason, *subject = NULL, *from = NULL, *handle = NULL;
	if (sieve_string(run, n->sl[0], &reason, error_r) < 0)
		return -1;
	if (n->sl[1] != SIEVE_NONE && sieve_string(run, n->sl[1], &subject, error_r) < 0)
		return -1;
	if (n->sl[2] != SIEVE_NONE && sieve_string(run, n->sl[2], &from, error_r) < 0)
		return -1;
	const char **addrs = NULL;
	int na = 0;
	if (n->sl[3] != SIEVE_NONE && (na = sieve_strings(run, n->sl[3], &addrs, error_r)) < 0)
		return -1;
	if (n->sl[4] != SIEVE_NONE && sieve_string(run, n->sl[4], &handle, error_r) < 0)
		return -1;
	if (handle == NULL) { /* RFC 5230 §4.2: derived from the arguments that shape the reply */
		uint64_t h = 14695981039346656037ull; /* FNV-1a over reason, subject, from, :mime */
		const char *parts[3] = { reason, subject ? subject : "", from ? from : "" };
		for (int k = 0; k < 3; k++)
			for (const char *p = parts[k];; p++) {
				h = (h ^ (unsigned char)*p) * 1099511628211ull;
				if (*p == '\0')
					break;
			}
		h = (h ^ ((n->flags & NF_MIME) != 0)) * 1099511628211ull;
		handle = arena_printf(run->a, "auto-%016llx", (unsigned long long)h);
	}
	struct sieve_action *act = add_action(run, SIEVE_ACT_VACATION, error_r);
	if (act == NULL)
		return -1;
	act->reason = reason;
	act->subject = subject;
	act->from = from;
	act->handle = handle;
	act->addresses = addrs;
	act->naddresses = (size_t)na;
	act->mime = (n->flags & NF_MIME) != 0;
	act->seconds_given = (n->flags & NF_SECONDS) != 0;
	if (n->flags & NF_SECONDS)
		act->seconds = (uint64_t)n->num;
	else if (n->flags & NF_DAYS)
		act->seconds = (uint64_t)n->num > UINT64_MAX / 86400 ? UINT64_MAX : (uint64_t)n->num * 86400;
	else
		act->seconds = 7 * 86400;
	return 0;
}

static int do_set(struct sieve_state *run, const struct sieve_node *n, const char **error_r)
{
	const char *name, *value;
	if (sieve_string(run, n->sl[0], &name, error_r) < 0 || sieve_string(run, n->sl[1], &value, error_r) < 0)
		return -1;
	value = sieve_set_modifiers(run, n->flags, value);
	return sieve_var_set(run, name, value, error_r);
}

static int do_flags(struct sieve_state *run, const struct sieve_node *n, const char **error_r)
{
	const char **fl;
	int nf = sieve_strings(run, n->sl[1], &fl, error_r);
	if (nf < 0)
		return -1;
	const char *var = NULL;
	if (n->sl[0] != SIEVE_NONE && sieve_string(run, n->sl[0], &var, error_r) < 0)
		return -1;
	const char *cur = var != NULL ? sieve_var_get(run, var) : run->flags;
	if (cur == NULL)
		cur = "";
	const char *nv;
	if (n->op == OP_SETFLAG)
		nv = flags_edit(run, "", fl, nf, true);
	else
		nv = flags_edit(run, cur, fl, nf, n->op == OP_ADDFLAG);
	if (var != NULL)
		return sieve_var_set(run, var, nv, error_r);
	run->flags = nv;
	return 0;
}

static int exec_block(struct sieve_state *run, const struct sieve_program *pr, const uint32_t *cmds, uint32_t n,
		      unsigned depth, const char **error_r);

static int do_include(struct sieve_state *run, const struct sieve_node *n, const char **error_r)
{
	const char *name;
	if (sieve_string(run, n->sl[0], &name, error_r) < 0)
		return -1;
	if (name[0] == '\0' || strchr(name, '/') != NULL) /* a loaded program is not checked by the binder */
		return sieve_run_error(run, error_r, "include: invalid script name \"%s\"", name);
	bool global = (n->flags & NF_GLOBAL) != 0;
	const char *key = arena_printf(run->a, "%c%s", global ? 'g' : 'p', name);
	if (n->flags & NF_ONCE)
		for (const char **p = run->included; p != NULL && *p != NULL; p++)
			if (strcmp(*p, key) == 0)
				return 0;
	if (run->include_depth >= run->lim->max_include_depth)
		return sieve_run_error(run, error_r, "include nested deeper than %u", run->lim->max_include_depth);
	if (run->nincludes >= run->lim->max_includes)
		return sieve_run_error(run, error_r, "more than %u includes", run->lim->max_includes);
	const char *text = NULL;
	size_t len = 0;
	int r = run->msg->include != NULL ? run->msg->include(run->msg->ctx, global, name, &text, &len) : 0;
	if (r < 0)
		return sieve_run_error(run, error_r, "include \"%s\": the script could not be read", name);
	if (r == 0) {
		if (n->flags & NF_OPTIONAL)
			return 0;
		return sieve_run_error(run, error_r, "include: no script \"%s\"", name);
	}
	struct sieve_program *sub;
	const char *cerr;
	if (sieve_compile(text, len, run->lim, run->a, &sub, &cerr) < 0)
		return sieve_run_error(run, error_r, "include \"%s\": %s", name, cerr);
	size_t ni = 0;
	while (run->included != NULL && run->included[ni] != NULL)
		ni++;
	const char **nl = arena_alloc(run->a, (ni + 2) * sizeof(char *));
	if (ni > 0)
		memcpy(nl, run->included, ni * sizeof(char *));
	nl[ni] = key;
	nl[ni + 1] = NULL;
	run->included = nl;
	run->nincludes++;
	run->include_depth++;
	r = sieve_exec_program(run, sub, error_r);
	run->include_depth--;
	sieve_program_free(&sub);
	return r;
}

static int do_global(struct sieve_state *run, const struct sieve_node *n, const char **error_r)
{
	const char **names;
	int nn = sieve_strings(run, n->sl[0], &names, error_r);
	if (nn < 0)
		return -1;
	const char **ng = arena_alloc(run->a, (run->nglobals + (size_t)nn + 1) * sizeof(char *));
	if (run->nglobals > 0)
		memcpy(ng, run->globals, run->nglobals * sizeof(char *));
	for (int i = 0; i < nn; i++)
		ng[run->nglobals++] = names[i];
	run->globals = ng;
	return 0;
}

static int exec_command(struct sieve_state *run, const struct sieve_program *pr, uint32_t idx, unsigned depth,
			const char **error_r)
{
	const struct sieve_node *n = &pr->nodes[idx];
	run->line = n->line;
	++run->steps;
	if (sieve_run_check(run, error_r) < 0)
		return -1;
	switch ((enum sieve_op)n->op) {
	case OP_STOP:
		run->stop = true;
		return 0;
	case OP_RETURN:
		run->ret = true;
		return 0;
	case OP_KEEP:
	case OP_FILEINTO:
		return do_store(run, n, error_r);
	case OP_DISCARD:
		run->implicit_keep = false;
		for (size_t i = 0; i < run->nacts; i++)
			if (run->acts[i].type == SIEVE_ACT_DISCARD)
				return 0;
		return add_action(run, SIEVE_ACT_DISCARD, error_r) != NULL ? 0 : -1;
	case OP_REDIRECT:
		return do_redirect(run, n, error_r);
	case OP_REJECT:
	case OP_EREJECT:
		return do_reject(run, n, error_r);
	case OP_VACATION:
		return do_vacation(run, n, error_r);
	case OP_SET:
		return do_set(run, n, error_r);
	case OP_ADDFLAG:
	case OP_SETFLAG:
	case OP_REMOVEFLAG:
		return do_flags(run, n, error_r);
	case OP_INCLUDE:
		return do_include(run, n, error_r);
	case OP_GLOBAL:
		return do_global(run, n, error_r);
	default:
		break;
	}
	return sieve_run_error(run, error_r, "not a command (corrupt program)");
}

/* Runs a list of commands, with if/elsif/else chains. */
static int exec_block(struct sieve_state *run, const struct sieve_program *pr, const uint32_t *cmds, uint32_t n,
		      unsigned depth, const char **error_r)
{
	if (depth > 2 * run->lim->max_nesting + 2)
		return sieve_run_error(run, error_r, "nesting deeper than %u", run->lim->max_nesting);
	bool chain_done = true; /* no open if chain, or one of its branches ran */
	for (uint32_t i = 0; i < n && !run->stop && !run->ret; i++) {
		const struct sieve_node *c = &pr->nodes[cmds[i]];
		enum sieve_op op = (enum sieve_op)c->op;
		if (op == OP_IF || op == OP_ELSIF || op == OP_ELSE) {
			if (op == OP_IF)
				chain_done = false;
			if (chain_done)
				continue;
			run->line = c->line;
			if (++run->steps > run->lim->max_cpu_steps)
				return sieve_steps_error(run, error_r);
			const uint32_t *kids = pr->kids + c->kid0;
			uint32_t nk = c->nkids;
			bool take = true;
			if (op != OP_ELSE) {
				if (nk < 1 || pr->nodes[kids[0]].op <= OP_LAST_COMMAND)
					return sieve_run_error(run, error_r, "corrupt program");
				int r = sieve_test(run, kids[0], depth + 1, error_r);
				if (r < 0)
					return -1;
				take = r > 0;
				kids++;
				nk--;
			}
			if (!take)
				continue;
			chain_done = true;
			if (exec_block(run, pr, kids, nk, depth + 1, error_r) < 0)
				return -1;
			continue;
		}
		chain_done = true;
		if (op > OP_LAST_COMMAND)
			return sieve_run_error(run, error_r, "corrupt program");
		if (exec_command(run, pr, cmds[i], depth, error_r) < 0)
			return -1;
	}
	return 0;
}

int sieve_exec_program(struct sieve_state *run, const struct sieve_program *prog, const char **error_r)
{
	const struct sieve_program *saved_prog = run->prog;
	unsigned saved_scope = run->scope;
	const char **saved_globals = run->globals;
	size_t saved_nglobals = run->nglobals;
	run->prog = prog;
	run->scope = ++run->next_scope;
	run->globals = NULL;
	run->nglobals = 0;
	/* an empty script has no children array at all */
	const uint32_t *top = prog->nroot > 0 ? prog->kids + prog->root0 : NULL;
	int r = exec_block(run, prog, top, prog->nroot, 0, error_r);
	run->ret = false;
	run->prog = saved_prog;
	run->scope = saved_scope;
	run->globals = saved_globals;
	run->nglobals = saved_nglobals;
	return r;
}

int sieve_run(const struct sieve_program *prog, const struct sieve_message *msg, struct arena *a,
	      struct sieve_result *r, const char **error_r)
{
	struct sieve_state run = { .prog = prog,
				   .msg = msg,
				   .lim = &prog->limits,
				   .a = a,
				   .implicit_keep = true,
				   .flags = "",
				   .mem_base = arena_used(a) };
	*r = (struct sieve_result){ 0 };
	int ret = sieve_exec_program(&run, prog, error_r);
	sieve_regex_free_all(&run);
	r->steps = run.steps;
	if (ret < 0)
		return -1;
	r->actions = run.acts;
	r->nactions = run.nacts;
	r->implicit_keep = run.implicit_keep;
	r->nkeep_flags = flags_split(&run, run.flags, &r->keep_flags);
	r->dups = run.dups;
	r->ndups = run.ndups;
	return 1;
}

/* --- the text form --- */

static void put_quoted(struct buf *out, const char *s)
{
	buf_putc(out, '"');
	for (; s != NULL && *s; s++) {
		if (*s == '"' || *s == '\\')
			buf_printf(out, "\\%c", *s);
		else if (*s == '\n')
			buf_puts(out, "\\n");
		else if (*s == '\r')
			buf_puts(out, "\\r");
		else
			buf_putc(out, *s);
	}
	buf_putc(out, '"');
}

static void put_flags(struct buf *out, const char **flags, size_t n)
{
	if (n == 0)
		return;
	buf_puts(out, " flags:");
	for (size_t i = 0; i < n; i++) {
		buf_putc(out, ' ');
		buf_puts(out, flags[i]);
	}
}

void sieve_result_format(const struct sieve_result *r, struct buf *out)
{
	for (size_t i = 0; i < r->nactions; i++) {
		const struct sieve_action *a = &r->actions[i];
		switch (a->type) {
		case SIEVE_ACT_KEEP:
			buf_puts(out, "keep");
			put_flags(out, a->flags, a->nflags);
			break;
		case SIEVE_ACT_FILEINTO:
			buf_puts(out, "fileinto ");
			put_quoted(out, a->mailbox);
			if (a->create)
				buf_puts(out, " create");
			if (a->copy)
				buf_puts(out, " copy");
			put_flags(out, a->flags, a->nflags);
			break;
		case SIEVE_ACT_REDIRECT:
			buf_puts(out, "redirect ");
			put_quoted(out, a->address);
			if (a->copy)
				buf_puts(out, " copy");
			break;
		case SIEVE_ACT_REJECT:
		case SIEVE_ACT_EREJECT:
			buf_puts(out, a->type == SIEVE_ACT_REJECT ? "reject " : "ereject ");
			put_quoted(out, a->reason);
			break;
		case SIEVE_ACT_DISCARD:
			buf_puts(out, "discard");
			break;
		case SIEVE_ACT_VACATION:
			buf_puts(out, "vacation from=");
			put_quoted(out, a->from != NULL ? a->from : "");
			buf_puts(out, " subject=");
			put_quoted(out, a->subject != NULL ? a->subject : "");
			buf_puts(out, " handle=");
			put_quoted(out, a->handle);
			buf_printf(out, " seconds=%llu mime=%d addresses=", (unsigned long long)a->seconds, a->mime);
			for (size_t k = 0; k < a->naddresses; k++)
				buf_printf(out, "%s%s", k ? "," : "", a->addresses[k]);
			buf_puts(out, " reason=");
			put_quoted(out, a->reason);
			break;
		}
		buf_putc(out, '\n');
	}
	if (r->implicit_keep) {
		buf_puts(out, "keep");
		put_flags(out, r->keep_flags, r->nkeep_flags);
		buf_putc(out, '\n');
	}
}
