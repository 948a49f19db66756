/*
 * cli-table: every `noid COMMAND`, as data.
 *
 * This one table is what the parser accepts, what `noid COMMAND --help`
 * prints, and what the COMMANDS section of noid(1) is generated from
 * (`noid help --man`), so the three can't drift.  CLI.md is the contract
 * for the names, arguments and exit codes; extensions come after it.
 */
#include "client.h"

const struct cli_cmd cli_cmds[] = {
    {.name = "init",
        .args = "[--name NAME] [--no-password]",
        .summary = "create the data dir and a first profile",
        .help = "Create the data directory, its encrypted store and a "
                "first profile called NAME (default: \"me\").  The "
                "password comes from --password-file, NOID_PASSWORD or a "
                "prompt.  With --no-password the data key is stored "
                "unwrapped: weaker, anyone who can read the disk can read "
                "your messages.",
        .opts = {{"name", "NAME", "the first profile's display name"},
            {"no-password", NULL,
                "no password (weaker: relies on disk encryption)"}},
        .flags = CLI_LOCAL | CLI_NO_STORE | CLI_NO_PROFILE,
        .exec = cli_exec_init},
    {.name = "profiles",
        .summary = "list profiles",
        .help = "List the profiles in this data directory; the current "
                "one is marked with '*'.",
        .flags = CLI_NO_PROFILE,
        .exec = cli_exec_profiles},
    {.name = "profiles",
        .sub = "add",
        .args = "NAME",
        .summary = "create a profile",
        .help = "Create a new profile called NAME and make it current.",
        .min_args = 1,
        .max_args = 1,
        .flags = CLI_NO_PROFILE,
        .exec = cli_exec_profiles_add},
    {.name = "profiles",
        .sub = "rename",
        .args = "OLD NEW",
        .summary = "rename a profile",
        .help = "Change a profile's display name; connected contacts "
                "see the new name.",
        .min_args = 2,
        .max_args = 2,
        .flags = CLI_NO_PROFILE | CLI_NET,
        .exec = cli_exec_profiles_rename},
    {.name = "profiles",
        .sub = "rm",
        .args = "NAME",
        .summary = "delete a profile",
        .help = "Delete a profile, its contacts and its history from "
                "this device.  Its contacts are told the connections "
                "are gone.  There is no undo: export it first to keep "
                "a copy.",
        .min_args = 1,
        .max_args = 1,
        .flags = CLI_NO_PROFILE,
        .exec = cli_exec_profiles_rm},
    {.name = "relays",
        .summary = "list this profile's relays and their state",
        .help = "List the relays this profile's queues live on.  With "
                "none configured noid runs a private relay on 127.0.0.1, "
                "shown as \"(embedded)\".",
        .exec = cli_exec_relays},
    {.name = "relays",
        .sub = "add",
        .args = "ADDRESS [--key ACCESS_KEY] [--trusted]",
        .summary = "add a relay",
        .help = "Add the relay at ADDRESS (noid://KEY@HOST:PORT, as the "
                "relay printed it).  --key gives the relay's access key "
                "when it needs one; --trusted marks it as yours (no "
                "forwarding needed to hide your address from it).",
        .min_args = 1,
        .max_args = 1,
        .opts = {{"key", "ACCESS_KEY", "the relay's access key"},
            {"trusted", NULL, "a relay you trust"}},
        .exec = cli_exec_relays_add},
    {.name = "relays",
        .sub = "rm",
        .args = "ADDRESS",
        .summary = "remove a relay",
        .help = "Stop creating new queues on ADDRESS.  Existing "
                "connections move off it as their queues rotate.",
        .min_args = 1,
        .max_args = 1,
        .exec = cli_exec_relays_rm},
    {.name = "relays",
        .sub = "test",
        .summary = "test the connection to every relay",
        .help = "Connect to each relay, check its key, and print the "
                "result and the round-trip time.",
        .exec = cli_exec_relays_test},
    {.name = "invite",
        .args = "[--text | --qr]",
        .summary = "new one-time invitation",
        .help = "Make a one-time invitation.  --text prints the link "
                "(and marks it as shared over another channel, a lower "
                "trust level than a QR code shown on screen); --qr draws "
                "it as a QR code on the terminal (the default).",
        .opts = {{"text", NULL, "print the link text"},
            {"qr", NULL, "draw the QR code (default)"}},
        .flags = CLI_NET,
        .exec = cli_exec_invite},
    {.name = "connect",
        .args = "LINK",
        .summary = "ask to connect through an invitation",
        .help = "Use someone's invitation LINK: your request (with your "
                "profile's name) goes to them; once they accept, the "
                "contact appears.  White space and line breaks inside "
                "LINK are ignored; without LINK it is read from stdin.",
        .min_args = 0,
        .max_args = -1,
        .flags = CLI_NET | CLI_STDIN,
        .exec = cli_exec_connect},
    {.name = "requests",
        .summary = "pending connection requests",
        .help = "List the people who used your invitations and wait for "
                "your answer.  Their name is what they claim to be.",
        .flags = CLI_NET,
        .exec = cli_exec_requests},
    {.name = "accept",
        .args = "NAME|ID",
        .summary = "accept a connection request",
        .help = "Accept the request from NAME (or the ID printed by "
                "`noid requests`).",
        .min_args = 1,
        .max_args = 1,
        .flags = CLI_NET,
        .exec = cli_exec_accept},
    {.name = "reject",
        .args = "NAME|ID",
        .summary = "reject a connection request",
        .help = "Reject the request from NAME (or ID); the invitation is "
                "used up.",
        .min_args = 1,
        .max_args = 1,
        .flags = CLI_NET,
        .exec = cli_exec_reject},
    {.name = "contacts",
        .summary = "name, trust level, state",
        .help = "List contacts with their trust level (qr, text or "
                "verified), state and unread count.",
        .flags = CLI_NET,
        .exec = cli_exec_contacts},
    {.name = "contacts",
        .sub = "rename",
        .args = "CONTACT NAME",
        .summary = "rename a contact locally",
        .help = "Change the name you see for CONTACT; they are not told.",
        .min_args = 2,
        .max_args = 2,
        .flags = CLI_NET,
        .exec = cli_exec_contacts_rename},
    {.name = "contacts",
        .sub = "rm",
        .args = "CONTACT",
        .summary = "delete a contact",
        .help = "Delete CONTACT: the connection is closed on both sides "
                "and the conversation is deleted here.",
        .min_args = 1,
        .max_args = 1,
        .flags = CLI_NET,
        .exec = cli_exec_contacts_rm},
    {.name = "send",
        .args = "CONTACT [TEXT...]",
        .summary = "send a message",
        .help = "Send TEXT (the arguments joined by spaces) to CONTACT; "
                "without TEXT the message is read from stdin.  Exits once "
                "the relay has taken it.",
        .min_args = 1,
        .max_args = -1,
        .flags = CLI_NET | CLI_STDIN,
        .exec = cli_exec_send},
    {.name = "read",
        .args = "[CONTACT] [--follow] [--json]",
        .summary = "print messages (new ones first taken in)",
        .help = "Print the conversation with CONTACT (or every "
                "conversation), oldest first, after taking in what waits "
                "on the relays, and mark it read.  --follow keeps "
                "printing new messages; --json prints one JSON object per "
                "line.",
        .max_args = 1,
        .opts = {{"follow", NULL, "keep printing new messages"},
            {"json", NULL, "one JSON object per line"},
            {"limit", "N", "only the last N messages (default 50)"}},
        .flags = CLI_NET,
        .exec = cli_exec_read},
    {.name = "search",
        .args = "TEXT",
        .summary = "search the history",
        .help = "Full-text search in every conversation of the profile, "
                "newest first.",
        .min_args = 1,
        .max_args = -1,
        .opts = {{"contact", "CONTACT", "only this conversation"}},
        .exec = cli_exec_search},
    {.name = "verify",
        .args = "CONTACT [CODE]",
        .summary = "show the security code / confirm it matches",
        .help = "Without CODE, print the security code of the "
                "connection with CONTACT.  With CODE (the digits the "
                "contact's screen shows; spaces allowed), compare: when "
                "equal the contact is marked verified, else exit 1.",
        .min_args = 1,
        .max_args = -1,
        .flags = CLI_NET,
        .exec = cli_exec_verify},
    {.name = "rekey",
        .args = "CONTACT",
        .summary = "run a fresh key agreement",
        .help = "Agree on new keys with CONTACT inside the connection; "
                "the security code changes on both sides.",
        .min_args = 1,
        .max_args = 1,
        .flags = CLI_NET,
        .exec = cli_exec_rekey},
    {.name = "rotate",
        .args = "CONTACT",
        .summary = "move to a new receiving queue",
        .help = "Rotate the queue CONTACT sends to (add a new one, "
                "switch, delete the old).",
        .min_args = 1,
        .max_args = 1,
        .flags = CLI_NET,
        .exec = cli_exec_rotate},
    {.name = "passwd",
        .summary = "change the password",
        .help = "Change the data directory's password (re-wraps the data "
                "key; fast).  The new password comes from NOID_NEW_PASSWORD "
                "or a prompt; --no-password removes it (weaker).",
        .opts = {{"no-password", NULL, "remove the password (weaker)"}},
        .flags = CLI_LOCAL | CLI_NO_PROFILE,
        .exec = cli_exec_passwd},
    {.name = "export",
        .args = "FILE",
        .summary = "export the profile to an encrypted file",
        .help = "Write the current profile (history, contacts and keys) "
                "to FILE, encrypted under the data directory's password "
                "(or NOID_EXPORT_PASSWORD).  Moving a profile moves its "
                "keys: don't use the old copy afterwards.",
        .min_args = 1,
        .max_args = 1,
        .flags = CLI_LOCAL,
        .exec = cli_exec_export},
    {.name = "import",
        .args = "FILE",
        .summary = "import a profile from an exported file",
        .help = "Read a profile exported with `noid export` (password "
                "from NOID_EXPORT_PASSWORD, else the data directory's).",
        .min_args = 1,
        .max_args = 1,
        .flags = CLI_LOCAL | CLI_NO_PROFILE,
        .exec = cli_exec_import},
    {.name = "daemon",
        .summary = "headless: keep receiving and serve the control socket",
        .help = "Run without a screen: keep receiving messages and "
                "execute the commands other `noid` processes send over "
                "the control socket.  Stops on SIGINT or SIGTERM.",
        .flags = CLI_LOCAL,
        .exec = cli_exec_daemon},
    {.name = "help",
        .args = "[COMMAND] [--man]",
        .summary = "help on a command",
        .help = "Print help on COMMAND, or the list of commands.  --man "
                "prints the noid(1) manual page as roff.",
        .max_args = 2,
        .opts = {{"man", NULL, "the manual page, as roff"}},
        .flags = CLI_LOCAL | CLI_NO_STORE | CLI_NO_PROFILE,
        .exec = cli_exec_help},
};
const size_t cli_ncmds = sizeof cli_cmds / sizeof cli_cmds[0];
