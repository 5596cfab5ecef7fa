"""What the tests/container scripts share: their arguments and a ctest-friendly exit code."""
import argparse
import os
import sys
import unittest

SKIP_EXIT = 77  # ctest SKIP_RETURN_CODE: every test in the script skipped (a tool is missing)


def parse_args(extra=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True, help="the built ipinsights binary")
    parser.add_argument("--source-dir", required=True, help="the repository root")
    if extra:
        extra(parser)
    args, rest = parser.parse_known_args()
    args.binary = os.path.abspath(args.binary)
    args.source_dir = os.path.abspath(args.source_dir)
    return args, rest


def run(rest):
    """Runs the calling module's tests; exit 0 passed, 1 failed, 77 when all were skipped."""
    program = unittest.main(module="__main__", argv=[sys.argv[0]] + rest, exit=False,
                            verbosity=2)
    result = program.result
    if not result.wasSuccessful():
        sys.exit(1)
    if result.testsRun and len(result.skipped) == result.testsRun:
        sys.exit(SKIP_EXIT)
    sys.exit(0)
