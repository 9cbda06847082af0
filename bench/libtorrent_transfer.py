#!/usr/bin/python3
"""Baseline: libtorrent session -> session transfer of one file on 127.0.0.1 (TCP), two processes.

  /usr/bin/python3 bench/libtorrent_transfer.py [FILE] [--mib N] [--runs N] [--presets default,hp]

Without FILE, a file of N MiB (default 512) of deterministic pseudo-random data is made in a temp
dir. A v2-only torrent with 256 KiB pieces is made of it; then, for each preset, a seeding session
(a child process of this script) checks the file and listens on 127.0.0.1, and for each run a fresh
downloading session (another child process, also on 127.0.0.1) adds the torrent, calls
connect_peer(('127.0.0.1', port)) and waits for is_seeding. DHT, LSD, UPnP, NAT-PMP and uTP are
off; nothing but loopback is ever contacted. Presets: "default" (libtorrent's default settings)
and "hp" (lt.high_performance_seed() on the seeder; the downloader keeps the defaults).

Prints one JSON line per preset: {"what", "mib_s", "seconds", "runs", "first_peer_s",
"mib_s_after_first_peer", "note"}; mib_s and seconds are the medians over the runs, timed from
add_torrent on the downloader to is_seeding (this includes ~0.5 s before libtorrent's first
connection attempt: its tick_interval); the first_peer ones split that wait out. The source
file is in the page cache (dropping it needs root), so this measures the network/protocol path,
not the disk. Exit status: 0 OK, 1 a transfer failed, 2 usage, 3 python3-libtorrent missing.
"""
import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

try:
    import libtorrent as lt
except ImportError:
    print('libtorrent_transfer: python3-libtorrent is missing: apt-get install -y python3-libtorrent '
          '(and run this with /usr/bin/python3)', file=sys.stderr)
    sys.exit(3)

PIECE_LEN = 256 * 1024
MIB = 1024 * 1024

# Loopback only: no discovery of any kind, TCP on 127.0.0.1.
NET = {
    'listen_interfaces': '127.0.0.1:0',
    'enable_dht': False,
    'enable_lsd': False,
    'enable_upnp': False,
    'enable_natpmp': False,
    'enable_outgoing_utp': False,
    'enable_incoming_utp': False,
    'alert_mask': lt.alert_category.error | lt.alert_category.status,
}

LABEL = {'default': 'default settings', 'hp': 'high_performance_seed() on the seeder'}


def settings(preset):
    s = lt.high_performance_seed() if preset == 'hp' else {}
    s.update(NET)
    return s


def make_file(path, mib):
    # Deterministic: one seeded 4 MiB block, its first 8 bytes replaced by a chunk counter and its
    # bytes rotated per chunk, so no two chunks (nor 256 KiB pieces at the same offset) are equal.
    base = random.Random(0x5eed).randbytes(4 * MIB)
    with open(path, 'wb') as f:
        left = mib * MIB
        i = 0
        while left > 0:
            rot = (i * 4099) % len(base)
            chunk = bytearray(base[rot:] + base[:rot])
            chunk[0:8] = i.to_bytes(8, 'little')
            n = min(left, len(chunk))
            f.write(memoryview(chunk)[:n])
            left -= n
            i += 1


def make_torrent(path, out):
    fs = lt.file_storage()
    lt.add_files(fs, path, lambda p: True, lt.create_torrent.no_attributes)
    ct = lt.create_torrent(fs, PIECE_LEN, flags=lt.create_torrent.v2_only)
    ct.set_creator('chrysalis-bench')
    lt.set_piece_hashes(ct, os.path.dirname(os.path.abspath(path)))
    with open(out, 'wb') as f:
        f.write(lt.bencode(ct.generate()))


def wait_for(ses, h, pred, deadline, poll_ms=50):
    while time.time() < deadline:
        for a in ses.pop_alerts():
            if isinstance(a, lt.torrent_error_alert):
                raise RuntimeError(a.message())
        st = h.status()
        if st.errc.value():
            raise RuntimeError(st.errc.message())
        if pred(st):
            return st
        ses.wait_for_alert(poll_ms)
    raise RuntimeError('timed out')


def role_seed(torrent, save_path, preset):
    """Child: check the file, print PORT, seed until stdin closes."""
    ses = lt.session(settings(preset))
    h = ses.add_torrent({'ti': lt.torrent_info(torrent), 'save_path': save_path})
    wait_for(ses, h, lambda st: st.is_seeding, time.time() + 600)
    print(f'PORT {ses.listen_port()}', flush=True)
    sys.stdin.read()  # the parent closes our stdin when it is done with us
    return 0


def role_leech(torrent, save_path, port):
    """Child: download from 127.0.0.1:PORT; print the seconds from add_torrent to the first peer
    and to is_seeding."""
    ses = lt.session(settings('default'))
    ti = lt.torrent_info(torrent)
    t0 = time.perf_counter()
    h = ses.add_torrent({'ti': ti, 'save_path': save_path})
    h.connect_peer(('127.0.0.1', port))
    # libtorrent makes its connection attempts on its tick (tick_interval, 500 ms by default), so
    # the first peer shows up ~0.5 s after add_torrent; record that too (10 ms resolution).
    peer = []

    def seeding(st):
        if not peer and st.num_peers > 0:
            peer.append(time.perf_counter() - t0)
        return st.is_seeding

    st = wait_for(ses, h, seeding, time.time() + 600, 10)
    seconds = time.perf_counter() - t0
    if st.total_wanted_done != ti.total_size():
        raise RuntimeError(f'only {st.total_wanted_done} of {ti.total_size()} bytes')
    print(json.dumps({'seconds': seconds, 'peer_s': peer[0] if peer else 0.0, 'bytes': ti.total_size()}),
          flush=True)
    return 0


def run_preset(me, torrent, file, size, preset, runs, tmp):
    seeder = subprocess.Popen([sys.executable, me, '--role', 'seed', torrent,
                               os.path.dirname(os.path.abspath(file)), preset],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        line = seeder.stdout.readline().strip()
        if not line.startswith('PORT '):
            raise RuntimeError(f'seeder did not start (exit {seeder.poll()})')
        port = line.split()[1]
        secs, peers = [], []
        for i in range(runs):
            dest = os.path.join(tmp, f'dl-{preset}-{i}')
            os.mkdir(dest)
            try:
                out = subprocess.run([sys.executable, me, '--role', 'leech', torrent, dest, port],
                                     stdout=subprocess.PIPE, text=True, timeout=900, check=True)
                r = json.loads(out.stdout.strip().splitlines()[-1])
                secs.append(r['seconds'])
                peers.append(r['peer_s'])
            finally:
                shutil.rmtree(dest, ignore_errors=True)
    finally:
        seeder.stdin.close()
        try:
            seeder.wait(timeout=30)
        except subprocess.TimeoutExpired:
            seeder.kill()
            seeder.wait()
    med = statistics.median(secs)
    peer = statistics.median(peers)
    after = statistics.median(s - p for s, p in zip(secs, peers))
    mib = size / MIB
    return {
        'what': f'libtorrent session→session {mib:g} MiB loopback TCP ({LABEL[preset]})',
        'mib_s': round(mib / med, 1),
        'seconds': round(med, 3),
        'runs': [round(mib / s, 1) for s in secs],
        'first_peer_s': round(peer, 3),
        'mib_s_after_first_peer': round(mib / after, 1),
        'note': f'median of {runs}; v2 torrent, 256 KiB pieces; source file in page cache',
    }


def main():
    if len(sys.argv) > 2 and sys.argv[1] == '--role':
        role, args = sys.argv[2], sys.argv[3:]
        if role == 'seed':
            return role_seed(args[0], args[1], args[2])
        if role == 'leech':
            return role_leech(args[0], args[1], int(args[2]))
        return 2
    p = argparse.ArgumentParser(description='libtorrent loopback transfer baseline')
    p.add_argument('file', nargs='?')
    p.add_argument('--mib', type=int, default=512)
    p.add_argument('--runs', type=int, default=3)
    p.add_argument('--presets', default='default,hp')
    a = p.parse_args()
    presets = [x for x in a.presets.split(',') if x]
    if a.runs < 1 or a.mib < 1 or any(x not in LABEL for x in presets):
        p.print_usage(sys.stderr)
        return 2
    me = os.path.abspath(__file__)
    tmp = tempfile.mkdtemp(prefix='chrysalis-bench-lt-')
    try:
        file = a.file
        if file is None:
            file = os.path.join(tmp, f'data-{a.mib}MiB.bin')
            make_file(file, a.mib)
        elif not os.path.isfile(file):
            print(f'libtorrent_transfer: {file}: not a file', file=sys.stderr)
            return 2
        size = os.path.getsize(file)
        torrent = os.path.join(tmp, 'data.torrent')
        make_torrent(file, torrent)
        for preset in presets:
            print(json.dumps(run_preset(me, torrent, file, size, preset, a.runs, tmp), ensure_ascii=False),
                  flush=True)
        return 0
    except (RuntimeError, subprocess.SubprocessError, OSError, ValueError) as e:
        print(f'libtorrent_transfer: {type(e).__name__}: {e}', file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
