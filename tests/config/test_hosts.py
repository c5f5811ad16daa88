import pytest
from hypothesis import given, strategies as st

from kiosk.hosts import host_allowed, is_valid_rule, rule_matches, url_host

RULES = ("www.impots.gouv.fr", "*.pole-emploi.fr", "127.0.0.1")


@pytest.mark.parametrize("host, allowed", [
    ("www.impots.gouv.fr", True),
    ("WWW.IMPOTS.GOUV.FR", True),
    ("www.impots.gouv.fr.", True),
    ("impots.gouv.fr", False),
    ("evil-www.impots.gouv.fr", False),
    ("www.impots.gouv.fr.evil.com", False),
    ("candidat.pole-emploi.fr", True),
    ("a.b.pole-emploi.fr", True),
    ("pole-emploi.fr", False),
    ("notpole-emploi.fr", False),
    ("127.0.0.1", True),
    ("127.0.0.2", False),
])
def test_host_rules(host, allowed):
    assert host_allowed(host, RULES) is allowed


@pytest.mark.parametrize("url, host", [
    ("https://www.impots.gouv.fr/accueil?x=1", "www.impots.gouv.fr"),
    ("http://127.0.0.1:8080/", "127.0.0.1"),
    ("HTTPS://Example.ORG", "example.org"),
    ("file:///etc/passwd", None),
    ("javascript:alert(1)", None),
    ("data:text/html,hi", None),
    ("mailto:a@b.fr", None),
    ("https://", None),
    ("https://[::1", None),
])
def test_url_host_accepts_only_web_addresses(url, host):
    assert url_host(url) == host


@pytest.mark.parametrize("rule, valid", [
    ("www.exemple.fr", True), ("*.exemple.fr", True), ("*.fr", False), ("exemple.fr/chemin", False),
    ("https://exemple.fr", False), ("*exemple.fr", False), ("127.0.0.1", True), ("", False),
])
def test_rule_validation(rule, valid):
    assert is_valid_rule(rule) is valid


@given(st.from_regex(r"[a-z]{1,10}(\.[a-z]{1,10}){0,3}", fullmatch=True))
def test_subdomain_rule_never_matches_the_suffix_without_a_dot(label):
    assert not rule_matches("*.exemple.fr", label + "exemple.fr")
    assert rule_matches("*.exemple.fr", label + ".exemple.fr")
