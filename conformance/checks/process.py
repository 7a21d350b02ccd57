"""process: args, env, cwd, terminal off, oomScoreAdj, noNewPrivileges, hostname, fds."""

from __future__ import annotations

import os

from conformance import procfs
from conformance.bundle import Config
from conformance.checks._common import Mutation, process, write_script
from conformance.context import Context
from conformance.registry import Level, check, expect, expect_equal
from conformance.sabotage import breaks_config, leaks_fds

MUST = Level.MUST
SHOULD = Level.SHOULD
PROCESS = "config.md#configProcess"
LINUX_PROCESS = "config.md#configLinuxProcess"

LEAK_VAR = "CONFORMANCE_RUNTIME_ENV_LEAK"


def _set(path: str, value: object) -> Mutation:
    """A config mutation setting a dotted path (e.g. 'process.cwd') to ``value``."""

    def mutate(config: Config) -> None:
        *parents, last = path.split(".")
        node = config
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value

    return mutate


def _replace_env(name: str, value: str) -> Mutation:
    def mutate(config: Config) -> None:
        env = [e for e in process(config).get("env", []) if not e.startswith(f"{name}=")]
        process(config)["env"] = [*env, f"{name}={value}"]

    return mutate


@check(
    "process.args",
    PROCESS,
    MUST,
    "args are passed to the program as its argv, unchanged",
    breaks_config(
        "the last argument is changed", lambda c: c["process"]["args"].__setitem__(-1, "x")
    ),
)
def args(ctx: Context) -> None:
    script = 'printf "%s|" "$0" "$@"'
    run = ctx.run(["sh", "-c", script, "zero", "one two", "", "thr'ee"])
    expect_equal(run.stdout, "zero|one two||thr'ee|", "argv seen by the program")


@check(
    "process.args.path-lookup",
    PROCESS,
    MUST,
    "args[0] without a slash is looked up in the PATH of process.env (execvp)",
    breaks_config("PATH loses the tool's directory", _replace_env("PATH", "/bin")),
)
def args_path_lookup(ctx: Context) -> None:
    def setup(config: Config) -> None:
        process(config)["env"] = ["PATH=/opt/cf/bin:/bin"]

    container = ctx.container(setup, args=["cf-tool", "looked-up"])
    tool_dir = container.bundle.rootfs / "opt" / "cf" / "bin"
    tool_dir.mkdir(parents=True)
    write_script(tool_dir / "cf-tool", 'echo "tool $1"\n')
    container.create()
    container.start()
    container.wait_exit()
    expect_equal(container.stdout().strip(), "tool looked-up", "output of the PATH-found tool")


@check(
    "process.args.required",
    PROCESS,
    MUST,
    "empty args (at least one entry is required) is an error at create or start",
    breaks_config("the runtime substitutes a program", _set("process.args", ["true"])),
)
def args_required(ctx: Context) -> str | None:
    container = ctx.container(_set("process.args", []))
    if not container.create(expect_ok=False).ok:
        return None
    expect(not container.start(expect_ok=False).ok, "start ran a process with empty args")
    return "rejected at start"


@check(
    "process.env",
    PROCESS,
    MUST,
    "the process environment holds the configured variables with their values",
    breaks_config("a variable gets another value", _replace_env("CF_ONE", "changed")),
)
def env(ctx: Context) -> None:
    wanted = ["CF_ONE=1", "CF_SPACES=a b  c", "CF_EMPTY="]
    container = ctx.running(lambda c: process(c)["env"].extend(wanted))
    environ = procfs.environ(container.pid)
    missing = [e for e in wanted if e not in environ]
    expect(not missing, f"missing from the environment: {missing}; have {environ}")


@check(
    "process.env.equals-in-value",
    PROCESS,
    MUST,
    "env entries split at the first '=' only (values may contain '=')",
    breaks_config("the value is cut at its '='", _replace_env("CF_EQ", "a")),
)
def env_equals(ctx: Context) -> None:
    run = ctx.run('echo "$CF_EQ"', lambda c: process(c)["env"].append("CF_EQ=a=b=c"))
    expect_equal(run.stdout.strip(), "a=b=c", "value of CF_EQ")


@check(
    "process.env.no-leak",
    PROCESS,
    MUST,
    "the runtime's own environment does not leak into the process (env is the environment)",
    breaks_config("the runtime adds its own variable", _replace_env(LEAK_VAR, "leaked")),
)
def env_no_leak(ctx: Context) -> None:
    container = ctx.container(args=["sleep", "3600"])
    container.create(extra_env={LEAK_VAR: "leaked"})
    container.start()
    container.wait_exec()
    environ = procfs.environ(container.pid)
    leaked = [e for e in environ if e.startswith(f"{LEAK_VAR}=")]
    expect(not leaked, f"runtime environment leaked into the container: {leaked}")


@check(
    "process.cwd",
    PROCESS,
    MUST,
    "the program runs in the configured working directory",
    breaks_config("cwd is changed to /", _set("process.cwd", "/")),
)
def cwd(ctx: Context) -> None:
    run = ctx.run("pwd", _set("process.cwd", "/var/tmp"))
    expect_equal(run.stdout.strip(), "/var/tmp", "working directory")


@check(
    "process.cwd.relative",
    PROCESS,
    MUST,
    "a relative cwd (it must be absolute) is an error at create or start",
    breaks_config("the runtime makes cwd absolute", _set("process.cwd", "/tmp")),
)
def cwd_relative(ctx: Context) -> str | None:
    container = ctx.container(_set("process.cwd", "tmp"))
    if not container.create(expect_ok=False).ok:
        return None
    expect(not container.start(expect_ok=False).ok, "start accepted a relative cwd")
    return "rejected at start"


_TTY_PROBE = 'for fd in 0 1 2; do if [ -t $fd ]; then echo "$fd:tty"; else echo "$fd:no"; fi; done'


@check(
    "process.terminal.false",
    PROCESS,
    MUST,
    "with terminal false the standard streams are not a terminal",
    breaks_config("terminal is switched on", _set("process.terminal", True)),
)
def terminal_false(ctx: Context) -> None:
    run = ctx.run(_TTY_PROBE, _set("process.terminal", False))
    expect_equal(run.stdout.split(), ["0:no", "1:no", "2:no"], "terminal test of fds 0-2")


@check(
    "process.terminal.default",
    PROCESS,
    MUST,
    "without terminal set the standard streams are not a terminal (default false)",
    breaks_config("terminal is switched on", _set("process.terminal", True)),
)
def terminal_default(ctx: Context) -> None:
    run = ctx.run(_TTY_PROBE, lambda c: process(c).pop("terminal", None))
    expect_equal(run.stdout.split(), ["0:no", "1:no", "2:no"], "terminal test of fds 0-2")


@check(
    "process.consoleSize.ignored",
    PROCESS,
    MUST,
    "consoleSize is ignored when terminal is false",
    breaks_config("terminal is switched on", _set("process.terminal", True)),
)
def console_size_ignored(ctx: Context) -> None:
    def setup(config: Config) -> None:
        process(config)["terminal"] = False
        process(config)["consoleSize"] = {"height": 20, "width": 70}

    run = ctx.run("echo ok", setup)
    expect_equal(run.stdout.strip(), "ok", "output")


@check(
    "process.oomScoreAdj",
    LINUX_PROCESS,
    MUST,
    "oomScoreAdj is written to the process's oom_score_adj",
    breaks_config("another oomScoreAdj", _set("process.oomScoreAdj", 400)),
)
def oom_score_adj(ctx: Context) -> None:
    container = ctx.running(_set("process.oomScoreAdj", 123))
    value = (procfs.proc(container.pid) / "oom_score_adj").read_text().strip()
    expect_equal(value, "123", "oom_score_adj")


@check(
    "process.oomScoreAdj.unset",
    LINUX_PROCESS,
    MUST,
    "without oomScoreAdj the process keeps the oom_score_adj it inherits from the runtime",
    breaks_config("the runtime sets an oomScoreAdj", _set("process.oomScoreAdj", 300)),
)
def oom_score_adj_unset(ctx: Context) -> None:
    container = ctx.container(lambda c: process(c).pop("oomScoreAdj", None), ["sleep", "3600"])
    # Raising our score needs no privilege; the runtime and its children inherit 7.
    prefix = ["sh", "-c", 'echo 7 > /proc/self/oom_score_adj && exec "$@"', "sh"]
    container.create(prefix=prefix)
    container.start()
    container.wait_exec()
    value = (procfs.proc(container.pid) / "oom_score_adj").read_text().strip()
    expect_equal(value, "7", "oom_score_adj (inherited from the runtime's caller)")


@check(
    "process.noNewPrivileges",
    LINUX_PROCESS,
    MUST,
    "noNewPrivileges true sets no_new_privs on the process",
    breaks_config("noNewPrivileges is dropped", _set("process.noNewPrivileges", False)),
)
def no_new_privileges(ctx: Context) -> None:
    container = ctx.running(_set("process.noNewPrivileges", True))
    expect_equal(procfs.status(container.pid).get("NoNewPrivs"), "1", "NoNewPrivs")


@check(
    "process.noNewPrivileges.false",
    LINUX_PROCESS,
    SHOULD,
    "noNewPrivileges false leaves no_new_privs unset",
    breaks_config("noNewPrivileges is forced on", _set("process.noNewPrivileges", True)),
)
def no_new_privileges_false(ctx: Context) -> None:
    container = ctx.running(_set("process.noNewPrivileges", False))
    expect_equal(procfs.status(container.pid).get("NoNewPrivs"), "0", "NoNewPrivs")


@check(
    "process.hostname",
    "config.md#configHostname",
    MUST,
    "hostname is the container's hostname",
    breaks_config("another hostname", _set("hostname", "sabotaged")),
)
def hostname(ctx: Context) -> None:
    run = ctx.run("hostname", _set("hostname", "cf-host-name"))
    expect_equal(run.stdout.strip(), "cf-host-name", "hostname in the container")


@check(
    "process.domainname",
    "config.md#configDomainname",
    MUST,
    "domainname is the container's NIS domain name",
    breaks_config("another domainname", _set("domainname", "sabotaged.test")),
)
def domainname(ctx: Context) -> None:
    run = ctx.run("cat /proc/sys/kernel/domainname", _set("domainname", "cf.example.test"))
    expect_equal(run.stdout.strip(), "cf.example.test", "domainname in the container")


@check(
    "process.fds",
    "runtime-linux.md#runtimeLinuxFileDescriptors",
    MUST,
    "only stdin, stdout and stderr are open in the process by default",
    leaks_fds("the runtime passes an extra descriptor", 1),
)
def fds(ctx: Context) -> None:
    container = ctx.running()
    open_fds = sorted(int(fd) for fd in os.listdir(procfs.proc(container.pid) / "fd"))
    expect_equal(open_fds, [0, 1, 2], "open file descriptors")


@check(
    "process.personality",
    "config-linux.md#configLinuxPersonality",
    MUST,
    "personality LINUX32 makes uname report a 32-bit machine",
    breaks_config("the domain is LINUX", _set("linux.personality", {"domain": "LINUX"})),
)
def personality(ctx: Context) -> None:
    run = ctx.run("uname -m", _set("linux.personality", {"domain": "LINUX32"}))
    machine = run.stdout.strip()
    expect(
        machine in ("i386", "i486", "i586", "i686", "armv7l", "armv8l", "ppc", "s390"),
        f"uname -m under LINUX32: {machine!r}",
    )


@check(
    "process.ioPriority",
    LINUX_PROCESS,
    MUST,
    "ioPriority sets the process's I/O scheduling class and priority",
    breaks_config(
        "another priority", _set("process.ioPriority", {"class": "IOPRIO_CLASS_BE", "priority": 2})
    ),
)
def io_priority(ctx: Context) -> None:
    run = ctx.run(
        "ionice -p $$",
        _set("process.ioPriority", {"class": "IOPRIO_CLASS_BE", "priority": 6}),
    )
    expect_equal(run.stdout.strip(), "best-effort: prio 6", "ionice of the process")


@check(
    "process.scheduler",
    LINUX_PROCESS,
    MUST,
    "scheduler sets the process's scheduling policy and nice value",
    breaks_config(
        "another policy", _set("process.scheduler", {"policy": "SCHED_OTHER", "nice": 3})
    ),
)
def scheduler(ctx: Context) -> None:
    container = ctx.running(_set("process.scheduler", {"policy": "SCHED_BATCH", "nice": 7}))
    stat = (procfs.proc(container.pid) / "stat").read_text().rsplit(")", 1)[1].split()
    # Fields after the command: state is 3rd overall, nice the 19th, policy the 41st.
    nice, policy = int(stat[16]), int(stat[38])
    expect_equal((policy, nice), (3, 7), "(policy, nice): SCHED_BATCH is 3")
