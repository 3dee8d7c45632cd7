"""Issue 4 on Check Point's SDK: log in, N show-task calls, log out, on one connection.

Timed inside the process (after Python has started and imported cpapi); prints one JSON object.
"""

import json
import os
import statistics
import sys
import time

from common import check, client, login

calls = int(sys.argv[1]) if len(sys.argv) > 1 else 200
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
seconds = []
for _ in range(runs):
    start = time.perf_counter()
    api = client()
    login(api)
    for _ in range(calls):
        body = {"task-id": os.environ["TASK_ID"], "details-level": "full"}
        check(api.api_call("show-task", body), "show-task")
    check(api.api_call("logout"), "logout")
    seconds.append(time.perf_counter() - start)
requests = calls + 2
print(json.dumps({
    "benchmark": "client-rate", "tool": "python-sdk", "requests": requests, "seconds": seconds,
    "median_calls_per_second": requests / statistics.median(seconds),
    "min_calls_per_second": requests / max(seconds),
    "max_calls_per_second": requests / min(seconds),
}))
