"""``python -m shallownet_fast``: the command line of :mod:`shallownet_fast.cli`."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
