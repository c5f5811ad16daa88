"""French typography, applied once to every page the shell sends (text, not markup).

Rules (Imprimerie nationale, as residents read them in print):

- a narrow no-break space (U+202F) before ; : ! ? and inside « »;
- the typographic apostrophe ’ (U+2019), never the straight one;
- no line break inside a time (« 8 h 30 ») or a phone number (« 05 36 49 12 34 »): U+00A0.

:func:`typeset` works on plain text; :func:`typeset_html` applies it to an HTML document's text
nodes and to the attributes people read (alt, title, aria-label, placeholder), leaving markup,
URLs, scripts, styles and pre-formatted or typed content (pre, code, textarea) untouched.
"""

from __future__ import annotations

import html
import re

NNBSP = "\u202f"  # narrow no-break space
NBSP = "\u00a0"   # no-break space
APOSTROPHE = "\u2019"

_SPACES = "[ \u00a0\u202f\t]"
# A space (or none, after a letter or a closing sign) before a double punctuation sign that ends a word.
_BEFORE_DOUBLE = re.compile(
    rf"(?:{_SPACES}+|(?<=[\w»)\]]))([;!?])(?=[\s!?»).,;:]|$)|{_SPACES}+([;!?])|{_SPACES}+(:)")
_AFTER_OPENING_GUILLEMET = re.compile(rf"«{_SPACES}*")
_BEFORE_CLOSING_GUILLEMET = re.compile(rf"{_SPACES}*»")
_APOSTROPHE = re.compile(r"(?<=\w)'|'(?=\w)")
_TIME = re.compile(r"\b(\d{1,2})[ \u00a0]h(?:[ \u00a0](\d{2}))?\b")
_PHONE = re.compile(r"(?<![\d\w])(\+33[ \u00a0]?\d|0\d)((?:[ .\u00a0]\d{2}){4})(?!\d)")


def _time(match: re.Match) -> str:
    hours, minutes = match.group(1), match.group(2)
    return f"{hours}{NBSP}h" + (f"{NBSP}{minutes}" if minutes else "")


def _phone(match: re.Match) -> str:
    return (match.group(1) + match.group(2)).replace(" ", NBSP)


def typeset(text: str) -> str:
    """Apply the French rules to plain text (idempotent)."""
    if not text or text.isspace():
        return text
    text = _APOSTROPHE.sub(APOSTROPHE, text)
    text = _AFTER_OPENING_GUILLEMET.sub("«" + NNBSP, text)
    text = _BEFORE_CLOSING_GUILLEMET.sub(NNBSP + "»", text)
    text = _BEFORE_DOUBLE.sub(lambda match: NNBSP + (match.group(1) or match.group(2) or match.group(3)), text)
    text = _TIME.sub(_time, text)
    return _PHONE.sub(_phone, text)


# ---------------------------------------------------------------- HTML

# Elements whose content is not French prose to set: code, what a resident typed, pre-formatted documents.
_VERBATIM = ("script", "style", "pre", "code", "textarea", "kbd", "samp")
_TOKEN = re.compile(
    r"<!--.*?-->"                                     # comment
    r"|<!\w[^>]*>"                                    # doctype
    r"|<(?P<close>/)?(?P<name>[a-zA-Z][\w-]*)(?P<rest>(?:\"[^\"]*\"|'[^']*'|[^'\">])*)>",  # tag
    re.DOTALL)
_READ_ATTRIBUTES = re.compile(r"""(\s(?:alt|title|aria-label|placeholder)\s*=\s*)("([^"]*)"|'([^']*)')""", re.IGNORECASE)


_MAY_NEED_WORK = re.compile(r"[';:!?«»&\d]")


def _typeset_escaped(fragment: str, *, quote: bool) -> str:
    """Typeset HTML-escaped text: decode the entities, set the text, escape it again."""
    if not _MAY_NEED_WORK.search(fragment):  # most text nodes: nothing any rule could change
        return fragment
    plain = html.unescape(fragment)
    done = typeset(plain)
    if done == plain:
        return fragment
    return html.escape(done, quote=quote)


def _typeset_attributes(rest: str) -> str:
    if "=" not in rest:
        return rest

    def one(match: re.Match) -> str:
        value = match.group(3) if match.group(3) is not None else match.group(4)
        return f'{match.group(1)}"{_typeset_escaped(value, quote=True)}"'
    return _READ_ATTRIBUTES.sub(one, rest)


def typeset_html(document: str) -> str:
    """Typeset every text node and readable attribute of an HTML document; markup stays byte for byte."""
    out: list[str] = []
    position = 0
    verbatim_until: str | None = None  # closing tag name we are waiting for
    for match in _TOKEN.finditer(document):
        text = document[position:match.start()]
        if text:
            out.append(text if verbatim_until else _typeset_escaped(text, quote=False))
        position = match.end()
        name = (match.group("name") or "").lower()
        if verbatim_until:
            out.append(match.group(0))
            if match.group("close") and name == verbatim_until:
                verbatim_until = None
            continue
        if name and not match.group("close"):
            if name in _VERBATIM and not match.group("rest").rstrip().endswith("/"):
                verbatim_until = name
            out.append(f"<{match.group('name')}{_typeset_attributes(match.group('rest'))}>")
        else:
            out.append(match.group(0))
    tail = document[position:]
    out.append(tail if verbatim_until else _typeset_escaped(tail, quote=False))
    return "".join(out)
