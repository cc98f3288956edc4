"""The samverkansnivå as somebody (issue #18 item 4): the directory's samverkansgrupper and lokala samråd
(`groups`). The matters handed to them are `bot.disputes.samverkan`."""
