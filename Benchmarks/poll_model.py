#!/usr/bin/env python3
"""A model of chkflow's task polling (PollPolicy in Sources/ManagementAPI/Tasks.swift).

It replays the policy against a task whose progress rises linearly from 0 to 99 % over its
duration, as the simulator's tasks do, and prints how many show-task calls one wait makes and
how late it sees the end, for the policy as it is and with the pause aimed at a larger share of
the estimated remaining time. The measured waits of `make bench` (11 show-task calls per 4 s
export, 24 to 25 for the 5 s + 10 s runbook) match it; the long durations are the model alone.

    python3 Benchmarks/poll_model.py
"""

ROUND_TRIP = 0.002


def pause(poll, first, latest, share, initial=0.25, factor=1.5, cap=5.0):
    backoff = initial
    for _ in range(min(poll, 64)):
        backoff = min(cap, backoff * factor)
    if not (first and latest and first[1] < latest[1] < 100 and latest[0] > first[0]):
        return backoff
    span = latest[0] - first[0]
    remaining = span * (100 - latest[1]) / (latest[1] - first[1])
    return min(cap, max(max(initial, span / 40), remaining * share))


def wait(duration, share):
    """(show-task calls, seconds between the task's end and the poll that sees it)."""
    now, poll, first, latest = 0.0, 0, None, None
    while True:
        if now >= duration:
            return poll + 1, now - duration
        sample = (now, int(99 * now / duration))
        first = first or sample
        latest = sample
        now += ROUND_TRIP + pause(poll, first, latest, share)
        poll += 1


def main():
    print("| task duration | as it is (a quarter of the remaining time) | half | all of it |")
    print("| --- | --- | --- | --- |")
    for duration in (4, 5, 10, 60, 600, 2700):
        cells = []
        for share in (0.25, 0.5, 1.0):
            calls, late = wait(float(duration), share)
            cells.append(f"{calls} calls, {late:.2f} s late")
        print(f"| {duration} s | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
