"""Figures computed in SQL for dashboards and the public transparency pages."""
