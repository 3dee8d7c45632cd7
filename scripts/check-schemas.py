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
    failures += check_result_samples()
    return 1 if failures else 0


# ---------------------------------------------------------------------------------------------
# Results: report and event samples (Tests/ResultsTests/Samples) against report.schema.json and
# events.schema.json. Each schema must also reject a few deliberately broken copies of a sample,
# so that a schema loose enough to accept anything fails here.

RESULT_SAMPLES = "Tests/ResultsTests/Samples"


def _report_breakages(report: dict) -> list:
    """Copies of a valid report that the schema must refuse, each with what was broken."""
    import copy

    broken = []

    def variant(what, change):
        document = copy.deepcopy(report)
        change(document)
        broken.append((what, document))

    variant("unknown status", lambda d: d["steps"][0].update(status="done"))
    variant("no run-id", lambda d: d.pop("run-id"))
    variant("unknown member", lambda d: d.update(extra=True))
    variant("time without zone", lambda d: d.update(started="2026-12-05T01:00:00"))
    variant("version 2", lambda d: d.update({"chkflow-report": 2}))
    variant("failed attempt without error", _drop_attempt_error)
    variant("error without message",
            lambda d: d["steps"][0].update(error={"code": "err_x"}))
    variant("missing count", lambda d: d["totals"]["steps"].pop("refused"))
    return broken


def _event_breakages(event: dict) -> list:
    import copy

    broken = []
    for what, change in [
        ("unknown type", lambda e: e.update(type="step-paused")),
        ("no run-id", lambda e: e.pop("run-id")),
        ("unknown member", lambda e: e.update(sid="abc")),
    ]:
        document = copy.deepcopy(event)
        change(document)
        broken.append((what, document))
    return broken


def _drop_attempt_error(report: dict) -> None:
    attempt = report["steps"][0]["attempts"][0]
    attempt["outcome"] = "failed"
    attempt.pop("error", None)


def _validate(validator, document, where: str) -> int:
    problems = 0
    for error in validator.iter_errors(document):
        path = "/".join(str(part) for part in error.absolute_path) or "(top)"
        print(f"{where}: {path}: {error.message}", file=sys.stderr)
        problems += 1
    return problems


def _refuses(validator, breakages, where: str) -> int:
    problems = 0
    for what, document in breakages:
        if validator.is_valid(document):
            print(f"{where}: the schema accepts a copy with {what}", file=sys.stderr)
            problems += 1
    return problems


def check_result_samples() -> int:
    """Validates the report and event samples; returns the number of problems."""
    import referencing

    schemas = {}
    for name in ("report", "events"):
        with open(f"schemas/{name}.schema.json", encoding="utf-8") as handle:
            schemas[name] = json.load(handle)
        jsonschema.Draft202012Validator.check_schema(schemas[name])
    # events.schema.json refers to report.schema.json by its $id: resolve it locally, never
    # over the network.
    registry = referencing.Registry().with_resources(
        (schema["$id"], referencing.Resource.from_contents(schema)) for schema in schemas.values()
    )
    validators = {
        name: jsonschema.Draft202012Validator(
            schema,
            registry=registry,
            format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
        )
        for name, schema in schemas.items()
    }
    problems = 0
    reports = sorted(glob.glob(f"{RESULT_SAMPLES}/report-*.json"))
    for path in reports:
        with open(path, encoding="utf-8") as handle:
            report = json.load(handle)
        problems += _validate(validators["report"], report, path)
        problems += _refuses(validators["report"], _report_breakages(report), path)
    lines = 0
    for path in sorted(glob.glob(f"{RESULT_SAMPLES}/events-*.ndjson")):
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                event = json.loads(line)
                where = f"{path}:{number}"
                problems += _validate(validators["events"], event, where)
                problems += _refuses(validators["events"], _event_breakages(event), where)
                lines += 1
    if not reports or not lines:
        print(f"no report or event samples in {RESULT_SAMPLES}", file=sys.stderr)
        problems += 1
    if problems == 0:
        print(f"schema: {len(reports)} report samples valid, {lines} event lines valid")
    else:
        print(f"schema: {problems} problems in the result samples")
    return problems


if __name__ == "__main__":
    sys.exit(main())
