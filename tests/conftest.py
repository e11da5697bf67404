"""Settings shared by every test directory."""

from __future__ import annotations

import os

from hypothesis import settings

# CI decides whether a submission lands, so there the property tests replay the same
# examples every run (a new counter-example shows up in a developer's run instead);
# elsewhere hypothesis keeps exploring.  Deadlines are off: a loaded 2-core machine
# makes single examples slow without anything being wrong.
settings.register_profile("ci", derandomize=True, deadline=None)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
