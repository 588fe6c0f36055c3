"""Broker adapters against local servers that speak the vendors' protocols."""
