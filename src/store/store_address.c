/* store_address.c: the syntax of the addresses the store keeps (accounts, aliases,
 * "@domain" catch-alls): checked, with the domain lower-cased, before anything is
 * looked up or written. */
#include "store_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static bool domain_valid(const char *d, size_t n)
{
	if (n == 0 || n > 253 || d[0] == '.' || d[0] == '-' || d[n - 1] == '.' || d[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)d[i];
		if (c == '.' && i + 1 < n && d[i + 1] == '.')
			return false;
		if (!(c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '.'))
			return false;
	}
	return true;
}

static bool local_valid(const char *l, size_t n)
{
	if (n == 0 || n > 64 || l[0] == '.' || l[n - 1] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)l[i];
		if (c <= ' ' || c == 0x7f || strchr("<>()[],;:\"\\@", c) != NULL)
			return false;
	}
	return true;
}

int store_addr_normalize(struct arena *a, const char *address, bool allow_catchall, const char **out_r,
			 const char **error_r)
{
	if (address == NULL) {
		*error_r = "no address";
		return STORE_EINVAL;
	}
	size_t n = strlen(address);
	while (n > 0 && (address[0] == ' ' || address[0] == '\t')) {
		address++;
		n--;
	}
	while (n > 0 && (address[n - 1] == ' ' || address[n - 1] == '\t'))
		n--;
	if (n == 0 || n > STORE_ADDRESS_MAX) {
		*error_r = n == 0 ? "empty address" : "address too long";
		return STORE_EINVAL;
	}
	const char *at = NULL;
	for (size_t i = 0; i < n; i++) {
		if (address[i] == '@')
			at = address + i;
	}
	if (at == NULL) {
		*error_r = "address has no @domain";
		return STORE_EINVAL;
	}
	size_t ln = (size_t)(at - address), dn = n - ln - 1;
	if (!(ln == 0 && allow_catchall) && !local_valid(address, ln)) {
		*error_r = "invalid local part in address";
		return STORE_EINVAL;
	}
	if (!domain_valid(at + 1, dn)) {
		*error_r = "invalid domain in address";
		return STORE_EINVAL;
	}
	char *out = arena_strndup(a, address, n);
	for (size_t i = ln + 1; i < n; i++) {
		if (out[i] >= 'A' && out[i] <= 'Z')
			out[i] = (char)(out[i] - 'A' + 'a');
	}
	*out_r = out;
	return 1;
}

int store_address_normalize(struct arena *a, const char *address, const char **out_r,
			    const char **error_r)
{
	return store_addr_normalize(a, address, false, out_r, error_r);
}

const char *store_domain_of(const char *addr)
{
	const char *at = strrchr(addr, '@');
	return at ? at + 1 : "";
}
