"""Server-rendered pages: the public portal and (later) the staff console. Thin: they call services."""
