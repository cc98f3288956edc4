"""Absence (frånvaro) registered in the bot, not in the directory file: who is away when, and who stands in."""
