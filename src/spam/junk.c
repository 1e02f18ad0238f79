/* junk.c: the junk filter service (junk.h): lessons and verdicts over the model the
 * store keeps (store_junk.c), with the tokenizer (junk_tokens.c) and the math
 * (junk_math.c). The service holds only read-only settings, so any number of pool
 * threads may use it at once; the store serializes the writes. A reload
 * (junk_set_settings) publishes a new settings value and keeps the old ones until
 * junk_free, so a call that read one may use it to its end. */
#include "junk_int.h"

#include "store.h"

#include <ctype.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* One published settings value (hostname copied). */
struct junk_gen {
	struct junk_gen *prev;
	struct junk_settings set;
	char *hostname;
};

struct junk {
	struct store *store;
	_Atomic(const struct junk_settings *) cur;
	struct junk_gen *gens; /* newest first; the reloading thread only */
};

static void publish(struct junk *j, const struct junk_settings *settings)
{
	struct junk_gen *g = xcalloc(1, sizeof(*g));
	g->set = *settings;
	g->hostname = settings->hostname != NULL ? xstrdup(settings->hostname) : NULL;
	g->set.hostname = g->hostname;
	g->prev = j->gens;
	j->gens = g;
	atomic_store_explicit(&j->cur, &g->set, memory_order_release);
}

void junk_settings_default(struct junk_settings *set_r)
{
	*set_r = (struct junk_settings){
		.threshold = 0.95,
		.min_trained = 20,
		.max_tokens = 1000,
		.max_bytes = 256 * 1024,
		.significant = 150,
		.reputation = 2,
	};
}

struct junk *junk_new(struct store *store, const struct junk_settings *settings)
{
	struct junk *j = xcalloc(1, sizeof(*j));
	j->store = store;
	publish(j, settings);
	return j;
}

void junk_set_settings(struct junk *j, const struct junk_settings *settings)
{
	const struct junk_settings *cur = junk_settings_of(j);
	bool same_host = (cur->hostname == NULL) == (settings->hostname == NULL) &&
			 (cur->hostname == NULL || strcmp(cur->hostname, settings->hostname) == 0);
	if (same_host && cur->threshold == settings->threshold && cur->min_trained == settings->min_trained &&
	    cur->max_tokens == settings->max_tokens && cur->max_bytes == settings->max_bytes &&
	    cur->significant == settings->significant && cur->reputation == settings->reputation)
		return;
	publish(j, settings);
}

void junk_free(struct junk **jp)
{
	struct junk *j = *jp;
	if (j == NULL)
		return;
	*jp = NULL;
	while (j->gens != NULL) {
		struct junk_gen *g = j->gens;
		j->gens = g->prev;
		free(g->hostname);
		free(g);
	}
	free(j);
}

const struct junk_settings *junk_settings_of(const struct junk *j)
{
	return atomic_load_explicit(&((struct junk *)j)->cur, memory_order_acquire);
}

int junk_train(struct junk *j, int64_t account, const char *msg, size_t len, int spam_delta, int ham_delta,
	       const char **error_r)
{
	if (spam_delta < -1 || spam_delta > 1 || ham_delta < -1 || ham_delta > 1) {
		*error_r = "junk_train: deltas must be -1, 0 or 1";
		return -1;
	}
	if (spam_delta == 0 && ham_delta == 0)
		return 1;
	struct arena *a = arena_new();
	struct junk_tokens t;
	junk_tokenize(a, msg, len, junk_settings_of(j), &t);
	int r = store_junk_learn(j->store, account, t.tok, t.n, spam_delta, ham_delta, error_r);
	arena_free(&a);
	return r < 0 ? r : 1;
}

int junk_contacts_add(struct junk *j, int64_t account, const char *const *addresses, size_t n, const char **error_r)
{
	struct arena *a = arena_new();
	const char **low = arena_alloc(a, (n + 1) * sizeof(*low));
	for (size_t i = 0; i < n; i++) {
		char *d = arena_strdup(a, addresses[i]);
		for (char *p = d; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		low[i] = d;
	}
	int r = store_junk_contacts_add(j->store, account, low, n, error_r);
	arena_free(&a);
	return r < 0 ? r : 1;
}

int junk_account_judges(struct junk *j, int64_t account, bool *enabled_r, bool *judges_r, const char **error_r)
{
	struct store_junk_model model;
	if (store_junk_read(j->store, account, NULL, 0, &model, error_r) < 0)
		return -1;
	if (enabled_r != NULL)
		*enabled_r = model.enabled;
	unsigned min = junk_settings_of(j)->min_trained;
	*judges_r = model.enabled && model.nspam >= min && model.nham >= min;
	return 1;
}

/* The sender's history with this user (as mox weighs it): when the user taught at
 * least set->reputation messages from this From: address as spam and none as ham,
 * the message is spam whatever its words say (score at least the threshold); the
 * other way round its score is pulled towards ham as a contact's is, unless our DMARC
 * check failed (a forged From: must not borrow a sender's good name). */
static void sender_reputation(const struct junk_settings *set, const struct junk_tokens *t,
			      const struct store_junk_token *toks, struct junk_verdict *v)
{
	if (t->from == NULL || set->reputation == 0)
		return;
	for (size_t i = 0; i < t->n; i++) {
		const char *tok = toks[i].token;
		if (strncmp(tok, "from:", 5) != 0 || strcmp(tok + 5, t->from) != 0)
			continue;
		if (toks[i].nspam >= set->reputation && toks[i].nham == 0) {
			v->reputation = 1;
			if (v->score < set->threshold)
				v->score = set->threshold;
		} else if (toks[i].nham >= set->reputation && toks[i].nspam == 0 && !t->dmarc_fail) {
			v->reputation = -1;
			v->score *= JUNK_CONTACT_PULL;
		}
		return;
	}
}

int junk_classify_tokens(struct junk *j, int64_t account, struct arena *a, const struct junk_tokens *t,
			 struct junk_verdict *v, double **f_r, const char **error_r)
{
	const struct junk_settings *set = junk_settings_of(j);
	memset(v, 0, sizeof(*v));
	v->score = 0.5;
	struct store_junk_token *toks = arena_alloc(a, (t->n + 1) * sizeof(*toks));
	for (size_t i = 0; i < t->n; i++)
		toks[i].token = t->tok[i];
	struct store_junk_model model;
	/* a forged From: (our DMARC check failed) is no contact */
	const char *contact = t->from != NULL && !t->dmarc_fail ? t->from : NULL;
	bool is_contact;
	if (store_junk_read_with(j->store, account, toks, t->n, contact, &model, &is_contact, error_r) < 0)
		return -1;
	v->enabled = model.enabled;
	v->trained = model.nspam >= set->min_trained && model.nham >= set->min_trained;
	double *f = arena_alloc(a, (t->n + 1) * sizeof(*f));
	for (size_t i = 0; i < t->n; i++)
		f[i] = junk_robinson(toks[i].nspam, toks[i].nham, model.nspam, model.nham);
	if (f_r != NULL)
		*f_r = f;
	double *sig = arena_alloc(a, (t->n + 1) * sizeof(*sig));
	memcpy(sig, f, t->n * sizeof(*f));
	size_t k = junk_significant(sig, t->n, set->significant);
	v->ntokens = (unsigned)k;
	v->score = junk_fisher(sig, k);
	sender_reputation(set, t, toks, v);
	if (is_contact)
		v->score *= JUNK_CONTACT_PULL;
	v->spam = v->enabled && v->trained && v->score >= set->threshold;
	return 1;
}

int junk_classify(struct junk *j, int64_t account, const char *msg, size_t len, struct junk_verdict *v,
		  const char **error_r)
{
	struct arena *a = arena_new();
	struct junk_tokens t;
	junk_tokenize(a, msg, len, junk_settings_of(j), &t);
	int r = junk_classify_tokens(j, account, a, &t, v, NULL, error_r);
	arena_free(&a);
	return r;
}
