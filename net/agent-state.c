/*
 * noid — agent-state: one connection's driver state and its blob.
 *
 * The store keeps one opaque agent-state blob per connection; this file
 * defines it: the connection's place in its life, its queues and their
 * keys, the rotation steps in progress, the sealed bodies not yet
 * accepted by a relay, the control messages not yet sealed, then the
 * end-to-end state (agent-conn.c).  Saving it is what makes a step
 * happen exactly once: a body is sealed, saved, and only then sent.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "agent-core.h"

#define STATE_VERSION 1

/* A zeroed connection in secret memory. */
struct agent_c *
agent_c_new(void)
{
	struct agent_c *c = secret_alloc(sizeof *c);

	memset(c, 0, sizeof *c);
	return c;
}

/* Free a connection and everything it holds. */
void
agent_c_free(struct agent_c *c)
{
	struct agent_text *t;
	struct agent_ctl *k;

	if (c == NULL)
		return;
	while (c->out != NULL)
		agent_out_pop(c);
	while ((k = c->ctl) != NULL) {
		c->ctl = k->next;
		buf_free_secret(&k->enc);
		free(k);
	}
	while ((t = c->texts) != NULL) {
		c->texts = t->next;
		free(t->text);
		free(t);
	}
	agent_conn_free(c->core);
	secret_free(c);
}

/* Append a control message to seal later. */
void
agent_ctl_push(struct agent_c *c, const struct agent_msg *m)
{
	struct agent_ctl *k = xcalloc(1, sizeof *k), **pp;

	buf_init(&k->enc);
	agent_msg_encode(m, &k->enc);
	for (pp = &c->ctl; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = k;
}

/* Append a sealed body (copied). */
void
agent_out_push(struct agent_c *c, int type, const struct agent_sq *to,
    const uint8_t *body, const uint8_t *msg, const uint8_t *hash)
{
	struct agent_out *o = xcalloc(1, sizeof *o), **pp;

	o->type = type;
	o->to = *to;
	o->body = xmemdup(body, AGENT_BODY);
	if (msg != NULL) {
		o->has_msg = 1;
		memcpy(o->msg, msg, AGENT_ID_LEN);
	}
	if (hash != NULL)
		memcpy(o->hash, hash, AGENT_HASH_LEN);
	for (pp = &c->out; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = o;
}

/* Drop the first sealed body. */
void
agent_out_pop(struct agent_c *c)
{
	struct agent_out *o = c->out;

	if (o == NULL)
		return;
	c->out = o->next;
	sodium_memzero(&o->to, sizeof o->to);
	free(o->body);
	free(o);
}

/* Put a receiving queue. */
static void
put_rq(struct buf *b, const struct agent_rq *q)
{
	buf_put_u8(b, (uint8_t)q->present);
	if (!q->present)
		return;
	buf_put_long(b, q->relay, strlen(q->relay));
	buf_put(b, q->q.rid, NOID_ID_LEN);
	buf_put(b, q->q.sid, NOID_ID_LEN);
	buf_put(b, q->q.relay_dh_pub, NOID_KEY_LEN);
	buf_put(b, q->q.shared, 32);
	buf_put(b, q->auth.priv, 32);
	buf_put(b, q->auth.pub, 32);
}

/* Put a sending queue. */
static void
put_sq(struct buf *b, const struct agent_sq *q)
{
	buf_put_u8(b, (uint8_t)q->present);
	if (!q->present)
		return;
	buf_put_long(b, q->relay, strlen(q->relay));
	buf_put(b, q->sid, NOID_ID_LEN);
	buf_put_u8(b, (uint8_t)q->auth_set);
	buf_put(b, q->auth.priv, 32);
	buf_put(b, q->auth.pub, 32);
}

/* Serialize a connection's driver state and its e2e state. */
void
agent_state_save(const struct agent_c *c, struct buf *out)
{
	const struct agent_out *o;
	const struct agent_ctl *k;
	struct buf core;
	size_t n;

	buf_put_u8(out, STATE_VERSION);
	buf_put_u8(out, (uint8_t)c->state);
	buf_put_u8(out, (uint8_t)c->trust);
	buf_put_u8(out, (uint8_t)c->trust_base);
	buf_put_u8(
	    out, (uint8_t)(c->incoming | c->need_key << 1 | c->deleting << 2));
	buf_put_u64(out, c->expires_ms);
	buf_put_u64(out, c->rotated_ms);
	buf_put_short(out, c->name, strlen(c->name));
	buf_put_short(out, c->status, strlen(c->status));
	buf_put(out, c->key_pub, 32);
	put_rq(out, &c->rq);
	put_rq(out, &c->rq_next);
	put_rq(out, &c->rq_old);
	buf_put_u8(out, (uint8_t)c->rot_r);
	buf_put(out, c->rot_box_priv, 32);
	buf_put(out, c->rot_recv_key, 32);
	put_sq(out, &c->sq);
	put_sq(out, &c->sq_next);
	buf_put_u8(out, (uint8_t)c->rot_s);
	buf_put(out, c->rot_send_key, 32);
	for (n = 0, o = c->out; o != NULL; o = o->next)
		n++;
	buf_put_u16(out, (uint16_t)n);
	for (o = c->out; o != NULL; o = o->next) {
		buf_put_u8(out, (uint8_t)o->type);
		buf_put_u8(out, (uint8_t)o->has_msg);
		buf_put(out, o->msg, AGENT_ID_LEN);
		buf_put(out, o->hash, AGENT_HASH_LEN);
		put_sq(out, &o->to);
		buf_put(out, o->body, AGENT_BODY);
	}
	for (n = 0, k = c->ctl; k != NULL; k = k->next)
		n++;
	buf_put_u16(out, (uint16_t)n);
	for (k = c->ctl; k != NULL; k = k->next)
		buf_put_long(out, k->enc.data, k->enc.len);
	buf_init(&core);
	if (c->core != NULL)
		agent_conn_save(c->core, &core);
	buf_put_u32(out, (uint32_t)core.len);
	buf_put(out, core.data, core.len);
	buf_free_secret(&core);
}

/* Read a relay address text (long string). */
static int
get_relay(struct reader *r, char *dst)
{
	const uint8_t *p;
	size_t len;

	if (reader_long(r, &p, &len) != 0 || len == 0 || len > AGENT_ADDR_MAX ||
	    memchr(p, '\0', len) != NULL)
		return NOID_ERR_CORRUPT;
	memcpy(dst, p, len);
	dst[len] = '\0';
	return 0;
}

/* Read a receiving queue. */
static int
get_rq(struct reader *r, struct agent_rq *q)
{
	uint8_t present = 0;

	if (reader_u8(r, &present) != 0 || present > 1)
		return NOID_ERR_CORRUPT;
	q->present = present;
	if (!present)
		return 0;
	if (get_relay(r, q->relay) != 0)
		return NOID_ERR_CORRUPT;
	reader_bytes(r, q->q.rid, NOID_ID_LEN);
	reader_bytes(r, q->q.sid, NOID_ID_LEN);
	reader_bytes(r, q->q.relay_dh_pub, NOID_KEY_LEN);
	reader_bytes(r, q->q.shared, 32);
	reader_bytes(r, q->auth.priv, 32);
	return reader_bytes(r, q->auth.pub, 32) != 0 ? NOID_ERR_CORRUPT : 0;
}

/* Read a sending queue. */
static int
get_sq(struct reader *r, struct agent_sq *q)
{
	uint8_t present = 0, auth = 0;

	if (reader_u8(r, &present) != 0 || present > 1)
		return NOID_ERR_CORRUPT;
	q->present = present;
	if (!present)
		return 0;
	if (get_relay(r, q->relay) != 0)
		return NOID_ERR_CORRUPT;
	reader_bytes(r, q->sid, NOID_ID_LEN);
	if (reader_u8(r, &auth) != 0 || auth > 1)
		return NOID_ERR_CORRUPT;
	q->auth_set = auth;
	reader_bytes(r, q->auth.priv, 32);
	return reader_bytes(r, q->auth.pub, 32) != 0 ? NOID_ERR_CORRUPT : 0;
}

/* Read a short string into dst[cap]. */
static int
get_str(struct reader *r, char *dst, size_t cap)
{
	const uint8_t *p;
	size_t len;

	if (reader_short(r, &p, &len) != 0 || len >= cap ||
	    memchr(p, '\0', len) != NULL)
		return NOID_ERR_CORRUPT;
	memcpy(dst, p, len);
	dst[len] = '\0';
	return 0;
}

/* Parse a blob into c (fresh from agent_c_new; freed by the caller on
 * error). */
int
agent_state_load(const uint8_t *p, size_t len, struct agent_c *c)
{
	struct agent_out o;
	struct agent_ctl *k, **kp = &c->ctl;
	struct reader r;
	const uint8_t *b;
	uint8_t v[5], u8 = 0;
	uint16_t n = 0, i;
	uint32_t clen = 0;
	size_t blen;

	reader_init(&r, p, len);
	reader_bytes(&r, v, sizeof v);
	if (r.err != 0)
		return NOID_ERR_CORRUPT;
	if (v[0] != STATE_VERSION)
		return NOID_ERR_VERSION;
	c->state = v[1];
	c->trust = v[2];
	c->trust_base = v[3];
	c->incoming = v[4] & 1;
	c->need_key = (v[4] >> 1) & 1;
	c->deleting = (v[4] >> 2) & 1;
	if (c->state < AGENT_CONN_INVITED || c->state > AGENT_CONN_CLOSED)
		return NOID_ERR_CORRUPT;
	reader_u64(&r, &c->expires_ms);
	reader_u64(&r, &c->rotated_ms);
	if (get_str(&r, c->name, sizeof c->name) != 0 ||
	    get_str(&r, c->status, sizeof c->status) != 0)
		return NOID_ERR_CORRUPT;
	reader_bytes(&r, c->key_pub, 32);
	if (get_rq(&r, &c->rq) != 0 || get_rq(&r, &c->rq_next) != 0 ||
	    get_rq(&r, &c->rq_old) != 0)
		return NOID_ERR_CORRUPT;
	reader_u8(&r, &u8);
	c->rot_r = u8;
	reader_bytes(&r, c->rot_box_priv, 32);
	reader_bytes(&r, c->rot_recv_key, 32);
	crypto_scalarmult_base(c->rot_box_pub, c->rot_box_priv);
	if (get_sq(&r, &c->sq) != 0 || get_sq(&r, &c->sq_next) != 0)
		return NOID_ERR_CORRUPT;
	reader_u8(&r, &u8);
	c->rot_s = u8;
	reader_bytes(&r, c->rot_send_key, 32);
	if (reader_u16(&r, &n) != 0)
		return NOID_ERR_CORRUPT;
	for (i = 0; i < n; i++) {
		memset(&o, 0, sizeof o);
		reader_u8(&r, &u8);
		o.type = u8;
		reader_u8(&r, &u8);
		reader_bytes(&r, o.msg, AGENT_ID_LEN);
		reader_bytes(&r, o.hash, AGENT_HASH_LEN);
		if (u8 > 1 || get_sq(&r, &o.to) != 0 ||
		    reader_ref(&r, &b, AGENT_BODY) != 0)
			return NOID_ERR_CORRUPT;
		agent_out_push(c, o.type, &o.to, b, u8 ? o.msg : NULL, o.hash);
	}
	if (reader_u16(&r, &n) != 0)
		return NOID_ERR_CORRUPT;
	for (i = 0; i < n; i++) {
		if (reader_long(&r, &b, &blen) != 0)
			return NOID_ERR_CORRUPT;
		k = xcalloc(1, sizeof *k);
		buf_init(&k->enc);
		buf_put(&k->enc, b, blen);
		*kp = k;
		kp = &k->next;
	}
	if (reader_u32(&r, &clen) != 0 || reader_ref(&r, &b, clen) != 0)
		return NOID_ERR_CORRUPT;
	if (clen > 0 && agent_conn_load(b, clen, &c->core) != 0)
		return NOID_ERR_CORRUPT;
	if (reader_done(&r) != 0)
		return NOID_ERR_CORRUPT;
	return 0;
}

/* Save a connection's state in the store (one commit). */
int
agent_persist(struct agent *a, struct agent_c *c)
{
	struct buf b;
	int rc;

	buf_init(&b);
	agent_state_save(c, &b);
	rc = store_conn_state_put(a->st, a->profile, c->id, b.data, b.len);
	buf_free_secret(&b);
	if (rc != 0)
		agent_fatal(a, rc);
	else
		c->dirty = 0;
	return rc;
}
