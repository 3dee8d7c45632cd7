"""Workload (a) on Check Point's SDK: log in, 20 show-task calls on one task, log out."""

import os

from common import check, client, login

api = client()
login(api)
for _ in range(20):
    body = {"task-id": os.environ["TASK_ID"], "details-level": "full"}
    check(api.api_call("show-task", body), "show-task")
check(api.api_call("logout"), "logout")
