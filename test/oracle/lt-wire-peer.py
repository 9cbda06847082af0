#!/usr/bin/python3
"""libtorrent 2.0.8 as an independent BitTorrent peer on 127.0.0.1 (TCP only), for the wire tests.
A small copy of ../shared/tools/lt-wire-peer.py (make, seed), with a piece length and a free port.
  lt-wire-peer.py make PATH OUT.torrent v1|v2|hybrid [PIECE_LEN]   prints {"v1","v2","magnet"} as JSON
  lt-wire-peer.py seed TORRENT SAVEDIR                             seeds on 127.0.0.1:<free port>; prints READY <port>
  lt-wire-peer.py fetch MAGNET SAVEDIR HOST:PORT [TIMEOUT]          downloads from that peer alone (metadata,
                                                              v2 hashes and pieces over the wire);
                                                              prints RESULT {"ok","sha256":{path:hex}}
Run with /usr/bin/python3 (Debian's python3-libtorrent)."""
import hashlib, json, os, sys, time
import libtorrent as lt


def make(path, out, kind, piece_len):
    fs = lt.file_storage()
    lt.add_files(fs, path, lambda p: True, lt.create_torrent.no_attributes)
    flags = {'v1': lt.create_torrent.v1_only, 'v2': lt.create_torrent.v2_only, 'hybrid': 0}[kind]
    ct = lt.create_torrent(fs, piece_len, flags=flags)
    lt.set_piece_hashes(ct, os.path.dirname(os.path.abspath(path)))
    open(out, 'wb').write(lt.bencode(ct.generate()))
    ih = lt.torrent_info(out).info_hashes()
    print(json.dumps({'v1': str(ih.v1) if ih.has_v1() else None, 'v2': str(ih.v2) if ih.has_v2() else None}))


def session():
    return lt.session({
        'listen_interfaces': '127.0.0.1:0', 'outgoing_interfaces': '127.0.0.1',
        'enable_lsd': False, 'enable_upnp': False, 'enable_natpmp': False, 'enable_dht': False,
        'enable_outgoing_utp': False, 'enable_incoming_utp': False,
        'in_enc_policy': 1, 'out_enc_policy': 1,
        'alert_mask': lt.alert.category_t.error_notification | lt.alert.category_t.status_notification,
    })


def seed(tfile, save):
    ses = session()
    p = lt.add_torrent_params()
    p.ti = lt.torrent_info(tfile)
    p.save_path = save
    h = ses.add_torrent(p)
    deadline = time.time() + 60
    while not h.status().is_seeding and time.time() < deadline:
        ses.pop_alerts()
        time.sleep(0.02)
    print('READY', ses.listen_port(), flush=True)
    while True:
        ses.pop_alerts()
        time.sleep(0.2)


def fetch(magnet, save, peer, timeout):
    ses = session()
    p = lt.parse_magnet_uri(magnet)
    p.save_path = save
    h = ses.add_torrent(p)
    host, port = peer.rsplit(':', 1)
    h.connect_peer((host, int(port)))
    deadline = time.time() + timeout
    while time.time() < deadline:
        for a in ses.pop_alerts():
            if a.category() & lt.alert.category_t.error_notification:
                print('ALERT', a.message(), flush=True)
        if h.status().is_seeding:
            files = h.torrent_file().files()
            out = {files.file_path(i): hashlib.sha256(open(os.path.join(save, files.file_path(i)), 'rb').read()).hexdigest()
                   for i in range(files.num_files()) if not files.file_flags(i) & lt.file_storage.flag_pad_file}
            print('RESULT', json.dumps({'ok': True, 'sha256': out}), flush=True)
            return 0
        time.sleep(0.02)
    print('RESULT', json.dumps({'ok': False, 'progress': h.status().progress}), flush=True)
    return 1


if __name__ == '__main__':
    cmd = sys.argv[1] if len(sys.argv) > 1 else ''
    if cmd == 'make':
        make(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]) if len(sys.argv) > 5 else 0)
    elif cmd == 'seed':
        seed(sys.argv[2], sys.argv[3])
    elif cmd == 'fetch':
        sys.exit(fetch(sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5]) if len(sys.argv) > 5 else 60))
    else:
        sys.exit(__doc__)
