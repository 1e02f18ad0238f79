/* helpers.h: shared set-up for the queue tests: scratch directories and messages. */
#ifndef TEST_QUEUE_HELPERS_H
#define TEST_QUEUE_HELPERS_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static inline void rm_rf(const char *dir)
{
	nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static inline char *make_tmpdir(void)
{
	char *d = strdup("/tmp/postamt-queue-test-XXXXXX");
	if (mkdtemp(d) == NULL)
		abort();
	return d;
}

/* Number of directory entries of dir whose name starts with prefix ("" for all). */
static inline int count_files(const char *dir, const char *prefix)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "ls -1 %s 2>/dev/null | grep -c '^%s' ", dir, prefix);
	FILE *f = popen(cmd, "r");
	int n = 0;
	if (f != NULL) {
		if (fscanf(f, "%d", &n) != 1)
			n = 0;
		pclose(f);
	}
	return n;
}

static inline void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f == NULL)
		abort();
	fputs(text, f);
	fclose(f);
}

#define TEST_MESSAGE                                                                                          \
	"Received: from client (localhost [127.0.0.1]) by mx.example.test\r\n"                                \
	"From: Alice <alice@example.test>\r\n"                                                                \
	"To: bob@remote.test\r\n"                                                                             \
	"Subject: hello\r\n"                                                                                  \
	"Message-ID: <1@example.test>\r\n"                                                                    \
	"\r\n"                                                                                                \
	"Hello Bob.\r\n"                                                                                      \
	".a line with a dot\r\n"

#endif
