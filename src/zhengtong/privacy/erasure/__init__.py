"""Removing a member and deregistering an organisation, as the personal-data inventory says."""
