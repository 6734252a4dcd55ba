# BME280 driver under MicroPython against a register map built from datasheet values.
from fakei2c import EXAMPLE, EXAMPLE_ADC_H, EXAMPLE_ADC_P, EXAMPLE_ADC_T, RegisterBus, bme280_registers
from mptest import raises

from bme280 import BME280


def _bus(**kw):
    bus = RegisterBus()
    bus.devices[0x76] = bme280_registers(EXAMPLE, EXAMPLE_ADC_T, EXAMPLE_ADC_P, EXAMPLE_ADC_H, **kw)
    return bus


def _double_humidity(c, adc_t, adc_h):
    # The datasheet's double-precision formulas (section 8.1), an independent path.
    v1 = (adc_t / 16384.0 - c["T1"] / 1024.0) * c["T2"]
    v2 = (adc_t / 131072.0 - c["T1"] / 8192.0) ** 2 * c["T3"]
    t_fine = v1 + v2
    h = t_fine - 76800.0
    h = (adc_h - (c["H4"] * 64.0 + c["H5"] / 16384.0 * h)) * (
        c["H2"] / 65536.0 * (1.0 + c["H6"] / 67108864.0 * h * (1.0 + c["H3"] / 67108864.0 * h)))
    h = h * (1.0 - c["H1"] * h / 524288.0)
    return min(100.0, max(0.0, h))


def test_datasheet_example_compensates_to_the_published_values():
    d = BME280(_bus())
    d.read()
    # BMP280 datasheet 3.12: T = 25.08 degC, t_fine = 128422, p = 100653.27 Pa.
    assert d.temperature == 2508
    assert d.t_fine == 128422
    assert abs(d.pressure / 256 - 100653.27) < 1.0
    expected_h = _double_humidity(EXAMPLE, EXAMPLE_ADC_T, EXAMPLE_ADC_H)
    assert 0 < expected_h < 100
    assert abs(d.humidity / 1024 - expected_h) < 0.1, (d.humidity / 1024, expected_h)


def test_calibration_readout_keeps_signs_and_split_nibbles():
    c = dict(EXAMPLE)
    c.update(H4=-200, H5=-7, H6=-3, H2=-5)
    bus = RegisterBus()
    bus.devices[0x77] = bme280_registers(c, EXAMPLE_ADC_T, EXAMPLE_ADC_P, EXAMPLE_ADC_H)
    d = BME280(bus, address=0x77)
    assert (d.T1, d.T2, d.T3, d.P2, d.P6, d.P8) == (27504, 26435, -1000, -10685, -7, -14600)
    assert (d.H1, d.H2, d.H3, d.H4, d.H5, d.H6) == (75, -5, 0, -200, -7, -3)


def test_wrong_chip_or_no_device_raises_oserror():
    raises(OSError, BME280, _bus(chip_id=0x58))  # a BMP280 has no humidity
    raises(OSError, BME280, RegisterBus())


def test_forced_mode_writes_ctrl_hum_before_ctrl_meas():
    bus = _bus()
    d = BME280(bus)
    d.force()
    # ctrl_hum takes effect only after a write to ctrl_meas (datasheet 5.4.3).
    assert bus.writes == [(0x76, 0xF2, b"\x01"), (0x76, 0xF4, b"\x25")]
    bus.devices[0x76][0xF3] = 0x08
    assert d.busy()
    bus.devices[0x76][0xF3] = 0x00
    assert not d.busy()
