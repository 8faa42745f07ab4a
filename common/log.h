/*
 * log.h -- one line per event on stderr: time, program, level, message.
 *
 * Daemons log what an operator must know (a peer sent garbage, a disk is
 * full, an OSD went down) as one clear line.  Repetitive events from peers
 * go through log_ratelimited() so that a flood of junk cannot flood the log.
 */
#ifndef STORE_LOG_H
#define STORE_LOG_H

#include <stdint.h>

enum log_level { LOG_ERR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

/* Set the program name shown on every line and the most verbose level
 * printed.  The level can also come from $STORE_LOG (err|warn|info|debug). */
void log_init(const char *prog, enum log_level level);

/* Print one line at the given level (if enabled). */
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Like log_msg(), but at most `burst` lines per 10 s per call site state;
 * lines suppressed are counted and reported with the next one printed. */
struct log_limit {
	uint64_t window_start_ms;
	uint32_t printed;
	uint32_t suppressed;
};
void log_ratelimited(struct log_limit *lim, enum log_level level,
		     const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Is a level enabled?  Lets callers skip building expensive messages. */
int log_enabled(enum log_level level);

#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)                                                         \
	do {                                                                   \
		if (log_enabled(LOG_DEBUG))                                    \
			log_msg(LOG_DEBUG, __VA_ARGS__);                       \
	} while (0)

#endif
