"""The Slack channel: Bolt app factory, identity mapping, outbox sender, HTTP/Socket Mode server."""
