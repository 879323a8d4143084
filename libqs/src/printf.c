/*
 * vsnprintf and snprintf with C99 return semantics. Everything else that
 * prints (console printf, kernel log) formats through vsnprintf, so this is
 * the only formatting code in the system.
 *
 * 64-bit values are converted with 32-bit divisions only: the kernel and
 * user programs are linked without libgcc, so a plain uint64_t division
 * would leave __udivdi3 undefined.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define INT_MAX_ __INT_MAX__

struct out {
	char *buf;
	size_t size;
	size_t pos; /* chars produced so far, including those that did not fit */
};

struct spec {
	bool left;   /* '-' */
	bool zero;   /* '0' */
	bool plus;   /* '+' */
	bool space;  /* ' ' */
	bool alt;    /* '#' */
	int width;
	int prec;    /* -1 when absent */
	int len;     /* length modifier, one of the LEN_* values */
};

enum { LEN_NONE, LEN_HH, LEN_H, LEN_L, LEN_LL, LEN_Z, LEN_J, LEN_T };

static void
out_char(struct out *o, char c)
{
	/* The last byte of the buffer is reserved for the terminator. */
	if (o->pos + 1 < o->size)
		o->buf[o->pos] = c;
	o->pos++;
}

static void
out_repeat(struct out *o, char c, int n)
{
	for (; n > 0; n--)
		out_char(o, c);
}

static void
out_str(struct out *o, const char *s, size_t n)
{
	for (; n > 0; n--)
		out_char(o, *s++);
}

/* Divides *v by 10 and returns the remainder, 16 bits at a time. */
static unsigned
div10(uint64_t *v)
{
	uint32_t hi = (uint32_t)(*v >> 32);
	uint32_t lo = (uint32_t)*v;
	uint32_t parts[4] = { hi >> 16, hi & 0xffff, lo >> 16, lo & 0xffff };
	uint32_t r = 0;
	uint64_t q = 0;

	if (hi == 0) {
		*v = lo / 10;
		return lo % 10;
	}
	for (int i = 0; i < 4; i++) {
		/* r < 10, so cur fits in 32 bits. */
		uint32_t cur = (r << 16) | parts[i];

		q = (q << 16) | (cur / 10);
		r = cur % 10;
	}
	*v = q;
	return r;
}

/*
 * Formats the magnitude v with an optional sign and "0x" prefix, applying
 * precision (minimum digit count) and width as C specifies.
 */
static void
out_number(struct out *o, uint64_t v, bool neg, unsigned base, bool upper,
	   bool prefix_0x, const struct spec *sp)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24]; /* 22 octal digits cover 64 bits */
	char prefix[3];
	int nd = 0, np = 0;
	int prec = sp->prec < 0 ? 1 : sp->prec;
	int zeros, pad;

	while (v != 0) {
		if (base == 10) {
			tmp[nd++] = digits[div10(&v)];
		} else {
			tmp[nd++] = digits[v & (base - 1)];
			v >>= base == 16 ? 4 : 3;
		}
	}

	if (neg)
		prefix[np++] = '-';
	else if (sp->plus)
		prefix[np++] = '+';
	else if (sp->space)
		prefix[np++] = ' ';
	if (prefix_0x) {
		prefix[np++] = '0';
		prefix[np++] = upper ? 'X' : 'x';
	}
	/* "%#o" guarantees a leading zero by raising the precision. */
	if (base == 8 && sp->alt && prec <= nd)
		prec = nd + 1;

	zeros = prec > nd ? prec - nd : 0;
	pad = sp->width - (np + zeros + nd);
	if (pad < 0)
		pad = 0;
	/* The 0 flag is ignored with '-' or an explicit precision. */
	if (sp->zero && !sp->left && sp->prec < 0) {
		zeros += pad;
		pad = 0;
	}

	if (!sp->left)
		out_repeat(o, ' ', pad);
	out_str(o, prefix, (size_t)np);
	out_repeat(o, '0', zeros);
	while (nd > 0)
		out_char(o, tmp[--nd]);
	if (sp->left)
		out_repeat(o, ' ', pad);
}

static void
out_padded(struct out *o, const char *s, size_t n, const struct spec *sp)
{
	int pad = sp->width > 0 && (size_t)sp->width > n ?
		sp->width - (int)n : 0;

	if (!sp->left)
		out_repeat(o, ' ', pad);
	out_str(o, s, n);
	if (sp->left)
		out_repeat(o, ' ', pad);
}

/* Reads a decimal field, saturating so huge widths cannot overflow int. */
static int
parse_num(const char **fmt)
{
	int n = 0;

	while (**fmt >= '0' && **fmt <= '9') {
		if (n < INT_MAX_ / 10 - 1)
			n = n * 10 + (**fmt - '0');
		(*fmt)++;
	}
	return n;
}

static int64_t
arg_signed(va_list *ap, int len)
{
	switch (len) {
	case LEN_HH:
		return (signed char)va_arg(*ap, int);
	case LEN_H:
		return (short)va_arg(*ap, int);
	case LEN_L:
		return va_arg(*ap, long);
	case LEN_LL:
		return va_arg(*ap, long long);
	case LEN_Z:
	case LEN_T:
		return va_arg(*ap, ptrdiff_t);
	case LEN_J:
		return va_arg(*ap, intmax_t);
	default:
		return va_arg(*ap, int);
	}
}

static uint64_t
arg_unsigned(va_list *ap, int len)
{
	switch (len) {
	case LEN_HH:
		return (unsigned char)va_arg(*ap, unsigned);
	case LEN_H:
		return (unsigned short)va_arg(*ap, unsigned);
	case LEN_L:
		return va_arg(*ap, unsigned long);
	case LEN_LL:
		return va_arg(*ap, unsigned long long);
	case LEN_Z:
	case LEN_T:
		return va_arg(*ap, size_t);
	case LEN_J:
		return va_arg(*ap, uintmax_t);
	default:
		return va_arg(*ap, unsigned);
	}
}

static void
parse_spec(const char **fmt, va_list *ap, struct spec *sp)
{
	const char *f = *fmt;

	for (;; f++) {
		if (*f == '-')
			sp->left = true;
		else if (*f == '0')
			sp->zero = true;
		else if (*f == '+')
			sp->plus = true;
		else if (*f == ' ')
			sp->space = true;
		else if (*f == '#')
			sp->alt = true;
		else
			break;
	}

	if (*f == '*') {
		int w = va_arg(*ap, int);

		f++;
		/* A negative * width means left-justify. */
		if (w < 0) {
			sp->left = true;
			w = w == -INT_MAX_ - 1 ? INT_MAX_ : -w;
		}
		sp->width = w;
	} else {
		sp->width = parse_num(&f);
	}

	sp->prec = -1;
	if (*f == '.') {
		f++;
		if (*f == '*') {
			int p = va_arg(*ap, int);

			f++;
			sp->prec = p < 0 ? -1 : p; /* negative: as if omitted */
		} else {
			sp->prec = parse_num(&f);
		}
	}

	sp->len = LEN_NONE;
	switch (*f) {
	case 'h':
		f++;
		sp->len = LEN_H;
		if (*f == 'h') {
			f++;
			sp->len = LEN_HH;
		}
		break;
	case 'l':
		f++;
		sp->len = LEN_L;
		if (*f == 'l') {
			f++;
			sp->len = LEN_LL;
		}
		break;
	case 'z':
		f++;
		sp->len = LEN_Z;
		break;
	case 'j':
		f++;
		sp->len = LEN_J;
		break;
	case 't':
		f++;
		sp->len = LEN_T;
		break;
	}
	*fmt = f;
}

int
vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0 };
	va_list args;

	/* A copy lets helpers take a va_list pointer portably. */
	va_copy(args, ap);
	while (*fmt != '\0') {
		struct spec sp = { 0 };
		const char *s;
		int64_t sv;
		uint64_t uv;
		char c;

		if (*fmt != '%') {
			out_char(&o, *fmt++);
			continue;
		}
		fmt++;
		parse_spec(&fmt, &args, &sp);

		switch (*fmt) {
		case 'd':
		case 'i':
			sv = arg_signed(&args, sp.len);
			uv = sv < 0 ? -(uint64_t)sv : (uint64_t)sv;
			out_number(&o, uv, sv < 0, 10, false, false, &sp);
			break;
		case 'u':
			uv = arg_unsigned(&args, sp.len);
			out_number(&o, uv, false, 10, false, false, &sp);
			break;
		case 'x':
		case 'X':
			uv = arg_unsigned(&args, sp.len);
			out_number(&o, uv, false, 16, *fmt == 'X',
				   sp.alt && uv != 0, &sp);
			break;
		case 'o':
			uv = arg_unsigned(&args, sp.len);
			out_number(&o, uv, false, 8, false, false, &sp);
			break;
		case 'p':
			uv = (uintptr_t)va_arg(args, void *);
			sp.plus = sp.space = false;
			out_number(&o, uv, false, 16, false, true, &sp);
			break;
		case 'c':
			c = (char)va_arg(args, int);
			out_padded(&o, &c, 1, &sp);
			break;
		case 's':
			s = va_arg(args, const char *);
			if (s == NULL)
				s = "(null)";
			out_padded(&o, s, sp.prec < 0 ? strlen(s) :
				   strnlen(s, (size_t)sp.prec), &sp);
			break;
		case '%':
			out_char(&o, '%');
			break;
		case '\0':
			/* A lone '%' at the end: print it rather than overrun. */
			out_char(&o, '%');
			continue;
		default:
			/* Unknown conversion: show it so the mistake is visible. */
			out_char(&o, '%');
			out_char(&o, *fmt);
			break;
		}
		fmt++;
	}
	va_end(args);

	if (size > 0)
		buf[o.pos < size ? o.pos : size - 1] = '\0';
	return o.pos > (size_t)INT_MAX_ ? INT_MAX_ : (int)o.pos;
}

int
snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
