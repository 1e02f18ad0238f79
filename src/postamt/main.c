/* main.c: the postamt command line (DESIGN.md §1).
 *
 *   postamt [-d DIR | --data DIR] COMMAND ...
 *
 * DIR defaults to $POSTAMT_DATA, then ./postamt-data. Every command exits 0 on success
 * and 1 with a one-line message on stderr otherwise. */
#include "cli.h"
#include "cli_backup.h"
#include "cli_dns.h"
#include "cli_queue.h"
#include "import.h"
#include "config.h"
#include "serve.h"

#include "arena.h"
#include "buf.h"
#include "tls.h"

#include <dirent.h>
#include <openssl/ssl.h>
#include <stdarg.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage_text[] =
	"usage: postamt [-d DIR | --data DIR] COMMAND ...\n"
	"  init [--domain D] [--hostname H] [--port-offset N] [--bind ADDR] [--store postgresql://...]\n"
	"  serve\n"
	"  user add ADDRESS [--quota SIZE] [--admin] | user passwd ADDRESS | user del ADDRESS\n"
	"  user list | user quota ADDRESS SIZE | user logout ADDRESS\n"
	"  user junk ADDRESS [--on|--off] | user admin ADDRESS on|off\n"
	"  domain add D | domain del D | domain list\n"
	"  alias add ADDRESS TARGET... | alias del ADDRESS | alias list\n"
	"  queue list | queue flush | queue delete ID\n"
	"  dkim rotate D | dkim retire D SELECTOR | dkim list D\n"
	"  import ADDRESS SOURCE [--folder NAME] [--ca FILE] [--insecure]\n"
	"                      SOURCE: a Maildir, an mbox file, imap[s]://USER@HOST:PORT\n"
	"  export ADDRESS DEST [--mbox [--folder NAME]]\n"
	"  dns D [--check]\n"
	"  tls status\n"
	"  index rebuild [ADDRESS] | index status\n"
	"  backup DEST [--since PREVIOUS] | restore SRC | verify [--repair] | upgrade [--dry-run]\n"
	"  check\n"
	"  sieve check FILE | sieve test FILE MESSAGE [--from A] [--to A] [--spam N] [--mailbox M]...\n"
	"  version\n"
	"DIR defaults to $POSTAMT_DATA, then ./postamt-data.\n";

/* A usage error: one line on stderr (DESIGN.md §1), exit status 1. */
static int usage(const char *msg)
{
	fprintf(stderr, "postamt: %s; usage: postamt [-d DIR] COMMAND ... (postamt --help lists the commands)\n",
		msg != NULL ? msg : "bad arguments");
	return 1;
}

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("postamt: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return 1;
}

static char *conf_path_of(const char *dir)
{
	return xasprintf("%s/postamt.conf", dir);
}

/* Loads DIR/postamt.conf; prints the error and returns NULL on failure. */
static struct config *load_config(const char *dir)
{
	char real[PATH_MAX];
	if (realpath(dir, real) == NULL) {
		fail("%s: %s (create it with 'postamt init')", dir, strerror(errno));
		return NULL;
	}
	char *path = conf_path_of(real);
	struct config *cfg;
	char *error;
	if (config_load(real, path, &cfg, &error) < 0) {
		fail("%s", error);
		free(error);
		free(path);
		return NULL;
	}
	free(path);
	return cfg;
}

static bool dir_is_empty(const char *dir)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return false;
	struct dirent *e;
	bool empty = true;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
			empty = false;
			break;
		}
	}
	closedir(d);
	return empty;
}

static bool name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-'))
			return false;
	}
	return s[0] != '.' && s[0] != '-' && s[n - 1] != '.';
}

static int write_text_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "wx");
	if (f == NULL)
		return -1;
	fchmod(fileno(f), mode);
	bool ok = fputs(text, f) >= 0 && fflush(f) == 0 && fsync(fileno(f)) == 0;
	return fclose(f) == 0 && ok ? 1 : -1;
}

static int cmd_init(const char *dir, int argc, char **argv)
{
	const char *domain = "example.test", *hostname = NULL, *bind = "", *store = NULL;
	long port_offset = geteuid() == 0 ? 0 : 10000;
	static const struct option opts[] = {
		{ "domain", required_argument, NULL, 'D' },
		{ "hostname", required_argument, NULL, 'H' },
		{ "port-offset", required_argument, NULL, 'p' },
		{ "bind", required_argument, NULL, 'b' },
		{ "store", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'D': domain = optarg; break;
		case 'H': hostname = optarg; break;
		case 'b': bind = optarg; break;
		case 's': store = optarg; break;
		case 'p': {
			uint64_t v;
			if (buf_parse_uint64(BYTES_STR(optarg), 65000, &v) < 0)
				return usage("--port-offset takes a number from 0 to 65000");
			port_offset = (long)v;
			break;
		}
		default: return usage(NULL);
		}
	}
	if (optind != argc)
		return usage("init takes no positional arguments");
	char host[256];
	if (hostname == NULL) {
		if (gethostname(host, sizeof(host)) != 0 || !name_ok(host))
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
		hostname = host;
	}
	if (!name_ok(hostname))
		return fail("invalid --hostname '%s'", hostname);
	if (PORT_POP3S + port_offset > 65535)
		return fail("--port-offset %ld puts the highest port (%ld) beyond 65535", port_offset,
			    PORT_POP3S + port_offset);
	if (!name_ok(domain) || strchr(domain, '.') == NULL)
		return fail("invalid --domain '%s'", domain);
	/* --store: a PostgreSQL database shared by several nodes (docs/cluster.md); a
	 * connection string goes into the config file on one line */
	if (store != NULL && (strncmp(store, "postgresql://", 13) != 0 && strncmp(store, "postgres://", 11) != 0))
		return fail("--store takes a postgresql:// URI");
	if (store != NULL && strpbrk(store, "\r\n") != NULL)
		return fail("invalid --store");
	struct stat st;
	if (stat(dir, &st) == 0 && !(S_ISDIR(st.st_mode) && dir_is_empty(dir)))
		return fail("%s already exists; refusing to overwrite it", dir);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return fail("cannot create %s: %s", dir, strerror(errno));
	char real[PATH_MAX];
	if (realpath(dir, real) == NULL)
		return fail("%s: %s", dir, strerror(errno));

	char *tlsdir = xasprintf("%s/tls", real);
	char *cert = xasprintf("%s/cert.pem", tlsdir);
	char *key = xasprintf("%s/key.pem", tlsdir);
	char *conf = conf_path_of(real);
	int status = 1;
	char err[512];
	struct config *cfg = NULL;
	if (mkdir(tlsdir, 0700) < 0) {
		fail("cannot create %s: %s", tlsdir, strerror(errno));
		goto out;
	}
	if (tls_write_self_signed(cert, key, hostname, err, sizeof(err)) < 0) {
		fail("%s", err);
		goto out;
	}
	char *text = xasprintf("# postamt configuration; see docs/configuration.md for every key.\n"
			       "hostname = %s\n"
			       "bind = %s\n"
			       "port_offset = %ld\n"
			       "tls.cert = tls/cert.pem\n"
			       "tls.key = tls/key.pem\n"
			       "%s%s%s"
			       "# Deliver mail for a domain to a fixed SMTP server instead of its MX:\n"
			       "# route.example.org = 192.0.2.1:25\n"
			       "# route.* = smarthost.example.net:587\n",
			       hostname, bind, port_offset, store ? "store.backend = postgresql\nstore.postgresql = " : "",
			       store ? store : "", store ? "\n" : "");
	int w = write_text_file(conf, text, 0600);
	free(text);
	if (w < 0) {
		fail("cannot write %s: %s", conf, strerror(errno));
		goto out;
	}
	char *error;
	if (config_load(real, conf, &cfg, &error) < 0) {
		fail("%s", error);
		free(error);
		goto out;
	}
	if (cli_init_store(cfg, domain) != 0)
		goto out;
	if (backup_give_to(real, cfg->user) < 0)
		fprintf(stderr, "postamt: warning: could not give %s to user %s: %s\n", real, cfg->user, strerror(errno));
	printf("Created %s for domain %s (hostname %s, port offset %ld).\n", real, domain, hostname, port_offset);
	status = 0;
out:
	config_free(&cfg);
	free(tlsdir);
	free(cert);
	free(key);
	free(conf);
	return status;
}

static int cmd_check(const char *dir)
{
	struct config *cfg = load_config(dir);
	if (cfg == NULL)
		return 1;
	char *problems;
	int n = config_check(cfg, true, &problems);
	if (n > 0) {
		fprintf(stderr, "%s", problems);
		free(problems);
		config_free(&cfg);
		return 1;
	}
	char err[512];
	SSL_CTX *ctx = tls_server_ctx_new(cfg->tls_cert, cfg->tls_key, err, sizeof(err));
	if (ctx == NULL) {
		fail("%s", err);
		config_free(&cfg);
		return 1;
	}
	SSL_CTX_free(ctx);
	printf("%s/postamt.conf: OK\n", cfg->data_dir);
	config_free(&cfg);
	return 0;
}

int main(int argc, char **argv)
{
	/* every file a command creates in DIR (database, blobs, queue, keys) is for the
	 * server's user alone: the database holds the password hashes */
	umask(077);
	const char *dir = getenv("POSTAMT_DATA");
	if (dir == NULL || dir[0] == '\0')
		dir = "./postamt-data";
	int i = 1;
	while (i < argc && argv[i][0] == '-') {
		if ((strcmp(argv[i], "-d") == 0 || strcmp(argv[i], "--data") == 0) && i + 1 < argc) {
			dir = argv[i + 1];
			i += 2;
		} else if (strncmp(argv[i], "--data=", 7) == 0) {
			dir = argv[i] + 7;
			i++;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			fputs(usage_text, stdout);
			return 0;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("postamt %s\n", POSTAMT_VERSION);
			return 0;
		} else {
			return usage("unknown option");
		}
	}
	if (i >= argc)
		return usage("missing command");
	const char *cmd = argv[i];
	int sub_argc = argc - i;
	char **sub_argv = argv + i;
	if (strcmp(cmd, "version") == 0) {
		if (sub_argc != 1)
			return usage("version takes no arguments");
		printf("postamt %s\n", POSTAMT_VERSION);
		return 0;
	}
	if (strcmp(cmd, "init") == 0)
		return cmd_init(dir, sub_argc, sub_argv);
	if (strcmp(cmd, "sieve") == 0) /* files only: no data directory */
		return cli_sieve(sub_argc - 1, sub_argv + 1);
	if (strcmp(cmd, "check") == 0) {
		if (sub_argc != 1)
			return usage("check takes no arguments");
		return cmd_check(dir);
	}
	if (strcmp(cmd, "restore") == 0) /* DIR has no configuration yet */
		return cli_restore(dir, sub_argc, sub_argv);
	if (strcmp(cmd, "backup") == 0 || strcmp(cmd, "verify") == 0 || strcmp(cmd, "upgrade") == 0) {
		struct config *bcfg = load_config(dir);
		if (bcfg == NULL)
			return 1;
		int st = strcmp(cmd, "backup") == 0   ? cli_backup(bcfg, sub_argc, sub_argv)
			 : strcmp(cmd, "verify") == 0 ? cli_verify(bcfg, sub_argc, sub_argv)
						      : cli_upgrade(bcfg, sub_argc, sub_argv);
		config_free(&bcfg);
		return st;
	}
	bool known = strcmp(cmd, "serve") == 0 || strcmp(cmd, "user") == 0 || strcmp(cmd, "domain") == 0 ||
		     strcmp(cmd, "alias") == 0 || strcmp(cmd, "queue") == 0 || strcmp(cmd, "dkim") == 0 ||
		     strcmp(cmd, "dns") == 0 || strcmp(cmd, "tls") == 0 ||
		     strcmp(cmd, "index") == 0 || strcmp(cmd, "import") == 0 ||
		     strcmp(cmd, "export") == 0;
	if (!known)
		return usage("unknown command");
	if (strcmp(cmd, "serve") == 0 && sub_argc != 1)
		return usage("serve takes no arguments");
	if (strcmp(cmd, "dns") == 0 && (sub_argc < 2 || sub_argc > 3))
		return usage("dns takes a domain and --check");
	struct config *cfg = load_config(dir);
	if (cfg == NULL)
		return 1;
	int status;
	if (strcmp(cmd, "serve") == 0) {
		char *path = conf_path_of(cfg->data_dir);
		status = serve_run(cfg, path); /* takes cfg */
		free(path);
		return status;
	}
	if (strcmp(cmd, "tls") == 0) {
		status = cli_tls(cfg, sub_argc - 1, sub_argv + 1);
		config_free(&cfg);
		return status;
	}
	if (strcmp(cmd, "dns") == 0) {
		status = cli_dns(cfg, sub_argc - 1, sub_argv + 1);
		config_free(&cfg);
		return status;
	}
	if (strcmp(cmd, "import") == 0 || strcmp(cmd, "export") == 0) {
		status = strcmp(cmd, "import") == 0 ? cli_import(cfg, sub_argc, sub_argv) : cli_export(cfg, sub_argc, sub_argv);
		config_free(&cfg);
		return status;
	}
	/* the admin commands get the sub-command and its arguments */
	static const char *const user_subs[] = { "add", "passwd", "del", "list", "quota", "logout", "junk", "admin",
						 NULL };
	static const char *const domain_subs[] = { "add", "del", "list", NULL };
	static const char *const alias_subs[] = { "add", "del", "list", NULL };
	static const char *const queue_subs[] = { "list", "flush", "delete", NULL };
	static const char *const dkim_subs[] = { "rotate", "retire", "list", NULL };
	static const char *const index_subs[] = { "rebuild", "status", NULL };
	const char *const *subs = strcmp(cmd, "user") == 0     ? user_subs
				  : strcmp(cmd, "domain") == 0 ? domain_subs
				  : strcmp(cmd, "queue") == 0  ? queue_subs
				  : strcmp(cmd, "dkim") == 0   ? dkim_subs
				  : strcmp(cmd, "index") == 0  ? index_subs
							       : alias_subs;
	bool sub_known = false;
	for (size_t k = 0; sub_argc >= 2 && subs[k] != NULL; k++)
		sub_known |= strcmp(sub_argv[1], subs[k]) == 0;
	if (!sub_known) {
		config_free(&cfg);
		return usage(sub_argc < 2 ? "missing sub-command" : "unknown sub-command");
	}
	if (strcmp(cmd, "user") == 0)
		status = cli_user(cfg, sub_argc - 1, sub_argv + 1);
	else if (strcmp(cmd, "domain") == 0)
		status = cli_domain(cfg, sub_argc - 1, sub_argv + 1);
	else if (strcmp(cmd, "queue") == 0)
		status = cli_queue(cfg, sub_argc - 1, sub_argv + 1);
	else if (strcmp(cmd, "dkim") == 0)
		status = cli_dkim(cfg, sub_argc - 1, sub_argv + 1);
	else if (strcmp(cmd, "index") == 0)
		status = cli_index(cfg, sub_argc - 1, sub_argv + 1);
	else
		status = cli_alias(cfg, sub_argc - 1, sub_argv + 1);
	config_free(&cfg);
	return status;
}
