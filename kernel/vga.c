/*
 * A mirror of the console on the VGA text screen, so that a screenshot of a
 * node shows what its serial console shows.
 */
#include "kernel.h"
#include "console.h"

#define VGA_COLS 80
#define VGA_ROWS 25
#define VGA_ATTR 0x0700

static uint16_t *const vga = (uint16_t *)0xB8000;
static int col, row;

void
vga_init(void)
{
	for (int i = 0; i < VGA_COLS * VGA_ROWS; i++)
		vga[i] = VGA_ATTR | ' ';
	col = row = 0;
}

static void
vga_scroll(void)
{
	memmove(vga, vga + VGA_COLS, (VGA_ROWS - 1) * VGA_COLS * 2);
	for (int i = 0; i < VGA_COLS; i++)
		vga[(VGA_ROWS - 1) * VGA_COLS + i] = VGA_ATTR | ' ';
	row = VGA_ROWS - 1;
}

void
vga_putc(char c)
{
	switch (c) {
	case '\n':
		col = 0;
		row++;
		break;
	case '\r':
		col = 0;
		break;
	case '\b':
		if (col > 0)
			col--;
		break;
	default:
		if ((unsigned char)c < ' ')
			return;
		vga[row * VGA_COLS + col] = VGA_ATTR | (uint8_t)c;
		if (++col == VGA_COLS) {
			col = 0;
			row++;
		}
	}
	if (row == VGA_ROWS)
		vga_scroll();
}
