"""What every test folder shares: one fake ClawRouter, one PNG maker, one sync/async twin.

- ``server``: ``FakeClawRouter``, on ``httpx.MockTransport`` or (``Loopback``) a real port.
- ``png``: ``png_bytes`` makes real PNGs of any size, colour or seed; ``png_size`` reads one.
- ``twin``: ``Twin``, ``ImageClient`` or ``AsyncImageClient`` behind one awaitable API.

``tests/`` is a package so that pytest puts the repository root on ``sys.path``: test
modules import ``tests.support`` at run time under the name mypy checks it by.  The
fixtures built on these live in ``tests/conftest.py``.
"""
