/* spam_hook.c: the port-25 spam hook (spam_hook.h): the blocklist score header and
 * the rspamd check, as one step of the message pipeline. */
#include "spam_hook.h"

#include "log.h"
#include "spam_rspamd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct spam_hook {
	struct settings_ref *settings;
	bool rspamd;
	struct spam_rspamd_url url;
	unsigned timeout_ms;
	bool tempfail;
	size_t response_max;
};

/* The fields this hook writes; incoming copies are removed. */
static const char *const own_fields[] = { "X-DNSBL-Score", "X-Rspamd-Score", "X-Rspamd-Action" };
#define OWN_MAX 32 /* copies of one field removed per message; more stay (and are harmless but visible) */

struct spam_hook *spam_hook_new(const struct spam_hook_env *env, const char **error_r)
{
	struct spam_hook *h = xcalloc(1, sizeof(*h));
	h->settings = env->settings;
	h->timeout_ms = env->rspamd_timeout_ms;
	h->tempfail = env->rspamd_tempfail;
	h->response_max = env->rspamd_response_max;
	if (env->rspamd_url != NULL && env->rspamd_url[0] != '\0') {
		if (spam_rspamd_url_parse(env->rspamd_url, &h->url, error_r) < 0) {
			free(h);
			return NULL;
		}
		h->rspamd = true;
	}
	return h;
}

void spam_hook_free(struct spam_hook **hp)
{
	free(*hp);
	*hp = NULL;
}

size_t spam_header_find(const char *msg, size_t len, const char *name, struct submit_span *spans_r, size_t max)
{
	size_t nlen = strlen(name), n = 0, pos = 0;
	while (pos < len && n < max) {
		const char *line = msg + pos;
		if (line[0] == '\r' || line[0] == '\n')
			break; /* the end of the header block */
		/* the field: this line and its continuation lines */
		size_t end = pos;
		do {
			const char *eol = memchr(msg + end, '\n', len - end);
			end = eol != NULL ? (size_t)(eol - msg) + 1 : len;
		} while (end < len && (msg[end] == ' ' || msg[end] == '\t'));
		if (end - pos > nlen && strncasecmp(line, name, nlen) == 0 &&
		    (line[nlen] == ':' || line[nlen] == ' ' || line[nlen] == '\t')) {
			size_t k = nlen;
			while (pos + k < end && (line[k] == ' ' || line[k] == '\t'))
				k++;
			if (line[k] == ':')
				spans_r[n++] = (struct submit_span){ pos, end - pos };
		}
		pos = end;
	}
	return n;
}

static int ask_rspamd(struct spam_hook *h, struct submit_hook_msg *m, const char **reason_r)
{
	const struct settings *s = settings_get(h->settings);
	const char **rcpts = arena_alloc(m->arena, (m->nrcpts + 1) * sizeof(*rcpts));
	for (size_t i = 0; i < m->nrcpts; i++)
		rcpts[i] = m->rcpts[i].address;
	struct spam_rspamd_req req = {
		.ip = m->origin->client_ip,
		.helo = m->origin->helo,
		.from = m->sender,
		.rcpts = rcpts,
		.nrcpts = m->nrcpts,
		.queue_id = m->id,
		.mta_name = s->hostname,
		.user = m->origin->auth_user,
	};
	/* what earlier hooks added (Authentication-Results) goes first, as it will be stored */
	struct bytes body[2] = { { m->headers->data, m->headers->len }, m->message };
	struct spam_rspamd_result res;
	const char *error;
	if (spam_rspamd_check(&h->url, h->timeout_ms, h->response_max, &req, body, 2, m->arena, &res, &error) < 0) {
		log_warn("event=rspamd_failed id=%s error=%s result=%s", m->id ? m->id : "-", LOG_Q(error),
			 h->tempfail ? "tempfail" : "accepted");
		if (h->tempfail) {
			*reason_r = "spam check unavailable, try again later";
			return SUBMIT_POLICY_TEMP;
		}
		return SUBMIT_OK;
	}
	const char *action = spam_rspamd_action_name(res.action);
	log_info("event=rspamd_checked id=%s action=%s score=%.2f", m->id ? m->id : "-", LOG_Q(action), res.score);
	switch (spam_rspamd_verdict(res.action)) {
	case SPAM_RSPAMD_REFUSE:
		*reason_r = "message refused as spam";
		return SUBMIT_POLICY;
	case SPAM_RSPAMD_TEMP:
		*reason_r = "message deferred by the spam filter, try again later";
		return SUBMIT_POLICY_TEMP;
	case SPAM_RSPAMD_JUNK:
		m->mailbox = "Junk";
		break;
	case SPAM_RSPAMD_INBOX:
		break;
	}
	buf_printf(m->headers, "X-Rspamd-Score: %.2f / %.2f\r\nX-Rspamd-Action: %s\r\n", res.score, res.required,
		   action);
	return SUBMIT_OK;
}

int spam_hook_run(void *ctx, struct submit_hook_msg *m, const char **reason_r)
{
	struct spam_hook *h = ctx;
	if (m->origin->kind != SUBMIT_KIND_MX)
		return SUBMIT_OK;
	struct submit_span spans[OWN_MAX];
	for (size_t f = 0; f < sizeof(own_fields) / sizeof(own_fields[0]); f++) {
		size_t n = spam_header_find(m->message.p, m->message.len, own_fields[f], spans, OWN_MAX);
		for (size_t i = 0; i < n; i++)
			submit_hook_drop(m, spans[i].off, spans[i].len);
	}
	if (m->origin->dnsbl_zones != NULL)
		buf_printf(m->headers, "X-DNSBL-Score: %.2f %s\r\n", m->origin->dnsbl_score, m->origin->dnsbl_zones);
	if (h->rspamd)
		return ask_rspamd(h, m, reason_r);
	return SUBMIT_OK;
}
