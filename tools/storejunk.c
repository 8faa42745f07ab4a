/*
 * storejunk -- send hostile input to a daemon's port, for fault tests.
 *
 *     storejunk ADDR [COUNT]
 *
 * Sends COUNT (default 100) messages over nanomsg to ADDR: random bytes,
 * frames with a valid header and a random payload of every message type,
 * truncated frames, frames with lengths that lie, and replies where
 * requests belong.  Exits 0 once everything was handed to the socket; the
 * test then checks that the daemon still serves and logged the junk.
 */
#include "crc.h"
#include "wire.h"

#include <nanomsg/nn.h>
#include <nanomsg/reqrep.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void send_one(int s, const uint8_t *p, size_t n)
{
	/* A REQ socket replaces an unsent request with the next: wait for
	 * each to leave, and never for an answer. */
	if (nn_send(s, p, n, 0) < 0)
		fprintf(stderr, "storejunk: send: %s\n",
			nn_strerror(nn_errno()));
	usleep(2000);
}

int main(int argc, char **argv)
{
	int count = argc > 2 ? atoi(argv[2]) : 100, s, to = 2000;
	uint8_t buf[8192];

	if (argc < 2) {
		fprintf(stderr, "usage: storejunk ADDR [COUNT]\n");
		return 2;
	}
	srand((unsigned)getpid());
	s = nn_socket(AF_SP, NN_REQ);
	if (s < 0 || nn_setsockopt(s, NN_SOL_SOCKET, NN_SNDTIMEO, &to,
				   sizeof(to)) < 0 ||
	    nn_connect(s, argv[1]) < 0) {
		fprintf(stderr, "storejunk: %s: %s\n", argv[1],
			nn_strerror(nn_errno()));
		return 1;
	}
	for (int i = 0; i < count; i++) {
		size_t n = (size_t)(rand() % (int)sizeof(buf));

		for (size_t j = 0; j < n; j++)
			buf[j] = (uint8_t)rand();
		switch (i % 5) {
		case 0: /* pure noise */
			break;
		case 1: /* a valid header over a random payload */
		case 2:
			if (n < WIRE_HDR_LEN)
				n = WIRE_HDR_LEN + 16;
			put_le32(buf, WIRE_MAGIC);
			buf[4] = WIRE_VERSION;
			buf[5] = (uint8_t)(1 + rand() % 60);
			put_le16(buf + 6, 0);
			put_le32(buf + 24, 0);
			put_le32(buf + 28, (uint32_t)(n - WIRE_HDR_LEN));
			put_le16(buf + 32, 0);
			put_le16(buf + 34, 0);
			put_le32(buf + 36, store_crc32c(0, buf, 36));
			break;
		case 3: /* a header whose length lies */
			if (n < WIRE_HDR_LEN)
				n = WIRE_HDR_LEN;
			put_le32(buf, WIRE_MAGIC);
			buf[4] = WIRE_VERSION;
			put_le32(buf + 28, 0x7fffffff);
			put_le32(buf + 36, store_crc32c(0, buf, 36));
			break;
		case 4: /* a reply sent as a request */
			if (n < WIRE_HDR_LEN)
				n = WIRE_HDR_LEN;
			put_le32(buf, WIRE_MAGIC);
			buf[4] = WIRE_VERSION;
			buf[5] = 2;
			put_le16(buf + 6, WIRE_F_REPLY);
			put_le32(buf + 28, (uint32_t)(n - WIRE_HDR_LEN));
			put_le16(buf + 32, 0);
			put_le16(buf + 34, 0);
			put_le32(buf + 36, store_crc32c(0, buf, 36));
			break;
		}
		send_one(s, buf, n);
	}
	/* Give the last message time to leave, then exit without nn_close:
	 * nanomsg 1.1.5 can assert while tearing down a REQ socket whose
	 * request was never answered (nn_req_term frees a chunk twice). */
	usleep(100000);
	fflush(NULL);
	_exit(0);
}
