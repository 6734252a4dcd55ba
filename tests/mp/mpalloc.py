# Does a hot path allocate?  micropython.heap_lock makes any allocation raise.


def steady_samples_allocate(sample_fn, ts, values):
    """How many of the calls sample_fn(t, values), t in ts, allocated on the heap."""
    import micropython
    allocating = 0
    for t in ts:
        micropython.heap_lock()
        try:
            sample_fn(t, values)
        except MemoryError:
            allocating += 1
        micropython.heap_unlock()
    return allocating
