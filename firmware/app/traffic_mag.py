# A traffic lane over a magnetometer (app.traffic): a pass is the field's deviation
# from the empty lane's baseline rising and falling (app.vehicle.PassDetector).
from app.baselines import BaselineKeeper
from app.magfield import FieldDeviation, calibrate_command, valid_sample  # noqa: F401 (traffic's calibrate)
from app.magsensor import open_magnetometer, read_if_ready  # noqa: F401 (traffic's build)
from app.vehicle import PassDetector


class MagLane:
    def __init__(self, lane, axes, on, off, gap, calibrate, baseline, driver=None, baselines=None):
        self.lane = lane
        self.driver = driver
        name = "l%d" % lane.id
        if not baseline and baselines is not None:  # config wins over the stored one
            baseline = baselines.get(name, axes)
        self.field = FieldDeviation(axes, baseline)
        self.keeper = BaselineKeeper(baselines, name)
        if self.field.calibrated:
            self.keeper.loaded(self.field.base)
        self.passes = PassDetector(on, off, gap)
        self._cal_request = calibrate if not self.field.calibrated else 0
        lane.live = True

    def calibrate(self, seconds):
        """Take a new baseline over the next `seconds` of samples (the lane empty)."""
        self._cal_request = seconds

    def sample(self, t, ms, values):
        if self._cal_request:
            self.field.calibrate(ms, self._cal_request)
            self._cal_request = 0
        was_calibrating = self.field.calibrating
        r = self.passes.update(ms, self.field.update(ms, values))
        if was_calibrating and not self.field.calibrating:
            self.keeper.calibrated(t, self.field.base)
        if r > 0:
            self.lane.on(t, self.passes.start)
        elif r < 0:
            self.lane.off(t, self.passes.end)
        return r

    def poll(self, t, ms):
        """Read the magnetometer if it has a sample ready."""
        values = read_if_ready(self.driver)
        if values is not None:
            self.sample(t, ms, values)

    def valid(self, values):
        return valid_sample(values, self.field.axes)
