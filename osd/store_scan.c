/*
 * store_scan.c -- rebuild the index at startup from DIR/log.
 *
 * Segments are read in id order, each record header by header from
 * offset REC_BLOCK: the scan of a segment ends at the first block that is
 * not a valid record header (zeros past the last record, or a torn write),
 * at a record whose lsn does not grow, or after a SEAL.  Stopping there
 * loses nothing acknowledged: records are acknowledged in log order, each
 * only after an fdatasync covering it (store.c explains why).
 *
 * A record whose header is intact but whose crc array is not is skipped
 * (its length is known from the checked header).  In a segment without a
 * SEAL (the head when the OSD stopped or crashed) every PUT's data is also
 * checked against its crcs and a record that fails is skipped: it can only
 * be a torn write, never acknowledged.  Sealed segments are not read
 * beyond their headers, so startup reads a few KiB per record; their data
 * is checked on every read instead.
 *
 * A segment whose header is unreadable was being created when the OSD
 * stopped (nothing in it was ever acknowledged) and is removed; if it
 * seems to hold records after all, it is renamed to NAME.bad and left for
 * an operator instead.
 */
#include "store_int.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Bytes read at once while walking headers: covers the largest record
 * metadata (69,632 bytes for a 64 MiB shard) and, for small records,
 * several headers per read. */
#define SCAN_WIN (128u << 10)

struct scan_rec {
	struct rec_hdr h;
	uint64_t off;
};

struct scan {
	struct store *s;
	int fd;
	uint64_t size;
	uint8_t *win;
	size_t win_cap;
	uint64_t win_off, win_len;
	uint8_t *dbuf;
	size_t dbuf_cap;
	struct scan_rec *recs;
	size_t n_recs, cap_recs;
	uint64_t max_lsn;
	uint64_t skipped;
};

/* Bytes [off, off + len) of the segment, through the window; NULL on a
 * read error (logged). */
static const uint8_t *win_get(struct scan *sc, const char *name, uint64_t off,
			      uint32_t len)
{
	uint64_t want;
	int rc;

	if (sc->win_len && off >= sc->win_off &&
	    off + len <= sc->win_off + sc->win_len)
		return sc->win + (off - sc->win_off);
	want = MIN((uint64_t)SCAN_WIN, sc->size - off);
	if (want < len)
		want = len;
	rc = io_sync_pread_full(sc->s->ring, sc->fd, sc->win, (uint32_t)want,
				off);
	if (rc) {
		log_err("%s: reading log segment %s at offset %" PRIu64
			" failed: %s; the rest of that segment is skipped",
			sc->s->dir, name, off, strerror(-rc));
		sc->win_len = 0;
		return NULL;
	}
	sc->win_off = off;
	sc->win_len = want;
	return sc->win;
}

static int push_rec(struct scan *sc, const struct rec_hdr *h, uint64_t off)
{
	if (sc->n_recs == sc->cap_recs) {
		size_t ncap = sc->cap_recs ? sc->cap_recs * 2 : 256;
		struct scan_rec *nv = realloc(sc->recs, ncap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		sc->recs = nv;
		sc->cap_recs = ncap;
	}
	sc->recs[sc->n_recs].h = *h;
	sc->recs[sc->n_recs].off = off;
	sc->n_recs++;
	return 0;
}

/* Is the block after the header all zeros (a segment that never got a
 * record)?  1, 0, or 1 on a read error (nothing readable to keep). */
static int first_record_empty(struct scan *sc, const char *name)
{
	const uint8_t *p;

	if (sc->size < 2 * REC_BLOCK)
		return 1;
	p = win_get(sc, name, REC_BLOCK, REC_BLOCK);
	if (!p)
		return 1;
	for (uint32_t i = 0; i < REC_BLOCK; i++)
		if (p[i])
			return 0;
	return 1;
}

/* Check the data of every PUT of an unsealed segment; drop the torn. */
static int verify_unsealed(struct scan *sc, struct seg *g)
{
	size_t keep = 0;

	for (size_t i = 0; i < sc->n_recs; i++) {
		struct scan_rec *r = &sc->recs[i];
		uint32_t bad = 0;
		int rc;

		if (r->h.type == REC_PUT && r->h.shard_len) {
			if (sc->dbuf_cap < r->h.rec_len) {
				bufpool_put(sc->s->pool, sc->dbuf,
					    sc->dbuf_cap);
				sc->dbuf = bufpool_get(sc->s->pool,
						       r->h.rec_len,
						       &sc->dbuf_cap);
				if (!sc->dbuf) {
					sc->dbuf_cap = 0;
					return -ENOMEM;
				}
			}
			rc = io_sync_pread_full(sc->s->ring, sc->fd, sc->dbuf,
						r->h.rec_len, r->off);
			if (!rc)
				rc = rec_data_check(
					&r->h, sc->dbuf,
					sc->dbuf + rec_meta_len(r->h.shard_len),
					0, rec_ncsums(r->h.shard_len), &bad);
			if (rc) {
				log_warn("%s: log segment %s: the %s record "
					 "at offset %" PRIu64 " has torn or "
					 "corrupt data (%s); ignored (a write "
					 "the OSD never acknowledged)",
					 sc->s->dir, g->name,
					 rec_type_name(r->h.type), r->off,
					 rc == -EIO ? "crc mismatch" :
						      strerror(-rc));
				sc->skipped++;
				continue;
			}
		}
		sc->recs[keep++] = *r;
	}
	sc->n_recs = keep;
	return 0;
}

/* Set a bad segment aside: removed if it never held a record, renamed to
 * NAME.bad otherwise. */
static void quarantine(struct scan *sc, const char *name, const char *why)
{
	struct store *s = sc->s;
	char bad[64];

	if (first_record_empty(sc, name)) {
		log_warn("%s: log segment %s %s and holds no record (its "
			 "creation was interrupted): removed", s->dir, name,
			 why);
		if (io_sync_unlinkat(s->ring, s->logfd, name, 0) == 0)
			io_sync_fsync(s->ring, s->logfd, 0);
		return;
	}
	snprintf(bad, sizeof(bad), "%s.bad", name);
	log_err("%s: log segment %s %s but holds data: renamed to %s and "
		"ignored; the shards in it are missing from this OSD", s->dir,
		name, why, bad);
	if (io_sync_renameat(s->ring, s->logfd, name, s->logfd, bad) == 0)
		io_sync_fsync(s->ring, s->logfd, 0);
}

static int scan_one(struct scan *sc, uint64_t id, char *err, size_t errlen)
{
	struct store *s = sc->s;
	char name[32];
	const uint8_t *p;
	struct seg_hdr sh;
	struct seg *g;
	struct stat st;
	uint64_t off, prev;
	int rc, sealed = 0;

	seg_format_name(name, sizeof(name), id);
	rc = io_sync_openat(s->ring, s->logfd, name,
			    O_RDONLY | O_CLOEXEC | (s->odirect ? O_DIRECT : 0),
			    0);
	if (rc < 0) {
		snprintf(err, errlen, "cannot open %s/log/%s: %s", s->dir,
			 name, strerror(-rc));
		return rc;
	}
	sc->fd = rc;
	sc->win_len = 0;
	sc->n_recs = 0;
	if (fstat(sc->fd, &st) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot stat %s/log/%s: %s", s->dir,
			 name, strerror(-rc));
		close(sc->fd);
		return rc;
	}
	sc->size = (uint64_t)st.st_size & ~(uint64_t)(REC_BLOCK - 1);
	p = sc->size >= REC_BLOCK ? win_get(sc, name, 0, REC_BLOCK) : NULL;
	rc = p ? seg_hdr_decode(p, REC_BLOCK, &sh) : -EBADMSG;
	if (rc == -EPROTONOSUPPORT) {
		snprintf(err, errlen, "%s/log/%s was written by a newer "
			 "store-osd: run the newer version", s->dir, name);
		close(sc->fd);
		return rc;
	}
	if (rc == 0 && (sh.id != id || memcmp(sh.uuid, s->sb.uuid, 16)))
		rc = -EXDEV;
	if (rc) {
		quarantine(sc, name, rc == -EXDEV ?
			   "belongs to another OSD or was renamed" :
			   "has no valid header");
		close(sc->fd);
		return 0;
	}
	if (sh.size < sc->size)
		sc->size = sh.size;
	g = calloc(1, sizeof(*g));
	if (!g) {
		close(sc->fd);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	g->id = id;
	g->fd = sc->fd;
	snprintf(g->name, sizeof(g->name), "%s", name);
	g->size = sc->size;
	g->base_lsn = sh.base_lsn;
	g->state = SEG_CLOSED;
	g->old = 1;
	if (seg_add(s, g)) {
		free(g);
		close(sc->fd);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	off = REC_BLOCK;
	prev = sh.base_lsn;
	while (off + REC_BLOCK <= sc->size) {
		struct rec_hdr h;

		p = win_get(sc, name, off, REC_BLOCK);
		if (!p || rec_hdr_decode(p, REC_BLOCK, &h))
			break;
		if (h.lsn <= prev || off + h.rec_len > sc->size)
			break;
		prev = h.lsn;
		if (h.type == REC_SEAL) {
			sealed = 1;
			off += REC_BLOCK;
			break;
		}
		if (h.type == REC_PUT && h.shard_len) {
			uint32_t meta = rec_meta_len(h.shard_len);

			p = win_get(sc, name, off, meta);
			if (!p)
				break;
			if (rec_csums_check(&h, p, meta)) {
				log_warn("%s: log segment %s: the crc array "
					 "of the record at offset %" PRIu64
					 " is damaged; record ignored", s->dir,
					 name, off);
				sc->skipped++;
				off += h.rec_len;
				continue;
			}
		}
		if (push_rec(sc, &h, off)) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		off += h.rec_len;
	}
	g->end = off;
	g->sealed = (uint8_t)sealed;
	if (prev > sc->max_lsn)
		sc->max_lsn = prev;
	if (!sealed) {
		rc = verify_unsealed(sc, g);
		if (rc) {
			snprintf(err, errlen, "out of memory");
			return rc;
		}
	}
	for (size_t i = 0; i < sc->n_recs; i++) {
		struct scan_rec *r = &sc->recs[i];

		if (r->h.type == REC_PUT)
			apply_put(s, &r->h, g, r->off);
		else
			apply_delete(s, &r->h, g, r->off);
	}
	return 0;
}

static int id_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The ids of DIR/log/<16 hex>.seg, sorted. */
static int list_segments(struct store *s, uint64_t **ids, size_t *n)
{
	int fd = dup(s->logfd);
	struct dirent *d;
	size_t cap = 0;
	DIR *dir;

	*ids = NULL;
	*n = 0;
	if (fd < 0)
		return -errno;
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return -errno;
	}
	while ((d = readdir(dir))) {
		char *end;
		uint64_t id;

		if (d->d_name[0] == '.')
			continue;
		if (strlen(d->d_name) != 20 || strcmp(d->d_name + 16, ".seg")) {
			if (!strstr(d->d_name, ".bad") &&
			    strcmp(d->d_name, "odirect.probe"))
				log_warn("%s/log: ignoring unexpected file %s",
					 s->dir, d->d_name);
			continue;
		}
		id = strtoull(d->d_name, &end, 16);
		if (end != d->d_name + 16)
			continue;
		if (*n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			uint64_t *nv = realloc(*ids, ncap * sizeof(*nv));

			if (!nv) {
				closedir(dir);
				return -ENOMEM;
			}
			*ids = nv;
			cap = ncap;
		}
		(*ids)[(*n)++] = id;
	}
	closedir(dir);
	if (*n)
		qsort(*ids, *n, sizeof(**ids), id_cmp);
	return 0;
}

int store_scan(struct store *s, char *err, size_t errlen)
{
	struct scan sc;
	uint64_t *ids, t0 = now_ms();
	size_t n;
	int rc;

	memset(&sc, 0, sizeof(sc));
	sc.s = s;
	rc = list_segments(s, &ids, &n);
	if (rc) {
		snprintf(err, errlen, "cannot list %s/log: %s", s->dir,
			 strerror(-rc));
		return rc;
	}
	sc.win = bufpool_get(s->pool, SCAN_WIN, &sc.win_cap);
	if (!sc.win) {
		free(ids);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < n && !rc; i++)
		rc = scan_one(&sc, ids[i], err, errlen);
	if (n)
		s->next_seg_id = ids[n - 1] + 1;
	for (uint32_t i = 0; i < s->n_segs; i++)
		if (s->segs[i]->base_lsn > sc.max_lsn)
			sc.max_lsn = s->segs[i]->base_lsn;
	s->next_lsn = sc.max_lsn + 1;
	bufpool_put(s->pool, sc.win, sc.win_cap);
	bufpool_put(s->pool, sc.dbuf, sc.dbuf_cap);
	free(sc.recs);
	free(ids);
	if (!rc && (n || sc.skipped))
		log_info("%s: %zu shard versions and %zu tombstones from %u "
			 "log segments in %" PRIu64 " ms%s", s->dir,
			 s->index.count, s->tombs.count, s->n_segs,
			 now_ms() - t0,
			 sc.skipped ? " (torn or damaged records skipped)" :
				      "");
	return rc;
}
