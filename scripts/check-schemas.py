"""Checks every example playbook against schemas/playbook.schema.json with a real validator.

Run by `make test` inside the venv that scripts/make-venv creates. Exits non-zero and names
each file and problem when anything does not validate.
"""

import glob
import json
import sys

import jsonschema
import yaml


def main() -> int:
    with open("schemas/playbook.schema.json", encoding="utf-8") as handle:
        schema = json.load(handle)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    failures = 0
    files = sorted(glob.glob("playbooks/*.yaml"))
    for path in files:
        with open(path, encoding="utf-8") as handle:
            document = yaml.safe_load(handle)
        for error in validator.iter_errors(document):
            where = "/".join(str(part) for part in error.absolute_path) or "(top)"
            print(f"{path}: {where}: {error.message}", file=sys.stderr)
            failures += 1
    if not files:
        print("no playbooks found", file=sys.stderr)
        return 1
    print(f"schema: {len(files)} playbooks valid" if failures == 0 else f"schema: {failures} problems")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
