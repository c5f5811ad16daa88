"""A validator for the parts of the Frictionless Table Schema the mediation standard uses: the header
(the schema's fields), types string / number / date (default format), and the constraints required,
unique, pattern (whole value) and maxLength; plus the primary key. Errors name the row and the field."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re


def _type_problem(kind: str, value: str) -> str | None:
    if kind == "number":
        try:
            float(value)
        except ValueError:
            return "n'est pas un nombre"
    elif kind == "date":
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            return "n'est pas une date AAAA-MM-JJ"
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return "n'est pas une date AAAA-MM-JJ"
    elif kind not in ("string", "any"):
        return f"type {kind} non pris en charge par ce validateur"
    return None


def validate_csv(text: str, schema: dict) -> list[str]:
    """Every problem of a CSV against a table schema (an empty list when it is valid)."""
    fields = schema["fields"]
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        return ["fichier vide : il manque la ligne d'en-tête"]
    problems = []
    names = [field["name"] for field in fields]
    if header != names:
        problems.append(f"en-tête différent du schéma : attendu {names}, reçu {header}")
        return problems
    seen: dict[str, set] = {field["name"]: set() for field in fields}
    keys = schema.get("primaryKey") or []
    keys = [keys] if isinstance(keys, str) else keys
    for line, row in enumerate(reader, start=2):
        if len(row) != len(fields):
            problems.append(f"ligne {line} : {len(row)} colonnes au lieu de {len(fields)}")
            continue
        for field, value in zip(fields, row):
            name, constraints = field["name"], field.get("constraints", {})
            if value == "":
                if constraints.get("required") or name in keys:
                    problems.append(f"ligne {line}, champ {name} : valeur obligatoire manquante")
                continue
            issue = _type_problem(field.get("type", "string"), value)
            if issue:
                problems.append(f"ligne {line}, champ {name} : « {value} » {issue}")
            if "pattern" in constraints and not re.fullmatch(constraints["pattern"], value):
                problems.append(f"ligne {line}, champ {name} : « {value} » ne suit pas le motif {constraints['pattern']}")
            if "maxLength" in constraints and len(value) > constraints["maxLength"]:
                problems.append(f"ligne {line}, champ {name} : plus de {constraints['maxLength']} caractères")
            if constraints.get("unique") or name in keys:
                if value in seen[name]:
                    problems.append(f"ligne {line}, champ {name} : « {value} » n'est pas unique")
                seen[name].add(value)
    return problems
