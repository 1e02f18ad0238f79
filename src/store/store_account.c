/* store_account.c: domains, accounts, aliases, recipient resolution and quota.
 *
 * Addresses (store_address.c) are stored with the domain in lower case and compared
 * case-insensitively (COLLATE NOCASE), as every mail client and most servers do. An account owns its
 * mailboxes and message rows; deleting it removes them and frees unreferenced blobs.
 * Aliases map an address (or "@domain", a catch-all) to targets that may be local or
 * remote; store_resolve() expands them for SMTP with a depth limit and loop cut. */
#include "store_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------------ helpers */

static int64_t domain_id(struct db *c, const char *domain)
{
	sqlite3_stmt *st = store_db_stmt(c, "SELECT id FROM domains WHERE name = ?");
	if (st == NULL)
		return -1;
	store_bind_text(st, 1, domain);
	int64_t id = 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return id;
}

static int64_t account_id_of(struct db *c, const char *address)
{
	sqlite3_stmt *st = store_db_stmt(c, "SELECT id FROM accounts WHERE address = ?");
	if (st == NULL)
		return -1;
	store_bind_text(st, 1, address);
	int64_t id = 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return id;
}

static bool alias_exists(struct db *c, const char *address)
{
	sqlite3_stmt *st = store_db_stmt(c, "SELECT 1 FROM aliases WHERE address = ? LIMIT 1");
	if (st == NULL)
		return false;
	store_bind_text(st, 1, address);
	bool r = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	return r;
}

/* ------------------------------------------------------------------ domains */

struct domain_req {
	const char *name;
};

static int apply_domain_add(struct store *s, struct store_op *op)
{
	struct domain_req *r = op->req;
	struct db *c = s->wc;
	if (domain_id(c, r->name) > 0)
		return store_op_fail(op, STORE_EEXISTS, "domain %s already exists", r->name);
	sqlite3_stmt *st = store_db_stmt(c, "INSERT INTO domains(name) VALUES(?)");
	store_bind_text(st, 1, r->name);
	const char *err;
	if (store_step_done(c, st, &err) < 0)
		return store_op_fail(op, STORE_ERR, "%s", err);
	return 1;
}

int store_domain_add(struct store *s, const char *domain, const char **error_r)
{
	struct arena *a = arena_new();
	const char *norm;
	int r = store_addr_normalize(a, domain ? arena_printf(a, "x@%s", domain) : NULL, false, &norm, error_r);
	if (r < 0) {
		*error_r = "invalid domain name";
		arena_free(&a);
		return STORE_EINVAL;
	}
	struct domain_req req = { store_domain_of(norm) };
	r = store_op_run(s, store_op_new(NULL, apply_domain_add, NULL, &req, NULL), error_r);
	arena_free(&a);
	return r;
}

int store_domain_list(struct store *s, struct arena *a, const char ***domains_r,
		      const char **error_r)
{
	struct db *c = store_db_get(s);
	sqlite3_stmt *st = store_db_stmt(c, "SELECT name FROM domains ORDER BY name");
	size_t n = 0, cap = 8;
	const char **v = arena_alloc(a, cap * sizeof(*v));
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n + 1 >= cap) {
			const char **nv = arena_alloc(a, cap * 2 * sizeof(*v));
			memcpy(nv, v, n * sizeof(*v));
			v = nv;
			cap *= 2;
		}
		v[n++] = store_col_text(a, st, 0);
	}
	int ret = rc == SQLITE_DONE ? 1 : store_db_fail(c, "domain_list", error_r);
	v[n] = NULL;
	*domains_r = v;
	store_db_put(s, c);
	return ret;
}

int store_domain_exists(struct store *s, const char *domain, const char **error_r)
{
	if (domain == NULL || *domain == '\0')
		return 0;
	struct db *c = store_db_get(s);
	int64_t id = domain_id(c, domain);
	store_db_put(s, c);
	if (id < 0) {
		*error_r = "database error";
		return STORE_ERR;
	}
	return id > 0 ? 1 : 0;
}

/* ------------------------------------------------------------------ accounts */

struct account_req {
	const char *address;
	const char *hash;
	const char *scram; /* store_account_set_scram */
	uint64_t quota;
	bool end_sessions; /* store_account_end_sessions */
	int64_t id;
};

static const struct {
	const char *name;
	unsigned int su;
} default_mailboxes[] = {
	{ "INBOX", 0 }, { "Drafts", STORE_SU_DRAFTS }, { "Sent", STORE_SU_SENT },
	{ "Trash", STORE_SU_TRASH }, { "Junk", STORE_SU_JUNK }, { "Archive", STORE_SU_ARCHIVE },
};

static int apply_account_add(struct store *s, struct store_op *op)
{
	struct account_req *r = op->req;
	struct db *c = s->wc;
	int64_t did = domain_id(c, store_domain_of(r->address));
	if (did <= 0)
		return store_op_fail(op, STORE_ENOTFOUND, "unknown domain %s", store_domain_of(r->address));
	if (account_id_of(c, r->address) > 0)
		return store_op_fail(op, STORE_EEXISTS, "account %s already exists", r->address);
	if (alias_exists(c, r->address))
		return store_op_fail(op, STORE_EEXISTS, "%s is an alias", r->address);
	sqlite3_stmt *st = store_db_stmt(c, "INSERT INTO accounts(address, domain_id, password, quota)"
				       " VALUES(?, ?, ?, ?)");
	store_bind_text(st, 1, r->address);
	sqlite3_bind_int64(st, 2, did);
	store_bind_text(st, 3, r->hash);
	sqlite3_bind_int64(st, 4, (int64_t)r->quota);
	const char *err;
	if (store_step_done(c, st, &err) < 0)
		return store_op_fail(op, STORE_ERR, "%s", err);
	r->id = sqlite3_last_insert_rowid(c->db);
	for (size_t i = 0; i < sizeof(default_mailboxes) / sizeof(default_mailboxes[0]); i++) {
		int x = store_mbox_create_in(op, c, r->id, default_mailboxes[i].name,
				       default_mailboxes[i].su, true, NULL);
		if (x < 0)
			return x;
	}
	return 1;
}

int store_account_add(struct store *s, const char *address, const char *password_hash,
		      uint64_t quota, int64_t *id_r, const char **error_r)
{
	struct arena *a = arena_new();
	struct account_req req = { .hash = password_hash, .quota = quota };
	int r = store_address_normalize(a, address, &req.address, error_r);
	if (r > 0 && (password_hash == NULL || *password_hash == '\0')) {
		*error_r = "no password hash";
		r = STORE_EINVAL;
	}
	if (r > 0 && quota > INT64_MAX) {
		*error_r = "quota too large";
		r = STORE_EINVAL;
	}
	if (r > 0)
		r = store_op_run(s, store_op_new(NULL, apply_account_add, NULL, &req, NULL), error_r);
	if (r > 0 && id_r != NULL)
		*id_r = req.id;
	arena_free(&a);
	return r;
}

static int apply_account_del(struct store *s, struct store_op *op)
{
	struct account_req *r = op->req;
	struct db *c = s->wc;
	op->may_use_reserve = true; /* it frees space: works on a full disk (store_space.c) */
	int64_t id = account_id_of(c, r->address);
	if (id <= 0)
		return store_op_fail(op, STORE_ENOTFOUND, "no account %s", r->address);
	uint64_t modseq = store_acct_next_modseq(c, id);
	/* first, so that pending lessons no longer keep its messages */
	if (store_lesson_forget_account(op, c, id) < 0)
		return op->result;
	sqlite3_stmt *st = store_db_stmt(c, "SELECT id FROM mailboxes WHERE account_id = ?");
	sqlite3_bind_int64(st, 1, id);
	int64_t ids[4096];
	size_t n = 0;
	/* Collect first: store_msg_remove_all uses other statements on this connection. */
	for (;;) {
		n = 0;
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, id);
		while (n < 4096 && sqlite3_step(st) == SQLITE_ROW)
			ids[n++] = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		if (n == 0)
			break;
		for (size_t i = 0; i < n; i++) {
			if (store_msg_remove_all(op, c, id, ids[i], modseq) < 0)
				return op->result;
			sqlite3_stmt *d = store_db_stmt(c, "DELETE FROM mailboxes WHERE id = ?");
			sqlite3_bind_int64(d, 1, ids[i]);
			const char *err;
			if (store_step_done(c, d, &err) < 0)
				return store_op_fail(op, STORE_ERR, "%s", err);
			store_op_event(op, STORE_EV_MAILBOX_DELETED, id, ids[i], 0, 0, 0, modseq);
		}
	}
	static const char *const cleanup[] = {
		"DELETE FROM expunged WHERE account_id = ?",
		"DELETE FROM mailbox_tombstones WHERE account_id = ?",
		"DELETE FROM lost_subscriptions WHERE account_id = ?",
		"DELETE FROM msgids WHERE account_id = ?",
		"DELETE FROM session_generations WHERE account_id = ?",
		"DELETE FROM scram_secrets WHERE account_id = ?",
		"DELETE FROM admins WHERE account_id = ?",
		"DELETE FROM last_logins WHERE account_id = ?",
		"DELETE FROM junk_token WHERE account_id = ?",
		"DELETE FROM junk_count WHERE account_id = ?",
		"DELETE FROM junk_contact WHERE account_id = ?",
		"DELETE FROM sieve_scripts WHERE account_id = ?",
		"DELETE FROM sieve_state WHERE account_id = ?",
		"DELETE FROM sieve_vacation WHERE account_id = ?",
		"DELETE FROM sieve_duplicates WHERE account_id = ?",
		"DELETE FROM web_sessions WHERE account_id = ?",
		"DELETE FROM web_prefs WHERE account_id = ?",
		"DELETE FROM contacts WHERE account_id = ?",
		"DELETE FROM accounts WHERE id = ?",
	};
	for (size_t i = 0; i < sizeof(cleanup) / sizeof(cleanup[0]); i++) {
		sqlite3_stmt *d = store_db_stmt(c, cleanup[i]);
		sqlite3_bind_int64(d, 1, id);
		const char *err;
		if (store_step_done(c, d, &err) < 0)
			return store_op_fail(op, STORE_ERR, "%s", err);
	}
	return 1;
}

int store_account_del(struct store *s, const char *address, const char **error_r)
{
	struct arena *a = arena_new();
	struct account_req req = { 0 };
	int r = store_address_normalize(a, address, &req.address, error_r);
	if (r > 0)
		r = store_op_run(s, store_op_new(NULL, apply_account_del, NULL, &req, NULL), error_r);
	arena_free(&a);
	return r;
}

/* Raises the session generation of account id (in the write transaction). */
static int bump_session_gen(struct db *c, int64_t id, const char **error_r)
{
	sqlite3_stmt *st = store_db_stmt(c, "INSERT INTO session_generations(account_id, generation) VALUES(?, 1)"
				     " ON CONFLICT(account_id) DO UPDATE SET generation = generation + 1");
	sqlite3_bind_int64(st, 1, id);
	return store_step_done(c, st, error_r);
}

static int apply_account_update(struct store *s, struct store_op *op)
{
	struct account_req *r = op->req;
	struct db *c = s->wc;
	int64_t id = account_id_of(c, r->address);
	if (id <= 0)
		return store_op_fail(op, STORE_ENOTFOUND, "no account %s", r->address);
	sqlite3_stmt *st;
	const char *err;
	if (r->end_sessions) {
		if (bump_session_gen(c, id, &err) < 0)
			return store_op_fail(op, STORE_ERR, "%s", err);
		return 1;
	}
	if (r->hash != NULL) {
		/* a new password ends the sessions made with the old one */
		if (bump_session_gen(c, id, &err) < 0)
			return store_op_fail(op, STORE_ERR, "%s", err);
		/* the SCRAM secret of the old password goes with it */
		st = store_db_stmt(c, "DELETE FROM scram_secrets WHERE account_id = ?");
		sqlite3_bind_int64(st, 1, id);
		if (store_step_done(c, st, &err) < 0)
			return store_op_fail(op, STORE_ERR, "%s", err);
		st = store_db_stmt(c, "UPDATE accounts SET password = ? WHERE address = ?");
		store_bind_text(st, 1, r->hash);
	} else {
		st = store_db_stmt(c, "UPDATE accounts SET quota = ? WHERE address = ?");
		sqlite3_bind_int64(st, 1, (int64_t)r->quota);
	}
	store_bind_text(st, 2, r->address);
	if (store_step_done(c, st, &err) < 0)
		return store_op_fail(op, STORE_ERR, "%s", err);
	return 1;
}

int store_account_end_sessions(struct store *s, const char *address, const char **error_r)
{
	struct arena *a = arena_new();
	struct account_req req = { .end_sessions = true };
	int r = store_address_normalize(a, address, &req.address, error_r);
	if (r > 0)
		r = store_op_run(s, store_op_new(NULL, apply_account_update, NULL, &req, NULL), error_r);
	arena_free(&a);
	return r;
}

int store_account_session_gen(struct store *s, int64_t id, uint64_t *gen_r, const char **error_r)
{
	struct db *c = store_db_get(s);
	sqlite3_stmt *st = store_db_stmt(c, "SELECT COALESCE(g.generation, 0) FROM accounts a"
				     " LEFT JOIN session_generations g ON g.account_id = a.id WHERE a.id = ?");
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st), ret;
	if (rc == SQLITE_ROW) {
		*gen_r = (uint64_t)sqlite3_column_int64(st, 0);
		ret = 1;
	} else if (rc == SQLITE_DONE) {
		ret = 0;
	} else {
		ret = store_db_fail(c, "account_session_gen", error_r);
	}
	store_db_put(s, c);
	return ret;
}

int store_account_set_password(struct store *s, const char *address, const char *password_hash,
			       const char **error_r)
{
	if (password_hash == NULL || *password_hash == '\0') {
		*error_r = "no password hash";
		return STORE_EINVAL;
	}
	struct arena *a = arena_new();
	struct account_req req = { .hash = password_hash };
	int r = store_address_normalize(a, address, &req.address, error_r);
	if (r > 0)
		r = store_op_run(s, store_op_new(NULL, apply_account_update, NULL, &req, NULL), error_r);
	arena_free(&a);
	return r;
}

static int apply_account_scram(struct store *s, struct store_op *op)
{
	struct account_req *r = op->req;
	struct db *c = s->wc;
	sqlite3_stmt *st = store_db_stmt(c, "INSERT OR REPLACE INTO scram_secrets(account_id, secret)"
				     " SELECT id, ? FROM accounts WHERE id = ? AND password = ?");
	store_bind_text(st, 1, r->scram);
	sqlite3_bind_int64(st, 2, r->id);
	store_bind_text(st, 3, r->hash);
	const char *err;
	if (store_step_done(c, st, &err) < 0)
		return store_op_fail(op, STORE_ERR, "%s", err);
	return sqlite3_changes(c->db) > 0 ? 1 : 0;
}

int store_account_set_scram(struct store *s, int64_t account_id, const char *password_hash, const char *secret,
			    const char **error_r)
{
	if (password_hash == NULL || secret == NULL || *secret == '\0') {
		*error_r = "no password hash or SCRAM secret";
		return STORE_EINVAL;
	}
	struct account_req req = { .id = account_id, .hash = password_hash, .scram = secret };
	return store_op_run(s, store_op_new(NULL, apply_account_scram, NULL, &req, NULL), error_r);
}

int store_account_set_quota(struct store *s, const char *address, uint64_t quota,
			    const char **error_r)
{
	if (quota > INT64_MAX) {
		*error_r = "quota too large";
		return STORE_EINVAL;
	}
	struct arena *a = arena_new();
	struct account_req req = { .quota = quota };
	int r = store_address_normalize(a, address, &req.address, error_r);
	if (r > 0)
		r = store_op_run(s, store_op_new(NULL, apply_account_update, NULL, &req, NULL), error_r);
	arena_free(&a);
	return r;
}

#define ACCOUNT_COLS                                                                                    \
	"a.id, a.address, a.password, a.quota, a.usage, a.messages, a.modseq, k.secret FROM accounts a"    \
	" LEFT JOIN scram_secrets k ON k.account_id = a.id"

static void account_row(struct arena *a, sqlite3_stmt *st, struct store_account *acct)
{
	acct->id = sqlite3_column_int64(st, 0);
	acct->address = store_col_text(a, st, 1);
	acct->password_hash = store_col_text(a, st, 2);
	acct->quota = (uint64_t)sqlite3_column_int64(st, 3);
	acct->usage = (uint64_t)sqlite3_column_int64(st, 4);
	acct->messages = (uint64_t)sqlite3_column_int64(st, 5);
	acct->modseq = (uint64_t)sqlite3_column_int64(st, 6);
	acct->scram = sqlite3_column_type(st, 7) == SQLITE_NULL ? NULL : store_col_text(a, st, 7);
}

static int account_get(struct store *s, struct arena *a, const char *address, int64_t id,
		       struct store_account *acct_r, const char **error_r)
{
	struct db *c = store_db_get(s);
	sqlite3_stmt *st;
	if (address != NULL) {
		st = store_db_stmt(c, "SELECT " ACCOUNT_COLS " WHERE a.address = ?");
		store_bind_text(st, 1, address);
	} else {
		st = store_db_stmt(c, "SELECT " ACCOUNT_COLS " WHERE a.id = ?");
		sqlite3_bind_int64(st, 1, id);
	}
	int rc = sqlite3_step(st), ret;
	if (rc == SQLITE_ROW) {
		account_row(a, st, acct_r);
		ret = 1;
	} else if (rc == SQLITE_DONE) {
		ret = 0;
	} else {
		ret = store_db_fail(c, "account_get", error_r);
	}
	store_db_put(s, c);
	return ret;
}

int store_account_get(struct store *s, struct arena *a, const char *address,
		      struct store_account *acct_r, const char **error_r)
{
	const char *norm;
	if (store_address_normalize(a, address, &norm, error_r) < 0)
		return 0; /* an invalid address is simply not an account */
	return account_get(s, a, norm, 0, acct_r, error_r);
}

int store_account_get_by_id(struct store *s, struct arena *a, int64_t id,
			    struct store_account *acct_r, const char **error_r)
{
	return account_get(s, a, NULL, id, acct_r, error_r);
}

int store_account_list(struct store *s, struct arena *a, struct store_account **accts_r,
		       size_t *n_r, const char **error_r)
{
	struct db *c = store_db_get(s);
	sqlite3_stmt *st = store_db_stmt(c, "SELECT " ACCOUNT_COLS " ORDER BY a.address");
	size_t n = 0, cap = 16;
	struct store_account *v = arena_alloc(a, cap * sizeof(*v));
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			struct store_account *nv = arena_alloc(a, cap * 2 * sizeof(*v));
			memcpy(nv, v, n * sizeof(*v));
			v = nv;
			cap *= 2;
		}
		account_row(a, st, &v[n++]);
	}
	int ret = rc == SQLITE_DONE ? 1 : store_db_fail(c, "account_list", error_r);
	store_db_put(s, c);
	*accts_r = v;
	*n_r = n;
	return ret;
}

/* ------------------------------------------------------------------ aliases */

struct alias_req {
	const char *address;
	const char **targets;
	size_t n;
};

static int apply_alias_add(struct store *s, struct store_op *op)
{
	struct alias_req *r = op->req;
	struct db *c = s->wc;
	if (domain_id(c, store_domain_of(r->address)) <= 0)
		return store_op_fail(op, STORE_ENOTFOUND, "unknown domain %s", store_domain_of(r->address));
	if (r->address[0] != '@' && account_id_of(c, r->address) > 0)
		return store_op_fail(op, STORE_EEXISTS, "%s is an account", r->address);
	sqlite3_stmt *st = store_db_stmt(c, "INSERT OR IGNORE INTO aliases(address, target) VALUES(?, ?)");
	for (size_t i = 0; i < r->n; i++) {
		if (strcasecmp(r->targets[i], r->address) == 0)
			return store_op_fail(op, STORE_EINVAL, "alias %s points to itself", r->address);
		sqlite3_reset(st);
		store_bind_text(st, 1, r->address);
		store_bind_text(st, 2, r->targets[i]);
		const char *err;
		if (store_step_done(c, st, &err) < 0)
			return store_op_fail(op, STORE_ERR, "%s", err);
	}
	return 1;
}

int store_alias_add(struct store *s, const char *address, const char *const *targets,
		    size_t ntargets, const char **error_r)
{
	if (ntargets == 0) {
		*error_r = "an alias needs at least one target";
		return STORE_EINVAL;
	}
	struct arena *a = arena_new();
	struct alias_req req = { .n = ntargets };
	int r = store_addr_normalize(a, address, true, &req.address, error_r);
	req.targets = arena_alloc(a, ntargets * sizeof(*req.targets));
	for (size_t i = 0; r > 0 && i < ntargets; i++) {
		r = store_address_normalize(a, targets[i], &req.targets[i], error_r);
		if (r < 0)
			*error_r = "invalid alias target address";
	}
	if (r > 0)
		r = store_op_run(s, store_op_new(NULL, apply_alias_add, NULL, &req, NULL), error_r);
	arena_free(&a);
	return r;
}

static int apply_alias_del(struct store *s, struct store_op *op)
{
	struct alias_req *r = op->req;
	struct db *c = s->wc;
	if (!alias_exists(c, r->address))
		return store_op_fail(op, STORE_ENOTFOUND, "no alias %s", r->address);
	sqlite3_stmt *st = store_db_stmt(c, "DELETE FROM aliases WHERE address = ?");
	store_bind_text(st, 1, r->address);
	const char *err;
	if (store_step_done(c, st, &err) < 0)
		return store_op_fail(op, STORE_ERR, "%s", err);
	return 1;
}

int store_alias_del(struct store *s, const char *address, const char **error_r)
{
	struct arena *a = arena_new();
	struct alias_req req = { 0 };
	int r = store_addr_normalize(a, address, true, &req.address, error_r);
	if (r > 0)
		r = store_op_run(s, store_op_new(NULL, apply_alias_del, NULL, &req, NULL), error_r);
	arena_free(&a);
	return r;
}

int store_alias_list(struct store *s, struct arena *a, struct store_alias **aliases_r,
		     size_t *n_r, const char **error_r)
{
	struct db *c = store_db_get(s);
	sqlite3_stmt *st = store_db_stmt(c, "SELECT address, target FROM aliases ORDER BY address, target");
	size_t n = 0, cap = 16;
	struct store_alias *v = arena_alloc(a, cap * sizeof(*v));
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			struct store_alias *nv = arena_alloc(a, cap * 2 * sizeof(*v));
			memcpy(nv, v, n * sizeof(*v));
			v = nv;
			cap *= 2;
		}
		v[n].address = store_col_text(a, st, 0);
		v[n].target = store_col_text(a, st, 1);
		n++;
	}
	int ret = rc == SQLITE_DONE ? 1 : store_db_fail(c, "alias_list", error_r);
	store_db_put(s, c);
	*aliases_r = v;
	*n_r = n;
	return ret;
}

/* ------------------------------------------------------------------ resolution */

#define RESOLVE_MAX 256

int store_resolve(struct store *s, struct arena *a, const char *address,
		  struct store_rcpt *rcpt_r, const char **error_r)
{
	memset(rcpt_r, 0, sizeof(*rcpt_r));
	const char *norm;
	int r = store_address_normalize(a, address, &norm, error_r);
	if (r < 0)
		return r;
	struct db *c = store_db_get(s);
	int ret = 1;
	if (domain_id(c, store_domain_of(norm)) <= 0) {
		*error_r = "domain is not local";
		ret = STORE_ENOTFOUND;
		goto out;
	}
	/* Breadth-first over (address, depth); `seen` cuts loops. */
	const char *queue[RESOLVE_MAX];
	int depth[RESOLVE_MAX];
	size_t qn = 0;
	queue[qn] = norm;
	depth[qn++] = 0;
	rcpt_r->accounts = arena_alloc(a, RESOLVE_MAX * sizeof(int64_t));
	rcpt_r->remote = arena_alloc(a, RESOLVE_MAX * sizeof(char *));
	sqlite3_stmt *st = store_db_stmt(c, "SELECT target FROM aliases WHERE address = ? ORDER BY target");
	for (size_t qi = 0; qi < qn; qi++) {
		const char *cur = queue[qi];
		if (domain_id(c, store_domain_of(cur)) <= 0) {
			bool dup = false;
			for (size_t i = 0; i < rcpt_r->nremote; i++)
				dup |= strcasecmp(rcpt_r->remote[i], cur) == 0;
			if (!dup && rcpt_r->nremote < RESOLVE_MAX)
				rcpt_r->remote[rcpt_r->nremote++] = cur;
			continue;
		}
		int64_t id = account_id_of(c, cur);
		if (id > 0) {
			bool dup = false;
			for (size_t i = 0; i < rcpt_r->naccounts; i++)
				dup |= rcpt_r->accounts[i] == id;
			if (!dup)
				rcpt_r->accounts[rcpt_r->naccounts++] = id;
			continue;
		}
		if (depth[qi] >= STORE_ALIAS_DEPTH)
			continue;
		const char *keys[2] = { cur, arena_printf(a, "@%s", store_domain_of(cur)) };
		for (int k = 0; k < 2; k++) {
			bool found = false;
			sqlite3_reset(st);
			store_bind_text(st, 1, keys[k]);
			while (sqlite3_step(st) == SQLITE_ROW) {
				found = true;
				const char *t = store_col_text(a, st, 0);
				bool seen = false;
				for (size_t i = 0; i < qn; i++)
					seen |= strcasecmp(queue[i], t) == 0;
				if (!seen && qn < RESOLVE_MAX) {
					queue[qn] = t;
					depth[qn++] = depth[qi] + 1;
				}
			}
			if (found)
				break; /* an exact alias hides the catch-all */
		}
	}
	ret = rcpt_r->naccounts + rcpt_r->nremote > 0 ? 1 : 0;
	if (ret == 0)
		*error_r = "no such user";
out:
	store_db_put(s, c);
	return ret;
}

/* ------------------------------------------------------------------ quota */

int store_quota_get(struct store *s, int64_t account_id, uint64_t *usage_r, uint64_t *limit_r,
		    uint64_t *messages_r, const char **error_r)
{
	struct db *c = store_db_get(s);
	sqlite3_stmt *st = store_db_stmt(c, "SELECT usage, quota, messages FROM accounts WHERE id = ?");
	sqlite3_bind_int64(st, 1, account_id);
	int rc = sqlite3_step(st), ret = 1;
	if (rc == SQLITE_ROW) {
		if (usage_r)
			*usage_r = (uint64_t)sqlite3_column_int64(st, 0);
		if (limit_r)
			*limit_r = (uint64_t)sqlite3_column_int64(st, 1);
		if (messages_r)
			*messages_r = (uint64_t)sqlite3_column_int64(st, 2);
	} else if (rc == SQLITE_DONE) {
		*error_r = "no such account";
		ret = STORE_ENOTFOUND;
	} else {
		ret = store_db_fail(c, "quota_get", error_r);
	}
	store_db_put(s, c);
	return ret;
}

int store_quota_check(struct store *s, int64_t account_id, uint64_t size, const char **error_r)
{
	uint64_t usage, limit;
	int r = store_quota_get(s, account_id, &usage, &limit, NULL, error_r);
	if (r < 0)
		return r;
	if (limit == 0)
		return 1;
	if (size == 0 ? usage >= limit : (usage > limit || size > limit - usage)) {
		*error_r = "mailbox is over quota";
		return STORE_EOVERQUOTA;
	}
	return 1;
}
