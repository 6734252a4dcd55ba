"""Which sensors the firmware reads, and where each is wired on a board.

A node's config names sensors; their buses come from the board profile
(boards/<name>.json, host_tools/boards.py): "sensors" maps a sensor to its
wiring ({"uart": "pm"}, {"i2c": "main"}), "uarts"/"i2c" are the buses, "inputs"
the presence inputs. A magnetometer or ranger without a "sensors" entry goes
on the board's I2C bus when it has exactly one. fill() completes a config from
the profile and names, for each sensor the board cannot carry, the field, the
board and what would do.
"""
from . import boards

# sensor -> the bus it needs, for the pipeline that reads it (firmware/app/air_sources.py,
# magsensor.py, traffic.py); "data": a GPIO (a DHT22's data line)
AIR = {"sds011": "uart", "pms5003": "uart", "sps30": "uart", "bme280": "i2c", "scd4x": "i2c", "dht22": "data"}
MAGNETOMETERS = ("qmc5883l", "hmc5883l", "lis3mdl")
RANGERS = ("vl53l1x", "hcsr04")  # hcsr04: a trigger/echo pair of the profile's "ultrasonic"
RADARS = ("ops243",)
DOPPLER = "doppler"  # a CW Doppler module's IF on an input: "doppler": "<input>" in a lane
# what a driver exists for, or the schema names, but no pipeline reads on a board (none today)
NOT_ON_A_BOARD = {}
SPOT_EXAMPLE = '{"spot": 1, "sensor": {"type": "qmc5883l"}} or {"spot": 1, "ranger": {"type": "vl53l1x"}}'
LANE_EXAMPLE = ('"traffic": {"lanes": [{"lane": 1, "radar": "ops243"}]}, {"lane": 1, "doppler": "doppler"} '
                'or {"lane": 1, "presence": ["loop1"]}')
NOT_COPIED = ("instead_of", "note")  # the profile's own annotations


def known():
    return sorted(AIR) + list(MAGNETOMETERS + RANGERS + RADARS) + [DOPPLER, "presence"]


def sensor_column(name):
    """A name in the inventory's `sensors` column -> (air sensor name, None) or (None, why not)."""
    if name in AIR:
        return name, None
    if name in MAGNETOMETERS or name in RANGERS:
        return None, ("%s reads parking spots or traffic lanes: say which in the node's type, e.g. "
                      '"parking": {"spots": [%s]}' % (name, SPOT_EXAMPLE.replace("qmc5883l", name)
                                                      .replace("vl53l1x", name)))
    if name in RADARS or name in (DOPPLER, "presence"):
        return None, "%s counts a traffic lane: say which in the node's type, e.g. %s" % (name, LANE_EXAMPLE)
    if name in NOT_ON_A_BOARD:
        return None, NOT_ON_A_BOARD[name]
    return None, "unknown sensor %r (known: %s)" % (name, ", ".join(known()))


class Wiring:
    """fill(cfg) against one board profile; err(field, message, origin) collects what is wrong,
    set(field) records that a value came from the profile."""

    def __init__(self, board, profile, err, set_from_board):
        self.board = board
        self.profile = profile
        self.err = err
        self.set = set_from_board
        self.real = profile.get("chip") != "unix"  # the unix port replays what a board would read

    def buses(self, kind):
        if kind == "data":
            return []  # a GPIO, not a named bus
        return sorted(self.profile.get({"uart": "uarts", "i2c": "i2c", "ultrasonic": "ultrasonic"}[kind]) or {})

    def _wired(self, sensor):
        return (self.profile.get("sensors") or {}).get(sensor)

    def _missing(self, field, sensor, kind):
        wired = sorted(self.profile.get("sensors") or {})
        if kind in ("data", "ultrasonic"):
            self.err(field, "board %s has no wiring for %s (%s): choose a board that carries it, or give %s"
                     % (self.board, sensor, "it wires: " + (", ".join(wired) or "nothing") if kind == "data"
                        else "no \"ultrasonic\" trigger/echo pair in its profile",
                        '{"data": <GPIO>} (a free pin that can drive, with a 10 kOhm pull-up)' if kind == "data"
                        else 'its trigger/echo pair a name in the profile\'s "ultrasonic" and here {"ultrasonic": "<name>"}'))
            return
        self.err(field, "board %s has no wiring for %s (it wires: %s): choose a board that carries it, or "
                 "give its bus here, {\"%s\": \"<bus>\"} (%s buses on %s: %s)"
                 % (self.board, sensor, ", ".join(wired) or "nothing", kind, kind.upper(), self.board,
                    ", ".join(self.buses(kind)) or "none"))

    def _bus(self, field, kind, name):
        if kind != "data" and name not in self.buses(kind):
            self.err(field, "board %s has no %s bus %r (its %s buses: %s)"
                     % (self.board, kind.upper(), name, kind.upper(), ", ".join(self.buses(kind)) or "none"))

    def _part(self, spec, field, sensor, kind):
        """Complete one sensor's config entry (a dict) with its bus from the profile."""
        if kind in spec:
            self._bus(field + "." + kind, kind, spec[kind])
            return
        wired = self._wired(sensor)
        if not isinstance(wired, dict) or kind not in wired:
            if kind not in ("i2c", "ultrasonic") or sensor in AIR or len(self.buses(kind)) != 1:
                self._missing(field, sensor, kind)
                return
            wired = {kind: self.buses(kind)[0]}  # an I2C part shares the one bus; the one ranger pair
        for k, v in wired.items():
            if k not in spec and k not in NOT_COPIED:
                spec[k] = v
                self.set(field + "." + k)

    def fill(self, cfg):
        air = cfg.get("air")
        if isinstance(air, dict) and isinstance(air.get("sensors"), dict):
            for name, spec in air["sensors"].items():
                field = "air.sensors." + name
                if name not in AIR:
                    why = NOT_ON_A_BOARD.get(name) or "unknown sensor %r (known: %s)" % (name, ", ".join(sorted(AIR)))
                    if self.real or name not in NOT_ON_A_BOARD:
                        self.err(field, why)
                elif not self.real and AIR[name] == "data" and not self._wired(name) and "data" not in spec:
                    pass  # the unix port: a DHT22's samples come from recordings (replay)
                elif isinstance(spec, dict):
                    self._part(spec, field, name, AIR[name])
            for msg in boards.clashes(self.profile, [n for n in air["sensors"] if n in AIR]):
                self.err("air.sensors", msg)
        parking = cfg.get("parking")
        if isinstance(parking, dict) and isinstance(parking.get("spots"), list):
            for i, spot in enumerate(parking["spots"]):
                if isinstance(spot, dict):
                    self._spot(spot, "parking.spots[%d]" % i)
        traffic = cfg.get("traffic")
        if isinstance(traffic, dict) and isinstance(traffic.get("lanes"), list):
            for i, lane in enumerate(traffic["lanes"]):
                if isinstance(lane, dict):
                    self._lane(lane, "traffic.lanes[%d]" % i)
        self._across(cfg)

    def _across(self, cfg):
        """Air sensors, spots and lanes that need the same pins (air alone: above)."""
        uses = []
        air = cfg.get("air")
        if isinstance(air, dict) and isinstance(air.get("sensors"), dict):
            uses = [("air.sensors." + n, boards.sensor_connector(self.profile, n)) for n in air["sensors"] if n in AIR]
        parking = cfg.get("parking")
        for i, spot in enumerate(parking.get("spots") or () if isinstance(parking, dict) else ()):
            ranger = spot.get("ranger") if isinstance(spot, dict) else None
            if isinstance(ranger, dict) and isinstance(ranger.get("ultrasonic"), str):
                uses.append(("parking.spots[%d].ranger" % i, "ultrasonic." + ranger["ultrasonic"]))
        traffic = cfg.get("traffic")
        for i, lane in enumerate(traffic.get("lanes") or () if isinstance(traffic, dict) else ()):
            if not isinstance(lane, dict):
                continue
            field = "traffic.lanes[%d]" % i
            if isinstance(lane.get("radar"), str):
                uses.append((field + ".radar", "uarts." + lane["radar"]))
            if isinstance(lane.get("doppler"), str):
                uses.append((field + ".doppler", "inputs." + lane["doppler"]))
            for name in lane.get("presence") or () if isinstance(lane.get("presence"), list) else ():
                uses.append((field + ".presence", "inputs." + str(name)))
        for first, second in boards.shared(self.profile, [u for u in uses if u[1]]):
            if not (first.startswith("air.") and second.startswith("air.")):
                self.err(second, "needs the pins %s already uses on %s: fit one of them, or wire it "
                         "elsewhere" % (first, self.board))

    def _typed(self, spec, field, kinds, default):
        kind = spec.get("type", default)
        if kind not in kinds:
            self.err(field + ".type", "one of %s" % ", ".join(kinds))
            return
        if "type" not in spec:
            spec["type"] = kind
            self.set(field + ".type")
        self._part(spec, field, kind, "ultrasonic" if kind == "hcsr04" else "i2c")

    def _spot(self, spot, field):
        if isinstance(spot.get("sensor"), dict):
            self._typed(spot["sensor"], field + ".sensor", MAGNETOMETERS, "qmc5883l")
        if isinstance(spot.get("ranger"), dict):
            self._typed(spot["ranger"], field + ".ranger", RANGERS, "vl53l1x")
        if self.real and not spot.get("sensor") and not spot.get("ranger"):
            self.err(field, "no sensor: give it one, e.g. " + SPOT_EXAMPLE)

    def _lane(self, lane, field):
        if isinstance(lane.get("magnetometer"), dict):
            self._typed(lane["magnetometer"], field + ".magnetometer", MAGNETOMETERS, "qmc5883l")
        radar = lane.get("radar")
        if isinstance(radar, str):
            if radar in RADARS:  # the sensor's name: its UART from the profile
                wired = self._wired(radar)
                if isinstance(wired, dict) and "uart" in wired:
                    lane["radar"] = wired["uart"]
                    self.set(field + ".radar")
                else:
                    self.err(field + ".radar", "board %s has no wiring for %s: name the UART it is on, \"radar\": "
                             "\"<uart>\" (UART buses on %s: %s)" % (self.board, radar, self.board,
                                                                   ", ".join(self.buses("uart")) or "none"))
            else:
                self._bus(field + ".radar", "uart", radar)
        inputs = self.profile.get("inputs") or {}
        doppler = lane.get("doppler")
        if isinstance(doppler, str) and doppler not in inputs:  # the unix port cannot feed one either
            self.err(field + ".doppler", "board %s has no input %r for a Doppler module's IF (its inputs: %s)"
                     % (self.board, doppler, ", ".join(sorted(inputs)) or "none"))
        for name in lane.get("presence") or ():
            if self.real and name not in inputs:
                self.err(field + ".presence", "board %s has no presence input %r (its inputs: %s)"
                         % (self.board, name, ", ".join(sorted(inputs)) or "none"))
        if self.real and not (lane.get("presence") or isinstance(lane.get("magnetometer"), dict) or radar
                              or doppler):
            self.err(field, 'no detector: give it "presence": [inputs], "magnetometer": {"type": ...}, '
                     '"radar": "ops243" or "doppler": "<input>"')
