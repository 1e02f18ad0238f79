/* test_cli_admin.c: the admin sub-commands of cli_admin.c against a real store: init,
 * domain add/list, user add (password from stdin, --quota), duplicate and unknown
 * domain errors with exit status 1, user list output, quota, passwd, del, alias. */
#include "helpers.h"

#include "auth.h"
#include "cli.h"

static char dir[256];
static char outpath[300], inpath[300];

static int run(int (*fn)(const struct config *, int, char **), const char *stdin_text, int argc,
	       ...)
{
	struct config cfg = { .data_dir = dir };
	char *argv[16];
	va_list ap;
	va_start(ap, argc);
	for (int i = 0; i < argc; i++)
		argv[i] = va_arg(ap, char *);
	va_end(ap);
	FILE *in = fopen(inpath, "w");
	fputs(stdin_text ? stdin_text : "", in);
	fclose(in);
	fflush(stdout);
	assert_non_null(freopen(inpath, "r", stdin));
	int saved = dup(1);
	FILE *out = fopen(outpath, "w");
	dup2(fileno(out), 1);
	int r = fn(&cfg, argc, argv);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	fclose(out);
	return r;
}

static char *output(void)
{
	static char buf[4096];
	FILE *f = fopen(outpath, "r");
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void test_cli(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/postamt-cli-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(outpath, sizeof(outpath), "%s/out.txt", dir);
	snprintf(inpath, sizeof(inpath), "%s/in.txt", dir);
	struct config cfg = { .data_dir = dir };
	assert_int_equal(cli_init_store(&cfg, "example.test"), 0);

	assert_int_equal(run(cli_domain, NULL, 1, "list"), 0);
	assert_string_equal(output(), "example.test\n");
	assert_int_equal(run(cli_domain, NULL, 2, "add", "second.test"), 0);
	assert_int_equal(run(cli_domain, NULL, 2, "add", "second.test"), 1);
	assert_int_equal(run(cli_domain, NULL, 2, "add", "bad domain"), 1);

	assert_int_equal(run(cli_user, "s3cret pass\n", 4, "add", "demo@Example.test", "--quota", "10M"), 0);
	assert_int_equal(run(cli_user, "x\n", 2, "add", "demo@example.test"), 1);   /* duplicate */
	assert_int_equal(run(cli_user, "x\n", 2, "add", "u@nowhere.test"), 1);       /* domain */
	assert_int_equal(run(cli_user, "x\n", 2, "add", "not-an-address"), 1);
	assert_int_equal(run(cli_user, "", 2, "add", "nopw@example.test"), 1);        /* no password */
	assert_int_equal(run(cli_user, "x\n", 4, "add", "q@example.test", "--quota", "lots"), 1);
	assert_int_equal(run(cli_user, "x\n", 1, "add"), 1);
	assert_int_equal(run(cli_user, "pw\r\n", 2, "add", "b@second.test"), 0);

	assert_int_equal(run(cli_user, NULL, 1, "list"), 0);
	assert_string_equal(output(), "b@second.test\tquota=unlimited\tusage=0\tmessages=0\n"
				      "demo@example.test\tquota=10M\tusage=0\tmessages=0\n");

	/* the stored hash verifies the password from stdin (first line only, no CR/LF) */
	struct store *s = open_in(dir, false);
	struct arena *a = arena_new();
	struct store_account acct;
	const char *err;
	assert_int_equal(store_account_get(s, a, "demo@example.test", &acct, &err), 1);
	assert_int_equal(auth_password_verify(acct.password_hash, "s3cret pass", &err), 1);
	/* and a SCRAM-SHA-256 secret was made with it (auth.scram_iterations' default) */
	assert_non_null(acct.scram);
	assert_memory_equal(acct.scram, "SCRAM-SHA-256$10000:", 20);
	const char *old_scram = arena_strdup(a, acct.scram);
	assert_int_equal(store_account_get(s, a, "b@second.test", &acct, &err), 1);
	assert_int_equal(auth_password_verify(acct.password_hash, "pw", &err), 1);
	store_close(&s);

	assert_int_equal(run(cli_user, "newpw\n", 2, "passwd", "demo@example.test"), 0);
	assert_int_equal(run(cli_user, "newpw\n", 2, "passwd", "ghost@example.test"), 1);
	assert_int_equal(run(cli_user, NULL, 3, "quota", "demo@example.test", "0"), 0);
	assert_int_equal(run(cli_user, NULL, 3, "quota", "demo@example.test", "1X"), 1);
	assert_int_equal(run(cli_user, NULL, 3, "quota", "ghost@example.test", "1G"), 1);
	s = open_in(dir, false);
	assert_int_equal(store_account_get(s, a, "demo@example.test", &acct, &err), 1);
	assert_int_equal(auth_password_verify(acct.password_hash, "newpw", &err), 1);
	assert_int_equal(acct.quota, 0);
	assert_non_null(acct.scram);
	assert_string_not_equal(acct.scram, old_scram);
	/* a secret is stored only for the hash it was made with; a new password drops it */
	assert_int_equal(store_account_set_scram(s, acct.id, "$y$other", "SCRAM-SHA-256$x", &err), 0);
	assert_int_equal(store_account_set_scram(s, acct.id, acct.password_hash, "SCRAM-SHA-256$x", &err), 1);
	assert_int_equal(store_account_get(s, a, "demo@example.test", &acct, &err), 1);
	assert_string_equal(acct.scram, "SCRAM-SHA-256$x");
	assert_int_equal(store_account_set_password(s, "demo@example.test", "$y$new", &err), 1);
	assert_int_equal(store_account_get(s, a, "demo@example.test", &acct, &err), 1);
	assert_null(acct.scram);
	store_close(&s);

	assert_int_equal(run(cli_alias, NULL, 4, "add", "team@example.test", "demo@example.test",
			     "b@second.test"), 0);
	assert_int_equal(run(cli_alias, NULL, 2, "add", "team@example.test"), 1);
	assert_int_equal(run(cli_alias, NULL, 3, "add", "demo@example.test", "b@second.test"), 1);
	s = open_in(dir, false);
	struct store_rcpt rc;
	assert_int_equal(store_resolve(s, a, "team@example.test", &rc, &err), 1);
	assert_int_equal(rc.naccounts, 2);
	store_close(&s);

	assert_int_equal(run(cli_user, NULL, 2, "del", "demo@example.test"), 0);
	assert_int_equal(run(cli_user, NULL, 2, "del", "demo@example.test"), 1);
	assert_int_equal(run(cli_user, NULL, 1, "frobnicate"), 1);
	assert_int_equal(run(cli_user, NULL, 1, "list"), 0);
	assert_string_equal(output(), "b@second.test\tquota=unlimited\tusage=0\tmessages=0\n");
	arena_free(&a);
	rm_rf(dir);
}

/* Counts lines of the last output that contain needle. */
static int lines_with(const char *needle)
{
	int n = 0;
	for (const char *p = output(); (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

/* init and domain add make a key pair; dkim rotate adds one; dkim retire refuses the
 * signing keys and removes an older one; dkim list shows the TXT records. */
static void test_cli_dkim(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/postamt-cli-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(outpath, sizeof(outpath), "%s/out.txt", dir);
	snprintf(inpath, sizeof(inpath), "%s/in.txt", dir);
	struct config cfg = { .data_dir = dir };
	assert_int_equal(cli_init_store(&cfg, "example.test"), 0);
	assert_int_equal(run(cli_dkim, NULL, 2, "list", "example.test"), 0);
	assert_int_equal(lines_with(" signing v=DKIM1; k="), 2);
	assert_int_equal(run(cli_domain, NULL, 2, "add", "second.test"), 0);
	assert_int_equal(run(cli_dkim, NULL, 2, "list", "second.test"), 0);
	assert_int_equal(lines_with(" ed25519 signing v=DKIM1; k=ed25519; p="), 1);
	assert_int_equal(lines_with(" rsa signing v=DKIM1; k=rsa; p=MII"), 1);
	char ed_old[32];
	assert_int_equal(sscanf(output(), "%31s", ed_old), 1);
	assert_int_equal(ed_old[0], 'e');

	assert_int_equal(run(cli_dkim, NULL, 2, "rotate", "second.test"), 0);
	assert_int_equal(run(cli_dkim, NULL, 2, "list", "second.test"), 0);
	assert_int_equal(lines_with(" signing "), 2);
	assert_int_equal(lines_with(" published "), 2);
	char ed_new[32];
	assert_int_equal(sscanf(output(), "%31s", ed_new), 1);
	assert_true(strcmp(ed_new, ed_old) > 0); /* same day: a suffix letter */
	assert_int_equal(strlen(ed_new), strlen(ed_old) + 1);

	assert_int_equal(run(cli_dkim, NULL, 3, "retire", "second.test", ed_new), 1); /* signs */
	assert_int_equal(run(cli_dkim, NULL, 3, "retire", "second.test", ed_old), 0);
	assert_int_equal(run(cli_dkim, NULL, 3, "retire", "second.test", ed_old), 1); /* gone */
	assert_int_equal(run(cli_dkim, NULL, 2, "list", "second.test"), 0);
	assert_int_equal(lines_with(" ed25519 "), 1);
	assert_int_equal(run(cli_dkim, NULL, 2, "rotate", "nowhere.test"), 1); /* not local */
	assert_int_equal(run(cli_dkim, NULL, 1, "rotate"), 1);
	char path[512];
	snprintf(path, sizeof(path), "%s/dkim/second.test/%s.pem", dir, ed_new);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	rm_rf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cli),
		cmocka_unit_test(test_cli_dkim),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
