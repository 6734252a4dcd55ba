"""Plain-language errors when the USB link to a node is not right."""
import os
import tty

import pytest
import serial

from host_tools.link import Link, LinkError
from host_tools.vboard import VirtualBoard


def test_a_missing_port_is_named_with_what_to_do():
    with pytest.raises(LinkError, match="no serial port /dev/ttyNOPE9: plug the board in"):
        Link("/dev/ttyNOPE9")


def test_a_port_another_program_holds_is_busy():
    with VirtualBoard() as vb:
        other = serial.Serial(vb.device, exclusive=True)  # e.g. a serial monitor left open
        try:
            with pytest.raises(LinkError, match="is busy: another program has it open"):
                Link(vb.device)
        finally:
            other.close()
        with Link(vb.device) as link:  # once it is closed the node answers
            assert link.eval("6 * 7") == 42


def test_a_board_without_micropython_is_recognised():
    master, slave = os.openpty()  # a port whose device never answers the REPL
    tty.setraw(slave)
    try:
        with pytest.raises(LinkError, match="nothing answers on .*is MicroPython on it"):
            Link(os.ttyname(slave))
    finally:
        os.close(master)
        os.close(slave)
