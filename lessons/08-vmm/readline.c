/*
 * readline.c - line input.
 *
 * Terminals differ in what the Enter key sends: CR (most terminal programs, and
 * what a serial console sends by default), LF (a pipe from a script) or CR LF
 * (Windows tools). All three end a line; the LF of a CR LF pair must not end a
 * second, empty line, so we remember whether the last line ended with CR.
 */
#include "readline.h"
#include "semihost.h"
#include "types.h"
#include "uart.h"

#define CHAR_BS     0x08
#define CHAR_DEL    0x7F    /* what the Backspace key sends on most terminals */
#define CHAR_CR     '\r'
#define CHAR_LF     '\n'

#define CHAR_ESC    0x1B    /* starts the sequences that arrow and function keys send */

static int last_was_cr;
static int pending = -1;        /* a byte read ahead that the line still needs */

static int is_printable(char c)
{
    return c >= 0x20 && c < 0x7F;
}

/* Terminals send arrow and function keys as escape sequences: ESC [ A (up), ESC O P
 * (F1), ESC [ 1 5 ~ (F5)... We have no history or cursor movement, so we read a
 * whole sequence and drop it, instead of inserting "[A" into the line. */
static void skip_escape_sequence(void)
{
    char c = uart_getc();
    if (c != '[' && c != 'O') {
        pending = (u8)c;                /* a lone ESC: the key after it still counts */
        return;
    }
    do
        c = uart_getc();
    while (c >= 0x20 && c < 0x40);      /* parameters; the final byte is 0x40-0x7E */
}

int readline(char *buf, int size)
{
    int len = 0, overflow = 0;

/* BEGIN SOLUTION readline */
    for (;;) {
        char c = pending >= 0 ? (char)pending : uart_getc();
        int after_cr = last_was_cr;

        pending = -1;

        last_was_cr = (c == CHAR_CR);
        if (c == CHAR_LF && after_cr)
            continue;                   /* second half of CR LF */
        if (c == CHAR_CR || c == CHAR_LF)
            break;
        if (c == CHAR_ESC) {
            skip_escape_sequence();
        } else if (c == CHAR_BS || c == CHAR_DEL) {
            if (len > 0 && !overflow) {
                len--;
                uart_puts("\b \b");     /* back, blank it out, back again */
            }
        } else if (is_printable(c)) {
            if (len < size - 1) {
                buf[len++] = c;
                uart_putc(c);
            } else {
                overflow = 1;           /* keep reading to the end of the line */
            }
        }
        /* other control characters are ignored */
    }
/* END SOLUTION */
    uart_puts("\n");
    buf[len] = '\0';
    return overflow ? READLINE_TOO_LONG : len;
}
