"""Models of bank."""
