/* serve_tls.c: the listeners' certificate and the ACME client's wiring (see
 * serve_tls.h). */
#include "serve_tls.h"

#include "arena.h"
#include "conn.h"
#include "log.h"
#include "tls.h"
#include "tls_challenge.h"

#include <errno.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Bytes of acme.ca_file at most. */
#define CA_FILE_MAX (1024 * 1024)

int serve_tls_init(struct serve_tls *t, const struct config *cfg, char *err, size_t errlen)
{
	*t = (struct serve_tls){ .challenges = tls_challenges_new(), .acme_on = cfg->acme_directory[0] != '\0' };
	tls_challenges_set_port(t->challenges, config_port(cfg, PORT_HTTPS));
	if (!t->acme_on || cfg->acme_ca_file[0] == '\0')
		return 1;
	FILE *f = fopen(cfg->acme_ca_file, "r");
	if (f == NULL) {
		snprintf(err, errlen, "acme.ca_file %s: %s", cfg->acme_ca_file, strerror(errno));
		return -1;
	}
	t->ca_pem = xmalloc(CA_FILE_MAX + 1);
	size_t n = fread(t->ca_pem, 1, CA_FILE_MAX + 1, f);
	fclose(f);
	if (n > CA_FILE_MAX) {
		snprintf(err, errlen, "acme.ca_file %s: larger than 1 MiB", cfg->acme_ca_file);
		return -1;
	}
	t->ca_pem[n] = '\0';
	return 1;
}

static SSL_CTX *ctx_from(struct serve_tls *t, const char *cert, const char *key, char *err, size_t errlen)
{
	SSL_CTX *ctx = tls_server_ctx_new(cert, key, err, errlen);
	if (ctx != NULL)
		tls_server_ctx_use_challenges(ctx, t->challenges);
	return ctx;
}

SSL_CTX *serve_tls_ctx(struct serve_tls *t, const struct config *cfg, char *err, size_t errlen)
{
	if (t->acme_on && access(ACME_CERT_FILE, F_OK) == 0) {
		if (t->acme != NULL)
			acme_files_lock(t->acme); /* a reload while the ACME thread renews */
		SSL_CTX *ctx = ctx_from(t, ACME_CERT_FILE, ACME_KEY_FILE, err, errlen);
		if (t->acme != NULL)
			acme_files_unlock(t->acme);
		if (ctx != NULL) {
			log_info("event=tls_certificate source=acme file=%s", ACME_CERT_FILE);
			return ctx;
		}
		log_warn("event=tls_acme_certificate_unusable error=%s using=%s", LOG_Q(err), cfg->tls_cert);
	}
	return ctx_from(t, cfg->tls_cert, cfg->tls_key, err, errlen);
}

/* acme_install_fn: on the ACME thread */
static int install(void *ctx, const char *cert_path, const char *key_path, const char **error_r)
{
	struct serve_tls *t = ctx;
	SSL_CTX *tls = ctx_from(t, cert_path, key_path, t->install_error, sizeof(t->install_error));
	if (tls == NULL) {
		*error_r = t->install_error;
		return -1;
	}
	conn_shared_set_tls(t->shared, tls); /* new handshakes on every listener from now on */
	SSL_CTX_free(tls);
	log_info("event=tls_certificate_installed source=acme file=%s", cert_path);
	return 1;
}

int serve_tls_start_acme(struct serve_tls *t, const struct config *cfg, char *err, size_t errlen)
{
	if (!t->acme_on)
		return 1;
	/* hostname first, then acme.names without repeats */
	char *names_buf = xstrdup(cfg->acme_names);
	const char *names[100];
	size_t n = 0;
	names[n++] = cfg->hostname;
	for (char *save, *tok = strtok_r(names_buf, ", \t", &save); tok != NULL && n < 100;
	     tok = strtok_r(NULL, ", \t", &save)) {
		bool dup = false;
		for (size_t i = 0; i < n; i++)
			dup = dup || strcasecmp(names[i], tok) == 0;
		if (!dup)
			names[n++] = tok;
	}
	struct acme_settings s = {
		.directory = cfg->acme_directory,
		.email = cfg->acme_email,
		.ca_pem = t->ca_pem,
		.dns = t->dns,
		.names = names,
		.nnames = n,
		.challenge = strcmp(cfg->acme_challenge, "http-01") == 0       ? ACME_CHALLENGE_HTTP
			     : strcmp(cfg->acme_challenge, "tls-alpn-01") == 0 ? ACME_CHALLENGE_TLS_ALPN
									       : ACME_CHALLENGE_ANY,
		.rsa = strcmp(cfg->acme_key_type, "rsa") == 0,
		.timeout_ms = (int)cfg->acme_timeout * 1000,
		.response_max = (size_t)cfg->acme_response_max,
		.retry_initial = (int)cfg->acme_retry_initial,
		.retry_max = (int)cfg->acme_retry_max,
		.poll_max = (int)cfg->acme_poll_max,
	};
	t->acme = acme_start(&s, t->challenges, install, t, err, errlen);
	free(names_buf);
	return t->acme != NULL ? 1 : -1;
}

int serve_tls_status(struct serve_tls *t, const struct config *cfg, struct acme_status *st)
{
	if (t->acme != NULL)
		return acme_status(t->acme, st);
	*st = (struct acme_status){ 0 };
	snprintf(st->state, sizeof(st->state), "manual");
	return acme_status_from_file(cfg->tls_cert, st) > 0 ? 1 : -1;
}

void serve_tls_stop(struct serve_tls *t)
{
	acme_stop(&t->acme);
}

void serve_tls_free(struct serve_tls *t)
{
	acme_stop(&t->acme);
	tls_challenges_free(&t->challenges);
	free(t->ca_pem);
	t->ca_pem = NULL;
}
