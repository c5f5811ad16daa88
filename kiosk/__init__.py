"""Town-hall kiosk: everything that runs on the donated PC."""

__version__ = "0.1.0"
