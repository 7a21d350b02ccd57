"""pyrunc create: create a container from a bundle; its init waits for `start`."""

from __future__ import annotations

from runtime.cli.flags import Flag

SUMMARY = "create a container"
USAGE = "[command options] <container-id>"
ARGS = (1, 1)
FLAGS = (
    Flag("bundle", "b", help="path to the root of the bundle directory (default: cwd)"),
    Flag("console-socket", help="path to an AF_UNIX socket which will receive the pty master"),
    Flag("pidfd-socket", help="path to an AF_UNIX socket which will receive a pidfd"),
    Flag("pid-file", help="specify the file to write the process id to"),
    Flag("no-pivot", kind=bool, help="do not use pivot root to jail process inside rootfs"),
    Flag("no-new-keyring", kind=bool, help="do not create a new session keyring"),
    Flag("preserve-fds", kind=int, help="pass N additional file descriptors to the container"),
)


def create_with_prefix(command: str, ctx, opts: dict, container_id: str, **extra):
    """Run create; errors carry runc's '<cmd> failed: ...' prefix.  `extra` goes to
    create() as it is (a foreground `run`'s console_fd).  Returns the Container."""
    from runtime.errors import ChildError, PyruncError
    from runtime.lifecycle.create import create

    try:
        return create(ctx, container_id, opts["bundle"], pid_file=opts["pid_file"],
                      console_socket=opts["console_socket"], no_pivot=opts["no_pivot"],
                      preserve_fds=opts["preserve_fds"], pidfd_socket=opts["pidfd_socket"],
                      no_new_keyring=opts["no_new_keyring"], **extra)
    except ChildError as e:
        raise PyruncError(f"pyrunc {command} failed: unable to start container process: {e}")\
            from None
    except PyruncError as e:
        raise PyruncError(f"pyrunc {command} failed: {e}") from None


def run(ctx, opts: dict, args: list[str]) -> int:
    create_with_prefix("create", ctx, opts, args[0])
    return 0
