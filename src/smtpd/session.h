/* session.h: the state of one SMTP connection, shared by session.c and the commands. */
#ifndef POSTAMT_SMTPD_SESSION_H
#define POSTAMT_SMTPD_SESSION_H

#include "arena.h"
#include "smtp_args.h"
#include "smtp_data.h"
#include "smtp_parse.h"
#include "smtpd.h"
#include "submit.h"

#include <stdbool.h>
#include <stdint.h>

/* One mail transaction, from MAIL to the end of the data (RFC 5321 §3.3). */
struct smtp_txn {
	bool active;                /* MAIL accepted */
	struct smtp_mail_args mail;
	struct submit_rcpt *rcpts;  /* resolved by the pipeline, in the transaction arena */
	size_t nrcpts, rcpts_cap;
	bool any_remote;
	struct buf data;            /* the message as received */
	struct smtp_data dec;       /* DATA decoder */
	bool bdat;                  /* BDAT used: DATA is no longer allowed */
	uint64_t bdat_left;         /* bytes of the current chunk still to read */
	bool bdat_last;
	uint64_t bdat_total;
	bool no_memory;             /* limits.message_memory was reached: the data is read and dropped */
};

struct rcpt_job;

struct smtp_session {
	struct conn *c; /* valid until the session is freed; conn_is_closed() once gone */
	const struct smtpd_listener *l;
	const struct smtpd_env *env;
	const struct settings *s;
	struct arena *arena;     /* lives as long as the connection */
	struct arena *txn_arena; /* cleared with every transaction */
	struct arena *cmd_arena; /* cleared before every command (an AUTH exchange is one command) */
	char helo[256];          /* the client's EHLO/HELO name (at most 255 octets), "" before */
	bool esmtp;
	/* authentication */
	char *auth_user;         /* canonical address once authenticated */
	int64_t auth_account;
	struct auth_sasl *sasl;  /* the SASL exchange of AUTH, in cmd_arena (auth/sasl.h) */
	/* the transaction */
	struct smtp_txn txn;
	bool bdat_failed;        /* the current BDAT chunk is read only to be discarded */
	struct smtp_error bdat_err;
	/* the connect-time client check (port 25, DNS blocklists; client_check.c) */
	void *check;             /* the check while its answers are out, else NULL */
	const char *check_zone;  /* a refusing list that names the client (arena), else NULL */
	const char *check_code;
	double check_score;      /* weighted lists: score and zones (arena) for the spam header */
	const char *check_weighted;
	struct rcpt_job *rcpt_waiting; /* a RCPT that waits for the check (holds the conn) */
	/* Set with rcpt_waiting by cmd_rcpt.c: the check's verdict calls it to go on with
	 * that RCPT. A pointer, not a call, so that client_check.c stays below cmd_rcpt.c. */
	void (*rcpt_resume)(struct smtp_session *ss);
	struct submit_origin origin; /* smtp_origin() */
	char origin_with[16];
};

/* Command flags checked by the dispatcher before a command runs. */
enum {
	SMTP_CMD_NEEDS_HELO = 1 << 0, /* 503 5.5.1 before EHLO/HELO */
	SMTP_CMD_NEEDS_TLS = 1 << 1,  /* on 587: 530 5.7.0 before STARTTLS */
	SMTP_CMD_NEEDS_AUTH = 1 << 2, /* on 465/587: 530 5.7.0 before AUTH */
};

struct smtp_cmd_def {
	enum smtp_verb verb;
	void (*run)(struct smtp_session *ss, const struct smtp_command *cmd);
	unsigned flags;
};

const struct smtp_cmd_def *smtp_cmd_lookup(enum smtp_verb verb);

/* Replies "CODE ENH text" (multi-line when text has '\n'). */
void smtp_reply(struct smtp_session *ss, int code, const char *enh, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Counts a client error; past the limit the session is closed with 421. */
void smtp_error(struct smtp_session *ss);
/* A local recipient's mailbox is full: logs it (event=quota_rejected) and replies.
 * Port 25 answers 452 4.2.2 (a temporary failure: the sender retries, the user may
 * make room) unless smtp.quota_full_temporary is off; submission answers 552 5.2.2
 * (the sender is there to read it, and a retry by the client would not help). `to`
 * may be NULL (after the data: some recipient), text follows the code. */
void smtp_quota_full(struct smtp_session *ss, const char *to, const char *text);
/* Forgets the transaction (RSET, EHLO, end of data). */
void smtp_txn_reset(struct smtp_session *ss);
/* True when AUTH may be offered and used on this connection. */
bool smtp_auth_allowed(const struct smtp_session *ss);
/* Asynchronous steps hold the connection (conn_hold: input waits, the session
 * outlives the close); their completion replies unless conn_is_closed() and ends
 * with conn_release(), after which it must not touch the session. */

/* The connect-time client check (client_check.c): started at open on port 25,
 * cancelled at free; smtp_client_refused() is true when RCPT must refuse (it
 * replies 554 5.7.1 naming the list and logs). */
void smtp_client_check_start(struct smtp_session *ss);
void smtp_client_check_cancel(struct smtp_session *ss);
bool smtp_client_refused(struct smtp_session *ss);

/* Verbs, each in its own file */
void smtp_cmd_mail(struct smtp_session *ss, const struct smtp_command *cmd);
void smtp_cmd_rcpt(struct smtp_session *ss, const struct smtp_command *cmd);
void smtp_cmd_data(struct smtp_session *ss, const struct smtp_command *cmd);
void smtp_cmd_bdat(struct smtp_session *ss, const struct smtp_command *cmd);
void smtp_cmd_auth(struct smtp_session *ss, const struct smtp_command *cmd);
/* The next command or response line for the reader k (NULL: the command reader; a
 * continuation passes itself): 1 with *line_r, 0 when no full line is buffered or k
 * may not read now, -1 when the line is over limits.line_length (500, closing). */
int smtp_next_line(struct smtp_session *ss, const struct conn_continuation *k, struct bytes *line_r);
/* End of the message: the framing checks, then the pipeline (deliver.c). */
void smtp_deliver(struct smtp_session *ss);
/* The pipeline's view of this client (struct submit_origin), brought up to date
 * (TLS, AUTH and EHLO may have changed); points into ss. */
const struct submit_origin *smtp_origin(struct smtp_session *ss);
/* Answers a pipeline refusal from the one table (submit_reply.c); detail names the
 * address or reason, may be NULL. Logs what the table says. */
void smtp_reply_submit(struct smtp_session *ss, int result, const char *detail);

#endif
