"""The "Être rappelé(e)" form's rules, without Flask: the time slots offered (the mediator's hours),
and what the resident typed checked kindly, each problem in French naming its field."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field

from kiosk.config.models import Contact
from kiosk.protocol import PROTOCOL_VERSION
from kiosk.protocol.callback import ASAP, MAX_NAME_CHARS, SUBJECTS, clean_name, normalize_phone
from kiosk.text.french import DAY_KEYS, day_name, time_range

FIELD_LABELS = {"nom": "Prénom", "telephone": "Téléphone", "sujet": "Sujet", "moment": "Quand vous rappeler"}


def slots(mediator: Contact) -> dict[str, str]:
    """The moments a resident may choose: as soon as possible, or one of the mediator's ranges."""
    choices = {ASAP: f"Dès que possible, quand {mediator.first_name} est disponible"}
    if mediator.hours is not None:
        for index, key in enumerate(DAY_KEYS):
            for value in getattr(mediator.hours, key):
                start, _, end = value.partition("-")
                choices[f"{key} {start}-{end}"] = f"{day_name(index).capitalize()}, {time_range(value)}"
    return choices


@dataclass
class CallbackForm:
    """What the resident typed (kept as typed, so nothing is lost on an error) and its problems."""

    nom: str = ""
    telephone: str = ""
    sujet: str = ""
    moment: str = ""
    errors: dict[str, str] = field(default_factory=dict)  # field -> French sentence

    @classmethod
    def from_form(cls, form) -> "CallbackForm":
        def text(name: str, limit: int) -> str:
            return str(form.get(name, ""))[:limit]
        return cls(nom=text("nom", 200), telephone=text("telephone", 60), sujet=text("sujet", 20),
                   moment=text("moment", 20))

    def check(self, offered_slots: dict[str, str]) -> bool:
        self.errors = {}
        name = clean_name(self.nom)
        if not name:
            self.errors["nom"] = "Prénom : écrivez comment vous appeler, par exemple « Marie » ou « M. Martin »."
        elif len(name) > MAX_NAME_CHARS:
            self.errors["nom"] = f"Prénom : c'est un peu long. Écrivez au plus {MAX_NAME_CHARS} lettres."
        if not self.telephone.strip():
            self.errors["telephone"] = "Téléphone : écrivez le numéro où vous rappeler, par exemple 06 12 34 56 78."
        elif normalize_phone(self.telephone) is None:
            self.errors["telephone"] = ("Téléphone : ce numéro n'a pas l'air complet. Il faut 10 chiffres, "
                                        "par exemple 06 12 34 56 78 ou +33 6 12 34 56 78.")
        if self.sujet not in SUBJECTS:
            self.errors["sujet"] = "Sujet : choisissez de quoi il s'agit (vous pouvez choisir « Autre chose »)."
        if self.moment not in offered_slots:
            self.errors["moment"] = "Quand vous rappeler : choisissez un moment."
        return not self.errors

    def request(self) -> dict:
        """The request to hand to the agent (only once :meth:`check` passed)."""
        return {"protocol": PROTOCOL_VERSION, "request_id": secrets.token_hex(16), "made_at": time.time(),
                "name": clean_name(self.nom), "phone": normalize_phone(self.telephone), "subject": self.sujet,
                "slot": self.moment}
