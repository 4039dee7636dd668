"""Data layer: record types, JSONL I/O, validation, splitting, public datasets, generation."""
