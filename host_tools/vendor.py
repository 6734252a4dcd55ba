"""Fetch the pinned third-party MicroPython modules that pip cannot install.

micropython-umqtt.simple and micropython-ssd1306 are published on PyPI as
sdists without setup.py or pyproject.toml, so we fetch them by name through
the package index pip is configured with (PEP 691 JSON or PEP 503 HTML simple
API, falling back to pip's own default index), check the pinned sha256 and
extract the module files into build/vendor/, which becomes part of the
device's /lib.  Usage: python -m host_tools vendor [OUTDIR]
"""

import hashlib
import html.parser
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import urllib.parse
import urllib.request

# (project, version, sdist sha256, {path inside the sdist: path under OUTDIR})
PINS = [
    ("micropython-umqtt.simple", "1.3.4",
     "b6a2520239e3992c63a7de9370ee9b3d9d27819a90359c521f1c0f7ccab8d12f",
     {"umqtt/simple.py": "umqtt/simple.py"}),
    ("micropython-ssd1306", "0.3",
     "d00cae1ff680e6ae504e258e700f002874b0d924b1a604253b6ea63144b58289",
     {"ssd1306.py": "ssd1306.py"}),
]

CACHE = os.path.join(os.environ.get("SMARTNODE_CACHE") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "smartnode"), "sdists")


def pip_indexes():
    """Index URLs in the order pip would use them."""
    def conf(key):
        try:
            out = subprocess.run([sys.executable, "-m", "pip", "config", "list"],
                                 capture_output=True, text=True, timeout=60).stdout
        except (OSError, subprocess.SubprocessError):
            return []
        vals = []
        for line in out.splitlines():
            name, _, value = line.partition("=")
            if name.split(".", 1)[-1] == key:
                vals.extend(value.strip().strip("'\"").split())
        return vals

    env = os.environ
    primary = env.get("PIP_INDEX_URL", "").split() or conf("index-url")
    if not primary:
        from pip._internal.models.index import PyPI  # pip's own default
        primary = [PyPI.simple_url]
    extra = env.get("PIP_EXTRA_INDEX_URL", "").split() or conf("extra-index-url")
    return primary + extra


class _Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.links = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.links.append(href)


def _normalize(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def candidate_urls(index, project):
    """(filename, url) pairs the index lists for project."""
    page = index.rstrip("/") + "/" + _normalize(project) + "/"
    if page.startswith("file:"):
        # A local index directory: pip reads the files it holds.
        path = urllib.parse.unquote(urllib.parse.urlparse(page).path)
        if not os.path.isdir(path):
            return []
        return [(name, "file://" + urllib.parse.quote(os.path.join(path, name)))
                for name in sorted(os.listdir(path))]
    req = urllib.request.Request(page, headers={
        "Accept": "application/vnd.pypi.simple.v1+json, text/html;q=0.1"})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            ctype = resp.headers.get("Content-Type", "")
            body = resp.read()
            base = resp.geturl()
    except (OSError, ValueError):
        return []
    if "json" in ctype:
        files = json.loads(body)["files"]
        return [(f["filename"], urllib.parse.urljoin(base, f["url"])) for f in files]
    parser = _Links()
    parser.feed(body.decode("utf-8", "replace"))
    out = []
    for href in parser.links:
        url = urllib.parse.urljoin(base, href)
        out.append((urllib.parse.unquote(url.split("#")[0].rsplit("/", 1)[-1]), url))
    return out


def fetch(project, version, sha256):
    fname_re = re.compile(re.escape(_normalize(project)).replace("\\-", "[-_.]") +
                          "-" + re.escape(version) + r"\.tar\.gz$", re.I)
    cached = os.path.join(CACHE, "%s-%s.tar.gz" % (_normalize(project), version))
    if os.path.exists(cached):
        data = open(cached, "rb").read()
        if hashlib.sha256(data).hexdigest() == sha256:
            return data
    for index in pip_indexes():
        for fname, url in candidate_urls(index, project):
            if not fname_re.search(fname):
                continue
            with urllib.request.urlopen(url, timeout=120) as resp:
                data = resp.read()
            digest = hashlib.sha256(data).hexdigest()
            if digest != sha256:
                raise SystemExit("fetch_vendor: %s from %s has sha256 %s, pinned %s"
                                 % (fname, index, digest, sha256))
            os.makedirs(CACHE, exist_ok=True)
            with open(cached + ".tmp", "wb") as f:
                f.write(data)
            os.replace(cached + ".tmp", cached)
            return data
    raise SystemExit("fetch_vendor: %s==%s not found on any configured index" % (project, version))


def ensure(outdir):
    """Extract every pinned module into outdir unless it is already there."""
    if all(os.path.exists(os.path.join(outdir, dst)) for *_, m in PINS for dst in m.values()):
        return outdir
    return main(outdir)


def main(outdir):
    for project, version, sha256, members in PINS:
        data = fetch(project, version, sha256)
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            names = {m.name.split("/", 1)[-1]: m for m in tar.getmembers() if "/" in m.name}
            for src, dst in members.items():
                target = os.path.join(outdir, dst)
                os.makedirs(os.path.dirname(target), exist_ok=True)
                content = tar.extractfile(names[src]).read()
                with open(target + ".tmp", "wb") as f:
                    f.write(content)
                os.replace(target + ".tmp", target)
    return outdir
