"""The HTTP layer shared by every domain's router: dependencies, error rendering, middleware."""
