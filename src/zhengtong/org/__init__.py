"""Organisations (tenants) and memberships; the organisation and directory issue fills this in."""
