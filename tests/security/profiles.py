"""Seccomp profiles for the tests, written here: one shaped like Docker's default
(an allow-list over an EPERM default, for the three x86 ABIs, with argument
conditions on clone and personality), small enough to read."""

from __future__ import annotations

import errno

from runtime.native import lib

# What a busybox shell and the usual commands need, plus the calls any libc
# program makes.  Deliberately absent: mount, umount2, unshare, setns, pivot_root,
# chroot, keyctl, ptrace, bpf, init_module, reboot, swapon, kexec_load ...
ALLOWED = """
accept accept4 access alarm arch_prctl bind brk capget capset chdir chmod chown clock_getres
clock_gettime clock_nanosleep close close_range connect copy_file_range creat dup dup2 dup3
epoll_create epoll_create1 epoll_ctl epoll_pwait epoll_wait eventfd eventfd2 execve execveat
exit exit_group faccessat faccessat2 fadvise64 fallocate fchdir fchmod fchmodat fchown fchownat
fcntl fdatasync flock fork fstat fstatfs fsync ftruncate futex getcwd getdents getdents64
getegid geteuid getgid getgroups getitimer getpeername getpgid getpgrp getpid getppid
getpriority getrandom getresgid getresuid getrlimit get_robust_list getrusage getsid
getsockname getsockopt gettid gettimeofday getuid getxattr ioctl kill lchown lgetxattr link
linkat listen listxattr lseek lstat madvise membarrier memfd_create mkdir mkdirat mknod mknodat
mlock mmap mprotect mremap msync munlock munmap nanosleep newfstatat open openat openat2 pause
pipe pipe2 poll ppoll prctl pread64 preadv prlimit64 pselect6 pwrite64 pwritev read readahead
readlink readlinkat readv recvfrom recvmmsg recvmsg rename renameat renameat2 restart_syscall
rmdir rseq rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo rt_sigreturn
rt_sigsuspend rt_sigtimedwait sched_getaffinity sched_yield select sendfile sendmmsg sendmsg
sendto setgid setgroups setitimer setpgid setpriority setregid setresgid setresuid setreuid
setsid setsockopt set_robust_list set_tid_address setuid shutdown sigaltstack socket
socketpair stat statfs statx symlink symlinkat sysinfo tgkill time times tkill truncate umask
uname unlink unlinkat utime utimensat utimes vfork wait4 waitid write writev
""".split()

# clone() flags that create namespaces, from the kernel headers.
CLONE_NEW_MASK = (lib.CLONE_NEWNS | lib.CLONE_NEWUTS | lib.CLONE_NEWIPC | lib.CLONE_NEWUSER
                  | lib.CLONE_NEWPID | lib.CLONE_NEWNET | lib.CLONE_NEWCGROUP)


def docker_like(default_errno: int = errno.EPERM) -> dict:
    return {
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": default_errno,
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "syscalls": [
            {"names": ALLOWED, "action": "SCMP_ACT_ALLOW"},
            # clone without namespace flags only; clone3 can't be inspected, so
            # it says ENOSYS and libc falls back to clone.
            {"names": ["clone"], "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 0, "value": CLONE_NEW_MASK, "valueTwo": 0,
                       "op": "SCMP_CMP_MASKED_EQ"}]},
            {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": errno.ENOSYS},
            # personality: querying and the plain Linux domain only.
            {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}]},
            {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 0, "value": 0xFFFFFFFF, "op": "SCMP_CMP_EQ"}]},
        ],
    }
