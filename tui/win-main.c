/*
 * win-main: drawing the whole screen from the model, once per pass.
 *
 * Rectangles come from layout_compute() (a pure function of the size);
 * below its minimum the screen says it is too small and nothing else is
 * drawn, so no size can crash us.  Text is measured with utf8.h (the
 * same widths ncursesw draws with) and cut on cluster boundaries.  The
 * chat pane is filled from the bottom: wrapped row counts are cached per
 * message and width, so only the visible messages are wrapped again.
 */
#include "client.h"
#include "input-line.h"
#include "qr.h"
#include "utf8.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Colour pairs, one per theme role (pair 0 is the terminal's own). */
void
win_colours_init(struct client *c)
{
	struct theme_style st;
	int i;

	if (c->theme.no_color || !has_colors()) {
		c->theme.no_color = 1;
		return;
	}
	start_color();
	use_default_colors();
	for (i = 0; i < THEME_ROLE_COUNT; i++) {
		st = theme_get(&c->theme, (enum theme_role)i);
		if (st.fg >= COLORS)
			st.fg = THEME_COLOR_DEFAULT;
		if (st.bg >= COLORS)
			st.bg = THEME_COLOR_DEFAULT;
		init_pair((short)(i + 1), (short)st.fg, (short)st.bg);
	}
}

/* The curses attributes of a theme role. */
static attr_t
win_attr(const struct client *c, enum theme_role role)
{
	struct theme_style st = theme_get(&c->theme, role);
	attr_t a = A_NORMAL;

	if (!c->theme.no_color)
		a |= COLOR_PAIR(role + 1);
	if (st.attrs & THEME_BOLD)
		a |= A_BOLD;
	if (st.attrs & THEME_DIM)
		a |= A_DIM;
	if (st.attrs & THEME_UNDERLINE)
		a |= A_UNDERLINE;
	if (st.attrs & THEME_REVERSE)
		a |= A_REVERSE;
	if (st.attrs & THEME_ITALIC)
		a |= A_ITALIC;
	if (st.attrs & THEME_BLINK)
		a |= A_BLINK;
	return a;
}

/*
 * Draw s at (y, x), cut to w cells; returns the cells used.  The text
 * goes through utf8_display() so ncursesw advances exactly the widths
 * utf8.h measured (controls and unknown code points can't shift a row);
 * ZWJ sequences are completed past curses (win-joined.c).
 */
static int
win_put(int y, int x, const char *s, size_t len, int w)
{
	size_t cut, width = 0, n, p, q;
	int cw, col = x;
	char *d;

	if (w <= 0)
		return 0;
	cut = utf8_cut(s, len, (size_t)w, &width);
	d = xmalloc(UTF8_DISPLAY_MAX(cut));
	n = utf8_display(s, cut, d);
	mvaddnstr(y, x, d, (int)n);
	free(d);
	for (p = 0; p < cut; p = q, col += cw) {
		q = utf8_next(s, cut, p, &cw);
		if (utf8_joined(s + p, q - p))
			win_joined_add(y, col, s + p, q - p);
	}
	return (int)width;
}

/* Fill the rest of a row with spaces (for bars). */
static void
win_fill(int y, int x, int w)
{
	for (; w > 0; w--, x++)
		mvaddch(y, x, ' ');
}

/* The trust mark of a contact. */
static const char *
win_trust_mark(int trust)
{
	switch (trust) {
	case AGENT_TRUST_VERIFIED:
		return "✓";
	case AGENT_TRUST_QR:
		return "▣";
	default:
		return "~";
	}
}

/* The theme role of a trust mark. */
static enum theme_role
win_trust_role(int trust)
{
	return trust == AGENT_TRUST_VERIFIED ? THEME_VERIFIED
	    : trust == AGENT_TRUST_QR        ? THEME_TRUST_QR
	                                     : THEME_TRUST_LINK;
}

/* The conversation list. */
static void
win_list(struct client *c)
{
	const struct layout_rect *r = &c->lay.list;
	const struct client_conv *v;
	char head[128];
	attr_t base;
	size_t i;
	int y = r->y, x;

	for (i = 0; i < c->nconvs && y < r->y + r->h; i++, y++) {
		v = &c->convs[i];
		base = win_attr(c, i == c->sel ? THEME_SELECTED : THEME_LIST);
		attrset(base);
		win_fill(y, r->x, r->w);
		if (v->state == AGENT_CONN_REQUESTED) {
			attrset(base | win_attr(c, THEME_REQUEST));
			x = r->x + win_put(y, r->x, "? ", 2, r->w);
		} else {
			if (i != c->sel)
				attrset(win_attr(c, win_trust_role(v->trust)));
			snprintf(
			    head, sizeof head, "%s ", win_trust_mark(v->trust));
			x = r->x + win_put(y, r->x, head, strlen(head), r->w);
		}
		attrset(i == c->sel ? base
		        : v->unread ? win_attr(c, THEME_UNREAD)
		                    : base);
		x += win_put(y, x, v->name, strlen(v->name), r->w - (x - r->x));
		if (v->state == AGENT_CONN_REQUESTED)
			snprintf(head, sizeof head, " (request)");
		else if (v->state != AGENT_CONN_READY)
			snprintf(head, sizeof head, " (waiting)");
		else if (v->unread > STORE_UNREAD_MAX)
			snprintf(head, sizeof head, " (%d+)", STORE_UNREAD_MAX);
		else if (v->unread > 0)
			snprintf(head, sizeof head, " (%llu)",
			    (unsigned long long)v->unread);
		else
			head[0] = '\0';
		x += win_put(y, x, head, strlen(head), r->w - (x - r->x));
		if (v->muted)
			x += win_put(
			    y, x, " ∅", strlen(" ∅"), r->w - (x - r->x));
		if (v->preview != NULL && r->w - (x - r->x) > 4) {
			attrset(base | A_DIM);
			x += win_put(y, x, " ", 1, 1);
			win_put(y, x, v->preview, strcspn(v->preview, "\n"),
			    r->w - (x - r->x));
		}
		attrset(A_NORMAL);
	}
	if (c->nconvs == 0 && r->h > 2) {
		attrset(A_DIM);
		win_put(r->y, r->x, "no contacts yet", 15, r->w);
		win_put(r->y + 1, r->x, "F2 /invite", 10, r->w);
		win_put(r->y + 2, r->x, "/connect LINK", 13, r->w);
		attrset(A_NORMAL);
	}
	attrset(win_attr(c, THEME_SEPARATOR));
	for (y = c->lay.sep.y;
	     c->lay.sep.w > 0 && y < c->lay.sep.y + c->lay.sep.h; y++)
		mvaddch(y, c->lay.sep.x, ACS_VLINE);
	attrset(A_NORMAL);
}

/*
 * The text of one chat item (caller frees); spans[0..3] get the byte
 * offsets where its parts end: time, name, text, marks.
 */
static char *
win_msg_text(struct client *c, const struct client_msg *cm, size_t spans[4])
{
	const struct client_conv *cv = client_current(c);
	const struct store_msg *m = &cm->m;
	const char *who, *mark = "";
	char when[8], *s;
	time_t t = (time_t)(m->ts_ms / 1000);
	struct tm tm;
	int n;

	localtime_r(&t, &tm);
	strftime(when, sizeof when, "%H:%M", &tm);
	spans[0] = strlen(when);
	if (m->dir == 0) {
		n = xasprintf(&s, "%s %.*s", when, (int)m->text_len, m->text);
		spans[1] = spans[0];
		spans[2] = spans[3] = (size_t)n;
		return s;
	}
	if (m->dir == STORE_DIR_OUT)
		mark = m->status == STORE_STATUS_DELIVERED ? " ✓✓"
		    : m->status == STORE_STATUS_SENT       ? " ✓"
		    : m->status == STORE_STATUS_QUEUED     ? " …"
		                                           : ""; /* history */
	who = m->dir == STORE_DIR_OUT ? "me" : (cv ? cv->name : "?");
	n = xasprintf(&s, "%s %s: %.*s%s", when, who,
	    m->deleted ? 9 : (int)m->text_len,
	    m->deleted ? "(deleted)" : m->text, mark);
	spans[1] = spans[0] + 1 + strlen(who) + 1;
	spans[3] = (size_t)n;
	spans[2] = spans[3] - strlen(mark);
	return s;
}

/* Whether item i starts a new day (and gets a separator row). */
static int
win_new_day(const struct client *c, size_t i)
{
	time_t a, b;
	struct tm ta, tb;

	if (i == 0)
		return c->all_loaded;
	a = (time_t)(c->msgs[i - 1].m.ts_ms / 1000);
	b = (time_t)(c->msgs[i].m.ts_ms / 1000);
	localtime_r(&a, &ta);
	localtime_r(&b, &tb);
	return ta.tm_yday != tb.tm_yday || ta.tm_year != tb.tm_year;
}

/* Rows item i takes at width w (cached). */
static int
win_msg_rows(struct client *c, size_t i, int w)
{
	struct client_msg *cm = &c->msgs[i];
	struct utf8_line *lines = NULL;
	size_t spans[4];
	char *s;

	if (cm->rows_w != w) {
		s = win_msg_text(c, cm, spans);
		cm->rows = (int)utf8_wrap(s, strlen(s), w, &lines);
		cm->rows_w = w;
		free(lines);
		free(s);
	}
	return cm->rows + win_new_day(c, i);
}

/*
 * Draw one wrapped row of a chat item: the bytes [off, off + len) of s,
 * each part (spans: where time, name, text and marks end) in its role.
 */
static void
win_msg_row(struct client *c, int y, const char *s, size_t off, size_t len,
    const size_t spans[4], const enum theme_role roles[4])
{
	const struct layout_rect *r = &c->lay.chat;
	size_t end = off + len, stop;
	int x = r->x, k;

	for (k = 0; k < 4 && off < end; k++) {
		if (spans[k] <= off)
			continue;
		stop = spans[k] < end ? spans[k] : end;
		attrset(win_attr(c, roles[k]));
		x += win_put(y, x, s + off, stop - off, r->w - (x - r->x));
		off = stop;
	}
	attrset(A_NORMAL);
}

/* Draw item i's rows from screen row y, skipping its first skip rows. */
static void
win_msg_draw(struct client *c, size_t i, int y, int skip, int ymax)
{
	const struct layout_rect *r = &c->lay.chat;
	const struct store_msg *m = &c->msgs[i].m;
	enum theme_role roles[4] = {THEME_TIMESTAMP,
	    m->dir == STORE_DIR_OUT ? THEME_NICK_SELF : THEME_NICK_PEER,
	    m->dir == 0 ? THEME_EVENT : THEME_NORMAL, THEME_DELIVERY};
	struct utf8_line *lines = NULL;
	char *s, day[64];
	time_t t = (time_t)(m->ts_ms / 1000);
	struct tm tm;
	size_t n, k, spans[4];
	int row = 0;

	if (win_new_day(c, i)) {
		if (row++ >= skip && y < ymax) {
			localtime_r(&t, &tm);
			strftime(day, sizeof day, "── %a %d %b %Y ──", &tm);
			attrset(win_attr(c, THEME_DAY));
			win_put(y++, r->x + (r->w > 22 ? (r->w - 22) / 2 : 0),
			    day, strlen(day), r->w);
			attrset(A_NORMAL);
		}
	}
	if (c->has_mark && memcmp(m->id, c->mark, STORE_ID_LEN) == 0)
		roles[2] = THEME_SELECTED;
	s = win_msg_text(c, &c->msgs[i], spans);
	n = utf8_wrap(s, strlen(s), r->w, &lines);
	for (k = 0; k < n && y < ymax; k++, row++) {
		if (row < skip)
			continue;
		win_msg_row(
		    c, y++, s, lines[k].off, lines[k].len, spans, roles);
	}
	free(lines);
	free(s);
}

/*
 * Bring the message c->jump into view (a search hit): load older pages
 * until it is there, then scroll so it sits mid-pane.
 */
static void
win_chat_jump(struct client *c)
{
	const struct layout_rect *r = &c->lay.chat;
	size_t i, k;
	int below = 0;

	c->has_jump = 0;
	for (;;) {
		for (i = c->nmsgs; i > 0; i--)
			if (memcmp(c->msgs[i - 1].m.id, c->jump,
			        STORE_ID_LEN) == 0)
				break;
		if (i > 0 || !client_chat_load_older(c))
			break;
	}
	if (i == 0)
		return;
	for (k = i; k < c->nmsgs; k++)
		below += win_msg_rows(c, k, r->w);
	c->scroll = below > r->h / 2 ? below - r->h / 2 : 0;
}

/* The chat pane, filled from the bottom. */
static void
win_chat(struct client *c)
{
	const struct layout_rect *r = &c->lay.chat;
	size_t i, first;
	int total = 0, want, rows, skip, y;

	if (r->w <= 0 || r->h <= 0)
		return;
	if (c->has_jump)
		win_chat_jump(c);
	for (;;) {
		want = r->h + c->scroll;
		total = 0;
		for (i = c->nmsgs; i > 0 && total < want; i--)
			total += win_msg_rows(c, i - 1, r->w);
		if (total >= want || c->all_loaded ||
		    !client_chat_load_older(c))
			break;
	}
	if (c->scroll > total - r->h)
		c->scroll = total > r->h ? total - r->h : 0;
	/* Find the first item on screen and how many of its rows hide. */
	want = r->h + c->scroll;
	total = 0;
	first = c->nmsgs;
	while (first > 0 && total < want)
		total += win_msg_rows(c, --first, r->w);
	skip = total > want ? total - want : 0;
	y = r->y + (total < r->h ? r->h - total : 0);
	for (i = first; i < c->nmsgs && y < r->y + r->h; i++) {
		rows = win_msg_rows(c, i, r->w);
		win_msg_draw(c, i, y, skip, r->y + r->h);
		y += rows - skip;
		skip = 0;
	}
	if (c->nmsgs == 0 && client_current(c) != NULL) {
		attrset(win_attr(c, THEME_NOTICE));
		win_put(r->y + r->h - 1, r->x,
		    client_current(c)->state == AGENT_CONN_REQUESTED
		        ? "wants to connect (claims this name): /accept or "
		          "/reject"
		        : "no messages yet",
		    client_current(c)->state == AGENT_CONN_REQUESTED ? 51 : 15,
		    r->w);
		attrset(A_NORMAL);
	}
}

/* The status bar, on row y: profile (and chat), relays connected of
 * configured, sync state.  Narrow screens get the short words. */
static void
win_status(struct client *c, int y)
{
	struct layout_rect st = c->lay.status, *r = &st;
	const struct client_conv *cv = client_current(c);
	char relays[64], *s;
	int x, narrow = r->w < 100;

	st.y = y;
	attrset(win_attr(c, THEME_STATUS));
	win_fill(r->y, r->x, r->w);
	if (c->app->agent == NULL)
		snprintf(relays, sizeof relays, "relays off");
	else
		snprintf(relays, sizeof relays, "relays %zu/%zu%s%s",
		    c->relays_up, c->relays_total,
		    c->app->on_embedded ? " embedded" : "",
		    c->relay_err != NULL && !narrow ? " (error)" : "");
	/* Multi-device sync is not built: say plainly where history lives. */
	xasprintf(&s, " %s%s%s · %s · %s%s · F1 help ", c->app->profile_name,
	    cv ? " → " : "", cv ? cv->name : "", relays,
	    narrow ? "1 device" : "this device only",
	    c->other_unread ? " · unread in other profiles" : "");
	x = win_put(r->y, r->x, s, strlen(s), r->w);
	free(s);
	if (c->note != NULL && r->w - x > 4) {
		attron(A_BOLD);
		win_put(r->y, r->x + x, c->note, strlen(c->note), r->w - x);
	}
	attrset(A_NORMAL);
}

/* The input line; leaves the cursor in it. */
static void
win_input(struct client *c)
{
	const struct layout_rect *r = &c->lay.input;
	struct input_view v;
	const char *text;
	size_t len;
	int i;

	text = input_line_text(c->il, &len);
	input_line_view(c->il, r->w, r->h, &v);
	for (i = 0; i < v.nrows && i < r->h; i++)
		win_put(
		    r->y + i, r->x, text + v.rows[i].off, v.rows[i].len, r->w);
	move(r->y + v.cursor_row, r->x + v.cursor_col);
}

/* Draw q centred in x..x+w-1 from row y; returns the row after it. */
static int
win_qr(const struct qr *q, int y, int x, int w)
{
	char *row;
	int i;

	for (i = 0; i < qr_rows(q); i++) {
		row = qr_render_line(q, i, QR_STYLE_LIGHT_FG);
		mvaddstr(y++, x + (w - qr_cols(q)) / 2, row);
		free(row);
	}
	return y;
}

/* Draw text wrapped to w from row y, at most to row ymax - 1. */
static int
win_text(const char *t, int y, int x, int w, int ymax)
{
	struct utf8_line *lines = NULL;
	size_t n, k;

	n = utf8_wrap(t, strlen(t), w, &lines);
	for (k = 0; k < n && y < ymax; k++)
		win_put(y++, x, t + lines[k].off, lines[k].len, w);
	free(lines);
	return y;
}

/* The rows text takes wrapped to w. */
static int
win_text_rows(const char *t, int w)
{
	struct utf8_line *lines = NULL;
	size_t n = utf8_wrap(t, strlen(t), w, &lines);

	free(lines);
	return (int)n;
}

/*
 * The invitation screen: every row above the status bar (a version-5
 * code with its quiet zone is 41 x 21 cells, so title, code and the hint
 * below it fit 80 x 24).  Once the link text is asked for it goes below
 * the code when both fit, else alone; too small for the code, the screen
 * says so and offers the text.
 */
static void
win_invite(struct client *c, int h)
{
	const struct qr *q = c->ov_qr;
	const int w = c->cols;
	char *t;
	int y = 0, qr_ok;

	for (y = 0; y < h; y++)
		win_fill(y, 0, w);
	attron(A_BOLD);
	win_put(0, 0, c->ov_title, strlen(c->ov_title), w);
	attroff(A_BOLD);
	if (c->ov_link_shown)
		xasprintf(&t,
		    "Link to copy (shared as text: lower trust):\n%s\n\n"
		    "Esc: close",
		    c->ov_link);
	else
		t = xstrdup("t: show the link as text (for another "
		            "channel: lower trust) · Esc: close");
	qr_ok = q != NULL && qr_cols(q) <= w &&
	    1 + qr_rows(q) + win_text_rows(t, w) <= h;
	y = 1;
	if (qr_ok)
		y = win_qr(q, y, 0, w);
	else if (!c->ov_link_shown) {
		free(t);
		xasprintf(&t,
		    "The terminal is too small for the QR code (it needs "
		    "%d x %d).  t: show the link as text (for another "
		    "channel: lower trust), or enlarge the terminal.  "
		    "Esc: close",
		    q ? qr_cols(q) : 41, q ? qr_rows(q) + 3 : 24);
	}
	win_text(t, y, 0, w, h);
	free(t);
}

/* The overlay: text, a QR code, or a question, over the chat area. */
static void
win_overlay(struct client *c)
{
	struct layout_rect r = c->lay.chat;
	struct utf8_line *lines = NULL;
	const char *t = c->ov_text ? c->ov_text : "";
	size_t n, k, start, rows;
	int y;

	for (y = r.y; y < r.y + r.h; y++)
		win_fill(y, r.x, r.w);
	y = r.y;
	attron(A_BOLD);
	win_put(y++, r.x, c->ov_title ? c->ov_title : "",
	    strlen(c->ov_title ? c->ov_title : ""), r.w);
	attroff(A_BOLD);
	if (c->ov_qr != NULL && qr_fits(c->ov_qr, r.w, r.h))
		y = win_qr(c->ov_qr, y, r.x, r.w);
	n = utf8_wrap(t, strlen(t), r.w, &lines);
	/* Scrolling stops once the last line is on screen. */
	rows = y < r.y + r.h ? (size_t)(r.y + r.h - y) : 0;
	start = n > rows ? n - rows : 0;
	if ((size_t)c->ov_scroll < start)
		start = (size_t)c->ov_scroll;
	c->ov_scroll = (int)start;
	for (k = start; k < n && y < r.y + r.h; k++)
		win_put(y++, r.x, t + lines[k].off, lines[k].len, r.w);
	free(lines);
}

/*
 * Say the terminal is too small in the longest form that fits whole
 * (never cut mid-word), centred; the shortest, cut, when none does.
 */
static void
win_too_small(int cols, int rows)
{
	static const char *const forms[][3] = {
	    {"terminal too small", "resize me", NULL},
	    {"terminal too small", NULL, NULL},
	    {"too small", "resize me", NULL},
	    {"too small", NULL, NULL},
	    {"too", "small", NULL},
	};
	const size_t nforms = sizeof forms / sizeof forms[0];
	size_t i, k, n = 0, w;
	int fits = 0, y;

	for (i = 0; i < nforms && !fits; i++) {
		fits = 1;
		for (n = 0; n < 3 && forms[i][n] != NULL; n++)
			if (strlen(forms[i][n]) > (size_t)cols)
				fits = 0;
		if ((int)n > rows)
			fits = 0;
	}
	i--;
	y = rows > (int)n ? (rows - (int)n) / 2 : 0;
	for (k = 0; k < n && y < rows; k++, y++) {
		w = strlen(forms[i][k]);
		win_put(y, w < (size_t)cols ? (cols - (int)w) / 2 : 0,
		    forms[i][k], w, cols);
	}
}

/* Draw everything; the one refresh of the pass. */
void
win_draw(struct client *c)
{

	c->cols = COLS;
	c->rows = LINES;
	win_joined_reset();
	layout_compute(
	    c->cols, c->rows, c->show_list, input_line_rows(c->il), &c->lay);
	erase();
	if (c->lay.too_small) {
		curs_set(0);
		win_too_small(c->cols, c->rows);
		wnoutrefresh(stdscr);
		doupdate();
		return;
	}
	if (c->overlay == OVERLAY_INVITE) {
		/* Modal, and the code needs the rows: no list, no input. */
		win_invite(c, c->rows - 1);
		win_status(c, c->rows - 1);
		curs_set(0);
		wnoutrefresh(stdscr);
		doupdate();
		win_joined_flush();
		return;
	}
	win_list(c);
	if (c->overlay == OVERLAY_NONE)
		win_chat(c);
	else
		win_overlay(c);
	win_status(c, c->lay.status.y);
	win_input(c);
	curs_set(1);
	wnoutrefresh(stdscr);
	doupdate();
	win_joined_flush();
}
