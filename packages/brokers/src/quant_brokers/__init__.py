"""Broker adapters: one folder per vendor (client, mapping, settings) behind quant_domain.ports."""
