/*
 * input-line: the editor model (see input-line.h).
 *
 * Every change goes through one splice (replace bytes [from, to) with
 * clean text), which then snaps the cursor to a cluster boundary: an
 * insert or a deletion can make a combining mark or a regional indicator
 * join its neighbour, and the cursor must never end up inside the
 * cluster that results.  Text from outside (keys, paste, completion) is
 * cleaned before the splice, so the buffer stays valid UTF-8 without NUL
 * bytes.
 */
#include "input-line.h"

#include <stdlib.h>
#include <string.h>

#include "base.h"
#include "utf8.h"

#define INPUT_KILL_MAX 8

struct input_line {
	char *text; /* NUL-terminated */
	size_t len;
	size_t cap;
	size_t cursor;
	unsigned long gen; /* bumped by every change of the text */
	enum input_op last_op;

	/* Kill ring: kill[top] is the newest of nkill entries. */
	char *kill[INPUT_KILL_MAX];
	int nkill;
	int top;
	size_t yank_start; /* the last yank's bytes, for Alt-Y */
	size_t yank_end;
	int yank_idx;

	/* History: pos == nhist is the line being edited (saved in draft). */
	char **hist;
	size_t nhist;
	size_t pos;
	char *draft;
	int goal_col; /* column Up/Down aim for */

	input_complete_cb complete;
	void *complete_arg;
	struct input_completion comp;
	int cycling;
	size_t cycle_idx;

	size_t hscroll; /* first byte shown of the cursor's row */
	int vscroll; /* first line shown */
};

void
input_completion_add(struct input_completion *c, const char *word)
{
	c->words = xreallocarray(c->words, c->n + 1, sizeof *c->words);
	c->words[c->n++] = xstrdup(word);
}

void
input_completion_free(struct input_completion *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->words[i]);
	free(c->words);
	c->words = NULL;
	c->n = 0;
	c->start = 0;
}

struct input_line *
input_line_create(void)
{
	struct input_line *il = xcalloc(1, sizeof *il);

	il->cap = 64;
	il->text = xcalloc(1, il->cap);
	return il;
}

void
input_line_free(struct input_line *il)
{
	if (il == NULL)
		return;
	free(il->text);
	for (int i = 0; i < il->nkill; i++)
		free(il->kill[i]);
	for (size_t i = 0; i < il->nhist; i++)
		free(il->hist[i]);
	free(il->hist);
	free(il->draft);
	input_completion_free(&il->comp);
	free(il);
}

const char *
input_line_text(const struct input_line *il, size_t *len)
{
	if (len != NULL)
		*len = il->len;
	return il->text;
}

size_t
input_line_cursor(const struct input_line *il)
{
	return il->cursor;
}

int
input_line_rows(const struct input_line *il)
{
	int n = 1;

	for (size_t i = 0; i < il->len; i++)
		n += il->text[i] == '\n';
	return n;
}

/* The nearest cluster boundary at or after off. */
static size_t
input_snap(const struct input_line *il, size_t off)
{
	size_t p, q;

	if (off == 0 || off >= il->len)
		return off < il->len ? off : il->len;
	p = utf8_prev(il->text, il->len, off);
	q = utf8_next(il->text, il->len, p, NULL);
	return q > off ? q : off;
}

/*
 * Clean s for the buffer into out (see input_line_insert); stops before
 * max bytes on a code point boundary.  Returns NOID_ERR_TOOBIG if cut.
 */
static int
input_clean(const char *s, size_t len, size_t max, struct buf *out)
{
	size_t off = 0, n;
	uint32_t cp;
	char enc[4];

	while (off < len) {
		n = utf8_decode(s + off, len - off, &cp);
		off += n;
		if (cp == '\r') {
			if (off < len && s[off] == '\n')
				off++;
			cp = '\n';
		} else if ((cp < 0x20 && cp != '\t' && cp != '\n') ||
		    (cp >= 0x7f && cp < 0xa0))
			continue;
		n = utf8_encode(cp, enc);
		if (out->len + n > max)
			return NOID_ERR_TOOBIG;
		buf_put(out, enc, n);
	}
	return 0;
}

/* Replace bytes [from, to) with clean bytes s; the cursor goes after. */
static void
input_splice(
    struct input_line *il, size_t from, size_t to, const char *s, size_t n)
{
	size_t need = il->len - (to - from) + n + 1;

	if (from == to && n == 0)
		return;
	if (need > il->cap) {
		il->cap = need + need / 2;
		il->text = xrealloc(il->text, il->cap);
	}
	memmove(il->text + from + n, il->text + to, il->len - to);
	memcpy(il->text + from, s, n);
	il->len = il->len - (to - from) + n;
	il->text[il->len] = '\0';
	il->gen++;
	il->cursor = input_snap(il, from + n);
}

/* Clean s and splice it in place of [from, to). */
static int
input_replace(
    struct input_line *il, size_t from, size_t to, const char *s, size_t len)
{
	struct buf b;
	size_t room, cut;
	int r;

	buf_init(&b);
	room = INPUT_LINE_MAX - (il->len - (to - from));
	r = input_clean(s, len, room, &b);
	if (r != 0) {
		/* Keep whole clusters of what fitted. */
		cut = b.len;
		if (cut > 0)
			cut = utf8_prev((char *)b.data, b.len, b.len);
		b.len = cut;
	}
	input_splice(il, from, to, (char *)b.data, b.len);
	buf_free(&b);
	return r;
}

int
input_line_insert(struct input_line *il, const char *s, size_t len)
{
	il->last_op = INPUT_OP_NONE;
	input_completion_free(&il->comp);
	return input_replace(il, il->cursor, il->cursor, s, len);
}

int
input_line_set_text(struct input_line *il, const char *s, size_t len)
{
	il->len = 0;
	il->text[0] = '\0';
	il->cursor = 0;
	il->hscroll = 0;
	il->vscroll = 0;
	return input_line_insert(il, s, len);
}

/* Remove [from, to) into the kill ring, joining consecutive kills. */
static void
input_kill(struct input_line *il, size_t from, size_t to, int backward)
{
	size_t n = to - from, old;
	char *k;

	if (n == 0)
		return;
	if (il->nkill > 0 &&
	    (il->last_op == INPUT_OP_KILL_END ||
	        il->last_op == INPUT_OP_KILL_START ||
	        il->last_op == INPUT_OP_KILL_WORD_BACK ||
	        il->last_op == INPUT_OP_KILL_WORD_FWD)) {
		k = il->kill[il->top];
		old = strlen(k);
		k = xrealloc(k, old + n + 1);
		if (backward) {
			memmove(k + n, k, old + 1);
			memcpy(k, il->text + from, n);
		} else {
			memcpy(k + old, il->text + from, n);
			k[old + n] = '\0';
		}
		il->kill[il->top] = k;
	} else {
		if (il->nkill < INPUT_KILL_MAX)
			il->top = il->nkill++;
		else {
			il->top = (il->top + 1) % INPUT_KILL_MAX;
			free(il->kill[il->top]);
		}
		k = xmalloc(n + 1);
		memcpy(k, il->text + from, n);
		k[n] = '\0';
		il->kill[il->top] = k;
	}
	input_splice(il, from, to, "", 0);
}

/* Insert kill ring entry idx at the cursor and remember where. */
static void
input_yank(struct input_line *il, int idx)
{
	il->yank_idx = idx;
	il->yank_start = il->cursor;
	input_replace(
	    il, il->cursor, il->cursor, il->kill[idx], strlen(il->kill[idx]));
	il->yank_end = il->cursor;
}

/* Start of the line the offset is on. */
static size_t
input_line_start(const struct input_line *il, size_t off)
{
	while (off > 0 && il->text[off - 1] != '\n')
		off--;
	return off;
}

/* End of the line the offset is on (its '\n' or the end of text). */
static size_t
input_line_end(const struct input_line *il, size_t off)
{
	const char *nl = memchr(il->text + off, '\n', il->len - off);

	return nl != NULL ? (size_t)(nl - il->text) : il->len;
}

/* Load a history entry or the draft into the buffer. */
static void
input_history_load(struct input_line *il, size_t pos)
{
	const char *s;

	if (il->pos == il->nhist) {
		free(il->draft);
		il->draft = xstrdup(il->text);
	}
	s = pos == il->nhist ? il->draft : il->hist[pos];
	il->pos = pos;
	input_line_set_text(il, s, strlen(s));
}

/* Up/Down: to the line above or below at the goal column, or history. */
static enum input_result
input_vertical(struct input_line *il, int up)
{
	size_t ls = input_line_start(il, il->cursor), le, ts, te, cut;

	if (il->last_op != INPUT_OP_UP && il->last_op != INPUT_OP_DOWN)
		il->goal_col = (int)utf8_width(il->text + ls, il->cursor - ls);
	if (up && ls > 0) {
		ts = input_line_start(il, ls - 1);
		te = ls - 1;
	} else if (!up && (le = input_line_end(il, il->cursor)) < il->len) {
		ts = le + 1;
		te = input_line_end(il, ts);
	} else if (up) {
		if (il->pos == 0)
			return INPUT_UNCHANGED;
		input_history_load(il, il->pos - 1);
		return INPUT_CHANGED;
	} else {
		if (il->pos == il->nhist)
			return INPUT_UNCHANGED;
		input_history_load(il, il->pos + 1);
		return INPUT_CHANGED;
	}
	cut = utf8_cut(il->text + ts, te - ts, (size_t)il->goal_col, NULL);
	il->cursor = ts + cut;
	return INPUT_CHANGED;
}

/* Tab: common prefix first, then cycle through the candidates. */
static enum input_result
input_complete(struct input_line *il)
{
	struct input_completion *c = &il->comp;
	size_t common, typed, w0len, b, q;

	if (il->cycling && il->last_op == INPUT_OP_COMPLETE && c->n > 1) {
		il->cycle_idx = (il->cycle_idx + 1) % c->n;
		input_replace(il, c->start, il->cursor, c->words[il->cycle_idx],
		    strlen(c->words[il->cycle_idx]));
		return INPUT_CHANGED;
	}
	input_completion_free(c);
	il->cycling = 0;
	if (il->complete == NULL)
		return INPUT_UNCHANGED;
	il->complete(il->complete_arg, il->text, il->len, il->cursor, c);
	if (c->n == 0 || c->start > il->cursor) {
		input_completion_free(c);
		return INPUT_UNCHANGED;
	}
	if (c->n == 1) {
		input_replace(
		    il, c->start, il->cursor, c->words[0], strlen(c->words[0]));
		input_replace(il, il->cursor, il->cursor, " ", 1);
		input_completion_free(c);
		return INPUT_CHANGED;
	}
	common = strlen(c->words[0]);
	for (size_t i = 1; i < c->n; i++) {
		size_t k = 0;
		while (k < common && c->words[i][k] == c->words[0][k])
			k++;
		common = k;
	}
	/* Do not stop inside a character. */
	w0len = strlen(c->words[0]);
	for (b = 0; b < common; b = q) {
		q = utf8_next(c->words[0], w0len, b, NULL);
		if (q > common)
			break;
	}
	common = b;
	typed = il->cursor - c->start;
	if (common > typed) {
		input_replace(il, c->start, il->cursor, c->words[0], common);
		return INPUT_CHANGED;
	}
	il->cycling = 1;
	il->cycle_idx = 0;
	input_replace(
	    il, c->start, il->cursor, c->words[0], strlen(c->words[0]));
	return INPUT_CHANGED;
}

enum input_result
input_line_op(struct input_line *il, enum input_op op)
{
	const char *s = il->text;
	size_t len = il->len, cur = il->cursor, to;
	unsigned long gen = il->gen;
	enum input_result r = INPUT_CHANGED;

	if (op != INPUT_OP_COMPLETE && il->comp.n > 0) {
		input_completion_free(&il->comp);
		il->cycling = 0;
	}
	switch (op) {
	case INPUT_OP_NONE:
		r = INPUT_UNCHANGED;
		break;
	case INPUT_OP_HOME:
		il->cursor = input_line_start(il, cur);
		break;
	case INPUT_OP_END:
		il->cursor = input_line_end(il, cur);
		break;
	case INPUT_OP_LEFT:
		il->cursor = utf8_prev(s, len, cur);
		break;
	case INPUT_OP_RIGHT:
		il->cursor = utf8_next(s, len, cur, NULL);
		break;
	case INPUT_OP_WORD_LEFT:
		il->cursor = utf8_word_prev(s, len, cur);
		break;
	case INPUT_OP_WORD_RIGHT:
		il->cursor = utf8_word_next(s, len, cur);
		break;
	case INPUT_OP_BACKSPACE:
		input_splice(il, utf8_prev(s, len, cur), cur, "", 0);
		break;
	case INPUT_OP_DELETE:
		input_splice(il, cur, utf8_next(s, len, cur, NULL), "", 0);
		break;
	case INPUT_OP_KILL_END:
		to = input_line_end(il, cur);
		/* At the end of a line, Ctrl-K joins the next one. */
		if (to == cur && to < len)
			to++;
		input_kill(il, cur, to, 0);
		break;
	case INPUT_OP_KILL_START:
		input_kill(il, input_line_start(il, cur), cur, 1);
		break;
	case INPUT_OP_KILL_WORD_BACK:
		input_kill(il, utf8_space_prev(s, len, cur), cur, 1);
		break;
	case INPUT_OP_KILL_WORD_FWD:
		input_kill(il, cur, utf8_word_next(s, len, cur), 0);
		break;
	case INPUT_OP_YANK:
		if (il->nkill == 0) {
			r = INPUT_UNCHANGED;
			op = INPUT_OP_NONE; /* no yank for Alt-Y to replace */
		} else
			input_yank(il, il->top);
		break;
	case INPUT_OP_YANK_POP:
		if ((il->last_op != INPUT_OP_YANK &&
		        il->last_op != INPUT_OP_YANK_POP) ||
		    il->nkill < 2) {
			r = INPUT_UNCHANGED;
			op = INPUT_OP_NONE;
			break;
		}
		input_splice(il, il->yank_start, il->yank_end, "", 0);
		input_yank(il, (il->yank_idx + il->nkill - 1) % il->nkill);
		break;
	case INPUT_OP_UP:
	case INPUT_OP_DOWN:
		r = input_vertical(il, op == INPUT_OP_UP);
		break;
	case INPUT_OP_NEWLINE:
		if (input_replace(il, cur, cur, "\n", 1) != 0)
			r = INPUT_UNCHANGED;
		break;
	case INPUT_OP_COMPLETE:
		r = input_complete(il);
		break;
	case INPUT_OP_SUBMIT:
		r = INPUT_SUBMIT;
		break;
	}
	if (r == INPUT_CHANGED && il->cursor == cur && il->gen == gen)
		r = INPUT_UNCHANGED;
	il->last_op = op;
	return r;
}

char *
input_line_submit(struct input_line *il)
{
	char *out = xstrdup(il->text);
	size_t i;

	for (i = 0; i < il->len; i++)
		if (out[i] != ' ' && out[i] != '\t' && out[i] != '\n')
			break;
	if (i < il->len &&
	    (il->nhist == 0 || strcmp(il->hist[il->nhist - 1], out) != 0)) {
		if (il->nhist == INPUT_HISTORY_MAX) {
			free(il->hist[0]);
			memmove(il->hist, il->hist + 1,
			    (il->nhist - 1) * sizeof *il->hist);
			il->nhist--;
		}
		il->hist =
		    xreallocarray(il->hist, il->nhist + 1, sizeof *il->hist);
		il->hist[il->nhist++] = xstrdup(out);
	}
	il->pos = il->nhist;
	free(il->draft);
	il->draft = NULL;
	input_line_set_text(il, "", 0);
	il->last_op = INPUT_OP_SUBMIT;
	return out;
}

void
input_line_set_completer(struct input_line *il, input_complete_cb cb, void *arg)
{
	il->complete = cb;
	il->complete_arg = arg;
}

const struct input_completion *
input_line_candidates(const struct input_line *il)
{
	return il->comp.n > 1 ? &il->comp : NULL;
}

/* Horizontal scroll of the cursor's row [ls, le): the first byte shown. */
static size_t
input_hscroll(struct input_line *il, size_t ls, int width)
{
	size_t h = il->hscroll, w, back;
	int cw;

	if (h < ls || h > il->len)
		h = ls;
	else
		h = input_snap(il, h);
	if (h > il->cursor) {
		/* Moved left past the edge: show a third of a row before. */
		back = (size_t)width / 3;
		h = il->cursor;
		while (h > ls) {
			size_t p = utf8_prev(il->text, il->len, h);
			if (utf8_width(il->text + p, il->cursor - p) > back)
				break;
			h = p;
		}
	}
	w = utf8_width(il->text + h, il->cursor - h);
	while (w > (size_t)width - 1 && h < il->cursor) {
		h = utf8_next(il->text, il->len, h, &cw);
		w -= (size_t)cw;
	}
	il->hscroll = h;
	return h;
}

void
input_line_view(
    struct input_line *il, int width, int max_rows, struct input_view *v)
{
	int nlines = input_line_rows(il), cur_line = 0, rows, line;
	size_t off, end, h;

	memset(v, 0, sizeof *v);
	if (width < 1)
		width = 1;
	if (max_rows < 1)
		max_rows = 1;
	if (max_rows > INPUT_VIEW_MAX_ROWS)
		max_rows = INPUT_VIEW_MAX_ROWS;
	for (size_t i = 0; i < il->cursor; i++)
		cur_line += il->text[i] == '\n';
	rows = nlines < max_rows ? nlines : max_rows;
	if (cur_line < il->vscroll)
		il->vscroll = cur_line;
	if (cur_line >= il->vscroll + rows)
		il->vscroll = cur_line - rows + 1;
	if (il->vscroll > nlines - rows)
		il->vscroll = nlines - rows;
	if (il->vscroll < 0)
		il->vscroll = 0;
	off = 0;
	for (line = 0; line < il->vscroll; line++)
		off = input_line_end(il, off) + 1;
	for (line = 0; line < rows; line++) {
		end = input_line_end(il, off);
		if (il->vscroll + line == cur_line) {
			h = input_hscroll(il, off, width);
			v->cursor_row = line;
			v->cursor_col =
			    (int)utf8_width(il->text + h, il->cursor - h);
			v->more_left = h > off;
			off = h;
		}
		v->rows[line].off = off;
		v->rows[line].len =
		    utf8_cut(il->text + off, end - off, (size_t)width, NULL);
		if (il->vscroll + line == cur_line)
			v->more_right = off + v->rows[line].len < end;
		off = end + 1;
	}
	v->nrows = rows;
	v->more_above = il->vscroll > 0;
	v->more_below = il->vscroll + rows < nlines;
}

enum input_op
input_op_from_char(uint32_t ch, int alt)
{
	if (alt) {
		switch (ch) {
		case 'b':
		case 'B':
			return INPUT_OP_WORD_LEFT;
		case 'f':
		case 'F':
			return INPUT_OP_WORD_RIGHT;
		case 'd':
		case 'D':
			return INPUT_OP_KILL_WORD_FWD;
		case 'y':
		case 'Y':
			return INPUT_OP_YANK_POP;
		case '\r':
		case '\n':
			return INPUT_OP_NEWLINE;
		case 0x7f:
		case 0x08:
			return INPUT_OP_KILL_WORD_BACK;
		}
		return INPUT_OP_NONE;
	}
	switch (ch) {
	case 0x01:
		return INPUT_OP_HOME;
	case 0x02:
		return INPUT_OP_LEFT;
	case 0x04:
		return INPUT_OP_DELETE;
	case 0x05:
		return INPUT_OP_END;
	case 0x06:
		return INPUT_OP_RIGHT;
	case 0x08:
	case 0x7f:
		return INPUT_OP_BACKSPACE;
	case '\t':
		return INPUT_OP_COMPLETE;
	case '\n':
		return INPUT_OP_NEWLINE;
	case 0x0b:
		return INPUT_OP_KILL_END;
	case '\r':
		return INPUT_OP_SUBMIT;
	case 0x0e:
		return INPUT_OP_DOWN;
	case 0x10:
		return INPUT_OP_UP;
	case 0x15:
		return INPUT_OP_KILL_START;
	case 0x17:
		return INPUT_OP_KILL_WORD_BACK;
	case 0x19:
		return INPUT_OP_YANK;
	}
	return INPUT_OP_NONE;
}
