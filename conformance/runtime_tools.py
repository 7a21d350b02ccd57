"""Run the opencontainers runtime-tools validation suite against a runtime and total its TAP.

The suite is not part of this project. Given a directory holding its built test binaries
(validation/<name>/<name>.t or validation/<name>.t), the static `runtimetest` binary and the
rootfs-<arch>.tar.gz it unpacks into each bundle, this runs every test from that directory with
RUNTIME=<runtime> and reports the TAP totals of each. Without such a directory it says so.

    python -m conformance.runtime_tools --runtime /usr/sbin/runc --tests-dir DIR
    RUNTIME_TOOLS_DIR=DIR python -m conformance.runtime_tools --runtime /usr/sbin/runc
    python -m conformance.runtime_tools table pyrunc=a.json runc=b.json crun=c.json

--hide-cgroup2 runs the suite in a mount namespace of its own where a hybrid host's cgroup2
mount is replaced by an empty tmpfs: every runtime sees a v1-only host there (crun 1.8 refuses
a hybrid one whose cgroup2 holds controllers), and nothing changes for anyone else.

`table` renders runs saved with --format json side by side, as a Markdown table: per
program "ok/not ok" assertion counts, "crash" for a program that printed no TAP plan.

The suite's containers get cgroups at the root of each hierarchy (no cgroupsPath, or its fixed
"/cgrouptest"). On a shared host, --cgroup-parent PARENT puts a shim in front of the runtime
that moves every container's cgroupsPath below PARENT, and removes PARENT afterwards; the
linux_cgroups_* tests read the fixed paths and cannot pass under it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from conformance import cgroupfs
from conformance.context import unmount_below
from conformance.sabotage import Config, ConfigMutation, Sabotage, run_sabotaged

_GOARCH = {
    "x86_64": "amd64",
    "aarch64": "arm64",
    "i686": "386",
    "ppc64le": "ppc64le",
    "s390x": "s390x",
}
_TAP_LINE = re.compile(r"^(not ok|ok)\b(?:\s+\d+)?(?:\s*-?\s*(.*))?$")


@dataclass
class TapResult:
    name: str
    planned: int | None = None
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    todo: int = 0
    exit_code: int | None = None
    seconds: float = 0.0
    bailed_out: str | None = None
    failures: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def ran(self) -> int:
        return self.passed + self.failed + self.skipped + self.todo

    @property
    def ok(self) -> bool:
        complete = self.planned is None or self.planned == self.ran
        return (
            self.failed == 0
            and self.error is None
            and self.bailed_out is None
            and complete
            and self.exit_code == 0
        )


def parse_tap(name: str, text: str) -> TapResult:
    """Count a TAP stream: ok / not ok lines, SKIP and TODO directives, the plan, Bail out!."""
    result = TapResult(name)
    for line in text.splitlines():
        plan = re.match(r"^1\.\.(\d+)", line)
        if plan:
            result.planned = int(plan.group(1))
            continue
        if line.startswith("Bail out!"):
            result.bailed_out = line[len("Bail out!") :].strip() or "bailed out"
            continue
        found = _TAP_LINE.match(line)
        if not found:
            continue
        status, description = found.group(1), found.group(2) or ""
        directive = description.split("#", 1)[1].strip().upper() if "#" in description else ""
        if directive.startswith("SKIP"):
            result.skipped += 1
        elif directive.startswith("TODO"):
            result.todo += 1
        elif status == "ok":
            result.passed += 1
        else:
            result.failed += 1
            result.failures.append(description.split("#", 1)[0].strip())
    return result


@dataclass(frozen=True)
class Suite:
    directory: Path
    tests: list[Path]


class SuiteMissing(Exception):
    """The directory does not hold a built runtime-tools validation suite."""


def find_suite(directory: Path) -> Suite:
    problems = []
    if not directory.is_dir():
        raise SuiteMissing(f"{directory} is not a directory")
    tests = sorted(p for p in (directory / "validation").glob("**/*.t") if p.is_file())
    if not tests:
        problems.append("validation/*.t test binaries")
    runtimetest = directory / "runtimetest"
    if not (runtimetest.is_file() and os.access(runtimetest, os.X_OK)):
        problems.append("an executable runtimetest")
    arch = _GOARCH.get(platform.machine(), platform.machine())
    if not (directory / f"rootfs-{arch}.tar.gz").is_file():
        problems.append(f"rootfs-{arch}.tar.gz")
    if problems:
        raise SuiteMissing(f"{directory} lacks " + ", ".join(problems))
    return Suite(directory, tests)


def run_test(
    suite: Suite, test: Path, runtime: str, timeout: float, tmpdir: Path | None = None
) -> TapResult:
    name = str(test.relative_to(suite.directory / "validation")).removesuffix(".t")
    env = dict(os.environ, RUNTIME=runtime)
    if tmpdir is not None:
        env["TMPDIR"] = str(tmpdir)  # where the tests unpack their bundles
    begin = time.monotonic()
    try:
        proc = subprocess.run(
            [str(test)],
            cwd=suite.directory,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else ""
        result = parse_tap(name, out or "")
        result.error = f"timed out after {timeout:.0f}s"
        result.seconds = time.monotonic() - begin
        return result
    result = parse_tap(name, proc.stdout)
    result.exit_code = proc.returncode
    result.seconds = time.monotonic() - begin
    if result.planned is None and result.ran == 0:
        lines = proc.stderr.strip().splitlines()
        result.error = lines[-1][:200] if lines else f"no TAP output, exit {proc.returncode}"
    return result


def render(results: list[TapResult], runtime: str) -> str:
    width = max([len("test")] + [len(r.name) for r in results])
    lines = [f"{'test'.ljust(width)}  plan  pass  FAIL  skip  result", "-" * (width + 40)]
    for r in results:
        note = (
            "ok"
            if r.ok
            else (r.error or r.bailed_out or "; ".join(r.failures)[:120] or f"exit {r.exit_code}")
        )
        plan = "?" if r.planned is None else str(r.planned)
        counts = f"{plan:>4}  {r.passed:>4}  {r.failed:>4}  {r.skipped:>4}"
        lines.append(f"{r.name.ljust(width)}  {counts}  {note}")
    total = TapResult("total")
    for r in results:
        total.passed += r.passed
        total.failed += r.failed
        total.skipped += r.skipped
    clean = sum(1 for r in results if r.ok)
    lines.append("")
    lines.append(
        f"{runtime}: {clean}/{len(results)} tests clean; assertions {total.passed} pass, "
        f"{total.failed} FAIL, {total.skipped} skip"
    )
    return "\n".join(lines)


def under_parent(parent: str) -> ConfigMutation:
    """A config mutation moving linux.cgroupsPath below ``parent`` (set when absent)."""

    def mutate(config: Config, bundle: Path) -> None:
        linux = config.setdefault("linux", {})
        path = str(linux.get("cgroupsPath") or bundle.name).lstrip("/")
        linux["cgroupsPath"] = f"{parent.rstrip('/')}/{path}"

    return mutate


def write_shim(directory: Path, runtime: str, parent: str) -> Path:
    repo = Path(__file__).resolve().parents[1]
    shim = directory / "runtime-shim"
    shim.write_text(
        "#!/bin/sh\n"
        f'PYTHONPATH="{repo}" exec "{sys.executable}" -m conformance.runtime_tools shim '
        f'--cgroup-parent "{parent}" --runtime "{runtime}" -- "$@"\n'
    )
    shim.chmod(0o755)
    return shim


def shim_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.runtime_tools shim")
    parser.add_argument("--cgroup-parent", required=True)
    parser.add_argument("--runtime", required=True)
    parser.add_argument("args", nargs=argparse.REMAINDER)
    ns = parser.parse_args(argv)
    args = ns.args[1:] if ns.args[:1] == ["--"] else ns.args
    shim = Sabotage("cgroups below a parent of our own", config=under_parent(ns.cgroup_parent))
    return run_sabotaged(shim, ns.runtime, args)


def _cell(r: dict | None) -> str:
    if r is None:
        return "-"
    if r.get("planned") is None:
        return "crash"
    return f"{r['passed']}/{r['failed']}" + (f" ({r['skipped']} skip)" if r["skipped"] else "")


def totals(results: list[dict]) -> tuple[int, int, int]:
    """(ok, not ok, programs that crashed: no TAP plan) over one run."""
    ok = sum(r["passed"] for r in results)
    not_ok = sum(r["failed"] for r in results)
    crashed = sum(1 for r in results if r.get("planned") is None)
    return ok, not_ok, crashed


def table(runs: dict[str, list[dict]]) -> str:
    """Markdown: one row per program, one column per runtime (ok/not ok)."""
    names = sorted({r["name"] for results in runs.values() for r in results})
    by_name = {rt: {r["name"]: r for r in results} for rt, results in runs.items()}
    lines = ["| program | " + " | ".join(runs) + " |", "|---" * (len(runs) + 1) + "|"]
    for name in names:
        cells = [_cell(by_name[rt].get(name)) for rt in runs]
        lines.append(f"| {name.split('/')[-1]} | " + " | ".join(cells) + " |")
    sums = []
    for results in runs.values():
        ok, not_ok, crashed = totals(results)
        sums.append(f"**{ok} ok, {not_ok} not ok, {crashed} crashed**")
    lines.append("| total | " + " | ".join(sums) + " |")
    return "\n".join(lines)


def table_main(argv: list[str]) -> int:
    runs = {}
    for arg in argv:
        label, sep, path = arg.partition("=")
        if not sep:
            print(f"conformance.runtime_tools table: expected NAME=RESULTS.json, got {arg!r}",
                  file=sys.stderr)
            return 2
        try:
            runs[label] = json.loads(Path(path).read_text())
        except (OSError, ValueError) as exc:
            print(f"conformance.runtime_tools table: {path}: {exc}", file=sys.stderr)
            return 2
    print(table(runs))
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["shim"]:
        return shim_main(argv[1:])
    if argv[:1] == ["table"]:
        return table_main(argv[1:])
    parser = argparse.ArgumentParser(
        prog="python -m conformance.runtime_tools",
        description="Run a built opencontainers/runtime-tools validation suite against a runtime.",
    )
    parser.add_argument("--runtime", required=True, help="runtime binary (passed as RUNTIME)")
    parser.add_argument(
        "--tests-dir",
        default=os.environ.get("RUNTIME_TOOLS_DIR"),
        help="directory of the built suite (default: $RUNTIME_TOOLS_DIR)",
    )
    parser.add_argument("--filter", action="append", help="only tests whose name contains this")
    parser.add_argument("--exclude", action="append", help="skip tests whose name contains this")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per test binary")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.add_argument(
        "--cgroup-parent",
        metavar="PARENT",
        help="keep the suite's cgroups below PARENT (e.g. /pyrunc-runtime-tools) via a shim",
    )
    parser.add_argument(
        "--hide-cgroup2",
        action="store_true",
        help="run in a private mount namespace where the hybrid host's cgroup2 mount is gone",
    )
    args = parser.parse_args(argv)

    if not args.tests_dir:
        print(
            "conformance.runtime_tools: the runtime-tools validation suite is not present "
            "(give --tests-dir or set RUNTIME_TOOLS_DIR); nothing run",
            file=sys.stderr,
        )
        return 2
    try:
        suite = find_suite(Path(args.tests_dir))
    except SuiteMissing as exc:
        print(
            f"conformance.runtime_tools: the runtime-tools validation suite is not present: {exc}"
            "; nothing run",
            file=sys.stderr,
        )
        return 2
    if not (os.path.isfile(args.runtime) and os.access(args.runtime, os.X_OK)):
        print(f"conformance.runtime_tools: {args.runtime!r} is not an executable", file=sys.stderr)
        return 2
    tests = suite.tests
    if args.filter:
        tests = [t for t in tests if any(f in t.name for f in args.filter)]
    if args.exclude:
        tests = [t for t in tests if not any(f in t.name for f in args.exclude)]
    runtime = os.path.abspath(args.runtime)
    if args.hide_cgroup2:
        try:
            cgroupfs.hide_cgroup2()
        except OSError as exc:
            print(f"conformance.runtime_tools: --hide-cgroup2: {exc}", file=sys.stderr)
            return 2
    work = Path(tempfile.mkdtemp(prefix="runtime-tools-"))
    os.chmod(work, 0o755)  # containers in user namespaces must reach their bundles
    bundles = work / "bundles"
    bundles.mkdir(mode=0o755)
    try:
        if args.cgroup_parent:
            runtime = str(write_shim(work, runtime, args.cgroup_parent))
        results = [run_test(suite, t, runtime, args.timeout, bundles) for t in tests]
    finally:
        # Tests that share the host's mount namespace leave their bundle mounts behind.
        left_mounts = unmount_below(work)
        if left_mounts:
            print(f"conformance.runtime_tools: could not unmount {left_mounts}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    if args.cgroup_parent:
        left = cgroupfs.remove_tree(args.cgroup_parent)
        if left:
            print(f"conformance.runtime_tools: cgroups left behind: {left}", file=sys.stderr)
    if args.format == "json":
        print(json.dumps([dict(asdict(r), ok=r.ok) for r in results], indent=2))
    else:
        print(render(results, args.runtime))
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
