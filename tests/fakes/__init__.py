"""Local fakes of third-party services that speak their protocol, so the real SDK code runs."""
