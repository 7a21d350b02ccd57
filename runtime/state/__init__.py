"""Container state on disk: one directory per container under --root."""
