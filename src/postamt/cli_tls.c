/* cli_tls.c: `postamt tls status`: the certificate the listeners present and, with
 * ACME on, its renewal state, as "key: value" lines (acme_status_format). With ACME
 * it prints DIR/tls/acme/status, which the running server's ACME thread rewrites
 * after every step; without, the facts of tls.cert. Works with or without a
 * running server. */
#include "cli.h"

#include "acme.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *in_dir(const struct config *cfg, const char *path)
{
	size_t n = strlen(cfg->data_dir) + strlen(path) + 2;
	char *p = malloc(n);
	if (p == NULL)
		abort();
	snprintf(p, n, "%s/%s", path[0] == '/' ? "" : cfg->data_dir, path);
	return path[0] == '/' ? strcpy(p, path) : p;
}

int cli_tls(struct config *cfg, int argc, char **argv)
{
	if (argc != 1 || strcmp(argv[0], "status") != 0) {
		fprintf(stderr, "postamt: usage: tls status\n");
		return 1;
	}
	char text[4096];
	if (cfg->acme_directory[0] != '\0') {
		char *path = in_dir(cfg, ACME_STATUS_FILE);
		FILE *f = fopen(path, "r");
		free(path);
		if (f != NULL) {
			size_t n = fread(text, 1, sizeof(text) - 1, f);
			fclose(f);
			text[n] = '\0';
			printf("source: acme %s\n%s", cfg->acme_directory, text);
			return 0;
		}
	}
	struct acme_status st = { 0 };
	snprintf(st.state, sizeof(st.state), "%s", cfg->acme_directory[0] ? "starting" : "manual");
	char *cert = in_dir(cfg, cfg->tls_cert);
	int r = acme_status_from_file(cert, &st);
	if (r <= 0) {
		fprintf(stderr, "postamt: %s: %s\n", cert, r == 0 ? "no such file" : "no certificate in it");
		free(cert);
		return 1;
	}
	acme_status_format(&st, text, sizeof(text));
	printf("source: %s\n%s", cert, text);
	free(cert);
	return 0;
}
