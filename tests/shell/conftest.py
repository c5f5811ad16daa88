"""Fixtures of the shell tests: Flask apps and clients on the demo configuration, online or offline."""

from __future__ import annotations

import html

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from kiosk.shell import ShellSettings, create_app


# Typography the shell applies to every page (kiosk.text.typography), folded back to plain
# characters so that tests about wording can write "Revenir à l'accueil"; the typography itself
# is checked on the exact text by tests/shell/test_typography.py.
PLAIN = str.maketrans({"\u2019": "'", "\u202f": " ", "\u00a0": " "})


class PageResponse(TestResponse):
    @property
    def page(self) -> str:
        """The body's wording (HTML entities decoded, typographic spaces and apostrophes made plain)."""
        return self.text.translate(PLAIN)

    @property
    def text(self) -> str:
        """The body as a reader sees it, exactly (HTML entities such as &#39; decoded)."""
        return html.unescape(self.get_data(as_text=True))


def page_client(app) -> FlaskClient:
    """A test client whose responses have ``.page``."""
    return FlaskClient(app, PageResponse, use_cookies=True)


@pytest.fixture
def make_client():
    return page_client


@pytest.fixture
def offline_settings(closed_port) -> ShellSettings:
    return ShellSettings(probe_host="127.0.0.1", probe_port=closed_port, probe_timeout_s=1.0)


@pytest.fixture
def online_settings(listening_port) -> ShellSettings:
    return ShellSettings(probe_host="127.0.0.1", probe_port=listening_port, probe_timeout_s=1.0)


@pytest.fixture
def online_app(demo_config, online_settings):
    return create_app(demo_config, settings=online_settings)


@pytest.fixture
def offline_app(demo_config, offline_settings):
    return create_app(demo_config, settings=offline_settings)


@pytest.fixture
def client(online_app):
    return page_client(online_app)


@pytest.fixture
def offline_client(offline_app):
    return page_client(offline_app)
