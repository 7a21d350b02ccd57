"""Terminals: --console-socket (what Docker's shim and conmon receive), the pty made
inside the container, and a foreground `exec -t` / `run` relaying it.

These tests also pass with PYRUNC_TEST_RUNTIME=/usr/sbin/runc.
"""

from __future__ import annotations

import json
import os
import signal
import time

from tests.exec.execlib import (
    ConsoleReceiver,
    HostPty,
    Running,
    error_line,
    read_all,
    read_until,
    set_size,
)


def _process_file(tmp_path, **fields) -> str:
    process = {"args": ["/bin/sh"], "cwd": "/", "env": ["PATH=/bin", "TERM=xterm"],
               "user": {"uid": 0, "gid": 0}, "terminal": True, **fields}
    path = tmp_path / "process.json"
    path.write_text(json.dumps(process))
    return str(path)


def test_exec_console_socket_gets_a_working_pty(running, tmp_path):
    rx = ConsoleReceiver(str(tmp_path / "console.sock"))
    try:
        p = running.exec("/bin/sh", flags=("-t", "-d", "--console-socket", rx.path))
        assert p.returncode == 0, p.stderr
        master = rx.wait()
        assert rx.payload == b"/dev/ptmx"  # runc sends the master's name along with it
        os.write(master, b"echo hello-$((6*7)); tty; cut -d' ' -f7 /proc/self/stat; exit\n")
        out = read_all(master).decode(errors="replace")
        assert "hello-42" in out
        assert "/dev/pts/" in out          # stdin is the container's pty ...
        tty_nr = [line for line in out.splitlines() if line.strip().isdigit()]
        assert tty_nr and int(tty_nr[-1]) != 0  # ... and the controlling terminal
    finally:
        rx.close()


def test_exec_console_size_and_user(running, tmp_path):
    rx = ConsoleReceiver(str(tmp_path / "console.sock"))
    try:
        path = _process_file(tmp_path, args=["/bin/sh", "-c", "stty size; ls -ln $(tty)"],
                             consoleSize={"height": 30, "width": 91},
                             user={"uid": 1000, "gid": 1000})
        p = running.rt("exec", "-d", "--console-socket", rx.path, "--process", path, running.id)
        assert p.returncode == 0, p.stderr
        out = read_all(rx.wait()).decode(errors="replace")
        assert "30 91" in out
        # The pty belongs to the process's user, so it can use its own terminal.
        listing = [line for line in out.splitlines() if "/dev/pts/" in line]
        assert listing and listing[0].split()[2] == "1000", out
    finally:
        rx.close()


def test_create_console_socket_and_dev_console(rt, bundle, tmp_path):
    bundle.process["terminal"] = True
    bundle.process["consoleSize"] = {"height": 20, "width": 70}
    bundle.sh("stty size; echo console=$(stat -c %t:%T /dev/console) tty=$(stat -c %t:%T $(tty));"
              " read line; echo got-$line")
    rx = ConsoleReceiver(str(tmp_path / "console.sock"))
    try:
        rt("create", "-b", bundle.path, "--console-socket", rx.path, bundle.id, check=True)
        master = rx.wait()
        assert rx.payload == b"/dev/ptmx"
        rt("start", bundle.id, check=True)
        out = read_until(master, b"tty=").decode(errors="replace")
        os.write(master, b"hello\n")
        out += read_all(master).decode(errors="replace")
        assert "20 70" in out
        assert "got-hello" in out
        # /dev/console is the pty: the same device as the process's tty.
        line = next(line for line in out.splitlines() if line.startswith("console="))
        console, tty = (part.split("=")[1] for part in line.split())
        assert console == tty and console.startswith("88:"), line  # 0x88: the pts major
    finally:
        rx.close()


def test_console_socket_rules(running, rt, make_bundle, tmp_path):
    p = running.exec("true", flags=("-t", "-d"))
    assert p.returncode == 255
    assert "cannot allocate tty if runc will detach without setting console socket" in \
        error_line(p)
    p = running.exec("true", flags=("--console-socket", str(tmp_path / "x.sock")))
    assert p.returncode == 255
    assert "cannot use console socket if runc will not detach or allocate tty" in error_line(p)
    p = running.exec("true", flags=("-d", "--console-socket", str(tmp_path / "x.sock")))
    assert "cannot use console socket if runc will not detach or allocate tty" in error_line(p)

    b = make_bundle("tty")
    b.process["terminal"] = True
    b.save()
    p = rt("create", "-b", b.path, b.id)
    assert p.returncode != 0
    assert "cannot allocate tty if runc will detach without setting console socket" in \
        error_line(p)
    b.process["terminal"] = False
    b.save()
    p = rt("create", "-b", b.path, "--console-socket", str(tmp_path / "x.sock"), b.id)
    assert p.returncode != 0
    assert "cannot use console socket if runc will not detach or allocate tty" in error_line(p)
    assert b.id not in rt.ids()


def test_exec_tty_without_a_terminal_fails(running):
    # Our stdio are files and we have no controlling terminal (new session).
    p = running.exec("true", flags=("-t",), start_new_session=True)
    assert p.returncode == 255
    assert "/dev/tty" in error_line(p)


def test_foreground_exec_tty_relays_and_resizes(running):
    host = HostPty(running.rt.cmd("exec", "-t", running.id, "/bin/sh"), rows=33, cols=101)
    try:
        host.send(b"stty size\r")
        assert b"33 101" in read_until(host.master, b"33 101")
        set_size(host.master, 40, 120)
        host.proc.send_signal(signal.SIGWINCH)  # what the kernel sends a foreground job
        time.sleep(0.5)
        host.send(b"stty size; echo bye-$((2+3)); exit 4\r")
        status, out = host.wait()
        assert status == 4
        assert b"40 120" in out and b"bye-5" in out
    finally:
        host.close()


def test_foreground_run_with_terminal(rt, bundle):
    bundle.process["terminal"] = True
    bundle.args("/bin/sh")
    host = HostPty(rt.cmd("run", "-b", bundle.path, bundle.id), rows=25, cols=77)
    try:
        time.sleep(0.5)
        host.send(b"stty size; tty; exit 6\r")
        status, out = host.wait()
        assert status == 6
        assert b"25 77" in out and b"/dev/pts/0" in out
    finally:
        host.close()
    assert bundle.id not in rt.ids()


def test_foreground_exec_tty_forwards_signals(running):
    host = HostPty(running.rt.cmd("exec", "-t", running.id, "/bin/sh", "-c",
                                  "trap 'echo got-term; exit 42' TERM; echo ready; "
                                  "while :; do sleep 0.1; done"))
    try:
        assert b"ready" in read_until(host.master, b"ready")
        host.proc.send_signal(signal.SIGTERM)
        status, out = host.wait()
        assert status == 42 and b"got-term" in out
    finally:
        host.close()


def test_exec_into_a_created_container_with_a_terminal(rt, bundle, tmp_path):
    bundle.args("/bin/sleep", "1000")
    rt("create", "-b", bundle.path, bundle.id, check=True)
    running = Running(rt, bundle)
    rx = ConsoleReceiver(str(tmp_path / "console.sock"))
    try:
        p = running.exec("/bin/sh", "-c", "echo in-created", flags=("-t", "-d",
                                                                     "--console-socket", rx.path))
        assert p.returncode == 0, p.stderr
        assert b"in-created" in read_all(rx.wait())
    finally:
        rx.close()
    assert rt.status(bundle.id) == "created"


def test_foreground_run_with_terminal_forwards_sigterm_and_reports_kills(rt, make_bundle):
    from tests.exec.test_foreground import TRAP

    bundle = make_bundle()
    bundle.process["terminal"] = True
    bundle.sh(TRAP)
    host = HostPty(rt.cmd("run", "-b", bundle.path, bundle.id))
    try:
        assert b"ready" in read_until(host.master, b"ready")
        host.proc.send_signal(signal.SIGTERM)
        status, out = host.wait()
        assert status == 42 and b"got-term" in out
    finally:
        host.close()
    other = make_bundle("kill")
    other.process["terminal"] = True
    other.sh("echo ready; sleep 100")
    host = HostPty(rt.cmd("run", "-b", other.path, other.id))
    try:
        assert b"ready" in read_until(host.master, b"ready")
        rt("kill", other.id, "KILL", check=True)
        status, _ = host.wait()
        assert status == 137
    finally:
        host.close()
