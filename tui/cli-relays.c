/*
 * cli-relays: the profile's relays — list, add, remove, test.
 *
 * The list is a synced profile setting (app-core.c); a change reopens
 * the agent on the new list, so it applies without a restart.  `test`
 * connects to each relay through net/relay-client and pings it: the
 * handshake proves the relay at that address holds the key in the
 * address, the PONG that it serves.
 */
#include "client.h"
#include "addr.h"
#include "relay-client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RELAY_TEST_TIMEOUT_MS 5000

/* `noid relays`. */
int
cli_exec_relays(struct cli_ctx *ctx)
{
	struct app *app = ctx->app;
	struct app_relay *r = NULL;
	size_t n = 0, i;
	char *saved;
	int rc;

	if ((rc = app_relays_get(app, &r, &n)) != 0)
		return cli_fail(ctx, "%s", noid_strerror(rc));
	for (i = 0; i < n; i++)
		cli_printf(ctx, "%s%s%s\n", r[i].address,
		    r[i].key != NULL ? "  (access key)" : "",
		    r[i].trusted ? "  trusted" : "");
	if (n == 0) {
		saved = relay_embed_saved_address(app->dir);
		cli_printf(ctx,
		    "%s  (embedded, 127.0.0.1 only; used while no "
		    "relay is configured)\n",
		    app->relay != NULL  ? relay_embed_address(app->relay)
		        : saved != NULL ? saved
		                        : "not started yet");
		free(saved);
	}
	app_relays_free(r, n);
	return 0;
}

/* Store the new list and apply it (the agent reopens on it). */
static int
cli_relays_save(struct cli_ctx *ctx, const struct app_relay *r, size_t n,
    const char *done, const char *address)
{
	int rc;

	if ((rc = app_relays_put(ctx->app, r, n)) != 0 ||
	    (rc = app_agent_restart(ctx->app)) != 0)
		return cli_fail(ctx, "%s", noid_strerror(rc));
	cli_printf(ctx, "%s %s\n", done, address);
	return 0;
}

/* `noid relays add ADDRESS [--key K] [--trusted]`. */
int
cli_exec_relays_add(struct cli_ctx *ctx)
{
	struct app *app = ctx->app;
	struct app_relay *r = NULL;
	const char *why = NULL, *key = cli_opt(ctx, "key");
	char *canon = NULL;
	size_t n = 0, i;
	int rc, code = EXIT_USER;

	if (app_relay_address_check(ctx->argv[0], &why, &canon) != 0)
		return cli_fail(ctx, "invalid relay address '%s': %s",
		    ctx->argv[0], why ? why : "malformed");
	if (key != NULL && (*key == '\0' || strpbrk(key, " \t\n") != NULL)) {
		cli_fail(ctx, "an access key is one word");
		goto out;
	}
	if ((rc = app_relays_get(app, &r, &n)) != 0) {
		cli_fail(ctx, "%s", noid_strerror(rc));
		goto out;
	}
	for (i = 0; i < n; i++)
		if (strcmp(r[i].address, canon) == 0)
			break;
	if (i == n) {
		r = xreallocarray(r, n + 1, sizeof *r);
		r[n].address = xstrdup(canon);
		r[n].key = NULL;
		n++;
	}
	/* Adding again (e.g. to mark it trusted) keeps a key not given. */
	if (key != NULL) {
		free(r[i].key);
		r[i].key = xstrdup(key);
	}
	r[i].trusted = cli_opt(ctx, "trusted") != NULL;
	code = cli_relays_save(ctx, r, n, "added", canon);
out:
	app_relays_free(r, n);
	free(canon);
	return code;
}

/* `noid relays rm ADDRESS`. */
int
cli_exec_relays_rm(struct cli_ctx *ctx)
{
	struct app *app = ctx->app;
	struct app_relay *r = NULL;
	const char *why = NULL;
	char *canon = NULL;
	size_t n = 0, i;
	int rc, code = EXIT_USER;

	if (app_relay_address_check(ctx->argv[0], &why, &canon) != 0)
		canon = xstrdup(ctx->argv[0]);
	if ((rc = app_relays_get(app, &r, &n)) != 0) {
		cli_fail(ctx, "%s", noid_strerror(rc));
		goto out;
	}
	for (i = 0; i < n; i++)
		if (strcmp(r[i].address, canon) == 0)
			break;
	if (i == n) {
		cli_fail(ctx,
		    "%s is not one of this profile's relays (see "
		    "'noid relays')",
		    ctx->argv[0]);
		goto out;
	}
	free(r[i].address);
	free(r[i].key);
	r[i] = r[n - 1];
	n--;
	code = cli_relays_save(ctx, r, n, "removed", canon);
out:
	app_relays_free(r, n);
	free(canon);
	return code;
}

/* Connect to a relay, finish the handshake and get a PONG within
 * timeout_ms; *ms: the time it took. */
int
cli_relay_probe(
    const char *address, int timeout_ms, uint64_t *ms, const char **why)
{
	struct relay_addr a;
	struct relay_client *rc = NULL;
	uint64_t start = clock_mono_ms(), spent;
	int error;

	*why = NULL;
	if ((error = addr_parse(address, &a, why)) != 0)
		return error;
	error = relay_client_connect_blocking(&a, timeout_ms, NULL, NULL, &rc);
	if (error == NOID_ERR_NOENT)
		*why = "the host name does not resolve";
	if (error != 0)
		return error;
	spent = clock_mono_ms() - start;
	error = spent < (uint64_t)timeout_ms
	    ? relay_client_ping(rc, timeout_ms - (int)spent)
	    : NOID_ERR_TIMEOUT;
	if (error == 0)
		*ms = clock_mono_ms() - start;
	relay_client_free(rc);
	return error;
}

/* `noid relays test`. */
int
cli_exec_relays_test(struct cli_ctx *ctx)
{
	struct app *app = ctx->app;
	struct app_relay *r = NULL, one;
	size_t n = 0, i;
	uint64_t ms = 0;
	const char *why;
	int rc, bad = 0;

	if ((rc = app_relays_get(app, &r, &n)) != 0)
		return cli_fail(ctx, "%s", noid_strerror(rc));
	if (n == 0 && app->relay != NULL) {
		one.address = (char *)relay_embed_address(app->relay);
		one.key = NULL;
		one.trusted = 1;
	}
	for (i = 0; i < (n > 0 ? n : app->relay != NULL); i++) {
		const struct app_relay *x = n > 0 ? &r[i] : &one;

		rc = cli_relay_probe(
		    x->address, RELAY_TEST_TIMEOUT_MS, &ms, &why);
		if (rc == 0)
			cli_printf(ctx, "ok    %s  (%llu ms)\n", x->address,
			    (unsigned long long)ms);
		else {
			bad++;
			cli_printf(ctx, "FAIL  %s  %s\n", x->address,
			    why != NULL ? why : noid_strerror(rc));
		}
	}
	app_relays_free(r, n);
	return bad ? EXIT_USER : 0;
}
