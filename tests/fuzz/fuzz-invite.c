/*
 * Fuzz harness for agent_invite_parse: any bytes either fail with a
 * reason or parse to an invitation that formats back to a link which
 * parses to the same invitation.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agent_invite inv, back;
	const char *why = NULL;
	char *link = NULL;

	if (agent_invite_parse((const char *)data, size, &inv, &why) != 0) {
		if (why == NULL)
			abort();
		return 0;
	}
	if (agent_invite_format(&inv, &link) != 0)
		abort();
	if (agent_invite_parse(link, strlen(link), &back, &why) != 0 ||
	    memcmp(&inv, &back, sizeof inv) != 0)
		abort();
	free(link);
	return 0;
}
