"""What every test folder shares: one fake ClawRouter, one PNG maker, one sync/async twin.

``fixtures`` is loaded as a pytest plugin by ``tests/conftest.py``, so its fixtures reach
every folder.  Test folders have no ``__init__.py``, so at run time this package is
``support`` (pytest puts ``tests/`` on ``sys.path``) while mypy knows it as
``tests.support``: test modules import from it only under ``TYPE_CHECKING``, and reach the
helpers at run time through the fixtures, which carry them.
"""
