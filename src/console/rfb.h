/* The RFB (VNC) server side of one viewer of a guest console
 * (docs/CONSOLES.md): RFC 6143 versions 3.3, 3.7 and 3.8, security None,
 * Raw encoding and the DesktopSize pseudo-encoding, the screen drawn from
 * a terminal's cells (term.h) with the built-in font (font.h).  Pure over
 * buffers: bytes from the viewer in, bytes for it out, keys to a
 * callback; no sockets.
 *
 * Updates are sent only when the viewer asked (FramebufferUpdateRequest)
 * and only as fast as it reads: rfb_pump renders the rows the viewer has
 * not seen yet (per-viewer generation, term.h) into out a row at a time,
 * stopping at RFB_OUT_HIGH, and the caller calls it again once out has
 * drained.  So a slow viewer costs its own buffer, bounded, and nothing
 * else; no framebuffer is kept. */
#ifndef XB_CONSOLE_RFB_H
#define XB_CONSOLE_RFB_H

#include <stddef.h>
#include <stdint.h>

#include "console/term.h"
#include "lib/buf.h"

#define RFB_OUT_HIGH (64 * 1024)        /* rendering stops beyond this */
#define RFB_CUT_MAX (1u << 20)          /* ClientCutText longer: refused */

struct rfb {
	uint8_t state, minor;           /* RFB 3.<minor> */
	uint8_t ctrl, alt;              /* modifier keys held */
	uint8_t desktop_size;           /* the viewer takes DesktopSize */
	uint8_t want;                   /* an update asked: 1 incremental, 2 full */
	/* pixel format */
	uint8_t bpp, next_bpp;
	uint8_t pix[16][4];             /* the palette's pixels in the viewer's format */
	uint8_t next_pix[16][4];        /* ... as SetPixelFormat said: from the next update */
	int w, h;                       /* the framebuffer the viewer knows, cells */
	uint32_t seen;                  /* the term generation drawn */
	/* the update being written */
	int pending;                    /* rows still to render */
	uint8_t rows[TERM_MAX_ROWS];    /* which */
	int next_row;
	uint32_t cut_skip;              /* ClientCutText bytes still to skip */
	const char *err;                /* after -1: why */
};

/* Keys typed, as the bytes a terminal sends (VT100/xterm sequences). */
typedef void rfb_key_fn(void *opaque, const char *bytes, size_t n);

/* Start a viewer of t: the ProtocolVersion goes into out. */
void rfb_init(struct rfb *v, const struct term *t, struct buf *out);

/* Handle what the viewer sent: consumes whole messages from in (a partial
 * one stays), answers into out (the handshake; name is the desktop's).
 * 0, or -1 (v->err says why; close the connection). */
int rfb_input(struct rfb *v, struct buf *in, struct buf *out, const struct term *t,
	      const char *name, rfb_key_fn *key, void *opaque);

/* Render what the viewer asked for and has not seen into out, until out
 * holds RFB_OUT_HIGH bytes; call again when out has drained (and whenever
 * t changed).  Returns 1 when rows remain for a later call. */
int rfb_pump(struct rfb *v, const struct term *t, struct buf *out);

#endif
