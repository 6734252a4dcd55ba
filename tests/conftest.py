"""pytest runs two kinds of tests:

- tests/test_*.py: host tools and integration, under CPython;
- tests/mp/test_*.py: firmware and driver code, UNDER THE MICROPYTHON UNIX PORT.
  Each `def test_*()` in such a module is collected (found by reading the
  source, never by importing it into CPython) and run in its own micropython
  process with the device's import path; pytest reports each individually.
"""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from host_tools import mp  # noqa: E402

MP_DIR = Path(__file__).resolve().parent / "mp"
RUNNER = """
import sys
sys.path.insert(0, %r)
mod = __import__(%r)
getattr(mod, %r)()
"""


def pytest_pycollect_makemodule(module_path, parent):
    # Replaces pytest's own module collector, so CPython never imports these.
    if module_path.parent == MP_DIR:
        return MicroPythonModule.from_parent(parent, path=module_path)
    return None


class MicroPythonModule(pytest.File):
    def collect(self):
        tree = ast.parse(self.path.read_text())
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                yield MicroPythonTest.from_parent(self, name=node.name)


class MicroPythonFailure(Exception):
    pass


class MicroPythonTest(pytest.Item):
    def runtest(self):
        code = RUNNER % (str(MP_DIR), self.path.stem, self.name)
        proc = subprocess.run([mp.binary(), "-c", code], cwd=str(ROOT),
                              env=mp.env(), capture_output=True, text=True, timeout=300)
        if proc.returncode != 0:
            raise MicroPythonFailure(proc.stdout + proc.stderr)

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, MicroPythonFailure):
            return "under micropython:\n" + str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, 0, "mp::%s" % self.name


@pytest.fixture
def broker():
    """A real Mosquitto on a free loopback port, private to the test."""
    from host_tools.broker import Mosquitto
    with Mosquitto() as b:
        yield b


@pytest.fixture
def subscriber(broker):
    """A CPython MQTT client subscribed to everything on the test's broker."""
    from tests.mqttsub import Subscriber
    s = Subscriber(broker.port)
    yield s
    s.close()
