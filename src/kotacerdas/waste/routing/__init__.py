"""Vehicle routing behind the app's own interface (see `engine`)."""
