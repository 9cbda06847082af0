#!/usr/bin/python3
"""libtorrent's verdict on every .torrent in a folder, as JSON on stdout (python3-libtorrent 2.0.8).

  /usr/bin/python3 test/oracle/lt-verdicts.py test/fixtures/libtorrent-torrents > verdicts.json

Accepted torrents come with what libtorrent read: infohashes, name, piece length and count, total
size (pads included), and the files that are not pad files (path under the torrent, size, symlink).
"""
import json, os, sys
import libtorrent as lt

def hexof(h):
    s = str(h)
    return None if set(s) <= {'0'} else s

folder = sys.argv[1]
out = {}
for f in sorted(os.listdir(folder)):
    if not f.endswith('.torrent'):
        continue
    try:
        ti = lt.torrent_info(os.path.join(folder, f))
    except Exception as e:
        out[f] = {'ok': False, 'error': str(e)}
        continue
    fs = ti.files()
    ih = ti.info_hashes()
    files = []
    for i in range(fs.num_files()):
        flags = fs.file_flags(i)
        if flags & lt.file_storage.flag_pad_file:
            continue
        entry = {'path': fs.file_path(i).replace('\\', '/'), 'size': fs.file_size(i)}
        if flags & lt.file_storage.flag_symlink:
            entry['symlink'] = fs.symlink(i)
        files.append(entry)
    out[f] = {'ok': True, 'v1': hexof(ih.v1) if ih.has_v1() else None, 'v2': hexof(ih.v2) if ih.has_v2() else None,
              'name': ti.name(), 'pieceLength': ti.piece_length(), 'pieces': ti.num_pieces(), 'totalSize': fs.total_size(),
              'files': files}
print(json.dumps(out, indent=1, ensure_ascii=False))
