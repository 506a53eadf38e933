"""The operator console, security incidents and their notices, service shutdown."""
