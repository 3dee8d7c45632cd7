"""What the SDK scripts of the benchmark share: the server address and the login."""

import os
import sys

from cpapi import APIClient, APIClientArgs


def client(sid=None, api_version=None):
    """A client of the simulator at CHKP_HOST:CHKP_PORT (HTTPS; the SDK speaks nothing else)."""
    args = APIClientArgs(
        server=os.environ.get("CHKP_HOST", "127.0.0.1"),
        port=int(os.environ["CHKP_PORT"]),
        unsafe=True,
        sid=sid,
        api_version=api_version,
    )
    return APIClient(args)


def login(api, domain=None):
    reply = api.login("admin", os.environ.get("CHKP_PASSWORD", "chkflow"), domain=domain)
    check(reply, "login")
    return reply


def check(reply, what):
    if not reply.success:
        sys.exit(f"{what} failed: {reply.error_message}")
    return reply
