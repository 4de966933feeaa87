"""``python -m ecosystem_sim`` is the ``ecosim`` command."""

import sys

from ecosystem_sim.cli import main

sys.exit(main())
