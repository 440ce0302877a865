"""System checks for deployments that would silently lose events."""
