"""Read a YAML file and remember the line of every key and list item, for error messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kiosk.problems import ConfigProblem

Location = tuple[str | int, ...]


@dataclass
class YamlDocument:
    path: Path
    data: Any
    lines: dict[Location, int] = field(default_factory=dict)
    problems: list[ConfigProblem] = field(default_factory=list)

    def line_of(self, location: Location) -> int | None:
        """The line of ``location``, or of its closest parent that has one."""
        location = tuple(location)
        while location:
            if location in self.lines:
                return self.lines[location]
            location = location[:-1]
        return self.lines.get((), 1)

    def problem(self, location: Location, message: str) -> ConfigProblem:
        return ConfigProblem(self.path, self.line_of(location), format_location(location), message)


def format_location(location: Location) -> str:
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(document)"


def read_yaml(path: Path) -> YamlDocument:
    """Parse ``path``; syntax errors and duplicate keys become problems, never exceptions."""
    document = YamlDocument(path=path, data=None)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        document.problems.append(ConfigProblem(path, None, "(fichier)", "fichier introuvable. Créez-le ou corrigez le chemin."))
        return document
    except (OSError, UnicodeDecodeError) as error:
        document.problems.append(ConfigProblem(path, None, "(fichier)", f"lecture impossible ({error}). Vérifiez le fichier (UTF-8)."))
        return document
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            document.problems.append(ConfigProblem(path, 1, "(document)", "le fichier est vide. Reprenez l'exemple de config/demo/."))
            return document
        _record_lines(node, (), document)
        document.data = loader.construct_document(node)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        line = mark.line + 1 if mark else None
        reason = getattr(error, "problem", None) or str(error)
        document.problems.append(ConfigProblem(
            path, line, "(syntaxe YAML)",
            f"erreur de syntaxe YAML ({reason}). Vérifiez l'indentation (espaces, pas de tabulations), "
            "les deux-points et les guillemets autour de cette ligne."))
    finally:
        loader.dispose()
    return document


def _record_lines(node: yaml.Node, location: Location, document: YamlDocument) -> None:
    document.lines.setdefault(location, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.start_mark)
            child = location + (key,)
            if key in seen:
                document.problems.append(ConfigProblem(
                    document.path, key_node.start_mark.line + 1, format_location(child),
                    "clé en double. Gardez une seule fois cette clé."))
            seen.add(key)
            document.lines[child] = key_node.start_mark.line + 1
            _record_lines(value_node, child, document)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _record_lines(item, location + (index,), document)
