"""Air-quality recordings."""
from . import Part, fmt


def _is_sds011_uart(path, head):
    return b"\xaa\xc0" in head and b"\xab" in head


@fmt("sds011-uart", _is_sds011_uart)
def sds011_uart(path, opts, period=1.0, frame=10):
    """Raw SDS011 UART bytes; one 10-byte frame per second from --start."""
    data = path.read_bytes()
    events = [{"t": opts.start + i * period, "uart": "pm", "hex": data[o:o + frame].hex()}
              for i, o in enumerate(range(0, len(data), frame))]
    return Part(config={"air": {"sensors": {"sds011": {"uart": "pm"}}}},
                board={"uarts": {"pm": {}}}, events=events)
