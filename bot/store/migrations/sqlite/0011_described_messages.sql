-- Messages described once (issue #8): the outbox stores what the message is (bot.messages.model.Message
-- as JSON: kind, lines with free-text marks, offered actions), rendered per channel at delivery.
-- `text` keeps a plain rendering without free text (logs, `due`); `blocks` is no longer written.
ALTER TABLE outbox ADD COLUMN message TEXT;
