"""firmware/manifest.py, the frozen-application manifest, read the way MicroPython's
tools/manifestfile.py reads it: executed in its own directory with include(),
package(), module(), freeze() and options given."""
import os
from pathlib import Path

from host_tools import paths, vendor

MANIFEST = paths.FIRMWARE / "manifest.py"


class Options:
    def __init__(self, **kw):
        self.__dict__.update(kw)

    def defaults(self, **kw):
        for k, v in kw.items():
            self.__dict__.setdefault(k, v)


def frozen(**options):
    """-> (included manifests, frozen module names) for the given include() options."""
    included, names = [], []

    def add(base_path, rel):
        base = Path(base_path).resolve()
        assert (base / rel).is_file(), "%s: no such file" % (base / rel)
        names.append(rel[:-3].replace("/", "."))

    def package(name, files=None, base_path="."):
        if files is None:  # every .py under the package, as manifestfile.py takes it
            root = Path(base_path) / name
            files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.py"))
        for f in files:
            add(base_path, name + "/" + f)

    def freeze(path, script=None):
        assert script is None
        for f in sorted(os.listdir(path)):
            if f.endswith(".py"):
                add(path, f)

    def module(path, base_path="."):
        add(base_path, path)

    env = {"options": Options(**options), "include": included.append, "package": package,
           "freeze": freeze, "module": module}
    cwd = os.getcwd()
    os.chdir(MANIFEST.parent)  # as manifestfile.py does: paths are relative to the manifest
    try:
        exec(MANIFEST.read_text(), env)
    finally:
        os.chdir(cwd)
    return included, names


def test_esp32_image_carries_the_app_and_drivers_but_no_simulation():
    vendor.ensure(str(paths.VENDOR))
    included, names = frozen()
    assert included == ["$(PORT_DIR)/boards/manifest.py"]  # filesystem mount, asyncio, umqtt.simple
    app = {p.stem for p in (paths.FIRMWARE / "app").glob("*.py")}
    sim = {"board_unix", "norflash", "replay"}
    assert sim <= app  # a renamed simulation module must not slip into the image
    assert {n[4:] for n in names if n.startswith("app.")} == app - sim
    assert {p.stem for p in paths.LIB.glob("*.py")} <= set(names)
    assert "ssd1306" in names and "umqtt.simple" not in names  # the board's own umqtt.simple
    assert len(names) == len(set(names))


def test_unix_measurement_build_freezes_everything_the_sim_imports():
    vendor.ensure(str(paths.VENDOR))
    included, names = frozen(port=False, simulation=True)
    assert included == []
    assert {"app.board_unix", "app.norflash", "app.replay", "umqtt.simple"} <= set(names)
