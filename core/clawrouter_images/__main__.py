"""``python -m clawrouter_images``: the same as the ``clawrouter-images`` command."""

import sys

from ._cli import main

sys.exit(main())
