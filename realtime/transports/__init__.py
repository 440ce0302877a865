"""How sessions reach clients: the WebSocket, the Server-Sent Events stream and
the polling endpoint. Each parses its input, asks the session or the log, and
writes the result."""
