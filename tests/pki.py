"""A throw-away PKI made at test time with the openssl command line (Debian's openssl)."""
import os
import subprocess

CA_CONF = """[ca]
default_ca = test
[test]
dir = {dir}
database = {dir}/index.txt
new_certs_dir = {dir}
serial = {dir}/serial
unique_subject = no
default_md = sha256
policy = any
copy_extensions = none
[any]
commonName = supplied
[server]
subjectAltName = DNS:localhost
basicConstraints = CA:FALSE
extendedKeyUsage = serverAuth
[client]
basicConstraints = CA:FALSE
extendedKeyUsage = clientAuth
"""


def _run(*args, cwd):
    p = subprocess.run(("openssl",) + args, cwd=cwd, capture_output=True, text=True)
    if p.returncode:
        raise RuntimeError("openssl %s: %s" % (args[0], p.stderr))


class CA:
    def __init__(self, dir, name):
        self.dir = os.path.join(dir, name)
        os.makedirs(self.dir)
        with open(os.path.join(self.dir, "ca.conf"), "w") as f:
            f.write(CA_CONF.format(dir=self.dir))
        open(os.path.join(self.dir, "index.txt"), "w").close()
        with open(os.path.join(self.dir, "serial"), "w") as f:
            f.write("1000\n")
        self.cert = os.path.join(self.dir, "ca.crt")
        self.key = os.path.join(self.dir, "ca.key")
        _run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", self.key, "-out", self.cert,
             "-days", "3", "-subj", "/CN=" + name, cwd=self.dir)

    def issue(self, name, cn, ext="server", start="-1d", days=None, end=None):
        """-> (cert path, key path); start/end as openssl ca dates (YYYYMMDDHHMMSSZ) for odd validity."""
        key = os.path.join(self.dir, name + ".key")
        csr = os.path.join(self.dir, name + ".csr")
        crt = os.path.join(self.dir, name + ".crt")
        _run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=" + cn,
             cwd=self.dir)
        dates = ["-days", "2"]
        if end:
            dates = ["-startdate", start, "-enddate", end]
        _run("ca", "-batch", "-config", os.path.join(self.dir, "ca.conf"), "-cert", self.cert,
             "-keyfile", self.key, "-extensions", ext, "-in", csr, "-out", crt, "-notext", *dates,
             cwd=self.dir)
        return crt, key
