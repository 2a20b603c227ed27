"""One module per ``crmdocs`` sub-command; each has ``register(subparsers)``."""
