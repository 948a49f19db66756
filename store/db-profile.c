/*
 * db-profile: removing a whole profile from this device.
 *
 * Deleting a profile is local: it forgets the profile's op log, its
 * projection and its agent state here, in one transaction, and writes no
 * op (other devices of the profile keep their copy; unlinking a device
 * is store_device_remove's job).  The caller closes the agent of the
 * profile first and, to be polite to contacts, deletes its connections
 * through the agent before.
 *
 * Copyright (C) 2026 the noid authors.  AGPL-3.0-or-later.
 */
#include "store-int.h"

#include <stdlib.h>
#include <string.h>

/*
 * Every table keyed by profile, children before parents.  One exec of
 * DELETEs naming the id as a blob literal (hex we made: nothing to
 * inject), not cached statements: this runs once in a profile's life.
 */
static const char *const profile_tables[] = {"messages", "outbox",
    "read_markers", "settings", "conn_local", "connections", "contacts",
    "registers", "tombstones", "devices", "ops", "local_devices"};

int
store_profile_delete(struct store *st, const uint8_t profile[STORE_ID_LEN])
{
	sqlite3_stmt *s;
	struct buf sql;
	char *hex, *one;
	size_t i;
	int rc, n;

	if ((rc = db_begin(st)) != 0)
		return rc;
	s = db_prep(st, "SELECT 1 FROM profiles WHERE id = ?1");
	db_bind_id(s, 1, profile);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_ROW) {
		rc = rc == SQLITE_DONE ? NOID_ERR_NOENT : db_err(st, rc);
		return db_end(st, rc);
	}
	hex = hex_encode(profile, STORE_ID_LEN);
	buf_init(&sql);
	for (i = 0; i < sizeof profile_tables / sizeof profile_tables[0]; i++) {
		n = xasprintf(&one, "DELETE FROM %s WHERE profile_id = x'%s';",
		    profile_tables[i], hex);
		buf_put(&sql, one, (size_t)n);
		free(one);
	}
	n = xasprintf(&one, "DELETE FROM profiles WHERE id = x'%s';", hex);
	buf_put(&sql, one, (size_t)n + 1);
	free(one);
	rc = db_exec(st, (char *)sql.data);
	buf_free(&sql);
	free(hex);
	/* The cached signing key of the profile goes with it. */
	if (rc == 0 && st->key.sk != NULL &&
	    memcmp(st->key.profile, profile, STORE_ID_LEN) == 0) {
		secret_free(st->key.sk);
		st->key.sk = NULL;
		memset(st->key.profile, 0, STORE_ID_LEN);
	}
	return db_end(st, rc);
}
