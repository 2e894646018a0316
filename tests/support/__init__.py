"""Helpers shared by test files (no fixtures with side effects at import)."""
