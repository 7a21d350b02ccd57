/*
 * pyrunc's exec trampoline: a tiny static program, no libc, that the container
 * process executes from a sealed memfd just before the user's program.
 *
 * Why: until its last execve the container process is a clone of pyrunc-init,
 * so /proc/self/exe is a host binary.  A program that is a `#!/proc/self/exe`
 * script would make the kernel start that binary inside the container, where
 * another process could reopen it for writing (CVE-2019-5736).  Executing this
 * trampoline first means that at the user's execve /proc/self/exe is a sealed,
 * read-only memory file holding only these few instructions.
 *
 * Contract (csrc/sealed_exec.c builds the vector):
 *     argv = { PYRUNC_TRAMPOLINE_MAGIC, path, user argv[0], user argv[1], ... }
 * and the trampoline does execve(path, &argv[2], envp).  Anything else, such as
 * the kernel running us as the interpreter of a `#!/proc/self/exe` script (then
 * argv[0] is the interpreter path from the script, which cannot contain a space),
 * gets a one-line refusal and exit status 127, never a loop.
 *
 * Only three system calls: execve, write (errors only) and exit, so a seccomp
 * profile that lets the user's program be executed lets this one run too.
 * Built with -nostdlib -static by build_native.py; numbers from <asm/unistd.h>.
 */
#include <asm/errno.h>
#include <asm/unistd.h>

#include "trampoline.h"

#if !defined(__x86_64__) && !defined(__aarch64__)
#error "the exec trampoline has a _start for x86_64 and aarch64 only"
#endif

#define STATUS_EXEC_FAILED 1  /* as runc's init when its final execve fails */
#define STATUS_REFUSED 127

/* -- the three system calls ------------------------------------------------------- */
#if defined(__x86_64__)
static long sys3(long nr, long a, long b, long c)
{
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a), "S"(b), "d"(c)
                     : "rcx", "r11", "memory");
    return ret;
}

__asm__(".text\n"
        ".global _start\n"
        "_start:\n"
        "    xor %rbp, %rbp\n"
        "    mov %rsp, %rdi\n"          /* the initial stack: argc, argv..., 0, envp... */
        "    and $-16, %rsp\n"
        "    call trampoline_main\n"
        "    ud2\n");
#elif defined(__aarch64__)
static long sys3(long nr, long a, long b, long c)
{
    register long x8 __asm__("x8") = nr;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    __asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
    return x0;
}

__asm__(".text\n"
        ".global _start\n"
        "_start:\n"
        "    mov x29, #0\n"
        "    mov x30, #0\n"
        "    mov x0, sp\n"
        "    bl trampoline_main\n"
        "    brk #0\n");
#endif

static __attribute__((noreturn)) void leave(int status)
{
    sys3(__NR_exit, status, 0, 0);
    __builtin_trap(); /* exit refused (a seccomp profile can): die anyway */
}

/* -- a one-line message on stderr --------------------------------------------------- */
struct line {
    char buf[512];
    unsigned long len;
};

static void put(struct line *l, const char *s)
{
    while (*s && l->len < sizeof(l->buf) - 1)
        l->buf[l->len++] = *s++;
}

static void put_num(struct line *l, unsigned long n)
{
    char digits[24];
    int i = 0;
    do {
        digits[i++] = (char)('0' + n % 10);
        n /= 10;
    } while (n && i < (int)sizeof(digits));
    while (i > 0 && l->len < sizeof(l->buf) - 1)
        l->buf[l->len++] = digits[--i];
}

static void say(struct line *l)
{
    l->buf[l->len++] = '\n';
    sys3(__NR_write, 2, (long)l->buf, (long)l->len);
}

/* The errno texts a failed execve can give, worded as runc (Go) words them. */
static const char *reason(long err)
{
    switch (err) {
    case EPERM: return "operation not permitted";
    case ENOENT: return "no such file or directory";
    case E2BIG: return "argument list too long";
    case ENOEXEC: return "exec format error";
    case ENOMEM: return "cannot allocate memory";
    case EACCES: return "permission denied";
    case EFAULT: return "bad address";
    case ENOTDIR: return "not a directory";
    case EISDIR: return "is a directory";
    case EINVAL: return "invalid argument";
    case ETXTBSY: return "text file busy";
    case ENAMETOOLONG: return "file name too long";
    case ENOSYS: return "function not implemented";
    case ELOOP: return "too many levels of symbolic links";
    case ELIBBAD: return "accessing a corrupted shared library";
    default: return 0;
    }
}

static int is_magic(const char *s)
{
    const char *m = PYRUNC_TRAMPOLINE_MAGIC;
    while (*m && *s == *m) {
        s++;
        m++;
    }
    return *m == '\0' && *s == '\0';
}

__attribute__((noreturn, used)) void trampoline_main(long *stack)
{
    long argc = stack[0];
    char **argv = (char **)(stack + 1);
    char **envp = argv + argc + 1;
    struct line l = { .len = 0 };

    if (argc < 3 || !is_magic(argv[0])) {
        put(&l, "pyrunc: refusing to run the exec trampoline as \"");
        put(&l, argc > 0 && argv[0] ? argv[0] : "");
        put(&l, "\": /proc/self/exe is not a program to run (#!/proc/self/exe?)");
        say(&l);
        leave(STATUS_REFUSED);
    }
    long r = sys3(__NR_execve, (long)argv[1], (long)(argv + 2), (long)envp);
    const char *why = reason(-r);
    put(&l, "exec ");
    put(&l, argv[1]);
    put(&l, ": ");
    if (why) {
        put(&l, why);
    } else {
        put(&l, "errno ");
        put_num(&l, (unsigned long)-r);
    }
    say(&l);
    leave(STATUS_EXEC_FAILED);
}
