"""Exports for partners and funders: CSV of every dashboard table, GLPI inventory JSON, and the national
places-of-digital-mediation table."""
