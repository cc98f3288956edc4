"""Channel adapters: Slack, Microsoft Graph and the console, all on the same core."""
