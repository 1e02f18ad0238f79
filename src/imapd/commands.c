/* commands.c: the IMAP command table (DESIGN.md §4.2); the dispatcher in session.c
 * enforces each command's states (RFC 9051 §3: not authenticated, authenticated,
 * selected) and whether it has a UID form. */
#include "session.h"

#define SEL IMAP_SELECTED
#define AUTH IMAP_AUTH_STATES
#define NOAUTH IMAP_NOT_AUTHENTICATED

static const struct imap_cmd_def table[] = {
	/* RFC 9051 §6.1: any state */
	{ "CAPABILITY", imap_cmd_capability, IMAP_ANY_STATE },
	{ "NOOP", imap_cmd_noop, IMAP_ANY_STATE },
	{ "LOGOUT", imap_cmd_logout, IMAP_ANY_STATE },
	{ "ID", imap_cmd_id, IMAP_ANY_STATE },                       /* RFC 2971 */
	/* §6.2: not authenticated */
	{ "STARTTLS", imap_cmd_starttls, NOAUTH },
	{ "AUTHENTICATE", imap_cmd_authenticate, NOAUTH },
	{ "LOGIN", imap_cmd_login, NOAUTH },
	/* §6.3: authenticated */
	{ "ENABLE", imap_cmd_enable, AUTH },
	{ "SELECT", imap_cmd_select, AUTH },
	{ "EXAMINE", imap_cmd_select, AUTH },
	{ "CREATE", imap_cmd_create, AUTH },
	{ "DELETE", imap_cmd_delete, AUTH },
	{ "RENAME", imap_cmd_rename, AUTH },
	{ "SUBSCRIBE", imap_cmd_subscribe, AUTH },
	{ "UNSUBSCRIBE", imap_cmd_subscribe, AUTH },
	{ "LIST", imap_cmd_list, AUTH },
	{ "LSUB", imap_cmd_list, AUTH },                            /* RFC 3501 §6.3.9 */
	{ "NAMESPACE", imap_cmd_namespace, AUTH },
	{ "STATUS", imap_cmd_status, AUTH },
	{ "APPEND", imap_cmd_append, AUTH },
	{ "IDLE", imap_cmd_idle, AUTH },
	{ "GETQUOTA", imap_cmd_quota, AUTH },                       /* RFC 9208 */
	{ "GETQUOTAROOT", imap_cmd_quota, AUTH },
	{ "COMPRESS", imap_cmd_compress, AUTH },                    /* RFC 4978 */
	{ "NOTIFY", imap_cmd_notify, AUTH },                        /* RFC 5465 */
	/* §6.4: selected */
	{ "CHECK", imap_cmd_noop, SEL },                             /* RFC 3501 §6.4.1 */
	{ "CLOSE", imap_cmd_close, SEL },
	{ "UNSELECT", imap_cmd_close, SEL },
	{ "EXPUNGE", imap_cmd_expunge, SEL | IMAP_CMD_UID },
	{ "SEARCH", imap_cmd_search, SEL | IMAP_CMD_UID | IMAP_CMD_NO_EXPUNGE },
	{ "FETCH", imap_cmd_fetch, SEL | IMAP_CMD_UID | IMAP_CMD_NO_EXPUNGE },
	{ "STORE", imap_cmd_store, SEL | IMAP_CMD_UID | IMAP_CMD_NO_EXPUNGE },
	{ "COPY", imap_cmd_copy, SEL | IMAP_CMD_UID },
	{ "MOVE", imap_cmd_copy, SEL | IMAP_CMD_UID },               /* RFC 6851 */
	{ "REPLACE", imap_cmd_replace, SEL | IMAP_CMD_UID },         /* RFC 8508 */
	{ "SORT", imap_cmd_sort, SEL | IMAP_CMD_UID | IMAP_CMD_NO_EXPUNGE },   /* RFC 5256 */
	{ "THREAD", imap_cmd_thread, SEL | IMAP_CMD_UID | IMAP_CMD_NO_EXPUNGE },
	{ "CANCELUPDATE", imap_cmd_cancelupdate, SEL },                         /* RFC 5267 */
};

const struct imap_cmd_def *imap_cmd_lookup(struct bytes name)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		if (bytes_ieq(name, table[i].name))
			return &table[i];
	}
	return NULL;
}
