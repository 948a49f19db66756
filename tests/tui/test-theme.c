/*
 * Tests for tui/theme.c: defaults, NO_COLOR, config lines and their
 * errors, and the round trip through theme_format_line.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"
#include "theme.h"

Test(theme, every_role_has_a_unique_name)
{
	for (int i = 0; i < THEME_ROLE_COUNT; i++) {
		const char *n = theme_role_name((enum theme_role)i);
		cr_assert_not_null(n, "role %d", i);
		cr_assert_eq(theme_role_find(n), i);
	}
	cr_assert_eq(theme_role_find("nosuch"), -1);
	cr_assert_eq(theme_role_find("UNREAD"), THEME_UNREAD);
}

Test(theme, parse_a_config_line)
{
	struct theme t;
	struct theme_style s;
	char *cause;

	theme_init(&t, 0);
	cr_assert_eq(
	    theme_parse_line(&t, "color.unread = yellow,default,bold", &cause),
	    0);
	s = theme_get(&t, THEME_UNREAD);
	cr_assert_eq(s.fg, 3);
	cr_assert_eq(s.bg, THEME_COLOR_DEFAULT);
	cr_assert_eq(s.attrs, THEME_BOLD);

	cr_assert_eq(theme_parse_line(
	                 &t, "  color.status=15, 4  # white on blue", &cause),
	    0);
	s = theme_get(&t, THEME_STATUS);
	cr_assert_eq(s.fg, 15);
	cr_assert_eq(s.bg, 4);
	cr_assert_eq(s.attrs, 0);

	cr_assert_eq(
	    theme_parse_line(
	        &t, "color.error = bright-red,,bold+underline,reverse", &cause),
	    0);
	s = theme_get(&t, THEME_ERROR);
	cr_assert_eq(s.fg, 9);
	cr_assert_eq(s.bg, THEME_COLOR_DEFAULT);
	cr_assert_eq(s.attrs, THEME_BOLD | THEME_UNDERLINE | THEME_REVERSE);

	cr_assert_eq(theme_parse_line(&t, "color.day = 200", &cause), 0);
	s = theme_get(&t, THEME_DAY);
	cr_assert_eq(s.fg, 200);
	cr_assert_eq(s.attrs, 0, "a line replaces the whole style");
}

Test(theme, blank_comment_and_foreign_lines)
{
	struct theme t, before;
	char *cause;

	theme_init(&t, 0);
	before = t;
	cr_assert_eq(theme_parse_line(&t, "", &cause), 0);
	cr_assert_eq(
	    theme_parse_line(&t, "   # color.unread = red", &cause), 0);
	cr_assert_eq(theme_parse_line(&t, "bell = on", &cause), NOID_ERR_NOENT);
	cr_assert_null(cause);
	cr_assert(memcmp(&t, &before, sizeof t) == 0);
}

Test(theme, bad_values_are_refused_and_change_nothing)
{
	struct theme t, before;
	char *cause;

	theme_init(&t, 0);
	before = t;
	cr_assert_eq(theme_parse_line(&t, "color.unread = yelow", &cause),
	    NOID_ERR_INVAL);
	cr_assert_not_null(strstr(cause, "yelow"));
	free(cause);
	cr_assert_eq(theme_parse_line(&t, "color.unread = red,256", &cause),
	    NOID_ERR_INVAL);
	free(cause);
	cr_assert_eq(theme_parse_line(&t, "color.unread = red,,shiny", &cause),
	    NOID_ERR_INVAL);
	cr_assert_not_null(strstr(cause, "attribute"));
	free(cause);
	cr_assert_eq(
	    theme_parse_line(&t, "color.nosuch = red", &cause), NOID_ERR_NOENT);
	cr_assert_not_null(strstr(cause, "nosuch"));
	free(cause);
	cr_assert_eq(
	    theme_parse_line(&t, "color.unread red", &cause), NOID_ERR_INVAL);
	free(cause);
	cr_assert(memcmp(&t, &before, sizeof t) == 0);
}

Test(theme, no_color_keeps_attributes_only)
{
	struct theme t;

	theme_init(&t, 1);
	for (int i = 0; i < THEME_ROLE_COUNT; i++) {
		struct theme_style s = theme_get(&t, (enum theme_role)i);
		cr_assert_eq(s.fg, THEME_COLOR_DEFAULT);
		cr_assert_eq(s.bg, THEME_COLOR_DEFAULT);
		/* What was set stays. */
		cr_assert_eq(s.attrs & t.style[i].attrs, t.style[i].attrs);
	}
	cr_assert(theme_get(&t, THEME_STATUS).attrs & THEME_REVERSE);
	cr_assert(theme_get(&t, THEME_SELECTED).attrs & THEME_REVERSE);
	cr_assert(theme_get(&t, THEME_UNREAD).attrs & THEME_BOLD);

	theme_init(&t, 0);
	cr_assert_neq(theme_get(&t, THEME_STATUS).bg, THEME_COLOR_DEFAULT);
}

Test(theme, no_color_from_the_environment)
{
	unsetenv("NO_COLOR");
	cr_assert_not(theme_env_no_color());
	setenv("NO_COLOR", "", 1);
	cr_assert_not(theme_env_no_color(), "empty NO_COLOR does not count");
	setenv("NO_COLOR", "1", 1);
	cr_assert(theme_env_no_color());
}

Test(theme, format_round_trips)
{
	struct theme t, back;
	char *cause, *line;

	theme_init(&t, 0);
	cr_assert_eq(
	    theme_parse_line(&t, "color.qr = 16,bright-white,blink", &cause),
	    0);
	theme_init(&back, 0);
	for (int i = 0; i < THEME_ROLE_COUNT; i++) {
		back.style[i].fg = 99;
		line = theme_format_line(&t, (enum theme_role)i);
		cr_assert_eq(
		    theme_parse_line(&back, line, &cause), 0, "%s", line);
		free(line);
	}
	cr_assert(memcmp(&t, &back, sizeof t) == 0);
	line = theme_format_line(&t, THEME_UNREAD);
	cr_assert_str_eq(line, "color.unread = yellow,default,bold");
	free(line);
}
