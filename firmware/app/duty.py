# Duty cycle of a laser particulate sensor, as a state machine fed explicit
# time: asleep most of the period, awake `warmup` s before sampling (the fan
# needs ~30 s to give stable readings, as airrohr, Tasmota and the Plantower
# manual advise), then `sample` s of readings, ending at the period boundary
# so each reporting interval closes on fresh readings.
SLEEPING = 0
WARMING = 1
SAMPLING = 2


class DutyCycle:
    def __init__(self, period, warmup=30, sample=10):
        if warmup + sample >= period:
            raise ValueError("duty: warmup + sample must be shorter than the period")
        self.period = period
        self.warmup = warmup
        self.sample = sample
        self.state = None  # unknown until the first step: the first step always commands

    def phase(self, t):
        p = (t + self.warmup + self.sample) % self.period
        if p < self.warmup:
            return WARMING
        if p < self.warmup + self.sample:
            return SAMPLING
        return SLEEPING

    def step(self, t):
        """-> "wake", "sleep" or None: the command the sensor needs now."""
        new = self.phase(t)
        old = self.state
        self.state = new
        if new == SLEEPING and old != SLEEPING:
            return "sleep"
        if new != SLEEPING and (old == SLEEPING or old is None):
            return "wake"
        return None

    def sampling(self):
        return self.state == SAMPLING
