"""Broker adapters: settings and translation, no server."""
