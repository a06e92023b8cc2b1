"""The accounts tests use the shared `city`, `personas` and `signed_in` fixtures."""

PASSWORD = "persona-password-1"
