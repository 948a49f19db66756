/*
 * noid — qr: invitation links as QR codes drawn with half blocks.
 *
 * One text cell holds two module rows (▀ ▄ █ and space), so a version-5
 * code with its 2-module quiet zone is 41 x 21 cells and fits 80 x 24
 * with a title line (DESIGN §5 keeps invitation links that short).  Text
 * made only of the QR alphanumeric set (upper-case base32, digits,
 * " $%*+-./:") is encoded in alphanumeric mode, anything else as 8-bit
 * bytes.  This module makes strings; the screen code draws them.
 *
 * Scanners want dark modules on a light background.  A glyph shows the
 * terminal's foreground colour, so the style says what the glyphs are:
 *   QR_STYLE_DARK_FG   glyphs are the dark modules: right on dark-on-light
 *                      terminals, or when the caller sets black on white;
 *   QR_STYLE_LIGHT_FG  glyphs are the light modules (quiet zone included):
 *                      right on the usual light-on-dark terminal, or with
 *                      reverse video on a dark-on-light one;
 *   QR_STYLE_ANSI      DARK_FG inside SGR black-on-white, right on any
 *                      terminal; for printing outside ncurses.
 *
 * Copyright (C) 2026 the noid authors.  AGPL-3.0-or-later.
 */
#ifndef NOID_QR_H
#define NOID_QR_H

#include <stddef.h>

#define QR_QUIET 2 /* modules of quiet zone on each side */

enum qr_level {
	QR_LEVEL_L, /* 7% recovery: the smallest code */
	QR_LEVEL_M /* 15% recovery: preferred when it fits */
};

enum qr_style { QR_STYLE_DARK_FG, QR_STYLE_LIGHT_FG, QR_STYLE_ANSI };

struct qr;

/* Whether all of s is in the QR alphanumeric set. */
int qr_text_is_alnum(const char *s, size_t len);

/*
 * Encode text (NUL-terminated) at the smallest version for level.
 * NOID_ERR_INVAL for empty text, NOID_ERR_TOOBIG when no version holds
 * it.  *out is freed with qr_free.
 */
int qr_encode(const char *text, enum qr_level level, struct qr **out);

/*
 * Encode at level M if that fits cols x rows with a title line, else at
 * level L; NOID_ERR_TOOBIG (and *out NULL) when neither fits, so the
 * caller offers the link text instead.
 */
int qr_encode_fit(const char *text, int cols, int rows, struct qr **out);

void qr_free(struct qr *q);

/* Version 1-40, and whether alphanumeric mode was used. */
int qr_version(const struct qr *q);
int qr_is_alnum(const struct qr *q);
/* Modules per side, without the quiet zone. */
int qr_side(const struct qr *q);
/* Size on screen in cells, quiet zone included. */
int qr_cols(const struct qr *q);
int qr_rows(const struct qr *q);
/* Whether the code and one title line above it fit cols x rows. */
int qr_fits(const struct qr *q, int cols, int rows);

/* Whether module (x, y) is dark; coordinates include the quiet zone. */
int qr_dark(const struct qr *q, int x, int y);

/* Row 0..qr_rows()-1 as a UTF-8 string of qr_cols() cells (caller frees). */
char *qr_render_line(const struct qr *q, int row, enum qr_style style);

/* All rows, each ending in '\n' (caller frees). */
char *qr_render(const struct qr *q, enum qr_style style);

#endif
