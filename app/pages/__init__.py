"""One module per page: ``layout(resources)`` and ``register(app, resources)``."""
