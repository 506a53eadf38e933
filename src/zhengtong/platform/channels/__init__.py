"""Real notification channels behind the provider interfaces of `platform.notify`: e-mail over
SMTP (smtp.py), SMS and voice calls through an HTTP gateway (gateway.py, protocol in
docs/gateway.md) and Web Push with VAPID (webpush.py). Each bounds its network I/O with the
configured timeout, checks the destination against the residency rules and raises
`DeliveryFailed` with a short reason."""
