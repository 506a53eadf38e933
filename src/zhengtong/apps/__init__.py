"""Organisations' own applications (企业内部应用): the identity an integration calls the open API with
(app key and secret, agent id), and the access tokens it exchanges them for."""
