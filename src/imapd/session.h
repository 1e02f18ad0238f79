/* session.h: the state of one IMAP connection, shared by session.c, commands.c and the
 * cmd_<name>.c files. */
#ifndef POSTAMT_IMAPD_SESSION_H
#define POSTAMT_IMAPD_SESSION_H

#include "arena.h"
#include "imap_parse.h"
#include "imapd.h"

#include <stdbool.h>

/* RFC 9051 §3: connection states, as bits so that the table can allow several */
enum imap_state {
	IMAP_NOT_AUTHENTICATED = 1 << 0,
	IMAP_AUTHENTICATED = 1 << 1,
	IMAP_SELECTED = 1 << 2,
	IMAP_LOGOUT = 1 << 3,
};
#define IMAP_ANY_STATE (IMAP_NOT_AUTHENTICATED | IMAP_AUTHENTICATED | IMAP_SELECTED)

struct imap_session {
	struct conn *c;
	const struct imapd_listener *l;
	const struct settings *s;
	struct arena *cmd_arena; /* cleared after every command */
	enum imap_state state;
	unsigned errors;
};

/* One command as the dispatcher hands it to its handler. */
struct imap_cmd {
	struct bytes tag;
	struct bytes name;
	struct bytes args;
};

struct imap_cmd_def {
	const char *name;
	void (*run)(struct imap_session *is, const struct imap_cmd *cmd);
	unsigned states; /* enum imap_state bits the command is allowed in */
};

const struct imap_cmd_def *imap_cmd_lookup(struct bytes name);

/* Tagged replies: "TAG OK text", "TAG NO text", "TAG BAD text". */
void imap_tagged(struct imap_session *is, const struct imap_cmd *cmd, const char *status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Writes the current capability list, space-separated, without a prefix. */
void imap_write_capabilities(struct imap_session *is);

/* Handlers, one per cmd_<name>.c */
void cmd_capability(struct imap_session *is, const struct imap_cmd *cmd);
void cmd_noop(struct imap_session *is, const struct imap_cmd *cmd);
void cmd_logout(struct imap_session *is, const struct imap_cmd *cmd);
void cmd_starttls(struct imap_session *is, const struct imap_cmd *cmd);

#endif
