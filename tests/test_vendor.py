"""Vendored MicroPython modules come from the configured index and must match the pinned sha256."""
import hashlib
import io
import tarfile

import pytest

from host_tools import vendor


def sdist(name, version, files):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for path, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo("%s-%s/%s" % (name, version, path))
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@pytest.fixture
def local_index(tmp_path, monkeypatch):
    """A PEP 503 index directory that pip would also accept as file://..."""
    index = tmp_path / "index"
    monkeypatch.setenv("PIP_INDEX_URL", "file://%s" % index)
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "")
    monkeypatch.setenv("SMARTNODE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(vendor, "CACHE", str(tmp_path / "cache" / "sdists"))
    return index


def put(index, project, filename, data):
    d = index / vendor._normalize(project)
    d.mkdir(parents=True, exist_ok=True)
    (d / filename).write_bytes(data)


def test_sdist_with_the_pinned_digest_is_extracted(local_index, tmp_path, monkeypatch):
    data = sdist("pkg", "1.0", {"pkg.py": "X = 1\n"})
    put(local_index, "pkg", "pkg-1.0.tar.gz", data)
    monkeypatch.setattr(vendor, "PINS", [("pkg", "1.0", hashlib.sha256(data).hexdigest(),
                                          {"pkg.py": "pkg.py"})])
    out = tmp_path / "out"
    vendor.main(str(out))
    assert (out / "pkg.py").read_text() == "X = 1\n"


def test_tampered_sdist_is_refused(local_index, tmp_path, monkeypatch):
    good = sdist("pkg", "1.0", {"pkg.py": "X = 1\n"})
    evil = sdist("pkg", "1.0", {"pkg.py": "import os; os.system('x')\n"})
    put(local_index, "pkg", "pkg-1.0.tar.gz", evil)
    monkeypatch.setattr(vendor, "PINS", [("pkg", "1.0", hashlib.sha256(good).hexdigest(),
                                          {"pkg.py": "pkg.py"})])
    with pytest.raises(SystemExit, match="sha256"):
        vendor.main(str(tmp_path / "out"))
    assert not (tmp_path / "out" / "pkg.py").exists()

