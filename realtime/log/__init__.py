"""The event log: seq allocation and append, replay ranges, polling pages and
pruning. Resume and gap repair read it; nothing but ``publish()`` writes it."""
