/*
 * relay-config: defaults, the "key = value" config file and its
 * commented template.  Values are checked here so main and the server
 * can trust them.
 */
#include "base.h"
#include "relay-config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LINE_MAX_LEN 1024

static const char default_config[] =
    "# noid-relay configuration.  Command-line flags override these.\n"
    "# Lines are \"key = value\"; '#' starts a comment.  See noid-relay(8).\n"
    "\n"
    "# Addresses to listen on (repeat the line for several).  IPv6 in\n"
    "# brackets.  Default: 0.0.0.0:5223 and [::]:5223.\n"
    "#listen = 0.0.0.0:5223\n"
    "#listen = [::]:5223\n"
    "\n"
    "# Host name or address printed in the relay address (noid://...@HOST).\n"
    "# Default: the listen host, or this machine's first public address.\n"
    "#public_host = relay.example.org\n"
    "\n"
    "# Access key needed to create queues (sending never needs it).\n"
    "# Default: none, anyone may create queues.\n"
    "#access_key = change-me\n"
    "\n"
    "# Most simultaneous connections; beyond it clients are told\n"
    "# \"server full\" in the handshake.\n"
    "#max_conns = 10000\n"
    "\n"
    "# Seconds an undelivered message is kept (default 21 days).\n"
    "#ttl = 1814400\n"
    "\n"
    "# Messages a queue may hold before senders get ERR QUOTA.\n"
    "#quota = 128\n"
    "\n"
    "# Seconds a client has to finish the handshake, and seconds without\n"
    "# any frame before an idle connection is closed.\n"
    "#handshake_timeout = 10\n"
    "#idle_timeout = 600\n"
    "\n"
    "# Bytes of unsent output a connection may pile up before it is\n"
    "# dropped as a slow reader.\n"
    "#out_limit = 1048576\n"
    "\n"
    "# Limits that keep the relay within its memory and disk; beyond them\n"
    "# commands are answered ERR LIMIT.  Queues on the relay, queues one\n"
    "# connection may create, bytes of messages held (memory and journal)\n"
    "# and bytes buffered for all connections together.\n"
    "#max_queues = 100000\n"
    "#max_queues_per_conn = 1000\n"
    "#max_stored = 1073741824\n"
    "#max_buffered = 268435456\n"
    "\n"
    "# fdatasync the journal before answering OK (durable).  Turning it\n"
    "# off loses the last messages on a power cut, never on a crash.\n"
    "#fsync = yes\n";

/* Fill cfg with the built-in defaults. */
void
relay_config_init(struct relay_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->max_conns = 10000;
	cfg->ttl_s = 21 * 24 * 3600;
	cfg->quota = 128;
	cfg->handshake_timeout_s = 10;
	cfg->idle_timeout_s = 600;
	cfg->out_limit = 1024 * 1024;
	cfg->max_queues = 100000;
	cfg->max_queues_per_conn = 1000;
	cfg->max_stored = 1024ull * 1024 * 1024;
	cfg->max_buffered = 256ull * 1024 * 1024;
	cfg->fsync = true;
}

/* Free every string cfg owns. */
void
relay_config_free(struct relay_config *cfg)
{
	size_t i;

	free(cfg->data_dir);
	free(cfg->config_file);
	for (i = 0; i < cfg->nlisten; i++)
		free(cfg->listen[i]);
	free(cfg->public_host);
	if (cfg->access_key != NULL) {
		explicit_bzero(cfg->access_key, strlen(cfg->access_key));
		free(cfg->access_key);
	}
	memset(cfg, 0, sizeof *cfg);
}

/* Parse a decimal unsigned in [min, max]; 0 or NOID_ERR_INVAL. */
static int
parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return NOID_ERR_INVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return NOID_ERR_INVAL;
	*out = v;
	return 0;
}

/* Parse yes/no. */
static int
parse_bool(const char *s, bool *out)
{
	if (strcmp(s, "yes") == 0 || strcmp(s, "true") == 0 ||
	    strcmp(s, "1") == 0)
		*out = true;
	else if (strcmp(s, "no") == 0 || strcmp(s, "false") == 0 ||
	    strcmp(s, "0") == 0)
		*out = false;
	else
		return NOID_ERR_INVAL;
	return 0;
}

/* Replace a string setting. */
static void
set_str(char **slot, const char *value)
{
	free(*slot);
	*slot = xstrdup(value);
}

/* Apply one "key = value" setting. */
int
relay_config_set(struct relay_config *cfg, const char *key, const char *value,
    const char **why)
{
	uint64_t v;

	*why = NULL;
	if (strcmp(key, "listen") == 0) {
		if (*value == '\0' || strlen(value) > 255) {
			*why = "listen needs HOST:PORT";
			return NOID_ERR_INVAL;
		}
		if (cfg->nlisten == RELAY_LISTEN_MAX) {
			*why = "too many listen addresses (at most 16)";
			return NOID_ERR_INVAL;
		}
		cfg->listen[cfg->nlisten++] = xstrdup(value);
	} else if (strcmp(key, "public_host") == 0) {
		if (*value == '\0' || strlen(value) > 255 ||
		    strpbrk(value, "@/ ") != NULL) {
			*why = "public_host must be a host name or address";
			return NOID_ERR_INVAL;
		}
		set_str(&cfg->public_host, value);
	} else if (strcmp(key, "access_key") == 0 ||
	    strcmp(key, "password") == 0) {
		if (strlen(value) > RELAY_ACCESS_KEY_MAX) {
			*why = "access_key is at most 64 bytes";
			return NOID_ERR_INVAL;
		}
		set_str(&cfg->access_key, value);
		if (*value == '\0') {
			free(cfg->access_key);
			cfg->access_key = NULL;
		}
	} else if (strcmp(key, "max_conns") == 0) {
		if (parse_uint(value, 1, 1000000, &v) != 0)
			goto bad;
		cfg->max_conns = (unsigned)v;
	} else if (strcmp(key, "ttl") == 0) {
		if (parse_uint(value, 1, 10ull * 365 * 24 * 3600, &v) != 0)
			goto bad;
		cfg->ttl_s = v;
	} else if (strcmp(key, "quota") == 0) {
		if (parse_uint(value, 2, 100000, &v) != 0)
			goto bad;
		cfg->quota = (unsigned)v;
	} else if (strcmp(key, "handshake_timeout") == 0) {
		if (parse_uint(value, 1, 3600, &v) != 0)
			goto bad;
		cfg->handshake_timeout_s = (unsigned)v;
	} else if (strcmp(key, "idle_timeout") == 0) {
		if (parse_uint(value, 1, 7 * 24 * 3600, &v) != 0)
			goto bad;
		cfg->idle_timeout_s = (unsigned)v;
	} else if (strcmp(key, "out_limit") == 0) {
		if (parse_uint(value, 65536, 1024ull * 1024 * 1024, &v) != 0)
			goto bad;
		cfg->out_limit = (size_t)v;
	} else if (strcmp(key, "max_queues") == 0) {
		if (parse_uint(value, 1, 100000000, &cfg->max_queues) != 0)
			goto bad;
	} else if (strcmp(key, "max_queues_per_conn") == 0) {
		if (parse_uint(
		        value, 1, 100000000, &cfg->max_queues_per_conn) != 0)
			goto bad;
	} else if (strcmp(key, "max_stored") == 0) {
		if (parse_uint(
		        value, 1024 * 1024, 1ull << 40, &cfg->max_stored) != 0)
			goto bad;
	} else if (strcmp(key, "max_buffered") == 0) {
		if (parse_uint(value, 1024 * 1024, 1ull << 40,
		        &cfg->max_buffered) != 0)
			goto bad;
	} else if (strcmp(key, "fsync") == 0) {
		if (parse_bool(value, &cfg->fsync) != 0) {
			*why = "fsync must be yes or no";
			return NOID_ERR_INVAL;
		}
	} else {
		*why = "unknown setting";
		return NOID_ERR_INVAL;
	}
	return 0;
bad:
	*why = "value is not a number in the allowed range";
	return NOID_ERR_INVAL;
}

/* Strip spaces at both ends, in place. */
static char *
trim(char *s)
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

/* Read a config file. */
int
relay_config_load(struct relay_config *cfg, const char *path, bool optional,
    unsigned *line, const char **why)
{
	FILE *f;
	char text[LINE_MAX_LEN], *s, *eq;
	int rc = 0;

	*line = 0;
	*why = NULL;
	if ((f = fopen(path, "re")) == NULL) {
		if (optional && errno == ENOENT)
			return 0;
		*why = "cannot open the config file";
		return NOID_ERR_IO;
	}
	while (fgets(text, sizeof text, f) != NULL) {
		(*line)++;
		if (strchr(text, '\n') == NULL && !feof(f)) {
			*why = "line too long";
			rc = NOID_ERR_INVAL;
			goto out;
		}
		s = trim(text);
		if (*s == '\0' || *s == '#')
			continue;
		if ((eq = strchr(s, '=')) == NULL) {
			*why = "expected key = value";
			rc = NOID_ERR_INVAL;
			goto out;
		}
		*eq = '\0';
		if ((rc = relay_config_set(cfg, trim(s), trim(eq + 1), why)) !=
		    0)
			goto out;
	}
	if (ferror(f)) {
		*why = "read error";
		rc = NOID_ERR_IO;
	}
out:
	explicit_bzero(text, sizeof text);
	fclose(f);
	return rc;
}

/* Write the commented default config file if it is absent. */
int
relay_config_write_default(const char *path)
{
	if (access(path, F_OK) == 0)
		return 0;
	return file_write_atomic(
	    path, default_config, sizeof default_config - 1, 0600);
}

/* Default data dir: /var/lib/noid-relay as root, else XDG. */
char *
relay_config_default_dir(void)
{
	if (geteuid() == 0)
		return xstrdup("/var/lib/noid-relay");
	return xdg_dir("XDG_DATA_HOME", ".local/share", "noid-relay");
}
