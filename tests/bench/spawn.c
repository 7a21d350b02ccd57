/* spawn FD TIMEOUT PROG ARGS...: run PROG, then write
 * "<ns> <maxrss KiB> <wait status> <cpu ns>" to FD (cpu: user + system time of PROG
 * and the children it reaped; on a loaded machine it moves far less than the wall time).
 *
 * Why a C helper: a child's ru_maxrss starts from the memory of whoever forked
 * it (the kernel keeps the pre-exec high-water mark), so a runtime forked by
 * the bench's Python would report the bench's RSS.  Forked from this small
 * static program it reports its own.  Timing here also leaves the bench's fork
 * cost out.  TIMEOUT seconds (0: none) kill the child with SIGKILL.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pid_t child;

static void on_alarm(int sig) {
    (void)sig;
    kill(child, SIGKILL); /* our own unreaped child: its pid cannot have been reused */
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: spawn FD TIMEOUT PROG ARGS...\n");
        return 2;
    }
    int fd = atoi(argv[1]);
    unsigned timeout = (unsigned)atoi(argv[2]);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    child = fork();
    if (child < 0) {
        perror("spawn: fork");
        return 2;
    }
    if (child == 0) {
        close(fd);
        execv(argv[3], argv + 3);
        perror("spawn: exec");
        _exit(127);
    }
    if (timeout) {
        signal(SIGALRM, on_alarm);
        alarm(timeout);
    }
    int status;
    struct rusage ru;
    while (wait4(child, &status, 0, &ru) < 0) {
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long long ns = (t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
    long long cpu = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000LL +
                    (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000LL;
    dprintf(fd, "%lld %ld %d %lld\n", ns, ru.ru_maxrss, status, cpu);
    return 0;
}
