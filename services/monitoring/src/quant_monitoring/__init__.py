"""The monitoring service: heartbeats, alert rules and the channels alerts are delivered to."""
