"""pyrunc exec: run a new process inside a running container (runc's flags and rules)."""

from __future__ import annotations

from runtime.cli.flags import Flag

UNSET = "unset"  # --no-new-privs only overrides the bundle's value when given

SUMMARY = "execute new process inside the container"
USAGE = ("[command options] <container-id> <command> [command options]  || -p process.json "
         "<container-id>")
ARGS = (1, None)
FLAGS = (
    Flag("console-socket", help="path to an AF_UNIX socket which will receive a file "
         "descriptor referencing the master end of the console's pseudoterminal"),
    Flag("pidfd-socket", help="path to an AF_UNIX socket which will receive a pidfd of the "
         "process"),
    Flag("cwd", help="current working directory in the container"),
    Flag("env", "e", multi=True, help="set environment variables"),
    Flag("tty", "t", kind=bool, help="allocate a pseudo-TTY"),
    Flag("user", "u", help="UID (format: <uid>[:<gid>])"),
    Flag("additional-gids", "g", kind=int, multi=True, help="additional gids"),
    Flag("process", "p", help="path to the process.json"),
    Flag("detach", "d", kind=bool, help="detach from the container's process"),
    Flag("pid-file", help="specify the file to write the process id to"),
    Flag("process-label", help="set the asm process label for the process commonly used with "
         "selinux"),
    Flag("apparmor", help="set the apparmor profile for the process"),
    Flag("no-new-privs", kind=bool, default=UNSET, help="set the no new privileges value for the "
         "process"),
    Flag("cap", "c", multi=True, help="add a capability to the bounding set for the process"),
    Flag("preserve-fds", kind=int, help="Pass N additional file descriptors to the container "
         "(stdio + $LISTEN_FDS + N in total)"),
    Flag("cgroup", multi=True, help="run the process in an (existing) sub-cgroup(s). Format is "
         "[<controller>:]<cgroup>."),
    Flag("ignore-paused", kind=bool, help="allow exec in a paused container"),
)

# runc's status for an exec that could not start its process.
EXEC_FAILED = 255


def run(ctx, opts: dict, args: list[str]) -> int:
    import runtime.log as logmod
    from runtime.errors import ChildError, PyruncError

    try:
        return _exec(ctx, opts, args)
    except ChildError as e:
        logmod.log.error(f"exec failed: unable to start container process: {e}")
    except PyruncError as e:
        logmod.log.error(f"exec failed: {e}")
    return EXEC_FAILED


def _exec(ctx, opts: dict, args: list[str]) -> int:
    from runtime.errors import PyruncError
    from runtime.lifecycle import exec as ex

    container_id = args[0]
    if not opts["process"] and len(args) == 1:
        raise PyruncError("process args cannot be empty")

    def make_process(c) -> dict:  # once the container is known to be running
        if opts["process"]:
            return ex.process_from_file(opts["process"])
        from runtime.lifecycle.create import load_bundle_config

        return ex.process_from_bundle(
            load_bundle_config(c.state.get("bundle", "")), args[1:], cwd=opts["cwd"],
            env=opts["env"], tty=opts["tty"], user=opts["user"],
            additional_gids=opts["additional_gids"], caps=opts["cap"],
            no_new_privs=None if opts["no_new_privs"] == UNSET else opts["no_new_privs"],
            apparmor=opts["apparmor"], process_label=opts["process_label"])

    req = ex.ExecRequest(detach=opts["detach"], console_socket=opts["console_socket"],
                         pid_file=opts["pid_file"], preserve_fds=opts["preserve_fds"],
                         ignore_paused=opts["ignore_paused"], cgroups=opts["cgroup"],
                         pidfd_socket=opts["pidfd_socket"])
    return ex.exec_process(ctx, container_id, make_process, req)
