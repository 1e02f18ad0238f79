/* dkim_keys.c: DKIM keys in files or in the shared database (dkim_keys.h). On the
 * PostgreSQL backend a key is made in memory (dkim_key_new_pem) and stored as a row
 * under the first free selector of the day, as dkim_key_generate links a file: the
 * row's UNIQUE(domain, selector) plays the part of the link's EEXIST, so two nodes
 * making keys at once never share a selector. */
#include "dkim_keys.h"

#include "store.h"

#include <ctype.h>
#include <string.h>

bool dkim_keys_shared(struct store *s)
{
	return s != NULL && store_dkim_shared(s);
}

/* The key rows of domain (NULL: all) as dkim_key_pem, in a. */
static int rows(struct store *s, struct arena *a, const char *domain, struct dkim_key_pem **v_r, size_t *n_r,
		const char **error_r)
{
	struct store_dkim_key *k;
	size_t n;
	if (store_dkim_keys(s, a, domain, &k, &n, error_r) < 0)
		return -1;
	struct dkim_key_pem *v = arena_alloc(a, (n ? n : 1) * sizeof(*v));
	for (size_t i = 0; i < n; i++)
		v[i] = (struct dkim_key_pem){ k[i].domain, k[i].selector, k[i].pem, (time_t)k[i].created };
	*v_r = v;
	*n_r = n;
	return 1;
}

static int add_one(struct store *s, const char *dom, enum dkim_alg alg, time_t now, struct arena *a,
		   const char **sel_r, const char **error_r)
{
	const char *pem;
	if (dkim_key_new_pem(alg, a, &pem, error_r) < 0)
		return -1;
	char sel[32];
	for (int nth = 0; dkim_key_day_selector(alg, now, nth, sel, sizeof(sel)) > 0; nth++) {
		struct store_dkim_key k = { dom, sel, dkim_alg_key_type(alg), pem, (int64_t)now };
		int r = store_dkim_key_add(s, &k, error_r);
		if (r == STORE_EEXISTS)
			continue;
		if (r < 0)
			return -1;
		*sel_r = arena_strdup(a, sel);
		return 1;
	}
	dkim_key_day_selector(alg, now, 0, sel, sizeof(sel));
	*error_r = arena_printf(a, "26 keys were made today already (%s..z)", sel);
	return -1;
}

int dkim_keys_generate(struct store *s, int dir_fd, const char *domain, time_t now, uid_t owner, gid_t group,
		       struct arena *a, const char **ed_sel_r, const char **rsa_sel_r, const char **error_r)
{
	if (!dkim_keys_shared(s))
		return dkim_key_generate(dir_fd, domain, now, owner, group, a, ed_sel_r, rsa_sel_r, error_r);
	char *dom = arena_strdup(a, domain);
	for (char *p = dom; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	const char *ed = NULL, *rsa = NULL;
	int r = add_one(s, dom, DKIM_ALG_ED25519, now, a, &ed, error_r);
	if (r > 0)
		r = add_one(s, dom, DKIM_ALG_RSA, now, a, &rsa, error_r);
	if (ed_sel_r != NULL)
		*ed_sel_r = ed;
	if (rsa_sel_r != NULL)
		*rsa_sel_r = rsa;
	return r > 0 ? 1 : -1;
}

int dkim_keys_list(struct store *s, int dir_fd, const char *domain, time_t now, int64_t publish_delay,
		   struct arena *a, struct dkim_key_info **keys_r, size_t *n_r, const char **error_r)
{
	if (!dkim_keys_shared(s))
		return dkim_key_list(dir_fd, domain, now, publish_delay, a, keys_r, n_r, error_r);
	*keys_r = NULL;
	*n_r = 0;
	struct dkim_key_pem *v;
	size_t n;
	if (rows(s, a, domain, &v, &n, error_r) < 0)
		return -1;
	return dkim_key_list_pem(v, n, domain, now, publish_delay, a, keys_r, n_r, error_r);
}

int dkim_keys_retire(struct store *s, int dir_fd, const char *domain, const char *selector, time_t now,
		     int64_t publish_delay, struct arena *a, const char **error_r)
{
	if (!dkim_keys_shared(s))
		return dkim_key_retire(dir_fd, domain, selector, now, publish_delay, a, error_r);
	struct dkim_key_info *keys;
	size_t n;
	if (dkim_keys_list(s, dir_fd, domain, now, publish_delay, a, &keys, &n, error_r) < 0)
		return -1;
	int c = dkim_key_retire_check(keys, n, domain, selector, a, error_r);
	if (c <= 0)
		return c;
	c = store_dkim_key_retire(s, domain, selector, error_r);
	return c < 0 ? -1 : c;
}

int dkim_keys_load(struct store *s, int dir_fd, struct dkim_keyset **set_r, char **warnings_r, const char **error_r)
{
	if (!dkim_keys_shared(s))
		return dkim_keyset_load(dir_fd, set_r, warnings_r, error_r);
	struct arena *a = arena_new();
	struct dkim_key_pem *v;
	size_t n;
	int r = rows(s, a, NULL, &v, &n, error_r);
	if (r > 0)
		dkim_keyset_from_pem(v, n, set_r, warnings_r);
	arena_free(&a);
	return r;
}

int dkim_keys_fingerprint(struct store *s, int dir_fd, unsigned long long *fp_r)
{
	if (!dkim_keys_shared(s))
		return dkim_key_fingerprint(dir_fd, fp_r);
	uint64_t v;
	const char *err;
	if (store_dkim_version(s, &v, &err) < 0)
		return -1;
	*fp_r = v;
	return 1;
}
