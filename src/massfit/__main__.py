"""`python -m massfit`: the `massfit` command."""

import sys

from .cli import main


sys.exit(main())
