#!/usr/bin/python3
"""Run a command and report what it cost: `rusage.py CMD ARGS…` passes the command's stdout and
stderr through, then prints `RUSAGE {"cpu": s, "maxrss": bytes, "code": n}` as the last stderr
line (CPU: user + system seconds; maxrss: its peak resident set; from getrusage(RUSAGE_CHILDREN))."""
import json, resource, subprocess, sys

if len(sys.argv) < 2:
    sys.exit(__doc__)
code = subprocess.call(sys.argv[1:])
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print('RUSAGE ' + json.dumps({'cpu': round(r.ru_utime + r.ru_stime, 3), 'maxrss': r.ru_maxrss * 1024, 'code': code}),
      file=sys.stderr, flush=True)
sys.exit(code)
