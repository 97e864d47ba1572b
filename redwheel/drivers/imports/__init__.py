"""Roster import: drivers and party-member rosters from .xlsx / .csv files.

See docs/roster-import.md.
"""
