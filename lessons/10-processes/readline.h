/* readline.h - reading a line of input from the console, with editing. */
#ifndef READLINE_H
#define READLINE_H

#define READLINE_TOO_LONG   (-1)

/* Read one line into buf (size bytes, NUL-terminated, without the line end),
 * echoing what is typed. Backspace (BS or DEL) erases the last character; other
 * control characters and escape sequences (arrow keys) are ignored. A line ends at
 * CR, LF or CR LF. Returns the line's length, or READLINE_TOO_LONG when more
 * than size-1 characters were typed (the rest of that line is read and dropped). */
int readline(char *buf, int size);

#endif
