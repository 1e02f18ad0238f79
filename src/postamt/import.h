/* import.h: `postamt import` and `postamt export` (cli_import.c, import_plan.c,
 * import_sources.c, import_imap.c, cli_export.c), shared between their files only.
 *
 * An import runs in two phases. Planning: the source lists its folders and, for each,
 * its messages with their sizes, flags, keywords, dates and import keys (no message
 * bodies yet); messages whose keys the store already knows for the target mailbox are
 * left out. Importing: folder by folder, first a quota check for the whole folder
 * (an import over quota stops before the folder, never in the middle of it), then the
 * bodies are loaded through the source's load function and appended in batches with
 * store_append_many, which records the keys in the same transaction (resumable). */
#ifndef POSTAMT_IMPORT_H
#define POSTAMT_IMPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "buf.h"
#include "config.h"
#include "store.h"

#define IMPORT_KEYS 3 /* a source key, a Message-ID+size key, NULL */

struct import_item {
	uint64_t size;         /* as the source reports it */
	unsigned int flags;    /* enum store_flag */
	const char **keywords; /* NULL-terminated, valid ones only */
	int64_t internal_date; /* 0: now */
	const char *keys[IMPORT_KEYS];
	const char *path;  /* Maildir: the file; IMAP: NULL */
	uint64_t off, len; /* mbox: the message's bytes in the file */
	uint32_t uid;      /* IMAP */
};

struct import_folder {
	const char *source_name; /* as the source names it (for messages) */
	const char *name;        /* target: a canonical mailbox name */
	unsigned int special_use;
	const char *imap_name; /* IMAP: the name to SELECT (mUTF-7) */
	struct import_item *items;
	size_t n, cap;
	uint64_t bytes;
	const char **seen; /* every key of items: an open-addressing set */
	size_t seen_n, seen_cap;
};

struct import_source;
/* Loads item's message into out (reset first). 1, or -1 with *error_r (the message is
 * reported and skipped), or -2 with *error_r (the source failed: stop). */
typedef int import_load_fn(struct import_source *src, const struct import_folder *f, const struct import_item *it,
			   struct buf *out, const char **error_r);

struct import_source {
	import_load_fn *load;
	void *ctx;
	void (*close)(struct import_source *src); /* may be NULL */
	const void *current;                      /* IMAP: the folder selected now */
	const char *mbox_data;                    /* mbox: the mapped file */
	size_t mbox_len;
};

struct import_run {
	const struct config *cfg;
	struct store *s;
	struct arena *a; /* everything of the plan */
	int64_t account_id;
	const char *address;
	struct import_folder *folders;
	size_t nfolders, capfolders;
	uint64_t total_msgs, total_bytes, skipped, refused;
	bool tty; /* draw the progress bar on stdout */
};

/* Adds a folder to the plan: name is a source folder name already in UTF-8 with "/"
 * levels; special_use 0 means: guess it from the name. The target is the account's
 * mailbox with that special use when there is one, else the name itself. Returns the
 * folder, or NULL when the name is unusable (reported on stderr). */
struct import_folder *import_add_folder(struct import_run *run, const char *source_name, const char *name,
					unsigned int special_use);
/* Adds a message to the folder's plan unless one of its keys (made here from
 * source_key and message_id: either may be NULL) is known; counts it as skipped
 * then. Keywords that are not valid IMAP keywords are dropped. Returns 1 added, 0
 * skipped, <0 store error. */
int import_add_item(struct import_run *run, struct import_folder *f, struct import_item *it, const char *source_key,
		    const char *message_id);
/* Prints a report line about one message or folder on stderr. */
void import_report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* import_sources.c: planning from a Maildir tree and an mbox file. */
int import_plan_maildir(struct import_run *run, struct import_source *src, const char *root);
int import_plan_mbox(struct import_run *run, struct import_source *src, const char *path, const char *folder);
void import_source_close(struct import_source *src);

/* import_imap.c: planning from an IMAP server (url "imap[s]://USER@HOST:PORT"); the
 * password is the first line of stdin. Options: ca_file (NULL: the system's), insecure
 * (no certificate check). The connection stays open in src for loading. */
int import_plan_imap(struct import_run *run, struct import_source *src, const char *url, const char *ca_file,
		     bool insecure);

/* When the command runs as root, the server runs as the service user (cfg->user) and
 * must own every file the store creates (message files, their directories, SQLite's
 * -wal and -shm). import_fs_service() makes the calling thread's file accesses those of
 * that user (setfsuid: threads started later, such as the store's, inherit it);
 * import_fs_root() makes them root's again, for reading a source or writing DEST. Both
 * do nothing when not root or when the user does not exist. Returns 1, or -1 with
 * *error_r (static) when the switch failed. */
int import_fs_service(const struct config *cfg, const char **error_r);
void import_fs_root(void);
/* Opens the store of cfg->data_dir for a command: enters DIR (as the server does, so
 * that the service user needs no access to DIR's parents) and opens it as the service
 * user (import_fs_service). Relative paths the command was given must be made absolute
 * first (import_abs_path). Returns 1 with *s_r, or -1 with *error_r. */
int import_store_open(const struct config *cfg, const struct store_options *opt, struct store **s_r,
		      const char **error_r);
/* path as an absolute path (in a), from the current directory when relative. */
const char *import_abs_path(struct arena *a, const char *path);

/* cli_import.c / cli_export.c: the commands (cli.h conventions). */
int cli_import(const struct config *cfg, int argc, char **argv);
int cli_export(const struct config *cfg, int argc, char **argv);

#endif
