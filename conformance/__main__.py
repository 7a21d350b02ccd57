"""python -m conformance: check OCI runtimes against the runtime-spec from the outside."""

from __future__ import annotations

import argparse
import os
import shutil
import sys

from conformance import report
from conformance.bundle import BundleError
from conformance.registry import all_checks, select
from conformance.runner import Outcome, run_all


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m conformance",
        description="Run the OCI runtime-spec conformance checks against runtime binaries "
        "with runc's command line. Exits 1 when a MUST check fails for the first runtime.",
    )
    parser.add_argument(
        "--runtime",
        action="append",
        default=[],
        metavar="PATH",
        help="runtime binary to check (repeat to compare runtimes side by side)",
    )
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.add_argument(
        "--filter",
        action="append",
        metavar="SUBSTR",
        help="only checks whose id, section or description contains SUBSTR (repeatable)",
    )
    parser.add_argument("--list", action="store_true", help="list the checks and exit")
    parser.add_argument(
        "--jobs", type=int, default=0, help="checks run in parallel (default: 2 per CPU)"
    )
    parser.add_argument(
        "--timeout", type=float, default=30.0, help="seconds allowed per runtime call"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the work directory (bundles, logs)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="print each result as it ends")
    parser.add_argument(
        "--known-failure", action="append", default=[], metavar="ID",
        help="a MUST check the first runtime is known to fail; it does not fail the run "
        "(repeatable; a known failure that passes is reported)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    checks = select(all_checks(), args.filter)
    if args.list:
        print(report.render_list(checks))
        return 0
    if not args.runtime:
        print("conformance: give at least one --runtime PATH (or --list)", file=sys.stderr)
        return 2
    if os.geteuid() != 0:
        print(
            "conformance: must run as root (runtimes need it to create containers)", file=sys.stderr
        )
        return 2
    if not checks:
        print("conformance: no check matches the filter", file=sys.stderr)
        return 2
    for path in args.runtime:
        if not (os.path.isfile(path) and os.access(path, os.X_OK)) and not shutil.which(path):
            print(f"conformance: runtime {path!r} is not an executable file", file=sys.stderr)
            return 2

    def progress(outcome: Outcome) -> None:
        if args.verbose:
            print(f"{outcome.status:4} {outcome.check_id} {outcome.reason}", file=sys.stderr)

    reports = []
    try:
        for path in args.runtime:
            reports.append(
                run_all(
                    shutil.which(path) or path,
                    checks,
                    jobs=args.jobs,
                    timeout=args.timeout,
                    keep=args.keep,
                    progress=progress,
                )
            )
    except BundleError as exc:
        print(f"conformance: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("conformance: interrupted", file=sys.stderr)
        return 130

    if args.format == "json":
        print(report.render_json(checks, reports))
    else:
        print(report.render_table(checks, reports))

    first = reports[0]
    if first.preflight_error is not None:
        return 1
    failed = {c.id for c in report.must_failures(checks, first)}
    known = set(args.known_failure)
    for cid in sorted(known - failed):
        if cid in first.outcomes:
            print(f"conformance: known failure {cid} now passes", file=sys.stderr)
    return 1 if failed - known else 0


if __name__ == "__main__":
    sys.exit(main())
