/* acme.c: the ACME thread (see acme.h): when to order, the files under
 * DIR/tls/acme, backoff, installation and the status.
 *
 * The thread's loop: read the installed certificate; due at two thirds of its
 * lifetime, or at a random time in the renewalInfo window when that starts earlier
 * (asked again after the CA's Retry-After, at most every 6 hours), or at once when
 * there is none or it lacks a configured name; sleep until due (a condition
 * variable, so acme_stop ends the wait); order; write key and chain (0600, each
 * through a temporary file and rename) and install them. A failure keeps the old
 * certificate and retries after retry_initial, doubling up to retry_max, never
 * sooner than the CA's Retry-After. */
#include "acme.h"
#include "acme_order.h"

#include "arena.h"
#include "log.h"
#include "tls_challenge.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ARI_RECHECK_MAX (6 * 3600) /* seconds between renewalInfo questions at most */

struct acme {
	struct acme_client client;
	char **names;
	size_t nnames;
	bool rsa;
	int retry_initial, retry_max;
	acme_install_fn *install;
	void *install_ctx;
	pthread_t thread;
	pthread_mutex_t lock;       /* guards stopping and status */
	pthread_mutex_t files_lock; /* held while key.pem and cert.pem change (acme_files_lock) */
	pthread_cond_t wake;
	bool stopping;
	struct acme_status status;
};

static int64_t mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* Sleeps seconds or until acme_stop. Returns 1, or -1 when stopping. */
static int sleep_for(void *ctx, int seconds)
{
	struct acme *acme = ctx;
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += seconds;
	pthread_mutex_lock(&acme->lock);
	while (!acme->stopping && pthread_cond_timedwait(&acme->wake, &acme->lock, &until) != ETIMEDOUT)
		;
	bool stop = acme->stopping;
	pthread_mutex_unlock(&acme->lock);
	return stop ? -1 : 1;
}

static void fmt_time(time_t t, char *buf, size_t len)
{
	struct tm tm;
	if (t == 0 || gmtime_r(&t, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "-");
}

int acme_status_format(const struct acme_status *st, char *buf, size_t len)
{
	char nb[32], na[32], nr[32], ls[32];
	fmt_time(st->not_before, nb, sizeof(nb));
	fmt_time(st->not_after, na, sizeof(na));
	fmt_time(st->next_renewal, nr, sizeof(nr));
	fmt_time(st->last_success, ls, sizeof(ls));
	return snprintf(buf, len,
			"state: %s\nnames: %s\nissuer: %s\nserial: %s\nnot_before: %s\nnot_after: %s\n"
			"next_renewal: %s\nlast_success: %s\nlast_error: %s\n",
			st->state, st->have_cert ? st->names : "-", st->have_cert ? st->issuer : "-",
			st->have_cert ? st->serial : "-", nb, na, nr, ls, st->last_error[0] ? st->last_error : "-");
}

static X509 *read_cert(const char *path)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return NULL;
	X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	return x;
}

int acme_status_from_file(const char *path, struct acme_status *st)
{
	if (access(path, F_OK) != 0)
		return 0;
	X509 *x = read_cert(path);
	if (x == NULL)
		return -1;
	struct acme_cert_info info;
	acme_cert_info(x, &info);
	X509_free(x);
	st->have_cert = true;
	memcpy(st->names, info.names, sizeof(st->names));
	memcpy(st->issuer, info.issuer, sizeof(st->issuer));
	memcpy(st->serial, info.serial, sizeof(st->serial));
	st->not_before = info.not_before;
	st->not_after = info.not_after;
	return 1;
}

int acme_status(struct acme *acme, struct acme_status *st)
{
	pthread_mutex_lock(&acme->lock);
	*st = acme->status;
	pthread_mutex_unlock(&acme->lock);
	return 1;
}

/* Writes data to path through path.tmp and rename, mode 0600. Returns 1 or -1. */
static int write_file(const char *path, const void *data, size_t len)
{
	char tmp[256];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	fchmod(fd, 0600);
	const char *p = data;
	size_t left = len;
	while (left > 0) {
		ssize_t k = write(fd, p, left);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			close(fd);
			unlink(tmp);
			return -1;
		}
		p += k;
		left -= (size_t)k;
	}
	if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		return -1;
	}
	return 1;
}

static void publish(struct acme *acme)
{
	char text[2048];
	pthread_mutex_lock(&acme->lock);
	int n = acme_status_format(&acme->status, text, sizeof(text));
	pthread_mutex_unlock(&acme->lock);
	if (n > 0 && (size_t)n < sizeof(text) && write_file(ACME_STATUS_FILE, text, (size_t)n) < 0)
		log_warn("event=acme_status_write_failed file=%s error=%s", ACME_STATUS_FILE, LOG_Q(strerror(errno)));
}

static void set_state(struct acme *acme, const char *state, const char *error)
{
	pthread_mutex_lock(&acme->lock);
	snprintf(acme->status.state, sizeof(acme->status.state), "%s", state);
	if (error != NULL)
		snprintf(acme->status.last_error, sizeof(acme->status.last_error), "%s", error);
	pthread_mutex_unlock(&acme->lock);
}

/* The account key: read, or made and written (0600) on first use. */
static EVP_PKEY *account_key(char *err, size_t errlen)
{
	FILE *f = fopen(ACME_ACCOUNT_FILE, "r");
	if (f != NULL) {
		EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
		if (k == NULL)
			snprintf(err, errlen, "%s: not a PEM private key", ACME_ACCOUNT_FILE);
		return k;
	}
	EVP_PKEY *k = acme_key_new_ec();
	char *pem = NULL;
	BIO *b = BIO_new(BIO_s_mem());
	long len = 0;
	if (PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) == 1)
		len = BIO_get_mem_data(b, &pem);
	int ok = len > 0 && write_file(ACME_ACCOUNT_FILE, pem, (size_t)len) > 0;
	BIO_free(b);
	if (!ok) {
		snprintf(err, errlen, "%s: cannot write it: %s", ACME_ACCOUNT_FILE, strerror(errno));
		EVP_PKEY_free(k);
		return NULL;
	}
	log_info("event=acme_account_key_created file=%s", ACME_ACCOUNT_FILE);
	return k;
}

/* When the installed certificate is due (wall clock), and its ARI identifier. */
static time_t due_time(struct acme *acme, X509 *cert, time_t *ari_next, struct arena *a, const char **ari_id_r)
{
	struct acme_cert_info info;
	acme_cert_info(cert, &info);
	for (size_t i = 0; i < acme->nnames; i++) {
		if (X509_check_host(cert, acme->names[i], 0, X509_CHECK_FLAG_NO_WILDCARDS, NULL) != 1) {
			log_info("event=acme_names_changed missing=%s", LOG_Q(acme->names[i]));
			return 0;
		}
	}
	time_t due = info.not_before + (info.not_after - info.not_before) * 2 / 3;
	*ari_id_r = acme_ari_cert_id(a, cert);
	time_t now = time(NULL);
	if (*ari_id_r != NULL && now >= *ari_next) {
		struct acme_renewal_info ri;
		const char *error;
		acme_client_begin(&acme->client);
		int k = acme_renewal_info(&acme->client, *ari_id_r, &ri, &error);
		long ra = acme->client.retry_after;
		if (k > 0) {
			uint32_t rnd;
			RAND_bytes((unsigned char *)&rnd, sizeof(rnd));
			time_t pick = acme_renewal_pick(&ri, rnd);
			log_info("event=acme_renewal_info start=%lld end=%lld", (long long)ri.start, (long long)ri.end);
			if (pick < due)
				due = pick;
		} else if (k < 0) {
			log_warn("event=acme_renewal_info_failed error=%s", LOG_Q(error));
		}
		*ari_next = now + (ra > 0 && ra < ARI_RECHECK_MAX ? ra : ARI_RECHECK_MAX);
		if (k == 0)
			*ari_next = (time_t)INT64_MAX / 2; /* the CA has none */
		acme_client_end(&acme->client);
	}
	return due;
}

/* One order; installs on success. Returns 1, or -1 with the reason in err. */
static int order_once(struct acme *acme, const char *replaces, char *err, size_t errlen)
{
	acme_client_begin(&acme->client);
	char *pem;
	size_t len;
	EVP_PKEY *key = NULL;
	const char *error;
	int r = acme_order_certificate(&acme->client, (const char *const *)acme->names, acme->nnames, acme->rsa,
				       replaces, &pem, &len, &key, &error);
	if (r < 0) {
		snprintf(err, errlen, "%s", error);
		acme_client_end(&acme->client);
		return -1;
	}
	char *kpem = NULL;
	BIO *b = BIO_new(BIO_s_mem());
	long klen = 0;
	if (PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL) == 1)
		klen = BIO_get_mem_data(b, &kpem);
	/* a reload (acme_files_lock) never reads a new key with an old chain; after a
	 * crash between the two renames the thread finds them apart and orders anew */
	pthread_mutex_lock(&acme->files_lock);
	if (klen <= 0 || write_file(ACME_KEY_FILE, kpem, (size_t)klen) < 0 ||
	    write_file(ACME_CERT_FILE, pem, len) < 0) {
		snprintf(err, errlen, "cannot write %s: %s", ACME_DIR, strerror(errno));
		r = -1;
	}
	BIO_free(b);
	EVP_PKEY_free(key);
	acme_client_end(&acme->client);
	if (r > 0 && acme->install(acme->install_ctx, ACME_CERT_FILE, ACME_KEY_FILE, &error) < 0) {
		snprintf(err, errlen, "install failed: %s", error);
		r = -1;
	}
	pthread_mutex_unlock(&acme->files_lock);
	return r;
}

/* True when the key in key_path is cert's. */
static bool key_matches(X509 *cert, const char *key_path)
{
	FILE *f = fopen(key_path, "r");
	if (f == NULL)
		return false;
	EVP_PKEY *key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	bool ok = key != NULL && X509_check_private_key(cert, key) == 1;
	EVP_PKEY_free(key);
	ERR_clear_error();
	return ok;
}

void acme_files_lock(struct acme *acme)
{
	pthread_mutex_lock(&acme->files_lock);
}

void acme_files_unlock(struct acme *acme)
{
	pthread_mutex_unlock(&acme->files_lock);
}

static void *acme_thread(void *arg)
{
	struct acme *acme = arg;
	int failures = 0;
	time_t ari_next = 0;
	struct arena *a = arena_new();
	for (;;) {
		arena_clear(a);
		X509 *cert = read_cert(ACME_CERT_FILE);
		if (cert != NULL && !key_matches(cert, ACME_KEY_FILE)) {
			log_warn("event=acme_key_mismatch file=%s note=\"ordering a new certificate\"", ACME_KEY_FILE);
			X509_free(cert);
			cert = NULL;
		}
		const char *ari_id = NULL;
		time_t due = 0;
		pthread_mutex_lock(&acme->lock);
		acme->status.have_cert = false;
		pthread_mutex_unlock(&acme->lock);
		if (cert != NULL) {
			struct acme_status st = { 0 };
			acme_status_from_file(ACME_CERT_FILE, &st);
			pthread_mutex_lock(&acme->lock);
			acme->status.have_cert = true;
			memcpy(acme->status.names, st.names, sizeof(st.names));
			memcpy(acme->status.issuer, st.issuer, sizeof(st.issuer));
			memcpy(acme->status.serial, st.serial, sizeof(st.serial));
			acme->status.not_before = st.not_before;
			acme->status.not_after = st.not_after;
			pthread_mutex_unlock(&acme->lock);
			due = due_time(acme, cert, &ari_next, a, &ari_id);
			X509_free(cert);
		}
		time_t now = time(NULL);
		if (failures == 0) {
			pthread_mutex_lock(&acme->lock);
			acme->status.next_renewal = due > now ? due : now;
			pthread_mutex_unlock(&acme->lock);
			if (due > now) {
				set_state(acme, "valid", NULL);
				publish(acme);
				time_t wake = due < ari_next ? due : ari_next;
				long secs = (long)(wake - now);
				if (secs > 3600)
					secs = 3600; /* look again now and then: the files may change by hand */
				if (secs < 1)
					secs = 1;
				log_debug("event=acme_sleep seconds=%ld", secs);
				if (sleep_for(acme, (int)secs) < 0)
					break;
				continue;
			}
		}
		set_state(acme, "ordering", NULL);
		publish(acme);
		log_info("event=acme_order_start names=%zu reason=%s", acme->nnames,
			 cert == NULL   ? "no-certificate"
			 : failures > 0 ? "retry"
					: "renewal");
		char err[sizeof(acme->status.last_error)];
		int64_t started = mono_now();
		if (order_once(acme, ari_id, err, sizeof(err)) > 0) {
			failures = 0;
			ari_next = 0;
			pthread_mutex_lock(&acme->lock);
			acme->status.last_success = time(NULL);
			acme->status.last_error[0] = '\0';
			pthread_mutex_unlock(&acme->lock);
			log_info("event=acme_installed file=%s seconds=%lld", ACME_CERT_FILE,
				 (long long)(mono_now() - started));
			continue;
		}
		pthread_mutex_lock(&acme->lock);
		bool stop = acme->stopping;
		pthread_mutex_unlock(&acme->lock);
		if (stop)
			break;
		failures++;
		long delay = acme_retry_delay(failures, acme->retry_initial, acme->retry_max, acme->client.retry_after);
		pthread_mutex_lock(&acme->lock);
		acme->status.next_renewal = time(NULL) + delay;
		pthread_mutex_unlock(&acme->lock);
		set_state(acme, "failing", err);
		publish(acme);
		log_error("event=acme_order_failed error=%s failures=%d retry_in=%ld keeping=%s", LOG_Q(err), failures,
			  delay, cert != NULL ? "current-certificate" : "configured-certificate");
		if (sleep_for(acme, (int)delay) < 0)
			break;
	}
	arena_free(&a);
	return NULL;
}

struct acme *acme_start(const struct acme_settings *s, struct tls_challenges *ch, acme_install_fn *install, void *ctx,
			char *err, size_t errlen)
{
	if (s->nnames == 0) {
		snprintf(err, errlen, "no names to order a certificate for");
		return NULL;
	}
	if (mkdir(ACME_DIR, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", ACME_DIR, strerror(errno));
		return NULL;
	}
	struct acme *acme = xcalloc(1, sizeof(*acme));
	if (acme_net_init(&acme->client.net, s->ca_pem, s->timeout_ms, s->response_max, err, errlen) < 0) {
		acme_net_free(&acme->client.net);
		free(acme);
		return NULL;
	}
	acme->client.net.dns = s->dns;
	acme->client.account_key = account_key(err, errlen);
	if (acme->client.account_key == NULL) {
		acme_net_free(&acme->client.net);
		free(acme);
		return NULL;
	}
	acme->client.directory_url = xstrdup(s->directory);
	acme->client.email = xstrdup(s->email != NULL ? s->email : "");
	acme->client.pref = s->challenge == ACME_CHALLENGE_HTTP       ? ACME_CH_HTTP
			    : s->challenge == ACME_CHALLENGE_TLS_ALPN ? ACME_CH_TLS_ALPN
								      : ACME_CH_ANY;
	acme->client.challenges = ch;
	acme->client.poll_max = s->poll_max;
	acme->client.sleep = sleep_for;
	acme->client.sleep_ctx = acme;
	acme->client.retry_after = -1;
	acme->names = xcalloc(s->nnames, sizeof(char *));
	for (size_t i = 0; i < s->nnames; i++)
		acme->names[i] = xstrdup(s->names[i]);
	acme->nnames = s->nnames;
	acme->rsa = s->rsa;
	acme->retry_initial = s->retry_initial;
	acme->retry_max = s->retry_max;
	acme->install = install;
	acme->install_ctx = ctx;
	pthread_mutex_init(&acme->lock, NULL);
	pthread_mutex_init(&acme->files_lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&acme->wake, &ca);
	pthread_condattr_destroy(&ca);
	snprintf(acme->status.state, sizeof(acme->status.state), "starting");
	log_info("event=acme_start directory=%s names=%zu", LOG_Q(s->directory), s->nnames);
	if (pthread_create(&acme->thread, NULL, acme_thread, acme) != 0)
		abort();
	return acme;
}

void acme_stop(struct acme **ap)
{
	struct acme *acme = *ap;
	if (acme == NULL)
		return;
	pthread_mutex_lock(&acme->lock);
	acme->stopping = true;
	pthread_cond_broadcast(&acme->wake);
	pthread_mutex_unlock(&acme->lock);
	acme_net_cancel(&acme->client.net);
	pthread_join(acme->thread, NULL);
	acme_net_free(&acme->client.net);
	EVP_PKEY_free(acme->client.account_key);
	free((char *)acme->client.directory_url);
	free((char *)acme->client.email);
	for (size_t i = 0; i < acme->nnames; i++)
		free(acme->names[i]);
	free(acme->names);
	pthread_cond_destroy(&acme->wake);
	pthread_mutex_destroy(&acme->lock);
	pthread_mutex_destroy(&acme->files_lock);
	free(acme);
	*ap = NULL;
}
