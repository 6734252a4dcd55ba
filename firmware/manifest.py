# The node frozen into a MicroPython 1.25 firmware image (MicroPython's manifest
# mechanism, docs "MicroPython manifest files"). Frozen bytecode and its constant
# strings run from flash: the heap keeps only the objects the node makes, not
# ~70 KB of imported .mpy (README "Memory"). Build an ESP32 image with it:
#
#   make -C mpy-cross     # in a MicroPython v1.25.0 checkout, ESP-IDF set up
#   make -C ports/esp32 submodules BOARD=ESP32_GENERIC
#   make -C ports/esp32 BOARD=ESP32_GENERIC FROZEN_MANIFEST=/path/to/smartnode/firmware/manifest.py
#
# after `make setup` in this checkout (it vendors umqtt.simple and ssd1306 into
# build/vendor). Paths here are relative to this file. The unix port built with
# it (scripts/build-micropython.sh esp32model-frozen) is what the heap bench
# measures a frozen node on (README "Memory").
#
# Options, for include("firmware/manifest.py", ...) from another manifest:
#   port: also include the port's board manifest (on by default: it mounts the
#         filesystem, freezes asyncio and the networking bundle);
#   simulation: also freeze the unix board (the frozen unix build that measures
#         the heap; a chip never imports it).
import os

options.defaults(port=True, simulation=False)

if options.port:
    include("$(PORT_DIR)/boards/manifest.py")

# Simulation-only modules stay out of what a chip carries.
SIMULATION = ("board_unix.py", "norflash.py", "replay.py")

app = sorted(f for f in os.listdir("app") if f.endswith(".py"))
if not options.simulation:
    app = [f for f in app if f not in SIMULATION]
package("app", files=app, base_path=".")

# Drivers (lib/), each a top-level module as on the filesystem.
freeze("../lib")

# The vendored micropython-lib modules at the versions the tests run.
module("ssd1306.py", base_path="../build/vendor")
if not options.port:  # the ESP32 board manifest already freezes umqtt.simple
    package("umqtt", base_path="../build/vendor")
