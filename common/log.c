/*
 * log.c -- see log.h.  Each line is formatted into one buffer and written
 * with a single write(2), so lines from several threads never interleave.
 */
#include "log.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static char log_prog[32] = "store";
static enum log_level log_max = LOG_INFO;

/* Lines allowed per window by log_ratelimited(): enough to see a problem,
 * few enough that a peer sending junk in a loop cannot fill the disk. */
#define LOG_BURST 5
#define LOG_WINDOW_MS 10000

void log_init(const char *prog, enum log_level level)
{
	const char *env = getenv("STORE_LOG");

	if (prog)
		snprintf(log_prog, sizeof(log_prog), "%s", prog);
	log_max = level;
	if (env) {
		if (!strcasecmp(env, "err"))
			log_max = LOG_ERR;
		else if (!strcasecmp(env, "warn"))
			log_max = LOG_WARN;
		else if (!strcasecmp(env, "info"))
			log_max = LOG_INFO;
		else if (!strcasecmp(env, "debug"))
			log_max = LOG_DEBUG;
	}
}

int log_enabled(enum log_level level)
{
	return level <= log_max;
}

static void log_vline(enum log_level level, const char *fmt, va_list ap,
		      const char *suffix)
{
	static const char *names[] = { "ERROR", "WARN", "INFO", "DEBUG" };
	char line[1024];
	struct timespec ts;
	struct tm tm;
	int n, m;

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof(line), "%02d:%02d:%02d.%03ld %s[%d] %s: ",
		     tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
		     log_prog, (int)getpid(), names[level]);
	if (n < 0)
		return;
	m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	if (m < 0)
		return;
	n = MIN((size_t)n + (size_t)m, sizeof(line) - 2);
	if (suffix) {
		m = snprintf(line + n, sizeof(line) - (size_t)n - 1, "%s",
			     suffix);
		if (m > 0)
			n = MIN((size_t)n + (size_t)m, sizeof(line) - 2);
	}
	line[n++] = '\n';
	/* One write per line: atomic enough for stderr appends. */
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level > log_max)
		return;
	va_start(ap, fmt);
	log_vline(level, fmt, ap, NULL);
	va_end(ap);
}

void log_ratelimited(struct log_limit *lim, enum log_level level,
		     const char *fmt, ...)
{
	uint64_t now = now_ms();
	char suffix[64] = "";
	va_list ap;

	if (level > log_max)
		return;
	if (now - lim->window_start_ms >= LOG_WINDOW_MS) {
		lim->window_start_ms = now;
		lim->printed = 0;
	}
	if (lim->printed >= LOG_BURST) {
		lim->suppressed++;
		return;
	}
	lim->printed++;
	if (lim->suppressed) {
		snprintf(suffix, sizeof(suffix), " (%u similar lines suppressed)",
			 lim->suppressed);
		lim->suppressed = 0;
	}
	va_start(ap, fmt);
	log_vline(level, fmt, ap, suffix);
	va_end(ap);
}
