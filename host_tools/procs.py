"""Child processes the tools start (broker, virtual nodes): stopped politely, then firmly."""
import shutil
import subprocess


def stop(proc, grace=5):
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Scratch:
    """`with X() as x:` starts a process in a working directory and, on the way out,
    stops it and removes the directory if it made it (self.dir, self._own_dir)."""

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)
