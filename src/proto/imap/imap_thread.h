/* imap_thread.h: the pure parts of SORT and THREAD (RFC 5256, RFC 5957): sort key
 * parsing, base-subject extraction, the first address of an address list, and the
 * ORDEREDSUBJECT and REFERENCES threading algorithms with their output format.
 *
 * No store and no sockets: imapd collects one struct imap_thread_msg per message and
 * hands the array here; the unit tests feed fixed corpora with known answers. */
#ifndef POSTAMT_IMAP_THREAD_H
#define POSTAMT_IMAP_THREAD_H

#include "imap_args.h"

#include <stdbool.h>
#include <stdint.h>

/* RFC 5256 §3 sort-key = ["REVERSE" SP] ("ARRIVAL" / "CC" / "DATE" / "FROM" / "SIZE" /
 * "SUBJECT" / "TO"); RFC 5957 adds "DISPLAYFROM" / "DISPLAYTO". */
enum imap_sort_key {
	IMAP_SORT_ARRIVAL,
	IMAP_SORT_CC,
	IMAP_SORT_DATE,
	IMAP_SORT_FROM,
	IMAP_SORT_SIZE,
	IMAP_SORT_SUBJECT,
	IMAP_SORT_TO,
	IMAP_SORT_DISPLAYFROM,
	IMAP_SORT_DISPLAYTO,
};

#define IMAP_SORT_KEYS_MAX 16

struct imap_sort_crit {
	enum imap_sort_key key;
	bool reverse;
};

/* sort-criteria = "(" sort-criterion *(SP sort-criterion) ")". Returns 1 with up to
 * IMAP_SORT_KEYS_MAX criteria, or -1 with cur->error (unknown keys included). */
int imap_sort_parse(struct imap_cur *cur, struct imap_sort_crit *crit, size_t *n_r);

/* RFC 5256 §2.1 base subject of a decoded (UTF-8) subject, case-folded for
 * comparison (ASCII letters upper-cased; other bytes kept), in the arena. *reply_r
 * (may be NULL) tells whether a "Re:"/"Fwd:"/"(fwd)"/"[fwd: ...]" was removed. */
const char *imap_base_subject(struct arena *a, const char *subject, bool *reply_r);

/* The first address of a decoded address list "Name <local@host>, ...": the display
 * name ("" when none) and the addr-spec ("local@host", "" when none), in the arena. */
void imap_first_address(struct arena *a, const char *list, const char **name_r, const char **addr_r);

/* The string sort keys of one message (imap_sortkey.c), all case-folded for a byte
 * comparison: the base subject (and whether it was a reply), the addr-mailbox of the
 * first From/To/Cc address (of a group, its name: RFC 5256 §3) and the display name
 * of the first From/To address, else its addr-spec (RFC 5957 §2). Never NULL. */
struct imap_sort_keys {
	const char *subject;
	bool reply;
	const char *from, *to, *cc;
	const char *display_from, *display_to;
};
/* From the decoded Subject and address lists (NULL: absent), in the arena. */
void imap_sort_keys_of(struct arena *a, const char *subject, const char *from, const char *to, const char *cc,
		       struct imap_sort_keys *k);
/* One address key of imap_sort_keys: display false gives FROM/TO/CC's, true DISPLAY*'s. */
const char *imap_address_key(struct arena *a, const char *list, bool display);
/* One message as threading sees it. */
struct imap_thread_msg {
	uint32_t num;              /* sequence number or UID: what the answer lists */
	int64_t date;              /* sent date (internal date when there is none), UTC */
	const char *msgid;         /* "<...>" or NULL */
	const char *const *refs;   /* References ids, oldest first (or the In-Reply-To
	                            * id); NULL-terminated, may be NULL */
	const char *base;          /* imap_base_subject() */
	bool reply;                /* its subject was a reply/forward */
};

/* THREAD=ORDEREDSUBJECT (RFC 5256 §3) and THREAD=REFERENCES (§4 steps 1-6) of
 * msgs[0..n) (in ascending num order); appends the thread-list responses
 * "(1 2)(3 (4)(5))" to out. Uses the arena for everything it allocates. */
void imap_thread_orderedsubject(struct arena *a, const struct imap_thread_msg *msgs, size_t n, struct buf *out);
void imap_thread_references(struct arena *a, const struct imap_thread_msg *msgs, size_t n, struct buf *out);

#endif
