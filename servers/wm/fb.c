/*
 * The std-vga driver: find the card on the PCI bus, set a linear 32-bit
 * mode through the Bochs VBE DISPI registers and map the framebuffer.
 */
#include <stdbool.h>
#include <stdio.h>
#include <qs/cpu.h>
#include <qs/pci.h>
#include <qs/sys.h>
#include "fb.h"

#define STDVGA_VENDOR 0x1234
#define STDVGA_DEVICE 0x1111

#define DISPI_INDEX 0x1CE
#define DISPI_DATA 0x1CF
enum {
	DISPI_ID = 0, DISPI_XRES = 1, DISPI_YRES = 2, DISPI_BPP = 3,
	DISPI_ENABLE = 4, DISPI_VIRT_WIDTH = 6, DISPI_X_OFFSET = 8,
	DISPI_Y_OFFSET = 9, DISPI_VIDEO_MEMORY_64K = 10,
};
#define DISPI_ID_MIN 0xB0C2 /* the first version with 32 bits per pixel */
#define DISPI_ID_MAX 0xB0CF
#define DISPI_ENABLED 0x01
#define DISPI_LFB_ENABLED 0x40

#define BPP 32

static void
dispi_write(uint16_t index, uint16_t v)
{
	qs_outw(DISPI_INDEX, index);
	qs_outw(DISPI_DATA, v);
}

static uint16_t
dispi_read(uint16_t index)
{
	qs_outw(DISPI_INDEX, index);
	return qs_inw(DISPI_DATA);
}

/* Returns the BAR0 address, 0 if the card is not there (or not granted) or
 * BAR0 unusable. */
static uint32_t
stdvga_bar0(void)
{
	pci_dev_t d;
	uint32_t bar;
	if (pci_find(STDVGA_VENDOR, STDVGA_DEVICE, &d) < 0) {
		printf("wm: no QEMU standard VGA (PCI 1234:1111) granted; "
		       "boot QEMU with -vga std, and `grant pci 1234:1111 0`\n");
		return 0;
	}
	if (pci_bar_base(d, 0, &bar) < 0) {
		printf("wm: std-vga BAR0 is not a memory BAR\n");
		return 0;
	}
	printf("wm: std-vga, framebuffer (BAR0) at %#x\n", bar);
	return bar;
}

static bool
dispi_ok(int width, int height)
{
	uint16_t id = dispi_read(DISPI_ID);
	if (id < DISPI_ID_MIN || id > DISPI_ID_MAX) {
		printf("wm: Bochs VBE interface missing or too old (id %#x)\n", id);
		return false;
	}
	uint32_t vram = (uint32_t)dispi_read(DISPI_VIDEO_MEMORY_64K) << 16;
	if ((uint64_t)width * height * (BPP / 8) > vram) {
		printf("wm: %dx%dx%d needs more than the %u KiB of video memory\n",
		       width, height, BPP, vram >> 10);
		return false;
	}
	return true;
}

static int
set_mode(fb_t *fb, int width, int height)
{
	dispi_write(DISPI_ENABLE, 0);
	dispi_write(DISPI_XRES, (uint16_t)width);
	dispi_write(DISPI_YRES, (uint16_t)height);
	dispi_write(DISPI_BPP, BPP);
	dispi_write(DISPI_ENABLE, DISPI_ENABLED | DISPI_LFB_ENABLED);
	dispi_write(DISPI_X_OFFSET, 0);
	dispi_write(DISPI_Y_OFFSET, 0);
	fb->width = dispi_read(DISPI_XRES);
	fb->height = dispi_read(DISPI_YRES);
	fb->bpp = dispi_read(DISPI_BPP);
	fb->pitch = dispi_read(DISPI_VIRT_WIDTH);
	if (fb->width != width || fb->height != height || fb->bpp != BPP ||
	    fb->pitch != width) {
		printf("wm: the card refused %dx%dx%d (got %dx%dx%d, %d pixels a row)\n",
		       width, height, BPP, fb->width, fb->height, fb->bpp, fb->pitch);
		return QS_EINVAL;
	}
	return 0;
}

/*
 * The framebuffer is mapped before the mode is set, so that a missing
 * grant leaves the text console on the screen.
 */
int
fb_init(fb_t *fb, int width, int height)
{
	fb->phys = stdvga_bar0();
	if (!fb->phys || !dispi_ok(width, height))
		return QS_ENOENT;
	uint32_t len = (uint32_t)width * (uint32_t)height * (BPP / 8);
	fb->pixels = qs_mmio_map(fb->phys, len);
	if (!fb->pixels) {
		printf("wm: cannot map the framebuffer: BAR0 %#x..%#x is not "
		       "granted; init's config needs \"grant mmio %#x %#x\" "
		       "under \"start wm\"\n", fb->phys, fb->phys + len - 1,
		       fb->phys, len);
		return QS_EPERM;
	}
	return set_mode(fb, width, height);
}
