/* junk_hook.c: the junk filter as a port-25 hook (junk_hook.h). */
#include "junk_hook.h"
#include "junk_int.h"

#include "log.h"
#include "textfmt.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Marks every JUNK_HEADER field of the message's header block for removal. */
static void drop_incoming(struct submit_hook_msg *m)
{
	const char *p = m->message.p;
	size_t n = m->message.len, nl = strlen(JUNK_HEADER);
	size_t i = 0;
	while (i < n && p[i] != '\r' && p[i] != '\n') {
		size_t start = i;
		/* the field runs through its continuation lines */
		for (;;) {
			const char *e = memchr(p + i, '\n', n - i);
			i = e != NULL ? (size_t)(e - p) + 1 : n;
			if (i >= n || (p[i] != ' ' && p[i] != '\t'))
				break;
		}
		if (i - start > nl && strncasecmp(p + start, JUNK_HEADER, nl) == 0 &&
		    (p[start + nl] == ':' || p[start + nl] == ' ' || p[start + nl] == '\t'))
			submit_hook_drop(m, start, i - start);
	}
}

/* What a user sends makes its recipients the account's contacts. */
static void add_contacts(struct junk *j, struct submit_hook_msg *m)
{
	if (m->origin->auth_account <= 0 || m->nrcpts == 0)
		return;
	const char **addrs = arena_alloc(m->arena, m->nrcpts * sizeof(*addrs));
	for (size_t i = 0; i < m->nrcpts; i++)
		addrs[i] = m->rcpts[i].address;
	const char *error;
	if (junk_contacts_add(j, m->origin->auth_account, addrs, m->nrcpts, &error) < 0)
		log_warn("event=junk_error account=%lld error=%s", (long long)m->origin->auth_account, LOG_Q(error));
}

int junk_hook_run(void *ctx, struct submit_hook_msg *m, const char **reason_r)
{
	(void)reason_r;
	struct junk *j = ctx;
	if (m->origin->kind == SUBMIT_KIND_SUBMISSION || m->origin->kind == SUBMIT_KIND_WEBMAIL) {
		add_contacts(j, m);
		return SUBMIT_OK;
	}
	if (m->origin->kind != SUBMIT_KIND_MX)
		return SUBMIT_OK;
	size_t naccounts = 0;
	for (size_t i = 0; i < m->nrcpts; i++)
		naccounts += m->rcpts[i].naccounts;
	if (naccounts == 0)
		return SUBMIT_OK;
	drop_incoming(m);
	/* tokenizing parses the whole message: only when some recipient's filter judges
	 * (untrained or switched-off accounts get the header without that cost) */
	bool any_judges = false, any_enabled = false;
	for (size_t i = 0; i < m->nrcpts && !any_judges; i++) {
		for (size_t k = 0; k < m->rcpts[i].naccounts && !any_judges; k++) {
			bool on, judges;
			const char *error;
			if (junk_account_judges(j, m->rcpts[i].accounts[k], &on, &judges, &error) < 0) {
				log_warn("event=junk_error account=%lld error=%s", (long long)m->rcpts[i].accounts[k],
					 LOG_Q(error));
				return SUBMIT_OK;
			}
			any_judges |= judges;
			any_enabled |= on;
		}
	}
	if (!any_judges) {
		log_info("event=junk verdict=%s accounts=%zu", any_enabled ? "untrained" : "off", naccounts);
		buf_puts(m->headers, any_enabled ? JUNK_HEADER ": untrained\r\n" : JUNK_HEADER ": off\r\n");
		return SUBMIT_OK;
	}
	struct arena *a = arena_new();
	struct junk_tokens t;
	/* the fields of earlier hooks go on top of the stored copy: the mail
	 * authentication hook's Authentication-Results is the first one the filter
	 * trusts (forged ones below it are marked for removal) */
	size_t max = junk_settings_of(j)->max_bytes, hl = m->headers->len;
	size_t ml = m->message.len < max ? m->message.len : max;
	char *copy = arena_alloc(a, hl + ml + 1);
	if (hl > 0)
		memcpy(copy, m->headers->data, hl);
	memcpy(copy + hl, m->message.p, ml);
	copy[hl + ml] = '\0';
	/* without an earlier hook's field (mail authentication off), a field claiming
	 * our name can only be the sender's forgery: read none */
	struct junk_settings set = *junk_settings_of(j);
	if (hl == 0 || !textfmt_has_header(m->headers->data, hl, "Authentication-Results"))
		set.hostname = NULL;
	junk_tokenize(a, copy, hl + ml, &set, &t);
	bool all_spam = true, any_trained = false, any_on = false;
	double low = 1.0;
	unsigned ntok = 0;
	int rep = 0; /* the sender's history decided the lowest verdict: +1 spam, -1 ham */
	size_t seen = 0;
	int64_t *done = arena_alloc(a, naccounts * sizeof(*done));
	for (size_t i = 0; i < m->nrcpts; i++) {
		for (size_t k = 0; k < m->rcpts[i].naccounts; k++) {
			int64_t acct = m->rcpts[i].accounts[k];
			bool dup = false;
			for (size_t d = 0; d < seen; d++)
				dup |= done[d] == acct;
			if (dup)
				continue;
			done[seen++] = acct;
			struct junk_verdict v;
			const char *error;
			if (junk_classify_tokens(j, acct, a, &t, &v, NULL, &error) < 0) {
				log_warn("event=junk_error account=%lld error=%s", (long long)acct, LOG_Q(error));
				arena_free(&a);
				return SUBMIT_OK;
			}
			any_on |= v.enabled;
			if (v.enabled && v.trained) {
				any_trained = true;
				if (v.score <= low) {
					low = v.score;
					ntok = v.ntokens;
					rep = v.reputation;
				}
			}
			all_spam &= v.spam;
		}
	}
	const char *word = !any_on ? "off" : !any_trained ? "untrained" : all_spam ? "spam" : "ham";
	const char *sender = rep > 0 ? "; sender=spam" : rep < 0 ? "; sender=ham" : "";
	log_info("event=junk verdict=%s score=%.3f tokens=%u sender=%s accounts=%zu from=%s", word,
		 any_trained ? low : 0.5, ntok,
		 rep > 0   ? "spam"
		 : rep < 0 ? "ham"
			   : "-",
		 seen, LOG_Q(t.from != NULL ? t.from : ""));
	if (!any_on)
		buf_puts(m->headers, JUNK_HEADER ": off\r\n");
	else if (!any_trained)
		buf_puts(m->headers, JUNK_HEADER ": untrained\r\n");
	else
		buf_printf(m->headers, JUNK_HEADER ": %s; score=%.3f; tokens=%u%s\r\n", word, low, ntok, sender);
	if (all_spam) {
		m->mailbox = "Junk";
		submit_hook_keyword(m, "$Junk");
	}
	arena_free(&a);
	return SUBMIT_OK;
}
