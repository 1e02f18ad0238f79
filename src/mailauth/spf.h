/* spf.h: Sender Policy Framework (RFC 7208), the check of a client's right to use a
 * domain in MAIL FROM or HELO.
 *
 * spf_check() is the whole of RFC 7208's check_host() plus the choice of the identity
 * (§2.3, §2.4): the MAIL FROM domain, or for the null sender "postmaster@" the HELO
 * name. It is pure: every DNS question goes through the caller's struct mailauth_dns,
 * every byte it returns lives in the caller's arena. It blocks as long as the DNS
 * callbacks block (at most `dns_mechanisms` + 1 TXT questions, each mechanism's A/MX/
 * PTR questions bounded by the limits below), so the pipeline calls it on a pool
 * thread. Thread-safe as long as the DNS callbacks are.
 *
 * The record parser and the macro expander it is built on are in spf_record.h and
 * spf_macro.h (exported for the fuzz targets and the unit tests). */
#ifndef POSTAMT_MAILAUTH_SPF_H
#define POSTAMT_MAILAUTH_SPF_H

#include "arena.h"
#include "mailauth.h"

#include <stdint.h>

/* Which identity was checked (RFC 7208 §2.3, §2.4; RFC 8601 `smtp.mailfrom` or `smtp.helo`). */
enum spf_identity {
	SPF_IDENTITY_MAILFROM = 0,
	SPF_IDENTITY_HELO,
};

/* The processing limits of RFC 7208 §4.6.4. The RFC fixes them at these values; they
 * are settable so that an administrator can follow a later change without a release
 * (config keys spf.*, docs/configuration.md). */
struct spf_limits {
	unsigned dns_mechanisms; /* include a mx ptr exists redirect per check: 10 */
	unsigned void_lookups;   /* DNS answers with no record (NXDOMAIN or NODATA): 2 */
	unsigned mx_names;       /* MX names looked up per mx mechanism: 10 */
	unsigned ptr_names;      /* PTR names validated per ptr mechanism or %{p}: 10 */
};

#define SPF_DEFAULT_DNS_MECHANISMS 10
#define SPF_DEFAULT_VOID_LOOKUPS 2
#define SPF_DEFAULT_MX_NAMES 10
#define SPF_DEFAULT_PTR_NAMES 10

/* The RFC 7208 defaults. */
extern const struct spf_limits spf_default_limits;

/* What is checked. Strings are NUL-terminated and must live until spf_check returns. */
struct spf_request {
	struct mailauth_addr ip;         /* the SMTP client; an IPv4-mapped IPv6 address is treated as IPv4 */
	const char *mail_from;           /* the MAIL FROM address without <>; "" for the null sender */
	const char *helo;                /* the HELO/EHLO argument as the client gave it (may be "" or junk) */
	const char *receiver;            /* our host name, for %{r}; NULL: "unknown" */
	int64_t now;                     /* seconds since the epoch, for %{t} */
	const struct spf_limits *limits; /* NULL: spf_default_limits */
};

/* The outcome. All strings are in the caller's arena (or static). */
struct spf_verdict {
	enum mailauth_result result; /* none neutral pass fail softfail temperror permerror */
	enum spf_identity identity;  /* which identity `domain`/`sender` are */
	const char *sender;          /* the checked identity as a mailbox: local@domain, or
					postmaster@helo for the HELO identity; "" if none */
	const char *domain;          /* the domain whose policy was evaluated first; "" if none */
	const char *mechanism;       /* the mechanism that matched ("-all", "ip4:192.0.2.0/24");
					NULL when none matched (the default neutral) */
	const char *explanation;     /* fail only: the expanded exp= text (NULL without one;
					the caller words its own default); printable ASCII */
	const char *problem;         /* one line for logs and Authentication-Results comments:
					why this result (e.g. "10 DNS lookups exceeded",
					"syntax error near 'ip4:1.2.3'"); printable ASCII,
					never NULL */
	unsigned dns_lookups;        /* DNS-mechanism terms evaluated, counted against the limit */
	unsigned void_lookups;       /* void answers seen */
};

/* Checks the request's identity: MAIL FROM's domain, or for the null sender
 * postmaster@HELO (RFC 7208 §2.4). A MAIL FROM without '@' is treated as
 * postmaster@it; a domain that is not a usable FQDN gives `none` (§4.3). Fills *v_r
 * and returns 1 (the result is in v_r->result: SPF has no failure of its own outside
 * the result words); returns -1 only for a request it cannot represent (an address
 * family other than AF_INET/AF_INET6), with v_r->result = PERMERROR. */
int spf_check(const struct mailauth_dns *dns, const struct spf_request *req, struct arena *a, struct spf_verdict *v_r);

/* Checks the HELO identity only (§2.3): postmaster@HELO, whatever MAIL FROM is; `none`
 * when HELO is not a domain name (an address literal, a single label). Same returns
 * as spf_check. */
int spf_check_helo(const struct mailauth_dns *dns, const struct spf_request *req, struct arena *a,
		   struct spf_verdict *v_r);

/* RFC 7208's check_host(ip, domain, sender) itself, for callers that chose the
 * identity themselves: `domain` is evaluated, `sender` (local@domain, or a domain:
 * postmaster@it) feeds the %{s} %{l} %{o} macros and v_r->sender; the request's
 * mail_from is unused. Same returns as spf_check. */
int spf_check_host(const struct mailauth_dns *dns, const struct spf_request *req, const char *domain,
		   const char *sender, enum spf_identity identity, struct arena *a, struct spf_verdict *v_r);

#endif
