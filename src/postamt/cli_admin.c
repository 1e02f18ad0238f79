/* cli_admin.c: the administrative sub-commands: user, domain, alias, and the store
 * part of init (see cli.h).
 *
 * Each command opens the store in DIR without the recovery pass (a running server may
 * be writing blobs at the same moment; SQLite's locking serialises the two processes'
 * transactions), does one thing, and closes it. Passwords come from the first line of
 * standard input, never from the command line (where `ps` would show them), and are
 * hashed here with the default scheme (yescrypt). Errors are one line on stderr and
 * exit status 1. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "auth.h"
#include "scram.h"
#include "buf.h"
#include "store.h"

static int fail(const char *what, const char *msg)
{
	fprintf(stderr, "postamt: %s: %s\n", what, msg);
	return 1;
}

static int open_store(const struct config *cfg, bool create, struct store **s_r)
{
	struct store_options opt = { .create = create, .postgresql = config_store_pg(cfg) };
	const char *err;
	if (store_open(cfg->data_dir, &opt, s_r, &err) < 0) {
		fprintf(stderr, "postamt: cannot open the store: %s\n", err);
		return -1;
	}
	return 1;
}

/* Reads the first line of stdin (without CR/LF) into a malloc'd string. */
static int read_password(char **pw_r, const char **error_r)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, stdin);
	if (n <= 0) {
		free(line);
		*error_r = "no password on standard input (give it as the first line)";
		return -1;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	if (n == 0) {
		free(line);
		*error_r = "empty password";
		return -1;
	}
	*pw_r = line;
	return 1;
}

/* The password on stdin as a crypt(3) hash and a SCRAM-SHA-256 secret (scram.h) with
 * auth.scram_iterations rounds; both malloc'd. */
static int hash_stdin_password(const struct config *cfg, char **hash_r, char **scram_r, const char **error_r)
{
	char *pw;
	*hash_r = *scram_r = NULL;
	if (read_password(&pw, error_r) < 0)
		return -1;
	int r = auth_password_hash(AUTH_SCHEME_DEFAULT, pw, hash_r, error_r);
	if (r > 0)
		r = auth_scram_secret_make(pw,
					   cfg->auth_scram_iterations >= AUTH_SCRAM_ITERATIONS_MIN
						   ? (unsigned)cfg->auth_scram_iterations
						   : AUTH_SCRAM_ITERATIONS_DEFAULT,
					   scram_r, error_r);
	explicit_bzero(pw, strlen(pw));
	free(pw);
	return r;
}

static int user_add(const struct config *cfg, int argc, char **argv)
{
	const char *address = NULL;
	bool admin = false;
	uint64_t quota = cfg->default_quota > 0 ? (uint64_t)cfg->default_quota : 0;
	const char *err;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quota") == 0) {
			if (i + 1 >= argc)
				return fail("user add", "--quota needs a SIZE");
			if (buf_parse_size(argv[++i], &quota, &err) < 0)
				return fail("user add", err);
		} else if (strncmp(argv[i], "--quota=", 8) == 0) {
			if (buf_parse_size(argv[i] + 8, &quota, &err) < 0)
				return fail("user add", err);
		} else if (strcmp(argv[i], "--admin") == 0) {
			admin = true;
		} else if (argv[i][0] == '-') {
			return fail("user add", "unknown option (usage: user add ADDRESS [--quota SIZE] [--admin])");
		} else if (address == NULL) {
			address = argv[i];
		} else {
			return fail("user add", "too many arguments (usage: user add ADDRESS [--quota SIZE])");
		}
	}
	if (address == NULL)
		return fail("user add", "missing ADDRESS (usage: user add ADDRESS [--quota SIZE])");
	struct arena *a = arena_new();
	const char *norm;
	if (store_address_normalize(a, address, &norm, &err) < 0) {
		arena_free(&a);
		return fail("user add", err);
	}
	struct store *s;
	if (open_store(cfg, false, &s) < 0) {
		arena_free(&a);
		return 1;
	}
	int ret = 0;
	/* Check what we can before asking for the password hash (slow). */
	const char *dom = strrchr(norm, '@') + 1;
	struct store_account acct;
	if (store_domain_exists(s, dom, &err) <= 0) {
		ret = fail("user add", arena_printf(a, "unknown domain %s (add it with: domain add %s)",
						    dom, dom));
	} else if (store_account_get(s, a, norm, &acct, &err) > 0) {
		ret = fail("user add", arena_printf(a, "%s already exists", norm));
	} else {
		char *hash = NULL, *scram = NULL;
		int64_t id;
		if (hash_stdin_password(cfg, &hash, &scram, &err) < 0 ||
		    store_account_add(s, norm, hash, quota, &id, &err) < 0 ||
		    store_account_set_scram(s, id, hash, scram, &err) < 0 ||
		    (admin && store_account_set_admin(s, norm, true, &err) < 0))
			ret = fail("user add", err);
		free(hash);
		free(scram);
	}
	store_close(&s);
	arena_free(&a);
	return ret;
}

static int user_passwd(const struct config *cfg, int argc, char **argv)
{
	if (argc != 2)
		return fail("user passwd", "usage: user passwd ADDRESS (password on stdin)");
	struct store *s;
	if (open_store(cfg, false, &s) < 0)
		return 1;
	struct arena *a = arena_new();
	struct store_account acct;
	const char *err;
	int ret = 0;
	if (store_account_get(s, a, argv[1], &acct, &err) <= 0) {
		ret = fail("user passwd", arena_printf(a, "no account %s", argv[1]));
	} else {
		char *hash = NULL, *scram = NULL;
		if (hash_stdin_password(cfg, &hash, &scram, &err) < 0 ||
		    store_account_set_password(s, acct.address, hash, &err) < 0 ||
		    store_account_set_scram(s, acct.id, hash, scram, &err) < 0)
			ret = fail("user passwd", err);
		free(hash);
		free(scram);
	}
	store_close(&s);
	arena_free(&a);
	return ret;
}

static int user_del(const struct config *cfg, int argc, char **argv)
{
	if (argc != 2)
		return fail("user del", "usage: user del ADDRESS");
	struct store *s;
	if (open_store(cfg, false, &s) < 0)
		return 1;
	const char *err;
	int ret = store_account_del(s, argv[1], &err) < 0 ? fail("user del", err) : 0;
	store_close(&s);
	return ret;
}

/* user logout ADDRESS: raises the account's session generation, which ends every
 * webmail session and remembered HTTP Basic login of it (a running server notices
 * within two seconds, WEB_GEN_CACHE_MS). */
static int user_logout(const struct config *cfg, int argc, char **argv)
{
	if (argc != 2)
		return fail("user logout", "usage: user logout ADDRESS");
	struct store *s;
	if (open_store(cfg, false, &s) < 0)
		return 1;
	const char *err;
	int ret = store_account_end_sessions(s, argv[1], &err) < 0 ? fail("user logout", err) : 0;
	store_close(&s);
	return ret;
}

static int user_quota(const struct config *cfg, int argc, char **argv)
{
	if (argc != 3)
		return fail("user quota", "usage: user quota ADDRESS SIZE");
	uint64_t quota;
	const char *err;
	if (buf_parse_size(argv[2], &quota, &err) < 0)
		return fail("user quota", err);
	struct store *s;
	if (open_store(cfg, false, &s) < 0)
		return 1;
	int ret = store_account_set_quota(s, argv[1], quota, &err) < 0 ? fail("user quota", err) : 0;
	store_close(&s);
	return ret;
}

/* user admin ADDRESS on|off: the admin flag (docs/admin.md); a running server reads it
 * on every admin request, so it takes effect at once. */
static int user_admin(const struct config *cfg, int argc, char **argv)
{
	if (argc != 3 || (strcmp(argv[2], "on") != 0 && strcmp(argv[2], "off") != 0))
		return fail("user admin", "usage: user admin ADDRESS on|off");
	struct store *s;
	if (open_store(cfg, false, &s) < 0)
		return 1;
	const char *err;
	int ret = store_account_set_admin(s, argv[1], strcmp(argv[2], "on") == 0, &err) < 0 ? fail("user admin", err)
												: 0;
	store_close(&s);
	return ret;
}

static int user_list(const struct config *cfg, int argc, char **argv)
{
	(void)argv;
	if (argc != 1)
		return fail("user list", "usage: user list");
	struct store *s;
	if (open_store(cfg, false, &s) < 0)
		return 1;
	struct arena *a = arena_new();
	struct store_account *v;
	size_t n;
	const char *err;
	int ret = 0;
	int64_t *admins;
	size_t nadmins;
	if (store_account_list(s, a, &v, &n, &err) < 0 || store_admin_list(s, a, &admins, &nadmins, &err) < 0) {
		ret = fail("user list", err);
	} else {
		for (size_t i = 0; i < n; i++) {
			bool admin = false;
			for (size_t k = 0; k < nadmins; k++)
				admin |= admins[k] == v[i].id;
			char q[32];
			if (v[i].quota == 0)
				snprintf(q, sizeof(q), "unlimited");
			else
				buf_format_size(v[i].quota, q, sizeof(q));
			printf("%s\tquota=%s\tusage=%llu\tmessages=%llu%s\n", v[i].address, q,
			       (unsigned long long)v[i].usage, (unsigned long long)v[i].messages,
			       admin ? "\tadmin" : "");
		}
	}
	store_close(&s);
	arena_free(&a);
	return ret;
}

static void print_tokens(const char *title, const struct store_junk_token *t, size_t n)
{
	printf("%s (spam ham token):\n", title);
	for (size_t i = 0; i < n; i++)
		printf("  %lld\t%lld\t%s\n", (long long)t[i].nspam, (long long)t[i].nham, t[i].token);
}

/* user junk ADDRESS [--on|--off]: the account's junk filter (docs/spam.md). */
static int user_junk(const struct config *cfg, int argc, char **argv)
{
	static const char usage[] = "usage: user junk ADDRESS [--on|--off]";
	if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "--on") != 0 && strcmp(argv[2], "--off") != 0))
		return fail("user junk", usage);
	struct store *s;
	if (open_store(cfg, false, &s) < 0)
		return 1;
	struct arena *a = arena_new();
	struct store_account acct;
	struct store_junk_stats st;
	const char *err;
	int ret = 0, r = store_account_get(s, a, argv[1], &acct, &err);
	if (r == 0)
		ret = fail("user junk", "no such account");
	else if (r < 0)
		ret = fail("user junk", err);
	else if (argc == 3 && store_junk_set_enabled(s, acct.id, strcmp(argv[2], "--on") == 0, &err) < 0)
		ret = fail("user junk", err);
	else if (store_junk_stats(s, a, acct.id, 10, &st, &err) < 0)
		ret = fail("user junk", err);
	else {
		bool trained = st.model.nspam >= cfg->junk_min_trained && st.model.nham >= cfg->junk_min_trained;
		printf("%s\tjunk filter %s\n", acct.address, st.model.enabled ? "on" : "off");
		printf("learned: %lld spam, %lld ham (%s)\n", (long long)st.model.nspam, (long long)st.model.nham,
		       trained ? "trained" : "untrained: verdicts start at spam.junk_min_trained of each");
		printf("tokens: %lld\ncontacts: %lld\n", (long long)st.ntokens, (long long)st.ncontacts);
		print_tokens("top spam tokens", st.top_spam, st.ntop_spam);
		print_tokens("top ham tokens", st.top_ham, st.ntop_ham);
	}
	store_close(&s);
	arena_free(&a);
	return ret;
}

int cli_user(const struct config *cfg, int argc, char **argv)
{
	if (argc < 1)
		return fail("user", "usage: user add|passwd|del|list|quota|logout|junk|admin ...");
	if (strcmp(argv[0], "add") == 0)
		return user_add(cfg, argc, argv);
	if (strcmp(argv[0], "passwd") == 0)
		return user_passwd(cfg, argc, argv);
	if (strcmp(argv[0], "del") == 0)
		return user_del(cfg, argc, argv);
	if (strcmp(argv[0], "list") == 0)
		return user_list(cfg, argc, argv);
	if (strcmp(argv[0], "quota") == 0)
		return user_quota(cfg, argc, argv);
	if (strcmp(argv[0], "logout") == 0)
		return user_logout(cfg, argc, argv);
	if (strcmp(argv[0], "junk") == 0)
		return user_junk(cfg, argc, argv);
	if (strcmp(argv[0], "admin") == 0)
		return user_admin(cfg, argc, argv);
	return fail("user", "unknown sub-command (expected add, passwd, del, list, quota, logout, junk or admin)");
}

int cli_domain(const struct config *cfg, int argc, char **argv)
{
	if (argc < 1)
		return fail("domain", "usage: domain add D | domain del D | domain list");
	const char *err;
	struct store *s;
	if (strcmp(argv[0], "add") == 0) {
		if (argc != 2)
			return fail("domain add", "usage: domain add D");
		if (open_store(cfg, false, &s) < 0)
			return 1;
		int ret = store_domain_add(s, argv[1], &err) < 0 ? fail("domain add", err) : 0;
		store_close(&s);
		if (ret == 0) /* a new domain signs its mail from the start */
			ret = cli_dkim_generate(cfg, argv[1], false);
		return ret;
	}
	if (strcmp(argv[0], "list") == 0) {
		if (argc != 1)
			return fail("domain list", "usage: domain list");
		if (open_store(cfg, false, &s) < 0)
			return 1;
		struct arena *a = arena_new();
		const char **v;
		int ret = 0;
		if (store_domain_list(s, a, &v, &err) < 0)
			ret = fail("domain list", err);
		else
			for (size_t i = 0; v[i] != NULL; i++)
				printf("%s\n", v[i]);
		store_close(&s);
		arena_free(&a);
		return ret;
	}
	if (strcmp(argv[0], "del") == 0) {
		if (argc != 2)
			return fail("domain del", "usage: domain del D");
		if (open_store(cfg, false, &s) < 0)
			return 1;
		int ret = store_domain_del(s, argv[1], &err) < 0 ? fail("domain del", err) : 0;
		store_close(&s);
		return ret;
	}
	return fail("domain", "unknown sub-command (expected add, del or list)");
}

/* alias add ADDRESS TARGET... | alias del ADDRESS | alias list (one line per alias:
 * the address, a tab, its targets separated by ", "). */
int cli_alias(const struct config *cfg, int argc, char **argv)
{
	static const char usage[] = "usage: alias add ADDRESS TARGET... | alias del ADDRESS | alias list";
	if (argc < 1)
		return fail("alias", usage);
	bool add = strcmp(argv[0], "add") == 0, del = strcmp(argv[0], "del") == 0, list = strcmp(argv[0], "list") == 0;
	if ((add && argc < 3) || (del && argc != 2) || (list && argc != 1) || (!add && !del && !list))
		return fail("alias", usage);
	struct store *s;
	if (open_store(cfg, false, &s) < 0)
		return 1;
	const char *err;
	int ret = 0;
	if (add) {
		if (store_alias_add(s, argv[1], (const char *const *)argv + 2, (size_t)(argc - 2), &err) < 0)
			ret = fail("alias add", err);
	} else if (del) {
		if (store_alias_del(s, argv[1], &err) < 0)
			ret = fail("alias del", err);
	} else {
		struct arena *a = arena_new();
		struct store_alias *v;
		size_t n;
		if (store_alias_list(s, a, &v, &n, &err) < 0) {
			ret = fail("alias list", err);
		} else {
			for (size_t i = 0; i < n; i++) {
				bool first = i == 0 || strcmp(v[i].address, v[i - 1].address) != 0;
				bool last = i + 1 == n || strcmp(v[i].address, v[i + 1].address) != 0;
				if (first)
					printf("%s\t", v[i].address);
				printf("%s%s", v[i].target, last ? "\n" : ", ");
			}
		}
		arena_free(&a);
	}
	store_close(&s);
	return ret;
}

int cli_init_store(const struct config *cfg, const char *domain)
{
	struct store *s;
	if (open_store(cfg, true, &s) < 0)
		return 1;
	const char *err;
	int ret = 0;
	/* joining a shared (PostgreSQL) store: a domain that exists is kept with its keys */
	int known = domain != NULL && config_store_pg(cfg) != NULL ? store_domain_exists(s, domain, &err) : 0;
	if (known < 0)
		ret = fail("init", err);
	else if (known > 0)
		printf("Joined the existing store: domain %s is already there.\n", domain);
	else if (domain != NULL && store_domain_add(s, domain, &err) < 0)
		ret = fail("init", err);
	store_close(&s);
	if (ret == 0 && domain != NULL && known == 0)
		ret = cli_dkim_generate(cfg, domain, true);
	return ret;
}
