"""Connect sessions and the hosted connect page: a product's end users connect an integration in
their own browser, without an API key (CONTRACT §6.5)."""
