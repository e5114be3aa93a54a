"""The activity log of each integration: who used it, how, and what came of it (CONTRACT §6.1)."""
