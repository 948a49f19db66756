/*
 * qr: QR codes through libqrencode, drawn with half blocks (see qr.h).
 *
 * The input is appended as a single segment in an explicit mode rather
 * than letting libqrencode split it, so the choice (alphanumeric for
 * invitation links, 8-bit otherwise) is predictable and testable.
 */
#include "qr.h"

#include <errno.h>
#include <qrencode.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"

/* Largest input any QR code holds (version 40-L, numeric). */
#define QR_MAX_INPUT 7089

#define QR_FULL "\xe2\x96\x88" /* █ */
#define QR_UPPER "\xe2\x96\x80" /* ▀ */
#define QR_LOWER "\xe2\x96\x84" /* ▄ */
#define QR_SGR_ON "\033[30;47m"
#define QR_SGR_OFF "\033[0m"

struct qr {
	int version;
	int side;
	int alnum;
	unsigned char *dark; /* side * side, 1 = dark */
};

int
qr_text_is_alnum(const char *s, size_t len)
{
	static const char extra[] = " $%*+-./:";

	for (size_t i = 0; i < len; i++) {
		if ((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'A' && s[i] <= 'Z'))
			continue;
		if (s[i] == '\0' || strchr(extra, s[i]) == NULL)
			return 0;
	}
	return 1;
}

int
qr_encode(const char *text, enum qr_level level, struct qr **out)
{
	QRinput *in = NULL;
	QRcode *code = NULL;
	struct qr *q = NULL;
	size_t len = strlen(text);
	int alnum, r = NOID_ERR_INTERNAL;

	*out = NULL;
	if (len == 0)
		return NOID_ERR_INVAL;
	if (len > QR_MAX_INPUT)
		return NOID_ERR_TOOBIG;
	alnum = qr_text_is_alnum(text, len);
	in = QRinput_new2(0, level == QR_LEVEL_L ? QR_ECLEVEL_L : QR_ECLEVEL_M);
	if (in == NULL)
		fatalx("QRinput_new2 failed");
	if (QRinput_append(in, alnum ? QR_MODE_AN : QR_MODE_8, (int)len,
	        (const unsigned char *)text) != 0) {
		r = NOID_ERR_INVAL;
		goto out;
	}
	code = QRcode_encodeInput(in);
	if (code == NULL) {
		r = errno == ERANGE ? NOID_ERR_TOOBIG : NOID_ERR_INTERNAL;
		goto out;
	}
	q = xcalloc(1, sizeof *q);
	q->version = code->version;
	q->side = code->width;
	q->alnum = alnum;
	q->dark = xmalloc((size_t)q->side * (size_t)q->side);
	for (size_t i = 0; i < (size_t)q->side * (size_t)q->side; i++)
		q->dark[i] = code->data[i] & 1;
	*out = q;
	r = 0;
out:
	QRcode_free(code);
	QRinput_free(in);
	return r;
}

int
qr_encode_fit(const char *text, int cols, int rows, struct qr **out)
{
	struct qr *q;
	int r;

	*out = NULL;
	if ((r = qr_encode(text, QR_LEVEL_M, &q)) != 0)
		return r;
	if (!qr_fits(q, cols, rows)) {
		qr_free(q);
		if ((r = qr_encode(text, QR_LEVEL_L, &q)) != 0)
			return r;
		if (!qr_fits(q, cols, rows)) {
			qr_free(q);
			return NOID_ERR_TOOBIG;
		}
	}
	*out = q;
	return 0;
}

void
qr_free(struct qr *q)
{
	if (q == NULL)
		return;
	free(q->dark);
	free(q);
}

int
qr_version(const struct qr *q)
{
	return q->version;
}

int
qr_is_alnum(const struct qr *q)
{
	return q->alnum;
}

int
qr_side(const struct qr *q)
{
	return q->side;
}

int
qr_cols(const struct qr *q)
{
	return q->side + 2 * QR_QUIET;
}

int
qr_rows(const struct qr *q)
{
	return (q->side + 2 * QR_QUIET + 1) / 2;
}

int
qr_fits(const struct qr *q, int cols, int rows)
{
	return cols >= qr_cols(q) && rows >= qr_rows(q) + 1;
}

int
qr_dark(const struct qr *q, int x, int y)
{
	x -= QR_QUIET;
	y -= QR_QUIET;
	if (x < 0 || y < 0 || x >= q->side || y >= q->side)
		return 0;
	return q->dark[(size_t)y * (size_t)q->side + (size_t)x];
}

/* Append row `row` to b. */
static void
qr_put_line(const struct qr *q, int row, enum qr_style style, struct buf *b)
{
	int top, bottom, flip = style == QR_STYLE_LIGHT_FG;

	if (style == QR_STYLE_ANSI)
		buf_put(b, QR_SGR_ON, strlen(QR_SGR_ON));
	for (int x = 0; x < qr_cols(q); x++) {
		top = qr_dark(q, x, 2 * row) != flip;
		bottom = qr_dark(q, x, 2 * row + 1) != flip;
		if (top && bottom)
			buf_put(b, QR_FULL, 3);
		else if (top)
			buf_put(b, QR_UPPER, 3);
		else if (bottom)
			buf_put(b, QR_LOWER, 3);
		else
			buf_put_u8(b, ' ');
	}
	if (style == QR_STYLE_ANSI)
		buf_put(b, QR_SGR_OFF, strlen(QR_SGR_OFF));
}

char *
qr_render_line(const struct qr *q, int row, enum qr_style style)
{
	struct buf b;

	buf_init(&b);
	if (row >= 0 && row < qr_rows(q))
		qr_put_line(q, row, style, &b);
	buf_put_u8(&b, '\0');
	return (char *)b.data;
}

char *
qr_render(const struct qr *q, enum qr_style style)
{
	struct buf b;

	buf_init(&b);
	for (int row = 0; row < qr_rows(q); row++) {
		qr_put_line(q, row, style, &b);
		buf_put_u8(&b, '\n');
	}
	buf_put_u8(&b, '\0');
	return (char *)b.data;
}
