/* The built-in font: see font.h.  The glyphs are packed (support/gen-font.py:
 * a mask of the rows that repeat the row above, then the others); where
 * each starts is found once, at the first use. */
#include "console/font.h"
#include "console_font.h"

static uint16_t offset[FONT_N + 1];

static int find(uint32_t cp)
{
	int lo = 0, hi = FONT_N - 1;

	while (lo <= hi) {
		int mid = (lo + hi) / 2;

		if (font_cp[mid] == cp)
			return mid;
		if (font_cp[mid] < cp)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

void font_glyph(uint32_t cp, uint8_t rows[FONT_H])
{
	int i = find(cp);
	const uint8_t *p;
	unsigned mask;
	uint8_t prev = 0;

	if (!offset[FONT_N])
		for (int k = 0; k < FONT_N; k++) {
			unsigned m = (unsigned)font_data[offset[k]] << 8 | font_data[offset[k] + 1];

			offset[k + 1] = (uint16_t)(offset[k] + 2 + FONT_H - __builtin_popcount(m));
		}
	if (i < 0)
		i = find(0xfffd);
	p = font_data + offset[i];
	mask = (unsigned)p[0] << 8 | p[1];
	p += 2;
	for (int r = 0; r < FONT_H; r++)
		rows[r] = prev = mask & (0x8000u >> r) ? prev : *p++;
}
