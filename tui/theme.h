/*
 * noid — theme: colours and attributes by role, from the config file.
 *
 * Screens never name colours; they ask for a role (unread, status, ...)
 * and get a style.  The config file overrides roles one line at a time:
 *
 *   color.unread = yellow,default,bold
 *   color.status = 15,4            # numbers are 256-colour indices
 *   color.error = red,,bold+underline
 *
 * Fields are foreground, background, then attributes (bold, dim,
 * underline, reverse, italic, blink, none), joined by '+' or given as
 * more fields; an empty or missing field means default (no attributes).
 * A line replaces the whole style of its role.
 *
 * NO_COLOR (set and not empty, see no-color.org) drops every colour;
 * roles that relied on colour to stand out (status bar, selection,
 * events, ...) then get an attribute instead, so the screen stays
 * readable.  Mapping styles to ncurses colour pairs and A_* bits is the
 * drawing code's job.
 *
 * Copyright (C) 2026 the noid authors.  AGPL-3.0-or-later.
 */
#ifndef NOID_THEME_H
#define NOID_THEME_H

#define THEME_COLOR_DEFAULT (-1)

#define THEME_BOLD 0x01u
#define THEME_DIM 0x02u
#define THEME_UNDERLINE 0x04u
#define THEME_REVERSE 0x08u
#define THEME_ITALIC 0x10u
#define THEME_BLINK 0x20u

enum theme_role {
	THEME_NORMAL,
	THEME_STATUS, /* status bar */
	THEME_LIST, /* conversation list */
	THEME_SELECTED, /* selected list entry */
	THEME_UNREAD, /* conversation with unread messages */
	THEME_REQUEST, /* pending connection request */
	THEME_TIMESTAMP,
	THEME_DAY, /* day separator in the chat pane */
	THEME_NICK_SELF,
	THEME_NICK_PEER,
	THEME_EVENT, /* integrity and security events, inline */
	THEME_ERROR,
	THEME_NOTICE,
	THEME_VERIFIED, /* trust: verified in person */
	THEME_TRUST_QR, /* trust: invitation scanned from a screen */
	THEME_TRUST_LINK, /* trust: invitation sent as text */
	THEME_DELIVERY, /* sent/delivered marks */
	THEME_INPUT,
	THEME_SEPARATOR, /* pane borders */
	THEME_QR, /* QR codes: dark modules on light */
	THEME_ROLE_COUNT
};

struct theme_style {
	int fg; /* THEME_COLOR_DEFAULT or 0-255 */
	int bg;
	unsigned attrs; /* THEME_BOLD | ... */
};

/* Plain data; read it through theme_get(), which applies NO_COLOR. */
struct theme {
	struct theme_style style[THEME_ROLE_COUNT];
	int no_color;
};

/* The built-in theme; no_color as from theme_env_no_color(). */
void theme_init(struct theme *t, int no_color);

/* Whether the environment asks for no colour (NO_COLOR set, not empty). */
int theme_env_no_color(void);

/* The style to draw role with. */
struct theme_style theme_get(const struct theme *t, enum theme_role role);

/* Config name of a role ("unread"), and back (-1 if unknown). */
const char *theme_role_name(enum theme_role role);
int theme_role_find(const char *name);

/*
 * Set a role from a value like "yellow,default,bold".  NOID_ERR_NOENT
 * for an unknown role, NOID_ERR_INVAL for a bad value; *cause says
 * which (caller frees).  t is unchanged on error.
 */
int theme_set(
    struct theme *t, const char *role, const char *value, char **cause);

/*
 * Apply one config line.  Blank lines and '#' comments are 0;
 * "color.ROLE = VALUE" goes to theme_set; a line for another key is
 * NOID_ERR_NOENT with *cause NULL (it is someone else's).
 */
int theme_parse_line(struct theme *t, const char *line, char **cause);

/* The config line for a role, as theme_parse_line reads it (caller frees). */
char *theme_format_line(const struct theme *t, enum theme_role role);

#endif
