/* ulib.h - the user library: system call wrappers and a few helpers. */
#ifndef ULIB_H
#define ULIB_H

#include "syscall.h"

typedef unsigned int u32;

void exit(int status) __attribute__((noreturn));
int write(int fd, const void *buf, int len);
int read(int fd, void *buf, int len);
int getpid(void);
int sleep(int ms);
void *sbrk(int increment);
int wait(int pid, int *status);
int spawn(const char *name, const char *const *argv);
int yield(void);
u32 time_us(void);
int kill(int pid);

/* Raw access, for the fuzzer: any call number, any arguments. */
int syscall4(int n, u32 a, u32 b, u32 c, u32 d);

int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int atoi(const char *s);
unsigned long strtoul(const char *s, int base);
int strlen(const char *s);

#endif
