/*
 * utf8: decoding, grapheme clusters and display width (rules in utf8.h).
 *
 * Clusters are found by a forward scan only.  Going backwards, the code
 * walks back to a code point that is certainly a cluster start (one that
 * nothing can join to what precedes it) and scans forward from there, so
 * both directions agree by construction.
 */
#include "utf8.h"

#include <string.h>
#include <wchar.h>
#include <wctype.h>

#include "base.h"

#define ZWJ 0x200du

/* Whether b is a UTF-8 continuation byte. */
static int
utf8_is_cont(unsigned char b)
{
	return (b & 0xc0) == 0x80;
}

size_t
utf8_decode(const char *s, size_t len, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n, i;
	uint32_t v;

	if (len == 0) {
		*cp = UTF8_REPLACEMENT;
		return 0;
	}
	if (u[0] < 0x80) {
		*cp = u[0];
		return 1;
	}
	if (u[0] >= 0xc2 && u[0] <= 0xdf) {
		n = 2;
		v = u[0] & 0x1f;
	} else if (u[0] >= 0xe0 && u[0] <= 0xef) {
		n = 3;
		v = u[0] & 0x0f;
		if (u[0] == 0xe0)
			lo = 0xa0; /* overlong */
		else if (u[0] == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (u[0] >= 0xf0 && u[0] <= 0xf4) {
		n = 4;
		v = u[0] & 0x07;
		if (u[0] == 0xf0)
			lo = 0x90; /* overlong */
		else if (u[0] == 0xf4)
			hi = 0x8f; /* past U+10FFFF */
	} else
		goto bad;
	if (len < n || u[1] < lo || u[1] > hi)
		goto bad;
	for (i = 1; i < n; i++) {
		if (!utf8_is_cont(u[i]))
			goto bad;
		v = (v << 6) | (u[i] & 0x3f);
	}
	*cp = v;
	return n;
bad:
	*cp = UTF8_REPLACEMENT;
	return 1;
}

size_t
utf8_encode(uint32_t cp, char out[4])
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp >= 0xd800 && cp <= 0xdfff)
		return 0;
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	if (cp > 0x10ffff)
		return 0;
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

int
utf8_valid(const char *s, size_t len)
{
	size_t off = 0, n;
	uint32_t cp;

	while (off < len) {
		n = utf8_decode(s + off, len - off, &cp);
		if (cp == UTF8_REPLACEMENT && n == 1)
			return 0;
		off += n;
	}
	return 1;
}

/* C0, DEL, C1 and the line/paragraph separators: always alone. */
static int
utf8_is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp == 0x2028 ||
	    cp == 0x2029;
}

/* Zero-width code points that join the code point before them. */
static int
utf8_is_extend(uint32_t cp)
{
	if (cp < 0x300)
		return 0;
	return wcwidth((wchar_t)cp) == 0;
}

static int
utf8_is_ri(uint32_t cp)
{
	return cp >= 0x1f1e6 && cp <= 0x1f1ff;
}

static int
utf8_is_modifier(uint32_t cp)
{
	return cp >= 0x1f3fb && cp <= 0x1f3ff;
}

/* An approximation of Extended_Pictographic good enough for emoji. */
static int
utf8_is_pict(uint32_t cp)
{
	return cp == 0xa9 || cp == 0xae || (cp >= 0x203c && cp <= 0x2bff) ||
	    cp == 0x3030 || cp == 0x303d || cp == 0x3297 || cp == 0x3299 ||
	    (cp >= 0x1f000 && cp <= 0x1faff);
}

/*
 * Width of a code point that takes cells (a cluster's base, or a
 * pictograph, skin tone or regional indicator joined to it) as ncursesw
 * counts it once utf8_display() made it drawable: never 0.
 */
static int
utf8_base_width(uint32_t cp)
{
	int w;

	if (cp < 0x7f)
		return 1;
	w = wcwidth((wchar_t)cp);
	return w > 0 ? w : 1;
}

/* Whether a drawer must show cp as U+FFFD: ncursesw can't draw it. */
static int
utf8_is_undrawable(uint32_t cp)
{
	return utf8_is_control(cp) || (cp >= 0x7f && wcwidth((wchar_t)cp) < 0);
}

size_t
utf8_next(const char *s, size_t len, size_t off, int *width)
{
	uint32_t base, cp, prev, elem;
	size_t p, n;
	int w, ri;

	if (off >= len) {
		if (width != NULL)
			*width = 0;
		return len;
	}
	p = off + utf8_decode(s + off, len - off, &base);
	w = utf8_base_width(base);
	if (utf8_is_control(base))
		goto out;
	prev = elem = base;
	ri = utf8_is_ri(base);
	while (p < len) {
		n = utf8_decode(s + p, len - p, &cp);
		if (utf8_is_extend(cp)) {
			/* Zero width: ncursesw keeps it in the cell before. */
		} else if (utf8_is_modifier(cp) && utf8_is_pict(elem) &&
		    prev != ZWJ) {
			/* Skin tone: part of the emoji, a cell of its own. */
			w += utf8_base_width(cp);
		} else if (prev == ZWJ && utf8_is_pict(elem) &&
		    utf8_is_pict(cp)) {
			/* One glyph, as wide as its first element. */
			elem = cp;
		} else if (ri == 1 && utf8_is_ri(cp)) {
			ri = 2;
			w += utf8_base_width(cp);
		} else
			break;
		prev = cp;
		p += n;
	}
out:
	if (width != NULL)
		*width = w;
	return p;
}

/* The start of the code point that ends at off (off > 0). */
static size_t
utf8_cp_prev(const char *s, size_t off)
{
	size_t j = off - 1;
	uint32_t cp;

	while (j > 0 && off - j < 4 && utf8_is_cont((unsigned char)s[j]))
		j--;
	if (j + utf8_decode(s + j, off - j, &cp) == off)
		return j;
	return off - 1;
}

/* Whether the code point at off certainly starts a cluster. */
static int
utf8_is_hard_start(const char *s, size_t len, size_t off)
{
	uint32_t cp, pc;
	size_t pi;

	if (off == 0)
		return 1;
	utf8_decode(s + off, len - off, &cp);
	if (utf8_is_control(cp))
		return 1;
	pi = utf8_cp_prev(s, off);
	utf8_decode(s + pi, off - pi, &pc);
	if (utf8_is_control(pc))
		return 1;
	return !utf8_is_extend(cp) && !utf8_is_modifier(cp) &&
	    !utf8_is_ri(cp) && pc != ZWJ;
}

size_t
utf8_prev(const char *s, size_t len, size_t off)
{
	size_t p, q;

	if (off > len)
		off = len;
	if (off == 0)
		return 0;
	p = off;
	do
		p = utf8_cp_prev(s, p);
	while (!utf8_is_hard_start(s, len, p));
	for (;;) {
		q = utf8_next(s, len, p, NULL);
		if (q >= off)
			return p;
		p = q;
	}
}

size_t
utf8_width(const char *s, size_t len)
{
	size_t p = 0, total = 0;
	int w;

	while (p < len) {
		p = utf8_next(s, len, p, &w);
		total += (size_t)w;
	}
	return total;
}

size_t
utf8_cut(const char *s, size_t len, size_t maxw, size_t *width)
{
	size_t p = 0, q, total = 0;
	int w;

	while (p < len) {
		q = utf8_next(s, len, p, &w);
		if (total + (size_t)w > maxw)
			break;
		total += (size_t)w;
		p = q;
	}
	if (width != NULL)
		*width = total;
	return p;
}

/* The base code point of the cluster at off. */
static uint32_t
utf8_base_at(const char *s, size_t len, size_t off)
{
	uint32_t cp;

	utf8_decode(s + off, len - off, &cp);
	return cp;
}

static int
utf8_is_word(uint32_t cp)
{
	return iswalnum((wint_t)cp) != 0;
}

static int
utf8_is_space(uint32_t cp)
{
	return cp == ' ' || cp == '\t' || cp == '\n' ||
	    iswspace((wint_t)cp) != 0;
}

/* Move forward from off over clusters whose base has pred() == want. */
static size_t
utf8_skip_fwd(
    const char *s, size_t len, size_t off, int (*pred)(uint32_t), int want)
{
	while (off < len && pred(utf8_base_at(s, len, off)) == want)
		off = utf8_next(s, len, off, NULL);
	return off;
}

/* Move back from off over clusters whose base has pred() == want. */
static size_t
utf8_skip_back(
    const char *s, size_t len, size_t off, int (*pred)(uint32_t), int want)
{
	size_t p;

	while (off > 0) {
		p = utf8_prev(s, len, off);
		if (pred(utf8_base_at(s, len, p)) != want)
			break;
		off = p;
	}
	return off;
}

size_t
utf8_word_next(const char *s, size_t len, size_t off)
{
	off = utf8_skip_fwd(s, len, off, utf8_is_word, 0);
	return utf8_skip_fwd(s, len, off, utf8_is_word, 1);
}

size_t
utf8_word_prev(const char *s, size_t len, size_t off)
{
	off = utf8_skip_back(s, len, off, utf8_is_word, 0);
	return utf8_skip_back(s, len, off, utf8_is_word, 1);
}

size_t
utf8_space_prev(const char *s, size_t len, size_t off)
{
	off = utf8_skip_back(s, len, off, utf8_is_space, 1);
	return utf8_skip_back(s, len, off, utf8_is_space, 0);
}

/* Growable array of wrapped lines. */
struct utf8_lines {
	struct utf8_line *v;
	size_t n;
	size_t cap;
};

static void
utf8_lines_push(struct utf8_lines *l, size_t off, size_t end, int width)
{
	if (l->n == l->cap) {
		l->cap = l->cap == 0 ? 16 : l->cap * 2;
		l->v = xreallocarray(l->v, l->cap, sizeof *l->v);
	}
	l->v[l->n].off = off;
	l->v[l->n].len = end - off;
	l->v[l->n].width = width;
	l->n++;
}

size_t
utf8_wrap(const char *s, size_t len, int cols, struct utf8_line **lines)
{
	struct utf8_lines l = {NULL, 0, 0};
	size_t start = 0, p = 0, q, brk_end = 0, brk_next = 0;
	int w = 0, cw, brk_w = 0, brk_wnext = 0, has_brk = 0;

	if (cols < 1)
		cols = 1;
	while (p < len) {
		q = utf8_next(s, len, p, &cw);
		if (s[p] == '\n') {
			utf8_lines_push(&l, start, p, w);
			start = q;
			w = has_brk = 0;
		} else if (s[p] == ' ' || s[p] == '\t') {
			if (w + cw > cols) {
				/* A space at the edge ends the line itself. */
				utf8_lines_push(&l, start, p, w);
				start = q;
				w = has_brk = 0;
			} else {
				has_brk = 1;
				brk_end = p;
				brk_next = q;
				brk_w = w;
				w += cw;
				brk_wnext = w;
			}
		} else {
			if (w + cw > cols && has_brk) {
				utf8_lines_push(&l, start, brk_end, brk_w);
				start = brk_next;
				w -= brk_wnext;
				has_brk = 0;
			}
			if (w + cw > cols && p > start) {
				/* A word longer than the line is cut. */
				utf8_lines_push(&l, start, p, w);
				start = p;
				w = 0;
			}
			w += cw;
		}
		p = q;
	}
	utf8_lines_push(&l, start, len, w);
	*lines = l.v;
	return l.n;
}

/* Whether the ZWJ at p (of the cluster s..len) joins a pictograph. */
static int
utf8_zwj_joins(const char *s, size_t len, size_t p)
{
	uint32_t cp;

	p += utf8_decode(s + p, len - p, &cp);
	if (p >= len)
		return 0;
	utf8_decode(s + p, len - p, &cp);
	return utf8_is_pict(cp);
}

int
utf8_joined(const char *s, size_t len)
{
	size_t p = 0, n;
	uint32_t cp;

	for (; p < len; p += n) {
		n = utf8_decode(s + p, len - p, &cp);
		if (p > 0 && cp == ZWJ && utf8_zwj_joins(s, len, p))
			return 1;
	}
	return 0;
}

/* Append the drawable form of the cluster [0, len) of s to out. */
static size_t
utf8_display_cluster(const char *s, size_t len, char *out)
{
	static const char repl[] = "\xef\xbf\xbd", nbsp[] = "\xc2\xa0";
	size_t p, n, o = 0;
	uint32_t cp;

	n = utf8_decode(s, len, &cp);
	if (cp == '\t')
		out[o++] = ' ';
	else if ((cp == UTF8_REPLACEMENT && n == 1) || utf8_is_undrawable(cp)) {
		memcpy(out + o, repl, 3);
		o += 3;
	} else {
		if (cp >= 0x7f && wcwidth((wchar_t)cp) == 0) {
			memcpy(out + o, nbsp, 2);
			o += 2;
		}
		if (cp != ZWJ) {
			memcpy(out + o, s, n);
			o += n;
		}
	}
	for (p = n; p < len; p += n) {
		n = utf8_decode(s + p, len - p, &cp);
		if (cp == ZWJ) {
			/* A join: the first element stands for the glyph.  A
			 * ZWJ joining nothing is dropped (tmux would fold the
			 * next character into this cell). */
			if (utf8_zwj_joins(s, len, p))
				break;
			continue;
		}
		if (utf8_is_undrawable(cp)) {
			memcpy(out + o, repl, 3);
			o += 3;
		} else {
			memcpy(out + o, s + p, n);
			o += n;
		}
	}
	return o;
}

size_t
utf8_display(const char *s, size_t len, char *out)
{
	size_t p = 0, q, o = 0;

	for (; p < len; p = q) {
		q = utf8_next(s, len, p, NULL);
		o += utf8_display_cluster(s + p, q - p, out + o);
	}
	return o;
}
