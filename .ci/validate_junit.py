"""Validate the JUnit report of every bundled example report against Jenkins' XSD."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import xmlschema

REPO = Path(__file__).resolve().parents[1]
XSD = REPO.parent / "shared" / "schemas" / "junit-10.xsd"
GATE = Path(sys.executable).with_name("codearts-gate")


def main() -> int:
    schema = xmlschema.XMLSchema(str(XSD))
    with tempfile.TemporaryDirectory() as tmp:
        for report in sorted((REPO / "examples" / "reports").glob("*.json")):
            junit = Path(tmp) / f"{report.stem}.xml"
            run = subprocess.run(
                [str(GATE), "--report-file", str(report), "--junit", str(junit), "-q"], check=False
            )
            schema.validate(str(junit))
            print(f"ci: {report.name}: exit {run.returncode}, JUnit valid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
