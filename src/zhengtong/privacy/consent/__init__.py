"""Policy versions, acknowledgements, separate consents, guardian consent for minors, cookies."""
