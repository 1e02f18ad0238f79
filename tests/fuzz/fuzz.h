/* fuzz.h: small helpers shared by the libFuzzer targets in this directory.
 *
 * A target feeds one parser and checks invariants with CHECK, which prints the
 * failed condition and aborts, so that libFuzzer saves the input as a crash. */
#ifndef POSTAMT_FUZZ_H
#define POSTAMT_FUZZ_H

#include "buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                                          \
	do {                                                                                 \
		if (!(cond)) {                                                               \
			fprintf(stderr, "invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
			abort();                                                             \
		}                                                                            \
	} while (0)

/* True when the view v lies within [base, base + len). */
static inline bool view_inside(struct bytes v, const void *base, size_t len)
{
	uintptr_t b = (uintptr_t)base, p = (uintptr_t)v.p;
	return p >= b && v.len <= len && p - b <= len - v.len;
}

/* True when the view v contains byte c. */
static inline bool view_has(struct bytes v, char c)
{
	for (size_t i = 0; i < v.len; i++) {
		if (v.p[i] == c)
			return true;
	}
	return false;
}

static inline bool is_alpha(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
