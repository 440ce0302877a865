"""Per process and event loop: one channel-layer membership per topic, one
receive loop that hands each event to the local sessions, and the watch that
notices when the layer lost its groups."""
