"""Thin listeners, one package per chat channel (`handlers.slack`, …); the rules live in `bot/`."""
