/* junk.c: the junk filter service (junk.h): training and verdicts over the model
 * the store keeps (store_junk.c). */
#include "junk.h"

#include "store.h"

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
	struct junk *j = calloc(1, sizeof(*j));
	if (j == NULL)
		abort();
	j->store = store;
	j->set = *settings;
	if (settings->hostname != NULL) {
		j->hostname = strdup(settings->hostname);
		if (j->hostname == NULL)
			abort();
	}
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

int junk_train(struct junk *j, int64_t account, const char *msg, size_t len, int spam_delta, int ham_delta,
	       const char **error_r)
{
	(void)j, (void)account, (void)msg, (void)len, (void)spam_delta, (void)ham_delta;
	*error_r = "junk filter: not implemented yet";
	return -1;
}

int junk_contacts_add(struct junk *j, int64_t account, const char *const *addresses, size_t n,
		      const char **error_r)
{
	(void)j, (void)account, (void)addresses, (void)n;
	*error_r = "junk filter: not implemented yet";
	return -1;
}

int junk_classify(struct junk *j, int64_t account, const char *msg, size_t len, struct junk_verdict *v,
		  const char **error_r)
{
	(void)j, (void)account, (void)msg, (void)len;
	memset(v, 0, sizeof(*v));
	*error_r = "junk filter: not implemented yet";
	return -1;
}
