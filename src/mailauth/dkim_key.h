/* dkim_key.h: the DKIM keys of the local domains, on disk under the data directory.
 *
 * Layout: DIR/dkim/<domain>/<selector>.pem, one private key per file, PKCS#8 PEM, mode
 * 0600 (given to the service user when a command running as root makes it). Selectors
 * are named by algorithm and the UTC date of creation: eYYYYMMDD for Ed25519,
 * rYYYYMMDD for RSA-2048; a second key of the same algorithm made on the same day gets
 * a suffix letter (e20261207b, then c, ...). Every key in a domain's directory is
 * published (`postamt dns D` prints one TXT record per key); per algorithm the key
 * whose selector is greatest (strcmp) signs. Rotation is therefore: make a new pair
 * (it signs at once), publish it, later remove the old one (`dkim_key_retire`).
 *
 * Every function takes the data directory as a directory file descriptor (AT_FDCWD
 * when the process has chdir'ed into DIR, as `serve` does). Domain names are
 * compared and stored in lower case. No function here keeps state between calls; all
 * are safe to call from any thread. */
#ifndef POSTAMT_DKIM_KEY_H
#define POSTAMT_DKIM_KEY_H

#include "arena.h"

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

/* The signing algorithms (RFC 6376 §3.3, RFC 8463). */
enum dkim_alg {
	DKIM_ALG_ED25519 = 1, /* ed25519-sha256, k=ed25519 */
	DKIM_ALG_RSA = 2,     /* rsa-sha256, k=rsa */
};

/* "ed25519" or "rsa": the k= word of the key record. */
const char *dkim_alg_key_type(enum dkim_alg alg);

/* Bits of a generated RSA key. */
#define DKIM_KEY_RSA_BITS 2048
/* The directory under DIR that holds the keys. */
#define DKIM_KEY_DIR "dkim"

/* One key of a domain, as listed. */
struct dkim_key_info {
	const char *selector; /* the file name without ".pem" */
	enum dkim_alg alg;
	const char *txt; /* the DNS TXT record text: "v=DKIM1; k=ed25519; p=BASE64" */
	int active;      /* 1: the key that signs for its algorithm, else 0 */
};

/* Makes a new Ed25519 and a new RSA-2048 key for domain, selectors from now (UTC) as
 * described above, written atomically (a temporary file, fsync, rename) as
 * DIR/dkim/<domain>/<selector>.pem with mode 0600; the directories are made (0700)
 * when missing. owner/group: when not (uid_t)-1, the new files and directories are
 * chown'ed to them (a command running as root passes the service user).
 * The new selectors are returned in *ed_sel_r and *rsa_sel_r (in arena a; either
 * output may be NULL). Returns 1, or -1 with *error_r (in a) on a bad domain name, an
 * I/O or OpenSSL error, or when 26 keys of one algorithm were already made that day. */
int dkim_key_generate(int dir_fd, const char *domain, time_t now, uid_t owner, gid_t group, struct arena *a,
		      const char **ed_sel_r, const char **rsa_sel_r, const char **error_r);

/* Lists domain's keys, sorted by algorithm (Ed25519 first), then selector
 * (descending: the active key first). Keys are in arena a. Returns the number of keys
 * (0: none, or no directory for the domain), or -1 with *error_r (in a) when a key
 * file cannot be read or parsed. */
int dkim_key_list(int dir_fd, const char *domain, struct arena *a, struct dkim_key_info **keys_r, size_t *n_r,
		  const char **error_r);

/* Removes domain's key `selector`. A key can be retired only once a newer key of its
 * algorithm exists (a greater selector, which then signs): the active signer is
 * refused, so a domain never loses its signing key by accident. Returns 1 when
 * removed, 0 when there is no such key, -1 with *error_r (in a) when refused or on an
 * I/O error. */
int dkim_key_retire(int dir_fd, const char *domain, const char *selector, struct arena *a, const char **error_r);

/* The signing keys of every domain under DIR/dkim: per domain the active Ed25519 and
 * the active RSA key (either may be missing). Immutable once loaded, so it may be
 * shared by threads; the signing hook swaps in a new set when the directory changes. */
struct dkim_keyset;

/* One signing key. pkey is an EVP_PKEY * (OpenSSL), kept opaque here. */
struct dkim_signer {
	const char *domain; /* lower case */
	const char *selector;
	enum dkim_alg alg;
	void *pkey; /* EVP_PKEY *, owned by the keyset */
};

/* Loads the signing keys of every domain directory under DIR/dkim. A missing
 * DIR/dkim gives an empty set. A key file that cannot be read is skipped with a
 * message appended to *warnings_r (heap, NULL when none; the caller frees it).
 * Returns 1 with *set_r, or -1 with *error_r (static) when DIR/dkim cannot be read. */
int dkim_keyset_load(int dir_fd, struct dkim_keyset **set_r, char **warnings_r, const char **error_r);
void dkim_keyset_free(struct dkim_keyset **setp);
/* Number of domains with at least one signing key. */
size_t dkim_keyset_domains(const struct dkim_keyset *set);
/* The signers of domain (case-insensitive): *ed_r and *rsa_r are set (NULL when that
 * algorithm has no key). Returns the number found (0, 1 or 2). */
int dkim_keyset_find(const struct dkim_keyset *set, const char *domain, const struct dkim_signer **ed_r,
		     const struct dkim_signer **rsa_r);

/* A fingerprint of DIR/dkim (the mtime and inode of DIR/dkim and of each domain
 * directory: adding, removing or renaming a key file changes its directory's), so a
 * caller can tell cheaply whether the keys changed since it loaded them; a key file
 * rewritten in place is not noticed (SIGHUP). Returns 1 with *fp_r, or 0 when DIR/dkim does not exist (*fp_r = 0). */
int dkim_key_fingerprint(int dir_fd, unsigned long long *fp_r);

#endif
