/*
 * noid — client: the engine behind both faces of `noid` (DESIGN §1, §8).
 *
 * One process, one thread, one poll() loop (app-loop.c) that carries the
 * tty, the control socket (ctl-*.c), the agent's sockets and timers.
 * The command-line commands (cli-*.c) are one table that drives parsing,
 * `--help` and the man page; a command runs the same way whether it was
 * typed in a shell (one-shot: open the store, act, exit) or arrived over
 * the control socket of a running TUI or daemon (its output is framed
 * back to the caller).  With no relay configured the client runs a
 * private noid-relay on 127.0.0.1 (relay-embed.c).
 *
 * Exit codes are the CLI contract (CLI.md): 0 success, 1 a user error,
 * 2 a usage error, 3 data dir locked by a process that can't be reached.
 */
#ifndef NOID_CLIENT_H
#define NOID_CLIENT_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "base.h"

#define EXIT_USER 1
#define EXIT_USAGE 2
#define EXIT_LOCKED 3

/* ---- app-loop.c: the one poll() loop -------------------------------- */

struct app_loop;

typedef void (*app_loop_fd_cb)(int fd, short revents, void *arg);
typedef void (*app_loop_timer_cb)(void *arg);
typedef void (*app_loop_signal_cb)(int sig, void *arg);
typedef void (*app_loop_hook_cb)(void *arg);

struct app_loop *app_loop_new(void);
void app_loop_free(struct app_loop *loop);
/* Watch fd for events (add, or replace the watch); events 0 pauses it. */
void app_loop_fd_set(
    struct app_loop *loop, int fd, short events, app_loop_fd_cb cb, void *arg);
void app_loop_fd_del(struct app_loop *loop, int fd);
/* A one-shot timer after ms milliseconds; returns its id (never 0). */
uint64_t app_loop_timer_add(
    struct app_loop *loop, uint64_t ms, app_loop_timer_cb cb, void *arg);
void app_loop_timer_del(struct app_loop *loop, uint64_t id);
/* Deliver sig through the self-pipe: cb runs inside the loop, not in
 * the handler. */
int app_loop_signal_set(
    struct app_loop *loop, int sig, app_loop_signal_cb cb, void *arg);
/*
 * A source that brings its own set of fds and timer (the agent): fill
 * appends up to max pollfds and returns how many it wants (more than
 * max: called again with room); ready gets them back with revents;
 * timeout says when it next needs ready() without an fd (-1: never).
 */
typedef size_t (*app_loop_fill_cb)(void *arg, struct pollfd *fds, size_t max);
typedef void (*app_loop_ready_cb)(
    void *arg, const struct pollfd *fds, size_t n);
typedef int (*app_loop_timeout_cb)(void *arg);
void app_loop_source_set(struct app_loop *loop, app_loop_fill_cb fill,
    app_loop_ready_cb ready, app_loop_timeout_cb timeout, void *arg);
/* Called once before every poll(): the place for the one redraw. */
void app_loop_set_prepare(
    struct app_loop *loop, app_loop_hook_cb cb, void *arg);
/* One pass: wait (no busy loop) for an fd, a timer or a signal, run the
 * callbacks.  NOID_ERR_IO when poll fails for a reason other than EINTR. */
int app_loop_once(struct app_loop *loop);
/* Run passes until *done becomes non-zero. */
int app_loop_run(struct app_loop *loop, const int *done);

/* ---- ctl-proto.c: control socket wire format ------------------------- */

#define CTL_SOCKET_NAME "noid.sock"
#define CTL_REQUEST_MAX (8u * 1024 * 1024)
#define CTL_FRAME_MAX (1024u * 1024)
#define CTL_ARGS_MAX 256
#define CTL_VERSION 1

/* Response frames: output streams and the final exit code. */
enum ctl_frame_type {
	CTL_FRAME_OUT = 1,
	CTL_FRAME_ERR = 2,
	CTL_FRAME_EXIT = 3
};

/* A command as sent by `noid ...` to a running instance. */
struct ctl_request {
	int argc;
	char **argv; /* the command words and arguments, after globals */
	char *profile; /* --profile, or NULL */
	uint8_t *in; /* stdin read by the caller (may be NULL) */
	size_t inlen;
	int has_in;
};

/* Append a length-prefixed request to b. */
void ctl_request_encode(struct buf *b, const struct ctl_request *req);
/* Decode a request body (without its length prefix); free with
 * ctl_request_clear.  NOID_ERR_INVAL/TOOBIG on malformed input. */
int ctl_request_decode(const uint8_t *p, size_t len, struct ctl_request *req);
void ctl_request_clear(struct ctl_request *req);
/* Append one response frame: type, u32 length, bytes. */
void ctl_frame_put(struct buf *b, int type, const void *p, size_t len);
/*
 * Parse the first complete frame in p: 1 with *type, *body, *bodylen and
 * *used set; 0 when more bytes are needed; NOID_ERR_TOOBIG/INVAL.
 */
int ctl_frame_get(const uint8_t *p, size_t len, int *type, const uint8_t **body,
    size_t *bodylen, size_t *used);

/* ---- ctl-client.c: `noid COMMAND` talking to a running instance ------ */

struct sockaddr_un;
/* Fill in DIR/noid.sock; NOID_ERR_TOOBIG when the path is too long. */
int ctl_socket_addr(const char *dir, struct sockaddr_un *sun);

/*
 * Run req on the instance serving dir's control socket, copying its
 * output to fds 1 and 2.  0 with *exit_code set; NOID_ERR_NOENT when no
 * instance answers (no socket, or nobody listening).
 */
int ctl_client_run(
    const char *dir, const struct ctl_request *req, int *exit_code);

/* Whether an instance of our user answers on dir's control socket. */
int ctl_instance_alive(const char *dir);

/* ---- ctl-server.c: a running instance serving the control socket ----- */

struct ctl_server;
struct cli_ctx;

/*
 * Run a request: parse req->argv into ctx (whose write/done/arg are set)
 * and run it; the command must end with cli_finish() (cli_run does).
 */
typedef void (*ctl_server_exec_cb)(
    void *arg, struct ctl_request *req, struct cli_ctx *ctx);

/* Listen on DIR/noid.sock (mode 0600); the caller holds the lock. */
int ctl_server_start(struct app_loop *loop, const char *dir,
    ctl_server_exec_cb exec, void *arg, struct ctl_server **out);
/* Close every caller (cancelling their commands) and remove the socket. */
void ctl_server_stop(struct ctl_server *srv);

/* ---- relay-embed.c: the private local relay --------------------------- */

struct relay_embed;

/*
 * Start (or reuse, when one is already running for this data dir) a
 * private noid-relay on 127.0.0.1 with its data under DIR/relay.  The
 * port chosen on the first start is kept so addresses stay valid.
 * *out: relay_embed_stop.
 */
int relay_embed_start(const char *dir, struct relay_embed **out);
/* The relay's noid:// address (owned by re). */
const char *relay_embed_address(const struct relay_embed *re);
/* Whether this process started it (and stops it). */
int relay_embed_owned(const struct relay_embed *re);
/* The address the embedded relay had last time (caller frees), or NULL. */
char *relay_embed_saved_address(const char *dir);
/* Stop it if we started it; free.  NULL is a no-op. */
void relay_embed_stop(struct relay_embed *re);
/* Free, leaving it running: it keeps the queues between runs. */
void relay_embed_release(struct relay_embed *re);
/* The path of the noid-relay binary: beside noid, else PATH (caller
 * frees); NULL when not found.  NOID_RELAY overrides. */
char *relay_embed_find_binary(void);

/* ---- app-core.c: the engine ------------------------------------------ */

#include "agent.h"
#include "store.h"

struct app_listener {
	agent_event_cb cb;
	void *arg;
	struct app_listener *next;
};

/* A relay of the profile, as configured. */
struct app_relay {
	char *address;
	char *key; /* access key, or NULL */
	int trusted;
};

struct tui;

/* The global options of the command line. */
struct app_globals {
	const char *dir;
	const char *profile;
	const char *password_file;
};

/*
 * Something happened in a profile other than the current one (its
 * agent runs in an instance's loop too, app-others.c).
 */
typedef void (*app_other_cb)(const uint8_t profile[STORE_ID_LEN],
    const struct agent_event *ev, void *arg);

struct app_other;

/* The engine: one data dir, its store, the current profile and agent. */
struct app {
	char *dir;
	int store_flags;
	char *password; /* secret memory; kept for export (NULL: none) */
	struct store *st;
	uint8_t profile[STORE_ID_LEN];
	char *profile_name;
	int has_profile;
	struct agent *agent;
	size_t agent_nfds; /* its share of the loop's pollfds */
	uint64_t agents_gen; /* bumped whenever an agent opens or closes */
	struct app_other *others; /* the other profiles' agents */
	app_other_cb other_cb; /* (may be NULL) */
	void *other_arg;
	struct app_loop *loop; /* an instance's loop; NULL for one-shot */
	struct relay_embed *relay;
	int relay_err; /* why the embedded relay did not start */
	int on_embedded; /* the agent uses the embedded relay */
	struct ctl_server *ctl;
	struct app_listener *listeners;
	struct tui *tui; /* the screen, when there is one */
	const struct app_globals *globals;
	int agent_failed; /* the agent hit a store error and was closed */
	int quit;
};

struct app *app_new(const char *dir);
void app_free(struct app *app);
/* Open the store (password NULL: none; create: STORE_CREATE). */
int app_open_store(struct app *app, const char *password, int create);
int app_profile_select(struct app *app, const char *name);
int app_profile_switch(struct app *app, const uint8_t id[STORE_ID_LEN]);
int app_profile_delete(
    struct app *app, const uint8_t id[STORE_ID_LEN], int wait_ms);
int app_relays_get(struct app *app, struct app_relay **out, size_t *n);
int app_relays_get_of(struct app *app, const uint8_t profile[STORE_ID_LEN],
    struct app_relay **out, size_t *n);
int app_relays_put(struct app *app, const struct app_relay *r, size_t n);
void app_relays_free(struct app_relay *r, size_t n);
int app_relay_address_check(
    const char *address, const char **why, char **canon);
int app_agent_open(struct app *app, const uint8_t profile[STORE_ID_LEN],
    agent_event_cb cb, void *arg, int *embedded, struct agent **out);
int app_agent_start(struct app *app);
/* Run the agent alone until idle (at most ms); NOID_ERR_TIMEOUT. */
int app_agent_settle(struct app *app, int ms);
void app_agent_stop(struct app *app);
int app_agent_restart(struct app *app);
void app_listen(struct app *app, agent_event_cb cb, void *arg);
void app_unlisten(struct app *app, agent_event_cb cb, void *arg);
/* Connection states as a mask for app_conn_find. */
#define APP_CONN_ANY 0xfeu
#define APP_CONN_CONTACT                                                       \
	((1u << AGENT_CONN_READY) | (1u << AGENT_CONN_ACCEPTING) |             \
	    (1u << AGENT_CONN_JOINING))
#define APP_CONN_REQUEST (1u << AGENT_CONN_REQUESTED)
int app_conn_find(struct app *app, const char *what, unsigned mask,
    struct agent_conn_info *ci);

/* ---- app-others.c: the other profiles' agents in an instance ------- */

/* Open an agent for every profile but the current one (best effort). */
void app_others_start(struct app *app);
void app_others_stop(struct app *app);
/* All agents (current first, then the others) as one loop source. */
size_t app_agents_pollfds(struct app *app, struct pollfd *fds, size_t max);
void app_agents_on_ready(struct app *app, const struct pollfd *fds, size_t n);
int app_agents_timeout_ms(struct app *app);

/* ---- app-run.c: one-shot commands and instances -------------------- */

/* `noid COMMAND ...` (argv after the global options); the exit code. */
int app_run_command(const struct app_globals *g, int argc, char **argv);
/* Open g->dir's store into app (asks for the password); 0 or an exit
 * code after printing why not. */
int app_open(struct app *app, const struct app_globals *g);
/* Become an instance: loop, control socket, agent in the loop. */
int app_instance_start(struct app *app);

/* ---- app-tui.c, app-model.c, win-*.c: the full-screen client ---------- */

#include "layout.h"
#include "theme.h"

/* Bare `noid`: first run or the main screen; the exit code. */
int app_tui_main(const struct app_globals *g);

struct input_line;
struct qr;

/* One row of the conversation list: a contact or a pending request. */
struct client_conv {
	uint8_t contact[STORE_ID_LEN];
	uint8_t conn[STORE_ID_LEN];
	char *name;
	int state; /* enum agent_conn_state */
	int trust;
	uint64_t unread;
	char *preview;
	int muted; /* no notifications for this conversation */
};

/* One item of the chat pane: a message, or an event note (dir 0). */
struct client_msg {
	struct store_msg m;
	int rows; /* wrapped rows, cached for width rows_w */
	int rows_w;
};

/* What fills the chat area instead of the conversation. */
enum client_overlay {
	OVERLAY_NONE,
	OVERLAY_TEXT, /* help, requests, contact, relays, profiles, search */
	OVERLAY_INVITE, /* the QR code and its link */
	OVERLAY_CONFIRM /* a yes/no question */
};

/* The screen's whole state; drawn from scratch whenever dirty. */
struct client {
	struct app *app;
	int cols, rows;
	struct layout lay;
	int dirty; /* redraw at the end of this loop pass */
	int resized; /* SIGWINCH seen: ask the terminal its size */
	int model; /* reload the conversation list */
	struct input_line *il;
	struct client_conv *convs;
	size_t nconvs;
	size_t sel; /* index into convs */
	struct client_msg *msgs; /* the open conversation, oldest first */
	size_t nmsgs;
	int all_loaded; /* the oldest message is in msgs */
	int scroll; /* rows scrolled up from the bottom */
	char *note; /* one-line message in the status bar */
	char *relay_err;
	size_t relays_up, relays_total; /* as the status bar shows them */
	uint64_t other_unread; /* in the other profiles */
	enum client_overlay overlay;
	char *ov_title;
	char *ov_text;
	int ov_scroll;
	struct qr *ov_qr;
	char *ov_link;
	int ov_link_shown;
	uint8_t ov_conn[STORE_ID_LEN];
	void (*ov_yes)(struct client *c);
	int connect_wait; /* the next line typed is an invitation link */
	struct store_hit *hits; /* search results shown in the overlay */
	size_t nhits;
	size_t hit_sel;
	char *hits_query;
	uint8_t jump[STORE_ID_LEN]; /* message to bring into view */
	int has_jump;
	uint8_t mark[STORE_ID_LEN]; /* message highlighted (a search hit) */
	int has_mark;
	uint8_t ov_profile[STORE_ID_LEN]; /* profile a confirm is about */
	int pasting;
	struct buf paste;
	int esc; /* an Escape came: the next key is Alt- */
	int notify_bell, notify_osc, show_list, use_colour, mouse;
	struct theme theme;
	int quit;
};

/* app-model.c: fill the model from the store and the agent. */
void client_model_reload(struct client *c);
void client_chat_open(struct client *c);
void client_chat_tail(struct client *c);
int client_chat_load_older(struct client *c);
void client_chat_note(struct client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void client_on_event(const struct agent_event *ev, void *arg);
void client_on_other_event(const uint8_t profile[STORE_ID_LEN],
    const struct agent_event *ev, void *arg);
void client_msgs_free(struct client *c);
void client_model_free(struct client *c);
const struct client_conv *client_current(const struct client *c);
void client_set_note(struct client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Show text (takes a copy) in the overlay, titled. */
void client_overlay_text(struct client *c, const char *title, const char *text);
void client_overlay_close(struct client *c);

/* app-cmds.c: slash commands and keys. */
void client_cmds_init(void);
void client_invite_open(struct client *c, const char *note);
void client_invite_share(struct client *c);
/* Say what a blocking step is doing, on screen now (before it blocks). */
void client_busy(struct client *c, const char *what);
/* The next line typed is a link to connect with. */
void client_connect_open(struct client *c);
void client_connect_link(struct client *c, const char *link);
/* Search results: move the selection, open the selected one. */
void client_search_move(struct client *c, int delta);
void client_search_jump(struct client *c);
/* Whether a conversation's notifications are off (/mute). */
int client_muted(struct client *c, const uint8_t contact[STORE_ID_LEN]);
int client_muted_in(struct client *c, const uint8_t profile[STORE_ID_LEN],
    const uint8_t contact[STORE_ID_LEN]);

/* win-main.c: drawing. */
void win_draw(struct client *c);
void win_colours_init(struct client *c);
void win_joined_reset(void);
void win_joined_add(int y, int x, const char *s, size_t len);
void win_joined_flush(void);

/* ---- cli-table.c: the command table ---------------------------------- */

struct app;
struct cli_ctx;

#define CLI_OPTS_MAX 4
#define CLI_PENDING (-1) /* exec: finishes later with cli_finish() */

/* A command's option: --name, with a value when arg is set. */
struct cli_opt {
	const char *name;
	const char *arg;
	const char *help;
};

/* Command flags. */
#define CLI_LOCAL 0x1 /* never handed to a running instance */
#define CLI_NO_STORE 0x2 /* runs without opening the store */
#define CLI_STDIN 0x4 /* reads stdin when given only min_args */
#define CLI_NET 0x8 /* needs the agent: take in, act, flush */
#define CLI_NO_PROFILE 0x10 /* works without a current profile */

/* One command: the table drives parsing, --help and the man page. */
struct cli_cmd {
	const char *name;
	const char *sub; /* second word ("profiles add"), or NULL */
	const char *args;
	const char *summary;
	const char *help;
	int min_args, max_args; /* max -1: any number */
	struct cli_opt opts[CLI_OPTS_MAX];
	int flags;
	int (*exec)(struct cli_ctx *ctx);
};

typedef void (*cli_write_cb)(
    struct cli_ctx *ctx, int fd, const void *p, size_t len);
typedef void (*cli_done_cb)(struct cli_ctx *ctx, int code);

/* One running command: where its output goes and what it was given. */
struct cli_ctx {
	struct app *app;
	const struct cli_cmd *cmd;
	int argc;
	char **argv; /* positional arguments (borrowed) */
	const char *opt[CLI_OPTS_MAX]; /* "" for a given flag, else value */
	const uint8_t *in; /* stdin when the command reads it */
	size_t inlen;
	int has_in;
	int err_tty; /* stderr is a terminal: progress redraws in place */
	cli_write_cb write;
	cli_done_cb done;
	void *arg;
	/* For pending commands: called if the caller goes away first. */
	void (*cancel)(struct cli_ctx *ctx);
	void *state;
	int finished;
	int code;
};

extern const struct cli_cmd cli_cmds[];
extern const size_t cli_ncmds;

/*
 * Find the command for argv (after the global options) and parse its
 * options into ctx (opt, argc, argv).  0 ok; 1 when --help was asked
 * (*cmd set when known); EXIT_USAGE with a message in *cause (caller
 * frees) otherwise.
 */
int cli_parse(int argc, char **argv, struct cli_ctx *ctx,
    const struct cli_cmd **cmd, char **cause);
/* The option value by name (without "--"), or NULL. */
const char *cli_opt(const struct cli_ctx *ctx, const char *name);
/* Print the global usage, or one command's help, to f. */
void cli_usage(void *f);
void cli_help(void *f, const struct cli_cmd *cmd);
/* Print the man page (roff) generated from the table. */
void cli_man(void *f);

/* Output for a command (to its caller's stdout / stderr). */
void cli_printf(struct cli_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void cli_write(struct cli_ctx *ctx, const void *p, size_t len);
/* Print "noid: ..." to stderr and return EXIT_USER. */
int cli_fail(struct cli_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Finish a pending command. */
void cli_finish(struct cli_ctx *ctx, int code);
/* Run ctx->cmd; finished at once unless it returned CLI_PENDING. */
void cli_run(struct cli_ctx *ctx);

/* ---- cli-pass.c: passwords ------------------------------------------- */

#define CLI_PASSWORD_MAX 4096

/* Ask on the terminal (echo off when secret); *out: secret_free.
 * NOID_ERR_NOENT when there is no terminal. */
int cli_prompt(const char *prompt, int secret, char **out);
/* The password from file, else NOID_PASSWORD, else a prompt. */
int cli_password(const char *file, const char *prompt, char **out);
/* A new password from env_name, else asked twice (NOID_ERR_AUTH when
 * the two differ); "" means none. */
int cli_password_new(const char *env_name, char **out);

/* ---- cli-profiles.c: helpers shared with the screens ------------------ */

int cli_profile_create(
    struct app *app, const char *name, uint8_t id[STORE_ID_LEN]);
int cli_profile_find(
    struct app *app, const char *name, uint8_t id[STORE_ID_LEN]);

/* ---- cli-contacts.c, cli-relays.c: helpers shared with the screens --- */

const char *cli_trust_word(int trust);
const char *cli_state_word(int state);
/* Per-profile setting key prefix (+ hex contact id): a local name. */
#define CLI_LOCAL_NAME_PREFIX "contact-name/"
/* A contact's local name, else fallback, else its alias (caller frees). */
char *cli_contact_name(
    struct app *app, const uint8_t contact[STORE_ID_LEN], const char *fallback);
/* Only the local name, or NULL (caller frees); set it (NULL: clear). */
char *cli_contact_local_name(
    struct app *app, const uint8_t contact[STORE_ID_LEN]);
int cli_contact_set_local_name(
    struct app *app, const uint8_t contact[STORE_ID_LEN], const char *name);
/* Handshake with and ping the relay at address (within timeout_ms); *ms
 * the time it took. */
int cli_relay_probe(
    const char *address, int timeout_ms, uint64_t *ms, const char **why);

/* ---- cli-*.c: the command handlers (cli-table.c lists them) ---------- */

int cli_exec_init(struct cli_ctx *ctx);
int cli_exec_profiles(struct cli_ctx *ctx);
int cli_exec_profiles_add(struct cli_ctx *ctx);
int cli_exec_profiles_rename(struct cli_ctx *ctx);
int cli_exec_profiles_rm(struct cli_ctx *ctx);
int cli_exec_relays(struct cli_ctx *ctx);
int cli_exec_relays_add(struct cli_ctx *ctx);
int cli_exec_relays_rm(struct cli_ctx *ctx);
int cli_exec_relays_test(struct cli_ctx *ctx);
int cli_exec_invite(struct cli_ctx *ctx);
int cli_exec_connect(struct cli_ctx *ctx);
int cli_exec_requests(struct cli_ctx *ctx);
int cli_exec_accept(struct cli_ctx *ctx);
int cli_exec_reject(struct cli_ctx *ctx);
int cli_exec_contacts(struct cli_ctx *ctx);
int cli_exec_contacts_rename(struct cli_ctx *ctx);
int cli_exec_contacts_rm(struct cli_ctx *ctx);
int cli_exec_send(struct cli_ctx *ctx);
int cli_exec_read(struct cli_ctx *ctx);
int cli_exec_search(struct cli_ctx *ctx);
int cli_exec_verify(struct cli_ctx *ctx);
int cli_exec_rekey(struct cli_ctx *ctx);
int cli_exec_rotate(struct cli_ctx *ctx);
int cli_exec_passwd(struct cli_ctx *ctx);
int cli_exec_export(struct cli_ctx *ctx);
int cli_exec_import(struct cli_ctx *ctx);
int cli_exec_daemon(struct cli_ctx *ctx);
int cli_exec_help(struct cli_ctx *ctx);

#endif
