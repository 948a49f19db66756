/*
 * relay-main: noid-relay's command line.  Zero-config first start: make
 * the data dir, the relay key and a commented config file, then print
 * the relay address (first stdout line, flushed: scripts and tests read
 * it) and optionally a QR code of it, and serve until SIGTERM/SIGINT.
 *
 * Exit codes: 0 stopped cleanly, 1 bad usage or config, 2 could not
 * start (data dir, key, journal, listen address), 3 the journal could
 * not be written while running.
 */
#include "base.h"
#include "relay-config.h"
#include "relay-journal.h"
#include "relay-queue.h"
#include "relay-server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <qrencode.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RELAY_VERSION "0.1.0"
#define KEY_FILE "relay.key"
#define CONFIG_FILE "noid-relay.conf"
/* Compact only past this size (and past twice the live data): a
 * compaction stalls the loop, so it should be rare. */
#define COMPACT_MIN (64ull * 1024 * 1024)

enum {
	OPT_HANDSHAKE_TIMEOUT = 256,
	OPT_IDLE_TIMEOUT,
	OPT_PUBLIC_HOST,
	OPT_NO_FSYNC,
	OPT_OUT_LIMIT,
	OPT_SALVAGE,
	OPT_MAX_QUEUES,
	OPT_MAX_QUEUES_PER_CONN,
	OPT_MAX_STORED,
	OPT_MAX_BUFFERED
};

static const struct option longopts[] = {
    {"data-dir", required_argument, NULL, 'd'},
    {"listen", required_argument, NULL, 'l'},
    {"password", required_argument, NULL, 'p'}, {"qr", no_argument, NULL, 'q'},
    {"config", required_argument, NULL, 'c'},
    {"max-conns", required_argument, NULL, 'm'},
    {"ttl", required_argument, NULL, 't'},
    {"quota", required_argument, NULL, 'Q'}, {"stats", no_argument, NULL, 's'},
    {"handshake-timeout", required_argument, NULL, OPT_HANDSHAKE_TIMEOUT},
    {"idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT},
    {"public-host", required_argument, NULL, OPT_PUBLIC_HOST},
    {"out-limit", required_argument, NULL, OPT_OUT_LIMIT},
    {"no-fsync", no_argument, NULL, OPT_NO_FSYNC},
    {"salvage", no_argument, NULL, OPT_SALVAGE},
    {"max-queues", required_argument, NULL, OPT_MAX_QUEUES},
    {"max-queues-per-conn", required_argument, NULL, OPT_MAX_QUEUES_PER_CONN},
    {"max-stored", required_argument, NULL, OPT_MAX_STORED},
    {"max-buffered", required_argument, NULL, OPT_MAX_BUFFERED},
    {"help", no_argument, NULL, 'h'}, {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0}};

/* Print usage to f. */
static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: noid-relay [--data-dir DIR] [--listen HOST:PORT]...\n"
	    "                  [--password ACCESS_KEY] [--qr] [--config FILE]\n"
	    "                  [--max-conns N] [--ttl SECONDS] [--quota N]\n"
	    "                  [--stats] [--public-host HOST]\n"
	    "                  [--handshake-timeout S] [--idle-timeout S]\n"
	    "                  [--out-limit BYTES] [--no-fsync] [--salvage]\n"
	    "                  [--max-queues N] [--max-queues-per-conn N]\n"
	    "                  [--max-stored BYTES] [--max-buffered BYTES]\n"
	    "       noid-relay --help | --version\n"
	    "\n"
	    "Runs a noid relay.  The first start creates the relay key and a\n"
	    "commented config file in the data dir (default\n"
	    "$XDG_DATA_HOME/noid-relay, or /var/lib/noid-relay as root) and\n"
	    "prints the relay address; give it to your clients.\n"
	    "SIGUSR1 prints aggregate counters to stderr.  See "
	    "noid-relay(8).\n");
}

/* Map a long option to its config key (NULL: not a config setting). */
static const char *
opt_key(int opt)
{
	switch (opt) {
	case 'l':
		return "listen";
	case 'p':
		return "access_key";
	case 'm':
		return "max_conns";
	case 't':
		return "ttl";
	case 'Q':
		return "quota";
	case OPT_HANDSHAKE_TIMEOUT:
		return "handshake_timeout";
	case OPT_IDLE_TIMEOUT:
		return "idle_timeout";
	case OPT_PUBLIC_HOST:
		return "public_host";
	case OPT_OUT_LIMIT:
		return "out_limit";
	case OPT_MAX_QUEUES:
		return "max_queues";
	case OPT_MAX_QUEUES_PER_CONN:
		return "max_queues_per_conn";
	case OPT_MAX_STORED:
		return "max_stored";
	case OPT_MAX_BUFFERED:
		return "max_buffered";
	default:
		return NULL;
	}
}

/* Load or create the relay's static key pair (priv in secret memory). */
static int
load_key(const char *dir, uint8_t *priv, uint8_t *pub, bool *created)
{
	char *path = path_join(dir, KEY_FILE), *text = NULL;
	uint8_t *data = NULL;
	size_t len, outlen;
	int rc;

	*created = false;
	rc = file_read_all(path, 256, &data, &len);
	if (rc == 0) {
		text = xmalloc(len + 1);
		memcpy(text, data, len);
		text[len] = '\0';
		text[strcspn(text, "\r\n")] = '\0';
		if (b64url_decode(text, priv, 32, &outlen) != 0 ||
		    outlen != 32) {
			rc = NOID_ERR_CORRUPT;
			goto out;
		}
	} else if (access(path, F_OK) != 0) {
		char *enc;

		randombytes_buf(priv, 32);
		enc = b64url_encode(priv, 32);
		xasprintf(&text, "%s\n", enc);
		sodium_memzero(enc, strlen(enc));
		free(enc);
		rc = file_write_atomic(path, text, strlen(text), 0600);
		*created = rc == 0;
	}
	if (rc == 0 && crypto_scalarmult_base(pub, priv) != 0)
		rc = NOID_ERR_CRYPTO;
out:
	if (text != NULL) {
		sodium_memzero(text, strlen(text));
		free(text);
	}
	if (data != NULL) {
		sodium_memzero(data, len);
		free(data);
	}
	free(path);
	return rc;
}

/* Is host a wildcard address? */
static bool
is_wildcard(const char *host)
{
	return strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0;
}

/* A public-looking address of this machine, or NULL (caller frees). */
static char *
guess_host(bool v6)
{
	struct ifaddrs *ifa, *i;
	char buf[INET6_ADDRSTRLEN];
	char *out = NULL;

	if (getifaddrs(&ifa) != 0)
		return NULL;
	for (i = ifa; i != NULL && out == NULL; i = i->ifa_next) {
		if (i->ifa_addr == NULL)
			continue;
		if (i->ifa_addr->sa_family == AF_INET && !v6) {
			struct sockaddr_in *sin = (void *)i->ifa_addr;

			if ((ntohl(sin->sin_addr.s_addr) >> 24) == 127)
				continue;
			inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof buf);
			out = xstrdup(buf);
		} else if (i->ifa_addr->sa_family == AF_INET6 && v6) {
			struct sockaddr_in6 *sin6 = (void *)i->ifa_addr;

			if (IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr) ||
			    IN6_IS_ADDR_LINKLOCAL(&sin6->sin6_addr))
				continue;
			inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof buf);
			out = xstrdup(buf);
		}
	}
	freeifaddrs(ifa);
	return out;
}

/* The address clients use for listener i (caller frees). */
static char *
relay_address(const struct relay_config *cfg, struct relay_server *srv,
    size_t i, const uint8_t *pub)
{
	char host[256], *guess = NULL, *key, *out;
	const char *h = host;
	uint16_t port;

	if (relay_server_listen_addr(srv, i, host, sizeof host, &port) != 0)
		return NULL;
	if (cfg->public_host != NULL)
		h = cfg->public_host;
	else if (is_wildcard(host)) {
		guess = guess_host(strchr(host, ':') != NULL);
		h = guess != NULL               ? guess
		    : strchr(host, ':') != NULL ? "::1"
		                                : "127.0.0.1";
	}
	key = b64url_encode(pub, 32);
	if (strchr(h, ':') != NULL)
		xasprintf(&out, "noid://%s@[%s]:%u", key, h, port);
	else
		xasprintf(&out, "noid://%s@%s:%u", key, h, port);
	free(key);
	free(guess);
	return out;
}

/* Print s as a QR code with half-block characters (two rows a line). */
static void
print_qr(const char *s)
{
	QRcode *qr = QRcode_encodeString(s, 0, QR_ECLEVEL_L, QR_MODE_8, 1);
	int x, y, w, q = 2;
	bool top, bot;

	if (qr == NULL) {
		fprintf(stderr, "noid-relay: cannot make the QR code\n");
		return;
	}
	w = qr->width;
	/* Light modules print as full blocks: dark-on-light terminals
	 * and scanners both see dark modules as the gaps. */
	for (y = -q; y < w + q; y += 2) {
		for (x = -q; x < w + q; x++) {
			top = y >= 0 && y < w && x >= 0 && x < w &&
			    (qr->data[y * w + x] & 1);
			bot = y + 1 >= 0 && y + 1 < w && x >= 0 && x < w &&
			    (qr->data[(y + 1) * w + x] & 1);
			fputs(top && bot ? " "
			        : top    ? "\u2584"
			        : bot    ? "\u2580"
			                 : "\u2588",
			    stdout);
		}
		fputc('\n', stdout);
	}
	QRcode_free(qr);
}

/* Open the journal (salvaging it if asked) and say what went wrong. */
static int
open_journal(const char *dir, const struct relay_config *cfg, bool salvage,
    struct relay_queues *qs, struct relay_journal **j,
    struct relay_journal_info *info)
{
	int rc;

	rc = salvage
	    ? relay_journal_salvage(dir, cfg->fsync, COMPACT_MIN, qs, j, info)
	    : relay_journal_open(dir, cfg->fsync, COMPACT_MIN, qs, j, info);
	if (rc == NOID_ERR_CORRUPT && info->damage_at != 0) {
		fprintf(stderr,
		    "noid-relay: journal %s/journal is damaged at byte %llu "
		    "(intact records follow at byte %llu); not starting, so "
		    "that nothing after the damage is lost.  Start once with "
		    "--salvage to keep every intact record; the damaged file "
		    "is then kept as %s/journal.corrupt.<time>\n",
		    dir, (unsigned long long)info->damage_at,
		    (unsigned long long)info->resume_at, dir);
	} else if (rc != 0) {
		fprintf(stderr, "noid-relay: journal in %s: %s\n", dir,
		    noid_strerror(rc));
	} else if (info->damage_at != 0) {
		fprintf(stderr,
		    "noid-relay: journal salvaged: %llu damaged bytes from "
		    "byte %llu left out; the damaged file is %s/%s\n",
		    (unsigned long long)info->skipped_bytes,
		    (unsigned long long)info->damage_at, dir, info->moved_to);
	}
	return rc;
}

/* Parse the command line into cfg: pass 1 finds data dir and config. */
static int
parse_args(int argc, char **argv, struct relay_config *cfg, int pass,
    bool *cli_listen, bool *salvage)
{
	const char *key, *why;
	int opt;

	optind = 1;
	opterr = pass == 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (pass == 1) {
			switch (opt) {
			case 'd':
				free(cfg->data_dir);
				cfg->data_dir = xstrdup(optarg);
				break;
			case 'c':
				free(cfg->config_file);
				cfg->config_file = xstrdup(optarg);
				break;
			case 'h':
				usage(stdout);
				exit(0);
			case 'V':
				printf("noid-relay %s\n", RELAY_VERSION);
				exit(0);
			case '?':
				usage(stderr);
				return NOID_ERR_INVAL;
			}
			continue;
		}
		switch (opt) {
		case 'q':
			cfg->qr = true;
			continue;
		case 's':
			cfg->stats = true;
			continue;
		case OPT_NO_FSYNC:
			cfg->fsync = false;
			continue;
		case OPT_SALVAGE:
			*salvage = true;
			continue;
		case 'l':
			/* Listen flags replace the config file's list. */
			if (!*cli_listen) {
				while (cfg->nlisten > 0)
					free(cfg->listen[--cfg->nlisten]);
				*cli_listen = true;
			}
			break;
		}
		if ((key = opt_key(opt)) == NULL)
			continue;
		if (relay_config_set(cfg, key, optarg, &why) != 0) {
			fprintf(stderr, "noid-relay: %s '%s': %s\n", key,
			    optarg, why);
			return NOID_ERR_INVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "noid-relay: unexpected argument '%s'\n",
		    argv[optind]);
		usage(stderr);
		return NOID_ERR_INVAL;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct relay_config cfg;
	struct relay_queues *qs = NULL;
	struct relay_journal *j = NULL;
	struct relay_journal_info info;
	struct relay_server *srv = NULL;
	char *data_dir = NULL, *config_file = NULL, *why = NULL, *addr;
	uint8_t *priv = NULL, pub[32];
	const char *cwhy;
	unsigned line;
	bool cli_listen = false, salvage = false, created;
	size_t i;
	int rc, ex = 2;

	if (sodium_init() < 0)
		fatalx("cannot initialise libsodium");
	/* A closed stdout (a script that read the address) must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	relay_config_init(&cfg);
	if (parse_args(argc, argv, &cfg, 1, &cli_listen, &salvage) != 0)
		return 1;
	data_dir = cfg.data_dir != NULL ? xstrdup(cfg.data_dir)
	                                : relay_config_default_dir();
	if (data_dir == NULL) {
		fprintf(stderr,
		    "noid-relay: no data dir: set --data-dir or "
		    "HOME\n");
		return 1;
	}
	config_file = cfg.config_file != NULL
	    ? xstrdup(cfg.config_file)
	    : path_join(data_dir, CONFIG_FILE);

	if (dir_make_private(data_dir) != 0) {
		fprintf(stderr, "noid-relay: cannot create %s: %s\n", data_dir,
		    strerror(errno));
		goto out;
	}
	if (cfg.config_file == NULL &&
	    relay_config_write_default(config_file) != 0) {
		fprintf(stderr, "noid-relay: cannot write %s: %s\n",
		    config_file, strerror(errno));
		goto out;
	}
	relay_config_free(&cfg);
	relay_config_init(&cfg);
	cfg.data_dir = xstrdup(data_dir);
	if ((rc = relay_config_load(&cfg, config_file, false, &line, &cwhy)) !=
	    0) {
		fprintf(
		    stderr, "noid-relay: %s:%u: %s\n", config_file, line, cwhy);
		ex = 1;
		goto out;
	}
	if (parse_args(argc, argv, &cfg, 2, &cli_listen, &salvage) != 0) {
		ex = 1;
		goto out;
	}

	priv = secret_alloc(32);
	if ((rc = load_key(data_dir, priv, pub, &created)) != 0) {
		fprintf(stderr, "noid-relay: relay key %s/%s: %s\n", data_dir,
		    KEY_FILE, noid_strerror(rc));
		goto out;
	}
	qs = relay_queue_set_new(cfg.quota, cfg.ttl_s * 1000);
	if (open_journal(data_dir, &cfg, salvage, qs, &j, &info) != 0)
		goto out;
	if ((rc = relay_server_new(&cfg, priv, pub, qs, j, &srv, &why)) != 0) {
		fprintf(stderr, "noid-relay: %s\n",
		    why != NULL ? why : noid_strerror(rc));
		goto out;
	}
	for (i = 0; i < relay_server_nlisten(srv); i++) {
		if ((addr = relay_address(&cfg, srv, i, pub)) == NULL)
			continue;
		printf("%s\n", addr);
		if (i == 0)
			fflush(stdout);
		if (i == 0 && cfg.qr)
			print_qr(addr);
		free(addr);
	}
	fflush(stdout);
	fprintf(stderr, "noid-relay: %s; %zu queues, %zu messages restored%s\n",
	    created ? "new relay key created" : "serving", info.queues,
	    info.messages,
	    info.dropped_bytes > 0 ? " (a torn journal tail was cut off)" : "");

	rc = relay_server_run(srv);
	if (cfg.stats)
		relay_server_print_stats(srv);
	ex = rc == 0 ? 0 : 3;
out:
	relay_server_free(srv);
	if (relay_journal_close(j) != 0 && ex == 0)
		ex = 3;
	relay_queue_set_free(qs);
	secret_free(priv);
	relay_config_free(&cfg);
	free(data_dir);
	free(config_file);
	free(why);
	return ex;
}
