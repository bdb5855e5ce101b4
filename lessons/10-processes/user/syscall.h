/*
 * syscall.h - the system call ABI, shared by the kernel and the user library.
 *
 * A user program asks the kernel for something with `svc #N`: N (the SVC's own
 * immediate, decoded by the handler from the instruction, as in lesson 03) names
 * the call; arguments go in r0-r3; the result comes back in r0. A negative result
 * is an error: -ERRNO below.
 */
#ifndef SYSCALL_H
#define SYSCALL_H

#define SYS_EXIT    0   /* exit(status)                  never returns */
#define SYS_WRITE   1   /* write(fd, buf, len)           -> bytes written */
#define SYS_READ    2   /* read(fd, buf, len)            -> bytes read (waits for 1) */
#define SYS_GETPID  3   /* getpid()                      -> pid */
#define SYS_SLEEP   4   /* sleep(ms)                     -> 0 */
#define SYS_SBRK    5   /* sbrk(increment)               -> old break */
#define SYS_WAIT    6   /* wait(pid or -1, &status)      -> pid of the child */
#define SYS_SPAWN   7   /* spawn(name, argv)             -> pid of the child */
#define SYS_YIELD   8   /* yield()                       -> 0 */
#define SYS_TIME    9   /* time()                        -> microseconds (low 32 bits) */
#define SYS_KILL    10  /* kill(pid)                     -> 0 */
#define SYS_COUNT   11

#define EPERM       1
#define ENOENT      2
#define ESRCH       3
#define EINTR       4
#define EBADF       9
#define ECHILD      10
#define ENOMEM      12
#define EFAULT      14
#define EINVAL      22
#define ENOSYS      38

#define STDIN       0
#define STDOUT      1

#endif
