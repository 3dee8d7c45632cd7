"""Workload (b) on Check Point's SDK: verification, wait, export, wait (the SDK's own waits)."""

from common import check, client, login


def ended_well(reply, what):
    check(reply, what)
    statuses = [task["status"] for task in reply.data.get("tasks", [])]
    if not statuses or any(s not in ("succeeded", "succeeded with warnings") for s in statuses):
        raise SystemExit(f"{what}: task ended {statuses}")


api = client()
login(api, domain="System Data")
try:
    verify = {"pre-export-verification-only": True, "version": "R82"}
    ended_well(api.api_call("export-management", verify), "verification")
    export = {"file-path": "/var/log/chkflow-bench.tgz", "version": "R82"}
    ended_well(api.api_call("export-management", export), "export")
finally:
    api.api_call("logout")
