# The node, behind its crash-loop guard (app/guard.py). The reset cause is read
# before anything else can fail. An exception out of the app resets the board (a
# node stuck at a REPL on a lamp post helps nobody); several resets in a row soon
# after boot stop instead in safe mode, the REPL free for a deploy or a config fix.
from app import board, guard

cause = board.reset_cause()
resets = guard.count_boot(cause)
if resets > guard.RESETS:
    from app import safemode

    safemode.enter(resets, cause)
else:
    try:
        import app.run

        app.run.main(cause=cause)
    except KeyboardInterrupt:  # a technician's Ctrl-C: the REPL is theirs
        guard.relax(board)
        raise
    except Exception as e:
        print("crash:", repr(e), "- resetting")
        guard.crashed(e)
        board.reset()
