/* cli_backup_files.c: file helpers that backup and restore share (cli_backup.h):
 * a copy that hashes what it writes, mkdir -p, rm -r, and the test stop point. */
#include "cli_backup.h"

#include "arena.h"

#include <dirent.h>
#include <pwd.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "textfmt.h"

int backup_copy_file(const char *src, const char *dst, char hex[65], uint64_t *size_r)
{
	int in = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (in < 0)
		return -1;
	int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0) {
		int e = errno;
		close(in);
		errno = e;
		return -1;
	}
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	static _Thread_local char buf[1 << 17];
	uint64_t total = 0;
	int ret = 1;
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n == 0 ? 1 : -1;
			break;
		}
		EVP_DigestUpdate(ctx, buf, (size_t)n);
		total += (uint64_t)n;
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				ret = -1;
				break;
			}
			off += w;
		}
		if (ret < 0)
			break;
	}
	int e = errno;
	unsigned char md[32];
	unsigned int len = 0;
	EVP_DigestFinal_ex(ctx, md, &len);
	EVP_MD_CTX_free(ctx);
	close(in);
	if (close(out) < 0 && ret > 0) {
		e = errno;
		ret = -1;
	}
	if (ret < 0) {
		unlink(dst);
		errno = e;
		return -1;
	}
	textfmt_hex(md, sizeof(md), hex, 65);
	*size_r = total;
	return 1;
}

int backup_make_parents(const char *dst)
{
	char *p = xstrdup(dst);
	int ret = 1;
	for (char *s = strchr(p + 1, '/'); s != NULL; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			ret = -1;
		*s = '/';
		if (ret < 0)
			break;
	}
	free(p);
	return ret;
}

void backup_remove_tree(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return;
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		if (d != NULL) {
			struct dirent *e;
			while ((e = readdir(d)) != NULL) {
				if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
					continue;
				char *child = xasprintf("%s/%s", path, e->d_name);
				backup_remove_tree(child);
				free(child);
			}
			closedir(d);
		}
		rmdir(path);
	} else {
		unlink(path);
	}
}

void backup_test_stop(const char *where)
{
	const char *v = getenv("POSTAMT_TEST_STOP");
	if (v != NULL && strcmp(v, where) == 0)
		raise(SIGSTOP);
}

double backup_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* lchown of path and everything below it. */
static int chown_tree(const char *path, uid_t uid, gid_t gid)
{
	if (lchown(path, uid, gid) < 0)
		return -1;
	struct stat st;
	if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return 0;
	DIR *d = opendir(path);
	if (d == NULL)
		return -1;
	int r = 0;
	struct dirent *e;
	while (r == 0 && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char *child = xasprintf("%s/%s", path, e->d_name);
		r = chown_tree(child, uid, gid);
		free(child);
	}
	closedir(d);
	return r;
}

int backup_give_to(const char *path, const char *user)
{
	if (geteuid() != 0 || user == NULL)
		return 0;
	struct passwd *pw = getpwnam(user);
	if (pw == NULL)
		return 0;
	return chown_tree(path, pw->pw_uid, pw->pw_gid) == 0 ? 1 : -1;
}
