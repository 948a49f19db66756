/*
 * cmd-table: every slash command, as data (see cmd.h).
 *
 * Order is /help order: what a new user needs first.  Synopses use
 * upper case for values, [ ] for optional parts and | for choices, as
 * CLI.md does, so the man page can be generated from the same text.
 */
#include "cmd.h"

#include <string.h>

#include "base.h"

static struct cmd_entry cmd_table[] = {
    {.name = "invite",
        .args = "[NOTE]",
        .max_args = 1,
        .rest = 1,
        .help = "show a new one-time invitation as a QR code",
        .long_help =
            "Creates a one-time invitation and shows it as a QR code for "
            "the other person to scan from your screen, with NOTE (who it "
            "is for) written above it.  The screen also offers the link "
            "text: a link sent over another channel is marked as less "
            "trusted than a code scanned in person.  An invitation works "
            "once."},
    {.name = "connect",
        .args = "[LINK]",
        .min_args = 0,
        .max_args = 1,
        .rest = 1,
        .help = "ask to connect through an invitation link",
        .long_help =
            "Sends a connection request through LINK, an invitation "
            "someone showed or sent you; without LINK, the next line you "
            "paste is taken as the link.  Spaces and line breaks in a "
            "pasted link do not matter.  The other side sees your profile "
            "name and accepts or rejects the request."},
    {.name = "requests",
        .help = "list pending connection requests",
        .long_help =
            "Lists the connection requests waiting for your answer, newest "
            "first, with the name each person gave and the invitation they "
            "used.  Answer with /accept or /reject."},
    {.name = "accept",
        .args = "REQUEST",
        .min_args = 1,
        .max_args = 1,
        .rest = 1,
        .help = "accept a connection request (name or number)",
        .long_help =
            "Accepts the connection request named REQUEST (its name or its "
            "number in /requests).  The new contact appears in the "
            "conversation list."},
    {.name = "reject",
        .args = "REQUEST",
        .min_args = 1,
        .max_args = 1,
        .rest = 1,
        .help = "reject a connection request (name or number)",
        .long_help =
            "Rejects the connection request named REQUEST.  The person is "
            "not told why, and the invitation stays used."},
    {.name = "profile",
        .args = "[NAME | new NAME | rename NEW | delete NAME]",
        .max_args = 1,
        .rest = 1,
        .help = "switch profile, or list profiles",
        .long_help =
            "Without NAME, opens the profile switcher, which also creates, "
            "renames and deletes profiles.  With NAME, switches to that "
            "profile.  Each profile has its own contacts and conversations; "
            "the status bar shows unread messages in the others."},
    {.name = "contact",
        .args = "[NAME]",
        .max_args = 1,
        .rest = 1,
        .help = "show contact info: trust level and security code",
        .long_help =
            "Shows the current contact, or NAME: how the invitation "
            "travelled (QR on screen, link text, verified in person), the "
            "security code as digits and as a QR code, and the actions "
            "/verify, /rekey, /rotate, /rename and /delete."},
    {.name = "verify",
        .args = "[CODE]",
        .max_args = 1,
        .rest = 1,
        .help = "show or confirm the security code",
        .long_help =
            "Without CODE, shows the security code of the current contact. "
            "Compare it in person or over a call; with CODE (spaces do not "
            "matter) noid checks it matches and marks the contact "
            "verified."},
    {.name = "rename",
        .args = "NAME",
        .min_args = 1,
        .max_args = 1,
        .rest = 1,
        .help = "rename the current contact (only on your side)",
        .long_help = "Gives the current contact a new local NAME.  The "
                     "contact is not told."},
    {.name = "rekey",
        .help = "renew the keys with the current contact",
        .long_help = "Starts a fresh key agreement with the current contact, "
                     "recovering from a suspected key compromise or a broken "
                     "session.  Messages keep flowing meanwhile."},
    {.name = "rotate",
        .help = "move the current contact's queues to new ones",
        .long_help =
            "Moves the message queues used with the current contact to new "
            "queues (on your current relays), so old queue identifiers "
            "stop meaning anything."},
    {.name = "delete",
        .help = "delete the current contact (asks first)",
        .long_help = "Deletes the current contact, its queues and its history "
                     "after asking for confirmation.  This cannot be undone."},
    {.name = "mute",
        .help = "notifications off (or on again) for this conversation",
        .long_help =
            "Turns the bell and terminal notification off for the current "
            "conversation, or back on.  Other conversations still "
            "notify."},
    {.name = "relays",
        .args = "[add ADDRESS [KEY] | rm ADDRESS | test | trust ADDRESS]",
        .max_args = 3,
        .help = "list and manage relays",
        .long_help =
            "Without arguments, opens the relay list with each relay's "
            "state.  add ADDRESS [KEY] adds a relay (KEY is its access key "
            "if it has one), rm removes one, test checks every relay can "
            "be reached, trust marks one as trusted for your queues.  "
            "Changes apply at once."},
    {.name = "devices",
        .args = "[link | rm NAME]",
        .max_args = 2,
        .help = "list linked devices and sync state",
        .long_help =
            "Without arguments, lists this profile's devices, which one "
            "owns it and how far each is synced.  link shows a one-time "
            "link for a new device; rm NAME unlinks a device."},
    {.name = "search",
        .args = "TEXT",
        .min_args = 1,
        .max_args = 1,
        .rest = 1,
        .help = "search message history",
        .long_help =
            "Searches the history of every conversation for TEXT and lists "
            "the matches, current conversation first; choose one to jump "
            "to it."},
    {.name = "help",
        .args = "[COMMAND]",
        .max_args = 1,
        .help = "list commands and keys, or explain one command",
        .completer = cmd_complete_name,
        .long_help = "Without COMMAND, lists every command and key.  With "
                     "COMMAND, explains it."},
    {.name = "quit",
        .help = "leave noid",
        .long_help =
            "Leaves noid.  Messages still being sent wait in the outbox "
            "and go out the next time noid runs (or now, through a running "
            "noid daemon)."},
};

size_t
cmd_count(void)
{
	return sizeof cmd_table / sizeof cmd_table[0];
}

const struct cmd_entry *
cmd_get(size_t i)
{
	return i < cmd_count() ? &cmd_table[i] : NULL;
}

/* The writable entry with exactly this name. */
static struct cmd_entry *
cmd_table_entry(const char *name)
{
	for (size_t i = 0; i < cmd_count(); i++)
		if (strcmp(cmd_table[i].name, name) == 0)
			return &cmd_table[i];
	return NULL;
}

int
cmd_set_handler(const char *name, cmd_handler fn)
{
	struct cmd_entry *e = cmd_table_entry(name);

	if (e == NULL)
		return NOID_ERR_NOENT;
	e->handler = fn;
	return 0;
}

int
cmd_set_completer(const char *name, cmd_completer fn)
{
	struct cmd_entry *e = cmd_table_entry(name);

	if (e == NULL)
		return NOID_ERR_NOENT;
	e->completer = fn;
	return 0;
}
