"""The reference server's own tests."""
