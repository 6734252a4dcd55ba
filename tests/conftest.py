"""pytest runs two kinds of tests:

- tests/test_*.py: host tools and integration, under CPython;
- tests/mp/test_*.py: firmware and driver code, UNDER THE MICROPYTHON UNIX PORT.
  Each `def test_*()` in such a module is collected (found by reading the
  source, never by importing it into CPython) and run in its own micropython
  process with the device's import path, once under each unix-port build:
  `test_x[std]` (64-bit, double float) and `test_x[esp32]` (the ESP32's 32-bit
  objects, single-precision float and integer time.time(); host_tools/mp.py).
  pytest reports each individually.
"""
import ast
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from host_tools import mp  # noqa: E402

# Tests that press Ctrl-C (SIGINT) on a tool model a technician at a terminal. A suite
# started as a background job (`make test &`) has SIGINT ignored, and an ignored signal
# is inherited by every process it starts: a tool would never see the Ctrl-C. A handler
# here is reset to the default in each child instead.
signal.signal(signal.SIGINT, signal.default_int_handler)

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
                for build in mp.BUILDS:
                    yield MicroPythonTest.from_parent(self, name="%s[%s]" % (node.name, build),
                                                      test_name=node.name, build=build)


class MicroPythonFailure(Exception):
    pass


class MicroPythonTest(pytest.Item):
    def __init__(self, *, test_name, build, **kw):
        super().__init__(**kw)
        self.test_name = test_name
        self.build = build

    def runtest(self):
        code = RUNNER % (str(MP_DIR), self.path.stem, self.test_name)
        env = mp.env()
        with tempfile.TemporaryDirectory(prefix="mptest-") as tmp:
            env["TMPDIR"] = tmp  # the test's own scratch files (mptest.scratch)
            proc = subprocess.run([mp.binary(self.build), "-c", code], cwd=str(ROOT),
                                  env=env, capture_output=True, text=True, timeout=300)
        if proc.returncode != 0:
            raise MicroPythonFailure(proc.stdout + proc.stderr)

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, MicroPythonFailure):
            return "under micropython (%s build):\n%s" % (self.build, excinfo.value)
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
