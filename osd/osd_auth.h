/*
 * osd_auth.h -- store-osd's side of security: its keyring (the cluster's
 * daemon secret), the checking of every request's ticket and the signing
 * of replies (auth_server.h), its own credential for the requests it
 * sends (to the MDS, to other OSDs), and what each sender may do here:
 *
 *   SHARD_GET            r; a path-limited client also a file cap (auth.h)
 *                        for that inode, unexpired
 *   SHARD_PUT, _DELETE   rw; a path-limited client a file cap with rw
 *   SHARD_LIST           r, not path-limited (it lists every file's shards)
 *   PING                 anyone
 *   SCRUB                admin
 *   everything else      daemons only
 *
 * An OSD given no keyring serves everyone (an open cluster), and refuses
 * authenticated requests, which it cannot check.
 */
#ifndef OSD_OSD_AUTH_H
#define OSD_OSD_AUTH_H

#include "net.h"

#include <stddef.h>
#include <stdint.h>

struct osd_auth;

/* Load the daemon secret from a keyring file ([daemon]).  Returns 0 and
 * *out, or -errno with a sentence (mode too open, no [daemon], ...). */
int osd_auth_open(const char *keyring, struct osd_auth **out, char *err,
		  size_t errlen);

/* Check srv's requests and sign its replies; make the credential every
 * engine created from now on signs with.  id: the OSD's id, or
 * UINT32_MAX before its first boot.  Returns 0 or -errno. */
int osd_auth_attach(struct osd_auth *a, struct net_server *srv, uint32_t id);

/* The credential (for engines created before attach). */
struct auth_cred *osd_auth_cred(struct osd_auth *a);

/* The OSD now knows its id (boot). */
void osd_auth_set_id(struct osd_auth *a, uint32_t id);

/* A reply from the MDS: adopt secure mode if it says the cluster runs in
 * it (for this OSD's own requests). */
void osd_auth_saw_reply(struct osd_auth *a, const struct rpc_call *c);

/* May req's sender do this?  0, or -errno (-EACCES) with a sentence in
 * why.  Requests that do not decode are let through (the handler answers
 * them -EBADMSG). */
int osd_auth_allowed(struct osd_auth *a, const struct net_req *req,
		     const char *osd_name, char *why, size_t whylen);

/* Free (after the server and every engine are gone). */
void osd_auth_free(struct osd_auth *a);

#endif
