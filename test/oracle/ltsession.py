"""The libtorrent 2.0.8 session the oracle scripts share: 127.0.0.1 only, TCP only, no LSD,
UPnP or NAT-PMP; the mainline DHT only when asked, on loopback (the settings libtorrent needs for
a DHT on 127.0.0.1: ../shared/reference/bittorrent-v2.md, "libtorrent as a peer in tests").
Imported by lt-interop.py, lt-peer.py, lt-webseed.py (same directory)."""
import hashlib
import os
import libtorrent as lt

ALERTS = lt.alert.category_t.error_notification | lt.alert.category_t.status_notification

# libtorrent drops DHT nodes and peers on private/loopback addresses and insists on node ids
# derived from the address unless these are off. Every node of a test shares 127.0.0.1, so the
# per-IP rate limit (5 requests/s, then the IP is ignored for 5 minutes) and the DHT's upload cap
# (8000 B/s) would soon silence the whole test: lifted.
LOOPBACK_DHT = {
    'dht_restrict_routing_ips': False, 'dht_restrict_search_ips': False,
    'dht_ignore_dark_internet': False, 'dht_prefer_verified_node_ids': False,
    'dht_enforce_node_id': False,
    'dht_block_ratelimit': 1_000_000, 'dht_block_timeout': 0, 'dht_upload_rate_limit': 10_000_000,
    # A torrent is looked up / announced again every few seconds, not every 15 minutes: a lookup
    # that ran before the seeder announced (or stalled on a node of a process that has exited) is
    # soon retried.
    'dht_announce_interval': 3,
}


def settings(port=0, dht=None, high_performance=False, encryption=True, dht_read_only=False):
    """Settings for a session on 127.0.0.1:PORT (0: any free port). dht: None (off), '' (a DHT
    node that bootstraps from nobody: others bootstrap from it) or 'HOST:PORT[,…]'.
    encryption=False: plaintext only (libtorrent's default 'enabled' accepts both).
    dht_read_only: a DHT client others do not keep in their routing tables (BEP 43), for short-lived
    downloaders: once exited, a node others still know makes every later lookup wait ~15 s for it."""
    s = lt.high_performance_seed() if high_performance else {}
    s.update({
        'listen_interfaces': f'127.0.0.1:{port}', 'outgoing_interfaces': '127.0.0.1',
        'enable_lsd': False, 'enable_upnp': False, 'enable_natpmp': False,
        'enable_outgoing_utp': False, 'enable_incoming_utp': False,
        'allow_multiple_connections_per_ip': True,
        'in_enc_policy': 1 if encryption else 2, 'out_enc_policy': 1 if encryption else 2,
        'enable_dht': dht is not None,
        'alert_mask': ALERTS,
    })
    if dht is not None:
        s.update(LOOPBACK_DHT)
        s['dht_bootstrap_nodes'] = dht
        s['dht_read_only'] = dht_read_only
    return s


def session(port=0, dht=None, **kw):
    """A session as settings() describes; a DHT bootstrap node is also added directly (libtorrent
    2.0.8 may not contact 'dht_bootstrap_nodes' on loopback before its first refresh)."""
    ses = lt.session(settings(port, dht, **kw))
    for node in (dht or '').split(','):
        if node:
            host, p = node.rsplit(':', 1)
            ses.add_dht_node((host, int(p)))
    return ses


def add(ses, src, save, flags=0):
    """Add a torrent by .torrent path or magnet URI, saving under SAVE."""
    if src.startswith('magnet:'):
        p = lt.parse_magnet_uri(src)
    else:
        p = lt.add_torrent_params()
        p.ti = lt.torrent_info(src)
    p.save_path = save
    p.flags |= flags
    return ses.add_torrent(p)


def file_hashes(handle, save):
    """SHA-256 (hex) of each file of the torrent on disk, pad files left out: {path: hex}."""
    files = handle.torrent_file().files()
    out = {}
    for i in range(files.num_files()):
        if files.file_flags(i) & lt.file_storage.flag_pad_file:
            continue
        h = hashlib.sha256()
        with open(os.path.join(save, files.file_path(i)), 'rb') as f:
            for chunk in iter(lambda: f.read(1 << 20), b''):
                h.update(chunk)
        out[files.file_path(i)] = h.hexdigest()
    return out


def make_torrent(path, out, kind, piece_len=0, web_seeds=(), trackers=()):
    """Write a v1, v2 or hybrid .torrent of PATH (file or folder) to OUT; returns
    {"v1","v2","magnet"} (hex infohashes, null when absent)."""
    fs = lt.file_storage()
    lt.add_files(fs, path, lambda p: True, lt.create_torrent.no_attributes)
    flags = {'v1': lt.create_torrent.v1_only, 'v2': lt.create_torrent.v2_only, 'hybrid': 0}[kind]
    ct = lt.create_torrent(fs, piece_len, flags=flags)
    for url in web_seeds:
        ct.add_url_seed(url)
    for tier, url in enumerate(trackers):
        ct.add_tracker(url, tier)
    lt.set_piece_hashes(ct, os.path.dirname(os.path.abspath(path)))
    with open(out, 'wb') as f:
        f.write(lt.bencode(ct.generate()))
    ti = lt.torrent_info(out)
    ih = ti.info_hashes()
    return {'v1': str(ih.v1) if ih.has_v1() else None, 'v2': str(ih.v2) if ih.has_v2() else None,
            'magnet': lt.make_magnet_uri(ti)}
