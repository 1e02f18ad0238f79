/* dkim_key.c: the DKIM key files under DIR/dkim (dkim_key.h): making, listing and
 * retiring a domain's keys, and loading every domain's keys into an immutable set for
 * the signing hook, which picks the signer when it signs (dkim_key_time.c).
 *
 * A key file is written to a temporary name, fsynced, and then hard-linked to its
 * selector's name, so a half-written key is never published and two commands making
 * a key on the same day cannot take the same selector (the link fails with EEXIST and
 * the next suffix letter is tried). */
#include "dkim_key.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <assert.h>
#include <ctype.h>
#include <stdbool.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

const char *dkim_alg_key_type(enum dkim_alg alg)
{
	return alg == DKIM_ALG_ED25519 ? "ed25519" : "rsa";
}

/* A domain name we put into a path: letters, digits, '-', '.', no empty label. */
static bool domain_ok(const char *d)
{
	size_t n = strlen(d);
	if (n == 0 || n > 253 || d[0] == '.' || d[n - 1] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)d[i];
		if (!(isalnum(c) || c == '-' || c == '.' || c == '_'))
			return false;
		if (c == '.' && d[i + 1] == '.')
			return false;
	}
	return true;
}

/* A selector as a file name: letters, digits, '-', '_', '.' (not first). */
static bool selector_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 63 || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!(isalnum(c) || c == '-' || c == '_' || c == '.'))
			return false;
	}
	return true;
}

static char *lower_dup(struct arena *a, const char *s)
{
	char *r = arena_strdup(a, s);
	for (char *p = r; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return r;
}

/* The DNS TXT text of a key: "v=DKIM1; k=...; p=BASE64". NULL on an OpenSSL error. */
static char *key_txt(EVP_PKEY *pk, enum dkim_alg alg, struct arena *a)
{
	unsigned char *der = NULL;
	size_t len = 0;
	unsigned char raw[64];
	if (alg == DKIM_ALG_ED25519) {
		len = sizeof(raw);
		if (EVP_PKEY_get_raw_public_key(pk, raw, &len) != 1)
			return NULL;
	} else {
		int n = i2d_PUBKEY(pk, &der);
		if (n <= 0)
			return NULL;
		len = (size_t)n;
	}
	char *b64 = arena_alloc(a, 4 * ((len + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)b64, alg == DKIM_ALG_ED25519 ? raw : der, (int)len);
	OPENSSL_free(der);
	return arena_printf(a, "v=DKIM1; k=%s; p=%s", dkim_alg_key_type(alg), b64);
}

/* The algorithm of a loaded key: 1 or 2, 0 for any other kind of key. */
static int key_alg(EVP_PKEY *pk)
{
	if (EVP_PKEY_is_a(pk, "ED25519"))
		return DKIM_ALG_ED25519;
	if (EVP_PKEY_is_a(pk, "RSA"))
		return DKIM_ALG_RSA;
	return 0;
}

/* Reads a PEM private key at dfd/name and its creation stamp (*created_r: the stamp,
 * else 0). NULL on any error, a malformed stamp line included. */
static EVP_PKEY *read_key(int dfd, const char *name, time_t *created_r)
{
	*created_r = 0;
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return NULL;
	FILE *f = fdopen(fd, "r");
	if (f == NULL) {
		close(fd);
		return NULL;
	}
	char line[128]; /* the stamp line is 43 bytes; a longer first line is no stamp or a bad one */
	const char *err;
	EVP_PKEY *pk = NULL;
	if (fgets(line, sizeof(line), f) != NULL && dkim_key_stamp_parse(line, strlen(line), created_r, &err) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0)
		pk = PEM_read_PrivateKey(f, NULL, NULL, NULL); /* skips the text before the PEM block */
	fclose(f);
	return pk;
}

static int cmp_loaded(const void *x, const void *y)
{
	const struct dkim_signer *a = x, *b = y;
	assert(a->domain == NULL && b->domain == NULL);
	if (a->alg != b->alg)
		return a->alg < b->alg ? -1 : 1;
	return -strcmp(a->selector, b->selector);
}

/* Loads every *.pem of the open domain directory dfd (which it closes) as signers
 * whose domain is NULL, selector on the heap, created the stamp, else what the
 * selector implies. Keys of unknown kinds are skipped. *bad_r counts unreadable
 * files (their names appended to *bad_names_r, heap, may be NULL). Returns the number
 * of keys, sorted (algorithm, then newest first), in *keys_r (heap array; selector
 * and pkey owned by it). */
static size_t load_dir(int dfd, struct dkim_signer **keys_r, size_t *bad_r, char **bad_names_r)
{
	*keys_r = NULL;
	*bad_r = 0;
	DIR *d = fdopendir(dfd);
	if (d == NULL) {
		close(dfd);
		return 0;
	}
	size_t n = 0, cap = 0;
	struct dkim_signer *keys = NULL;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		size_t nl = strlen(e->d_name);
		if (nl <= 4 || strcmp(e->d_name + nl - 4, ".pem") != 0 || e->d_name[0] == '.')
			continue;
		time_t created;
		EVP_PKEY *pk = read_key(dirfd(d), e->d_name, &created);
		int alg = pk != NULL ? key_alg(pk) : 0;
		if (alg == 0) {
			EVP_PKEY_free(pk);
			(*bad_r)++;
			if (bad_names_r != NULL) {
				char *old = *bad_names_r;
				*bad_names_r = xasprintf("%s%s%s", old ? old : "", old ? " " : "", e->d_name);
				free(old);
			}
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 4;
			keys = xrealloc(keys, cap * sizeof(*keys));
		}
		char *sel = xstrndup(e->d_name, nl - 4);
		if (created == 0)
			created = dkim_key_selector_time(sel);
		keys[n++] = (struct dkim_signer){ NULL, sel, (enum dkim_alg)alg, pk, created };
	}
	closedir(d);
	if (n > 1)
		qsort(keys, n, sizeof(*keys), cmp_loaded);
	*keys_r = keys;
	return n;
}

static void free_loaded(struct dkim_signer *keys, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free((char *)keys[i].selector);
		EVP_PKEY_free(keys[i].pkey);
	}
	free(keys);
}

/* Opens DIR/dkim/<domain> as a directory. -1 with errno. */
static int open_domain_dir(int dir_fd, const char *domain)
{
	char path[300];
	snprintf(path, sizeof(path), DKIM_KEY_DIR "/%s", domain);
	return openat(dir_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* The listing of keys (one domain's, sorted as load_dir sorts) at time now into *out_r
 * (arena). 1, or -1 with *error_r when a public key cannot be encoded. */
static int list_infos(const struct dkim_signer *keys, size_t n, const char *dom, bool files, time_t now,
		      int64_t publish_delay, struct arena *a, struct dkim_key_info **out_r, const char **error_r)
{
	struct dkim_key_info *out = arena_alloc(a, (n ? n : 1) * sizeof(*out));
	size_t lo = 0, signer = 0;
	for (size_t i = 0; i < n; i++) {
		if (i == lo) { /* the first (newest) key of its algorithm */
			size_t hi = i;
			while (hi < n && keys[hi].alg == keys[i].alg)
				hi++;
			signer = lo + dkim_key_choose(keys + lo, hi - lo, now, publish_delay);
			lo = hi;
		}
		out[i].selector = arena_strdup(a, keys[i].selector);
		out[i].alg = keys[i].alg;
		out[i].created = keys[i].created;
		out[i].ripe_at = dkim_key_ripe_at(keys[i].created, publish_delay);
		out[i].state = i == signer ? DKIM_KEY_SIGNING : i < signer ? DKIM_KEY_WAITING : DKIM_KEY_PUBLISHED;
		out[i].txt = key_txt(keys[i].pkey, keys[i].alg, a);
		if (out[i].txt == NULL) {
			*error_r = files ? arena_printf(a, "%s/%s/%s.pem: cannot encode the public key", DKIM_KEY_DIR,
							dom, keys[i].selector)
					 : arena_printf(a, "DKIM key %s of %s: cannot encode the public key",
							keys[i].selector, dom);
			return -1;
		}
	}
	*out_r = out;
	return 1;
}

int dkim_key_list(int dir_fd, const char *domain, time_t now, int64_t publish_delay, struct arena *a,
		  struct dkim_key_info **keys_r, size_t *n_r, const char **error_r)
{
	*keys_r = NULL;
	*n_r = 0;
	char *dom = lower_dup(a, domain);
	if (!domain_ok(dom)) {
		*error_r = arena_printf(a, "not a domain name: %s", domain);
		return -1;
	}
	int dfd = open_domain_dir(dir_fd, dom);
	if (dfd < 0) {
		if (errno == ENOENT)
			return 0;
		*error_r = arena_printf(a, "%s/%s: %s", DKIM_KEY_DIR, dom, strerror(errno));
		return -1;
	}
	struct dkim_signer *keys;
	size_t bad;
	char *bad_names = NULL;
	size_t n = load_dir(dfd, &keys, &bad, &bad_names);
	int r = 1;
	if (bad > 0) {
		*error_r = arena_printf(a, "%s/%s: cannot read the key file(s) %s", DKIM_KEY_DIR, dom, bad_names);
		r = -1;
	}
	free(bad_names);
	struct dkim_key_info *out = NULL;
	if (r > 0)
		r = list_infos(keys, n, dom, true, now, publish_delay, a, &out, error_r);
	free_loaded(keys, n);
	if (r < 0)
		return -1;
	*keys_r = out;
	*n_r = n;
	return (int)n;
}

/* mkdir that accepts an existing directory; chowns a new one. */
static int make_dir(int dir_fd, const char *path, uid_t owner, gid_t group)
{
	if (mkdirat(dir_fd, path, 0700) == 0) {
		if (owner != (uid_t)-1 && fchownat(dir_fd, path, owner, group, AT_SYMLINK_NOFOLLOW) < 0)
			return -1;
		return 0;
	}
	return errno == EEXIST ? 0 : -1;
}

/* Writes the stamp of now and pk as PKCS#8 PEM into dfd/tmp (0600, fsynced). -1 with
 * errno. */
static int write_key(int dfd, const char *tmp, EVP_PKEY *pk, time_t now, uid_t owner, gid_t group)
{
	int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -1;
	FILE *f = fdopen(fd, "w");
	if (f == NULL) {
		close(fd);
		return -1;
	}
	char stamp[64];
	dkim_key_stamp_format(now, stamp, sizeof(stamp));
	bool ok = fputs(stamp, f) >= 0 && PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL) == 1 &&
		  fflush(f) == 0 && fchmod(fd, 0600) == 0 && (owner == (uid_t)-1 || fchown(fd, owner, group) == 0) &&
		  fsync(fd) == 0;
	if (fclose(f) != 0)
		ok = false;
	if (!ok && errno == 0)
		errno = EIO;
	return ok ? 0 : -1;
}

/* Makes one key of alg and links it under the first free selector of the day. */
static int generate_one(int dfd, enum dkim_alg alg, time_t now, const char *day, uid_t owner, gid_t group,
			struct arena *a, const char **sel_r, const char **error_r)
{
	EVP_PKEY *pk = alg == DKIM_ALG_ED25519 ? EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")
					       : EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)DKIM_KEY_RSA_BITS);
	if (pk == NULL) {
		*error_r = "OpenSSL cannot make a key";
		return -1;
	}
	char tmp[64];
	snprintf(tmp, sizeof(tmp), ".new-%c-%ld.tmp", alg == DKIM_ALG_ED25519 ? 'e' : 'r', (long)getpid());
	unlinkat(dfd, tmp, 0); /* a leftover of a crashed run of ours */
	errno = 0;
	if (write_key(dfd, tmp, pk, now, owner, group) < 0) {
		*error_r = arena_printf(a, "cannot write a key: %s", strerror(errno));
		unlinkat(dfd, tmp, 0);
		EVP_PKEY_free(pk);
		return -1;
	}
	EVP_PKEY_free(pk);
	char prefix = alg == DKIM_ALG_ED25519 ? 'e' : 'r';
	int r = -1;
	*error_r = arena_printf(a, "26 keys were made today already (%c%s..z)", prefix, day);
	for (char suffix = 0; suffix <= 'z'; suffix = suffix ? (char)(suffix + 1) : 'b') {
		char sel[32], name[40];
		if (suffix)
			snprintf(sel, sizeof(sel), "%c%s%c", prefix, day, suffix);
		else
			snprintf(sel, sizeof(sel), "%c%s", prefix, day);
		snprintf(name, sizeof(name), "%s.pem", sel);
		if (linkat(dfd, tmp, dfd, name, 0) == 0) {
			*sel_r = arena_strdup(a, sel);
			r = 1;
			break;
		}
		if (errno != EEXIST) {
			*error_r = arena_printf(a, "cannot publish %s: %s", name, strerror(errno));
			break;
		}
	}
	unlinkat(dfd, tmp, 0);
	if (r > 0 && fsync(dfd) < 0) {
		*error_r = arena_printf(a, "cannot sync the key directory: %s", strerror(errno));
		r = -1;
	}
	return r;
}

int dkim_key_generate(int dir_fd, const char *domain, time_t now, uid_t owner, gid_t group, struct arena *a,
		      const char **ed_sel_r, const char **rsa_sel_r, const char **error_r)
{
	char *dom = lower_dup(a, domain);
	if (!domain_ok(dom)) {
		*error_r = arena_printf(a, "not a domain name: %s", domain);
		return -1;
	}
	char path[300];
	snprintf(path, sizeof(path), DKIM_KEY_DIR "/%s", dom);
	if (make_dir(dir_fd, DKIM_KEY_DIR, owner, group) < 0 || make_dir(dir_fd, path, owner, group) < 0) {
		*error_r = arena_printf(a, "cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	int dfd = open_domain_dir(dir_fd, dom);
	if (dfd < 0) {
		*error_r = arena_printf(a, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	struct tm tm;
	gmtime_r(&now, &tm);
	char day[40];
	snprintf(day, sizeof(day), "%04d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	const char *ed = NULL, *rsa = NULL;
	int r = generate_one(dfd, DKIM_ALG_ED25519, now, day, owner, group, a, &ed, error_r);
	if (r > 0)
		r = generate_one(dfd, DKIM_ALG_RSA, now, day, owner, group, a, &rsa, error_r);
	close(dfd);
	if (ed_sel_r != NULL)
		*ed_sel_r = ed;
	if (rsa_sel_r != NULL)
		*rsa_sel_r = rsa;
	return r > 0 ? 1 : -1;
}

int dkim_key_retire_check(const struct dkim_key_info *keys, size_t n, const char *dom, const char *selector,
			  struct arena *a, const char **error_r)
{
	size_t i = 0;
	while (i < n && strcmp(keys[i].selector, selector) != 0)
		i++;
	if (i == n)
		return 0;
	if (keys[i].state == DKIM_KEY_SIGNING) {
		size_t w = 0; /* a newer key that will take over */
		while (w < i && (keys[w].alg != keys[i].alg || keys[w].state != DKIM_KEY_WAITING))
			w++;
		if (w < i) {
			char when[32];
			struct tm tm;
			gmtime_r(&keys[w].ripe_at, &tm);
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
			*error_r = arena_printf(
				a, "%s is the signing %s key of %s: %s takes over at %s, retire it after that",
				selector, dkim_alg_key_type(keys[i].alg), dom, keys[w].selector, when);
		} else
			*error_r = arena_printf(
				a, "%s is the signing %s key of %s: make a newer one first (postamt dkim rotate %s)",
				selector, dkim_alg_key_type(keys[i].alg), dom, dom);
		return -1;
	}
	return 1;
}

int dkim_key_retire(int dir_fd, const char *domain, const char *selector, time_t now, int64_t publish_delay,
		    struct arena *a, const char **error_r)
{
	char *dom = lower_dup(a, domain);
	if (!domain_ok(dom)) {
		*error_r = arena_printf(a, "not a domain name: %s", domain);
		return -1;
	}
	if (!selector_ok(selector))
		return 0;
	struct dkim_key_info *keys;
	size_t n;
	if (dkim_key_list(dir_fd, dom, now, publish_delay, a, &keys, &n, error_r) < 0)
		return -1;
	int c = dkim_key_retire_check(keys, n, dom, selector, a, error_r);
	if (c <= 0)
		return c;
	int dfd = open_domain_dir(dir_fd, dom);
	if (dfd < 0) {
		*error_r = arena_printf(a, "%s/%s: %s", DKIM_KEY_DIR, dom, strerror(errno));
		return -1;
	}
	char name[80];
	snprintf(name, sizeof(name), "%s.pem", selector);
	int r = unlinkat(dfd, name, 0) == 0 && fsync(dfd) == 0 ? 1 : -1;
	if (r < 0)
		*error_r = arena_printf(a, "cannot remove %s/%s/%s: %s", DKIM_KEY_DIR, dom, name, strerror(errno));
	close(dfd);
	return r;
}

/* ---- the signing key set ---- */

struct dkim_keyset {
	struct dkim_signer *signers; /* every key; sorted by domain, Ed25519 before RSA, then newest first */
	size_t n;
	size_t ndomains;
};

static int cmp_signer(const void *x, const void *y)
{
	const struct dkim_signer *a = x, *b = y;
	int c = strcmp(a->domain, b->domain);
	if (c != 0)
		return c;
	if (a->alg != b->alg)
		return (int)a->alg - (int)b->alg;
	return -strcmp(a->selector, b->selector);
}

int dkim_keyset_load(int dir_fd, struct dkim_keyset **set_r, char **warnings_r, const char **error_r)
{
	*warnings_r = NULL;
	struct dkim_keyset *set = xcalloc(1, sizeof(*set));
	int top = openat(dir_fd, DKIM_KEY_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (top < 0) {
		if (errno == ENOENT) {
			*set_r = set;
			return 1;
		}
		free(set);
		*error_r = "cannot open the directory " DKIM_KEY_DIR;
		return -1;
	}
	DIR *d = fdopendir(top);
	if (d == NULL) {
		close(top);
		free(set);
		*error_r = "cannot read the directory " DKIM_KEY_DIR;
		return -1;
	}
	size_t cap = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char lower[256];
		snprintf(lower, sizeof(lower), "%s", e->d_name);
		for (char *p = lower; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		if (!domain_ok(lower) || strcmp(lower, e->d_name) != 0)
			continue;
		int dfd = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0)
			continue;
		struct dkim_signer *keys;
		size_t bad;
		char *bad_names = NULL;
		size_t n = load_dir(dfd, &keys, &bad, &bad_names);
		if (bad > 0) {
			char *old = *warnings_r;
			*warnings_r = xasprintf("%s%s" DKIM_KEY_DIR "/%s: unreadable key file(s) %s", old ? old : "",
						old ? "; " : "", e->d_name, bad_names);
			free(old);
		}
		free(bad_names);
		for (size_t i = 0; i < n; i++) {
			if (set->n == cap) {
				cap = cap ? cap * 2 : 8;
				set->signers = xrealloc(set->signers, cap * sizeof(*set->signers));
			}
			set->signers[set->n++] = (struct dkim_signer){ xstrdup(e->d_name), keys[i].selector,
								       keys[i].alg, keys[i].pkey, keys[i].created };
			keys[i].selector = NULL; /* now the set's */
			keys[i].pkey = NULL;
		}
		set->ndomains += n > 0;
		free_loaded(keys, n);
	}
	closedir(d);
	if (set->n > 1)
		qsort(set->signers, set->n, sizeof(*set->signers), cmp_signer);
	*set_r = set;
	return 1;
}

void dkim_keyset_free(struct dkim_keyset **setp)
{
	struct dkim_keyset *set = *setp;
	if (set == NULL)
		return;
	for (size_t i = 0; i < set->n; i++) {
		free((char *)set->signers[i].domain);
		free((char *)set->signers[i].selector);
		EVP_PKEY_free(set->signers[i].pkey);
	}
	free(set->signers);
	free(set);
	*setp = NULL;
}

size_t dkim_keyset_domains(const struct dkim_keyset *set)
{
	return set->ndomains;
}

int dkim_keyset_find(const struct dkim_keyset *set, const char *domain, time_t now, int64_t publish_delay,
		     const struct dkim_signer **ed_r, const struct dkim_signer **rsa_r)
{
	*ed_r = *rsa_r = NULL;
	int found = 0;
	size_t i = 0;
	while (i < set->n && strcasecmp(set->signers[i].domain, domain) != 0)
		i++;
	while (i < set->n && strcasecmp(set->signers[i].domain, domain) == 0) {
		/* the run of one algorithm, newest first */
		size_t lo = i;
		while (i < set->n && set->signers[i].alg == set->signers[lo].alg &&
		       strcasecmp(set->signers[i].domain, domain) == 0)
			i++;
		const struct dkim_signer *s =
			&set->signers[lo + dkim_key_choose(set->signers + lo, i - lo, now, publish_delay)];
		if (s->alg == DKIM_ALG_ED25519)
			*ed_r = s;
		else
			*rsa_r = s;
		found++;
	}
	return found;
}

/* FNV-1a over bytes. */
static unsigned long long fnv(unsigned long long h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ULL;
	return h;
}

static unsigned long long fnv_stat(unsigned long long h, const char *name, const struct stat *st)
{
	h = fnv(h, name, strlen(name) + 1);
	long long v[4] = { (long long)st->st_size, (long long)st->st_mtim.tv_sec, (long long)st->st_mtim.tv_nsec,
			   (long long)st->st_ino };
	return fnv(h, v, sizeof(v));
}

int dkim_key_fingerprint(int dir_fd, unsigned long long *fp_r)
{
	*fp_r = 0;
	int top = openat(dir_fd, DKIM_KEY_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (top < 0)
		return 0;
	DIR *d = fdopendir(top);
	if (d == NULL) {
		close(top);
		return 0;
	}
	unsigned long long h = 14695981039346656037ULL;
	struct stat top_st;
	if (fstat(top, &top_st) == 0) /* a domain directory added or removed */
		h = fnv_stat(h, ".", &top_st);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		struct stat st;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
			continue;
		/* a key added, replaced or removed changes its directory's mtime */
		h ^= fnv_stat(14695981039346656037ULL, e->d_name, &st); /* order-free */
	}
	closedir(d);
	*fp_r = h;
	return 1;
}

/* ---- keys as PEM text (kept by the store on the PostgreSQL backend) ---- */

int dkim_key_new_pem(enum dkim_alg alg, struct arena *a, const char **pem_r, const char **error_r)
{
	EVP_PKEY *pk = alg == DKIM_ALG_ED25519 ? EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")
					       : EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)DKIM_KEY_RSA_BITS);
	if (pk == NULL) {
		*error_r = "OpenSSL cannot make a key";
		return -1;
	}
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL;
	long len = 0;
	if (b != NULL && PEM_write_bio_PrivateKey(b, pk, NULL, NULL, 0, NULL, NULL) == 1)
		len = BIO_get_mem_data(b, &p);
	EVP_PKEY_free(pk);
	if (len <= 0) {
		BIO_free(b);
		*error_r = "OpenSSL cannot write a key";
		return -1;
	}
	char *out = arena_alloc(a, (size_t)len + 1);
	memcpy(out, p, (size_t)len);
	out[len] = '\0';
	BIO_free(b);
	*pem_r = out;
	return 1;
}

int dkim_key_day_selector(enum dkim_alg alg, time_t now, int nth, char *out, size_t size)
{
	if (nth < 0 || nth > 25)
		return 0;
	struct tm tm;
	gmtime_r(&now, &tm);
	char prefix = alg == DKIM_ALG_ED25519 ? 'e' : 'r';
	if (nth == 0)
		snprintf(out, size, "%c%04d%02d%02d", prefix, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	else
		snprintf(out, size, "%c%04d%02d%02d%c", prefix, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			 (char)('a' + nth));
	return 1;
}

/* Parses k's PEM; its algorithm in *alg_r. NULL when unreadable or of another kind. */
static EVP_PKEY *pem_key(const struct dkim_key_pem *k, int *alg_r)
{
	BIO *b = BIO_new_mem_buf(k->pem, -1);
	EVP_PKEY *pk = b != NULL ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	*alg_r = pk != NULL ? key_alg(pk) : 0;
	if (*alg_r == 0) {
		EVP_PKEY_free(pk);
		return NULL;
	}
	return pk;
}

int dkim_key_list_pem(const struct dkim_key_pem *keys, size_t n, const char *domain, time_t now, int64_t publish_delay,
		      struct arena *a, struct dkim_key_info **keys_r, size_t *n_r, const char **error_r)
{
	*keys_r = NULL;
	*n_r = 0;
	char *dom = lower_dup(a, domain);
	struct dkim_signer *v = xcalloc(n ? n : 1, sizeof(*v));
	size_t m = 0;
	int r = 1;
	for (size_t i = 0; i < n && r > 0; i++) {
		if (strcasecmp(keys[i].domain, dom) != 0)
			continue;
		int alg;
		EVP_PKEY *pk = pem_key(&keys[i], &alg);
		if (pk == NULL) {
			*error_r = arena_printf(a, "DKIM key %s of %s: cannot read the key", keys[i].selector, dom);
			r = -1;
			break;
		}
		v[m++] = (struct dkim_signer){ NULL, xstrdup(keys[i].selector), (enum dkim_alg)alg, pk, keys[i].created };
	}
	if (m > 1)
		qsort(v, m, sizeof(*v), cmp_loaded);
	struct dkim_key_info *out = NULL;
	if (r > 0)
		r = list_infos(v, m, dom, false, now, publish_delay, a, &out, error_r);
	free_loaded(v, m);
	if (r < 0)
		return -1;
	*keys_r = out;
	*n_r = m;
	return (int)m;
}

void dkim_keyset_from_pem(const struct dkim_key_pem *keys, size_t n, struct dkim_keyset **set_r, char **warnings_r)
{
	*warnings_r = NULL;
	struct dkim_keyset *set = xcalloc(1, sizeof(*set));
	set->signers = xcalloc(n ? n : 1, sizeof(*set->signers));
	for (size_t i = 0; i < n; i++) {
		int alg;
		EVP_PKEY *pk = pem_key(&keys[i], &alg);
		if (pk == NULL) {
			char *old = *warnings_r;
			*warnings_r = xasprintf("%s%sDKIM key %s of %s: unreadable", old ? old : "", old ? "; " : "",
						keys[i].selector, keys[i].domain);
			free(old);
			continue;
		}
		char *dom = xstrdup(keys[i].domain);
		for (char *p = dom; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		set->signers[set->n++] =
			(struct dkim_signer){ dom, xstrdup(keys[i].selector), (enum dkim_alg)alg, pk, keys[i].created };
	}
	if (set->n > 1)
		qsort(set->signers, set->n, sizeof(*set->signers), cmp_signer);
	for (size_t i = 0; i < set->n; i++)
		set->ndomains += i == 0 || strcmp(set->signers[i].domain, set->signers[i - 1].domain) != 0;
	*set_r = set;
}
