"""The Linux mount options table: each option's effect, read from the container's mountinfo.

Options that clear a flag are tested after the option that sets it (["nosuid", "suid"]), since
mount(8) semantics let the later one win; recursive options (rro, rnosuid, ...) are tested on a
host directory with tmpfs submounts, bound in with rbind.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from conformance import procfs
from conformance.bundle import Config
from conformance.checks._common import add_mount, breaks_create, mount_entry
from conformance.context import Context
from conformance.registry import Level, check, expect, fail
from conformance.sabotage import Sabotage, breaks_config

MUST = Level.MUST
SHOULD = Level.SHOULD
MAY = Level.MAY
OPTIONS = "config.md#configLinuxMountOptions"
POINT = "/cf-opt"
TREE = "/cf-tree"

Probe = Callable[[procfs.Mount], bool]


# Flags of the filesystem (superblock); all others are flags of the mount itself.
SUPER_FLAGS = {"sync", "dirsync", "lazytime", "mand"}


def _flags(m: procfs.Mount, flag: str) -> frozenset[str]:
    return m.super_options if flag in SUPER_FLAGS else m.options


def _has(flag: str) -> Probe:
    return lambda m: flag in _flags(m, flag)


def _lacks(*flags: str) -> Probe:
    return lambda m: not any(f in _flags(m, f) for f in flags)


def _propagation(tag: str | None) -> Probe:
    return lambda m: (tag in m.propagation()) if tag else not m.propagation()


def _replace_option(destination: str, old: str, new: str | None) -> Sabotage:
    def mutate(config: Config) -> None:
        try:
            entry = mount_entry(config, destination)
        except KeyError:
            return
        entry["options"] = [
            o for o in (new if o == old else o for o in entry.get("options", [])) if o is not None
        ]

    what = f"option {old} is {'replaced by ' + new if new else 'dropped'}"
    return breaks_config(what, mutate)


def _mount_at(ctx: Context, mount: dict, point: str) -> procfs.Mount:
    container = ctx.running(lambda c: add_mount(c, mount))
    found = procfs.mount_at(procfs.mountinfo(container.pid), point)
    if found is None:
        fail(f"nothing is mounted at {point}")
    return found


def _tmpfs(*options: str) -> dict:
    return {
        "destination": POINT,
        "type": "tmpfs",
        "source": "tmpfs",
        "options": ["size=1m", *options],
    }


def _option(
    name: str,
    level: Level,
    options: tuple[str, ...],
    probe: Probe,
    shows: str,
    sabotage: Sabotage,
) -> None:
    def run(ctx: Context) -> None:
        mount = _mount_at(ctx, _tmpfs(*options), POINT)
        expect(
            probe(mount),
            f"options {list(options)} should give {shows}; mountinfo has "
            f"{','.join(sorted(mount.options))} / {','.join(sorted(mount.super_options))}"
            + (f" / {' '.join(mount.optional)}" if mount.optional else ""),
        )

    check(
        f"mount-options.{name}",
        OPTIONS,
        level,
        f"mount option {name} takes effect ({shows})",
        sabotage,
    )(run)


# (name, level, options configured, probe, what it shows, option the sabotage replaces, by what)
# fmt: off
_FLAG_OPTIONS: list[tuple[str, Level, tuple[str, ...], Probe, str, str, str | None]] = [
    ("ro", MUST, ("ro",), _has("ro"), "a read-only mount", "ro", "rw"),
    ("rw", MUST, ("ro", "rw"), _has("rw"), "a writable mount after ro", "rw", None),
    ("nosuid", MUST, ("nosuid",), _has("nosuid"), "nosuid", "nosuid", None),
    ("suid", MUST, ("nosuid", "suid"), _lacks("nosuid"), "no nosuid after nosuid", "suid", None),
    ("nodev", MUST, ("nodev",), _has("nodev"), "nodev", "nodev", None),
    ("dev", MUST, ("nodev", "dev"), _lacks("nodev"), "no nodev after nodev", "dev", None),
    ("noexec", MUST, ("noexec",), _has("noexec"), "noexec", "noexec", None),
    ("exec", MUST, ("noexec", "exec"), _lacks("noexec"), "no noexec after noexec", "exec", None),
    ("noatime", MUST, ("noatime",), _has("noatime"), "noatime", "noatime", None),
    ("atime", MUST, ("noatime", "atime"), _lacks("noatime"), "no noatime after noatime",
     "atime", None),
    ("nodiratime", MUST, ("nodiratime",), _has("nodiratime"), "nodiratime", "nodiratime", None),
    ("diratime", MUST, ("nodiratime", "diratime"), _lacks("nodiratime"),
     "no nodiratime after nodiratime", "diratime", None),
    ("relatime", MUST, ("relatime",), _has("relatime"), "relatime", "relatime", "strictatime"),
    ("strictatime", MUST, ("strictatime",), _lacks("relatime", "noatime"),
     "neither relatime nor noatime", "strictatime", "relatime"),
    ("nostrictatime", MUST, ("strictatime", "nostrictatime"), _has("relatime"),
     "the relatime default after strictatime", "nostrictatime", None),
    ("sync", MUST, ("sync",), _has("sync"), "a synchronous filesystem", "sync", None),
    ("async", MUST, ("sync", "async"), _lacks("sync"), "no sync after sync", "async", None),
    ("dirsync", MUST, ("dirsync",), _has("dirsync"), "dirsync", "dirsync", None),
    ("lazytime", MUST, ("lazytime",), _has("lazytime"), "lazytime", "lazytime", None),
    ("nolazytime", MUST, ("lazytime", "nolazytime"), _lacks("lazytime"),
     "no lazytime after lazytime", "nolazytime", None),
    ("nosymfollow", SHOULD, ("nosymfollow",), _has("nosymfollow"), "nosymfollow",
     "nosymfollow", None),
    ("symfollow", SHOULD, ("nosymfollow", "symfollow"), _lacks("nosymfollow"),
     "no nosymfollow after nosymfollow", "symfollow", None),
    ("mand", MAY, ("mand",), _has("mand"), "mandatory locking", "mand", None),
    ("nomand", MAY, ("mand", "nomand"), _lacks("mand"), "no mand after mand", "nomand", None),
    ("defaults", MUST, ("defaults",), lambda m: "rw" in m.options
     and _lacks("nosuid", "nodev", "noexec")(m), "rw,suid,dev,exec", "defaults", "ro"),
    ("shared", MUST, ("shared",), _propagation("shared"), "a shared mount", "shared", None),
    ("rshared", MUST, ("rshared",), _propagation("shared"), "a shared mount", "rshared", None),
    ("private", MUST, ("shared", "private"), _propagation(None), "a private mount after shared",
     "private", None),
    ("rprivate", MUST, ("shared", "rprivate"), _propagation(None),
     "a private mount after shared", "rprivate", None),
    ("unbindable", MUST, ("unbindable",), _propagation("unbindable"), "an unbindable mount",
     "unbindable", None),
    ("runbindable", MUST, ("runbindable",), _propagation("unbindable"), "an unbindable mount",
     "runbindable", None),
]
# fmt: on

for _name, _level, _options, _probe, _shows, _old, _new in _FLAG_OPTIONS:
    _option(_name, _level, _options, _probe, _shows, _replace_option(POINT, _old, _new))


def _accepted(name: str) -> None:
    def run(ctx: Context) -> None:
        _mount_at(ctx, _tmpfs(name), POINT)

    check(
        f"mount-options.{name}",
        OPTIONS,
        MUST,
        f"mount option {name} is accepted (no visible effect on tmpfs)",
        breaks_create(f"the runtime rejects option {name}"),
    )(run)


for _name in ("iversion", "noiversion", "loud", "silent"):
    _accepted(_name)


# -- slave: needs a mount with a master, so bind a shared host mount --------------------------


def _shared_host_mount(ctx: Context) -> Path:
    src = ctx.path("shared-src")
    src.mkdir()
    for argv in (
        ["mount", "-t", "tmpfs", "-o", "size=1m", "cf-shared", str(src)],
        ["mount", "--make-shared", str(src)],
    ):
        done = subprocess.run(argv, capture_output=True)
        if done.returncode != 0:
            fail(f"cannot prepare a shared host mount: {done.stderr.decode().strip()}")
    ctx.on_cleanup(lambda: subprocess.run(["umount", "-l", str(src)], capture_output=True))
    return src


def _slave(name: str, bind_option: str) -> None:
    def run(ctx: Context) -> None:
        src = _shared_host_mount(ctx)
        mount = {
            "destination": POINT,
            "type": "none",
            "source": str(src),
            "options": [bind_option, "shared", name],
        }
        found = _mount_at(ctx, mount, POINT)
        expect(
            "master" in found.propagation() and "shared" not in found.propagation(),
            f"{name} should give a slave mount; propagation fields: {found.optional}",
        )

    check(
        f"mount-options.{name}",
        OPTIONS,
        MUST,
        f"mount option {name} makes the mount a slave of the shared source it was bound from",
        _replace_option(POINT, name, None),
    )(run)


_slave("slave", "bind")
_slave("rslave", "rbind")


# -- recursive options: a host tree with a plain and a locked tmpfs submount -------------------

LOCKED = "ro,nosuid,nodev,noexec,noatime,nodiratime,nosymfollow"


def _tree(ctx: Context) -> Path:
    top = ctx.path("tree")
    for name, options in (("plain", "size=1m"), ("locked", f"size=1m,{LOCKED}")):
        sub = top / name
        sub.mkdir(parents=True)
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, f"cf-{name}", str(sub)], capture_output=True
        )
        if done.returncode != 0:
            fail(f"cannot prepare a host submount: {done.stderr.decode().strip()}")
        ctx.on_cleanup(lambda s=sub: subprocess.run(["umount", "-l", str(s)], capture_output=True))
    return top


def _recursive(name: str, sub: str, probe: Probe, shows: str) -> None:
    def run(ctx: Context) -> None:
        top = _tree(ctx)
        mount = {
            "destination": TREE,
            "type": "none",
            "source": str(top),
            "options": ["rbind", name],
        }
        found = _mount_at(ctx, mount, f"{TREE}/{sub}")
        expect(
            probe(found),
            f"{name} should give {shows} on the {sub} submount; mountinfo has "
            f"{','.join(sorted(found.options))}",
        )

    check(
        f"mount-options.{name}",
        OPTIONS,
        SHOULD,
        f"recursive mount option {name} reaches submounts ({shows})",
        _replace_option(TREE, name, name[1:]),
    )(run)


# fmt: off
_RECURSIVE: list[tuple[str, str, Probe, str]] = [
    ("rro", "plain", _has("ro"), "ro"),
    ("rrw", "locked", _has("rw"), "rw"),
    ("rnosuid", "plain", _has("nosuid"), "nosuid"),
    ("rsuid", "locked", _lacks("nosuid"), "no nosuid"),
    ("rnodev", "plain", _has("nodev"), "nodev"),
    ("rdev", "locked", _lacks("nodev"), "no nodev"),
    ("rnoexec", "plain", _has("noexec"), "noexec"),
    ("rexec", "locked", _lacks("noexec"), "no noexec"),
    ("rnoatime", "plain", _has("noatime"), "noatime"),
    ("ratime", "locked", _lacks("noatime"), "no noatime"),
    ("rnodiratime", "plain", _has("nodiratime"), "nodiratime"),
    ("rdiratime", "locked", _lacks("nodiratime"), "no nodiratime"),
    ("rrelatime", "locked", _has("relatime"), "relatime"),
    ("rstrictatime", "plain", _lacks("relatime", "noatime"), "strictatime"),
    ("rnosymfollow", "plain", _has("nosymfollow"), "nosymfollow"),
    ("rsymfollow", "locked", _lacks("nosymfollow"), "no nosymfollow"),
]
# fmt: on

for _name, _sub, _probe, _shows in _RECURSIVE:
    _recursive(_name, _sub, _probe, _shows)
