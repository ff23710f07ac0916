"""Benchmarks: figures measured in one run on this machine, printed and written as JSON."""
