#!/usr/bin/python3
"""A copy of ../shared/tools/lt-peer.py (plus `peers`), so a clone carries its oracle.
libtorrent 2.0.8 as an independent BitTorrent peer on 127.0.0.1 (TCP only), for tests.
  lt-peer.py dht PORT                                   a DHT node others bootstrap from; prints READY
  lt-peer.py make PATH OUT.torrent v1|v2|hybrid         prints {"v1","v2","magnet"} as JSON
  lt-peer.py seed TORRENT SAVEDIR PORT [--dht H:P] [--corrupt]
                                                        seeds (announcing to the DHT when given); prints READY
  lt-peer.py fetch TORRENT|MAGNET SAVEDIR [--peer H:P] [--dht H:P] [--timeout S]
                                                        prints RESULT {"ok","secs","MiBps","sha256":{path:hex}}
  lt-peer.py peers INFOHASH40 --dht H:P [--timeout S]   libtorrent's dht_get_peers until it finds peers;
                                                        prints PEERS ["host:port",...] (empty on timeout)
Run with /usr/bin/python3 (Debian's python3-libtorrent)."""
import hashlib, json, os, sys, time
import libtorrent as lt
import ltsession


def opt(name, default=None):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


def session(port, dht=None):
    return ltsession.session(port, dht)


def make(path, out, kind):
    print(json.dumps(ltsession.make_torrent(path, out, kind)))


def seed(tfile, save, port):
    s = session(port, opt('--dht'))
    p = lt.add_torrent_params()
    p.ti = lt.torrent_info(tfile)
    p.save_path = save
    if '--corrupt' in sys.argv:
        p.flags |= lt.torrent_flags.seed_mode  # serve what is on disk without checking it
    s.add_torrent(p)
    print('READY', flush=True)
    while True:
        s.pop_alerts()
        time.sleep(0.2)


def peers(infohash):
    timeout = float(opt('--timeout', '30'))
    s = session(0, opt('--dht'))
    s.apply_settings({'alert_mask': lt.alert.category_t.dht_operation_notification | lt.alert.category_t.dht_notification})
    target = lt.sha1_hash(bytes.fromhex(infohash))
    found, t0, asked = set(), time.time(), 0.0
    while time.time() - t0 < timeout and not found:
        if time.time() - asked > 1:  # again each second: the first may go out before the DHT knows a node
            s.dht_get_peers(target)
            asked = time.time()
        for a in s.pop_alerts():
            if isinstance(a, lt.dht_get_peers_reply_alert) and str(a.info_hash) == infohash:
                found.update(f'{h}:{p}' for h, p in a.peers())
        time.sleep(0.05)
    print('PEERS', json.dumps(sorted(found)), flush=True)
    return 0 if found else 1


def fetch(src, save):
    timeout = float(opt('--timeout', '120'))
    s = session(0, opt('--dht'))
    if src.startswith('magnet:'):
        p = lt.parse_magnet_uri(src)
    else:
        p = lt.add_torrent_params()
        p.ti = lt.torrent_info(src)
    p.save_path = save
    h = s.add_torrent(p)
    if opt('--peer'):
        host, port = opt('--peer').rsplit(':', 1)
        h.connect_peer((host, int(port)))
    t0 = time.time()
    while time.time() - t0 < timeout:
        s.pop_alerts()
        st = h.status()
        if st.is_seeding:
            secs = time.time() - t0
            files = h.torrent_file().files()
            out = {}
            for i in range(files.num_files()):
                if files.file_flags(i) & lt.file_storage.flag_pad_file:
                    continue
                with open(os.path.join(save, files.file_path(i)), 'rb') as f:
                    out[files.file_path(i)] = hashlib.sha256(f.read()).hexdigest()
            print('RESULT', json.dumps({'ok': True, 'secs': round(secs, 3),
                                        'MiBps': round(st.total_wanted / 1048576 / secs, 1), 'sha256': out}), flush=True)
            return 0
        time.sleep(0.02)
    print('RESULT', json.dumps({'ok': False, 'progress': h.status().progress}), flush=True)
    return 1


if __name__ == '__main__':
    cmd = sys.argv[1] if len(sys.argv) > 1 else ''
    if cmd == 'dht':
        ses = session(int(sys.argv[2]), '')
        print('READY', flush=True)
        while True:
            ses.pop_alerts()
            time.sleep(0.2)
    elif cmd == 'make':
        make(sys.argv[2], sys.argv[3], sys.argv[4])
    elif cmd == 'seed':
        seed(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif cmd == 'peers':
        sys.exit(peers(sys.argv[2]))
    elif cmd == 'fetch':
        sys.exit(fetch(sys.argv[2], sys.argv[3]))
    else:
        sys.exit(__doc__)
