"""Benchmarks of casebot (run them with ``make bench``; figures go to benchmarks/RESULTS.md)."""
