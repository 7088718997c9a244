/* The built-in font: see font.h. */
#include "console/font.h"
#include "console_font.h"

const uint8_t *font_glyph(uint32_t cp)
{
	int lo = 0, hi = FONT_N - 1;

	while (lo <= hi) {
		int mid = (lo + hi) / 2;

		if (font_cp[mid] == cp)
			return font_bits[mid];
		if (font_cp[mid] < cp)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return cp == 0xfffd ? font_bits[0] : font_glyph(0xfffd);
}
