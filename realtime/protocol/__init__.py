"""The wire contract in code: message types, error and close codes, the event
envelope and its schema, topics and cursors. Every transport builds what it
sends from here."""
