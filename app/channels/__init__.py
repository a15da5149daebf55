"""Channels parse and check their input, then call ``tickets.intake.submit``."""
