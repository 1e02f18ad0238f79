/* store_sender.c: who may send as which address. One rule for every submission
 * path (SMTP 465/587 and port 25 with AUTH, JMAP EmailSubmission, JMAP Identity):
 * an address is the user's own when it is their login address, or a local address
 * (an alias) that delivers to their account. The envelope sender and every mailbox
 * in the From: and Sender: fields must be owned (DESIGN.md §1, Mail authentication;
 * outside review of December 2026, finding 8). */
#include "store.h"

#include "arena.h"

#include "mail.h"

#include <strings.h>

bool store_sender_owned(struct store *s, struct arena *a, int64_t account_id, const char *user,
			const char *address)
{
	if (address == NULL || address[0] == '\0')
		return false;
	if (user != NULL && strcasecmp(address, user) == 0)
		return true;
	struct store_rcpt r;
	const char *error;
	if (store_resolve(s, a, address, &r, &error) <= 0)
		return false;
	for (size_t i = 0; i < r.naccounts; i++) {
		if (r.accounts[i] == account_id)
			return true;
	}
	return false;
}

int store_header_senders_owned(struct store *s, struct arena *a, int64_t account_id, const char *user,
			       const char *msg, size_t len, const char **bad_r)
{
	static const char *const fields[] = { "From", "Sender" };
	for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
		const char **addrs;
		size_t n;
		int r = mail_header_mailboxes(a, msg, len, fields[f], &addrs, &n);
		for (size_t i = 0; i < n; i++) {
			if (!store_sender_owned(s, a, account_id, user, addrs[i])) {
				*bad_r = addrs[i];
				return 0;
			}
		}
		if (r < 0) {
			*bad_r = arena_printf(a, "(an unreadable %s: field)", fields[f]);
			return 0;
		}
	}
	return 1;
}
