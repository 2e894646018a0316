"""``python -m weir.demo up|down|status``."""

from weir.demo.cli import main

main()
