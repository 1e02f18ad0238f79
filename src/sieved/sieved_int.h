/* sieved_int.h: what the ManageSieve session (session.c), its commands
 * (commands.c) and their replies (reply.c) share. */
#ifndef POSTAMT_SIEVED_INT_H
#define POSTAMT_SIEVED_INT_H

#include "sieved.h"

#include "arena.h"
#include "buf.h"
#include "msieve.h"

#include <stdbool.h>
#include <stdint.h>

struct auth_sasl;

struct sieve_session {
	struct conn *c;
	const struct sieved_listener *l;
	const struct sieved_env *env;
	const struct settings *s;
	struct arena *cmd_arena; /* cleared before every command (an AUTHENTICATE exchange is one) */
	bool authed;
	int64_t account_id;
	char *user;             /* the logged-in address (malloc'd) */
	bool starttls;          /* STARTTLS sent: capabilities follow the handshake */
	struct auth_sasl *sasl; /* AUTHENTICATE's exchange, in cmd_arena */
	struct buf out;         /* a reply being built on the loop */
};

/* A command that works on the store or the compiler: run(job) on the pool fills
 * job->out with the whole reply, which the loop writes. */
struct sieve_job {
	struct sieve_session *ss;
	const struct msieve_command *cmd; /* in ss->cmd_arena, which stays until the reply */
	void (*run)(struct sieve_job *job);
	struct buf out;
};

/* The parser's limits now: literals before login are bounded by the line length. */
struct msieve_limits sieve_limits_now(const struct sieve_session *ss);

/* reply.c: writes a response line (msieve_put_response) to the connection. */
void sieve_reply(struct sieve_session *ss, const char *kind, const char *code, const char *text);
/* A NO for a client's error, counted against limits.errors_per_session (closes with
 * BYE when over). */
void sieve_bad(struct sieve_session *ss, const char *code, const char *text);

/* Runs job->run on the pool (the conn held), then writes job->out. */
void sieve_run_job(struct sieve_session *ss, const struct msieve_command *cmd, void (*run)(struct sieve_job *));

/* The store commands (commands.c): each checks its arguments on the loop, answers
 * a NO itself, or hands its work to sieve_run_job. */
void cmd_havespace(struct sieve_session *ss, const struct msieve_command *cmd);
void cmd_putscript(struct sieve_session *ss, const struct msieve_command *cmd);
void cmd_checkscript(struct sieve_session *ss, const struct msieve_command *cmd);
void cmd_listscripts(struct sieve_session *ss, const struct msieve_command *cmd);
void cmd_setactive(struct sieve_session *ss, const struct msieve_command *cmd);
void cmd_getscript(struct sieve_session *ss, const struct msieve_command *cmd);
void cmd_deletescript(struct sieve_session *ss, const struct msieve_command *cmd);
void cmd_renamescript(struct sieve_session *ss, const struct msieve_command *cmd);

#endif
