"""`python -m clinic ...` is the clinic command line."""

import sys

from clinic.cli import main

sys.exit(main())
