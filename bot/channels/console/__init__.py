"""The console adapter: the whole bot from a terminal (Hubot's shell adapter, Errbot's text backend).

Interactive on a terminal, scriptable from stdin (one command per line). Every message the bot sends is
printed as `→ @person-id: text`.

- `output`: the clock, the sender that prints, `print_message`.
- `args`: splitting and checking a command's arguments (`UsageError`).
- `session`: one conversation: reads a line, finds the command, answers; `run_console` is the loop.
- `commands`: the table of every command, assembled from one module per concern (`requests`, `meetings`,
  `closing`, `ladder`, `oversight`, `brister`, `control`).
"""

from bot.channels.console.output import ConsoleClock, ConsoleSender, default_out, print_message
from bot.channels.console.session import ConsoleSession, run_console

__all__ = ["ConsoleClock", "ConsoleSender", "ConsoleSession", "default_out", "print_message", "run_console"]
