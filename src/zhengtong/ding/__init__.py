"""DING (urgent messages): in the app, by SMS or by phone call, with confirmations per person."""
