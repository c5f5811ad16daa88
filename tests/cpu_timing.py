"""Where the suite's time goes: CPU seconds and wall seconds per test module, for this pytest process
and every process it started (browsers, Xvfb, kiosk windows, servers, Ansible, containers).

The CPU of the process tree is read at each module's start and end: this process's own time, the time
of the children it has reaped, and the time of every live descendant (with what each has reaped). A
process that outlives the module it started in (the session's Chromium) is counted where it spends.

Printed at the end of the run (``pytest_terminal_summary``): the whole process's wall and CPU (user,
system) and the load average at its start and end, then the modules that used the most CPU.
``./dev test`` prints these lines for each of its three processes; they are measurements, never
assertions (the time limits of the suite are the CI's, not a test's).
"""

from __future__ import annotations

import os
import resource
import time

import psutil

TOP_MODULES = 30


def tree_cpu_s() -> tuple[float, float]:
    """(user, system) CPU seconds of this process, its reaped children and its live descendants."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
    user, system = own.ru_utime + reaped.ru_utime, own.ru_stime + reaped.ru_stime
    try:
        descendants = psutil.Process().children(recursive=True)
    except psutil.Error:
        descendants = []
    for child in descendants:
        try:
            times = child.cpu_times()
        except psutil.Error:  # it ended meanwhile: its time is in its parent's reaped time, or lost
            continue
        user += times.user + times.children_user
        system += times.system + times.children_system
    return user, system


class CpuTiming:
    """A pytest plugin: wall and CPU per module (``nodeid`` up to "::"), in the order modules ran."""

    def __init__(self) -> None:
        self.started_wall = time.monotonic()
        self.started_cpu = tree_cpu_s()
        self.started_load = os.getloadavg()
        self.per_module: dict[str, list[float]] = {}  # module -> [wall, cpu]
        self._current: tuple[str, float, float] | None = None

    def _close_module(self) -> None:
        if self._current is None:
            return
        module, wall0, cpu0 = self._current
        wall, cpu = time.monotonic() - wall0, sum(tree_cpu_s()) - cpu0
        totals = self.per_module.setdefault(module, [0.0, 0.0])
        totals[0] += wall
        totals[1] += cpu
        self._current = None

    def pytest_runtest_logstart(self, nodeid, location):
        module = nodeid.split("::", 1)[0]
        if self._current is not None and self._current[0] == module:
            return
        self._close_module()
        self._current = (module, time.monotonic(), sum(tree_cpu_s()))

    def pytest_sessionfinish(self, session, exitstatus):
        self._close_module()

    def pytest_terminal_summary(self, terminalreporter, exitstatus, config):
        self._close_module()
        if config.option.collectonly:
            return
        wall = time.monotonic() - self.started_wall
        user, system = tree_cpu_s()
        user -= self.started_cpu[0]
        system -= self.started_cpu[1]
        load_end = os.getloadavg()
        write = terminalreporter.write_line
        terminalreporter.section("time and CPU of this process tree")
        write(f"wall {wall:.0f} s, CPU {user + system:.0f} s (user {user:.0f} s, system {system:.0f} s), "
              f"CPU/wall {(user + system) / max(wall, 1e-9):.2f}; load average at start "
              f"{self.started_load[0]:.2f}/{self.started_load[1]:.2f}, at end {load_end[0]:.2f}/{load_end[1]:.2f} (1/5 min)")
        ranked = sorted(self.per_module.items(), key=lambda item: item[1][1], reverse=True)[:TOP_MODULES]
        if ranked:
            write(f"modules using the most CPU (the first {len(ranked)}): CPU s / wall s")
            for module, (module_wall, module_cpu) in ranked:
                write(f"  {module_cpu:7.1f} / {module_wall:7.1f}  {module}")
