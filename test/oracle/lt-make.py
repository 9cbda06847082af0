#!/usr/bin/python3
"""Torrents and magnets made by libtorrent 2.0.8 (python3-libtorrent), for test/metainfo-kinds.test.ts
and test/torrent-show.test.ts: a folder of two files as v1, v2 and hybrid, with two trackers, a web
seed and a comment; a single file as hybrid. Writes OUTDIR/*.torrent and prints the vectors as JSON.

  /usr/bin/python3 test/oracle/lt-make.py test/fixtures/lt-made > test/fixtures/lt-made/vectors.json
"""
import json, os, sys, tempfile
import libtorrent as lt

out = sys.argv[1]
work = tempfile.mkdtemp()
folder = os.path.join(work, 'Kaypro II manuals')
os.makedirs(os.path.join(folder, 'scans'))
def data(path, size, seed):
    with open(path, 'wb') as f:
        f.write(bytes((i * seed + i // 7) & 0xff for i in range(size)))
data(os.path.join(folder, 'README.txt'), 1000, 3)
data(os.path.join(folder, 'scans', 'page-001.tif'), 70000, 5)
single = os.path.join(work, 'kaypro.pdf')
data(single, 40000, 7)

vectors = []
for path, kind in [(folder, 'v1'), (folder, 'v2'), (folder, 'hybrid'), (single, 'hybrid')]:
    fs = lt.file_storage()
    lt.add_files(fs, path, lambda p: True, lt.create_torrent.no_attributes)
    flags = {'v1': lt.create_torrent.v1_only, 'v2': lt.create_torrent.v2_only, 'hybrid': 0}[kind]
    ct = lt.create_torrent(fs, 16384, flags=flags)
    if path == folder:
        ct.add_tracker('udp://127.0.0.1:6969/announce', 0)
        ct.add_tracker('http://127.0.0.1:8000/announce', 1)
        ct.add_url_seed('http://127.0.0.1:8080/files/')
        ct.set_comment('Scans of the Kaypro II manuals')
    ct.set_creator('libtorrent 2.0.8 (test/oracle/lt-make.py)')
    lt.set_piece_hashes(ct, work)
    entry = ct.generate()
    entry[b'creation date'] = 1700000000
    name = ('folder' if path == folder else 'single') + '-' + kind + '.torrent'
    with open(os.path.join(out, name), 'wb') as f:
        f.write(lt.bencode(entry))
    ti = lt.torrent_info(os.path.join(out, name))
    ih = ti.info_hashes()
    vectors.append({'file': name, 'kind': kind, 'v1': str(ih.v1) if ih.has_v1() else None, 'v2': str(ih.v2) if ih.has_v2() else None,
                    'name': ti.name(), 'pieceLength': ti.piece_length(), 'pieces': ti.num_pieces(),
                    'magnet': lt.make_magnet_uri(ti)})
print(json.dumps({'made by': 'test/oracle/lt-make.py with python3-libtorrent 2.0.8', 'torrents': vectors}, indent=1))
