/* dkim_key.h: the DKIM keys of the local domains, on disk under the data directory.
 *
 * Layout: DIR/dkim/<domain>/<selector>.pem, one private key per file, PKCS#8 PEM, mode
 * 0600 (given to the service user when a command running as root makes it). Selectors
 * are named by algorithm and the UTC date of creation: eYYYYMMDD for Ed25519,
 * rYYYYMMDD for RSA-2048; a second key of the same algorithm made on the same day gets
 * a suffix letter (e20261207b, then c, ...). Every key in a domain's directory is
 * published (`postamt dkim list D` prints one TXT record per key).
 *
 * Which key signs (dkim_key_choose): a new key must be in the DNS before it signs, so
 * a key signs only once it is "ripe", created at least publish_delay seconds ago (the
 * dkim.publish_delay key). Per algorithm the newest ripe key signs (newest: greatest
 * selector, which for the selectors made here is the latest date and letter); when no
 * key of the algorithm is ripe, the oldest signs: a brand-new domain's only key signs
 * at once, and a domain rotated again before its newest key ripened keeps the key
 * that has been signing. The choice depends on the time, so it is made when a
 * message is signed (dkim_keyset_find with now), never when keys are loaded.
 *
 * A key's creation time is stored in its file: the first line, before the PEM block,
 * is "postamt-dkim-created: 2026-12-07T04:31:40Z" (RFC 7468 §5.2 lets text precede a
 * PEM block; OpenSSL and every tool built on it skip it), so a copy, backup or restore
 * keeps it, unlike a file's mtime. A key file without that line (made by hand, or by
 * an older postamt) counts as created at the end of the UTC day its selector names
 * (eYYYYMMDD...: the start of that day + 1 day, the latest it can have been made); a
 * selector without a date counts as created long ago (a key placed by hand is taken as
 * published). Rotation is therefore: make a new pair (it waits), publish it, it starts
 * signing after publish_delay, later remove the old one (`dkim_key_retire`).
 *
 * Every function takes the data directory as a directory file descriptor (AT_FDCWD
 * when the process has chdir'ed into DIR, as `serve` does). Domain names are
 * compared and stored in lower case. No function here keeps state between calls; all
 * are safe to call from any thread. */
#ifndef POSTAMT_DKIM_KEY_H
#define POSTAMT_DKIM_KEY_H

#include "arena.h"

#include <stddef.h>
#include <stdint.h>
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
	time_t created;  /* when it was made (see above) */
	time_t ripe_at;  /* created + publish_delay: from then on it may sign */
	enum dkim_key_state {
		DKIM_KEY_PUBLISHED = 1, /* published, not signing (an older key, or a newer one is ripe) */
		DKIM_KEY_SIGNING = 2,   /* the key that signs for its algorithm now */
		DKIM_KEY_WAITING = 3,   /* newer than the signer, not ripe yet: signs from ripe_at */
	} state;
};

/* Makes a new Ed25519 and a new RSA-2048 key for domain, selectors and creation stamp
 * from now (UTC) as described above, written atomically (a temporary file, fsync, rename) as
 * DIR/dkim/<domain>/<selector>.pem with mode 0600; the directories are made (0700)
 * when missing. owner/group: when not (uid_t)-1, the new files and directories are
 * chown'ed to them (a command running as root passes the service user).
 * The new selectors are returned in *ed_sel_r and *rsa_sel_r (in arena a; either
 * output may be NULL). Returns 1, or -1 with *error_r (in a) on a bad domain name, an
 * I/O or OpenSSL error, or when 26 keys of one algorithm were already made that day. */
int dkim_key_generate(int dir_fd, const char *domain, time_t now, uid_t owner, gid_t group, struct arena *a,
		      const char **ed_sel_r, const char **rsa_sel_r, const char **error_r);

/* Lists domain's keys, sorted by algorithm (Ed25519 first), then selector
 * (descending: newest first), each with its state at time now under publish_delay
 * (seconds, >= 0). Keys are in arena a. Returns the number of keys (0: none, or no
 * directory for the domain), or -1 with *error_r (in a) when a key file cannot be
 * read or parsed. */
int dkim_key_list(int dir_fd, const char *domain, time_t now, int64_t publish_delay, struct arena *a,
		  struct dkim_key_info **keys_r, size_t *n_r, const char **error_r);

/* Removes domain's key `selector`. The key that signs at time now (under
 * publish_delay) is refused, so a domain never loses its signing key by accident:
 * retire it once a newer key has ripened and taken over. A waiting (not yet signing)
 * key may be retired. Returns 1 when removed, 0 when there is no such key, -1 with
 * *error_r (in a) when refused or on an I/O error. */
int dkim_key_retire(int dir_fd, const char *domain, const char *selector, time_t now, int64_t publish_delay,
		    struct arena *a, const char **error_r);

/* ---- creation times and the choice of the signer (pure; dkim_key_time.c) ---- */

/* The name of the first line of a key file, before its PEM block. */
#define DKIM_KEY_STAMP "postamt-dkim-created:"

/* Reads the creation stamp at the start of a key file's text (len bytes, not
 * NUL-terminated): "postamt-dkim-created: YYYY-MM-DDTHH:MM:SSZ" and a line end (LF or
 * CRLF). Returns 1 with *created_r, 0 when text does not begin with DKIM_KEY_STAMP
 * (a plain PEM file), -1 with *error_r (static) when it does but the rest of the line
 * is not a valid UTC time in that form. */
int dkim_key_stamp_parse(const char *text, size_t len, time_t *created_r, const char **error_r);
/* Writes the stamp line for created, with its "\n", into out (NUL-terminated; size
 * >= 48). Returns the length written. */
size_t dkim_key_stamp_format(time_t created, char *out, size_t size);
/* The creation time a selector implies for a key file without a stamp: for
 * [er]YYYYMMDD followed by nothing or one letter, the start of that UTC day plus one
 * day; 0 for any other selector. */
time_t dkim_key_selector_time(const char *selector);
/* created + publish_delay, saturating at the largest time_t. */
time_t dkim_key_ripe_at(time_t created, int64_t publish_delay);
struct dkim_signer;
/* The signer among n (> 0) keys of one algorithm sorted newest first, at time now:
 * the index of the first whose created + publish_delay <= now, else n - 1 (the
 * oldest; see above). Reads only each key's created. */
size_t dkim_key_choose(const struct dkim_signer *keys, size_t n, time_t now, int64_t publish_delay);

/* The keys of every domain under DIR/dkim, all of them (which one signs depends on
 * the time: dkim_keyset_find). Immutable once loaded, so it may be shared by threads;
 * the signing hook swaps in a new set when the directory changes. */
struct dkim_keyset;

/* One signing key. pkey is an EVP_PKEY * (OpenSSL), kept opaque here. */
struct dkim_signer {
	const char *domain; /* lower case */
	const char *selector;
	enum dkim_alg alg;
	void *pkey;     /* EVP_PKEY *, owned by the keyset */
	time_t created; /* see dkim_key_selector_time and DKIM_KEY_STAMP */
};

/* Loads the signing keys of every domain directory under DIR/dkim. A missing
 * DIR/dkim gives an empty set. A key file that cannot be read is skipped with a
 * message appended to *warnings_r (heap, NULL when none; the caller frees it).
 * Returns 1 with *set_r, or -1 with *error_r (static) when DIR/dkim cannot be read. */
int dkim_keyset_load(int dir_fd, struct dkim_keyset **set_r, char **warnings_r, const char **error_r);
void dkim_keyset_free(struct dkim_keyset **setp);
/* Number of domains with at least one key. */
size_t dkim_keyset_domains(const struct dkim_keyset *set);
/* The signers of domain (case-insensitive) at time now under publish_delay (seconds,
 * >= 0; dkim_key_choose per algorithm): *ed_r and *rsa_r are set (NULL when that
 * algorithm has no key; owned by set). Returns the number found (0, 1 or 2). */
int dkim_keyset_find(const struct dkim_keyset *set, const char *domain, time_t now, int64_t publish_delay,
		     const struct dkim_signer **ed_r, const struct dkim_signer **rsa_r);

/* A fingerprint of DIR/dkim (the mtime and inode of DIR/dkim and of each domain
 * directory: adding, removing or renaming a key file changes its directory's), so a
 * caller can tell cheaply whether the keys changed since it loaded them; a key file
 * rewritten in place is not noticed (SIGHUP). Returns 1 with *fp_r, or 0 when DIR/dkim does not exist (*fp_r = 0). */
int dkim_key_fingerprint(int dir_fd, unsigned long long *fp_r);

/* ---- keys as PEM text: the store keeps them on the PostgreSQL backend ----
 *
 * There a key is a row (domain, selector, algorithm, PKCS#8 PEM, created, active) that
 * every node reads, instead of a file under DIR/dkim; selectors, the choice of the
 * signer and the listing are the same as for files. */
struct dkim_key_pem {
	const char *domain, *selector;
	const char *pem; /* PKCS#8 PEM of the private key (NUL-terminated) */
	time_t created;
};
/* A new key of alg as PKCS#8 PEM text in a. 1, or -1 with *error_r (static). */
int dkim_key_new_pem(enum dkim_alg alg, struct arena *a, const char **pem_r, const char **error_r);
/* The nth (0..25) selector of alg for the UTC day of now, as files get them (eYYYYMMDD,
 * then eYYYYMMDDb .. z) into out (size >= 16). 1, or 0 when nth is past 'z'. */
int dkim_key_day_selector(enum dkim_alg alg, time_t now, int nth, char *out, size_t size);
/* As dkim_key_list, over the keys of domain among keys[0..n). */
int dkim_key_list_pem(const struct dkim_key_pem *keys, size_t n, const char *domain, time_t now, int64_t publish_delay,
		      struct arena *a, struct dkim_key_info **keys_r, size_t *n_r, const char **error_r);
/* As dkim_keyset_load, over keys[0..n) (any domains); an unreadable key is skipped
 * with a message in *warnings_r (heap or NULL). Never fails. */
void dkim_keyset_from_pem(const struct dkim_key_pem *keys, size_t n, struct dkim_keyset **set_r, char **warnings_r);
/* The check of dkim_key_retire over a domain's listing (dkim_key_list): 1 when
 * selector may be retired, 0 when there is no such key, -1 with *error_r (in a) when
 * it is the signing key of its algorithm. */
int dkim_key_retire_check(const struct dkim_key_info *keys, size_t n, const char *dom, const char *selector,
			  struct arena *a, const char **error_r);

#endif
