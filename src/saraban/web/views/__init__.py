"""Pages of the web interface, one module per area (thin: they call selectors and services)."""
