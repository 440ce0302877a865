"""The load benchmark: ``make bench`` (see docs/performance.md)."""
