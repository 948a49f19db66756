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
 * Width of a cluster, in terminal cells: what ncursesw's bookkeeping
 * gives the text utf8_display() makes of it, and what tmux and terminals
 * draw, so layout, curses' cursor and the screen agree:
 *   - the sum of wcwidth() of its code points (the caller sets a UTF-8
 *     LC_CTYPE, which ncursesw needs anyway); zero-width ones (marks,
 *     ZWJ, variation selectors) add nothing: U+2764 U+FE0F is 1 and a
 *     skin-toned thumb 4 (two cells, as ncursesw and tmux draw it);
 *   - except a ZWJ sequence (pictograph ZWJ pictograph ...): one glyph as
 *     wide as its first element, as tmux and most terminals draw it
 *     (a three-person family is 2).  ncursesw would count each element,
 *     so utf8_display() gives only the first element (same width) and
 *     the drawer writes the whole sequence over it past curses
 *     (utf8_joined() says which clusters need that);
 *   - a base of width 0 (a lone mark) is 1: drawn on a U+00A0 base;
 *   - controls, invalid bytes and code points the C library does not
 *     know (wcwidth -1) are 1: drawn as U+FFFD ('\t' as a space).
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
 * Copy s to out as ncursesw should draw it (see the width rules): each
 * control, invalid byte and unknown code point becomes U+FFFD, '\t' a
 * space, a cluster starting with a mark gets a U+00A0 base, a ZWJ
 * sequence is cut to its first element and a ZWJ joining nothing goes.  out
 * holds at least UTF8_DISPLAY_MAX(len) bytes; returns the bytes written
 * (no NUL).  Drawn, it takes exactly utf8_width(s, len) cells.
 */
#define UTF8_DISPLAY_MAX(len) (3 * (len) + 2)
size_t utf8_display(const char *s, size_t len, char *out);

/* Whether the cluster s (len bytes, one cluster) is a ZWJ sequence. */
int utf8_joined(const char *s, size_t len);

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
