"""Benchmarks of the normalize + allocate path (`make bench`, `python -m bench.run`): not tests."""
