"""The test suite: a package, so that ``tests.support`` imports under one name for pytest and mypy."""
