"""Microsoft Teams channel (Microsoft 365 Agents SDK): auth gate, cards, identity, proactive sender."""
