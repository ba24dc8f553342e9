"""Ping'an (平安): public-safety operations platform."""

__version__ = "0.1.0"
