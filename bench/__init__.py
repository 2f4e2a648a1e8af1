"""Benchmarks of newswire: extraction quality and cost (``python -m bench.quality``)."""
