"""Users, roles, departments, API tokens, login and permissions."""
