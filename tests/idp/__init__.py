"""Real identity providers started by the tests."""
