/* submit.c: a message sent from the webmail or another JMAP client goes out exactly
 * as SMTP submission (src/smtpd/cmd_mail.c, deliver.c) would send it:
 *   - the envelope sender must be the user's address or an alias that reaches the
 *     user's account (553 5.7.1 there, forbiddenMailFrom here);
 *   - each recipient is resolved by the store: local accounts (aliases expanded),
 *     remote addresses, or refused when the domain is local but nothing matches;
 *   - a Received header is added, and Date and Message-ID when missing (RFC 6409
 *     §8.3), with the configured hostname;
 *   - a local account over its quota refuses the message before anything is written;
 *   - remote recipients are queued durably first (queue_submit fsyncs), then local
 *     ones are delivered into their INBOX by the store's group commit.
 * It runs on a pool thread (JMAP requests do), so it blocks. */
#include "submit.h"

#include "arena.h"
#include "buf.h"
#include "log.h"
#include "queue.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

static void make_id(char *out, size_t outlen)
{
	unsigned char r[8];
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		memset(r, 0, sizeof(r));
	snprintf(out, outlen, "%02x%02x%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
}

static void rfc5322_now(char *out, size_t outlen)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	snprintf(out, outlen, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
		 tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static bool has_header(const char *msg, size_t len, const char *name)
{
	size_t n = strlen(name), i = 0;
	while (i < len) {
		const char *nl = memchr(msg + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - msg) : len;
		size_t linelen = end - i;
		if (linelen == 0 || (linelen == 1 && msg[i] == '\r'))
			return false;
		if (linelen > n && strncasecmp(msg + i, name, n) == 0 && msg[i + n] == ':')
			return true;
		i = end + 1;
	}
	return false;
}

int postamt_webd_submit(void *ctx, const struct webd_submission *m, char *id_r, size_t idlen,
			const char **bad_rcpt_r, const char **error_r)
{
	struct postamt_submit *ps = ctx;
	const struct settings *s = settings_get(ps->settings);
	struct arena *a = arena_new();
	int result = WEBD_SUBMIT_OK;
	struct buf msg = { 0 };
	int64_t *accounts = xcalloc(1, sizeof(int64_t));
	size_t naccounts = 0, nremote = 0, acap = 1;
	struct queue_rcpt *remote = xcalloc(m->nrcpts + 1, sizeof(*remote));
	char id[64];
	make_id(id, sizeof(id));

	if (!store_sender_owned(ps->store, a, m->account_id, m->user, m->mail_from)) {
		log_warn("event=sender_rejected proto=jmap user=%s from=<%s>", m->user, m->mail_from);
		*error_r = "sender address not owned by the user";
		result = WEBD_SUBMIT_FORBIDDEN_FROM;
		goto out;
	}
	if (m->nrcpts == 0 || m->nrcpts > s->recipients_max) {
		*error_r = "no recipients, or too many";
		*bad_rcpt_r = m->nrcpts ? m->rcpts[0] : NULL;
		result = WEBD_SUBMIT_BAD_RCPT;
		goto out;
	}
	for (size_t i = 0; i < m->nrcpts; i++) {
		const char *addr, *error;
		struct store_rcpt r;
		if (store_address_normalize(a, m->rcpts[i], &addr, &error) < 0) {
			*error_r = "invalid recipient address";
			*bad_rcpt_r = m->rcpts[i];
			result = WEBD_SUBMIT_BAD_RCPT;
			goto out;
		}
		int rr = store_resolve(ps->store, a, addr, &r, &error);
		if (rr == STORE_ENOTFOUND) {
			/* not a local domain: it goes out */
			bool dup = false;
			for (size_t k = 0; k < nremote && !dup; k++)
				dup = strcasecmp(remote[k].address, addr) == 0;
			if (!dup)
				remote[nremote++] = (struct queue_rcpt){ addr, 0, NULL };
			continue;
		}
		if (rr == 0 || rr == STORE_EINVAL) {
			*error_r = "no such local recipient";
			*bad_rcpt_r = m->rcpts[i];
			result = WEBD_SUBMIT_BAD_RCPT;
			goto out;
		}
		if (rr < 0) {
			*error_r = "recipient lookup failed";
			result = WEBD_SUBMIT_TEMPFAIL;
			goto out;
		}
		for (size_t k = 0; k < r.naccounts; k++) {
			size_t j = 0;
			while (j < naccounts && accounts[j] != r.accounts[k])
				j++;
			if (j == naccounts) {
				if (naccounts == acap) {
					acap *= 2;
					accounts = xrealloc(accounts, acap * sizeof(int64_t));
				}
				accounts[naccounts++] = r.accounts[k];
			}
		}
		for (size_t k = 0; k < r.nremote; k++) {
			bool dup = false;
			for (size_t j = 0; j < nremote && !dup; j++)
				dup = strcasecmp(remote[j].address, r.remote[k]) == 0;
			if (!dup) {
				if (nremote >= m->nrcpts) {
					remote = xrealloc(remote, (nremote + r.nremote + 1) * sizeof(*remote));
				}
				remote[nremote++] = (struct queue_rcpt){ r.remote[k], 0, NULL };
			}
		}
	}
	/* trace headers, as smtpd adds them on submission */
	char date[64];
	rfc5322_now(date, sizeof(date));
	buf_reserve(&msg, m->len + 512);
	buf_printf(&msg, "Received: from webmail ([%s])\r\n\tby %s (postamt) with HTTPSA id %s", m->client_ip,
		   s->hostname, id);
	if (m->nrcpts == 1)
		buf_printf(&msg, "\r\n\tfor <%s>", m->rcpts[0]);
	buf_printf(&msg, ";\r\n\t%s\r\n", date);
	if (!has_header(m->data, m->len, "Date"))
		buf_printf(&msg, "Date: %s\r\n", date);
	if (!has_header(m->data, m->len, "Message-ID")) {
		char mid[32];
		make_id(mid, sizeof(mid));
		buf_printf(&msg, "Message-ID: <%s.%s@%s>\r\n", mid, id, s->hostname);
	}
	buf_append(&msg, m->data, m->len);
	if (msg.len > s->message_max + 64 * 1024) {
		*error_r = "message too large";
		result = WEBD_SUBMIT_TOO_BIG;
		goto out;
	}
	for (size_t i = 0; i < naccounts; i++) {
		const char *error;
		int q = store_quota_check(ps->store, accounts[i], msg.len, &error);
		if (q < 0) {
			if (q == STORE_EOVERQUOTA)
				log_warn("event=quota_rejected proto=jmap id=%s user=%s from=<%s> account=%lld", id, m->user,
					 m->mail_from, (long long)accounts[i]);
			*error_r = q == STORE_EOVERQUOTA ? "a recipient's mailbox is full" : "quota lookup failed";
			result = q == STORE_EOVERQUOTA ? WEBD_SUBMIT_OVERQUOTA : WEBD_SUBMIT_TEMPFAIL;
			goto out;
		}
	}
	if (nremote > 0) {
		if (ps->queue == NULL) {
			*error_r = "no outbound queue";
			result = WEBD_SUBMIT_TEMPFAIL;
			goto out;
		}
		struct queue_msg qm = { .sender = m->mail_from, .rcpts = remote, .nrcpts = nremote, .ret = SMTP_RET_NONE,
					.auth_user = m->user, .data = msg.data, .len = msg.len };
		char qid[QUEUE_ID_MAX];
		const char *error;
		if (queue_submit(ps->queue, &qm, qid, &error) < 0) {
			log_error("event=queue_failed proto=jmap id=%s error=\"%s\"", id, error);
			*error_r = "queueing failed; try again later";
			result = WEBD_SUBMIT_TEMPFAIL;
			goto out;
		}
		snprintf(id, sizeof(id), "%s", qid);
	}
	if (naccounts > 0) {
		int *results = xcalloc(naccounts, sizeof(int));
		struct store_delivery d = { .data = msg.data, .len = msg.len, .accounts = accounts, .naccounts = naccounts,
					    .return_path = m->mail_from, .results = results };
		const char *error;
		int r = store_deliver(ps->store, &d, &error);
		bool quota = false;
		for (size_t i = 0; i < naccounts; i++)
			quota |= results[i] == STORE_EOVERQUOTA;
		free(results);
		if (r != 1) {
			log_error("event=delivery_failed proto=jmap id=%s result=%d error=\"%s\"", id, r, error ? error : "-");
			*error_r = quota ? "a recipient's mailbox is full" : "local delivery failed; try again later";
			result = quota && r < 0 && nremote == 0 ? WEBD_SUBMIT_OVERQUOTA : WEBD_SUBMIT_TEMPFAIL;
			goto out;
		}
	}
	log_info("event=accepted proto=jmap id=%s user=%s from=<%s> rcpts=%zu local=%zu remote=%zu size=%zu", id, m->user,
		 m->mail_from, m->nrcpts, naccounts, nremote, msg.len);
	snprintf(id_r, idlen, "%s", id);
out:
	buf_free(&msg);
	free(accounts);
	free(remote);
	arena_free(&a);
	return result;
}
