/*
 * ctl-proto: the control socket's wire format.
 *
 * A request is one length-prefixed message: u32 length, then version
 * (u8), the --profile name, the argument vector and the caller's stdin,
 * each with a u32 length.  The answer is a stream of frames (u8 type,
 * u32 length, bytes): stdout and stderr chunks as the command produces
 * them (so `read --follow` streams), then one EXIT frame with the exit
 * code.  Every length is checked before anything is allocated.
 */
#include "client.h"

#include <stdlib.h>
#include <string.h>

/* Append a u32-length-prefixed string. */
static void
ctl_put_str(struct buf *b, const void *p, size_t len)
{
	buf_put_u32(b, (uint32_t)len);
	buf_put(b, p, len);
}

/* Append the request, with its own length in front. */
void
ctl_request_encode(struct buf *b, const struct ctl_request *req)
{
	size_t start = b->len;
	int i;

	buf_put_u32(b, 0);
	buf_put_u8(b, CTL_VERSION);
	if (req->profile != NULL) {
		buf_put_u8(b, 1);
		ctl_put_str(b, req->profile, strlen(req->profile));
	} else
		buf_put_u8(b, 0);
	buf_put_u32(b, (uint32_t)req->argc);
	for (i = 0; i < req->argc; i++)
		ctl_put_str(b, req->argv[i], strlen(req->argv[i]));
	buf_put_u8(b, req->has_in ? 1 : 0);
	if (req->has_in)
		ctl_put_str(b, req->in, req->inlen);
	be32_put(b->data + start, (uint32_t)(b->len - start - 4));
}

/* Read a u32-length string into a new NUL-terminated copy. */
static int
ctl_get_str(struct reader *r, char **out, size_t *outlen)
{
	const uint8_t *p;
	uint32_t len;

	if (reader_u32(r, &len) != 0 || len > reader_left(r) ||
	    reader_ref(r, &p, len) != 0)
		return NOID_ERR_INVAL;
	/* Text fields may not hide a NUL; stdin may hold anything. */
	if (outlen == NULL && memchr(p, '\0', len) != NULL)
		return NOID_ERR_INVAL;
	*out = xmalloc((size_t)len + 1);
	memcpy(*out, p, len);
	(*out)[len] = '\0';
	if (outlen != NULL)
		*outlen = len;
	return 0;
}

/* Decode a request body. */
int
ctl_request_decode(const uint8_t *p, size_t len, struct ctl_request *req)
{
	struct reader r;
	uint32_t argc, i;
	uint8_t version, flag;
	int rc = NOID_ERR_INVAL;

	memset(req, 0, sizeof *req);
	if (len > CTL_REQUEST_MAX)
		return NOID_ERR_TOOBIG;
	reader_init(&r, p, len);
	if (reader_u8(&r, &version) != 0 || version != CTL_VERSION)
		goto out;
	if (reader_u8(&r, &flag) != 0 || flag > 1)
		goto out;
	if (flag && ctl_get_str(&r, &req->profile, NULL) != 0)
		goto out;
	if (reader_u32(&r, &argc) != 0 || argc > CTL_ARGS_MAX)
		goto out;
	req->argv = xcalloc((size_t)argc + 1, sizeof *req->argv);
	for (i = 0; i < argc; i++) {
		if (ctl_get_str(&r, &req->argv[i], NULL) != 0)
			goto out;
		req->argc++;
	}
	if (reader_u8(&r, &flag) != 0 || flag > 1)
		goto out;
	if (flag) {
		if (ctl_get_str(&r, (char **)&req->in, &req->inlen) != 0)
			goto out;
		req->has_in = 1;
	}
	if (reader_done(&r) != 0 || req->argc == 0)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		ctl_request_clear(req);
	return rc;
}

/* Free what a decoded request holds. */
void
ctl_request_clear(struct ctl_request *req)
{
	int i;

	if (req->argv != NULL)
		for (i = 0; i < req->argc; i++)
			free(req->argv[i]);
	free(req->argv);
	free(req->profile);
	free(req->in);
	memset(req, 0, sizeof *req);
}

/* Append one frame. */
void
ctl_frame_put(struct buf *b, int type, const void *p, size_t len)
{
	buf_put_u8(b, (uint8_t)type);
	buf_put_u32(b, (uint32_t)len);
	buf_put(b, p, len);
}

/* Parse one complete frame, if there is one. */
int
ctl_frame_get(const uint8_t *p, size_t len, int *type, const uint8_t **body,
    size_t *bodylen, size_t *used)
{
	uint32_t n;

	if (len < 5)
		return 0;
	if (p[0] < CTL_FRAME_OUT || p[0] > CTL_FRAME_EXIT)
		return NOID_ERR_INVAL;
	n = be32_get(p + 1);
	if (n > CTL_FRAME_MAX)
		return NOID_ERR_TOOBIG;
	if (p[0] == CTL_FRAME_EXIT && n != 4)
		return NOID_ERR_INVAL;
	if (len - 5 < n)
		return 0;
	*type = p[0];
	*body = p + 5;
	*bodylen = n;
	*used = 5 + (size_t)n;
	return 1;
}
