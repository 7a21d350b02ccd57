"""pyrunc checkpoint: save a running container's state with criu (runc's flags)."""

from __future__ import annotations

from runtime.cli.flags import Flag

SUMMARY = "checkpoint a running container"
USAGE = "[command options] <container-id>"
ARGS = (1, 1)
FLAGS = (
    Flag("image-path", help="path for saving criu image files"),
    Flag("work-path", help="path for saving work files and logs"),
    Flag("parent-path", help="path for previous criu image files in pre-dump"),
    Flag("leave-running", kind=bool, help="leave the process running after checkpointing"),
    Flag("tcp-established", kind=bool, help="allow open tcp connections"),
    Flag("ext-unix-sk", kind=bool, help="allow external unix sockets"),
    Flag("shell-job", kind=bool, help="allow shell jobs"),
    Flag("lazy-pages", kind=bool, help="use userfaultfd to lazily restore memory pages"),
    Flag("status-fd", kind=int, default=-1,
         help="criu writes \\0 to this FD once lazy-pages is ready"),
    Flag("page-server", help="ADDRESS:PORT of the page server"),
    Flag("file-locks", kind=bool, help="handle file locks, for safety"),
    Flag("pre-dump", kind=bool,
         help="dump container's memory information only, leave the container running after this"),
    Flag("manage-cgroups-mode", help="cgroups mode: soft|full|strict|ignore (default: soft)"),
    Flag("empty-ns", multi=True, help="create a namespace, but don't restore its properties"),
    Flag("auto-dedup", kind=bool, help="enable auto deduplication of memory images"),
)


def run(ctx, opts: dict, args: list[str]) -> int:
    from runtime.lifecycle.checkpoint import checkpoint

    checkpoint(ctx, args[0], opts)
    return 0
