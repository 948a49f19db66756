/*
 * The two-user fixture of the tmux tests: Alice (data dir "a") and Bob
 * ("b"), each in the tmux temp dir, on one fresh noid-relay.  A test
 * file includes this and names pair_setup and pair_teardown in its
 * TestSuite; tf, relay, dir_a and dir_b are its to use.
 */
#ifndef NOID_TMUX_PAIR_H
#define NOID_TMUX_PAIR_H

#include <criterion/criterion.h>
#include <stdlib.h>

#include "testrelay.h"
#include "tmuxfix.h"

static struct tmuxfix *tf;
static struct testrelay *relay;
static char *dir_a, *dir_b;

/* Start the relay and tmux; make Alice and Bob. */
static inline void
pair_setup(void)
{
	tmuxfix_env();
	relay = testrelay_start(NULL);
	cr_assert_not_null(relay, "noid-relay did not start");
	tf = tmuxfix_start();
	cr_assert_not_null(tf, "no tmux server");
	dir_a = tmuxfix_new_user(tf, "a", "Alice", testrelay_address(relay));
	cr_assert_not_null(dir_a, "could not make user Alice");
	dir_b = tmuxfix_new_user(tf, "b", "Bob", testrelay_address(relay));
	cr_assert_not_null(dir_b, "could not make user Bob");
}

/* Stop tmux and the relay; free the dirs' names. */
static inline void
pair_teardown(void)
{
	tmuxfix_free(tf);
	testrelay_free(relay);
	free(dir_a);
	free(dir_b);
}

#endif
