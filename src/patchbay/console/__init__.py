"""The console: server-rendered pages where operators and organization admins sign in and manage
their projects' connections, webhooks and keys, with the API's own rules (CONTRACT §6.6)."""
