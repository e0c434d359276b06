"""Bulk imports of reference data (operator commands, later upload pages).

- ``polling_scheme``: the polling scheme CSV, read and checked in pure Python.
- ``services``: the database side of the import (one durable transaction, audited).
- ``synthetic``: plausible, deterministic, invented schemes for tests and benchmarks.
- ``progress``: a small progress bar for terminals.

This package's ``__init__`` imports nothing, so the pure modules stay free of Django.
"""
