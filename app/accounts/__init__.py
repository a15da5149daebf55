"""Staff users, roles, department membership and login."""
