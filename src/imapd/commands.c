/* commands.c: the IMAP command table; the dispatcher enforces each command's states. */
#include "session.h"

static const struct imap_cmd_def table[] = {
	{ "CAPABILITY", cmd_capability, IMAP_ANY_STATE },
	{ "NOOP", cmd_noop, IMAP_ANY_STATE },
	{ "LOGOUT", cmd_logout, IMAP_ANY_STATE },
	{ "STARTTLS", cmd_starttls, IMAP_NOT_AUTHENTICATED },
};

const struct imap_cmd_def *imap_cmd_lookup(struct bytes name)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		if (bytes_ieq(name, table[i].name))
			return &table[i];
	}
	return NULL;
}
