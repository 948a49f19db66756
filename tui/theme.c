/*
 * theme: the role table, NO_COLOR and config lines (see theme.h).
 */
#include "theme.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base.h"

#define D THEME_COLOR_DEFAULT

/* Each role: config name, default style, attributes added by NO_COLOR. */
static const struct theme_default {
	const char *name;
	struct theme_style style;
	unsigned mono;
} theme_defaults[THEME_ROLE_COUNT] = {
    [THEME_NORMAL] = {"normal", {D, D, 0}, 0},
    [THEME_STATUS] = {"status", {7, 4, 0}, THEME_REVERSE},
    [THEME_LIST] = {"list", {D, D, 0}, 0},
    [THEME_SELECTED] = {"selected", {0, 6, 0}, THEME_REVERSE},
    [THEME_UNREAD] = {"unread", {3, D, THEME_BOLD}, 0},
    [THEME_REQUEST] = {"request", {5, D, THEME_BOLD}, 0},
    [THEME_TIMESTAMP] = {"timestamp", {D, D, THEME_DIM}, 0},
    [THEME_DAY] = {"day", {6, D, 0}, THEME_DIM},
    [THEME_NICK_SELF] = {"nick_self", {2, D, THEME_BOLD}, 0},
    [THEME_NICK_PEER] = {"nick_peer", {6, D, THEME_BOLD}, 0},
    [THEME_EVENT] = {"event", {5, D, 0}, THEME_BOLD},
    [THEME_ERROR] = {"error", {1, D, THEME_BOLD}, 0},
    [THEME_NOTICE] = {"notice", {3, D, 0}, 0},
    [THEME_VERIFIED] = {"verified", {2, D, THEME_BOLD}, 0},
    [THEME_TRUST_QR] = {"trust_qr", {2, D, 0}, 0},
    [THEME_TRUST_LINK] = {"trust_link", {3, D, 0}, THEME_UNDERLINE},
    [THEME_DELIVERY] = {"delivery", {2, D, 0}, THEME_DIM},
    [THEME_INPUT] = {"input", {D, D, 0}, 0},
    [THEME_SEPARATOR] = {"separator", {4, D, 0}, THEME_DIM},
    [THEME_QR] = {"qr", {0, 7, 0}, 0},
};

static const char *theme_colors[8] = {
    "black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"};

static const struct {
	const char *name;
	unsigned bit;
} theme_attrs[] = {
    {"bold", THEME_BOLD},
    {"dim", THEME_DIM},
    {"underline", THEME_UNDERLINE},
    {"reverse", THEME_REVERSE},
    {"italic", THEME_ITALIC},
    {"blink", THEME_BLINK},
};

#define THEME_NATTRS (sizeof theme_attrs / sizeof theme_attrs[0])

void
theme_init(struct theme *t, int no_color)
{
	for (int i = 0; i < THEME_ROLE_COUNT; i++)
		t->style[i] = theme_defaults[i].style;
	t->no_color = no_color;
}

int
theme_env_no_color(void)
{
	const char *v = getenv("NO_COLOR");

	return v != NULL && v[0] != '\0';
}

struct theme_style
theme_get(const struct theme *t, enum theme_role role)
{
	struct theme_style s = t->style[role];

	if (t->no_color) {
		s.fg = s.bg = THEME_COLOR_DEFAULT;
		s.attrs |= theme_defaults[role].mono;
	}
	return s;
}

const char *
theme_role_name(enum theme_role role)
{
	return theme_defaults[role].name;
}

int
theme_role_find(const char *name)
{
	for (int i = 0; i < THEME_ROLE_COUNT; i++)
		if (strcasecmp(theme_defaults[i].name, name) == 0)
			return i;
	return -1;
}

/* Trim blanks from both ends of s in place. */
static char *
theme_trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s &&
	    (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* A colour name or number; -2 when s is neither. */
static int
theme_color_parse(const char *s)
{
	const char *base = s;
	char *end;
	long n;

	if (*s == '\0' || strcasecmp(s, "default") == 0)
		return THEME_COLOR_DEFAULT;
	if (*s >= '0' && *s <= '9') {
		n = strtol(s, &end, 10);
		return *end == '\0' && n <= 255 ? (int)n : -2;
	}
	if (strncasecmp(s, "bright", 6) == 0)
		base = s + 6 + (s[6] == '-');
	for (int i = 0; i < 8; i++)
		if (strcasecmp(base, theme_colors[i]) == 0)
			return base == s ? i : i + 8;
	return -2;
}

/* Add the '+'-joined attributes in s to *attrs; -1 on an unknown one. */
static int
theme_attrs_parse(char *s, unsigned *attrs)
{
	char *word, *save = NULL;
	size_t i;

	for (word = strtok_r(s, "+", &save); word != NULL;
	     word = strtok_r(NULL, "+", &save)) {
		word = theme_trim(word);
		if (*word == '\0' || strcasecmp(word, "none") == 0)
			continue;
		for (i = 0; i < THEME_NATTRS; i++)
			if (strcasecmp(word, theme_attrs[i].name) == 0)
				break;
		if (i == THEME_NATTRS)
			return -1;
		*attrs |= theme_attrs[i].bit;
	}
	return 0;
}

int
theme_set(struct theme *t, const char *role, const char *value, char **cause)
{
	struct theme_style s = {D, D, 0};
	char *copy = xstrdup(value), *p = copy, *field;
	int r = NOID_ERR_INVAL, idx, n = 0, c;

	*cause = NULL;
	if ((idx = theme_role_find(role)) < 0) {
		xasprintf(cause, "unknown colour role \"%s\"", role);
		r = NOID_ERR_NOENT;
		goto out;
	}
	while ((field = strsep(&p, ",")) != NULL) {
		field = theme_trim(field);
		if (n < 2) {
			if ((c = theme_color_parse(field)) == -2) {
				xasprintf(cause,
				    "color.%s: unknown colour \"%s\" (use a "
				    "name like yellow or a number 0-255)",
				    role, field);
				goto out;
			}
			if (n == 0)
				s.fg = c;
			else
				s.bg = c;
		} else if (theme_attrs_parse(field, &s.attrs) != 0) {
			xasprintf(cause,
			    "color.%s: unknown attribute in \"%s\" (bold, dim, "
			    "underline, reverse, italic, blink, none)",
			    role, value);
			goto out;
		}
		n++;
	}
	t->style[idx] = s;
	r = 0;
out:
	free(copy);
	return r;
}

int
theme_parse_line(struct theme *t, const char *line, char **cause)
{
	char *copy = xstrdup(line), *p, *key, *eq;
	int r = 0;

	*cause = NULL;
	if ((p = strchr(copy, '#')) != NULL)
		*p = '\0';
	key = theme_trim(copy);
	if (*key == '\0')
		goto out;
	if (strncasecmp(key, "color.", 6) != 0) {
		r = NOID_ERR_NOENT;
		goto out;
	}
	if ((eq = strchr(key, '=')) == NULL) {
		xasprintf(
		    cause, "%s: expected \"color.ROLE = FG,BG,ATTRS\"", key);
		r = NOID_ERR_INVAL;
		goto out;
	}
	*eq = '\0';
	r = theme_set(t, theme_trim(key + 6), eq + 1, cause);
out:
	free(copy);
	return r;
}

/* Append a colour's config spelling to b. */
static void
theme_color_put(struct buf *b, int c)
{
	char num[8];
	const char *s = num;

	if (c == THEME_COLOR_DEFAULT)
		s = "default";
	else if (c >= 0 && c < 8)
		s = theme_colors[c];
	else if (c >= 8 && c < 16) {
		buf_put(b, "bright-", 7);
		s = theme_colors[c - 8];
	} else
		snprintf(num, sizeof num, "%d", c);
	buf_put(b, s, strlen(s));
}

char *
theme_format_line(const struct theme *t, enum theme_role role)
{
	const struct theme_style *s = &t->style[role];
	const char *sep = ",";
	struct buf b;

	buf_init(&b);
	buf_put(&b, "color.", 6);
	buf_put(
	    &b, theme_defaults[role].name, strlen(theme_defaults[role].name));
	buf_put(&b, " = ", 3);
	theme_color_put(&b, s->fg);
	buf_put_u8(&b, ',');
	theme_color_put(&b, s->bg);
	for (size_t i = 0; i < THEME_NATTRS; i++) {
		if ((s->attrs & theme_attrs[i].bit) == 0)
			continue;
		buf_put(&b, sep, 1);
		buf_put(&b, theme_attrs[i].name, strlen(theme_attrs[i].name));
		sep = "+";
	}
	buf_put_u8(&b, '\0');
	return (char *)b.data;
}
