"""The notification centre: notices to people, the channels they leave through, the bell."""
