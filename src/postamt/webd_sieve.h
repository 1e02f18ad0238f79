/* webd_sieve.h: the Sieve language wired into webd for JMAP (RFC 9661): webd may not
 * include src/sieve (DESIGN.md §3), so the composition root hands it a struct
 * webd_sieve whose compile function calls sieve_compile and sieve_program_save. */
#ifndef POSTAMT_WEBD_SIEVE_H
#define POSTAMT_WEBD_SIEVE_H

#include "webd.h"

/* Fills *w for webd_env.sieve (the server keeps it; read-only once serving). The
 * limits come from the settings each call is given, so a reload applies them. */
void webd_sieve_init(struct webd_sieve *w);

#endif
