"""Child processes the tools start (broker, virtual nodes): stopped politely, then firmly."""
import subprocess


def stop(proc, grace=5):
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
