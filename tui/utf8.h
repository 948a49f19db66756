/*
 * noid — utf8: decoding, grapheme clusters and display width.
 *
 * Every part of the screen measures text through this module so the list,
 * the chat pane and the input line agree on where a character starts and
 * how many cells it takes.  Text is (pointer, length) in bytes; nothing
 * here needs a NUL terminator and nothing allocates except utf8_wrap.
 *
 * Decoding: strict UTF-8 (no overlong forms, no surrogates, nothing past
 * U+10FFFF).  Each byte that does not start a valid sequence is one unit
 * shown as U+FFFD, so any byte string is displayable and every call
 * advances.
 *
 * Clusters ("characters" to the user; never split by the cursor, by
 * deletion or by a cut):
 *   - a base code point followed by everything that has zero width
 *     (combining marks Mn/Me, ZWJ, variation selectors FE00-FE0F, tags);
 *   - an emoji skin-tone modifier U+1F3FB-1F3FF after a pictographic base;
 *   - ZWJ sequences: a pictograph, ZWJ, another pictograph (…);
 *   - regional indicators in pairs (a flag); an odd one stands alone;
 *   - a control character (including '\n') is always a cluster of its own.
 *
 * Width of a cluster, in terminal cells:
 *   - wcwidth() of the base, as ncursesw computes it (the caller sets a
 *     UTF-8 LC_CTYPE, which ncursesw needs anyway);
 *   - a base of width 1 followed by U+FE0F (emoji presentation) is 2;
 *   - a regional-indicator pair is 2;
 *   - a ZWJ sequence is as wide as its first element, which is what most
 *     terminals draw (one glyph) and what tmux >= 3.4 does;
 *   - controls, invalid bytes, lone combining marks and code points the
 *     C library does not know are 1 (unknown ones in the emoji and CJK
 *     planes are 2); drawers show a control as U+FFFD ('\t' as a space)
 *     and a lone mark on a U+00A0 base.
 * ncursesw's own bookkeeping differs from these rules for VS16 and ZWJ
 * sequences, so drawers place each cluster at the column computed here
 * rather than relying on the cursor that ncurses advances.
 *
 * Copyright (C) 2026 the noid authors.  AGPL-3.0-or-later.
 */
#ifndef NOID_UTF8_H
#define NOID_UTF8_H

#include <stddef.h>
#include <stdint.h>

#define UTF8_REPLACEMENT 0xfffdu

/* One line of wrapped text: bytes [off, off + len) of the input. */
struct utf8_line {
	size_t off;
	size_t len;
	int width;
};

/*
 * Decode the code point at s (len bytes available) into *cp.  Returns the
 * bytes used: 1-4, or 0 only when len is 0.  An invalid byte gives
 * U+FFFD and 1.
 */
size_t utf8_decode(const char *s, size_t len, uint32_t *cp);

/* Encode cp (a scalar value) into out; returns 1-4, or 0 if invalid. */
size_t utf8_encode(uint32_t cp, char out[4]);

/* Whether all of s is valid UTF-8. */
int utf8_valid(const char *s, size_t len);

/*
 * The end of the cluster that starts at off (off < len gives a value
 * > off; off >= len gives len).  *width, when not NULL, gets its width.
 */
size_t utf8_next(const char *s, size_t len, size_t off, int *width);

/*
 * The start of the cluster that ends at off (0 when off is 0).  off must
 * be a cluster boundary, as every offset this module returns is.
 */
size_t utf8_prev(const char *s, size_t len, size_t off);

/* Display width of s: the sum of its clusters' widths. */
size_t utf8_width(const char *s, size_t len);

/*
 * The byte length of the longest prefix of s no wider than maxw cells,
 * ending on a cluster boundary; its width goes to *width when not NULL.
 */
size_t utf8_cut(const char *s, size_t len, size_t maxw, size_t *width);

/*
 * Word motion.  A word is a run of clusters whose base is a letter, a
 * digit or any non-ASCII code point that is neither space nor
 * punctuation.  utf8_word_next gives the end of the next word after off
 * (Alt-F, Alt-D); utf8_word_prev the start of the word before off
 * (Alt-B).  utf8_space_prev gives the start of the whitespace-delimited
 * word before off (Ctrl-W, unix-word-rubout).
 */
size_t utf8_word_next(const char *s, size_t len, size_t off);
size_t utf8_word_prev(const char *s, size_t len, size_t off);
size_t utf8_space_prev(const char *s, size_t len, size_t off);

/*
 * Wrap s into lines of at most cols cells (cols >= 1), breaking after
 * spaces where possible and inside a word only when it is longer than a
 * line.  '\n' ends a line; the newline and the space a line breaks at are
 * in no line.  A cluster wider than cols (a CJK character when cols is 1)
 * stands alone on a line wider than cols.  Always gives at least one
 * line.  Returns the count; *lines is allocated (caller frees).
 */
size_t utf8_wrap(const char *s, size_t len, int cols, struct utf8_line **lines);

#endif
