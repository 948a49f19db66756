/*
 * fuzz-addr: the relay address parser.  Whatever parses must format to
 * a string that parses to the same address.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "base.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct relay_addr a, b;
	const char *why = NULL;
	char *s, *text;

	s = xmalloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	if (addr_parse(s, &a, &why) == 0) {
		text = addr_format(&a);
		if (addr_parse(text, &b, NULL) != 0 ||
		    memcmp(&a, &b, sizeof a) != 0)
			abort();
		free(text);
	} else if (why == NULL)
		abort();
	free(s);
	return 0;
}
