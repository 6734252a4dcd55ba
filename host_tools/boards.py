"""Board profiles (boards/*.json) and their validation against the chip's pin facts.

A profile names its chip, flash size, PSRAM, the buses sensors use ("uarts",
"i2c") and the sensors fitted by default; "onboard" lists what the board maker
wired (an OLED, a radio), whose pins are reserved but may be strapping pins.
Pin facts are from Espressif's ESP-IDF GPIO reference and module datasheets.
"""
import json

from . import paths

# chip -> GPIOs that exist, SPI flash pins, pins PSRAM takes when fitted,
# strapping pins, input-only pins, the console/USB pins, UART and I2C ids.
CHIPS = {
    "esp32": dict(gpios=set(range(0, 20)) | {21, 22, 23, 25, 26, 27} | set(range(32, 40)),
                  flash={6, 7, 8, 9, 10, 11}, psram={16, 17}, strapping={0, 2, 5, 12, 15},
                  input_only={34, 35, 36, 37, 38, 39}, console={1, 3}, uarts={1, 2}, i2c={0, 1},
                  flash_offset=0x1000),
    "esp32s3": dict(gpios=set(range(0, 22)) | set(range(26, 49)),
                    flash=set(range(26, 33)), psram={33, 34, 35, 36, 37}, strapping={0, 3, 45, 46},
                    input_only=set(), console={43, 44, 19, 20}, uarts={1, 2}, i2c={0, 1},
                    flash_offset=0x0),
    "esp32c3": dict(gpios=set(range(0, 22)), flash=set(range(12, 18)), psram=set(),
                    strapping={2, 8, 9}, input_only=set(), console={18, 19, 20, 21}, uarts={1},
                    i2c={0}, flash_offset=0x0),
}
OUTPUT_ROLES = ("tx", "scl", "sda", "rst", "cs", "en", "led")  # pins the chip must drive


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


def _pins(bus_kind, buses):
    for bus, spec in buses.items():
        for role, pin in spec.items():
            if role in ("tx", "rx", "scl", "sda", "rst", "sck", "mosi", "miso", "cs", "en", "led") and pin is not None:
                yield "%s %s.%s" % (bus_kind, bus, role), role, pin


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
    used = {}
    reserved = set(facts["flash"]) | (set(facts["psram"]) if profile.get("psram") else set())
    uses = []  # the maker's wiring first, so a clash names the sensor bus
    for part, spec in profile.get("onboard", {}).items():
        uses += [(what, role, pin, True) for what, role, pin in _pins("onboard", {part: spec})]
    for kind in ("uarts", "i2c"):
        uses += [(what, role, pin, False) for what, role, pin in _pins(kind, profile.get(kind, {}))]
    for what, role, pin, onboard in uses:
        if pin not in facts["gpios"]:
            problems.append("%s: GPIO%s does not exist on %s" % (what, pin, chip))
            continue
        if pin in facts["flash"]:
            problems.append("%s: GPIO%d is wired to the SPI flash" % (what, pin))
        elif pin in reserved:
            problems.append("%s: GPIO%d is wired to the PSRAM" % (what, pin))
        elif pin in facts["console"]:
            problems.append("%s: GPIO%d is the USB/console port the technician needs" % (what, pin))
        elif pin in facts["strapping"] and not onboard:
            problems.append("%s: GPIO%d is a strapping pin (a sensor can stop the board booting)" % (what, pin))
        if role in OUTPUT_ROLES and pin in facts["input_only"]:
            problems.append("%s: GPIO%d is input-only" % (what, pin))
        if pin in used:
            problems.append("%s: GPIO%d is already used by %s" % (what, pin, used[pin]))
        used.setdefault(pin, what)
    for name, spec in profile.get("uarts", {}).items():
        if spec.get("id") not in facts["uarts"]:
            problems.append("uarts %s: UART%s is not free for sensors on %s (use %s)"
                            % (name, spec.get("id"), chip, ", ".join(map(str, sorted(facts["uarts"])))))
    for name, spec in profile.get("i2c", {}).items():
        if spec.get("id") not in facts["i2c"]:
            problems.append("i2c %s: I2C%s does not exist on %s" % (name, spec.get("id"), chip))
    for sensor, spec in profile.get("sensors", {}).items():
        for kind, key in (("uart", "uarts"), ("i2c", "i2c")):
            if kind in spec and spec[kind] not in profile.get(key, {}):
                problems.append("sensor %s: no %s bus named %r" % (sensor, kind, spec[kind]))
    return problems
