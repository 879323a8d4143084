/*
 * The framebuffer: QEMU's standard VGA (PCI 1234:1111), found by PCI
 * configuration mechanism 1 and put in a linear 32-bit mode through the
 * Bochs VBE "DISPI" registers. Needs the grants io 0xcf8 8, io 0x1ce 2 and
 * mmio over BAR0.
 */
#ifndef WM_FB_H
#define WM_FB_H

#include <stdint.h>

typedef struct {
	volatile uint32_t *pixels; /* the mapped linear framebuffer */
	int width, height, bpp;
	int pitch;     /* pixels from one row to the next */
	uint32_t phys; /* BAR0 */
} fb_t;

/*
 * Sets the mode and maps it. Prints what went wrong (no device, no grant,
 * mode refused) and returns a QS_E* code on failure.
 */
int fb_init(fb_t *fb, int width, int height);

#endif
