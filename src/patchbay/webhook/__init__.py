"""Project webhooks: signed connection events delivered from a transactional outbox."""
