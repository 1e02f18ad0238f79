/* cmd_quota.c: RFC 9208 §4.2 GETQUOTA and §4.3 GETQUOTAROOT, resource STORAGE.
 *   getquota = "GETQUOTA" SP quota-root-name; getquotaroot = "GETQUOTAROOT" SP mailbox
 *   quota-response = "QUOTA" SP quota-root-name SP quota-list
 *   quota-list = "(" [quota-resource *(SP quota-resource)] ")"
 * Every mailbox of an account has the one quota root "" (the account). STORAGE is in
 * units of 1024 octets. Without a limit the root has no resources (Thunderbird then
 * shows no quota, peers-features §4.14). */
#include "session.h"

#include <string.h>

static void put_quota(struct imap_session *is, struct buf *b)
{
	uint64_t usage = 0, limit = 0, messages = 0;
	const char *error;
	if (store_quota_get(is->env->store, is->account_id, &usage, &limit, &messages, &error) < 0)
		limit = 0;
	if (limit > 0)
		buf_printf(b, "* QUOTA \"\" (STORAGE %llu %llu)\r\n", (unsigned long long)((usage + 1023) / 1024),
			   (unsigned long long)(limit / 1024));
	else
		buf_puts(b, "* QUOTA \"\" ()\r\n");
}

void imap_cmd_quota(struct imap_session *is, struct imap_cmd *cmd)
{
	struct imap_cur *c = &cmd->args;
	struct imap_str in;
	if (imap_cur_astring(c, &in) < 0 || imap_cur_eol(c) < 0) {
		imap_bad_args(is, cmd);
		return;
	}
	struct buf b = { 0 };
	if (strcmp(cmd->name, "GETQUOTA") == 0) {
		if (in.len != 0) {
			imap_tagged(is, "NO", "[NONEXISTENT] No such quota root");
			return;
		}
		put_quota(is, &b);
	} else {
		const char *name, *error;
		struct store_mailbox mb;
		if (imap_mailbox_arg(is, &in, &name, &error) < 0) {
			imap_tagged(is, "NO", "[CANNOT] %s", error);
			return;
		}
		int r = store_mailbox_get(is->env->store, is->cmd_arena, is->account_id, name, &mb, &error);
		if (r <= 0) {
			if (r == 0)
				imap_tagged(is, "NO", "[NONEXISTENT] No such mailbox");
			else
				imap_store_error(is, r, error);
			return;
		}
		buf_puts(&b, "* QUOTAROOT ");
		imap_put_mailbox_name(is, &b, name);
		buf_puts(&b, " \"\"\r\n");
		put_quota(is, &b);
	}
	imap_write(is, b.data, b.len);
	buf_free(&b);
	imap_tagged(is, "OK", "%s completed", cmd->name);
}
