"""SCIM 2.0 (RFC 7643/7644): an organisation's HR or identity system provisions its directory —
members as Users, departments as Groups — with a bearer token an organisation admin issued."""
