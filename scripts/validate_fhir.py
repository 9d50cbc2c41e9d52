#!/usr/bin/env python3
"""Validates FHIR NDJSON files written by `mhis export fhir` with the
independent Python models of `fhir.resources` (6.5.x, pydantic 1).

Usage: validate_fhir.py DIR [--sample N]

Every line of every `*.ndjson` file in DIR (or the first N of each with
--sample) is parsed by the model of its resourceType. Exits 1 when any
resource is invalid, or when DIR holds no resources at all; prints one
line per resource type.

Note: fhir.resources 6.5.x models FHIR 4.3.0 (R4B), the release closest
to R4 4.0.1 that the package ships at top level; the resource types mhis
emits are unchanged between R4 and R4B in the elements mhis writes.
"""

import json
import pathlib
import sys

import fhir.resources
from fhir.resources import get_fhir_model_class


def main() -> int:
    args = sys.argv[1:]
    if not args:
        print(__doc__)
        return 2
    directory = pathlib.Path(args[0])
    sample = None
    if "--sample" in args:
        sample = int(args[args.index("--sample") + 1])
    print(f"fhir.resources {fhir.resources.__version__} (FHIR {fhir.resources.__fhir_version__})")
    failures = 0
    total = 0
    for path in sorted(directory.glob("*.ndjson")):
        checked = 0
        with path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                if sample is not None and checked >= sample:
                    break
                checked += 1
                try:
                    resource = json.loads(line)
                    model = get_fhir_model_class(resource["resourceType"])
                    model.parse_obj(resource)
                except Exception as error:  # noqa: BLE001 - report every failure
                    failures += 1
                    print(f"INVALID {path.name}:{number}: {error}")
        total += checked
        print(f"{path.stem}: {checked} checked")
    if total == 0:
        print(f"no resources found in {directory}")
        return 1
    if failures:
        print(f"{failures} invalid resource(s) of {total}")
        return 1
    print(f"all {total} resources valid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
