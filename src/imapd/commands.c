/* commands.c: the IMAP command table (DESIGN.md §4.2); the dispatcher in session.c
 * enforces each command's states (RFC 9051 §3: not authenticated, authenticated,
 * selected) and whether it has a UID form. */
#include "session.h"

#define SEL IMAP_SELECTED
#define AUTH IMAP_AUTH_STATES
#define NOAUTH IMAP_NOT_AUTHENTICATED

static const struct imap_cmd_def table[] = {
	/* RFC 9051 §6.1: any state */
	{ "CAPABILITY", cmd_capability, IMAP_ANY_STATE },
	{ "NOOP", cmd_noop, IMAP_ANY_STATE },
	{ "LOGOUT", cmd_logout, IMAP_ANY_STATE },
	{ "ID", cmd_id, IMAP_ANY_STATE },                       /* RFC 2971 */
	/* §6.2: not authenticated */
	{ "STARTTLS", cmd_starttls, NOAUTH },
	{ "AUTHENTICATE", cmd_authenticate, NOAUTH },
	{ "LOGIN", cmd_login, NOAUTH },
	/* §6.3: authenticated */
	{ "ENABLE", cmd_enable, AUTH },
	{ "SELECT", cmd_select, AUTH },
	{ "EXAMINE", cmd_select, AUTH },
	{ "CREATE", cmd_create, AUTH },
	{ "DELETE", cmd_delete, AUTH },
	{ "RENAME", cmd_rename, AUTH },
	{ "SUBSCRIBE", cmd_subscribe, AUTH },
	{ "UNSUBSCRIBE", cmd_subscribe, AUTH },
	{ "LIST", cmd_list, AUTH },
	{ "LSUB", cmd_list, AUTH },                            /* RFC 3501 §6.3.9 */
	{ "NAMESPACE", cmd_namespace, AUTH },
	{ "STATUS", cmd_status, AUTH },
	{ "APPEND", cmd_append, AUTH },
	{ "IDLE", cmd_idle, AUTH },
	{ "GETQUOTA", cmd_quota, AUTH },                       /* RFC 9208 */
	{ "GETQUOTAROOT", cmd_quota, AUTH },
	{ "COMPRESS", cmd_compress, AUTH },                    /* RFC 4978 */
	{ "NOTIFY", cmd_notify, AUTH },                        /* RFC 5465 */
	/* §6.4: selected */
	{ "CHECK", cmd_noop, SEL },                             /* RFC 3501 §6.4.1 */
	{ "CLOSE", cmd_close, SEL },
	{ "UNSELECT", cmd_close, SEL },
	{ "EXPUNGE", cmd_expunge, SEL | IMAP_CMD_UID },
	{ "SEARCH", cmd_search, SEL | IMAP_CMD_UID | IMAP_CMD_NO_EXPUNGE },
	{ "FETCH", cmd_fetch, SEL | IMAP_CMD_UID | IMAP_CMD_NO_EXPUNGE },
	{ "STORE", cmd_store, SEL | IMAP_CMD_UID | IMAP_CMD_NO_EXPUNGE },
	{ "COPY", cmd_copy, SEL | IMAP_CMD_UID },
	{ "MOVE", cmd_copy, SEL | IMAP_CMD_UID },               /* RFC 6851 */
	{ "REPLACE", cmd_replace, SEL | IMAP_CMD_UID },         /* RFC 8508 */
	{ "SORT", cmd_sort, SEL | IMAP_CMD_UID | IMAP_CMD_NO_EXPUNGE },   /* RFC 5256 */
	{ "THREAD", cmd_thread, SEL | IMAP_CMD_UID | IMAP_CMD_NO_EXPUNGE },
	{ "CANCELUPDATE", cmd_cancelupdate, SEL },                         /* RFC 5267 */
};

const struct imap_cmd_def *imap_cmd_lookup(struct bytes name)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		if (bytes_ieq(name, table[i].name))
			return &table[i];
	}
	return NULL;
}
