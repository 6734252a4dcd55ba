# The board layer: everything that touches hardware, clocks or the platform.
# The core above it only sees UART-like streams, buses, pins and Unix seconds.
import sys

if sys.platform in ("linux", "darwin"):
    from app.board_unix import Board, reset, reset_cause, watchdog  # noqa: F401
else:
    from app.board_esp32 import Board, reset, reset_cause, watchdog  # noqa: F401
