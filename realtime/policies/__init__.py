"""Who may follow a topic and what they see of it: one policy per resource
type, the grants it issues, and the models whose changes re-check them."""
