"""Demo data for trying Conectados out."""
