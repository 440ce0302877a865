"""Registration of gift-list models and topic policies with realtime."""
