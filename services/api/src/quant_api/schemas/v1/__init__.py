"""The /v1 request and response models."""
