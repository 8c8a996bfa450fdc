"""Real loopback servers for tests (SMTP, HTTP receivers)."""
