# Runs first on every boot; keep it tiny so a broken app never blocks the REPL.
import gc

gc.collect()
