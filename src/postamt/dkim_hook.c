/* dkim_hook.c: DKIM signing of outgoing mail, as the pipeline's last hook.
 *
 * The keys are loaded once into an immutable set (dkim_keyset_load) that signing
 * threads share by reference count: a message takes a reference under the mutex,
 * signs without it, and drops the reference; a reload swaps in a new set and the old
 * one is freed by the last message that used it. A reload happens on SIGHUP
 * (dkim_hook_reload) and by itself when DIR/dkim changes: at most once a second a
 * signing thread compares the directory's fingerprint (the mtimes of DIR/dkim and of
 * each domain's directory, which a new or removed key file changes) with the loaded
 * one. So a key that `postamt dkim rotate` makes is seen within a second, without a
 * restart. On the PostgreSQL backend the keys are the rows of the shared database
 * (dkim_keys.h) and the fingerprint is a query of their ids, so a key made through
 * any node signs on every node within a second.
 *
 * The set holds every key of every domain; which one signs depends on the time (a new
 * key waits dkim.publish_delay for its TXT record to reach the DNS, dkim_key.h), so
 * it is chosen for each message with the current time (dkim_keyset_find): a waiting
 * key starts signing when it ripens, without a reload.
 *
 * Which mail is signed: what an authenticated user submits (587/465, the webmail)
 * with a From: address in a local domain that has keys, whether its recipients are
 * remote or local (a local copy may be forwarded later, and a recipient can check it
 * like any other). Bounces and port-25 mail are never signed here. */
#include "dkim_hook.h"

#include "buf.h"
#include "dkim.h"
#include "dkim_keys.h"
#include "log.h"
#include "mail.h"
#include "store.h"

#include <assert.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct keyref {
	struct dkim_keyset *set;
	unsigned refs; /* the hook's own reference plus one per message signing */
};

struct dkim_hook {
	pthread_mutex_t mu; /* guards cur, fp, checked and publish_delay */
	struct keyref *cur;
	unsigned long long fp;
	time_t checked;
	int64_t publish_delay; /* dkim.publish_delay */
	int dir_fd;
	struct store *store;
};

static void unref(struct keyref *r)
{
	if (--r->refs > 0)
		return;
	dkim_keyset_free(&r->set);
	free(r);
}

/* Loads the keys and swaps them in. Called with mu held. */
static void load_locked(struct dkim_hook *h, const char *why)
{
	struct dkim_keyset *set;
	char *warnings;
	const char *error;
	unsigned long long fp = 0; /* stays 0 when it cannot be read: the next check loads again */
	dkim_keys_fingerprint(h->store, h->dir_fd, &fp);
	if (dkim_keys_load(h->store, h->dir_fd, &set, &warnings, &error) < 0) {
		log_error("event=dkim_keys_failed error=%s keeping=old-keys", LOG_Q(error));
		h->fp = fp; /* not again every second; SIGHUP or the next change retries */
		return;
	}
	if (warnings != NULL) {
		log_warn("event=dkim_keys_problem problem=%s", LOG_Q(warnings));
		free(warnings);
	}
	struct keyref *r = xcalloc(1, sizeof(*r));
	r->set = set;
	r->refs = 1;
	if (h->cur != NULL)
		unref(h->cur);
	h->cur = r;
	h->fp = fp;
	log_info("event=dkim_keys_loaded reason=%s domains=%zu", why, dkim_keyset_domains(set));
}

struct dkim_hook *dkim_hook_new(int dir_fd, struct store *store, int64_t publish_delay)
{
	assert(publish_delay >= 0);
	struct dkim_hook *h = xcalloc(1, sizeof(*h));
	h->publish_delay = publish_delay;
	pthread_mutex_init(&h->mu, NULL);
	h->dir_fd = dir_fd;
	h->store = store;
	h->checked = time(NULL);
	load_locked(h, "start");
	if (h->cur == NULL) { /* no keys (set NULL) until the directory can be read */
		h->cur = xcalloc(1, sizeof(*h->cur));
		h->cur->refs = 1;
	}
	return h;
}

void dkim_hook_free(struct dkim_hook **hp)
{
	struct dkim_hook *h = *hp;
	if (h == NULL)
		return;
	if (h->cur != NULL)
		unref(h->cur);
	pthread_mutex_destroy(&h->mu);
	free(h);
	*hp = NULL;
}

void dkim_hook_set_publish_delay(struct dkim_hook *h, int64_t publish_delay)
{
	assert(publish_delay >= 0);
	pthread_mutex_lock(&h->mu);
	h->publish_delay = publish_delay;
	pthread_mutex_unlock(&h->mu);
}

void dkim_hook_reload(struct dkim_hook *h)
{
	pthread_mutex_lock(&h->mu);
	load_locked(h, "reload");
	pthread_mutex_unlock(&h->mu);
}

/* The current key set, reloaded first when DIR/dkim changed (checked once a second),
 * and the publish delay in force. */
static struct keyref *acquire(struct dkim_hook *h, time_t now, int64_t *publish_delay_r)
{
	pthread_mutex_lock(&h->mu);
	*publish_delay_r = h->publish_delay;
	if (now != h->checked) {
		h->checked = now;
		unsigned long long fp = h->fp;
		if (dkim_keys_fingerprint(h->store, h->dir_fd, &fp) >= 0 && fp != h->fp)
			load_locked(h, "changed");
	}
	struct keyref *r = h->cur;
	r->refs++;
	pthread_mutex_unlock(&h->mu);
	return r;
}

static void release(struct dkim_hook *h, struct keyref *r)
{
	pthread_mutex_lock(&h->mu);
	unref(r);
	pthread_mutex_unlock(&h->mu);
}

int dkim_hook_run(void *ctx, struct submit_hook_msg *m, const char **reason_r)
{
	struct dkim_hook *h = ctx;
	enum submit_kind kind = m->origin->kind;
	/* what users send, and what their Sieve scripts send (vacation replies) */
	if (kind != SUBMIT_KIND_SUBMISSION && kind != SUBMIT_KIND_WEBMAIL && kind != SUBMIT_KIND_SIEVE)
		return SUBMIT_OK;
	const char **from;
	size_t nfrom = 0;
	mail_header_mailboxes(m->arena, m->message.p, m->message.len, "From", &from, &nfrom);
	const char *at = nfrom > 0 ? strrchr(from[0], '@') : NULL;
	if (at == NULL || at[1] == '\0')
		return SUBMIT_OK;
	const char *domain = at + 1;
	time_t now = time(NULL);
	int64_t delay;
	struct keyref *r = acquire(h, now, &delay);
	const struct dkim_signer *ed = NULL, *rsa = NULL;
	if (r->set == NULL || dkim_keyset_find(r->set, domain, now, delay, &ed, &rsa) == 0) {
		release(h, r);
		return SUBMIT_OK;
	}
	const char *error;
	if (store_domain_exists(h->store, domain, &error) <= 0) { /* keys left behind by a removed domain */
		release(h, r);
		return SUBMIT_OK;
	}
	const struct dkim_signer *keys[2];
	size_t nkeys = 0;
	if (ed != NULL)
		keys[nkeys++] = ed;
	if (rsa != NULL)
		keys[nkeys++] = rsa;
	/* both sign the same bytes: the fields of earlier hooks, then the message */
	char *fields[2] = { NULL, NULL };
	int r_sign = dkim_sign_many(keys, nkeys, m->headers->data, m->headers->len, m->message.p, m->message.len, now,
				    m->arena, fields, &error);
	release(h, r);
	if (r_sign < 0) {
		log_error("event=dkim_sign_failed domain=%s error=%s", domain, LOG_Q(error));
		*reason_r = "cannot sign the message, try again later";
		return SUBMIT_TEMPFAIL;
	}
	for (size_t i = 0; i < nkeys; i++)
		buf_puts(m->headers, fields[i]);
	return SUBMIT_OK;
}
