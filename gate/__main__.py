"""``python -m gate``."""

from gate.cli import main

main(prog_name="codearts-gate")
