#!/usr/bin/env python3
"""Build the clinic's handouts: see README.md, or `python generate.py --help`."""

import sys

from handoutpress import main

if __name__ == "__main__":
    sys.exit(main())
