"""The shell's settings: declared once with a default and a help text, checked on the way in."""

from __future__ import annotations

import dataclasses

import pytest

from kiosk.shell.settings import ShellSettings, documented_settings


def test_every_setting_has_a_default_and_a_help_text():
    settings = documented_settings()
    assert set(settings) == {item.name for item in dataclasses.fields(ShellSettings)}
    for name, (default, help_text) in settings.items():
        assert default is not dataclasses.MISSING, name
        assert len(help_text) > 20 and help_text.endswith("."), name


def test_defaults_are_valid():
    ShellSettings()


@pytest.mark.parametrize("changes, field", [
    ({"probe_host": "https://exemple.fr"}, "probe_host"),
    ({"probe_host": ""}, "probe_host"),
    ({"probe_port": 0}, "probe_port"),
    ({"probe_port": 70000}, "probe_port"),
    ({"probe_path": "nm"}, "probe_path"),
    ({"probe_path": "/a b"}, "probe_path"),
    ({"probe_answer": ""}, "probe_answer"),
    ({"probe_answer": " en ligne"}, "probe_answer"),
    ({"probe_timeout_s": 0}, "probe_timeout_s"),
    ({"probe_cache_s": -1}, "probe_cache_s"),
    ({"status_refresh_s": 0}, "status_refresh_s"),
])
def test_bad_settings_are_refused_with_their_name(changes, field):
    with pytest.raises(ValueError, match=field):
        ShellSettings(**changes)


def test_settings_come_from_the_environment():
    settings = ShellSettings.from_environment({"KIOSK_SHELL_PROBE_HOST": "127.0.0.1", "KIOSK_SHELL_PROBE_PORT": "8443",
                                               "KIOSK_SHELL_PROBE_TIMEOUT_S": "0.5", "OTHER": "x"})
    assert (settings.probe_host, settings.probe_port, settings.probe_timeout_s) == ("127.0.0.1", 8443, 0.5)
    assert settings.status_refresh_s == ShellSettings().status_refresh_s


@pytest.mark.parametrize("environ, variable", [
    ({"KIOSK_SHELL_PROBE_PORT": "https"}, "KIOSK_SHELL_PROBE_PORT"),
    ({"KIOSK_SHELL_PROBE_PORT": "0"}, "probe_port"),
])
def test_bad_environment_values_name_the_variable(environ, variable):
    with pytest.raises(ValueError, match=variable):
        ShellSettings.from_environment(environ)
