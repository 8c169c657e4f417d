#!/usr/bin/python3
"""The hostile corpus again, each case sent after the runner's audit hook was removed
(pycagetest.hook_bypass_prelude): what is refused here is refused by the container alone."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_hostile  # noqa: E402

if __name__ == "__main__":
    sys.argv[1:] = ["--unhooked"]
    test_hostile.main()
