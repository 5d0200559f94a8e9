"""``python -m rxgateway.emulator``: the emulator on its own (same as ``rxgateway emulate``)."""

import argparse
import sys

from ..tools.emulate import EPILOG, add_emulate_arguments, run_emulate

parser = argparse.ArgumentParser(
    prog="python -m rxgateway.emulator",
    description="A local Discord gateway for testing bots offline.",
    epilog=EPILOG,
    formatter_class=argparse.RawDescriptionHelpFormatter,
)
add_emulate_arguments(parser)
sys.exit(run_emulate(parser.parse_args()))
