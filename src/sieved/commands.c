/* commands.c: the ManageSieve commands that read or change the account's scripts
 * (RFC 5804 §2.3 to §2.12). Each checks its arguments on the loop and answers a bad
 * one there; the work (the store, the Sieve compiler) runs on the pool through
 * sieve_run_job and writes the whole reply into job->out. Store results map to the
 * response codes of RFC 5804 §1.3: NONEXISTENT, ALREADYEXISTS, ACTIVE,
 * QUOTA/MAXSCRIPTS, QUOTA/MAXSIZE, TRYLATER. */
#include "sieved_int.h"

#include "log.h"
#include "sieve.h"
#include "store.h"

#include <string.h>

/* Checks the argument list: n arguments of the given types ('s' string, 'n' number).
 * Answers NO and returns false when they do not match. */
static bool args_ok(struct sieve_session *ss, const struct msieve_command *cmd, const char *types, const char *usage)
{
	size_t n = strlen(types);
	bool ok = cmd->nargs == n;
	for (size_t i = 0; ok && i < n; i++)
		ok = cmd->args[i].type == (types[i] == 's' ? MSIEVE_STRING : MSIEVE_NUMBER);
	/* names are strings without NULs (RFC 5804 §1.6) */
	for (size_t i = 0; ok && i < n; i++)
		ok = cmd->args[i].type != MSIEVE_STRING ||
		     memchr(cmd->args[i].str.p, '\0', cmd->args[i].str.len) == NULL;
	if (!ok)
		sieve_bad(ss, NULL, usage);
	return ok;
}

static struct store_sieve_limits store_limits(const struct settings *s)
{
	return (struct store_sieve_limits){ .max_scripts = s->sieve_max_scripts,
					    .max_script_size = s->sieve_max_script_size };
}

/* The reply for a store error; "what" names the object for NONEXISTENT. */
static void store_error(struct sieve_job *job, int r, const char *error)
{
	struct buf *o = &job->out;
	switch (r) {
	case STORE_ENOTFOUND:
		msieve_put_response(o, "NO", "NONEXISTENT", "There is no script by that name");
		break;
	case STORE_EEXISTS:
		msieve_put_response(o, "NO", "ALREADYEXISTS", "A script by that name exists");
		break;
	case STORE_ENOTALLOWED:
		msieve_put_response(o, "NO", "ACTIVE", "You may not delete the active script");
		break;
	case STORE_ELIMIT:
		msieve_put_response(o, "NO", "QUOTA/MAXSCRIPTS", error);
		break;
	case STORE_ETOOBIG:
		msieve_put_response(o, "NO", "QUOTA/MAXSIZE", error);
		break;
	case STORE_EINVAL:
		msieve_put_response(o, "NO", NULL, "Invalid script name");
		break;
	default:
		conn_log(job->ss->c, LOG_ERROR, "event=store_error op=sieve error=%s", LOG_Q(error));
		msieve_put_response(o, "NO", "TRYLATER", "Temporary server error, try again later");
		break;
	}
}

/* ---- HAVESPACE (§2.3): HAVESPACE name size */

static void run_havespace(struct sieve_job *job)
{
	struct sieve_session *ss = job->ss;
	struct store_sieve_limits l = store_limits(ss->s);
	const char *error;
	int r = store_sieve_havespace(ss->env->store, ss->account_id, job->cmd->args[0].str.p,
				      (size_t)job->cmd->args[1].num, &l, &error);
	if (r > 0)
		msieve_put_response(&job->out, "OK", NULL, NULL);
	else
		store_error(job, r, error);
}

void cmd_havespace(struct sieve_session *ss, const struct msieve_command *cmd)
{
	if (args_ok(ss, cmd, "sn", "Syntax: HAVESPACE name size"))
		sieve_run_job(ss, cmd, run_havespace);
}

/* ---- PUTSCRIPT (§2.6) and CHECKSCRIPT (§2.12) */

/* Compiles the script text; 1 with *prog_r, or <0 after writing the NO. */
static int compile(struct sieve_job *job, struct bytes text, struct sieve_program **prog_r)
{
	const struct settings *s = job->ss->s;
	if (text.len > s->sieve_max_script_size) {
		msieve_put_response(&job->out, "NO", "QUOTA/MAXSIZE", "The script is over the size limit");
		return -1;
	}
	const char *error;
	if (sieve_compile(text.p, text.len, s->sieve_limits, job->ss->cmd_arena, prog_r, &error) < 0) {
		msieve_put_response(&job->out, "NO", NULL, error);
		return -1;
	}
	return 1;
}

static void run_putscript(struct sieve_job *job)
{
	struct sieve_session *ss = job->ss;
	struct sieve_program *prog;
	struct bytes text = job->cmd->args[1].str;
	if (compile(job, text, &prog) < 0)
		return;
	struct buf compiled = { 0 };
	sieve_program_save(prog, &compiled);
	sieve_program_free(&prog);
	struct store_sieve_limits l = store_limits(ss->s);
	struct store_sieve_put p = { .name = job->cmd->args[0].str.p,
				     .text = text.p,
				     .text_len = text.len,
				     .compiled = compiled.data,
				     .compiled_len = compiled.len };
	const char *error;
	int r = store_sieve_put(ss->env->store, ss->account_id, &p, &l, NULL, &error);
	buf_free(&compiled);
	if (r > 0) {
		conn_log(ss->c, LOG_INFO, "event=sieve_put name=%s bytes=%zu", LOG_Q(p.name), text.len);
		msieve_put_response(&job->out, "OK", NULL, NULL);
	} else {
		store_error(job, r, error);
	}
}

void cmd_putscript(struct sieve_session *ss, const struct msieve_command *cmd)
{
	if (cmd->nargs == 2 && cmd->args[1].type == MSIEVE_STRING && cmd->args[0].type == MSIEVE_STRING &&
	    !store_sieve_name_valid(cmd->args[0].str.p)) {
		sieve_bad(ss, NULL, "Invalid script name");
		return;
	}
	/* the script may hold NULs (the compiler refuses them with a line number) */
	if (cmd->nargs != 2 || cmd->args[0].type != MSIEVE_STRING || cmd->args[1].type != MSIEVE_STRING) {
		sieve_bad(ss, NULL, "Syntax: PUTSCRIPT name script");
		return;
	}
	sieve_run_job(ss, cmd, run_putscript);
}

static void run_checkscript(struct sieve_job *job)
{
	struct sieve_program *prog;
	if (compile(job, job->cmd->args[0].str, &prog) < 0)
		return;
	sieve_program_free(&prog);
	msieve_put_response(&job->out, "OK", NULL, NULL);
}

void cmd_checkscript(struct sieve_session *ss, const struct msieve_command *cmd)
{
	if (cmd->nargs != 1 || cmd->args[0].type != MSIEVE_STRING) {
		sieve_bad(ss, NULL, "Syntax: CHECKSCRIPT script");
		return;
	}
	sieve_run_job(ss, cmd, run_checkscript);
}

/* ---- LISTSCRIPTS (§2.7) */

static void run_listscripts(struct sieve_job *job)
{
	struct sieve_session *ss = job->ss;
	struct store_sieve_script *list;
	size_t n;
	const char *error;
	int r = store_sieve_list(ss->env->store, ss->cmd_arena, ss->account_id, &list, &n, NULL, &error);
	if (r < 0) {
		store_error(job, r, error);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		msieve_put_string(&job->out, list[i].name, strlen(list[i].name));
		buf_puts(&job->out, list[i].active ? " ACTIVE\r\n" : "\r\n");
	}
	msieve_put_response(&job->out, "OK", NULL, "Listscripts completed");
}

void cmd_listscripts(struct sieve_session *ss, const struct msieve_command *cmd)
{
	if (args_ok(ss, cmd, "", "Syntax: LISTSCRIPTS"))
		sieve_run_job(ss, cmd, run_listscripts);
}

/* ---- SETACTIVE (§2.8): "" deactivates */

static void run_setactive(struct sieve_job *job)
{
	struct sieve_session *ss = job->ss;
	const char *error;
	int r = store_sieve_activate(ss->env->store, ss->account_id, 0, job->cmd->args[0].str.p, &error);
	if (r > 0)
		msieve_put_response(&job->out, "OK", NULL, NULL);
	else
		store_error(job, r, error);
}

void cmd_setactive(struct sieve_session *ss, const struct msieve_command *cmd)
{
	if (args_ok(ss, cmd, "s", "Syntax: SETACTIVE name"))
		sieve_run_job(ss, cmd, run_setactive);
}

/* ---- GETSCRIPT (§2.9): the script as a literal, then OK */

static void run_getscript(struct sieve_job *job)
{
	struct sieve_session *ss = job->ss;
	struct store_sieve_script sc;
	const char *error;
	int r = store_sieve_get(ss->env->store, ss->cmd_arena, ss->account_id, 0, job->cmd->args[0].str.p,
				STORE_SIEVE_TEXT, &sc, &error);
	if (r <= 0) {
		store_error(job, r == 0 ? STORE_ENOTFOUND : r, error);
		return;
	}
	buf_printf(&job->out, "{%zu}\r\n", sc.size);
	buf_append(&job->out, sc.text, sc.size);
	buf_puts(&job->out, "\r\n");
	msieve_put_response(&job->out, "OK", NULL, "Getscript completed");
}

void cmd_getscript(struct sieve_session *ss, const struct msieve_command *cmd)
{
	if (args_ok(ss, cmd, "s", "Syntax: GETSCRIPT name"))
		sieve_run_job(ss, cmd, run_getscript);
}

/* ---- DELETESCRIPT (§2.10): the active script is refused with (ACTIVE) */

static void run_deletescript(struct sieve_job *job)
{
	struct sieve_session *ss = job->ss;
	const char *error;
	int r = store_sieve_delete(ss->env->store, ss->account_id, 0, job->cmd->args[0].str.p, &error);
	if (r > 0)
		msieve_put_response(&job->out, "OK", NULL, NULL);
	else
		store_error(job, r, error);
}

void cmd_deletescript(struct sieve_session *ss, const struct msieve_command *cmd)
{
	if (args_ok(ss, cmd, "s", "Syntax: DELETESCRIPT name"))
		sieve_run_job(ss, cmd, run_deletescript);
}

/* ---- RENAMESCRIPT (§2.11.1) */

static void run_renamescript(struct sieve_job *job)
{
	struct sieve_session *ss = job->ss;
	const char *error;
	int r = store_sieve_rename(ss->env->store, ss->account_id, job->cmd->args[0].str.p, job->cmd->args[1].str.p,
				   &error);
	if (r > 0)
		msieve_put_response(&job->out, "OK", NULL, NULL);
	else
		store_error(job, r, error);
}

void cmd_renamescript(struct sieve_session *ss, const struct msieve_command *cmd)
{
	if (args_ok(ss, cmd, "ss", "Syntax: RENAMESCRIPT oldname newname"))
		sieve_run_job(ss, cmd, run_renamescript);
}
