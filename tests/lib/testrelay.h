/*
 * noid tests — testrelay: a real noid-relay process for tests.
 *
 * testrelay_start() makes a fresh temp dir (mkdtemp under /tmp), runs
 * NOID_BUILD_DIR/noid-relay --data-dir <tmp>/data --listen 127.0.0.1:0
 * (plus extra arguments) with stderr in <tmp>/relay.log, and reads the
 * relay's first stdout line: its noid:// address.  Restarts reuse the
 * data dir and the port so clients' addresses stay valid.
 *
 * Copyright (C) 2026 the noid authors.  AGPL-3.0-or-later.
 */
#ifndef NOID_TESTRELAY_H
#define NOID_TESTRELAY_H

#include <sys/types.h>

#include "addr.h"

/* How long to wait for the relay to print its address. */
#define TESTRELAY_START_TIMEOUT_MS 10000

struct testrelay;

/*
 * Start a relay; extra is a NULL-terminated argument list (or NULL),
 * e.g. { "--password", "x", NULL }.  NULL when it did not come up (its
 * log is then printed to stderr).  Free with testrelay_free().
 */
struct testrelay *testrelay_start(const char *const *extra);

/* Stop: SIGTERM waits for a graceful exit, SIGKILL simulates a crash.
 * Returns the exit status as waitpid gives it. */
int testrelay_stop(struct testrelay *r, int sig);

/* Start again on the same data dir and port; 0 or a negative error. */
int testrelay_restart(struct testrelay *r);

/* The address line and its parsed form. */
const char *testrelay_address(const struct testrelay *r);
const struct relay_addr *testrelay_addr(const struct testrelay *r);

/* The temp dir, the relay's data dir inside it, and the pid (0 if
 * stopped). */
const char *testrelay_dir(const struct testrelay *r);
const char *testrelay_data_dir(const struct testrelay *r);
pid_t testrelay_pid(const struct testrelay *r);

/* Kill if running, remove the temp dir, free. NULL is a no-op. */
void testrelay_free(struct testrelay *r);

/* Remove a directory tree (tests' temp dirs). */
int testrelay_rmtree(const char *dir);

#endif
