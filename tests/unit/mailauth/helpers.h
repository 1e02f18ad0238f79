/* helpers.h: what the DKIM tests share: a DNS table in memory (struct mailauth_dns),
 * file reading, a temporary directory. */
#ifndef TEST_MAILAUTH_HELPERS_H
#define TEST_MAILAUTH_HELPERS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dkim.h"

/* TXT records by name; a name equal to temp_name answers MAILAUTH_DNS_TEMP. */
struct dns_table {
	const char *names[16];
	const char *txt[16];
	size_t n;
	const char *temp_name;
	char *owned; /* the text of dns.txt, when loaded */
};
void dns_table_add(struct dns_table *t, const char *name, const char *txt);
/* Loads GOLDEN_DIR/dns.txt ("NAME<TAB>TXT" lines); dns_table_free releases it. */
void dns_table_load_golden(struct dns_table *t);
void dns_table_free(struct dns_table *t);
struct mailauth_dns dns_of(struct dns_table *t);
/* Reads GOLDEN_DIR/name into a heap string; *len_r its length. */
char *read_golden(const char *name, size_t *len_r);
void rm_rf(const char *dir);

#endif
