/*
 * relay-config: noid-relay's settings, from defaults, the config file
 * and the command line (in that order, later wins).
 *
 * The config file is "key = value" lines with '#' comments; the same
 * keys as the long flags.  A first start writes a commented file so an
 * operator can see every knob.
 *
 * Copyright (C) 2026 the noid authors.  AGPL-3.0-or-later.
 */
#ifndef NOID_RELAY_CONFIG_H
#define NOID_RELAY_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RELAY_LISTEN_MAX 16
#define RELAY_DEFAULT_PORT 5223
#define RELAY_ACCESS_KEY_MAX 64

struct relay_config {
	char *data_dir; /* key, config, journal */
	char *config_file; /* NULL: <data_dir>/noid-relay.conf */
	char *listen[RELAY_LISTEN_MAX];
	size_t nlisten;
	char *public_host; /* host printed in the address; NULL: guess */
	char *access_key; /* NULL: anyone may create queues */
	unsigned max_conns;
	uint64_t ttl_s;
	unsigned quota;
	unsigned handshake_timeout_s;
	unsigned idle_timeout_s;
	size_t out_limit; /* bytes of pending output before a drop */
	/* Global limits; beyond them commands get ERR LIMIT. */
	uint64_t max_queues; /* queues on the relay */
	uint64_t max_queues_per_conn; /* NEWs on one connection */
	uint64_t max_stored; /* bytes of message bodies held */
	uint64_t max_buffered; /* bytes buffered for all connections */
	bool fsync; /* fdatasync before OK (durable mode) */
	bool qr;
	bool stats; /* print the counters on exit too */
};

/* Fill cfg with the built-in defaults (data_dir left NULL). */
void relay_config_init(struct relay_config *cfg);

/* Free every string cfg owns. */
void relay_config_free(struct relay_config *cfg);

/*
 * Apply one "key = value" setting.  Returns 0, or NOID_ERR_INVAL with a
 * sentence in *why (static string) for an unknown key or a bad value.
 */
int relay_config_set(struct relay_config *cfg, const char *key,
    const char *value, const char **why);

/*
 * Read a config file.  A missing file is not an error when optional.
 * On a bad line *line gets its number and *why the reason.
 */
int relay_config_load(struct relay_config *cfg, const char *path, bool optional,
    unsigned *line, const char **why);

/* Write the commented default config file (mode 0600) if it is absent. */
int relay_config_write_default(const char *path);

/* Default data dir: /var/lib/noid-relay as root, else XDG (caller frees). */
char *relay_config_default_dir(void);

#endif
