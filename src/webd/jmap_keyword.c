/* jmap_keyword.c: JMAP keywords (RFC 8621 §4.1.1) and the IMAP flags and keywords
 * of the store. "$seen", "$answered", "$flagged" and "$draft" are the IMAP system
 * flags \Seen, \Answered, \Flagged and \Draft; any other keyword is stored as an IMAP
 * keyword and shown in lower case (JMAP keywords are case-insensitive). */
#include "jmap.h"

#include <string.h>
#include <strings.h>

static const struct {
	const char *kw;
	unsigned int flag;
} kwflags[] = {
	{ "$seen", STORE_F_SEEN },
	{ "$answered", STORE_F_ANSWERED },
	{ "$flagged", STORE_F_FLAGGED },
	{ "$draft", STORE_F_DRAFT },
};

unsigned int jmap_keyword_flag(const char *kw)
{
	for (size_t i = 0; i < sizeof(kwflags) / sizeof(kwflags[0]); i++) {
		if (strcasecmp(kwflags[i].kw, kw) == 0)
			return kwflags[i].flag;
	}
	return 0;
}

bool jmap_keyword_valid(const char *kw)
{
	if (jmap_keyword_flag(kw) != 0)
		return true;
	if (kw[0] == '\0' || strlen(kw) > STORE_KEYWORD_MAX)
		return false;
	for (const char *p = kw; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= 0x20 || c >= 0x7f || strchr("()]{%*\"\\", c) != NULL)
			return false;
	}
	return store_keyword_valid(kw);
}

void jmap_keywords_json(json_t *obj, unsigned int flags, const char *keywords)
{
	for (size_t i = 0; i < sizeof(kwflags) / sizeof(kwflags[0]); i++) {
		if (flags & kwflags[i].flag)
			json_object_set_new(obj, kwflags[i].kw, json_true());
	}
	const char *p = keywords ? keywords : "";
	while (*p) {
		size_t n = strcspn(p, " ");
		if (n > 0 && n <= STORE_KEYWORD_MAX) {
			char kw[STORE_KEYWORD_MAX + 1];
			for (size_t i = 0; i < n; i++)
				kw[i] = (char)((p[i] >= 'A' && p[i] <= 'Z') ? p[i] + 32 : p[i]);
			kw[n] = '\0';
			json_object_set_new(obj, kw, json_true());
		}
		p += n;
		while (*p == ' ')
			p++;
	}
}
