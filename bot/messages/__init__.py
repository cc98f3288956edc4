"""Channel-neutral messages: what the bot says, described once and rendered per recipient channel."""
