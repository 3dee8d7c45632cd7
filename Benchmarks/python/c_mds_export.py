"""Workload (c) on Check Point's SDK: export every domain, 3 at a time.

One login; three worker threads, each with its own client (the SDK's connection is not shared
between threads) on the same session, each export waited for by the SDK itself.
"""

from concurrent.futures import ThreadPoolExecutor
import threading

from common import check, client, login

main = client()
login(main, domain="System Data")
listing = {"limit": 500, "details-level": "standard"}
reply = check(main.api_call("show-domains", listing), "show-domains")
domains = [domain["name"] for domain in reply.data["objects"]]
local = threading.local()


def export(domain):
    if not hasattr(local, "api"):
        local.api = client(sid=main.sid, api_version=main.api_version)
    body = {"domain-name": domain, "file-path": f"/var/log/chkflow/{domain}.tgz", "version": "R82"}
    reply = check(local.api.api_call("export-management", body), f"export of {domain}")
    return [task["status"] for task in reply.data.get("tasks", [])]


try:
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(export, domains))
finally:
    main.api_call("logout")
failed = [d for d, s in zip(domains, results) if s != ["succeeded"]]
if failed:
    raise SystemExit(f"exports that did not succeed: {failed}")
