/* corpus.h: a deterministic generator of realistic mail for the junk filter's
 * accuracy test and benchmark: ham and spam in German and English, plain and HTML,
 * personal mail, work mail, invoices, newsletters, shipping notices; phishing,
 * pharma, crypto scams, lottery fraud, fake invoices with attachments, SEO offers.
 * Templates are filled with random names, words, amounts and links from a seed, so
 * the same seed always gives the same messages. */
#ifndef POSTAMT_TESTS_CORPUS_H
#define POSTAMT_TESTS_CORPUS_H

#include "buf.h"

#include <stdbool.h>
#include <stdint.h>

/* Appends one message (CRLF lines) of the kind asked for to out; *seed advances.
 * Returns the name of the template used (static). */
const char *corpus_message(uint64_t *seed, bool spam, const char *hostname, struct buf *out);

#endif
