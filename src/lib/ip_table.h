/* ip_table.h: process-wide counters keyed by client address, shared by all threads.
 *
 * ip_table counts open connections per address (and in total) so that listeners can
 * refuse one more (limits.connections_per_ip, limits.connections). It is the one
 * place where threads share mutable state besides the store, guarded by a mutex. */
#ifndef POSTAMT_LIB_IP_TABLE_H
#define POSTAMT_LIB_IP_TABLE_H

#include <stdbool.h>
#include <stddef.h>

struct ip_table;

struct ip_table *ip_table_new(void);
void ip_table_free(struct ip_table **tp);
/* Addresses are counted under their net_addr_key (an IPv6 /64 as one address).
 * Counts one more connection from ip unless that would pass per_ip for the address or
 * total overall. Returns 1 when counted, 0 when refused by per_ip, -1 when refused by
 * total. */
int ip_table_acquire(struct ip_table *t, const char *ip, size_t per_ip, size_t total);
/* Releases one connection counted by a successful acquire. */
void ip_table_release(struct ip_table *t, const char *ip);
/* Connections currently counted for ip, and overall. */
size_t ip_table_count(struct ip_table *t, const char *ip);
size_t ip_table_total(struct ip_table *t);

#endif
