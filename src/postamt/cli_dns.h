/* cli_dns.h: the DNS records a domain needs (`postamt dns D`), built from the
 * configuration and the domain's DKIM keys, formatted as zone-file lines and compared
 * with what DNS answers (`postamt dns D --check`). cli_dns_records.c is pure (no
 * sockets, no files); dns_records.c reads the keys and asks DNS, for the command and
 * the admin API; cli_dns.c is the command. */
#ifndef POSTAMT_CLI_DNS_H
#define POSTAMT_CLI_DNS_H

#include "arena.h"
#include "buf.h"
#include "dns.h"

#include <stdbool.h>
#include <stddef.h>

/* One record. Names are fully qualified without the trailing dot (the formatter adds
 * it). */
struct dns_rec {
	const char *name;
	int type;              /* DNS_MX, DNS_TXT, DNS_SRV, DNS_CNAME */
	const char *what;      /* what it is for, in comments and --check lines ("SPF", "DKIM e20261207") */
	unsigned pref;         /* MX preference; SRV priority */
	unsigned weight, port; /* SRV */
	const char *target;    /* MX host, SRV target, CNAME target */
	const char *text;      /* TXT */
	const char *tag;       /* TXT: how our record starts ("v=spf1"), to tell it among other TXT records
	                     * of the same name; NULL: the name holds only ours */
	bool comment;          /* printed commented out (not published by default, not checked) */
	const char *note;      /* a comment line printed before it, or NULL */
};

/* What the records are made of. */
struct dns_rec_input {
	const char *domain;                /* lower case, no trailing dot */
	const char *hostname;              /* the `hostname` key: MX target, SRV targets, SPF a: */
	unsigned port_offset;              /* listeners are the standard ports plus this */
	const char *relay;                 /* route.* (HOST:PORT) when everything leaves through a relay, or NULL */
	const char *const *dkim_selectors; /* the domain's DKIM keys, n_dkim of them */
	const char *const *dkim_txt;       /* their TXT record text (dkim_key.h) */
	size_t n_dkim;
	const char *mta_sts_mode;          /* mta_sts.mode: testing, enforce or none */
	uint32_t mta_sts_max_age;          /* mta_sts.max_age */
};

/* The TTL of every record printed. */
#define DNS_REC_TTL 3600

/* Builds the records of in->domain in a. Returns the number of records (> 0). */
size_t dns_records_build(const struct dns_rec_input *in, struct arena *a, struct dns_rec **recs_r);

/* Appends r as one zone-file line `NAME TTL IN TYPE DATA\n` (commented out with "; "
 * when r->comment; its note first as a "; " line). TXT data is written as quoted
 * strings of at most 255 bytes each, `"` and `\` escaped, other bytes outside
 * printable ASCII as \DDD. */
void dns_record_format(const struct dns_rec *r, struct buf *out);

/* How a record compares with an answer. */
enum dns_rec_state { DNS_REC_OK = 0, DNS_REC_MISSING, DNS_REC_DIFFERENT };

/* Compares r with the answer to (r->name, r->type) (or, for a CNAME, to its A/AAAA
 * fallbacks: see dns_records.c). TXT: among the records that start with r->tag (all when
 * NULL) one must equal r->text, runs of white space counted as one (DKIM: white space
 * ignored), case-insensitively except DKIM's key data; MX: one record with r's
 * preference and host; SRV: one with r's port and target; CNAME: its target. Names
 * compare case-insensitively. When different, *found_r is what DNS has (in a, for the
 * message). */
enum dns_rec_state dns_record_compare(const struct dns_rec *r, const struct dns_answer *ans, struct arena *a,
				      const char **found_r);

/* The records of domain from cfg and its DKIM keys under dir_fd (dns_records.c). Returns
 * 1 with the records in a (and how many DKIM keys it has in *nkeys_r unless NULL), or
 * -1 with *error_r. */
struct config;
struct store;
/* store: where the DKIM keys are (dkim_keys.h; NULL: the files under dir_fd). */
int dns_records_for(const struct config *cfg, struct store *store, int dir_fd, const char *domain, struct arena *a,
		    struct dns_rec **recs_r, size_t *n_r, size_t *nkeys_r, const char **error_r);
/* One record's check: its state, what DNS has when different, the DNS error. */
struct dns_rec_result {
	enum dns_rec_state state;
	const char *found; /* in a, or NULL */
	const char *error; /* in a: the question failed (then state is MISSING), or NULL */
};
/* Asks d (blocking, dns_query_wait) for each record that is not commented out and
 * compares; out[i] for recs[i] (commented ones are DNS_REC_OK). Returns how many are
 * not ok. For `dns --check` and the admin API. */
size_t dns_records_check(struct dns *d, const struct dns_rec *recs, size_t n, struct arena *a,
			 struct dns_rec_result *out);
/* Whether name's A (or AAAA, by ad's family) records include ad: asks d, blocking;
 * false on any DNS error (dns_records.c). */
bool dns_records_resolves_to(struct dns *d, const char *name, const struct dns_addr *ad, struct arena *a);

/* `postamt dns D [--check]` (cli_dns.c): argv[0] is D. */
struct config;
int cli_dns(const struct config *cfg, int argc, char **argv);

#endif
