"""`flash`: offsets per chip family and plain-language errors from the real esptool."""
import pytest

from host_tools import flash
from host_tools.vboard import VirtualBoard


def test_bootloader_offset_per_chip_family():
    # Espressif's flash maps: the ESP32's second-stage bootloader at 0x1000, the S3's and C3's at 0x0.
    assert (flash.offset("esp32"), flash.offset("esp32s3"), flash.offset("esp32c3")) == (0x1000, 0x0, 0x0)


def test_wrong_port_is_named_with_what_to_do():
    with pytest.raises(flash.FlashError, match="no serial port /dev/ttyNOPE0: plug the board in"):
        flash.flash("/dev/ttyNOPE0", "esp32-devkitc")


def test_a_board_that_is_not_in_its_bootloader_gets_the_boot_button_advice():
    with VirtualBoard() as vb:  # MicroPython answers, the ROM bootloader does not
        with pytest.raises(flash.FlashError, match="no ESP32 bootloader answered.*hold the BOOT button"):
            flash.detect_chip(vb.device)
