/* SPDX-License-Identifier: MIT */
/*
 * log.h - one line per event on stderr: "prog[pid]: level: func: message".
 *
 * Privacy: never pass an IP address, a user agent, a full URL, a visitor
 * hash or a token to these functions, at any level. Variables that hold
 * such values are named raw_ip / raw_ua so `make lint` can grep for them.
 * Thread-safe: each call writes its line with one write(2).
 */
#ifndef HZ_COMMON_LOG_H
#define HZ_COMMON_LOG_H

#define HZ_PRINTF(a, b) __attribute__((format(printf, a, b)))

extern int hz_log_level; /* 0 warn, 1 info (default), 2 debug */

/* progname is borrowed and must outlive the process. */
void hz_log_init(const char *progname, int verbosity);
void hz_log_warn(const char *fmt, ...) HZ_PRINTF(1, 2); /* appends ": strerror(errno)" */
void hz_log_warnx(const char *fmt, ...) HZ_PRINTF(1, 2);
void hz_log_info(const char *fmt, ...) HZ_PRINTF(1, 2);
void hz_log_debug_(const char *fmt, ...) HZ_PRINTF(1, 2);
#define hz_log_debug(...)                                                                          \
    do {                                                                                           \
        if (hz_log_level >= 2)                                                                     \
            hz_log_debug_(__VA_ARGS__);                                                            \
    } while (0)
_Noreturn void hz_fatal(const char *fmt, ...) HZ_PRINTF(1, 2);  /* with strerror(errno), exit 1 */
_Noreturn void hz_fatalx(const char *fmt, ...) HZ_PRINTF(1, 2); /* exit 1 */

/* Plain output for tools (haze-geo, haze-ua, -t): message + newline to stdout/stderr. */
void hz_out(const char *fmt, ...) HZ_PRINTF(1, 2);
void hz_errx(const char *fmt, ...) HZ_PRINTF(1, 2);

#endif
