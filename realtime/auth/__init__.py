"""Who is connecting: session cookies, tokens and tickets, the Origin check,
and per-connection limits."""
