/* ip_table.h: process-wide counters keyed by client address, shared by all threads.
 *
 * ip_table counts open connections per address (and in total) so that listeners can
 * refuse one more (limits.connections_per_ip, limits.connections), and the message
 * memory each address holds (limits.message_memory_per_ip, see conn_mem_reserve). It
 * is the one place where threads share mutable state besides the store, guarded by a
 * mutex. Both counts use the same key for an address. */
#ifndef POSTAMT_LIB_IP_TABLE_H
#define POSTAMT_LIB_IP_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
/* Adds n bytes to the message memory held by ip unless that would pass max. The
 * address must hold a counted connection. Returns 1 when added, 0 when refused (or
 * when ip has no counted connection). */
int ip_table_mem_add(struct ip_table *t, const char *ip, uint64_t n, uint64_t max);
/* Gives back n bytes that ip_table_mem_add added for ip. */
void ip_table_mem_sub(struct ip_table *t, const char *ip, uint64_t n);
/* Message memory held by ip right now. */
uint64_t ip_table_mem(struct ip_table *t, const char *ip);

#endif
