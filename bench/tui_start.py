#!/usr/bin/env python3
"""Cold start of the TUI to its first frame, in a real pseudo-terminal.

usage: tui_start.py RUNS MARKER -- COMMAND...
Prints one JSON line: {"runs": [...ms], "median": ms}. The clock starts just before exec and
stops when MARKER first appears on the terminal.
"""
import json, os, pty, select, sys, time, signal

def once(cmd, marker):
    start = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:
        os.environ.pop('CI', None)
        os.environ['COLUMNS'] = '80'
        os.environ['LINES'] = '24'
        os.execvp(cmd[0], cmd)
    buf = b''
    elapsed = None
    deadline = start + 10
    while time.perf_counter() < deadline:
        r, _, _ = select.select([fd], [], [], 0.05)
        if fd in r:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
            if marker.encode() in buf:
                elapsed = (time.perf_counter() - start) * 1000
                break
    os.kill(pid, signal.SIGTERM)
    t_end = time.perf_counter() + 5
    while time.perf_counter() < t_end:
        try:
            r, _, _ = select.select([fd], [], [], 0.05)
            if fd in r:
                os.read(fd, 65536)
        except OSError:
            pass
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            break
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    os.close(fd)
    if elapsed is None:
        raise SystemExit(f'marker {marker!r} never appeared; output: {buf[-400:]!r}')
    return elapsed

def main():
    runs = int(sys.argv[1])
    marker = sys.argv[2]
    cmd = sys.argv[sys.argv.index('--') + 1:]
    times = [once(cmd, marker) for _ in range(runs)]
    s = sorted(times)
    print(json.dumps({'runs': [round(t, 1) for t in times], 'median': round(s[len(s) // 2], 1)}))

main()
