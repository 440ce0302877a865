"""From a model change to the channel layer: ``register()``, the signal
receivers, ``publish()`` (log now, send after commit) and re-authorization
requests."""
