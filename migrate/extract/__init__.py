"""`migrate export`: read a Sundial estate (REST API or its PostgreSQL database) into an
export directory that `migrate convert` reads: process definitions in API wire shape, run
history as JSON Lines, and a manifest."""
