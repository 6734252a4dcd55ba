# display.us_per_redraw: CPU time of one status-display redraw (the shell's state
#   into Status, the 128x64 frame drawn in RAM), under the unix port; the panel's
#   I2C transfer on a board comes on top.
# display.alloc_bytes_per_redraw: heap allocated per redraw while the latest
#   reading stays the same (the steady case between readings).
import gc
import sys
import time

sys.path.insert(0, "tests/mp")
from test_screen import OLED, sense, shell_on  # noqa: E402

from app.screen import open_screen  # noqa: E402

N = 500
shell = shell_on(OLED)
screen = open_screen(shell)
sense(shell, 1000, 12)  # one air reading to show
screen.step()

t0 = time.ticks_us()
for _ in range(N):
    screen.step()
elapsed = time.ticks_diff(time.ticks_us(), t0)
print("display.us_per_redraw %.0f us" % (elapsed / N))

gc.collect()
gc.disable()
a = gc.mem_alloc()
for _ in range(N):
    screen.step()
allocated = gc.mem_alloc() - a
gc.enable()
print("display.alloc_bytes_per_redraw %.0f bytes" % (allocated / N))
