"""``python -m bench``: run every benchmark, one after the other."""

from __future__ import annotations

import runpy
import sys

BENCHMARKS = ["bench.gitops_bench", "bench.helm_bench", "bench.receiver_bench"]

if __name__ == "__main__":
    for module in BENCHMARKS:
        print(f"== {module}", flush=True)
        sys.argv = [module]
        runpy.run_module(module, run_name="__main__")
