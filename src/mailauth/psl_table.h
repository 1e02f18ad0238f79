/* psl_table.h: the public suffix list as a C table, generated at build time by
 * scripts/psl_table.py from Debian's publicsuffix package
 * (/usr/share/publicsuffix/public_suffix_list.dat). Only psl.c reads it.
 *
 * psl_names holds every rule's name (lower case, without "*." or "!"), each ended by
 * a NUL; psl_entries[i] >> 3 is the offset of entry i's name in psl_names and its low
 * three bits are PSL_RULE_* flags. Entries are sorted by the bytes of their names. */
#ifndef POSTAMT_MAILAUTH_PSL_TABLE_H
#define POSTAMT_MAILAUTH_PSL_TABLE_H

#include <stddef.h>
#include <stdint.h>

enum {
	PSL_RULE_NORMAL = 1,    /* "name" */
	PSL_RULE_WILDCARD = 2,  /* "*.name" */
	PSL_RULE_EXCEPTION = 4, /* "!name" */
};

extern const char psl_names[];
extern const uint32_t psl_entries[];
extern const size_t psl_nentries;

#endif
