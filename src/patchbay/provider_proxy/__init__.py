"""Using a connection: the proxy to the provider's API and the credentials route (CONTRACT §6.1,
§6.2). Every use is recorded in the integration's activity log (patchbay.activity)."""
