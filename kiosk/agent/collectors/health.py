"""Health samples: CPU, memory, root disk, load, uptime, boot time, temperature and battery when present.

Reads the kernel's own files under ``proc_root`` and ``sys_root`` (the same ones psutil reads), so a
test can hand in a fake tree; sensors use psutil's feature-checked helpers on the real /sys.
"""

from __future__ import annotations

import os
from pathlib import Path

try:
    import psutil
except ImportError:  # the agent extra is not installed: sensors are simply missing
    psutil = None

from kiosk.agent.collectors import ReadTrouble


def _read(path: Path) -> str:
    return path.read_text(encoding="ascii", errors="replace")


class HealthCollector:
    def __init__(self, proc_root: str | os.PathLike = "/proc", sys_root: str | os.PathLike = "/sys",
                 disk_path: str | os.PathLike = "/") -> None:
        self.proc = Path(proc_root)
        self.sys = Path(sys_root)
        self.disk_path = str(disk_path)
        self.trouble = ReadTrouble()
        self._last_cpu: tuple[int, int] | None = self._cpu_ticks()

    def _cpu_ticks(self) -> tuple[int, int] | None:
        try:
            for line in _read(self.proc / "stat").splitlines():
                if line.startswith("cpu "):
                    values = [int(part) for part in line.split()[1:]]
                    idle = values[3] + (values[4] if len(values) > 4 else 0)
                    return sum(values[:8]), idle
        except (OSError, ValueError, IndexError) as error:
            self.trouble.note("cpu", error)
        return None

    def _cpu_percent(self) -> float | None:
        now = self._cpu_ticks()
        before, self._last_cpu = self._last_cpu, now
        if now is None or before is None or now[0] <= before[0]:
            return None
        busy = (now[0] - before[0]) - (now[1] - before[1])
        return round(max(0.0, min(100.0, 100.0 * busy / (now[0] - before[0]))), 1)

    def _memory(self) -> dict:
        try:
            fields = {}
            for line in _read(self.proc / "meminfo").splitlines():
                name, _, rest = line.partition(":")
                fields[name] = int(rest.split()[0]) * 1024
            total, available = fields["MemTotal"], fields["MemAvailable"]
            return {"memory_available_bytes": available,
                    "memory_used_percent": round(100.0 * (total - available) / total, 1) if total else None}
        except (OSError, ValueError, KeyError, IndexError) as error:
            self.trouble.note("memory", error)
            return {}

    def _boot_and_uptime(self) -> dict:
        sample = {}
        try:
            sample["uptime_s"] = round(float(_read(self.proc / "uptime").split()[0]), 1)
        except (OSError, ValueError, IndexError) as error:
            self.trouble.note("uptime", error)
        try:
            for line in _read(self.proc / "stat").splitlines():
                if line.startswith("btime "):
                    sample["boot_time"] = float(line.split()[1])
        except (OSError, ValueError, IndexError) as error:
            self.trouble.note("boot time", error)
        try:
            sample["load1"] = float(_read(self.proc / "loadavg").split()[0])
        except (OSError, ValueError, IndexError) as error:
            self.trouble.note("load", error)
        return sample

    def _disk(self) -> dict:
        try:
            stats = os.statvfs(self.disk_path)
        except OSError as error:
            self.trouble.note("disk", error)
            return {}
        total = stats.f_blocks * stats.f_frsize
        free = stats.f_bavail * stats.f_frsize
        used = total - stats.f_bfree * stats.f_frsize
        return {"disk_free_bytes": free,
                "disk_used_percent": round(100.0 * used / (used + free), 1) if used + free else None}

    def _temperature(self) -> float | None:
        readings: list[float] = []
        if self.sys == Path("/sys") and psutil is not None and hasattr(psutil, "sensors_temperatures"):
            try:
                for entries in psutil.sensors_temperatures().values():
                    readings.extend(entry.current for entry in entries if entry.current is not None)
            except (OSError, ValueError) as error:
                self.trouble.note("temperature", error)
        else:
            for path in sorted(self.sys.glob("class/hwmon/hwmon*/temp*_input")):
                try:
                    readings.append(int(_read(path).strip()) / 1000)
                except (OSError, ValueError) as error:
                    self.trouble.note("temperature", error)
        readings = [value for value in readings if -50 <= value <= 200]
        return round(max(readings), 1) if readings else None

    def _battery(self) -> dict:
        if self.sys == Path("/sys") and psutil is not None and hasattr(psutil, "sensors_battery"):
            try:
                battery = psutil.sensors_battery()
            except (OSError, ValueError) as error:
                self.trouble.note("battery", error)
                return {}
            if battery is None:
                return {}
            return {"battery_percent": round(min(100.0, max(0.0, battery.percent)), 1),
                    "battery_plugged": battery.power_plugged}
        for path in sorted(self.sys.glob("class/power_supply/BAT*/capacity")):
            try:
                percent = float(_read(path).strip())
            except (OSError, ValueError) as error:
                self.trouble.note("battery", error)
                return {}
            plugged = None
            for online in self.sys.glob("class/power_supply/A*/online"):
                try:
                    plugged = _read(online).strip() == "1"
                except OSError as error:
                    self.trouble.note("battery", error)
            return {"battery_percent": min(100.0, max(0.0, percent)), "battery_plugged": plugged}
        return {}

    def collect(self, kiosk_restarts: int = 0, last_session_at: float | None = None) -> dict:
        """One sample; every field may be missing (sensor absent), never an exception."""
        sample: dict = {"cpu_percent": self._cpu_percent()}
        sample.update(self._memory())
        sample.update(self._boot_and_uptime())
        sample.update(self._disk())
        sample["temperature_max_c"] = self._temperature()
        sample.update(self._battery())
        sample["kiosk_restarts"] = kiosk_restarts
        sample["last_session_at"] = last_session_at
        return {key: value for key, value in sample.items() if value is not None}
