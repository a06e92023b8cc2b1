"""Running the platform in production: backups, health, metrics, keys, deployment."""
