"""Board profiles (boards/*.json) and their validation against the chip's and the board's pin facts.

A profile names its chip, flash size, PSRAM, the MicroPython 1.25 build it
takes ("micropython": download board name, variant, and the machine name that
build reports, which `flash` finds in the image), and the wiring a technician
can provision:
  "uarts"      {name: {id, baud, tx, rx}}      board.uart(name): "pm" (SDS011/PMS5003,
               9600), "aux" (SPS30 or OPS243 radar, 115200)
  "i2c"        {name: {id, scl, sda, freq}}    BME280, SCD4x, magnetometers, VL53L1X
  "inputs"     {name: {pin, pull_up, active, ring}}  board.presence(name): loop cards (ring: edges, 32), a Doppler IF
  "ultrasonic" {name: {trigger, echo}}         an HC-SR04 / JSN-SR04T
  "sensors"    {sensor: config entry}          what `provision` copies into config.json; a
               DHT22's "data" pin, with "instead_of" where it shares a connector
  "onboard"    {part: pins}                    what the board maker wired (OLED, radio,
               battery divider, button): reserved, and may sit on strapping pins
An entry with "instead_of": ["uarts.aux", ...] is an alternative on the same
pins (a connector that carries one of two sensors); any other pin used twice is
refused.

Chip facts: Espressif ESP-IDF v5.2 GPIO reference ("GPIO6-11 are usually used for
SPI flash", "GPIO34-39 can only be set as input mode and do not have software
pullup or pulldown functions"; S3: "GPIO26-32 are usually used for SPI flash",
33-37 also with octal flash/PSRAM; C3: "GPIO12-17 are usually used for SPI
flash", "GPIO18 and 19 are used by USB-JTAG by default") and the chips'
datasheets (strapping pins; C3 GPIO11 is VDD_SPI, the flash supply, unless
eFuse VDD_SPI_AS_GPIO is burnt). Board facts are in each profile's "onboard".
"""
import json

from . import paths

# chip -> GPIOs that exist, SPI flash pins, pins PSRAM takes when fitted,
# strapping pins, input-only pins, pins without internal pull-up/down,
# the console/USB pins, free UART and I2C ids.
CHIPS = {
    "esp32": dict(gpios=set(range(0, 20)) | {21, 22, 23, 25, 26, 27} | set(range(32, 40)),
                  flash={6, 7, 8, 9, 10, 11}, psram={16, 17}, strapping={0, 2, 5, 12, 15},
                  input_only=set(range(34, 40)), no_pull=set(range(34, 40)), console={1, 3},
                  uarts={1, 2}, i2c={0, 1}),
    "esp32s3": dict(gpios=set(range(0, 22)) | set(range(26, 49)),
                    flash=set(range(26, 33)), psram={33, 34, 35, 36, 37}, strapping={0, 3, 45, 46},
                    input_only=set(), no_pull=set(), console={43, 44, 19, 20}, uarts={1, 2}, i2c={0, 1}),
    "esp32c3": dict(gpios=set(range(0, 22)), flash={11} | set(range(12, 18)), psram=set(),
                    strapping={2, 8, 9}, input_only=set(), no_pull=set(), console={18, 19, 20, 21},
                    uarts={1}, i2c={0}),
}
OUTPUT_ROLES = {"tx", "scl", "sda", "rst", "cs", "en", "led", "sck", "mosi", "trigger", "set_pin", "data"}
PIN_ROLES = OUTPUT_ROLES | {"rx", "miso", "echo", "pin", "dio0", "dio1", "dio2", "adc", "button"}
WIRING = ("onboard", "uarts", "i2c", "inputs", "ultrasonic")


class BoardError(ValueError):
    pass


def names():
    return sorted(p.stem for p in paths.BOARDS.glob("*.json"))


def load(name):
    path = paths.BOARDS / (name + ".json")
    if not path.exists():
        raise BoardError("unknown board %r (known: %s)" % (name, ", ".join(names())))
    try:
        profile = json.loads(path.read_text())
    except ValueError as e:
        raise BoardError("boards/%s.json line %s column %s: not valid JSON (%s): mend the file (a missing "
                         "comma or quote, a trailing comma?) or restore it with `git checkout boards/%s.json`"
                         % (name, getattr(e, "lineno", "?"), getattr(e, "colno", "?"),
                            getattr(e, "msg", e), name))
    problems = validate(profile)
    if problems:
        raise BoardError("boards/%s.json: %s" % (name, "; ".join(problems)))
    return profile


def _uses(profile):
    """-> [(entry "section.name", its spec, role, pin)] for every pin the profile wires."""
    out = []
    for section in WIRING:
        for name, spec in profile.get(section, {}).items():
            out += [("%s.%s" % (section, name), spec, role, pin)
                    for role, pin in spec.items() if role in PIN_ROLES and pin is not None]
    for sensor, spec in profile.get("sensors", {}).items():
        for role in ("set_pin", "data"):  # data: a DHT22's line, driven and read
            if spec.get(role) is not None:
                out.append(("sensors.%s" % sensor, spec, role, spec[role]))
    return out


def _alternatives(profile, a, b):
    def instead(entry):
        section, _, name = entry.partition(".")
        return profile.get(section, {}).get(name, {}).get("instead_of", ())
    return b in instead(a) or a in instead(b)


def validate(profile):
    """-> list of problems (empty when the profile is sound)."""
    problems = []
    chip = profile.get("chip")
    if chip == "unix":
        return problems
    facts = CHIPS.get(chip)
    if facts is None:
        return ["unknown chip %r (known: %s, unix)" % (chip, ", ".join(sorted(CHIPS)))]
    if not isinstance(profile.get("flash_mb"), int) or profile["flash_mb"] not in (2, 4, 8, 16, 32):
        problems.append("flash_mb must be the module's flash size in MB (2, 4, 8, 16 or 32)")
    mp = profile.get("micropython")
    if not isinstance(mp, dict) or not isinstance(mp.get("board"), str) or not isinstance(mp.get("machine"), str):
        problems.append('"micropython" must name the MicroPython build: {"board": "ESP32_GENERIC", '
                        '"variant": ..., "machine": its sys.implementation._machine}')
    psram = set(facts["psram"]) if profile.get("psram") else set()
    used = {}
    for entry, spec, role, pin in _uses(profile):
        what = "%s.%s" % (entry, role)
        onboard = entry.startswith("onboard.")
        if pin not in facts["gpios"]:
            problems.append("%s: GPIO%s does not exist on %s" % (what, pin, chip))
            continue
        if pin in facts["flash"]:
            problems.append("%s: GPIO%d is wired to the SPI flash" % (what, pin))
        elif pin in psram:
            problems.append("%s: GPIO%d is wired to the PSRAM" % (what, pin))
        elif pin in facts["console"]:
            problems.append("%s: GPIO%d is the USB/console port the technician needs" % (what, pin))
        elif pin in facts["strapping"] and not onboard:
            problems.append("%s: GPIO%d is a strapping pin (a sensor can stop the board booting)" % (what, pin))
        if role in OUTPUT_ROLES and pin in facts["input_only"]:
            problems.append("%s: GPIO%d is input-only" % (what, pin))
        if spec.get("pull_up") and pin in facts["no_pull"]:
            problems.append("%s: GPIO%d has no internal pull-up: fit a resistor and set pull_up false"
                            % (what, pin))
        other = used.get(pin)
        if other is not None and not _alternatives(profile, entry, other[0]):
            problems.append("%s: GPIO%d is already used by %s" % (what, pin, other[1]))
        used.setdefault(pin, (entry, what))
    uart_ids = {}
    for name, spec in profile.get("uarts", {}).items():
        uid = spec.get("id")
        if uid not in facts["uarts"]:
            problems.append("uarts %s: UART%s is not free for sensors on %s (use %s)"
                            % (name, uid, chip, ", ".join(map(str, sorted(facts["uarts"])))))
        elif uid in uart_ids and not _alternatives(profile, "uarts." + name, "uarts." + uart_ids[uid]):
            problems.append("uarts %s: UART%d is already uarts %s" % (name, uid, uart_ids[uid]))
        uart_ids.setdefault(uid, name)
    for name, spec in profile.get("i2c", {}).items():
        if spec.get("id") not in facts["i2c"]:
            problems.append("i2c %s: I2C%s does not exist on %s" % (name, spec.get("id"), chip))
    for sensor, spec in profile.get("sensors", {}).items():
        for kind, key in (("uart", "uarts"), ("i2c", "i2c")):
            if kind in spec and spec[kind] not in profile.get(key, {}):
                problems.append("sensor %s: no %s bus named %r" % (sensor, kind, spec[kind]))
    return problems


def sensor_connector(profile, sensor):
    """The connector an air sensor takes ("uarts.pm", "sensors.dht22"), or None (a shared I2C bus)."""
    spec = profile.get("sensors", {}).get(sensor, {})
    return ("uarts." + spec["uart"]) if "uart" in spec else ("sensors." + sensor) if "data" in spec else None


def shared(profile, uses):
    """uses: [(who, connector)] in config order -> [(first, second)]: pairs that need the same
    pins (the same connector, or alternatives on one)."""
    pairs = []
    for i, (who, conn) in enumerate(uses):
        for first, other in uses[:i]:
            if other == conn or _alternatives(profile, conn, other):
                pairs.append((first, who))
    return pairs


def clashes(profile, sensors):
    """Air sensors chosen together that need the same pins (alternatives on one connector) -> problems."""
    uses = [(s, sensor_connector(profile, s)) for s in sensors]
    return ["%s and %s share one connector on %s: fit one of them" % (a, b, profile.get("name"))
            for a, b in shared(profile, [u for u in uses if u[1]])]
