/* cli_dkim.c: `postamt dkim rotate|retire|list`, the DKIM key commands (dkim_key.h),
 * and the key pair that `domain add` and `init` make for a new domain.
 *
 * Keys live in DIR/dkim/<domain>/<selector>.pem, or with store.backend = postgresql
 * in the shared database, so that every node signs with them (dkim_keys.h). Run as root, the files and
 * directories a command makes are given to the service user (the `user` key), as
 * init does with the whole of DIR, so the server can read them after dropping
 * privileges. A running server picks up new and removed keys by itself (the signing
 * hook watches DIR/dkim; SIGHUP reloads at once).
 *
 * Which key signs depends on the time and dkim.publish_delay (dkim_key.h): a new key
 * waits that long for its TXT record to reach the DNS. So `rotate` prints the records
 * to publish now and when each new key starts signing, and `list` each key's state:
 * signing, published, or waiting until a date. */
#include "cli.h"

#include "arena.h"
#include "dkim_keys.h"
#include "store.h"

#include <ctype.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A time as 2026-12-09T04:31:40Z, in a. */
static const char *utc(struct arena *a, time_t t)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	char s[40];
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return arena_strdup(a, s);
}

/* The state column of `dkim list`. */
static const char *state_text(struct arena *a, const struct dkim_key_info *k)
{
	switch (k->state) {
	case DKIM_KEY_SIGNING:
		return "signing";
	case DKIM_KEY_WAITING:
		return arena_printf(a, "waiting until %s", utc(a, k->ripe_at));
	case DKIM_KEY_PUBLISHED:
		break;
	}
	return "published";
}

/* Prints the TXT record of key k of domain in zone-file syntax, its text split into
 * quoted strings of at most 255 bytes (RFC 1035 §3.3.14). */
static void print_record(const char *domain, const struct dkim_key_info *k)
{
	printf("%s._domainkey.%s. 3600 IN TXT", k->selector, domain);
	for (size_t off = 0, len = strlen(k->txt); off < len; off += 255)
		printf(" \"%.*s\"", (int)(len - off < 255 ? len - off : 255), k->txt + off);
	printf("\n");
}

/* After making ed and rsa for domain: the records to publish now, and when each new key
 * signs (comment lines, so the output can go into a zone file as it is). */
static void print_new_keys(const struct config *cfg, struct store *s, int dfd, const char *domain, const char *ed,
			   const char *rsa, struct arena *a)
{
	struct dkim_key_info *keys;
	size_t n;
	const char *err;
	time_t now = time(NULL);
	char *dom = arena_strdup(a, domain);
	for (char *p = dom; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	domain = dom;
	if (dkim_keys_list(s, dfd, domain, now, cfg->dkim_publish_delay, a, &keys, &n, &err) < 0) {
		printf("%s: new DKIM keys %s (ed25519) and %s (rsa); publish them: postamt dkim list %s\n", domain, ed,
		       rsa, domain);
		return;
	}
	printf("; %s: new DKIM keys %s (ed25519) and %s (rsa); publish these TXT records now:\n", domain, ed, rsa);
	for (size_t i = 0; i < n; i++)
		if (strcmp(keys[i].selector, ed) == 0 || strcmp(keys[i].selector, rsa) == 0)
			print_record(domain, &keys[i]);
	for (size_t i = 0; i < n; i++) {
		const struct dkim_key_info *k = &keys[i];
		if (strcmp(k->selector, ed) != 0 && strcmp(k->selector, rsa) != 0)
			continue;
		const char *alg = dkim_alg_key_type(k->alg);
		if (k->state == DKIM_KEY_SIGNING) {
			printf("; %s (%s) signs from now on\n", k->selector, alg);
			continue;
		}
		const char *signer = NULL; /* the key that keeps signing meanwhile */
		for (size_t j = 0; j < n; j++)
			if (keys[j].alg == k->alg && keys[j].state == DKIM_KEY_SIGNING)
				signer = keys[j].selector;
		printf("; %s (%s) starts signing at %s (dkim.publish_delay = %lld s); until then %s signs\n",
		       k->selector, alg, utc(a, k->ripe_at), (long long)cfg->dkim_publish_delay,
		       signer ? signer : "an older key");
	}
}

static int fail(const char *what, const char *msg)
{
	fprintf(stderr, "postamt: %s: %s\n", what, msg);
	return 1;
}

/* The store that keeps the keys (PostgreSQL) in *s_r, else NULL (files under DIR).
 * 0, or 1 after printing the failure. */
static int keys_store(const struct config *cfg, const char *what, struct store **s_r)
{
	*s_r = NULL;
	if (config_store_pg(cfg) == NULL)
		return 0;
	struct store_options opt = { .create = false, .postgresql = config_store_pg(cfg) };
	const char *err;
	return store_open(cfg->data_dir, &opt, s_r, &err) < 0 ? fail(what, err) : 0;
}

/* The owner for new key files: the service user when running as root. */
static void key_owner(const struct config *cfg, uid_t *uid_r, gid_t *gid_r)
{
	*uid_r = (uid_t)-1;
	*gid_r = (gid_t)-1;
	if (geteuid() != 0 || cfg->user == NULL)
		return;
	struct passwd *pw = getpwnam(cfg->user);
	if (pw != NULL) {
		*uid_r = pw->pw_uid;
		*gid_r = pw->pw_gid;
	}
}

int cli_dkim_generate(const struct config *cfg, const char *domain, bool quiet)
{
	int dfd = open(cfg->data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		perror("postamt: cannot open the data directory");
		return 1;
	}
	uid_t uid;
	gid_t gid;
	key_owner(cfg, &uid, &gid);
	struct store *s;
	if (keys_store(cfg, "dkim", &s) != 0) {
		close(dfd);
		return 1;
	}
	struct arena *a = arena_new();
	const char *ed, *rsa, *err;
	int ret = 0;
	if (dkim_keys_generate(s, dfd, domain, time(NULL), uid, gid, a, &ed, &rsa, &err) < 0)
		ret = fail("dkim", err);
	else if (!quiet)
		print_new_keys(cfg, s, dfd, domain, ed, rsa, a);
	arena_free(&a);
	store_close(&s);
	close(dfd);
	return ret;
}

/* The domain must be local (a typo must not make keys nobody uses). */
static int check_local(const struct config *cfg, const char *what, const char *domain)
{
	struct store_options opt = { .create = false, .postgresql = config_store_pg(cfg) };
	struct store *s;
	const char *err;
	if (store_open(cfg->data_dir, &opt, &s, &err) < 0)
		return fail(what, err);
	int r = store_domain_exists(s, domain, &err);
	store_close(&s);
	if (r < 0)
		return fail(what, err);
	if (r == 0) {
		fprintf(stderr, "postamt: %s: %s is not a local domain\n", what, domain);
		return 1;
	}
	return 0;
}

static int dkim_list(const struct config *cfg, const char *domain)
{
	int dfd = open(cfg->data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		perror("postamt: cannot open the data directory");
		return 1;
	}
	struct store *s;
	if (keys_store(cfg, "dkim list", &s) != 0) {
		close(dfd);
		return 1;
	}
	struct arena *a = arena_new();
	struct dkim_key_info *keys;
	size_t n;
	const char *err;
	int ret = 0;
	if (dkim_keys_list(s, dfd, domain, time(NULL), cfg->dkim_publish_delay, a, &keys, &n, &err) < 0)
		ret = fail("dkim list", err);
	store_close(&s);
	for (size_t i = 0; ret == 0 && i < n; i++)
		printf("%s %s %s %s\n", keys[i].selector, dkim_alg_key_type(keys[i].alg), state_text(a, &keys[i]),
		       keys[i].txt);
	arena_free(&a);
	close(dfd);
	return ret;
}

static int dkim_retire(const struct config *cfg, const char *domain, const char *selector)
{
	int dfd = open(cfg->data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		perror("postamt: cannot open the data directory");
		return 1;
	}
	struct store *s;
	if (keys_store(cfg, "dkim retire", &s) != 0) {
		close(dfd);
		return 1;
	}
	struct arena *a = arena_new();
	const char *err;
	int r = dkim_keys_retire(s, dfd, domain, selector, time(NULL), cfg->dkim_publish_delay, a, &err), ret = 0;
	store_close(&s);
	if (r < 0)
		ret = fail("dkim retire", err);
	else if (r == 0)
		ret = fail("dkim retire", arena_printf(a, "%s has no key %s", domain, selector));
	else
		printf("%s: key %s removed; remove its TXT record %s._domainkey.%s too\n", domain, selector, selector,
		       domain);
	arena_free(&a);
	close(dfd);
	return ret;
}

int cli_dkim(const struct config *cfg, int argc, char **argv)
{
	const char *usage = "usage: dkim rotate D | dkim retire D SELECTOR | dkim list D";
	if (argc < 1)
		return fail("dkim", usage);
	if (strcmp(argv[0], "rotate") == 0) {
		if (argc != 2)
			return fail("dkim rotate", "usage: dkim rotate D");
		if (check_local(cfg, "dkim rotate", argv[1]) != 0)
			return 1;
		return cli_dkim_generate(cfg, argv[1], false);
	}
	if (strcmp(argv[0], "retire") == 0) {
		if (argc != 3)
			return fail("dkim retire", "usage: dkim retire D SELECTOR");
		return dkim_retire(cfg, argv[1], argv[2]);
	}
	if (strcmp(argv[0], "list") == 0) {
		if (argc != 2)
			return fail("dkim list", "usage: dkim list D");
		return dkim_list(cfg, argv[1]);
	}
	return fail("dkim", usage);
}
