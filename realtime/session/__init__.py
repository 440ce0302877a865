"""One client connection, whatever its transport: its grants, its position in
each topic, seq checks and gap repair, per-view encoding, the outbox, and how
it ends."""
