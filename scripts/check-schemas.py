"""Checks schemas/playbook.schema.json against the playbooks with a real JSON Schema validator.

Run by `make test` inside the venv that scripts/make-venv creates:

- every example playbook and every valid fixture must pass the schema;
- every invalid fixture whose second line says `# schema: rejects` must fail it;
- every invalid fixture whose second line says `# schema: cannot tell (...)` must pass it, so the
  schema is never stricter than chkflow itself;
- the schema lists exactly the error codes of chkflow's catalogue.

YAML is read the way chkflow reads it (YAML 1.2 core types): `yes`, `on` and `off` stay text
and times stay text, where a YAML 1.1 reader would turn them into booleans and dates.
Exits non-zero and names each file and problem when anything is wrong.
"""

import glob
import json
import re
import sys

import jsonschema
import yaml

SCHEMA = "schemas/playbook.schema.json"
CATALOGUE = "Sources/ChkflowCore/ErrorCatalogue.swift"
FIXTURES = "Tests/PlaybookTests/Fixtures"


class CoreLoader(yaml.SafeLoader):
    """A YAML loader whose plain scalars get the YAML 1.2 core types, as chkflow gives them."""


CoreLoader.yaml_implicit_resolvers = {}
CoreLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
CoreLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789")
)
CoreLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$"),
    list("-+.0123456789"),
)
CoreLoader.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]
)


def load(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=CoreLoader)


def marker(path):
    with open(path, encoding="utf-8") as handle:
        lines = handle.read().split("\n", 2)
    second = lines[1] if len(lines) > 1 else ""
    if second == "# schema: rejects":
        return "rejects"
    if second.startswith("# schema: cannot tell (") and second.endswith(")"):
        return "accepts"
    return None


def problems(validator, document):
    for error in validator.iter_errors(document):
        where = "/".join(str(part) for part in error.absolute_path) or "(top)"
        yield f"{where}: {error.message}"


def check_codes(schema):
    with open(CATALOGUE, encoding="utf-8") as handle:
        catalogue = set(re.findall(r'\.init\(\s*"([a-z_]+)"', handle.read()))
    listed = set(schema["$defs"]["errorMatch"]["anyOf"][0]["enum"]) - {"transport"}
    failures = []
    for code in sorted(catalogue - listed):
        failures.append(f"{SCHEMA}: code {code} of the catalogue is missing")
    for code in sorted(listed - catalogue):
        failures.append(f"{SCHEMA}: code {code} is not in the catalogue")
    return failures


def main() -> int:
    with open(SCHEMA, encoding="utf-8") as handle:
        schema = json.load(handle)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    failures = check_codes(schema)

    valid = sorted(glob.glob("playbooks/*.yaml")) + sorted(glob.glob(f"{FIXTURES}/valid/*.yaml"))
    for path in valid:
        failures += [f"{path}: {problem}" for problem in problems(validator, load(path))]

    invalid = sorted(glob.glob(f"{FIXTURES}/invalid/*.yaml"))
    rejected = 0
    for path in invalid:
        expected = marker(path)
        found = list(problems(validator, load(path)))
        if expected is None:
            failures.append(f"{path}: line 2 must be '# schema: rejects' or '# schema: cannot tell (why)'")
        elif expected == "rejects" and not found:
            failures.append(f"{path}: the schema accepts it, but the fixture says it rejects it")
        elif expected == "accepts" and found:
            failures.append(f"{path}: the schema rejects it ({found[0]}), but the fixture says it cannot tell")
        rejected += expected == "rejects"

    if not valid or not invalid:
        failures.append("no playbooks or fixtures found; run from the repository's root")
    for failure in failures:
        print(failure, file=sys.stderr)
    if failures:
        print(f"schema: {len(failures)} problems", file=sys.stderr)
        return 1
    print(
        f"schema: {len(valid)} valid playbooks pass; {rejected} of {len(invalid)} invalid fixtures"
        f" rejected, the other {len(invalid) - rejected} left to chkflow validate as marked"
    )
    return 1 if check_result_samples() + check_scenarios() else 0


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



# ---------------------------------------------------------------------------------------------
# Simulator scenarios (playbooks/scenarios, the end-to-end fixtures) against scenario.schema.json.

SCENARIO_SCHEMA = "schemas/scenario.schema.json"
SCENARIOS = ["playbooks/scenarios/*.yaml", "Tests/EndToEndTests/Fixtures/*scenario*.yaml",
             "Tests/EndToEndTests/Fixtures/slow-*.yaml", "Tests/EndToEndTests/Fixtures/mds-*.yaml"]


def check_scenarios() -> int:
    with open(SCENARIO_SCHEMA, encoding="utf-8") as handle:
        schema = json.load(handle)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    paths = sorted({path for pattern in SCENARIOS for path in glob.glob(pattern)})
    failures = 0
    for path in paths:
        document = load(path)
        found = [error.message for error in validator.iter_errors(document)]
        bad = "bad-" in path
        if bad and not found:
            print(f"{path}: the scenario schema accepts it, but it is a bad scenario", file=sys.stderr)
            failures += 1
        if not bad:
            for message in found:
                print(f"{path}: {message}", file=sys.stderr)
                failures += 1
    print(f"schema: {len(paths)} scenario files checked")
    return failures


if __name__ == "__main__":
    sys.exit(main())
