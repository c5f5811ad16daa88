"""French wording for the validation errors pydantic reports, with what to do about each."""

from __future__ import annotations

_MESSAGES = {
    "missing": "champ obligatoire manquant. Ajoutez-le (voir config/demo/ pour un exemple)",
    "extra_forbidden": "clé inconnue. Vérifiez l'orthographe ou supprimez-la (voir docs/configuration.md)",
    "string_type": "il faut un texte ici",
    "int_type": "il faut un nombre entier ici",
    "int_parsing": "il faut un nombre entier ici",
    "bool_type": "il faut oui/non (true/false) ici",
    "list_type": "il faut une liste ici (lignes commençant par « - »)",
    "dict_type": "il faut une section (clé: valeur) ici",
    "model_type": "il faut une section (clé: valeur) ici",
    "model_attributes_type": "il faut une section (clé: valeur) ici",
    "date_type": "il faut une date AAAA-MM-JJ ici",
    "date_from_datetime_parsing": "il faut une date AAAA-MM-JJ ici",
    "date_parsing": "il faut une date AAAA-MM-JJ ici",
    "string_too_short": "ce texte est vide. Écrivez-le",
    "too_short": "cette liste est vide. Ajoutez au moins un élément",
    "literal_error": "valeur non prise en charge",
    "union_tag_invalid": "élément non reconnu",
}


def french_message(error: dict) -> str:
    kind = error.get("type", "")
    context = error.get("ctx") or {}
    if kind in ("web_url", "host_rule", "time_range", "phone", "pictogram"):
        return error["msg"]
    if kind == "too_long":
        return f"liste trop longue : {context.get('max_length')} éléments au plus. Gardez les plus utilisés"
    if kind == "string_too_long":
        return f"texte trop long ({context.get('max_length')} caractères au plus). Raccourcissez-le"
    if kind == "string_pattern_mismatch":
        return f"valeur « {error.get('input')} » au mauvais format. Vérifiez l'exemple dans docs/configuration.md"
    if kind in ("greater_than_equal", "greater_than"):
        return f"valeur trop petite : {context.get('ge', context.get('gt'))} au moins"
    if kind in ("less_than_equal", "less_than"):
        return f"valeur trop grande : {context.get('le', context.get('lt'))} au plus"
    if kind == "literal_error":
        return f"valeur non prise en charge. Valeurs possibles : {context.get('expected')}"
    base = _MESSAGES.get(kind)
    if base is None:
        return f"valeur refusée ({error.get('msg')})"
    if kind.endswith("_type") or kind.endswith("_parsing"):
        return f"{base} (trouvé : {error.get('input')!r})"
    return base
