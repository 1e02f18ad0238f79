/* sieve_hook.c: the Sieve delivery hook (sieve_hook.h). Per local account: load the
 * active script's compiled form (compiling the text again when the saved form is
 * stale, and saving the new one), build the vacation fragment from the JMAP
 * settings, run both over the message (sieve.h), then execute the actions. All
 * memory of a message lives in its arena (the copies must live until the commit).
 * The pure parts (reply texts, RFC 3834 checks, SRS, the loop header) are in
 * sieve_reply.c. */
#include "sieve_hook.h"

#include "junk_hook.h"
#include "log.h"
#include "sieve.h"
#include "sieve_reply.h"
#include "store.h"
#include "submit.h"
#include "textfmt.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

struct sieve_hook {
	struct store *store;
	struct submit *submit;
	struct settings_ref *settings;
	unsigned char srs_secret[64];
	size_t srs_len; /* 0: no SRS */
};

/* Reads the SRS secret, or creates it. */
static void load_srs_key(struct sieve_hook *h, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0) {
			char hex[65];
			textfmt_random_hex(hex, sizeof(hex), 32);
			bool ok = write(fd, hex, 64) == 64;
			close(fd);
			log_info("event=srs_key_created path=%s ok=%d", LOG_Q(path), ok);
			fd = open(path, O_RDONLY | O_CLOEXEC);
		}
	}
	if (fd < 0) {
		log_warn("event=srs_key_unavailable path=%s error=%s note=\"redirects keep the original sender\"",
			 LOG_Q(path), LOG_Q(strerror(errno)));
		return;
	}
	ssize_t n = read(fd, h->srs_secret, sizeof(h->srs_secret));
	close(fd);
	h->srs_len = n >= 16 ? (size_t)n : 0;
	if (h->srs_len == 0)
		log_warn("event=srs_key_unavailable path=%s error=\"shorter than 16 bytes\"", LOG_Q(path));
}

struct sieve_hook *sieve_hook_new(struct store *store, struct submit *submit, struct settings_ref *settings,
				  const char *srs_key_path)
{
	struct sieve_hook *h = xcalloc(1, sizeof(*h));
	h->store = store;
	h->submit = submit;
	h->settings = settings;
	load_srs_key(h, srs_key_path);
	return h;
}

int sieve_hook_srs_reverse(void *ctx, struct arena *a, const char *address, const char **to_r)
{
	struct sieve_hook *h = ctx;
	if (h->srs_len == 0)
		return 0;
	return sieve_reply_srs_reverse(a, h->srs_secret, h->srs_len, address, (int64_t)time(NULL), to_r);
}

void sieve_hook_free(struct sieve_hook **hp)
{
	free(*hp);
	*hp = NULL;
}

/* ---- one account's run ---- */

struct run {
	struct sieve_hook *h;
	const struct settings *s;
	struct submit_hook_msg *m;
	struct arena *a; /* m->arena */
	int64_t account;
	const char *user;   /* the account's address */
	const char *env_to; /* the recipient as given (with its +detail) */
	int64_t now;
	struct submit_copy *copies;
	size_t ncopies;
};

static int cb_duplicate(void *ctx, const char *handle, const char *id, uint64_t seconds)
{
	struct run *r = ctx;
	const char *error;
	const char *key = arena_printf(r->a, "dup\n%s\n%s", handle, id);
	return store_sieve_duplicate_seen(r->h->store, r->account, key, (time_t)r->now, &error);
}

static int cb_mailbox_exists(void *ctx, const char *mailbox)
{
	struct run *r = ctx;
	struct store_mailbox mb;
	const char *error;
	return store_mailbox_get(r->h->store, r->a, r->account, mailbox, &mb, &error) > 0 ? 1 : 0;
}

static int cb_include(void *ctx, bool global, const char *name, const char **text_r, size_t *len_r)
{
	struct run *r = ctx;
	if (global)
		return 0; /* no global scripts */
	struct store_sieve_script sc;
	const char *error;
	int g = store_sieve_get(r->h->store, r->a, r->account, 0, name, STORE_SIEVE_TEXT, &sc, &error);
	if (g <= 0)
		return g;
	*text_r = sc.text;
	*len_r = sc.size;
	return 1;
}

/* The active script as a program: its saved form, or its text compiled again (the
 * new form saved). Returns 1, 0 when the account has none, <0 on error. */
static int load_program(struct run *r, struct sieve_program **prog_r, const char **name_r, const char **error_r)
{
	struct store_sieve_script sc;
	int g = store_sieve_get_active(r->h->store, r->a, r->account, &sc, error_r);
	if (g <= 0)
		return g;
	*name_r = sc.name;
	const struct sieve_limits *lim = r->s->sieve_limits;
	const char *e;
	if (sc.compiled != NULL && sieve_program_load(sc.compiled, sc.compiled_len, lim, prog_r, &e) > 0)
		return 1;
	if (sieve_compile(sc.text, sc.size, lim, r->a, prog_r, error_r) < 0)
		return -1;
	struct buf saved = { 0 };
	sieve_program_save(*prog_r, &saved);
	if (store_sieve_set_compiled(r->h->store, r->account, sc.id, saved.data, saved.len, &e) < 0)
		log_warn("event=sieve_save_failed account=%lld error=%s", (long long)r->account, LOG_Q(e));
	buf_free(&saved);
	return 1;
}

/* A keep: where the earlier hooks would have put the message (the junk filter's or
 * the mail checks' Junk, which is made again if the account deleted it), else INBOX. */
static void add_keep(struct run *r, const char *const *flags, size_t nflags);

static void add_copy(struct run *r, const char *mailbox, bool create, const char *const *flags, size_t nflags)
{
	struct submit_copy *c = &r->copies[r->ncopies++];
	/* copied: the commit comes after the programs are freed */
	*c = (struct submit_copy){ .mailbox = mailbox != NULL ? arena_strdup(r->a, mailbox) : NULL, .create = create };
	const char **kw = arena_alloc(r->a, (nflags + 1) * sizeof(*kw));
	size_t nkw = 0;
	for (size_t i = 0; i < nflags; i++) {
		unsigned bit = store_flag_parse(flags[i]);
		if (bit != 0)
			c->flags |= bit;
		else if (flags[i][0] != '\\' && store_keyword_valid(flags[i]))
			kw[nkw++] = arena_strdup(r->a, flags[i]);
		else
			log_info("event=sieve_flag_ignored account=%lld flag=%s", (long long)r->account,
				 LOG_Q(flags[i]));
	}
	kw[nkw] = NULL;
	c->keywords = nkw > 0 ? kw : NULL;
}

static bool is_local_domain(struct run *r, const char *address)
{
	const char *at = strrchr(address, '@');
	const char *error;
	return at != NULL && store_domain_exists(r->h->store, at + 1, &error) > 0;
}

static void add_keep(struct run *r, const char *const *flags, size_t nflags)
{
	const char *mb = r->m->mailbox;
	add_copy(r, mb, mb != NULL && strcmp(mb, "Junk") == 0, flags, nflags);
}

/* Redirects the message; false when it was not sent (the caller keeps it). */
static bool do_redirect(struct run *r, const struct sieve_action *act)
{
	bool seen;
	size_t hops = sieve_reply_hops(r->m->message.p, r->m->message.len, r->user, &seen);
	if (seen || hops >= SIEVE_REPLY_MAX_HOPS) {
		log_warn("event=sieve_redirect_loop id=%s account=%lld to=%s hops=%zu", r->m->id, (long long)r->account,
			 LOG_Q(act->address), hops);
		return false;
	}
	const char *sender = r->m->sender;
	if (sender[0] != '\0' && !is_local_domain(r, sender) && r->h->srs_len > 0) {
		const char *at = strrchr(r->user, '@');
		sieve_reply_srs(r->a, r->h->srs_secret, r->h->srs_len, sender, at != NULL ? at + 1 : r->s->hostname,
				r->now, &sender);
	}
	struct buf data = { 0 };
	buf_printf(&data, "%s: %s\r\n", SIEVE_REPLY_LOOP_HEADER, r->user);
	buf_append(&data, r->m->message.p, r->m->message.len);
	const char *error;
	int s = submit_resend(r->h->submit, sender, act->address, data.data, data.len, &error);
	buf_free(&data);
	log_info("event=sieve_redirect id=%s account=%lld to=%s sender=%s result=%s", r->m->id, (long long)r->account,
		 LOG_Q(act->address), LOG_Q(sender), error);
	return s > 0;
}

/* The addresses a vacation reply answers for (RFC 5230 §4.5). */
static bool addressed_to_user(struct run *r, const struct sieve_action *act)
{
	const char **all = arena_alloc(r->a, (act->naddresses + 3) * sizeof(*all));
	size_t n = 0;
	all[n++] = r->user;
	all[n++] = r->env_to;
	const char *base;
	if (submit_subaddress_base(r->a, r->env_to, r->s->subaddress_delimiter, &base) > 0)
		all[n++] = base;
	for (size_t i = 0; i < act->naddresses; i++)
		all[n++] = act->addresses[i];
	return sieve_reply_addressed(r->a, r->m->message.p, r->m->message.len, all, n);
}

/* script: the script's name, or "" for the JMAP fragment (each has its own memory). */
static void do_vacation(struct run *r, const struct sieve_action *act, const char *script)
{
	struct submit_hook_msg *m = r->m;
	const char *why;
	if (!sieve_reply_allowed(m->sender, m->message.p, m->message.len, &why) ||
	    (!addressed_to_user(r, act) && (why = "not_addressed"))) {
		log_info("event=vacation_skipped id=%s account=%lld reason=%s", m->id, (long long)r->account, why);
		return;
	}
	int64_t period = (int64_t)act->seconds;
	if (period < r->s->sieve_vacation_min_period)
		period = r->s->sieve_vacation_min_period;
	if (period > r->s->sieve_vacation_max_period)
		period = r->s->sieve_vacation_max_period;
	char *sender = arena_strdup(r->a, m->sender);
	for (char *p = sender; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	/* per (script, :handle, sender), RFC 5230 §4.2 */
	const char *key = arena_printf(r->a, "vacation\n%s\n%s\n%s", script, act->handle ? act->handle : "", sender);
	const char *error;
	int d = store_sieve_duplicate(r->h->store, r->account, key, (time_t)r->now, period, &error);
	if (d <= 0) {
		log_info("event=vacation_skipped id=%s account=%lld reason=%s", m->id, (long long)r->account,
			 d == 0 ? "already_replied" : "store_error");
		return;
	}
	struct buf out = { 0 };
	struct sieve_vacation_reply vr = { .from = act->from ? act->from : r->user,
					   .to = m->sender,
					   .subject = act->subject,
					   .body = act->reason ? act->reason : "",
					   .mime = act->mime,
					   .hostname = r->s->hostname,
					   .now = r->now };
	sieve_reply_vacation(&out, r->a, &vr, m->message.p, m->message.len);
	/* the duplicate memory already has the sender: a failed send is not retried (logged) */
	submit_resend(r->h->submit, "", m->sender, out.data, out.len, &error);
	buf_free(&out);
	log_info("event=vacation_sent id=%s account=%lld to=%s result=%s", m->id, (long long)r->account,
		 LOG_Q(m->sender), error);
}

static void do_reject_notice(struct run *r, const struct sieve_action *act)
{
	struct submit_hook_msg *m = r->m;
	const char *why;
	if (!sieve_reply_allowed(m->sender, m->message.p, m->message.len, &why)) {
		log_info("event=sieve_reject_silent id=%s account=%lld reason=%s", m->id, (long long)r->account, why);
		return;
	}
	struct buf out = { 0 };
	sieve_reply_reject(&out, r->a, r->user, m->sender, act->reason ? act->reason : "", r->s->hostname, r->now,
			   m->message.p, m->message.len);
	const char *error;
	submit_resend(r->h->submit, "", m->sender, out.data, out.len, &error);
	buf_free(&out);
	log_info("event=sieve_reject_notice id=%s account=%lld to=%s result=%s", m->id, (long long)r->account,
		 LOG_Q(m->sender), error);
}

/* A reject that can be an SMTP refusal: the message has one recipient, one account,
 * and a client waiting for the answer. */
static bool reject_in_smtp(const struct submit_hook_msg *m)
{
	enum submit_kind k = m->origin->kind;
	return m->nrcpts == 1 && m->rcpts[0].naccounts == 1 && m->rcpts[0].nremote == 0 &&
	       (k == SUBMIT_KIND_MX || k == SUBMIT_KIND_SUBMISSION || k == SUBMIT_KIND_WEBMAIL);
}

/* Runs one program; false on a run error (logged). */
static bool run_program(struct run *r, const struct sieve_program *prog, const struct sieve_message *msg,
			const char *what, struct sieve_result *res)
{
	const char *error;
	if (sieve_run(prog, msg, r->a, res, &error) > 0)
		return true;
	log_warn("event=sieve_error id=%s account=%lld script=%s error=%s note=\"kept in INBOX\"", r->m->id,
		 (long long)r->account, LOG_Q(what), LOG_Q(error));
	return false;
}

/* The vacation fragment of the JMAP settings, compiled; NULL when off. */
static struct sieve_program *vacation_program(struct run *r)
{
	struct store_sieve_vacation v;
	const char *error;
	if (store_sieve_vacation_get(r->h->store, r->a, r->account, &v, &error) <= 0 || !v.enabled ||
	    (v.from_date != 0 && r->now < v.from_date) || (v.to_date != 0 && r->now >= v.to_date))
		return NULL;
	struct buf text = { 0 };
	sieve_reply_vacation_script(&text, v.subject, v.text_body, v.html_body,
				    (uint64_t)r->s->sieve_vacation_default_period);
	struct sieve_program *prog = NULL;
	if (sieve_compile(text.data, text.len, r->s->sieve_limits, r->a, &prog, &error) < 0)
		log_error("event=sieve_error account=%lld script=vacation error=%s", (long long)r->account,
			  LOG_Q(error));
	buf_free(&text);
	return prog;
}

/* Carries out the vacation fragment's and the script's actions for one account. */
static int execute(struct run *r, const struct sieve_result *vres, const struct sieve_result *res, const char *script,
		   const char **reason_r)
{
	struct submit_hook_msg *m = r->m;
	r->copies = arena_alloc(r->a, (res->nactions + 2) * sizeof(*r->copies));
	for (size_t i = 0; i < vres->nactions; i++) {
		if (vres->actions[i].type == SIEVE_ACT_VACATION)
			do_vacation(r, &vres->actions[i], "");
	}
	for (size_t i = 0; i < res->nactions; i++) {
		const struct sieve_action *act = &res->actions[i];
		switch (act->type) {
		case SIEVE_ACT_KEEP:
			add_keep(r, act->flags, act->nflags);
			break;
		case SIEVE_ACT_FILEINTO:
			add_copy(r, act->mailbox, act->create, act->flags, act->nflags);
			break;
		case SIEVE_ACT_REDIRECT:
			if (!do_redirect(r, act) && !act->copy)
				add_keep(r, NULL, 0); /* never lost */
			break;
		case SIEVE_ACT_REJECT:
		case SIEVE_ACT_EREJECT:
			if (reject_in_smtp(m)) {
				log_info("event=sieve_reject id=%s account=%lld smtp=yes", m->id,
					 (long long)r->account);
				*reason_r = act->reason != NULL && act->reason[0] != '\0'
						    ? arena_printf(r->a, "Rejected by the recipient's filter: %s",
								   act->reason)
						    : "Rejected by the recipient's filter";
				return SUBMIT_POLICY;
			}
			do_reject_notice(r, act);
			break;
		case SIEVE_ACT_DISCARD:
			log_info("event=sieve_discard id=%s account=%lld", m->id, (long long)r->account);
			break;
		case SIEVE_ACT_VACATION:
			do_vacation(r, act, script);
			break;
		}
	}
	if (res->implicit_keep)
		add_keep(r, res->keep_flags, res->nkeep_flags);
	submit_hook_deliver(m, r->account, r->copies, r->ncopies);
	const char *error;
	for (size_t i = 0; i < res->ndups; i++) {
		const char *key = arena_printf(r->a, "dup\n%s\n%s", res->dups[i].handle, res->dups[i].id);
		store_sieve_duplicate(r->h->store, r->account, key, (time_t)r->now, (int64_t)res->dups[i].seconds,
				      &error);
	}
	log_info("event=sieve id=%s account=%lld actions=%zu copies=%zu steps=%llu", m->id, (long long)r->account,
		 res->nactions, r->ncopies, (unsigned long long)res->steps);
	return SUBMIT_OK;
}

static int run_account(struct sieve_hook *h, struct submit_hook_msg *m, const struct submit_rcpt *rc, int64_t account,
		       const char **reason_r)
{
	struct run r = { .h = h,
			 .s = settings_get(h->settings),
			 .m = m,
			 .a = m->arena,
			 .account = account,
			 .env_to = rc->address,
			 .now = (int64_t)time(NULL) };
	struct sieve_program *prog = NULL, *vprog = vacation_program(&r);
	const char *error = NULL, *name = "";
	int lp = load_program(&r, &prog, &name, &error);
	if (lp < 0)
		log_warn("event=sieve_error id=%s account=%lld error=%s note=\"kept in INBOX\"", m->id,
			 (long long)account, LOG_Q(error ? error : "-"));
	struct store_account acct;
	if ((prog == NULL && vprog == NULL) || store_account_get_by_id(h->store, r.a, account, &acct, &error) <= 0) {
		sieve_program_free(&prog);
		sieve_program_free(&vprog);
		return SUBMIT_OK;
	}
	r.user = acct.address;
	struct sieve_message msg = { .data = m->message.p,
				     .len = m->message.len,
				     .env_from = m->sender,
				     .env_to = rc->address,
				     .auth = m->origin->auth_user,
				     .subaddress_delimiter = r.s->subaddress_delimiter,
				     .spam_percent = m->headers != NULL
							     ? sieve_reply_spam_percent(m->headers->data,
											m->headers->len, JUNK_HEADER)
							     : -1,
				     .now = r.now,
				     .duplicate = cb_duplicate,
				     .mailbox_exists = cb_mailbox_exists,
				     .include = cb_include,
				     .ctx = &r };
	struct sieve_result vres = { 0 }, res = { 0 };
	if (vprog != NULL && !run_program(&r, vprog, &msg, "vacation", &vres))
		vres = (struct sieve_result){ 0 };
	if (prog == NULL || !run_program(&r, prog, &msg, name, &res))
		res = (struct sieve_result){ .implicit_keep = true };
	int rv = execute(&r, &vres, &res, name, reason_r);
	sieve_program_free(&prog); /* the results may point into the programs */
	sieve_program_free(&vprog);
	return rv;
}

int sieve_hook_run(void *ctx, struct submit_hook_msg *m, const char **reason_r)
{
	struct sieve_hook *h = ctx;
	for (size_t i = 0; i < m->nrcpts; i++) {
		for (size_t k = 0; k < m->rcpts[i].naccounts; k++) {
			int64_t account = m->rcpts[i].accounts[k];
			bool done = false; /* an account reached by two recipients runs once */
			for (size_t j = 0; j <= i && !done; j++) {
				size_t upto = j == i ? k : m->rcpts[j].naccounts;
				for (size_t l = 0; l < upto && !done; l++)
					done = m->rcpts[j].accounts[l] == account;
			}
			if (done)
				continue;
			int r = run_account(h, m, &m->rcpts[i], account, reason_r);
			if (r != SUBMIT_OK)
				return r;
		}
	}
	return SUBMIT_OK;
}
