"""Departments, categories (the Open311 services) and macrosectors."""
