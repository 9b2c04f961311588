"""Business rules. Services know the store and the error catalogue, never XML."""
