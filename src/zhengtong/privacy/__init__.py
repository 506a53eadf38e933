"""Privacy by construction: the promises of the privacy policy as mechanisms.

- consent: policy versions and acknowledgements (a major version blocks the API until
  acknowledged), separate consents for optional purposes, guardian consent for minors, cookies.
- rights: the person's rights: export of "my data", correction and deletion requests tracked
  against their deadline, cancelling the account, the disclosure ledger.
- erasure: removing a member and deregistering an organisation, driven by the personal-data
  inventory (core.inventory); the purge destroys the organisation's data key.
- scan: `zhengtong privacy scan`, the proof that nothing is left; log retention and residency.
- operator: the operator's console (no path to business content), security incidents and their
  notices, service shutdown.
"""
