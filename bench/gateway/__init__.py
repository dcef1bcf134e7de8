"""Benchmark: the same read through the gateway and direct to the service (``python -m bench.gateway``)."""
