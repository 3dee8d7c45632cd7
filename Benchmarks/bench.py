#!/usr/bin/env python3
"""Runs the benchmarks of chkflow side by side with the tools users pick instead.

Every workload runs against a fresh `chkflow simulate --tls` per tool and per run, so the
simulator's request log holds exactly what one tool sent in one run. Whole-process wall time and
peak memory come from the process itself (wait4); calls, connections, logins and show-task
calls from the request log. Python 3 standard library only: the Python SDK and Ansible run from
Benchmarks/.venv when it exists and are skipped, with the reason printed, when it does not.

    python3 Benchmarks/bench.py [--quick] [--runs N] [--chkflow PATH] [--bench-bin PATH]
"""

import argparse
import json
import os
import platform
import re
import shutil
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
VENV = os.path.join(BENCH, ".venv")
RESULTS = os.path.join(BENCH, "results")
PASSWORD = "chkflow"


# MARK: - The simulator


class Simulator:
    """`chkflow simulate --tls` on a free loopback port, with a request log."""

    def __init__(self, chkflow, scenario, workdir):
        self.log = os.path.join(workdir, "requests.jsonl")
        self.stderr_path = os.path.join(workdir, "simulator.err")
        with open(self.stderr_path, "wb") as stderr:
            self.process = subprocess.Popen(
                [chkflow, "simulate", "--tls", "--listen", "127.0.0.1:0", "--log", self.log,
                 "--scenario", scenario],
                stdout=subprocess.PIPE, stderr=stderr, text=True)
        self.url = self.process.stdout.readline().strip()
        if not self.url.startswith("https://"):
            self.stop()
            raise RuntimeError(f"the simulator did not start: {self._stderr()}")
        self.port = int(self.url.rsplit(":", 1)[1])
        self.sha256 = self._fingerprint()

    def _stderr(self):
        with open(self.stderr_path, encoding="utf-8", errors="replace") as file:
            return file.read()

    def _fingerprint(self):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            found = re.search(r"SHA-256 fingerprint: ([0-9A-F:]+)", self._stderr())
            if found:
                return found.group(1)
            time.sleep(0.01)
        raise RuntimeError("the simulator printed no SHA-256 fingerprint")

    def records(self):
        with open(self.log, encoding="utf-8") as file:
            return [json.loads(line) for line in file if line.strip()]

    def call(self, command, body, sid=None):
        """One request from the benchmark itself (to set up a task), not counted for a tool."""
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        headers = {"Content-Type": "application/json"}
        if sid:
            headers["X-chkp-sid"] = sid
        request = urllib.request.Request(
            f"{self.url}/web_api/{command}", data=json.dumps(body).encode(), headers=headers)
        with urllib.request.urlopen(request, context=context) as reply:
            return json.loads(reply.read())

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# MARK: - Measuring one process


# GNU time, when installed, reports the peak memory of the tool alone. A process forked from this
# script starts as a copy of it, and Linux counts the copy's pages in the peak of the program it
# then runs (tens of MiB, whatever the tool uses); time(1) forks from its own small image instead.
PEAK_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None


def measure(command, env, cwd, log_path):
    """Runs a command; returns wall seconds, peak RSS (KiB, largest process of its tree that was
    waited for), CPU seconds and exit status. With GNU time the wall time includes starting
    time(1) itself, about a millisecond, for every tool alike."""
    peak_path = log_path + ".peak"
    if PEAK_TIME:
        command = [PEAK_TIME, "-q", "-f", "%M", "-o", peak_path] + command
    with open(log_path, "wb") as output:
        start = time.perf_counter()
        process = subprocess.Popen(command, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                                   stdout=output, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    peak = usage.ru_maxrss
    if PEAK_TIME:
        with open(peak_path, encoding="utf-8") as file:
            peak = int(file.read().split()[-1])
    return {"wall": wall, "max_rss_kib": peak, "exit": process.returncode,
            "cpu": usage.ru_utime + usage.ru_stime}


def log_figures(records, durations, slots):
    """What the request log says a run sent, and how soon it reacted to each task's end.

    A task starts when its export-management request arrives and ends `durations[i]` seconds
    later (the i-th export-management of the run). The reaction to a task's end is the next
    request that depends on it: the export-management that takes the freed slot (paired with
    the earliest unpaired end before it, the first `slots` exports needing no slot), and for
    the last task to end, the logout.
    """
    figures = {
        "calls": len(records),
        "connections": len({r["connection"] for r in records}),
        "logins": sum(1 for r in records if r["command"] == "login" and r["status"] == 200),
        "show_task": sum(1 for r in records if r["command"] == "show-task"),
        "logouts": sum(1 for r in records if r["command"] == "logout"),
        "errors": sum(1 for r in records if r["status"] != 200),
    }
    if records:
        figures["first_to_last"] = records[-1]["time"] - records[0]["time"]
    starts = [r["time"] for r in records
              if r["command"] == "export-management" and r["status"] == 200]
    if not durations or not starts:
        return figures
    ends = sorted(start + durations(index) for index, start in enumerate(starts))
    figures["tasks"] = len(starts)
    reactions = []
    waiting = list(ends)
    for start in starts[slots:]:
        ready = [end for end in waiting if end <= start]
        if ready:
            reactions.append(start - ready[0])
            waiting.remove(ready[0])
    logouts = [r["time"] for r in records if r["command"] == "logout"]
    if logouts and ends:
        reactions.append(min(t for t in logouts if t >= ends[0]) - ends[-1]
                         if any(t >= ends[-1] for t in logouts) else float("nan"))
    figures["reactions"] = reactions
    figures["last_task_end"] = ends[-1] - records[0]["time"]
    return figures


# MARK: - Workloads and tools


class Workload:
    def __init__(self, key, title, scenario, durations=None, slots=1, ideal=None, domain=None):
        self.key = key
        self.title = title
        self.scenario = os.path.join(BENCH, "scenarios", scenario)
        self.durations = durations
        self.slots = slots
        self.ideal = ideal
        self.domain = domain


WORKLOADS = [
    Workload("a", "(a) login, 20 show-task, logout", "a-show-task.yaml"),
    Workload("b", "(b) SMC export runbook: verify 5 s + export 10 s", "b-smc.yaml",
             durations=lambda i: 5.0 if i == 0 else 10.0, ideal=15.0, domain="System Data"),
    Workload("c", "(c) 20 domain exports, 3 at a time, 4 s each", "c-mds.yaml",
             durations=lambda i: 4.0, slots=3, ideal=28.0, domain="System Data"),
    # (c) again with 5 s exports: 4 s is a multiple of the peers' 2 s polling, their best case.
    Workload("c5", "(c5) the same with 5 s exports", "c5-mds.yaml",
             durations=lambda i: 5.0, slots=3, ideal=35.0, domain="System Data"),
]

PLAYBOOKS = {"a": "a-show-task.yaml", "b": "b-smc-export.yaml", "c": "c-mds-export.yaml",
             "c5": "c-mds-export.yaml"}
SDK_SCRIPTS = {"a": "a_show_task.py", "b": "b_smc_export.py", "c": "c_mds_export.py",
               "c5": "c_mds_export.py"}
PLAYS = {"a": "a-show-task.yml", "b": "b-smc-export.yml", "c": "c-mds-export.yml",
         "c5": "c-mds-export.yml"}


def peers_available():
    """Which peer tools can run, and why not for the others."""
    python = os.path.join(VENV, "bin", "python")
    reasons = {}
    if not os.access(python, os.X_OK):
        reason = f"no venv at {VENV} (make bench creates it)"
        return {"python-sdk": reason, "ansible": reason}
    probe = subprocess.run([python, "-c", "import cpapi"], capture_output=True)
    if probe.returncode != 0:
        reasons["python-sdk"] = "cpapi (cp-mgmt-api-sdk) is not installed in the venv"
    if not os.access(os.path.join(VENV, "bin", "ansible-playbook"), os.X_OK):
        reasons["ansible"] = "ansible-playbook is not installed in the venv"
    return reasons


def tool_command(tool, workload, sim, workdir, chkflow, task_id):
    """The command line and environment of one tool on one workload."""
    env = dict(os.environ, CHKP_PASSWORD=PASSWORD, CHKP_URL=sim.url,
               CHKP_FINGERPRINT=sim.sha256, CHKP_HOST="127.0.0.1", CHKP_PORT=str(sim.port))
    if task_id:
        env["TASK_ID"] = task_id
    if tool == "chkflow":
        command = [chkflow, "run", os.path.join(BENCH, "workloads", PLAYBOOKS[workload.key]),
                   "--state-dir", os.path.join(workdir, "state")]
        if task_id:
            command += ["--var", f"task-id={task_id}"]
        return command, env, workdir
    if tool == "python-sdk":
        script = os.path.join(BENCH, "python", SDK_SCRIPTS[workload.key])
        env["PYTHONPATH"] = os.path.join(BENCH, "python")
        return [os.path.join(VENV, "bin", "python"), script], env, workdir
    inventory = os.path.join(workdir, "inventory.ini")
    with open(inventory, "w", encoding="utf-8") as file:
        file.write(ansible_inventory(sim.port, workload.domain))
    env.update(ANSIBLE_NOCOLOR="1", ANSIBLE_HOME=os.path.join(workdir, "ansible-home"),
               ANSIBLE_LOCAL_TEMP=os.path.join(workdir, "ansible-tmp"),
               ANSIBLE_RETRY_FILES_ENABLED="0")
    command = [os.path.join(VENV, "bin", "ansible-playbook"), "-i", inventory,
               os.path.join(BENCH, "ansible", PLAYS[workload.key])]
    if task_id:
        command += ["-e", f"task_id={task_id}"]
    return command, env, workdir


def ansible_inventory(port, domain):
    lines = [
        "[checkpoint]", "mgmt ansible_host=127.0.0.1", "", "[checkpoint:vars]",
        "ansible_connection=ansible.netcommon.httpapi",
        "ansible_network_os=check_point.mgmt.checkpoint",
        "ansible_httpapi_use_ssl=true", "ansible_httpapi_validate_certs=false",
        f"ansible_httpapi_port={port}", "ansible_user=admin", f"ansible_password={PASSWORD}",
        f"ansible_python_interpreter={os.path.join(VENV, 'bin', 'python')}",
    ]
    if domain:
        lines.append(f"ansible_checkpoint_domain='{domain}'")
    return "\n".join(lines) + "\n"


def start_task(sim):
    """A finished verification task for workload (a) to read, made before the tool runs."""
    login = sim.call("login", {"user": "admin", "password": PASSWORD, "domain": "System Data"})
    task = sim.call("export-management", {"pre-export-verification-only": True}, login["sid"])
    sim.call("logout", {}, login["sid"])
    time.sleep(0.05)
    return task["task-id"]


def run_once(tool, workload, chkflow, scenario):
    workdir = tempfile.mkdtemp(prefix=f"chkflow-bench-{workload.key}-{tool}-")
    sim = Simulator(chkflow, scenario, workdir)
    try:
        task_id = start_task(sim) if workload.key == "a" else None
        skip = len(sim.records())
        command, env, cwd = tool_command(tool, workload, sim, workdir, chkflow, task_id)
        result = measure(command, env, cwd, os.path.join(workdir, "output.txt"))
        # Ansible's persistent connection process logs out after ansible-playbook has exited.
        time.sleep(1.0 if tool == "ansible" else 0.2)
        result.update(log_figures(sim.records()[skip:], workload.durations, workload.slots))
        if result["exit"] != 0:
            with open(os.path.join(workdir, "output.txt"), encoding="utf-8",
                      errors="replace") as file:
                result["output_tail"] = file.read()[-2000:]
            print(f"    {tool} exited {result['exit']}; output in {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
        return result
    finally:
        sim.stop()


def scaled_scenario(workload, factor, tmp):
    """The workload's scenario with its time scale multiplied (for --quick)."""
    if factor == 1:
        return workload.scenario
    with open(workload.scenario, encoding="utf-8") as file:
        text = file.read()
    found = re.search(r"^time-scale: (\d+)", text, re.M)
    scale = int(found.group(1)) if found else 1
    text = re.sub(r"^time-scale: \d+\n", "", text, flags=re.M)
    path = os.path.join(tmp, os.path.basename(workload.scenario))
    with open(path, "w", encoding="utf-8") as file:
        file.write(f"time-scale: {scale * factor}\n" + text)
    return path


def summarize(values):
    values = [v for v in values if v == v]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def run_workloads(args, tools):
    results = {}
    tmp = tempfile.mkdtemp(prefix="chkflow-bench-scenarios-")
    for workload in WORKLOADS:
        if args.only and workload.key not in args.only.split(","):
            continue
        if args.quick and workload.key == "c5":
            continue
        factor = args.quick_scale if args.quick else 1
        scenario = scaled_scenario(workload, factor, tmp)
        results[workload.key] = {"title": workload.title, "tools": {}, "scale": factor,
                                 "ideal": workload.ideal / factor if workload.ideal else None}
        if workload.durations:
            base = workload.durations
            workload.durations = lambda i, base=base: base(i) / factor
        chosen = []
        for tool in tools:
            # The tiny run checks every tool once but keeps under a minute: Ansible only on (b),
            # and (c), whose peers wait 2 s per poll, with chkflow only.
            if args.quick and tool != "chkflow" and (workload.key == "c" or
                                                     (tool == "ansible" and workload.key != "b")):
                continue
            # Ansible takes minutes per run of (c); (c5) only shows the peers' poll cadence.
            if workload.key == "c5" and tool == "ansible":
                continue
            chosen.append(tool)
        # The tools take turns, run by run, so that a change in the machine's load weighs on all
        # of them alike. Workload (a) lasts a fraction of a second for chkflow and the SDK, so
        # they run it three times as often, for medians that hold still.
        counts = {tool: args.runs * (3 if workload.key == "a" and tool != "ansible"
                                     and not args.quick else 1) for tool in chosen}
        runs = {tool: [] for tool in chosen}
        for number in range(max(counts.values(), default=0)):
            for tool in chosen:
                if number >= counts[tool]:
                    continue
                print(f"  {workload.key} {tool} run {number + 1}/{counts[tool]}", file=sys.stderr)
                runs[tool].append(run_once(tool, workload, args.chkflow, scenario))
        for tool in chosen:
            results[workload.key]["tools"][tool] = aggregate(runs[tool])
    shutil.rmtree(tmp, ignore_errors=True)
    return results


def aggregate(runs):
    keys = ["wall", "max_rss_kib", "cpu", "calls", "connections", "logins", "logouts", "show_task",
            "errors", "first_to_last"]
    summary = {key: summarize([run[key] for run in runs if key in run]) for key in keys}
    reactions = [r for run in runs for r in run.get("reactions", [])]
    summary["reaction"] = summarize(reactions)
    summary["failed_runs"] = sum(1 for run in runs if run["exit"] != 0)
    summary["runs"] = runs
    return summary


# MARK: - The in-process benchmarks


def bench_binary(args):
    candidates = [args.bench_bin] if args.bench_bin else [
        "/tmp/build-bench/release/chkflow-bench",
        os.path.join(BENCH, ".build", "release", "chkflow-bench"),
    ]
    for path in candidates:
        if path and os.access(path, os.X_OK):
            return os.path.abspath(path)
    return None


def run_json(command, env=None):
    output = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return json.loads(output.stdout.strip().splitlines()[-1])


def engine_overhead(binary, args):
    steps = 1000 if args.quick else 10000
    return run_json([binary, "engine-overhead", "--steps", str(steps), "--runs", str(args.runs)])


def client_rate(binary, args, tools):
    """Issue 4: login, N show-task calls, logout on one connection, chkflow's client against the
    SDK's. The tools take turns, 3 x `args.runs` rounds of `args.runs` sequences each, so that a
    change in the machine's load during the run weighs on both alike (single sequences of either
    client vary by half from one moment to the next on a shared machine); figures are over all
    the sequences of a tool."""
    calls = 20 if args.quick else 200
    rounds = 1 if args.quick else 3 * args.runs
    workdir = tempfile.mkdtemp(prefix="chkflow-bench-rate-")
    sim = Simulator(args.chkflow, os.path.join(BENCH, "scenarios", "a-show-task.yaml"), workdir)
    try:
        task_id = start_task(sim)
        rounds_by_tool = {"chkflow": []}
        if "python-sdk" in tools:
            rounds_by_tool["python-sdk"] = []
        env = dict(os.environ, CHKP_PORT=str(sim.port), TASK_ID=task_id,
                   PYTHONPATH=os.path.join(BENCH, "python"))
        for _ in range(rounds):
            rounds_by_tool["chkflow"].append(run_json(
                [binary, "client-rate", "--url", sim.url, "--task-id", task_id, "--calls",
                 str(calls), "--runs", str(args.runs), "--fingerprint", sim.sha256]))
            if "python-sdk" in rounds_by_tool:
                rounds_by_tool["python-sdk"].append(run_json(
                    [os.path.join(VENV, "bin", "python"),
                     os.path.join(BENCH, "python", "client_rate.py"), str(calls), str(args.runs)],
                    env=env))
        results = {tool: pooled_rate(found) for tool, found in rounds_by_tool.items()}
        records = sim.records()
        results["connections_by_session"] = {}
        for record in records:
            key = record["session"]
            results["connections_by_session"].setdefault(key, set()).add(record["connection"])
        results["connections_by_session"] = {
            k: len(v) for k, v in results["connections_by_session"].items() if k}
        return results
    finally:
        sim.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def pooled_rate(rounds):
    """One tool's client-rate rounds as one result: every sequence's seconds, and the calls per
    second of their median, fastest and slowest."""
    seconds = [value for found in rounds for value in found["seconds"]]
    requests = rounds[0]["requests"]
    pooled = {"benchmark": "client-rate", "tool": rounds[0]["tool"], "requests": requests,
              "rounds": len(rounds), "seconds": seconds,
              "median_calls_per_second": requests / statistics.median(seconds),
              "min_calls_per_second": requests / max(seconds),
              "max_calls_per_second": requests / min(seconds)}
    if "connections" in rounds[0]:
        pooled["connections"] = [value for found in rounds for value in found["connections"]]
    return pooled


def fanout(args):
    """Issue 6 (2): 200 domain exports of 2 s each, 10 at a time, chkflow only (not in the
    tiny run, where workload (c) exercises the same fan-out)."""
    factor = args.quick_scale if args.quick else 1
    workload = Workload("fanout", "200 domain exports, 10 at a time, 2 s each", "fanout.yaml",
                        durations=lambda i: 2.0 / factor, slots=10, ideal=40.0 / factor,
                        domain="System Data")
    tmp = tempfile.mkdtemp(prefix="chkflow-bench-fanout-")
    scenario = scaled_scenario(workload, factor, tmp)
    runs = []
    for number in range(1 if args.quick else args.runs):
        print(f"  fanout chkflow run {number + 1}", file=sys.stderr)
        workdir = tempfile.mkdtemp(prefix="chkflow-bench-fanout-run-")
        sim = Simulator(args.chkflow, scenario, workdir)
        try:
            env = dict(os.environ, CHKP_PASSWORD=PASSWORD, CHKP_URL=sim.url,
                       CHKP_FINGERPRINT=sim.sha256)
            command = [args.chkflow, "run", os.path.join(BENCH, "workloads", "fanout-200.yaml"),
                       "--max-parallel", "10", "--state-dir", os.path.join(workdir, "state")]
            result = measure(command, env, workdir, os.path.join(workdir, "output.txt"))
            time.sleep(0.2)
            result.update(log_figures(sim.records(), workload.durations, workload.slots))
            runs.append(result)
        finally:
            sim.stop()
            shutil.rmtree(workdir, ignore_errors=True)
    shutil.rmtree(tmp, ignore_errors=True)
    summary = aggregate(runs)
    summary["ideal"] = workload.ideal
    summary["show_task_per_export"] = summarize(
        [run["show_task"] / max(1, run.get("tasks", 1)) for run in runs])
    return summary


def simulator_rate(args):
    """Issue 5: show-task requests per second with keep-alive, from wrk."""
    wrk = shutil.which("wrk")
    if not wrk:
        return {"skipped": "wrk is not installed (make bench installs Debian's wrk)"}
    workdir = tempfile.mkdtemp(prefix="chkflow-bench-wrk-")
    plain = os.path.join(workdir, "plain")
    os.mkdir(plain)
    process = subprocess.Popen(
        [args.chkflow, "simulate", "--listen", "127.0.0.1:0", "--scenario",
         os.path.join(BENCH, "scenarios", "a-show-task.yaml")],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = process.stdout.readline().strip()
        sid, task_id = plain_session(url)
        script = os.path.join(workdir, "show-task.lua")
        with open(script, "w", encoding="utf-8") as file:
            file.write('wrk.method = "POST"\n'
                       'wrk.headers["Content-Type"] = "application/json"\n'
                       f'wrk.headers["X-chkp-sid"] = "{sid}"\n'
                       f'wrk.body = \'{{"task-id": "{task_id}", "details-level": "full"}}\'\n')
        seconds = 1 if args.quick else 10
        command = [wrk, "-t2", "-c16", f"-d{seconds}s", "--latency", "-s", script,
                   f"{url}/web_api/show-task"]
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        return {"command": " ".join(command[:5] + ["-s show-task.lua", "URL/web_api/show-task"]),
                **parse_wrk(output)}
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait()
        shutil.rmtree(workdir, ignore_errors=True)


def plain_session(url):
    def call(command, body, sid=None):
        headers = {"Content-Type": "application/json"}
        if sid:
            headers["X-chkp-sid"] = sid
        request = urllib.request.Request(f"{url}/web_api/{command}",
                                         data=json.dumps(body).encode(), headers=headers)
        with urllib.request.urlopen(request) as reply:
            return json.loads(reply.read())

    login = call("login", {"user": "admin", "password": PASSWORD, "domain": "System Data",
                           "session-timeout": 3600})
    task = call("export-management", {"pre-export-verification-only": True}, login["sid"])
    return login["sid"], task["task-id"]


def parse_wrk(output):
    def seconds(text):
        found = re.match(r"([\d.]+)(us|ms|s|m)$", text)
        if not found:
            raise RuntimeError(f"wrk printed a latency of {text!r}:\n{output}")
        value, unit = found.groups()
        return float(value) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[unit]

    figures = {"requests_per_second": float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1])}
    for name, key in (("50%", "p50"), ("99%", "p99")):
        # Anchored: "69.50%" in the thread statistics above also ends in "50%".
        figures[key] = seconds(re.search(rf"^\s*{name}\s+(\S+)", output, re.MULTILINE)[1])
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    figures["non_2xx"] = int(errors[1]) if errors else 0
    return figures


def yaml_figures(path):
    """The figures the YAML loader benchmark printed (run by make bench before this script)."""
    if not path or not os.path.exists(path):
        return {"skipped": "no output of the YAML loader benchmark (make bench runs it)"}
    with open(path, encoding="utf-8") as file:
        text = file.read()
    found = re.findall(r"libyaml events ([\d.]+) s, load ([\d.]+) s \(([\d.]+)x\), "
                       r"freeing ([\d.]+) s", text)
    if not found:
        return {"skipped": f"no figures in {path}"}
    bare, load, ratio, teardown = map(float, found[-1])
    return {"libyaml_events": bare, "load": load, "ratio": ratio, "freeing": teardown}


# MARK: - Output


def machine():
    load = os.getloadavg()
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as file:
            cpu = re.search(r"model name\s*:\s*(.*)", file.read())[1]
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release(),
            "python": platform.python_version(), "load": [round(x, 2) for x in load]}


def fmt(summary, scale=1.0, digits=2, unit=""):
    if not summary:
        return "–"
    m, lo, hi = (summary[k] * scale for k in ("median", "min", "max"))
    return f"{m:.{digits}f}{unit} ({lo:.{digits}f}–{hi:.{digits}f})"


def ratio(peer, ours):
    if not peer or not ours:
        return "–"
    return f"{peer['median'] / ours['median']:.1f}x"


def tables(report):
    lines = ["| workload | tool | wall s, median (min–max) | vs ideal | chkflow faster by | "
             "API calls | show-task | connections | logins | peak RSS MiB | "
             "task end → reaction s, median (max) |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for key, workload in report["workloads"].items():
        ours = workload["tools"].get("chkflow", {}).get("wall")
        for tool, figures in workload["tools"].items():
            ideal = workload["ideal"]
            over = (f"+{(figures['wall']['median'] / ideal - 1) * 100:.1f}%"
                    if ideal and figures["wall"] else "–")
            faster = ratio(figures["wall"], ours) if tool != "chkflow" else "1"
            reaction = figures["reaction"]
            reaction_text = (f"{reaction['median']:.2f} ({reaction['max']:.2f})"
                             if reaction else "–")
            failed = f" ({figures['failed_runs']} failed)" if figures["failed_runs"] else ""
            lines.append(
                f"| {workload['title']} | {tool}{failed} | {fmt(figures['wall'])} | {over} | "
                f"{faster} | {fmt(figures['calls'], digits=0)} | "
                f"{fmt(figures['show_task'], digits=0)} | "
                f"{fmt(figures['connections'], digits=0)} | {fmt(figures['logins'], digits=0)} | "
                f"{fmt(figures['max_rss_kib'], scale=1 / 1024, digits=0)} | {reaction_text} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tiny run (make bench-quick)")
    parser.add_argument("--runs", type=int)
    parser.add_argument("--chkflow", default=os.path.join(ROOT, ".build", "release", "chkflow"))
    parser.add_argument("--bench-bin")
    parser.add_argument("--yaml-output", help="the output of the YAML loader benchmark")
    parser.add_argument("--only", help="workload keys to run, such as 'a,b' (a, b, c, c5)")
    parser.add_argument("--skip", default="", help="parts to skip: workloads,engine,client,"
                        "fanout,simulator")
    parser.add_argument("--tools", default="chkflow,python-sdk,ansible")
    parser.add_argument("--quick-scale", type=int, default=10)
    parser.add_argument("--out", default=os.path.join(RESULTS, "results.json"))
    args = parser.parse_args()
    args.runs = args.runs or (1 if args.quick else 5)
    args.chkflow = os.path.abspath(args.chkflow)
    if not os.access(args.chkflow, os.X_OK):
        parser.error(f"no chkflow binary at {args.chkflow}")
    os.makedirs(os.path.dirname(args.out), exist_ok=True)

    reasons = peers_available()
    for tool, reason in reasons.items():
        print(f"skipping {tool}: {reason}", file=sys.stderr)
    tools = [t for t in args.tools.split(",") if t not in reasons]
    report = {"machine": machine(), "quick": args.quick, "runs": args.runs,
              "skipped": reasons, "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    skip = set(args.skip.split(",")) if args.skip else set()
    binary = bench_binary(args)
    if not binary:
        reason = "the benchmark package is not built (make bench builds it)"
        print(f"skipping engine overhead and client rate: {reason}", file=sys.stderr)
    if "workloads" not in skip:
        report["workloads"] = run_workloads(args, tools)
    if binary and "engine" not in skip:
        print("  engine overhead", file=sys.stderr)
        report["engine_overhead"] = engine_overhead(binary, args)
    if binary and "client" not in skip:
        print("  client rate", file=sys.stderr)
        report["client_rate"] = client_rate(binary, args, tools)
    if "fanout" not in skip and not args.quick:
        report["fanout"] = fanout(args)
    if "simulator" not in skip:
        print("  simulator rate", file=sys.stderr)
        report["simulator_rate"] = simulator_rate(args)
    report["yaml"] = yaml_figures(args.yaml_output)
    report["load_after"] = [round(x, 2) for x in os.getloadavg()]
    with open(args.out, "w", encoding="utf-8") as file:
        json.dump(report, file, indent=1, default=list)
    print(summary_text(report))
    failures = [f"{key}/{tool}" for key, w in report.get("workloads", {}).items()
                for tool, f in w["tools"].items() if f["failed_runs"]]
    if failures:
        print(f"runs that failed: {', '.join(failures)}", file=sys.stderr)
        return 1
    return 0


def summary_text(report):
    out = [f"machine: {report['machine']}", ""]
    if "workloads" in report:
        out += [tables(report), ""]
    if "engine_overhead" in report:
        e = report["engine_overhead"]
        out.append(f"engine overhead: {e['median_us_per_step']:.1f} µs/step "
                   f"({e['min_us_per_step']:.1f}–{e['max_us_per_step']:.1f}), {e['steps']} steps,"
                   f" load+plan {e['load_plan_seconds']:.3f} s")
    if "client_rate" in report:
        c = report["client_rate"]
        for tool in ("chkflow", "python-sdk"):
            if tool in c:
                out.append(f"client rate {tool}: {c[tool]['median_calls_per_second']:.0f} calls/s"
                           f" ({c[tool]['min_calls_per_second']:.0f}–"
                           f"{c[tool]['max_calls_per_second']:.0f})")
        if "python-sdk" in c:
            rate = (c["chkflow"]["median_calls_per_second"]
                    / c["python-sdk"]["median_calls_per_second"])
            out.append(f"client rate ratio: {rate:.2f}x")
    if "fanout" in report:
        f = report["fanout"]
        out.append(f"fan-out: {fmt(f['wall'])} s vs ideal {f['ideal']:.1f} s "
                   f"(+{(f['wall']['median'] / f['ideal'] - 1) * 100:.1f}%), show-task per export "
                   f"{fmt(f['show_task_per_export'])}")
    if "simulator_rate" in report:
        out.append(f"simulator: {report['simulator_rate']}")
    out.append(f"yaml: {report['yaml']}")
    out.append(f"load before/after: {report['machine']['load']} / {report['load_after']}")
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
