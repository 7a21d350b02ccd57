"""pyrunc restore: bring a checkpointed container back with criu (runc's flags)."""

from __future__ import annotations

from runtime.cli.flags import Flag

SUMMARY = "restore a container from a previous checkpoint"
USAGE = "[command options] <container-id>"
ARGS = (1, 1)
FLAGS = (
    Flag("console-socket", help="path to an AF_UNIX socket which will receive a file "
         "descriptor referencing the master end of the console's pseudoterminal"),
    Flag("image-path", help="path to criu image files for restoring"),
    Flag("work-path", help="path for saving work files and logs"),
    Flag("tcp-established", kind=bool, help="allow open tcp connections"),
    Flag("ext-unix-sk", kind=bool, help="allow external unix sockets"),
    Flag("shell-job", kind=bool, help="allow shell jobs"),
    Flag("file-locks", kind=bool, help="handle file locks, for safety"),
    Flag("manage-cgroups-mode", help="cgroups mode: soft|full|strict|ignore (default: soft)"),
    Flag("bundle", "b", help="path to the root of the bundle directory"),
    Flag("detach", "d", kind=bool, help="detach from the container's process"),
    Flag("pid-file", help="specify the file to write the process id to"),
    Flag("no-subreaper", kind=bool,
         help="disable the use of the subreaper used to reap reparented processes"),
    Flag("no-pivot", kind=bool, help="do not use pivot root to jail process inside rootfs.  "
         "This should be used whenever the rootfs is on top of a ramdisk"),
    Flag("empty-ns", multi=True, help="create a namespace, but don't restore its properties"),
    Flag("auto-dedup", kind=bool, help="enable auto deduplication of memory images"),
    Flag("lazy-pages", kind=bool, help="use userfaultfd to lazily restore memory pages"),
    Flag("lsm-profile", help="Specify an LSM profile to be used during restore in the form of "
         "TYPE:NAME."),
    Flag("lsm-mount-context", help="Specify an LSM mount context to be used during restore."),
)


def run(ctx, opts: dict, args: list[str]) -> int:
    from runtime.criu.options import CriuOptions
    from runtime.lifecycle.restore import restore

    # --no-pivot is accepted: criu restores the mount namespace as it was dumped.
    return restore(ctx, args[0], opts["bundle"], CriuOptions(opts, restore=True),
                   detach=opts["detach"], console_socket=opts["console_socket"],
                   pid_file=opts["pid_file"], no_subreaper=opts["no_subreaper"])
