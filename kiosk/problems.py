"""The one shape of a configuration error (kiosk.yaml, agent.yaml, inventories): file, line, field, what to do."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ConfigProblem:
    file: Path
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else f"{self.file}"
        return f"{where}: {self.field} : {self.message}"


class ConfigError(Exception):
    """The configuration cannot be used; ``problems`` lists every reason, one per error."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))
