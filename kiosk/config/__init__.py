"""The kiosk's configuration: YAML files in, one checked and typed :class:`KioskConfig` out."""

from kiosk.config.loader import KioskConfig, Tile, load_config
from kiosk.problems import ConfigError, ConfigProblem

__all__ = ["ConfigError", "ConfigProblem", "KioskConfig", "Tile", "load_config"]
