"""Broker adapters against local fakes that speak the brokers' protocols."""
