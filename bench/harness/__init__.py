"""The pieces of the benchmark harness; bench/run.py puts them together."""
