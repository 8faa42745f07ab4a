/*
 * util.c -- storectl's small helpers: byte counts, paths, the progress
 * display.
 */
#include "storectl.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

const char *fmt_bytes(uint64_t n, char *buf, size_t cap)
{
	static const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)n;
	unsigned u = 0;

	while (v >= 1024 && u + 1 < ARRAY_SIZE(units)) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, cap, "%llu B", (unsigned long long)n);
	else
		snprintf(buf, cap, "%.1f %s", v, units[u]);
	return buf;
}

int path_join(char *buf, const char *dir, const char *name)
{
	size_t dl = strlen(dir);
	int n;

	while (dl > 1 && dir[dl - 1] == '/')
		dl--;
	n = snprintf(buf, STORE_PATH_MAX + 1, "%.*s%s%s", (int)dl, dir,
		     dl && dir[dl - 1] == '/' ? "" : "/", name);
	return n < 0 || n > STORE_PATH_MAX ? -ENAMETOOLONG : 0;
}

const char *path_base(const char *path, char *buf, size_t cap)
{
	size_t n = strlen(path);
	const char *s;

	while (n > 1 && path[n - 1] == '/')
		n--;
	s = path + n;
	while (s > path && s[-1] != '/')
		s--;
	snprintf(buf, cap, "%.*s", (int)(path + n - s), s);
	if (!strcmp(buf, "/"))
		buf[0] = '\0';
	return buf;
}

/* At most this many redraws per second: a progress bar that redraws on
 * every chunk costs more than the copy. */
#define PROGRESS_REDRAW_NS 100000000ull

void progress_start(struct progress *p, const char *verb, uint64_t total)
{
	memset(p, 0, sizeof(*p));
	p->on = isatty(STDERR_FILENO);
	p->total = total;
	p->verb = verb;
	p->t0_ns = now_ns();
}

static void progress_draw(struct progress *p, int final)
{
	char done[32], tot[32], eta[32] = "";
	double secs = (double)(now_ns() - p->t0_ns) / 1e9;
	double rate = secs > 0 ? (double)p->done / secs : 0;
	int width = 30, fill = 0;
	char bar[64];

	if (p->total) {
		fill = (int)((double)width * (double)p->done / (double)p->total);
		fill = MIN(fill, width);
	}
	memset(bar, '#', (size_t)fill);
	memset(bar + fill, '.', (size_t)(width - fill));
	bar[width] = '\0';
	if (!final && rate > 0 && p->total > p->done) {
		double left = (double)(p->total - p->done) / rate;

		snprintf(eta, sizeof(eta), " ETA %d:%02d", (int)left / 60,
			 (int)left % 60);
	}
	fprintf(stderr, "\r%s [%s] %s / %s  %.1f MB/s%s   ", p->verb, bar,
		fmt_bytes(p->done, done, sizeof(done)),
		fmt_bytes(p->total, tot, sizeof(tot)), rate / 1e6, eta);
	if (final)
		fputc('\n', stderr);
	fflush(stderr);
}

void progress_add(struct progress *p, uint64_t bytes)
{
	uint64_t now;

	p->done += bytes;
	if (!p->on)
		return;
	now = now_ns();
	if (now - p->last_ns < PROGRESS_REDRAW_NS)
		return;
	p->last_ns = now;
	progress_draw(p, 0);
}

void progress_end(struct progress *p)
{
	if (p->on && (p->done || p->total))
		progress_draw(p, 1);
}
