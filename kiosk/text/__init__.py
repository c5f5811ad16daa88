"""French text for residents: formatting through Babel (french.py) and typography (typography.py)."""
