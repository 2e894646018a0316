"""weir benchmarks: side-by-side figures from one run, never asserted as timings in tests."""
