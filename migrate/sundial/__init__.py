"""The Sundial side: its definition formats, read into a typed model."""
