/*
 * wire.c -- the message frame: see wire.h.
 */
#include "wire.h"
#include "crc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define HDR_CRC_OFF 36

const char *wire_type_name(unsigned type)
{
	static const char *const names[WIRE_TYPE_MAX] = {
		[WIRE_SHARD_PUT] = "SHARD_PUT",
		[WIRE_SHARD_GET] = "SHARD_GET",
		[WIRE_SHARD_LIST] = "SHARD_LIST",
		[WIRE_SHARD_DELETE] = "SHARD_DELETE",
		[WIRE_SCRUB] = "SCRUB",
		[WIRE_OSD_BOOT] = "OSD_BOOT",
		[WIRE_HEARTBEAT] = "HEARTBEAT",
		[WIRE_MAP_GET] = "MAP_GET",
		[WIRE_MAP_PUSH] = "MAP_PUSH",
		[WIRE_STATUS] = "STATUS",
		[WIRE_OSD_CMD] = "OSD_CMD",
		[WIRE_PING] = "PING",
		[WIRE_PG_OBJECTS] = "PG_OBJECTS",
		[WIRE_SESSION_OPEN] = "SESSION_OPEN",
		[WIRE_LOOKUP] = "LOOKUP",
		[WIRE_GETATTR] = "GETATTR",
		[WIRE_SETATTR] = "SETATTR",
		[WIRE_MKDIR] = "MKDIR",
		[WIRE_CREATE] = "CREATE",
		[WIRE_READDIR] = "READDIR",
		[WIRE_UNLINK] = "UNLINK",
		[WIRE_RMDIR] = "RMDIR",
		[WIRE_RENAME] = "RENAME",
		[WIRE_SYMLINK] = "SYMLINK",
		[WIRE_READLINK] = "READLINK",
		[WIRE_LINK] = "LINK",
		[WIRE_OPEN] = "OPEN",
		[WIRE_COMMIT] = "COMMIT",
		[WIRE_OBJMAP] = "OBJMAP",
		[WIRE_STATFS] = "STATFS",
		[WIRE_XATTR_GET] = "XATTR_GET",
		[WIRE_XATTR_SET] = "XATTR_SET",
		[WIRE_XATTR_LIST] = "XATTR_LIST",
		[WIRE_XATTR_REMOVE] = "XATTR_REMOVE",
		[WIRE_CREATE_AT] = "CREATE_AT",
		[WIRE_INO_RESERVE] = "INO_RESERVE",
		[56] = "AUTH_HELLO",
		[57] = "AUTH_PROVE",
		[58] = "AUTH_ADMIN",
	};

	if (type >= WIRE_TYPE_MAX || !names[type])
		return "UNKNOWN";
	return names[type];
}

void wire_msg_begin(struct wbuf *w, unsigned type, unsigned flags,
		    uint64_t req_id, uint64_t epoch, int32_t status)
{
	uint8_t *h = wbuf_reserve(w, WIRE_HDR_LEN);

	if (!h)
		return;
	put_le32(h, WIRE_MAGIC);
	h[4] = WIRE_VERSION;
	h[5] = (uint8_t)type;
	put_le16(h + 6, (uint16_t)flags);
	put_le64(h + 8, req_id);
	put_le64(h + 16, epoch);
	put_le32(h + 24, (uint32_t)status);
	put_le32(h + 28, 0);
	put_le16(h + 32, 0);
	put_le16(h + 34, 0);
	put_le32(h + 36, 0);
}

int wire_msg_finish(struct wbuf *w, uint16_t auth_len)
{
	uint8_t *h = w->p;

	if (w->err)
		return w->err;
	if (w->len < WIRE_HDR_LEN + (size_t)auth_len)
		return -EINVAL;
	if (w->len > STORE_MSG_MAX)
		return -EMSGSIZE;
	put_le32(h + 28, (uint32_t)(w->len - WIRE_HDR_LEN - auth_len));
	put_le16(h + 32, auth_len);
	put_le32(h + HDR_CRC_OFF, store_crc32c(0, h, HDR_CRC_OFF));
	return 0;
}

int wire_hdr_decode(const void *msg, size_t len, struct wire_hdr *h)
{
	const uint8_t *p = msg;

	memset(h, 0, sizeof(*h));
	if (len < WIRE_HDR_LEN || len > STORE_MSG_MAX)
		return -EBADMSG;
	if (get_le32(p) != WIRE_MAGIC)
		return -EBADMSG;
	if (get_le32(p + HDR_CRC_OFF) != store_crc32c(0, p, HDR_CRC_OFF))
		return -EBADMSG;
	if (p[4] != WIRE_VERSION)
		return -EPROTONOSUPPORT;
	h->version = p[4];
	h->type = p[5];
	h->flags = get_le16(p + 6);
	h->req_id = get_le64(p + 8);
	h->epoch = get_le64(p + 16);
	h->status = (int32_t)get_le32(p + 24);
	h->payload_len = get_le32(p + 28);
	h->auth_len = get_le16(p + 32);
	if (get_le16(p + 34) != 0 || (h->flags & ~WIRE_F_ALL))
		return -EBADMSG;
	/* Both lengths are bounded, so the sum cannot overflow size_t. */
	if ((size_t)WIRE_HDR_LEN + h->payload_len + h->auth_len != len)
		return -EBADMSG;
	if (h->status > 0 || h->status < -4095)
		return -EBADMSG;
	if (!(h->flags & WIRE_F_REPLY) && h->status != 0)
		return -EBADMSG;
	return 0;
}

void wire_enc_error(struct wbuf *w, const char *text)
{
	char buf[STORE_ERRMSG_MAX + 1];

	/* Truncate rather than fail: an error must always be deliverable. */
	snprintf(buf, sizeof(buf), "%s", text ? text : "");
	wbuf_str(w, buf, STORE_ERRMSG_MAX);
}

int wire_dec_error(const uint8_t *p, size_t len, char *text, size_t cap)
{
	struct rbuf r;
	int rc;

	if (cap == 0)
		return -EINVAL;
	text[0] = '\0';
	if (len == 0)
		return 0;
	rbuf_init(&r, p, len);
	rbuf_str(&r, text, cap, STORE_ERRMSG_MAX);
	rc = rbuf_done(&r);
	if (rc)
		text[0] = '\0';
	return rc;
}

int wire_build_error(struct wbuf *w, const struct wire_hdr *req,
		     uint64_t epoch, int32_t status, const char *text)
{
	wire_msg_begin(w, req->type, WIRE_F_REPLY, req->req_id, epoch, status);
	wire_enc_error(w, text);
	return wire_msg_finish(w, 0);
}
