#!/usr/bin/python3
"""libtorrent 2.0.8 as an independent BitTorrent peer for the interop tests and the bench:
127.0.0.1 only, TCP only (ltsession.py). Every line it prints is `WORD` or `WORD JSON`:
  LISTENING {"port"}            its TCP port (and, with a DHT, its UDP DHT port: the same number)
  READY                         a seeder has checked its data and serves it (and, with --dht, is
                                found there: DHT {"announced","secs"} comes first)
  MADE {"v1","v2","magnet"}     make: the hex infohashes (null when absent) and libtorrent's magnet
  HASHFAIL {"piece"}            a downloader got a piece that failed its check
  PROGRESS {"progress","peers","bytes"}   a downloader, about once a second
  BANNED {"peer"}               a peer banned for sending data that failed its hash check
  ALERT {"message"}             an error alert
  CONNECTED / DISCONNECTED {"peer"[,"error","at"]}   a seeder's peers coming and going (at: epoch s)
  UPLOADED {"bytes"}            a seeder's payload bytes sent so far (when it changes)
  RESULT {"ok","secs","MiBps","bytes","sha256":{path:hex}}   a download ended (ok false: timeout)

  lt-interop.py dht [--port P]
      a mainline DHT node others bootstrap from (it bootstraps from nobody)
  lt-interop.py make PATH OUT.torrent v1|v2|hybrid [--piece-length N] [--web-seed URL]...
      prints MADE {"v1","v2","magnet"}
  lt-interop.py seed TORRENT|MAGNET SAVEDIR [--port P] [--dht H:P] [--peer H:P] [--corrupt] [--hp]
                    [--upload-limit BYTES_PER_S]
      seeds SAVEDIR's data (announcing it on the DHT when given). --corrupt: serves altered bytes
      (a copy of the data with one byte of every 16 KiB block flipped, in a temp dir, served
      without a check). --hp: lt.high_performance_seed(). A magnet: fetched first (by --peer or
      the DHT) then seeded; used by the bench to seed a torrent only the other side made.
  lt-interop.py fetch TORRENT|MAGNET SAVEDIR [--peer H:P]... [--dht H:P] [--timeout S]
      downloads by address (--peer) and/or through the DHT (as a read-only DHT node, BEP 43); exit 0
      when complete. RESULT's secs: first data → complete; cpu, maxrss: this process's.
Run with /usr/bin/python3 (Debian's python3-libtorrent)."""
import json
import os
import resource
import shutil
import sys
import tempfile
import time
import libtorrent as lt
import ltsession


def opt(name, default=None):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


def opts(name):
    return [sys.argv[i + 1] for i, a in enumerate(sys.argv[:-1]) if a == name]


def say(word, obj=None):
    print(word if obj is None else f'{word} {json.dumps(obj)}', flush=True)


def usage_stats():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return {'cpu': round(r.ru_utime + r.ru_stime, 3), 'maxrss': r.ru_maxrss * 1024}


def watch_alerts(ses):
    for a in ses.pop_alerts():
        if isinstance(a, lt.peer_ban_alert) or isinstance(a, lt.peer_blocked_alert):
            say('BANNED', {'peer': f'{a.endpoint[0]}:{a.endpoint[1]}', 'message': a.message()})
        elif isinstance(a, lt.hash_failed_alert):
            say('HASHFAIL', {'piece': a.piece_index})
        elif a.category() & lt.alert.category_t.error_notification:
            say('ALERT', {'message': a.message()})


def connect(h):
    for peer in opts('--peer'):
        host, port = peer.rsplit(':', 1)
        h.connect_peer((host, int(port)))


def corrupt_copy(tfile, save):
    """A copy of the torrent's files with one byte flipped in every 16 KiB block."""
    ti = lt.torrent_info(tfile)
    files = ti.files()
    tmp = tempfile.mkdtemp(prefix='lt-corrupt-')
    for i in range(files.num_files()):
        if files.file_flags(i) & lt.file_storage.flag_pad_file:
            continue
        src, dst = os.path.join(save, files.file_path(i)), os.path.join(tmp, files.file_path(i))
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        with open(src, 'rb') as f:
            data = bytearray(f.read())
        for at in range(0, len(data), 16384):
            data[at] ^= 0xff
        with open(dst, 'wb') as f:
            f.write(data)
    return tmp


def dht():
    ses = ltsession.session(int(opt('--port', '0')), '')
    say('LISTENING', {'port': ses.listen_port()})
    say('READY')
    while True:
        ses.pop_alerts()
        time.sleep(0.2)


def announced(ses, h, timeout=30):
    """Wait until the DHT gives this seeder's own address for each of its infohashes (v1, and v2
    truncated to 20 bytes), so a downloader that looks it up next finds it; prints DHT {"announced"}."""
    ses.apply_settings({'alert_mask': ltsession.ALERTS | lt.alert.category_t.dht_operation_notification})
    ih = h.info_hashes()
    want = {str(x)[:40] for x, has in ((ih.v1, ih.has_v1()), (ih.v2, ih.has_v2())) if has}
    me = ses.listen_port()
    found, asked, t0 = set(), 0.0, time.time()
    while found != want and time.time() - t0 < timeout:
        if time.time() - asked > 1:
            for x in want - found:
                ses.dht_get_peers(lt.sha1_hash(bytes.fromhex(x)))
            asked = time.time()
        for a in ses.pop_alerts():
            if isinstance(a, lt.dht_get_peers_reply_alert) and any(p == me for _, p in a.peers()):
                found.add(str(a.info_hash))
        time.sleep(0.05)
    ses.apply_settings({'alert_mask': ltsession.ALERTS})
    say('DHT', {'announced': found == want, 'secs': round(time.time() - t0, 2)})


def seed(src, save):
    corrupt = '--corrupt' in sys.argv
    ses = ltsession.session(int(opt('--port', '0')), opt('--dht'), high_performance='--hp' in sys.argv)
    if opt('--upload-limit'):
        # Peers on 127.0.0.1 are in libtorrent's 'local' class, which the global limit skips.
        cls = ses.get_peer_class(lt.session.local_peer_class_id)
        cls['upload_limit'] = int(opt('--upload-limit'))
        ses.set_peer_class(lt.session.local_peer_class_id, cls)
    if corrupt:
        save = corrupt_copy(src, save)
        # libtorrent's seed_mode still checks each piece the first time a peer asks for it (and leaves
        # seed mode when one fails); with hash checks disabled it serves the bytes as they are.
        ses.apply_settings({'disable_hash_checks': True})
    h = ltsession.add(ses, src, save, lt.torrent_flags.seed_mode if corrupt else 0)
    say('LISTENING', {'port': ses.listen_port()})
    connect(h)
    deadline = time.time() + float(opt('--timeout', '600'))
    while not h.status().is_seeding:
        watch_alerts(ses)
        if time.time() > deadline:
            say('RESULT', {'ok': False, 'progress': h.status().progress})
            return 1
        time.sleep(0.02)
    if opt('--dht'):
        announced(ses, h)
    say('READY')
    ses.apply_settings({'alert_mask': ltsession.ALERTS | lt.alert.category_t.connect_notification})
    uploaded = 0
    try:
        while True:
            for a in ses.pop_alerts():
                if isinstance(a, lt.peer_connect_alert) or isinstance(a, lt.incoming_connection_alert):
                    say('CONNECTED', {'peer': f'{a.endpoint[0]}:{a.endpoint[1]}'})
                elif isinstance(a, lt.peer_disconnected_alert):
                    say('DISCONNECTED', {'peer': f'{a.endpoint[0]}:{a.endpoint[1]}', 'error': a.error.message(), 'at': time.time()})
                elif a.category() & lt.alert.category_t.error_notification:
                    say('ALERT', {'message': a.message()})
            st = h.status()
            if st.total_payload_upload != uploaded:
                uploaded = st.total_payload_upload
                say('UPLOADED', {'bytes': uploaded})
            time.sleep(0.1)
    finally:
        if corrupt:
            shutil.rmtree(save, ignore_errors=True)


def fetch(src, save):
    timeout = float(opt('--timeout', '120'))
    ses = ltsession.session(0, opt('--dht'), dht_read_only=True)
    ses.apply_settings({'alert_mask': ltsession.ALERTS | lt.alert.category_t.peer_notification})
    t0 = time.time()
    h = ltsession.add(ses, src, save)
    say('LISTENING', {'port': ses.listen_port()})
    connect(h)
    last = 0.0
    first = None
    while time.time() - t0 < timeout:
        watch_alerts(ses)
        st = h.status()
        if first is None and st.total_wanted_done > 0:
            first = time.time()
        if st.is_seeding:
            end = time.time()
            secs = end - (first or t0)
            say('RESULT', {'ok': True, 'secs': round(secs, 3), 'total_secs': round(end - t0, 3),
                           'MiBps': round(st.total_wanted / 1048576 / max(secs, 1e-6), 1),
                           'bytes': st.total_wanted, 'sha256': ltsession.file_hashes(h, save),
                           **usage_stats()})
            return 0
        if time.time() - last >= 1:
            last = time.time()
            say('PROGRESS', {'progress': round(st.progress, 4), 'peers': st.num_peers, 'bytes': st.total_wanted_done})
        time.sleep(0.01)
    say('RESULT', {'ok': False, 'progress': h.status().progress, 'peers': h.status().num_peers})
    return 1


def make(path, out, kind):
    pl = int(opt('--piece-length', '0'))
    say('MADE', ltsession.make_torrent(path, out, kind, pl, web_seeds=opts('--web-seed')))


if __name__ == '__main__':
    cmd = sys.argv[1] if len(sys.argv) > 1 else ''
    if cmd == 'dht':
        dht()
    elif cmd == 'make' and len(sys.argv) >= 5:
        make(sys.argv[2], sys.argv[3], sys.argv[4])
    elif cmd == 'seed' and len(sys.argv) >= 4:
        sys.exit(seed(sys.argv[2], sys.argv[3]))
    elif cmd == 'fetch' and len(sys.argv) >= 4:
        sys.exit(fetch(sys.argv[2], sys.argv[3]))
    else:
        sys.exit(__doc__)
