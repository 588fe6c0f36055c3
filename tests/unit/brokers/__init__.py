"""Unit tests of the broker adapters: mapping and report sequencing, no network."""
