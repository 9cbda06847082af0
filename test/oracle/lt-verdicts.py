import libtorrent as lt, os, sys, json
d=sys.argv[1]; out={}
for f in sorted(os.listdir(d)):
    try:
        ti=lt.torrent_info(os.path.join(d,f)); out[f]={'ok':True}
    except Exception as e:
        out[f]={'ok':False,'error':str(e)}
print(json.dumps(out,indent=1))
