/* junk.c: the junk filter service (junk.h): lessons and verdicts over the model the
 * store keeps (store_junk.c), with the tokenizer (junk_tokens.c) and the math
 * (junk_math.c). The service holds only read-only settings, so any number of pool
 * threads may use it at once; the store serializes the writes. */
#include "junk_int.h"

#include "store.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

struct junk {
	struct store *store;
	struct junk_settings set;
	char *hostname;
};

void junk_settings_default(struct junk_settings *set_r)
{
	*set_r = (struct junk_settings){
		.threshold = 0.95,
		.min_trained = 20,
		.max_tokens = 1000,
		.max_bytes = 256 * 1024,
		.significant = 150,
	};
}

struct junk *junk_new(struct store *store, const struct junk_settings *settings)
{
	struct junk *j = xcalloc(1, sizeof(*j));
	j->store = store;
	j->set = *settings;
	j->hostname = settings->hostname != NULL ? xstrdup(settings->hostname) : NULL;
	j->set.hostname = j->hostname;
	return j;
}

void junk_free(struct junk **jp)
{
	struct junk *j = *jp;
	if (j == NULL)
		return;
	*jp = NULL;
	free(j->hostname);
	free(j);
}

const struct junk_settings *junk_settings_of(const struct junk *j)
{
	return &j->set;
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
	junk_tokenize(a, msg, len, &j->set, &t);
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
	*judges_r = model.enabled && model.nspam >= j->set.min_trained && model.nham >= j->set.min_trained;
	return 1;
}

int junk_classify_tokens(struct junk *j, int64_t account, struct arena *a, const struct junk_tokens *t,
			 struct junk_verdict *v, double **f_r, const char **error_r)
{
	memset(v, 0, sizeof(*v));
	v->score = 0.5;
	struct store_junk_token *toks = arena_alloc(a, (t->n + 1) * sizeof(*toks));
	for (size_t i = 0; i < t->n; i++)
		toks[i].token = t->tok[i];
	struct store_junk_model model;
	if (store_junk_read(j->store, account, toks, t->n, &model, error_r) < 0)
		return -1;
	v->enabled = model.enabled;
	v->trained = model.nspam >= j->set.min_trained && model.nham >= j->set.min_trained;
	double *f = arena_alloc(a, (t->n + 1) * sizeof(*f));
	for (size_t i = 0; i < t->n; i++)
		f[i] = junk_robinson(toks[i].nspam, toks[i].nham, model.nspam, model.nham);
	if (f_r != NULL)
		*f_r = f;
	double *sig = arena_alloc(a, (t->n + 1) * sizeof(*sig));
	memcpy(sig, f, t->n * sizeof(*f));
	size_t k = junk_significant(sig, t->n, j->set.significant);
	v->ntokens = (unsigned)k;
	v->score = junk_fisher(sig, k);
	if (t->from != NULL && !t->dmarc_fail) {
		int c = store_junk_is_contact(j->store, account, t->from, error_r);
		if (c < 0)
			return -1;
		if (c > 0)
			v->score *= JUNK_CONTACT_PULL;
	}
	v->spam = v->enabled && v->trained && v->score >= j->set.threshold;
	return 1;
}

int junk_classify(struct junk *j, int64_t account, const char *msg, size_t len, struct junk_verdict *v,
		  const char **error_r)
{
	struct arena *a = arena_new();
	struct junk_tokens t;
	junk_tokenize(a, msg, len, &j->set, &t);
	int r = junk_classify_tokens(j, account, a, &t, v, NULL, error_r);
	arena_free(&a);
	return r;
}
