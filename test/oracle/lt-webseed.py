#!/usr/bin/python3
"""libtorrent 2.0.8 as an independent web seed client (BEP 19), on 127.0.0.1, for tests.
  lt-webseed.py make DIR OUT.torrent URL v1|hybrid   a torrent of DIR with URL as its web seed;
      prints {"name","pieceLength","files":[{"path","size","offset","pad"}],"pieces":[sha1 hex]}
  lt-webseed.py fetch TORRENT SAVEDIR [--timeout S]  downloads from the web seed alone;
      prints RESULT {"ok": true|false}
Run with /usr/bin/python3 (Debian's python3-libtorrent)."""
import json, os, sys, time
import libtorrent as lt
import ltsession


def make(path, out, url, kind):
    fs = lt.file_storage()
    lt.add_files(fs, path, lambda p: True, lt.create_torrent.no_attributes)
    flags = lt.create_torrent.v1_only if kind == 'v1' else 0
    ct = lt.create_torrent(fs, 16384, flags=flags)
    ct.add_url_seed(url)
    lt.set_piece_hashes(ct, os.path.dirname(os.path.abspath(path)))
    open(out, 'wb').write(lt.bencode(ct.generate()))
    ti = lt.torrent_info(out)
    files = ti.files()
    print(json.dumps({
        'name': ti.name(), 'pieceLength': ti.piece_length(),
        'files': [{'path': files.file_path(i), 'size': files.file_size(i), 'offset': files.file_offset(i),
                   'pad': bool(files.file_flags(i) & lt.file_storage.flag_pad_file)} for i in range(files.num_files())],
        'pieces': [bytes(ti.hash_for_piece(i)).hex() for i in range(ti.num_pieces())]}))


def fetch(src, save):
    timeout = float(sys.argv[sys.argv.index('--timeout') + 1]) if '--timeout' in sys.argv else 60
    s = ltsession.session(0)
    p = lt.add_torrent_params()
    p.ti = lt.torrent_info(src)
    p.save_path = save
    h = s.add_torrent(p)
    t0 = time.time()
    while time.time() - t0 < timeout:
        for a in s.pop_alerts():
            if isinstance(a, (lt.url_seed_alert, lt.file_error_alert)):
                print('ALERT', a.message(), flush=True)
        if h.status().is_seeding:
            print('RESULT', json.dumps({'ok': True}), flush=True)
            return 0
        time.sleep(0.02)
    print('RESULT', json.dumps({'ok': False, 'progress': h.status().progress}), flush=True)
    return 1


if __name__ == '__main__':
    cmd = sys.argv[1] if len(sys.argv) > 1 else ''
    if cmd == 'make':
        make(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5])
    elif cmd == 'fetch':
        sys.exit(fetch(sys.argv[2], sys.argv[3]))
    else:
        sys.exit(__doc__)
