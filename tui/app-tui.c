/*
 * app-tui: the full-screen client — first run, the terminal, keys.
 *
 * A TUI is an instance (app-run.c): the loop carries the tty, the agent
 * and the control socket.  Input is read with get_wch until it would
 * block; everything it changes only sets dirty flags, and the loop's
 * prepare hook draws once per pass (win-main.c).  SIGWINCH only sets a
 * flag; the size is asked from the terminal in the prepare hook.  Pasted
 * text arrives between bracketed-paste markers and goes into the input
 * line as one insert (line breaks kept), never as typed keys.
 */
#include "client.h"
#include "cmd.h"
#include "input-line.h"
#include "qr.h"
#include "utf8.h"

#include <curses.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define KEY_PASTE_BEGIN (KEY_MAX + 1)
#define KEY_PASTE_END (KEY_MAX + 2)
#define TUI_CONFIG "config"

static const char tui_config_default[] =
    "# noid client configuration: key = value; '#' starts a comment.\n"
    "# Written with the defaults on first run; edit and restart noid.\n"
    "\n"
    "# Ring the terminal bell on a message in another conversation.\n"
    "notify-bell = yes\n"
    "# Send an OSC 9 / OSC 777 notification too (terminals and tmux flag\n"
    "# the window).  /mute turns both off for one conversation.\n"
    "notify-osc = yes\n"
    "# Show the conversation list (it hides itself below 60 columns).\n"
    "show-list = yes\n"
    "# Mouse: click a conversation to open it, wheel to scroll.  Off by\n"
    "# default so the terminal's own selection keeps working.\n"
    "mouse = no\n"
    "# Colours (NO_COLOR in the environment turns them off as well).\n"
    "colour = yes\n"
    "# Colours by role: color.ROLE = FOREGROUND,BACKGROUND,ATTRIBUTES\n"
    "# with colour names or 0-255 and bold, dim, underline, reverse,\n"
    "# italic, blink joined by '+'.  Roles: normal status list selected\n"
    "# unread request timestamp day nick_self nick_peer event error\n"
    "# notice verified trust_qr trust_link delivery input separator qr\n"
    "# color.unread = yellow,default,bold\n"
    "# color.status = 15,4\n";

/* Apply one "key = value" line of the config. */
static void
tui_config_line(struct client *c, const char *line)
{
	char key[64], val[64], *cause = NULL;
	int yes;

	if (theme_parse_line(&c->theme, line, &cause) != NOID_ERR_NOENT ||
	    cause != NULL) {
		/* A colour line: a bad one is named, the rest still apply. */
		if (cause != NULL)
			client_set_note(c, "config: %s", cause);
		free(cause);
		return;
	}
	if (sscanf(line, " %63[a-z-] = %63s", key, val) != 2)
		return;
	yes = strcmp(val, "yes") == 0 || strcmp(val, "on") == 0 ||
	    strcmp(val, "1") == 0;
	if (strcmp(key, "notify-bell") == 0)
		c->notify_bell = yes;
	else if (strcmp(key, "notify-osc") == 0)
		c->notify_osc = yes;
	else if (strcmp(key, "show-list") == 0)
		c->show_list = yes;
	else if (strcmp(key, "mouse") == 0)
		c->mouse = yes;
	else if (strcmp(key, "colour") == 0 || strcmp(key, "color") == 0)
		c->use_colour = yes;
}

/* Read DIR/config (writing the defaults when missing). */
static void
tui_config_load(struct client *c)
{
	char *path = path_join(c->app->dir, TUI_CONFIG), *line, *save = NULL;
	uint8_t *data = NULL;
	size_t len;

	c->notify_bell = c->notify_osc = c->show_list = c->use_colour = 1;
	theme_init(&c->theme, theme_env_no_color());
	if (file_read_all(path, 65536, &data, &len) != 0)
		file_write_atomic(
		    path, tui_config_default, strlen(tui_config_default), 0600);
	else
		for (line = strtok_r((char *)data, "\n", &save); line != NULL;
		     line = strtok_r(NULL, "\n", &save))
			tui_config_line(c, line);
	if (!c->use_colour)
		c->theme.no_color = 1;
	free(data);
	free(path);
}

/* First run: make the data dir, its password and a first profile. */
static int
tui_first_run(struct app *app, const struct app_globals *g)
{
	uint8_t id[STORE_ID_LEN];
	char *pw = NULL, *name = NULL;
	const char *env;
	int rc, code = EXIT_USER;

	printf("Welcome to noid.  Your data will live in %s.\n\n", app->dir);
	if (g->password_file != NULL || getenv("NOID_PASSWORD") != NULL)
		rc = cli_password(g->password_file, "", &pw);
	else {
		printf("Choose a password.  Leave it empty for none — weaker: "
		       "anyone who can\nread this disk can then read your "
		       "messages.\n");
		fflush(stdout);
		rc = cli_password_new("NOID_PASSWORD", &pw);
	}
	if (rc == NOID_ERR_AUTH) {
		fprintf(stderr, "noid: the two passwords differ\n");
		goto out;
	}
	if (rc != 0) {
		fprintf(stderr,
		    "noid: no password given and no terminal to "
		    "ask on: run 'noid init' first\n");
		goto out;
	}
	if (*pw == '\0') {
		secret_free(pw);
		pw = NULL;
		printf("No password: your messages are only as safe as this "
		       "disk.\n");
	}
	if ((env = getenv("NOID_NAME")) != NULL)
		name = xstrdup(env);
	else {
		rc = cli_prompt(
		    "Your display name (what contacts see): ", 0, &name);
		if (rc != 0)
			goto out;
	}
	if (*name == '\0' || strlen(name) > AGENT_NAME_MAX) {
		fprintf(stderr, "noid: a display name has 1 to %d bytes\n",
		    AGENT_NAME_MAX);
		goto out;
	}
	if ((rc = dir_make_private(app->dir)) != 0 ||
	    (rc = app_open_store(app, pw, 1)) != 0 ||
	    (rc = cli_profile_create(app, name, id)) != 0) {
		fprintf(stderr, "noid: can't create %s: %s\n", app->dir,
		    noid_strerror(rc));
		goto out;
	}
	app_profile_switch(app, id);
	code = 0;
out:
	secret_free(pw);
	if (name != NULL && getenv("NOID_NAME") == NULL)
		secret_free(name);
	else
		free(name);
	return code;
}

/* SIGWINCH: only a flag. */
static void
tui_on_winch(int sig, void *arg)
{
	struct client *c = arg;

	(void)sig;
	c->resized = 1;
}

/* Before each poll: resize, reload, and the one redraw. */
static void
tui_prepare(void *arg)
{
	struct client *c = arg;
	struct winsize ws;
	size_t up = 0, total = 0;

	if (c->resized) {
		c->resized = 0;
		if (ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 &&
		    ws.ws_row > 0)
			resize_term(ws.ws_row, ws.ws_col);
		/* What the terminal shows after a resize is unknown (it may
		 * have reflowed or cut our rows): repaint every cell. */
		clearok(curscr, TRUE);
		c->dirty = 1;
	}
	if (c->app->agent_failed) {
		client_set_note(c,
		    "the network stopped after a storage error; "
		    "restart noid");
		c->app->agent_failed = 0;
	}
	if (c->model) {
		c->model = 0;
		client_model_reload(c);
	}
	/* Connections come and go without an event: compare each pass. */
	if (c->app->agent != NULL)
		agent_relays_connected(c->app->agent, &up, &total);
	if (up != c->relays_up || total != c->relays_total) {
		c->relays_up = up;
		c->relays_total = total;
		c->dirty = 1;
	}
	if (c->dirty) {
		c->dirty = 0;
		win_draw(c);
	}
}

/* Send the typed line, or run it as a command. */
static void
tui_submit(struct client *c)
{
	const struct client_conv *cv = client_current(c);
	uint8_t msg[AGENT_ID_LEN];
	const char *text;
	char *line = input_line_submit(c->il), *cause = NULL;
	int rc;

	c->dirty = 1;
	if (line == NULL || line[0] == '\0')
		goto out;
	if (cmd_is_command(line, &text)) {
		if (cmd_execute(c, line, &cause) != 0 && cause != NULL)
			client_set_note(c, "%s", cause);
		goto out;
	}
	if (c->connect_wait) {
		client_connect_link(c, line);
		goto out;
	}
	if (cv == NULL || cv->state != AGENT_CONN_READY) {
		client_set_note(c,
		    "no connected contact selected: /invite or "
		    "/connect first");
		goto out;
	}
	if (strlen(text) > AGENT_TEXT_MAX) {
		client_set_note(c, "the message is %zu bytes; the limit is %d",
		    strlen(text), AGENT_TEXT_MAX);
		goto out;
	}
	if (c->app->agent == NULL)
		client_set_note(c, "the network is not running");
	else if ((rc = agent_send(
	              c->app->agent, cv->conn, text, strlen(text), msg)) != 0)
		client_set_note(c, "not sent: %s", noid_strerror(rc));
	else {
		c->scroll = 0;
		client_chat_tail(c);
	}
out:
	free(cause);
	free(line);
}

/* Select conversation i. */
static void
tui_select(struct client *c, size_t i)
{
	if (i >= c->nconvs || i == c->sel)
		return;
	c->sel = i;
	client_chat_open(c);
	c->model = 1;
}

/* Run a slash command for a key; its complaint goes to the status bar. */
static void
tui_command(struct client *c, const char *line)
{
	char *cause = NULL;

	if (cmd_execute(c, line, &cause) != 0 && cause != NULL)
		client_set_note(c, "%s", cause);
	free(cause);
}

/* Keys that work everywhere; 1 when used. */
static int
tui_key_global(struct client *c, int ch, int alt)
{
	int h = c->lay.chat.h > 2 ? c->lay.chat.h - 2 : 1;

	switch (ch) {
	case KEY_F(1):
		tui_command(c, "/help");
		return 1;
	case KEY_F(2):
		client_invite_open(c, NULL);
		return 1;
	case KEY_F(3):
		tui_command(c, "/requests");
		return 1;
	case KEY_F(4):
		tui_command(c, "/contact");
		return 1;
	case KEY_F(5):
		tui_command(c, "/profile");
		return 1;
	case KEY_F(6):
		tui_command(c, "/relays");
		return 1;
	case KEY_PPAGE:
		/* ov_scroll counts lines from the top, scroll from the end. */
		if (c->overlay != OVERLAY_NONE)
			c->ov_scroll = c->ov_scroll > h ? c->ov_scroll - h : 0;
		else
			c->scroll += h;
		c->dirty = 1;
		return 1;
	case KEY_NPAGE:
		if (c->overlay != OVERLAY_NONE)
			c->ov_scroll += h;
		else
			c->scroll = c->scroll > h ? c->scroll - h : 0;
		c->dirty = 1;
		return 1;
	case 12: /* Ctrl-L */
		clearok(curscr, TRUE);
		c->dirty = 1;
		return 1;
	case 3: /* Ctrl-C */
		c->quit = 1;
		return 1;
	}
	if (!alt)
		return 0;
	switch (ch) {
	case KEY_UP:
		if (c->sel > 0)
			tui_select(c, c->sel - 1);
		return 1;
	case KEY_DOWN:
		tui_select(c, c->sel + 1);
		return 1;
	case 'g': /* the oldest message */
		while (client_chat_load_older(c))
			;
		c->scroll = 1 << 30;
		c->dirty = 1;
		return 1;
	case 'G':
		c->scroll = 0;
		c->dirty = 1;
		return 1;
	}
	if (ch >= '1' && ch <= '9') {
		tui_select(c, (size_t)(ch - '1'));
		return 1;
	}
	return 0;
}

/* Keys of an open overlay; 1 when used. */
static int
tui_key_overlay(struct client *c, int ch, int is_key)
{
	size_t len;

	input_line_text(c->il, &len);
	if (c->overlay == OVERLAY_CONFIRM) {
		if (ch == 'y' || ch == 'Y') {
			if (c->ov_yes != NULL)
				c->ov_yes(c);
			client_overlay_close(c);
		} else if (ch == 'n' || ch == 'N' || ch == 27)
			client_overlay_close(c);
		return 1;
	}
	if (ch == 27) {
		client_overlay_close(c);
		return 1;
	}
	if (c->overlay == OVERLAY_INVITE && !is_key) {
		/* Modal: the input line is hidden under the code. */
		if (ch == 't' || ch == 'c')
			client_invite_share(c);
		else if (ch == 'q')
			client_overlay_close(c);
		return 1;
	}
	if (len != 0)
		return 0;
	if (c->hits_query != NULL) {
		if (ch == KEY_UP || ch == KEY_DOWN) {
			client_search_move(c, ch == KEY_UP ? -1 : 1);
			return 1;
		}
		if (ch == KEY_ENTER || ch == '\r') {
			client_search_jump(c);
			return 1;
		}
	}
	if (ch == 'q') {
		client_overlay_close(c);
		return 1;
	}
	if (c->overlay == OVERLAY_TEXT && ch == KEY_UP) {
		c->ov_scroll = c->ov_scroll > 0 ? c->ov_scroll - 1 : 0;
		c->dirty = 1;
		return 1;
	}
	if (c->overlay == OVERLAY_TEXT && ch == KEY_DOWN) {
		c->ov_scroll++;
		c->dirty = 1;
		return 1;
	}
	return 0;
}

/* Map an ncurses key to an editing operation. */
static enum input_op
tui_key_op(int ch)
{
	switch (ch) {
	case KEY_HOME:
		return INPUT_OP_HOME;
	case KEY_END:
		return INPUT_OP_END;
	case KEY_LEFT:
		return INPUT_OP_LEFT;
	case KEY_RIGHT:
		return INPUT_OP_RIGHT;
	case KEY_BACKSPACE:
		return INPUT_OP_BACKSPACE;
	case KEY_DC:
		return INPUT_OP_DELETE;
	case KEY_UP:
		return INPUT_OP_UP;
	case KEY_DOWN:
		return INPUT_OP_DOWN;
	case KEY_ENTER:
		return INPUT_OP_SUBMIT;
	}
	return INPUT_OP_NONE;
}

/* A mouse event: click a conversation, wheel to scroll. */
static void
tui_mouse(struct client *c)
{
	const struct layout_rect *l = &c->lay.list;
	MEVENT me;

	if (getmouse(&me) != OK)
		return;
	if (me.bstate & BUTTON4_PRESSED) {
		if (c->overlay != OVERLAY_NONE)
			c->ov_scroll = c->ov_scroll > 3 ? c->ov_scroll - 3 : 0;
		else
			c->scroll += 3;
	} else if (me.bstate & BUTTON5_PRESSED) {
		if (c->overlay != OVERLAY_NONE)
			c->ov_scroll += 3;
		else
			c->scroll = c->scroll > 3 ? c->scroll - 3 : 0;
	} else if ((me.bstate & (BUTTON1_PRESSED | BUTTON1_CLICKED)) &&
	    c->overlay != OVERLAY_INVITE && me.x >= l->x &&
	    me.x < l->x + l->w && me.y >= l->y && me.y < l->y + l->h) {
		client_overlay_close(c);
		tui_select(c, (size_t)(me.y - l->y));
	}
	c->dirty = 1;
}

/* One key or character. */
static void
tui_key(struct client *c, wint_t wch, int is_key)
{
	enum input_op op;
	char u[4];
	size_t n;
	int ch = (int)wch, alt = c->esc;

	c->esc = 0;
	if (c->pasting) {
		if (is_key && ch == KEY_PASTE_END) {
			c->pasting = 0;
			input_line_insert(
			    c->il, (char *)c->paste.data, c->paste.len);
			buf_reset(&c->paste);
			c->dirty = 1;
		} else if (!is_key) {
			n = utf8_encode((uint32_t)wch, u);
			buf_put(&c->paste, u, n);
		}
		return;
	}
	if (is_key && ch == KEY_PASTE_BEGIN) {
		c->pasting = 1;
		return;
	}
	if (!is_key && ch == 27 && !alt) {
		c->esc = 1;
		return;
	}
	if (is_key && ch == KEY_RESIZE) {
		c->resized = 1;
		return;
	}
	if (is_key && ch == KEY_MOUSE) {
		tui_mouse(c);
		return;
	}
	if (tui_key_global(c, ch, alt))
		return;
	if (c->overlay != OVERLAY_NONE && !alt &&
	    tui_key_overlay(c, ch, is_key))
		return;
	op = is_key ? tui_key_op(ch) : input_op_from_char((uint32_t)wch, alt);
	if (op == INPUT_OP_SUBMIT) {
		tui_submit(c);
		return;
	}
	if (op != INPUT_OP_NONE) {
		if (input_line_op(c->il, op) == INPUT_UNCHANGED &&
		    op != INPUT_OP_COMPLETE)
			beep();
		c->dirty = 1;
		return;
	}
	if (is_key || wch < 0x20)
		return;
	n = utf8_encode((uint32_t)wch, u);
	input_line_insert(c->il, u, n);
	c->dirty = 1;
}

/* The tty is readable: take every key there is. */
static void
tui_on_tty(int fd, short revents, void *arg)
{
	struct client *c = arg;
	wint_t wch;
	int r;

	(void)fd;
	if (revents & (POLLHUP | POLLERR)) {
		c->quit = 1;
		return;
	}
	while ((r = get_wch(&wch)) != ERR)
		tui_key(c, wch, r == KEY_CODE_YES);
	/* A lone Escape, not the start of an Alt- key. */
	if (c->esc && !c->pasting) {
		c->esc = 0;
		if (c->overlay != OVERLAY_NONE)
			client_overlay_close(c);
	}
}

/* Quit when asked (signals, /quit). */
static void
tui_on_quit(int sig, void *arg)
{
	struct client *c = arg;

	(void)sig;
	c->quit = 1;
}

/* Set up curses for the client. */
static void
tui_curses_start(struct client *c)
{
	if (getenv("ESCDELAY") == NULL)
		set_escdelay(25);
	initscr();
	raw();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	define_key("\033[200~", KEY_PASTE_BEGIN);
	define_key("\033[201~", KEY_PASTE_END);
	/* Bracketed paste on. */
	printf("\033[?2004h");
	fflush(stdout);
	if (c->mouse) {
		mousemask(BUTTON1_PRESSED | BUTTON1_CLICKED | BUTTON4_PRESSED |
		        BUTTON5_PRESSED,
		    NULL);
		mouseinterval(0);
	}
	win_colours_init(c);
	c->cols = COLS;
	c->rows = LINES;
}

/* Leave curses, restoring the terminal. */
static void
tui_curses_end(void)
{
	printf("\033[?2004l");
	fflush(stdout);
	endwin();
}

/* Bare `noid`. */
int
app_tui_main(const struct app_globals *g)
{
	struct app *app = app_new(g->dir);
	struct client *c = NULL;
	int yes, rc, code;

	app->globals = g;
	if (!isatty(0) || !isatty(1)) {
		fprintf(stderr,
		    "noid: the full-screen client needs a terminal; "
		    "see 'noid --help' for commands\n");
		code = EXIT_USER;
		goto out;
	}
	if (access(g->dir, F_OK) != 0 ||
	    store_has_password(g->dir, &yes) == NOID_ERR_NOENT)
		code = tui_first_run(app, g);
	else
		code = app_open(app, g);
	if (code != 0)
		goto out;
	if (!app->has_profile && app_profile_select(app, g->profile) != 0) {
		fprintf(stderr,
		    "noid: no profile%s%s: create one with 'noid "
		    "profiles add NAME'\n",
		    g->profile ? " named " : "", g->profile ? g->profile : "");
		code = EXIT_USER;
		goto out;
	}
	/* Without the network the screen still opens, and says so. */
	if ((rc = app_instance_start(app)) != 0 && app->ctl == NULL) {
		fprintf(stderr, "noid: can't start: %s\n", noid_strerror(rc));
		code = EXIT_USER;
		goto out;
	}
	c = xcalloc(1, sizeof *c);
	c->app = app;
	buf_init(&c->paste);
	c->il = input_line_create();
	input_line_set_completer(c->il, cmd_complete, c);
	tui_config_load(c);
	client_cmds_init();
	tui_curses_start(c);
	app_listen(app, client_on_event, c);
	app->other_cb = client_on_other_event;
	app->other_arg = c;
	app_loop_signal_set(app->loop, SIGWINCH, tui_on_winch, c);
	app_loop_signal_set(app->loop, SIGINT, tui_on_quit, c);
	app_loop_fd_set(app->loop, 0, POLLIN, tui_on_tty, c);
	app_loop_set_prepare(app->loop, tui_prepare, c);
	if (rc != 0)
		client_set_note(c, "network not started: %s%s",
		    noid_strerror(rc),
		    app->relay_err ? " (is noid-relay installed?)" : "");
	c->model = 1;
	c->dirty = 1;
	while (!c->quit && !app->quit)
		if (app_loop_once(app->loop) != 0)
			break;
	tui_curses_end();
	app_unlisten(app, client_on_event, c);
	app->other_cb = NULL;
	app->other_arg = NULL;
	code = 0;
out:
	if (c != NULL) {
		client_overlay_close(c);
		client_msgs_free(c);
		client_model_free(c);
		input_line_free(c->il);
		buf_free(&c->paste);
		free(c->note);
		free(c->relay_err);
		free(c);
	}
	app_free(app);
	return code;
}
