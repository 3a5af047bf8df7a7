/* SPDX-License-Identifier: MIT */
/*
 * csv.h - CSV export of breakdowns (RFC 4180: CRLF line ends, cells with a
 * comma, quote, CR or LF are quoted, quotes doubled).
 *
 * Spreadsheet formula injection: tracked strings (page paths, referrers,
 * UTM values) are attacker-controlled, and a spreadsheet runs a cell that
 * starts with '=', '+', '-' or '@' (and, in some, TAB or CR) as a formula.
 * Text cells that start with one of those get a leading single quote, which
 * spreadsheets show as text. Numbers written with hz_csv_uint/hz_csv_fixed
 * are ours and left alone. Invalid UTF-8 bytes become U+FFFD.
 */
#ifndef HZ_DASHBOARD_CSV_H
#define HZ_DASHBOARD_CSV_H

#include <stddef.h>
#include <stdint.h>

struct hz_csv {
    char *buf; /* malloc'd, NUL-terminated; owned by the writer */
    size_t len;
    size_t cap;
    int col; /* cells written on the current line */
};

void hz_csv_init(struct hz_csv *c);
void hz_csv_free(struct hz_csv *c); /* NULL is a no-op */
/* Hands the buffer to the caller (malloc'd, caller frees) and resets c. */
char *hz_csv_take(struct hz_csv *c, size_t *len);

/* One text cell: neutralized and quoted as described above. */
void hz_csv_text(struct hz_csv *c, const char *s, size_t len);
void hz_csv_uint(struct hz_csv *c, uint64_t v);
/* Fixed-point number (decimals 0..6), rounded half away from zero. */
void hz_csv_fixed(struct hz_csv *c, double v, int decimals);
/* An empty cell (a null metric). */
void hz_csv_empty(struct hz_csv *c);
/* Ends the line with CRLF. */
void hz_csv_eol(struct hz_csv *c);

/* 1 if a text cell starting with byte ch is neutralized. */
int hz_csv_dangerous(unsigned char ch);

/* 1 if a spreadsheet could read the cell (s, len) as a formula: after any
 * leading spaces and quotes (' and "), it starts with a dangerous
 * character or its full-width form (＝ ＋ － ＠, U+FF1D U+FF0B U+FF0D
 * U+FF20), which some spreadsheets fold to ASCII. Such a cell is written
 * with a leading '. */
int hz_csv_formula(const char *s, size_t len);

#endif
