/*
 * noid tests — tmuxfix: drive the full-screen client through tmux, as a
 * person at a terminal would (DESIGN §9).
 *
 * tmuxfix_start() makes a temp dir (mkdtemp under /tmp) and a private
 * tmux server on a socket inside it (-S, with a generated config: no
 * status line, panes kept after their process exits so a crash can be
 * seen).  Sessions run a command with a given size and environment;
 * the test types into them (send-keys, literal or key names, bracketed
 * paste through a tmux buffer), reads the screen (capture-pane) and
 * waits, with a deadline, until the screen shows what it expects.
 * Polling the screen here is fine: this is the test, not the product.
 *
 * A watchdog process holds the other end of a pipe to the test: when
 * the test ends in any way (tmuxfix_free, a failed assertion, a crash)
 * it kills the tmux server (and so every process in its panes) and
 * removes the temp dir.  tmuxfix_run() runs any program, e.g. the CLI,
 * with a deadline, capturing stdout, stderr and the exit code.
 *
 * Copyright (C) 2026 the noid authors.  AGPL-3.0-or-later.
 */
#ifndef NOID_TMUXFIX_H
#define NOID_TMUXFIX_H

#include <stddef.h>
#include <sys/types.h>

/* The deadline tests use for anything to show up (generous: CI is slow). */
#define TMUXFIX_WAIT_MS 30000

/* The client binary under test. */
#define TMUXFIX_NOID NOID_BUILD_DIR "/noid"

/* capture flags */
#define TMUXFIX_ESC 0x1 /* -e: keep colours and attributes as SGR */
#define TMUXFIX_TRAIL 0x2 /* -N: keep trailing spaces */

struct tmuxfix;

/* A private tmux server in a fresh temp dir; NULL on failure (said on
 * stderr).  Free with tmuxfix_free. */
struct tmuxfix *tmuxfix_start(void);

/* Kill the server and everything in it, remove the temp dir, free. */
void tmuxfix_free(struct tmuxfix *t);

/* The temp dir: tests may keep their own files (data dirs) in it. */
const char *tmuxfix_dir(const struct tmuxfix *t);

/*
 * A detached session `name`, cols x rows, running argv (NULL-terminated)
 * with env ("NAME=VALUE" list, NULL-terminated, may be NULL) added to
 * TERM=xterm-256color LANG=C.UTF-8; stderr goes to <dir>/<name>.err.
 * 0 or -1.
 */
int tmuxfix_new(struct tmuxfix *t, const char *name, int cols, int rows,
    const char *const *env, const char *const *argv);

/* Send key names (tmux syntax: "Enter", "F2", "M-g", "PageUp", "C-c"),
 * NULL-terminated.  0 or -1. */
int tmuxfix_keys(struct tmuxfix *t, const char *name, ...);

/* Type text literally (send-keys -l). 0 or -1. */
int tmuxfix_type(struct tmuxfix *t, const char *name, const char *text);

/* Paste text as one bracketed paste (load-buffer, paste-buffer -p). */
int tmuxfix_paste(
    struct tmuxfix *t, const char *name, const char *text, size_t len);

/* Resize the window (and so the pane) to cols x rows. 0 or -1. */
int tmuxfix_resize(struct tmuxfix *t, const char *name, int cols, int rows);

/* The screen as text lines (caller frees); NULL on failure. */
char *tmuxfix_capture(struct tmuxfix *t, const char *name, int flags);

/*
 * Wait until the screen contains needle (a plain substring); returns
 * that screen (caller frees), or NULL after ms milliseconds, having
 * printed the last screen to stderr with why.
 */
char *tmuxfix_wait(
    struct tmuxfix *t, const char *name, const char *needle, int ms);

/* Same with a predicate over the screen (non-zero: done). */
typedef int (*tmuxfix_pred)(const char *screen, void *arg);
char *tmuxfix_wait_for(struct tmuxfix *t, const char *name, tmuxfix_pred pred,
    void *arg, const char *what, int ms);

/* The pid of the process in the pane (0 if unknown). */
pid_t tmuxfix_pid(struct tmuxfix *t, const char *name);

/* 1 while the pane's process runs, 0 after it exited (*status then set
 * to its exit status when status is not NULL; -1 when a signal killed
 * it), -1 on error. */
int tmuxfix_alive(struct tmuxfix *t, const char *name, int *status);

/* Row y of a screen (0 at the top, negative from the bottom: -1 is the
 * last row) as a new string without its newline; NULL if none. */
char *tmuxfix_row(const char *screen, int y);

/* The number of rows in a captured screen. */
int tmuxfix_rows(const char *screen);

/* The contents of <dir>/<name>.err (caller frees; "" when none). */
char *tmuxfix_stderr(struct tmuxfix *t, const char *name);

/* ---- running programs ------------------------------------------------ */

struct tmuxfix_result {
	int code; /* exit code; 128+N killed by signal N; -1 timed out */
	char *out; /* stdout, NUL-terminated */
	char *err; /* stderr */
};

/*
 * Run argv (NULL-terminated; argv[0] a path) with in (len bytes, NULL:
 * /dev/null) on stdin; kill it after ms milliseconds.  0 or -1 when it
 * could not be started.  Free r with tmuxfix_result_free.
 */
int tmuxfix_run(const char *const *argv, const char *in, size_t len, int ms,
    struct tmuxfix_result *r);
void tmuxfix_result_free(struct tmuxfix_result *r);

/* Run NOID_BUILD_DIR/noid --data-dir dir ARGS... (NULL-terminated), the
 * environment inherited, stdin from /dev/null, deadline TMUXFIX_WAIT_MS. */
int tmuxfix_noid(struct tmuxfix_result *r, const char *dir, ...);

/* ---- users: data dirs, the TUI, connecting two users ----------------- */

/* The password and KDF the helpers give noid (the fast test KDF:
 * NOID_TEST_FAST_KDF=1, see store/key.h). */
#define TMUXFIX_PASSWORD "tmuxfix password"

/* Export NOID_PASSWORD and NOID_TEST_FAST_KDF for the programs we start. */
void tmuxfix_env(void);

/* `noid init --name NAME` in dir, then `noid relays add RELAY` when
 * relay is not NULL.  0 or -1 (the CLI's output printed). */
int tmuxfix_user(const char *dir, const char *name, const char *relay);

/* tmuxfix_user in SUB under t's temp dir; that dir (caller frees), or
 * NULL when the user could not be made. */
char *tmuxfix_new_user(
    struct tmuxfix *t, const char *sub, const char *name, const char *relay);

/* The QR code on session's screen decoded by tests/tools/qr-from-screen:
 * its first line (caller frees), or NULL when none decodes in ten fresh
 * captures (the last screen and the decoder's complaint printed). */
char *tmuxfix_decode_qr(struct tmuxfix *t, const char *session);

/* Session `name` running the TUI on dir, cols x rows; waits for its
 * status bar ("F1 help").  0 or -1. */
int tmuxfix_tui(
    struct tmuxfix *t, const char *name, const char *dir, int cols, int rows);

/*
 * In running TUIs: session a invites (F2, then `t` for the link text),
 * session b pastes `/connect LINK`, a accepts the request by the id
 * `noid requests` gives (through a's control socket); waits until both
 * say "connected with".  *link (caller frees, may be NULL) gets the link.
 * 0 or -1.
 */
int tmuxfix_connect(struct tmuxfix *t, const char *a, const char *dir_a,
    const char *b, char **link);

/* The link text an open invitation screen shows after `t`: the rows
 * after "Link" up to an empty row, joined (caller frees); NULL if none. */
char *tmuxfix_invite_link(const char *screen);

/* The TUI's status bar: the row that ends in "F1 help" (caller frees),
 * or NULL.  tmuxfix_wait_bar: wait until name's bar contains what;
 * that bar row (caller frees) or NULL. */
char *tmuxfix_bar_row(const char *screen);
char *tmuxfix_wait_bar(
    struct tmuxfix *t, const char *name, const char *what, int ms);

/* Wait until name's screen shows a whole invitation link that parses
 * (not a redraw caught half way); the screen, or NULL (caller frees). */
char *tmuxfix_wait_link(struct tmuxfix *t, const char *name, int ms);

/* Quit a TUI (/quit) and wait for its process to exit.  0 or -1. */
int tmuxfix_quit(struct tmuxfix *t, const char *name);

/* ---- a long history ---------------------------------------------------- */

/* Texts tmuxfix_history puts at known places. */
#define TMUXFIX_HIST_FIRST "FIRST-MESSAGE-OF-HISTORY"
#define TMUXFIX_HIST_LAST "LAST-MESSAGE-OF-HISTORY"
#define TMUXFIX_HIST_NEEDLE "xylophone31337" /* message n/3, one word */

/*
 * Add n messages (n >= 3) to the conversation with the one contact of
 * dir's profile, in one transaction through the store API (no TUI may
 * run on dir): all incoming (store_msg_add queues outgoing ones for
 * sending), a minute apart, ending an hour ago; "history message NNNNNN" except the first, the last and the
 * needle.  0 or -1 (said on stderr).
 */
int tmuxfix_history(const char *dir, size_t n);

#endif
